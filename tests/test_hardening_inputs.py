"""Inputs that used to be accepted silently (issue #16), for every registry entry.

Each case is either a clear ValueError naming the problem, or scikit-learn's
documented behaviour (a classifier given one class raises an error that
mentions "class" or predicts that class).
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from test_common import make_data, output

from registry import REGISTRY
from sktl import KMM, LabelledOnly
from sktl.utils import check_label_convention, check_y_domain, source_target_merge

CASES = [(e, t) for e in REGISTRY for t in e.tasks]
IDS = [f"{e.name}-{t}" for e, t in CASES]
CLASSIFIERS = [(e, t) for e, t in CASES if t == "classification"]
CLF_IDS = [f"{e.name}-{t}" for e, t in CLASSIFIERS]


@pytest.mark.parametrize("entry, task", CASES, ids=IDS)
def test_empty_x_and_no_source_rows(entry, task):
    X, y, sd, _, _ = make_data(task, entry.needs_target_labels, n=30, n_new=10)
    est = entry.make(task)
    with pytest.raises(ValueError, match="feature"):
        clone(est).fit(X[:, :0], y, sample_domain=sd)
    with pytest.raises(ValueError, match="sample|row"):
        clone(est).fit(X[:0], y[:0], sample_domain=sd[:0])
    with pytest.raises(ValueError, match="No source rows"):
        clone(est).fit(X, y, sample_domain=-np.abs(sd))


def _plus_minus_one(y):
    """The user's labels are {-1, +1}: class 0 became -1 on every labelled row."""
    return np.where(y == 0, -1, y)


@pytest.mark.parametrize("entry, task", CLASSIFIERS, ids=CLF_IDS)
def test_minus_one_as_a_class_is_refused(entry, task):
    X, y, sd, _, _ = make_data(task, entry.needs_target_labels)
    y_pm = _plus_minus_one(y)
    est = entry.make(task)
    # source rows carrying -1 next to labelled source rows: the trap
    with pytest.raises(ValueError, match="LabelEncoder"):
        clone(est).fit(X, y_pm, sample_domain=sd)
    # transformers that learn from the source labels refuse them like estimators do
    unsupervised = entry.kind == "transformer" and entry.name not in (
        "JDA", "ClassRegularizedOTMapping", "TSL")
    if unsupervised:
        # the labels are not used, only the domains, and float labels may be
        # regression targets: the classifier after it in a pipeline refuses them
        clone(est).fit(X, y_pm.astype(float), sample_domain=sd)
    elif not entry.needs_target_labels:
        # no sample_domain: -1 is the documented mask and the labelled rows hold one class
        with pytest.raises(ValueError, match="single class.*LabelEncoder"):
            clone(est).fit(X, y_pm)


@pytest.mark.parametrize("entry, task", [c for c in CLASSIFIERS if c[0].kind != "transformer"],
                         ids=[i for c, i in zip(CLASSIFIERS, CLF_IDS)
                              if c[0].kind != "transformer"])
def test_single_class_source_follows_sklearn(entry, task):
    """One class among the labelled rows: an error naming classes, or that class predicted."""
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    y = np.where(y == -1, -1, 0)
    try:
        fitted = clone(entry.make(task)).fit(X, y, sample_domain=sd)
    except ValueError as exc:
        assert "class" in str(exc)
        return
    np.testing.assert_array_equal(output(fitted, X_new), 0)


def test_check_label_convention_tells_mask_from_class():
    sd = np.array([1, 1, 1, -2, -2])
    check_label_convention(np.array([0, 1, 1, -1, -1]), sd, task="classification")
    check_label_convention(np.array([-1, -1, -1, -1, -1]), sd, task="auto")  # unsupervised
    check_label_convention(np.array([-1.0, 1.0, 2.0, 3.0, np.nan]), sd, task="regression")
    # an unlabelled source is fine for an unsupervised transformer's float labels
    check_label_convention(np.array([-1.0, 1.0, 1.0, -1, -1]), sd, task="auto")
    with pytest.raises(ValueError, match="1 source rows .* carry y = -1.*LabelEncoder"):
        check_label_convention(np.array([-1, 1, 1, -1, -1]), sd, task="auto")
    with pytest.raises(ValueError, match="LabelEncoder"):
        check_label_convention(np.array(["-1", "1", "1", -1, -1], dtype=object), sd,
                               task="classification")
    with pytest.raises(ValueError, match="single class .*LabelEncoder"):
        check_label_convention(np.array([1, 1, -1, -1, -1]), None, task="classification")
    # no -1 at all: a single class is left to the estimator (scikit-learn's behaviour)
    check_label_convention(np.array([1, 1, 1]), None, task="classification")
    with pytest.raises(ValueError, match="LabelEncoder"):
        check_y_domain(np.array([-1, 1, 1, -1, -1]), sd, 5, task="classification")


def test_source_target_merge_refuses_minus_one_class():
    Xs, Xt = np.zeros((4, 2)), np.ones((3, 2))
    with pytest.raises(ValueError, match="LabelEncoder"):
        source_target_merge(Xs, Xt, [-1, 1, 1, -1])
    with pytest.raises(ValueError, match="LabelEncoder"):
        source_target_merge(Xs, Xt, [-1.0, 1.0, 1.0, -1.0])  # svmlight gives floats
    # regression targets may be -1
    _, y, _ = source_target_merge(Xs, Xt, [-1.0, 0.5, 2.0, 3.5])
    assert y[0] == -1.0 and np.isnan(y[-1])
    # masked target labels given explicitly are the mask, not a class
    _, y, sd = source_target_merge(Xs, Xt, [0, 1, 1, 0], [1, -1, -1])
    assert (y[sd < 0] == [1, -1, -1]).all()


def test_pipeline_with_plus_minus_one_labels_explains_the_fix():
    from sklearn.pipeline import Pipeline

    from sktl import CORAL

    X, y, sd, _, _ = make_data("classification", False)
    y_pm = _plus_minus_one(y).astype(float)  # as load_svmlight_file returns them
    pipe = Pipeline([("da", CORAL()), ("clf", LabelledOnly(LogisticRegression()))])
    with pytest.raises(ValueError, match="LabelEncoder"):
        pipe.fit(X, y_pm, da__sample_domain=sd)
    with pytest.raises(ValueError, match="LabelEncoder"):
        KMM(LogisticRegression()).fit(X, y_pm, sample_domain=sd)
    # the fix the message names works
    from sklearn.preprocessing import LabelEncoder

    src = sd > 0
    y_fixed = np.full(len(y), -1)
    y_fixed[src] = LabelEncoder().fit_transform(y_pm[src])
    pipe.fit(X, y_fixed, da__sample_domain=sd)
    assert pipe.classes_.tolist() == [0, 1]
