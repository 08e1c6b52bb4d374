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
