"""Kernel mean matching (Huang, Smola, Gretton, Borgwardt & Schölkopf, NIPS 2006), and its
target-shift form with label-dependent weights (Zhang, Schölkopf, Muandet & Wang, ICML 2013)."""

import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target

from ._base import BaseReweighter
from .utils._array_api import (
    cast,
    clip,
    concat,
    get_namespace,
    is_numpy,
    on_host,
    rows_slice,
    take_rows,
    to_numpy,
    vector_norm,
)
from .utils._blocks import as_rows
from .utils._kernel import nystrom_map, rbf

_GIB = 2**30


class KMMSolverError(ValueError):
    """The KMM quadratic programme could not be solved."""


def _kernel(X, Y, kernel, gamma, degree, coef0, kernel_params):
    """``k(X, Y)`` with KernelPCA's parameter names."""
    if callable(kernel):
        return pairwise_kernels(X, Y, metric=kernel, **(kernel_params or {}))
    if kernel == "rbf" and not kernel_params and on_host(X, Y):  # the hot loop
        return rbf(X, Y, 1.0 / X.shape[1] if gamma is None else gamma)
    params = {"gamma": gamma, "degree": degree, "coef0": coef0}
    allowed = {
        "rbf": ("gamma",), "laplacian": ("gamma",), "chi2": ("gamma",),
        "poly": ("gamma", "degree", "coef0"), "polynomial": ("gamma", "degree", "coef0"),
        "sigmoid": ("gamma", "coef0"), "linear": (), "cosine": (), "additive_chi2": (),
    }[kernel]
    kw = {k: params[k] for k in allowed if not (k == "gamma" and params[k] is None)}
    kw.update(kernel_params or {})
    return pairwise_kernels(X, Y, metric=kernel, filter_params=True, **kw)


def _kernel_row_sums(X, Y, kernel_fn, weights=None, block_bytes=2**23):
    """``k(X, Y) @ weights`` (``weights=None``: ones) in blocks of at most ``block_bytes``.

    The blocks (8 MiB: about the cache) run over the longer of the two sets of
    rows; over ``Y``'s, the partial products are summed.
    """
    xp = get_namespace(X)

    def product(K, w):
        return xp.sum(K, axis=1) if w is None else K @ w

    if X.shape[0] >= Y.shape[0]:
        batch = max(1, block_bytes // (8 * max(Y.shape[0], 1)))
        parts = [product(kernel_fn(rows_slice(X, sl), Y), weights)
                 for sl in gen_batches(X.shape[0], batch)]
        return concat(parts) if len(parts) > 1 else parts[0]
    batch = max(1, block_bytes // (8 * max(X.shape[0], 1)))
    total = None
    for sl in gen_batches(Y.shape[0], batch):
        part = product(kernel_fn(X, rows_slice(Y, sl)), None if weights is None else
                       weights[sl])
        total = part if total is None else total + part
    return total


def _norm(x):
    return float(vector_norm(x))


def _project_box_band(v, upper, lo, hi):
    """Euclidean projection onto ``{0 <= b <= upper, lo <= sum(b) <= hi}``.

    The projection is ``clip(v - tau, 0, upper)`` for the scalar ``tau`` that
    puts the sum back inside the band (0 when it already is); ``sum`` is
    monotone in ``tau``, so bisection finds it to machine precision.
    """
    xp = get_namespace(v)
    b = clip(v, min=0.0, max=upper)
    s = float(xp.sum(b))
    if lo <= s <= hi:
        return b
    target = hi if s > hi else lo
    t_lo, t_hi = float(xp.min(v)) - upper, float(xp.max(v))  # sum n*upper at t_lo, 0 at t_hi
    for _ in range(100):
        tau = 0.5 * (t_lo + t_hi)
        if float(xp.sum(clip(v - tau, min=0.0, max=upper))) > target:
            t_lo = tau
        else:
            t_hi = tau
        if t_hi - t_lo <= 1e-14 * max(1.0, abs(tau)):
            break
    return clip(v - 0.5 * (t_lo + t_hi), min=0.0, max=upper)


def _top_eigenvalue(matvec, n, rng, n_iter=50, like=None):
    """Largest eigenvalue of a PSD operator by power iteration (slightly inflated).

    ``like`` is an array in the namespace and on the device to work in.
    """
    v = rng.normal(size=n)
    v = v if like is None else cast(v, like)
    v = v / _norm(v)
    lam = 0.0
    for _ in range(n_iter):
        w = matvec(v)
        lam_new = float(v @ w)
        norm = _norm(w)
        if norm == 0:
            return 1.0
        v = w / norm
        if abs(lam_new - lam) <= 1e-6 * abs(lam_new):
            lam = lam_new
            break
        lam = lam_new
    return 1.01 * max(lam, np.finfo(float).tiny)


def _fista(matvec, kappa, upper, lo, hi, lipschitz, tol, max_iter, beta0=None):
    """Accelerated projected gradient for min 1/2 b'Kb - kappa'b on the KMM set.

    FISTA (Beck & Teboulle, 2009) with gradient-based adaptive restart
    (O'Donoghue & Candès, 2015). Stops when the iterates move less than
    ``tol`` relative to their norm, or when the objective, checked every
    ``check`` iterations, improved by less than ``tol`` relative (flat
    directions of a smooth kernel can keep the iterates drifting at no gain).
    Written against the array API (``kappa``'s namespace and device).
    Returns ``(beta, n_iter, converged)``.
    """
    xp = get_namespace(kappa)
    step = 1.0 / lipschitz
    beta = _project_box_band(xp.ones_like(kappa) if beta0 is None else beta0, upper, lo, hi)
    z, t = beta, 1.0
    check, f_prev = 10, None
    for it in range(1, max_iter + 1):
        grad = matvec(z) - kappa
        new = _project_box_band(z - step * grad, upper, lo, hi)
        diff = new - beta
        if float(xp.sum((z - new) * diff)) > 0:  # momentum points uphill: restart
            t = 1.0
            z = new
        else:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            z = new + ((t - 1.0) / t_new) * diff
            t = t_new
        beta = new
        if _norm(diff) <= tol * max(1.0, _norm(beta)):
            return beta, it, True
        if it % check == 0:
            f = float(0.5 * beta @ matvec(beta) - kappa @ beta)
            if f_prev is not None and abs(f_prev - f) <= tol * max(1.0, abs(f)):
                return beta, it, True
            f_prev = f
    return beta, max_iter, False


def _cvxpy_solve(K, kappa, upper, lo, hi):
    """The exact QP with cvxpy and the Clarabel interior-point solver."""
    import cvxpy as cp

    beta = cp.Variable(K.shape[0])
    objective = cp.Minimize(0.5 * cp.quad_form(beta, cp.psd_wrap(K)) - kappa @ beta)
    constraints = [beta >= 0, beta <= upper, cp.sum(beta) >= lo, cp.sum(beta) <= hi]
    problem = cp.Problem(objective, constraints)
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        raise KMMSolverError(
            f"cvxpy could not solve the KMM problem ({exc}). Try solver='fista', "
            "a larger eps or B, or rescaling the features."
        ) from exc
    if problem.status not in ("optimal", "optimal_inaccurate") or beta.value is None:
        raise KMMSolverError(
            f"cvxpy ended with status {problem.status!r} on the KMM problem. Check "
            "that B * n_source >= n_source * (1 - eps) (the problem must be feasible), "
            "or try solver='fista'."
        )
    return np.clip(beta.value, 0.0, upper)


class KMM(BaseReweighter):
    """Kernel mean matching: source weights whose kernel mean matches the target's.

    KMM finds weights ``beta`` for the source rows so that the weighted mean of
    the source in a reproducing-kernel Hilbert space matches the target mean
    (Huang et al., 2006), by solving the quadratic programme

    ``min_beta 1/2 beta' K beta - kappa' beta``
    subject to ``0 <= beta_i <= B`` and ``|sum(beta) - n_s| <= n_s * eps``,

    with ``K`` the source kernel matrix and
    ``kappa_i = (n_s / n_t) sum_j k(x_i, x'_j)``. The base estimator is then
    fitted on the source rows with ``beta`` as ``sample_weight``.

    Three solvers give the same solution:

    * ``"fista"`` (dense, the default up to ``dense_limit`` source rows):
      accelerated projected gradient with exact projection onto the box and
      the sum band; each step is one ``K @ beta`` product. It reaches the
      interior-point objective to ~1e-6 relative in a fraction of the time.
    * ``"cvxpy"``: the exact QP with cvxpy and Clarabel, as a reference and
      for users who want a solver certificate.
    * ``"nystrom"`` (the default above ``dense_limit``, and the only one on
      Dask input): the problem on a Nyström factor ``K ~ Phi Phi'`` with
      ``n_components`` landmarks drawn from both domains, solved by a
      working set (column generation): FISTA on the rows of the set, then one
      pass over all source rows that adds the rows violating the optimality
      conditions, until none does. Then the *exact* problem restricted to a
      candidate support: KMM weights are sparse (a few hundred rows carry
      them), so the approximate solution locates the support and the exact
      kernel on ``refine_size`` candidates (its rows, plus those with the
      largest approximate negative gradient) gives exact weights there.
      The support has at least ``sum(beta) / B`` rows, about ``n_s / B``, so
      it grows with the data (10 000 rows and more at 10 million source rows
      with the default ``B``); once it exceeds a quarter of ``refine_size``,
      the exact problem is solved on the ``refine_size`` rows whose Nyström
      optimality margin is smallest (the weights strictly inside ``(0, B)``
      and the rows nearest to entering or leaving the support: those an exact
      kernel can move), the other weighted rows keeping their Nyström weights
      (through their exact kernel against the refined rows and the sum band).
      The refinement's work is then bounded whatever the rows: a dense
      ``refine_size``-square kernel and ``refine_size`` kernel values per
      target row, so the time per row stays flat. It only ever lowers the
      exact objective (the Nyström weights are feasible for it, and kept when
      better), and the result is the same on NumPy and Dask input. Each
      round is one pass of reductions over blocks of rows, so memory does not
      grow with n beyond the data and, on Dask arrays, the passes run on the
      cluster (``weights_`` is then a lazy Dask array). We chose Nyström over
      random Fourier features because it works for every kernel (not only
      shift-invariant ones) and, at equal rank, captures the kernel's leading
      spectrum better; the benchmarks report the accuracy against exact.

    With Dask input and an ``estimator``, estimators with ``partial_fit``
    (e.g. :class:`~sklearn.linear_model.SGDClassifier`) are fed the weighted
    labelled rows chunk by chunk (one pass); any other estimator receives
    Dask arrays in ``fit(X, y, sample_weight=...)`` and must accept them
    (dask-ml's estimators do; a plain scikit-learn one would load them into
    memory). With ``estimator=None`` the lazy ``weights_`` serve your own
    pipeline.

    KMM has no :meth:`density_ratio`: it solves for one weight per training
    source row and has no model of the ratio at new rows (asking for it raises
    ``AttributeError`` saying so). Use :class:`~sktl.KLIEP`,
    :class:`~sktl.ULSIF` or :class:`~sktl.DiscriminativeReweighter` when the
    ratio is needed at test points (e.g. weighted conformal prediction).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    kernel : str or callable, default="rbf"
        Any scikit-learn pairwise kernel (as in :class:`~sklearn.decomposition.KernelPCA`).
    gamma : float, default=None
        Kernel coefficient for "rbf", "poly", "sigmoid", "laplacian" and
        "chi2"; None means ``1 / n_features``.
    degree : int, default=3
        Degree of the "poly" kernel.
    coef0 : float, default=1
        Independent term of the "poly" and "sigmoid" kernels.
    kernel_params : dict, default=None
        Extra parameters of a callable kernel.
    B : float, default=1000.0
        Upper bound of every weight (the paper's default).
    eps : float, default=None
        Half-width of the band on ``sum(beta) / n_s``; None means the paper's
        ``(sqrt(n_s) - 1) / sqrt(n_s)``.
    solver : {"auto", "fista", "cvxpy", "nystrom"}, default="auto"
        See above. "auto" uses "fista" up to ``dense_limit`` source rows and
        "nystrom" beyond.
    tol : float, default=1e-7
        Relative change of the weights at which FISTA stops.
    max_iter : int, default=20000
        Maximum FISTA iterations; a :class:`~sklearn.exceptions.ConvergenceWarning`
        says when they were not enough.
    n_components : int, default=300
        Nyström rank (number of landmarks) for ``solver="nystrom"``.
    refine_size : int, default=3000
        ``solver="nystrom"`` then solves the exact problem on this many rows
        (at most what ``max_dense_memory`` allows for their dense kernel): all
        the weighted rows and the best-scored others while the Nyström
        support holds at most a quarter of them, else the rows nearest to
        their optimality margin with the other weights held (see above). The
        refinement's cost is linear in the target rows and does not grow
        with the support (``benchmarks/results/scale.md``).
    max_rounds : int, default=50
        Maximum working-set rounds (passes over the source rows) of
        ``solver="nystrom"``.
    dense_limit : int, default=5000
        Largest number of source rows for which "auto" builds the dense
        kernel.
    max_dense_memory : float, default=4.0
        Memory bound in GiB for the dense kernel of "fista" and "cvxpy" (the
        latter needs about four times the kernel) and of the candidates of
        "nystrom". Larger problems are refused with a pointer to
        ``solver="nystrom"`` (or, for it, to a larger ``B``) instead of swapping.
    random_state : int, RandomState instance or None, default=None
        Seeds the power iteration and the Nyström landmarks.
    verbose : int, default=0
        Print the progress of the Nyström rounds (0: silent).
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray or dask array of shape (n_source,)
        The KMM weights ``beta`` of the source rows.
    objective_ : float
        Value of ``1/2 beta' K beta - kappa' beta`` at the solution (exact
        kernel; for "nystrom", of the problem restricted to the refined rows,
        with the terms of the held rows' weights alone left out).
    n_refined_ : int
        Number of source rows whose weights the exact kernel set ("nystrom":
        at most ``refine_size``; "fista", "cvxpy": all of them).
    solver_ : str
        The solver used.
    n_iter_ : int
        FISTA iterations (0 for cvxpy).
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
    .. [1] J. Huang, A. Smola, A. Gretton, K. Borgwardt and B. Schölkopf.
       "Correcting Sample Selection Bias by Unlabeled Data". NIPS 2006.
    .. [2] A. Beck and M. Teboulle. "A Fast Iterative Shrinkage-Thresholding
       Algorithm for Linear Inverse Problems". SIAM J. Imaging Sci., 2009.
    .. [3] C. Williams and M. Seeger. "Using the Nyström Method to Speed Up
       Kernel Machines". NIPS 2001.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import KMM
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(100, 100, random_state=0, mask_target=True)
    >>> kmm = KMM(LogisticRegression(), random_state=0).fit(X, y, sample_domain=sd)
    >>> kmm.weights_.shape, bool(kmm.weights_.min() >= 0)
    ((100,), True)
    """

    _accept_sparse = "csr"

    _no_density_ratio = (
        "KMM solves for one weight per training source row and has no model of "
        "the ratio at new rows; use KLIEP, ULSIF or DiscriminativeReweighter for that."
    )

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "kernel": [StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS) | {"polynomial"}), callable],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "coef0": [Real],
        "kernel_params": [dict, None],
        "B": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, None, closed="left"), None],
        "solver": [StrOptions({"auto", "fista", "cvxpy", "nystrom"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "refine_size": [Interval(Integral, 1, None, closed="left")],
        "max_rounds": [Interval(Integral, 1, None, closed="left")],
        "dense_limit": [Interval(Integral, 1, None, closed="left")],
        "max_dense_memory": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }
    _dask_support = True
    _array_api_support = True

    def __init__(
        self,
        estimator=None,
        *,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        B=1000.0,
        eps=None,
        solver="auto",
        tol=1e-7,
        max_iter=20000,
        n_components=300,
        refine_size=3000,
        max_rounds=50,
        dense_limit=5000,
        max_dense_memory=4.0,
        random_state=None,
        verbose=0,
        source_weights="uniform",
    ):
        self.estimator = estimator
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.B = B
        self.eps = eps
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_components = n_components
        self.refine_size = refine_size
        self.max_rounds = max_rounds
        self.dense_limit = dense_limit
        self.max_dense_memory = max_dense_memory
        self.random_state = random_state
        self.verbose = verbose
        self.source_weights = source_weights

    def _kernel_fn(self, n_features):
        gamma = self.gamma if self.gamma is not None else 1.0 / n_features

        def k(A, C):
            return _kernel(A, C, self.kernel, gamma, self.degree, self.coef0,
                           self.kernel_params)

        return k

    def _fit_weights(self, X_source, X_target):
        source, target = as_rows(X_source), as_rows(X_target)
        n_s, n_t = source.n_rows, target.n_rows
        eps = self.eps if self.eps is not None else (np.sqrt(n_s) - 1) / np.sqrt(n_s)
        lo, hi = max(0.0, n_s * (1 - eps)), n_s * (1 + eps)
        if lo > self.B * n_s:
            raise KMMSolverError(
                f"The KMM constraints are infeasible: B * n_source = {self.B * n_s:g} is "
                f"below n_source * (1 - eps) = {lo:g}. Increase B or eps."
            )
        solver = self.solver
        if solver == "auto":
            solver = "fista" if n_s <= self.dense_limit and not source.lazy else "nystrom"
        if source.lazy and solver != "nystrom":
            raise ValueError(f"solver={solver!r} needs the dense kernel in memory; on Dask "
                             "input use solver='nystrom' (or 'auto').")
        self.solver_ = solver
        rng = check_random_state(self.random_state)
        kfn = self._kernel_fn(source.n_features)
        if solver == "nystrom":
            return self._nystrom(source, target, kfn, lo, hi, rng)
        factor = 4 if solver == "cvxpy" else 1
        needed = factor * 8 * n_s**2 / _GIB
        if needed > self.max_dense_memory:
            raise ValueError(
                f"solver={solver!r} would need about {needed:.1f} GiB for the dense "
                f"{n_s}x{n_s} kernel (max_dense_memory={self.max_dense_memory} GiB). "
                "Use solver='nystrom' (memory linear in n) or raise max_dense_memory."
            )
        K = kfn(X_source, X_source)
        kappa = (n_s / n_t) * _kernel_row_sums(X_source, X_target, kfn)
        self.n_refined_ = n_s
        if solver == "cvxpy":
            if not is_numpy(get_namespace(K)):
                raise ValueError("solver='cvxpy' works on NumPy arrays only; use 'fista' or "
                                 "'nystrom' with array API inputs.")
            beta = _cvxpy_solve(K, kappa, self.B, lo, hi)
            self.n_iter_ = 0
            self.objective_ = float(0.5 * beta @ K @ beta - kappa @ beta)
            return beta

        def matvec(b):
            return K @ b

        beta, self.n_iter_, converged = _fista(matvec, kappa, self.B, lo, hi,
                                               _top_eigenvalue(matvec, n_s, rng,
                                                               like=kappa),
                                               self.tol, self.max_iter)
        self._warn_convergence(converged)
        self.objective_ = float(0.5 * beta @ matvec(beta) - kappa @ beta)
        return beta

    def _warn_convergence(self, converged):
        if not converged:
            warnings.warn(
                f"KMM's FISTA solver did not converge in max_iter={self.max_iter} "
                f"iterations (tol={self.tol}). Increase max_iter or tol, or use "
                "solver='cvxpy' for the exact problem.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _log(self, message):
        if self.verbose:
            print(f"[KMM] {message}", flush=True)

    def _nystrom(self, source, target, kfn, lo, hi, rng):
        """Nyström KMM by a working set, then the exact problem on the candidates.

        With the Nyström factor ``K ~ Phi Phi'`` the problem only involves
        ``u = Phi' beta`` (``r`` numbers); its weights are sparse. A working
        set ``S`` of source rows is grown by *column generation*: solve the
        problem restricted to ``S`` (FISTA on ``|S|`` variables, in memory),
        then one pass over all source rows scores every row by its negative
        gradient ``phi_i' (c - u)`` and returns the best ones (a blockwise
        top-k); rows outside ``S`` that violate the optimality conditions
        join ``S``. When none does, the restricted solution solves the whole
        Nyström problem. Each round is one pass of reductions over the rows:
        no ``n``-sized iterate is ever held, and on Dask input the passes run
        on the cluster. The exact kernel on the final candidates (see
        :meth:`_refine`) then gives the weights.
        """
        n_s, n_t = source.n_rows, target.n_rows
        m = min(self.n_components, n_s + n_t)
        idx = rng.choice(n_s + n_t, m, replace=False)
        landmarks = concat([source.take(idx[idx < n_s]), target.take(idx[idx >= n_s] - n_s)])
        proj = nystrom_map(kfn(landmarks, landmarks), landmarks)
        start = time.perf_counter()
        xp = get_namespace(landmarks)
        # every pass computes its kernel block by block (8 MiB): n x m never at once
        t_sum = target.reduce(lambda X, sd, keys: _kernel_row_sums(landmarks, X, kfn))
        c = (n_s / n_t) * (proj.T @ t_sum)
        self._log(f"{m} landmarks, target mean embedded ({time.perf_counter() - start:.1f} s)")
        S_keys = np.zeros(0, dtype=np.int64)
        S_rows = rows_slice(landmarks, slice(0, 0))
        beta, u, nu, scale, n_iter = c[:0], 0 * c, 0.0, None, 0
        converged = False
        for round_ in range(1, self.max_rounds + 1):
            v = proj @ (c - u)
            n_support = int((to_numpy(beta) > 1e-10).sum())
            # rows joining per round: half the refinement budget, as many as the working set
            # holds (it at most doubles), and n_source / B (the fewest rows that carry an
            # average weight of one): a number of rounds that hardly grows with the rows
            grow = max(self.refine_size // 2, len(S_keys), math.ceil(n_s / self.B))
            k = max(self.refine_size, grow) + len(S_keys)
            keys, scores, top = source.topk(
                lambda X, v=v: _kernel_row_sums(X, landmarks, kfn, weights=v), k)
            scale = scale or max(abs(scores[0]), np.finfo(float).tiny)
            fresh = ~np.isin(keys, S_keys)
            violators = fresh & (scores > nu + 1e-4 * scale)
            self._log(f"round {round_}: {len(S_keys)} working rows, {n_support} weighted, "
                      f"{int(violators.sum())} violators in the top {k} "
                      f"({time.perf_counter() - start:.1f} s)")
            if not violators.any():
                converged = True
                break
            add = np.flatnonzero(violators)[:grow]
            S_keys = np.r_[S_keys, keys[add]]
            S_rows = concat([S_rows, take_rows(top, add)])
            phi = kfn(S_rows, landmarks) @ proj
            kappa = phi @ c

            def matvec(b, phi=phi):
                return phi @ (phi.T @ b)

            lipschitz = 1.01 * max(float(xp.max(xp.linalg.eigvalsh(phi.T @ phi))),
                                   np.finfo(float).tiny)
            beta, it, _ = _fista(matvec, kappa, self.B, lo, hi, lipschitz,
                                 max(self.tol, 1e-6), self.max_iter,
                                 beta0=concat([beta, cast(np.zeros(len(add)), c)]))
            n_iter += it
            self._log(f"  solved on {len(S_keys)} working rows: {it} iterations "
                      f"({time.perf_counter() - start:.1f} s)")
            u = phi.T @ beta
            b_host, s_host = to_numpy(beta), to_numpy(kappa - matvec(beta))  # |S| numbers
            free_scores = s_host[(b_host > 1e-10) & (b_host < self.B - 1e-10)]
            band = lo + 1e-9 * hi < b_host.sum() < hi * (1 - 1e-9)
            nu = 0.0 if band or not len(free_scores) else float(np.median(free_scores))
        if not converged:
            warnings.warn(f"KMM's Nyström working set did not settle in max_rounds="
                          f"{self.max_rounds} rounds; the candidates may miss rows.",
                          ConvergenceWarning, stacklevel=5)
        b_host = to_numpy(beta)
        support = b_host > 1e-10
        n_support = int(support.sum())
        # the refined rows' exact kernel is dense: at most refine_size rows, max_dense_memory
        budget = max(1, min(n_s, self.refine_size,
                            int(np.sqrt(self.max_dense_memory * _GIB / 8))))
        if 4 * n_support <= budget:
            # every weighted row is refined, with the best-scored others (the last pass)
            others = np.flatnonzero(~np.isin(keys, S_keys[support]))[: budget - n_support]
            cand = np.r_[S_keys[support], keys[others]]
            Xc = concat([take_rows(S_rows, np.flatnonzero(support)), take_rows(top, others)])
            sub, it, converged, self.objective_ = self._refine(Xc, target, kfn, n_s, n_t,
                                                               lo, hi, rng)
            self.n_refined_ = len(cand)
        else:
            cand, sub, it, converged = self._refine_block(
                S_keys, S_rows, b_host, s_host, keys, scores, top, nu, budget, target, kfn,
                n_s, n_t, lo, hi, rng)
        self._warn_convergence(converged)
        self.n_iter_ = n_iter + it
        self._log(f"exact problem on {self.n_refined_} rows: "
                  f"{int((to_numpy(sub) > 1e-10).sum())} weighted rows "
                  f"({time.perf_counter() - start:.1f} s)")
        order = np.argsort(cand)
        cand, sub = cand[order], to_numpy(sub)[order]  # the weighted rows, on the host

        def scatter(X, sd, keys):
            out = np.zeros(len(keys))
            pos = np.clip(np.searchsorted(cand, keys), 0, max(len(cand) - 1, 0))
            hit = cand[pos] == keys if len(cand) else np.zeros(len(keys), bool)
            out[hit] = sub[pos[hit]]
            return out if is_numpy(xp) else cast(out, c)

        return source.map(scatter, dtype=float)

    def _refine(self, Xc, target, kfn, n_s, n_t, lo, hi, rng, offset=None, beta0=None):
        """Solve the *exact* problem on the candidate rows ``Xc`` found by Nyström.

        KMM weights are sparse: a few hundred source rows carry them. The
        candidates are the rows the Nyström solution weights plus those whose
        approximate negative gradient ``kappa - K beta`` is largest (the rows
        that would enter next); the exact kernel on them and their exact
        ``kappa`` (one pass over the target rows) give the exact QP with all
        other weights fixed at 0, which FISTA solves. ``offset`` (``K_RF b_F``, the
        kernel against rows whose weights are held fixed) is subtracted from
        ``kappa``; FISTA starts from ``beta0`` when given and the better of the
        two points is kept (the refinement never raises the exact objective).
        Cost: one pass over the target rows, ``len(Xc)`` kernel values each.
        """
        K = kfn(Xc, Xc)
        start = time.perf_counter()
        kappa = (n_s / n_t) * target.reduce(
            lambda X, sd, keys: _kernel_row_sums(Xc, X, kfn))
        self._log(f"exact target mean of {Xc.shape[0]} rows ({time.perf_counter() - start:.1f} s)")
        if offset is not None:
            kappa = kappa - offset
        if beta0 is not None:
            beta0 = _project_box_band(beta0, self.B, lo, hi)

        def matvec(b):
            return K @ b

        def objective(b):
            return float(0.5 * b @ (K @ b) - kappa @ b)

        lipschitz = _top_eigenvalue(matvec, Xc.shape[0], rng, like=kappa)
        sub, n_iter, converged = _fista(matvec, kappa, self.B, lo, hi, lipschitz, self.tol,
                                        self.max_iter, beta0=beta0)
        value = objective(sub)
        if beta0 is not None:  # keep the start (the Nyström weights) if FISTA did worse
            start_value = objective(beta0)
            if start_value < value:
                sub, value = beta0, start_value
        return sub, n_iter, converged, value

    def _refine_block(self, S_keys, S_rows, b, g, keys, scores, top, nu, budget, target, kfn,
                      n_s, n_t, lo, hi, rng):
        """The exact problem on a fixed budget of rows, the other weights held fixed.

        Used when the Nyström support is too large to refine whole (it has at
        least ``n_source / B`` rows, so it grows with the data). The rows
        refined are the ``budget`` rows whose Nyström optimality margin
        ``|g_i - nu|`` is smallest (``g_i`` the approximate negative gradient,
        ``nu`` the multiplier of the sum band): the weights strictly inside
        ``(0, B)`` and the rows nearest to entering or leaving the support,
        i.e. those a more exact kernel can move. The other weighted rows
        (firmly at ``B``, for the most part) keep their Nyström weights, and
        enter the refined problem through ``K_RF b_F`` (exact kernel) and the
        sum band shifted by ``sum(b_F)``. The candidates: the working set
        (weights ``b``, gradients ``g``) and the best-scored rows outside it
        (weight 0). The cost is one pass over the target with ``budget``
        kernel values per row, and ``budget x |F|`` kernel values on the client;
        the Nyström solution is feasible for the refined problem, and the
        refined weights replace it only where they lower the exact objective.
        Returns ``(keys, weights, n_iter, converged)`` of the weighted rows.
        """
        fresh = np.flatnonzero(~np.isin(keys, S_keys))
        pool_keys = np.r_[S_keys, keys[fresh]]
        pool_w = np.r_[b, np.zeros(len(fresh))]
        margin = np.abs(np.r_[g, scores[fresh]] - nu)
        pool = concat([S_rows, take_rows(top, fresh)])
        chosen = np.zeros(len(pool_keys), bool)
        chosen[np.lexsort((pool_keys, margin))[:budget]] = True
        held = ~chosen & (pool_w > 1e-10)
        X_R, X_F = take_rows(pool, np.flatnonzero(chosen)), take_rows(pool, np.flatnonzero(held))
        w_F = pool_w[held]
        offset = _kernel_row_sums(X_R, X_F, kfn, weights=cast(w_F, X_R)) if held.any() else None
        fixed = float(w_F.sum())
        sub, n_iter, converged, self.objective_ = self._refine(
            X_R, target, kfn, n_s, n_t, max(lo - fixed, 0.0), hi - fixed, rng, offset=offset,
            beta0=cast(pool_w[chosen], X_R))
        self.n_refined_ = int(chosen.sum())
        cand = np.r_[pool_keys[chosen], pool_keys[held]]
        return cand, concat([sub, cast(w_F, sub)]), n_iter, converged


class MMDTarS(BaseReweighter):
    """Target-shift reweighting by kernel mean matching of label-dependent weights.

    Under target shift (label shift) the class-conditional distributions stay
    the same, ``p_t(x | y) = p_s(x | y)``, and only ``p(y)`` changes, so the
    importance weight of a source row is a function of its label,
    ``beta(y) = p_t(y) / p_s(y)``. Zhang et al. (2013, Section 3) estimate it
    by kernel mean matching restricted to such weights: the weighted source
    rows must have the target's kernel mean,

    ``min_beta 1/2 beta' K beta - kappa' beta``,
    ``kappa_i = (n_s / n_t) sum_j k(x_i, x'_j)``,
    subject to ``beta = R alpha`` and ``sum(beta) = n_s``,

    and ``alpha >= 0``, where the non-negative columns of ``R`` are the
    functions of ``y`` the weights may be: the class indicators for a
    discrete ``y`` (``alpha`` then holds one weight per class, and
    ``alpha_c * n_c / n_s`` is the estimated target proportion of class
    ``c``), and for a continuous ``y`` Gaussian bumps on ``y`` centred at
    ``n_centers`` quantiles of the source labels (a non-negative expansion
    of ``beta(y)``, as KLIEP expands the ratio in ``x``, in place of Zhang et
    al.'s kernel smoother, whose weights need not stay non-negative). The
    problem has as many variables as classes (or centres) and is solved by
    the accelerated projected gradient of :class:`KMM`, so the kernel
    matrices (``n_s x n_s`` and ``n_s x n_t``) dominate the cost. Unlike
    :class:`KMM`, whose weights can follow any function of ``x`` (covariate
    shift), these weights cannot depend on ``x`` given ``y``: the right model
    when the classes' shares change and nothing else.

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only (the source labels are needed in either case).
    gamma : float, default=None
        Coefficient of the RBF kernel on the features; None means
        ``1 / (n_features * X.var())`` over the source and target rows
        (scikit-learn's ``gamma="scale"``).
    n_centers : int, default=20
        Continuous ``y`` only: number of Gaussian bumps in ``beta(y)``.
    label_gamma : float, default=None
        Continuous ``y`` only: coefficient ``exp(-label_gamma (y - c)^2)`` of
        the bumps; None means ``1 / (2 h^2)`` with ``h`` twice the median gap
        between consecutive centres (neighbouring bumps overlap).
    tol : float, default=1e-9
        Relative change of ``alpha`` at which the solver stops.
    max_iter : int, default=5000
        Maximum solver iterations.

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Weight of each source row (1 for a source row without a label).
    source_classes_ : ndarray or None
        The source classes (discrete ``y``), else None.
    class_weights_ : ndarray of shape (n_classes,) or None
        ``beta`` of each class (discrete ``y``), else None.
    target_prior_ : ndarray of shape (n_classes,) or None
        Estimated target class proportions (discrete ``y``), else None.
    n_iter_ : int
        Solver iterations.
    objective_ : float
        Squared MMD between the weighted source and the target rows at the
        solution (kernel ``k``, biased estimate).
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
    KMM : The same matching with a free weight per source row.
    LabelShiftClassifier : Label-shift correction from a classifier's outputs.

    References
    ----------
    .. [1] K. Zhang, B. Schölkopf, K. Muandet and Z. Wang. "Domain Adaptation
       under Target and Conditional Shift". ICML 2013.
    .. [2] J. Huang, A. Smola, A. Gretton, K. Borgwardt and B. Schölkopf.
       "Correcting Sample Selection Bias by Unlabeled Data". NIPS 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import MMDTarS
    >>> rng = np.random.default_rng(0)
    >>> ys = rng.choice(2, 300, p=[0.8, 0.2])
    >>> yt = rng.choice(2, 300, p=[0.3, 0.7])
    >>> X = np.r_[rng.normal(size=(300, 2)) + 2 * ys[:, None],
    ...           rng.normal(size=(300, 2)) + 2 * yt[:, None]]
    >>> y = np.r_[ys, np.full(300, -1)]
    >>> sd = np.r_[np.ones(300, int), -np.ones(300, int)]
    >>> est = MMDTarS(LogisticRegression()).fit(X, y, sample_domain=sd)
    >>> est.target_prior_.round(1)
    array([0.3, 0.7])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "n_centers": [Interval(Integral, 1, None, closed="left")],
        "label_gamma": [Interval(Real, 0, None, closed="neither"), None],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    _no_density_ratio = (
        "its weights are a function of the label, beta(y), not of x: there is no "
        "ratio to evaluate at an unlabelled row."
    )

    def __init__(self, estimator=None, *, gamma=None, n_centers=20, label_gamma=None, tol=1e-9,
                 max_iter=5000):
        self.estimator = estimator
        self.gamma = gamma
        self.n_centers = n_centers
        self.label_gamma = label_gamma
        self.tol = tol
        self.max_iter = max_iter

    @property
    def _requires_labelled_source(self):
        return True

    def _label_basis(self, ys, task):
        """``R``: the non-negative functions of ``y`` the weights combine, one column each."""
        if task == "classification":
            self.source_classes_, codes = np.unique(ys, return_inverse=True)
            return np.eye(len(self.source_classes_))[codes]
        self.source_classes_ = None
        centres = np.unique(np.quantile(ys, np.linspace(0, 1, self.n_centers)))
        gamma = self.label_gamma
        if gamma is None:
            gap = np.median(np.diff(centres)) if len(centres) > 1 else 1.0
            gamma = 1.0 / (2 * (2 * gap) ** 2) if gap > 0 else 1.0
        return np.exp(-gamma * (ys[:, None] - centres[None, :]) ** 2)

    def _sample_weights(self, X, src, tgt, labelled, y=None):
        if y is None:
            raise ValueError("MMDTarS needs the source labels: its weights are a function "
                             "of y. Pass y (-1 / NaN for unlabelled target rows).")
        X = np.asarray(X, dtype=float)
        src_lab = src & labelled
        if not tgt.any():
            raise ValueError("MMDTarS needs unlabelled target rows to match.")
        task = self._task()
        ys = np.asarray(y)[src_lab]
        if task == "auto":
            task = "regression" if type_of_target(ys) == "continuous" else "classification"
        if task == "regression":
            ys = ys.astype(float)
        Xs, Xt = X[src_lab], X[tgt]
        gamma = self.gamma
        if gamma is None:
            var = float(np.var(np.vstack([Xs, Xt])))
            gamma = 1.0 / (X.shape[1] * (var or 1.0))
        n_s, n_t = len(Xs), len(Xt)
        R = self._label_basis(ys, task)
        K = pairwise_kernels(Xs, metric="rbf", gamma=gamma)
        kappa = (n_s / n_t) * _kernel_row_sums(Xs, Xt, lambda a, b: pairwise_kernels(
            a, b, metric="rbf", gamma=gamma))
        # the problem in a = D alpha (D: each column's total), so that sum(beta) = sum(a) = n_s
        # and alpha >= 0 make a simplex; scaled by 1 / n_s^2 (the MMD's scale)
        total = R.sum(axis=0)
        total = np.where(total > 0, total, 1.0)
        Rs = R / total
        P = Rs.T @ K @ Rs / n_s**2
        q = Rs.T @ kappa / n_s**2
        lipschitz = 1.01 * max(float(linalg.eigvalsh(P)[-1]), np.finfo(float).tiny)
        a, self.n_iter_, converged = _fista(lambda v: P @ v, q, float(n_s), float(n_s),
                                            float(n_s), lipschitz, self.tol, self.max_iter,
                                            beta0=total * (n_s / total.sum()))
        if not converged:
            warnings.warn(f"MMDTarS did not converge in {self.max_iter} iterations; increase "
                          "max_iter.", ConvergenceWarning, stacklevel=3)
        beta = Rs @ a
        self.objective_ = float(2 * (0.5 * beta @ K @ beta - kappa @ beta) / n_s**2
                                + _kernel_mean(Xt, gamma) / n_t)
        if task == "classification":
            self.class_weights_ = np.array([beta[ys == c][0] for c in self.source_classes_])
            counts = np.array([(ys == c).sum() for c in self.source_classes_])
            self.target_prior_ = self.class_weights_ * counts / n_s
        else:
            self.class_weights_ = self.target_prior_ = None
        sample_weight = np.ones(X.shape[0])
        sample_weight[src_lab] = beta
        return sample_weight


def _kernel_mean(Xt, gamma):
    """``mean_{j, l} k(x'_j, x'_l)``, the target term of the squared MMD."""
    return float(_kernel_row_sums(Xt, Xt, lambda a, b: pairwise_kernels(
        a, b, metric="rbf", gamma=gamma)).mean())
