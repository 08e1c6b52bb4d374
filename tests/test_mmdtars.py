"""MMDTarS: target-shift weights by kernel mean matching of label-dependent weights."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from sktl import KMM, MMDTarS


def _label_shift(seed, props_s=(0.6, 0.3, 0.1), props_t=(0.1, 0.3, 0.6), n=300):
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [2.5, 0.0], [1.2, 2.2]])
    ys = rng.choice(3, n, p=props_s)
    yt = rng.choice(3, n, p=props_t)
    X = np.r_[means[ys] + rng.normal(size=(n, 2)), means[yt] + rng.normal(size=(n, 2))]
    y = np.r_[ys, np.full(n, -1)]
    sd = np.r_[np.ones(n, int), -np.ones(n, int)]
    return X, y, sd, yt


def test_recovers_target_class_proportions_and_weights_are_per_class():
    X, y, sd, yt = _label_shift(0)
    est = MMDTarS().fit(X, y, sample_domain=sd)
    truth = np.bincount(yt, minlength=3) / len(yt)
    assert np.abs(est.target_prior_ - truth).max() < 0.1  # source priors are 0.5 away
    ys = y[sd > 0]
    for c in range(3):  # one weight per class, the class weight
        assert np.allclose(est.weights_[ys == c], est.class_weights_[c])
    assert est.weights_.mean() == pytest.approx(1.0)
    assert 0 <= est.objective_ < 1e-2


def test_beats_unweighted_and_kmm_on_label_shift():
    gains = []
    for seed in range(3):
        X, y, sd, yt = _label_shift(seed)
        tgt = sd < 0
        plain = LogisticRegression().fit(X[sd > 0], y[sd > 0]).score(X[tgt], yt)
        ours = MMDTarS(LogisticRegression()).fit(X, y, sample_domain=sd).score(X[tgt], yt)
        gains.append(ours - plain)
    assert np.mean(gains) > 0.03


def test_regression_weights_move_the_label_mean_to_the_target():
    rng = np.random.default_rng(0)
    ys, yt = rng.normal(0, 1, 300), rng.normal(1.2, 0.6, 300)
    Xs = np.c_[ys + 0.3 * rng.normal(size=300)]
    Xt = np.c_[yt + 0.3 * rng.normal(size=300)]
    X = np.r_[Xs, Xt]
    y = np.r_[ys, np.full(300, np.nan)]
    sd = np.r_[np.ones(300, int), -np.ones(300, int)]
    est = MMDTarS(Ridge()).fit(X, y, sample_domain=sd)
    assert est.target_prior_ is None
    assert abs(np.average(ys, weights=est.weights_) - yt.mean()) < 0.2
    assert est.weights_.min() >= 0


def test_needs_source_labels_and_target_rows():
    X, y, sd, _ = _label_shift(0, n=40)
    with pytest.raises(ValueError, match="needs the source labels"):
        MMDTarS().fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="target rows"):
        MMDTarS().fit(X[sd > 0], y[sd > 0], sample_domain=sd[sd > 0])


def test_no_density_ratio():
    assert not hasattr(MMDTarS(), "density_ratio")
    assert hasattr(KMM(), "fit")
