"""The block backend (in-memory side), TCA's block eigensolver, KMM's working set."""

import warnings

import numpy as np
import pytest
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel

from sktl import KMM, TCA
from sktl._feature import _mmd_vectors
from sktl.datasets import make_domain_shift
from sktl.utils._blocks import NumpyRows, domain_moments
from sktl.utils._linalg import block_krylov_top, kernel_krylov_top


def test_block_reductions_match_whole_array_statistics():
    rng = np.random.default_rng(0)
    X = rng.normal(1e3, 2.0, size=(1000, 4))  # far from zero: the shifted sums stay exact
    sd = np.where(rng.random(1000) < 0.3, -2, 1)
    rows = NumpyRows(X, sd, block_rows=64)
    (n_s, mean_s, cov_s), (n_t, _, cov_t) = domain_moments(rows)
    assert n_s == (sd > 0).sum() and n_t == (sd < 0).sum()
    np.testing.assert_allclose(mean_s, X[sd > 0].mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov_s, np.cov(X[sd > 0].T, bias=True), rtol=1e-9)
    np.testing.assert_allclose(cov_t, np.cov(X[sd < 0].T, bias=True), rtol=1e-9)
    keys, scores, top = rows.topk(lambda B: B[:, 0], 5)
    best = np.argsort(-X[:, 0])[:5]
    assert np.array_equal(keys, best) and np.array_equal(top, X[best])
    assert np.array_equal(rows.subset(-1).take([0, 2]), X[sd < 0][[0, 2]])


def test_block_krylov_finds_the_top_of_a_spectrum():
    rng = np.random.default_rng(1)
    Q = np.linalg.qr(rng.normal(size=(300, 300)))[0]
    vals = 0.97 ** np.arange(300)
    A = (Q * vals) @ Q.T
    theta, X, n_iter, ok = block_krylov_top(lambda B: A @ B, 300, 8, np.random.RandomState(0))
    assert ok
    np.testing.assert_allclose(theta, vals[:8], rtol=1e-8)
    assert np.max(linalg.subspace_angles(X, Q[:, :8])) < 1e-6


def test_tca_block_solver_matches_a_dense_solve_of_the_papers_problem():
    X, y, sd = make_domain_shift(350, 350, shift="conditional", n_features=5, random_state=0)
    ym = np.where(sd > 0, y, -1)
    k, mu, gamma = 5, 0.1, 0.2
    tca = TCA(k, kernel="rbf", gamma=gamma, mu=mu, random_state=0).fit(X, ym, sample_domain=sd)
    K = rbf_kernel(X, X, gamma=gamma)
    n = len(X)
    e = _mmd_vectors(sd)
    B = K @ (e @ e.T) @ K + mu * np.eye(n)
    A = K @ (np.eye(n) - 1.0 / n) @ K
    vals, W = linalg.eigh(A, B, subset_by_index=[n - k, n - 1])
    np.testing.assert_allclose(tca.eigenvalues_, vals[::-1], rtol=1e-6)
    np.testing.assert_allclose(tca.components_.T @ B @ tca.components_, np.eye(k), atol=1e-6)
    assert np.max(linalg.subspace_angles(tca.components_, W)) < 1e-4


def test_tca_falls_back_to_the_dense_solver(monkeypatch):
    import sktl._feature as feature

    X, y, sd = make_domain_shift(350, 350, n_features=5, random_state=0)
    ym = np.where(sd > 0, y, -1)
    ref = TCA(3, kernel="rbf", random_state=0).fit(X, ym, sample_domain=sd).eigenvalues_

    def fails(K, V, mu, k, rng, **kw):
        return np.zeros(k), np.zeros((len(K), k)), None, False

    monkeypatch.setattr(feature, "kernel_krylov_top", fails)
    with pytest.warns(ConvergenceWarning, match="dense solver"):
        got = TCA(3, kernel="rbf", random_state=0).fit(X, ym, sample_domain=sd).eigenvalues_
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_kmm_working_set_matches_the_dense_solver_and_reports_progress(capsys):
    X, _, sd = make_domain_shift(800, 800, n_features=5, random_state=0)
    dense = KMM(solver="fista", random_state=0).fit(X, sample_domain=sd)
    kmm = KMM(solver="nystrom", n_components=100, refine_size=300, random_state=0,
              verbose=1).fit(X, sample_domain=sd)
    assert abs(kmm.objective_ - dense.objective_) <= 1e-5 * abs(dense.objective_)
    assert np.corrcoef(kmm.weights_, dense.weights_)[0, 1] > 0.999
    out = capsys.readouterr().out
    assert "[KMM] round 1" in out and "exact problem on" in out


@pytest.mark.parametrize("max_dim", [None, 100])  # 100: the basis restarts from Ritz vectors
def test_kernel_krylov_matches_a_dense_generalised_solve(max_dim):
    X, _, sd = make_domain_shift(400, 400, shift="conditional", n_features=5, random_state=1)
    K = rbf_kernel(X, X, gamma=0.2)
    V, n, k, mu = _mmd_vectors(sd), len(X), 6, 0.1
    B = K @ V @ V.T @ K + mu * np.eye(n)
    ref_vals, ref = linalg.eigh(K @ (K - K.mean(axis=0)), B, subset_by_index=[n - k, n - 1])
    vals, W, KW, ok = kernel_krylov_top(K, V, mu, k, np.random.RandomState(0), max_dim=max_dim)
    assert ok  # float32 pass, then the float64 pass that checks every residual
    np.testing.assert_allclose(vals, ref_vals[::-1], rtol=1e-8)
    np.testing.assert_allclose(W.T @ B @ W, np.eye(k), atol=1e-8)
    np.testing.assert_allclose(KW, K @ W, atol=1e-12 * np.abs(KW).max())
    assert np.max(linalg.subspace_angles(W, ref)) < 1e-6
    # a float64 pass cut short reports it, so that TCA falls back to the dense solver
    assert not kernel_krylov_top(K, V, mu, k, np.random.RandomState(0), max_iter=2)[3]


def test_tca_block_solver_in_float32():
    X, y, sd = make_domain_shift(350, 350, shift="conditional", n_features=5, random_state=0)
    ym = np.where(sd > 0, y, -1)
    ref = TCA(5, kernel="rbf", gamma=0.2, mu=0.1, random_state=0).fit(X, ym, sample_domain=sd)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # float32 tolerance, no fallback
        got = TCA(5, kernel="rbf", gamma=0.2, mu=0.1, random_state=0).fit(
            X.astype(np.float32), ym, sample_domain=sd)
    np.testing.assert_allclose(got.eigenvalues_, ref.eigenvalues_, rtol=1e-4)
