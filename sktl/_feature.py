"""Feature-based transfer: map both domains into a space where they agree."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import ClassNamePrefixFeaturesOutMixin, OneToOneFeatureMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._base import BaseDAEstimator, BaseDATransformer, _DelegatingMixin
from ._multisource import source_row_weights
from .utils._array_api import (
    cast,
    clip,
    column_signs,
    concat,
    eye,
    fix_signs,
    generalised_top,
    get_namespace,
    is_numpy,
    outer,
    sym_power,
    to_numpy,
    where_rows,
)
from .utils._blocks import as_rows, domain_moments
from .utils._domain import unlabelled_mask
from .utils._kernel import nystrom_map, rbf
from .utils._linalg import block_krylov_top, kernel_krylov_top
from .utils._sparse import MAX_SPARSE_FEATURES, check_sparse_width, vstack

_sym_power, _fix_signs, _generalised_top = sym_power, fix_signs, generalised_top


class CORAL(OneToOneFeatureMixin, BaseDATransformer):
    """Correlation alignment: re-colour source rows with the target covariance.

    CORAL whitens the source features with their regularised covariance
    ``C_s + reg * I`` and re-colours them with the target's ``C_t + reg * I``
    (Sun, Feng & Saenko, 2016). Only source rows change; target rows (and new
    rows at ``transform`` time, which are target rows by default) pass
    through unchanged, so a classifier trained after CORAL on the source rows
    applies directly to the target. The paper aligns second-order statistics
    only and works on standardised features. With ``align_means=False`` the
    source rows are re-coloured about their own mean, which is the paper's map
    when that mean is zero and leaves the source cloud where it is when it is
    not (e.g. after a scaler fitted on both domains); with
    ``align_means=True`` they are re-coloured and moved onto the target mean,
    so first and second moments both match, as skada's CORAL does (skada
    centres each domain on its own mean, which is the same alignment up to a
    translation of every row).

    Which is better depends on the shift. When the domains differ by a
    translation, or by any shift of the class-conditional distributions that
    moves their means (conditional shift), moving the means is what adapts.
    When the means differ because the class proportions differ (target
    shift) or because the source covers a different region of the same
    labelling function (covariate shift), moving the source onto the target
    mean moves every class with it and hurts.

    Parameters
    ----------
    reg : float, default=1.0
        Ridge ``lambda`` added to both covariances (1 in the paper, which
        assumes standardised features).
    align_means : bool, default=False
        Move the re-coloured source rows onto the target mean as well.
        The default was chosen on the development half of the shared task
        list (``benchmarks/_tasks.py``); see
        ``benchmarks/results/coral_align_means.md``.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The
        factors weigh the source rows in the source mean and covariance.

    Attributes
    ----------
    coral_matrix_ : ndarray of shape (n_features, n_features)
        ``A = (C_s + reg I)^{-1/2} (C_t + reg I)^{1/2}``; source rows map to
        ``(X - source_mean_) @ A + source_mean_`` (or ``+ target_mean_`` with
        ``align_means=True``).
    source_mean_ : ndarray of shape (n_features,)
        Mean of the source rows seen during fit.
    target_mean_ : ndarray of shape (n_features,)
        Mean of the target rows seen during fit.
    source_weights_ : dict of int to float
        The factor of each source domain (all 1 with "uniform"; in-memory
        input only).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] B. Sun, J. Feng and K. Saenko. "Return of Frustratingly Easy Domain
       Adaptation". AAAI 2016.

    Examples
    --------
    >>> from sktl import CORAL
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> Xt = CORAL().fit_transform(X, y, sample_domain=sd)
    >>> Xt.shape == X.shape
    True
    """

    _accept_sparse = "csr"

    _parameter_constraints = {"reg": [Interval(Real, 0, None, closed="left")],
                              "align_means": ["boolean"],
                              "source_weights": [StrOptions({"uniform", "similarity"}), dict]}
    _dask_support = True
    _array_api_support = True

    def __init__(self, reg=1.0, *, align_means=False, source_weights="uniform"):
        self.reg = reg
        self.align_means = align_means
        self.source_weights = source_weights

    def _fit(self, X, y, sample_domain):
        if sp.issparse(X):  # d x d statistics from sparse blocks, never the dense rows
            check_sparse_width(X, "CORAL")
        # one pass of sums over the rows (blockwise on Dask input)
        (_, source_mean, cs), (_, target_mean, ct) = domain_moments(
            as_rows(X, sample_domain), self._source_factors(X, sample_domain))
        cs, ct = cs + self.reg * eye(cs.shape[0], cs), ct + self.reg * eye(ct.shape[0], ct)
        if self.reg == 0:
            jitter = 1e-10 * max(to_numpy(cs).trace(), to_numpy(ct).trace(), 1.0)
            cs, ct = cs + jitter * eye(cs.shape[0], cs), ct + jitter * eye(ct.shape[0], ct)
        self.coral_matrix_ = sym_power(cs, -0.5) @ sym_power(ct, 0.5)
        self.source_mean_ = source_mean
        self.target_mean_ = target_mean
        return self

    def _transform(self, X, sample_domain):
        src = sample_domain > 0
        if not src.any():  # target rows pass unchanged (sparse stays sparse)
            return X if not is_numpy(get_namespace(X)) else X.copy()
        if sp.issparse(X):  # re-coloured source rows are dense (d <= MAX_SPARSE_FEATURES)
            X = X.toarray()
        mean, A = cast(self.source_mean_, X), cast(self.coral_matrix_, X)
        to = cast(self.target_mean_ if self.align_means else self.source_mean_, X)
        return where_rows(src, (X - mean) @ A + to, X)


def _kernel_params(est, n_features):
    gamma = est.gamma if est.gamma is not None else 1.0 / n_features
    return {"gamma": gamma, "degree": est.degree, "coef0": est.coef0}


def _mmd_vectors(sample_domain, y_pseudo=None, classes=None, factors=None):
    """Columns ``e`` with ``L = sum e e'`` the (class-conditional) MMD matrix.

    The marginal column is ``1/n_s`` on source rows and ``-1/n_t`` on target
    rows (Pan et al., 2011); each class ``c`` adds the same built from the
    source rows of class ``c`` and the target rows pseudo-labelled ``c``
    (Long et al., 2013). ``factors`` (``{source code: factor}``) weighs the
    source rows by domain (``source_weights``).
    """
    w = 1.0 if factors is None else source_row_weights(sample_domain, factors)
    src, tgt = (sample_domain > 0) * w, sample_domain < 0  # weighted source rows
    cols = [src / src.sum() - tgt / tgt.sum()]
    if y_pseudo is not None:
        for c in classes:
            s, t = src * (y_pseudo == c), tgt & (y_pseudo == c)
            if s.any() and t.any():
                cols.append(s / s.sum() - t / t.sum())
    return np.column_stack(cols).astype(float)


def _dense_dual(n, k):
    """Whether :func:`_dual_top` solves densely (small problems or many components)."""
    return k >= n // 4 or n <= 600


def _dual_top(K, V, mu, k, random_state, weights=None, khk=None, images=False):
    """Top-``k`` solutions of ``K H K w = lambda (K V V' K + mu G) w``.

    ``G`` is the identity, or ``diag(weights)`` (positive) as in TJM. With
    ``G = I`` (TCA, JDA) they come from Rayleigh-Ritz on the generalised
    problem over a block Krylov space of ``K``
    (:func:`~sktl.utils._linalg.kernel_krylov_top`: one product of ``K`` with
    a block per step, the first steps in float32). With weights, ``w = S z``,
    ``S = G^{-1/2}``, turns the problem into ``S K H K S z = lambda (S K V V'
    K S + mu I) z``, so ``B = mu I + U U'`` with ``U = S K V`` of low rank and
    ``B^{-1/2}`` has a closed form; the top eigenvectors of the symmetric
    operator ``B^{-1/2} S K H K S B^{-1/2}`` are found by a block Lanczos
    iteration (:func:`~sktl.utils._linalg.block_krylov_top`, two products of
    ``K`` with a block per step). Neither forms an n x n product of matrices;
    both check their residuals in the working precision (float64 for float64
    input), and when they do not converge the dense solver takes over with a
    warning. Small problems are solved densely from ``K H K`` (pass it as
    ``khk`` to reuse it across calls, as TJM's iterations do). Written against
    the array API: ``K`` may live on a GPU. With ``images=True`` it also
    returns ``K W`` when the solver has it at hand (else None).
    """
    xp = get_namespace(K)
    n = K.shape[0]
    tol = 1e-9 if K.dtype == xp.float64 else 1e-5
    krylov = not _dense_dual(n, k)
    if krylov and weights is None:  # one product of K per step, the first ones in float32
        vals, W, KW, converged = kernel_krylov_top(K, V, mu, k, random_state, tol=tol)
        if converged:
            return (vals, W, KW) if images else (vals, W)
    S = None if weights is None else cast(1.0 / np.sqrt(to_numpy(weights)), K)

    def scaled(x):
        return x if S is None else S[:, None] * x

    U = scaled(K @ cast(V, K))
    Q, R = xp.linalg.qr(U)
    lam, P = xp.linalg.eigh(R @ R.T)
    QP = Q @ P
    root = float(mu) ** 0.5
    scale = 1.0 / xp.sqrt(mu + clip(lam, min=0.0)) - 1.0 / root

    def b_inv_sqrt(x):
        return x / root + QP @ (scale[:, None] * (QP.T @ x))

    def matvec(x):
        z = K @ scaled(b_inv_sqrt(x))
        return b_inv_sqrt(scaled(K @ (z - xp.mean(z, axis=0))))

    def dense():
        if khk is None:
            M = matvec(eye(n, K))
        else:
            M = b_inv_sqrt(b_inv_sqrt(scaled(scaled(khk).T)).T)
        M = 0.5 * (M + M.T)
        if is_numpy(xp):  # the top k only
            vals, Y = linalg.eigh(M, subset_by_index=[n - k, n - 1])
            return vals[::-1], Y[:, ::-1]
        vals, Y = xp.linalg.eigh(M)
        return xp.flip(vals[n - k:], axis=0), xp.flip(Y[:, n - k:], axis=1)

    if not krylov:
        vals, Y = dense()
    else:
        if weights is not None:  # TJM: Lanczos on B^-1/2 S K H K S B^-1/2
            vals, Y, _, converged = block_krylov_top(matvec, n, k, random_state, like=K,
                                                     tol=tol)
        if not converged:
            warnings.warn(
                "TCA's block eigensolver did not converge; falling back to the dense "
                "solver (slower, O(n^3)). Lower n_components or use n_landmarks.",
                ConvergenceWarning, stacklevel=4)
            vals, Y = dense()
    W = scaled(b_inv_sqrt(Y))
    return (vals, W, None) if images else (vals, W)


class TCA(ClassNamePrefixFeaturesOutMixin, BaseDATransformer):
    """Transfer component analysis: a kernel embedding where domains agree.

    TCA (Pan et al., 2011) learns ``n_components`` directions ``W`` in the
    kernel space of the training rows of both domains that keep their
    variance while shrinking the maximum mean discrepancy between source and
    target: ``W`` holds the top solutions of the generalised symmetric
    eigenproblem ``K H K w = lambda (K L K + mu I) w``, with ``K`` the kernel
    matrix, ``H`` the centring matrix and ``L`` the MMD matrix. Rows of
    either domain are embedded as ``k(x, X_train) W``.

    Only the components asked for are computed. ``L`` has rank one, so the
    right-hand side ``mu I + (K e)(K e)'`` is cheap to apply, and the top
    solutions come from Rayleigh-Ritz over a block Krylov space of ``K``
    whose every step costs one pass over ``K`` (the first ones over a
    float32 copy, the last ones, which give the answer and check its
    residuals, in float64): no ``n x n`` matrix product or full
    decomposition. With the
    linear kernel and fewer features than rows the problem is solved in the
    ``d x d`` primal instead, as in the JDA paper's protocol. With
    ``n_landmarks`` set, the kernel is replaced by a Nyström factor on that
    many landmarks and the primal is solved in that feature space: time and
    memory become linear in the number of rows.

    Parameters
    ----------
    n_components : int, default=10
        Number of transfer components.
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
        Trade-off: larger ``mu`` keeps more variance, smaller matches the
        domains harder.
    normalize_mmd : bool, default=False
        Divide the MMD matrix by its Frobenius norm, as the JDA authors' code
        does (their published TCA/JDA numbers use it; ``mu`` is then
        scale-free). False is Pan et al.'s formulation.
    n_landmarks : int, default=None
        Use a Nyström approximation on this many landmarks (for large data).
    max_dense_memory : float, default=4.0
        Memory bound in GiB of the exact kernel mode; larger problems are
        refused with a pointer to ``n_landmarks`` instead of swapping.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolver's start block and the landmark choice.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The
        factors weigh the source rows in the source mean of the MMD term.
    verbose : int, default=0
        Print the mode and the time of each stage of the fit (the kernel, the
        pass over the rows, the eigensolver; 0: silent). On a Dask cluster
        the dashboard shows the progress of the pass itself.

    Attributes
    ----------
    components_ : ndarray of shape (n_train or n_features or n_landmarks, n_components)
        The transfer directions ``W``.
    eigenvalues_ : ndarray of shape (n_components,)
        Their generalised eigenvalues (variance kept per unit of MMD + ``mu``).
    mode_ : {"dual", "primal", "nystrom"}
        How the problem was solved.
    source_weights_ : dict of int to float
        The factor of each source domain (all 1 with "uniform"; in-memory
        input only).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] S. J. Pan, I. W. Tsang, J. T. Kwok and Q. Yang. "Domain Adaptation
       via Transfer Component Analysis". IEEE Trans. Neural Networks 22(2), 2011.
    .. [2] M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu. "Transfer Feature
       Learning with Joint Distribution Adaptation". ICCV 2013.

    Examples
    --------
    >>> from sktl import TCA
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(100, 100, n_features=5, random_state=0, mask_target=True)
    >>> TCA(n_components=2, kernel="rbf").fit_transform(X, y, sample_domain=sd).shape
    (200, 2)
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"linear", "rbf", "poly", "polynomial", "sigmoid", "laplacian",
                               "cosine"}), callable],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "coef0": [Real],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "normalize_mmd": ["boolean"],
        "n_landmarks": [Interval(Integral, 1, None, closed="left"), None],
        "max_dense_memory": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
        "verbose": ["verbose"],
    }
    _dask_support = True  # landmark and linear-primal modes (sums over row blocks)
    _array_api_support = True
    _primal_ok = True  # the linear kernel may be solved in the d x d primal

    def __init__(self, n_components=10, *, kernel="linear", gamma=None, degree=3, coef0=1,
                 mu=1.0, normalize_mmd=False, n_landmarks=None, max_dense_memory=4.0,
                 random_state=None, source_weights="uniform", verbose=0):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.mu = mu
        self.normalize_mmd = normalize_mmd
        self.n_landmarks = n_landmarks
        self.max_dense_memory = max_dense_memory
        self.random_state = random_state
        self.source_weights = source_weights
        self.verbose = verbose

    def _log(self, message, start=None):
        """Print a progress line when ``verbose`` (TJM has no such parameter)."""
        if getattr(self, "verbose", 0):
            took = "" if start is None else f" ({time.perf_counter() - start:.1f} s)"
            print(f"[{type(self).__name__}] {message}{took}", flush=True)

    def _k(self, A, C):
        if callable(self.kernel):
            return pairwise_kernels(A, C, metric=self.kernel)
        if self.kernel == "rbf" and all(isinstance(a, np.ndarray) and a.dtype == np.float64
                                        for a in (A, C)):  # in place, a band at a time
            return rbf(A, C, _kernel_params(self, self.n_features_in_)["gamma"])
        return pairwise_kernels(A, C, metric=self.kernel, filter_params=True,
                                **_kernel_params(self, self.n_features_in_))

    def _features(self, X):
        """Inputs of the primal problem: raw features or Nyström features."""
        if self.mode_ == "nystrom":
            return self._k(X, self.landmarks_) @ self.nystrom_map_
        return X

    def _mmd_columns(self, X, y, sample_domain):
        return self._normalise(_mmd_vectors(sample_domain, factors=self._factors))

    def _normalise(self, E):
        """Scale ``M = E E'`` to unit Frobenius norm when ``normalize_mmd`` is set.

        The JDA authors' code divides the MMD matrix by its Frobenius norm
        (and weighs the marginal term by the number of classes), which makes
        ``mu`` scale-free; their published TCA/JDA numbers use it.
        """
        if not self.normalize_mmd:
            return E
        norm = np.linalg.norm(E.T @ E)  # ||E E'||_F = ||E' E||_F
        return E / np.sqrt(norm) if norm > 0 else E

    def _fit(self, X, y, sample_domain):
        self._solve(X, y, sample_domain)
        return self

    def _fit_transform(self, X, y, sample_domain):
        Z = self._solve(X, y, sample_domain)
        return self._transform(X, sample_domain) if Z is None else Z

    def _solve(self, X, y, sample_domain):
        """Fit the components; return the training embedding if the dual solve has it, else None."""
        rng = check_random_state(self.random_state)
        self._factors = self._source_factors(X, sample_domain)  # None: pooled sources
        rows = as_rows(X, sample_domain)
        n, d = rows.n_rows, rows.n_features
        no_target = not rows.counts()[1]  # no target: the rows are their own target
        n_fit = 2 * n if no_target else n
        n_landmarks = getattr(self, "n_landmarks", None)  # TJM has none
        if n_landmarks is not None:
            self.mode_ = "nystrom"
            m = min(n_landmarks, n_fit)
            self.landmarks_ = rows.take(rng.choice(n_fit, m, replace=False) % n)
            self.nystrom_map_ = nystrom_map(self._k(self.landmarks_, self.landmarks_),
                                            self.landmarks_)
        elif self._primal_ok and self.kernel == "linear" and d < n_fit and not (
                sp.issparse(X) and d > MAX_SPARSE_FEATURES):  # else the n x n dual
            self.mode_ = "primal"
        elif rows.lazy:
            raise ValueError("The exact (dual) TCA needs the n x n kernel in memory; on Dask "
                             "input set n_landmarks (or use the linear kernel).")
        else:
            self.mode_ = "dual"
        k = self.n_components
        if self.mode_ == "dual":
            if no_target:
                sample_domain = np.r_[sample_domain, -np.ones_like(sample_domain)]
                X = vstack([X, X]) if sp.issparse(X) else concat([X, X])
                y = None if y is None else np.r_[y, y]
            if k > X.shape[0] - 1:
                raise ValueError(f"n_components={k} must be below the number of training "
                                 f"rows ({X.shape[0]}).")
            needed = 3 * 8 * X.shape[0] ** 2 / 2**30  # the kernel and two n x n work arrays
            if needed > self.max_dense_memory:
                raise ValueError(
                    f"The exact TCA of {X.shape[0]} rows would need about {needed:.1f} GiB "
                    f"(max_dense_memory={self.max_dense_memory} GiB). Set n_landmarks "
                    "(e.g. 500) for memory linear in the rows, or raise max_dense_memory."
                )
            self.X_fit_ = X
            start = time.perf_counter()
            K = self._k(X, X)
            self._log(f"dual mode: the {X.shape[0]} x {X.shape[0]} kernel", start)
            start = time.perf_counter()
            self.eigenvalues_, W, KW = self._solve_dual(K, X, y, sample_domain, rng)
            self._log("dual mode: the generalised eigenproblem", start)
        else:
            width = self.nystrom_map_.shape[1] if self.mode_ == "nystrom" else d
            if k > width:
                raise ValueError(f"n_components={k} exceeds the {width} features of "
                                 f"the {self.mode_} problem; lower n_components.")
            start = time.perf_counter()
            self.eigenvalues_, W = self._solve_primal(rows, y, sample_domain, no_target)
            self._log(f"{self.mode_} mode: one pass over {n} rows and the {width} x {width} "
                      "eigenproblem", start)
        signs = column_signs(W)
        self.components_ = W * signs
        if self.mode_ == "dual" and X.shape[0] == n:  # kernel at hand: no second pass
            return K @ self.components_ if KW is None else KW * signs
        return None

    def _mmd_block(self, y, sample_domain, counts):
        """``(domain_block, keys_block) -> `` the MMD columns ``E`` of those rows.

        TCA's one marginal column is ``1/n_s`` on source and ``-1/n_t`` on
        target rows, so each block computes its own (JDA overrides this with
        its class-conditional columns).
        """
        n_s, n_t = max(counts[0], 1), max(counts[1], 1)  # an empty domain adds nothing
        scale = 1.0 / np.sqrt(1.0 / n_s + 1.0 / n_t) if self.normalize_mmd else 1.0
        f = self._factors  # source_weights: factors of mean one over the source rows

        def block(sd, keys):
            src = (sd > 0) if f is None else (sd > 0) * source_row_weights(sd, f)
            return scale * (src / n_s - (sd < 0) / n_t)[:, None]

        return block

    def _solve_primal(self, rows, y, sample_domain, no_target=False):
        """The ``p x p`` problem on features ``F`` (raw or Nyström) from sums over rows.

        ``A = F' H F`` and ``V = F' E`` are accumulated block by block (one
        pass, blockwise on Dask input), so no ``n x p`` matrix is held. The
        Nyström features ``F = k(X, L) P`` are linear in the landmark kernel,
        so the sums run over ``k(X, L)`` and ``P`` is applied once to the
        ``m x m`` results (``P' A P``), not to every block.
        """
        raw = (lambda X: self._k(X, self.landmarks_)) if self.mode_ == "nystrom" else \
            (lambda X: X)
        head = raw(rows.head(256))
        # sums about a shift (the first rows' mean) stay accurate far from zero;
        # sparse features are summed as they are (d x d products, never densified)
        shift = np.zeros(head.shape[1]) if sp.issparse(head) else \
            get_namespace(head).mean(head, axis=0)
        counts = rows.counts()
        mmd = self._mmd_block(y, sample_domain, counts)

        def fn(X, sd, keys):
            F = raw(X)
            if sp.issparse(F):
                E = mmd(sd, keys)
                return (np.asarray(F.sum(axis=0)).ravel(), (F.T @ F).toarray(),
                        np.asarray(F.T @ E), E.sum(axis=0))
            F = F - shift
            E = cast(mmd(sd, keys), F)
            xp = get_namespace(F)
            return xp.sum(F, axis=0), F.T @ F, F.T @ E, xp.sum(E, axis=0)

        total, G, FE, e_sum = rows.reduce(fn)
        n = rows.n_rows
        A = G - outer(total, total) / n  # F' H F
        V = FE + outer(shift, e_sum)
        if self.mode_ == "nystrom":  # the sums ran over k(X, L); F = k(X, L) P
            P = self.nystrom_map_
            A, V = P.T @ A @ P, P.T @ V
        if no_target:  # the rows stacked on themselves: twice the variance, no discrepancy
            A, V = 2 * A, get_namespace(V).zeros_like(V)
        B = V @ V.T + self.mu * eye(A.shape[0], A)
        return generalised_top(A, B, self.n_components)

    def _solve_dual(self, K, X, y, sample_domain, rng):
        V = self._mmd_columns(X, y, sample_domain)
        return _dual_top(K, V, self.mu, self.n_components, rng, images=True)

    def _transform(self, X, sample_domain):
        def embed(Xb, sd, keys):  # in blocks: bounded memory at any number of rows
            if self.mode_ == "dual":
                return self._k(Xb, self.X_fit_) @ self.components_
            return self._features(Xb) @ self.components_

        return as_rows(X, sample_domain).map(embed, self.components_.shape[1])

    @property
    def _n_features_out(self):
        return self.components_.shape[1]


class JDA(TCA):
    """Joint distribution adaptation: TCA that also matches class conditionals.

    JDA (Long et al., 2013) adds to TCA's marginal MMD one MMD term per class
    between the source rows of that class and the target rows *pseudo-
    labelled* with it, and iterates: embed, train ``estimator`` on the
    embedded source, pseudo-label the target, solve again. It needs the source
    labels ``y``; the target may stay unlabelled (labelled target rows keep
    their labels instead of pseudo-labels). A class that no target row is
    pseudo-labelled with adds no conditional term (the authors' code keeps its
    source half, which only pulls that class's source mean to the origin).

    Parameters
    ----------
    n_components : int, default=10
        Number of components.
    kernel : str or callable, default="linear"
        As in :class:`TCA` ("linear" is the paper's primal).
    gamma : float, default=None
        Kernel coefficient; None means ``1 / n_features``.
    degree : int, default=3
        Degree of the "poly" kernel.
    coef0 : float, default=1
        Independent term of the "poly" and "sigmoid" kernels.
    mu : float, default=1.0
        Regularisation (``lambda`` in the paper).
    normalize_mmd : bool, default=False
        As in :class:`TCA`; True also weighs the marginal term by the number
        of classes, like the authors' code.
    n_landmarks : int, default=None
        Nyström landmarks for large data, as in :class:`TCA`.
    max_dense_memory : float, default=4.0
        Memory bound in GiB of the exact kernel mode, as in :class:`TCA`.
    n_iter : int, default=10
        Pseudo-labelling iterations (the paper uses 10).
    estimator : classifier, default=None
        Pseudo-labeller on the embedding; defaults to 1-nearest-neighbour as
        in the paper.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolver and the landmark choice.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The
        factors weigh the source rows in the (class-conditional) source means of the MMD terms.
    verbose : int, default=0
        Print the time of each stage of each solve (see :class:`TCA`) and, per
        iteration, how many target pseudo-labels changed (0: silent).

    Attributes
    ----------
    components_ : ndarray
        The transfer directions.
    eigenvalues_ : ndarray of shape (n_components,)
        Their generalised eigenvalues.
    mode_ : {"dual", "primal", "nystrom"}
        How the problem was solved.
    pseudo_labels_ : ndarray of shape (n_target,)
        Final pseudo-labels of the training target rows.
    source_weights_ : dict of int to float
        The factor of each source domain (all 1 with "uniform"; in-memory
        input only).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu. "Transfer Feature
       Learning with Joint Distribution Adaptation". ICCV 2013.

    Examples
    --------
    >>> from sktl import JDA
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(100, 100, n_features=5, random_state=0, mask_target=True)
    >>> JDA(n_components=3, n_iter=3).fit_transform(X, y, sample_domain=sd).shape
    (200, 3)
    """

    _parameter_constraints = {
        **TCA._parameter_constraints,
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "estimator": [HasMethods(["fit", "predict"]), None],
    }
    _requires_labelled_source = True
    _dask_support = False
    _array_api_support = False

    def __init__(self, n_components=10, *, kernel="linear", gamma=None, degree=3, coef0=1,
                 mu=1.0, normalize_mmd=False, n_landmarks=None, max_dense_memory=4.0,
                 n_iter=10, estimator=None, random_state=None, source_weights="uniform",
                 verbose=0):
        super().__init__(n_components, kernel=kernel, gamma=gamma, degree=degree,
                         coef0=coef0, mu=mu, normalize_mmd=normalize_mmd,
                         n_landmarks=n_landmarks, max_dense_memory=max_dense_memory,
                         random_state=random_state, source_weights=source_weights,
                         verbose=verbose)
        self.n_iter = n_iter
        self.estimator = estimator

    def _task(self):
        return "classification"

    def _solve(self, X, y, sample_domain):
        if y is None:
            raise ValueError("JDA needs the source labels y.")
        self._pseudo = None
        Z = super()._solve(X, y, sample_domain)
        tgt = sample_domain < 0
        if not tgt.any():
            return Z
        labelled = ~unlabelled_mask(y, "classification")
        clf = KNeighborsClassifier(1) if self.estimator is None else self.estimator
        fit_rows = labelled & (sample_domain > 0)
        for it in range(self.n_iter):
            if Z is None:
                Z = self._transform(X, sample_domain)
            pseudo = np.asarray(y, dtype=object).copy()
            guess = clone(clf).fit(Z[fit_rows], y[fit_rows]).predict(Z[tgt & ~labelled])
            if self._pseudo is not None:
                changed = np.sum(self._pseudo[tgt & ~labelled] != guess)
                self._log(f"iteration {it + 1}/{self.n_iter}: {changed} target pseudo-labels "
                          "changed")
            pseudo[tgt & ~labelled] = guess
            self._pseudo = pseudo
            Z = super()._solve(X, y, sample_domain)
        self.pseudo_labels_ = self._pseudo[tgt]
        del self._pseudo
        return Z

    def _mmd_block(self, y, sample_domain, counts):
        E = self._mmd_columns(None, y, sample_domain)
        return lambda sd, keys: E[keys]

    def _mmd_columns(self, X, y, sample_domain):
        pseudo = getattr(self, "_pseudo", None)
        if pseudo is None or len(pseudo) != len(sample_domain):
            return self._normalise(_mmd_vectors(sample_domain, factors=self._factors))
        labelled = ~unlabelled_mask(y, "classification") if y is not None else None
        classes = np.unique(y[labelled & (sample_domain > 0)])
        E = _mmd_vectors(sample_domain, pseudo, classes, self._factors)
        if self.normalize_mmd:  # the authors' code weighs the marginal term by C
            E[:, 0] *= np.sqrt(len(classes))
        return self._normalise(E)


class SubspaceAlignment(ClassNamePrefixFeaturesOutMixin, BaseDATransformer):
    """Subspace alignment: map the source PCA basis onto the target's.

    Each domain is centred and described by its top ``n_components``
    principal directions ``P_s`` and ``P_t``; source rows are projected with
    ``P_s M`` where ``M = P_s' P_t`` aligns the source basis to the target
    basis, target rows with ``P_t`` (Fernando et al., 2013). New rows are
    target rows by default.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the subspaces.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The
        factors weigh the source rows in the source mean and principal directions.

    Attributes
    ----------
    source_components_, target_components_ : ndarray of shape (n_features, n_components)
        The principal directions of each domain.
    alignment_ : ndarray of shape (n_components, n_components)
        ``M = P_s' P_t``.
    source_weights_ : dict of int to float
        The factor of each source domain (all 1 with "uniform"; in-memory
        input only).
    source_mean_, target_mean_ : ndarray of shape (n_features,)
        Domain means removed before projecting.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] B. Fernando, A. Habrard, M. Sebban and T. Tuytelaars. "Unsupervised
       Visual Domain Adaptation Using Subspace Alignment". ICCV 2013.

    Examples
    --------
    >>> from sktl import SubspaceAlignment
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(50, 50, n_features=4, random_state=0, mask_target=True)
    >>> SubspaceAlignment(n_components=2).fit_transform(X, y, sample_domain=sd).shape
    (100, 2)
    """

    _accept_sparse = "csr"

    _parameter_constraints = {"n_components": [Interval(Integral, 1, None, closed="left")],
                              "source_weights": [StrOptions({"uniform", "similarity"}), dict]}
    _dask_support = True
    _array_api_support = True

    def __init__(self, n_components=10, *, source_weights="uniform"):
        self.n_components = n_components
        self.source_weights = source_weights

    def _fit(self, X, y, sample_domain):
        rows = as_rows(X, sample_domain)
        factors = self._source_factors(X, sample_domain)
        k, d = self.n_components, rows.n_features
        if k > d:
            raise ValueError(f"n_components={k} exceeds the {d} features.")

        if sp.issparse(X):
            check_sparse_width(X, "SubspaceAlignment")

        def basis(n, mean, cov):
            # principal directions from the covariance (one pass of sums)
            xp = get_namespace(cov)
            vecs = xp.flip(xp.linalg.eigh(cov)[1], axis=1)[:, :k]
            # as many directions as the rows span at most; the others are 0
            P = vecs * cast(np.arange(k) < n, cov)[None, :]
            return mean, fix_signs(P) if bool(xp.any(P != 0)) else P

        source, target = domain_moments(rows, factors)
        self.source_mean_, self.source_components_ = basis(*source)
        self.target_mean_, self.target_components_ = basis(*target)
        self.alignment_ = self.source_components_.T @ self.target_components_
        return self

    def _transform(self, X, sample_domain):
        # (X - m) @ P as X @ P - m @ P: sparse rows are never centred (densified)
        def project(mean, P):
            XP = X @ P
            return (np.asarray(XP) if sp.issparse(X) else XP) - mean @ P

        Ps = self.source_components_ @ self.alignment_
        return where_rows(sample_domain > 0, project(self.source_mean_, Ps),
                          project(self.target_mean_, self.target_components_))

    @property
    def _n_features_out(self):
        return self.n_components


class CORALEstimator(_DelegatingMixin, BaseDAEstimator):
    """CORAL as an estimator: fit ``estimator`` on CORAL-aligned source rows.

    The estimator form of :class:`CORAL` (Sun, Feng & Saenko, 2016): source
    rows are re-coloured with the target covariance, the base estimator is
    fitted on the labelled rows, and new (target) rows are predicted as they
    are. Equivalent to ``make_da_pipeline(CORAL(reg, align_means=...), estimator)``.

    Parameters
    ----------
    estimator : estimator object
        Any classifier or regressor.
    reg : float, default=1.0
        Ridge added to both covariances.
    align_means : bool, default=False
        Move the re-coloured source rows onto the target mean too (see
        :class:`CORAL`).

    Attributes
    ----------
    coral_ : CORAL
        The fitted alignment.
    estimator_ : estimator object
        The fitted base estimator.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] B. Sun, J. Feng and K. Saenko. "Return of Frustratingly Easy Domain
       Adaptation". AAAI 2016.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import CORALEstimator
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> CORALEstimator(LogisticRegression()).fit(X, y, sample_domain=sd).predict(X[:3]).shape
    (3,)
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "reg": [Interval(Real, 0, None, closed="left")],
        "align_means": ["boolean"],
    }

    def __init__(self, estimator, *, reg=1.0, align_means=False):
        self.estimator = estimator
        self.reg = reg
        self.align_means = align_means

    def fit(self, X, y, sample_domain=None):
        """Align the source rows, then fit the estimator on the labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 / NaN for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        # the domains are resolved already (with their warning, if any): fit the
        # alignment on them directly rather than validating a second time
        self.coral_ = CORAL(reg=self.reg, align_means=self.align_means)._fit(X, y, sd)
        self.coral_.n_features_in_, self.coral_.domains_ = self.n_features_in_, self.domains_
        Xa = self.coral_._transform(X, sd)
        keep = ~unlabelled_mask(y, self._task())
        self.estimator_ = clone(self.estimator).fit(Xa[keep], y[keep])
        return self

    def _prepare(self, X):
        return self._check_new_X(X)


def _weighted_mmd(A, B, W, gamma):
    """Squared MMD of an RBF kernel on ``sqrt(W)``-scaled features, and its gradient in W."""
    sw = np.sqrt(W)
    parts = {}
    for key, (P, Q) in {"ss": (A, A), "tt": (B, B), "st": (A, B)}.items():
        K = pairwise_kernels(P * sw, Q * sw, metric="rbf", gamma=gamma)
        # sum_ab K_ab (P_aj - Q_bj)^2 for every feature j
        spread = K.sum(axis=1) @ P**2 + K.sum(axis=0) @ Q**2 - 2 * np.sum(P * (K @ Q), axis=0)
        parts[key] = (K.mean(), spread / K.size)
    value = parts["ss"][0] + parts["tt"][0] - 2 * parts["st"][0]
    grad = -gamma * (parts["ss"][1] + parts["tt"][1] - 2 * parts["st"][1])
    return value, grad


def _project_nonneg_ball(W):
    """Euclidean projection onto ``{W >= 0, ||W|| <= 1}``."""
    W = np.maximum(W, 0.0)
    norm = np.linalg.norm(W)
    return W / norm if norm > 1 else W


class MMDFeatureSelector(BaseDATransformer):
    """Feature selection for transfer: drop the features that carry the shift.

    Uguroglu & Carbonell (2011) weigh the features by ``W`` (``W >= 0``,
    ``||W|| <= 1``) so as to *maximise* the maximum mean discrepancy (MMD)
    between the source and the target rows in the weighted feature space:
    the features that explain the discrepancy ("variant" features) get large
    weights, the invariant ones weights near 0. The selector keeps the
    invariant features. With the linear kernel the problem has a closed form,
    ``W ∝ (mean_source - mean_target)^2`` (mean shifts only); with the RBF
    kernel, ``k(x, x') = exp(-gamma sum_j W_j (x_j - x'_j)^2)``, any change of
    a feature's distribution counts, and ``W`` is found by projected gradient
    ascent from the linear solution (a local optimum: the problem is not
    concave, and the ascent tends to put the weight on the few most shifted
    features, so "auto" then drops those). Unlabelled rows suffice; the
    labels are not used. Like any selection, it helps when the label
    depends on invariant features and the shifted ones are spurious.

    Parameters
    ----------
    kernel : {"linear", "rbf"}, default="linear"
        Kernel of the MMD.
    gamma : float, default=None
        RBF coefficient; None means ``1 / (n_features * X.var())`` over the
        source and target rows (scikit-learn's ``gamma="scale"``).
    threshold : "auto" or float, default="auto"
        Features with ``feature_scores_ <= threshold`` are kept. "auto" cuts
        the sorted scores at their largest gap (the variant features are the
        ones above it).
    max_samples : int, default=500
        RBF only: rows drawn from each domain to estimate the MMD.
    max_iter : int, default=200
        RBF only: gradient ascent iterations.
    tol : float, default=1e-6
        RBF only: stop when ``W`` moves less than this (Euclidean norm).
    random_state : int, RandomState instance or None, default=None
        Draws the ``max_samples`` rows.

    Attributes
    ----------
    feature_scores_ : ndarray of shape (n_features,)
        ``W``: how much each feature contributes to the discrepancy.
    support_ : ndarray of bool of shape (n_features,)
        The kept (invariant) features.
    threshold_ : float
        The threshold used.
    n_iter_ : int
        Gradient ascent iterations (1 for the linear kernel's closed form).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] S. Uguroglu and J. Carbonell. "Feature Selection for Transfer
       Learning". ECML PKDD 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import MMDFeatureSelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> X[100:, 2] += 3.0  # the target moves along feature 2 only
    >>> sd = np.r_[np.ones(100, int), -np.ones(100, int)]
    >>> sel = MMDFeatureSelector().fit(X, sample_domain=sd)
    >>> sel.support_
    array([ True,  True, False,  True])
    >>> sel.transform(X).shape
    (200, 3)
    """

    _parameter_constraints = {
        "kernel": [StrOptions({"linear", "rbf"})],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "threshold": [StrOptions({"auto"}), Interval(Real, None, None, closed="neither")],
        "max_samples": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, kernel="linear", *, gamma=None, threshold="auto", max_samples=500,
                 max_iter=200, tol=1e-6, random_state=None):
        self.kernel = kernel
        self.gamma = gamma
        self.threshold = threshold
        self.max_samples = max_samples
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _fit(self, X, y, sample_domain):
        X = np.asarray(X, dtype=float)
        A, B = X[sample_domain > 0], X[sample_domain < 0]
        if not len(A) or not len(B):  # one domain only (a DomainWarning said so): keep all
            diff = np.zeros(X.shape[1])
        else:
            diff = (A.mean(axis=0) - B.mean(axis=0)) ** 2
        W = _project_nonneg_ball(diff / max(np.linalg.norm(diff), np.finfo(float).tiny))
        self.n_iter_ = 1  # the closed form
        if self.kernel == "rbf" and len(A) and len(B):
            W = self._ascend(A, B, X, W)
        self.feature_scores_ = W
        if self.threshold == "auto":
            order = np.sort(W)
            gaps = np.diff(order)
            self.threshold_ = float(order[np.argmax(gaps)]) if len(gaps) and gaps.max() > 0 \
                else float(order[-1])
        else:
            self.threshold_ = float(self.threshold)
        self.support_ = W <= self.threshold_
        if not self.support_.any():
            raise ValueError(f"threshold={self.threshold} keeps no feature (the smallest "
                             f"score is {W.min():.3g}); raise it or use 'auto'.")
        return self

    def _ascend(self, A, B, X, W):
        rng = check_random_state(self.random_state)
        m = self.max_samples
        A = A[rng.choice(len(A), m, replace=False)] if len(A) > m else A
        B = B[rng.choice(len(B), m, replace=False)] if len(B) > m else B
        if not W.any():
            W = np.full(X.shape[1], 1 / np.sqrt(X.shape[1]))
        gamma = self.gamma
        if gamma is None:
            gamma = 1.0 / (X.shape[1] * (float(np.var(np.vstack([A, B]))) or 1.0))
        value, grad = _weighted_mmd(A, B, W, gamma)
        step = 1.0 / max(np.linalg.norm(grad), np.finfo(float).tiny)
        for it in range(1, self.max_iter + 1):
            self.n_iter_ = it
            new = _project_nonneg_ball(W + step * grad)
            new_value, new_grad = _weighted_mmd(A, B, new, gamma)
            if new_value < value:  # overshoot: shorter steps, same point
                step /= 2
                if step < 1e-12:
                    break
                continue
            moved = np.linalg.norm(new - W)
            W, value, grad = new, new_value, new_grad
            step *= 1.5
            if moved < self.tol:
                break
        return W

    def _transform(self, X, sample_domain):
        return X[:, self.support_]

    def get_feature_names_out(self, input_features=None):
        """The names of the kept features.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; None uses ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.asarray(names, dtype=object)[self.support_]
