"""The domain convention shared by every sktl estimator.

sktl uses skada's ``sample_domain`` encoding so that data and code move
between the two libraries:

* ``sample_domain`` is an integer array with one entry per row;
* a positive code marks a **source** domain, a negative code a **target**
  domain (0 is not a valid code);
* an unlabelled row carries ``y = -1`` for classification and ``y = NaN``
  for regression.

When ``sample_domain`` is not given it is inferred from ``y``: labelled rows
are source (code ``1``) and unlabelled rows are target (code ``-2``), which is
what skada does too. New rows seen by ``predict``/``transform`` are target rows
unless the caller passes a ``sample_domain`` saying otherwise.
"""

import numbers
import warnings

import numpy as np
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import type_of_target

from ..exceptions import DomainWarning

SOURCE_DOMAIN = 1
"""Code given to source rows when ``sample_domain`` is inferred."""

TARGET_DOMAIN = -2
"""Code given to target rows when ``sample_domain`` is inferred."""

MASKED_LABEL = -1
"""Label of an unlabelled row in classification (NaN in regression)."""

_TASKS = ("auto", "classification", "regression")


def _as_1d(y, name="y"):
    """Return ``y`` as a 1-d numpy array, without copying when possible."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)  # scikit-learn's DataConversionWarning
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got an array of shape {y.shape}.")
    return y


def unlabelled_mask(y, task="auto"):
    """Boolean mask of the rows of ``y`` that carry no label.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, with ``-1`` (classification) or ``NaN`` (regression) for
        unlabelled rows.
    task : {"auto", "classification", "regression"}, default="auto"
        For ``"regression"`` only NaN marks a missing label, since -1 is a
        legitimate target value. For ``"classification"`` both -1 and NaN do.
        ``"auto"`` treats -1 as a mask unless ``y`` holds non-integer values.

    Returns
    -------
    mask : ndarray of bool of shape (n_samples,)
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}; got {task!r}.")
    y = _as_1d(y)
    if y.dtype.kind in "fc":
        nan = np.isnan(y)
        if task == "regression":
            return nan
        if task == "auto":
            finite = y[~nan]
            if finite.size and np.any(finite != np.round(finite)):
                return nan
        return nan | (y == MASKED_LABEL)
    if y.dtype.kind in "iu":
        return y == MASKED_LABEL if task != "regression" else np.zeros(y.shape, bool)
    if y.dtype.kind == "b":
        return np.zeros(y.shape, bool)
    # object / string labels: None, NaN, -1 and "-1" mark a missing label
    return np.array(
        [
            v is None
            or (isinstance(v, numbers.Real) and (v != v or v == MASKED_LABEL))
            or (isinstance(v, str) and v == str(MASKED_LABEL))
            for v in y
        ],
        dtype=bool,
    )


LABEL_CONVENTION_HINT = (
    "sktl, like skada, reserves y = -1 for unlabelled rows (NaN in regression). If -1 "
    "is one of your classes (e.g. {-1, +1} labels from svmlight files or sentiment "
    "data), re-encode y before fitting, e.g. "
    "y = sklearn.preprocessing.LabelEncoder().fit_transform(y) ({-1, +1} -> {0, 1}), "
    "and keep -1 for the rows whose label is unknown."
)
"""The fix named by every error about the -1 label convention."""


def _minus_one_rows(y, task):
    """Rows whose label is the mask value -1 itself (not NaN / None)."""
    mask = unlabelled_mask(y, task)
    if y.dtype.kind in "iuf":
        return mask & (y == MASKED_LABEL)
    if y.dtype.kind != "O":
        return np.zeros(y.shape, bool)
    return mask & np.array([v is not None and not (isinstance(v, float) and v != v)
                            for v in y], dtype=bool)


def check_label_convention(y, sample_domain=None, *, task="auto"):
    """Refuse labels where the mask value -1 is evidently a real class.

    ``y = -1`` marks an unlabelled row, so a classifier given the labels
    ``{-1, +1}`` would silently drop one class. Two situations betray the
    mistake and raise a ValueError that explains the convention and the fix:

    * ``sample_domain`` is given and some *source* rows carry -1 while other
      source rows carry real labels: source rows are labelled by definition,
      so their -1 is a class;
    * ``sample_domain`` is not given (the domains are inferred from the mask),
      the task is classification, and the labelled rows hold a single class:
      the rows with -1 were most likely the other class.

    Masked target rows, a fully unlabelled source (for unsupervised
    transformers) and regression targets (where only NaN masks) pass. With
    ``task="auto"`` (an estimator that does not know the task, e.g. an
    unsupervised transformer) float labels pass too, since they may be
    integer-valued regression targets; the classifier after it checks them.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or None
    sample_domain : array-like of shape (n_samples,) or None
        The domain codes the caller gave (not inferred ones).
    task : {"auto", "classification", "regression"}, default="auto"
    """
    if y is None or task == "regression":
        return
    y = _as_1d(y)
    if task == "auto" and y.dtype.kind == "f":
        return
    minus_one = _minus_one_rows(y, task)
    if not minus_one.any():
        return
    labelled = ~unlabelled_mask(y, task)
    if sample_domain is not None:
        src = np.asarray(sample_domain) > 0
        if (minus_one & src).any() and (labelled & src).any():
            classes = np.unique(y[labelled & src].astype(str) if y.dtype.kind == "O"
                                else y[labelled & src])
            raise ValueError(
                f"{int((minus_one & src).sum())} source rows (positive sample_domain) carry "
                f"y = -1 next to source rows labelled {_short_list(classes)}: source rows "
                "are labelled, so -1 looks like one of your classes. " + LABEL_CONVENTION_HINT
            )
        return
    if task == "classification":
        classes = np.unique(y[labelled].astype(str) if y.dtype.kind == "O" else y[labelled])
        if len(classes) == 1:
            raise ValueError(
                f"The labelled rows hold a single class ({_short_list(classes)[1:-1]}): the "
                f"{int(minus_one.sum())} rows with y = -1 were taken as unlabelled target "
                "rows because sample_domain was not given. A classifier needs at least "
                "2 classes. " + LABEL_CONVENTION_HINT
            )


def _short_list(values, n=5):
    values = [v.item() if hasattr(v, "item") else v for v in values]
    return str(values[:n])[:-1] + (", ...]" if len(values) > n else "]")


def check_sample_domain(sample_domain, n_samples):
    """Validate a ``sample_domain`` array and return it as integers.

    Parameters
    ----------
    sample_domain : array-like of shape (n_samples,)
        Domain code of each row: positive for source, negative for target.
    n_samples : int
        Number of rows it must describe.

    Returns
    -------
    sample_domain : ndarray of int of shape (n_samples,)
    """
    sd = _as_1d(sample_domain, "sample_domain")
    if sd.shape[0] != n_samples:
        raise ValueError(
            f"sample_domain has {sd.shape[0]} entries but X has {n_samples} rows; "
            "give one domain code per row."
        )
    if sd.dtype.kind not in "iuf" and not (sd.dtype.kind == "O" and sd.size == 0):
        raise TypeError(
            "sample_domain must hold integer domain codes (positive = source, "
            f"negative = target); got dtype {sd.dtype}."
        )
    if sd.dtype.kind == "f":
        if not np.all(np.isfinite(sd)) or np.any(sd != np.round(sd)):
            raise ValueError(
                "sample_domain must hold integer domain codes (positive = source, "
                "negative = target); got non-integer or non-finite values."
            )
    sd = sd.astype(np.int64, copy=False)
    if np.any(sd == 0):
        raise ValueError(
            "sample_domain contains 0, which is not a domain code: use positive "
            "integers for source domains and negative integers for target domains."
        )
    return sd


def infer_sample_domain(y, task="auto"):
    """Infer ``sample_domain`` from label masking.

    Labelled rows become source (code ``1``), unlabelled rows target (``-2``).
    """
    mask = unlabelled_mask(y, task)
    return np.where(mask, TARGET_DOMAIN, SOURCE_DOMAIN).astype(np.int64)


def check_y_domain(
    y,
    sample_domain,
    n_samples,
    *,
    task="auto",
    require_target=True,
    require_labelled_source=True,
):
    """Resolve and validate the labels and domains of ``n_samples`` rows.

    This is the single place where sktl turns what the caller passed into a
    validated ``(y, sample_domain)`` pair; estimators call it from ``fit``.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or None
        Labels, unlabelled rows marked with -1 / NaN.
    sample_domain : array-like of shape (n_samples,) or None
        Domain codes; inferred from ``y`` when None.
    n_samples : int
        Number of rows of ``X``.
    task : {"auto", "classification", "regression"}, default="auto"
        How unlabelled rows are marked (see :func:`unlabelled_mask`).
    require_target : bool, default=True
        Raise when an explicit ``sample_domain`` has no target rows. When no
        domain information is given at all (no ``sample_domain``, no masked
        label) a :class:`~sktl.exceptions.DomainWarning` is issued instead and
        the training rows serve as their own target, so no adaptation happens.
    require_labelled_source : bool, default=True
        Raise when no source row carries a label.

    Returns
    -------
    y : ndarray of shape (n_samples,) or None
    sample_domain : ndarray of int of shape (n_samples,)

    Raises
    ------
    ValueError
        Besides shape and domain errors, when the mask value -1 is evidently
        a real class (see :func:`check_label_convention`).
    """
    if y is not None:
        y = _as_1d(y)
        if y.shape[0] != n_samples:
            raise ValueError(
                f"y has {y.shape[0]} entries but X has {n_samples} rows."
            )
        if y.dtype.kind == "f" and np.any(np.isinf(y)):
            raise ValueError("y contains infinity; mark unlabelled rows with NaN or -1.")
    if sample_domain is None:
        check_label_convention(y, None, task=task)
        if y is None:
            sd = np.full(n_samples, SOURCE_DOMAIN, dtype=np.int64)
        else:
            sd = infer_sample_domain(y, task)
        if require_target and not np.any(sd < 0):
            warnings.warn(
                "No target rows: sample_domain was not given and no label is "
                "masked (y = -1 for classification, NaN for regression). The "
                "training rows are used as their own target, so no adaptation "
                "takes place. Pass sample_domain (negative codes for target rows) "
                "to adapt.",
                DomainWarning,
                stacklevel=3,
            )
        return y, sd

    sd = check_sample_domain(sample_domain, n_samples)
    if require_target and not np.any(sd < 0):
        raise ValueError(
            "No target rows: sample_domain has no negative code. Mark target rows "
            "with negative domain codes (e.g. -2)."
        )
    if require_labelled_source:
        if not np.any(sd > 0):
            raise ValueError(
                "No source rows: sample_domain has no positive code. Mark source "
                "rows with positive domain codes (e.g. 1)."
            )
        if y is not None and np.all(unlabelled_mask(y[sd > 0], task)):
            raise ValueError(
                "No labelled source rows: every source row has a masked label "
                "(-1 or NaN)."
            )
    check_label_convention(y, sd, task=task)
    return y, sd


def check_X_y_domain(
    X,
    y=None,
    sample_domain=None,
    *,
    task="auto",
    require_target=True,
    require_labelled_source=True,
    **check_array_params,
):
    """Validate ``X``, ``y`` and ``sample_domain`` together.

    A stand-alone version of what every sktl estimator does in ``fit``:
    ``X`` is checked with :func:`sklearn.utils.check_array` (finite values,
    2-d), then :func:`check_y_domain` resolves the domains.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
    sample_domain : array-like of shape (n_samples,), default=None
    task : {"auto", "classification", "regression"}, default="auto"
    require_target, require_labelled_source : bool, default=True
        See :func:`check_y_domain`.
    **check_array_params
        Passed to :func:`sklearn.utils.check_array`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or None
    sample_domain : ndarray of int of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.utils import check_X_y_domain
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> _, _, sd = check_X_y_domain(X, [0, 1, -1, -1])
    >>> sd
    array([ 1,  1, -2, -2])
    """
    X = check_array(X, **check_array_params)
    y, sd = check_y_domain(
        y,
        sample_domain,
        X.shape[0],
        task=task,
        require_target=require_target,
        require_labelled_source=require_labelled_source,
    )
    return X, y, sd


def source_target_merge(X_source, X_target, y_source, y_target=None, *, task="auto"):
    """Stack one source and one target set into ``X, y, sample_domain``.

    The commonest case: one labelled source array and one (usually
    unlabelled) target array. Source rows get domain code ``1``, target rows
    ``-2``. When ``y_target`` is None the target labels are masked (-1, or NaN
    when ``y_source`` is continuous or ``task="regression"``).

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
    X_target : array-like of shape (n_target, n_features)
    y_source : array-like of shape (n_source,)
    y_target : array-like of shape (n_target,), default=None
        Target labels if some are known; mask unknown ones with -1 / NaN.
    task : {"auto", "classification", "regression"}, default="auto"
        With classification labels, ``y_source`` may not hold -1 next to
        other labels: -1 marks unlabelled rows, so it cannot be a class
        (re-encode such labels with :class:`~sklearn.preprocessing.LabelEncoder`).

    Returns
    -------
    X : ndarray of shape (n_source + n_target, n_features)
    y : ndarray of shape (n_source + n_target,)
    sample_domain : ndarray of int of shape (n_source + n_target,)

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.utils import source_target_merge
    >>> X, y, sd = source_target_merge(np.zeros((2, 3)), np.ones((1, 3)), [0, 1])
    >>> y, sd
    (array([ 0,  1, -1]), array([ 1,  1, -2]))
    """
    X_source = check_array(X_source, input_name="X_source")
    X_target = check_array(X_target, input_name="X_target")
    if X_source.shape[1] != X_target.shape[1]:
        raise ValueError(
            f"X_source has {X_source.shape[1]} features but X_target has "
            f"{X_target.shape[1]}; both domains must share one feature space."
        )
    y_source = _as_1d(y_source, "y_source")
    if y_source.shape[0] != X_source.shape[0]:
        raise ValueError(
            f"y_source has {y_source.shape[0]} entries but X_source has "
            f"{X_source.shape[0]} rows."
        )
    n_t = X_target.shape[0]
    if task == "auto":
        task = "regression" if type_of_target(y_source) == "continuous" else "classification"
    if y_target is None:
        if task == "regression":
            y_target = np.full(n_t, np.nan)
            y_source = y_source.astype(float)
        else:
            y_target = np.full(n_t, MASKED_LABEL, dtype=y_source.dtype
                               if y_source.dtype.kind in "iuf" else object)
    else:
        y_target = _as_1d(y_target, "y_target")
        if y_target.shape[0] != n_t:
            raise ValueError(
                f"y_target has {y_target.shape[0]} entries but X_target has {n_t} rows."
            )
    X = np.vstack([X_source, X_target])
    y = np.concatenate([y_source, y_target])
    sd = np.concatenate(
        [np.full(X_source.shape[0], SOURCE_DOMAIN), np.full(n_t, TARGET_DOMAIN)]
    ).astype(np.int64)
    check_label_convention(y, sd, task=task)  # -1 in y_source is a class, not a mask
    return X, y, sd


def source_target_split(X, y=None, sample_domain=None, *, task="auto"):
    """Split rows into source and target parts.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
    sample_domain : array-like of shape (n_samples,), default=None
        Inferred from ``y`` when None.
    task : {"auto", "classification", "regression"}, default="auto"

    Returns
    -------
    X_source, X_target : ndarray
    y_source, y_target : ndarray
        Only when ``y`` is given.
    """
    X = check_array(X, ensure_all_finite=False)
    y, sd = check_y_domain(
        y, sample_domain, X.shape[0], task=task,
        require_target=False, require_labelled_source=False,
    )
    src = sd > 0
    if y is None:
        return X[src], X[~src]
    return X[src], X[~src], y[src], y[~src]


def mask_target_labels(y, sample_domain, *, task="auto"):
    """Return a copy of ``y`` with the labels of every target row masked.

    Use it to turn a fully labelled benchmark into an unsupervised domain
    adaptation problem (target rows get -1, or NaN for regression).
    """
    y = _as_1d(y)
    sd = check_sample_domain(sample_domain, y.shape[0])
    regression = task == "regression" or (
        task == "auto" and y.dtype.kind == "f" and type_of_target(y) == "continuous"
    )
    y = y.astype(float) if regression and y.dtype.kind != "f" else y.copy()
    if y.dtype.kind not in "iuf":
        y = y.astype(object)
    y[sd < 0] = np.nan if regression else MASKED_LABEL
    return y
