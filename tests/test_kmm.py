import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sktl import KMM
from sktl._kmm import KMMSolverError, _project_box_band
from sktl.datasets import make_domain_shift
from sktl.utils import mask_target_labels


def _gaussians(n_s=400, n_t=400, d=1, seed=0):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(0.0, 1.0, size=(n_s, d))
    Xt = rng.normal(0.5, 0.8, size=(n_t, d))
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(n_s, int), -2 * np.ones(n_t, int)]
    ratio = (multivariate_normal(np.full(d, 0.5), 0.64 * np.eye(d)).pdf(Xs)
             / multivariate_normal(np.zeros(d), np.eye(d)).pdf(Xs))
    return X, sd, ratio


def _mmd2(Xs, w, Xt, gamma):
    from sklearn.metrics.pairwise import rbf_kernel

    w = w / w.sum()
    v = np.full(len(Xt), 1 / len(Xt))
    return (w @ rbf_kernel(Xs, Xs, gamma=gamma) @ w + v @ rbf_kernel(Xt, Xt, gamma=gamma) @ v
            - 2 * w @ rbf_kernel(Xs, Xt, gamma=gamma) @ v)


def test_weights_recover_known_density_ratio():
    X, sd, ratio = _gaussians()
    w = KMM(gamma=0.5, B=50, random_state=0).fit(X, sample_domain=sd).weights_
    corr = np.corrcoef(w, ratio)[0, 1]
    assert corr > 0.9, corr
    # the weights are on the ratio's scale, not just correlated with it
    assert abs(np.median(w / ratio) - 1) < 0.2


def test_weights_reduce_mmd_and_satisfy_constraints():
    X, sd, _ = _gaussians(seed=1)
    kmm = KMM(gamma=0.5, B=5.0, eps=0.05, random_state=0).fit(X, sample_domain=sd)
    w, n_s = kmm.weights_, (sd > 0).sum()
    assert w.min() >= 0 and w.max() <= 5.0 + 1e-9
    assert abs(w.sum() - n_s) <= 0.05 * n_s + 1e-6
    Xs, Xt = X[sd > 0], X[sd < 0]
    assert _mmd2(Xs, w, Xt, 0.5) < 0.25 * _mmd2(Xs, np.ones(n_s), Xt, 0.5)


@pytest.mark.parametrize("kernel", ["rbf", "linear", "poly"])
def test_fista_matches_cvxpy(kernel):
    X, sd, _ = _gaussians(150, 120, d=3, seed=2)
    kw = dict(kernel=kernel, gamma=0.3, B=20.0, random_state=0)
    fast = KMM(solver="fista", tol=1e-9, **kw).fit(X, sample_domain=sd)
    exact = KMM(solver="cvxpy", **kw).fit(X, sample_domain=sd)
    rel = abs(fast.objective_ - exact.objective_) / abs(exact.objective_)
    assert rel < 1e-4, (fast.objective_, exact.objective_)
    assert fast.objective_ <= exact.objective_ + 1e-5 * abs(exact.objective_)


def test_nystrom_close_to_exact():
    X, sd, ratio = _gaussians(600, 600, seed=3)
    exact = KMM(gamma=0.5, B=50, random_state=0).fit(X, sample_domain=sd).weights_
    approx = KMM(gamma=0.5, B=50, solver="nystrom", n_components=200,
                 random_state=0).fit(X, sample_domain=sd).weights_
    assert np.corrcoef(exact, approx)[0, 1] > 0.9
    assert np.corrcoef(approx, ratio)[0, 1] > 0.8


def test_kmm_lifts_accuracy_on_covariate_shift():
    gains = []
    for seed in range(3):
        X, y, sd = make_domain_shift(300, 300, shift="covariate", random_state=seed)
        ym, t = mask_target_labels(y, sd), sd < 0
        base = LogisticRegression().fit(X[~t], y[~t]).score(X[t], y[t])
        kmm = KMM(LogisticRegression(), random_state=0).fit(X, ym, sample_domain=sd)
        gains.append(kmm.score(X[t], y[t]) - base)
    assert np.mean(gains) > 0.05, gains


def test_projection_is_exact():
    rng = np.random.default_rng(0)
    v = rng.normal(2.0, 3.0, size=50)
    b = _project_box_band(v, 4.0, 10.0, 20.0)
    assert b.min() >= 0 and b.max() <= 4.0 and 10.0 - 1e-9 <= b.sum() <= 20.0 + 1e-9
    # KKT: b = clip(v - tau, 0, 4) for a single tau
    free = (b > 1e-12) & (b < 4.0 - 1e-12)
    taus = (v - b)[free]
    assert np.ptp(taus) < 1e-8


def test_solver_errors_and_warnings():
    X, sd, _ = _gaussians(60, 60)
    with pytest.raises(KMMSolverError, match="infeasible"):
        KMM(B=0.1, eps=0.0).fit(X, sample_domain=sd)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        KMM(max_iter=2, random_state=0).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="solver='nystrom'"):
        KMM(solver="fista", max_dense_memory=1e-6).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="kernel"):
        KMM(kernel="nope").fit(X, sample_domain=sd)


def test_nystrom_refinement_respects_max_dense_memory():
    """The candidates' dense kernel is bounded: a clear error, never an n^2 allocation."""
    from sktl.datasets import make_domain_shift

    X, _, sd = make_domain_shift(600, 600, n_features=4, random_state=0)
    # B = 2 forces at least 300 weighted rows; 0.0001 GiB holds a kernel of ~3 700 rows^2
    with pytest.raises(ValueError, match="Raise B"):
        KMM(solver="nystrom", B=2.0, n_components=50, max_dense_memory=1e-5,
            random_state=0).fit(X, sample_domain=sd)
    capped = KMM(solver="nystrom", n_components=50, refine_size=3000, max_dense_memory=1e-4,
                 random_state=0).fit(X, sample_domain=sd)
    assert np.isfinite(capped.objective_)
