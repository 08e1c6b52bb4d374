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


def captured_clipped(judged):
    """Mean over helping tasks of pick gain / best gain, each clipped to [-1, 1]."""
    r = [np.clip(j["gain"] / j["best_gain"], -1, 1) for j in judged
         if j["best_gain"] > j["margin"]]
    return float(np.mean(r)) if r else np.nan


def pickers():
    """``{name: pick(store) -> candidate}``: each criterion's argmax, and the default decision."""
    from sktl.model_selection import decide
    from sktl.model_selection._decision import compute_criteria

    def by(criterion):
        def pick(store, crit):
            vals = crit.get(criterion)
            if not vals:
                return None
            return max(vals, key=lambda c: vals[c].value)
        return pick

    out = {"AdaptationSearchCV (default decision)":
           lambda store, crit: decide(crit, store["task"])["chosen"]}
    for name in ("source", "importance weighted", "DEV (input space)", "DEV (feature space)",
                 "circular validation", "fixed reverse", "paired circular",
                 "symmetric circular", "agreement", "prediction entropy",
                 "information maximisation", "soft neighbourhood density"):
        out[name] = by(name)
    return out, compute_criteria


def _rows(tasks, load_store):
    from sktl.model_selection import decide  # noqa: F401  (import check)

    picks, comp = pickers()
    table = {name: [] for name in picks}
    detail = []
    for task in tasks:
        store = load_store(task)
        if store is None:
            continue
        crit = comp(evidence(store))
        scores = task_scores(store)
        best = max(scores, key=lambda c: scores[c] if np.isfinite(scores[c]) else -np.inf)
        row = {"task": task.name, "best": best, "best_gain": scores[best] - scores[NO_ADAPTATION]}
        for name, pick in picks.items():
            choice = pick(store, crit)
            if choice is None:  # criterion not defined for this task (e.g. regression)
                continue
            j = judge(store, choice)
            table[name].append(j)
            row[name] = (choice, j["gain"])
        detail.append(row)
    return table, detail


LARGE = {"classification": 5.0, "regression": 25.0}


def verdict_lines(tasks, load_store):
    """How ``negative_transfer_check``'s verdicts compare with the truth, over every candidate."""
    from sktl.model_selection import decide
    from sktl.model_selection._decision import compute_criteria

    counts = {v: {"n": 0, "harmful": 0, "helpful": 0} for v in ("adapt", "inconclusive",
                                                               "do not adapt")}
    large = {"adapt": 0, "inconclusive": 0, "do not adapt": 0}
    for task in tasks:
        store = load_store(task)
        if store is None:
            continue
        info = decide(compute_criteria(evidence(store)), store["task"])["candidates"]
        scores = task_scores(store)
        margin = MARGIN[store["task"]]
        for cand, item in info.items():
            if cand == NO_ADAPTATION or not np.isfinite(scores.get(cand, np.nan)):
                continue
            verdict = {"better": "adapt", "worse": "do not adapt"}.get(item["verdict"],
                                                                       "inconclusive")
            gain = scores[cand] - scores[NO_ADAPTATION]
            counts[verdict]["n"] += 1
            counts[verdict]["harmful"] += gain < -margin
            counts[verdict]["helpful"] += gain > margin
            if gain >= LARGE[store["task"]]:
                large[verdict] += 1
    lines = ["| verdict | (task, method) pairs | truly harmful | truly helpful |",
             "|---|---:|---:|---:|"]
    for v, c in counts.items():
        n = max(c["n"], 1)
        lines.append(f"| {v} | {c['n']} | {c['harmful']} ({100 * c['harmful'] / n:.0f} %) | "
                     f"{c['helpful']} ({100 * c['helpful'] / n:.0f} %) |")
    total = max(sum(large.values()), 1)
    lines += ["", f"Large real gains (at least {LARGE['classification']:g} accuracy points or "
              f"{LARGE['regression']:g} % of the RMSE), {sum(large.values())} pairs: verdict "
              + ", ".join(f"{v} {n} ({100 * n / total:.0f} %)" for v, n in large.items()) + "."]
    return lines


def _summary_lines(table):
    lines = ["| criterion | tasks | harm rate | mean regret | captured gain (mean) | "
             "captured gain (total) |", "|---|---:|---:|---:|---:|---:|"]
    for name, judged in table.items():
        if not judged:
            continue
        m = summarise(judged)
        lines.append(f"| {name} | {m['n']} | {100 * m['harm']:.0f} % | {m['regret']:.1f} | "
                     f"{100 * captured_clipped(judged):.0f} % | "
                     f"{100 * m['captured_total']:.0f} % |")
    return lines


def report(dev, confirm, path):
    """Write the selection results (both halves) to ``path`` and print them."""
    import sys

    from benchmarks.bench_selection import load_store

    parts = ["# Should I adapt? The label-free decision, judged on 58 shifted tasks", "",
             "Generated by `python benchmarks/bench_selection.py collect` (fits, cached) then "
             "`python benchmarks/bench_selection.py report`. Candidates: "
             "`sktl.model_selection.default_candidates` around StandardScaler + "
             "LogisticRegression (classification) or + Ridge (regression); 3 `SourceKFold` "
             "splits; target labels are used only to judge. Scale: accuracy points, or for "
             "regression points of the no-adaptation RMSE (-100 RMSE / RMSE(no adaptation)). "
             "**Harm**: pick worse than no adaptation by more than 1 point (classification) "
             "or 2 % RMSE (regression). **Regret**: best candidate minus pick. **Captured "
             "gain**: pick's gain / best candidate's gain over the tasks where the best gains "
             "more than the harm margin, as a mean of per-task ratios clipped to [-1, 1] and "
             "as a ratio of totals. The decision rule was chosen on the development half and "
             "is only reported on the confirmation half.", ""]
    for label, tasks in (("Development half (rules tuned here)", dev),
                         ("Confirmation half (held back)", confirm)):
        table, detail = _rows(tasks, load_store)
        parts += [f"## {label}", ""] + _summary_lines(table) + [""]
        parts += ["`negative_transfer_check` verdicts (the same rule, one method at a time) "
                  "against the truth:", ""] + verdict_lines(tasks, load_store) + [""]
        head = "AdaptationSearchCV (default decision)"
        parts += ["| task | best candidate (gain) | default decision (gain) | circular validation "
                  "(gain) | source CV (gain) |", "|---|---|---|---|---|"]
        for row in detail:
            cells = [f"{row[k][0]} ({row[k][1]:+.1f})" if k in row else "—"
                     for k in (head, "circular validation", "source")]
            parts.append(f"| {row['task']} | {row['best']} ({row['best_gain']:+.1f}) | "
                         + " | ".join(cells) + " |")
        parts.append("")
    text = "\n".join(parts)
    path.write_text(text)
    sys.stdout.write(text + "\n")
