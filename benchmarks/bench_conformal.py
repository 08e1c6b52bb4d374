"""Conformal prediction and calibration under shift: target coverage, width / set size, ECE.

For every task the labelled source rows are split once (70 % to fit the
model, 30 % to calibrate, seeded), the same split for MAPIE's
``SplitConformalRegressor`` / ``SplitConformalClassifier`` and for sktl's
``WeightedConformalRegressor`` / ``WeightedConformalClassifier`` in each
weighting mode: unweighted, the default (``DiscriminativeReweighter``), each
other sktl reweighter, and on generated data the true density ratio
("oracle"). The target labels are used only to score: coverage at 80 / 90 /
95 %, median interval width or mean set size, share of infinite intervals
(full sets), and the effective sample size of the calibration weights.
``ShiftCalibratedClassifier`` is scored by the target's expected
calibration error (top-label ECE, 15 equal-width bins) against the model
calibrated on the source by scikit-learn's ``CalibratedClassifierCV``.

Tasks: ``make_heteroscedastic_shift`` at 21 shift strengths 0, 0.1, ..., 2
(1000 source and 1000 target rows, one seed per strength; regression, and
classification with 2 and 3 classes), the NIR corn instrument pairs
(regression, PLS), Office-Caltech and the Amazon reviews (logistic
regression), real tasks subsampled as in ``benchmarks/_tasks.py``.

Run in the benchmark environment (MAPIE installed), one part at a time:

    PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/bench_conformal.py --part gen-reg

with parts ``gen-reg``, ``gen-clf2``, ``gen-clf3``, ``corn``, ``office``, ``amazon``;
long parts run in pieces with ``--shard K/N``. Per-task results go to
``benchmarks/results/conformal_raw/``; each run rewrites its part's section of
``benchmarks/results/conformal.md`` from all pieces present.
"""

import argparse
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

LEVELS = [0.8, 0.9, 0.95]
CAL = 0.3
STRENGTHS = np.round(np.linspace(0.0, 2.0, 21), 2)
RESULTS = Path(__file__).parent / "results" / "conformal.md"
ONLY = []  # --only: restrict the weighting modes (smoke runs; nothing written)
PARTS = ("gen-reg", "gen-clf2", "gen-clf3", "corn", "office", "amazon")


def _oracle(strength):
    """The true ratio ``exp(s x_0 - s^2 / 2)`` of ``make_heteroscedastic_shift``."""
    return lambda X: np.exp(strength * X[:, 0] - strength**2 / 2)


def weighters(oracle=None):
    """Weighting modes: name -> ``weighter`` argument, for every sktl reweighter available."""
    import sktl
    from sktl import KMM, DiscriminativeReweighter

    modes = {"unweighted (sktl)": "uniform", "Discriminative (default)": "auto",
             "Discriminative, plain LR": DiscriminativeReweighter(),
             "Discriminative, plain LR, max_weight=20": DiscriminativeReweighter(max_weight=20.0),
             "KMM (max weight at test rows)": KMM(random_state=0)}
    for name in ("KLIEP", "ULSIF", "RULSIF", "NearestNeighborReweighter",
                 "KernelDensityReweighter", "GaussianReweighter"):
        if hasattr(sktl, name):  # the other reweighters, once merged
            est = getattr(sktl, name)()
            if "random_state" in est.get_params():
                est.set_params(random_state=0)
            modes[name] = est
    if oracle is not None:
        modes["oracle ratio"] = oracle
    if ONLY:
        modes = {k: v for k, v in modes.items() if k in ONLY}
    return modes


def _split(sd, seed, y=None):
    """The calibration split sktl makes internally (same seed, same call).

    ``y`` (classification) stratifies it as sktl does when every class has
    two rows.
    """
    from sklearn.model_selection import train_test_split

    pool = np.flatnonzero(sd > 0)
    n_cal = int(np.ceil(CAL * len(pool)))
    stratify = None
    if y is not None:
        _, counts = np.unique(y[pool], return_counts=True)
        if counts.min() >= 2 and len(counts) <= min(n_cal, len(pool) - n_cal):
            stratify = y[pool]
    train, cal = train_test_split(pool, test_size=n_cal, stratify=stratify,
                                  random_state=np.random.RandomState(seed))
    return np.sort(train), np.sort(cal)


def _fitted_modes(X, sd, seed, y=None, oracle=None):
    """Each weighting mode with its ratio model fitted once per task.

    A reweighter with ``density_ratio`` is fitted on the rows sktl's
    estimators fit it on (all rows but the calibration rows) and passed on as
    that callable, which gives the same weights as passing the reweighter
    (checked in ``tests/test_conformal.py``) without refitting it for every
    score and calibration method. Returns ``name -> (weighter, seconds)``.
    """
    from sklearn.base import clone

    from sktl.conformal._base import _default_weighter

    _, cal = _split(sd, seed, y)
    rest = np.ones(len(sd), dtype=bool)
    rest[cal] = False
    out = {}
    for name, weighter in weighters(oracle).items():
        if isinstance(weighter, str) and weighter == "auto":
            weighter = _default_weighter()
        if isinstance(weighter, str) or not hasattr(weighter, "density_ratio"):
            out[name] = (weighter, 0.0)
            continue
        start = time.perf_counter()
        try:
            fitted = clone(weighter).fit(X[rest], sample_domain=sd[rest])
        except Exception as exc:  # noqa: BLE001 -- reported in the table, the run goes on
            out[name] = (_Failed(f"{type(exc).__name__}: {exc}"), 0.0)
            continue
        out[name] = (fitted.density_ratio, time.perf_counter() - start)
    return out


class _Failed(str):
    """A weighting mode that could not be fitted on a task (its error message)."""


def _guarded(fn, weighter):
    """``fn()``'s metrics, or ``{"error": message}`` when the mode failed on this task."""
    if isinstance(weighter, _Failed):
        return {"error": str(weighter)[:200]}
    try:
        return fn()
    except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def _fit_once(model, X, y, train, cal, sd):
    """The model fitted on the training rows, and the rows a ``prefit=True`` fit sees.

    sktl's estimators, called on every row with ``calibration_size=CAL``,
    fit ``clone(model)`` on exactly these training rows (the same split,
    :func:`_split`); fitting it once per task and passing it with
    ``prefit=True`` on the calibration and target rows gives the same
    intervals and sets (the weighting modes are already fitted callables, and
    a reweighter without a ratio model is fitted on the calibration rows
    against the target rows in both cases) for one model fit instead of one
    per method. MAPIE gets the same fitted model (``prefit=True``).
    """
    from sklearn.base import clone

    fitted = clone(model).fit(X[train], y[train])
    sub = np.sort(np.r_[cal, np.flatnonzero(sd < 0)])
    return fitted, sub


def _quiet(fn):
    """Run ``fn``; return its result and whether sktl warned about weak calibration."""
    from sktl.exceptions import WeakCalibrationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, any(issubclass(w.category, WeakCalibrationWarning) for w in caught)


# ----------------------------------------------------------------- regression
def regression_rows(X, y, sd, model, seed, oracle=None):
    """One task: method -> dict of metrics."""
    from mapie.regression import SplitConformalRegressor

    from sktl.conformal import WeightedConformalRegressor

    tgt = sd < 0
    yt = y[tgt]
    ym = np.where(sd > 0, y, np.nan)

    def score(pi):
        lo, hi = pi[:, 0, :], pi[:, 1, :]
        width = hi - lo
        return {"cov": [float(np.mean((yt >= lo[:, k]) & (yt <= hi[:, k])))
                        for k in range(len(LEVELS))],
                "size": [float(np.median(width[:, k])) for k in range(len(LEVELS))],
                "inf": float(np.mean(np.isinf(width[:, 1])))}

    rows = {}
    train, cal = _split(sd, seed)
    fitted, sub = _fit_once(model, X, y, train, cal, sd)
    start = time.perf_counter()
    mapie = SplitConformalRegressor(fitted, confidence_level=LEVELS, prefit=True)
    mapie.conformalize(X[cal], y[cal])
    rows["MAPIE SplitConformalRegressor"] = {**score(mapie.predict_interval(X[tgt])[1]),
                                             "ess": float(len(cal)),
                                             "s": time.perf_counter() - start}
    for name, (weighter, ratio_s) in _fitted_modes(X, sd, seed, oracle=oracle).items():
        def one(weighter=weighter, ratio_s=ratio_s):
            start = time.perf_counter() - ratio_s
            cp = WeightedConformalRegressor(fitted, weighter=weighter, confidence_level=LEVELS,
                                            prefit=True, random_state=seed)
            (_, pi), warned = _quiet(lambda: cp.fit(X[sub], ym[sub], sample_domain=sd[sub])
                                     .predict_interval(X[tgt]))
            return {**score(pi), "ess": cp.effective_sample_size_, "warned": warned,
                    "s": time.perf_counter() - start}

        rows[name] = _guarded(one, weighter)
    return rows


# ------------------------------------------------------------- classification
def _ece(proba, y, classes, bins=15):
    conf, hit = proba.max(axis=1), classes[proba.argmax(axis=1)] == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(hit[m].mean() - conf[m].mean())
    return float(total)


def classification_rows(X, y, sd, model, seed, oracle=None):
    """One task: (conformal set rows, ECE rows)."""
    from mapie.classification import SplitConformalClassifier
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV

    from sktl.conformal import ShiftCalibratedClassifier, WeightedConformalClassifier

    tgt = sd < 0
    yt = y[tgt]
    ym = np.where(sd > 0, y, -1)
    modes = _fitted_modes(X, sd, seed, y, oracle)

    def score(sets, classes):
        hit = sets[np.arange(len(yt)), np.searchsorted(classes, yt), :]
        known = np.isin(yt, classes)
        hit = hit & known[:, None]
        size = sets.sum(axis=1)
        return {"cov": [float(hit[:, k].mean()) for k in range(len(LEVELS))],
                "size": [float(size[:, k].mean()) for k in range(len(LEVELS))],
                "inf": float(np.mean(size[:, 1] == sets.shape[1]))}

    sets_rows = {}
    train, cal = _split(sd, seed, y)
    fitted, sub = _fit_once(model, X, y, train, cal, sd)
    for cs in ("lac", "aps"):
        if cs == "lac" or len(np.unique(y[sd > 0])) > 2:  # MAPIE: binary targets take LAC only
            start = time.perf_counter()
            mapie = SplitConformalClassifier(fitted, confidence_level=LEVELS,
                                             conformity_score=cs, prefit=True,
                                             random_state=seed)
            mapie.conformalize(X[cal], y[cal])
            sets = mapie.predict_set(X[tgt])[1]
            sets_rows[f"MAPIE SplitConformalClassifier {cs.upper()}"] = {
                **score(sets, mapie._mapie_classifier.classes_), "ess": float(len(cal)),
                "s": time.perf_counter() - start}
        for name, (weighter, ratio_s) in modes.items():
            def one(weighter=weighter, ratio_s=ratio_s, cs=cs):
                start = time.perf_counter() - ratio_s
                cp = WeightedConformalClassifier(fitted, weighter=weighter,
                                                 conformity_score=cs, confidence_level=LEVELS,
                                                 prefit=True, random_state=seed)
                (_, sets), warned = _quiet(lambda: cp.fit(X[sub], ym[sub],
                                                          sample_domain=sd[sub])
                                           .predict_set(X[tgt]))
                return {**score(sets, cp.classes_), "ess": cp.effective_sample_size_,
                        "warned": warned, "s": time.perf_counter() - start}

            sets_rows[f"{name} {cs.upper()}"] = _guarded(one, weighter)
    ece_rows = {}
    src = np.flatnonzero(sd > 0)
    raw = clone(model).fit(X[src], y[src])
    ece_rows["uncalibrated model (all source rows)"] = _ece(raw.predict_proba(X[tgt]), yt,
                                                            raw.classes_)
    for method in ("sigmoid", "isotonic", "temperature"):
        cccv = CalibratedClassifierCV(clone(model), method=method).fit(X[src], y[src])
        ece_rows[f"CalibratedClassifierCV {method} (source)"] = _ece(
            cccv.predict_proba(X[tgt]), yt, cccv.classes_)
    calib_modes = ["unweighted (sktl)", "Discriminative (default)"] + (
        ["oracle ratio"] if oracle is not None else [])
    for method in ("sigmoid", "isotonic", "temperature"):
        for name in calib_modes:
            weighter = modes[name][0]
            if isinstance(weighter, _Failed):
                continue
            clf = ShiftCalibratedClassifier(fitted, method=method, weighter=weighter,
                                            prefit=True, random_state=seed)
            proba, _ = _quiet(lambda clf=clf: clf.fit(X[sub], ym[sub], sample_domain=sd[sub])
                              .predict_proba(X[tgt]))
            ece_rows[f"ShiftCalibrated {method}, {name}"] = _ece(proba, yt, clf.classes_)
    return sets_rows, ece_rows


# -------------------------------------------------------------------- tables
def _fmt(v, digits=3):
    if isinstance(v, str):
        return v
    return "inf" if np.isinf(v) else f"{v:.{digits}f}"


def aggregate_table(per_task, what):
    """Mean coverage, median of the per-task widths (mean set size), over tasks."""
    names = list(per_task[0])
    head = (["method"] + [f"cov {int(100 * lv)}%" for lv in LEVELS]
            + [f"{what} {int(100 * lv)}%" for lv in LEVELS]
            + ["infinite / full @90%", "ESS", "warned", "seconds"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        rows = [t[name] for t in per_task if name in t and "error" not in t[name]]
        failed = len(per_task) - len(rows)
        if not rows:
            lines.append(f"| {name} (failed on every task) |" + " |" * (len(head) - 1))
            continue
        if failed:
            name = f"{name} ({failed} task(s) failed)"
        cov = np.mean([r["cov"] for r in rows], axis=0)
        size = np.array([r["size"] for r in rows])
        size = np.median(size, axis=0) if what == "width" else np.mean(size, axis=0)
        warned = sum(r.get("warned", False) for r in rows)
        cells = ([name] + [_fmt(c) for c in cov] + [_fmt(s, 2) for s in size]
                 + [_fmt(np.mean([r["inf"] for r in rows])),
                    _fmt(np.mean([r["ess"] for r in rows]), 0),
                    f"{warned}/{len(rows)}" if "warned" in rows[0] else "–",
                    _fmt(np.mean([r["s"] for r in rows]), 2)])
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def per_task_table(labels, per_task, names, what, level=1):
    head = ["task"] + [f"{n}: cov / {what}" for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, rows in zip(labels, per_task):
        cells = [label] + [f"{rows[n]['cov'][level]:.3f} / {_fmt(rows[n]['size'][level], 2)}"
                           if "error" not in rows[n] else "failed" for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def ece_table(per_task):
    names = list(per_task[0])
    base = np.array([t["CalibratedClassifierCV sigmoid (source)"] for t in per_task])
    lines = ["| method | mean target ECE | tasks below CCCV sigmoid |", "|---|---|---|"]
    for name in names:
        vals = np.array([t.get(name, np.nan) for t in per_task])
        lines.append(f"| {name} | {vals.mean():.4f} | {int((vals < base).sum())}/{len(vals)} |")
    return lines


def write_section(part, lines, command):
    text = RESULTS.read_text() if RESULTS.exists() else _HEADER
    body = "\n".join([f"<!-- part: {part} -->", f"Command: `{command}`", "", *lines,
                      f"<!-- end: {part} -->"])
    pattern = re.compile(rf"<!-- part: {re.escape(part)} -->.*?<!-- end: {re.escape(part)} -->",
                         re.S)
    text = pattern.sub(lambda _: body, text) if pattern.search(text) else text + "\n" + body + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


_HEADER = """# Conformal prediction and calibration under shift

Written by `benchmarks/bench_conformal.py` (see its docstring for the protocol): one section
per part, each with the command that produced it. Coverage is measured on the target rows with
their true labels; nothing is tuned on them. "ESS" is the effective sample size of the
calibration weights (MAPIE: the number of calibration rows); "warned" counts tasks where sktl
issued a `WeakCalibrationWarning` (some intervals infinite / sets full). The point model is
fitted once per task and passed with `prefit=True` on the same split (identical intervals and
sets); "seconds" is the weighting and calibration time. A mode that fails on a task is counted
as failed.
"""


# ---------------------------------------------------------------------- parts
def _tasks(part):
    """The tasks of a part: ``(label, load, kind, seed, oracle)``, load() -> X, y, sd."""
    from sktl.datasets import make_heteroscedastic_shift

    if part == "gen-reg":
        return [(f"{s:.1f}", lambda s=s, i=i: make_heteroscedastic_shift(
            1000, 1000, shift_strength=s, random_state=i), "regression", i, s)
            for i, s in enumerate(STRENGTHS)]
    if part.startswith("gen-clf"):
        k = int(part[-1])
        return [(f"{s:.1f}", lambda s=s, i=i: make_heteroscedastic_shift(
            1000, 1000, task="classification", n_classes=k, shift_strength=s,
            random_state=100 + i), "classification", i, s) for i, s in enumerate(STRENGTHS)]
    from _tasks import all_tasks

    family = {"corn": "corn", "office": "office", "amazon": "amazon"}[part]
    tasks = [t for t in all_tasks() if t.family == family]
    return [(t.name, t.load, t.task, i, None) for i, t in enumerate(tasks)]


def _model(part):
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if part == "gen-reg":
        return LinearRegression()
    if part == "corn":
        return PLSRegression(8)
    if part.startswith("gen-clf"):
        return LogisticRegression()
    return LogisticRegression(C=0.1, max_iter=2000)


def compute(part, label, load, kind, seed, strength):
    X, y, sd = load()
    X = np.asarray(X, dtype=float)
    if not part.startswith("gen"):  # z-score on both domains (no labels used)
        X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)
    oracle = None if strength is None else _oracle(strength)
    if kind == "regression":
        return {"label": label, "sets": regression_rows(X, np.asarray(y, float), sd,
                                                        _model(part), seed, oracle)}
    sets, ece = classification_rows(X, y, sd, _model(part), seed, oracle)
    return {"label": label, "sets": sets, "ece": ece}


_TITLES = {
    "gen-reg": ("Generated covariate shifts, regression",
                "`make_heteroscedastic_shift`, 21 strengths 0–2 SD (1000 + 1000 rows), "
                "LinearRegression."),
    "gen-clf2": ("Generated covariate shifts, 2 classes",
                 "`make_heteroscedastic_shift(task='classification', n_classes=2)`, 21 "
                 "strengths 0–2 SD (1000 + 1000 rows), LogisticRegression."),
    "gen-clf3": ("Generated covariate shifts, 3 classes",
                 "`make_heteroscedastic_shift(task='classification', n_classes=3)`, 21 "
                 "strengths 0–2 SD (1000 + 1000 rows), LogisticRegression."),
    "corn": ("NIR corn, instrument pairs (regression)",
             "80 samples per instrument (56 fit, 24 calibrate), 700 channels z-scored on both "
             "domains, PLSRegression(8); 6 pairs x 2 properties (moisture, protein)."),
    "office": ("Office-Caltech10 (SURF, 10 classes)",
               "12 pairs, at most 600 rows per domain (benchmarks/_tasks.py), features "
               "z-scored on both domains, LogisticRegression(C=0.1)."),
    "amazon": ("Amazon reviews (400-d, 2 classes)",
               "12 pairs, at most 600 rows per domain (benchmarks/_tasks.py), features "
               "z-scored on both domains, LogisticRegression(C=0.1)."),
}


def render(part, results, n_expected):
    title, protocol = _TITLES[part]
    per_task = [r["sets"] for r in results]
    labels = [r["label"] for r in results]
    regression = part in ("gen-reg", "corn")
    what = "width" if regression else "set size"
    lines = [f"## {title}", "", protocol + " Mean over tasks"
             + (" (width: median over tasks of the per-task median width)." if regression
                else "."), ""]
    if len(results) < n_expected:
        lines += [f"**Partial: {len(results)} of {n_expected} tasks so far.**", ""]
    lines += aggregate_table(per_task, what) + [""]
    if part.startswith("gen"):
        default = [k for k in per_task[0] if k.startswith("Discriminative (default)")]
        unweighted = [k for k in per_task[0] if k.startswith("unweighted (sktl)")]
        mean90 = {k: np.mean([t[k]["cov"][1] for t in per_task]) for k in default + unweighted}
        lines += ["Done-when check at 90 %: default weighting "
                  + ", ".join(f"{k.replace('Discriminative (default)', '').strip() or 'intervals'}"
                              f" {mean90[k]:.3f}" for k in default)
                  + " (target 0.88–0.95); unweighted "
                  + ", ".join(f"{k.replace('unweighted (sktl)', '').strip() or 'intervals'}"
                              f" {mean90[k]:.3f}" for k in unweighted)
                  + " (target < 0.85).", ""]
    if regression:
        keys = ["MAPIE SplitConformalRegressor", "Discriminative (default)"]
    else:
        keys = ["MAPIE SplitConformalClassifier LAC", "Discriminative (default) LAC",
                "Discriminative (default) APS"]
    keys += [k for k in ("oracle ratio", "Discriminative, plain LR, max_weight=20")
             if k in per_task[0] and regression]
    lines += [f"Per task at 90 % (coverage / {what}):", "",
              *per_task_table(labels, per_task, keys, what), ""]
    if "ece" in results[0]:
        lines += [f"### Target ECE, {title}", "", *ece_table([r["ece"] for r in results]), ""]
    return lines


RAW = RESULTS.parent / "conformal_raw"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS + ("all",), default="all",
                        help="one part, or all of them one after another (about an hour)")
    parser.add_argument("--shard", default="1/1",
                        help="k/n: run every n-th task from the k-th (long parts in pieces)")
    parser.add_argument("--max-tasks", type=int, default=0,
                        help="only N tasks, spread over the part (smoke runs; nothing written)")
    parser.add_argument("--only", default="",
                        help="comma-separated weighting modes to run (smoke runs; nothing "
                             "written)")
    args = parser.parse_args()
    ONLY.extend(m for m in args.only.split(",") if m)
    if ONLY and not args.max_tasks:
        parser.error("--only is for smoke runs: give --max-tasks too")
    for part in PARTS if args.part == "all" else (args.part,):
        run_part(part, args)


def run_part(part, args):
    """Run one part (or one shard of it) and rewrite its section of the results."""
    args.part = part
    k, n = (int(v) for v in args.shard.split("/"))
    tasks = _tasks(args.part)
    mine = tasks[k - 1::n]
    if args.max_tasks:
        mine = [mine[i] for i in np.linspace(0, len(mine) - 1, args.max_tasks).astype(int)]
    start = time.perf_counter()
    results = []
    for task in mine:
        results.append(compute(args.part, *task))
        print(f"{task[0]}: {time.perf_counter() - start:.0f} s", flush=True)
        if not args.max_tasks:  # after every task: a run stopped by a timeout keeps its tasks
            _write_part(args.part, tasks, results, k, n, start, args.shard)
    if args.max_tasks:
        print("\n".join(render(args.part, results, len(results))))


def _write_part(part, tasks, results, k, n, start, shard):
    """Save this shard's tasks and rewrite the part's section from every shard present."""
    RAW.mkdir(parents=True, exist_ok=True)
    (RAW / f"{part}-{k}of{n}.json").write_text(json.dumps(results))
    collected = []
    for path in sorted(RAW.glob(f"{part}-*of*.json")):
        collected += json.loads(path.read_text())
    order = {t[0]: i for i, t in enumerate(tasks)}
    collected = sorted({r["label"]: r for r in collected}.values(), key=lambda r: order[r["label"]])
    lines = render(part, collected, len(tasks))
    if len(results) == len(tasks[k - 1::n]):
        print("\n".join(lines))
    print(f"{part} shard {shard}: {len(results)} task(s), {time.perf_counter() - start:.0f} s",
          flush=True)
    shards = "" if n == 1 else f" --shard K/{n}  (K = 1..{n})"
    command = ("PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/bench_conformal.py "
               f"--part {part}{shards}")
    load = os.getloadavg()
    lines = lines[:1] + ["", f"Load average (1 / 5 min) when shard {shard} last wrote this "
                         f"section: {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} cores; "
                         "\"seconds\" are wall-clock times under that load.", *lines[1:]]
    write_section(part, lines, command)


if __name__ == "__main__":
    main()
