"""Splitters and the target-label masking wrapper of sktl.model_selection."""

import pickle

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

from sktl import CORAL
from sktl.datasets import make_domain_shift
from sktl.metrics import PredictionEntropyScorer, SupervisedScorer
from sktl.model_selection import (
    LeaveOneDomainOut,
    MaskTargetLabels,
    SourceTargetShuffleSplit,
    StratifiedSourceTargetShuffleSplit,
)
from sktl.pipeline import make_da_pipeline


def _multi_source():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 2)
    sd = np.repeat([1, 2, 3, -4], 20)
    y = np.where(sd > 0, rng.randint(0, 2, 80), -1)
    return X, y, sd


@pytest.mark.parametrize("cv", [SourceTargetShuffleSplit(3, random_state=0),
                                StratifiedSourceTargetShuffleSplit(3, random_state=0)])
def test_shuffle_splits_keep_every_domain_on_both_sides(cv):
    X, y, sd = _multi_source()
    for train, test in cv.split(X, y, sample_domain=sd):
        assert set(sd[train]) == set(sd[test]) == {1, 2, 3, -4}
        assert not np.intersect1d(train, test).size
        assert len(train) + len(test) == len(X)


def test_stratified_keeps_class_proportions_per_domain():
    rng = np.random.RandomState(0)
    sd = np.repeat([1, -2], 100)
    y = np.r_[(rng.rand(100) < 0.1).astype(int), -np.ones(100, int)]
    for _train, test in StratifiedSourceTargetShuffleSplit(5, test_size=0.3,
                                                          random_state=0).split(sd, y, sd):
        src = test[sd[test] == 1]
        assert np.sum(y[src] == 1) == round(0.3 * np.sum(y == 1))


def test_stratified_needs_y_and_is_reproducible():
    X, y, sd = _multi_source()
    cv = StratifiedSourceTargetShuffleSplit(2, random_state=1)
    a = [t.tolist() for _, t in cv.split(X, y, sample_domain=sd)]
    assert a == [t.tolist() for _, t in cv.split(X, y, sample_domain=sd)]
    with pytest.raises(ValueError, match="needs y"):
        next(cv.split(X, None, sample_domain=sd))


def test_leave_one_domain_out():
    X, y, sd = _multi_source()
    cv = LeaveOneDomainOut()
    splits = list(cv.split(X, y, groups=sd))
    assert cv.get_n_splits(X, y, groups=sd) == len(splits) == 3
    for (train, test), code in zip(splits, [1, 2, 3]):
        assert set(sd[test]) == {code}
        assert code not in set(sd[train]) and -4 in set(sd[train])
    assert len(list(LeaveOneDomainOut("all").split(X, sample_domain=sd))) == 4
    with pytest.raises(ValueError, match="held_out"):
        next(LeaveOneDomainOut("sources").split(X, sample_domain=sd))
    with pytest.raises(ValueError, match="two domains"):
        next(cv.split(X, sample_domain=np.ones(80, int)))


def test_leave_one_domain_out_in_cross_validate():
    X, y, sd = _multi_source()
    res = cross_validate(make_da_pipeline(CORAL(), LogisticRegression()), X, y,
                         cv=LeaveOneDomainOut(), groups=sd)
    assert len(res["test_score"]) == 3


def test_mask_target_labels_hides_labels():
    X, y, sd = make_domain_shift(random_state=0)
    model = MaskTargetLabels(make_da_pipeline(LogisticRegression())).fit(X, y, sample_domain=sd)
    ref = LogisticRegression().fit(X[sd > 0], y[sd > 0])
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X))
    y0 = y.copy()
    clone(model).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(y, y0)
    with pytest.raises(ValueError, match="sample_domain"):
        MaskTargetLabels(LogisticRegression()).fit(X, y)
    assert pickle.loads(pickle.dumps(model)).predict(X).shape == y.shape


def test_mask_target_labels_grid_search_supervised_story():
    """The benchmark story: true target accuracy of an unsupervised method, n_jobs=2."""
    X, y, sd = make_domain_shift(random_state=0)
    with config_context(enable_metadata_routing=True):
        model = MaskTargetLabels(make_da_pipeline(CORAL(), LogisticRegression()))
        grid = GridSearchCV(model, {"estimator__coral__reg": [0.1, 10.0]},
                            scoring={"sup": SupervisedScorer(), "ent": PredictionEntropyScorer()},
                            refit="sup", cv=SourceTargetShuffleSplit(2, random_state=0), n_jobs=2)
        grid.fit(X, y, sample_domain=sd)
    assert np.all((grid.cv_results_["mean_test_sup"] >= 0)
                  & (grid.cv_results_["mean_test_sup"] <= 1))
    assert np.all(grid.cv_results_["mean_test_ent"] <= 0)
