"""Criteria and decisions of the selection study, computed from the cached evidence.

Imported by ``bench_selection.py report``; kept apart so that decision rules
can be studied on the development half without refitting anything.
"""

import numpy as np

from sktl.metrics._criteria import (
    dev_risk,
    entropy_rows,
    information_maximisation,
    normalise_weights,
    row_loss,
    soft_neighbourhood_density,
    weighted_mean,
)
from sktl.model_selection._candidates import NO_ADAPTATION

MARGIN = {"classification": 1.0, "regression": 2.0}


def task_scores(store):
    """Truth on the judging scale: accuracy points, or -100 RMSE / RMSE(no adaptation)."""
    raw = {c: v["truth"] for c, v in store["candidates"].items()}
    if store["task"] == "classification":
        return raw
    ref = -raw[NO_ADAPTATION]
    return {c: (100.0 * v / ref if np.isfinite(v) else np.nan) for c, v in raw.items()}


def _rows(store, cand):
    """Held-out source rows of every fold, concatenated, and per-fold target outputs."""
    folds = store["candidates"][cand]["folds"]
    if any("error" in f for f in folds):
        return None
    y = store["y"]
    out = {"y": np.concatenate([y[f["src"]] for f in folds]),
           "pred": np.concatenate([f["pred_src"] for f in folds]),
           "ratio": np.concatenate(store["ratio"]),
           "pred_tgt": [f["pred_tgt"] for f in folds]}
    if "proba_src" in folds[0]:
        out["proba"] = np.concatenate([f["proba_src"] for f in folds])
        out["proba_tgt"] = [f["proba_tgt"] for f in folds]
    if all("feature_ratio" in f for f in folds):
        out["fratio"] = np.concatenate([f["feature_ratio"] for f in folds])
    if all("pred_src_reverse" in f for f in folds):
        out["reverse"] = np.concatenate([f["pred_src_reverse"] for f in folds])
    return out


def criteria(store):
    """``{criterion: {candidate: (score, se)}}``; greater scores are better."""
    task = store["task"]
    out = {}
    rows = {c: _rows(store, c) for c in store["candidates"]}
    rows = {c: r for c, r in rows.items() if r is not None}

    def put(name, cand, value, se=np.nan):
        out.setdefault(name, {})[cand] = (float(value), float(se))

    # consensus of the target predictions of every candidate (for agreement)
    if task == "classification":
        votes = {}
        for c, r in rows.items():
            for k, p in enumerate(r["pred_tgt"]):
                votes.setdefault(k, []).append(p)
        consensus = {k: _mode(np.array(v)) for k, v in votes.items()}
    else:
        consensus = {k: np.median(np.array([r["pred_tgt"][k] for r in rows.values()]), axis=0)
                     for k in range(len(next(iter(rows.values()))["pred_tgt"]))}
    for c, r in rows.items():
        loss = row_loss(task, r["y"], r["pred"])
        put("source", c, *_neg(weighted_mean(loss)))
        w = normalise_weights(r["ratio"])
        put("importance weighted", c, *_neg(weighted_mean(loss, w)))
        put("importance weighted (clip 10)", c,
            *_neg(weighted_mean(loss, normalise_weights(r["ratio"], 10.0))))
        put("DEV (input space)", c, *_neg(dev_risk(loss, w)))
        if "fratio" in r:
            put("DEV (feature space)", c, *_neg(dev_risk(loss, normalise_weights(r["fratio"]))))
        if "reverse" in r:
            put("circular validation", c,
                *_neg(weighted_mean(row_loss(task, r["y"], r["reverse"]))))
        if task == "classification":
            agree = np.mean([np.mean(p == consensus[k]) for k, p in enumerate(r["pred_tgt"])])
            put("agreement with consensus", c, 100 * agree)
        else:
            dev = np.mean([np.mean((p - consensus[k]) ** 2) for k, p in enumerate(r["pred_tgt"])])
            put("agreement with consensus", c, -dev)
        if "proba_tgt" in r:
            put("prediction entropy", c, -np.mean([entropy_rows(p).mean()
                                                   for p in r["proba_tgt"]]))
            put("information maximisation", c,
                np.mean([information_maximisation(p) for p in r["proba_tgt"]]))
            put("soft neighbourhood density", c,
                np.mean([soft_neighbourhood_density(p) for p in r["proba_tgt"]]))
    return out


def _neg(pair):
    return -pair[0], pair[1]


def _mode(votes):
    """Most common prediction of each column (row = candidate)."""
    out = []
    for col in votes.T:
        vals, counts = np.unique(col, return_counts=True)
        out.append(vals[np.argmax(counts)])
    return np.array(out)


def judge(store, pick):
    """Gain over no adaptation, best gain and regret of ``pick`` on the judging scale."""
    scores = task_scores(store)
    na = scores[NO_ADAPTATION]
    best = np.nanmax(list(scores.values()))
    s = scores.get(pick, np.nan)
    return {"gain": s - na, "best_gain": best - na, "regret": best - s,
            "margin": MARGIN[store["task"]]}


def summarise(judged):
    """Harm rate, mean regret and captured gain over a list of :func:`judge` results."""
    if not judged:
        return {}
    gains = np.array([j["gain"] for j in judged])
    best = np.array([j["best_gain"] for j in judged])
    margin = np.array([j["margin"] for j in judged])
    regret = np.array([j["regret"] for j in judged])
    helps = best > margin
    captured = gains[helps] / best[helps] if helps.any() else np.array([np.nan])
    return {"n": len(judged), "harm": float(np.mean(gains < -margin)),
            "regret": float(np.mean(regret)),
            "captured": float(np.mean(captured)),
            "captured_total": float(gains[helps].sum() / best[helps].sum()) if helps.any()
            else np.nan,
            "n_helps": int(helps.sum())}


def report(dev, confirm, path):  # filled in once the decision is settled
    raise NotImplementedError
