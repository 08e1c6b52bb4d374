"""From evidence to criteria to a decision: the core of :class:`AdaptationSearchCV`.

The *evidence* of a search is a dict::

    {"task": "classification" | "regression",
     "y": labels (target ones masked),
     "ratio": [input-space density ratio of each split's held-out source rows],
     "candidates": {name: {"folds": [split_evidence(...) per split]}}}

:func:`compute_criteria` turns it into every criterion's value for every
candidate, each as *units* (per-row or per-split contributions, greater is
better) so that a candidate can be compared with "no adaptation" on the same
rows (a paired difference, whose standard error is much smaller than that of
either value). :func:`decide` applies the decision rule.
"""

import numpy as np

from ..metrics._criteria import (
    entropy_rows,
    information_maximisation,
    normalise_weights,
    row_loss,
    soft_neighbourhood_density,
    weighted_mean,
)
from ._candidates import NO_ADAPTATION

#: Every criterion :func:`compute_criteria` reports (the last three need probabilities).
CRITERIA = ("circular validation", "labelled target", "source", "importance weighted",
            "DEV (input space)", "DEV (feature space)", "agreement", "prediction entropy",
            "information maximisation", "soft neighbourhood density")

#: Criteria that need class probabilities.
PROBA_CRITERIA = ("prediction entropy", "information maximisation",
                  "soft neighbourhood density")


class Criterion:
    """One criterion's value for one candidate, as comparable units.

    ``units`` are per-row (or per-split) contributions, greater is better;
    ``weights`` (shared by every candidate, or None) make the value their
    self-normalised weighted mean. Two candidates' ``Criterion`` with the same
    ``key`` describe the same rows in the same order, so their difference is
    paired.
    """

    def __init__(self, units, weights=None, key=None):
        self.units = np.asarray(units, float)
        self.weights = None if weights is None else np.asarray(weights, float)
        self.key = key

    @property
    def value(self):
        return weighted_mean(self.units, self.weights)[0]

    @property
    def se(self):
        return weighted_mean(self.units, self.weights)[1]

    def minus(self, other):
        """``(self - other, standard error)``, paired when both cover the same rows."""
        if other is None:
            return np.nan, np.inf
        if self.key is not None and self.key == other.key and len(self.units) == len(
                other.units):
            return weighted_mean(self.units - other.units, self.weights)
        return self.value - other.value, float(np.hypot(self.se, other.se))


def _concat(folds, key):
    return np.concatenate([np.asarray(f[key]) for f in folds])


def _mode(votes):
    """Most common value of each column of ``votes`` (one row per candidate)."""
    out = np.empty(votes.shape[1], dtype=votes.dtype)
    for j, col in enumerate(votes.T):
        vals, counts = np.unique(col, return_counts=True)
        out[j] = vals[np.argmax(counts)]
    return out


def compute_criteria(evidence, max_snd_rows=2000, random_state=0):
    """Every criterion for every candidate that ran.

    Returns
    -------
    criteria : dict
        ``{criterion name: {candidate name: Criterion}}``.
    """
    task, y = evidence["task"], np.asarray(evidence["y"])
    ratios = evidence.get("ratio")
    ratio = (None if ratios is None or any(r is None for r in ratios)
             else np.concatenate([np.asarray(r, float) for r in ratios]))
    ok = {c: v["folds"] for c, v in evidence["candidates"].items()
          if v.get("folds") and not any("error" in f for f in v["folds"])}
    out = {}

    def put(name, cand, crit):
        out.setdefault(name, {})[cand] = crit

    if not ok:
        return out
    first = next(iter(ok.values()))
    n_folds = len(first)
    # consensus of every candidate's target predictions, per split
    consensus = []
    for k in range(n_folds):
        preds = np.array([np.asarray(f[k]["pred_tgt"]) for f in ok.values()])
        consensus.append(_mode(preds) if task == "classification" else np.median(preds, 0))
    # target-row criteria are per row (averaged over splits) when every split holds out the
    # same target rows (SourceKFold), else per split
    same_rows = all(np.array_equal(f["tgt"], first[0]["tgt"]) for f in first)
    tgt_mean = (lambda per_split: np.mean(per_split, axis=0)) if same_rows else (
        lambda per_split: np.array([np.mean(v) for v in per_split]))
    tgt_key = "tgt" if same_rows else "folds"
    rng = np.random.default_rng(random_state)
    w = None if ratio is None or len(ratio) == 0 else normalise_weights(ratio)
    ok_extra = {}
    base = ok.get(NO_ADAPTATION)
    if base and all("fixed_reverse" in f for f in base):
        ok_extra["_base_fixed"] = row_loss(task, y[_concat(base, "src")],
                                           _concat(base, "fixed_reverse"))
    for c, folds in ok.items():
        src_rows = _concat(folds, "src")
        loss = row_loss(task, y[src_rows], _concat(folds, "pred_src"))
        put("source", c, Criterion(-loss, key="src"))
        if w is not None and len(w) == len(loss):
            put("importance weighted", c, Criterion(-loss, w, key="src"))
            put("DEV (input space)", c, Criterion(-_dev_units(loss, w), key="src"))
        if all("feature_ratio" in f for f in folds):
            fw = normalise_weights(_concat(folds, "feature_ratio"))
            put("DEV (feature space)", c, Criterion(-_dev_units(loss, fw), key=None))
        if all("pred_src_reverse" in f for f in folds):
            rev = row_loss(task, y[src_rows], _concat(folds, "pred_src_reverse"))
            put("circular validation", c, Criterion(-rev, key="src"))
        if all("pred_src_reverse" in f and "reverse_on_base" in f for f in folds):
            own = row_loss(task, y[src_rows], _concat(folds, "pred_src_reverse"))
            other = row_loss(task, y[src_rows], _concat(folds, "reverse_on_base"))
            put("paired circular", c, Criterion(other - own, key="src"))
            if all("fixed_reverse" in f for f in folds) and "_base_fixed" in ok_extra:
                fixed = row_loss(task, y[src_rows], _concat(folds, "fixed_reverse"))
                put("symmetric circular", c,
                    Criterion(0.5 * (other - own) + 0.5 * (ok_extra["_base_fixed"] - fixed),
                              key="src"))
        if all("fixed_reverse" in f for f in folds):
            rev = row_loss(task, y[src_rows], _concat(folds, "fixed_reverse"))
            put("fixed reverse", c, Criterion(-rev, key="src"))
        if all("pred_tgt_lab" in f for f in folds):
            lab = _concat(folds, "tgt_lab")
            put("labelled target", c, Criterion(
                -row_loss(task, y[lab], _concat(folds, "pred_tgt_lab")), key="tgt_lab"))
        tgt = [np.asarray(f["pred_tgt"]) for f in folds]
        if task == "classification":
            agree = tgt_mean([t == consensus[k] for k, t in enumerate(tgt)])
            put("agreement", c, Criterion(100.0 * agree, key=tgt_key))
        else:
            dev = tgt_mean([(t - consensus[k]) ** 2 for k, t in enumerate(tgt)])
            put("agreement", c, Criterion(-dev, key=tgt_key))
        if all("proba_tgt" in f for f in folds):
            probas = [np.asarray(f["proba_tgt"]) for f in folds]
            ent = tgt_mean([entropy_rows(p) for p in probas])
            put("prediction entropy", c, Criterion(-ent, key=tgt_key))
            put("information maximisation", c,
                Criterion([information_maximisation(p) for p in probas], key="folds"))
            sub = (rng.choice(len(probas[0]), max_snd_rows, replace=False)
                   if len(probas[0]) > max_snd_rows else slice(None))
            put("soft neighbourhood density", c,
                Criterion([soft_neighbourhood_density(p[sub]) for p in probas], key="folds"))
    return out


def _dev_units(loss, w):
    """Per-row terms of deep embedded validation's control-variate estimate."""
    wl = w * loss
    var = np.var(w)
    eta = -np.cov(wl, w)[0, 1] / var if var > 0 and len(w) > 1 else 0.0
    return wl + eta * (w - 1.0)


#: The decisive criterion of the default rule, chosen on the development half of
#: ``benchmarks/bench_selection.py`` (see the user guide, "Should I adapt?").
DEFAULT_CRITERION = "circular validation"
#: Its one-sided confidence per task (``confidence="auto"``): a candidate must beat
#: "no adaptation" at 99 % in classification and 95 % in regression (see :func:`decide`).
DEFAULT_CONFIDENCE = {"classification": 0.99, "regression": 0.95}
#: Fewest candidates (with "no adaptation") for which the consensus-outlier guard acts: a
#: consensus needs a majority.
MIN_CONSENSUS = 3
#: One-sided confidence of the reweighter fallback (``fallback="reweighter"``): a reweighter
#: is adopted on its importance-weighted gain when this bound passes (the selection
#: benchmark's sixth round).
FALLBACK_CONFIDENCE = 0.95
#: The criterion the reweighter fallback rests on: the risk a reweighter minimises.
FALLBACK_CRITERION = "importance weighted"


def resolve_fallback(fallback, task):
    """The fallback ``fallback`` means for ``task`` ("auto": "reweighter" in classification,
    none in regression)."""
    if fallback == "auto":
        return "reweighter" if task == "classification" else None
    return fallback


def resolve_confidence(confidence, task):
    """The one-sided confidence ``confidence`` means for ``task`` ("auto":
    :data:`DEFAULT_CONFIDENCE`)."""
    return DEFAULT_CONFIDENCE[task] if confidence == "auto" else float(confidence)


def decide(criteria, task, *, criterion=DEFAULT_CRITERION, confidence="auto", rank="gain",
           guard="consensus+diagnosis", fallback="auto", reweighters=(), recommended=None):
    """Choose a candidate, keeping "no adaptation" unless the evidence is clear.

    A candidate is *eligible* when the one-sided lower confidence bound of its
    paired gain over "no adaptation" on ``criterion`` is positive: on the same
    held-out rows, it must do better by more than ``z`` standard errors, with
    ``z`` the ``confidence`` quantile of the normal distribution, and (with
    ``guard="consensus"``, classification, at least three candidates) when
    its target predictions agree with the consensus of every candidate's
    (their per-row mode) at least half as often as the candidates' median
    agreement does: a *consensus outlier* is rejected (verdict "rejected").
    Circular validation checks consistency, not correctness, and a method
    whose reverse fit undoes its own mapping (subspace alignment applies the
    transpose of its alignment) can learn a wrong labelling back better than
    the baseline learns a right one; such a labelling disagrees with most
    candidates. With the *diagnosis guard* (``guard`` holding "diagnosis"),
    a candidate whose method :func:`sktl.metrics.diagnose_shift` does not
    recommend for the shift it names is rejected too (``recommended``, the
    names of the candidates it does recommend; e.g. only reweighters under a
    covariate shift): aligning the features passes the circular bound under
    a pure covariate shift and can still lose (Office-Caltech domains split
    by a selection bias: TCA -9 and CORAL -12 points). With none eligible,
    "no adaptation" is kept. Among several
    eligible candidates, ``rank`` chooses: "gain" (the default) takes the
    largest estimated gain on ``criterion``; "paired" the largest *paired
    circular gain* (criterion ``"paired circular"``: the candidate's own
    reverse learner trained on its pseudo-labels against the same learner
    trained on the baseline's, i.e. how much better its target labelling is
    than the baseline's, judged by one learner). Circular validation's gain
    mixes that labelling quality with how well the candidate's reverse
    learner learns any labelling back, which differs from method to method
    (JDA's pseudo-label iterations and subspace alignment learn the
    baseline's labels back worse than TCA does); the eligibility keeps the
    full gain, as the safety check, and the paired choice uses the paired
    one. When a paired value is missing for an eligible candidate the
    largest gain is taken.

    With none eligible, the *reweighter fallback* (``fallback``, in
    classification by default) looks at the candidates that reweight the
    source rows (``reweighters``): reweighting hardly changes the reverse
    fit of circular validation, so a reweighter's gain is invisible to it,
    while the importance-weighted source risk is the risk a reweighter
    minimises. The reweighter whose importance-weighted gain over no
    adaptation has a positive one-sided lower bound at 95 %
    (``FALLBACK_CONFIDENCE``) is adopted, the largest such gain among
    several (verdict "better (importance weighted)"). Not with the
    "labelled target" criterion: labelled target rows are unbiased evidence,
    which the importance-weighted source risk does not overrule.

    Circular (reverse) validation is what the selection benchmark found on
    its development tasks: the only criterion that recognised large gains of
    feature-based methods on real data while rarely preferring a harmful
    candidate. Importance weighting, deep embedded validation, prediction
    entropy, information maximisation and soft neighbourhood density picked
    harmful candidates far more often. The bound, 99 % in classification and
    95 % in regression, was chosen on the development half; the
    consensus-outlier guard was adopted by the benchmark's *fresh* round,
    on 32 tasks in neither half of the study (NIR-corn oil and starch,
    generated shifts with new seeds): against the bound alone, harm rate
    6 % instead of 9 %, mean regret 11.6 instead of 13.5 points. The
    reweighter fallback was adopted by its *sixth* round, on 17
    classification tasks in no earlier set (real domains split by a
    sample-selection bias, generated shifts): no more harm, mean regret
    5.7 instead of 10.1 points; in regression the same fallback adopted a
    reweighter that tripled the RMSE, so it is off there by default. The
    diagnosis guard (defined in its second round, not adopted then) was
    adopted by its *eighth* round, on 19 classification tasks in no earlier
    set: harm rate 5 % instead of 11 %, mean regret 0.9 instead of 1.6
    points. See ``benchmarks/results/selection.md``.

    Parameters
    ----------
    criteria : dict
        Output of :func:`compute_criteria`.
    task : {"classification", "regression"}
        The task (every criterion used here applies to both; it sets the
        default confidence).
    criterion : str, default="circular validation"
        The decisive criterion.
    confidence : float or "auto", default="auto"
        One-sided confidence of the lower bound on a candidate's gain;
        "auto" is 0.99 for classification and 0.95 for regression
        (``DEFAULT_CONFIDENCE``).
    rank : {"gain", "paired"}, default="gain"
        How to choose among several eligible candidates: the largest gain
        on ``criterion``, or the largest paired circular gain. "paired"
        lowered the mean regret of the selection benchmark's development
        half from 7.1 to 6.5 points without more harm, but on the held-back
        half it harmed one task more (7 % instead of 3 %: it favours
        subspace alignment, whose reverse learner learns its own labels
        back unusually easily), so it is not the default.
    guard : {"consensus+diagnosis", "consensus", "diagnosis"} or None, \
            default="consensus+diagnosis"
        "consensus" rejects an otherwise eligible candidate whose agreement
        with the consensus of the candidates' target predictions (criterion
        ``"agreement"``) is below half the candidates' median agreement
        (classification with at least three candidates, "no adaptation"
        included; it cannot act on regression); "diagnosis" one that is not
        in ``recommended`` (when given); "consensus+diagnosis" both; None
        turns them off.
    fallback : {"auto", "reweighter"} or None, default="auto"
        What to try when no candidate is eligible: "reweighter" adopts a
        candidate of ``reweighters`` on its importance-weighted gain (see
        above); "auto" is "reweighter" in classification and None in
        regression; None keeps "no adaptation".
    reweighters : collection of str, default=()
        Names of the candidates that reweight the source rows (an
        :class:`~sktl.DiscriminativeReweighter`, :class:`~sktl.KMM`, ...
        around the user's model); :class:`AdaptationSearchCV` finds them
        itself.
    recommended : collection of str, default=None
        Names of the candidates whose method the shift diagnosis recommends,
        for the diagnosis guard; None (no diagnosis) lets the guard pass
        every candidate. :class:`AdaptationSearchCV` runs
        :func:`sktl.metrics.diagnose_shift` when a candidate is eligible.

    Returns
    -------
    decision : dict
        ``chosen`` (a candidate name), ``reason`` (a sentence) and
        ``candidates``: per candidate its ``gain``, ``gain s.e.``,
        ``gain lower bound``, ``verdict`` ("better", "worse" or
        "inconclusive" against no adaptation, "rejected" by the guard),
        ``reason`` and, for the eligible ones when the paired choice was
        made, ``paired gain``; for the reweighters when the fallback was
        tried, ``fallback gain``, ``fallback gain s.e.`` and ``fallback
        lower bound`` (on the importance-weighted criterion).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.model_selection import decide
    >>> from sktl.model_selection._decision import Criterion
    >>> rows = np.arange(400) % 10          # 400 held-out rows
    >>> def errors(mask):                   # a Criterion's units: minus the 0-1 loss
    ...     return Criterion(-mask.astype(float), key="src")
    >>> crit = {"circular validation": {
    ...     "no adaptation": errors(rows < 3),           # 30 % errors
    ...     "CORAL": errors(rows < 2),                   # 20 %: better
    ...     "TCA": errors((rows < 2) | (rows == 9))}}    # 30 % too: a tie
    >>> decision = decide(crit, "classification")
    >>> decision["chosen"], decision["candidates"]["TCA"]["verdict"]
    ('CORAL', 'inconclusive')

    A consensus outlier is not adopted, however good its circular gain:

    >>> crit["agreement"] = {"no adaptation": Criterion(np.full(400, 95.0)),
    ...                      "CORAL": Criterion(np.full(400, 30.0)),
    ...                      "TCA": Criterion(np.full(400, 90.0))}
    >>> decision = decide(crit, "classification")
    >>> decision["chosen"], decision["candidates"]["CORAL"]["verdict"]
    ('no adaptation', 'rejected')
    >>> decide(crit, "classification", guard=None)["chosen"]
    'CORAL'
    >>> del crit["agreement"]

    Nor is a method the shift diagnosis does not recommend:

    >>> decision = decide(crit, "classification", recommended=["TCA"])
    >>> decision["chosen"], decision["candidates"]["CORAL"]["verdict"]
    ('no adaptation', 'rejected')

    Two eligible candidates: the larger circular gain (JDA's) is not the
    better labelling once both are learnt back by the same learner:

    >>> crit["circular validation"]["JDA"] = errors(rows < 1)      # 10 %
    >>> crit["paired circular"] = {"CORAL": Criterion(np.full(400, 0.08), key="src"),
    ...                            "JDA": Criterion(np.full(400, 0.05), key="src")}
    >>> decide(crit, "classification", rank="paired")["chosen"]
    'CORAL'
    >>> decide(crit, "classification")["chosen"]
    'JDA'

    With no candidate better on circular validation, a reweighter may still be
    adopted on the importance-weighted source risk (classification):

    >>> w = np.linspace(0.2, 2.0, 400)                  # density ratio of the rows
    >>> crit = {"circular validation": {"no adaptation": errors(rows < 3),
    ...                                 "KMM": errors(rows < 3)},
    ...         "importance weighted": {"no adaptation": Criterion(
    ...                                     -(rows < 3).astype(float), w, key="src"),
    ...                                 "KMM": Criterion(
    ...                                     -(rows < 2).astype(float), w, key="src")}}
    >>> decision = decide(crit, "classification", reweighters=["KMM"])
    >>> decision["chosen"], decision["candidates"]["KMM"]["verdict"]
    ('KMM', 'better (importance weighted)')
    >>> decide(crit, "classification")["chosen"]      # nobody said KMM reweights
    'no adaptation'
    """
    from scipy.stats import norm

    confidence = resolve_confidence(confidence, task)
    z = float(norm.ppf(confidence))
    values = criteria.get(criterion, {})
    base = values.get(NO_ADAPTATION)
    info, eligible = {}, []
    for name, crit in values.items():
        if name == NO_ADAPTATION:
            info[name] = {"gain": 0.0, "gain s.e.": 0.0, "gain lower bound": 0.0,
                          "verdict": "baseline", "reason": "the baseline"}
            continue
        gain, se = crit.minus(base)
        lower, upper = gain - z * se, gain + z * se
        verdict = "better" if lower > 0 else "worse" if upper < 0 else "inconclusive"
        info[name] = {"gain": gain, "gain s.e.": se, "gain lower bound": lower,
                      "verdict": verdict}
        if verdict == "better":
            eligible.append(name)
            info[name]["reason"] = f"better than no adaptation on {criterion}"
        elif verdict == "worse":
            info[name]["reason"] = f"worse than no adaptation on {criterion}"
        else:
            info[name]["reason"] = (f"not better than no adaptation by more than its "
                                    f"uncertainty on {criterion}")
    guards = set(guard.split("+")) if guard else set()
    agree = criteria.get("agreement", {})
    if "consensus" in guards and task == "classification" and len(agree) >= MIN_CONSENSUS:
        median = float(np.median([c.value for c in agree.values()]))
        for name in [n for n in eligible if n in agree]:
            if median > 0 and agree[name].value < 0.5 * median:
                eligible.remove(name)
                info[name]["verdict"] = "rejected"
                info[name]["reason"] = (
                    f"better than no adaptation on {criterion}, but a consensus outlier: its "
                    f"target predictions agree with the candidates' consensus on "
                    f"{agree[name].value:.0f} % of rows, under half their median "
                    f"({median:.0f} %)")
    if "diagnosis" in guards and recommended is not None:
        recommended = set(recommended)
        for name in [n for n in eligible if n not in recommended]:
            eligible.remove(name)
            info[name]["verdict"] = "rejected"
            info[name]["reason"] = (
                f"better than no adaptation on {criterion}, but the shift diagnosis does not "
                f"recommend its method")
    if base is None:
        return {"chosen": NO_ADAPTATION, "candidates": info,
                "reason": f"{criterion} could not be computed for no adaptation, so nothing "
                          "can be shown to beat it"}
    if (not eligible and criterion != "labelled target"
            and resolve_fallback(fallback, task) == "reweighter"):
        chosen = _reweighter_fallback(criteria, info, reweighters)
        if chosen is not None:
            i = info[chosen]
            i["reason"] = (f"chosen: not better than no adaptation on {criterion}, but it "
                           f"reweights the source rows and beats no adaptation on their "
                           f"{FALLBACK_CRITERION} risk, the risk it minimises")
            reason = (f"no candidate beats no adaptation on {criterion} by more than its "
                      f"uncertainty ({confidence:.0%} one-sided); {chosen}, a reweighter, "
                      f"beats it on the {FALLBACK_CRITERION} source risk: gain "
                      f"{i['fallback gain']:.3g} ± {i['fallback gain s.e.']:.2g} (lower bound "
                      f"{i['fallback lower bound']:.3g} at {FALLBACK_CONFIDENCE:.0%})")
            return {"chosen": chosen, "candidates": info, "reason": reason}
    if not eligible:
        rejected = [n for n, i in info.items() if i["verdict"] == "rejected"]
        return {"chosen": NO_ADAPTATION, "candidates": info,
                "reason": f"no candidate beats no adaptation on {criterion} by more than its "
                          f"uncertainty ({confidence:.0%} one-sided)" + (
                              f" except candidates the guard rejects ({', '.join(rejected)})"
                              if rejected else "")}
    paired = criteria.get("paired circular", {})
    by_paired = (rank == "paired" and len(eligible) > 1
                 and all(n in paired for n in eligible))
    if by_paired:
        for n in eligible:
            info[n]["paired gain"] = paired[n].value
        chosen = max(eligible, key=lambda n: (paired[n].value, info[n]["gain"]))
    else:
        chosen = max(eligible, key=lambda n: info[n]["gain"])
    info[chosen]["reason"] = "chosen: " + info[chosen]["reason"]
    reason = (f"{chosen} beats no adaptation on {criterion}: gain "
              f"{info[chosen]['gain']:.3g} ± {info[chosen]['gain s.e.']:.2g} "
              f"(lower bound {info[chosen]['gain lower bound']:.3g} at {confidence:.0%})")
    if by_paired:
        reason += (f"; of the {len(eligible)} candidates that do, its target labelling is the "
                   f"best when learnt back by its own reverse learner (paired circular gain "
                   f"{info[chosen]['paired gain']:.3g})")
    return {"chosen": chosen, "candidates": info, "reason": reason}


def _reweighter_fallback(criteria, info, reweighters, confidence=FALLBACK_CONFIDENCE):
    """The reweighter adopted on its importance-weighted gain (see :func:`decide`; the
    one-sided bound at ``confidence``), or None; records each reweighter's fallback gain in
    ``info``."""
    from scipy.stats import norm

    values = criteria.get(FALLBACK_CRITERION, {})
    base = values.get(NO_ADAPTATION)
    z = float(norm.ppf(confidence))
    passed = {}
    for name in reweighters:
        if base is None or name not in values or name not in info:
            continue
        gain, se = values[name].minus(base)
        lower = gain - z * se
        info[name].update({"fallback gain": gain, "fallback gain s.e.": se,
                           "fallback lower bound": lower})
        if lower > 0:
            passed[name] = gain
            info[name]["verdict"] = "better (importance weighted)"
    return max(passed, key=passed.get) if passed else None
