"""TCA, JDA, subspace alignment and CORAL: solutions, invariances, gains, errors."""

import numpy as np
import pytest
from scipy import linalg
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import KNeighborsClassifier

from sktl import CORAL, JDA, TCA, CORALEstimator, SubspaceAlignment
from sktl._feature import _mmd_vectors
from sktl.datasets import load_coil, make_domain_shift
from sktl.utils import mask_target_labels


def _data(n=120, d=4, seed=0):
    X, y, sd = make_domain_shift(n, n, shift="conditional", n_features=d, random_state=seed)
    return X, y, mask_target_labels(y, sd), sd


def _dense_reference(X, sd, k, mu, gamma):
    K = rbf_kernel(X, X, gamma=gamma)
    n = len(X)
    H = np.eye(n) - 1.0 / n
    e = _mmd_vectors(sd)
    B = K @ (e @ e.T) @ K + mu * np.eye(n)
    vals, W = linalg.eigh(K @ H @ K, B, subset_by_index=[n - k, n - 1])
    return vals[::-1], W[:, ::-1], K, B


@pytest.mark.parametrize("mu", [0.1, 1.0])
def test_tca_solves_the_generalised_eigenproblem(mu):
    X, _, ym, sd = _data()
    tca = TCA(n_components=3, kernel="rbf", gamma=0.25, mu=mu, random_state=0)
    tca.fit(X, ym, sample_domain=sd)
    vals, W_ref, K, B = _dense_reference(X, sd, 3, mu, 0.25)
    np.testing.assert_allclose(tca.eigenvalues_, vals, rtol=1e-6)
    W = tca.components_
    # the paper's constraint and optimality: W' B W = I, W' A W = diag(lambda)
    np.testing.assert_allclose(W.T @ B @ W, np.eye(3), atol=1e-6)
    # same subspace as the dense reference solve
    cos = linalg.subspace_angles(W, W_ref)
    assert np.max(cos) < 1e-4


def test_tca_embedding_reduces_mmd_and_is_out_of_sample_consistent():
    X, y, sd = make_domain_shift(150, 150, shift="covariate", n_features=4, random_state=1)
    ym = mask_target_labels(y, sd)
    tca = TCA(n_components=2, kernel="rbf", mu=0.1, random_state=0)
    Z = tca.fit_transform(X, ym, sample_domain=sd)
    np.testing.assert_allclose(tca.transform(X), Z, atol=1e-8)  # same map for both domains
    e = _mmd_vectors(sd)[:, 0]

    def mmd(F):
        return np.linalg.norm(F.T @ e) / np.linalg.norm(F)

    from sklearn.decomposition import KernelPCA

    kpca = KernelPCA(2, kernel="rbf", gamma=1 / X.shape[1]).fit_transform(X)
    assert mmd(Z) < 0.5 * mmd(kpca)


def test_linear_primal_and_landmark_modes():
    X, _, ym, sd = _data(n=300, d=6, seed=2)
    primal = TCA(n_components=3).fit(X, ym, sample_domain=sd)
    assert primal.mode_ == "primal" and primal.components_.shape == (6, 3)
    exact = TCA(n_components=3, kernel="rbf", mu=0.1, random_state=0).fit(X, ym, sample_domain=sd)
    approx = TCA(n_components=3, kernel="rbf", mu=0.1, n_landmarks=150, random_state=0)
    approx.fit(X, ym, sample_domain=sd)
    assert exact.mode_ == "dual" and approx.mode_ == "nystrom"
    # the landmark embedding serves a classifier about as well as the exact one
    y = make_domain_shift(300, 300, shift="conditional", n_features=6, random_state=2)[1]
    s, t = sd > 0, sd < 0

    def acc(Z):
        return LogisticRegression().fit(Z[s], y[s]).score(Z[t], y[t])

    assert abs(acc(exact.transform(X)) - acc(approx.transform(X))) < 0.05


def test_feature_methods_help_on_real_shift(data_home):
    """COIL1 -> COIL2, the JDA paper's protocol (1-NN, unit-norm rows, k=100, mu=0.1)."""
    X, y, sd = load_coil("coil1", "coil2", data_home=data_home)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    ym, s, t = mask_target_labels(y, sd), sd > 0, sd < 0

    def nn(Z):
        return KNeighborsClassifier(1).fit(Z[s], y[s]).score(Z[t], y[t])

    base = nn(X)
    tca = nn(TCA(100, mu=0.1).fit_transform(X, ym, sample_domain=sd))
    jda = nn(JDA(100, mu=0.1, n_iter=5).fit_transform(X, ym, sample_domain=sd))
    assert abs(base - 0.836) < 0.01  # the paper's 1-NN baseline, 83.6
    assert tca > base and jda > tca + 0.01, (base, tca, jda)


def test_jda_pseudo_labels_and_needs_labels():
    X, y, ym, sd = _data(n=150, seed=3)
    jda = JDA(n_components=2, kernel="rbf", n_iter=3, random_state=0).fit(X, ym, sample_domain=sd)
    assert jda.pseudo_labels_.shape == ((sd < 0).sum(),)
    assert np.mean(jda.pseudo_labels_.astype(int) == y[sd < 0]) > 0.7
    with pytest.raises(ValueError, match="labels"):
        JDA(n_components=2).fit(X, sample_domain=sd)


def test_subspace_alignment_and_coral_forms():
    X, y, ym, sd = _data(n=300, d=5, seed=4)
    sa = SubspaceAlignment(n_components=3).fit(X, ym, sample_domain=sd)
    np.testing.assert_allclose(sa.source_components_.T @ sa.source_components_, np.eye(3),
                               atol=1e-10)
    Z = sa.fit_transform(X, ym, sample_domain=sd)
    assert Z.shape == (600, 3)
    np.testing.assert_allclose(sa.transform(X[sd < 0]), Z[sd < 0])
    # the estimator form equals the pipeline form
    est = CORALEstimator(LogisticRegression(), reg=0.5).fit(X, ym, sample_domain=sd)
    Xa = CORAL(reg=0.5).fit_transform(X, ym, sample_domain=sd)
    ref = LogisticRegression().fit(Xa[sd > 0], y[sd > 0])
    np.testing.assert_allclose(est.predict_proba(X[sd < 0]), ref.predict_proba(X[sd < 0]))


def test_coral_matches_target_covariance():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(2000, 3)) @ np.diag([1.0, 2.0, 0.5])
    Xt = rng.normal(size=(2000, 3)) @ np.array([[1.0, 0.5, 0], [0, 1.0, 0], [0, 0, 3.0]])
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(2000, int), -2 * np.ones(2000, int)]
    Z = CORAL(reg=1e-6).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(np.cov(Z[sd > 0].T), np.cov(Xt.T), atol=0.05)
    np.testing.assert_array_equal(Z[sd < 0], Xt)  # target rows untouched


def test_coral_align_means_moves_the_source_onto_the_target_mean():
    rng = np.random.default_rng(1)
    Xs = rng.normal(size=(1000, 2)) @ np.diag([1.0, 2.0]) + [5.0, -1.0]
    Xt = rng.normal(size=(1000, 2)) @ np.array([[1.0, 0.5], [0, 1.0]]) + [-2.0, 3.0]
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(1000, int), -2 * np.ones(1000, int)]
    kept = CORAL(reg=1e-6).fit_transform(X, sample_domain=sd)
    moved = CORAL(reg=1e-6, align_means=True).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(kept[sd > 0].mean(axis=0), Xs.mean(axis=0), atol=1e-8)
    np.testing.assert_allclose(moved[sd > 0].mean(axis=0), Xt.mean(axis=0), atol=1e-8)
    # the same re-colouring: the two differ by one translation of the source rows
    np.testing.assert_allclose(moved[sd > 0] - kept[sd > 0],
                               np.tile(Xt.mean(axis=0) - Xs.mean(axis=0), (1000, 1)), atol=1e-8)
    np.testing.assert_array_equal(moved[sd < 0], Xt)
    est = CORALEstimator(LogisticRegression(), align_means=True).fit(X, np.r_[
        (Xs[:, 0] > 5).astype(int), -np.ones(1000, int)], sample_domain=sd)
    assert est.coral_.align_means


def test_clear_errors():
    X, _, ym, sd = _data(n=20, d=3)
    with pytest.raises(ValueError, match="n_components"):
        TCA(n_components=5).fit(X, ym, sample_domain=sd)
    with pytest.raises(ValueError, match="n_components"):
        TCA(n_components=50, kernel="rbf").fit(X, ym, sample_domain=sd)
    with pytest.raises(ValueError, match="kernel"):
        TCA(kernel="nope").fit(X, ym, sample_domain=sd)
    with pytest.raises(ValueError, match="mu"):
        TCA(mu=0).fit(X, ym, sample_domain=sd)
    with pytest.raises(ValueError, match="n_components"):
        SubspaceAlignment(n_components=4).fit(X, ym, sample_domain=sd)
    with pytest.raises(ValueError, match="n_landmarks"):
        TCA(n_components=2, kernel="rbf", max_dense_memory=1e-9).fit(X, ym, sample_domain=sd)


def test_jda_solves_the_papers_problem_for_its_final_pseudo_labels():
    """Primal JDA with the authors' normalisation, rebuilt densely from Long et al. (2013).

    ``M = C e0 e0' + sum_c e_c e_c'`` divided by its Frobenius norm; the components are the
    top solutions of ``X' H X w = lambda (X' M X + mu I) w`` for the last pseudo-labels.
    """
    X, y, ym, sd = _data(n=200, d=6, seed=5)
    jda = JDA(n_components=3, mu=0.5, normalize_mmd=True, n_iter=4).fit(X, ym, sample_domain=sd)
    assert jda.mode_ == "primal"
    src, tgt, n = sd > 0, sd < 0, len(X)
    pseudo = np.empty(n, dtype=object)
    pseudo[src], pseudo[tgt] = y[src], jda.pseudo_labels_
    classes = np.unique(y[src])
    e0 = src / src.sum() - tgt / tgt.sum()
    M = len(classes) * np.outer(e0, e0)
    for c in classes:
        s, t = src & (pseudo == c), tgt & (pseudo == c)
        e = s / s.sum() - t / t.sum()
        M += np.outer(e, e)
    M /= np.linalg.norm(M)
    H = np.eye(n) - 1.0 / n
    _, W = linalg.eigh(X.T @ H @ X, X.T @ M @ X + 0.5 * np.eye(6), subset_by_index=[3, 5])
    assert np.max(linalg.subspace_angles(jda.components_, W)) < 1e-6


def test_fit_transform_reuses_the_kernel_without_leaving_state():
    X, _, ym, sd = _data(n=400, d=5, seed=6)  # 800 rows: the Lanczos (dual) path
    tca = TCA(n_components=4, kernel="rbf", mu=0.5, random_state=0)
    Z = tca.fit_transform(X, ym, sample_domain=sd)
    assert tca.mode_ == "dual" and "_train_Z" not in vars(tca)
    np.testing.assert_allclose(Z, tca.transform(X), atol=1e-10)
    assert "_train_Z" not in vars(TCA(4, kernel="rbf", random_state=0).fit(X, ym, sample_domain=sd))
    jda = JDA(n_components=4, kernel="rbf", n_iter=2, random_state=0)
    np.testing.assert_allclose(jda.fit_transform(X, ym, sample_domain=sd), jda.transform(X),
                               atol=1e-10)


def test_verbose_reports_each_stage_and_jda_iterations(capsys):
    X, y, sd = make_domain_shift(150, 150, n_features=5, random_state=0, mask_target=True)
    quiet = TCA(3, kernel="rbf", random_state=0).fit_transform(X, y, sample_domain=sd)
    assert capsys.readouterr().out == ""
    loud = TCA(3, kernel="rbf", random_state=0, verbose=1).fit_transform(X, y, sample_domain=sd)
    out = capsys.readouterr().out
    assert "[TCA] dual mode: the 300 x 300 kernel" in out and "eigenproblem" in out
    np.testing.assert_allclose(loud, quiet)  # printing changes nothing
    TCA(3, kernel="rbf", n_landmarks=40, random_state=0, verbose=1).fit(X, y, sample_domain=sd)
    assert "[TCA] nystrom mode: one pass over 300 rows and the 40 x 40" in capsys.readouterr().out
    JDA(3, n_iter=3, verbose=1).fit(X, y, sample_domain=sd)
    out = capsys.readouterr().out
    assert "[JDA] iteration 3/3:" in out and "pseudo-labels changed" in out
