"""Criteria and decisions of the selection study, computed from the cached evidence.

Imported by ``bench_selection.py report``; kept apart so that decision rules
can be studied on the development half without refitting anything.
"""

import numpy as np

from sktl.model_selection._candidates import NO_ADAPTATION
from sktl.model_selection._decision import DEFAULT_CONFIDENCE

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


#: Label-free scorers measured by ``bench_selection.py extras`` (cache key: row name).
SCORER_ROWS = {"mixval": "MixVal (Hu et al. 2023)", "mano": "MaNo (Xie et al. 2024)"}


def scorer_criteria(store):
    """``{row name: {candidate: Criterion}}`` of the cached per-split scorer values.

    A candidate counts when every split holds the value (classification tasks,
    after ``bench_selection.py extras``); the units are the per-split values
    (paired across candidates by split), greater is better.
    """
    from sktl.model_selection._decision import Criterion

    out = {}
    for key, row in SCORER_ROWS.items():
        vals = {c: [f[key] for f in v["folds"]] for c, v in store["candidates"].items()
                if v["folds"] and all(key in f and "error" not in f for f in v["folds"])}
        if vals:
            out[row] = {c: Criterion(u, key="folds") for c, u in vals.items()}
    return out


def all_criteria(store):
    """:func:`~sktl.model_selection._decision.compute_criteria` plus :func:`scorer_criteria`."""
    from sktl.model_selection._decision import compute_criteria

    return {**compute_criteria(evidence(store)), **scorer_criteria(store)}


def judge(store, pick):
    """Gain over no adaptation, best gain and regret of ``pick`` on the judging scale."""
    scores = task_scores(store)
    na = scores[NO_ADAPTATION]
    best = np.nanmax(list(scores.values()))
    s = scores.get(pick, np.nan)
    return {"gain": s - na, "best_gain": best - na, "regret": best - s,
            "margin": MARGIN[store["task"]], "task": store["task"]}


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
           lambda store, crit: decide(crit, store["task"], reweighters=REWEIGHTERS,
                                      recommended=_recommended(store))["chosen"],
           "source + domain distance (bound-style)": _bound_pick,
           "rank aggregation (mean rank of 5 criteria)": _rank_pick}
    for name in ("source", "importance weighted", "DEV (input space)", "DEV (feature space)",
                 "circular validation", "fixed reverse", "paired circular",
                 "symmetric circular", "agreement", "prediction entropy",
                 "information maximisation", "soft neighbourhood density",
                 *SCORER_ROWS.values()):
        out[name] = by(name)
    return out, compute_criteria


def _feature_confusion(store, cand):
    """Share of held-out source rows a feature-space domain classifier calls target."""
    folds = store["candidates"][cand]["folds"]
    if any("error" in f or "feature_ratio" not in f for f in folds):
        return np.nan
    err = []
    for f in folds:
        odds = np.asarray(f["feature_ratio"]) * len(f["tgt"]) / max(len(f["src"]), 1)
        err.append(np.mean(odds > 1.0))
    return float(np.mean(err))


def _bound_pick(store, crit, lam=1.0):
    """Ben-David-style bound: source risk + lam * proxy A-distance in the model's features.

    The proxy A-distance ``2 (1 - 2 err)`` uses the cross-fitted domain
    classifier of the feature-space density ratio; ``err`` is estimated from
    the held-out source rows it mistakes for target rows (half the confusion).
    """
    src = crit.get("source", {})
    best, best_val = NO_ADAPTATION, -np.inf
    for cand, c in src.items():
        err = _feature_confusion(store, cand)
        if not np.isfinite(err):
            continue
        pad = 2.0 * (1.0 - 2.0 * min(2 * err, 0.5))
        scale = 1.0 if store["task"] == "classification" else np.var(
            store["y"][store["sd"] > 0])
        val = c.value - lam * scale * pad / 2.0
        if val > best_val:
            best, best_val = cand, val
    return best


def _rank_pick(store, crit, names=("circular validation", "source", "importance weighted",
                                   "DEV (feature space)", "agreement")):
    """The candidate with the best mean rank over several criteria."""
    cands = [c for c in crit.get("source", {})]
    ranks = {c: 0.0 for c in cands}
    for name in names:
        vals = crit.get(name, {})
        order = sorted(cands, key=lambda c: -(vals[c].value if c in vals else -np.inf))
        for i, c in enumerate(order):
            ranks[c] += i
    return min(cands, key=lambda c: ranks[c]) if cands else None


def _rows(tasks, load_store):
    from sktl.model_selection import decide  # noqa: F401  (import check)

    picks, _ = pickers()
    table = {name: [] for name in picks}
    detail = []
    for task in tasks:
        store = load_store(task)
        if store is None:
            continue
        crit = all_criteria(store)
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

RECOLLECTED = (
    "`LabelShift EM` failed on a split of three tasks (a reverse fit whose pseudo-labels held "
    "one row of a class); after `LabelShiftClassifier` learned to fall back to no correction "
    "there, it was recollected on those three (`collect --new --dev --methods \"LabelShift "
    "EM\" --only ...`, 21 s) and no longer fails.")


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
        # negative_transfer_check judges one method at a time (the search with one
        # candidate), at its own confidence: the consensus guard, which needs several
        # candidates, cannot act there, the diagnosis guard can (where the task's diagnosis
        # is cached); a reweighter may be adopted by the fallback
        crit = compute_criteria(evidence(store))
        scores = task_scores(store)
        margin = MARGIN[store["task"]]
        recommended = _recommended(store)
        for cand in store["candidates"]:
            if cand == NO_ADAPTATION or not np.isfinite(scores.get(cand, np.nan)):
                continue
            one = {k: {n: v[n] for n in (NO_ADAPTATION, cand) if n in v}
                   for k, v in crit.items()}
            decision = decide(one, store["task"], confidence=DEFAULT_CONFIDENCE[store["task"]],
                              reweighters=[cand] if cand in REWEIGHTERS else [],
                              recommended=recommended)
            item = decision["candidates"].get(cand)
            if item is None:
                continue
            verdict = ("adapt" if decision["chosen"] == cand else
                       "do not adapt" if item["verdict"] == "worse" else "inconclusive")
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


EXTRAS_COMMAND = ("OMP_NUM_THREADS=1 nice -n 19 python benchmarks/bench_selection.py extras "
                  "--criteria mixval mano")

#: Declared before any MixVal / MaNo number was seen (rule for the criteria table).
SCORER_RULE = (
    "**Kept or demoted (rule declared before the numbers were seen; development half, "
    "classification tasks):** a scorer is kept as a recommended criterion for choosing "
    "between methods if its argmax has a harm rate not higher than plain source "
    "cross-validation's and a mean regret lower by at least 0.1 point; otherwise it is "
    "demoted (documented with its measured rates, like the confidence criteria). The third "
    "round of the rule study asks the separate question whether either one improves the "
    "default decision as a guard or as the choice among the eligible candidates.")


def refit_lines(tasks, load_store):
    """How closely the refits of ``extras`` reproduce the cached fits (target predictions)."""
    agree = []
    for task in tasks:
        store = load_store(task)
        if store is None:
            continue
        agree += [(f["refit_agreement"], task.name, c) for c, v in store["candidates"].items()
                  for f in v["folds"] if "refit_agreement" in f]
    if not agree:
        return []
    vals = np.array([a for a, _, _ in agree])
    low = min(agree)
    return [f"The MixVal / MaNo refits ({len(vals)} (task, candidate, split) fits) predict the "
            f"held-out target rows as the cached fits did on {100 * vals.mean():.1f} % of "
            f"them on average ({100 * np.mean(vals == 1):.0f} % of the fits identically; "
            f"lowest {100 * low[0]:.0f} %, {low[2]} on {low[1]}; solver noise or library "
            "changes since the cache was collected, not investigated), so the scorers judge "
            "the same models as the other criteria up to that difference.", ""]


def scorer_verdict_lines(cls):
    """:data:`SCORER_RULE` and its verdict for each scorer of :data:`SCORER_ROWS`."""
    ref = summarise(cls.get("source", []))
    lines = [SCORER_RULE, ""]
    for row in SCORER_ROWS.values():
        if not cls.get(row):
            lines.append(f"- {row}: not measured.")
            continue
        m = summarise(cls[row])
        kept = m["harm"] <= ref["harm"] + 1e-9 and m["regret"] <= ref["regret"] - 0.1
        lines.append(f"- {row}: harm {100 * m['harm']:.0f} % vs {100 * ref['harm']:.0f} %, "
                     f"mean regret {m['regret']:.2f} vs {ref['regret']:.2f} (source CV, "
                     f"{ref['n']} tasks): **{'kept' if kept else 'demoted'}**.")
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


#: Why the tables differ slightly from the numbers the earlier rounds quote (written after
#: the rebuilt evidence was compared with the report it replaces).
REBUILD_TEXT = (
    "**Evidence rebuilt (2026-12-01).** The evidence cache (gitignored) was lost with the "
    "machine that held it; every set was collected again from the committed code "
    "(`collect`, `study`, `reverse` and `diagnose` per set, `extras --criteria mixval "
    "mano`, `collect --new`; about 25 minutes on two cores) with the library and "
    "dependencies of that day (scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1, cvxpy "
    "1.9.3), and every table here is regenerated from it. The earlier rounds decided on "
    "the evidence of their time, collected over several sessions while the library "
    "changed, so some numbers differ from those their texts quote. The default decision's "
    "rows are unchanged on every set but the confirmation half (captured gain 47 % -> "
    "45 % mean; classification tasks 42 % -> 39 %). Single criteria moved more (circular "
    "validation on the confirmation half: harm 7 % -> 14 %). On the development half the "
    "first round's table now ranks the 97.5 % bound first (harm 7 %, regret 6.77, against "
    "7.11 for the adopted 99 % / 95 % bound), which the evidence of its time did not (10 %, "
    "7.37 against 7.10), so the verdict line under that table differs from the choice the "
    "round made; the later rounds' verdicts are unchanged. Digits usps → mnist is now "
    "diagnosed a covariate shift rather than a label shift (the guard rejects TCA there "
    "either way). The round-6 to round-8 sets now also hold the study evidence (their "
    "fixed-reverse, paired and symmetric circular rows).")


def report(dev, confirm, path, fresh=None, round5=None, round6=None, round7=None,
           round8=None, round9=None):
    """Write the selection results (both halves, and the fresh set once collected) to ``path``."""
    import sys

    from benchmarks.bench_selection import default_names, new_candidates
    from benchmarks.bench_selection import load_store as _load

    def load_store(task):  # the main tables judge the default library only
        return _load(task, default_names)

    parts = ["# Should I adapt? The label-free decision, judged on 58 + 32 + 22 + 17 + 19 + "
             "19 + 36 shifted tasks", "",
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
             "as a ratio of totals. The rules of the first four rounds of the rule study "
             "were chosen on the development half and reported on the confirmation half; "
             "the current default was adopted by the fresh round on 32 further tasks in "
             "neither half (section \"Fresh round\"), after both halves had been seen, so the "
             "tables of both halves below show it on tasks it was not chosen on but that "
             "informed earlier choices; a fifth round judged one more rule on 22 tasks in no "
             "earlier set and kept the default, a sixth adopted the reweighter fallback on 17 "
             "more, a seventh confirmed it on 19 more, an eighth adopted the diagnosis guard on "
             "19 more, and a ninth (its section follows the eighth's) confirmed that default "
             "on 36 more, both task types.", "", REBUILD_TEXT, "",
             "Rows: **AdaptationSearchCV (default decision)** considers the candidates "
             "whose paired circular-validation gain over no adaptation has a positive "
             "one-sided lower bound at 99 % (classification) or 95 % (regression) and, in "
             "classification, whose target predictions "
             "are no *consensus outlier* (agreement with the per-row mode of every "
             "candidate's predictions at least half the candidates' median), else keeps no "
             "adaptation; among several it takes the largest circular gain "
             "(`rank=\"gain\"`, `guard=\"consensus\"`: the guard was added after the fresh "
             "round below, F4; until then no guard); with none eligible, in classification, "
             "the reweighter (DiscriminativeReweighter, KMM) whose importance-weighted gain "
             "over no adaptation has a positive one-sided lower bound at 95 % "
             "(`fallback=\"auto\"`, adopted by the sixth round, G2b; until then none); and, in "
             "classification, no candidate whose method `diagnose_shift` does not recommend "
             "for the shift it names is adopted (the diagnosis guard, "
             "`guard=\"consensus+diagnosis\"`, adopted by the eighth round, H1). "
             "Every other row is the argmax of one criterion (no confidence bound): "
             "**source** = plain cross-validation on held-out source rows (the baseline to "
             "beat); **importance weighted** / **DEV** = source loss weighted by a "
             "cross-validated logistic domain classifier's density ratio, in the input "
             "space, or (DEV, with its control variate) in the model's feature space; "
             "**circular validation** = reverse validation with the candidate's own method; "
             "**fixed reverse** = reverse model always the user's own model; **paired "
             "circular** = the candidate's reverse method trained on its own vs on the "
             "baseline's pseudo-labels; **symmetric circular** = the mean of the last two; "
             "**source + domain distance** = source risk plus the proxy A-distance of a "
             "domain classifier in the model's features (Ben-David et al.); **rank "
             "aggregation** = best mean rank over circular, source, importance weighted, DEV "
             "(feature space) and agreement; **agreement** = agreement with the consensus "
             "(mode or median) of every candidate's target predictions; **prediction "
             "entropy**, **information maximisation**, **soft neighbourhood density** (Saito "
             "et al. 2021) = target-side confidence criteria (classification only); "
             "**MixVal** (Hu et al. 2023) and **MaNo** (Xie et al. 2024) = the public "
             "`sktl.metrics.MixValScorer()` / `MaNoScorer()` at their defaults, called on each "
             "split's held-out target rows; their models are refitted on the cached splits "
             "(`" + EXTRAS_COMMAND + "`, see `scorer_extras`; every classification task, "
             "the default library, every split: 6 minutes on a shared machine), "
             "classification only: they are "
             "not defined for regression (n/a), so their rows count the classification tasks "
             "and the second table of each half compares every criterion on those tasks.", ""]
    parts += refit_lines(dev + confirm, load_store)
    for label, tasks in (("Development half (rules tuned here)", dev),
                         ("Confirmation half (held back)", confirm)):
        table, detail = _rows(tasks, load_store)
        parts += [f"## {label}", ""] + _summary_lines(table) + [""]
        cls = {n: [j for j in js if j["task"] == "classification"] for n, js in table.items()}
        parts += ["Classification tasks only (where MixVal and MaNo apply):", ""]
        parts += _summary_lines(cls) + [""]
        if tasks is dev:
            parts += scorer_verdict_lines(cls) + [""]
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
    parts += ["## Rule study: guards and two-stage rules (decided on the development half)", "",
              RULE_TEXT, ""]
    lines, _ = rule_lines(dev, confirm)
    parts += lines
    ntc = ("`negative_transfer_check` verdicts on the round-{} set (every candidate) against "
           "the truth:")
    sections = [
        (fresh, "## Fresh round: the pending rules judged on tasks in neither half", FRESH_TEXT,
         lambda: fresh_rule_lines(fresh, dev, confirm), "fresh", FRESH_FINDINGS, None),
        (round5, "## Fifth round: a fallback for regression, judged on tasks in no earlier set",
         ROUND5_TEXT, lambda: round5_rule_lines(round5, dev, confirm, fresh), "round-5",
         ROUND5_FINDINGS,
         ("`negative_transfer_check` verdicts on the fresh and the round-5 sets together "
          "(every candidate; neither set informed the rule it uses) against the truth:",
          (fresh or []) + (round5 or []))),
        (round6, "## Sixth round: a reweighter fallback for classification, judged on tasks in "
         "no earlier set", ROUND6_TEXT,
         lambda: round6_rule_lines(round6, dev, confirm, fresh, round5), "round-6",
         ROUND6_FINDINGS, (ntc.format(6), round6)),
        (round7, "## Seventh round: the adopted default confirmed on tasks in no earlier set",
         ROUND7_TEXT, lambda: round7_rule_lines(round7), "round-7", ROUND7_FINDINGS,
         (ntc.format(7), round7)),
        (round8, "## Eighth round: the diagnosis guard, judged on tasks in no earlier set",
         ROUND8_TEXT,
         lambda: round8_rule_lines(round8, dev, confirm, fresh, round5, round6, round7),
         "round-8", ROUND8_FINDINGS, (ntc.format(8), round8)),
        (round9, "## Ninth round: the adopted default confirmed on tasks in no earlier set",
         ROUND9_TEXT, lambda: round9_rule_lines(round9), "round-9", ROUND9_FINDINGS,
         (ntc.format(9), round9)),
    ]
    for tasks, title, text, rules, label, findings, verdicts in sections:
        if not tasks or any(_load(t) is None for t in tasks):
            continue
        parts += [title, "", text, ""] + rules()
        table, _ = _rows(tasks, load_store)
        parts += [f"Every criterion's argmax on the {label} set (information; the default row "
                  "is the current library default, H1):", ""] + _summary_lines(table) + [""]
        if verdicts:
            parts += [verdicts[0], ""] + verdict_lines(verdicts[1], load_store) + [""]
        parts += ["\n\n".join(findings), ""]
    new = list(new_candidates("classification"))

    def collected(tasks):
        stores = [_load(t) for t in tasks]
        return all(s is not None and all(c in s["candidates"] for c in new
                                         if c in new_candidates(s["task"])) for s in stores)

    if collected(dev):
        parts += ["## Candidate-library study: would newer sktl methods help the default?", "",
                  "Four methods added to sktl after the library was fixed were collected as "
                  "extra candidates (`OMP_NUM_THREADS=1 python benchmarks/bench_selection.py "
                  "collect --new --dev`, see `new_candidates` in the script for the "
                  "reasons): CORAL with `align_means=True` (reg 1), `LinearOTMapping` "
                  "(Gaussian Monge map), the "
                  "`uLSIF` density-ratio reweighter and `LabelShiftClassifier` (EM prior "
                  "correction, classification only). The decision rule is unchanged; only "
                  "the library grows (the rule of the time, the largest circular gain among "
                  "the eligible, `rank=\"gain\"`: the new methods hold no paired evidence). "
                  "Each library is judged against its own best candidate "
                  "(the benchmark's usual regret and captured gain, whose reference moves "
                  "when the library grows) and against the best candidate of all libraries "
                  "(a fixed reference). Rule, fixed before looking: adopt an addition only "
                  "if on the development half it does not raise the harm rate and lowers "
                  "the mean regret to the best of all. Produced by `python "
                  "benchmarks/bench_selection.py compare` (`--confirm` adds the "
                  "confirmation half once the methods are collected there). " + RECOLLECTED, ""]
        parts += compare_libraries(dev, confirm if collected(confirm) else None)
    text = "\n".join(parts)
    path.write_text(text)
    sys.stdout.write(text + "\n")


#: The library study was decided under the rule of its time (99 % classification / 95 %
#: regression bound, no guard, the largest circular gain among the eligible; the new methods
#: hold no paired evidence), so it is reproduced with that rule.
LIBRARY_RANK = "gain"
LIBRARY_CONFIDENCE = {"classification": 0.99, "regression": 0.95}


def _library_rows(tasks, libraries):
    """Per library, the default decision judged against its own best and the best of all."""
    from benchmarks.bench_selection import load_store
    from sktl.model_selection import decide
    from sktl.model_selection._decision import compute_criteria

    own = {lib: [] for lib in libraries}
    common = {lib: [] for lib in libraries}
    picks = []
    for task in tasks:
        full = load_store(task)
        if full is None:
            continue
        row = {"task": task.name}
        for lib, names in libraries.items():
            store = dict(full, candidates={c: v for c, v in full["candidates"].items()
                                           if c in set(names(full))})
            choice = decide(compute_criteria(evidence(store)), store["task"],
                            rank=LIBRARY_RANK, guard=None,
                            confidence=LIBRARY_CONFIDENCE[store["task"]])["chosen"]
            own[lib].append(judge(store, choice))
            common[lib].append(judge(full, choice))
            row[lib] = (choice, common[lib][-1]["gain"])
        row["best"] = max(task_scores(full).items(),
                          key=lambda kv: kv[1] if np.isfinite(kv[1]) else -np.inf)
        row["best"] = (row["best"][0], row["best"][1] - task_scores(full)[NO_ADAPTATION])
        picks.append(row)
    return own, common, picks


def compare_libraries(dev, confirm=None):
    """Markdown lines: the default decision with and without the methods of ``new_candidates``.

    The choice of library is made on ``dev`` alone (rule: no higher harm rate
    and a lower mean regret to the best candidate of *all* libraries, i.e. a
    larger mean gain of the pick); ``confirm`` is only reported.
    """
    from benchmarks.bench_selection import default_names, new_candidates

    new = list(new_candidates("classification"))

    def lib(extra):
        return lambda store: default_names(store) + [c for c in extra if c in store["candidates"]]

    libraries = {"default library": lib([])}
    for name in new:
        libraries[f"+ {name}"] = lib([name])
    libraries["+ all four"] = lib(new)
    lines = []
    for label, tasks in (("development half (decides)", dev),
                         ("confirmation half (for the record only)", confirm)):
        if tasks is None:
            continue
        own, common, picks = _library_rows(tasks, libraries)
        lines += [f"#### {label}", "",
                  "| library | tasks | harm rate | mean gain of pick | mean regret (own best) | "
                  "captured mean / total (own best) | mean regret (best of all) | "
                  "captured mean / total (best of all) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name in libraries:
            m, mc = summarise(own[name]), summarise(common[name])
            gain = np.mean([j["gain"] for j in own[name]])
            lines.append(
                f"| {name} | {m['n']} | {100 * m['harm']:.0f} % | {gain:+.2f} | "
                f"{m['regret']:.1f} | {100 * captured_clipped(own[name]):.0f} % / "
                f"{100 * m['captured_total']:.0f} % | {mc['regret']:.1f} | "
                f"{100 * captured_clipped(common[name]):.0f} % / "
                f"{100 * mc['captured_total']:.0f} % |")
        if tasks is dev:
            ref = (summarise(own["default library"]), summarise(common["default library"]))
            passed = [name for name in libraries if name != "default library"
                      and summarise(own[name])["harm"] <= ref[0]["harm"]
                      and summarise(common[name])["regret"] < ref[1]["regret"] - 1e-9]
            lines += ["", "**Verdict of the development half:** " + (
                "adopt " + ", ".join(passed) + "." if passed else
                "no addition meets the rule (none lowers the mean regret to the best of all "
                "without raising the harm rate), so `default_candidates` is unchanged"
                + (" and the methods were not collected on the confirmation half."
                   if confirm is None else "."))
                + f" The four methods raise the best available gain by "
                f"{ref[1]['regret'] - ref[0]['regret']:.1f} points per task on average, but "
                "the rule (largest circular-validation gain among the candidates that pass "
                "the bound) does not turn it into a better pick: the moment-matching "
                "maps pass the bound about as often as they truly help and sometimes displace "
                "a better subspace method, and the reweighter and the label-shift "
                "correction never pass it (which, given how often they truly harm, is right)."]
        lines += ["", "Each new method on its own (truth vs no adaptation; verdict of the default "
                  "rule's bound on circular validation, with the default library + all "
                  "four):", "",
                  "| method | tasks | failed on some split | truly helpful | truly harmful | "
                  "best of all | verdict better | of which truly harmful | chosen |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name in new:
            lines.append(_method_line(tasks, name))
        changed = [r for r in picks if r["default library"] != r["+ all four"]]
        lines += ["", f"Tasks whose pick changes when all four are added ({len(changed)}):", "",
                  "| task | best of all (gain) | default library pick (gain) | "
                  "+ all four pick (gain) |", "|---|---|---|---|"]
        for r in changed:
            cells = [f"{r[k][0]} ({r[k][1]:+.1f})" for k in ("best", "default library",
                                                            "+ all four")]
            lines.append(f"| {r['task']} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _method_line(tasks, name):
    """One row of the per-method table of :func:`compare_libraries`."""
    from benchmarks.bench_selection import load_store
    from sktl.model_selection import decide
    from sktl.model_selection._decision import compute_criteria

    n = failed = helpful = harmful = best = better = better_harm = chosen = 0
    for task in tasks:
        store = load_store(task)
        if store is None or name not in store["candidates"]:
            continue
        scores = task_scores(store)
        margin = MARGIN[store["task"]]
        gain = scores[name] - scores[NO_ADAPTATION]
        n += 1
        failed += any("error" in f for f in store["candidates"][name]["folds"])
        helpful += gain > margin
        harmful += gain < -margin
        best += max(scores, key=lambda c: scores[c] if np.isfinite(scores[c]) else -np.inf) == name
        decision = decide(compute_criteria(evidence(store)), store["task"], rank=LIBRARY_RANK,
                          guard=None, confidence=LIBRARY_CONFIDENCE[store["task"]])
        if decision["candidates"].get(name, {}).get("verdict") == "better":
            better += 1
            better_harm += gain < -margin
        chosen += decision["chosen"] == name
    return (f"| {name} | {n} | {failed} | {helpful} | {harmful} | {best} | {better} | "
            f"{better_harm} | {chosen} |")


# --- Rule study (session of 2026-11-30, evening): guards and two-stage rules -------------------

#: The fourth round's diagnosis and verdict (numbers from ``rules``; development half first).
FOURTH_ROUND = [
    "**Fourth round: the reverse learner** (2026-12-01; the three variants and the adoption "
    "rule were committed before any of their numbers was computed, after a per-task "
    "diagnosis of the cached *development* evidence only). Where the development regret came "
    "from, criterion by criterion:",
    "- *(a) Reweighters never picked.* The one large reweighter gain of the development half "
    "(generated covariate class. #0, DiscriminativeReweighter +90.5) is invisible to every "
    "cached criterion: circular -18 ± 2, source -22 ± 2, importance weighted -31 ± 19, DEV "
    "(feature space) -18 ± 7 points. The target is a narrow cloud at the edge of the source, "
    "so a handful of held-out source rows carry the density ratio (Kish effective sample size "
    "2-10 of 133 per split; one row holds 18-66 % of the weight): no source-side estimate can "
    "confirm a gain there. On the development regression task of the same kind (generated "
    "covariate regre. #1, effective sample size 1-2) importance weighting and DEV call "
    "DiscriminativeReweighter *significantly better* (+1.18 ± 0.18) while it raises the RMSE "
    "3.3-fold (-227 points), and CORAL reg=0.1 (+7.0 ± 0.6, truly -385). Judging reweighters "
    "by importance-weighted evidence (\"family-aware\" rule) would therefore add harm on the "
    "development half, so it was not declared.",
    "- *(b) JDA k=30 best on the Amazon / COIL / digits / Office tasks, never picked.* On five "
    "of the six development Amazon pairs JDA does not pass the 99 % bound (z = 1.4-2.2) and "
    "on the sixth it ties TCA k=30's circular gain (9.33 points each). Its circular gain is "
    "structurally low: trained on the *same* (no-adaptation) pseudo-labels, JDA's reverse "
    "learner errs on more held-out source rows than TCA's of the same dimension on 15 of 19 "
    "development classification tasks (1.9 points more on average; equal on one, fewer on "
    "COIL, digits and the no-shift task): in the reverse pass JDA re-runs its pseudo-label "
    "iterations on the unlabelled source rows, starting from a model trained on noisy labels, "
    "so the reverse error adds a handicap of the learner to the quality of JDA's labelling.",
    "- *(c) SA vs TCA on the NIR-corn regression tasks.* TCA's circular gain is about twice "
    "SA's on the protein tasks (52.6 vs 34.8 % of the no-adaptation reverse error on mp6 → m5 "
    "protein) although SA's labelling is better (+83.9 vs +81.2). Again the reverse learner: "
    "on the baseline's labels SA's reverse error is 1569 % of no adaptation's, TCA's 1109 %; on "
    "its own labels SA's is 65 %, TCA's 47 %. Source risk, importance weighting and DEV all "
    "rank SA last (it treats new rows as target rows), agreement prefers TCA.",
    "- *(d) Conditional-shift regression (CORAL reg=0.1 +57, not picked).* CORAL's circular "
    "error is 106 % of no adaptation's, so it is not eligible. No adaptation's reverse learner "
    "(Ridge on Ridge's own predictions) learns its labelling back almost exactly, which no "
    "adapting learner can; CORAL's labelling, learnt back by CORAL's reverse learner, errs 8 "
    "times less than the baseline's (845 % vs 106 %). Only an eligibility by the paired gain "
    "would see it; that was not declared (the paired criterion's argmax had 41 % harm).",
    "Variants declared from this: **R4a** keeps the eligibility (the full circular gain, the "
    "safety check) and chooses among the eligible by the largest paired circular gain, i.e. "
    "the candidate's labelling against the baseline's under one and the same (its own) "
    "reverse learner; **R4b** reverses JDA through TCA with JDA's settings (JDA's first stage, "
    "before any pseudo-label iteration; `python benchmarks/bench_selection.py reverse`, one "
    "TCA fit per JDA candidate and split from JDA's cached pseudo-labels, 7 s for all 58 "
    "tasks); **R4c** both. Adoption rule: the same as in the earlier rounds, against the "
    "adopted 99 % / 95 % (regression) bound.",
    "**Verdict (development half):** R4a and R4c meet the rule (harm 7 % = 7 %, mean regret "
    "6.46 vs 7.10, captured gain 53 % vs 47 % mean, 74 % vs 71 % total; R4c = R4a, the simpler "
    "R4a is adopted); R4b changes no development pick (JDA reversed through TCA gains more "
    "on four Amazon pairs, e.g. 8.2 instead of 5.2 points on dvd → elec, but still less than "
    "TCA k=30, and far less on digits, 4.4 instead of 10.9). R4a changes 8 development picks: "
    "better on 6 (corn mp6 → m5 protein +1.8, m5 → mp6 protein +6.8, mp6 → mp5 moisture +4.1, "
    "Amazon dvd → elec +1.3, books → elec +5.0, books → kitchen +2.6 points), worse on 2 (corn "
    "m5 → mp5 moisture -0.1; office webcam → caltech, SA k=30 -7.7 instead of TCA k=30 -5.0, "
    "both harmful).",
    "**Confirmation half (reported only; computed after the verdict):** R4a lowers the mean "
    "regret from 10.21 to 9.68 and raises the captured gain (total) from 61 % to 63 %, but "
    "raises the harm rate from 3 % to 7 % and lowers the captured gain (mean) from 47 % to "
    "45 %. It changes 6 confirmation picks: the four NIR-corn tasks where SA was better move "
    "from TCA to SA (+11.5, +3.1, +14.1 points) or between SA dimensions (-1.5), Amazon "
    "kitchen → elec +0.3, and office amazon → dslr goes from TCA k=10 (+0.0) to SA k=10 "
    "(-12.1), a new harmful pick: subspace alignment's reverse learner learns the baseline's "
    "labels back badly on Office-Caltech as on corn (its reverse applies the transpose of its "
    "own alignment, so its own labels come back more easily than anyone else's), which the "
    "paired gain credits to SA's labelling. The issue's targets on the confirmation half are "
    "thus missed by: harm 7 % vs <= 5 % (one task of 29 too many; before: met, 3 %), "
    "captured gain 45 % vs >= 70 % mean (25 points short), mean regret 9.68 vs <= 1.5 (8.2 "
    "points too high).",
    "**Not kept as the default (the lead's decision, taken after the confirmation half "
    "had been seen, and said so):** the held-back half does not confirm R4a (harm 3 % -> 7 %, "
    "captured gain (mean) 47 % -> 45 %; only the regret and the total move its way), and its "
    "one new harmful pick comes from a bias named before this round (the third round's "
    "analysis of the harmful SA k=4 pick: subspace alignment's reverse fit is the transpose "
    "of its own alignment, so its own labelling comes back intact), which the paired gain "
    "rewards by construction. Negative transfer is the cost the decision exists to avoid, so "
    "the default stays the largest circular gain (`rank=\"gain\"`) and the paired choice is "
    "an option (`rank=\"paired\"`) of `AdaptationSearchCV` and `decide`. Because this "
    "choice looked at the confirmation half, that half is no longer independent evidence for "
    "either rule; a paired rule with an SA-specific correction needs fresh tasks to be judged "
    "(the fresh round, last section).",
]

RULE_TEXT = (
    "Produced by `python benchmarks/bench_selection.py rules` (cached evidence only, no "
    "refit; `--dev` prints the development half alone). Every rule is circular validation's "
    "paired gain over no adaptation with a one-sided bound; a **guard** then also rejects a "
    "candidate that is significantly worse than no adaptation (99 %) on a second criterion; "
    "the rule picks the largest circular gain among what is left. **Adoption rule, written "
    "before the confirmation half was computed:** a variant replaces the default only if on "
    "the development half its harm rate is not higher, its mean regret is lower by at least "
    "0.1 point and its captured gain (mean) is not lower; among several, the lowest "
    "development regret. Only the 99 % (classification) / 95 % (regression) bound passed; it "
    "was the default (`confidence=\"auto\"`) from then until the fresh round (last section; "
    "the default rows of the tables above are the fresh round's rule), and the first row "
    "below is the default before it (99 % everywhere). Its "
    "development gain comes from one task (corn m5 → mp6 protein, +74.5 instead of 0); the "
    "confirmation half moves the same way, slightly (regret 10.56 → 10.21, captured 45 → 47 "
    "% mean), without harm.\n\n"
    "**The one harmful confirmation pick (generated label class. #0, SA k=4, -54 points).** "
    "The target holds 88 / 11 / 1 % of the three classes, the source is balanced. No "
    "adaptation predicts 88 / 10 / 2 % on the target (right) and its reverse model errs on 11.5 "
    "% of the held-out source rows; SA k=4 predicts 34 / 17 / 48 % (54 points worse) yet its "
    "reverse model errs on only 7.7 %: a paired gain of 3.7 ± 1.4 points, z = 2.6 > 2.33. Two "
    "reasons, both from the method: (1) circular validation checks consistency, not "
    "correctness, and subspace alignment's reverse fit applies the transpose of the same "
    "alignment (P_s'P_t forward, P_t'P_s back), so a wrong labelling that is a linear function "
    "of the target's principal coordinates comes back intact; (2) under label shift the "
    "baseline's *correct* pseudo-labels carry the target's class balance (a few rows of the "
    "rare class per split), and its reverse model is judged on balanced source rows, a "
    "prior-shift penalty that SA's source-balanced (wrong) labels escape. A similar SA k=4 "
    "failure is on the development half (generated conditional class. #1, -72 points, not "
    "eligible there). Guards that catch it: the held-out source risk (SA k=4 errs on 44 % of "
    "them, no adaptation on 7 %), but it also rejects SA on the NIR-corn tasks, where SA "
    "treats new rows as target rows (source error x150) while gaining 81-84 points; the paired "
    "agreement with the consensus of all candidates (44 % vs 99.8 %), but it also rejects the "
    "large digits and generated-covariate gains, whose good methods disagree with most "
    "candidates; the fixed reverse model. Each lowers the development harm from 7 % to 3 % at "
    "a large cost in regret (rows below), so none is adopted. The predicted target class "
    "proportions do not separate either: measured against a label-shift (EM) estimate of the "
    "target priors, every helpful feature method on the development half moves its "
    "predictions towards the source balance too, because the EM estimate is wrong under "
    "covariate shift (total-variation distance to the true target priors 0.9 on usps → mnist, "
    "0.4-0.6 on Office-Caltech; measured once, not part of the script). The "
    "**consensus-outlier guard** (reject a candidate whose agreement with the consensus is "
    "below half the candidates' median) changes no development pick and removes the harmful "
    "confirmation pick (confirmation: harm 0 %, regret 8.70); but its threshold was written "
    "knowing that pick, the development half cannot tell it from the default, and the "
    "adoption rule therefore does not adopt it: it needs fresh tasks to be judged (the "
    "fresh round, last section, adopted it with the 95 % bound).\n\n"
    "**Diagnosis guards** (second round; `python benchmarks/bench_selection.py diagnose` "
    "caches `sktl.metrics.diagnose_shift`'s verdict for every classification task, 20-60 s "
    "each, target labels masked): the *diagnosis guard* keeps only the methods the diagnosis "
    "recommends (what `AdaptationSearchCV(candidates=\"diagnose\")` tries); the *label-shift "
    "guard* does so only when the verdict is a pure label shift, the case where aligning the "
    "marginal feature distributions provably costs accuracy (Zhao et al. 2019: with perfectly "
    "aligned features, source plus target error is at least half the Jensen-Shannon "
    "divergence of the class priors). The diagnosis finds one label shift on the development "
    "half (generated label class. #1, where no candidate passed the bound anyway), so the "
    "label-shift guard changes nothing there; the diagnosis guard lowers the development harm "
    "from 7 % to 3 % but raises the regret (7.10 to 7.70 on top of the adopted bound), so "
    "neither meets the adoption rule. The diagnosis names the harmful confirmation task a "
    "label shift (priors 0.37 / 0.32 / 0.32 to 0.89 / 0.10 / 0.01), which was seen before the "
    "second round was declared: its confirmation rows are not independent evidence either.\n\n"
    "**MixVal and MaNo** (third round, declared before any of their numbers was computed; "
    "values from `bench_selection.py extras`, classification only, so on regression tasks "
    "these rules are the adopted rule): each as a *guard* (reject a candidate significantly "
    "worse than no adaptation at 99 % on the scorer, paired by split) or as the *choice* "
    "among the candidates the adopted bound makes eligible (instead of the largest circular "
    "gain), judged against the adopted rule by the same adoption rule.\n\n"
    + "\n\n".join(FOURTH_ROUND))
#
# Declared before the confirmation half was computed for any of these rules. ADOPTION RULE: a
# variant replaces the default decision only if, on the development half, its harm rate is not
# higher than the default's, its mean regret is lower by at least 0.1 point (the table's
# precision: a rounding-level change is not evidence) and its captured gain (mean of clipped
# per-task ratios) is not lower; among several, the lowest development regret. The confirmation
# half is then only reported. Second round (the diagnosis guards, added once the split bound
# was adopted, declared before their confirmation half was computed): the same rule against
# the adopted "99 % / 95 % (regression)" bound. (The 0.1-point floor was added after the first
# development run, where ranking by z passed a bare "lower" by 0.01 point; the confirmation half
# was not computed.)
# Third round (2026-11-30, late; declared before any MixVal / MaNo number was computed): MixVal
# and MaNo as a guard (not worse than no adaptation at 99 %, paired by split) or as the choice
# among the candidates the bound makes eligible, each on top of the adopted 99 % / 95 % bound,
# judged by the same adoption rule against it; the confirmation half is only reported.
# Fourth round (2026-12-01, ~02:35 UTC; declared before any of its numbers was computed, after a
# per-task diagnosis of the cached development evidence only). The diagnosis: circular
# validation's gain of a candidate over no adaptation mixes two things, the quality of the
# candidate's target labelling and how well its *reverse learner* learns any labelling back; on
# the identical (no-adaptation) pseudo-labels, JDA's reverse learner errs more than TCA's of the
# same dimension on 15 of 19 development classification tasks, SA's more than TCA's on the
# NIR-corn tasks, and no adaptation's reverse learner (the user's model on its own labels) gets
# its labelling back almost exactly. Three variants, each on top of the adopted 99 % / 95 %
# (regression) bound, judged against it by the SAME adoption rule (development half: harm rate
# not higher, mean regret lower by >= 0.1 point, captured gain (mean) not lower; among several,
# the lowest development regret); the confirmation half is only reported:
#   R4a  eligibility unchanged; among the eligible, the largest *paired* circular gain (the
#        candidate's reverse learner trained on its own labels vs on the baseline's, the same
#        learner on both sides: labelling quality without the learner's handicap; ties by the
#        circular gain);
#   R4b  JDA's circular evidence (eligibility and ranking) from a reverse through TCA with JDA's
#        settings (JDA's own first stage, before the pseudo-label iterations that compound the
#        forward labelling's errors in the reverse pass), needing new evidence
#        (``bench_selection.py reverse``, one TCA fit per JDA candidate and split);
#   R4c  both.


def _method_classes(store):
    """``{candidate name: class name of its adaptation step}`` for the default library."""
    from benchmarks.bench_selection import user_model
    from sktl.model_selection import default_candidates
    from sktl.model_selection._candidates import _method_name

    cands = default_candidates(user_model(store["task"]), store["n_features"], store["task"])
    return {n: _method_name(e) for n, e in cands.items() if n != NO_ADAPTATION}


def _recommended(store):
    """The candidates the cached shift diagnosis recommends (None without a diagnosis): what
    the library's diagnosis guard is given."""
    diag = store.get("diagnosis")
    if diag is None:
        return None
    classes = _method_classes(store)
    return [n for n in store["candidates"] if classes.get(n) in diag["recommended"]]


def _diagnosis_allows(store, name, label_shift_only):
    """Whether ``diagnose_shift``'s recommendation (cached by ``bench_selection.py diagnose``)
    keeps candidate ``name``; with ``label_shift_only``, only a pure label shift restricts."""
    diag = store.get("diagnosis")
    if diag is None or (label_shift_only and diag["verdict"] != "label shift"):
        return True
    return _method_classes(store).get(name) in diag["recommended"]


def _guard_allows(guard, name, crit, store, agree, median_agree):
    """Whether ``guard`` (one of :func:`_rule`'s) lets the eligible ``name`` through."""
    from scipy.stats import norm

    if guard in ("agreement", "source", "fixed reverse", *SCORER_ROWS.values()):
        vals = crit.get(guard, {})
        if name in vals and NO_ADAPTATION in vals:
            g, s = vals[name].minus(vals[NO_ADAPTATION])
            return not g + float(norm.ppf(0.99)) * s < 0  # significantly worse on the guard
    elif guard in ("diagnosis", "label-shift diagnosis"):
        return _diagnosis_allows(store, name, guard == "label-shift diagnosis")
    elif guard == "consensus outlier" and name in agree and np.isfinite(median_agree):
        # classification: agreement (in %) below half the candidates' median
        return not (median_agree > 0 and agree[name].value < 0.5 * median_agree)
    return True


def _rule(crit, *, confidence=0.99, guard=None, rank="gain", regression_confidence=None,
          task="classification", store=None, reverse="own", sa_guard=None, fallback=None):
    """Two-stage decision: eligibility by the bound on circular validation, an optional guard,
    then the largest circular gain (``rank="gain"``), the largest z = gain / s.e. (``"z"``),
    the best mean rank of circular gain and agreement with the consensus (``"agreement"``) or
    the largest paired circular gain (``"paired"``: the candidate's labelling against the
    baseline's under the candidate's own reverse learner). ``reverse="marginal"`` first
    replaces JDA's circular evidence by its reverse through TCA, ``reverse="sa"`` SA's
    (:func:`_marginal_reverse`). ``sa_guard="fixed"`` makes an SA candidate eligible only if
    its fixed-reverse gain over no adaptation (the user's own model as the reverse learner)
    also passes the bound. ``fallback="paired"`` (regression, when nothing is eligible): a
    candidate other than SA whose paired circular gain passes the bound and whose circular
    gain is not significantly negative at the same confidence; the largest paired gain.
    ``fallback="reweighter 0.99"`` (classification, when nothing is eligible): the reweighter
    whose importance-weighted gain passes that one-sided bound (:func:`_reweighter_fallback`).
    ``guard`` may be a tuple of guards, all of which must let a candidate through."""
    from scipy.stats import norm

    if reverse in ("marginal", "sa"):
        crit = _marginal_reverse(store, crit, "JDA" if reverse == "marginal" else "SA")
    if task == "regression" and regression_confidence is not None:
        confidence = regression_confidence
    z = float(norm.ppf(confidence))
    circ = crit.get("circular validation", {})
    base = circ.get(NO_ADAPTATION)
    if base is None:
        return NO_ADAPTATION
    agree = crit.get("agreement", {})
    median_agree = np.median([c.value for c in agree.values()]) if agree else np.nan
    eligible = {}
    for name, c in circ.items():
        if name == NO_ADAPTATION:
            continue
        gain, se = c.minus(base)
        if not gain - z * se > 0:
            continue
        if sa_guard == "fixed" and name.split(" ")[0] == "SA":
            fixed = crit.get("fixed reverse", {})
            if name not in fixed or NO_ADAPTATION not in fixed:
                raise ValueError(f"fixed reverse evidence missing for {name}: run "
                                 "`bench_selection.py study` first")
            g, s = fixed[name].minus(fixed[NO_ADAPTATION])
            if not g - z * s > 0:
                continue
        if not all(_guard_allows(g, name, crit, store, agree, median_agree)
                   for g in (guard if isinstance(guard, tuple) else (guard,))):
            continue
        eligible[name] = (gain, gain / se if se > 0 else np.inf)
    if not eligible and fallback == "paired" and task == "regression":
        return _paired_fallback(crit, z)
    if not eligible and fallback is not None and fallback.startswith("reweighter") \
            and task == "classification":
        return _reweighter_fallback(crit, float(fallback.split(" ")[1]))
    if not eligible:
        return NO_ADAPTATION
    if rank == "gain":
        return max(eligible, key=lambda n: eligible[n][0])
    if rank == "z":
        return max(eligible, key=lambda n: eligible[n][1])
    if rank == "paired":  # labelling quality under the candidate's own reverse learner
        paired = crit["paired circular"]
        missing = [n for n in eligible if n not in paired]
        if missing:
            raise ValueError(f"paired circular evidence missing for {missing}: run "
                             "`bench_selection.py study` first")
        return max(eligible, key=lambda n: (paired[n].value, eligible[n][0]))
    if rank in SCORER_ROWS.values():  # a scorer chooses among the eligible (gain if none)
        vals = crit.get(rank, {})
        if vals:
            return max(eligible, key=lambda n: (vals[n].value if n in vals else -np.inf,
                                                eligible[n][0]))
        return max(eligible, key=lambda n: eligible[n][0])
    names = list(eligible)
    by_gain = sorted(names, key=lambda n: -eligible[n][0])
    by_agree = sorted(names, key=lambda n: -(agree[n].value if n in agree else -np.inf))
    return min(names, key=lambda n: (by_gain.index(n) + by_agree.index(n), by_gain.index(n)))


def _paired_fallback(crit, z):
    """The fifth round's G1 fallback (see :func:`_rule`), or no adaptation."""
    circ, paired = crit["circular validation"], crit.get("paired circular", {})
    ok = {}
    for name, c in circ.items():
        if name == NO_ADAPTATION or name.split(" ")[0] == "SA":
            continue
        if name not in paired:
            raise ValueError(f"paired circular evidence missing for {name}: run "
                             "`bench_selection.py study` first")
        gain, se = c.minus(circ[NO_ADAPTATION])
        pg, pse = paired[name].value, paired[name].se
        if gain + z * se >= 0 and pg - z * pse > 0:
            ok[name] = pg
    return max(ok, key=ok.get) if ok else NO_ADAPTATION


#: The reweighting candidates of the default library (the sixth round's fallback).
REWEIGHTERS = ("DiscriminativeReweighter", "KMM")  # of the default library


def _reweighter_fallback(crit, confidence):
    """The sixth round's G2 fallback: the library's (:func:`sktl.model_selection._decision.
    _reweighter_fallback`) over :data:`REWEIGHTERS` at ``confidence``, or no adaptation."""
    from sktl.model_selection._decision import _reweighter_fallback as library_fallback

    info = {name: {} for name in REWEIGHTERS}
    return library_fallback(crit, info, REWEIGHTERS, confidence) or NO_ADAPTATION


def _marginal_reverse(store, crit, method="JDA"):
    """``crit`` with ``method``'s (JDA's or SA's) circular evidence from its reverse through TCA.

    ``bench_selection.py reverse`` stores, per split, the reverse predictions
    of a TCA of the candidate's dimension (for JDA its own settings, JDA's
    first stage before any pseudo-label iteration; the same learner as the
    library's TCA candidate of that dimension) trained on the candidate's
    target pseudo-labels (``reverse_marginal``). The candidate's "circular
    validation" and "paired circular" entries are replaced accordingly (the
    paired one against that TCA candidate's reverse of the baseline's labels;
    for SA it is dropped, so that a paired rule fails loudly, when that
    reverse is missing); every other candidate is unchanged.
    """
    from sktl.metrics._criteria import row_loss
    from sktl.model_selection._decision import Criterion

    crit = {k: dict(v) for k, v in crit.items()}
    y, task = store["y"], store["task"]
    for name, cand in store["candidates"].items():
        if name.split(" ")[0] != method:
            continue
        folds = cand["folds"]
        if any("error" in f for f in folds):
            continue
        if not all("reverse_marginal" in f for f in folds):
            raise ValueError(f"{name}: no reverse_marginal evidence; run "
                             "`bench_selection.py reverse` first")
        src = np.concatenate([np.asarray(f["src"]) for f in folds])
        own = row_loss(task, y[src], np.concatenate([f["reverse_marginal"] for f in folds]))
        crit["circular validation"][name] = Criterion(-own, key="src")
        partner = store["candidates"].get("TCA k=" + name.split("k=")[1])
        if partner is not None and all("reverse_on_base" in f for f in partner["folds"]):
            other = row_loss(task, y[src], np.concatenate(
                [f["reverse_on_base"] for f in partner["folds"]]))
            crit.setdefault("paired circular", {})[name] = Criterion(other - own, key="src")
        elif method != "JDA":
            crit.get("paired circular", {}).pop(name, None)
    return crit


#: The variants studied (name: keyword arguments of :func:`_rule`).
RULES = {
    "previous default: 99 % bound, largest circular gain": {},
    "+ agreement guard (not worse than no adaptation at 99 %)": {"guard": "agreement"},
    "+ source-risk guard (not worse at 99 %)": {"guard": "source"},
    "+ fixed-reverse guard (not worse at 99 %)": {"guard": "fixed reverse"},
    "+ consensus-outlier guard (agreement < half the median)": {"guard": "consensus outlier"},
    "97.5 % bound, largest circular gain": {"confidence": 0.975},
    "95 % bound, largest circular gain": {"confidence": 0.95},
    "99 % (classification) / 95 % (regression) bound": {"regression_confidence": 0.95},
    "95 % bound + agreement guard": {"confidence": 0.95, "guard": "agreement"},
    "90 % bound + agreement guard": {"confidence": 0.90, "guard": "agreement"},
    "95 % bound + consensus-outlier guard": {"confidence": 0.95, "guard": "consensus outlier"},
    "+ diagnosis guard (only methods diagnose_shift recommends)": {"guard": "diagnosis"},
    "+ label-shift guard (a diagnosed label shift keeps only its methods)":
        {"guard": "label-shift diagnosis"},
    "99 % / 95 % (regression) bound + diagnosis guard":
        {"regression_confidence": 0.95, "guard": "diagnosis"},
    "99 % / 95 % (regression) bound + label-shift guard":
        {"regression_confidence": 0.95, "guard": "label-shift diagnosis"},
    "99 % / 95 % (regression) bound + MixVal guard (not worse at 99 %)":
        {"regression_confidence": 0.95, "guard": SCORER_ROWS["mixval"]},
    "99 % / 95 % (regression) bound + MaNo guard (not worse at 99 %)":
        {"regression_confidence": 0.95, "guard": SCORER_ROWS["mano"]},
    "99 % / 95 % (regression) bound, best MixVal among the eligible":
        {"regression_confidence": 0.95, "rank": SCORER_ROWS["mixval"]},
    "99 % / 95 % (regression) bound, best MaNo among the eligible":
        {"regression_confidence": 0.95, "rank": SCORER_ROWS["mano"]},
    "99 % bound, largest z (gain / s.e.)": {"rank": "z"},
    "99 % bound, best mean rank of circular gain and agreement": {"rank": "agreement"},
    # fourth round (2026-12-01; declared before any of their numbers was computed)
    "R4a: 99 % / 95 % (regression) bound, largest paired circular gain among the eligible":
        {"regression_confidence": 0.95, "rank": "paired"},
    "R4b: 99 % / 95 % (regression) bound, JDA reversed by TCA (its first stage)":
        {"regression_confidence": 0.95, "reverse": "marginal"},
    "R4c: R4a and R4b together":
        {"regression_confidence": 0.95, "rank": "paired", "reverse": "marginal"},
}


def _second_round(name):
    """Whether a :data:`RULES` entry belongs to the second round (the diagnosis guards)."""
    return "diagnos" in name or "label-shift guard" in name


def _third_round(name):
    """Whether a :data:`RULES` entry belongs to the third round (MixVal / MaNo)."""
    return "MixVal" in name or "MaNo" in name


def _fourth_round(name):
    """Whether a :data:`RULES` entry belongs to the fourth round (the reverse learner)."""
    return name.startswith("R4")


def rule_lines(dev, confirm=None):
    """Markdown lines: every rule of :data:`RULES` on the development (and confirmation) half."""
    lines = []
    adopted = None
    for label, tasks in (("development half (decides)", dev),
                         ("confirmation half (reported only)", confirm)):
        if tasks is None:
            continue
        table, stats = _rule_table(_judge_rules(tasks, RULES)[0])
        lines += [f"#### {label}", ""] + table
        if tasks is dev:
            def passes(name, ref, stats=stats):
                return _meets(stats[name], stats[ref])

            first = [n for n in RULES if not _second_round(n) and not _third_round(n)
                     and not _fourth_round(n)]
            passed = [n for n in first[1:] if passes(n, first[0])]
            adopted = min(passed, key=lambda n: stats[n][1]) if passed else None
            lines += ["", "**Verdict of the development half:** " + (
                f"adopt \"{adopted}\"." if adopted else
                "no variant meets the adoption rule; the default decision is unchanged.")]
            if adopted:
                second = [n for n in RULES if _second_round(n) and passes(n, adopted)]
                lines += ["", "**Second round** (the diagnosis guards, against the adopted "
                          "rule): " + (f"adopt \"{second[0]}\"." if second else
                                       "none meets the adoption rule.")]
                third = [n for n in RULES if _third_round(n) and passes(n, adopted)]
                lines += ["", "**Third round** (MixVal and MaNo as a guard or as the choice "
                          "among the eligible, against the adopted rule): " + (
                              "adopt \"" + min(third, key=lambda n: stats[n][1]) + "\"."
                              if third else "none meets the adoption rule.")]
                fourth = [n for n in RULES if _fourth_round(n) and passes(n, adopted)]
                adopted4 = min(fourth, key=lambda n: stats[n][1]) if fourth else None
                lines += ["", "**Fourth round** (the reverse learner: paired ranking, JDA "
                          "reversed by TCA, against the adopted rule): " + (
                              f"adopt \"{adopted4}\"." if adopted4 else
                              "none meets the adoption rule.")]
        lines.append("")
    return lines, adopted


# FRESH ROUND (2026-12-01, ~02:17 UTC; declared and committed before any number of the fresh
# task set existed, i.e. before its evidence was collected). Why: the confirmation half was
# looked at when the default was set back from the fourth round's paired choice to the largest
# circular gain (and the first round's consensus-outlier guard was written knowing one of its
# picks), so it is no longer independent evidence for these rules. The fresh set
# (``benchmarks._tasks.fresh_tasks``: the NIR-corn pairs for oil and starch, generated shifts
# of every kind with new seeds) is in neither half. Rules judged, each against the current
# default (99 % classification / 95 % regression bound, largest circular gain):
#   F1  R4a: among the eligible, the largest paired circular gain;
#   F2  F1 + an SA guard: an SA candidate is eligible only if its *fixed-reverse* gain over no
#       adaptation (reverse learner = the user's own model, for every candidate; the round-1
#       criterion, which SA's transposed alignment cannot bias) also has a positive one-sided
#       lower bound at the same confidence (99 % / 95 %). (The SA candidates' fixed-reverse z
#       on the two seen halves was looked at before declaring: negative on most NIR-corn tasks,
#       so F2 is expected to give up much of R4a's corn gain; hence F3.)
#   F3  F1 with SA reversed by TCA: every SA candidate's circular evidence (its eligibility
#       and its paired gain) comes from a reverse fit through the library's TCA of the same
#       dimension trained on SA's target pseudo-labels, paired against that TCA's reverse of
#       the baseline's labels: the R4b mechanism applied to the learner whose bias the third
#       round named (SA's reverse fit applies the transpose of its own alignment, so its own
#       labelling comes back intact); one TCA fit per SA candidate and split
#       (``bench_selection.py reverse``);
#   F4  99 % / 95 % (regression) bound + the consensus-outlier guard (reject a candidate whose
#       agreement with the consensus is below half the candidates' median; classification
#       only: it cannot act on regression);
#   F5  95 % bound (both task types) + the consensus-outlier guard.
# ADOPTION RULE (fresh set decides): a rule replaces the default only if on the fresh set its
# harm rate is not higher than the default's, its mean regret is lower by at least 0.1 point
# and its captured gain (mean of clipped per-task ratios) is not lower; among several, the
# lowest fresh regret. The development and confirmation halves and the pooled numbers over all
# three sets are reported for information only. Budget: if the evidence of all 32 tasks cannot
# be collected within the session's CPU budget, the generated seed-4 tasks are dropped first,
# then seed 3 (the NIR-corn tasks are kept), and the results say so.
#: The fresh round's text in selection.md (its declaration; the findings are added below it).
FRESH_TEXT = (
    "Declared (rules, adoption rule and task set committed) before any number of the fresh "
    "set existed. The confirmation half had been looked at when the default was set back from "
    "the fourth round's paired choice, and the first round's consensus-outlier guard was "
    "written knowing one of its picks, so that half is no longer independent evidence for "
    "these rules. The **fresh set** (`benchmarks._tasks.fresh_tasks`) is in neither half: the "
    "12 directed NIR-corn instrument pairs for the two properties the halves do not use (oil, "
    "starch; the same spectra as the halves' corn tasks, new labels) and generated shifts of "
    "each kind (covariate, label, conditional; classification and regression) with seeds the "
    "halves do not use (2, 3, 4), plus a pair without shift per task type (seed 8): 32 tasks, "
    "10 of them classification. Every other real pair the project holds (Office-Caltech, "
    "digits, COIL, Amazon, wine) is already in a half. Evidence: `OMP_NUM_THREADS=1 python "
    "benchmarks/bench_selection.py collect --fresh`, then `study --fresh` (fixed reverse, "
    "reverse on the baseline's labels) and `reverse --fresh` (SA and JDA reversed through "
    "TCA); table: `rules --fresh`. Rules, each against the current default (99 % "
    "classification / 95 % regression bound, largest circular gain): **F1** = R4a (the "
    "largest paired circular gain among the eligible); **F2** = F1 + an SA guard: an SA "
    "candidate is eligible only if its fixed-reverse gain over no adaptation (the user's own "
    "model as the reverse learner for every candidate, which SA's transposed alignment cannot "
    "bias) also passes the bound (99 % / 95 %); the SA candidates' fixed-reverse z on the two "
    "seen halves was looked at before declaring it (negative on most NIR-corn tasks, so F2 "
    "was expected to give up much of R4a's corn gain), hence **F3** = F1 with SA reversed by "
    "TCA: every SA candidate's circular evidence (eligibility and paired gain) comes from a "
    "reverse fit through the library's TCA of the same dimension on SA's pseudo-labels, "
    "paired against that TCA's reverse of the baseline's labels (the fourth round's R4b "
    "mechanism applied to the learner whose bias the third round named); **F4** = the 99 % / "
    "95 % (regression) bound + the consensus-outlier guard (classification only: it cannot "
    "act on regression); **F5** = the 95 % bound + the consensus-outlier guard. **Adoption "
    "rule (the fresh set decides):** harm rate not higher than the current default's, mean "
    "regret lower by at least 0.1 point, captured gain (mean) not lower; among several, the "
    "lowest fresh regret. The halves and the pooled numbers over all three sets are for "
    "information only.")
#: The fresh round's findings (numbers from ``rules --fresh``, written after they were seen).
FRESH_FINDINGS = [
    "**Findings.** (\"current default\" in the tables is the default when the round was "
    "declared: 99 % classification / 95 % regression bound, no guard.) Three rules meet the "
    "adoption rule on the fresh set: F1 (regret 12.83), F4 (11.58) and F5 (11.53); F2 "
    "(14.54) and F3 (13.80) lower the harm but raise the regret. By the declared tie-break "
    "(the lowest fresh regret) **F5 is adopted** by the letter of the rule: "
    "95 % for both task types and `guard=\"consensus\"`. Fresh set: harm 9 % -> 6 %, mean "
    "regret 13.54 -> 11.53, captured gain 28 % -> 36 % (mean), 54 % -> 61 % (total). **The "
    "library default is F4 instead (the lead's decision, taken after these numbers were "
    "seen, and said so):** the tie-break between F4 and F5 turned on 0.05 point of regret, "
    "less than the 0.1-point floor the rule itself asks of any change; F4 and F5 differ "
    "only in the classification bound, and the fresh set holds no real classification task "
    "(next bullets) while the development half, where the classification bound was chosen, "
    "loses two Office-Caltech tasks to the 95 % bound that the guard does not catch. F4 adds "
    "the guard, which is what the fresh tasks tested, to the bound chosen on the "
    "development half: `AdaptationSearchCV` / `decide` with `confidence=\"auto\"` (99 % "
    "classification, 95 % regression) and `guard=\"consensus\"`. Fresh set for F4: harm "
    "9 % -> 6 %, mean regret 13.54 -> 11.58, captured gain 28 % -> 33 % (mean), 54 % -> "
    "60 % (total); pooled over the 90 tasks its harm is 4 % (F5: 7 %).",
    "- *The guard* acts on one fresh task, the label-shift failure the third round described "
    "on the confirmation half, now on a task nobody had seen: generated label class. #3, "
    "where SA k=4 passes the circular bound at z = 4.4 but agrees with the candidates' "
    "consensus on 38 % of the target rows (median 99 %) and loses 62.5 points; every guarded "
    "rule (F2-F5) keeps it out. It changes no other pick on any of the 90 tasks at 99 %.",
    "- *F5 against F4* (the same guard at 99 % in classification): they differ on two fresh "
    "classification tasks whose best candidate passes at 95 % but not at 99 % (generated "
    "label class. #3, DiscriminativeReweighter +1.5, z = 1.95; generated conditional class. "
    "#3, TCA k=4 +0.2, z = 1.74): 0.05 point of regret, less than the 0.1-point floor the "
    "rule asks of a change over the default; the declared tie-break picks F5. The seen "
    "halves point the other way for classification: on the development half the 95 % bound "
    "adds two harmful Office-Caltech picks (caltech → amazon CORAL reg=0.1 -2.0, caltech → "
    "webcam CORAL reg=0.1 -7.8; harm 7 % -> 14 %, which is why the second round kept 99 % "
    "there) that the guard does not catch, while on the confirmation half it adds three "
    "gains (generated covariate class. #1 +10.0, Office caltech → dslr +3.2, dslr → amazon "
    "+3.3). Pooled over the 90 tasks F4 has the lower harm (4 % vs 7 %) at nearly the same "
    "regret (9.10 vs 9.00). Keeping 99 % in classification (F4, the library default) is a "
    "choice against the letter of the declared rule, made after seeing the fresh numbers.",
    "- *F1 (R4a, the paired choice)* also meets the rule on the fresh set (harm 9 % -> 6 %, "
    "regret 12.83, captured 39 % mean): it moves five NIR-corn picks from TCA to the better "
    "SA (+1.1 to +10.4 points, among them corn m5 → mp6 oil, from a harmful TCA k=30 -4.2 "
    "to SA k=30 +6.2), one between SA dimensions (-1.7) and one generated covariate pick "
    "(+1.2). The fresh set holds no Office-like classification task, where its one "
    "confirmation harm arose, so it does not test that bias. F1 combined with F5 was not "
    "declared and is not adopted; it needs tasks nobody has seen.",
    "- *The SA guards (F2, F3)* remove SA also where it is best: F3 keeps no adaptation on "
    "corn m5 → mp6 starch (SA k=30 +79.5) and takes TCA on mp6 → m5 starch (-6.0 against "
    "SA); TCA's reverse learner learns SA's corn labelling back worse than its own, so "
    "reversing SA through TCA moves the reverse-learner handicap instead of removing it. F2's "
    "fixed reverse rejects SA on most corn tasks, as expected when it was declared.",
    "- *Where the fresh regret remains* (F4, 11.6 points; F5 11.5): the conditional-shift "
    "regression "
    "tasks (CORAL reg=0.1 +53 to +58 on three tasks, never eligible: mechanism (d) of the "
    "fourth round), the covariate-shift tasks (reweighters +26 to +79 in classification, +7 to "
    "+9 in regression: mechanism (a)), and two NIR-corn oil pairs where TCA passes the bound "
    "and loses, the two harmful fresh picks of F4 and F5 (corn mp5 → mp6 oil, TCA k=10 -19.0 at "
    "z = 2.7; corn m5 → mp6 oil, TCA k=30 -4.2 at z = 8.2, where SA k=30 gains 6.2): oil "
    "varies over about one percentage point and no adaptation is already within 0.1 of it on "
    "these pairs; in regression the guard cannot act.",
    "- *The issue's targets* for the library default (F4). On the fresh set, the one set "
    "nothing was chosen on before this round: harm 6 % (target <= 5 %: one harmful task of "
    "32 too many), captured gain 33 % mean / 60 % total (target >= 70 %: missed by 37 points "
    "on the mean), mean regret 11.6 points (target <= 1.5: missed by 10.1). On the "
    "confirmation half, which had been seen (earlier rounds' choices looked at it, this rule "
    "was not chosen on it): harm 0 % (met), captured 47 % mean / 61 % total (missed by 23 "
    "points), regret 8.35 (missed by 6.85). Plain source cross-validation, the baseline to "
    "beat, on the fresh set: harm 12 %, regret 19.2, captured 17 % mean / 34 % total.",
    "- *What the fresh set cannot say*: its 10 classification tasks are all generated (every "
    "real classification pair the project holds is in a half), and its 12 real tasks share "
    "their spectra with the halves' corn tasks (new properties, same instruments). Prediction "
    "entropy, demoted for harm rates of 37-50 % on the halves, picks the best or nearly the "
    "best candidate on all 10 generated classification tasks here (regret 0.1): the "
    "generated covariate shifts reward the confident reweighted models. The fresh evidence "
    "on classification is therefore weak, which matters for the 95 % vs 99 % question above.",
    "Cost of the fresh evidence: `collect --fresh` 62 CPU-seconds, `study --fresh` 42, "
    "`reverse --fresh` 4 and `reverse` on the halves (SA through TCA) 33 (OMP_NUM_THREADS=1, "
    "nice 19, load average 2-3 on 2 shared cores); every fresh task and every default "
    "candidate was collected (no task dropped).",
]
FRESH_REFERENCE = "current default: 99 % / 95 % (regression) bound, largest circular gain"
FRESH_RULES = {
    FRESH_REFERENCE: {"regression_confidence": 0.95},
    "F1 (R4a): largest paired circular gain among the eligible":
        {"regression_confidence": 0.95, "rank": "paired"},
    "F2: F1 + SA guard (an SA candidate must also pass the bound on fixed reverse)":
        {"regression_confidence": 0.95, "rank": "paired", "sa_guard": "fixed"},
    "F3: F1 with SA reversed by TCA (its eligibility and its paired gain)":
        {"regression_confidence": 0.95, "rank": "paired", "reverse": "sa"},
    "F4: 99 % / 95 % (regression) bound + consensus-outlier guard":
        {"regression_confidence": 0.95, "guard": "consensus outlier"},
    "F5: 95 % bound + consensus-outlier guard":
        {"confidence": 0.95, "guard": "consensus outlier"},
}


def _rule_table(judged):
    """Markdown table lines of ``{rule: [judge results]}``, and ``{rule: (harm, regret,
    captured gain (mean))}``."""
    lines = ["| rule | harm rate | mean regret | captured gain (mean) | captured gain (total) |",
             "|---|---:|---:|---:|---:|"]
    stats = {}
    for name, js in judged.items():
        m = summarise(js)
        stats[name] = (m["harm"], m["regret"], captured_clipped(js))
        lines.append(f"| {name} | {100 * m['harm']:.0f} % | {m['regret']:.2f} | "
                     f"{100 * stats[name][2]:.0f} % | {100 * m['captured_total']:.0f} % |")
    return lines, stats


def _meets(candidate, reference):
    """The adoption rule on ``(harm, regret, captured)``: harm not higher, regret lower by at
    least 0.1 point, captured gain (mean) not lower."""
    (h, r, c), (h0, r0, c0) = candidate, reference
    return h <= h0 + 1e-9 and r <= r0 - 0.1 and c >= c0 - 1e-9


def _judge_rules(tasks, rules):
    """``({rule: [judge results]}, {rule: {task name: pick}})`` over the collected ``tasks``."""
    from benchmarks.bench_selection import default_names, load_store

    judged = {name: [] for name in rules}
    picks = {name: {} for name in rules}
    for task in tasks:
        store = load_store(task, default_names)
        if store is None or NO_ADAPTATION not in store["candidates"]:
            continue
        crit = all_criteria(store)
        for name, kw in rules.items():
            pick = _rule(crit, task=store["task"], store=store, **kw)
            j = judge(store, pick)
            judged[name].append({**j, "name": task.name, "pick": pick})
            picks[name][task.name] = (pick, j["gain"])
    return judged, picks


#: The task sets before each round, in the order the rounds report them.
EARLIER_LABELS = ("development half", "confirmation half", "fresh set", "round-5 set",
                  "round-6 set", "round-7 set")


def round_lines(deciding, earlier, rules, reference, label="fresh",
                seen_note="seen; information"):
    """Markdown lines: a round's ``rules`` on the ``deciding`` task set (its verdict by
    :func:`_meets` against ``reference``), on each earlier set (``earlier``: the sets of
    :data:`EARLIER_LABELS` in order, as far as the round has them; headed with ``seen_note``)
    and pooled, then the deciding set's tasks whose pick differs."""
    lines = []
    seen = [(f"{name} ({seen_note})", tasks) for name, tasks in zip(EARLIER_LABELS, earlier)]
    everything = deciding + [t for _, tasks in seen for t in tasks]
    sets = ((f"{label} set (decides)", deciding), *seen,
            (f"pooled: all {('three', 'four', 'five', 'six', 'seven', 'eight')[len(seen) - 2]} "
             "sets (information)",
             everything))
    deciding_picks = None
    for name, tasks in sets:
        judged, picks = _judge_rules(tasks, rules)
        n = len(judged[reference])
        n_cls = sum(j["task"] == "classification" for j in judged[reference])
        table, stats = _rule_table(judged)
        lines += [f"#### {name}: {n} tasks ({n_cls} classification)", ""] + table + [""]
        if tasks is deciding:
            deciding_picks = picks
            passed = [n for n in rules if n != reference and _meets(stats[n], stats[reference])]
            verdict = min(passed, key=lambda n: stats[n][1]) if passed else None
            lines += [f"**Verdict of the {label} set:** " + (
                f"adopt \"{verdict}\"." if verdict else
                "no rule meets the adoption rule; the default decision is unchanged."), ""]
            harmful = [j for j in judged[reference] if j["gain"] < -j["margin"]]
            lines += [f"Harmful picks of the current default on the {label} set: " + (
                "; ".join(f"{j['name']} ({j['pick']}, {j['gain']:+.1f})" for j in harmful)
                if harmful else "none") + ".", ""]
    ref = deciding_picks[reference]
    changed = sorted({t for name in rules for t, p in deciding_picks[name].items()
                      if p[0] != ref[t][0]})
    if changed:
        short = [n.split(":")[0] for n in rules]
        lines += [f"Tasks of the {label} set where some rule's pick differs from the default's "
                  "(pick, gain over no adaptation):", "",
                  "| task | " + " | ".join(short) + " |", "|---" * (len(short) + 1) + "|"]
        for t in changed:
            lines.append(f"| {t} | " + " | ".join(
                f"{deciding_picks[n][t][0]} ({deciding_picks[n][t][1]:+.1f})" for n in rules)
                + " |")
        lines.append("")
    return lines


def fresh_rule_lines(fresh, dev, confirm):
    """Markdown lines: the fresh round's rules on the fresh set (decides), each half and pooled."""
    return round_lines(fresh, (dev, confirm), FRESH_RULES, FRESH_REFERENCE)


#: The fifth round (declared with its task set, :func:`benchmarks._tasks.round5_tasks`, before
#: any of its numbers existed). Reference: the library default after the fresh round (F4).
ROUND5_REFERENCE = "current default (F4): 99 % / 95 % (regression) bound + consensus guard"
ROUND5_RULES = {
    ROUND5_REFERENCE: {"regression_confidence": 0.95, "guard": "consensus outlier"},
    "G1: F4 + paired fallback in regression (95 %; circular not worse at 95 %; SA excluded)":
        {"regression_confidence": 0.95, "guard": "consensus outlier", "fallback": "paired"},
}
ROUND5_TEXT = (
    "Declared (rule, adoption rule and task set committed) before any number of the round-5 "
    "set existed. **Where it comes from.** The fourth round named mechanism (d) on the "
    "development half: on conditional-shift regression CORAL's labelling is far better than "
    "no adaptation's (CORAL reg=0.1 +57 points on generated conditional regre. #0) but never "
    "eligible, because no adaptation's reverse learner (Ridge on Ridge's own predictions) "
    "learns its labelling back almost exactly, which no adapting learner can; the paired "
    "circular gain (the candidate's labelling against the baseline's under the candidate's "
    "own reverse learner) sees it (z = +12), but the paired gain's argmax had 41-50 % harm. "
    "Before declaring, the candidates' circular and paired z of every regression task of the "
    "three earlier sets (all seen) were looked at, and the rule below was computed on them "
    "(`rules --round5` prints it): development half regret 7.10 -> 5.05, confirmation 8.35 -> "
    "6.33, fresh set 11.58 -> 8.17, no harm added on any of them; the same fallback with SA "
    "included picks SA k=4 on fresh generated label regre. #4 (-164.5 points; SA's reverse "
    "fit applies the transpose of its own alignment, so its paired gain is biased towards its "
    "own labelling, the bias the third and fourth rounds named), and extended to "
    "classification it adds harm on the confirmation half and the fresh set (7 %, 9-12 %), so "
    "neither was declared. Those numbers are *seen* evidence: the rule was shaped on them. "
    "**G1** = F4, and in regression, when no candidate passes the circular bound, a "
    "*fallback*: a candidate (SA excluded) is eligible if its paired circular gain passes "
    "the same one-sided 95 % bound and its circular error is not significantly worse than no "
    "adaptation's (the same 95 %, a non-inferiority check); the largest paired gain among "
    "them is taken. The **round-5 set** (`benchmarks._tasks.round5_tasks`) is in no earlier "
    "set: generated shifts of each kind with seeds 5 and 6, a pair without shift per task "
    "type (seed 9), and real rows under a sample-selection bias (each wine colour split into "
    "source and target by its alcohol or its volatile acidity; both task types): 22 tasks, "
    "11 of them classification. G1 changes only regression picks where the default keeps no "
    "adaptation. Evidence: `OMP_NUM_THREADS=1 python benchmarks/bench_selection.py collect "
    "--round5`, then `study --round5` (the paired evidence); table: `rules --round5`. "
    "**Adoption rule (the round-5 set decides):** the fresh round's: harm rate not higher than "
    "the current default's, mean regret lower by at least 0.1 point, captured gain (mean) not "
    "lower. The earlier sets and the pooled numbers are for information only.")


def round5_rule_lines(round5, dev, confirm, fresh):
    """Markdown lines: the fifth round's rules on the round-5 set (decides) and the earlier
    sets (seen)."""
    return round_lines(round5, (dev, confirm, fresh), ROUND5_RULES, ROUND5_REFERENCE,
                       label="round-5")


#: The fifth round's findings (numbers from ``rules --round5``, written after they were seen).
ROUND5_FINDINGS = [
    "**Findings.** G1 is not adopted: on the round-5 set it lowers the mean regret from 12.70 "
    "to 8.03 points and raises the captured gain from 0 % to 12 % (mean), 37 % (total), but "
    "raises the harm rate from 0 % to 5 % (wine white by alcohol regre., CORAL reg=0.1 -4.4 "
    "points). The fallback fires on both generated conditional-shift regression tasks, as on "
    "every such task of the earlier sets (CORAL reg=0.1 +54.3 and +53.5), and on three of the "
    "four wine regression tasks under a sample-selection bias, where CORAL does not help "
    "(-0.6, -4.4, -0.2): CORAL's labelling beats no adaptation's under CORAL's reverse learner "
    "there too, but a selection bias within one population is a covariate shift whose "
    "labelling function is the same in both domains, and re-colouring the source does not "
    "help it. The paired gain cannot tell the two kinds of shift apart, and the real tasks "
    "are the ones a user brings. The library default is unchanged (F4) and the fallback is "
    "not offered as an option.",
    "- *The default on the round-5 set* (F4): harm 0 % (met, on the set nobody had seen), "
    "captured gain 0 % (target >= 70 %), mean regret 12.7 (target <= 1.5). It keeps no "
    "adaptation on 20 of the 22 tasks and adapts on two without harm (wine red by alcohol "
    "regre., TCA k=10 -0.1; generated label class. #5, DiscriminativeReweighter +0.0). The "
    "regret is the same two mechanisms as before: reweighters on generated covariate shift "
    "(+72.2 and +81.0 in classification, +7.6 and +2.2 in regression; importance weighting "
    "calls DiscriminativeReweighter better at z = 3.0 on one of them and 1.8 on the other) "
    "and CORAL on generated conditional-shift regression (+54.3, +53.5). On the eight real "
    "wine tasks the best candidate gains at most 2.8 points (KMM on white by alcohol regre.) "
    "and no adaptation is best or within 0.5 point on seven: keeping it is right there.",
    "- *Other criteria on the round-5 set* (table above): agreement with the consensus has the "
    "lowest regret (6.7, harm 5 %, captured 49 %), but on the fresh set 19.9 (harm 6 %) and on "
    "the confirmation half 10.6; importance weighting and DEV reach the reweighters' gains "
    "with 18-27 % harm; circular validation's argmax has 23 % harm. No criterion is better "
    "than the default on every set.",
    "Cost of the round-5 evidence: `collect --round5` 37 CPU-seconds, `study --round5` under "
    "30 seconds of wall time (OMP_NUM_THREADS=1); every task and every default candidate was "
    "collected.",
]


#: The sixth round (declared with its task set, :func:`benchmarks._tasks.round6_tasks`, before
#: any of its numbers existed). Reference: the library default (F4).
ROUND6_RULES = {
    ROUND5_REFERENCE: ROUND5_RULES[ROUND5_REFERENCE],
    "G2a: F4 + reweighter fallback in classification (importance weighted, 99 %)":
        {"regression_confidence": 0.95, "guard": "consensus outlier",
         "fallback": "reweighter 0.99"},
    "G2b: F4 + reweighter fallback in classification (importance weighted, 95 %)":
        {"regression_confidence": 0.95, "guard": "consensus outlier",
         "fallback": "reweighter 0.95"},
}
ROUND6_TEXT = (
    "Declared (rules, adoption rule and task set committed) before any number of the round-6 "
    "set existed. **Where it comes from.** Mechanism (a) of the fourth round: a reweighter's "
    "gain is invisible to circular validation (reweighting the source changes the reverse "
    "fit little), while importance weighting is the risk a reweighter minimises. The fourth "
    "round did not declare a family-aware rule because on the development half importance "
    "weighting calls DiscriminativeReweighter significantly better on a regression task "
    "where it triples the RMSE (generated covariate regre. #1, effective sample size 1-2). "
    "**G2a** = F4, and in classification, when no candidate passes the circular bound (after "
    "the guard), a *fallback*: the reweighter (DiscriminativeReweighter, KMM) whose "
    "importance-weighted gain over no adaptation passes a one-sided 99 % bound, the largest "
    "such gain; **G2b** the same at 95 %. Computed on the four earlier sets (all seen, the "
    "rules were shaped on them; `rules --round6` prints them): no harm added anywhere; G2a "
    "changes two picks (confirmation generated covariate class. #1, KMM +54.2; round-5 "
    "generated covariate class. #6, DiscriminativeReweighter +81.0; regret 8.35 -> 6.48 and "
    "12.70 -> 9.01), G2b also round-5 #5 (+72.2; round-5 regret 5.73); in regression the same "
    "fallback picks that tripled RMSE (development regret 7.10 -> 14.92), so it is not "
    "declared there. Every change on the seen sets is on a generated task; the real tasks "
    "where nothing passes the bound never had a reweighter pass at 95 %. The **round-6 "
    "set** (`benchmarks._tasks.round6_tasks`) is in no earlier set, classification only (the "
    "rules change nothing else): generated shifts of each kind with seeds 10 and 11 and a "
    "pair without shift (seed 12), and ten real domains under a sample-selection bias along "
    "their first principal component (each row a source row with probability "
    "sigmoid(-2 z)): the four Amazon-review categories, MNIST, USPS, COIL1, COIL2, Office "
    "amazon and caltech: 17 tasks. Evidence: `OMP_NUM_THREADS=1 python "
    "benchmarks/bench_selection.py collect --round6`; table: `rules --round6`. **Adoption "
    "rule (the round-6 set decides):** the fresh round's: harm rate not higher than the "
    "current default's, mean regret lower by at least 0.1 point, captured gain (mean) not "
    "lower; among several, the lowest round-6 regret. The earlier sets are for information "
    "only.")


def round6_rule_lines(round6, dev, confirm, fresh, round5):
    """Markdown lines: the sixth round's rules on the round-6 set (decides) and the earlier
    sets (seen)."""
    return round_lines(round6, (dev, confirm, fresh, round5), ROUND6_RULES, ROUND5_REFERENCE,
                       label="round-6")


#: The sixth round's findings (numbers from ``rules --round6``, written after they were seen).
ROUND6_FINDINGS = [
    "**Findings.** Both rules meet the adoption rule on the round-6 set and **G2b is adopted** "
    "(the lower regret): harm 6 % as before (the one harmful pick, COIL coil2 by PC1, TCA k=30 "
    "-6.7, is the circular bound's, which G2b does not touch), mean regret 10.10 -> 5.69, "
    "captured gain -9 % -> 9 % (mean), -4 % -> 42 % (total). It changes two picks, both "
    "gains: digits usps by PC1, a real domain under a selection bias (DiscriminativeReweighter "
    "+3.0; G2a's 99 % bound misses it), and generated covariate class. #10 "
    "(DiscriminativeReweighter +72.0). It is now the library default: `fallback=\"auto\"` of "
    "`AdaptationSearchCV`, `decide` and `negative_transfer_check` (a reweighter is any "
    "candidate whose final step is an sktl reweighter); in regression it stays off.",
    "- *The library default (G2b) on every set* (the default rows of the tables above): "
    "development half harm 7 %, regret 7.1, captured 47 % (71 %), unchanged; confirmation "
    "half 0 %, 6.5 (was 8.3), 51 % (70 %); fresh set 6 %, 11.6, 33 % (60 %), unchanged; "
    "round-5 set 0 %, 5.7 (was 12.7), 25 % (55 %); round-6 set 6 %, 5.7 (was 10.1), 9 % "
    "(42 %). Pooled over the 129 tasks: harm 4 % for both, regret 9.84 -> 7.65, captured "
    "32 % -> 38 % (mean), 53 % -> 64 % (total). The issue's targets (harm <= 5 %, captured "
    ">= 70 %, regret <= 1.5) are still missed on every set but harm: the fallback adds "
    "reweighter gains, not the JDA-over-TCA, SA-over-TCA and conditional-regression gains.",
    "- *`negative_transfer_check`* is the search with one candidate, so the fallback acts "
    "there whenever a reweighter is not better on circular validation, also where another "
    "method would have been chosen: on the development half it turns two pairs to \"adapt\" "
    "that are harmful (amazon books → elec, DiscriminativeReweighter -2.7 and KMM -3.3, "
    "importance-weighted z about 6; the search takes TCA there), on the confirmation half "
    "two helpful ones (+54.2 each), on the fresh and round-5 sets five helpful ones and no "
    "harmful one, on the round-6 set three helpful ones. `fallback=None` keeps the old "
    "verdicts.",
    "- *What the round-6 set says beyond the rule*: on the ten real selection-bias tasks the "
    "best candidate gains 0.8-4.5 points, a reweighter on six of them (Amazon dvd and elec, "
    "both digit sets, both COIL sets), TCA on the two Office domains, CORAL on Amazon books "
    "and kitchen; the default keeps no adaptation on eight, takes DiscriminativeReweighter on "
    "usps (+3.0) and TCA k=30 on coil2 (-6.7, the set's one harmful pick). Over the 17 tasks "
    "importance weighting's argmax has the lowest regret (5.2) at 24 % harm, circular "
    "validation's 12.2 at 24 % harm; the other generated covariate task (#11, "
    "DiscriminativeReweighter +61.8) stays unseen by every rule (its importance-weighted gain "
    "does not pass 95 %).",
    "Cost of the round-6 evidence: `collect --round6` 223 CPU-seconds (one thread); every "
    "task and every default candidate was collected.",
]


#: The seventh round: the adopted default (G2b) against the one before it (F4) on tasks in
#: no earlier set (:func:`benchmarks._tasks.round7_tasks`), declared before any of its
#: numbers existed; a confirmation, nothing is chosen on it.
ROUND7_RULES = {k: v for k, v in ROUND6_RULES.items() if not k.startswith("G2a")}
ROUND7_TEXT = (
    "Declared (task set committed) before any of its numbers existed, after the sixth round "
    "had adopted G2b: a **confirmation** on 19 more classification tasks in no earlier set, "
    "on which nothing is chosen. The ten real domains of the round-6 set split by a "
    "selection bias along their *second* principal component (a different split of the same "
    "populations), each wine colour split along its first (classification; round 5 used "
    "alcohol and volatile acidity), and generated shifts of each kind with seeds 13 and 14 "
    "plus a pair without shift (seed 15). Evidence: `OMP_NUM_THREADS=1 python "
    "benchmarks/bench_selection.py collect --round7`; table: `rules --round7`.")


def confirmation_lines(tasks, rules, reference, label):
    """Markdown lines: a confirmation round's ``rules`` (the adopted default against the one
    before it, ``reference``) on ``tasks``, and the tasks whose picks differ."""
    judged, picks = _judge_rules(tasks, rules)
    n = len(judged[reference])
    n_cls = sum(j["task"] == "classification" for j in judged[reference])
    lines = [f"#### {label} set (confirmation): {n} tasks"
             + (f" ({n_cls} classification)" if n_cls < n else ""), ""]
    lines += _rule_table(judged)[0] + [""]
    for kind in ("classification", "regression"):
        part = {k: [j for j in js if j["task"] == kind] for k, js in judged.items()}
        if 0 < len(part[reference]) < n:
            lines += [f"{kind.capitalize()} tasks only:", ""] + _rule_table(part)[0] + [""]
    ref = picks[reference]
    changed = sorted({t for name in rules for t, p in picks[name].items()
                      if p[0] != ref[t][0]})
    if changed:
        short = [n.split(":")[0] for n in rules]
        lines += [f"Tasks of the {label} set where the picks differ (pick, gain over no "
                  "adaptation):", "", "| task | " + " | ".join(short) + " |",
                  "|---" * (len(short) + 1) + "|"]
        lines += [f"| {t} | " + " | ".join(f"{picks[n][t][0]} ({picks[n][t][1]:+.1f})"
                                          for n in rules) + " |" for t in changed]
        lines.append("")
    return lines


def round7_rule_lines(round7):
    """Markdown lines: the adopted default against the previous one on the round-7 set."""
    return confirmation_lines(round7, ROUND7_RULES, ROUND5_REFERENCE, "round-7")


#: The seventh round's findings (written after its numbers were seen).
ROUND7_FINDINGS = [
    "**Findings.** The adopted default (G2b) adds no harm to the previous one (11 % each) "
    "and lowers the mean regret from 7.87 to 5.46 points (captured gain -5 % -> 4 % mean, "
    "-1 % -> 33 % total); it changes one pick, a generated covariate shift "
    "(DiscriminativeReweighter +45.8); the other (#14, +68.5) stays unseen, its "
    "importance-weighted gain not passing 95 %. On the twelve real tasks no reweighter "
    "passes the fallback's bound. The set's two harmful picks are the circular bound's, on "
    "Office under a selection bias along the second principal component (caltech TCA k=10 "
    "-9.0, amazon CORAL reg=1 -2.3, where no adaptation is the best candidate); on the "
    "Amazon, digits and COIL tasks the best candidate gains 1.5-4.2 points and the default "
    "keeps no adaptation on all but one (Amazon dvd, TCA k=10 -0.8). So on the 29 real "
    "selection-bias tasks of rounds 5-7 the default decision harmed three (COIL coil2 by "
    "PC1, Office caltech and amazon by PC2), all by the circular bound on feature-alignment "
    "methods; the issue's harm target (<= 5 %) is missed on this set (11 %).",
    "- *`negative_transfer_check`* on the round-7 set: 6 \"adapt\" verdicts, 3 of them "
    "harmful (Office caltech TCA k=10 -9.0, Office amazon CORAL reg=1 -2.3, Amazon dvd JDA "
    "k=30 -3.0), 1 helpful; of 14 large real gains it calls 1 \"adapt\".",
    "Cost of the round-7 evidence: `collect --round7` 202 CPU-seconds (one thread); every "
    "task and every default candidate was collected.",
]


#: The eighth round (declared with its task set, :func:`benchmarks._tasks.round8_tasks`,
#: before any of its numbers existed). Reference: the library default (G2b).
ROUND8_REFERENCE = "current default (G2b): F4 + reweighter fallback (95 %)"
ROUND8_RULES = {
    ROUND8_REFERENCE: ROUND6_RULES[
        "G2b: F4 + reweighter fallback in classification (importance weighted, 95 %)"],
    "H1: G2b + the second round's diagnosis guard":
        {"regression_confidence": 0.95, "guard": ("consensus outlier", "diagnosis"),
         "fallback": "reweighter 0.95"},
}
ROUND8_TEXT = (
    "Declared (rule, adoption rule and task set committed) before any number of the round-8 "
    "set existed. **Where it comes from.** On the real selection-bias tasks of rounds 5-7 "
    "every harmful pick of the default was a feature alignment (TCA, CORAL) passing the "
    "circular bound. The second round's *diagnosis guard* (only the methods "
    "`sktl.metrics.diagnose_shift` recommends for the shift it names may be adopted; "
    "defined and measured on the halves then, not adopted: development harm 7 % -> 3 % but "
    "regret 7.10 -> 7.70) was measured, unchanged, on top of G2b on the classification tasks "
    "of rounds 5-7 after their diagnoses were computed (`diagnose --round5/6/7`); that "
    "measurement was not declared, so it is *seen* evidence: round 6 harm 6 % -> 0 %, "
    "regret 5.69 -> 5.29; round 7 harm 11 % -> 0 %, regret 5.46 -> 4.87; round 5 "
    "unchanged; development half (classification) harm 11 % -> 5 %, regret 5.46 -> 6.38 "
    "(it loses TCA's +19.8 on digits usps → mnist); confirmation half (classification) "
    "regret 3.52 -> 3.66 (the fresh set's classification tasks were diagnosed after the "
    "declaration). **H1** = G2b + the diagnosis guard (classification; the "
    "reweighter fallback is unchanged). The **round-8 set** (`benchmarks._tasks."
    "round8_tasks`) is in no earlier set: the ten real domains of round 6 split by a "
    "selection bias along their *third* principal component, each wine colour along its "
    "second, and generated shifts of each kind with seeds 16 and 17 plus a pair without "
    "shift (seed 18): 19 classification tasks. Evidence: `OMP_NUM_THREADS=1 python "
    "benchmarks/bench_selection.py collect --round8`, then `diagnose --round8`; table: "
    "`rules --round8`. **Adoption rule (the round-8 set decides):** the fresh round's: harm "
    "rate not higher than the current default's, mean regret lower by at least 0.1 point, "
    "captured gain (mean) not lower.")


def round8_rule_lines(round8, *earlier):
    """Markdown lines: the eighth round's rule on the round-8 set (decides) and the earlier
    sets' classification tasks (seen)."""
    cls = [[t for t in tasks if t.task == "classification"] for tasks in earlier]
    return round_lines(round8, cls, ROUND8_RULES, ROUND8_REFERENCE, label="round-8",
                       seen_note="seen; classification tasks; information")


#: The ninth round: the adopted default (H1) against the one before it (G2b) on tasks in no
#: earlier set (:func:`benchmarks._tasks.round9_tasks`), declared before any of its numbers
#: existed; a confirmation, nothing is chosen on it.
ROUND9_REFERENCE = ROUND8_REFERENCE
ROUND9_RULES = ROUND8_RULES
ROUND9_TEXT = (
    "Declared (task set committed) before any of its numbers existed, after the eighth round "
    "had adopted H1: a **confirmation** of the library default on 36 more tasks in no "
    "earlier set, both task types, on which nothing is chosen (the round-8 set had decided "
    "H1, so until now every number of the default on unseen tasks was from a set that chose "
    "it). The ten real domains of the round-6 set split by a selection bias along their "
    "*fourth* principal component; each wine colour split along its first, second and "
    "third principal component for the regression target (earlier sets split the colours by "
    "principal component for classification only) and along its third for classification; "
    "the 80 samples of NIR-corn instrument m5 split by a selection bias along their first "
    "principal component, one regression task per property (moisture, oil, protein, starch; "
    "every earlier corn task is an instrument pair); and generated shifts of each kind, both "
    "task types, with seeds 19 and 20 plus a pair without shift per task type (seed 21): 36 "
    "tasks, 19 classification. In regression H1 and G2b are the same rule (the guard and the "
    "fallback act in classification only). Considered on the seen sets before this "
    "declaration and dropped, so not judged here: the reweighter fallback in regression "
    "with a Student-t bound of the weights' effective sample size (Kish) in place of the "
    "normal one; it still adopts DiscriminativeReweighter on the development half's "
    "generated covariate regre. #1 (-226.8 points, from an importance-weighted gain the "
    "weights do not make uncertain), and no regression task of the seen sets gains from "
    "it. Evidence: `OMP_NUM_THREADS=1 python "
    "benchmarks/bench_selection.py collect --round9`, then `diagnose --round9`; table: "
    "`rules --round9`.")


def round9_rule_lines(round9):
    """Markdown lines: the adopted default against the previous one on the round-9 set."""
    return confirmation_lines(round9, ROUND9_RULES, ROUND9_REFERENCE, "round-9")


#: The ninth round's findings (written after its numbers were seen).
ROUND9_FINDINGS = [
    "**Findings.** On 36 tasks no rule was shaped on, the library default (H1) harms two "
    "(6 %): NIR-corn m5 starch by PC1 (TCA k=10, -5.1 % of the RMSE; regression, where "
    "no guard checks the circular bound) and Amazon books by PC4 (TCA k=10, -1.7 points; "
    "diagnosed a conditional shift, for which feature alignment is recommended). Its mean "
    "regret is 9.2 points and it captures 13 % of the available gain on average (5 % of "
    "the total); classification: harm 5 % (1 of 19), regret 6.9; regression: harm 6 % "
    "(1 of 17), regret 11.7. Against the default before it (G2b) the diagnosis guard "
    "removes one harmful pick (COIL coil1 by PC4, TCA k=30 -4.8, diagnosed a label shift) "
    "and one gain (COIL coil2 by PC4, KMM +1.2, which passed the circular bound under a "
    "diagnosed conditional shift and whose importance-weighted gain does not pass the "
    "fallback's bound): harm 8 % -> 6 %, regret 9.28 -> 9.18. Plain source "
    "cross-validation on the same tasks: harm 14 %, regret 9.9, captured 6 % (-3 %). So on "
    "unseen data the default's harm stays near the issue's 5 % (2 of 36) and it beats "
    "source cross-validation on all three measures, while captured gain and regret stay "
    "far from their targets (70 %, 1.5 points).",
    "- *Where the missed gain is.* The reweighters under a covariate shift (generated "
    "covariate class. #19 and #20: DiscriminativeReweighter +45.0 and +71.5, their "
    "importance-weighted gains not passing 95 %; regression #19 and #20: +5.8 and +34.8, "
    "where no fallback acts); CORAL under a conditional shift in regression (#19, #20: "
    "+53.9, +52.7, which no label-free criterion credits, as on every earlier set); and "
    "NIR-corn m5 oil and starch by PC1 (TCA k=30 +14.4, DiscriminativeReweighter +12.9). "
    "On the Amazon tasks the default takes TCA or JDA and captures most of the gain (dvd "
    "+6.2 of 6.2, elec +6.0 of 6.0, kitchen +2.8 of 4.0), books being the one loss. The "
    "agreement criterion's argmax did well on this set (harm 6 %, regret 5.9, captured "
    "38 % (41 %)) but not on the development half (7 %, 13.2), so nothing is concluded "
    "from it.",
    "- *`negative_transfer_check`* on the round-9 set: 15 \"adapt\" verdicts, 3 of them "
    "harmful (TCA on NIR-corn m5 starch by PC1, k=10 -5.1 and k=30 -2.9; TCA k=10 on "
    "Amazon books by PC4, -1.7), 11 helpful; of 22 large real gains it calls 3 \"adapt\" "
    "(TCA k=10 and k=30 on Amazon dvd by PC4, JDA k=30 on Amazon elec by PC4).",
    "Cost of the round-9 evidence: `collect --round9` 137 CPU-seconds, `study --round9` "
    "61, `diagnose --round9` 47 (one thread each); every task and every default candidate "
    "was collected.",
]


#: The eighth round's findings (written after its numbers were seen).
ROUND8_FINDINGS = [
    "**Findings.** H1 meets the adoption rule on the round-8 set and **is adopted**: harm "
    "11 % -> 5 %, mean regret 1.56 -> 0.93, captured gain 44 % (93 % of the total) "
    "unchanged. It changes one pick: Office amazon by PC3, diagnosed a covariate shift, "
    "where CORAL reg=1 passed the circular bound and loses 12.1 points; the set's other "
    "harmful pick (Amazon dvd by PC3, TCA k=30 -2.7, diagnosed a conditional shift, for "
    "which feature alignment is recommended) stays. It is the library default: "
    "`guard=\"consensus+diagnosis\"` of `AdaptationSearchCV` and `decide`; the search runs "
    "`diagnose_shift` only when some candidate passes the bound (a few seconds; kept in "
    "`diagnosis_`), and the reweighter fallback is not subject to it.",
    "- *What it costs, on the seen sets* (classification tasks, information): it also "
    "rejects feature alignments that help. Development half: TCA k=10 on digits usps → "
    "mnist (+19.8, diagnosed a label shift) and a harmful TCA on Office amazon → webcam "
    "(-2.4); confirmation half: CORAL on Office webcam → dslr (+2.5) and a TCA at +0.0; "
    "fresh set: TCA k=4 on generated covariate class. #3 (+57.2) is lost, while on #4 "
    "rejecting CORAL (+4.0) lets the fallback take DiscriminativeReweighter (+78.5). "
    "Pooled over the 113 classification tasks of all seven sets: harm 6 % -> 2 %, regret "
    "4.62 -> 4.38, captured gain 31 % (58 %) unchanged. The diagnosis is the thing to "
    "improve: it names a label shift on digits and several real selection-bias tasks whose "
    "best candidates are feature alignments or reweighters.",
    "- *The default on the round-8 set* (H1): harm 5 % (one task of 19; target <= 5 %), "
    "captured gain 44 % mean / 93 % total (target >= 70 % on the mean), mean regret 0.93 "
    "(target <= 1.5: met). It is the one set where two of the three targets are met; its "
    "gains are small on the real tasks (a generated covariate shift carries most of the "
    "total).",
    "Cost of the round-8 evidence: `collect --round8` 294 CPU-seconds, `diagnose --round8` "
    "100 (one thread each); every task and every default candidate was collected.",
]
