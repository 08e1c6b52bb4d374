"""Shared tests every public sktl estimator must pass (driven by ``registry.py``).

They encode the foundation's user stories: a DA step inside a plain
``sklearn.pipeline.Pipeline``, ``GridSearchCV``/``cross_val_score`` with a
domain-aware splitter and a scorer that needs no target labels (and with a few
target labels), clone/pickle/``random_state``, scikit-learn's estimator checks,
and clear errors on bad input.
"""

import pickle

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from registry import REGISTRY
from sktl import LabelledOnly
from sktl.datasets import make_domain_shift
from sktl.metrics import PredictionEntropyScorer, SupervisedScorer
from sktl.model_selection import SourceTargetShuffleSplit
from sktl.utils import mask_target_labels

CASES = [(e, task) for e in REGISTRY for task in e.tasks]
CASE_IDS = [f"{e.name}-{task}" for e, task in CASES]
N_TARGET_LABELS = 12


def make_data(task, needs_target_labels, seed=0, n=80, n_new=60):
    """Labelled source + (mostly) unlabelled target rows, and new target rows."""
    X, y_true, sd = make_domain_shift(
        n, n + n_new, shift="conditional", task=task, n_features=3, random_state=seed
    )
    new = np.flatnonzero(sd < 0)[n:]
    keep = np.setdiff1d(np.arange(len(sd)), new)
    X_new, y_new = X[new], y_true[new]
    X, y_true, sd = X[keep], y_true[keep], sd[keep]
    y = mask_target_labels(y_true, sd, task=task)
    if needs_target_labels:
        tgt = np.flatnonzero(sd < 0)
        if task == "classification":  # a few labelled target rows of every class
            pick = np.concatenate(
                [tgt[y_true[tgt] == c][: N_TARGET_LABELS // 2] for c in np.unique(y_true)]
            )
        else:
            pick = tgt[:N_TARGET_LABELS]
        y[pick] = y_true[pick]
    return X, y, sd, X_new, y_new


def final_estimator(task):
    return LogisticRegression() if task == "classification" else Ridge()


def make_pipeline(entry, task):
    """A plain scikit-learn Pipeline around the estimator under test."""
    est = entry.make(task)
    if entry.kind == "transformer":
        steps = [("scale", StandardScaler()), ("da", est),
                 ("clf", LabelledOnly(final_estimator(task)))]
    else:
        steps = [("scale", StandardScaler()), ("da", est)]
    return Pipeline(steps)


def output(fitted, X):
    return fitted.predict(X) if hasattr(fitted, "predict") else fitted.transform(X)


def _instances():
    return [(entry.make(task), entry) for entry, task in CASES if entry.sklearn_checks]


_CHECK_PAIRS = _instances()


# The one conflict every DA classifier shares with scikit-learn's checks.
MASK_CONFLICT = {
    "check_classifiers_classes": (
        "the check trains on the labels {-1, 1}; in the sample_domain convention "
        "(skada's) y = -1 marks an unlabelled row, so the labelled rows hold one class "
        "and fit refuses them with a message naming LabelEncoder (check_label_convention)"
    ),
}


def _expected_failed(estimator):
    failed = dict(MASK_CONFLICT) if is_classifier(estimator) else {}
    for est, entry in _CHECK_PAIRS:
        if est is estimator:
            failed.update(entry.expected_failed_checks)
    return failed


@parametrize_with_checks([est for est, _ in _CHECK_PAIRS],
                         expected_failed_checks=_expected_failed)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("how", ["fit_param", "routing", "inferred"])
def test_pipeline_story(entry, task, how):
    """Fit on labelled source + unlabelled target rows, predict new target rows."""
    if how == "inferred" and entry.needs_target_labels:
        pytest.skip("labelled target rows cannot be inferred from y")
    X, y, sd, X_new, y_new = make_data(task, entry.needs_target_labels)
    pipe = make_pipeline(entry, task)
    if how == "fit_param":
        pipe.fit(X, y, da__sample_domain=sd)
    elif how == "routing":
        with config_context(enable_metadata_routing=True):
            pipe.fit(X, y, sample_domain=sd)
    else:
        pipe.fit(X, y)
    pred = pipe.predict(X_new)
    assert pred.shape == (len(X_new),)
    if task == "classification":
        classes = pipe.classes_
        assert -1 not in classes, "the final estimator learnt the mask -1 as a class"
        assert set(np.unique(pred)) <= set(np.unique(y_new))
        assert np.mean(pred == y_new) > 0.5
    else:
        assert np.all(np.isfinite(pred))


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
def test_grid_search_without_target_labels(entry, task):
    """GridSearchCV + domain splitter + label-free scorer, routing on and off."""
    if task != "classification" or entry.needs_target_labels:
        pytest.skip("prediction entropy needs an unsupervised classifier")
    X, y, sd, _, _ = make_data(task, False)
    grid = {f"da__{k}": v for k, v in entry.param_grid(task).items()}
    cv = SourceTargetShuffleSplit(n_splits=2, test_size=0.3, random_state=0)
    # without metadata routing: the splitter reads groups, the scorer and the
    # estimator infer target rows from the masked labels
    search = GridSearchCV(make_pipeline(entry, task), grid, cv=cv,
                          scoring=PredictionEntropyScorer())
    search.fit(X, y, groups=sd)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # with routing: sample_domain reaches the splitter, the steps and the scorer
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(make_pipeline(entry, task), grid, cv=cv,
                              scoring=PredictionEntropyScorer())
        search.fit(X, y, sample_domain=sd)
        scores = cross_val_score(make_pipeline(entry, task), X, y, cv=cv,
                                 scoring=PredictionEntropyScorer(),
                                 params={"sample_domain": sd})
    assert np.all(search.cv_results_["mean_test_score"] <= 0)
    assert scores.shape == (2,)


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
def test_grid_search_with_few_target_labels(entry, task):
    """With a few target labels, tune on them (SupervisedScorer, routing on)."""
    X, y, sd, _, _ = make_data(task, True)
    grid = {f"da__{k}": v for k, v in entry.param_grid(task).items()}
    cv = SourceTargetShuffleSplit(n_splits=2, test_size=0.5, random_state=0)
    scoring = "accuracy" if task == "classification" else "r2"
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(make_pipeline(entry, task), grid, cv=cv,
                              scoring=SupervisedScorer(scoring))
        search.fit(X, y, sample_domain=sd)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert hasattr(search.best_estimator_, "predict")


def test_grid_search_parallel_workers():
    """Estimators, splitter and scorer pickle to worker processes (n_jobs=2)."""
    from sktl import CORAL

    X, y, sd, _, _ = make_data("classification", False)
    pipe = Pipeline([("scale", StandardScaler()), ("da", CORAL()),
                     ("clf", LabelledOnly(LogisticRegression()))])
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(pipe, {"da__reg": [0.1, 1.0]}, n_jobs=2,
                              cv=SourceTargetShuffleSplit(n_splits=2, random_state=0),
                              scoring=PredictionEntropyScorer())
        search.fit(X, y, sample_domain=sd)
    assert len(search.cv_results_["mean_test_score"]) == 2


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
def test_clone_params_and_pickle(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    est = entry.make(task)
    params = est.get_params()
    cloned = clone(est)
    assert cloned.get_params().keys() == params.keys()
    est.set_params(**{k: v for k, v in est.get_params(deep=False).items()})
    est.fit(X, y, sample_domain=sd)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(output(est, X_new), output(restored, X_new))


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
def test_random_state_reproducible(entry, task):
    est = entry.make(task)
    if "random_state" not in est.get_params():
        pytest.skip("deterministic estimator")
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    a = clone(est).set_params(random_state=0).fit(X, y, sample_domain=sd)
    b = clone(est).set_params(random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(output(a, X_new), output(b, X_new))


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
def test_inputs_not_modified(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    copies = [a.copy() for a in (X, y, sd, X_new)]
    est = entry.make(task).fit(X, y, sample_domain=sd)
    output(est, X_new)
    for before, after in zip(copies, (X, y, sd, X_new)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("entry, task", CASES, ids=CASE_IDS)
def test_bad_input_errors(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    est = entry.make(task)
    with pytest.raises(ValueError, match="sample_domain has"):
        clone(est).fit(X, y, sample_domain=sd[:-1])
    with pytest.raises(ValueError, match="y has"):
        clone(est).fit(X, y[:-1], sample_domain=sd)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(est).fit(bad, y, sample_domain=sd)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clone(est).fit(bad, y, sample_domain=sd)
    with pytest.raises(ValueError, match="0"):
        clone(est).fit(X, y, sample_domain=np.where(sd > 0, 0, sd))
    with pytest.raises(ValueError, match="No target rows"):
        clone(est).fit(X, y, sample_domain=np.abs(sd))
    with pytest.raises(TypeError, match="integer domain codes"):
        clone(est).fit(X, y, sample_domain=np.array(["s"] * len(X)))
    if entry.kind != "transformer":
        unlabelled = mask_target_labels(y, -np.abs(sd) + 0, task=task)
        with pytest.raises(ValueError, match="labelled"):
            clone(est).fit(X, np.where(sd > 0, unlabelled, y), sample_domain=sd)
    fitted = clone(est).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="features"):
        output(fitted, X_new[:, :2])
