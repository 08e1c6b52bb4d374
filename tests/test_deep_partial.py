"""Partial domain adaptation nets (SAN, IWAN): the target lacks some source classes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sktl.datasets import make_domain_shift  # noqa: E402
from sktl.deep import DANNClassifier, IWANClassifier, SANClassifier  # noqa: E402
from sktl.deep._partial import ClassDiscriminators  # noqa: E402

torch.set_num_threads(1)
FAST = {"max_epochs": 20, "lr": 2e-3, "batch_size": 128}


def partial_shift(seed, n=400, n_classes=6):
    """Conditional shift; the target keeps only the first half of the classes."""
    X, y, sd = make_domain_shift(n, n, shift="conditional", n_features=10, n_classes=n_classes,
                                 shift_strength=1.5, noise=0.5, random_state=seed)
    X = StandardScaler().fit_transform(X)
    keep = (sd > 0) | (y < n_classes // 2)
    X, y, sd = X[keep], y[keep], sd[keep]
    return X, np.where(sd > 0, y, -1), sd, y


_FITTED = {}


def fitted(cls, seed):
    """One fit per (method, seed), shared by the tests."""
    if (cls, seed) not in _FITTED:
        X, y_fit, sd, y = partial_shift(seed)
        # DANN with the weight and schedule SAN and IWAN use (reg=1, warm-up), not its own
        # default (reg=10, no warm-up), so that only the partial-class machinery differs
        kw = {"reg": 1.0, "warmup": True} if cls is DANNClassifier else {}
        net = cls(random_state=seed, **FAST, **kw).fit(X, y_fit, sample_domain=sd)
        _FITTED[cls, seed] = (net, float(np.mean(net.predict(X[sd < 0]) == y[sd < 0])))
    return _FITTED[cls, seed]


def test_san_class_weights_find_the_missing_classes():
    net, _ = fitted(SANClassifier, 0)
    w = net.class_weights_
    assert w.shape == (6,) and w.max() == pytest.approx(1.0)
    assert w[3:].max() < 0.2 < w[:3].min(), w


def test_iwan_weights_source_rows_of_missing_classes_down():
    net, _ = fitted(IWANClassifier, 0)
    X, _, sd, y = partial_shift(0)
    w = net.predict_weights(X[sd > 0])
    ys = y[sd > 0]
    assert np.all((w > 0) & (w < 1))
    assert w[ys >= 3].mean() < 0.7 * w[ys < 3].mean()


def test_partial_methods_avoid_danns_negative_transfer():
    gains = {SANClassifier: [], IWANClassifier: []}
    for seed in (0, 2):
        _, dann = fitted(DANNClassifier, seed)
        for cls in gains:
            gains[cls].append(fitted(cls, seed)[1] - dann)
    for cls, g in gains.items():
        assert np.mean(g) > 0.03, (cls.__name__, g)


def test_class_discriminators_are_independent():
    torch.manual_seed(0)
    disc = ClassDiscriminators(5, 3, hidden_units=4)
    z = torch.randn(7, 5, requires_grad=True)
    out = disc(z, scale=1.0)
    assert out.shape == (7, 3)
    out[:, 1].sum().backward()
    assert disc.w1.grad[1].abs().sum() > 0
    assert disc.w1.grad[0].abs().sum() == 0 and disc.w1.grad[2].abs().sum() == 0
    # behind the reversal the input's gradient is the negative of the plain one
    z2 = z.detach().clone().requires_grad_(True)
    disc(z2, scale=None)[:, 1].sum().backward()
    assert torch.allclose(z.grad, -z2.grad)


def test_san_without_class_weighting_keeps_uniform_weights():
    X, y_fit, sd, _ = partial_shift(1, n=100)
    net = SANClassifier(class_weighting=False, entropy_weight=0.0, max_epochs=2,
                        random_state=0).fit(X, y_fit, sample_domain=sd)
    assert np.all(net.class_weights_ == 1.0)


@pytest.mark.parametrize("cls", [SANClassifier, IWANClassifier])
def test_negative_entropy_weight_is_refused(cls):
    X, y_fit, sd, _ = partial_shift(1, n=60)
    kw = {"pretrain_epochs": 1} if cls is IWANClassifier else {}
    with pytest.raises(ValueError, match="entropy_weight"):
        cls(entropy_weight=-1.0, max_epochs=2, **kw).fit(X, y_fit, sample_domain=sd)
