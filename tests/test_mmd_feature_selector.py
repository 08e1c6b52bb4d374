"""MMDFeatureSelector: keep the features that do not carry the shift."""

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context
from sklearn.linear_model import LogisticRegression

from sktl import MMDFeatureSelector
from sktl.pipeline import make_da_pipeline


def _shifted(seed, n=200):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, 5))
    X[n:, 1] += 2.5                  # a mean shift on feature 1
    X[n:, 3] *= 3.0                  # a spread change on feature 3 (same mean)
    sd = np.r_[np.ones(n, int), -np.ones(n, int)]
    return X, sd


def test_linear_drops_the_mean_shifted_feature_only():
    X, sd = _shifted(0)
    sel = MMDFeatureSelector().fit(X, sample_domain=sd)
    assert np.argmax(sel.feature_scores_) == 1
    assert sel.support_.tolist() == [True, False, True, True, True]
    assert np.linalg.norm(sel.feature_scores_) == pytest.approx(1.0)


def test_rbf_sees_a_change_of_spread():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    X[200:, 2] *= 3.0  # same mean, three times the spread
    sd = np.r_[np.ones(200, int), -np.ones(200, int)]
    rbf = MMDFeatureSelector("rbf", random_state=0).fit(X, sample_domain=sd)
    assert np.argmax(rbf.feature_scores_) == 2
    assert rbf.support_.tolist() == [True, True, False, True]


def test_selection_helps_a_classifier_whose_signal_is_invariant():
    # the label depends on feature 0; feature 1 is spuriously tied to the label in the source
    rng = np.random.default_rng(0)
    n = 300
    ys, yt = rng.integers(0, 2, n), rng.integers(0, 2, n)
    Xs = np.c_[ys + 0.8 * rng.normal(size=n), 3 * ys + 0.3 * rng.normal(size=n)]
    Xt = np.c_[yt + 0.8 * rng.normal(size=n), 1.5 + 0.3 * rng.normal(size=n)]
    X = np.r_[Xs, Xt]
    y = np.r_[ys, np.full(n, -1)]
    sd = np.r_[np.ones(n, int), -np.ones(n, int)]
    plain = LogisticRegression().fit(Xs, ys).score(Xt, yt)
    with config_context(enable_metadata_routing=True):
        pipe = make_da_pipeline(MMDFeatureSelector(), LogisticRegression()).fit(
            X, y, sample_domain=sd)
    assert pipe.score(Xt, yt) > plain + 0.1


def test_feature_names_and_errors():
    X, sd = _shifted(0, n=50)
    df = pd.DataFrame(X, columns=list("abcde"))
    sel = MMDFeatureSelector().fit(df, sample_domain=sd)
    assert sel.get_feature_names_out().tolist() == ["a", "c", "d", "e"]
    with pytest.raises(ValueError, match="keeps no feature"):
        MMDFeatureSelector(threshold=-1.0).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="No target rows"):
        MMDFeatureSelector().fit(X[sd > 0], sample_domain=sd[sd > 0])
