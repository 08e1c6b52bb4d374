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
    ratio = np.concatenate([np.asarray(r, float) for r in evidence["ratio"]])
    ok = {c: v["folds"] for c, v in evidence["candidates"].items()
          if v.get("folds") and not any("error" in f for f in v["folds"])}
    out = {}

    def put(name, cand, crit):
        out.setdefault(name, {})[cand] = crit

    if not ok:
        return out
    n_folds = len(next(iter(ok.values())))
    # consensus of every candidate's target predictions, per split
    consensus = []
    for k in range(n_folds):
        preds = np.array([np.asarray(f[k]["pred_tgt"]) for f in ok.values()])
        consensus.append(_mode(preds) if task == "classification" else np.median(preds, 0))
    rng = np.random.default_rng(random_state)
    w = normalise_weights(ratio)
    for c, folds in ok.items():
        src_rows = _concat(folds, "src")
        loss = row_loss(task, y[src_rows], _concat(folds, "pred_src"))
        put("source", c, Criterion(-loss, key="src"))
        put("importance weighted", c, Criterion(-loss, w, key="src"))
        if all("feature_ratio" in f for f in folds):
            fw = normalise_weights(_concat(folds, "feature_ratio"))
            put("DEV (feature space)", c, Criterion(-_dev_units(loss, fw), key=None))
        put("DEV (input space)", c, Criterion(-_dev_units(loss, w), key="src"))
        if all("pred_src_reverse" in f for f in folds):
            rev = row_loss(task, y[src_rows], _concat(folds, "pred_src_reverse"))
            put("circular validation", c, Criterion(-rev, key="src"))
        tgt = [np.asarray(f["pred_tgt"]) for f in folds]
        if task == "classification":
            agree = np.mean([t == consensus[k] for k, t in enumerate(tgt)], axis=0)
            put("agreement", c, Criterion(100.0 * agree, key="tgt"))
        else:
            dev = np.mean([(t - consensus[k]) ** 2 for k, t in enumerate(tgt)], axis=0)
            put("agreement", c, Criterion(-dev, key="tgt"))
        if all("proba_tgt" in f for f in folds):
            probas = [np.asarray(f["proba_tgt"]) for f in folds]
            ent = np.mean([entropy_rows(p) for p in probas], axis=0)
            put("prediction entropy", c, Criterion(-ent, key="tgt"))
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


def decide(criteria, task, *, confidence=0.9, primary="importance weighted"):
    """Choose a candidate, keeping "no adaptation" unless the evidence is clear.

    Parameters
    ----------
    criteria : dict
        Output of :func:`compute_criteria`.
    task : {"classification", "regression"}
    confidence : float, default=0.9
        One-sided confidence of the lower bound on a candidate's gain.
    primary : str, default="importance weighted"
        The decisive criterion.

    Returns
    -------
    decision : dict
        ``chosen`` (a candidate name), ``reason`` (a sentence) and
        ``candidates`` (per candidate: ``gain``, ``gain s.e.``,
        ``gain lower bound``, ``reason``).
    """
    from scipy.stats import norm

    z = float(norm.ppf(confidence))
    values = criteria.get(primary, {})
    base = values.get(NO_ADAPTATION)
    info, eligible = {}, []
    for name, crit in values.items():
        if name == NO_ADAPTATION:
            info[name] = {"gain": 0.0, "gain s.e.": 0.0, "gain lower bound": 0.0,
                          "reason": "the baseline"}
            continue
        gain, se = crit.minus(base)
        lower = gain - z * se
        info[name] = {"gain": gain, "gain s.e.": se, "gain lower bound": lower}
        if lower > 0:
            eligible.append(name)
            info[name]["reason"] = f"better than no adaptation on {primary}"
        else:
            info[name]["reason"] = (f"not better than no adaptation by more than its "
                                    f"uncertainty on {primary}")
    if not eligible:
        return {"chosen": NO_ADAPTATION, "candidates": info,
                "reason": f"no candidate beats no adaptation on {primary} by more than its "
                          f"uncertainty ({confidence:.0%} one-sided)"}
    chosen = max(eligible, key=lambda n: info[n]["gain lower bound"])
    info[chosen]["reason"] = "chosen: " + info[chosen]["reason"]
    return {"chosen": chosen, "candidates": info,
            "reason": f"{chosen} beats no adaptation on {primary}: gain "
                      f"{info[chosen]['gain']:.3g} ± {info[chosen]['gain s.e.']:.2g}"}
