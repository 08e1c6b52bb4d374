"""The sample_domain convention, its helpers and its plumbing through scikit-learn."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import is_classifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktl import CORAL, FEDA, DiscriminativeReweighter, LabelledOnly, make_da_pipeline
from sktl.datasets import make_domain_shift
from sktl.exceptions import DomainWarning
from sktl.metrics import PredictionEntropyScorer, SupervisedScorer
from sktl.model_selection import SourceTargetShuffleSplit
from sktl.utils import (
    check_X_y_domain,
    infer_sample_domain,
    mask_target_labels,
    source_target_merge,
    source_target_split,
    unlabelled_mask,
)


def test_unlabelled_mask_by_task():
    assert unlabelled_mask([0, 1, -1]).tolist() == [False, False, True]
    assert unlabelled_mask([0.5, np.nan, -1.0]).tolist() == [False, True, False]
    assert unlabelled_mask([1.0, np.nan, -1.0], task="classification").tolist() == [
        False, True, True]
    assert unlabelled_mask([3.0, -1.0], task="regression").tolist() == [False, False]
    assert unlabelled_mask(np.array(["a", "-1", None], dtype=object)).tolist() == [
        False, True, True]


def test_infer_and_check():
    assert infer_sample_domain([0, -1, 1]).tolist() == [1, -2, 1]
    X, y, sd = check_X_y_domain(np.ones((3, 2)), [0, 1, -1], [1, 1, -3])
    assert sd.tolist() == [1, 1, -3]
    with pytest.raises(ValueError, match="No target rows"):
        check_X_y_domain(np.ones((3, 2)), [0, 1, 1], [1, 1, 2])
    with pytest.raises(ValueError, match="No labelled source rows"):
        check_X_y_domain(np.ones((3, 2)), [-1, -1, -1], [1, 1, -2])
    with pytest.raises(ValueError, match="No source rows"):
        check_X_y_domain(np.ones((2, 2)), [0, 1], [-2, -2])
    with pytest.raises(ValueError, match="sample_domain has 2 entries but X has 3"):
        check_X_y_domain(np.ones((3, 2)), [0, 1, -1], [1, -2])
    with pytest.raises(ValueError, match="contains 0"):
        check_X_y_domain(np.ones((2, 2)), [0, 1], [0, -2])
    with pytest.raises(ValueError, match="non-integer"):
        check_X_y_domain(np.ones((2, 2)), [0, 1], [1.5, -2])
    with pytest.raises(ValueError, match="NaN"):
        check_X_y_domain(np.array([[np.nan, 1.0], [0, 1]]), [0, -1])
    with pytest.warns(DomainWarning, match="No target rows"):
        check_X_y_domain(np.ones((2, 2)), [0, 1])


def test_merge_split_round_trip():
    rng = np.random.default_rng(0)
    Xs, Xt, ys = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), np.arange(5) % 2
    X, y, sd = source_target_merge(Xs, Xt, ys)
    assert y[5:].tolist() == [-1] * 4 and sd.tolist() == [1] * 5 + [-2] * 4
    Xs2, Xt2, ys2, yt2 = source_target_split(X, y, sd)
    np.testing.assert_array_equal(Xs2, Xs)
    np.testing.assert_array_equal(Xt2, Xt)
    np.testing.assert_array_equal(ys2, ys)
    _, y_reg, _ = source_target_merge(Xs, Xt, rng.normal(size=5))
    assert np.isnan(y_reg[5:]).all()
    with pytest.raises(ValueError, match="feature space"):
        source_target_merge(Xs, Xt[:, :2], ys)
    masked = mask_target_labels(np.r_[ys, [1, 0, 1, 0]], sd)
    assert masked[5:].tolist() == [-1] * 4


def test_routing_delivers_explicit_domain_codes():
    """Codes that cannot be inferred from y prove sample_domain was routed."""
    X, y, sd = make_domain_shift(60, 60, random_state=0, mask_target=True)
    sd = np.where(sd > 0, 3, -5)
    with config_context(enable_metadata_routing=True):
        pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
        pipe.fit(X, y, sample_domain=sd)
        assert pipe.named_steps["coral"].domains_.tolist() == [-5, 3]
        search = GridSearchCV(
            pipe, {"coral__reg": [0.5, 1.0]},
            cv=SourceTargetShuffleSplit(n_splits=2, random_state=0),
            scoring=PredictionEntropyScorer(),
        ).fit(X, y, sample_domain=sd)
    assert search.best_estimator_.named_steps["coral"].domains_.tolist() == [-5, 3]
    # without routing, the step-prefixed fit parameter does the same
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    pipe.fit(X, y, coral__sample_domain=sd)
    assert pipe.named_steps["coral"].domains_.tolist() == [-5, 3]


def test_plain_classifier_sees_no_masked_rows():
    X, y, sd = make_domain_shift(50, 50, random_state=0, mask_target=True)
    pipe = Pipeline([("scale", StandardScaler()), ("coral", CORAL()),
                     ("clf", LabelledOnly(LogisticRegression()))]).fit(X, y)
    assert pipe.classes_.tolist() == [0, 1]
    assert pipe.named_steps["clf"].estimator_.coef_.shape == (1, 2)
    auto = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    assert isinstance(auto.steps[-1][1], LabelledOnly)
    # DA estimators are left unwrapped
    assert isinstance(make_da_pipeline(FEDA(Ridge())).steps[-1][1], FEDA)


def test_labelled_only_regression_and_errors():
    X = np.arange(10.0).reshape(5, 2)
    reg = LabelledOnly(Ridge()).fit(X, [1.0, 2.0, np.nan, 4.0, -1.0])
    assert reg.n_features_in_ == 2  # -1 is a value in regression, NaN the mask
    with pytest.raises(ValueError, match="every label is masked"):
        LabelledOnly(LogisticRegression()).fit(X, [-1] * 5)


def test_predict_needs_no_domain_and_checks_codes():
    X, y, sd = make_domain_shift(80, 80, random_state=0)
    y_train = mask_target_labels(y, sd)
    tgt = np.flatnonzero(sd < 0)
    y_train[tgt[:10]] = y[tgt[:10]]
    clf = FEDA(LogisticRegression()).fit(X, y_train, sample_domain=sd)
    np.testing.assert_array_equal(clf.predict(X[tgt]),
                                  clf.predict(X[tgt], sample_domain=sd[tgt]))
    with pytest.raises(ValueError, match="Unknown domain codes"):
        clf.predict(X[:3], sample_domain=[7, 7, 7])
    coral = CORAL().fit(X, y_train, sample_domain=sd)
    with pytest.raises(ValueError, match="Unknown domain codes"):
        coral.transform(X[:3], sample_domain=[4, 4, 4])
    with pytest.raises(ValueError, match="expecting 2 features"):
        coral.transform(X[:3, :1])


def test_reweighter_without_estimator_only_weights():
    X, y, sd = make_domain_shift(60, 40, random_state=0, mask_target=True)
    rw = DiscriminativeReweighter().fit(X, sample_domain=sd)
    assert rw.weights_.shape == (60,) and np.isclose(rw.weights_.mean(), 1.0)
    assert not hasattr(rw, "predict")


def test_reweighting_helps_on_covariate_shift():
    """The reference reweighter beats no adaptation where its assumption holds."""
    gains = []
    for seed in range(3):
        X, y, sd = make_domain_shift(300, 300, shift="covariate", random_state=seed)
        ym, t = mask_target_labels(y, sd), sd < 0
        base = LogisticRegression().fit(X[~t], y[~t]).score(X[t], y[t])
        rw = DiscriminativeReweighter(LogisticRegression()).fit(X, ym, sample_domain=sd)
        gains.append(rw.score(X[t], y[t]) - base)
    assert np.mean(gains) > 0.05, gains


def test_supervised_scorer_needs_domains():
    X, y, sd = make_domain_shift(30, 30, random_state=0)
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="metadata routing"):
        SupervisedScorer()(clf, X, y)
    assert 0 <= SupervisedScorer()(clf, X, y, sample_domain=sd) <= 1


def test_splitter_keeps_every_domain():
    sd = np.r_[[1] * 30, [2] * 20, [-3] * 10]
    cv = SourceTargetShuffleSplit(n_splits=3, test_size=0.2, random_state=0)
    for train, test in cv.split(np.zeros((60, 1)), groups=sd):
        assert set(sd[train]) == set(sd[test]) == {1, 2, -3}
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 60
    with pytest.raises(ValueError, match="needs the domains"):
        next(cv.split(np.zeros((4, 1))))


def test_import_is_light():
    code = ("import sys, time; t = time.perf_counter(); import sktl; "
            "dt = time.perf_counter() - t; "
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith(('torch', 'sklearn')))[:5]; "
            "print(dt)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 0.5


@parametrize_with_checks(
    [LabelledOnly(LogisticRegression()), LabelledOnly(Ridge())],
    expected_failed_checks=lambda est: {
        "check_classifiers_classes": "y = -1 marks an unlabelled row (skada's convention); "
        "labels {-1, 1} are refused with a message naming LabelEncoder"
    } if is_classifier(est) else {},
)
def test_labelled_only_estimator_checks(estimator, check):
    check(estimator)
