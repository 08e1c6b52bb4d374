"""Parameter-based transfer for a few labelled target rows.

A model is fitted on the labelled source rows (or given already fitted, in a
:class:`sklearn.frozen.FrozenEstimator`), then adapted with the few labelled
target rows: its coefficients are pulled towards the source's (Chelba &
Acero, 2006), its function is used as the prior mean of a Gaussian process,
its prediction becomes an extra feature (PRED), or its prediction is mixed
with a target-only model's (LININT; both Daumé III, 2007).

Every estimator here takes the usual ``X, y, sample_domain``: source rows have
positive codes, target rows negative ones, and the labelled target rows are
the target rows whose label is not masked (-1 / NaN).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import clone, is_classifier
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._base import BaseDAEstimator, _copy_type_tags
from .exceptions import DomainWarning
from .utils._domain import unlabelled_mask

# Relative penalty grid of the "auto" choice: multiplied by the mean squared
# column norm of the target design, so that it does not depend on the scale
# of X. 1e-3 is close to target-only, 1e3 close to the source model.
_RELATIVE_GRID = np.logspace(-3, 3, 13)
_MIN_ROWS_FOR_CV = 3  # fewer labelled target rows: no cross-validation


def _is_prefit(estimator):
    return isinstance(estimator, FrozenEstimator)


def _prefit_model(estimator):
    """The fitted model inside a FrozenEstimator (or the estimator itself)."""
    return estimator.estimator if _is_prefit(estimator) else estimator


class _SourceThenTargetMixin:
    """Fit (or take) the source model, then find the labelled target rows.

    ``estimator`` is the source model: it is cloned and fitted on the labelled
    source rows, unless it is a :class:`~sklearn.frozen.FrozenEstimator`
    around a fitted model, which is used as it is (and source rows are then
    not needed). Without any target row (no domain information at all), the
    labelled rows serve as their own target, as the ``DomainWarning`` raised
    by the validation says.
    """

    _default_estimator = None  # a factory: Ridge, LogisticRegression, ...

    @property
    def _requires_labelled_source(self):
        return not _is_prefit(self._template())

    @property
    def _needs_source_rows(self):
        return self._requires_labelled_source

    def _template(self):
        """The source model template (overridden where it has its own parameter)."""
        return self._default_estimator() if self.estimator is None else self.estimator

    def _model(self):
        """The estimator that says what the task is."""
        return self._default_estimator() if self.estimator is None else self.estimator

    def _task(self):
        return "classification" if is_classifier(self._model()) else "regression"

    def __sklearn_tags__(self):
        return _copy_type_tags(super().__sklearn_tags__(), self._model())

    def _split_rows(self, X, y, sd):
        """``(source_model, X_target, y_target)`` from validated data."""
        labelled = ~unlabelled_mask(y, self._task())
        if not (sd < 0).any():  # no domain information: rows are their own target
            src = tgt = labelled
        else:
            src, tgt = labelled & (sd > 0), labelled & (sd < 0)
        template = self._template()
        if _is_prefit(template):
            source = template
            n_in = getattr(_prefit_model(source), "n_features_in_", X.shape[1])
            if n_in != X.shape[1]:
                raise ValueError(
                    f"The prefit source model expects {n_in} features but X has "
                    f"{X.shape[1]} features."
                )
        else:
            source = self._fit_source(clone(template), X[src], y[src])
        if not tgt.any():
            warnings.warn(
                f"{type(self).__name__} got no labelled target rows: the source model "
                "is used as it is. Label a few target rows (negative sample_domain "
                "with a real label) to adapt it.",
                DomainWarning,
                stacklevel=3,
            )
        self.source_estimator_ = source
        self.n_target_labels_ = int(tgt.sum())
        return source, X[tgt], y[tgt]

    def _fit_source(self, model, X, y):
        """Hook: fit the (cloned) source model."""
        return model.fit(X, y)

    def _check_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])


def _with_ones(X):
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


def _penalty_grid(Z):
    """The absolute penalties of the relative grid for design matrix ``Z``."""
    scale = np.mean(np.sum(Z**2, axis=0))
    return _RELATIVE_GRID * max(scale, np.finfo(float).tiny)


def _ridge_loo_alpha(Z, r, grid):
    """The penalty of ``grid`` with the least leave-one-out error of ridge on ``(Z, r)``.

    Closed form from one SVD: the leave-one-out residual of row i is
    ``(r_i - fit_i) / (1 - h_ii)`` with ``h`` the ridge hat matrix.
    """
    U, s, _ = np.linalg.svd(Z, full_matrices=False)
    proj = U.T @ r
    errors = []
    for alpha in grid:
        shrink = s**2 / (s**2 + alpha)
        fitted = U @ (shrink * proj)
        leverage = np.einsum("ij,j,ij->i", U, shrink, U)
        errors.append(np.mean(((r - fitted) / np.maximum(1 - leverage, 1e-12)) ** 2))
    return float(grid[int(np.argmin(errors))])


def _linear_params(model, n_features):
    """Source coefficients and intercept as a ``(n_outputs, n_features + 1)`` array."""
    model = _prefit_model(model)
    if not hasattr(model, "coef_"):
        raise TypeError(
            f"The source model {type(model).__name__} has no coef_: use a linear model "
            "(e.g. Ridge, LinearRegression, LogisticRegression)."
        )
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    if coef.shape[1] != n_features:
        raise ValueError(
            f"The source model has {coef.shape[1]} coefficients per output but X has "
            f"{n_features} features."
        )
    intercept = np.broadcast_to(
        np.asarray(getattr(model, "intercept_", 0.0), dtype=float), (coef.shape[0],)
    )
    return np.hstack([coef, intercept[:, None]])


_ALPHA = [Interval(Real, 0, None, closed="both"), StrOptions({"auto"})]


class RegularTransferLR(_SourceThenTargetMixin, BaseDAEstimator):
    """Linear regression pulled towards the source model's coefficients.

    The source model (a linear regressor) is fitted on the labelled source
    rows, or given prefit. The target model solves, on the labelled target
    rows ``(X_T, y_T)``,

    .. math::

        \\min_{w, b} \\|y_T - X_T w - b\\|^2 + \\alpha \\|(w, b) - (w_S, b_S)\\|^2,

    the maximum a posteriori estimate under a Gaussian prior centred on the
    source parameters (Chelba & Acero, 2006). ``alpha = 0`` gives ordinary
    least squares on the target rows (the least change from the source when
    they do not determine the model), ``alpha = inf`` the source model.

    With ``alpha="auto"`` the penalty is chosen by efficient leave-one-out
    cross-validation on the labelled target rows, over 13 values spread
    log-uniformly from ``1e-3`` to ``1e3`` times the mean squared column norm
    of ``[X_T, 1]`` (so the grid follows the scale of ``X``). With fewer than 3
    labelled target rows there is nothing to cross-validate and the middle of
    that grid is used: the prior then weighs about as much as the target rows.

    ADAPT's ``RegularTransferLR`` solves the same problem for a fixed
    ``lambda_``, which its solver (``lsqr``'s ``damp``) squares:
    ``alpha = lambda_ ** 2``.

    Parameters
    ----------
    estimator : regressor with ``coef_``, default=None
        Source model, fitted on the labelled source rows; ``None`` means
        :class:`~sklearn.linear_model.Ridge`. Wrap a fitted model in
        :class:`~sklearn.frozen.FrozenEstimator` to use it as it is.
    alpha : float >= 0 or "auto", default="auto"
        Weight of the penalty towards the source parameters (``np.inf``:
        keep the source model).

    Attributes
    ----------
    source_estimator_ : estimator
        The fitted source model.
    coef_ : ndarray of shape (n_features,)
        Target coefficients.
    intercept_ : float
        Target intercept.
    alpha_ : float
        The penalty used.
    n_target_labels_ : int
        Number of labelled target rows used.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] C. Chelba and A. Acero. "Adaptation of maximum entropy capitalizer:
       Little data can help a lot". Computer Speech & Language 20(4), 2006
       (EMNLP 2004).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import RegularTransferLR
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(200, 100, shift="conditional", task="regression",
    ...                              random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(len(y)) % 10 != 0), np.nan, y)
    >>> reg = RegularTransferLR().fit(X, y_train, sample_domain=sd)
    >>> reg.n_target_labels_, reg.predict(X[sd < 0]).shape
    (10, (100,))
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "alpha": _ALPHA,
    }
    _default_estimator = Ridge

    def __init__(self, estimator=None, *, alpha="auto"):
        self.estimator = estimator
        self.alpha = alpha

    def fit(self, X, y, sample_domain=None):
        """Fit the source model, then the penalised target model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets, NaN for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        source, Xt, yt = self._split_rows(X, y, sd)
        theta_s = _linear_params(source, X.shape[1])
        if theta_s.shape[0] != 1:
            raise ValueError("RegularTransferLR needs a single-output source model.")
        theta_s = theta_s[0]
        Z = _with_ones(Xt.astype(float))
        resid = yt.astype(float) - Z @ theta_s
        self.alpha_, delta = self._solve(Z, resid)
        theta = theta_s + delta
        self.coef_, self.intercept_ = theta[:-1], float(theta[-1])
        return self

    def _solve(self, Z, resid):
        """``(alpha, deviation from the source)`` for residuals ``resid``."""
        if len(resid) == 0:
            return np.inf, np.zeros(Z.shape[1])
        grid = _penalty_grid(Z)
        alpha = self.alpha
        if alpha == "auto":
            if len(resid) < _MIN_ROWS_FOR_CV:
                alpha = float(grid[len(grid) // 2])
            else:
                alpha = _ridge_loo_alpha(Z, resid, grid)
        if np.isinf(alpha):
            return np.inf, np.zeros(Z.shape[1])
        if alpha == 0:
            return 0.0, np.linalg.lstsq(Z, resid, rcond=None)[0]
        n, d = Z.shape
        if n < d:  # a few labelled rows, many features: the n x n (dual) system is the same
            return float(alpha), Z.T @ np.linalg.solve(Z @ Z.T + alpha * np.eye(n), resid)
        gram = Z.T @ Z + alpha * np.eye(d)
        return float(alpha), np.linalg.solve(gram, Z.T @ resid)

    def predict(self, X):
        """Predict with the target model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        return X @ self.coef_ + self.intercept_


def _logistic_loss(theta, Z, Y, theta_s, alpha, binary):
    """Penalised cross-entropy and its gradient; ``theta`` flattened."""
    theta = theta.reshape(theta_s.shape)
    scores = Z @ theta.T
    if binary:
        s = scores[:, 0]
        loss = -np.sum(Y * log_expit(s) + (1 - Y) * log_expit(-s))
        grad = ((expit(s) - Y) @ Z)[None]
    else:
        logp = log_softmax(scores, axis=1)
        loss = -np.sum(Y * logp)
        grad = (np.exp(logp) - Y).T @ Z
    diff = theta - theta_s
    loss += 0.5 * alpha * np.sum(diff**2)
    grad = grad + alpha * diff
    return loss, grad.ravel()


class RegularTransferLC(_SourceThenTargetMixin, BaseDAEstimator):
    """Logistic regression pulled towards the source model's coefficients.

    The source model (a linear classifier, by default logistic regression) is
    fitted on the labelled source rows, or given prefit. The target model is a
    logistic regression (multinomial for more than two classes) fitted on the
    labelled target rows with the penalty ``alpha / 2 * ||theta - theta_S||^2``
    on the coefficients and intercepts ``theta``: the maximum a posteriori
    estimate of a maximum entropy model under a Gaussian prior centred on the
    source model (Chelba & Acero, 2006). ``alpha = inf`` keeps the source
    model; ``alpha = 0`` is an unpenalised logistic regression on the target
    rows started from the source model.

    The classes are those of the source and the labelled target rows
    together; a class the source never saw starts from zero coefficients.
    With ``alpha="auto"`` the penalty is chosen by 5-fold cross-validated
    log-loss on the labelled target rows over 7 values ``1e-3, 1e-2, ...,
    1e3`` times the mean squared column norm of ``[X_T, 1]``; with fewer than
    3 labelled target rows the middle one (1 times) is used.

    ADAPT's ``RegularTransferLC`` instead regresses ``{-1, 1}`` label codes
    with a squared loss; this estimator keeps the paper's logistic loss, so
    ``predict_proba`` is a probability.

    Parameters
    ----------
    estimator : classifier with ``coef_``, default=None
        Source model, fitted on the labelled source rows; ``None`` means
        :class:`~sklearn.linear_model.LogisticRegression`. Wrap a fitted model
        in :class:`~sklearn.frozen.FrozenEstimator` to use it as it is.
    alpha : float >= 0 or "auto", default="auto"
        Weight of the penalty towards the source parameters.
    max_iter : int, default=500
        Iterations of L-BFGS.
    random_state : int, RandomState instance or None, default=None
        Shuffles the target rows into cross-validation folds (``"auto"``).

    Attributes
    ----------
    source_estimator_ : estimator
        The fitted source model.
    classes_ : ndarray of shape (n_classes,)
        Source and target classes.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Target coefficients (one row for two classes, as in scikit-learn).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Target intercepts.
    alpha_ : float
        The penalty used.
    n_iter_ : ndarray of shape (1,)
        Iterations of L-BFGS in the final fit.
    n_target_labels_ : int
        Number of labelled target rows used.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] C. Chelba and A. Acero. "Adaptation of maximum entropy capitalizer:
       Little data can help a lot". Computer Speech & Language 20(4), 2006
       (EMNLP 2004).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import RegularTransferLC
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(200, 100, shift="conditional", random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(len(y)) % 10 != 0), -1, y)
    >>> clf = RegularTransferLC(random_state=0).fit(X, y_train, sample_domain=sd)
    >>> clf.predict_proba(X[sd < 0]).shape
    (100, 2)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "alpha": _ALPHA,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }
    _default_estimator = LogisticRegression

    def __init__(self, estimator=None, *, alpha="auto", max_iter=500, random_state=None):
        self.estimator = estimator
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y, sample_domain=None):
        """Fit the source model, then the penalised target model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        source, Xt, yt = self._split_rows(X, y, sd)
        src_classes = _prefit_model(source).classes_
        self.classes_ = np.union1d(src_classes, yt)
        if len(self.classes_) < 2:
            raise ValueError(
                "RegularTransferLC needs at least two classes among the source and "
                f"target labels; got {self.classes_.tolist()}."
            )
        theta_s = self._source_theta(source, src_classes, X.shape[1])
        Z = _with_ones(Xt.astype(float))
        Y = self._encode(yt)
        # many small L-BFGS problems: BLAS threads only add overhead
        with threadpool_limits(limits=1, user_api="blas"):
            self.alpha_ = self._choose_alpha(Z, Y, theta_s)
            theta = self._solve(Z, Y, theta_s, self.alpha_)
        self.coef_, self.intercept_ = theta[:, :-1], theta[:, -1]
        return self

    def _source_theta(self, source, src_classes, n_features):
        """Source parameters as rows of the target model (one row if binary)."""
        theta = _linear_params(source, n_features)
        if len(self.classes_) == 2:
            if theta.shape[0] != 1:
                raise ValueError(
                    "The source model has one coefficient row per class but the "
                    "problem has two classes; use a binary linear classifier."
                )
            return theta
        rows = np.zeros((len(self.classes_), theta.shape[1]))
        pos = np.searchsorted(self.classes_, src_classes)
        if theta.shape[0] == 1:  # binary source: logit of its second class
            rows[pos[1]] = theta[0]
        else:
            rows[pos] = theta
        return rows

    def _encode(self, yt):
        pos = np.searchsorted(self.classes_, yt)
        if len(self.classes_) == 2:
            return pos.astype(float)
        return np.eye(len(self.classes_))[pos]

    def _solve(self, Z, Y, theta_s, alpha, start=None):
        """Penalised target parameters, L-BFGS from ``start`` (the source by default)."""
        if len(Y) == 0 or np.isinf(alpha):
            self.n_iter_ = np.array([0])
            return theta_s.copy()
        start = theta_s if start is None else start
        res = minimize(_logistic_loss, start.ravel(), jac=True, method="L-BFGS-B",
                       args=(Z, Y, theta_s, alpha, len(self.classes_) == 2),
                       options={"maxiter": int(self.max_iter)})
        self.n_iter_ = np.array([res.nit])
        return res.x.reshape(theta_s.shape)

    def _choose_alpha(self, Z, Y, theta_s):
        if len(Y) == 0:
            return np.inf
        if self.alpha != "auto":
            return float(self.alpha)
        # every other value of the relative grid, strongest first: each fit starts
        # from the previous one, so the weakly penalised fits converge quickly
        grid = _penalty_grid(Z)[::-2]
        if len(Y) < _MIN_ROWS_FOR_CV:
            return float(grid[len(grid) // 2])
        folds = KFold(min(5, len(Y)), shuffle=True,
                      random_state=check_random_state(self.random_state).randint(2**31 - 1))
        losses = np.zeros(len(grid))
        binary = len(self.classes_) == 2
        for train, test in folds.split(Z):
            theta = theta_s
            for k, alpha in enumerate(grid):
                theta = self._solve(Z[train], Y[train], theta_s, alpha, start=theta)
                # held-out cross-entropy (no penalty: alpha = 0)
                losses[k] += _logistic_loss(theta.ravel(), Z[test], Y[test], theta,
                                            0.0, binary)[0]
        return float(grid[np.argmin(losses)])

    def decision_function(self, X):
        """Class scores of the target model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        X = self._check_X(X)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities of the target model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1 - p, p])
        return softmax(scores, axis=1)

    def predict(self, X):
        """Predict classes with the target model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class RegularTransferGP(_SourceThenTargetMixin, BaseDAEstimator):
    """Gaussian process regression with the source model as its prior mean.

    The source Gaussian process is fitted on the labelled source rows (its
    kernel hyperparameters by maximum likelihood, as scikit-learn does), or
    given prefit. On the target, the function is the source posterior mean
    plus a correction with the source's fitted kernel ``k`` as prior
    covariance: the correction is the posterior mean of that process given the
    residuals ``r = y_T - m_S(X_T)`` of the labelled target rows,

    .. math::

        f_T(x) = m_S(x) + k(x, X_T) (K_{TT} + (\\sigma^2 + \\alpha) I)^{-1} r,

    where ``sigma^2`` is the source model's ``alpha`` (its noise added to the
    kernel's diagonal). This is the function-space counterpart of Chelba &
    Acero's Gaussian prior centred on the source parameters: ``alpha = 0`` is
    the exact posterior of a process whose prior mean is the source model,
    larger ``alpha`` shrinks the correction towards the source, and
    ``alpha = inf`` is the source model. With ``alpha="auto"`` it is chosen
    by exact leave-one-out error on the labelled target rows among 0,
    ``inf`` and 13 values from ``1e-3`` to ``1e3`` times the mean of the
    diagonal of ``K_TT``.

    ADAPT's ``RegularTransferGP`` instead refits the source model's dual
    coefficients with a ridge penalty towards their source values, so its
    correction lies in the span of the kernel columns of the *source* rows.

    Parameters
    ----------
    estimator : GaussianProcessRegressor, default=None
        Source model, fitted on the labelled source rows; ``None`` means
        ``GaussianProcessRegressor(ConstantKernel() * RBF() + WhiteKernel(),
        normalize_y=True)`` (hyperparameters fitted on the source). Wrap a fitted one in
        :class:`~sklearn.frozen.FrozenEstimator` to use it as it is. A
        per-row ``alpha`` array is replaced by its mean.
    alpha : float >= 0 or "auto", default="auto"
        Extra noise on the target rows that shrinks the correction.

    Attributes
    ----------
    source_estimator_ : GaussianProcessRegressor
        The fitted source model.
    X_target_ : ndarray of shape (n_target_labels, n_features)
        The labelled target rows the correction is built on.
    dual_coef_ : ndarray of shape (n_target_labels,)
        Weights of the correction's kernel columns.
    alpha_ : float
        The extra noise used.
    n_target_labels_ : int
        Number of labelled target rows used.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] C. Chelba and A. Acero. "Adaptation of maximum entropy capitalizer:
       Little data can help a lot". Computer Speech & Language 20(4), 2006.
    .. [2] C. E. Rasmussen and C. K. I. Williams. "Gaussian Processes for
       Machine Learning", MIT Press, 2006: sections 2.7 (explicit mean
       functions) and 5.4.2 (leave-one-out).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import RegularTransferGP
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(100, 100, shift="conditional", task="regression",
    ...                              random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(len(y)) % 10 != 0), np.nan, y)
    >>> reg = RegularTransferGP().fit(X, y_train, sample_domain=sd)
    >>> reg.predict(X[sd < 0]).shape
    (100,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "alpha": _ALPHA,
    }
    @staticmethod
    def _default_estimator():
        kernel = ConstantKernel() * RBF() + WhiteKernel()
        return GaussianProcessRegressor(kernel, normalize_y=True)

    def __init__(self, estimator=None, *, alpha="auto"):
        self.estimator = estimator
        self.alpha = alpha

    def fit(self, X, y, sample_domain=None):
        """Fit the source process, then the correction on the target residuals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets, NaN for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        source, Xt, yt = self._split_rows(X, y, sd)
        gp = _prefit_model(source)
        if not isinstance(gp, GaussianProcessRegressor):
            raise TypeError(
                "RegularTransferGP needs a GaussianProcessRegressor source model; got "
                f"{type(gp).__name__}."
            )
        self.X_target_ = Xt
        if len(yt) == 0:
            self.alpha_, self.dual_coef_ = np.inf, np.zeros(0)
            return self
        resid = yt.astype(float) - source.predict(Xt)
        K = gp.kernel_(Xt) + float(np.mean(gp.alpha)) * np.eye(len(resid))
        eigval, eigvec = np.linalg.eigh(K)
        eigval = np.clip(eigval, 0.0, None)
        proj = eigvec.T @ resid
        if self.alpha == "auto":
            grid = np.r_[0.0, _RELATIVE_GRID * max(np.mean(np.diag(K)), 1e-12), np.inf]
            self.alpha_ = float(grid[np.argmin([self._loo(eigval, eigvec, proj, a)
                                                for a in grid])])
        else:
            self.alpha_ = float(self.alpha)
        if np.isinf(self.alpha_):
            self.dual_coef_ = np.zeros_like(resid)
        else:
            inv = 1.0 / np.maximum(eigval + self.alpha_, 1e-12)
            self.dual_coef_ = eigvec @ (inv * proj)
        return self

    @staticmethod
    def _loo(eigval, eigvec, proj, alpha):
        """Mean squared leave-one-out residual of the correction (R&W eq. 5.12)."""
        if np.isinf(alpha):
            return float(np.mean((eigvec @ proj) ** 2))
        if len(proj) < 2:
            return np.inf
        inv = 1.0 / np.maximum(eigval + alpha, 1e-12)
        coef = eigvec @ (inv * proj)
        diag = np.einsum("ij,j,ij->i", eigvec, inv, eigvec)
        return float(np.mean((coef / diag) ** 2))

    def predict(self, X):
        """Predict: the source posterior mean plus the target correction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        pred = self.source_estimator_.predict(X)
        if len(self.dual_coef_):
            kernel = _prefit_model(self.source_estimator_).kernel_
            pred = pred + kernel(X, self.X_target_) @ self.dual_coef_
        return pred


def _class_scores(model, X, classes):
    """Probabilities of ``model`` on ``X`` in the columns of ``classes``."""
    out = np.zeros((X.shape[0], len(classes)))
    out[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(X)
    return out


def _fit_target_model(template, X, y, classification):
    """Fit a clone on the target rows; a prior-only model for a single class."""
    if classification and len(np.unique(y)) < 2:
        return DummyClassifier(strategy="prior").fit(X, y)
    return clone(template).fit(X, y)


class _TwoModelMixin(_SourceThenTargetMixin):
    """Source model from ``source_estimator`` (or a clone of ``estimator``)."""

    def _template(self):
        return self.estimator if self.source_estimator is None else self.source_estimator

    def _model(self):
        return self.estimator


class PRED(_TwoModelMixin, BaseDAEstimator):
    """The source model's prediction as an extra feature of a target model.

    A source model is fitted on the labelled source rows (or given prefit);
    its prediction on a row — the predicted value for regression, the class
    probabilities for classification (the second one only for two classes,
    the decision function if there are no probabilities) — is appended to the
    row's features, and ``estimator`` is fitted on the labelled target rows so
    augmented. The target model learns how far to trust the source model and
    where to correct it (Daumé III, 2007). Without labelled target rows, or
    with a single labelled target class, the source model predicts alone.

    Parameters
    ----------
    estimator : estimator object
        The target model, trained on the augmented labelled target rows; a
        clone of it is also the source model unless ``source_estimator`` is
        given.
    source_estimator : estimator object, default=None
        The source model, fitted on the labelled source rows; wrap a fitted
        model in :class:`~sklearn.frozen.FrozenEstimator` to use it as it is.

    Attributes
    ----------
    source_estimator_ : estimator
        The fitted source model.
    estimator_ : estimator or None
        The fitted target model (None when the source model predicts alone).
    classes_ : ndarray of shape (n_classes,)
        Classes the model predicts (classification only).
    n_target_labels_ : int
        Number of labelled target rows used.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] H. Daumé III. "Frustratingly Easy Domain Adaptation". ACL 2007
       (the PRED baseline).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import PRED
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(200, 100, shift="conditional", random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(len(y)) % 10 != 0), -1, y)
    >>> clf = PRED(LogisticRegression()).fit(X, y_train, sample_domain=sd)
    >>> clf.predict(X[sd < 0]).shape
    (100,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "source_estimator": [HasMethods(["fit", "predict"]), None],
    }

    def __init__(self, estimator, *, source_estimator=None):
        self.estimator = estimator
        self.source_estimator = source_estimator

    def _source_feature(self, X):
        source = self.source_estimator_
        if self._task() == "regression":
            return np.asarray(source.predict(X), dtype=float).reshape(len(X), -1)
        if hasattr(source, "predict_proba"):
            f = source.predict_proba(X)
            return f[:, 1:] if f.shape[1] == 2 else f
        if hasattr(source, "decision_function"):
            return np.asarray(source.decision_function(X)).reshape(len(X), -1)
        return np.asarray(source.predict(X), dtype=float).reshape(len(X), -1)

    def fit(self, X, y, sample_domain=None):
        """Fit the source model, then the target model on augmented target rows.

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
        source, Xt, yt = self._split_rows(X, y, sd)
        classification = self._task() == "classification"
        self.estimator_ = None
        if len(yt) and classification and len(np.unique(yt)) < 2:
            warnings.warn(
                "PRED: the labelled target rows hold a single class, so no target "
                "model can be fitted; the source model predicts alone.",
                DomainWarning,
                stacklevel=2,
            )
        elif len(yt):
            self.estimator_ = clone(self.estimator).fit(
                np.hstack([Xt, self._source_feature(Xt)]), yt)
        if classification:
            fitted = self.estimator_ if self.estimator_ is not None else source
            self.classes_ = _prefit_model(fitted).classes_
        return self

    def _predict_with(self, method, X):
        X = self._check_X(X)
        if self.estimator_ is None:
            return getattr(self.source_estimator_, method)(X)
        return getattr(self.estimator_, method)(np.hstack([X, self._source_feature(X)]))

    def predict(self, X):
        """Predict with the target model on the augmented rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._predict_with("predict", X)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the target model (classification).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._predict_with("predict_proba", X)


class LinInt(_TwoModelMixin, BaseDAEstimator):
    """Linear interpolation of a source-only and a target-only model (LININT).

    A source model is fitted on the labelled source rows (or given prefit)
    and a target model on the labelled target rows; the prediction is
    ``w * source + (1 - w) * target`` — of the predicted values for
    regression, of the class probabilities for classification (Daumé III,
    2007). The weight ``w`` is chosen from 0, 0.1, ..., 1 by cross-validation
    on the labelled target rows (5 folds; squared error, or the Brier score
    of the probabilities), then the target model is refitted on all of them.
    This uses every labelled target row twice, where ADAPT's ``LinInt`` holds
    half of them out of the target model to tune the weight.

    With fewer than 3 labelled target rows the weight cannot be estimated
    and the source model predicts alone (``w = 1``); a target model on a
    single class predicts that class's share of the labelled rows.

    Parameters
    ----------
    estimator : estimator object
        The target model (with ``predict_proba`` for classification); a clone
        of it is also the source model unless ``source_estimator`` is given.
    source_estimator : estimator object, default=None
        The source model, fitted on the labelled source rows; wrap a fitted
        model in :class:`~sklearn.frozen.FrozenEstimator` to use it as it is.
    random_state : int, RandomState instance or None, default=None
        Shuffles the labelled target rows into folds.

    Attributes
    ----------
    source_estimator_ : estimator
        The fitted source model.
    estimator_ : estimator or None
        The target-only model (None without labelled target rows).
    source_weight_ : float
        The weight ``w`` of the source model.
    classes_ : ndarray of shape (n_classes,)
        Source and target classes (classification only).
    n_target_labels_ : int
        Number of labelled target rows used.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] H. Daumé III. "Frustratingly Easy Domain Adaptation". ACL 2007
       (the LININT baseline).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sktl import LinInt
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(200, 100, shift="conditional", task="regression",
    ...                              random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(len(y)) % 5 != 0), np.nan, y)
    >>> reg = LinInt(Ridge(), random_state=0).fit(X, y_train, sample_domain=sd)
    >>> 0.0 <= reg.source_weight_ <= 1.0
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "source_estimator": [HasMethods(["fit", "predict"]), None],
        "random_state": ["random_state"],
    }
    _weights = np.linspace(1.0, 0.0, 11)  # ties go to the source

    def __init__(self, estimator, *, source_estimator=None, random_state=None):
        self.estimator = estimator
        self.source_estimator = source_estimator
        self.random_state = random_state

    def _outputs(self, model, X):
        if self._task() == "regression":
            return np.asarray(model.predict(X), dtype=float)
        if not hasattr(model, "predict_proba"):
            raise TypeError(
                f"LinInt mixes class probabilities: {type(model).__name__} has no "
                "predict_proba."
            )
        return _class_scores(_prefit_model(model), X, self.classes_)

    def fit(self, X, y, sample_domain=None):
        """Fit both models and choose the interpolation weight.

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
        source, Xt, yt = self._split_rows(X, y, sd)
        classification = self._task() == "classification"
        if classification:
            self.classes_ = np.union1d(_prefit_model(source).classes_, yt)
        self.estimator_ = (_fit_target_model(self.estimator, Xt, yt, classification)
                           if len(yt) else None)
        self.source_weight_ = 1.0
        if len(yt) >= _MIN_ROWS_FOR_CV:
            self.source_weight_ = self._choose_weight(Xt, yt, classification)
        return self

    def _choose_weight(self, Xt, yt, classification):
        truth = (np.searchsorted(self.classes_, yt)[:, None] == np.arange(len(self.classes_))
                 if classification else yt.astype(float))
        src = self._outputs(self.source_estimator_, Xt)
        oof = np.zeros_like(src)
        folds = KFold(min(5, len(yt)), shuffle=True,
                      random_state=check_random_state(self.random_state).randint(2**31 - 1))
        for train, test in folds.split(Xt):
            model = _fit_target_model(self.estimator, Xt[train], yt[train], classification)
            oof[test] = self._outputs(model, Xt[test])
        errors = [np.mean((w * src + (1 - w) * oof - truth) ** 2) for w in self._weights]
        return float(self._weights[np.argmin(errors)])

    def _mixed(self, X):
        X = self._check_X(X)
        out = self._outputs(self.source_estimator_, X)
        if self.estimator_ is not None and self.source_weight_ < 1:
            w = self.source_weight_
            out = w * out + (1 - w) * self._outputs(self.estimator_, X)
        return out

    def predict(self, X):
        """Predict with the interpolated model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        out = self._mixed(X)
        if self._task() == "regression":
            return out
        return self.classes_[np.argmax(out, axis=1)]

    @available_if(lambda self: is_classifier(self.estimator))
    def predict_proba(self, X):
        """Interpolated class probabilities (classification).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._mixed(X)
