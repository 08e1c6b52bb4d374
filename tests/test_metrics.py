"""Scorers and diagnostics of sktl.metrics."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sktl import CORAL, DiscriminativeReweighter
from sktl.datasets import make_domain_shift
from sktl.metrics import (
    CircularValidation,
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    SupervisedScorer,
    check_negative_transfer,
    coral_distance,
    mmd,
    proxy_a_distance,
    rank_source_domains,
)
from sktl.model_selection import SourceTargetShuffleSplit
from sktl.pipeline import make_da_pipeline
from sktl.utils._domain import mask_target_labels

LABEL_FREE = [ImportanceWeightedScorer, PredictionEntropyScorer, CircularValidation,
              DeepEmbeddedValidation]


def _fit_and_validation(shift):
    """One draw (the random_state fixes the problem), split into fit / validation halves."""
    X, y, sd = make_domain_shift(600, 600, shift=shift, random_state=0)
    fit, val = np.arange(len(X)) % 2 == 0, np.arange(len(X)) % 2 == 1
    ym = mask_target_labels(y, sd)
    return (X[fit], ym[fit], sd[fit]), (X[val], ym[val], sd[val], y[val])


# For each scorer, a pair of models whose target accuracies differ by >10 points
# on held-out data, in a setting that satisfies the scorer's assumption.
#   covariate shift: reweighting fixes a misspecified linear model (0.75 vs 0.63)
#   label shift: logistic regression vs predicting the source class prior
def _covariate_pair():
    return (DiscriminativeReweighter(LogisticRegression()),
            make_da_pipeline(LogisticRegression()))


def _label_pair():
    return make_da_pipeline(LogisticRegression()), make_da_pipeline(DummyClassifier())


CASES = [
    (ImportanceWeightedScorer(), "covariate", _covariate_pair),
    (DeepEmbeddedValidation(), "covariate", _covariate_pair),
    (PredictionEntropyScorer(), "label", _label_pair),
    (CircularValidation(), "label", _label_pair),
    (SupervisedScorer(), "covariate", _covariate_pair),
]


@pytest.mark.parametrize("scorer, shift, pair", CASES,
                         ids=[type(c[0]).__name__ for c in CASES])
def test_scorer_ranks_better_model_higher(scorer, shift, pair):
    (X, y, sd), (Xv, ymv, sdv, yv) = _fit_and_validation(shift)
    good, bad = pair()
    good.fit(X, y, sample_domain=sd) if isinstance(good, DiscriminativeReweighter) \
        else good.fit(X, y)
    bad.fit(X, y)
    acc = [np.mean(m.predict(Xv[sdv < 0]) == yv[sdv < 0]) for m in (good, bad)]
    assert acc[0] > acc[1] + 0.1  # the premise of the test
    y_score = yv if isinstance(scorer, SupervisedScorer) else ymv
    assert scorer(good, Xv, y_score, sample_domain=sdv) > scorer(bad, Xv, y_score,
                                                                 sample_domain=sdv)


@pytest.mark.parametrize("scorer_cls", LABEL_FREE)
def test_scorer_without_sample_domain_infers_target_rows(scorer_cls):
    X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y)
    assert scorer_cls()(pipe, X, y) == pytest.approx(scorer_cls()(pipe, X, y, sample_domain=sd))


@pytest.mark.parametrize("scorer_cls", LABEL_FREE)
def test_scorer_errors_without_target_rows(scorer_cls):
    X, y, sd = make_domain_shift(random_state=0)
    pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="target rows"):
        scorer_cls()(pipe, X, y, sample_domain=np.abs(sd))


@pytest.mark.parametrize("scorer_cls", LABEL_FREE)
def test_scorer_does_not_mutate_inputs(scorer_cls):
    X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    X0, y0, sd0 = X.copy(), y.copy(), sd.copy()
    scorer_cls()(pipe, X, y, sample_domain=sd)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sd, sd0)


@pytest.mark.parametrize("routing", [False, True])
@pytest.mark.parametrize("scorer_cls", LABEL_FREE)
def test_gridsearch_n_jobs_2(scorer_cls, routing):
    X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    scorer = pickle.loads(pickle.dumps(scorer_cls()))
    with config_context(enable_metadata_routing=routing), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pipe = make_da_pipeline(CORAL(), LogisticRegression())
        grid = GridSearchCV(pipe, {"coral__reg": [0.1, 1.0]}, scoring=scorer, n_jobs=2,
                            cv=SourceTargetShuffleSplit(2, random_state=0))
        grid.fit(X, y, **({"sample_domain": sd} if routing else {}))
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


def test_circular_validation_one_predicted_class():
    X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    pipe = make_da_pipeline(DummyClassifier(strategy="most_frequent")).fit(X, y)
    score = CircularValidation()(pipe, X, y, sample_domain=sd)
    assert 0 <= score <= 1


def test_dev_bad_loss():
    X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        DeepEmbeddedValidation(loss="hinge")(pipe, X, y, sample_domain=sd)


# --- diagnostics ------------------------------------------------------------------------

def test_mmd_identical_and_shifted():
    rng = np.random.RandomState(0)
    A, B = rng.randn(100, 3), rng.randn(100, 3)
    stat, p_same = mmd(A, B, n_permutations=200, random_state=0)
    assert abs(stat) < 0.02 and p_same > 0.05
    assert mmd(A, A, biased=True) == pytest.approx(0.0, abs=1e-12)
    stat_shift, p_shift = mmd(A, B + 1.0, n_permutations=200, random_state=0)
    assert stat_shift > 10 * abs(stat) and p_shift < 0.01
    # unbiased <= biased for a positive definite kernel on these data
    assert mmd(A, B + 1, biased=True) > mmd(A, B + 1)


@pytest.mark.parametrize("kernel", ["rbf", "linear", "laplacian"])
def test_mmd_kernels_detect_mean_shift(kernel):
    rng = np.random.RandomState(0)
    A = rng.randn(80, 2)
    assert mmd(A, rng.randn(80, 2) + 2, kernel=kernel) > mmd(A, rng.randn(80, 2), kernel=kernel)


def test_mmd_permutation_reproducible_and_errors():
    rng = np.random.RandomState(0)
    A, B = rng.randn(30, 2), rng.randn(30, 2) + 0.3
    assert mmd(A, B, n_permutations=50, random_state=3) == mmd(A, B, n_permutations=50,
                                                               random_state=3)
    with pytest.raises(ValueError, match="same number of features"):
        mmd(A, rng.randn(30, 3))
    with pytest.raises(ValueError, match="n_permutations"):
        mmd(A, B, n_permutations=-1)


def test_proxy_a_distance_and_coral():
    rng = np.random.RandomState(0)
    A = rng.randn(200, 2)
    assert proxy_a_distance(A, rng.randn(200, 2), random_state=0) < 0.4
    assert proxy_a_distance(A, rng.randn(200, 2) + 4, random_state=0) > 1.8
    assert coral_distance(A, A) == 0.0
    assert coral_distance(A, 3 * rng.randn(200, 2)) > coral_distance(A, rng.randn(200, 2))


@pytest.mark.parametrize("distance", ["mmd", "coral", "proxy_a"])
def test_rank_source_domains(distance):
    rng = np.random.RandomState(0)
    X = np.vstack([3 * rng.randn(60, 2) + 4, rng.randn(60, 2), rng.randn(60, 2)])
    sd = np.repeat([1, 2, -3], 60)
    ranking = rank_source_domains(X, sd, distance=distance)
    assert [d for d, _ in ranking] == [2, 1]
    with pytest.raises(ValueError, match="distance"):
        rank_source_domains(X, sd, distance="nope")
    with pytest.raises(ValueError, match="target"):
        rank_source_domains(X, sd, target=-7)


def test_check_negative_transfer():
    # Covariate shift: reweighting helps; DEV sees it.
    X, y, sd = make_domain_shift(300, 300, random_state=0, mask_target=True)
    report = check_negative_transfer(DiscriminativeReweighter(LogisticRegression()), X, y, sd,
                                     baseline=make_da_pipeline(LogisticRegression()))
    assert report["recommendation"] == "adapted" and report["difference"] > 0
    assert len(report["adapted_scores"]) == 5
    # An adapted model that is the baseline cannot be shown to help.
    same = check_negative_transfer(make_da_pipeline(LogisticRegression()), X, y, sd,
                                   baseline=make_da_pipeline(LogisticRegression()))
    assert same["recommendation"] == "baseline"
    with pytest.raises(ValueError, match="baseline"):
        check_negative_transfer(LogisticRegression(), X, y, sd)
