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


def make_heteroscedastic_shift(
    n_samples_source=500,
    n_samples_target=500,
    *,
    task="regression",
    n_classes=3,
    shift_strength=1.0,
    mask_target=False,
    random_state=None,
):
    """A covariate shift into the region where the labels are noisiest.

    The uncertainty-quantification benchmark: ``x`` is standard normal in
    the source and moved by ``shift_strength`` standard deviations along its
    first coordinate in the target, and the noise grows along that
    coordinate. ``p(y | x)`` is the same in both domains, so a model is
    right on average, but intervals, sets and probabilities calibrated on
    the source are too confident on the target. The true density ratio is
    ``p_t(x) / p_s(x) = exp(s x_0 - s^2 / 2)`` with ``s = shift_strength``.

    * ``task="regression"`` (2 features):
      ``y = x_0 + x_1 / 2 + sigma(x_0) e`` with
      ``sigma(x_0) = 0.2 + 0.5 log(1 + exp(1.5 x_0))`` and ``e`` standard
      normal.
    * ``task="classification"`` (3 features): ``n_classes`` directions in the
      ``(x_1, x_2)`` plane (one direction ``x_1 + x_2 / 2`` for two classes),
      with logits scaled by ``6 / (1 + exp(1.5 x_0))``: classes overlap more
      as ``x_0`` grows.

    Parameters
    ----------
    n_samples_source, n_samples_target : int, default=500
        Rows drawn for each domain.
    task : {"regression", "classification"}, default="regression"
    n_classes : int, default=3
        Number of classes (classification only), at least 2.
    shift_strength : float, default=1.0
        Shift of the target's first coordinate, in standard deviations.
    mask_target : bool, default=False
        Mask the target labels (-1 / NaN).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples_source + n_samples_target, n_features)
    y : ndarray of shape (n_samples_source + n_samples_target,)
    sample_domain : ndarray of int
        ``1`` for source rows, ``-2`` for target rows.

    Examples
    --------
    >>> from sktl.datasets import make_heteroscedastic_shift
    >>> X, y, sd = make_heteroscedastic_shift(100, 50, shift_strength=1.5, random_state=0)
    >>> X.shape, float(X[sd < 0, 0].mean()) > 1
    ((150, 2), True)
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}; got {task!r}.")
    for name, value, low in [("n_samples_source", n_samples_source, 1),
                             ("n_samples_target", n_samples_target, 1),
                             ("n_classes", n_classes, 2)]:
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if not np.isfinite(shift_strength):
        raise ValueError(f"shift_strength must be finite; got {shift_strength!r}.")
    rng = check_random_state(random_state)
    n = n_samples_source + n_samples_target
    X = rng.normal(size=(n, 2 if task == "regression" else 3))
    X[n_samples_source:, 0] += shift_strength
    if task == "regression":
        sigma = 0.2 + 0.5 * np.logaddexp(0.0, 1.5 * X[:, 0])
        y = X[:, 0] + 0.5 * X[:, 1] + sigma * rng.normal(size=n)
    else:
        scale = 6.0 / (1.0 + np.exp(1.5 * X[:, 0]))
        if n_classes == 2:
            logits = np.c_[np.zeros(n), scale * (X[:, 1] + 0.5 * X[:, 2])]
        else:
            angle = 2 * np.pi * np.arange(n_classes) / n_classes
            logits = scale[:, None] * (X[:, 1:] @ np.c_[np.cos(angle), np.sin(angle)].T)
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
        y = (rng.uniform(size=n)[:, None] > np.cumsum(proba, axis=1)).sum(axis=1)
    sd = np.r_[np.full(n_samples_source, SOURCE_DOMAIN),
               np.full(n_samples_target, TARGET_DOMAIN)].astype(np.int64)
    y = y.astype(float) if task == "regression" else y.astype(np.int64)
    if mask_target:
        y = mask_target_labels(y, sd, task=task)
    return X, y, sd


def make_distant_shift(
    n_samples_source=200,
    n_samples_target=200,
    *,
    n_intermediate_domains=4,
    n_samples_intermediate=100,
    n_features=2,
    n_classes=2,
    rotation=90.0,
    distance=3.0,
    cluster_std=1.0,
    mask_target=False,
    mask_intermediate=True,
    random_state=None,
):
    """Source and target far apart, with unlabelled intermediate domains between them.

    The setting of distant domain transfer (Tan et al., 2017): the classes
    are Gaussian clusters (standard deviation ``cluster_std``) whose centres
    sit on a circle of radius 3 in the plane of the first two features. A
    domain at position ``t`` in [0, 1] is the source's picture rotated by
    ``t * rotation`` degrees about the origin and moved by ``t * distance``
    along the first feature: the source is at ``t = 0``, the target at
    ``t = 1``, and intermediate domain ``k`` (of ``K``) at ``t = k / (K + 1)``.
    With the defaults the two domains barely overlap and a classifier of
    the source is no better than chance on the target, while each domain is
    a small step from its neighbours. Features beyond the second are standard
    normal noise in every domain.

    Parameters
    ----------
    n_samples_source, n_samples_target : int, default=200
        Rows of the source and of the target.
    n_intermediate_domains : int, default=4
        Number of intermediate domains (0 for none).
    n_samples_intermediate : int, default=100
        Rows of each intermediate domain.
    n_features : int, default=2
        At least 2.
    n_classes : int, default=2
        Number of classes, at least 2 (equal priors in every domain).
    rotation : float, default=90.0
        Rotation of the target relative to the source, in degrees.
    distance : float, default=3.0
        Translation of the target along the first feature.
    cluster_std : float, default=1.0
        Standard deviation of each class cluster.
    mask_target : bool, default=False
        Mask the target labels (-1) for unsupervised adaptation.
    mask_intermediate : bool, default=True
        Mask the intermediate domains' labels (-1): they are unlabelled in
        the distant-transfer setting.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_source + n_intermediate_domains * n_samples_intermediate \
+ n_target, n_features)
    y : ndarray of int
    sample_domain : ndarray of int
        ``1`` for source rows, ``-2`` for target rows and ``-3, -4, ...,
        -(n_intermediate_domains + 2)`` for the intermediate domains, ordered
        from the source's side to the target's (pass them as
        :class:`~sktl.deep.DDTLClassifier`'s ``intermediate_domains``). The
        intermediate codes are negative because their rows are unlabelled:
        an estimator that does not know them takes them for target rows.

    References
    ----------
    .. [1] B. Tan, Y. Zhang, S. J. Pan and Q. Yang. "Distant Domain Transfer
       Learning". AAAI 2017.

    Examples
    --------
    >>> from sktl.datasets import make_distant_shift
    >>> X, y, sd = make_distant_shift(50, 40, n_intermediate_domains=3,
    ...                               n_samples_intermediate=20, random_state=0)
    >>> X.shape, sorted(set(sd.tolist()))
    ((150, 2), [-5, -4, -3, -2, 1])
    >>> int((y[sd < -2] == -1).sum())        # intermediate rows are unlabelled
    60
    """
    for name, value, low in [("n_samples_source", n_samples_source, 1),
                             ("n_samples_target", n_samples_target, 1),
                             ("n_intermediate_domains", n_intermediate_domains, 0),
                             ("n_samples_intermediate", n_samples_intermediate, 1),
                             ("n_features", n_features, 2),
                             ("n_classes", n_classes, 2)]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    for name, value in [("rotation", rotation), ("distance", distance)]:
        if not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}.")
    if not cluster_std > 0:
        raise ValueError(f"cluster_std must be positive; got {cluster_std!r}.")
    rng = check_random_state(random_state)
    k = n_intermediate_domains
    positions = np.r_[0.0, np.arange(1, k + 1) / (k + 1), 1.0]
    sizes = [n_samples_source] + [n_samples_intermediate] * k + [n_samples_target]
    codes = [SOURCE_DOMAIN] + [TARGET_DOMAIN - i for i in range(1, k + 1)] + [TARGET_DOMAIN]
    phase = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 2
    Xs, ys, sds = [], [], []
    for t, n, code in zip(positions, sizes, codes):
        angle = phase + np.deg2rad(t * rotation)
        centres = 3.0 * np.c_[np.cos(angle), np.sin(angle)] + [t * distance, 0.0]
        y = rng.randint(n_classes, size=n)
        X = rng.normal(size=(n, n_features))
        X[:, :2] = centres[y] + cluster_std * X[:, :2]
        Xs.append(X)
        ys.append(y)
        sds.append(np.full(n, code))
    X, y, sd = np.vstack(Xs), np.concatenate(ys).astype(np.int64), \
        np.concatenate(sds).astype(np.int64)
    if mask_intermediate:
        y[sd < TARGET_DOMAIN] = -1
    if mask_target:
        y[sd == TARGET_DOMAIN] = -1
    return X, y, sd
