"""Scorers without target labels, domain-aware splitters and transfer diagnostics."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sktl import KMM, LabelledOnly, make_da_pipeline
from sktl.datasets import make_domain_shift
from sktl.metrics import (
    CircularValidation,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    coral_distance,
    mmd,
    mmd_test,
    negative_transfer_check,
    proxy_a_distance,
    rank_source_domains,
)
from sktl.model_selection import LeaveOneDomainOut, SourceTargetShuffleSplit
from sktl.utils import mask_target_labels


def test_mmd_and_its_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(150, 3)), rng.normal(size=(150, 3))
    c = rng.normal(0.7, 1, size=(150, 3))
    assert abs(mmd(a, b, unbiased=True)) < 0.01 < mmd(a, c, unbiased=True)
    assert mmd(a, b, kernel="linear") < mmd(a, c, kernel="linear")
    assert mmd_test(a, c, random_state=0, n_permutations=100).p_value < 0.02
    assert mmd_test(a, b, random_state=0, n_permutations=100).p_value > 0.05


def test_other_distances_and_source_ranking():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    far = rng.normal(4, 3, size=(200, 2))
    assert proxy_a_distance(a, b, random_state=0) < 0.3
    assert proxy_a_distance(a, far, random_state=0) > 1.5
    assert coral_distance(a, b) < 0.1 * coral_distance(a, 3 * b)
    X = np.vstack([far, a, b])
    sd = np.repeat([1, 2, -3], 200)
    for metric in ("mmd", "proxy_a", "coral"):
        ranking = rank_source_domains(X, sd, metric=metric)
        assert ranking[0][0] == 2, (metric, ranking)
    with pytest.raises(ValueError, match="metric"):
        rank_source_domains(X, sd, metric="nope")
    with pytest.raises(ValueError, match="features"):
        mmd(a, b[:, :1])


def _oracle_and_dummy():
    X, y, sd = make_domain_shift(300, 300, shift="covariate", random_state=0)
    ym = mask_target_labels(y, sd)
    oracle = LabelledOnly(LogisticRegression()).fit(X[sd < 0], y[sd < 0])
    dummy = LabelledOnly(DummyClassifier(strategy="prior")).fit(X[sd > 0], y[sd > 0])
    return X, y, ym, sd, oracle, dummy


@pytest.mark.parametrize("scorer", [PredictionEntropyScorer(), ImportanceWeightedScorer()])
def test_scorers_rank_good_model_above_bad(scorer):
    X, y, ym, sd, oracle, dummy = _oracle_and_dummy()
    good = scorer(oracle, X, ym, sample_domain=sd)
    bad = scorer(dummy, X, ym, sample_domain=sd)
    assert good > bad, (good, bad)
    # without sample_domain, target rows are recognised by their masked labels
    assert scorer(oracle, X, ym) == pytest.approx(good)


def test_circular_validation_prefers_consistent_model():
    X, y, sd = make_domain_shift(200, 200, shift="conditional", random_state=0)
    ym = mask_target_labels(y, sd)
    s = sd > 0
    good = LabelledOnly(LogisticRegression()).fit(X[s], y[s])
    flipped = LabelledOnly(LogisticRegression()).fit(X[s], 1 - y[s])
    scorer = CircularValidation()
    assert scorer(good, X, ym, sample_domain=sd) > 0.8 > 0.2 > scorer(flipped, X, ym,
                                                                       sample_domain=sd)


def test_importance_weighted_scorer_tracks_target_accuracy():
    X, y, sd = make_domain_shift(400, 400, shift="covariate", random_state=3)
    ym, t = mask_target_labels(y, sd), sd < 0
    plain = make_da_pipeline(LogisticRegression()).fit(X, ym)
    adapted = KMM(LogisticRegression(), random_state=0).fit(X, ym, sample_domain=sd)
    true_gain = adapted.score(X[t], y[t]) - plain.score(X[t], y[t])
    scorer = ImportanceWeightedScorer()
    est_gain = scorer(adapted, X, ym, sample_domain=sd) - scorer(plain, X, ym, sample_domain=sd)
    assert true_gain > 0.05 and est_gain > 0, (true_gain, est_gain)


def test_grid_search_parallel_with_routed_scorers():
    X, y, sd = make_domain_shift(150, 150, shift="covariate", random_state=0, mask_target=True)
    pipe = make_da_pipeline(StandardScaler(), KMM(LogisticRegression(), random_state=0))
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(pipe, {"kmm__gamma": [0.1, 1.0]}, n_jobs=2,
                              cv=SourceTargetShuffleSplit(n_splits=2, random_state=0),
                              scoring={"iw": ImportanceWeightedScorer(),
                                       "entropy": PredictionEntropyScorer()},
                              refit="iw")
        search.fit(X, y, sample_domain=sd)
    assert np.isfinite(search.cv_results_["mean_test_iw"]).all()


def test_negative_transfer_check_gives_an_actionable_verdict():
    # a covariate shift where reweighting helps a lot, and a model equal to its baseline
    X, y, sd = make_domain_shift(150, 150, shift="conditional", random_state=1,
                                 mask_target=True)
    pipe = make_da_pipeline(StandardScaler(), KMM(LogisticRegression(), random_state=0))
    report = negative_transfer_check(pipe, X, y, sd, random_state=0)
    assert report.verdict in ("adapt", "do not adapt", "inconclusive")
    lower, upper = report.interval
    assert lower <= report.gain <= upper
    assert (report.verdict == "adapt") == (lower > 0)
    assert (report.verdict == "do not adapt") == (upper < 0)
    # 99 % in classification, as in the search
    assert np.isclose((report.gain - lower) / report.gain_se, 2.326, atol=1e-3)
    assert report.search.confidence == 0.99
    assert "circular validation" in set(report.criteria["criterion"])
    same = negative_transfer_check(make_da_pipeline(StandardScaler(), LogisticRegression()),
                                   X, y, sd, random_state=0)
    assert same.verdict == "inconclusive" and same.gain == 0.0


def test_leave_one_domain_out():
    sd = np.repeat([1, 2, 3, -4], 5)
    cv = LeaveOneDomainOut()
    splits = list(cv.split(np.zeros((20, 1)), groups=sd))
    assert [set(sd[test]) for _, test in splits] == [{1}, {2}, {3}]
    assert cv.get_n_splits(sample_domain=sd) == 3
    assert LeaveOneDomainOut("all").get_n_splits(groups=sd) == 4
    with pytest.raises(ValueError, match="two source domains"):
        next(cv.split(np.zeros((4, 1)), sample_domain=[1, 1, -2, -2]))


def test_deep_embedded_validation_ranks_models():
    X, y, ym, sd, oracle, dummy = _oracle_and_dummy()
    from sktl.metrics import DeepEmbeddedValidation

    dev = DeepEmbeddedValidation()
    assert dev(oracle, X, ym, sample_domain=sd) > dev(dummy, X, ym, sample_domain=sd)
    pipe = make_da_pipeline(StandardScaler(), LogisticRegression()).fit(X, ym)
    assert -1 <= dev(pipe, X, ym, sample_domain=sd) <= 0.5


def test_stratified_split_and_hidden_target_labels():
    from sktl.metrics import SupervisedScorer
    from sktl.model_selection import UnlabelledTargetTraining

    X, y, sd = make_domain_shift(200, 100, shift="covariate", random_state=0)
    cv = SourceTargetShuffleSplit(n_splits=3, test_size=0.25, stratify=True, random_state=0)
    for _, test in cv.split(X, y, sample_domain=sd):
        for d in (1, -2):
            rows = sd == d
            frac = y[np.intersect1d(test, np.flatnonzero(rows))].mean()
            assert abs(frac - y[rows].mean()) < 0.06
    # the wrapped KMM never trains on target labels, the scorer uses them
    model = UnlabelledTargetTraining(KMM(LogisticRegression(), random_state=0))
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(model, {"estimator__gamma": [0.1, 1.0]}, cv=cv,
                              scoring=SupervisedScorer()).fit(X, y, sample_domain=sd)
    assert search.best_estimator_.estimator_.domains_.tolist() == [-2, 1]
    fitted = UnlabelledTargetTraining(make_da_pipeline(KMM(LogisticRegression()))).fit(
        X, y, sample_domain=sd)  # pipeline without routing
    assert fitted.predict(X[:3]).shape == (3,)
    with pytest.raises(ValueError, match="sample_domain"):
        UnlabelledTargetTraining(KMM(LogisticRegression())).fit(X, y)


def test_circular_validation_with_one_predicted_class():
    """A model that predicts one class on the target must get a score, not a crash."""
    X, y, sd = make_domain_shift(300, 300, shift="conditional", random_state=0, mask_target=True)
    model = make_da_pipeline(LogisticRegression(C=1e-8, class_weight={0: 1, 1: 10})).fit(X, y)
    assert np.unique(model.predict(X[sd < 0])).size == 1
    score = CircularValidation()(model, X, y, sample_domain=sd)
    assert score == pytest.approx(np.mean(y[sd > 0] == model.predict(X[sd < 0])[0]))


def test_importance_weighting_scores_the_deployed_model():
    """IWS estimates the target risk of the model as deployed.

    A fitted CORAL pipeline maps new rows as target rows (unchanged); that is
    the function used on the target, so the reweighted source rows must go
    through it the same way, not re-coloured as during training.
    """
    from sktl import CORAL
    from sktl._instance import domain_classifier_weights

    X, y, sd = make_domain_shift(200, 200, shift="covariate", random_state=0, mask_target=True)
    X = X * np.where(sd[:, None] > 0, [5.0, 0.2], 1.0)  # very different covariances
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y)
    src, tgt = sd > 0, sd < 0
    deployed = pipe.predict(X[src]) == y[src]
    as_trained = pipe[-1].predict(pipe[0].transform(X[src], sample_domain=sd[src])) == y[src]
    assert abs(deployed.mean() - as_trained.mean()) > 0.05  # the distinction matters here
    w = domain_classifier_weights(X[src], X[tgt], max_weight=20.0)
    assert ImportanceWeightedScorer()(pipe, X, y, sample_domain=sd) == pytest.approx(
        np.average(deployed, weights=w))
