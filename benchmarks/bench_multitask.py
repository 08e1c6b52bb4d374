"""Multi-task learning on the four Amazon review domains: one task per domain.

The four domains of ``../shared/data/amazon_review_400`` (books, dvd, elec,
kitchen; 400-d features, binary sentiment) are four related tasks. In each
domain a fraction (5 % or 20 %) of the rows is labelled (drawn per seed,
stratified by class); every model is scored on the domain's other rows,
and the table reports the accuracy per task and its mean over the tasks,
each a mean over the seeds. Compared:

* **one model per task**: the network (an MLP with one hidden layer of 64
  units, dropout 0.1) trained on its task's labelled rows only
  (``MultiTaskClassifier`` with one task, i.e. a plain MLP);
* **pooled**: the same network on the labelled rows of all tasks, one
  head for all (the tasks' differences ignored);
* **multi-task**: ``MultiTaskClassifier`` on all labelled rows with
  ``sample_task`` = the domain: a shared trunk and one head per task
  (default ``task_weights``: the tasks have as many labelled rows);
* **logistic regression per task / pooled**: linear references.

Every network gets the same number of optimiser steps (``STEPS``, Adam at
lr 1e-3, batch 64), so that the models trained on one task's rows are not
under-trained compared with those on all rows; every setting is fixed in
advance, never chosen with test labels. The features are standardised with
the statistics of all rows (no labels used).

    flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python \\
        benchmarks/bench_multitask.py --seeds 0 1 2

Writes benchmarks/results/multitask.md.
"""

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sktl.datasets import load_amazon_reviews
from sktl.deep import MultiTaskClassifier

HERE = Path(__file__).parent
os.environ.setdefault("SKTL_DATA", str(HERE.resolve().parents[1] / "shared" / "data"))
RESULTS = HERE / "results" / "multitask.md"
DOMAINS = ("books", "dvd", "elec", "kitchen")
FRACTIONS = (0.05, 0.20)
STEPS, BATCH, LR, HIDDEN = 400, 64, 1e-3, (64,)
COMMAND = ("flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python "
           "benchmarks/bench_multitask.py --seeds {seeds}")


def load():
    """``X, y, task`` of the four domains (task = index in DOMAINS)."""
    X1, y1, sd1 = load_amazon_reviews("books", "dvd")
    X2, y2, sd2 = load_amazon_reviews("elec", "kitchen")
    X = np.vstack([X1, X2])
    y = np.concatenate([y1, y2])
    task = np.concatenate([np.where(sd1 > 0, 0, 1), np.where(sd2 > 0, 2, 3)])
    return StandardScaler().fit_transform(X), y, task


def net(n_rows, seed):
    epochs = max(1, int(np.ceil(STEPS / np.ceil(n_rows / BATCH))))
    return MultiTaskClassifier(max_epochs=epochs, batch_size=BATCH, lr=LR,
                               module__hidden_units=HIDDEN, random_state=seed)


def run(X, y, task, frac, seed):
    """Test accuracy of each model on each task for one labelled fraction and seed."""
    labelled = np.zeros(len(y), bool)
    for t in range(len(DOMAINS)):
        rows = np.flatnonzero(task == t)
        lab, _ = train_test_split(rows, train_size=frac, stratify=y[rows], random_state=seed)
        labelled[lab] = True
    test = ~labelled
    out = {}
    XL, yL, tL = X[labelled], y[labelled], task[labelled]

    def score(name, predict):
        out[name] = [float((predict(t) == y[test & (task == t)]).mean())
                     for t in range(len(DOMAINS))]

    multi = net(len(yL), seed).fit(XL, yL, sample_task=tL)
    score("multi-task (shared trunk, one head per task)",
          lambda t: multi.predict(X[test & (task == t)], sample_task=np.full(
              (test & (task == t)).sum(), t)))
    pooled = net(len(yL), seed).fit(XL, yL, sample_task=np.zeros(len(yL), int))
    score("pooled (one network, one head)", lambda t: pooled.predict(X[test & (task == t)]))
    single = {t: net((tL == t).sum(), seed).fit(XL[tL == t], yL[tL == t],
                                               sample_task=np.zeros((tL == t).sum(), int))
              for t in range(len(DOMAINS))}
    score("one network per task", lambda t: single[t].predict(X[test & (task == t)]))
    lr_single = {t: LogisticRegression(max_iter=2000).fit(XL[tL == t], yL[tL == t])
                 for t in range(len(DOMAINS))}
    score("logistic regression per task", lambda t: lr_single[t].predict(X[test & (task == t)]))
    lr_pooled = LogisticRegression(max_iter=2000).fit(XL, yL)
    score("logistic regression pooled", lambda t: lr_pooled.predict(X[test & (task == t)]))
    return out


def table(results, frac, seeds):
    names = list(results[(frac, seeds[0])])
    acc = {m: np.array([results[(frac, s)][m] for s in seeds]) for m in names}  # seeds x tasks
    means = {m: acc[m].mean(axis=1) for m in names}  # per seed, mean over tasks
    best = max(names, key=lambda m: means[m].mean())
    lines = [f"| method | {' | '.join(DOMAINS)} | mean over tasks |",
             "|---|" + "---:|" * (len(DOMAINS) + 1)]
    for m in names:
        cells = [f"{v:.3f}" for v in acc[m].mean(axis=0)]
        mean = f"{means[m].mean():.3f} ± {means[m].std():.3f}"
        lines.append(f"| {m} | {' | '.join(cells)} | "
                     + (f"**{mean}**" if m == best else mean) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    X, y, task = load()
    results, t0 = {}, time.time()
    for frac in FRACTIONS:
        for seed in args.seeds:
            results[(frac, seed)] = run(X, y, task, frac, seed)
            print(f"{frac:.0%} seed {seed}: "
                  + ", ".join(f"{m.split(' (')[0]} {np.mean(v):.3f}"
                              for m, v in results[(frac, seed)].items()), flush=True)
    wall = time.time() - t0
    counts = {d: int((task == i).sum()) for i, d in enumerate(DOMAINS)}
    text = [
        "# Multi-task learning: the four Amazon review domains as four tasks", "",
        "Generated by", "", "    " + COMMAND.format(seeds=" ".join(map(str, args.seeds))), "",
        f"on the CPU, one torch thread ({wall:.0f} s in all). Data: "
        f"`amazon_review_400` (400-d, binary sentiment), rows per domain {counts}, all used; "
        "features standardised with the statistics of all rows. In each domain a fraction of "
        "the rows is labelled (drawn per seed, stratified by class); each task is scored on "
        "its other rows. Networks: MLP 400-64-2 (dropout 0.1), Adam lr 0.001, batch 64, "
        f"{STEPS} optimiser steps for every network whatever its number of rows; logistic "
        "regression with scikit-learn's defaults. Nothing was tuned on test labels.", "",
        "Accuracy per task (mean over seeds) and mean over the tasks (± standard deviation "
        f"over seeds {args.seeds}); **bold**: the best mean.", ""]
    for frac in FRACTIONS:
        lo, hi = (int(round(frac * f(counts.values()))) for f in (min, max))
        span = f"{lo}" if lo == hi else f"{lo}-{hi}"
        text += [f"## {frac:.0%} labelled rows per task ({span} per domain)", "",
                 table(results, frac, args.seeds), ""]
    RESULTS.write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
