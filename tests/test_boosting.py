"""TrAdaBoost family: the paper's setting, weights, warnings and the boosting surface."""

import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, Ridge

from sktl import TrAdaBoostClassifier, TrAdaBoostR2, TwoStageTrAdaBoostR2
from sktl.exceptions import DomainWarning


def transfer_problem(seed, task="classification", d=10, n_s=400, n_t=400, n_lab=20,
                     frac_misleading=0.3):
    """Dai et al.'s setting: the source is partly useful, partly misleading.

    Most source rows follow the target's concept; a fraction follows another.
    Only ``n_lab`` target rows (5 %) are labelled.
    """
    rng = np.random.default_rng(seed)
    w, w_other = rng.normal(size=d), rng.normal(size=d)
    Xs, Xt = rng.normal(size=(n_s, d)), rng.normal(size=(n_t, d))
    mis = rng.random(n_s) < frac_misleading
    if task == "classification":
        ys = np.where(mis, Xs @ w_other > 0, Xs @ w > 0).astype(int)
        yt = (Xt @ w > 0).astype(int)
    else:
        ys = np.where(mis, Xs @ w_other, Xs @ w) + 0.1 * rng.normal(size=n_s)
        yt = Xt @ w + 0.1 * rng.normal(size=n_t)
    lab = rng.choice(n_t, n_lab, replace=False)
    test = np.setdiff1d(np.arange(n_t), lab)
    X = np.vstack([Xs, Xt[lab]])
    y = np.r_[ys, yt[lab]]
    sd = np.r_[np.ones(n_s, int), -2 * np.ones(n_lab, int)]
    return X, y, sd, Xt[test], yt[test], mis


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        yield


def test_classifier_beats_target_only_and_pooled():
    rows = []
    for seed in range(4):
        X, y, sd, Xt, yt, mis = transfer_problem(seed)
        pooled = LogisticRegression().fit(X, y).score(Xt, yt)
        target_only = LogisticRegression().fit(X[sd < 0], y[sd < 0]).score(Xt, yt)
        clf = TrAdaBoostClassifier(LogisticRegression(), n_estimators=30, random_state=0)
        ours = clf.fit(X, y, sample_domain=sd).score(Xt, yt)
        w = clf.sample_weight_[: len(mis)]
        rows.append((ours - pooled, ours - target_only, w[mis].mean() / w[~mis].mean()))
    rows = np.array(rows)
    assert rows[:, 0].min() >= 0, rows  # never below the pooled baseline
    assert rows[:, 0].mean() > 0.02 and rows[:, 1].mean() > 0.05, rows
    assert rows[:, 2].mean() < 0.9, rows  # misleading source rows lose weight


@pytest.mark.parametrize("cls", [TrAdaBoostR2, TwoStageTrAdaBoostR2])
def test_regressors_beat_their_baselines(cls):
    kw = {"n_estimators": 10, "n_steps": 5, "n_folds": 3} if cls is TwoStageTrAdaBoostR2 \
        else {"n_estimators": 30}
    gains = []
    for seed in range(3):
        X, y, sd, Xt, yt, _ = transfer_problem(seed, task="regression")

        def mae(m, Xt=Xt, yt=yt):
            return np.abs(m.predict(Xt) - yt).mean()

        pooled = mae(Ridge().fit(X, y))
        target_only = mae(Ridge().fit(X[sd < 0], y[sd < 0]))
        ours = mae(cls(Ridge(), random_state=0, **kw).fit(X, y, sample_domain=sd))
        gains.append((pooled / ours, target_only / ours))
    gains = np.array(gains)
    assert gains[:, 0].min() > 2 and gains[:, 1].min() > 1.2, gains


def test_multiclass_and_boosting_surface():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.digitize(X[:, 0] + 0.3 * X[:, 1], [-0.5, 0.5])
    sd = np.where(np.arange(300) < 260, 1, -2)
    clf = TrAdaBoostClassifier(LogisticRegression(), n_estimators=6, random_state=0)
    clf.fit(X, y, sample_domain=sd)
    assert clf.classes_.tolist() == [0, 1, 2]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(proba.argmax(axis=1), np.searchsorted(clf.classes_,
                                                                         clf.predict(X)))
    assert clf.decision_function(X).shape == (300, 3)
    stages = list(clf.staged_predict(X))
    assert len(stages) == len(clf.estimators_) == len(clf.estimator_weights_)
    np.testing.assert_array_equal(stages[-1], clf.predict(X))
    assert clf.score(X, y) > 0.7


def test_warns_when_learners_are_useless_on_target():
    X, y, sd, _, _, _ = transfer_problem(0)
    y = y.copy()
    y[sd < 0] = 1 - y[sd < 0]  # the target contradicts everything the source says
    useless = DummyClassifier(strategy="most_frequent")
    with pytest.warns(DomainWarning, match="no better than chance"):
        with warnings.catch_warnings():
            warnings.simplefilter("default", DomainWarning)
            TrAdaBoostClassifier(useless, n_estimators=3).fit(
                X, np.where(sd < 0, 1, 0), sample_domain=sd)


def test_stops_at_the_first_learner_no_better_than_chance():
    """A chance-level round used to freeze the target weights: every later learner got no
    vote and the voting half could predict a constant (accuracy 0.0 on this draw)."""
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(400, 400, shift="covariate", n_features=5, noise=0.3,
                                 shift_strength=1.5, random_state=1)
    rng = np.random.default_rng(1)
    tgt = np.flatnonzero(sd < 0)
    labelled = rng.choice(tgt, 20, replace=False)
    y_train = np.where(sd > 0, y, -1)
    y_train[labelled] = y[labelled]
    test = np.setdiff1d(tgt, labelled)
    with pytest.warns(DomainWarning, match="boosting stopped at round"):
        clf = TrAdaBoostClassifier(LogisticRegression(max_iter=1000), random_state=0).fit(
            X, y_train, sample_domain=sd)
    assert len(clf.estimators_) < 50 and (clf.estimator_weights_ > 0).all()
    assert clf.score(X[test], y[test]) > 0.6


def test_needs_labelled_target_rows():
    X, y, sd, _, _, _ = transfer_problem(0)
    y = y.copy()
    y[sd < 0] = -1
    with pytest.raises(ValueError, match="labelled target rows"):
        TrAdaBoostClassifier(LogisticRegression()).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="labelled target rows"):
        TwoStageTrAdaBoostR2(Ridge()).fit(X, np.where(sd < 0, np.nan, 1.0 * y),
                                          sample_domain=sd)
