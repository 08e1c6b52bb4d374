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


def row_quadratic_forms(X, G, block_rows=4096):
    """``x_i' G x_i`` for every row of dense or sparse ``X`` and a dense ``d x d`` ``G``.

    Sparse rows are never densified: ``X @ G`` is formed for ``block_rows`` rows
    at a time and multiplied element-wise with the sparse rows.
    """
    if not sp.issparse(X):
        return np.einsum("ij,jk,ik->i", X, G, X, optimize=True)
    X = X.tocsr()
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], block_rows):
        block = X[start:start + block_rows]
        out[start:start + block_rows] = np.asarray(
            block.multiply(block @ G).sum(axis=1)).ravel()
    return out


def second_moment(X, weights=None):
    """``X' diag(w) X`` as a dense ``d x d`` matrix, for dense or sparse ``X``."""
    Xw = X if weights is None else (
        X.multiply(weights[:, None]).tocsr() if sp.issparse(X) else X * weights[:, None])
    out = Xw.T @ X
    return out.toarray() if sp.issparse(out) else np.asarray(out)
