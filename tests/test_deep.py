"""Deep domain adaptation (CPU here; the GPU test runs where CUDA is available)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.datasets import make_moons  # noqa: E402

from sktl.deep import (  # noqa: E402
    DANClassifier,
    DANNClassifier,
    DeepCORALClassifier,
    FineTuningClassifier,
    FineTuningRegressor,
    JANClassifier,
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


@pytest.mark.parametrize("cls, kw", [(DANClassifier, {}), (DANNClassifier, {}),
                                     (DeepCORALClassifier, {"reg": 10.0}),
                                     (JANClassifier, {"reg": 0.3})])
def test_adaptation_beats_source_only(cls, kw):
    gains = []
    for seed in range(3):
        X, y, sd, Xt, yt = rotated_moons(seed)
        base = SourceOnlyClassifier(random_state=seed, **FAST).fit(X, y, sample_domain=sd)
        net = cls(random_state=seed, **FAST, **kw).fit(X, y, sample_domain=sd)
        gains.append(np.mean(net.predict(Xt) == yt) - np.mean(base.predict(Xt) == yt))
    assert np.mean(gains) > 0.04 and min(gains) > -0.02, gains


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
    assert rows[:, 0].mean() > rows[:, 2].mean() + 0.02, rows


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
