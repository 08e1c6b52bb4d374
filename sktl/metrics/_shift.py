"""Which shift do the domains show? A diagnosis that names it and the methods that fit.

A pure label shift also moves ``p(x)`` (the classes are mixed in other
proportions), so a domain classifier alone cannot tell a label shift from a
covariate shift. :func:`diagnose_shift` therefore asks three questions in turn:

1. Do the domains differ at all? A classifier two-sample test (out-of-fold
   AUC of a domain classifier, permutation p-value) and a kernel MMD test on
   ``p(x)``, and a test of equal class priors on the label-shift estimate.
2. Does the class-prior change explain the difference? The source is
   subsampled class by class to the estimated target priors and the two
   tests are repeated: under a pure label shift the matched source and the
   target have the same distribution.
3. If not, can a reweighting of the source reach the target at all? Under
   covariate shift (``p(y | x)`` kept) the target lies where the source has
   mass and instance reweighting applies; when many target rows lie outside
   the source's support, the class-conditionals have moved (conditional
   shift) and the features must be aligned instead. With labelled target
   rows, whether ``p(y | x)`` holds is checked on them directly.
"""

from numbers import Integral, Real

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..utils._domain import check_X_y_domain, unlabelled_mask
from ._diagnostics import mmd_test

SHIFT_FAMILIES = {
    "no shift": Bunch(
        families=["no adaptation"],
        estimators=["LabelledOnly"],
    ),
    "label shift": Bunch(
        families=["label-shift correction"],
        estimators=["LabelShiftClassifier"],
    ),
    "covariate shift": Bunch(
        families=["instance reweighting"],
        estimators=["DiscriminativeReweighter", "KMM", "KLIEP", "ULSIF"],
    ),
    "conditional shift": Bunch(
        families=["feature alignment", "optimal transport", "deep feature adaptation"],
        estimators=["CORAL", "SubspaceAlignment", "TCA", "JDA", "ClassRegularizedOTMapping",
                    "JDOTClassifier", "deep.DANNClassifier", "deep.DeepCORALClassifier",
                    "deep.DANClassifier", "deep.JANClassifier"],
    ),
}
"""What :func:`diagnose_shift` recommends for each kind of shift.

``families`` names the method families of the user guide, ``estimators`` the
sktl estimators of those families (names relative to :mod:`sktl`, so
``deep.DANNClassifier`` is :class:`sktl.deep.DANNClassifier`), the most
direct first. With a few labelled target rows, ``FEW_LABEL_ESTIMATORS`` are
appended for a covariate or conditional shift.
"""

FEW_LABEL_ESTIMATORS = ["FEDA", "TrAdaBoostClassifier", "deep.FineTuningClassifier"]
"""Estimators that use a few target labels, recommended when some are present."""

_COLUMNS = ["check", "statistic", "value", "p_value", "finding"]


def _auc_from_ranks(ranks, positive):
    n1 = positive.sum()
    n0 = len(positive) - n1
    return (ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n0 * n1)


def _domain_auc_test(X_source, X_target, classifier, cv, n_permutations, rng):
    """Classifier two-sample test (Lopez-Paz & Oquab, 2017).

    Out-of-fold scores of a domain classifier; the AUC of those scores is
    compared with its null distribution from permuting the domain labels
    *within each fold*: a fold's model never saw that fold, so under "same
    distribution" its held-out labels are exchangeable and the test is exact.
    """
    X = np.vstack([X_source, X_target])
    d = np.r_[np.zeros(len(X_source), bool), np.ones(len(X_target), bool)]
    n_splits = int(min(cv, len(X_source), len(X_target)))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=rng.randint(2**31 - 1))
    scores = np.empty(len(X))
    fold_of = np.empty(len(X), dtype=int)
    for k, (fit, test) in enumerate(folds.split(X, d)):
        clf = clone(classifier).fit(X[fit], d[fit])
        col = int(np.flatnonzero(clf.classes_ == 1)[0])
        scores[test] = clf.predict_proba(X[test])[:, col]
        fold_of[test] = k
    ranks = stats.rankdata(scores)
    auc = _auc_from_ranks(ranks, d)
    n1 = d.sum()
    null_rank_sums = np.zeros(n_permutations)
    for k in range(n_splits):
        idx = np.flatnonzero(fold_of == k)
        perms = rng.random_sample((n_permutations, len(idx))).argsort(axis=1)
        null_rank_sums += (ranks[idx][perms] * d[idx][None, :]).sum(axis=1)
    null = (null_rank_sums - n1 * (n1 + 1) / 2) / (n1 * (len(d) - n1))
    p_value = (1 + np.sum(null >= auc - 1e-12)) / (1 + n_permutations)
    return float(auc), float(p_value)


def _subsample(X, size, rng):
    return X if len(X) <= size else X[rng.choice(len(X), size, replace=False)]


def _two_sample(X_source, X_target, classifier, cv, n_permutations, max_mmd_rows, rng):
    """Domain-classifier AUC and MMD tests; their Bonferroni-combined p-value."""
    auc, p_auc = _domain_auc_test(X_source, X_target, classifier, cv, n_permutations, rng)
    mmd = mmd_test(_subsample(X_source, max_mmd_rows, rng),
                   _subsample(X_target, max_mmd_rows, rng),
                   n_permutations=n_permutations, random_state=rng)
    return Bunch(auc=auc, p_auc=p_auc, mmd2=mmd.mmd2, p_mmd=mmd.p_value,
                 p_value=min(1.0, 2 * min(p_auc, mmd.p_value)))


def _prior_matched(y_enc, priors, rng):
    """Source row indices whose class proportions are ``priors`` (no repeats).

    The largest subsample with ``round(priors[c] * N)`` rows of class ``c``
    that the source holds.
    """
    counts = np.bincount(y_enc, minlength=len(priors))
    pos = priors > 0
    n_total = np.min(counts[pos] / priors[pos])
    take = np.minimum(np.floor(priors * n_total + 0.5).astype(int), counts)
    return np.concatenate([rng.choice(np.flatnonzero(y_enc == c), take[c], replace=False)
                           for c in range(len(priors)) if take[c]])


def _outside_support(X_source, X_target, level, tolerance, n_neighbors, rng):
    """Share of target rows beyond the source's ``level`` novelty quantile.

    The novelty score of a row is its mean distance to the ``n_neighbors``
    nearest rows of one half of the source; the other half calibrates it
    (conformal novelty detection), so a source-like row lands beyond the
    quantile with probability about ``1 - level`` (exactly ``1 - r / (n + 1)``
    for the ``r``-th smallest of ``n`` calibration scores). Reweighting the
    source can only reach where the source has mass: under a covariate shift
    with importance weights up to ``tolerance``, at most ``tolerance`` times
    that share of the target lies there. The binomial p-value tests that bound.
    """
    perm = rng.permutation(len(X_source))
    half = len(perm) // 2
    reference, calibration = X_source[perm[:half]], X_source[perm[half:]]
    nn = NearestNeighbors(n_neighbors=min(n_neighbors, len(reference))).fit(reference)
    score_cal = nn.kneighbors(calibration)[0].mean(axis=1)
    score_tgt = nn.kneighbors(X_target)[0].mean(axis=1)
    # conformal quantile: the ceil(level * (n + 1))-th smallest calibration score
    n_cal = len(score_cal)
    rank = min(int(np.ceil(level * (n_cal + 1))), n_cal)
    threshold = np.sort(score_cal)[rank - 1]
    n_out = int(np.sum(score_tgt > threshold))
    # a source-like row exceeds the rank-th smallest of n_cal scores w.p. 1 - rank/(n_cal+1)
    bound = min(1.0, tolerance * (1 - rank / (n_cal + 1)))
    p_value = stats.binomtest(n_out, len(score_tgt), bound, alternative="greater").pvalue
    return n_out / len(score_tgt), float(p_value)


def _calibration_z_test(proba, classes, y):
    """Is a model as accurate on labelled rows as its probabilities say?

    For calibrated probabilities that hold on these rows, the expected
    number of correct predictions is the sum of the top probabilities; the
    one-sided z-test rejects when the model is right markedly less often.
    Returns the accuracy, the expected accuracy and the p-value.
    """
    top = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y
    z = (correct.sum() - top.sum()) / np.sqrt(max(np.sum(top * (1 - top)), 1e-12))
    return float(correct.mean()), float(top.mean()), float(stats.norm.cdf(z))


def _target_label_check(ls, X, y):
    """``p(y | x)`` on labelled target rows, under covariate and under label shift.

    Under a covariate shift the source's calibrated posterior still holds on
    the target; under a label shift its prior-corrected form does. Returns
    both tests as ``(accuracy, expected, p_value)``.
    """
    from .._label_shift import _adjust_proba, _proba_columns

    raw = _proba_columns(ls.estimator_, ls._check_X(X), ls.classes_)
    as_source = _adjust_proba(raw, ls._model_priors, ls._model_priors, ls.calibration_)
    as_label = _adjust_proba(raw, ls.target_priors_, ls._model_priors, ls.calibration_)
    return (_calibration_z_test(as_source, ls.classes_, y),
            _calibration_z_test(as_label, ls.classes_, y))


def _correction_disagreement(ls, estimator, Xs, ys, Xt):
    """How many target predictions change between the label- and covariate-shift corrections.

    The covariate-shift side refits ``estimator`` with the density-ratio
    weights of a logistic domain classifier (as
    :class:`~sktl.DiscriminativeReweighter` does).
    """
    from .._instance import domain_classifier_weights
    from .._label_shift import _fit_weighted

    weights = domain_classifier_weights(Xs, Xt)
    cov = _fit_weighted(clone(estimator), Xs, ys, weights)
    share = float(np.mean(ls.predict(Xt) != cov.predict(Xt)))
    return ["label- vs covariate-shift correction", "share of predictions differing",
            share, float("nan"),
            "the choice of correction matters" if share > 0.05 else "both agree"]


class ShiftDiagnosis(Bunch):
    """The result of :func:`diagnose_shift`: a Bunch that prints as a short report."""

    def __repr__(self):
        lines = [f"Shift diagnosis: {self.verdict}",
                 f"  {'check':<44} {'statistic':<30} {'value':>8} {'p-value':>8}  finding"]
        for row in self.rows:
            p = "" if np.isnan(row["p_value"]) else f"{row['p_value']:.2g}"
            lines.append(f"  {row['check']:<44} {row['statistic']:<30} {row['value']:>8.3g} "
                         f"{p:>8}  {row['finding']}")
        lines.append("  class priors, source -> target [interval]: " + ", ".join(
            f"{c}: {s:.2f} -> {t:.2f}" + ("" if np.isnan(lo) else f" [{lo:.2f}, {hi:.2f}]")
            for c, s, t, lo, hi in zip(self.classes, self.source_priors, self.target_priors,
                                       self.target_priors_ci[:, 0],
                                       self.target_priors_ci[:, 1])))
        lines.append(f"  families that fit: {', '.join(self.families)}")
        lines.append(f"  recommended: {', '.join(self.recommended)}")
        return "\n".join(lines)

    __str__ = __repr__


def _frame(rows, columns):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return [dict(zip(columns, r)) if not isinstance(r, dict) else r for r in rows]
    return pd.DataFrame(rows, columns=columns)


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "sample_domain": ["array-like", None],
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "domain_classifier": [HasMethods(["fit", "predict_proba"]), None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "support_level": [Interval(Real, 0, 1, closed="neither")],
        "support_tolerance": [Interval(Real, 1, None, closed="left")],
        "min_target_labels": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def diagnose_shift(X, y, sample_domain=None, *, estimator=None, domain_classifier=None,
                   alpha=0.05, n_permutations=200, support_level=0.99,
                   support_tolerance=5.0, min_target_labels=20, random_state=None):
    """Name the shift between source and target, and the sktl methods that fit it.

    Three questions, each a test with a controlled false-alarm rate:

    1. **Do the domains differ?** ``p(x)`` is compared by a domain classifier
       (out-of-fold AUC, exact within-fold permutation p-value; Lopez-Paz &
       Oquab, 2017) and a kernel MMD permutation test (Gretton et al., 2012),
       combined by Bonferroni; the class priors by a Wald test on the
       label-shift estimate of the target priors (EM with bias-corrected
       calibration, bootstrap covariance; see
       :class:`~sktl.LabelShiftClassifier`). No shift is declared unless one
       of the two rejects at ``alpha / 2``, so on identically distributed
       domains a shift is reported with probability at most ``alpha``.
    2. **Does the class-prior change explain it?** A pure label shift also
       moves ``p(x)``. The source is subsampled class by class to the
       estimated target priors and both ``p(x)`` tests are repeated: if they
       no longer reject at ``alpha`` while the priors moved, the verdict is
       ``"label shift"``.
    3. **Otherwise, can reweighting the source reach the target?** With at
       least ``min_target_labels`` labelled target rows, whether ``p(y | x)``
       carries over is tested on them (the source model, corrected for the
       prior change, must be as accurate as it expects): rejection means
       ``"conditional shift"``, otherwise ``"covariate shift"``. Without
       them the two cannot be told apart from unlabelled rows when the
       supports overlap, so the diagnosis asks what decides between the
       method families: whether the target lies where the source has mass.
       A conformal novelty score (distance to the nearest source rows) puts
       a share ``1 - support_level`` of source-like rows beyond its
       threshold; reweighting with importance weights up to
       ``support_tolerance`` can put at most ``support_tolerance`` times that
       share of the target there. Significantly more means the target lies
       outside the source's support: ``"conditional shift"`` (the class
       conditionals moved; align the features). Otherwise ``"covariate
       shift"``. When both the priors and the class conditionals appear to
       have moved with target labels to confirm it, the verdict is
       ``"label shift + conditional shift"``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Source and target rows.
    y : array-like of shape (n_samples,)
        Class labels; -1 for unlabelled rows. Labelled target rows, if any,
        are used for the check of ``p(y | x)``.
    sample_domain : array-like of shape (n_samples,), default=None
        Domain codes (positive = source, negative = target); inferred from
        the masked labels when None. Several source or target domains are
        pooled.
    estimator : classifier with ``predict_proba``, default=None
        The model behind the label-shift estimate and the target-label check;
        defaults to a standardised ``LogisticRegression``.
    domain_classifier : classifier with ``predict_proba``, default=None
        Tells source from target rows; defaults to a
        ``RandomForestClassifier`` (50 trees, leaves of 5 rows), which sees
        changes of scale and shape as well as of location.
    alpha : float, default=0.05
        Significance level of the whole diagnosis.
    n_permutations : int, default=200
        Permutations of each two-sample test. The smallest p-value is
        ``1 / (n_permutations + 1)``, so use at least ``4 / alpha`` for the
        ``p(x)`` tests to be able to reject.
    support_level : float, default=0.99
        Coverage of the source's novelty region (with fewer than 99
        calibration rows, the largest calibration score).
    support_tolerance : float, default=5.0
        Largest importance weight that counts as "reweighting reaches the
        target" in the support test.
    min_target_labels : int, default=20
        Labelled target rows needed to test ``p(y | x)`` on them.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    diagnosis : ShiftDiagnosis
        A Bunch that prints as a readable report, with

        * ``verdict`` — ``"no shift"``, ``"label shift"``, ``"covariate
          shift"``, ``"conditional shift"`` or ``"label shift + conditional
          shift"``;
        * ``families`` — the method families that fit (user-guide names);
        * ``recommended`` — machine-readable list of sktl estimator names
          that fit, most direct first, relative to :mod:`sktl` (e.g.
          ``"LabelShiftClassifier"``, ``"deep.DANNClassifier"``; see
          :data:`SHIFT_FAMILIES`); ``getattr`` on :mod:`sktl` (or
          :mod:`sktl.deep`) gives the class;
        * ``report`` — a pandas DataFrame (a list of dicts without pandas)
          with one row per check: ``check``, ``statistic``, ``value``,
          ``p_value``, ``finding``; ``rows`` holds the same as dicts;
        * ``priors`` — a DataFrame of the source and estimated target priors
          with the target's bootstrap interval, per class;
        * ``p_values`` — dict with ``"domains"`` (``p(x)`` equal), ``"priors"``
          (priors equal), ``"after_prior_matching"``, ``"support"`` and
          ``"target_labels"`` (NaN when not run);
        * ``classes``, ``source_priors``, ``target_priors``,
          ``target_priors_ci``, ``alpha``, and ``label_shift_estimator``
          (the fitted :class:`~sktl.LabelShiftClassifier`).

    References
    ----------
    .. [1] D. Lopez-Paz and M. Oquab. "Revisiting Classifier Two-Sample
       Tests". ICLR 2017.
    .. [2] A. Gretton, K. Borgwardt, M. Rasch, B. Schölkopf and A. Smola. "A
       Kernel Two-Sample Test". JMLR 13, 2012.
    .. [3] Z. Lipton, Y.-X. Wang and A. Smola. "Detecting and Correcting for
       Label Shift with Black Box Predictors". ICML 2018.
    .. [4] K. Zhang, B. Schölkopf, K. Muandet and Z. Wang. "Domain Adaptation
       under Target and Conditional Shift". ICML 2013.

    Examples
    --------
    >>> from sktl.datasets import make_domain_shift
    >>> from sktl.metrics import diagnose_shift
    >>> X, y, sd = make_domain_shift(300, 300, shift="label", mask_target=True,
    ...                              random_state=0)
    >>> report = diagnose_shift(X, y, sd, random_state=0)
    >>> report.verdict, report.recommended
    ('label shift', ['LabelShiftClassifier'])
    """
    from .._label_shift import LabelShiftClassifier

    X, y, sd = check_X_y_domain(X, y, sample_domain, task="classification",
                                dtype=[np.float64, np.float32])
    rng = check_random_state(random_state)
    labelled = ~unlabelled_mask(y, "classification")
    src, tgt = (sd > 0) & labelled, sd < 0
    if not tgt.any():
        raise ValueError("diagnose_shift needs target rows (negative sample_domain codes).")
    if src.any() and type_of_target(y[src]) == "continuous":
        raise ValueError(
            "diagnose_shift needs class labels (label shift is a change of class "
            "priors); for a continuous target compare p(x) with sktl.metrics.mmd_test."
        )
    check_classification_targets(y[src])
    if estimator is None:
        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if domain_classifier is None:
        domain_classifier = RandomForestClassifier(n_estimators=50, min_samples_leaf=5,
                                                   random_state=0)
    n_t = int(tgt.sum())
    if n_t < 4 or src.sum() < 4:
        raise ValueError("diagnose_shift needs at least 4 labelled source and 4 target rows.")

    ls = LabelShiftClassifier(estimator, method="em", random_state=rng)
    ls.fit(X, y, sample_domain=np.where(tgt, -2, 1))
    classes, y_enc = ls.classes_, np.searchsorted(ls.classes_, y[src])

    # standardise once (source statistics) for the kernel and neighbour tests
    mean, scale = X[src].mean(axis=0), X[src].std(axis=0)
    Z = (X - mean) / np.where(scale > 0, scale, 1.0)
    Zs, Zt = Z[src], Z[tgt]
    cv = 5
    raw = _two_sample(Zs, Zt, domain_classifier, cv, n_permutations, 1000, rng)
    matched_idx = _prior_matched(y_enc, ls.target_priors_, rng)
    matched = _two_sample(Zs[matched_idx], Zt, domain_classifier, cv, n_permutations, 1000, rng)
    p_prior = ls.prior_shift_p_value_
    out_share, p_support = _outside_support(Zs, Zt, support_level, support_tolerance, 5, rng)

    lab_tgt = tgt & labelled
    p_cov = p_lab = float("nan")
    label_rows = []
    if lab_tgt.sum() >= min_target_labels:
        checks = _target_label_check(ls, X[lab_tgt], y[lab_tgt])
        (acc, exp_cov, p_cov), (_, exp_lab, p_lab) = checks
        for name, expected, p in (("source p(y|x)", exp_cov, p_cov),
                                  ("prior-corrected p(y|x)", exp_lab, p_lab)):
            label_rows.append([f"target labels vs {name}", "accuracy - expected",
                               acc - expected, p,
                               f"accuracy {acc:.2f} vs {expected:.2f} expected: "
                               + ("p(y|x) differs" if p < alpha else "consistent")])

    priors_moved = p_prior < alpha / 2
    shifted = raw.p_value < alpha / 2 or priors_moved
    explained = matched.p_value >= alpha
    if not shifted:
        verdict = "no shift"
    elif priors_moved and explained:
        verdict = "label shift"
    elif label_rows:
        if p_cov >= alpha:
            verdict = "covariate shift"
        else:
            verdict = ("label shift + conditional shift" if priors_moved and p_lab >= alpha
                       else "conditional shift")
    else:
        verdict = "conditional shift" if p_support < alpha else "covariate shift"

    def finding(p, yes, no, level=alpha):
        return yes if p < level else no

    rows = [
        ["p(x): domain classifier", "AUC", raw.auc, raw.p_auc,
         finding(raw.p_auc, "p(x) differs", "no difference found", alpha / 4)],
        ["p(x): kernel MMD", "MMD^2", raw.mmd2, raw.p_mmd,
         finding(raw.p_mmd, "p(x) differs", "no difference found", alpha / 4)],
        ["class priors", "max |target - source|",
         float(np.max(np.abs(ls.target_priors_ - ls.source_priors_))), p_prior,
         finding(p_prior, "the class priors moved", "no prior change found", alpha / 2)],
        ["p(x) after prior matching: domain classifier", "AUC",
         matched.auc, matched.p_auc,
         finding(matched.p_auc, "still differs", "no difference left", alpha / 2)],
        ["p(x) after prior matching: kernel MMD", "MMD^2",
         matched.mmd2, matched.p_mmd,
         finding(matched.p_mmd, "still differs", "no difference left", alpha / 2)],
        ["target outside the source support", "share of target rows", out_share,
         p_support, finding(p_support, "reweighting cannot reach the target",
                            "the source covers the target")],
    ]
    rows.append(_correction_disagreement(ls, estimator, X[src], y[src], X[tgt]))
    rows = [dict(zip(_COLUMNS, r)) for r in rows + label_rows]

    kinds = [k.strip() for k in verdict.split("+")]
    families, recommended = [], []
    for k in kinds:
        families += SHIFT_FAMILIES[k].families
        recommended += SHIFT_FAMILIES[k].estimators
    if lab_tgt.any() and verdict not in ("no shift", "label shift"):
        recommended += FEW_LABEL_ESTIMATORS
    ci = ls.target_priors_ci_ if ls.target_priors_ci_ is not None else \
        np.full((len(classes), 2), np.nan)
    priors = _frame(
        [[c, s, t, lo, hi] for c, s, t, (lo, hi) in
         zip(classes, ls.source_priors_, ls.target_priors_, ci)],
        ["class", "source", "target", "target_low", "target_high"],
    )
    return ShiftDiagnosis(
        verdict=verdict,
        families=families,
        recommended=list(dict.fromkeys(recommended)),
        report=_frame(rows, _COLUMNS),
        rows=rows,
        priors=priors,
        p_values={"domains": raw.p_value, "priors": p_prior,
                  "after_prior_matching": matched.p_value, "support": p_support,
                  "target_labels_covariate": p_cov, "target_labels_label": p_lab},
        classes=classes,
        source_priors=ls.source_priors_,
        target_priors=ls.target_priors_,
        target_priors_ci=ci,
        alpha=alpha,
        label_shift_estimator=ls,
    )
