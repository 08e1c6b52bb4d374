"""Subspace methods that match the domains while choosing what to keep: TJM and TSL."""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseDATransformer
from ._feature import TCA, _dense_dual, _dual_top
from .utils._array_api import fix_signs as _fix_signs
from .utils._domain import unlabelled_mask


class TJM(TCA):
    """Transfer joint matching: TCA that also down-weights source rows unlike the target.

    TJM (Long et al., 2014) learns a kernel embedding ``A`` as TCA does,
    minimising the marginal MMD between the domains under the variance
    constraint ``A' K H K A = I``, and adds a row-sparse penalty
    ``mu (||A_s||_{2,1} + ||A_t||_F^2)`` on the rows of ``A``: the l2,1 norm
    drives the coefficients of source rows that do not resemble the target
    to zero, which reweights instances while the features are matched. The
    problem is solved as in the paper by iterating a generalised
    eigenproblem ``K H K a = lambda (K L K + mu G) a`` and the reweighting
    ``G_ii = 1 / (2 ||a_i||)`` on source rows (1 on target rows), with TCA's
    solver: the right-hand side is inverted in closed form and the top
    eigenvectors come from Lanczos iterations, one pass over ``K`` per
    product. The penalty acts on training rows, so the problem is always
    solved in the kernel (dual) form; rows of either domain are embedded as
    ``k(x, X_train) A``.

    Parameters
    ----------
    n_components : int, default=10
        Number of components.
    kernel : {"linear", "rbf", "poly", "sigmoid", "laplacian", "cosine"} or callable, \
            default="linear"
        Kernel, named as in :class:`~sklearn.decomposition.KernelPCA`.
    gamma : float, default=None
        Kernel coefficient; None means ``1 / n_features``.
    degree : int, default=3
        Degree of the "poly" kernel.
    coef0 : float, default=1
        Independent term of the "poly" and "sigmoid" kernels.
    mu : float, default=1.0
        Weight of the row-sparsity penalty (``lambda`` in the paper).
    normalize_mmd : bool, default=False
        Divide the MMD matrix by its Frobenius norm, as in :class:`TCA`.
    max_dense_memory : float, default=4.0
        Memory bound in GiB; larger problems are refused.
    n_iter : int, default=10
        Alternations between the eigenproblem and the reweighting (10 in
        the paper).
    random_state : int, RandomState instance or None, default=None
        Seeds the Lanczos start vector.

    Attributes
    ----------
    components_ : ndarray of shape (n_train, n_components)
        The embedding ``A``.
    eigenvalues_ : ndarray of shape (n_components,)
        Their generalised eigenvalues.
    row_weights_ : ndarray of shape (n_train,)
        ``||a_i||`` of each training row, normalised to mean 1 over the
        source rows: the instance weights TJM learnt (target rows are 1).
    mode_ : {"dual"}
        Always the kernel form.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu. "Transfer Joint
       Matching for Unsupervised Domain Adaptation". CVPR 2014.

    Examples
    --------
    >>> from sktl import TJM
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, n_features=5, random_state=0, mask_target=True)
    >>> TJM(n_components=2, random_state=0).fit_transform(X, y, sample_domain=sd).shape
    (120, 2)
    """

    _parameter_constraints = {
        k: v for k, v in TCA._parameter_constraints.items()
        if k not in ("n_landmarks", "source_weights", "verbose")
    } | {"n_iter": [Interval(Integral, 1, None, closed="left")]}
    _primal_ok = False
    _dask_support = False
    _array_api_support = False

    def __init__(self, n_components=10, *, kernel="linear", gamma=None, degree=3, coef0=1,
                 mu=1.0, normalize_mmd=False, max_dense_memory=4.0, n_iter=10,
                 random_state=None):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.mu = mu
        self.normalize_mmd = normalize_mmd
        self.max_dense_memory = max_dense_memory
        self.n_iter = n_iter
        self.random_state = random_state

    def _solve_dual(self, K, X, y, sample_domain, rng):
        V = self._mmd_columns(X, y, sample_domain)
        src = sample_domain > 0
        weights = np.ones(len(K))
        # the dense solver's K H K does not change across iterations: form it once
        khk = K @ (K - K.mean(axis=0)) if _dense_dual(len(K), self.n_components) else None
        for _ in range(self.n_iter):
            vals, A = _dual_top(K, V, self.mu, self.n_components, rng, weights=weights,
                                khk=khk)
            # rows of A scaled so that A' K H K A = I, the paper's constraint
            norms = np.linalg.norm(A / np.sqrt(np.maximum(vals, 1e-12)), axis=1)
            new = np.ones(len(K))
            new[src] = 1.0 / (2 * norms[src] + 1e-12)
            if np.allclose(new, weights, rtol=1e-4):
                break
            weights = new
        scale = norms[src].mean() if src.any() and norms[src].mean() > 0 else 1.0
        self.row_weights_ = np.where(src, norms / scale, 1.0)
        return vals, A, None


def _ratio_terms(base_method, X, y, bandwidth):
    """``(P, Q)`` with the base objective ``tr(W'PW) / tr(W'QW)``, or ``(-C / tr C, None)``."""
    Xc = X - X.mean(axis=0)
    d = X.shape[1]
    if base_method == "pca":
        C = Xc.T @ Xc / len(X)
        return -C / max(np.trace(C), 1e-300), None
    classes = np.unique(y)
    if base_method == "flda":
        Sw = np.zeros((d, d))
        Sb = np.zeros((d, d))
        mean = X.mean(axis=0)
        for c in classes:
            Xk = X[y == c]
            D = Xk - Xk.mean(axis=0)
            Sw += D.T @ D
            m = (Xk.mean(axis=0) - mean)[:, None]
            Sb += len(Xk) * m @ m.T
        ridge = 1e-6 * max(np.trace(Sw + Sb) / d, 1e-300)
        return Sw / len(X) + ridge * np.eye(d), Sb / len(X) + ridge * np.eye(d)
    # supervised locality preserving projections: heat-kernel affinity within classes
    from sklearn.metrics import pairwise_distances

    D2 = pairwise_distances(X, metric="sqeuclidean")
    E = np.exp(-D2 / bandwidth) * (y[:, None] == y[None, :])
    deg = E.sum(axis=1)
    P = X.T @ (deg[:, None] * X) - X.T @ E @ X
    Q = X.T @ (deg[:, None] * X)
    ridge = 1e-6 * max(np.trace(Q) / d, 1e-300)
    return P + ridge * np.eye(d), Q + ridge * np.eye(d)


class TSL(ClassNamePrefixFeaturesOutMixin, BaseDATransformer):
    """Transfer subspace learning: a subspace objective regularised by a domain divergence.

    TSL (Si, Tao & Geng, 2010) learns an orthonormal projection ``W`` that
    minimises ``F(W) + mu D_W(P_s || P_t)``: ``F`` is a subspace learning
    objective on the labelled source rows (Fisher's discriminant, PCA or
    supervised locality preserving projections) and ``D_W`` the Bregman
    divergence between kernel density estimates of the projected source and
    target. With the squared (quadratic) Bregman function and one Gaussian
    bandwidth for both domains, ``D_W`` is the squared maximum mean
    discrepancy of the projected rows; both terms are scale-free (the base
    objectives are trace ratios or normalised traces), so ``mu`` has the
    same meaning on any data. ``W`` starts
    from the base method's own solution and descends the Riemannian gradient
    on the Stiefel manifold (QR retraction, Armijo steps), as the paper's
    gradient descent with orthogonalisation does. Rows of both domains are
    projected with the same ``W``.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the subspace (at most the number of features).
    base_method : {"flda", "pca", "lpp"}, default="flda"
        ``F``: the trace ratio ``tr(W' S_w W) / tr(W' S_b W)`` of Fisher's
        discriminant, ``-tr(W' C W)`` of PCA, or the trace ratio of
        supervised locality preserving projections (heat kernel within
        classes).
    mu : float, default=1.0
        Weight of the divergence.
    bandwidth : float, default=None
        Squared bandwidth ``2 sigma^2`` of the Gaussian kernel in the
        subspace; None uses the median squared distance of the projected
        rows at the start.
    max_iter : int, default=100
        Gradient iterations.
    tol : float, default=1e-5
        Stop when the objective decreases by less than this (relative).
    random_state : int, RandomState instance or None, default=None
        Seeds the row subsample of the bandwidth heuristic.

    Attributes
    ----------
    components_ : ndarray of shape (n_features, n_components)
        The orthonormal projection ``W``.
    mean_ : ndarray of shape (n_features,)
        Mean of the training rows, removed before projecting.
    bandwidth_ : float
        The bandwidth used.
    objective_ : list of float
        Objective after each iteration.
    n_iter_ : int
        Iterations run.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] S. Si, D. Tao and B. Geng. "Bregman Divergence-Based
       Regularization for Transfer Subspace Learning". IEEE TKDE 22(7), 2010.

    Examples
    --------
    >>> from sktl import TSL
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, n_features=5, random_state=0, mask_target=True)
    >>> TSL(n_components=2).fit_transform(X, y, sample_domain=sd).shape
    (120, 2)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "base_method": [StrOptions({"flda", "pca", "lpp"})],
        "mu": [Interval(Real, 0, None, closed="left")],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }
    _requires_labelled_source = True

    def __init__(self, n_components=10, *, base_method="flda", mu=1.0, bandwidth=None,
                 max_iter=100, tol=1e-5, random_state=None):
        self.n_components = n_components
        self.base_method = base_method
        self.mu = mu
        self.bandwidth = bandwidth
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _task(self):
        return "classification"

    def _fit(self, X, y, sample_domain):
        X = X.astype(np.float64)
        d, k = X.shape[1], self.n_components
        if X.shape[0] < 2:
            raise ValueError(f"TSL needs at least 2 rows; got n_samples={X.shape[0]}.")
        if k > d:
            raise ValueError(f"n_components={k} exceeds the {d} features.")
        src, tgt = self._source_target_masks(sample_domain)
        labelled = src & ~unlabelled_mask(y, "classification") if y is not None else src
        if self.base_method != "pca" and not labelled.any():
            raise ValueError(f"TSL with base_method={self.base_method!r} needs labelled "
                             "source rows.")
        rng = check_random_state(self.random_state)
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        Xl = Xc[labelled] if labelled.any() else Xc[src]
        yl = y[labelled] if labelled.any() else np.zeros(len(Xl))
        heat = np.median(euclidean_distances(Xl[: 500], Xl[: 500], squared=True)) or 1.0
        P, Q = _ratio_terms(self.base_method, Xl, yl, heat)
        W = self._start(P, Q, k)
        sub = np.r_[rng.permutation(np.flatnonzero(src))[:500],
                    rng.permutation(np.flatnonzero(tgt))[:500]]
        Z0 = Xc[sub] @ W
        self.bandwidth_ = float(self.bandwidth if self.bandwidth is not None
                                else np.median(euclidean_distances(Z0, Z0, squared=True)) or 1.0)
        e = np.where(src, 1.0 / max(src.sum(), 1), 0.0) - np.where(tgt, 1.0 / tgt.sum(), 0.0)
        if np.array_equal(src, tgt):  # no target: nothing to match
            e = np.zeros(len(X))

        def terms(W):
            Z = Xc @ W
            K = np.exp(-euclidean_distances(Z, Z, squared=True) / self.bandwidth_)
            A = (e[:, None] * e[None, :]) * K
            div = float(A.sum())
            # d/dW sum_ij A_ij exp(-|W'(x_i - x_j)|^2 / h) = -(4 / h) X' (diag(A 1) - A) X W
            g_div = -(4.0 / self.bandwidth_) * (Xc.T @ (A.sum(1)[:, None] * Z - A @ Z))
            if Q is None:
                f, g_f = float(np.sum(W * (P @ W))), 2 * P @ W
            else:
                tp, tq = np.sum(W * (P @ W)), np.sum(W * (Q @ W))
                f = float(tp / tq)
                g_f = 2 * (P @ W) / tq - 2 * tp * (Q @ W) / tq**2
            return f, g_f, div, g_div

        def objective(W):
            f, g_f, div, g_div = terms(W)
            return f + self.mu * div, g_f + self.mu * g_div

        value, grad = objective(W)
        self.objective_, step = [value], 1.0
        for _ in range(self.max_iter):
            rgrad = grad - W @ (0.5 * (W.T @ grad + grad.T @ W))  # Riemannian gradient
            slope = float(np.sum(rgrad * rgrad))
            if slope < 1e-20:
                break
            while step > 1e-10:  # Armijo backtracking with QR retraction
                cand, _ = linalg.qr(W - step * rgrad, mode="economic")
                cand = cand * np.sign(np.sum(cand * W, axis=0) + 1e-300)
                new_value, new_grad = objective(cand)
                if new_value <= value - 1e-4 * step * slope:
                    break
                step *= 0.5
            else:
                break
            done = value - new_value <= self.tol * max(abs(value), 1e-12)
            W, value, grad, step = cand, new_value, new_grad, min(2 * step, 1e3)
            self.objective_.append(value)
            if done:
                break
        self.components_ = _fix_signs(W)
        self.n_iter_ = len(self.objective_)
        return self

    @staticmethod
    def _start(P, Q, k):
        """The base method's own subspace, orthonormalised."""
        d = P.shape[0]
        if Q is None:  # PCA: top eigenvectors of C (P = -C / tr C)
            W = linalg.eigh(-P, subset_by_index=[d - k, d - 1])[1]
        else:  # smallest tr(W'PW) / tr(W'QW): top of Q w = l P w
            W = linalg.eigh(Q, P, subset_by_index=[d - k, d - 1])[1]
        W, _ = linalg.qr(W, mode="economic")
        return W

    def _transform(self, X, sample_domain):
        return (X - self.mean_) @ self.components_

    @property
    def _n_features_out(self):
        return self.n_components

