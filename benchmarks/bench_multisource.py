"""Weighted multi-source transfer: three source domains -> the fourth.

Office-Caltech10 (SURF, 800-d, 10 classes; amazon, caltech, dslr, webcam)
and the Amazon reviews (400-d, binary sentiment; books, dvd, elec,
kitchen): every domain in turn is the target (unlabelled) and the other
three the sources. For each task and each model the script compares

* **pooled**: all three sources as one (``source_weights="uniform"``, what
  every sktl estimator did before the option existed);
* **similarity**: ``source_weights="similarity"``: each source weighted
  by ``exp(-MMD_d / median MMD)`` to the target rows;
* **best single source (label-free)**: the one source that
  :func:`sktl.metrics.rank_source_domains` (MMD) ranks closest to the
  target, alone;
* **oracle best single source**: the source whose single-source model
  scores best on the target labels; it uses the test labels and is only
  a reference for how much choosing a source could give.

Three models, every setting fixed in advance: **KMM + logistic regression**
(``KMM(LogisticRegression(C=0.1))``, default kernel, ``random_state=0``),
**CORAL + logistic regression** (``make_da_pipeline(CORAL(),
LogisticRegression(C=0.1))``: the source covariance is that of the weighted
source rows) and **DAN** (MLP 2 x 64 units, multi-kernel MMD on the features, Adam lr
1e-3, batch 64, ``STEPS`` optimiser steps whatever the number of source
rows; mean over the seeds). Preprocessing: Office rows are divided by
their sum and z-scored per domain (the GFK/JDA protocol); the Amazon
features are standardised with the statistics of all rows, and each
Amazon domain is subsampled to ``AMAZON_ROWS`` rows (stratified, fixed
seed) so that KMM's dense solver and the three-seed DAN runs stay short.

    flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python \\
        benchmarks/bench_multisource.py --data office amazon --seeds 0 1 2

Runs are kept in ``results/multisource_<data>.json`` (``--data``/``--models``
run a part); writes benchmarks/results/multisource.md from all of them.
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sktl import CORAL, KMM
from sktl.datasets import load_amazon_reviews, load_office_caltech
from sktl.deep import DANClassifier
from sktl.metrics import rank_source_domains
from sktl.pipeline import make_da_pipeline

HERE = Path(__file__).parent
os.environ.setdefault("SKTL_DATA", str(HERE.resolve().parents[1] / "shared" / "data"))
RAW = HERE / "results" / "multisource_{}.json"  # one per data set
RESULTS = HERE / "results" / "multisource.md"
AMAZON_ROWS = 1000
STEPS, BATCH = 300, 64
DOMAINS = {"office": ("amazon", "caltech", "dslr", "webcam"),
           "amazon": ("books", "dvd", "elec", "kitchen")}
COMMAND = ("flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python "
           "benchmarks/bench_multisource.py --data office amazon --seeds {seeds}")


def load(data):
    """``X, y, domain`` (domain = index in DOMAINS[data]), preprocessed."""
    names = DOMAINS[data]
    parts = []
    for a, b in ((names[0], names[1]), (names[2], names[3])):
        X, y, sd = (load_office_caltech if data == "office" else load_amazon_reviews)(a, b)
        parts += [(X[sd > 0], y[sd > 0]), (X[sd < 0], y[sd < 0])]
    Xs, ys, ds = [], [], []
    for i, (X, y) in enumerate(parts):
        if data == "office":
            X = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-12)
            X = StandardScaler().fit_transform(X)
        elif len(y) > AMAZON_ROWS:
            keep, _ = train_test_split(np.arange(len(y)), train_size=AMAZON_ROWS, stratify=y,
                                       random_state=0)
            X, y = X[np.sort(keep)], y[np.sort(keep)]
        Xs.append(X)
        ys.append(y)
        ds.append(np.full(len(y), i))
    X = np.vstack(Xs)
    if data == "amazon":
        X = StandardScaler().fit_transform(X)
    return X, np.concatenate(ys), np.concatenate(ds)


def make(model, n_source, seed, source_weights):
    if model == "kmm":
        return KMM(LogisticRegression(C=0.1, max_iter=2000), random_state=0,
                   source_weights=source_weights)
    if model == "coral":
        return make_da_pipeline(CORAL(source_weights=source_weights),
                                LogisticRegression(C=0.1, max_iter=2000))
    epochs = max(1, int(np.ceil(STEPS / np.ceil(n_source / (BATCH // 2)))))
    return DANClassifier(max_epochs=epochs, batch_size=BATCH, random_state=seed,
                         source_weights=source_weights)


def run_task(X, y, dom, target, model, seed):
    """Accuracies of one (target, model, seed): pooled, similarity, each single source."""
    sources = [d for d in np.unique(dom) if d != target]
    sd_all = np.where(dom == target, -100, dom + 1)  # source codes 1..4, target -100
    y_masked = np.where(dom == target, -1, y)
    tgt = dom == target
    out = {}
    for option in ("uniform", "similarity"):
        est = make(model, (~tgt).sum(), seed, option).fit(X, y_masked, sample_domain=sd_all)
        out[option] = float((est.predict(X[tgt]) == y[tgt]).mean())
        if option == "similarity":
            fitted = est[0] if model == "coral" else est
            out["weights"] = {str(k - 1): v for k, v in fitted.source_weights_.items()}
    for s in sources:
        rows = tgt | (dom == s)
        est = make(model, (dom == s).sum(), seed, "uniform")
        est.fit(X[rows], y_masked[rows], sample_domain=sd_all[rows])
        out[f"single {s}"] = float((est.predict(X[tgt]) == y[tgt]).mean())
    return out


def ranking(X, dom, target):
    """Source indices, closest to the target first (MMD on <= 1000 rows per domain)."""
    rng = np.random.default_rng(0)
    rows = np.concatenate([np.sort(rng.choice(np.flatnonzero(dom == d),
                                              min(1000, (dom == d).sum()), replace=False))
                           for d in np.unique(dom)])
    sd = np.where(dom[rows] == target, -1, dom[rows] + 1)
    return [c - 1 for c, _ in rank_source_domains(X[rows], sd)]


def table(raw, data, model, seeds):
    names = DOMAINS[data]
    short = {n: n[0].upper() for n in names}
    head = ("| sources → target | pooled | similarity | best single, label-free | "
            "oracle best single | similarity weights |")
    lines = [head, "|---|---:|---:|---:|---:|---|"]
    cols = {"pooled": [], "similarity": [], "label-free": [], "oracle": []}
    for t, target in enumerate(names):
        runs = [raw[f"{data}|{model}|{t}|{s}"] for s in seeds if f"{data}|{model}|{t}|{s}" in raw]
        if not runs:
            continue
        rank = runs[0]["ranking"]
        mean = {k: float(np.mean([r[k] for r in runs]))
                for k in runs[0] if k not in ("weights", "ranking")}
        singles = {int(k.split()[1]): v for k, v in mean.items() if k.startswith("single")}
        oracle = max(singles, key=singles.get)
        row = {"pooled": mean["uniform"], "similarity": mean["similarity"],
               "label-free": singles[rank[0]], "oracle": singles[oracle]}
        for k, v in row.items():
            cols[k].append(v)
        best = max(row["pooled"], row["similarity"], row["label-free"])
        cell = {k: (f"**{v:.3f}**" if v == best and k != "oracle" else f"{v:.3f}")
                for k, v in row.items()}
        w = runs[0]["weights"]
        weights = ", ".join(f"{short[names[int(k)]]} {v:.2f}" for k, v in w.items())
        src = ",".join(short[names[s]] for s in range(4) if s != t)
        lines.append(f"| {src} → {short[target]} | {cell['pooled']} | {cell['similarity']} | "
                     f"{cell['label-free']} ({short[names[rank[0]]]}) | "
                     f"{cell['oracle']} ({short[names[oracle]]}) | {weights} |")
    if cols["pooled"]:
        lines.append("| **mean** | " + " | ".join(f"{np.mean(cols[k]):.3f}" for k in
                                                   ("pooled", "similarity", "label-free",
                                                    "oracle")) + " | |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=["office", "amazon"],
                        choices=sorted(DOMAINS))
    parser.add_argument("--models", nargs="+", default=["kmm", "coral", "dan"],
                        choices=["kmm", "coral", "dan"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    torch.set_num_threads(1)
    sklearn.set_config(enable_metadata_routing=True)  # sample_domain through the pipeline
    warnings.filterwarnings("ignore")
    parser.add_argument("--report", action="store_true",
                        help="only write the results file from the runs kept")
    args = parser.parse_args()
    raw = {}
    for data in DOMAINS:
        if Path(str(RAW).format(data)).exists():
            raw.update(json.loads(Path(str(RAW).format(data)).read_text()))
    for data in [] if args.report else args.data:
        X, y, dom = load(data)
        ranks = [ranking(X, dom, t) for t in range(4)]
        # KMM on every target first, then DAN seed by seed: a run cut short
        # leaves whole seeds
        runs = [(model, seed) for model in args.models
                for seed in (args.seeds if model == "dan" else [0])]
        for model, seed in runs:
            for t in range(4):
                t0 = time.time()
                out = run_task(X, y, dom, t, model, seed)
                out["ranking"] = ranks[t]
                out["seconds"] = time.time() - t0
                raw[f"{data}|{model}|{t}|{seed}"] = out
                mine = {k: v for k, v in raw.items() if k.startswith(f"{data}|")}
                Path(str(RAW).format(data)).write_text(json.dumps(mine, indent=1))
                print(data, model, DOMAINS[data][t], seed,
                      {k: v for k, v in out.items() if k != "weights"}, flush=True)
    seeds = sorted({int(k.split("|")[3]) for k in raw if k.split("|")[1] == "dan"})
    seeds = [s for s in seeds if all(f"{d}|dan|{t}|{s}" in raw for d in DOMAINS for t in range(4)
                                     if any(k.startswith(f"{d}|dan|") for k in raw))] or [0]
    text = ["# Weighted multi-source transfer: three sources → the fourth", "",
            "Generated by", "", "    " + COMMAND.format(seeds=" ".join(map(str, seeds))), "",
            "(run in parts with `--data` / `--models`; raw runs in "
            "`multisource_office.json`, `multisource_amazon.json`) on the "
            "CPU, one torch thread. Target accuracy on all target rows (unlabelled in "
            "training). Domains: Office-Caltech A(mazon), C(altech), D(slr), W(ebcam), SURF "
            "800-d, rows divided by their sum and z-scored per domain; Amazon B(ooks), D(vd), "
            f"E(lec), K(itchen), 400-d, {AMAZON_ROWS} rows per domain (stratified subsample, "
            "fixed seed), standardised with the statistics of all rows. *Pooled*: the three "
            "sources as one (`source_weights=\"uniform\"`); *similarity*: "
            "`source_weights=\"similarity\"` (weights in the last column, mean one over the "
            "source rows); *best single, label-free*: the source that `rank_source_domains` "
            "(MMD) puts closest to the target, alone (in brackets); *oracle best single*: the "
            "single source with the best target accuracy, chosen **with the test labels**, a "
            "reference only. **Bold**: the best of the label-free choices.", ""]
    for model, title in (("kmm", "KMM + logistic regression (C=0.1)"),
                         ("coral", "CORAL + logistic regression (C=0.1)"),
                         ("dan", f"DAN (MLP 64-64, {STEPS} steps, mean over seeds {seeds})")):
        for data in ("office", "amazon"):
            if any(k.startswith(f"{data}|{model}|") for k in raw):
                text += [f"## {title}: {'Office-Caltech10' if data == 'office' else 'Amazon'}",
                         "", table(raw, data, model, seeds if model == "dan" else [0]), ""]
    RESULTS.write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
