"""Diagnostics that say whether domains differ, which source to use and whether to adapt."""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.model_selection import cross_val_score
from sklearn.utils import Bunch, check_array, check_random_state

from ..utils._domain import check_sample_domain
from ..utils._kernel import median_heuristic_gamma


def _pair(X_source, X_target):
    Xs = check_array(X_source, input_name="X_source")
    Xt = check_array(X_target, input_name="X_target")
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(f"X_source has {Xs.shape[1]} features and X_target {Xt.shape[1]}.")
    if len(Xs) < 2 or len(Xt) < 2:
        raise ValueError("Each domain needs at least 2 rows to compare distributions.")
    return Xs, Xt


def _gram(X, kernel, gamma):
    if gamma is None and kernel in ("rbf", "laplacian"):
        gamma = median_heuristic_gamma(X)
    kw = {} if kernel == "linear" else {"gamma": gamma}
    return pairwise_kernels(X, X, metric=kernel, filter_params=True, **kw)


def _mmd2_from_gram(K, n_s, unbiased):
    Kss, Ktt, Kst = K[:n_s, :n_s], K[n_s:, n_s:], K[:n_s, n_s:]
    m, n = Kss.shape[0], Ktt.shape[0]
    if unbiased:
        return ((Kss.sum() - np.trace(Kss)) / (m * (m - 1))
                + (Ktt.sum() - np.trace(Ktt)) / (n * (n - 1)) - 2 * Kst.mean())
    return Kss.mean() + Ktt.mean() - 2 * Kst.mean()


def mmd(X_source, X_target, *, kernel="rbf", gamma=None, unbiased=False):
    """Squared maximum mean discrepancy between two samples.

    The distance between the domains' kernel mean embeddings (Gretton et al.,
    2012): 0 when the distributions agree (for a characteristic kernel such
    as rbf), larger the more they differ.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    kernel : str, default="rbf"
        Any scikit-learn pairwise kernel.
    gamma : float, default=None
        Kernel width; None uses the median heuristic on the pooled rows.
    unbiased : bool, default=False
        The unbiased U-statistic (can be slightly negative) instead of the
        biased V-statistic.

    Returns
    -------
    mmd2 : float

    References
    ----------
    .. [1] A. Gretton, K. Borgwardt, M. Rasch, B. Schölkopf and A. Smola. "A
       Kernel Two-Sample Test". JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import mmd
    >>> rng = np.random.default_rng(0)
    >>> mmd(rng.normal(size=(200, 2)), rng.normal(2, 1, size=(200, 2))) > 0.1
    True
    """
    Xs, Xt = _pair(X_source, X_target)
    K = _gram(np.vstack([Xs, Xt]), kernel, gamma)
    return float(_mmd2_from_gram(K, len(Xs), unbiased))


def mmd_test(X_source, X_target, *, kernel="rbf", gamma=None, n_permutations=200,
             random_state=None):
    """Permutation two-sample test of "the domains have the same distribution".

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    kernel : str, default="rbf"
    gamma : float, default=None
        None uses the median heuristic.
    n_permutations : int, default=200
        Random relabellings of the pooled rows.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    result : Bunch
        ``mmd2`` (unbiased statistic) and ``p_value`` (small: the domains differ).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import mmd_test
    >>> rng = np.random.default_rng(0)
    >>> mmd_test(rng.normal(size=(100, 2)), rng.normal(1, 1, size=(100, 2)),
    ...          random_state=0).p_value < 0.05
    True
    """
    Xs, Xt = _pair(X_source, X_target)
    K = _gram(np.vstack([Xs, Xt]), kernel, gamma)
    n_s, n = len(Xs), len(Xs) + len(Xt)
    stat = _mmd2_from_gram(K, n_s, True)
    rng = check_random_state(random_state)
    null = np.empty(n_permutations)
    for i in range(n_permutations):
        p = rng.permutation(n)
        null[i] = _mmd2_from_gram(K[np.ix_(p, p)], n_s, True)
    p_value = (1 + np.sum(null >= stat)) / (1 + n_permutations)
    return Bunch(mmd2=float(stat), p_value=float(p_value))


def proxy_a_distance(X_source, X_target, *, estimator=None, cv=5, random_state=None):
    """Proxy A-distance: how well a classifier tells the domains apart.

    ``2 (1 - 2 err)`` with ``err`` the cross-validated error of a domain
    classifier (Ben-David et al., 2007): 0 for indistinguishable domains, 2
    for perfectly separable ones.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    estimator : classifier, default=None
        Defaults to ``LogisticRegression()``.
    cv : int, default=5
        Folds (stratified, shuffled with ``random_state``).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    pad : float

    References
    ----------
    .. [1] S. Ben-David, J. Blitzer, K. Crammer and F. Pereira. "Analysis of
       Representations for Domain Adaptation". NIPS 2007.
    """
    from sklearn.model_selection import StratifiedKFold

    Xs, Xt = _pair(X_source, X_target)
    X = np.vstack([Xs, Xt])
    d = np.r_[np.zeros(len(Xs)), np.ones(len(Xt))]
    clf = LogisticRegression() if estimator is None else clone(estimator)
    folds = StratifiedKFold(min(cv, len(Xs), len(Xt)), shuffle=True,
                            random_state=check_random_state(random_state).randint(2**31 - 1))
    err = 1.0 - cross_val_score(clf, X, d, cv=folds).mean()
    return float(2.0 * (1.0 - 2.0 * min(err, 0.5)))


def coral_distance(X_source, X_target):
    """CORAL distance ``||C_s - C_t||_F^2 / (4 d^2)`` between covariances.

    The second-order discrepancy that CORAL removes (Sun & Saenko, 2016).

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
    """
    Xs, Xt = _pair(X_source, X_target)
    d = Xs.shape[1]
    diff = np.atleast_2d(np.cov(Xs, rowvar=False)) - np.atleast_2d(np.cov(Xt, rowvar=False))
    return float((diff**2).sum() / (4 * d * d))


_DISTANCES = {
    "mmd": lambda a, b: mmd(a, b),
    "proxy_a": lambda a, b: proxy_a_distance(a, b, random_state=0),
    "coral": coral_distance,
}


def rank_source_domains(X, sample_domain, *, target=None, metric="mmd"):
    """Rank source domains by their distance to a target: what to transfer from.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    sample_domain : array-like of shape (n_samples,)
        Positive codes for source domains, negative for target domains.
    target : int, default=None
        The target domain code; None takes the only target domain.
    metric : {"mmd", "proxy_a", "coral"} or callable, default="mmd"
        ``metric(X_source, X_target)`` returning a distance.

    Returns
    -------
    ranking : list of (int, float)
        ``(source code, distance)``, closest first.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.metrics import rank_source_domains
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(3, 1, (50, 2)),
    ...                rng.normal(0.2, 1, (50, 2))])
    >>> sd = np.repeat([1, 2, -3], 50)
    >>> [code for code, _ in rank_source_domains(X, sd)]
    [1, 2]
    """
    X = check_array(X)
    sd = check_sample_domain(sample_domain, len(X))
    targets = np.unique(sd[sd < 0])
    if target is None:
        if len(targets) != 1:
            raise ValueError(f"Several target domains {targets.tolist()}: pass target=.")
        target = targets[0]
    if target not in targets:
        raise ValueError(f"target={target} is not a target domain code in sample_domain.")
    fn = metric if callable(metric) else _DISTANCES.get(metric)
    if fn is None:
        raise ValueError(f"metric must be one of {sorted(_DISTANCES)} or a callable.")
    Xt = X[sd == target]
    dist = [(int(c), float(fn(X[sd == c], Xt))) for c in np.unique(sd[sd > 0])]
    return sorted(dist, key=lambda p: p[1])


def negative_transfer_check(adapted, X, y, sample_domain=None, *, baseline=None, cv=None,
                            criterion="circular validation", confidence="auto",
                            fallback="auto", random_state=None):
    """Is adapting with ``adapted`` better than not adapting? A verdict you can act on.

    The adapted model and "no adaptation" (the same model without its
    domain-adaptation steps, see :func:`sktl.model_selection.no_adaptation`,
    or ``baseline``) are cross-validated on the same splits, and their
    difference on ``criterion`` is estimated *paired*, on the same held-out
    rows, with its standard error. With ``z`` the ``confidence`` quantile of
    the normal distribution, the verdict is

    * "adapt" when the gain's lower bound ``gain - z se`` is positive,
    * "do not adapt" when its upper bound ``gain + z se`` is negative
      (negative transfer is likely),
    * "inconclusive" otherwise; keep "no adaptation" until there is more
      evidence (more rows, or a few target labels).

    It is :class:`~sktl.model_selection.AdaptationSearchCV` with one
    candidate, so the two always agree: in classification an ``adapted``
    model that reweights the source rows (e.g. around
    :class:`~sktl.KMM`) also gets "adapt" when it is not better on
    ``criterion`` but its importance-weighted gain passes the search's
    reweighter fallback (see :func:`sktl.model_selection.decide`); ``reason``
    then says so. Its diagnosis guard acts too: a method that
    :func:`~sktl.metrics.diagnose_shift` does not recommend for the shift it
    names gets "inconclusive" however large its gain, with that reason.

    Parameters
    ----------
    adapted : estimator or Pipeline
        E.g. ``make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())``.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Labels, -1 / NaN for unlabelled target rows.
    sample_domain : array-like of shape (n_samples,), default=None
        Inferred from the masked labels when None.
    baseline : estimator, default=None
        The no-adaptation model; derived from ``adapted`` when None.
    cv : int or splitter, default=None
        As in :class:`~sktl.model_selection.AdaptationSearchCV`.
    criterion : str, default="circular validation"
        The label-free criterion the verdict rests on.
    confidence : float or "auto", default="auto"
        One-sided confidence of each bound; "auto" is 0.99 for
        classification and 0.95 for regression, as in
        :class:`~sktl.model_selection.AdaptationSearchCV` (whose
        consensus-outlier guard needs several candidates and cannot act
        here).
    fallback : {"auto", "reweighter"} or None, default="auto"
        The search's reweighter fallback (see above); None judges a
        reweighter on ``criterion`` alone. On the selection benchmark's
        development half the fallback turned two harmful pairs to "adapt"
        (a reweighter on an Amazon-review pair where the search takes
        TCA), on its later task sets only helpful ones.
    random_state : int, RandomState instance or None, default=None
        Shuffling of the default splitter.

    Returns
    -------
    report : Bunch
        ``verdict`` ("adapt", "do not adapt" or "inconclusive"), ``gain``
        (estimated gain of the adapted model on ``criterion``: less loss on
        the held-out rows; accuracy for 0-1 loss), ``gain_se``, ``interval``
        (``gain -/+ z se``), ``reason``, ``criteria`` (a DataFrame with every
        criterion's paired gain, standard error and bounds) and ``search``
        (the fitted search, for its ``decision_report_``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import CORAL, make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> from sktl.metrics import negative_transfer_check
    >>> X, y, sd = make_domain_shift(150, 150, random_state=0, mask_target=True)
    >>> check = negative_transfer_check(make_da_pipeline(CORAL(), LogisticRegression()),
    ...                                 X, y, sd, random_state=0)
    >>> check.verdict in ("adapt", "do not adapt", "inconclusive")
    True
    """
    import pandas as pd
    from scipy.stats import norm

    from ..model_selection import AdaptationSearchCV
    from ..model_selection._candidates import NO_ADAPTATION
    from ..model_selection._decision import resolve_confidence

    search = AdaptationSearchCV(adapted, candidates={"adapted": adapted}, baseline=baseline,
                                cv=cv, criterion=criterion, fallback=fallback, refit=False,
                                random_state=random_state)
    confidence = resolve_confidence(confidence, search._task())
    search.set_params(confidence=confidence)
    search.fit(X, y, sample_domain=sample_domain)
    z = float(norm.ppf(confidence))
    rows = []
    for name, values in search.criteria_.items():
        if "adapted" in values and NO_ADAPTATION in values:
            gain, se = values["adapted"].minus(values[NO_ADAPTATION])
            rows.append({"criterion": name, "gain": gain, "gain s.e.": se,
                         "lower": gain - z * se, "upper": gain + z * se})
    table = pd.DataFrame(rows)
    row = search.decision_report_.set_index("candidate").loc["adapted"]
    if not isinstance(row.get("verdict"), str):
        raise ValueError(f"The adapted model could not be evaluated on {criterion!r}: "
                         f"{row['reason']}")
    gain, se = float(row["gain"]), float(row["gain s.e."])
    verdict = ("adapt" if search.best_candidate_ == "adapted"
               else "do not adapt" if row["verdict"] == "worse" else "inconclusive")
    # "adapt" without "better": the reweighter fallback; "rejected": the search's guard
    reason = {"adapt": search.reason_ if row["verdict"] != "better" else
                       f"the adapted model beats no adaptation on {criterion} "
                       f"(gain {gain:.3g} ± {se:.2g}, lower bound > 0 at {confidence:.0%})",
              "do not adapt": f"the adapted model is worse than no adaptation on {criterion} "
                              f"(gain {gain:.3g} ± {se:.2g}): negative transfer is likely",
              "inconclusive": f"{row['reason']}: keep no adaptation"
                              if row["verdict"] == "rejected" else
                              f"the gain on {criterion} ({gain:.3g} ± {se:.2g}) is within its "
                              "uncertainty: keep no adaptation unless more evidence comes"}
    return Bunch(verdict=verdict, recommendation=verdict, gain=gain, gain_se=se,
                 interval=(gain - z * se, gain + z * se), reason=reason[verdict],
                 criteria=table, search=search)
