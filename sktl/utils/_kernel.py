"""Kernel helpers shared by the kernel methods (KMM, TCA)."""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from ..exceptions import NearSingularKernelWarning
from ._array_api import asarray, fix_signs, get_namespace, is_numpy, to_numpy


def _n_distinct_rows(X):
    """Distinct rows of a dense or sparse matrix (sparse rows are never densified)."""
    if not sp.issparse(X):
        return len(np.unique(X, axis=0))
    X = sp.csr_matrix(X, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    return len({(X.indices[a:b].tobytes(), X.data[a:b].tobytes())
                for a, b in zip(X.indptr[:-1], X.indptr[1:])})


def nystrom_map(K_landmarks, landmarks, rtol=1e-10):
    """Map ``P`` with ``k(X, L) @ P`` the Nyström features of rows ``X``.

    ``K_landmarks`` is the kernel among the ``landmarks``; directions whose
    eigenvalue is below ``rtol`` times the largest are dropped (a pseudo-
    inverse square root), which keeps the features well-posed. The
    eigenvector signs are fixed, so the features do not depend on the
    eigensolver (LAPACK, torch, ...). A smooth
    kernel in few dimensions has many such directions and that is harmless;
    duplicated landmark rows make the kernel exactly singular, which usually
    means duplicated data, so a :class:`~sktl.exceptions.NearSingularKernelWarning`
    says so.
    """
    n_dup = landmarks.shape[0] - _n_distinct_rows(
        landmarks if sp.issparse(landmarks) else to_numpy(landmarks))
    if n_dup:
        warnings.warn(
            f"{n_dup} of the {landmarks.shape[0]} landmarks duplicate other rows, so the "
            "landmark kernel is near-singular; the duplicated directions are dropped "
            "(regularised pseudo-inverse). De-duplicate the rows or use fewer landmarks.",
            NearSingularKernelWarning,
            stacklevel=3,
        )
    xp = get_namespace(K_landmarks)
    if is_numpy(xp):
        vals, vecs = linalg.eigh(K_landmarks)
        keep = vals > max(vals.max(), 0.0) * rtol
        return fix_signs(vecs[:, keep]) / np.sqrt(vals[keep])
    vals, vecs = xp.linalg.eigh(K_landmarks)  # on the landmarks' device
    vecs = fix_signs(vecs)  # the same basis whatever the namespace's eigensolver
    keep = np.flatnonzero(to_numpy(vals) > max(float(xp.max(vals)), 0.0) * rtol)
    idx = asarray(keep, vals)
    return xp.take(vecs, idx, axis=1) / xp.sqrt(xp.take(vals, idx))


def median_heuristic_gamma(X, max_rows=1000, random_state=0):
    """RBF ``gamma = 1 / median squared distance`` between rows of ``X``.

    The median runs over the pairs of at most ``max_rows`` rows drawn with
    ``random_state``; 1.0 when every row is the same.
    """
    from sklearn.metrics.pairwise import euclidean_distances

    rng = np.random.default_rng(random_state)
    n = X.shape[0]
    sub = X[rng.choice(n, min(n, max_rows), replace=False)]
    d2 = euclidean_distances(sub, squared=True)
    m = sub.shape[0]
    med = np.median(d2[np.triu_indices(m, 1)]) if m > 1 else 0.0
    return 1.0 / med if med > 0 else 1.0


def _row_sq_norms(X):
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def rbf(X, Y, gamma):
    """``exp(-gamma ||x - y||^2)`` for every pair of rows, without input validation.

    The inner loops of the density-ratio solvers call it thousands of times on
    already validated arrays, where scikit-learn's checks would cost more than
    the kernel itself. ``X`` and ``Y`` may be sparse; the result is dense. It is
    computed in place in one ``n x m`` array (instead of five: the passes of
    KMM's Nyström solver are bound by it), a band of rows at a time for dense
    input, so that every pass over a band runs in cache.
    """
    if sp.issparse(X) or sp.issparse(Y):
        K = X @ Y.T
        K = K.toarray() if sp.issparse(K) else np.asarray(K)
        return _rbf_in_place(K.astype(float) if not np.issubdtype(K.dtype, np.floating) else K,
                             _row_sq_norms(X), _row_sq_norms(Y), gamma)
    if not np.issubdtype(np.result_type(X, Y), np.floating):
        X, Y = X.astype(float), Y.astype(float)
    K = np.empty((X.shape[0], Y.shape[0]), dtype=np.result_type(X, Y))
    sx, sy = _row_sq_norms(X), _row_sq_norms(Y)
    step = max(1, 2**17 // max(Y.shape[0], 1))  # about 1 MB of kernel per band
    for i in range(0, X.shape[0], step):
        band = K[i:i + step]
        np.matmul(X[i:i + step], Y.T, out=band)
        _rbf_in_place(band, sx[i:i + step], sy, gamma)
    return K


def _rbf_in_place(K, sx, sy, gamma):
    """``K = X Y'`` becomes the rbf kernel, given the rows' squared norms."""
    K *= -2.0
    K += sx[:, None]
    K += sy[None, :]
    np.maximum(K, 0.0, out=K)
    K *= -gamma
    return np.exp(K, out=K)
