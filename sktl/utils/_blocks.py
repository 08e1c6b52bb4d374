"""Rows read block by block: one interface over in-memory and Dask arrays.

The large-data estimators (CORAL, subspace alignment, landmark TCA, Nyström
KMM, the domain-classifier reweighter) fit from statistics that are *sums over
rows*: counts, feature sums, Gram matrices, landmark kernel blocks. A
:class:`Rows` object streams over the rows of one array block by block and
exposes exactly the operations those fits need:

* :meth:`Rows.reduce` -- a function of each block, summed over the blocks;
* :meth:`Rows.topk` -- the rows with the largest scores (and their values);
* :meth:`Rows.take` -- a few rows by position;
* :meth:`Rows.map` -- a per-row result (a transform, the weights), lazy on Dask.

:class:`NumpyRows` runs these in process over blocks of ``block_rows`` rows
(bounded memory, whatever the number of rows); :class:`sktl.utils._dask.DaskRows`
runs them on a Dask cluster (one task per chunk, a tree of combines, only the
small results come back to the client). An estimator written against
:class:`Rows` therefore reads the same for both, and the two give the same
numbers up to the order of floating-point sums.

Positions (``keys``) are ordinals ``0 .. n_rows - 1`` among the rows of the
object (e.g. among the source rows of a domain subset).
"""

import sys
from concurrent.futures import ThreadPoolExecutor
from functools import reduce as fold

import numpy as np
import scipy.sparse as sp
from sklearn import config_context, get_config
from sklearn.utils import gen_batches
from threadpoolctl import threadpool_limits

from .._multisource import source_row_weights
from ._array_api import (
    asarray,
    cast,
    concat,
    get_namespace,
    on_host,
    outer,
    rows_slice,
    take_rows,
    to_numpy,
)

BLOCK_ROWS = 16384


def add(a, b):
    """Sum two results of :meth:`Rows.reduce` (arrays, numbers, tuples or dicts)."""
    if isinstance(a, dict):
        return {key: add(a[key], b[key]) for key in a}
    if isinstance(a, tuple | list):
        return type(a)(add(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def merge_topk(k):
    """Combine two ``(keys, scores, rows)`` triples, keeping the ``k`` best scores.

    Ties are broken by the smaller key, so the result does not depend on the
    order in which blocks are combined.
    """

    def combine(a, b):
        keys = np.concatenate([a[0], b[0]])
        scores = np.concatenate([a[1], b[1]])
        rows = concat([a[2], b[2]])
        order = np.lexsort((keys, -scores))[:k]
        return keys[order], scores[order], take_rows(rows, order)

    return combine


def block_topk(keys, scores, rows, k):
    """The ``k`` best rows of one block as a ``(keys, scores, rows)`` triple.

    The scores may live on a device (array API): they are sorted there and
    only the ``k`` best (scores and positions) come to the host; the rows stay.
    """
    xp = get_namespace(scores)
    if not isinstance(scores, np.ndarray):
        part = to_numpy(xp.argsort(-scores, stable=True)[:k])
        return merge_topk(k)((keys[part], to_numpy(xp.take(scores, cast_index(part, scores))),
                              take_rows(rows, part)),
                             (keys[:0], np.zeros(0), rows_slice(rows, slice(0, 0))))
    if len(scores) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        keys, scores, rows = keys[part], scores[part], rows[part]
    return merge_topk(k)((keys, scores, rows), (keys[:0], scores[:0], rows[:0]))


def cast_index(idx, like):
    return asarray(np.asarray(idx, dtype=np.int64), like)


class Rows:
    """Rows of a 2-d array with their domain codes, read block by block.

    Attributes
    ----------
    n_rows : int
        Number of rows.
    n_features : int
        Number of columns.
    dtype : numpy dtype
        Floating dtype of the rows.
    """

    lazy = False  # True when :meth:`map` returns a lazy (Dask) array

    def reduce(self, fn, combine=add):
        """``combine`` over the blocks of ``fn(X_block, domain_block, keys_block)``."""
        raise NotImplementedError

    def topk(self, score_fn, k):
        """The ``k`` rows with the largest ``score_fn(X_block)``: ``(keys, scores, rows)``.

        Sorted by decreasing score (ties: smaller key first).
        """
        k = max(1, min(int(k), self.n_rows))

        def fn(X, sd, keys):
            scores = score_fn(X)
            if isinstance(scores, np.ndarray):
                scores = scores.astype(float, copy=False)
            return block_topk(keys, scores, X, k)

        return self.reduce(fn, merge_topk(k))

    def take(self, keys):
        """The rows at positions ``keys`` (an in-memory array, in the order of ``keys``)."""
        raise NotImplementedError

    def head(self, n):
        """The first ``n`` rows (in memory)."""
        raise NotImplementedError

    def map(self, fn, n_out=None, dtype=None):
        """Per-row results ``fn(X_block, domain_block, keys_block)`` for every row.

        ``n_out`` is the number of output columns (None: one value per row).
        In memory the blocks are concatenated; on Dask the result is a lazy
        Dask array chunked like the rows.
        """
        raise NotImplementedError

    def subset(self, sign):
        """The rows whose domain code has this sign (+1 source, -1 target)."""
        raise NotImplementedError

    def counts(self):
        """``(n_source, n_target)`` rows."""
        return self.reduce(lambda X, sd, keys: np.array([(sd > 0).sum(), (sd < 0).sum()]))


def _n_threads():
    """Threads for the blocks of in-memory rows: scikit-learn's OpenMP rule.

    ``OMP_NUM_THREADS`` / ``threadpoolctl`` limits and the CPU count, as for
    scikit-learn's own multi-threaded estimators (so joblib's workers, which
    limit OpenMP, do not oversubscribe the machine).
    """
    try:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        return max(1, int(_openmp_effective_n_threads()))
    except Exception:  # pragma: no cover - a scikit-learn without the helper
        return 1


def _run_blocks(fn, blocks, threads):
    """``fn`` over the blocks, yielded in order; on ``threads`` threads when above one.

    NumPy releases the GIL in the kernels and products, so the blocks of a
    pass run in parallel; BLAS is limited to one thread meanwhile (no
    oversubscription), and the results come back in block order, so the
    sums are the same numbers as a sequential pass.
    """
    if threads <= 1 or len(blocks) <= 1:
        yield from (fn(*b) for b in blocks)
        return
    config = get_config()

    def run(block):
        with config_context(**config):  # scikit-learn's config is per thread
            return fn(*block)

    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(min(threads, len(blocks))) as pool:
        yield from pool.map(run, blocks)


class NumpyRows(Rows):
    """In-memory rows, read in blocks of ``block_rows`` rows.

    With NumPy or SciPy sparse rows the blocks of a pass run on several
    threads (:func:`_n_threads`), one BLAS thread each; other namespaces
    (array API: torch, CuPy) run them one after the other on their device.
    """

    def __init__(self, X, sample_domain=None, block_rows=BLOCK_ROWS):
        self.X = X
        self.sd = (np.ones(X.shape[0], dtype=np.int64) if sample_domain is None
                   else np.asarray(sample_domain))
        self.block_rows = block_rows
        self.n_rows, self.n_features = X.shape
        self.dtype = X.dtype

    def _blocks(self):
        for sl in gen_batches(self.n_rows, self.block_rows) if self.n_rows else ():
            yield rows_slice(self.X, sl), self.sd[sl], np.arange(sl.start, sl.stop)

    def _threads(self):
        return _n_threads() if on_host(self.X) else 1

    def reduce(self, fn, combine=add):
        if not self.n_rows:  # no rows: the function of an empty block
            return fn(rows_slice(self.X, slice(0, 0)), self.sd[:0], np.arange(0))
        return fold(combine, _run_blocks(fn, list(self._blocks()), self._threads()))

    def take(self, keys):
        return take_rows(self.X, keys)

    def head(self, n):
        return rows_slice(self.X, slice(0, n))

    def map(self, fn, n_out=None, dtype=None):
        parts = list(_run_blocks(fn, list(self._blocks()), self._threads()))
        if not parts:
            return fn(rows_slice(self.X, slice(0, 0)), self.sd[:0], np.arange(0))
        return concat(parts) if len(parts) > 1 else parts[0]

    def subset(self, sign):
        mask = self.sd > 0 if sign > 0 else self.sd < 0
        return NumpyRows(self.X[asarray(mask, self.X)], self.sd[mask], self.block_rows)


def is_dask(obj):
    """Whether ``obj`` is a Dask collection (without importing Dask)."""
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj) or isinstance(obj, Rows) and obj.lazy


def as_rows(X, sample_domain=None):
    """``X`` as a :class:`Rows` object (in-memory arrays are wrapped, Rows returned)."""
    if isinstance(X, Rows):
        return X
    return NumpyRows(X, sample_domain)


def domain_moments(rows, source_factors=None):
    """Count, mean and (biased) covariance of the source and target rows.

    One pass over the rows. With no target row, every row is a target row
    (the convention of ``DAMixin._source_target_masks``). The covariances are
    accumulated about a shift (the first block's mean), which keeps them
    accurate when the features are far from zero. ``source_factors`` (a dict
    ``{source code: factor}``, see :func:`sktl.source_domain_weights`) makes
    the source moments those of the rows weighted by their domain's factor
    (the "count" is then the sum of the weights).
    """
    head = rows.head(256)
    xp = get_namespace(head)
    sparse = sp.issparse(head)  # sparse rows: d x d products about 0, never densified
    shift = np.zeros(head.shape[1]) if sparse else xp.mean(head, axis=0)

    def weights(sd, mask):
        if source_factors is None or not mask.any() or not (sd[mask] > 0).all():
            return None
        return source_row_weights(sd[mask], source_factors)

    def fn(X, sd, keys):
        out = []
        for mask in (sd > 0, sd < 0, np.ones(len(sd), bool)):
            w = weights(sd, mask)
            if sparse:
                Z = X[mask]
                Zw = Z if w is None else sp.csr_matrix(Z.multiply(w[:, None]))
                out.append((float(mask.sum() if w is None else w.sum()),
                            np.asarray(Zw.sum(axis=0)).ravel(), (Zw.T @ Z).toarray()))
                continue
            Z = X[asarray(mask, X)] - shift
            Zw = Z if w is None else Z * cast(w, Z)[:, None]
            out.append((float(mask.sum() if w is None else w.sum()), xp.sum(Zw, axis=0),
                        Zw.T @ Z))
        return tuple(out)

    stats = rows.reduce(fn)
    src, tgt, every = stats
    if tgt[0] == 0:
        tgt = every

    def moments(n, s, G):
        n = max(n, 1.0)
        mean = s / n
        return n, mean + shift, G / n - outer(mean, mean)

    return moments(*src), moments(*tgt)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def logistic_newton(source, target, C=1.0, fit_intercept=True, tol=1e-10, max_iter=100):
    """L2-regularised logistic regression of target (1) vs source (0) rows by Newton.

    Minimises ``1/2 ||w||^2 + C sum_i log(1 + exp(-s_i (x_i' w + b)))`` (the
    objective of scikit-learn's ``LogisticRegression(C=C)``; the intercept is
    not penalised). Each Newton step is one pass of sums over the rows of both
    domains (gradient and ``(d+1) x (d+1)`` Hessian), so it runs blockwise on
    Dask input in a handful of passes. Returns ``(coef, intercept, n_iter)``.
    """
    d = source.n_features
    theta = np.zeros(d + 1)
    reg = np.r_[np.ones(d), 0.0 if fit_intercept else 1.0]

    def pass_(label):
        def fn(X, sd, keys):
            X = X.astype(np.float64, copy=False)  # float32 sums overflow on large values
            if sp.issparse(X):  # X' r and X' diag(w) X without densifying the rows
                p = _sigmoid(X @ theta[:d] + theta[d])
                r, w = p - label, p * (1 - p)
                Xw = X.multiply(w[:, None]).tocsr()
                H = np.empty((d + 1, d + 1))
                H[:d, :d] = (X.T @ Xw).toarray()
                H[:d, d] = H[d, :d] = np.asarray(Xw.sum(axis=0)).ravel()
                H[d, d] = w.sum()
                return np.r_[X.T @ r, r.sum()], H
            Z = np.c_[X, np.ones(X.shape[0])]
            p = _sigmoid(Z @ theta)
            return Z.T @ (p - label), (Z * (p * (1 - p))[:, None]).T @ Z
        return fn

    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        gs, Hs = source.reduce(pass_(0.0))
        gt, Ht = target.reduce(pass_(1.0))
        grad = reg * theta + C * (gs + gt)
        hess = np.diag(reg) + C * (Hs + Ht)
        if not fit_intercept:
            grad[-1], hess[-1], hess[:, -1], hess[-1, -1] = 0.0, 0.0, 0.0, 1.0
        if not (np.isfinite(grad).all() and np.isfinite(hess).all()):
            raise ValueError(
                "The domain classifier's Newton step overflowed: the features are too large "
                "to fit it as given. Standardise them first (e.g. a StandardScaler before "
                "the reweighter in a make_da_pipeline).")
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:  # singular despite the ridge: the least-squares step
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        theta = theta - step
        if np.abs(step).max() <= tol * max(1.0, np.abs(theta).max()):
            break
    return theta[:d], theta[d], n_iter
