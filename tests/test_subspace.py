"""TJM, TSL and DASVM: the solvers solve their problems, and the methods adapt."""

import numpy as np
import pytest
from scipy import linalg
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC

from sktl import TCA, TJM, TSL, DASVMClassifier
from sktl._feature import _dual_top, _mmd_vectors
from sktl.datasets import make_domain_shift
from sktl.utils import mask_target_labels


def test_weighted_dual_solver_matches_a_dense_generalised_eigensolve():
    X, y, sd = make_domain_shift(80, 80, n_features=3, random_state=0)
    K = rbf_kernel(X, gamma=0.3)
    V = _mmd_vectors(sd)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    n = len(X)
    H = np.eye(n) - 1.0 / n
    B = K @ V @ V.T @ K + 0.5 * np.diag(w)
    ref_vals, ref = linalg.eigh(K @ H @ K, B, subset_by_index=[n - 3, n - 1])
    vals, W = _dual_top(K, V, 0.5, 3, np.random.RandomState(0), weights=w)
    np.testing.assert_allclose(vals, ref_vals[::-1], rtol=1e-6)
    np.testing.assert_allclose(W.T @ B @ W, np.eye(3), atol=1e-6)
    assert np.max(linalg.subspace_angles(W, ref)) < 1e-4


def test_tjm_with_one_iteration_is_tca_in_the_dual():
    X, y, sd = make_domain_shift(60, 60, n_features=3, random_state=1)
    ym = mask_target_labels(y, sd)
    tca = TCA(2, kernel="rbf", mu=1.0, random_state=0).fit(X, ym, sample_domain=sd)
    tjm = TJM(2, kernel="rbf", mu=1.0, n_iter=1, random_state=0).fit(X, ym, sample_domain=sd)
    np.testing.assert_allclose(tjm.eigenvalues_, tca.eigenvalues_, rtol=1e-6)
    assert tjm.mode_ == "dual"  # the linear kernel too: the penalty acts on training rows
    lin = TJM(2, random_state=0).fit(X, ym, sample_domain=sd)
    assert lin.mode_ == "dual" and lin.components_.shape == (len(X), 2)


def test_tjm_down_weights_source_rows_unlike_the_target():
    rng = np.random.default_rng(0)
    Xs = np.r_[rng.normal(size=(80, 2)), rng.normal(size=(20, 2)) + [8, 8]]  # 20 outliers
    Xt = rng.normal(size=(100, 2)) + [0.5, 0]
    X = np.r_[Xs, Xt]
    sd = np.r_[np.ones(100, int), -np.ones(100, int)]
    tjm = TJM(2, kernel="rbf", gamma=0.5, mu=1.0, random_state=0).fit(X, sample_domain=sd)
    w = tjm.row_weights_
    assert w[80:100].mean() < 0.5 * w[:80].mean()
    np.testing.assert_array_equal(w[100:], 1.0)


def _tsl_data(seed=0, n=150):
    """Feature 0 separates the classes in both domains; feature 1 only in the source."""
    rng = np.random.default_rng(seed)
    y = np.arange(2 * n) % 2
    s = 2 * y - 1
    Xs = np.c_[1.0 * s + rng.normal(size=2 * n), 2.0 * s + rng.normal(scale=0.5, size=2 * n)]
    yt = rng.permutation(y)
    st = 2 * yt - 1
    Xt = np.c_[1.0 * st + rng.normal(size=2 * n), 3.0 + rng.normal(scale=0.5, size=2 * n)]
    X = np.r_[Xs, Xt]
    sd = np.r_[np.ones(2 * n, int), -np.ones(2 * n, int)]
    return X, np.r_[y, -np.ones(2 * n, int)], sd, np.r_[y, yt]


def test_tsl_trades_source_discrimination_for_a_domain_invariant_direction():
    X, y, sd, y_true = _tsl_data()
    tgt = sd < 0
    plain = TSL(1, mu=0.0).fit(X, y, sample_domain=sd)
    tsl = TSL(1, mu=10.0).fit(X, y, sample_domain=sd)
    # the Fisher direction leans on the shifted feature; the regularised one does not
    assert abs(plain.components_[1, 0]) > 0.7
    assert abs(tsl.components_[1, 0]) < 0.3
    assert np.all(np.diff(tsl.objective_) <= 1e-12)  # a descent method
    np.testing.assert_allclose(tsl.components_.T @ tsl.components_, 1.0)

    def acc(model):
        Z = model.transform(X)
        return SVC().fit(Z[sd > 0], y[sd > 0]).score(Z[tgt], y_true[tgt])

    assert acc(tsl) > acc(plain) + 0.2


@pytest.mark.parametrize("base_method", ["flda", "pca", "lpp"])
def test_tsl_base_methods_give_orthonormal_projections(base_method):
    X, y, sd, _ = _tsl_data(n=60)
    W = TSL(2, base_method=base_method, max_iter=20).fit(X, y, sample_domain=sd).components_
    np.testing.assert_allclose(W.T @ W, np.eye(2), atol=1e-8)
    with pytest.raises(ValueError, match="exceeds the 2 features"):
        TSL(3).fit(X, y, sample_domain=sd)


def _dasvm_data(seed=0, n=150, n_classes=2):
    """Gaussian classes; the target is rotated by 50 degrees: a gradual shift."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, n_classes, endpoint=False) + np.pi / 2
    centres = 2.5 * np.c_[np.cos(angles), np.sin(angles)]
    y = np.arange(n) % n_classes
    Xs = centres[y] + rng.normal(scale=0.8, size=(n, 2))
    yt = rng.permutation(y)
    t = np.deg2rad(50)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    Xt = (centres[yt] + rng.normal(scale=0.8, size=(n, 2))) @ R.T
    X = np.r_[Xs, Xt]
    sd = np.r_[np.ones(n, int), -np.ones(n, int)]
    return X, np.r_[y, -np.ones(n, int)], sd, np.r_[y, yt]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_dasvm_follows_a_rotated_target(n_classes):
    X, y, sd, y_true = _dasvm_data(n_classes=n_classes)
    tgt = sd < 0
    base = SVC(kernel="linear").fit(X[sd > 0], y[sd > 0]).score(X[tgt], y_true[tgt])
    dasvm = DASVMClassifier(SVC(kernel="linear")).fit(X, y, sample_domain=sd)
    assert dasvm.score(X[tgt], y_true[tgt]) > base + 0.03
    assert dasvm.n_source_left_ < (sd > 0).sum()  # source rows were dropped
    labelled = dasvm.target_labels_ != -1
    assert labelled.any()  # semi-labels come from the margin band: uncertain rows
    assert np.mean(dasvm.target_labels_[labelled] == y_true[tgt][labelled]) > 0.5


def test_dasvm_multiclass_probabilities():
    from sklearn.linear_model import LogisticRegression

    X, y, sd, y_true = _dasvm_data(n_classes=3, n=90)
    dasvm = DASVMClassifier(LogisticRegression(), max_iter=5).fit(X, y, sample_domain=sd)
    P = dasvm.predict_proba(X[sd < 0])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(dasvm.classes_[P.argmax(axis=1)], dasvm.predict(X[sd < 0]))
