"""Seeded generators of shifted source/target problems."""

import numpy as np
from sklearn.utils import check_random_state

from ..utils._domain import SOURCE_DOMAIN, TARGET_DOMAIN, mask_target_labels

_SHIFTS = ("covariate", "label", "conditional")
_TASKS = ("classification", "regression")


def _labelling_function(X):
    """Nonlinear score shared by both domains under covariate shift."""
    return X[:, 1] - np.sin(1.5 * X[:, 0]) - 0.3 * X[:, 0]


def _covariate(n_s, n_t, n_features, task, n_classes, strength, noise, rng):
    # The target is a narrower cloud at the edge of the source: a linear model
    # fitted on the whole source is wrong there, one fitted where the target
    # lives is right.
    Xs = rng.normal(0.0, 1.0, size=(n_s, n_features))
    Xt = rng.normal(0.0, 1.0 / (1.0 + strength), size=(n_t, n_features))
    Xt[:, 0] += 1.5 * strength
    Xt[:, 1] += 1.25 * strength
    X = np.vstack([Xs, Xt])
    f = _labelling_function(X)
    if task == "regression":
        y = np.sin(1.5 * X[:, 0]) + 0.3 * X[:, 0] ** 2 + 0.5 * X[:, 1]
        return X, y + noise * rng.normal(size=len(y))
    f = f + noise * rng.normal(size=len(f))
    if n_classes == 2:
        return X, (f > 0).astype(int)
    edges = np.quantile(f[:n_s], np.linspace(0, 1, n_classes + 1)[1:-1])
    return X, np.digitize(f, edges)


def _blobs(n, n_features, priors, centres, scale, rng):
    y = rng.choice(len(priors), size=n, p=priors)
    X = centres[y] + scale * rng.normal(size=(n, n_features))
    return X, y


def _label(n_s, n_t, n_features, task, n_classes, strength, noise, rng):
    if task == "regression":
        ys = rng.normal(0.0, 1.0, n_s)
        yt = rng.normal(1.0 * strength, 1.0 / (1.0 + 0.7 * strength), n_t)
        y = np.r_[ys, yt]
        W = rng.normal(size=n_features)
        X = y[:, None] * W[None, :] + (0.5 + noise) * rng.normal(size=(len(y), n_features))
        return X, y
    centres = 2.0 * rng.normal(size=(n_classes, n_features))
    ps = np.full(n_classes, 1.0 / n_classes)
    skew = np.exp(-strength * np.arange(n_classes) * 1.5)
    pt = skew / skew.sum()
    Xs, ys = _blobs(n_s, n_features, ps, centres, 1.0 + noise, rng)
    Xt, yt = _blobs(n_t, n_features, pt, centres, 1.0 + noise, rng)
    return np.vstack([Xs, Xt]), np.r_[ys, yt]


def _rotation(n_features, angle):
    R = np.eye(n_features)
    c, s = np.cos(angle), np.sin(angle)
    R[:2, :2] = [[c, -s], [s, c]]
    return R


def _conditional(n_s, n_t, n_features, task, n_classes, strength, noise, rng):
    # Same p(y); the target's features are a rotated, anisotropically rescaled
    # copy of the source's, so p(x | y) changes while the class structure is
    # kept: second-order alignment (CORAL) undoes most of it.
    scale = np.ones(n_features)
    scale[0], scale[1] = 1.0 + strength, 1.0 / (1.0 + strength)
    A = _rotation(n_features, 0.3 * strength) * scale[None, :]
    if task == "regression":
        Z = rng.normal(size=(n_s + n_t, n_features))
        y = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] + noise * rng.normal(size=n_s + n_t)
    else:
        centres = 2.5 * rng.normal(size=(n_classes, n_features))
        Z, y = _blobs(n_s + n_t, n_features, np.full(n_classes, 1 / n_classes),
                      centres, 1.0 + noise, rng)
    centre = Z[:n_s].mean(axis=0)  # deform around the source centroid
    X = Z.copy()
    X[n_s:] = (Z[n_s:] - centre) @ A.T + centre
    return X, y


def make_domain_shift(
    n_samples_source=100,
    n_samples_target=100,
    *,
    shift="covariate",
    task="classification",
    n_features=2,
    n_classes=2,
    shift_strength=1.0,
    noise=0.1,
    mask_target=False,
    random_state=None,
):
    """Generate a source/target problem with a chosen kind of shift.

    Three textbook shifts, for classification or regression:

    * ``"covariate"``: ``p(x)`` moves while ``p(y | x)`` stays; the labelling
      function is nonlinear, so a simple model fitted on the source is wrong
      where the target lives and reweighting helps.
    * ``"label"`` (prior / target shift): ``p(y)`` changes while ``p(x | y)``
      stays.
    * ``"conditional"``: ``p(x | y)`` changes (the target is a rotated and
      anisotropically rescaled copy of the source) while ``p(y)`` stays;
      feature alignment helps.

    Parameters
    ----------
    n_samples_source, n_samples_target : int, default=100
        Rows drawn for each domain.
    shift : {"covariate", "label", "conditional"}, default="covariate"
    task : {"classification", "regression"}, default="classification"
    n_features : int, default=2
        At least 2.
    n_classes : int, default=2
        Number of classes (classification only).
    shift_strength : float, default=1.0
        0 gives identically distributed domains; larger means more shift.
    noise : float, default=0.1
        Label noise (classification) or additive noise (regression).
    mask_target : bool, default=False
        Mask the target labels (-1 / NaN) for unsupervised adaptation. By
        default every label is returned so the target can be scored.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples_source + n_samples_target, n_features)
    y : ndarray of shape (n_samples_source + n_samples_target,)
    sample_domain : ndarray of int
        ``1`` for source rows, ``-2`` for target rows.

    Examples
    --------
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(50, 30, shift="label", random_state=0)
    >>> X.shape, int((sd < 0).sum())
    ((80, 2), 30)
    """
    if shift not in _SHIFTS:
        raise ValueError(f"shift must be one of {_SHIFTS}; got {shift!r}.")
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}; got {task!r}.")
    for name, value, low in [
        ("n_samples_source", n_samples_source, 1),
        ("n_samples_target", n_samples_target, 1),
        ("n_features", n_features, 2),
        ("n_classes", n_classes, 2),
    ]:
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if shift_strength < 0 or noise < 0:
        raise ValueError("shift_strength and noise must be non-negative.")
    rng = check_random_state(random_state)
    make = {"covariate": _covariate, "label": _label, "conditional": _conditional}[shift]
    X, y = make(n_samples_source, n_samples_target, n_features, task, n_classes,
                shift_strength, noise, rng)
    sd = np.r_[np.full(n_samples_source, SOURCE_DOMAIN),
               np.full(n_samples_target, TARGET_DOMAIN)].astype(np.int64)
    y = y.astype(float) if task == "regression" else y.astype(np.int64)
    if mask_target:
        y = mask_target_labels(y, sd, task=task)
    return X, y, sd
