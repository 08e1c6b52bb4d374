"""Feature-based transfer: map both domains into a space where they agree."""

from numbers import Real

import numpy as np
from scipy import linalg
from sklearn.base import OneToOneFeatureMixin
from sklearn.utils._param_validation import Interval

from ._base import BaseDATransformer


def _sym_power(C, power):
    """``C ** power`` for a symmetric positive-definite matrix ``C``."""
    vals, vecs = linalg.eigh(C)
    vals = np.clip(vals, np.finfo(C.dtype).tiny, None)
    return (vecs * vals**power) @ vecs.T


class CORAL(OneToOneFeatureMixin, BaseDATransformer):
    """Correlation alignment: re-colour source rows with the target covariance.

    CORAL whitens the source features with their regularised covariance
    ``C_s + reg * I`` and re-colours them with the target's ``C_t + reg * I``
    (Sun, Feng & Saenko, 2016). Only source rows change; target rows (and new
    rows at ``transform`` time, which are target rows by default) pass
    through unchanged, so a classifier trained after CORAL on the source rows
    applies directly to the target. The paper works on standardised features;
    here the source rows are re-coloured about their own mean, which is the
    paper's map when that mean is zero and avoids moving the source cloud
    when it is not (e.g. after a scaler fitted on both domains).

    Parameters
    ----------
    reg : float, default=1.0
        Ridge ``lambda`` added to both covariances (1 in the paper, which
        assumes standardised features).

    Attributes
    ----------
    coral_matrix_ : ndarray of shape (n_features, n_features)
        ``A = (C_s + reg I)^{-1/2} (C_t + reg I)^{1/2}``; source rows map to
        ``(X - source_mean_) @ A + source_mean_``.
    source_mean_ : ndarray of shape (n_features,)
        Mean of the source rows seen during fit.
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

    _parameter_constraints = {"reg": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, reg=1.0):
        self.reg = reg

    def _fit(self, X, y, sample_domain):
        src, tgt = self._source_target_masks(sample_domain)
        eye = self.reg * np.eye(X.shape[1], dtype=X.dtype)
        cs = np.atleast_2d(np.cov(X[src], rowvar=False, bias=True)) + eye
        ct = np.atleast_2d(np.cov(X[tgt], rowvar=False, bias=True)) + eye
        if self.reg == 0:
            jitter = 1e-10 * max(np.trace(cs), np.trace(ct), 1.0)
            cs, ct = cs + jitter * np.eye(len(cs)), ct + jitter * np.eye(len(ct))
        self.coral_matrix_ = _sym_power(cs, -0.5) @ _sym_power(ct, 0.5)
        self.source_mean_ = X[src].mean(axis=0)
        return self

    def _transform(self, X, sample_domain):
        out = X.copy()
        src = sample_domain > 0
        mean = self.source_mean_.astype(X.dtype, copy=False)
        out[src] = (X[src] - mean) @ self.coral_matrix_.astype(X.dtype, copy=False) + mean
        return out
