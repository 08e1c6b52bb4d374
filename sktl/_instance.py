"""Instance-based transfer: reweight source rows so they look like the target."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import BaseDensityRatioReweighter, BaseReweighter
from .utils._blocks import as_rows, is_dask, logistic_newton
from .utils._sparse import (
    MAX_SPARSE_FEATURES,
    check_sparse_width,
    row_quadratic_forms,
    second_moment,
    vstack,
)


def logistic_weights(X_source, X_target, domain_classifier=None, max_weight=None):
    """:func:`domain_classifier_weights` with a logistic regression fitted blockwise.

    The default domain classifier (and the only one on Dask input, where a
    ``LogisticRegression`` passes its ``C`` and ``fit_intercept``) is solved
    by Newton's method from sums over row blocks (:func:`~sktl.utils._blocks.
    logistic_newton`); the weights are then one lazy map over the source rows.
    """
    source, target = as_rows(X_source), as_rows(X_target)
    clf = _newton_classifier(source, target, domain_classifier)
    n_domains = (source.n_rows, target.n_rows)
    # the same odds as the in-memory path, so Dask and NumPy fits agree
    scale = source.n_rows / source.reduce(
        lambda X, sd, keys: _classifier_odds(clf, X, *n_domains).sum())

    def weights(X, sd, keys):
        w = _classifier_odds(clf, X, *n_domains) * scale
        return w if max_weight is None else np.minimum(w, max_weight)

    return source.map(weights, dtype=float)


def _newton_params(domain_classifier):
    if domain_classifier is not None and not isinstance(domain_classifier,
                                                        LogisticRegression):
        raise TypeError("On Dask input the domain classifier must be None or a "
                        "LogisticRegression (fitted blockwise by Newton's method); got "
                        f"{type(domain_classifier).__name__}.")
    return {} if domain_classifier is None else {
        "C": domain_classifier.C, "fit_intercept": domain_classifier.fit_intercept}


def _newton_classifier(X_source, X_target, domain_classifier=None):
    """A ``LogisticRegression`` (target = 1) whose coefficients come from blockwise Newton."""
    params = _newton_params(domain_classifier)
    coef, intercept, n_iter = logistic_newton(as_rows(X_source), as_rows(X_target), **params)
    clf = LogisticRegression(**params)
    clf.classes_ = np.array([0.0, 1.0])
    clf.coef_ = np.asarray(coef, dtype=float).reshape(1, -1)
    clf.intercept_ = np.atleast_1d(np.asarray(intercept, dtype=float))
    clf.n_features_in_ = clf.coef_.shape[1]
    clf.n_iter_ = np.array([n_iter])
    return clf

def _fit_domain_classifier(X_source, X_target, domain_classifier=None):
    """A clone of ``domain_classifier`` fitted to tell target (1) from source (0) rows."""
    clf = LogisticRegression() if domain_classifier is None else clone(domain_classifier)
    X = vstack([X_source, X_target])
    d = np.r_[np.zeros(X_source.shape[0]), np.ones(X_target.shape[0])]
    return clf.fit(X, d)


def _classifier_odds(clf, X, n_source, n_target):
    """``(n_s / n_t) P(t | x) / P(s | x)``: Bayes' rule turned into ``p_t(x) / p_s(x)``."""
    col = int(np.flatnonzero(clf.classes_ == 1)[0])
    p_t = np.clip(clf.predict_proba(X)[:, col], 1e-12, 1 - 1e-12)
    return p_t / (1 - p_t) * (n_source / n_target)


def domain_classifier_weights(X_source, X_target, domain_classifier=None, max_weight=None):
    """Density-ratio weights ``p_t(x) / p_s(x)`` from a domain classifier.

    A probabilistic classifier is trained to tell target rows (class 1) from
    source rows (class 0); by Bayes' rule
    ``p_t(x) / p_s(x) = (n_s / n_t) * P(t | x) / P(s | x)`` (Bickel,
    Brückner & Scheffer, 2007). Weights are rescaled to mean 1 over the
    source rows and optionally clipped.

    Parameters
    ----------
    X_source : ndarray of shape (n_source, n_features)
    X_target : ndarray of shape (n_target, n_features)
    domain_classifier : classifier with ``predict_proba``, default=None
        Defaults to ``LogisticRegression()``.
    max_weight : float, default=None
        Upper clip applied after rescaling; None keeps every weight.

    Returns
    -------
    weights : ndarray of shape (n_source,)
    """
    clf = _fit_domain_classifier(X_source, X_target, domain_classifier)
    w = _classifier_odds(clf, X_source, X_source.shape[0], X_target.shape[0])
    w *= len(w) / w.sum()
    if max_weight is not None:
        w = np.minimum(w, max_weight)
    return w


class DiscriminativeReweighter(BaseDensityRatioReweighter):
    """Importance weighting with a domain classifier's density-ratio estimate.

    A classifier learns to tell target from source rows; its odds give the
    density ratio ``p_t(x) / p_s(x)`` for every source row (Bickel, Brückner &
    Scheffer, 2007). The base estimator is then fitted on the reweighted
    source, which corrects a covariate shift. It is the cheap alternative to
    kernel mean matching and shares its interface. The fitted classifier
    gives the ratio at any row: :meth:`density_ratio`.

    Parameters
    ----------
    estimator : estimator object, default=None
        Any estimator whose ``fit`` accepts ``sample_weight``. With None the
        reweighter only computes ``weights_``.
    domain_classifier : classifier, default=None
        Probabilistic classifier used to separate the domains; defaults to
        ``LogisticRegression()``.
    max_weight : float, default=None
        Clip weights above this value (after rescaling to mean 1); None keeps
        them all.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Weight of each source row, mean 1 before clipping.
    domain_classifier_ : classifier
        The fitted domain classifier (target = class 1).
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
    .. [1] S. Bickel, M. Brückner and T. Scheffer. "Discriminative Learning for
       Differing Training and Test Distributions". ICML 2007.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import DiscriminativeReweighter
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> clf = DiscriminativeReweighter(LogisticRegression()).fit(X, y, sample_domain=sd)
    >>> clf.weights_.shape
    (100,)
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "domain_classifier": [HasMethods(["fit", "predict_proba"]), None],
        "max_weight": [Interval(Real, 0, None, closed="neither"), None],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }
    _dask_support = True

    def __init__(self, estimator=None, *, domain_classifier=None, max_weight=None,
                 source_weights="uniform"):
        self.estimator = estimator
        self.domain_classifier = domain_classifier
        self.max_weight = max_weight
        self.source_weights = source_weights

    def _fit_weights(self, X_source, X_target):
        if is_dask(X_source):  # lazy weights; no ratio model kept
            self._n_domains = None
            return logistic_weights(X_source, X_target, self.domain_classifier,
                                    self.max_weight)
        return super()._fit_weights(X_source, X_target)

    def _fit_ratio(self, X_source, X_target):
        # the default classifier by blockwise Newton (a (d+1)^2 Hessian: sparse rows
        # up to MAX_SPARSE_FEATURES columns); wider sparse rows go to lbfgs
        newton = self.domain_classifier is None and not (
            sp.issparse(X_source) and X_source.shape[1] > MAX_SPARSE_FEATURES)
        fit = _newton_classifier if newton else _fit_domain_classifier
        self.domain_classifier_ = fit(X_source, X_target, self.domain_classifier)
        self._n_domains = (X_source.shape[0], X_target.shape[0])

    def _ratio(self, X):
        if self._n_domains is None:
            raise ValueError("density_ratio is not available after a fit on Dask input; "
                             "the weights are in weights_.")
        return _classifier_odds(self.domain_classifier_, X, *self._n_domains)


# ----------------------------------------------------------------------------- LDM


def _ldm_matrix(Xs, w, Qt):
    """``M(w) = Q_t - X_s' diag(w) X_s``, the second-moment gap LDM minimises."""
    return Qt - second_moment(Xs, w)


def _ldm_smoothed(Xs, Qt, w, mu):
    """Smoothed objective, its gradient, ``||M(w)||_2`` and a lower bound on the optimum.

    ``mu log tr(exp(M/mu) + exp(-M/mu))`` lies between ``||M(w)||_2`` and
    ``||M(w)||_2 + mu log(2p)`` (Nesterov, 2005); its gradient in ``w`` is
    ``-x_i' G x_i`` with ``G`` the softmax-weighted eigenprojector of ``M``.
    ``G`` has nuclear norm at most 1, so weak duality gives the lower bound
    ``<G, Q_t> - max_i x_i' G x_i`` on ``min_w ||M(w)||_2``.
    """
    lam, vecs = linalg.eigh(_ldm_matrix(Xs, w, Qt))
    z = np.r_[lam, -lam] / mu
    top = z.max()
    e = np.exp(z - top)
    total = e.sum()
    p = len(lam)
    G = (vecs * ((e[:p] - e[p:]) / total)) @ vecs.T
    grad = -row_quadratic_forms(Xs, G)
    bound = float(np.sum(G * Qt) + grad.min())
    return mu * (top + np.log(total)), grad, float(np.abs(lam).max()), bound


def _entropic_step(z, grad, step):
    """Mirror (exponentiated-gradient) step on the simplex from ``z``."""
    logits = np.log(np.maximum(z, 1e-300)) - step * grad
    logits -= logits.max()
    out = np.exp(logits)
    return out / out.sum()


def _ldm_accelerated(Xs, Qt, tol, max_iter):
    """Minimise ``||M(w)||_2`` over the simplex by smoothing and accelerated mirror descent.

    Nesterov's smoothing (2005) with continuation on ``mu`` (divided by 10
    whenever the smoothed problem is solved to its own smoothing error, i.e.
    its Frank-Wolfe gap ``g'w - min(g)`` falls below ``mu log 2p``), each stage
    solved by Tseng's (2008) accelerated method in the entropy geometry of the
    simplex with a backtracking (and slowly relaxing) Lipschitz estimate. It
    stops when the duality gap ``||M(w)||_2 - (<G, Q_t> - max_i x_i' G x_i)``
    certifies ``w`` within ``tol`` of the optimum, relative to the unweighted
    discrepancy (or to ``1e-3 ||Q_t||`` when that is larger). Returns
    ``(w, n_iter, converged)``.
    """
    n, p = Xs.shape
    w = np.full(n, 1.0 / n)
    scale = np.linalg.norm(_ldm_matrix(Xs, w, Qt), 2)
    # domains whose moments already agree to 1e-3 of their size: a relative
    # tolerance on a vanishing gap would ask for ever more iterations for nothing
    scale = max(scale, 1e-3 * np.linalg.norm(Qt, 2), np.finfo(float).tiny)
    log2p = np.log(2 * p)
    mu = 0.1 * scale / log2p
    lip = (row_quadratic_forms(Xs, np.eye(p)).max() ** 2) / mu / 100  # optimistic start
    x = z = w
    theta = 1.0
    f_x, g_x, norm_x, bound = _ldm_smoothed(Xs, Qt, x, mu)
    best_bound = bound
    for n_iter in range(1, max_iter + 1):
        best_bound = max(best_bound, bound)
        if norm_x - best_bound <= tol * scale:
            return x, n_iter, True
        if g_x @ x - g_x.min() <= mu * log2p:  # this smoothing is solved: sharpen it
            mu /= 10
            lip *= 10
            theta, z = 1.0, x
            f_x, g_x, norm_x, bound = _ldm_smoothed(Xs, Qt, x, mu)
            continue
        y = (1 - theta) * x + theta * z
        f_y, g_y, _, _ = _ldm_smoothed(Xs, Qt, y, mu)
        while True:
            z_new = _entropic_step(z, g_y, 1.0 / (theta * lip))
            x_new = (1 - theta) * x + theta * z_new
            f_new, g_new, norm_new, bound_new = _ldm_smoothed(Xs, Qt, x_new, mu)
            d = x_new - y
            if f_new <= f_y + g_y @ d + 0.5 * lip * np.abs(d).sum() ** 2 + 1e-12 * abs(f_y):
                break
            lip *= 2.0
        best_bound = max(best_bound, bound_new)
        if f_new > f_x:  # adaptive restart (O'Donoghue & Candès, 2015)
            theta, z = 1.0, x
            continue
        x, z, f_x, g_x, norm_x, bound = x_new, z_new, f_new, g_new, norm_new, bound_new
        theta = 0.5 * (np.sqrt(theta**4 + 4 * theta**2) - theta**2)
        lip *= 0.95
    return x, max_iter, False


def _ldm_cvxpy(Xs, Qt):
    """The exact semidefinite programme of LDM with cvxpy."""
    import cvxpy as cp

    Xs = Xs.toarray() if hasattr(Xs, "toarray") else Xs
    n, p = Xs.shape
    w = cp.Variable(n, nonneg=True)
    t = cp.Variable()
    M = Qt - Xs.T @ cp.diag(w) @ Xs
    M = (M + M.T) / 2
    eye = np.eye(p)
    problem = cp.Problem(cp.Minimize(t), [cp.sum(w) == 1, t * eye - M >> 0, t * eye + M >> 0])
    try:
        problem.solve()
    except cp.error.SolverError as exc:
        raise ValueError(f"cvxpy could not solve the LDM problem ({exc}); use "
                         "solver='accelerated'.") from exc
    if w.value is None:
        raise ValueError(f"cvxpy ended with status {problem.status!r} on the LDM problem; use "
                         "solver='accelerated'.")
    w = np.clip(w.value, 0.0, None)
    return w / w.sum()


class LDM(BaseReweighter):
    """Linear discrepancy minimisation: source weights whose second moment matches the target's.

    For the squared loss and linear hypotheses ``h(x) = u'x``, the
    discrepancy distance between the weighted source and the target is the
    spectral norm of the gap between their second-moment matrices (Mansour,
    Mohri & Rostamizadeh, 2009). LDM chooses the source distribution ``w`` on
    the simplex that minimises it::

        min_w  || (1/n_t) X_t' X_t - X_s' diag(w) X_s ||_2,   w >= 0, sum(w) = 1,

    a semidefinite programme. The default solver smooths the spectral norm
    (Nesterov, 2005) and runs an accelerated mirror-descent method on the
    simplex, each step an eigendecomposition of a ``d x d`` matrix and an
    ``n_source x d^2`` product, so it scales to many rows; ``solver="cvxpy"``
    solves the SDP exactly with an interior-point method (memory and time
    grow with ``n_source^2``). ``weights_`` are ``n_source * w`` (mean 1).

    Sparse rows are accepted up to 5 000 features (the ``d x d`` moments are
    dense; the rows are never densified as a whole).

    The moments are *uncentred*, as in the paper: shift and scale the
    features the same way in both domains (e.g. a ``StandardScaler`` fitted on
    all rows) before LDM. The weights are defined on the training rows only
    (no :meth:`density_ratio`).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only.
    solver : {"accelerated", "cvxpy"}, default="accelerated"
        See above.
    tol : float, default=1e-3
        "accelerated": stop within ``tol`` times the unweighted discrepancy
        of the optimum (a Frank-Wolfe certificate).
    max_iter : int, default=5000
        Maximum iterations of "accelerated"; a
        :class:`~sklearn.exceptions.ConvergenceWarning` says when they were
        not enough.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        ``n_source * w``.
    discrepancy_ : float
        ``||M(w)||_2`` at the solution.
    initial_discrepancy_ : float
        ``||M||_2`` with uniform weights.
    n_iter_ : int
        Iterations of "accelerated" (0 for cvxpy).
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
    .. [1] Y. Mansour, M. Mohri and A. Rostamizadeh. "Domain Adaptation:
       Learning Bounds and Algorithms". COLT 2009.
    .. [2] Y. Nesterov. "Smooth minimization of non-smooth functions".
       Mathematical Programming, 2005.
    .. [3] P. Tseng. "On accelerated proximal gradient methods for
       convex-concave optimization". Technical report, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import LDM
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(0, 0.5, (100, 2))]
    >>> sd = np.r_[np.ones(100, int), -np.ones(100, int)]
    >>> ldm = LDM().fit(X, sample_domain=sd)
    >>> bool(ldm.discrepancy_ < 0.1 * ldm.initial_discrepancy_)
    True
    """

    _accept_sparse = "csr"

    _no_density_ratio = (
        "LDM solves for one weight per training source row and has no model of the "
        "ratio at new rows; use KLIEP, ULSIF or DiscriminativeReweighter for that."
    )

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "solver": [StrOptions({"accelerated", "cvxpy"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }

    def __init__(self, estimator=None, *, solver="accelerated", tol=1e-3, max_iter=5000,
                 source_weights="uniform"):
        self.estimator = estimator
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.source_weights = source_weights

    def _fit_weights(self, X_source, X_target):
        check_sparse_width(X_source, "LDM")
        Xs = X_source
        Qt = second_moment(X_target) / X_target.shape[0]
        n = Xs.shape[0]
        self.initial_discrepancy_ = float(
            np.linalg.norm(_ldm_matrix(Xs, np.full(n, 1.0 / n), Qt), 2))
        if self.solver == "cvxpy":
            w, self.n_iter_ = _ldm_cvxpy(Xs, Qt), 0
        else:
            w, self.n_iter_, converged = _ldm_accelerated(Xs, Qt, self.tol, self.max_iter)
            if not converged:
                warnings.warn(
                    f"LDM did not reach tol={self.tol} in max_iter={self.max_iter} "
                    "iterations. Increase max_iter or tol.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        self.discrepancy_ = float(np.linalg.norm(_ldm_matrix(Xs, w, Qt), 2))
        return n * w


# ------------------------------------------------------------- balanced weighting


class BalancedWeighting(BaseReweighter):
    """Balance the labelled source and target rows: a fixed share of the loss each.

    With a few labelled target rows, fitting on source and target pooled lets
    the many source rows drown the few target ones; fitting on the target
    alone wastes the source. Balanced weighting gives the labelled target
    rows a share ``target_share`` of the total training weight and the source
    rows the rest (Wu & Dietterich, 2004), i.e. minimises
    ``(1 - target_share) L_source + target_share L_target`` with each ``L`` a
    mean loss. ``target_share = 0.5`` is the balanced choice; 1 is
    target-only. Every weight is rescaled so that the labelled rows' weights
    average 1. It needs labelled target rows; it is not a density-ratio
    method (no :meth:`density_ratio`).

    Parameters
    ----------
    estimator : estimator object, default=None
        Estimator whose ``fit`` accepts ``sample_weight``; None computes the
        weights only (``y`` is still needed to count the labelled rows).
    target_share : float in [0, 1], default=0.5
        Share of the total training weight given to the labelled target rows.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled: see
        :ref:`multi-source` and :func:`sktl.source_domain_weights`. The factors
        multiply ``weights_`` (not :meth:`density_ratio`).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Weight of each source row (0 for unlabelled source rows).
    target_weight_ : float
        Weight of each labelled target row.
    estimator_ : estimator object
        The base estimator fitted on the weighted rows (when given).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] P. Wu and T. G. Dietterich. "Improving SVM Accuracy by Training on
       Auxiliary Data Sources". ICML 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import BalancedWeighting
    >>> X = np.array([[0.0], [0.2], [0.4], [0.6], [1.0], [1.2], [2.0], [2.2]])
    >>> y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    >>> sd = np.array([1, 1, 1, 1, 1, 1, -2, -2])
    >>> bw = BalancedWeighting(LogisticRegression()).fit(X, y, sample_domain=sd)
    >>> round(float(bw.weights_.sum()), 6), float(2 * bw.target_weight_)
    (4.0, 4.0)
    """

    _no_density_ratio = (
        "BalancedWeighting gives every row of a domain the same weight; it does not "
        "estimate a density ratio."
    )

    _accept_sparse = "csr"

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "target_share": [Interval(Real, 0, 1, closed="both")],
        "source_weights": [StrOptions({"uniform", "similarity"}), dict],
    }

    def __init__(self, estimator=None, *, target_share=0.5, source_weights="uniform"):
        self.estimator = estimator
        self.target_share = target_share
        self.source_weights = source_weights

    def _sample_weights(self, X, src, tgt, labelled, y=None):
        if labelled is None:
            raise ValueError("BalancedWeighting needs y to know which target rows are labelled.")
        if src.all():  # no target rows at all (a DomainWarning said so): no adaptation
            self.target_weight_ = 1.0
            return np.ones(X.shape[0])
        lab_s = src & labelled
        lab_t = (~src) & labelled
        n_s, n_t = int(lab_s.sum()), int(lab_t.sum())
        if n_t == 0:
            raise ValueError(
                "BalancedWeighting needs labelled target rows (it balances source and "
                "target losses); every target label is masked. Use an unsupervised "
                "reweighter (KLIEP, ULSIF, KMM, ...) instead."
            )
        if n_s == 0 and self.target_share < 1:
            raise ValueError("BalancedWeighting needs labelled source rows unless "
                             "target_share=1.")
        share = self.target_share
        n = n_s + n_t
        # total weight n split as (1 - share) n on the source, share n on the target
        sample_weight = np.zeros(X.shape[0])
        if n_s:
            sample_weight[lab_s] = (1 - share) * n / n_s
        self.target_weight_ = share * n / n_t
        sample_weight[lab_t] = self.target_weight_
        return sample_weight
