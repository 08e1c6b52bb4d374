"""Helpers that let the estimators take ``scipy.sparse`` rows (e.g. bag-of-words text).

Kernels, linear models, boosting and feature augmentation work on sparse rows
as they are; a method that needs dense ``d x d`` statistics (CORAL, subspace
alignment) forms them from sparse rows without densifying the ``n x d`` data,
up to :data:`MAX_SPARSE_FEATURES` features.
"""

import numpy as np
import scipy.sparse as sp

MAX_SPARSE_FEATURES = 5000
"""Widest sparse input a method with dense ``d x d`` statistics accepts (a 5000 x 5000
float64 matrix is 200 MB); reduce wider inputs with TruncatedSVD first."""


def vstack(blocks):
    """Stack row blocks, sparse (CSR) when any block is sparse."""
    if any(sp.issparse(b) for b in blocks):
        return sp.vstack(blocks, format="csr")
    return np.vstack(blocks)


def check_sparse_width(X, method):
    """Refuse sparse ``X`` wider than :data:`MAX_SPARSE_FEATURES` for ``d x d`` methods."""
    if sp.issparse(X) and X.shape[1] > MAX_SPARSE_FEATURES:
        raise ValueError(
            f"{method} needs dense {X.shape[1]} x {X.shape[1]} feature statistics; sparse "
            f"input is accepted up to {MAX_SPARSE_FEATURES} features. Reduce the features "
            "first, e.g. make_pipeline(TruncatedSVD(n_components=300), "
            f"{method}(...)), or keep the {MAX_SPARSE_FEATURES} most frequent terms "
            "(CountVectorizer(max_features=...))."
        )


def mean_and_covariance(X):
    """Column means and the biased covariance ``(X - m)'(X - m) / n``, dense ``d x d``.

    For sparse ``X`` the centred rows are never formed: ``X'X / n - m m'``.
    """
    n = X.shape[0]
    mean = np.asarray(X.mean(axis=0)).ravel()
    if sp.issparse(X):
        gram = (X.T @ X).toarray() / n
        return mean, gram - np.outer(mean, mean)
    Xc = X - mean
    return mean, Xc.T @ Xc / n
