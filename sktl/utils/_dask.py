"""Dask backend of the block interface (:mod:`sktl.utils._blocks`).

Dask is the engine: every pass over the rows is a graph of one task per chunk
and a tree of combines, computed by whatever scheduler is active (a
``distributed.Client`` when one exists), and only the small combined result
(sums, ``m x m`` matrices, the top rows) comes back to the client. Per-row
outputs (transforms, weights) are lazy Dask arrays chunked like the input.
A lost worker costs time only: its chunks are recomputed from the graph.

Imported only when a Dask collection reaches an estimator, so ``import sktl``
never imports Dask.
"""

import warnings

import dask
import dask.array as da
import numpy as np
from sklearn.utils import gen_batches

from ..exceptions import DomainWarning
from ._blocks import BLOCK_ROWS, Rows, add
from ._domain import check_sample_domain, infer_sample_domain, unlabelled_mask


def _select(X, sd, sign):
    if sign is None:
        return X, sd
    mask = sd > 0 if sign > 0 else sd < 0
    return X[mask], sd[mask]


def _apply(fn, X, sd, sign, start, stop, combine=None, empty=None):
    """``fn`` on the selected rows of one chunk, in sub-blocks of bounded size.

    With ``combine`` the sub-block results are combined (a reduction), else
    concatenated (a map); either way a task holds one sub-block's
    temporaries, whatever the chunk size.
    """
    X, sd = _select(X, sd.ravel(), sign)
    if not len(X):  # a chunk without such rows: nothing to combine (None) or 0 rows
        return empty
    keys = np.arange(start, stop)
    parts = [fn(X[sl], sd[sl], keys[sl]) for sl in gen_batches(len(X), BLOCK_ROWS)]
    if combine is None:
        return np.concatenate(parts) if len(parts) > 1 else parts[0]
    out = parts[0]
    for part in parts[1:]:
        out = combine(out, part)
    return out


def _take(X, sd, sign, positions):
    return _select(X, sd.ravel(), sign)[0][positions]


def _skip_none(combine):
    def both(a, b):
        return a if b is None else b if a is None else combine(a, b)

    return both


def _tree(parts, combine):
    combine = dask.delayed(_skip_none(combine), pure=True)
    while len(parts) > 1:
        parts = [combine(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


class DaskRows(Rows):
    """Rows of a Dask array (chunked along rows only) with aligned domain codes."""

    lazy = True

    def __init__(self, X, sd, y=None, block_counts=None, sign=None):
        self.X, self.sd, self.y = X, sd, y
        self.block_counts = block_counts  # (n_blocks, 2): source and target rows per chunk
        self.sign = sign
        sizes = (np.asarray(X.chunks[0]) if sign is None
                 else block_counts[:, 0 if sign > 0 else 1])
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.offsets = np.r_[0, np.cumsum(self.sizes)]
        self.n_rows = int(self.offsets[-1])
        self.n_features = X.shape[1]
        self.dtype = X.dtype

    def counts(self):
        c = self.block_counts.sum(axis=0)
        return c if self.sign is None else (c * ([1, 0] if self.sign > 0 else [0, 1]))

    def _delayed_blocks(self):
        xs = self.X.to_delayed().ravel()
        ss = self.sd[:, None].to_delayed().ravel()
        return xs, ss

    def reduce(self, fn, combine=add):
        xs, ss = self._delayed_blocks()
        fd = dask.delayed(fn, pure=True)  # one key shared by every task
        apply = dask.delayed(_apply, pure=True)
        fc = dask.delayed(_skip_none(combine), pure=True)
        parts = [apply(fd, x, s, self.sign, self.offsets[j], self.offsets[j + 1], fc)
                 for j, (x, s) in enumerate(zip(xs, ss, strict=True))]
        out = dask.compute(_tree(parts, combine))[0] if parts else None
        if out is None:  # no rows at all: the function of an empty block
            out = fn(np.empty((0, self.n_features)), np.empty(0, np.int64), np.arange(0))
        return out

    def take(self, keys):
        keys = np.asarray(keys, dtype=np.int64)
        xs, ss = self._delayed_blocks()
        block = np.searchsorted(self.offsets, keys, side="right") - 1
        take = dask.delayed(_take, pure=True)
        wanted = np.unique(block)
        parts = dask.compute(*[take(xs[j], ss[j], self.sign,
                                    keys[block == j] - self.offsets[j]) for j in wanted])
        out = np.empty((len(keys), self.n_features), dtype=self.dtype)
        for j, part in zip(wanted, parts, strict=True):
            out[block == j] = part
        return out

    def head(self, n):
        if self.sign is None:
            return np.asarray(self.X[:n].compute())
        return self.take(np.arange(min(n, self.n_rows)))

    def map(self, fn, n_out=None, dtype=None):
        xs, ss = self._delayed_blocks()
        fd = dask.delayed(fn, pure=True)
        apply = dask.delayed(_apply, pure=True)
        dtype = self.dtype if dtype is None else dtype
        blocks = []
        for j, (x, s) in enumerate(zip(xs, ss, strict=True)):
            shape = (int(self.sizes[j]),) if n_out is None else (int(self.sizes[j]), n_out)
            part = apply(fd, x, s, self.sign, self.offsets[j], self.offsets[j + 1],
                         None, np.zeros((0,) + shape[1:], dtype=dtype))
            blocks.append(da.from_delayed(part, shape=shape, dtype=dtype))
        return da.concatenate(blocks, axis=0)

    def expand(self, values, fill):
        """Per-row array of all rows from ``values`` given on this subset's rows."""
        values = values.rechunk((tuple(int(s) for s in self.sizes),))
        parent = DaskRows(self.X, self.sd, self.y, self.block_counts)
        vs = values.to_delayed().ravel()
        sign = self.sign

        def place(X, sd, v):
            sd = sd.ravel()
            out = np.full(len(sd), fill, dtype=float)
            out[sd > 0 if sign > 0 else sd < 0] = v
            return out

        xs, ss = parent._delayed_blocks()
        fp = dask.delayed(place, pure=True)
        blocks = [da.from_delayed(fp(x, s, v), shape=(int(n),), dtype=float)
                  for x, s, v, n in zip(xs, ss, vs, self.X.chunks[0], strict=True)]
        return da.concatenate(blocks)

    def subset(self, sign):
        return DaskRows(self.X, self.sd, self.y, self.block_counts, sign)


def _as_dask_array(obj, name, chunks=None):
    """A Dask or in-memory array-like as a Dask array with the given row chunks."""
    if obj is None:
        return None
    if hasattr(obj, "to_dask_array"):  # dask DataFrame / Series
        obj = obj.to_dask_array(lengths=True)
    elif not dask.is_dask_collection(obj):
        obj = np.asarray(obj)
        return da.from_array(obj, chunks=(chunks,) + obj.shape[1:]) if chunks else obj
    if obj.ndim == 2 and name != "X" and obj.shape[1] == 1:
        obj = obj[:, 0]
    if any(np.isnan(c) for c in obj.chunks[0]):
        obj = obj.compute_chunk_sizes()
    if chunks is not None:
        if obj.shape[0] != sum(chunks):
            raise ValueError(f"{name} has {obj.shape[0]} entries but X has {sum(chunks)} "
                             "rows; give one per row.")
        if obj.chunks[0] != tuple(chunks):
            obj = obj.rechunk({0: chunks})
    return obj


def _check_block(X, sd, y, task, infer):
    """Checks of one chunk; returns its source/target counts, codes and labelled rows."""
    if X.size and not np.isfinite(X).all():
        raise ValueError("Input X contains NaN or infinity.")
    if infer:
        sd = (np.full(len(X), 1, dtype=np.int64) if y is None
              else infer_sample_domain(y, task))
    else:
        sd = check_sample_domain(sd.ravel(), len(X))
    labelled = 0 if y is None else int((~unlabelled_mask(y[sd > 0], task)).sum())
    return (np.array([(sd > 0).sum(), (sd < 0).sum()]), np.unique(sd), labelled,
            None if y is None else np.unique(y[~unlabelled_mask(y, task)]))


def validate_domain_data(est, X, y, sample_domain, *, reset=True):
    """Dask counterpart of ``DAMixin._validate_domain_data``.

    Checks ``X`` (2-d, numeric, finite), aligns ``y`` and ``sample_domain``
    on its row chunks, validates them chunk by chunk in one pass, and returns
    ``(rows, y, sample_domain)`` with ``rows`` a :class:`DaskRows`.
    """
    if not getattr(est, "_dask_support", False):
        raise TypeError(
            f"{type(est).__name__} does not accept Dask arrays; compute them first "
            "(e.g. X.compute()) or use one of CORAL, TCA (n_landmarks or linear kernel), "
            "SubspaceAlignment, KMM (Nyström) or DiscriminativeReweighter.")
    if reset:
        est._validate_params()
    names = None
    if hasattr(X, "columns"):
        cols = np.asarray(X.columns, dtype=object)
        if all(isinstance(c, str) for c in cols):
            names = cols
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-d Dask array for X; got {X.ndim} dimension(s).")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"X must be numeric; got a Dask array of dtype {X.dtype}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    chunks = X.chunks[0]
    if reset:
        est.n_features_in_ = X.shape[1]
        if names is not None:
            est.feature_names_in_ = names
        elif hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is "
                         f"expecting {est.n_features_in_} features as input.")
    y = _as_dask_array(y, "y", chunks)
    sd = _as_dask_array(sample_domain, "sample_domain", chunks)
    if sd is not None and not dask.is_dask_collection(sd):
        sd = da.from_array(sd, chunks=(chunks,))
    if y is not None and not dask.is_dask_collection(y):
        y = da.from_array(y, chunks=(chunks,))
    task = est._task() if reset else "auto"
    infer = sd is None
    check = dask.delayed(_check_block, pure=True)
    xs = X.to_delayed().ravel()
    ys = [None] * len(xs) if y is None else y.to_delayed().ravel()
    ss = [None] * len(xs) if sd is None else sd.to_delayed().ravel()
    results = dask.compute(*[check(x, s, yy, task, infer) for x, s, yy in zip(xs, ss, ys)])
    counts = np.array([r[0] for r in results]).reshape(-1, 2)
    if infer:
        fill = 1 if y is None else None
        sd = (da.full(X.shape[0], fill, chunks=(chunks,), dtype=np.int64) if fill
              else y.map_blocks(infer_sample_domain, task, dtype=np.int64))
        if not counts[:, 1].sum():
            warnings.warn("No target rows: sample_domain was not given and no label is "
                          "masked. The training rows are used as their own target, so no "
                          "adaptation takes place.", DomainWarning, stacklevel=4)
    elif not counts[:, 1].sum():
        raise ValueError("No target rows: sample_domain has no negative code. Mark target "
                         "rows with negative domain codes (e.g. -2).")
    requires = est._requires_labelled_source and y is not None
    if requires and not infer:
        if not counts[:, 0].sum():
            raise ValueError("No source rows: sample_domain has no positive code.")
        if not sum(r[2] for r in results):
            raise ValueError("No labelled source rows: every source row has a masked label "
                             "(-1 or NaN).")
    if reset:
        est.domains_ = np.unique(np.concatenate([r[1] for r in results]))
        if y is not None:
            est._dask_classes = np.unique(np.concatenate([r[3] for r in results]))
    return DaskRows(X, sd, y, counts), y, sd


def predict_domain(est, X, sample_domain):
    """Lazy domain codes of new rows (target unless given), chunked like ``X``."""
    if sample_domain is None:
        targets = est.domains_[est.domains_ < 0]
        code = targets[-1] if targets.size else -2
        return da.full(X.shape[0], code, chunks=(X.chunks[0],), dtype=np.int64)
    sd = _as_dask_array(sample_domain, "sample_domain", X.chunks[0])
    if not dask.is_dask_collection(sd):
        est._predict_domain(sd, X.shape[0])  # the in-memory checks and messages
        sd = da.from_array(sd, chunks=(X.chunks[0],))
    return sd


def transform(est, X, sample_domain=None):
    """Lazy ``est._transform`` of every chunk of a Dask ``X``."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    X = _as_dask_array(X, "X")
    if X.ndim != 2 or X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1] if X.ndim == 2 else X.shape} features, but "
                         f"{type(est).__name__} is expecting {est.n_features_in_} features.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    sd = predict_domain(est, X, sample_domain)
    rows = DaskRows(X, sd)
    return map_transform(est, rows)


def map_transform(est, rows):
    """Lazy ``est._transform`` over the chunks of ``rows``."""
    probe = est._transform(np.zeros((1, rows.n_features), dtype=rows.dtype),
                           np.array([-1]))
    return rows.map(lambda X, sd, keys: est._transform(X, sd), n_out=probe.shape[1],
                    dtype=probe.dtype)


def fit_reweighter(est, X, y, sample_domain, fit_params):
    """``BaseReweighter.fit`` on Dask input: lazy weights, a Dask-aware estimator."""
    from sklearn.base import clone

    rows, y, sd = validate_domain_data(est, X, y, sample_domain)
    src = rows.subset(+1)
    if not src.n_rows:
        raise ValueError("No source rows to reweight: sample_domain has no positive code.")
    tgt = rows.subset(-1) if rows.block_counts[:, 1].sum() else rows
    est.weights_ = est._fit_weights(src, tgt)
    if est.estimator is None:
        return est
    sw = src.expand(est.weights_, fill=1.0)
    user_sw = fit_params.pop("sample_weight", None)
    if user_sw is not None:
        sw = sw * _as_dask_array(user_sw, "sample_weight", rows.X.chunks[0])
    task = est._task()
    keep = y.map_blocks(lambda v: ~unlabelled_mask(v, task), dtype=bool)
    est.estimator_ = clone(est.estimator)
    if hasattr(est.estimator_, "partial_fit"):
        _stream_partial_fit(est.estimator_, rows.X, y, sw, keep,
                            getattr(est, "_dask_classes", None))
    else:
        est.estimator_.fit(rows.X[keep], y[keep], sample_weight=sw[keep], **fit_params)
    return est


def _stream_partial_fit(estimator, X, y, sw, keep, classes):
    """One pass of ``partial_fit`` over the chunks (only one chunk in memory at a time)."""
    from sklearn.base import is_classifier

    kw = {"classes": classes} if is_classifier(estimator) else {}
    for xb, yb, wb, kb in zip(X.to_delayed().ravel(), y.to_delayed().ravel(),
                              sw.to_delayed().ravel(), keep.to_delayed().ravel(),
                              strict=True):
        xb, yb, wb, kb = dask.compute(xb, yb, wb, kb)
        if kb.any():
            estimator.partial_fit(xb[kb], yb[kb], sample_weight=wb[kb], **kw)
