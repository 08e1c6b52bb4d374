"""CCSA: Siamese alignment with a few labelled target rows."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sktl.datasets import make_domain_shift  # noqa: E402
from sktl.deep import CCSAClassifier, contrastive_pair_loss  # noqa: E402

torch.set_num_threads(1)


def few_labels(seed, k=2, n_classes=4):
    """Conditional shift; ``k`` labelled target rows per class."""
    X, y, sd = make_domain_shift(300, 300, shift="conditional", n_features=10,
                                 n_classes=n_classes, shift_strength=2.5, noise=0.3,
                                 random_state=seed)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(seed)
    tgt = np.flatnonzero(sd < 0)
    lab = np.concatenate([rng.choice(tgt[y[tgt] == c], k, replace=False)
                          for c in range(n_classes)])
    y_fit = np.where(sd > 0, y, -1)
    y_fit[lab] = y[lab]
    return X, y_fit, sd, y


def test_pair_loss_by_hand():
    s = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    t = torch.tensor([[0.0, 1.0], [3.0, 0.5]])
    ys, yt = torch.tensor([0, 1]), torch.tensor([0, 1])
    # same-class pairs at distances 1 and 0.5; different-class pairs farther than the margin
    loss = contrastive_pair_loss(s, t, ys, yt, margin=2.0, negative_ratio=None)
    assert float(loss) == pytest.approx((0.5 * 1 + 0.5 * 0.25) / 2)
    # a margin beyond the different-class distances (sqrt(9.25) and sqrt(9 + 1)) costs them
    d = np.array([np.sqrt(9.25), np.sqrt(10.0)])
    loss = contrastive_pair_loss(s, t, ys, yt, margin=4.0, negative_ratio=None)
    assert float(loss) == pytest.approx(0.3125 + np.mean(0.5 * (4 - d) ** 2), rel=1e-5)


def test_pair_loss_samples_negatives_by_ratio():
    torch.manual_seed(0)
    s, t = torch.randn(8, 3), torch.randn(8, 3)
    ys, yt = torch.arange(8) % 4, torch.arange(8) % 4
    # 16 same-class pairs, 48 different-class ones: a ratio of 3 keeps all, of 1 a third
    full = contrastive_pair_loss(s, t, ys, yt, margin=10.0, negative_ratio=None)
    assert float(contrastive_pair_loss(s, t, ys, yt, margin=10.0, negative_ratio=3)) == \
        pytest.approx(float(full))
    g = torch.Generator().manual_seed(0)
    few = [float(contrastive_pair_loss(s, t, ys, yt, margin=10.0, negative_ratio=1,
                                       generator=g)) for _ in range(5)]
    assert len(set(np.round(few, 6))) > 1  # different negatives each call


def _embedding_ratio(net, X, y, sd):
    """Mean cross-domain distance of same-class pairs over that of different-class pairs."""
    net.module_.eval()
    with torch.no_grad():
        net.module_(torch.as_tensor(X, dtype=torch.float32))
    z = torch.nn.functional.normalize(net._captured_["features"], dim=1)
    d = torch.cdist(z[sd > 0], z[sd < 0]).numpy()
    same = y[sd > 0][:, None] == y[sd < 0][None, :]
    return d[same].mean() / d[~same].mean()


def test_ccsa_pulls_same_class_rows_of_both_domains_together():
    ratios = {"ccsa": [], "pooled": []}
    for seed in (0, 1):
        X, y_fit, sd, y = few_labels(seed)
        for name, reg in (("ccsa", 1 / 3), ("pooled", 0.0)):
            net = CCSAClassifier(reg=reg, max_epochs=15, lr=2e-3, random_state=seed)
            net.fit(X, y_fit, sample_domain=sd)
            ratios[name].append(_embedding_ratio(net, X, y, sd))
    assert all(c < p for c, p in zip(ratios["ccsa"], ratios["pooled"])), ratios
    assert np.mean(ratios["ccsa"]) < 0.9 * np.mean(ratios["pooled"]), ratios


def test_ccsa_trains_on_labelled_rows_only():
    X, y_fit, sd, _ = few_labels(0, k=1)
    net = CCSAClassifier(max_epochs=1, random_state=0).fit(X, y_fit, sample_domain=sd)
    assert len(net._train_domains_) == int((y_fit >= 0).sum())
    assert (net._train_domains_ < 0).sum() == 4


@pytest.mark.parametrize("kw, match", [
    ({"margin": -1.0}, "margin"), ({"negative_ratio": 0}, "negative_ratio")])
def test_ccsa_bad_parameters(kw, match):
    X, y_fit, sd, _ = few_labels(0, k=1)
    with pytest.raises(ValueError, match=match):
        CCSAClassifier(max_epochs=1, **kw).fit(X, y_fit, sample_domain=sd)


def test_ccsa_needs_target_labels():
    X, y_fit, sd, _ = few_labels(0, k=1)
    with pytest.raises(ValueError, match="labelled target rows"):
        CCSAClassifier(max_epochs=1).fit(X, np.where(sd > 0, y_fit, -1), sample_domain=sd)
