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


def _exact_objective(X, sd, w, gamma):
    from sklearn.metrics.pairwise import rbf_kernel

    Xs, Xt = X[sd > 0], X[sd < 0]
    kappa = len(Xs) / len(Xt) * rbf_kernel(Xs, Xt, gamma=gamma).sum(axis=1)
    return 0.5 * w @ rbf_kernel(Xs, gamma=gamma) @ w - kappa @ w


def test_nystrom_refinement_work_is_bounded_whatever_the_rows(monkeypatch):
    """The exact refinement solves at most refine_size rows however many carry weight.

    B = 2 makes hundreds of rows weighted (the weights sum to about n_source, each
    at most B: as B = 1000 does at millions of rows), more than four times the
    budget: the rows nearest to their optimality margin are refined, the others
    keep the Nyström weights.
    """
    import sktl._kmm as kmm_module

    sizes = []
    refine = kmm_module.KMM._refine

    def spy(self, Xc, *args, **kwargs):
        sizes.append(Xc.shape[0])
        return refine(self, Xc, *args, **kwargs)

    monkeypatch.setattr(kmm_module.KMM, "_refine", spy)
    for n in (600, 1200):
        X, _, sd = make_domain_shift(n, n, n_features=4, random_state=0)
        B, kw = 2.0, dict(gamma=0.25, n_components=60, random_state=0)
        kmm = KMM(solver="nystrom", B=B, refine_size=50, **kw).fit(X, sample_domain=sd)
        w = kmm.weights_
        assert (w > 0).sum() > 4 * 50 and kmm.n_refined_ == 50 and sizes[-1] == 50
        eps = (np.sqrt(n) - 1) / np.sqrt(n)
        assert w.min() >= 0 and w.max() <= B + 1e-9
        assert n * (1 - eps) - 1e-6 <= w.sum() <= n * (1 + eps) + 1e-6
        # as good as the dense solver, and better than (almost) no refinement
        dense = KMM(solver="fista", B=B, tol=1e-9, **kw).fit(X, sample_domain=sd).weights_
        bare = KMM(solver="nystrom", B=B, refine_size=1, **kw).fit(X, sample_domain=sd)
        f, f_dense, f_bare = (_exact_objective(X, sd, v, 0.25)
                              for v in (w, dense, bare.weights_))
        assert f <= f_bare and f - f_dense <= 1e-6 * abs(f_dense), (f, f_dense, f_bare)
    # max_dense_memory bounds the refined rows' kernel too (0.00001 GiB: 36 rows)
    capped = KMM(solver="nystrom", B=2.0, n_components=50, max_dense_memory=1e-5,
                 random_state=0).fit(X, sample_domain=sd)
    assert capped.n_refined_ == 36 and sizes[-1] == 36 and np.isfinite(capped.objective_)


def test_bounded_refinement_recovers_the_density_ratio():
    """With more weighted rows than the refinement holds, the weights still follow the ratio.

    The working set's weights are sparse (a few hundred rows carry the mass the
    dense solver spreads over all rows: the objective is flat along such moves),
    so the ratio is recovered in mass: the mean weight over the mean ratio in each
    fifth of the source rows by ratio (0.69-1.16 here; the dense solver's:
    0.86-1.01), and the reweighted source moments equal the target's.
    """
    X, sd, ratio = _gaussians(1500, 1500, d=2, seed=4)
    kmm = KMM(gamma=0.5, B=50, solver="nystrom", n_components=100, refine_size=80,
              random_state=0).fit(X, sample_domain=sd)
    w, Xs = kmm.weights_, X[sd > 0]
    assert kmm.n_refined_ == 80 and (w > 0).sum() > 4 * 80  # the bounded refinement ran
    fifth = np.digitize(ratio, np.quantile(ratio, [0.2, 0.4, 0.6, 0.8]))
    in_mass = [w[fifth == q].mean() / ratio[fifth == q].mean() for q in range(5)]
    assert np.all(np.abs(np.log(in_mass)) < np.log(1.5)), in_mass
    mean = w @ Xs / w.sum()
    std = np.sqrt(w @ (Xs - mean) ** 2 / w.sum())
    np.testing.assert_allclose(mean, 0.5, atol=0.1)
    np.testing.assert_allclose(std, 0.8, atol=0.05)
