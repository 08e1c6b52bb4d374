"""Diagnostics: how far apart are two domains, and which source to use.

Maximum mean discrepancy (Gretton et al., 2012) with a permutation test,
proxy A-distance (Ben-David et al., 2007) and CORAL distance
(Sun, Feng & Saenko, 2016).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.model_selection import cross_val_predict
from sklearn.utils import check_array, check_random_state


def _check_pair(X_source, X_target):
    Xs = check_array(X_source, dtype=float)
    Xt = check_array(X_target, dtype=float)
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(
            f"X_source and X_target need the same number of features; got "
            f"{Xs.shape[1]} and {Xt.shape[1]}."
        )
    if len(Xs) < 2 or len(Xt) < 2:
        raise ValueError("Each domain needs at least two rows.")
    return Xs, Xt


def _median_gamma(X):
    """Median heuristic: gamma = 1 / median(squared pairwise distance)."""
    sub = X[:: max(1, len(X) // 500)]
    d2 = np.sum((sub[:, None, :] - sub[None, :, :]) ** 2, axis=-1)
    med = np.median(d2[np.triu_indices(len(sub), 1)])
    return 1.0 / med if med > 0 else 1.0


def _mmd2_from_kernel(K, n_s, biased):
    Kss, Ktt, Kst = K[:n_s, :n_s], K[n_s:, n_s:], K[:n_s, n_s:]
    n_t = len(K) - n_s
    if biased:
        return Kss.mean() + Ktt.mean() - 2 * Kst.mean()
    return (
        (Kss.sum() - np.trace(Kss)) / (n_s * (n_s - 1))
        + (Ktt.sum() - np.trace(Ktt)) / (n_t * (n_t - 1))
        - 2 * Kst.mean()
    )


def mmd(X_source, X_target, *, kernel="rbf", gamma=None, biased=False,
        n_permutations=0, random_state=None):
    """Squared maximum mean discrepancy between two samples.

    MMD is the distance between the kernel mean embeddings of the two
    distributions; with a characteristic kernel (e.g. RBF) it is zero iff the
    distributions are equal. The unbiased estimate can be slightly negative.
    With ``n_permutations > 0`` a permutation test of "same distribution"
    also returns a p-value.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    kernel : {"rbf", "linear", "laplacian", "polynomial"} or callable, default="rbf"
        Any kernel accepted by :func:`sklearn.metrics.pairwise.pairwise_kernels`.
    gamma : float, default=None
        Kernel width for rbf/laplacian; None uses the median heuristic on the
        pooled data.
    biased : bool, default=False
        Use the biased (V-statistic) estimate instead of the unbiased one.
    n_permutations : int, default=0
        Number of permutations for the p-value; 0 skips the test.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    mmd2 : float
        Squared MMD estimate.
    p_value : float
        Only when ``n_permutations > 0``: ``(1 + #{perm >= obs}) / (1 + n_permutations)``.

    References
    ----------
    .. [1] A. Gretton, K. Borgwardt, M. Rasch, B. Schölkopf and A. Smola.
       "A Kernel Two-Sample Test". JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import mmd
    >>> rng = np.random.RandomState(0)
    >>> stat, p = mmd(rng.randn(50, 2), rng.randn(50, 2) + 2, n_permutations=99, random_state=0)
    >>> p < 0.05
    True
    """
    Xs, Xt = _check_pair(X_source, X_target)
    X = np.vstack([Xs, Xt])
    params = {}
    if kernel in ("rbf", "laplacian"):
        params["gamma"] = _median_gamma(X) if gamma is None else gamma
    elif gamma is not None:
        params["gamma"] = gamma
    K = pairwise_kernels(X, metric=kernel, **params)
    n_s = len(Xs)
    stat = float(_mmd2_from_kernel(K, n_s, biased))
    if not n_permutations:
        return stat
    if int(n_permutations) < 1:
        raise ValueError(f"n_permutations must be >= 0; got {n_permutations!r}.")
    rng = check_random_state(random_state)
    count = 0
    for _ in range(int(n_permutations)):
        p = rng.permutation(len(X))
        count += int(_mmd2_from_kernel(K[np.ix_(p, p)], n_s, biased) >= stat)
    return stat, float((1 + count) / (1 + int(n_permutations)))


def proxy_a_distance(X_source, X_target, *, classifier=None, cv=5, random_state=None):
    """Proxy A-distance ``2 (1 - 2 err)`` of a domain classifier.

    ``err`` is the cross-validated error of a classifier telling source from
    target rows (balanced by subsampling). 0 means indistinguishable domains,
    2 perfectly separable ones.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    classifier : classifier, default=None
        Defaults to ``LogisticRegression()``.
    cv : int, default=5
    random_state : int, RandomState instance or None, default=None
        Used for the balancing subsample.

    Returns
    -------
    pad : float in [0, 2]

    References
    ----------
    .. [1] S. Ben-David, J. Blitzer, K. Crammer and F. Pereira. "Analysis of
       Representations for Domain Adaptation". NeurIPS 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import proxy_a_distance
    >>> rng = np.random.RandomState(0)
    >>> proxy_a_distance(rng.randn(100, 2), rng.randn(100, 2) + 5) > 1.5
    True
    """
    Xs, Xt = _check_pair(X_source, X_target)
    rng = check_random_state(random_state)
    n = min(len(Xs), len(Xt))
    Xs = Xs[rng.choice(len(Xs), n, replace=False)]
    Xt = Xt[rng.choice(len(Xt), n, replace=False)]
    clf = LogisticRegression() if classifier is None else classifier
    X = np.vstack([Xs, Xt])
    d = np.r_[np.zeros(n), np.ones(n)]
    err = np.mean(cross_val_predict(clf, X, d, cv=cv) != d)
    return float(max(0.0, 2 * (1 - 2 * err)))


def coral_distance(X_source, X_target):
    """Squared Frobenius distance between the domain covariances, ``/ (4 d^2)``.

    The CORAL loss of Sun & Saenko (2016): second-order statistics only.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)

    Returns
    -------
    distance : float

    References
    ----------
    .. [1] B. Sun and K. Saenko. "Deep CORAL: Correlation Alignment for Deep
       Domain Adaptation". ECCV Workshops 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import coral_distance
    >>> X = np.random.RandomState(0).randn(50, 3)
    >>> coral_distance(X, X)
    0.0
    """
    Xs, Xt = _check_pair(X_source, X_target)
    d = Xs.shape[1]
    diff = np.cov(Xs, rowvar=False).reshape(d, d) - np.cov(Xt, rowvar=False).reshape(d, d)
    return float(np.sum(diff**2) / (4 * d * d))


_DISTANCES = {"mmd": lambda a, b: mmd(a, b), "coral": coral_distance,
              "proxy_a": proxy_a_distance}


def rank_source_domains(X, sample_domain, *, target=None, distance="mmd"):
    """Rank the source domains by their distance to a target ("what to transfer").

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    sample_domain : array-like of int of shape (n_samples,)
        Positive codes are sources, negative codes targets.
    target : int, default=None
        The target code; None requires exactly one target domain.
    distance : {"mmd", "coral", "proxy_a"} or callable, default="mmd"
        ``callable(X_source, X_target) -> float``; smaller is closer.

    Returns
    -------
    ranking : list of (domain, distance) tuples, closest first.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import rank_source_domains
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.randn(40, 2) + 3, rng.randn(40, 2), rng.randn(40, 2)])
    >>> sd = np.repeat([1, 2, -3], 40)
    >>> [d for d, _ in rank_source_domains(X, sd)]
    [2, 1]
    """
    from ..utils._domain import check_sample_domain

    X = check_array(X, dtype=float)
    sd = check_sample_domain(sample_domain, len(X))
    targets = np.unique(sd[sd < 0])
    if target is None:
        if len(targets) != 1:
            raise ValueError(f"Give target=; the data have target domains {targets.tolist()}.")
        target = targets[0]
    elif target not in targets:
        raise ValueError(f"target={target!r} is not a target domain of sample_domain.")
    fn = _DISTANCES.get(distance) if isinstance(distance, str) else distance
    if fn is None or not callable(fn):
        raise ValueError(
            f"distance must be one of {sorted(_DISTANCES)} or a callable; got {distance!r}."
        )
    Xt = X[sd == target]
    out = [(int(s), float(fn(X[sd == s], Xt))) for s in np.unique(sd[sd > 0])]
    if not out:
        raise ValueError("sample_domain has no source domain.")
    return sorted(out, key=lambda t: t[1])


def check_negative_transfer(adapted, X, y, sample_domain=None, *, baseline=None,
                            scoring=None, cv=None, tol=0.0):
    """Compare an adapted model with no adaptation ("when to transfer").

    Both models are fitted on the same cross-validation training folds and
    scored on the same held-out folds with a label-free (or supervised)
    domain-adaptation scorer. The verdict trusts the adapted model only when
    its mean score beats the baseline's by more than ``tol`` *and* by more
    than one standard error of the paired fold differences; otherwise it
    recommends the baseline, which is the safer choice when adaptation cannot
    be shown to help (negative transfer, Pan & Yang, 2010). The answer is
    only as good as the scorer's assumptions (see each scorer's notes).

    Parameters
    ----------
    adapted : estimator
        The adapted model, e.g. ``make_da_pipeline(CORAL(), LogisticRegression())``.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Labels, -1 / NaN for unlabelled target rows.
    sample_domain : array-like of shape (n_samples,), default=None
        Inferred from the masked labels when None.
    baseline : estimator, default=None
        The non-adapted model. None keeps the steps of ``adapted`` (a
        Pipeline) that are not domain-adaptation steps.
    scoring : callable, default=None
        A scorer ``scoring(est, X, y, sample_domain=...)``; None uses
        :class:`~sktl.metrics.DeepEmbeddedValidation`.
    cv : splitter, default=None
        Defaults to ``SourceTargetShuffleSplit(n_splits=5, random_state=0)``.
    tol : float, default=0.0
        Margin the adapted score must exceed the baseline's by.

    Returns
    -------
    report : dict
        ``adapted_scores`` and ``baseline_scores`` (one per fold),
        ``difference`` (mean adapted minus baseline), ``std_error`` and
        ``recommendation`` ("adapted" or "baseline").

    References
    ----------
    .. [1] S. J. Pan and Q. Yang. "A Survey on Transfer Learning". IEEE TKDE
       22(10), 2010.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import CORAL
    >>> from sktl.datasets import make_domain_shift
    >>> from sktl.metrics import check_negative_transfer
    >>> from sktl.pipeline import make_da_pipeline
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> report = check_negative_transfer(make_da_pipeline(CORAL(), LogisticRegression()), X, y, sd)
    >>> report["recommendation"] in ("adapted", "baseline")
    True
    """
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    from sklearn.utils import _safe_indexing

    from .._base import DAMixin, LabelledOnly
    from ..model_selection import SourceTargetShuffleSplit
    from ..model_selection._masking import _fit_with_domain
    from ..pipeline import make_da_pipeline
    from ..utils._domain import check_y_domain
    from ._scorer import DeepEmbeddedValidation

    y, sd = check_y_domain(y, sample_domain, len(X))
    if baseline is None:
        if not isinstance(adapted, Pipeline):
            raise ValueError("Give baseline= when adapted is not a Pipeline.")
        steps = [clone(s) for _, s in adapted.steps if not isinstance(s, DAMixin)]
        if not steps:
            raise ValueError("adapted has no non-adaptation step to build a baseline from.")
        if isinstance(steps[-1], LabelledOnly):
            steps[-1] = steps[-1].estimator
        baseline = make_da_pipeline(*steps)
    scorer = DeepEmbeddedValidation() if scoring is None else scoring
    cv = SourceTargetShuffleSplit(n_splits=5, random_state=0) if cv is None else cv
    scores = {"adapted": [], "baseline": []}
    for train, test in cv.split(X, y, sample_domain=sd):
        Xtr, Xte = _safe_indexing(X, train), _safe_indexing(X, test)
        for name, model in (("adapted", adapted), ("baseline", baseline)):
            fitted = _fit_with_domain(clone(model), Xtr, y[train], sd[train])
            scores[name].append(float(scorer(fitted, Xte, y[test], sample_domain=sd[test])))
    a, b = np.asarray(scores["adapted"]), np.asarray(scores["baseline"])
    diff = a - b
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    better = diff.mean() > tol and diff.mean() > se
    return {
        "adapted_scores": a,
        "baseline_scores": b,
        "difference": float(diff.mean()),
        "std_error": se,
        "recommendation": "adapted" if better else "baseline",
    }
