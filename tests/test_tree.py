"""Transfer trees and forests: SER, STRUT and MIX."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.tree import DecisionTreeClassifier

from sktl import TransferForestClassifier, TransferTreeClassifier
from sktl.datasets import make_domain_shift
from sktl.exceptions import DomainWarning


def shifted_stump(n=200, shift=2.0, n_labels=30, seed=0):
    """1-d: the source class changes at 0, the target's at ``shift``."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-4, 4, size=n)
    xt = rng.uniform(-4 + shift, 4 + shift, size=n)
    X = np.r_[xs, xt][:, None]
    y_true = np.r_[(xs > 0), (xt > shift)].astype(int)
    sd = np.r_[np.ones(n, int), -2 * np.ones(n, int)]
    y = y_true.copy()
    y[n + n_labels:] = -1
    return X, y, sd, y_true


@pytest.mark.parametrize("cls, source", [
    (TransferTreeClassifier, DecisionTreeClassifier(max_depth=4, random_state=0)),
    (TransferForestClassifier, RandomForestClassifier(n_estimators=5, random_state=0)),
])
@pytest.mark.parametrize("algo", ["ser", "strut", "mix"])
def test_without_target_labels_the_source_trees_are_kept(cls, source, algo):
    X, y, sd = make_domain_shift(150, 100, shift="conditional", n_features=3,
                                 random_state=0)
    source.fit(X[sd > 0], y[sd > 0])
    y = np.where(sd < 0, -1, y)
    with pytest.warns(DomainWarning, match="no labelled target rows"):
        est = cls(FrozenEstimator(source), algo=algo).fit(X, y, sample_domain=sd)
    X_new = np.random.default_rng(1).normal(size=(300, 3)) * 3
    np.testing.assert_allclose(est.predict_proba(X_new), source.predict_proba(X_new))
    np.testing.assert_array_equal(est.predict(X_new), source.predict(X_new))


def test_strut_moves_the_threshold_to_the_target():
    X, y, sd, y_true = shifted_stump(shift=2.0)
    source = DecisionTreeClassifier(max_depth=1).fit(X[sd > 0], y[sd > 0])
    clf = TransferTreeClassifier(FrozenEstimator(source), algo="strut").fit(
        X, y, sample_domain=sd)
    tree = clf.trees_[0]
    assert tree.node_count == 3 and tree.feature[0] == 0
    assert abs(source.tree_.threshold[0]) < 0.3
    assert 1.5 < tree.threshold[0] < 2.5
    test = sd < 0
    assert np.mean(clf.predict(X[test]) == y_true[test]) > 0.95


def test_strut_swaps_children_when_the_classes_swap():
    """Target = source with the classes on the other side: STRUT swaps the children."""
    X, y, sd, y_true = shifted_stump(shift=0.0)
    y_true = np.where(sd < 0, 1 - y_true, y_true)
    y = np.where(y == -1, -1, y_true)
    source = DecisionTreeClassifier(max_depth=1).fit(X[sd > 0], y[sd > 0])
    clf = TransferTreeClassifier(FrozenEstimator(source), algo="strut").fit(
        X, y, sample_domain=sd)
    assert np.mean(clf.predict(X[sd < 0]) == y_true[sd < 0]) > 0.95


def test_ser_expands_leaves_and_reduces_wrong_subtrees():
    X, y, sd, y_true = shifted_stump(shift=2.0)
    source = DecisionTreeClassifier(max_depth=1).fit(X[sd > 0], y[sd > 0])
    clf = TransferTreeClassifier(FrozenEstimator(source), algo="ser", random_state=0).fit(
        X, y, sample_domain=sd)
    # the right leaf holds both target classes: it is expanded around 2
    assert clf.trees_[0].node_count > 3
    assert np.mean(clf.predict(X[sd < 0]) == y_true[sd < 0]) > 0.95
    # a subtree the target rows contradict everywhere is reduced to a leaf
    X2 = np.r_[X[sd > 0], X[sd > 0]]
    y2 = np.r_[y_true[sd > 0], np.zeros(int((sd > 0).sum()), int)]
    sd2 = np.r_[np.ones(int((sd > 0).sum()), int), -2 * np.ones(int((sd > 0).sum()), int)]
    y2[0] = 0 if y2[0] else 1  # keep two classes among the source labels
    reduced = TransferTreeClassifier(FrozenEstimator(source), algo="ser").fit(
        X2, y2, sample_domain=sd2)
    assert reduced.trees_[0].node_count == 1
    assert np.all(reduced.predict(X2) == 0)


def test_a_target_class_the_source_never_saw():
    X, y, sd, y_true = shifted_stump(shift=0.0, n_labels=60)
    y = y.copy()
    new = (sd < 0) & (X[:, 0] > 3) & (y != -1)
    y[new] = 9
    for algo in ("ser", "strut"):
        clf = TransferTreeClassifier(algo=algo, random_state=0).fit(X, y, sample_domain=sd)
        assert clf.classes_.tolist() == [0, 1, 9]
        assert clf.predict_proba(X[:3]).shape == (3, 3)
        # STRUT keeps the source's one split, so the new class only gets a share
        # of a leaf; SER grows the split that isolates it
        assert np.all(clf.predict_proba(X[new])[:, 2] > 0)
        if algo == "ser":
            assert np.mean(clf.predict(X[new]) == 9) > 0.5


def test_forest_refines_every_tree_and_mix_doubles_them():
    X, y, sd = make_domain_shift(150, 100, shift="conditional", n_features=3,
                                 random_state=0)
    y = np.where((sd < 0) & (np.arange(len(y)) % 5 != 0), -1, y)
    forest = RandomForestClassifier(n_estimators=7)
    for algo, n_trees in (("ser", 7), ("strut", 7), ("mix", 14)):
        est = TransferForestClassifier(forest, algo=algo, random_state=0).fit(
            X, y, sample_domain=sd)
        assert len(est.trees_) == n_trees
        assert est.apply(X[:4]).shape == (4, n_trees)
    a = TransferForestClassifier(forest, algo="ser", random_state=3).fit(X, y, sample_domain=sd)
    b = TransferForestClassifier(forest, algo="ser", random_state=3).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_source_model_without_trees():
    X, y, sd, _ = shifted_stump()
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="decision trees"):
        TransferTreeClassifier(LogisticRegression()).fit(X, y, sample_domain=sd)


def test_forest_gains_over_target_only_with_few_labels():
    """Label shift with 3 classes, 10 target labels: refining the source forest wins."""
    gains = []
    for seed in range(3):
        X, y_true, sd = make_domain_shift(300, 300, shift="label", n_classes=3, n_features=5,
                                          noise=0.3, shift_strength=1.5, random_state=seed)
        tgt = np.flatnonzero(sd < 0)
        lab = np.random.default_rng(seed).choice(tgt, 10, replace=False)
        test = np.setdiff1d(tgt, lab)
        y = np.where(sd < 0, -1, y_true)
        y[lab] = y_true[lab]
        rf = RandomForestClassifier(n_estimators=20, random_state=0)
        transfer = TransferForestClassifier(rf, algo="ser", random_state=0).fit(
            X, y, sample_domain=sd)
        target_only = RandomForestClassifier(n_estimators=20, random_state=0).fit(
            X[lab], y[lab])
        gains.append(np.mean(transfer.predict(X[test]) == y_true[test])
                     - np.mean(target_only.predict(X[test]) == y_true[test]))
    assert np.mean(gains) > 0.01, gains


def test_keep_unreached_keeps_the_source_where_one_target_class_says_nothing():
    """Target rows of one class only: the paper collapses the tree, sktl keeps it."""
    X, y, sd = make_domain_shift(200, 100, shift="label", n_classes=3, n_features=3,
                                 random_state=0)
    source = DecisionTreeClassifier(random_state=0).fit(X[sd > 0], y[sd > 0])
    y_few = np.where(sd < 0, -1, y)
    first = np.flatnonzero((sd < 0) & (y == 0))[:5]
    y_few[first] = 0
    for algo in ("ser", "strut"):
        paper = TransferTreeClassifier(FrozenEstimator(source), algo=algo,
                                       keep_unreached=False).fit(X, y_few, sample_domain=sd)
        assert paper.trees_[0].node_count == 1
        assert np.all(paper.predict(X) == 0)
        kept = TransferTreeClassifier(FrozenEstimator(source), algo=algo).fit(
            X, y_few, sample_domain=sd)
        assert kept.trees_[0].node_count == source.tree_.node_count
        assert len(np.unique(kept.predict(X))) == 3
        np.testing.assert_array_equal(kept.predict(X[first]), 0)
