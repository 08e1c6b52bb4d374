"""Supervised transfer by feature augmentation (Daumé III, 2007)."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._base import BaseDAEstimator, _DelegatingMixin, _fit_params_subset
from .exceptions import DomainWarning
from .utils._domain import unlabelled_mask


class FEDA(_DelegatingMixin, BaseDAEstimator):
    """Frustratingly easy domain adaptation by feature augmentation.

    Each row ``x`` of domain ``d`` becomes ``[x, 0, ..., x, ..., 0]``: a copy
    shared by all domains plus a copy in the block of its own domain. Any
    estimator fitted on the augmented labelled rows learns what the domains
    share and what is specific to each (Daumé III, 2007). It needs a few
    labelled target rows; with none, the target block is never trained and
    the prediction falls back to the shared part.

    Parameters
    ----------
    estimator : estimator object
        Base estimator, trained on the augmented labelled rows.

    Attributes
    ----------
    estimator_ : estimator object
        Fitted clone of ``estimator``.
    domains_ : ndarray of int
        Domain codes seen during fit; one feature block each.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] H. Daumé III. "Frustratingly Easy Domain Adaptation". ACL 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import FEDA
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(len(y)) % 10 != 0), -1, y)
    >>> clf = FEDA(LogisticRegression()).fit(X, y_train, sample_domain=sd)
    >>> clf.predict(X[sd < 0]).shape
    (100,)
    """

    _accept_sparse = "csr"

    __metadata_request__predict = {"sample_domain": True}
    _parameter_constraints = {"estimator": [HasMethods(["fit"])]}
    _strict_domains = True

    def __init__(self, estimator):
        self.estimator = estimator

    def _augment(self, X, sample_domain):
        if sp.issparse(X):  # stays sparse: each block keeps its domain's rows
            blocks = [X] + [sp.diags((sample_domain == d).astype(X.dtype)) @ X
                            for d in self.domains_]
            return sp.hstack(blocks, format="csr")
        blocks = [X] + [X * (sample_domain == d)[:, None] for d in self.domains_]
        return np.hstack(blocks)

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit the base estimator on the augmented labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 / NaN for unlabelled rows (ignored).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).
        **fit_params : dict
            Passed to ``estimator.fit`` (per-row arrays are indexed too).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        keep = ~unlabelled_mask(y, self._task())
        if not np.any(keep & (sd < 0)) and np.any(sd < 0):
            warnings.warn(
                "FEDA got no labelled target rows: the target block stays "
                "untrained and predictions use the shared features only.",
                DomainWarning,
                stacklevel=2,
            )
        self.estimator_ = clone(self.estimator).fit(
            self._augment(X[keep], sd[keep]),
            y[keep],
            **_fit_params_subset(fit_params, keep, X.shape[0]),
        )
        return self

    def _prepare(self, X, sample_domain=None):
        X = self._check_new_X(X)
        return self._augment(X, self._predict_domain(sample_domain, X.shape[0]))

    def predict(self, X, sample_domain=None):
        """Predict, treating rows as target rows unless told otherwise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row; None means the (last) target domain seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(self._prepare(X, sample_domain))
