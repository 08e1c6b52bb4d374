"""Density-ratio reweighters: estimate ``r(x) = p_target(x) / p_source(x)`` directly.

Every estimator here is a :class:`~sktl._base.BaseDensityRatioReweighter`: it
fits a model of the ratio, weighs the source rows with it (``weights_``, mean
1 over the source rows) and evaluates it at any new row with
:meth:`density_ratio`. The methods differ in the model and the loss:

* :class:`KLIEP` — a kernel model fitted by maximum likelihood on the target
  rows (Sugiyama et al., 2008), width chosen by likelihood cross-validation;
* :class:`ULSIF` / :class:`RULSIF` — the same kernel model fitted by least
  squares in closed form (Kanamori et al., 2009; Yamada et al., 2011), width
  and ridge chosen by analytic leave-one-out;
* :class:`NearestNeighborReweighter` — target counts in the source rows'
  nearest-neighbour cells (Loog, 2012);
* :class:`KernelDensityReweighter` and :class:`GaussianReweighter` — a
  density estimate per domain, divided.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.neighbors import KernelDensity, NearestNeighbors
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import BaseDensityRatioReweighter
from .utils._kernel import median_heuristic_gamma, rbf
from .utils._sparse import (
    check_sparse_width,
    mean_and_covariance,
    row_quadratic_forms,
    vstack,
)

_GIB = 2**30
_MAX_KERNEL_GIB = 4.0  # largest rows x centres kernel matrix a fit builds
# multiples of the median-heuristic gamma tried when ``gamma=None``
_GAMMA_FACTORS = (1 / 64, 1 / 16, 1 / 4, 1.0, 4.0, 16.0, 64.0)
_REG_GRID = (1e-3, 1e-2, 1e-1, 1.0)
_MAX_LOO_PAIRS = 10_000


def _grid(value, default, name):
    """Candidate values: a scalar, an array-like of them, or ``default`` for None."""
    grid = np.atleast_1d(np.asarray(default if value is None else value, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() <= 0:
        raise ValueError(f"{name} must be a positive number or a non-empty list of them; "
                         f"got {value!r}.")
    return grid


def _gamma_grid(gamma, X_source, X_target, rng):
    """``gamma`` as a grid; None: the median heuristic on both domains times factors."""
    if gamma is not None:
        return _grid(gamma, None, "gamma")
    X = vstack([X_source, X_target])
    base = median_heuristic_gamma(X, max_rows=500, random_state=rng.randint(2**31 - 1))
    return base * np.asarray(_GAMMA_FACTORS)


def _check_kernel_memory(n_rows, n_centers, hint):
    need = 8 * n_rows * n_centers / _GIB
    if need > _MAX_KERNEL_GIB:
        raise ValueError(
            f"The {n_rows} x {n_centers} kernel matrix would need {need:.1f} GiB "
            f"(limit {_MAX_KERNEL_GIB} GiB). {hint}"
        )


def _centres(X_target, n_centers, rng):
    """``n_centers`` distinct target rows drawn at random; every row for None."""
    if n_centers is None or n_centers >= X_target.shape[0]:
        return X_target
    return X_target[np.sort(rng.choice(X_target.shape[0], n_centers, replace=False))]


def _kernel_mean(X, centres, gamma, block_bytes=2**27):
    """``mean_i k(x_i, c_l)`` for every centre, in row blocks of 128 MiB."""
    total = np.zeros(centres.shape[0])
    for sl in gen_batches(X.shape[0], max(1, block_bytes // (8 * centres.shape[0]))):
        total += rbf(X[sl], centres, gamma).sum(axis=0)
    return total / X.shape[0]


class _KernelRatioMixin:
    """The kernel model ``r(x) = sum_l coef_l k(x, c_l)`` of KLIEP and (R)uLSIF."""

    def _ratio(self, X):
        out = np.empty(X.shape[0])
        for sl in gen_batches(X.shape[0], max(1, 2**24 // self.centers_.shape[0])):
            out[sl] = rbf(X[sl], self.centers_, self.gamma_) @ self.coef_
        return out


# --------------------------------------------------------------------------- KLIEP


def _em_step(A, beta, fitted):
    """One EM (multiplicative) update from ``beta`` with ``fitted = A @ beta``.

    Returns the new weights, their ``A @ beta`` and the gradient ``g`` at the
    old ones.
    """
    g = (A.T @ (1.0 / fitted)) / len(A)
    new = beta * g
    new /= new.sum()
    return new, A @ new, g


def _mean_log(fitted):
    with np.errstate(divide="ignore"):
        return np.mean(np.log(fitted))


def _kliep_em(A, tol, max_iter):
    """Maximise ``mean_j log (A beta)_j`` over the probability simplex.

    ``A[j, l] = k(x_j, c_l) / b_l`` with ``b_l`` the source mean of the
    centre's kernel, so that ``beta = b * alpha`` turns KLIEP's constraint
    ``mean_i r(x_i) = 1`` into ``sum(beta) = 1``. The multiplicative update
    ``beta <- beta * g`` with ``g = A' (1 / (A beta)) / n`` is the EM
    algorithm for mixture weights: it stays on the simplex (``beta . g = 1``)
    and increases the likelihood monotonically, and ``max(g) - 1`` bounds the
    distance to the optimum (concavity: ``f(b*) - f(b) <= g'(b* - b)``),
    which is the stopping rule. Plain EM is sublinear here, so it is
    accelerated by SQUAREM (Varadhan & Roland, 2008): an extrapolation from
    two EM steps, kept only when it does not lower the likelihood. Returns
    ``(beta, n_iter, converged)`` with ``n_iter`` counted in EM steps.
    """
    m = A.shape[1]
    beta = np.full(m, 1.0 / m)
    fitted = A @ beta
    n_iter = 0
    while n_iter < max_iter:
        b1, f1, g = _em_step(A, beta, fitted)
        n_iter += 1
        if g.max() - 1.0 <= tol:
            return beta, n_iter, True
        b2, f2, _ = _em_step(A, b1, f1)
        r, v = b1 - beta, b2 - 2 * b1 + beta
        step = min(-np.sqrt(r @ r) / max(np.sqrt(v @ v), np.finfo(float).tiny), -1.0)
        # never let the extrapolation zero a weight: EM cannot revive a zero
        cand = np.maximum(beta - 2 * step * r + step**2 * v, 1e-3 * beta)
        cand /= cand.sum()
        cand, f_cand, _ = _em_step(A, cand, A @ cand)
        n_iter += 2
        if _mean_log(f_cand) >= _mean_log(f2):
            beta, fitted = cand, f_cand
        else:
            beta, fitted = b2, f2
    return beta, n_iter, False


def _kliep_minibatch(X_target, centres, gamma, b, batch_size, n_epochs, rng):
    """Stepwise (online) EM for KLIEP on mini-batches of target rows.

    Each step draws ``batch_size`` target rows, computes their kernel to the
    centres, and moves ``beta`` a step ``eta_t = (t + 2) ** -0.6`` towards the
    batch's EM update ``beta * g_batch`` (Cappé & Moulines, 2009; Liang &
    Klein, 2009). Memory is ``batch_size x n_centers`` whatever the number of
    rows, and a few epochs reach the batch solution's likelihood to about
    1e-3. Returns ``(beta, n_steps)``.
    """
    m = centres.shape[0]
    beta = np.full(m, 1.0 / m)
    n = X_target.shape[0]
    step = 0
    for _ in range(n_epochs):
        order = rng.permutation(n)
        for sl in gen_batches(n, batch_size):
            A = rbf(X_target[order[sl]], centres, gamma) / b
            A = A[A.max(axis=1) > 0]
            if not len(A):
                continue
            g = (A.T @ (1.0 / (A @ beta))) / len(A)
            eta = (step + 2.0) ** -0.6
            beta = (1 - eta) * beta + eta * beta * g
            beta /= beta.sum()
            step += 1
    return beta, step


class KLIEP(_KernelRatioMixin, BaseDensityRatioReweighter):
    """Kullback-Leibler importance estimation procedure (KLIEP).

    Models the density ratio as a kernel expansion on target rows,
    ``r(x) = sum_l alpha_l exp(-gamma ||x - c_l||^2)`` with ``alpha >= 0``,
    and fits it by maximising the likelihood of the target rows under
    ``r(x) p_source(x)``, subject to ``r`` being a ratio
    (``mean_i r(x_i^source) = 1``) (Sugiyama et al., 2008)::

        max_alpha  sum_j log r(x_j^target)
        s.t.       mean_i r(x_i^source) = 1,  alpha >= 0.

    Substituting ``beta_l = alpha_l mean_i k(x_i, c_l)`` makes it the
    maximum-likelihood mixture-weight problem on the simplex, which the EM
    (multiplicative) update, accelerated by SQUAREM, solves to a certified
    tolerance (``max_l g_l - 1 <= tol`` bounds the gap to the optimum).

    The kernel width is chosen by likelihood cross-validation over ``cv``
    folds. The paper splits only the target rows and scores the held-out
    mean ``log r``, with every source row kept in the constraint; when the
    target sits where the source is sparse, that score keeps rising as the
    kernel narrows (the constraint is only enforced at the sampled source
    rows), so it picks the narrowest width of any grid. Here both domains are
    split and the held-out score is ``mean_t log r - log mean_s r``, the
    Donsker-Varadhan lower bound on ``KL(p_t || p_s)``, which the true ratio
    maximises: on two Gaussians it peaks at the right width, its maximum
    close to the true KL.

    The exact form uses every target row as a centre (``n_centers=None``);
    the paper's practical form, the default, uses ``n_centers`` of them drawn
    at random. For very many target rows, ``solver="minibatch"`` (the default
    above ``minibatch_threshold`` target rows) runs stepwise EM on batches of
    ``batch_size`` rows: memory ``batch_size x n_centers`` and a few passes
    over the data instead of hundreds. Sparse rows are accepted (the kernel
    is computed from sparse products, the rows are never densified).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    gamma : float or array-like of float, default=None
        RBF kernel coefficient, or candidates chosen by likelihood
        cross-validation. None tries the median heuristic
        ``1 / median ||x - x'||^2`` (on both domains) times
        1/64, 1/16, 1/4, 1, 4, 16 and 64.
    n_centers : int or None, default=100
        Number of target rows used as kernel centres (the paper uses 100);
        None uses every target row (the exact form, memory
        ``n_target^2``).
    cv : int, default=5
        Folds of the likelihood cross-validation (used with several gammas).
    solver : {"auto", "em", "minibatch"}, default="auto"
        "em" iterates on the full target kernel matrix to ``tol``;
        "minibatch" runs ``n_epochs`` of stepwise EM. "auto" uses "em" up to
        ``minibatch_threshold`` target rows.
    tol : float, default=1e-3
        "em" stops when the bound on the mean log-likelihood gap is below it
        (the weights are then within about 1 % of the optimum's).
    max_iter : int, default=5000
        Maximum "em" iterations; a
        :class:`~sklearn.exceptions.ConvergenceWarning` says when they were
        not enough.
    batch_size : int, default=1000
        Target rows per "minibatch" step.
    n_epochs : int, default=5
        Passes over the target rows of the "minibatch" solver.
    minibatch_threshold : int, default=20000
        Largest number of target rows for which "auto" picks "em".
    random_state : int, RandomState instance or None, default=None
        Seeds the centres, the folds, the median heuristic's subsample and
        the mini-batches.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        ``r(x)`` at the source rows (mean 1 by the constraint).
    centers_ : ndarray of shape (n_centers, n_features)
        The kernel centres (target rows).
    coef_ : ndarray of shape (n_centers,)
        The non-negative coefficients ``alpha``.
    gamma_ : float
        The kernel coefficient used.
    gamma_grid_ : ndarray
        The candidate coefficients.
    cv_scores_ : ndarray of shape (n_candidates,)
        Mean held-out ``mean_t log r - log mean_s r`` of each candidate (NaN
        when only one candidate was given and no cross-validation ran).
    solver_ : str
        The solver used for the final fit.
    n_iter_ : int
        EM iterations or mini-batch steps of the final fit.
    estimator_ : estimator object
        The base estimator fitted on the reweighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    ULSIF : the same kernel model fitted by least squares in closed form.
    KMM : kernel mean matching, weights without a ratio model.

    References
    ----------
    .. [1] M. Sugiyama, S. Nakajima, H. Kashima, P. von Bünau and M. Kawanabe.
       "Direct Importance Estimation with Model Selection and Its Application
       to Covariate Shift Adaptation". NIPS 2007.
    .. [2] M. Sugiyama, T. Suzuki, S. Nakajima, H. Kashima, P. von Bünau and
       M. Kawanabe. "Direct importance estimation for covariate shift
       adaptation". Annals of the Institute of Statistical Mathematics, 2008.
    .. [3] R. Varadhan and C. Roland. "Simple and Globally Convergent Methods
       for Accelerating the Convergence of Any EM Algorithm". Scandinavian
       J. Statistics, 2008.
    .. [4] O. Cappé and E. Moulines. "On-line expectation-maximization
       algorithm for latent data models". JRSS B, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import KLIEP
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (200, 1)), rng.normal(0.5, 0.5, (200, 1))]
    >>> sd = np.r_[np.ones(200, int), -np.ones(200, int)]
    >>> kliep = KLIEP(random_state=0).fit(X, sample_domain=sd)
    >>> r = kliep.density_ratio([[0.5], [3.0]])  # large near the target, ~0 far
    >>> bool(r[0] > 1 > r[1])
    True
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "gamma": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "n_centers": [Interval(Integral, 1, None, closed="left"), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "solver": [StrOptions({"auto", "em", "minibatch"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "minibatch_threshold": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }

    def __init__(
        self,
        estimator=None,
        *,
        gamma=None,
        n_centers=100,
        cv=5,
        solver="auto",
        tol=1e-3,
        max_iter=5000,
        batch_size=1000,
        n_epochs=5,
        minibatch_threshold=20000,
        random_state=None,
        source_weights="uniform",
    ):
        self.estimator = estimator
        self.gamma = gamma
        self.n_centers = n_centers
        self.cv = cv
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.minibatch_threshold = minibatch_threshold
        self.random_state = random_state
        self.source_weights = source_weights

    def _solve(self, X_source, X_target, gamma, rng, solver, tol):
        """Centres and coefficients ``alpha`` for one ``gamma``; also the iterations."""
        centres = _centres(X_target, self.n_centers, rng)
        b = np.maximum(_kernel_mean(X_source, centres, gamma), np.finfo(float).tiny ** 0.5)
        if solver == "minibatch":
            beta, n_iter = _kliep_minibatch(X_target, centres, gamma, b, self.batch_size,
                                            self.n_epochs, rng)
            converged = True
        else:
            _check_kernel_memory(X_target.shape[0], centres.shape[0],
                                 "Use fewer n_centers or solver='minibatch'.")
            A = rbf(X_target, centres, gamma) / b
            # rows that no centre reaches add a constant -inf whatever beta is
            A = A[A.max(axis=1) > 0]
            beta, n_iter, converged = _kliep_em(A, tol, self.max_iter)
        return centres, beta / b, n_iter, converged

    def _held_out_score(self, X_source, X_target, gamma, rng, solver, fold_s, fold_t):
        """``mean log r(x_t) - log mean r(x_s)`` on held-out rows of both domains.

        ``r`` is fitted on the training folds. The score is the
        Donsker-Varadhan lower bound on ``KL(p_t || p_s)``, which the true
        ratio maximises; unlike the target-only score it does not reward
        ratios that are large wherever the training source rows happen to be
        absent.
        """
        (train_s, test_s), (train_t, test_t) = fold_s, fold_t
        centres, coef, _, _ = self._solve(X_source[train_s], X_target[train_t], gamma, rng,
                                          solver, self.tol)
        r_t = rbf(X_target[test_t], centres, gamma) @ coef
        r_s = rbf(X_source[test_s], centres, gamma) @ coef
        if r_s.mean() <= 0:
            return -np.inf
        with np.errstate(divide="ignore"):
            return np.mean(np.log(r_t)) - np.log(r_s.mean())

    def _fit_ratio(self, X_source, X_target):
        rng = check_random_state(self.random_state)
        solver = self.solver
        if solver == "auto":
            solver = "em" if X_target.shape[0] <= self.minibatch_threshold else "minibatch"
        self.gamma_grid_ = _gamma_grid(self.gamma, X_source, X_target, rng)
        self.cv_scores_ = np.full(len(self.gamma_grid_), np.nan)
        if len(self.gamma_grid_) > 1:
            if min(X_source.shape[0], X_target.shape[0]) < self.cv:
                raise ValueError(f"KLIEP's likelihood cross-validation (cv={self.cv}) needs "
                                 f"at least {self.cv} rows per domain; got n_samples="
                                 f"{min(X_source.shape[0], X_target.shape[0])}. Give one gamma or "
                                 "fewer folds.")
            seed = rng.randint(2**31 - 1)
            folds_t = KFold(self.cv, shuffle=True, random_state=seed).split(X_target)
            folds_s = KFold(self.cv, shuffle=True, random_state=seed).split(X_source)
            folds = list(zip(folds_s, folds_t))
            for k, gamma in enumerate(self.gamma_grid_):
                self.cv_scores_[k] = np.mean([
                    self._held_out_score(X_source, X_target, gamma, rng, solver, fs, ft)
                    for fs, ft in folds])
        best = int(np.nanargmax(self.cv_scores_)) if len(self.gamma_grid_) > 1 else 0
        self.gamma_ = float(self.gamma_grid_[best])
        self.centers_, self.coef_, self.n_iter_, converged = self._solve(
            X_source, X_target, self.gamma_, rng, solver, self.tol)
        self.solver_ = solver
        if not converged:
            warnings.warn(
                f"KLIEP's EM solver did not reach tol={self.tol} in max_iter="
                f"{self.max_iter} iterations. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=5,
            )


# ------------------------------------------------------------------------ (R)uLSIF


def _lsif_loo(Phi_s, Phi_t, alpha, regs):
    """Leave-one-out scores of (R)uLSIF for every ridge in ``regs``, in closed form.

    Pair ``i`` leaves out source row ``i`` and target row ``i``. With
    ``C = H' + reg I`` the full-data system (``H'`` rescaled for one row
    less per domain), the fit without the pair is a rank-2 downdate
    ``C - U D U'`` with ``U = [psi_i, phi_i]``, inverted by the Woodbury
    identity: ``theta_-i = a_i + C^-1 U (I - D U' C^-1 U)^-1 D U' a_i`` with
    ``a_i = C^-1 h_-i``; every pair at once, with 2 x 2 systems. The score is
    the held-out objective ``alpha/2 r(x^t)^2 + (1-alpha)/2 r(x^s)^2 - r(x^t)``
    of the clipped ``theta``. Returns an array of shape ``(len(regs),)``.
    """
    n_s, n_t = len(Phi_s), len(Phi_t)
    n = min(n_s, n_t, _MAX_LOO_PAIRS)
    d_t, d_s = alpha / (n_t - 1), (1 - alpha) / (n_s - 1)
    G = d_t * (Phi_t.T @ Phi_t) + d_s * (Phi_s.T @ Phi_s)
    h = Phi_t.mean(axis=0)
    vals, vecs = linalg.eigh(G)
    Ps, Pt = vecs.T @ Phi_s[:n].T, vecs.T @ Phi_t[:n].T  # m x n, in G's eigenbasis
    hv = vecs.T @ h
    scores = []
    for reg in regs:
        inv = 1.0 / (vals + reg)
        Cs, Ct = inv[:, None] * Ps, inv[:, None] * Pt  # C^-1 phi_i, C^-1 psi_i
        a = (n_t * (inv * hv)[:, None] - Ct) / (n_t - 1)
        s_tt, s_ts, s_ss = (Pt * Ct).sum(0), (Pt * Cs).sum(0), (Ps * Cs).sum(0)
        v_t, v_s = d_t * (Pt * a).sum(0), d_s * (Ps * a).sum(0)
        m11, m12, m21, m22 = 1 - d_t * s_tt, -d_t * s_ts, -d_s * s_ts, 1 - d_s * s_ss
        det = m11 * m22 - m12 * m21
        z_t, z_s = (m22 * v_t - m12 * v_s) / det, (m11 * v_s - m21 * v_t) / det
        theta = np.maximum(vecs @ (a + Ct * z_t + Cs * z_s), 0.0)
        r_s = (Phi_s[:n] * theta.T).sum(1)
        r_t = (Phi_t[:n] * theta.T).sum(1)
        scores.append(np.mean(alpha / 2 * r_t**2 + (1 - alpha) / 2 * r_s**2 - r_t))
    return np.array(scores)


class _LSIFBase(_KernelRatioMixin, BaseDensityRatioReweighter):
    """Shared fit of uLSIF and RuLSIF: closed form and analytic leave-one-out."""

    _accept_sparse = "csr"
    _alpha = 0.0

    def _fit_ratio(self, X_source, X_target):
        rng = check_random_state(self.random_state)
        if min(X_source.shape[0], X_target.shape[0]) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 source and 2 target "
                             "rows for its leave-one-out selection; got n_samples="
                             f"{min(X_source.shape[0], X_target.shape[0])} in a domain.")
        centres = _centres(X_target, self.n_centers, rng)
        _check_kernel_memory(X_source.shape[0] + X_target.shape[0], centres.shape[0],
                             "Use fewer n_centers.")
        self.gamma_grid_ = _gamma_grid(self.gamma, X_source, X_target, rng)
        self.reg_grid_ = _grid(self.reg, _REG_GRID, "reg")
        # random pairing of source and target rows for the leave-one-out
        Xs, Xt = X_source[rng.permutation(X_source.shape[0])], X_target[rng.permutation(
            X_target.shape[0])]
        alpha = self._alpha
        self.loo_scores_ = np.full((len(self.gamma_grid_), len(self.reg_grid_)), np.nan)
        if self.loo_scores_.size > 1:
            for k, gamma in enumerate(self.gamma_grid_):
                self.loo_scores_[k] = _lsif_loo(rbf(Xs, centres, gamma),
                                                rbf(Xt, centres, gamma),
                                                alpha, self.reg_grid_)
            k, j = np.unravel_index(np.nanargmin(self.loo_scores_), self.loo_scores_.shape)
        else:
            k = j = 0
        self.gamma_, self.reg_ = float(self.gamma_grid_[k]), float(self.reg_grid_[j])
        Phi_s = rbf(X_source, centres, self.gamma_)
        Phi_t = rbf(X_target, centres, self.gamma_)
        H = (1 - alpha) * (Phi_s.T @ Phi_s) / len(Phi_s) + alpha * (Phi_t.T @ Phi_t) / len(
            Phi_t)
        H[np.diag_indices_from(H)] += self.reg_
        self.centers_ = centres
        self.coef_ = np.maximum(linalg.solve(H, Phi_t.mean(axis=0), assume_a="pos"), 0.0)


_LSIF_PARAMS = {
    "estimator": [HasMethods(["fit"]), None],
    "gamma": [Interval(Real, 0, None, closed="neither"), "array-like", None],
    "reg": [Interval(Real, 0, None, closed="neither"), "array-like", None],
    "n_centers": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
    "source_weights": [StrOptions({"uniform", "similarity"}), dict],
}


class ULSIF(_LSIFBase):
    """Unconstrained least-squares importance fitting (uLSIF).

    Models the density ratio as a kernel expansion on target rows,
    ``r(x) = sum_l theta_l exp(-gamma ||x - c_l||^2)``, fitted by least
    squares to the true ratio under the source distribution, with a ridge
    (Kanamori, Hido & Sugiyama, 2009)::

        min_theta  1/2 theta' H theta - h' theta + reg/2 ||theta||^2,
        H = mean_i k(x_i^s) k(x_i^s)',   h = mean_j k(x_j^t),

    solved in closed form, ``theta = max(0, (H + reg I)^-1 h)``. The kernel
    width and the ridge are chosen together by leave-one-out
    cross-validation, which for this model has a closed form: one
    eigendecomposition per width, then every left-out (source, target) pair
    and every ridge at the cost of a few matrix products (at most 10 000
    pairs are scored). It is the fastest of the kernel ratio estimators and
    numerically the most stable. Sparse rows are accepted.

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    gamma : float or array-like of float, default=None
        RBF kernel coefficient, or candidates chosen by leave-one-out. None
        tries the median heuristic times 1/64, 1/16, 1/4, 1, 4, 16 and 64.
    reg : float or array-like of float, default=None
        Ridge ``lambda``, or candidates; None tries 0.001, 0.01, 0.1 and 1.
    n_centers : int or None, default=100
        Number of target rows used as kernel centres (the paper's 100); None
        uses every target row.
    random_state : int, RandomState instance or None, default=None
        Seeds the centres, the leave-one-out pairing and the median
        heuristic's subsample.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        ``r(x)`` at the source rows, rescaled to mean 1.
    centers_ : ndarray of shape (n_centers, n_features)
        The kernel centres (target rows).
    coef_ : ndarray of shape (n_centers,)
        The non-negative coefficients ``theta``.
    gamma_ : float
        The kernel coefficient used.
    reg_ : float
        The ridge used.
    gamma_grid_, reg_grid_ : ndarray
        The candidates.
    loo_scores_ : ndarray of shape (n_gamma, n_reg)
        Leave-one-out objective of each pair of candidates (lower is
        better; NaN when only one pair was given).
    estimator_ : estimator object
        The base estimator fitted on the reweighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    RULSIF : the relative ratio, bounded by ``1 / alpha``.
    KLIEP : the same model fitted by maximum likelihood.

    References
    ----------
    .. [1] T. Kanamori, S. Hido and M. Sugiyama. "A Least-squares Approach to
       Direct Importance Estimation". JMLR 10, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import ULSIF
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (200, 1)), rng.normal(0.5, 0.5, (200, 1))]
    >>> sd = np.r_[np.ones(200, int), -np.ones(200, int)]
    >>> ulsif = ULSIF(random_state=0).fit(X, sample_domain=sd)
    >>> r = ulsif.density_ratio([[0.5], [3.0]])
    >>> bool(r[0] > 1 > r[1])
    True
    """

    _parameter_constraints = dict(_LSIF_PARAMS)

    def __init__(self, estimator=None, *, gamma=None, reg=None, n_centers=100,
                 random_state=None, source_weights="uniform"):
        self.estimator = estimator
        self.gamma = gamma
        self.reg = reg
        self.n_centers = n_centers
        self.random_state = random_state
        self.source_weights = source_weights


class RULSIF(_LSIFBase):
    """Relative unconstrained least-squares importance fitting (RuLSIF).

    Estimates the *relative* density ratio
    ``r_alpha(x) = p_t(x) / (alpha p_t(x) + (1 - alpha) p_s(x))``, which is
    bounded by ``1 / alpha`` even where the source is sparse, so its
    estimate converges faster and its weights have a smaller variance than
    the plain ratio's (Yamada et al., 2011). The model and the closed form
    are uLSIF's (``alpha = 0`` gives :class:`ULSIF`), with
    ``H = (1 - alpha) mean_i k(x_i^s) k(x_i^s)' + alpha mean_j k(x_j^t) k(x_j^t)'``;
    the kernel width and the ridge are chosen by closed-form leave-one-out.
    :meth:`density_ratio` returns ``r_alpha``, not the plain ratio.

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    alpha : float in [0, 1), default=0.1
        Share of the target density in the denominator.
    gamma : float or array-like of float, default=None
        RBF kernel coefficient, or candidates chosen by leave-one-out. None
        tries the median heuristic times 1/64, 1/16, 1/4, 1, 4, 16 and 64.
    reg : float or array-like of float, default=None
        Ridge ``lambda``, or candidates; None tries 0.001, 0.01, 0.1 and 1.
    n_centers : int or None, default=100
        Number of target rows used as kernel centres; None uses all.
    random_state : int, RandomState instance or None, default=None
        Seeds the centres, the leave-one-out pairing and the median
        heuristic's subsample.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        ``r_alpha(x)`` at the source rows, rescaled to mean 1.
    centers_ : ndarray of shape (n_centers, n_features)
        The kernel centres (target rows).
    coef_ : ndarray of shape (n_centers,)
        The non-negative coefficients ``theta``.
    gamma_ : float
        The kernel coefficient used.
    reg_ : float
        The ridge used.
    gamma_grid_, reg_grid_ : ndarray
        The candidates.
    loo_scores_ : ndarray of shape (n_gamma, n_reg)
        Leave-one-out objective of each pair of candidates (lower is better).
    estimator_ : estimator object
        The base estimator fitted on the reweighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] M. Yamada, T. Suzuki, T. Kanamori, H. Hachiya and M. Sugiyama.
       "Relative Density-Ratio Estimation for Robust Distribution
       Comparison". NIPS 2011.
    .. [2] T. Kanamori, S. Hido and M. Sugiyama. "A Least-squares Approach to
       Direct Importance Estimation". JMLR 10, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import RULSIF
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (200, 1)), rng.normal(0.5, 0.5, (200, 1))]
    >>> sd = np.r_[np.ones(200, int), -np.ones(200, int)]
    >>> rulsif = RULSIF(alpha=0.5, random_state=0).fit(X, sample_domain=sd)
    >>> bool(rulsif.density_ratio([[0.5]])[0] > 1)
    True
    """

    _parameter_constraints = {**_LSIF_PARAMS,
                              "alpha": [Interval(Real, 0, 1, closed="left")]}

    def __init__(self, estimator=None, *, alpha=0.1, gamma=None, reg=None, n_centers=100,
                 random_state=None, source_weights="uniform"):
        self.estimator = estimator
        self.alpha = alpha
        self.gamma = gamma
        self.reg = reg
        self.n_centers = n_centers
        self.random_state = random_state
        self.source_weights = source_weights

    @property
    def _alpha(self):
        return self.alpha


# --------------------------------------------------------- neighbours and densities


class NearestNeighborReweighter(BaseDensityRatioReweighter):
    """Nearest-neighbour weighting: target counts in the source rows' cells.

    Each source row owns the cell of points closer to it than to any other
    source row (its Voronoi cell). The fraction of target rows in a cell over
    the fraction of source rows (one) estimates the ratio there (Loog,
    2012): a source row's weight is the number of target rows whose nearest
    source row it is, plus an optional pseudo-count ``smoothing`` so that no
    row gets weight 0. With ``n_neighbors = k`` each target row gives ``1/k`` to each
    of its ``k`` nearest source rows. No kernel width to choose, a
    k-d/ball tree fit, and :meth:`density_ratio` at a new row is the weight of
    the cell it falls in. Sparse rows are accepted (brute-force search).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    n_neighbors : int, default=1
        Source rows each target row votes for.
    smoothing : float, default=0.0
        Pseudo-count added to every cell; 1 is Laplace smoothing. The default
        keeps the raw counts (as skada and ADAPT do): the mean count is
        ``n_target / n_source``, so with domains of equal size a pseudo-count
        of 1 halves the weights' dynamic range.
    metric : str or callable, default="euclidean"
        Distance of :class:`~sklearn.neighbors.NearestNeighbors`.
    n_jobs : int, default=None
        Parallel jobs of the neighbour search.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        (Smoothed) cell counts, rescaled to mean 1.
    nearest_neighbors_ : NearestNeighbors
        The neighbour index of the source rows.
    estimator_ : estimator object
        The base estimator fitted on the reweighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] M. Loog. "Nearest neighbor-based importance weighting". IEEE
       International Workshop on Machine Learning for Signal Processing, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import NearestNeighborReweighter
    >>> X = np.array([[0.0], [1.0], [2.0], [0.9], [1.1], [2.1]])
    >>> sd = np.array([1, 1, 1, -1, -1, -1])
    >>> NearestNeighborReweighter(smoothing=0).fit(X, sample_domain=sd).weights_
    array([0., 2., 1.])
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "metric": [str, callable],
        "n_jobs": [Integral, None],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }

    def __init__(self, estimator=None, *, n_neighbors=1, smoothing=0.0, metric="euclidean",
                 n_jobs=None, source_weights="uniform"):
        self.estimator = estimator
        self.n_neighbors = n_neighbors
        self.smoothing = smoothing
        self.metric = metric
        self.n_jobs = n_jobs
        self.source_weights = source_weights

    def _fit_ratio(self, X_source, X_target):
        k = min(self.n_neighbors, X_source.shape[0])
        self.nearest_neighbors_ = NearestNeighbors(metric=self.metric, n_jobs=self.n_jobs)
        self.nearest_neighbors_.fit(X_source)
        idx = self.nearest_neighbors_.kneighbors(X_target, k, return_distance=False)
        counts = np.bincount(idx.ravel(), minlength=X_source.shape[0]) / k
        self._cells = counts + self.smoothing
        return self._cells

    def _ratio(self, X):
        return self._cells[self.nearest_neighbors_.kneighbors(X, 1, return_distance=False)[:, 0]]


def _standardiser(X_source, X_target):
    """Pooled per-feature scale: the ratio is invariant to it, the bandwidth rules are not."""
    scale = np.vstack([X_source, X_target]).std(axis=0)
    return np.where(scale > 0, scale, 1.0)


def _nan_to_minus_inf(log_ratio):
    """A log-ratio of 0 / 0 (both densities vanish, far from both domains) is taken as -inf."""
    return np.where(np.isnan(log_ratio), -np.inf, log_ratio)


class _LogRatioMixin:
    """``exp(log r)``, shifted by the source maximum so the fit never overflows."""

    def _ratio(self, X):
        log_ratio = _nan_to_minus_inf(self._log_ratio(X)) - self._log_shift
        return np.exp(np.minimum(log_ratio, 700.0))

    def _set_log_shift(self, X_source):
        """Store the shift; return the ratio at the source rows."""
        log_ratio = _nan_to_minus_inf(self._log_ratio(X_source))
        top = float(np.max(log_ratio))
        self._log_shift = top if np.isfinite(top) else 0.0
        return np.exp(log_ratio - self._log_shift)


class KernelDensityReweighter(_LogRatioMixin, BaseDensityRatioReweighter):
    """Ratio of two kernel density estimates, one per domain.

    Fits a :class:`~sklearn.neighbors.KernelDensity` on the source rows and
    one on the target rows and weighs a row by ``p_t(x) / p_s(x)``. Features
    are first divided by their pooled standard deviation (the ratio does not
    change, but the bandwidth rules assume unit scale), so "scott" and
    "silverman" work on raw features. Dividing two estimates is the textbook
    baseline that the direct methods (:class:`KLIEP`, :class:`ULSIF`) improve
    on in many dimensions (Sugiyama et al., 2012); in a few dimensions it is
    hard to beat. It needs dense rows (sparse input is refused).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    bandwidth : float or {"scott", "silverman"}, default="scott"
        Bandwidth of both estimates, on the standardised features; the rules
        are computed per domain.
    kernel : str, default="gaussian"
        Kernel of :class:`~sklearn.neighbors.KernelDensity`.
    max_weight : float, default=None
        Clip weights above this value (after rescaling to mean 1).
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        ``p_t(x) / p_s(x)`` at the source rows, rescaled to mean 1.
    density_source_, density_target_ : KernelDensity
        The fitted estimates (on standardised features).
    scale_ : ndarray of shape (n_features,)
        The pooled standard deviation the features are divided by.
    estimator_ : estimator object
        The base estimator fitted on the reweighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] H. Shimodaira. "Improving predictive inference under covariate
       shift by weighting the log-likelihood function". J. Statistical
       Planning and Inference, 2000.
    .. [2] M. Sugiyama, T. Suzuki and T. Kanamori. "Density Ratio Estimation
       in Machine Learning". Cambridge University Press, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import KernelDensityReweighter
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (200, 1)), rng.normal(0.5, 0.5, (200, 1))]
    >>> sd = np.r_[np.ones(200, int), -np.ones(200, int)]
    >>> kde = KernelDensityReweighter().fit(X, sample_domain=sd)
    >>> r = kde.density_ratio([[0.5], [3.0]])
    >>> bool(r[0] > 1 > r[1])
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "bandwidth": [Interval(Real, 0, None, closed="neither"),
                      StrOptions({"scott", "silverman"})],
        "kernel": [StrOptions({"gaussian", "tophat", "epanechnikov", "exponential",
                               "linear", "cosine"})],
        "max_weight": [Interval(Real, 0, None, closed="neither"), None],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }

    def __init__(self, estimator=None, *, bandwidth="scott", kernel="gaussian",
                 max_weight=None, source_weights="uniform"):
        self.estimator = estimator
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.max_weight = max_weight
        self.source_weights = source_weights

    def _fit_ratio(self, X_source, X_target):
        self.scale_ = _standardiser(X_source, X_target)
        self.density_source_, self.density_target_ = (
            KernelDensity(bandwidth=self.bandwidth, kernel=self.kernel).fit(X / self.scale_)
            for X in (X_source, X_target)
        )
        return self._set_log_shift(X_source)

    def _log_ratio(self, X):
        Z = X / self.scale_
        return self.density_target_.score_samples(Z) - self.density_source_.score_samples(Z)


def _ledoit_wolf(X, mean, cov):
    """Ledoit & Wolf's (2004) shrinkage of ``cov`` towards ``mu I``, from row norms only.

    With centred rows ``z_i``, the optimal intensity needs
    ``sum_i ||z_i z_i' - S||_F^2 = sum_i ||z_i||^4 - n ||S||_F^2``, and
    ``||z_i||^2 = ||x_i||^2 - 2 m'x_i + ||m||^2`` is cheap for sparse rows.
    """
    n, d = X.shape
    if sp.issparse(X):
        sq = row_quadratic_forms(X, np.eye(d)) - 2 * np.asarray(X @ mean).ravel() + mean @ mean
    else:  # dense rows: centre them (the expansion cancels catastrophically for large means)
        sq = np.sum((X - mean) ** 2, axis=1)
    mu = np.trace(cov) / d
    delta = np.sum((cov - mu * np.eye(d)) ** 2)
    beta = max(np.sum(sq**2) - n * np.sum(cov**2), 0.0) / n**2
    shrinkage = 0.0 if delta == 0 else min(beta, delta) / delta
    return (1 - shrinkage) * cov + shrinkage * mu * np.eye(d)


def _gaussian_fit(X, reg):
    """Mean and Cholesky factor of a (shrunk or ridged) covariance estimate."""
    mean, cov = mean_and_covariance(X)
    d = X.shape[1]
    if reg == "auto" and X.shape[0] < 2:
        cov = np.eye(d)
    elif reg == "auto":  # shrink the correlation matrix: invariant to the features' units
        std = np.sqrt(np.diag(cov))
        # a constant feature's variance is rounding noise (its mean is not exact): below
        # sqrt(eps) of its scale it counts as constant, not as a 1e-16 standard deviation
        # that would scale it (and the shrinkage target) by 1e16
        std = np.where(std > np.sqrt(np.finfo(float).eps) * np.maximum(np.abs(mean), 1.0),
                       std, 1.0)
        Xu = X.multiply(1.0 / std).tocsr() if sp.issparse(X) else X / std
        cov = _ledoit_wolf(Xu, mean / std, cov / np.outer(std, std)) * np.outer(std, std)
    else:
        cov = cov + reg * np.eye(d)
    try:
        chol = linalg.cholesky(cov, lower=True)
    except linalg.LinAlgError as exc:
        raise ValueError(
            "A domain's covariance is singular (constant or collinear features, or fewer "
            "rows than features): use reg='auto' or a positive reg."
        ) from exc
    return mean, chol


def _gaussian_logpdf(X, mean, chol):
    """Log-density up to the shared constant, for dense or sparse rows."""
    precision = linalg.cho_solve((chol, True), np.eye(len(mean)))
    pm = precision @ mean
    quad = row_quadratic_forms(X, precision) - 2 * np.asarray(X @ pm).ravel() + mean @ pm
    return -0.5 * quad - np.log(np.diag(chol)).sum()


class GaussianReweighter(_LogRatioMixin, BaseDensityRatioReweighter):
    """Ratio of two Gaussians, one fitted per domain.

    Models each domain by a multivariate normal (mean and covariance) and
    weighs a row by ``N(x; mu_t, S_t) / N(x; mu_s, S_s)`` (Shimodaira, 2000).
    The cheapest ratio estimate and exact when both domains are Gaussian;
    the weights grow fast away from the source, so ``max_weight`` is worth
    setting when the target is wider than the source. The covariances are
    Ledoit-Wolf shrinkage estimates by default, well-posed with more features
    than rows. Sparse rows are accepted up to 5 000 features (the ``d x d``
    covariances are dense; the rows are never densified as a whole).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    reg : "auto" or float, default="auto"
        "auto" shrinks each domain's correlation matrix with the Ledoit-Wolf
        rule (so the estimate does not depend on the features' units); a
        float adds ``reg`` times the identity to the empirical covariance.
    max_weight : float, default=None
        Clip weights above this value (after rescaling to mean 1).
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        The Gaussian ratio at the source rows, rescaled to mean 1.
    means_ : ndarray of shape (2, n_features)
        Source and target means.
    covariances_ : ndarray of shape (2, n_features, n_features)
        Source and target covariances.
    estimator_ : estimator object
        The base estimator fitted on the reweighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] H. Shimodaira. "Improving predictive inference under covariate
       shift by weighting the log-likelihood function". J. Statistical
       Planning and Inference, 2000.
    .. [2] O. Ledoit and M. Wolf. "A well-conditioned estimator for
       large-dimensional covariance matrices". J. Multivariate Analysis, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import GaussianReweighter
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (200, 1)), rng.normal(0.5, 0.5, (200, 1))]
    >>> sd = np.r_[np.ones(200, int), -np.ones(200, int)]
    >>> gauss = GaussianReweighter().fit(X, sample_domain=sd)
    >>> r = gauss.density_ratio([[0.5], [3.0]])
    >>> bool(r[0] > 1 > r[1])
    True
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "reg": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "max_weight": [Interval(Real, 0, None, closed="neither"), None],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }

    def __init__(self, estimator=None, *, reg="auto", max_weight=None, source_weights="uniform"):
        self.estimator = estimator
        self.reg = reg
        self.max_weight = max_weight
        self.source_weights = source_weights

    def _fit_ratio(self, X_source, X_target):
        check_sparse_width(X_source, "GaussianReweighter")
        (mu_s, ch_s), (mu_t, ch_t) = (_gaussian_fit(X, self.reg) for X in (X_source, X_target))
        self._chol = (ch_s, ch_t)
        self.means_ = np.vstack([mu_s, mu_t])
        self.covariances_ = np.stack([ch_s @ ch_s.T, ch_t @ ch_t.T])
        return self._set_log_shift(X_source)

    def _log_ratio(self, X):
        return (_gaussian_logpdf(X, self.means_[1], self._chol[1])
                - _gaussian_logpdf(X, self.means_[0], self._chol[0]))
