"""Criteria and decisions of the selection study, computed from the cached evidence.

Imported by ``bench_selection.py report``; kept apart so that decision rules
can be studied on the development half without refitting anything.
"""

import numpy as np

from sktl.model_selection._candidates import NO_ADAPTATION

MARGIN = {"classification": 1.0, "regression": 2.0}


def task_scores(store):
    """Truth on the judging scale: accuracy points, or -100 RMSE / RMSE(no adaptation)."""
    raw = {c: v["truth"] for c, v in store["candidates"].items()}
    if store["task"] == "classification":
        return raw
    ref = -raw[NO_ADAPTATION]
    return {c: (100.0 * v / ref if np.isfinite(v) else np.nan) for c, v in raw.items()}


def evidence(store, ratio="lr"):
    """The cached store as the evidence dict of :func:`sktl.model_selection.decide`."""
    masked = np.where(store["sd"] < 0, -1 if store["task"] == "classification" else np.nan,
                      store["y"])
    return {"task": store["task"], "y": masked, "ratio": store["ratios"][ratio],
            "candidates": store["candidates"]}


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
