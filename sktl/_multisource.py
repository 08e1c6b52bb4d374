"""Weighted multi-source transfer: how much each source domain counts.

Every sktl estimator pools the rows of all positive ``sample_domain`` codes.
The ``source_weights`` option of the reweighters (:class:`~sktl.KMM`,
:class:`~sktl.KLIEP`, ...) and of the deep nets (:mod:`sktl.deep`) weighs
the source domains instead; :func:`source_domain_weights` resolves the
option to one factor per source domain, the same way for all of them.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

from .utils._domain import check_sample_domain

#: The numpydoc entry of the option, shared by every estimator that has it.
SOURCE_WEIGHTS_DOC = """
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        Weight of each source domain when several are pooled (multi-source
        transfer); see :func:`sktl.source_domain_weights`. "uniform" pools
        the source rows as they are; "similarity" weighs domain ``d`` by
        ``exp(-D_d / median(D))``, ``D_d`` its MMD to the target rows
        (:func:`sktl.metrics.rank_source_domains`), so the sources closest
        to the target count most; a dict ``{domain code: weight}`` (one
        non-negative weight per source code) sets them. The weights are
        rescaled to mean one over the source rows and multiply the
        {what}; target rows keep weight 1."""

_MAX_ROWS = 1000  # rows per domain for the "similarity" distances


def source_domain_weights(X, sample_domain, source_weights="uniform", *, random_state=0):
    """The factor of each source domain's rows for a ``source_weights`` option.

    The raw weights ``w_d`` are rescaled so that they average one over the
    source rows, ``f_d = w_d n_S / sum_e w_e n_e`` (``n_d`` the rows of
    domain ``d``): the total source weight is unchanged and equal weights
    give factors of exactly 1, the pooled behaviour.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, ...)
        Rows of all domains (only "similarity" reads them).
    sample_domain : array-like of shape (n_samples,)
        Positive codes for source domains, negative for target domains.
    source_weights : {"uniform", "similarity"} or dict, default="uniform"
        "uniform": every source domain 1. "similarity": ``exp(-D_d / m)``
        with ``D_d`` the (squared, biased) MMD between domain ``d`` and the
        pooled target rows under a Gaussian kernel of median-heuristic width
        (:func:`sktl.metrics.rank_source_domains`, on at most 1000 rows per
        domain) and ``m`` the median of the ``D_d``: it depends on the
        distances' ratios only, and the closest source counts most. A dict
        gives each source code its non-negative weight; every source code
        needs one and no other key is allowed.
    random_state : int, default=0
        Seeds the row subsample of "similarity" on large domains.

    Returns
    -------
    factors : dict of int to float
        The factor of each source domain code (mean one over source rows).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import source_domain_weights
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(3, 1, (50, 2)),
    ...                rng.normal(0.2, 1, (50, 2))])
    >>> sd = np.repeat([1, 2, -3], 50)
    >>> w = source_domain_weights(X, sd, "similarity")
    >>> bool(w[1] > w[2])
    True
    >>> source_domain_weights(X, sd, {1: 3.0, 2: 1.0})
    {1: 1.5, 2: 0.5}
    """
    sd = check_sample_domain(sample_domain, X.shape[0])
    codes, counts = np.unique(sd[sd > 0], return_counts=True)
    if not codes.size:
        raise ValueError("source_weights needs source rows: sample_domain has no positive "
                         "code.")
    if isinstance(source_weights, str):
        if source_weights == "uniform":
            raw = np.ones(len(codes))
        elif source_weights == "similarity":
            raw = _similarity(X, sd, codes, random_state)
        else:
            raise ValueError('source_weights must be "uniform", "similarity" or a dict '
                             f"{{domain code: weight}}; got {source_weights!r}.")
    elif isinstance(source_weights, Mapping):
        raw = _explicit(source_weights, codes)
    else:
        raise TypeError('source_weights must be "uniform", "similarity" or a dict '
                        f"{{domain code: weight}}; got a {type(source_weights).__name__}.")
    total = float((raw * counts).sum())
    if not total > 0:
        raise ValueError(f"source_weights gives every source domain weight 0 ({source_weights!r});"
                         " at least one needs a positive weight.")
    factors = raw * counts.sum() / total
    return {int(c): float(f) for c, f in zip(codes, factors)}


def _explicit(weights, codes):
    keys = list(weights)
    bad = [k for k in keys if isinstance(k, bool) or not isinstance(k, Integral)]
    if bad:
        raise TypeError(f"source_weights keys must be integer domain codes; got {bad[:5]}.")
    unknown = sorted(int(k) for k in keys if int(k) not in set(codes.tolist()))
    if unknown:
        raise ValueError(f"source_weights names domains {unknown} that are not source domains "
                         f"of sample_domain (source codes: {codes.tolist()}).")
    missing = [int(c) for c in codes if int(c) not in {int(k) for k in keys}]
    if missing:
        raise ValueError(f"source_weights has no weight for the source domains {missing}; give "
                         "every source code a weight (0 drops a domain).")
    raw = []
    for c in codes:
        value = weights[int(c)]
        if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) \
                or value < 0:
            raise ValueError("source_weights must be finite non-negative numbers; got "
                             f"{value!r} for domain {int(c)}.")
        raw.append(float(value))
    return np.asarray(raw)


def _similarity(X, sd, codes, random_state):
    from .metrics import rank_source_domains

    if not (sd < 0).any():
        raise ValueError('source_weights="similarity" compares each source domain with the '
                         "target rows and found none (no negative sample_domain code).")
    rng = np.random.default_rng(random_state)
    rows = []
    for code in [*codes.tolist(), None]:
        idx = np.flatnonzero(sd < 0 if code is None else sd == code)
        rows.append(np.sort(rng.choice(idx, _MAX_ROWS, replace=False))
                    if len(idx) > _MAX_ROWS else idx)
    rows = np.concatenate(rows)
    Xs = X[rows]
    Xs = Xs.toarray() if sp.issparse(Xs) else np.asarray(Xs, dtype=float)
    Xs = Xs.reshape(len(Xs), -1)
    pooled = np.where(sd[rows] < 0, -1, sd[rows])  # all target domains as one
    dist = dict(rank_source_domains(Xs, pooled, target=-1))
    d = np.array([dist[int(c)] for c in codes])
    scale = float(np.median(d))
    return np.ones(len(codes)) if not scale > 0 else np.exp(-np.maximum(d, 0) / scale)


def source_row_weights(sample_domain, factors):
    """Per-row weights: each source row its domain's factor, other rows 1.

    Parameters
    ----------
    sample_domain : ndarray of int of shape (n_samples,)
    factors : dict of int to float
        From :func:`source_domain_weights`.

    Returns
    -------
    weights : ndarray of shape (n_samples,)
    """
    w = np.ones(len(sample_domain))
    for code, f in factors.items():
        w[sample_domain == code] = f
    return w


def is_uniform(source_weights):
    """Whether the option is the pooled default (no weighting to apply)."""
    return isinstance(source_weights, str) and source_weights == "uniform"
