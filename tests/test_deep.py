"""Deep domain adaptation (CPU here; the GPU test runs where CUDA is available)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from sktl.deep import (  # noqa: E402
    DANClassifier,
    DANNClassifier,
    DeepCORALClassifier,
    FineTuningClassifier,
    FineTuningRegressor,
    MLPModule,
    SourceOnlyClassifier,
    mmd_loss,
)
from sktl.exceptions import DomainWarning  # noqa: E402

torch.set_num_threads(1)
FAST = {"max_epochs": 60, "lr": 3e-3}


def rotated_moons(seed, n=300, angle=35):
    """Two moons; the target is rotated by ``angle`` degrees (the DANN toy problem)."""
    Xs, ys = make_moons(n, noise=0.1, random_state=seed)
    Xt, yt = make_moons(n, noise=0.1, random_state=seed + 100)
    a = np.deg2rad(angle)
    Xt = Xt @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(n, int)]
    sd = np.r_[np.ones(n, int), -2 * np.ones(n, int)]
    return X, y, sd, Xt, yt


_BASELINE = {}


def source_only_accuracy(seed):
    """Target accuracy of the source-only net on ``rotated_moons(seed)`` (computed once)."""
    if seed not in _BASELINE:
        X, y, sd, Xt, yt = rotated_moons(seed)
        net = SourceOnlyClassifier(random_state=seed, **FAST).fit(X, y, sample_domain=sd)
        _BASELINE[seed] = np.mean(net.predict(Xt) == yt)
    return _BASELINE[seed]


@pytest.mark.parametrize("name, kw, worst", [
    ("DANClassifier", {}, -0.02), ("DANNClassifier", {}, -0.02),
    ("JANClassifier", {"reg": 0.3}, -0.02),
    ("ADDAClassifier", {}, -0.02), ("WDGRLClassifier", {"critic_steps": 2}, -0.02),
    ("DeepJDOTClassifier", {}, -0.02),
    # CDAN's default reg=10 (deep_defaults.md): +7, +19, +20 points; reg=1 lost 8 on seed 0
    ("CDANClassifier", {}, -0.02)])
def test_adaptation_beats_source_only(name, kw, worst):
    import sktl.deep

    gains = []
    for seed in range(3):
        X, y, sd, Xt, yt = rotated_moons(seed)
        net = getattr(sktl.deep, name)(random_state=seed, **FAST, **kw).fit(X, y, sample_domain=sd)
        gains.append(np.mean(net.predict(Xt) == yt) - source_only_accuracy(seed))
    assert np.mean(gains) > 0.04 and min(gains) > worst, gains


def test_dan_shrinks_feature_mmd():
    X, y, sd, Xt, yt = rotated_moons(0)

    def feature_mmd(net):
        net.module_.eval()
        with torch.no_grad():
            net.module_(torch.as_tensor(X, dtype=torch.float32))
        z = net._captured_["features"]
        return float(mmd_loss(z[sd > 0], z[sd < 0]))

    base = SourceOnlyClassifier(random_state=0, **FAST).fit(X, y, sample_domain=sd)
    dan = DANClassifier(random_state=0, **FAST).fit(X, y, sample_domain=sd)
    early = DANClassifier(random_state=0, max_epochs=1, lr=3e-3).fit(X, y, sample_domain=sd)
    assert feature_mmd(dan) < 0.5 * feature_mmd(base)
    assert feature_mmd(dan) < feature_mmd(early)


def test_fine_tuning_beats_source_model_and_target_only():
    rows = []
    for seed in range(3):
        X, y, sd, Xt, yt = rotated_moons(seed, angle=45)
        lab = np.random.default_rng(seed).choice(len(yt), 8, replace=False)
        y_few = y.copy()
        y_few[len(yt) + lab] = yt[lab]
        test = np.setdiff1d(np.arange(len(yt)), lab)
        ft = FineTuningClassifier(pretrain_epochs=60, backbone_lr_scale=0.1, random_state=seed,
                                  **FAST)
        ft.fit(X, y_few, sample_domain=sd)
        src = SourceOnlyClassifier(random_state=seed, **FAST).fit(X, y, sample_domain=sd)
        with pytest.warns(DomainWarning):  # target labels only: no domain to adapt to
            tgt = SourceOnlyClassifier(random_state=seed, **FAST).fit(Xt[lab], yt[lab])
        rows.append([np.mean(m.predict(Xt[test]) == yt[test]) for m in (ft, src, tgt)])
    rows = np.array(rows)
    assert rows[:, 0].mean() > rows[:, 1].mean() + 0.1, rows
    # over 8 seeds fine-tuning leads target-only by 2 points (0.835 vs 0.812): too
    # close for 3 seeds to show more than "not worse"
    assert rows[:, 0].mean() >= rows[:, 2].mean(), rows


def test_fine_tuning_options_and_pretrained_file(tmp_path):
    X, y, sd, Xt, yt = rotated_moons(0, n=100)
    y_few = y.copy()
    y_few[100:110] = yt[:10]
    pre = SourceOnlyClassifier(max_epochs=5, random_state=0).fit(X, y, sample_domain=sd)
    path = tmp_path / "weights.pt"
    torch.save(pre.module_.state_dict(), path)
    ft = FineTuningClassifier(pretrained=path, freeze=1, unfreeze_every=2, max_epochs=4,
                              backbone_lr_scale=0.1, random_state=0)
    ft.fit(X, y_few, sample_domain=sd)
    first = dict(pre.module_.named_parameters())["features.0.weight"]
    assert ft.frozen_layers_ == []  # unfrozen again after 2 epochs
    assert not torch.equal(first, dict(ft.module_.named_parameters())["features.0.weight"])
    frozen = FineTuningClassifier(module=pre.module_, pretrained=True, freeze=["features"],
                                  max_epochs=3, random_state=0).fit(X, y_few, sample_domain=sd)
    assert torch.equal(first, dict(frozen.module_.named_parameters())["features.0.weight"])
    with pytest.raises(ValueError, match="no layer"):
        FineTuningClassifier(freeze=["nope"], max_epochs=1, pretrain_epochs=1).fit(
            X, y_few, sample_domain=sd)
    with pytest.raises(ValueError, match="labelled target rows"):
        FineTuningClassifier(max_epochs=1).fit(X, y, sample_domain=sd)
    reg = FineTuningRegressor(max_epochs=2, pretrain_epochs=2, random_state=0)
    y_reg = np.where(y_few >= 0, y_few.astype(float), np.nan)
    assert reg.fit(X, y_reg, sample_domain=sd).predict(Xt).shape == (100,)


def test_custom_module_layers_and_device():
    X, y, sd, Xt, _ = rotated_moons(1, n=80)
    module = MLPModule(2, 2, hidden_units=(16, 8))
    net = DANClassifier(module=module, adapt_layers=("features.0", "features"), max_epochs=2,
                        random_state=0).fit(X, y, sample_domain=sd)
    assert set(net._captured_) == {"features.0", "features"}
    assert net.get_params()["device"] == "auto"
    assert net.device == ("cuda" if torch.cuda.is_available() else "cpu")
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(restored.predict_proba(Xt), net.predict_proba(Xt), atol=1e-6)
    with pytest.raises(ValueError, match="no layer named"):
        DANClassifier(adapt_layers=("nope",), max_epochs=1).fit(X, y, sample_domain=sd)


def test_nan_loss_stops_with_clear_error():
    X, y, sd, _, _ = rotated_moons(0, n=60)
    with pytest.raises(ValueError, match="training loss became"):
        DANClassifier(lr=1e12, max_epochs=20, random_state=0).fit(X * 1e3, y, sample_domain=sd)


def test_import_sktl_does_not_import_torch():
    code = "import sys, sktl, sktl.datasets, sktl.metrics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_gpu():
    X, y, sd, Xt, yt = rotated_moons(0)
    net = DANNClassifier(device="auto", mixed_precision=True, random_state=0, **FAST)
    net.fit(X, y, sample_domain=sd)
    assert next(net.module_.parameters()).is_cuda
    assert np.mean(net.predict(Xt) == yt) > 0.7


def test_early_stopping_and_history():
    from skorch.callbacks import EarlyStopping

    X, y, sd, _, _ = rotated_moons(0, n=100)
    net = DANClassifier(max_epochs=200, lr=1e-2, random_state=0,
                        callbacks=[EarlyStopping(monitor="train_loss", patience=3,
                                                 threshold=1e-2)])
    net.fit(X, y, sample_domain=sd)
    assert 3 < len(net.history) < 200
    assert all(np.isfinite(net.history[:, "train_loss"]))


def _features(net, X):
    net.module_.eval()
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X, dtype=torch.float32))
    return net._captured_[net._last_layer()], logits


def test_coral_and_mcc_shrink_what_they_minimise():
    from sktl.deep import MCCClassifier, coral_loss, mcc_loss

    X, y, sd, _, _ = rotated_moons(0)
    base = SourceOnlyClassifier(random_state=0, **FAST).fit(X, y, sample_domain=sd)
    coral = DeepCORALClassifier(random_state=0, reg=10.0, **FAST).fit(X, y, sample_domain=sd)
    mcc = MCCClassifier(random_state=0, **FAST).fit(X, y, sample_domain=sd)

    def coral_gap(net):
        z, _ = _features(net, X)
        return float(coral_loss(z[sd > 0], z[sd < 0]))

    def confusion(net):
        _, logits = _features(net, X)
        return float(mcc_loss(logits[sd < 0]))

    assert coral_gap(coral) < 0.5 * coral_gap(base)
    assert confusion(mcc) < 0.5 * confusion(base)


def test_coral_auto_weight_balances_the_losses_and_never_rises():
    from sktl.deep import coral_loss

    X, y, sd, Xt, yt = rotated_moons(0)
    kw = dict(random_state=0, adapt_layers=("head",), **FAST)
    auto = DeepCORALClassifier(reg="auto", **kw)
    assert clone(auto).get_params()["reg"] == "auto"
    auto.fit(X, y, sample_domain=sd)
    one = DeepCORALClassifier(reg=1.0, **kw).fit(X, y, sample_domain=sd)
    assert not hasattr(one, "domain_weight_")
    w = np.array(auto.history[:, "domain_weight"])
    ramp = 2 / (1 + np.exp(-10 * np.arange(len(w)) / len(w))) - 1
    assert w[0] == 0 and np.all(np.diff(w[1:] / ramp[1:]) <= 1e-6 * w[1:-1] / ramp[1:-1])
    assert auto.domain_weight_ == w[-1] > 100  # the class scores' CORAL loss is small

    def gap(net):
        _, logits = _features(net, X)
        return float(coral_loss(logits[sd > 0], logits[sd < 0]))

    # the balanced weight aligns the class scores far more than reg=1, and the net
    # still fits the source (a weight allowed to rise collapses it to chance)
    assert gap(auto) < 0.1 * gap(one)
    assert np.mean(auto.predict(X[sd > 0]) == y[sd > 0]) > 0.9
    for bad in ("balanced", -1.0, True):
        with pytest.raises(ValueError, match="reg must be 'auto' or a non-negative"):
            DeepCORALClassifier(reg=bad, max_epochs=1).fit(X, y, sample_domain=sd)


def test_mcd_feature_steps_make_the_heads_agree_on_the_target():
    from sktl.deep import MCDClassifier

    X, y, sd, _, _ = rotated_moons(1, n=150)
    kw = dict(random_state=0, max_epochs=15, lr=3e-3)

    def disagreement(net):
        z, logits = _features(net, X[sd < 0])
        with torch.no_grad():
            other = net.second_head_(z)
        return float((torch.softmax(logits, 1) - torch.softmax(other, 1)).abs().mean())

    mcd = MCDClassifier(**kw).fit(X, y, sample_domain=sd)
    no_c = MCDClassifier(n_generator_steps=0, **kw).fit(X, y, sample_domain=sd)
    assert disagreement(mcd) < 0.5 * disagreement(no_c)
    assert np.mean(mcd.predict(X[sd > 0]) == y[sd > 0]) > 0.85


def test_adda_freezes_the_head_and_the_source_encoder():
    from sktl.deep import ADDAClassifier

    X, y, sd, _, _ = rotated_moons(0, n=100)
    pre = ADDAClassifier(pretrain_epochs=4, max_epochs=5, random_state=0)
    pre.fit(X, y, sample_domain=sd)
    head = {k: v.clone() for k, v in pre.module_.head.state_dict().items()}
    net = ADDAClassifier(pretrain_epochs=4, max_epochs=9, random_state=0).fit(
        X, y, sample_domain=sd)
    for k, v in net.module_.head.state_dict().items():  # the head is the pretrained one
        assert torch.equal(v, head[k])
    src = net.source_encoder_.state_dict()
    assert all(torch.equal(src[k], v) for k, v in pre.source_encoder_.state_dict().items())
    assert not torch.equal(src["features.0.weight"], net.module_.state_dict()["features.0.weight"])
    with pytest.raises(ValueError, match="pretrain_epochs"):
        ADDAClassifier(pretrain_epochs=5, max_epochs=5).fit(X, y, sample_domain=sd)


def test_can_clusters_recover_the_target_classes():
    from sklearn.datasets import make_blobs

    from sktl.deep import CANClassifier

    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    Xs, ys = make_blobs(150, centers=centres, cluster_std=0.6, random_state=0)
    Xt, yt = make_blobs(150, centers=centres + [1.0, 0.5], cluster_std=0.6, random_state=1)
    X, y = np.vstack([Xs, Xt]), np.r_[ys, -np.ones(150, int)]
    sd = np.r_[np.ones(150, int), -np.ones(150, int)]
    net = CANClassifier(random_state=0, max_epochs=20, lr=3e-3).fit(X, y, sample_domain=sd)
    kept = net.pseudo_labels_ >= 0
    assert kept.mean() > 0.5
    assert np.mean(net.pseudo_labels_[kept] == yt[kept]) > 0.7  # 3 classes: chance is 1/3


def test_spa_and_deepjdot_losses():
    from sktl.deep import spectral_alignment_loss, transport_plan

    g = torch.Generator().manual_seed(0)
    a = torch.randn(20, 5, generator=g)
    assert float(spectral_alignment_loss(a, a[torch.randperm(20, generator=g)])) < 1e-5
    assert float(spectral_alignment_loss(a, 3 * torch.randn(20, 5, generator=g) ** 3)) > 0.1
    cost = torch.rand(6, 6, generator=g)
    plan = transport_plan(cost)
    assert torch.allclose(plan.sum(0), torch.full((6,), 1 / 6))
    assert torch.all((plan == 0) | torch.isclose(plan, torch.tensor(1 / 6)))
    rect = transport_plan(torch.rand(4, 6, generator=g, dtype=torch.float64))
    assert torch.allclose(rect.sum(1), torch.full((4,), 1 / 4, dtype=torch.float64))
    assert torch.allclose(rect.sum(0), torch.full((6,), 1 / 6, dtype=torch.float64))


def test_target_only_ignores_the_source():
    from sktl.deep import TargetOnlyClassifier

    X, y, sd, Xt, yt = rotated_moons(0, n=80)
    y_t = y.copy()
    y_t[80:100] = yt[:20]
    a = TargetOnlyClassifier(max_epochs=5, random_state=0).fit(X, y_t, sample_domain=sd)
    flipped = np.where(sd > 0, 1 - y_t, y_t)
    b = TargetOnlyClassifier(max_epochs=5, random_state=0).fit(X, flipped, sample_domain=sd)
    np.testing.assert_allclose(a.predict_proba(Xt), b.predict_proba(Xt), atol=1e-6)
    with pytest.raises(ValueError, match="labelled target rows"):
        TargetOnlyClassifier(max_epochs=1).fit(X, y, sample_domain=sd)


def test_wann_weights_favour_source_rows_like_the_target():
    from sktl.deep import WANNRegressor

    rng = np.random.default_rng(0)
    Xs = rng.normal(0, 1, (300, 1))
    Xt = rng.normal(1.5, 0.5, (300, 1))
    f = lambda x: np.sin(2 * x[:, 0]) + x[:, 0]  # noqa: E731
    X = np.vstack([Xs, Xt])
    y = np.r_[f(Xs), np.full(300, np.nan)]
    y[300:315] = f(Xt[:15])  # fifteen labelled target rows
    sd = np.r_[np.ones(300, int), -np.ones(300, int)]
    net = WANNRegressor(max_epochs=30, lr=3e-3, random_state=0).fit(X, y, sample_domain=sd)
    w = net.predict_weights(Xs)
    assert np.all(w > 0)
    assert np.corrcoef(w, Xs[:, 0])[0, 1] > 0.3  # heavier where the target lives
    with pytest.raises(ValueError, match="labelled target rows"):
        WANNRegressor(max_epochs=1).fit(X, np.r_[f(Xs), np.full(300, np.nan)],
                                        sample_domain=sd)


def test_make_da_pipeline_leaves_the_nets_unwrapped():
    from sklearn.preprocessing import StandardScaler

    from sktl.pipeline import make_da_pipeline

    X, y, sd, Xt, _ = rotated_moons(0, n=60)
    pipe = make_da_pipeline(StandardScaler(), DANNClassifier(max_epochs=2, random_state=0))
    pipe.fit(X, y)  # target rows inferred from the masked labels
    assert list(pipe[-1].domains_) == [-2, 1]


def test_train_split_keeps_domain_batches():
    from skorch.callbacks import Callback
    from skorch.dataset import ValidSplit

    class Record(Callback):
        def initialize(self):
            self.sources = []
            return self

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            if training:
                self.sources.append(int((batch[0]["sample_domain"] > 0).sum()))

    X, y, sd, _, _ = rotated_moons(0, n=100)
    record = Record()
    net = DANNClassifier(max_epochs=2, batch_size=32, random_state=0, callbacks=[record],
                         train_split=ValidSplit(5, stratified=False))
    net.fit(X, y, sample_domain=sd)
    assert np.isfinite(net.history[-1, "valid_loss"])
    assert set(record.sources) == {16}  # every training batch: 16 source + 16 target rows


def test_source_reg_keeps_the_fine_tuned_weights_near_the_pretrained_ones():
    X, y, sd, Xt, yt = rotated_moons(0, n=100, angle=60)
    y_few = y.copy()
    y_few[100:120] = yt[:20]
    pre = SourceOnlyClassifier(max_epochs=5, random_state=0).fit(X, y, sample_domain=sd)
    start = torch.cat([p.detach().flatten() for p in pre.module_.parameters()])

    def drift(**kw):
        ft = FineTuningClassifier(module=pre.module_, pretrained=True, reset_head=False,
                                  max_epochs=20, lr=1e-2, random_state=0, **kw)
        ft.fit(X, y_few, sample_domain=sd)
        assert not hasattr(ft, "_source_params_")  # a training-time attribute only
        return float((torch.cat([p.detach().flatten() for p in ft.module_.parameters()])
                      - start).norm())

    free, l2, l1 = drift(), drift(source_reg=1.0), drift(source_reg=1.0, source_reg_norm="l1")
    assert l2 < 0.5 * free and l1 < 0.5 * free, (free, l2, l1)
    for bad, match in [({"source_reg": -1.0}, "source_reg must"),
                       ({"source_reg_norm": "l3"}, "source_reg_norm must")]:
        with pytest.raises(ValueError, match=match):
            FineTuningClassifier(max_epochs=1, **bad).fit(X, y_few, sample_domain=sd)


def test_iwn_weights_follow_the_density_ratio():
    from scipy.stats import norm

    from sktl.deep import IWNClassifier, IWNRegressor

    rng = np.random.default_rng(0)
    Xs = rng.normal(0, 1, (300, 1))
    Xt = rng.normal(1.5, 0.5, (300, 1))
    X = np.vstack([Xs, Xt])
    y = np.r_[np.sin(2 * Xs[:, 0]) + Xs[:, 0], np.full(300, np.nan)]
    sd = np.r_[np.ones(300, int), -np.ones(300, int)]
    net = IWNRegressor(max_epochs=30, lr=3e-3, random_state=0).fit(X, y, sample_domain=sd)
    w = net.predict_weights(Xs)
    ratio = norm.pdf(Xs[:, 0], 1.5, 0.5) / norm.pdf(Xs[:, 0])
    assert np.all(w >= 0) and np.corrcoef(np.log(w + 1e-12), np.log(ratio))[0, 1] > 0.8
    # update_sigma=False keeps the bandwidth it was given
    fixed = IWNClassifier(max_epochs=2, sigma_init=0.7, update_sigma=False, random_state=0)
    fixed.fit(X, (y > 0).astype(int) * (sd > 0) - (sd < 0), sample_domain=sd)
    assert float(torch.exp(fixed.bandwidth_.log_sigma)) == pytest.approx(0.7)
    # the weighting network learns at weighter_lr_scale x lr (reg is inert under Adam)
    lrs = {id(p): g["lr"] for g in fixed.optimizer_.param_groups for p in g["params"]}
    assert {round(lrs[id(p)], 9) for p in fixed.weighter_.parameters()} == {1e-2}
    assert {round(lrs[id(p)], 9) for p in fixed.module_.parameters()} == {1e-3}
    with pytest.raises(ValueError, match="weighter_lr_scale"):
        IWNClassifier(max_epochs=1, weighter_lr_scale=0).fit(
            X, (y > 0).astype(int) * (sd > 0) - (sd < 0), sample_domain=sd)
    with pytest.raises(ValueError, match="sigma_init"):
        IWNClassifier(max_epochs=1, sigma_init=-1.0).fit(X, (y > 0).astype(int) * (sd > 0)
                                                         - (sd < 0), sample_domain=sd)
