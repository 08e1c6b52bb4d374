"""Fine-tuning the networks users bring (issue #16): a ResNet-style image net with head
``fc`` and a Hugging Face sequence classifier fed a dict of integer token ids.

Nothing is downloaded: the transformer is a tiny randomly initialised config and its
tokenizer is trained on the fly; the test skips when ``transformers`` is absent.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from sktl.deep import FineTuningClassifier, SourceOnlyClassifier  # noqa: E402

torch.set_num_threads(1)


class Block(nn.Module):
    """A residual block: two 3x3 convolutions and an identity shortcut."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


class TinyResNet(nn.Module):
    """ResNet's layout (stem, residual stages, global pooling, head ``fc``) at toy size."""

    def __init__(self, n_classes=10, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.layer1 = Block(width)
        self.layer2 = Block(width)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(torch.relu(self.conv1(x))))
        return self.fc(self.pool(x).flatten(1))


def _images(seed, n, shift):
    """8x8 images of a bar (horizontal, vertical or either diagonal) anywhere; the
    class is the bar's direction. The target domain is brighter."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    X = rng.normal(0, 0.1, (n, 1, 8, 8)).astype(np.float32)
    steps = [(0, 1), (1, 0), (1, 1), (1, -1)]
    for i, c in enumerate(y):
        r, col = rng.integers(2, 6, 2)
        for k in (-2, -1, 0, 1, 2):
            X[i, 0, r + k * steps[c][0], col + k * steps[c][1]] += 1.0
    return X + shift, y


def test_resnet_style_head_fc_needs_no_adapt_layers(tmp_path):
    Xs, ys = _images(0, 200, 0.0)
    Xt, yt = _images(1, 60, 0.5)
    pre = SourceOnlyClassifier(module=TinyResNet, module__n_classes=4, adapt_layers="layer2",
                               max_epochs=15, lr=1e-2, random_state=0).fit(Xs, ys)
    path = tmp_path / "resnet.pt"
    torch.save(pre.module_.state_dict(), path)
    X = np.concatenate([Xs, Xt])
    y = np.r_[ys, np.full(len(yt), -1)]
    y[len(ys):len(ys) + 12] = yt[:12]
    sd = np.r_[np.ones(len(ys), int), -np.ones(len(yt), int)]
    module = TinyResNet(n_classes=4)
    ft = FineTuningClassifier(module=module, pretrained=path, head="fc",
                              freeze=["conv1", "layer1"], unfreeze_every=20, max_epochs=30,
                              lr=1e-2, random_state=0).fit(X, y, sample_domain=sd)
    # the stem was frozen, then gradually unfrozen layer by layer (layer1 first)
    assert ft.frozen_layers_ == ["conv1"]
    assert torch.equal(ft.module_.conv1.weight, pre.module_.conv1.weight)
    assert not torch.equal(ft.module_.layer1.conv1.weight, pre.module_.layer1.conv1.weight)
    assert isinstance(ft.module_.fc, nn.Linear) and ft.module_.fc.out_features == 4
    assert module.fc.weight.requires_grad  # the caller's network is left alone
    assert not hasattr(ft, "n_features_in_") or ft.n_features_in_ == 1
    assert np.mean(ft.predict(Xt[12:]) == yt[12:]) > 0.7


def _tiny_text(seed, n):
    rng = np.random.default_rng(seed)
    good = ["great", "fine", "love", "superb", "nice"]
    bad = ["awful", "poor", "hate", "broken", "dull"]
    filler = ["the", "a", "it", "was", "this", "item", "very"]
    y = rng.integers(0, 2, n)
    words = [rng.choice(filler, 4).tolist() + rng.choice(good if c else bad, 2).tolist()
             for c in y]
    return [" ".join(rng.permutation(w)) for w in words], y


def test_hugging_face_sequence_classifier_with_integer_token_ids():
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from skorch.hf import HuggingfaceTokenizer
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.normalizers import Lowercase
    from tokenizers.pre_tokenizers import Whitespace
    from tokenizers.trainers import WordLevelTrainer

    texts_s, ys = _tiny_text(0, 160)
    texts_t, yt = _tiny_text(1, 40)
    tok = HuggingfaceTokenizer(
        tokenizer=Tokenizer, model=WordLevel(unk_token="[UNK]"),
        trainer=WordLevelTrainer(special_tokens=["[PAD]", "[UNK]"]),
        normalizer=Lowercase(), pre_tokenizer=Whitespace(), max_length=8,
        return_tensors="np").fit(texts_s + texts_t)
    enc = tok.transform(texts_s + texts_t)
    X = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    assert X["input_ids"].dtype.kind == "i"
    config = transformers.BertConfig(
        vocab_size=len(tok.vocabulary_),
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=16, num_labels=2)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    seen = {}

    def spy(module, args, kwargs):
        seen["dtype"] = kwargs["input_ids"].dtype if "input_ids" in kwargs else args[0].dtype

    model.register_forward_pre_hook(spy, with_kwargs=True)
    y = np.r_[ys, np.full(len(yt), -1)]
    y[len(ys):len(ys) + 16] = yt[:16]
    sd = np.r_[np.ones(len(ys), int), -np.ones(len(yt), int)]
    frozen = FineTuningClassifier(module=model, pretrained=True, head="classifier",
                                  freeze=["bert.embeddings", "bert.encoder"], max_epochs=3,
                                  lr=1e-2, batch_size=16, random_state=0)
    frozen.fit(X, y, sample_domain=sd)
    assert seen["dtype"] == torch.int64  # token ids stay integers, not cast to float
    before = model.bert.encoder.layer[0].attention.self.query.weight
    assert torch.equal(frozen.module_.bert.encoder.layer[0].attention.self.query.weight,
                       before)  # the frozen encoder did not move
    test = {k: v[len(ys) + 16:] for k, v in X.items()}
    proba = frozen.predict_proba(test)
    assert proba.shape == (len(yt) - 16, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    # gradual unfreezing: the encoder's layers come free one by one, deepest first
    gradual = FineTuningClassifier(
        module=model, pretrained=True, head="classifier",
        freeze=["bert.embeddings", "bert.encoder.layer.0", "bert.encoder.layer.1"],
        unfreeze_every=1, max_epochs=2, lr=1e-2, batch_size=16, random_state=0)
    gradual.fit(X, y, sample_domain=sd)
    assert gradual.frozen_layers_ == ["bert.embeddings"]
    assert not torch.equal(gradual.module_.bert.encoder.layer[0].attention.self.query.weight,
                           before)
    assert gradual.score(test, yt[16:]) >= 0.0
    with pytest.raises(ValueError, match="dict"):
        gradual.predict(X["input_ids"])
