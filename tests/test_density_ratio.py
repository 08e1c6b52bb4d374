"""Behaviour of the density-ratio reweighters, LDM and balanced weighting."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics.pairwise import rbf_kernel

from sktl import (
    KLIEP,
    KMM,
    LDM,
    RULSIF,
    ULSIF,
    BalancedWeighting,
    DiscriminativeReweighter,
    GaussianReweighter,
    KernelDensityReweighter,
    NearestNeighborReweighter,
)
from sktl._density_ratio import _kliep_em, _lsif_loo
from sktl.datasets import make_domain_shift
from sktl.utils import mask_target_labels

SRC, TGT = norm(0.0, 1.0), norm(0.5, 0.6)


def _gaussians(n=400, seed=0):
    """1-D source N(0, 1), target N(0.5, 0.6^2): the ratio is known in closed form."""
    rng = np.random.default_rng(seed)
    Xs, Xt = rng.normal(0.0, 1.0, (n, 1)), rng.normal(0.5, 0.6, (n, 1))
    sd = np.r_[np.ones(n, int), -np.ones(n, int)]
    return np.vstack([Xs, Xt]), sd


def _true_ratio(x):
    return TGT.pdf(x) / SRC.pdf(x)


RATIO_MODELS = [
    (KLIEP(random_state=0), 0.9),
    (KLIEP(solver="minibatch", batch_size=50, random_state=0), 0.9),
    (ULSIF(random_state=0), 0.9),
    (KernelDensityReweighter(), 0.9),
    (GaussianReweighter(), 0.95),
    (NearestNeighborReweighter(n_neighbors=10), 0.6),
]


@pytest.mark.parametrize("est, min_corr", RATIO_MODELS, ids=lambda v: type(v).__name__
                         if not isinstance(v, float) else "")
def test_recovers_known_density_ratio(est, min_corr):
    X, sd = _gaussians()
    est = clone(est).fit(X, sample_domain=sd)
    xs = X[sd > 0, 0]
    truth = _true_ratio(xs)
    assert np.corrcoef(est.weights_, truth)[0, 1] > min_corr
    # on the ratio's own scale, not just correlated with it
    assert abs(np.median(est.weights_ / truth) - 1) < 0.25
    np.testing.assert_allclose(est.weights_.mean(), 1.0, rtol=1e-8)
    # density_ratio is the same function: equal to weights_ on the source rows,
    # close to the truth on new rows where the source has mass
    np.testing.assert_allclose(est.density_ratio(X[sd > 0]), est.weights_, rtol=1e-10)
    grid = np.linspace(-1.0, 1.5, 11)[:, None]
    r = est.density_ratio(grid)
    assert r.shape == (11,) and np.all(r >= 0)
    assert np.corrcoef(r, _true_ratio(grid[:, 0]))[0, 1] > min_corr


def test_rulsif_recovers_the_relative_ratio_and_alpha_zero_is_ulsif():
    X, sd = _gaussians(seed=1)
    xs = X[sd > 0, 0]
    alpha = 0.5
    rel = TGT.pdf(xs) / (alpha * TGT.pdf(xs) + (1 - alpha) * SRC.pdf(xs))
    w = RULSIF(alpha=alpha, random_state=0).fit(X, sample_domain=sd).weights_
    assert np.corrcoef(w, rel)[0, 1] > 0.95
    assert w.max() / w.min() < 1.2 * rel.max() / rel.min()  # bounded like r_alpha
    a = RULSIF(alpha=0.0, random_state=0).fit(X, sample_domain=sd)
    b = ULSIF(random_state=0).fit(X, sample_domain=sd)
    np.testing.assert_allclose(a.weights_, b.weights_)


def test_density_ratio_from_the_domain_classifier():
    X, sd = _gaussians(seed=2)
    est = DiscriminativeReweighter().fit(X, sample_domain=sd)
    np.testing.assert_allclose(est.density_ratio(X[sd > 0]), est.weights_)
    # a linear logistic model gives a log-linear ratio: monotone in x here
    r = est.density_ratio(np.array([[-2.0], [0.0], [2.0]]))
    assert r[0] < r[1] < r[2]
    clipped = DiscriminativeReweighter(max_weight=1.5).fit(X, sample_domain=sd)
    assert clipped.density_ratio(np.array([[10.0]]))[0] == 1.5


@pytest.mark.parametrize("est", [KMM(random_state=0), LDM(),
                                 BalancedWeighting(LogisticRegression())])
def test_reweighters_without_a_ratio_model_say_why(est):
    X, sd = _gaussians(100)
    y = np.where(sd > 0, (X[:, 0] > 0).astype(int), -1)
    y[-4:] = [0, 1, 0, 1]
    est.fit(X, y, sample_domain=sd)
    assert not hasattr(est, "density_ratio")
    with pytest.raises(AttributeError) as info:
        est.density_ratio(X)
    assert "density_ratio" in str(info.value.__cause__)
    assert type(est).__name__ in str(info.value.__cause__)


def test_density_ratio_needs_a_fit_and_the_fitted_features():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ULSIF().density_ratio(np.zeros((2, 1)))
    X, sd = _gaussians(50)
    with pytest.raises(ValueError, match="features"):
        ULSIF(random_state=0).fit(X, sample_domain=sd).density_ratio(np.zeros((2, 3)))


# ------------------------------------------------------------------------- KLIEP


def _kliep_cvxpy(A):
    import cvxpy as cp

    beta = cp.Variable(A.shape[1], nonneg=True)
    prob = cp.Problem(cp.Maximize(cp.sum(cp.log(A @ beta)) / len(A)), [cp.sum(beta) == 1])
    prob.solve()
    return prob.value


def test_kliep_em_reaches_the_optimum_and_the_constraint():
    rng = np.random.default_rng(3)
    Xs, Xt = rng.normal(0, 1, (150, 2)), rng.normal(0.4, 0.7, (120, 2))
    C = Xt[:40]
    b = rbf_kernel(Xs, C, gamma=0.5).mean(axis=0)
    A = rbf_kernel(Xt, C, gamma=0.5) / b
    beta, n_iter, converged = _kliep_em(A, 1e-6, 20000)
    assert converged
    value = np.mean(np.log(A @ beta))
    assert value >= _kliep_cvxpy(A) - 1e-5
    # in the estimator: the source mean of r is 1 (the constraint) before rescaling
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(150, int), -np.ones(120, int)]
    kliep = KLIEP(gamma=0.5, n_centers=None, random_state=0).fit(X, sample_domain=sd)
    raw = rbf_kernel(Xs, kliep.centers_, gamma=0.5) @ kliep.coef_
    np.testing.assert_allclose(raw.mean(), 1.0, rtol=1e-10)
    assert np.all(kliep.coef_ >= 0)


def test_kliep_likelihood_cv_picks_a_sensible_width():
    X, sd = _gaussians(seed=4)
    kliep = KLIEP(random_state=0).fit(X, sample_domain=sd)
    scores = kliep.cv_scores_
    best = int(np.argmax(scores))
    # the extremes of the grid (far too wide / far too narrow) are both worse
    assert 0 < best < len(scores) - 1
    assert scores[best] > scores[0] + 0.1 and scores[best] > scores[-1]
    assert kliep.gamma_ == kliep.gamma_grid_[best]
    # and the chosen width recovers the ratio better than the widest candidate
    xs = X[sd > 0, 0]
    wide = KLIEP(gamma=kliep.gamma_grid_[0], random_state=0).fit(X, sample_domain=sd)
    err = [np.mean((m.weights_ - _true_ratio(xs)) ** 2) for m in (kliep, wide)]
    assert err[0] < err[1]


def test_kliep_minibatch_agrees_with_em():
    X, sd = _gaussians(1000, seed=5)
    em = KLIEP(gamma=1.0, random_state=0).fit(X, sample_domain=sd)
    mb = KLIEP(gamma=1.0, solver="minibatch", batch_size=100, random_state=0).fit(
        X, sample_domain=sd)
    assert em.solver_ == "em" and mb.solver_ == "minibatch"
    assert np.corrcoef(em.weights_, mb.weights_)[0, 1] > 0.98
    auto = KLIEP(gamma=1.0, minibatch_threshold=500, random_state=0).fit(X, sample_domain=sd)
    assert auto.solver_ == "minibatch"


def test_kliep_convergence_warning_and_errors():
    X, sd = _gaussians(60)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        KLIEP(gamma=1.0, max_iter=2, tol=1e-12, random_state=0).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="gamma must be a positive number"):
        KLIEP(gamma=[1.0, -2.0]).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="cross-validation"):
        KLIEP(cv=5).fit(X[56:64], sample_domain=sd[56:64])  # 4 rows per domain
    with pytest.raises(ValueError, match="GiB"):
        from sktl._density_ratio import _check_kernel_memory

        _check_kernel_memory(10**6, 10**6, "Use fewer n_centers.")


# ---------------------------------------------------------------------- (R)uLSIF


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_lsif_closed_form_leave_one_out_equals_refitting(alpha):
    rng = np.random.default_rng(6)
    Ps, Pt = rng.random((30, 6)), rng.random((25, 6))  # any non-negative features
    regs = [0.01, 0.3]
    fast = _lsif_loo(Ps, Pt, alpha, regs)
    slow = []
    for reg in regs:
        scores = []
        for i in range(25):
            s, t = np.delete(Ps, i, 0), np.delete(Pt, i, 0)
            H = (1 - alpha) * s.T @ s / len(s) + alpha * t.T @ t / len(t) + reg * np.eye(6)
            theta = np.maximum(np.linalg.solve(H, t.mean(0)), 0)
            rs, rt = Ps[i] @ theta, Pt[i] @ theta
            scores.append(alpha / 2 * rt**2 + (1 - alpha) / 2 * rs**2 - rt)
        slow.append(np.mean(scores))
    np.testing.assert_allclose(fast, slow, rtol=1e-8)


def test_ulsif_loo_picks_a_sensible_width_and_ridge():
    X, sd = _gaussians(seed=7)
    est = ULSIF(random_state=0).fit(X, sample_domain=sd)
    assert est.loo_scores_.shape == (7, 4)
    k = list(est.gamma_grid_).index(est.gamma_)
    assert 0 < k < 6
    assert est.loo_scores_.min() < est.loo_scores_[0].min()  # better than too wide


# --------------------------------------------------- neighbours, KDE and Gaussian


def test_nearest_neighbour_counts_and_cells():
    X = np.array([[0.0], [1.0], [2.0], [0.9], [1.1], [2.1], [1.05]])
    sd = np.array([1, 1, 1, -1, -1, -1, -1])
    raw = NearestNeighborReweighter(smoothing=0).fit(X, sample_domain=sd)
    np.testing.assert_allclose(raw.weights_, np.array([0, 3, 1]) * 3 / 4)
    smooth = NearestNeighborReweighter(smoothing=1).fit(X, sample_domain=sd)
    np.testing.assert_allclose(smooth.weights_, np.array([1, 4, 2]) * 3 / 7)
    # a new row takes the weight of its source cell
    np.testing.assert_allclose(smooth.density_ratio([[0.2], [1.4], [5.0]]),
                               smooth.weights_[[0, 1, 2]])


def test_gaussian_and_kde_errors_and_clipping():
    rng = np.random.default_rng(8)
    X = np.c_[rng.normal(size=60), np.zeros(60)]  # a constant feature
    sd = np.r_[np.ones(30, int), -np.ones(30, int)]
    with pytest.raises(ValueError, match="singular"):
        GaussianReweighter(reg=0.0).fit(X, sample_domain=sd)
    assert np.all(np.isfinite(GaussianReweighter().fit(X, sample_domain=sd).weights_))
    X2, sd2 = _gaussians(100)
    est = GaussianReweighter(max_weight=2.0).fit(X2, sample_domain=sd2)
    assert est.weights_.max() <= 2.0 and est.density_ratio([[50.0]])[0] <= 2.0
    # the ratio far outside both domains does not overflow
    assert np.isfinite(KernelDensityReweighter().fit(X2, sample_domain=sd2).density_ratio(
        [[1e3]])).all()
    far = np.r_[np.zeros((20, 1)), np.full((20, 1), 1e4)]
    with pytest.raises(ValueError, match="zero on every source row"):
        KernelDensityReweighter(bandwidth=0.1, kernel="tophat").fit(
            far, sample_domain=np.r_[np.ones(20, int), -np.ones(20, int)])


def test_gaussian_constant_feature_with_more_features_than_rows():
    # a constant feature whose mean is inexact (0.1) has a rounding-noise variance of
    # ~1e-33; with more features than rows the shrinkage then collapsed (0 or 1 from a
    # cancelled sum) and reg='auto' raised "singular" (found on the Amazon reviews tasks)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 80))
    X[:, 0] = 0.1
    X[30:, 1:] += 0.3
    sd = np.r_[np.ones(30, int), -np.ones(30, int)]
    est = GaussianReweighter().fit(X, sample_domain=sd)
    assert np.all(np.isfinite(est.weights_)) and np.all(np.isfinite(est.covariances_))
    # the constant feature keeps a plain unit-scale shrunk variance, not ~1e-32
    assert est.covariances_[:, 0, 0].min() > 0.1


# ---------------------------------------------------------------------- adapting


@pytest.mark.parametrize("est", [KLIEP(random_state=0), ULSIF(random_state=0),
                                 KernelDensityReweighter(), GaussianReweighter(),
                                 NearestNeighborReweighter(n_neighbors=5), LDM()],
                         ids=lambda e: type(e).__name__)
def test_reweighting_beats_no_adaptation_on_covariate_shift(est):
    gains = []
    for seed in range(3):
        X, y, sd = make_domain_shift(300, 300, shift="covariate", random_state=seed)
        ym, t = mask_target_labels(y, sd), sd < 0
        base = LogisticRegression().fit(X[~t], y[~t]).score(X[t], y[t])
        model = clone(est).set_params(estimator=LogisticRegression()).fit(X, ym,
                                                                          sample_domain=sd)
        gains.append(model.score(X[t], y[t]) - base)
    assert np.mean(gains) > 0.03, gains


# --------------------------------------------------------------------------- LDM


def test_ldm_reaches_the_sdp_optimum():
    rng = np.random.default_rng(9)
    Xs, Xt = rng.normal(0, 1, (120, 3)), rng.normal(0.5, 2.5, (100, 3))
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(120, int), -np.ones(100, int)]
    fast = LDM(tol=1e-3).fit(X, sample_domain=sd)
    exact = LDM(solver="cvxpy").fit(X, sample_domain=sd)
    assert exact.discrepancy_ < 0.8 * exact.initial_discrepancy_  # a non-trivial optimum
    assert fast.discrepancy_ <= exact.discrepancy_ + 1e-3 * fast.initial_discrepancy_
    for est in (fast, exact):
        np.testing.assert_allclose(est.weights_.mean(), 1.0)
        assert est.weights_.min() >= 0
        w = est.weights_ / len(Xs)
        gap = Xt.T @ Xt / len(Xt) - (Xs.T * w) @ Xs
        np.testing.assert_allclose(np.linalg.norm(gap, 2), est.discrepancy_)


def test_ldm_convergence_warning():
    rng = np.random.default_rng(10)
    X = np.r_[rng.normal(0, 1, (50, 2)), rng.normal(0, 3, (50, 2))]
    sd = np.r_[np.ones(50, int), -np.ones(50, int)]
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        LDM(max_iter=2, tol=1e-9).fit(X, sample_domain=sd)


# ------------------------------------------------------------- balanced weighting


def _few_labels(seed=0, task="classification"):
    X, y, sd = make_domain_shift(200, 200, shift="conditional", task=task, random_state=seed)
    ym = mask_target_labels(y, sd, task=task)
    tgt = np.flatnonzero(sd < 0)
    ym[tgt[:10]] = y[tgt[:10]]
    return X, y, ym, sd


def test_balanced_weighting_shares_and_limits():
    X, y, ym, sd = _few_labels()
    bw = BalancedWeighting(LogisticRegression(), target_share=0.3).fit(X, ym, sample_domain=sd)
    n_s, n_t = (sd > 0).sum(), 10
    total_s, total_t = bw.weights_.sum(), n_t * bw.target_weight_
    np.testing.assert_allclose(total_t / (total_s + total_t), 0.3)
    np.testing.assert_allclose(total_s + total_t, n_s + n_t)  # mean weight 1
    # target_share=1 is target-only
    only = BalancedWeighting(LogisticRegression(), target_share=1.0).fit(X, ym,
                                                                           sample_domain=sd)
    lab_t = np.flatnonzero(sd < 0)[:10]
    assert np.all(only.weights_ == 0)
    ref = LogisticRegression().fit(X[lab_t], y[lab_t],
                                   sample_weight=np.full(10, only.target_weight_))
    np.testing.assert_allclose(only.estimator_.coef_, ref.coef_, rtol=1e-4)
    Xr, _, ymr, sdr = _few_labels(task="regression")
    reg = BalancedWeighting(Ridge()).fit(Xr, ymr, sample_domain=sdr)
    assert np.isfinite(reg.predict(Xr[:3])).all()


def test_balanced_weighting_moves_the_fit_towards_the_target_rows():
    X, y, ym, sd = _few_labels(1, task="regression")
    lab_t = np.flatnonzero(sd < 0)[:10]
    errors = []
    for share in (0.05, 0.5, 0.95):
        bw = BalancedWeighting(Ridge(), target_share=share).fit(X, ym, sample_domain=sd)
        errors.append(np.mean((bw.predict(X[lab_t]) - y[lab_t]) ** 2))
    assert errors[0] > errors[1] > errors[2], errors


def test_balanced_weighting_errors():
    X, y, ym, sd = _few_labels()
    with pytest.raises(ValueError, match="labelled target rows"):
        BalancedWeighting(LogisticRegression()).fit(X, mask_target_labels(y, sd),
                                                    sample_domain=sd)
    with pytest.raises(ValueError, match="needs y"):
        BalancedWeighting().fit(X, sample_domain=sd)


def test_discriminative_reweighter_large_float32_features():
    """float32 features of size 1e8 once overflowed the Newton step's sums into a
    LinAlgError from inside numpy (found by the random bad-input test, seed 173): the sums
    are taken in float64 now and the weights are finite."""
    X, y, sd = make_domain_shift(60, 2, shift="covariate", random_state=173, mask_target=True)
    X = (X * 1e8).astype(np.float32)
    X_before = X.copy()
    est = DiscriminativeReweighter().fit(X, y, sample_domain=sd)
    assert np.isfinite(est.weights_).all() and est.weights_.sum() > 0
    np.testing.assert_array_equal(X, X_before)
