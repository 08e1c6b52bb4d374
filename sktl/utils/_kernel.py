"""Kernel helpers shared by the kernel methods (KMM, TCA)."""

import warnings

import numpy as np
from scipy import linalg

from ..exceptions import NearSingularKernelWarning


def nystrom_map(K_landmarks, landmarks, rtol=1e-10):
    """Map ``P`` with ``k(X, L) @ P`` the Nyström features of rows ``X``.

    ``K_landmarks`` is the kernel among the ``landmarks``; directions whose
    eigenvalue is below ``rtol`` times the largest are dropped (a pseudo-
    inverse square root), which keeps the features well-posed. A smooth
    kernel in few dimensions has many such directions and that is harmless;
    duplicated landmark rows make the kernel exactly singular, which usually
    means duplicated data, so a :class:`~sktl.exceptions.NearSingularKernelWarning`
    says so.
    """
    n_dup = len(landmarks) - len(np.unique(landmarks, axis=0))
    if n_dup:
        warnings.warn(
            f"{n_dup} of the {len(landmarks)} landmarks duplicate other rows, so the "
            "landmark kernel is near-singular; the duplicated directions are dropped "
            "(regularised pseudo-inverse). De-duplicate the rows or use fewer landmarks.",
            NearSingularKernelWarning,
            stacklevel=3,
        )
    vals, vecs = linalg.eigh(K_landmarks)
    keep = vals > max(vals.max(), 0.0) * rtol
    return vecs[:, keep] / np.sqrt(vals[keep])


def median_heuristic_gamma(X, max_rows=1000, random_state=0):
    """RBF ``gamma = 1 / median squared distance`` between rows of ``X``.

    The median runs over the pairs of at most ``max_rows`` rows drawn with
    ``random_state``; 1.0 when every row is the same.
    """
    from sklearn.metrics.pairwise import euclidean_distances

    rng = np.random.default_rng(random_state)
    sub = X[rng.choice(len(X), min(len(X), max_rows), replace=False)]
    d2 = euclidean_distances(sub, squared=True)
    med = np.median(d2[np.triu_indices(len(sub), 1)]) if len(sub) > 1 else 0.0
    return 1.0 / med if med > 0 else 1.0


def rbf(X, Y, gamma):
    """``exp(-gamma ||x - y||^2)`` for every pair of rows, without input validation.

    The inner loops of the density-ratio solvers call it thousands of times on
    already validated arrays, where scikit-learn's checks would cost more than
    the kernel itself.
    """
    d2 = (np.einsum("ij,ij->i", X, X)[:, None] + np.einsum("ij,ij->i", Y, Y)[None, :]
          - 2.0 * (X @ Y.T))
    return np.exp(-gamma * np.maximum(d2, 0.0))
