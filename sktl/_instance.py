"""Instance-based transfer: reweight source rows so they look like the target."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods, Interval

from ._base import BaseReweighter
from .utils._blocks import as_rows, is_dask, logistic_newton
from .utils._sparse import MAX_SPARSE_FEATURES, vstack


def logistic_weights(X_source, X_target, domain_classifier=None, max_weight=None):
    """:func:`domain_classifier_weights` with a logistic regression fitted blockwise.

    The default domain classifier (and the only one on Dask input, where a
    ``LogisticRegression`` passes its ``C`` and ``fit_intercept``) is solved
    by Newton's method from sums over row blocks (:func:`~sktl.utils._blocks.
    logistic_newton`); the weights are then one lazy map over the source rows.
    """
    source, target = as_rows(X_source), as_rows(X_target)
    if domain_classifier is not None and not isinstance(domain_classifier,
                                                        LogisticRegression):
        raise TypeError("On Dask input the domain classifier must be None or a "
                        "LogisticRegression (fitted blockwise by Newton's method); got "
                        f"{type(domain_classifier).__name__}.")
    params = {} if domain_classifier is None else {
        "C": domain_classifier.C, "fit_intercept": domain_classifier.fit_intercept}
    coef, intercept, _ = logistic_newton(source, target, **params)
    ratio = source.n_rows / target.n_rows

    def odds(X, sd=None, keys=None):  # p_t / p_s = exp(x'w + b), rescaled
        return np.exp(np.clip(X @ coef + intercept, -700, 700)) * ratio

    scale = source.n_rows / source.reduce(lambda X, sd, keys: odds(X).sum())

    def weights(X, sd, keys):
        w = odds(X) * scale
        return w if max_weight is None else np.minimum(w, max_weight)

    return source.map(weights, dtype=float)


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
    clf = LogisticRegression() if domain_classifier is None else clone(domain_classifier)
    n_s, n_t = X_source.shape[0], X_target.shape[0]
    X = vstack([X_source, X_target])
    d = np.r_[np.zeros(n_s), np.ones(n_t)]
    clf.fit(X, d)
    col = int(np.flatnonzero(clf.classes_ == 1)[0])
    p_t = np.clip(clf.predict_proba(X_source)[:, col], 1e-12, 1 - 1e-12)
    w = p_t / (1 - p_t) * (n_s / n_t)
    w *= len(w) / w.sum()
    if max_weight is not None:
        w = np.minimum(w, max_weight)
    return w


class DiscriminativeReweighter(BaseReweighter):
    """Importance weighting with a domain classifier's density-ratio estimate.

    A classifier learns to tell target from source rows; its odds give the
    density ratio ``p_t(x) / p_s(x)`` for every source row (Bickel, Brückner &
    Scheffer, 2007). The base estimator is then fitted on the reweighted
    source, which corrects a covariate shift. It is the cheap alternative to
    kernel mean matching and shares its interface.

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

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Weight of each source row, mean 1 before clipping.
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
    }
    _dask_support = True

    def __init__(self, estimator=None, *, domain_classifier=None, max_weight=None):
        self.estimator = estimator
        self.domain_classifier = domain_classifier
        self.max_weight = max_weight

    def _fit_weights(self, X_source, X_target):
        # the default classifier by blockwise Newton (a (d+1)^2 Hessian: sparse rows
        # up to MAX_SPARSE_FEATURES columns); wider sparse rows go to lbfgs
        if is_dask(X_source) or (self.domain_classifier is None and not (
                sp.issparse(X_source) and X_source.shape[1] > MAX_SPARSE_FEATURES)):
            return logistic_weights(X_source, X_target, self.domain_classifier,
                                    self.max_weight)
        return domain_classifier_weights(
            X_source, X_target, self.domain_classifier, self.max_weight
        )
