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

with parts ``gen-reg``, ``gen-clf``, ``corn``, ``office``, ``amazon``. Each part
rewrites its own section of ``benchmarks/results/conformal.md``.
"""

import argparse
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
PARTS = ("gen-reg", "gen-clf", "corn", "office", "amazon")


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
        fitted = clone(weighter).fit(X[rest], sample_domain=sd[rest])
        out[name] = (fitted.density_ratio, time.perf_counter() - start)
    return out


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
    from sklearn.base import clone

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
    start = time.perf_counter()
    mapie = SplitConformalRegressor(clone(model), confidence_level=LEVELS, prefit=False)
    mapie.fit(X[train], y[train]).conformalize(X[cal], y[cal])
    rows["MAPIE SplitConformalRegressor"] = {**score(mapie.predict_interval(X[tgt])[1]),
                                             "ess": float(len(cal)),
                                             "s": time.perf_counter() - start}
    for name, (weighter, ratio_s) in _fitted_modes(X, sd, seed, oracle=oracle).items():
        start = time.perf_counter() - ratio_s
        cp = WeightedConformalRegressor(clone(model), weighter=weighter, confidence_level=LEVELS,
                                        calibration_size=CAL, random_state=seed)
        (_, pi), warned = _quiet(lambda cp=cp: cp.fit(X, ym, sample_domain=sd)
                                 .predict_interval(X[tgt]))
        rows[name] = {**score(pi), "ess": cp.effective_sample_size_, "warned": warned,
                      "s": time.perf_counter() - start}
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
    for cs in ("lac", "aps"):
        if cs == "lac" or len(np.unique(y[sd > 0])) > 2:  # MAPIE: binary targets take LAC only
            start = time.perf_counter()
            mapie = SplitConformalClassifier(clone(model), confidence_level=LEVELS,
                                             conformity_score=cs, prefit=False,
                                             random_state=seed)
            mapie.fit(X[train], y[train]).conformalize(X[cal], y[cal])
            sets = mapie.predict_set(X[tgt])[1]
            sets_rows[f"MAPIE SplitConformalClassifier {cs.upper()}"] = {
                **score(sets, mapie._mapie_classifier.classes_), "ess": float(len(cal)),
                "s": time.perf_counter() - start}
        for name, (weighter, ratio_s) in modes.items():
            start = time.perf_counter() - ratio_s
            cp = WeightedConformalClassifier(clone(model), weighter=weighter,
                                             conformity_score=cs, confidence_level=LEVELS,
                                             calibration_size=CAL, random_state=seed)
            (_, sets), warned = _quiet(lambda cp=cp: cp.fit(X, ym, sample_domain=sd)
                                       .predict_set(X[tgt]))
            sets_rows[f"{name} {cs.upper()}"] = {**score(sets, cp.classes_),
                                                 "ess": cp.effective_sample_size_,
                                                 "warned": warned,
                                                 "s": time.perf_counter() - start}
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
            clf = ShiftCalibratedClassifier(clone(model), method=method, weighter=weighter,
                                            calibration_size=CAL, random_state=seed)
            proba, _ = _quiet(lambda clf=clf: clf.fit(X, ym, sample_domain=sd)
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
        rows = [t[name] for t in per_task]
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
                           for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def ece_table(per_task):
    names = list(per_task[0])
    base = np.array([t["CalibratedClassifierCV sigmoid (source)"] for t in per_task])
    lines = ["| method | mean target ECE | tasks below CCCV sigmoid |", "|---|---|---|"]
    for name in names:
        vals = np.array([t[name] for t in per_task])
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
issued a `WeakCalibrationWarning` (some intervals infinite / sets full).
"""


# ---------------------------------------------------------------------- parts
def _strengths(args):
    if not args.max_tasks:
        return STRENGTHS
    return STRENGTHS[np.linspace(0, len(STRENGTHS) - 1, args.max_tasks).astype(int)]


def part_generated_regression(args):
    from sklearn.linear_model import LinearRegression

    from sktl.datasets import make_heteroscedastic_shift

    per_task = []
    strengths = _strengths(args)
    for i, s in enumerate(strengths):
        X, y, sd = make_heteroscedastic_shift(1000, 1000, shift_strength=s, random_state=i)
        per_task.append(regression_rows(X, y, sd, LinearRegression(), seed=i,
                                        oracle=_oracle(s)))
        print(f"strength {s}: done", flush=True)
    keys = ["MAPIE SplitConformalRegressor", "Discriminative (default)", "oracle ratio"]
    w90 = np.mean([t["Discriminative (default)"]["cov"][1] for t in per_task])
    u90 = np.mean([t["unweighted (sktl)"]["cov"][1] for t in per_task])
    m90 = np.mean([t["MAPIE SplitConformalRegressor"]["cov"][1] for t in per_task])
    lines = ["## Generated covariate shifts, regression",
             "", "`make_heteroscedastic_shift`, 21 strengths 0–2 SD, LinearRegression; mean over "
             "tasks (width: median over tasks of the per-task median width).", "",
             *aggregate_table(per_task, "width"), "",
             f"Done-when check at 90 %: default weighting {w90:.3f} (target 0.88–0.95), "
             f"unweighted sktl {u90:.3f} and MAPIE {m90:.3f} (target < 0.85).", "",
             "Per strength at 90 % (coverage / median width):", "",
             *per_task_table([f"{s:.1f}" for s in strengths], per_task, keys, "width")]
    return lines


def part_generated_classification(args):
    from sklearn.linear_model import LogisticRegression

    from sktl.datasets import make_heteroscedastic_shift

    lines = []
    for n_classes in (2, 3):
        sets_tasks, ece_tasks = [], []
        strengths = _strengths(args)
        for i, s in enumerate(strengths):
            X, y, sd = make_heteroscedastic_shift(1000, 1000, task="classification",
                                                  n_classes=n_classes, shift_strength=s,
                                                  random_state=100 + i)
            sets_rows, ece_rows = classification_rows(X, y, sd, LogisticRegression(), seed=i,
                                                      oracle=_oracle(s))
            sets_tasks.append(sets_rows)
            ece_tasks.append(ece_rows)
            print(f"{n_classes} classes, strength {s}: done", flush=True)
        w = {cs: np.mean([t[f"Discriminative (default) {cs}"]["cov"][1] for t in sets_tasks])
             for cs in ("LAC", "APS")}
        u = {cs: np.mean([t[f"unweighted (sktl) {cs}"]["cov"][1] for t in sets_tasks])
             for cs in ("LAC", "APS")}
        lines += [f"## Generated covariate shifts, {n_classes} classes", "",
                  "`make_heteroscedastic_shift(task='classification')`, 21 strengths 0–2 SD, "
                  "LogisticRegression; mean over tasks.", "",
                  *aggregate_table(sets_tasks, "set size"), "",
                  "Done-when check at 90 %: default weighting "
                  + ", ".join(f"{cs} {w[cs]:.3f}" for cs in w)
                  + " (target 0.88–0.95); unweighted "
                  + ", ".join(f"{cs} {u[cs]:.3f}" for cs in u) + " (target < 0.85).", "",
                  "Per strength at 90 % (coverage / mean set size):", "",
                  *per_task_table([f"{s:.1f}" for s in strengths], sets_tasks,
                                  ["MAPIE SplitConformalClassifier LAC",
                                   "Discriminative (default) LAC",
                                   "Discriminative (default) APS"], "size"), "",
                  f"### Target ECE, {n_classes} classes", "", *ece_table(ece_tasks), ""]
    return lines


def _real(family, args):
    from _tasks import all_tasks

    tasks = [t for t in all_tasks() if t.family == family]
    return tasks[: args.max_tasks] if args.max_tasks else tasks


def part_corn(args):
    from sklearn.cross_decomposition import PLSRegression

    per_task, labels = [], []
    for i, task in enumerate(_real("corn", args)):
        X, y, sd = task.load()
        X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)  # unsupervised, both domains
        per_task.append(regression_rows(X, y.astype(float), sd, PLSRegression(8), seed=i))
        labels.append(task.name)
        print(task.name, flush=True)
    keys = ["MAPIE SplitConformalRegressor", "Discriminative (default)",
            "Discriminative, plain LR, max_weight=20"]
    return ["## NIR corn, instrument pairs (regression)", "",
            "80 samples per instrument (56 fit, 24 calibrate), 700 channels z-scored on both "
            "domains, PLSRegression(8). Mean over the 12 pairs x 2 properties.", "",
            *aggregate_table(per_task, "width"), "", "Per task at 90 %:", "",
            *per_task_table(labels, per_task, keys, "width")]


def _classification_part(family, title, args):
    from sklearn.linear_model import LogisticRegression

    sets_tasks, ece_tasks, labels = [], [], []
    for i, task in enumerate(_real(family, args)):
        X, y, sd = task.load()
        X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)  # unsupervised, both domains
        sets_rows, ece_rows = classification_rows(
            X, y, sd, LogisticRegression(C=0.1, max_iter=2000), seed=i)
        sets_tasks.append(sets_rows)
        ece_tasks.append(ece_rows)
        labels.append(task.name)
        print(task.name, flush=True)
    keys = ["MAPIE SplitConformalClassifier LAC", "Discriminative (default) LAC",
            "Discriminative, plain LR, max_weight=20 LAC"]
    return [f"## {title}", "",
            "At most 600 rows per domain (benchmarks/_tasks.py), features z-scored on both "
            "domains, LogisticRegression(C=0.1); mean over pairs.", "",
            *aggregate_table(sets_tasks, "set size"), "", "Per task at 90 % (LAC):", "",
            *per_task_table(labels, sets_tasks, keys, "size"), "",
            f"### Target ECE, {title}", "", *ece_table(ece_tasks), ""]


PART_FUNCS = {
    "gen-reg": part_generated_regression,
    "gen-clf": part_generated_classification,
    "corn": part_corn,
    "office": lambda a: _classification_part("office", "Office-Caltech10 (SURF, 10 classes)", a),
    "amazon": lambda a: _classification_part("amazon", "Amazon reviews (400-d, 2 classes)", a),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, required=True)
    parser.add_argument("--max-tasks", type=int, default=0,
                        help="only N tasks (smoke runs; nothing written)")
    args = parser.parse_args()
    start = time.perf_counter()
    lines = PART_FUNCS[args.part](args)
    print("\n".join(lines))
    print(f"\n{args.part}: {time.perf_counter() - start:.0f} s")
    if not args.max_tasks:
        command = ("PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/bench_conformal.py "
                   f"--part {args.part}")
        write_section(args.part, lines, command)


if __name__ == "__main__":
    main()
