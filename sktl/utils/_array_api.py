"""Array-namespace helpers: the same estimator code for NumPy, torch, CuPy, ...

With ``sklearn.set_config(array_api_dispatch=True)`` (and ``SCIPY_ARRAY_API=1``
in the environment, which scikit-learn requires), :class:`~sktl.CORAL`,
:class:`~sktl.SubspaceAlignment`, :class:`~sktl.TCA` and :class:`~sktl.KMM`
compute in the
namespace and on the device of their input (torch tensors on CPU or CUDA, CuPy
arrays, ...) and return results there; fitted attributes live there too. Only
the small per-row domain codes are handled as NumPy arrays (they are metadata,
validated on the host). Without dispatch, :func:`get_namespace` is NumPy and
nothing changes.

The helpers below are the linear algebra the estimators need, written against
the array API standard (``linalg.eigh``, ``linalg.cholesky``, ``linalg.solve``,
``linalg.qr``) so that one code path serves every namespace.
"""

import numpy as np
from sklearn.utils._array_api import get_namespace as _sk_namespace


def get_namespace(*arrays):
    """The array namespace of ``arrays`` (NumPy unless array API dispatch is on).

    scipy.sparse matrices count as NumPy.
    """
    import scipy.sparse as sp

    return _sk_namespace(*[a for a in arrays if a is not None and not sp.issparse(a)])[0]


def device(x):
    """Device of ``x`` (None for NumPy)."""
    return getattr(x, "device", None) if not isinstance(x, np.ndarray) else None


def is_numpy(xp):
    return "numpy" in getattr(xp, "__name__", "")


def on_host(*arrays):
    """Whether every array is a NumPy array or a SciPy sparse matrix (not array API)."""
    import scipy.sparse as sp

    return all(isinstance(a, np.ndarray) or sp.issparse(a) for a in arrays)


def float_dtypes(X):
    """The floating dtypes that validation keeps for ``X``'s namespace."""
    xp = get_namespace(X)
    if is_numpy(xp):
        return [np.float64, np.float32]
    return [xp.float64, xp.float32]


def asarray(a, like):
    """``a`` (e.g. a NumPy mask or column) in the namespace and on the device of ``like``."""
    xp = get_namespace(like)
    if is_numpy(xp):
        return np.asarray(a)
    return xp.asarray(np.asarray(a), device=device(like))


def host(a):
    """Per-row metadata (labels, domain codes) as a host array; lists etc. unchanged."""
    if a is None or isinstance(a, np.ndarray | list | tuple) or hasattr(a, "iloc"):
        return a
    if hasattr(a, "__array_namespace__") or hasattr(a, "__dlpack__"):
        return to_numpy(a)
    return a


def to_numpy(a):
    """A small array brought to the host (for checks and diagnostics only)."""
    if isinstance(a, np.ndarray):
        return a
    from sklearn.utils._array_api import _convert_to_numpy

    return _convert_to_numpy(a, get_namespace(a))


def cast(a, like):
    """``a`` in the namespace, on the device and with the dtype of ``like``."""
    xp = get_namespace(like)
    if is_numpy(xp):
        return np.asarray(a).astype(like.dtype, copy=False)
    if isinstance(a, np.ndarray | list | tuple | float | int):
        a = asarray(a, like)
    return xp.astype(a, like.dtype)


def eye(n, like):
    xp = get_namespace(like)
    return xp.eye(n, dtype=like.dtype, device=device(like))


def outer(a, b):
    return a[:, None] * b[None, :]


def take_rows(X, keys):
    """Rows of ``X`` at integer positions ``keys`` (a NumPy array)."""
    xp = get_namespace(X)
    if is_numpy(xp):  # NumPy or scipy.sparse
        return X[np.asarray(keys, dtype=np.intp)]
    return xp.take(X, xp.asarray(np.asarray(keys, dtype=np.int64), device=device(X)), axis=0)


def concat(parts):
    """Rows stacked (CSR when any part is a scipy.sparse matrix)."""
    import scipy.sparse as sp

    if any(sp.issparse(p) for p in parts):
        return sp.vstack(parts, format="csr")
    xp = get_namespace(parts[0])
    return np.concatenate(parts) if is_numpy(xp) else xp.concat(parts)


def rows_slice(X, sl):
    """Rows ``sl`` (a slice) of a dense, array-API or scipy.sparse matrix."""
    import scipy.sparse as sp

    return X[sl] if sp.issparse(X) else X[sl, ...]


def where_rows(mask, A, B):
    """Rows of ``A`` where the (NumPy) ``mask`` holds, rows of ``B`` elsewhere."""
    xp = get_namespace(A)
    if is_numpy(xp):
        return np.where(mask[:, None], A, B)
    return xp.where(asarray(mask, A)[:, None], A, B)


def clip(x, min=None, max=None):
    """``clip(x, min, max)`` in ``x``'s namespace (NumPy < 2.1 lacks the keywords)."""
    if isinstance(x, np.ndarray):
        return np.clip(x, min, max)
    return get_namespace(x).clip(x, min=min, max=max)


def vector_norm(x, axis=None):
    """Euclidean norm of ``x`` over ``axis`` in its namespace (NumPy < 2 lacks vector_norm)."""
    if isinstance(x, np.ndarray):
        return np.linalg.norm(x, axis=axis)
    return get_namespace(x).linalg.vector_norm(x, axis=axis)


def sym_power(C, power):
    """``C ** power`` for a symmetric positive-definite matrix ``C``."""
    xp = get_namespace(C)
    vals, vecs = xp.linalg.eigh(C)
    vals = clip(vals, min=float(np.finfo(np.float64 if C.dtype == xp.float64
                                            else np.float32).tiny))
    return (vecs * vals**power) @ vecs.T


def generalised_top(A, B, k):
    """Top-``k`` eigenpairs of ``A w = lambda B w`` (A symmetric, B SPD), largest first.

    Through the Cholesky factor ``B = L L'``: the symmetric
    ``L^-1 A L^-T`` has the same eigenvalues, and ``w = L^-T v``.
    """
    xp = get_namespace(A)
    if is_numpy(xp):
        from scipy import linalg

        n = A.shape[0]
        try:
            vals, vecs = linalg.eigh(A, B, subset_by_index=[n - k, n - 1])
        except linalg.LinAlgError as exc:  # B lost definiteness to rounding (huge features)
            raise ValueError(
                "The eigenproblem is numerically singular (the features' scale swamps mu): "
                "standardise the features first (e.g. StandardScaler) or raise mu."
            ) from exc
        return vals[::-1], vecs[:, ::-1]
    L = xp.linalg.cholesky(B)
    C = xp.linalg.solve(L, xp.linalg.solve(L, A).T)
    vals, vecs = xp.linalg.eigh(0.5 * (C + C.T))
    n = A.shape[0]
    W = xp.linalg.solve(L.T, vecs[:, n - k:])
    return xp.flip(vals[n - k:], axis=0), xp.flip(W, axis=1)


def fix_signs(W):
    """Deterministic eigenvector signs: the largest entry of each column > 0."""
    return W * column_signs(W)


def column_signs(W):
    """The signs (+-1 per column) that :func:`fix_signs` applies."""
    xp = get_namespace(W)
    if is_numpy(xp):
        idx = np.abs(W).argmax(axis=0)
        return np.sign(W[idx, np.arange(W.shape[1])])
    A = xp.abs(W)
    top = xp.sum(xp.where(A == xp.max(A, axis=0), W, 0.0), axis=0)
    return xp.where(top < 0, -xp.ones_like(top), xp.ones_like(top))
