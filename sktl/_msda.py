"""Marginalised stacked denoising autoencoders (Chen, Xu, Weinberger & Sha, ICML 2012)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils._param_validation import Interval

from ._base import BaseDATransformer
from .utils._sparse import check_sparse_width


def _denoising_layer(X, noise, reg):
    """Closed-form weights of one marginalised denoising autoencoder.

    With every input feature dropped (set to 0) with probability ``noise``
    and a constant bias feature never dropped, the expected reconstruction
    loss over infinitely many corruptions is minimised by ``W = P Q^{-1}``
    with ``S = [X, 1]'[X, 1]``, ``Q_ij = S_ij q_i q_j`` (``S_ii q_i`` on the
    diagonal), ``P_ij = S_ij q_j`` and ``q = (1 - noise, ..., 1 - noise, 1)``.
    """
    n, d = X.shape
    gram = (X.T @ X).toarray() if sp.issparse(X) else X.T @ X
    col = np.asarray(X.sum(axis=0)).ravel()
    S = np.empty((d + 1, d + 1))
    S[:d, :d], S[:d, d], S[d, :d], S[d, d] = gram, col, col, n
    q = np.r_[np.full(d, 1.0 - noise), 1.0]
    Q = S * np.outer(q, q)
    Q[np.diag_indices(d + 1)] = q * np.diag(S)
    P = S[:d] * q  # E[x x~'] for the d reconstructed features
    Q[np.diag_indices(d + 1)] += reg * max(np.trace(Q) / (d + 1), 1e-12)
    return linalg.solve(Q, P.T, assume_a="pos").T  # d x (d + 1)


def _apply(W, X):
    """``tanh([X, 1] W')`` without densifying sparse ``X``."""
    Z = X @ W[:, :-1].T
    return np.tanh(np.asarray(Z) + W[:, -1])


class MSDA(ClassNamePrefixFeaturesOutMixin, BaseDATransformer):
    """Marginalised stacked denoising autoencoder: a closed-form shared representation.

    Each layer learns, in closed form, the linear map that best reconstructs
    its input from copies corrupted by dropping every feature with probability
    ``noise``, marginalised over all corruptions (no sampling, no gradient
    descent), followed by ``tanh``; layers are stacked on each other's output
    (Chen, Xu, Weinberger & Sha, 2012). Fitted on the rows of both domains
    together, the reconstruction learns which features co-occur across
    domains (e.g. a book review's "gripping" with a kitchen review's "sturdy"
    through the shared "great"), and a classifier trained on the source rows'
    representation transfers better. It is the standard feature-based method
    for sentiment transfer on bag-of-words features. ``transform`` treats all
    rows alike; ``y`` is not used.

    Sparse rows (counts, TF-IDF) are taken as they are: the ``d x d``
    statistics of the first layer are formed without densifying them, up to
    :data:`sktl.utils._sparse.MAX_SPARSE_FEATURES` features (keep the most
    frequent terms, e.g. ``CountVectorizer(max_features=...)``). The output is
    dense.

    Parameters
    ----------
    noise : float, default=0.5
        Probability of dropping each feature in the marginalised corruption.
    n_layers : int, default=3
        Number of stacked layers (the paper uses up to 5).
    reg : float, default=1e-5
        Ridge added to ``Q``, relative to its mean diagonal.
    include_input : bool, default=True
        Return the input features followed by every layer's output, as in the
        paper; False returns the layers' outputs only.

    Attributes
    ----------
    weights_ : list of ndarray of shape (n_features, n_features + 1)
        Each layer's map (the last column is the bias).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] M. Chen, Z. Xu, K. Q. Weinberger and F. Sha. "Marginalized Denoising
       Autoencoders for Domain Adaptation". ICML 2012.

    Examples
    --------
    >>> from sktl import MSDA
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(50, 50, n_features=4, random_state=0, mask_target=True)
    >>> MSDA(n_layers=2).fit_transform(X, y, sample_domain=sd).shape
    (100, 12)
    """

    _accept_sparse = "csr"
    _parameter_constraints = {
        "noise": [Interval(Real, 0, 1, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "reg": [Interval(Real, 0, None, closed="left")],
        "include_input": ["boolean"],
    }

    def __init__(self, noise=0.5, n_layers=3, *, reg=1e-5, include_input=True):
        self.noise = noise
        self.n_layers = n_layers
        self.reg = reg
        self.include_input = include_input

    def _fit(self, X, y, sample_domain):
        check_sparse_width(X, "MSDA")
        self.weights_ = []
        H = X
        for _ in range(self.n_layers):
            W = _denoising_layer(H, self.noise, self.reg)
            self.weights_.append(W)
            H = _apply(W, H)
        return self

    def _transform(self, X, sample_domain):
        outs, H = [], X
        for W in self.weights_:
            H = _apply(W, H)
            outs.append(H)
        if self.include_input:
            outs.insert(0, X.toarray() if sp.issparse(X) else X)
        return np.hstack(outs)

    @property
    def _n_features_out(self):
        return self.n_features_in_ * (self.n_layers + int(self.include_input))
