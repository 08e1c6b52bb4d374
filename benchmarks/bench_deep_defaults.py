"""Default domain-loss weights of the deep methods: a sweep of ``reg`` (and the warm-up).

Every method (DAN, Deep CORAL, DANN, JAN) is fitted with its defaults except
``reg`` and ``warmup``, which are swept, next to the source-only net, on the
tasks of ``bench_deep.py`` (rotated two moons; a generated conditional shift
with 10 features).

Protocol (no setting is chosen on the data it is reported on):

* ``--part dev``: the sweep, on *development* draws of those tasks (data and
  initialisation seeds 10, 11, 12). The default of each method is the
  setting with the best mean target accuracy there.
* ``--part confirm``: source only, the old default (``reg=1``, warm-up) and the
  chosen default on the draws ``bench_deep.py`` reports (seeds 0, 1, 2), and on
  a held-out real task never looked at during the sweep: MNIST -> USPS digits
  (256 pixels, the same MLP).

Each fit is stored in ``results/deep_defaults.json`` as it finishes, so a run
can be split (``--methods``) or resumed; ``--report`` only writes the table.

    flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python \\
        benchmarks/bench_deep_defaults.py --part dev --methods DAN DANN
    ... --part confirm --new DAN=3 "Deep CORAL=..." ...
    python benchmarks/bench_deep_defaults.py --report

Writes benchmarks/results/deep_defaults.md.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).parent
RAW = HERE / "results" / "deep_defaults.json"
RESULTS = HERE / "results" / "deep_defaults.md"
DATA = os.environ.get("SKTL_DATA", str(HERE.resolve().parents[1] / "shared" / "data"))
GRID = {
    "DAN": [0.1, 0.3, 1.0, 3.0, 10.0],
    "Deep CORAL": [1.0, 10.0, 100.0, 1000.0, 10000.0],
    "DANN": [0.1, 0.3, 1.0, 3.0, 10.0],
    "JAN": [0.1, 0.3, 1.0, 3.0, 10.0],
}
DEV_SEEDS, CONFIRM_SEEDS = (10, 11, 12), (0, 1, 2)
BENCH_TASKS = ("rotated moons", "conditional shift (10 features)")


def estimator(method, reg, warmup, seed):
    import sktl.deep as deep

    cls = {"source only": deep.SourceOnlyClassifier, "DAN": deep.DANClassifier,
           "Deep CORAL": deep.DeepCORALClassifier, "DANN": deep.DANNClassifier,
           "JAN": deep.JANClassifier}[method]
    kwargs = {} if method == "source only" else {"reg": reg, "warmup": warmup}
    # everything else (MLP 64-64, dropout 0.1, 50 epochs, Adam 1e-3, batch 64) is the default
    return cls(random_state=seed, **kwargs)


def task(name, seed):
    if name == "MNIST -> USPS (held out)":
        from sktl.datasets import load_mnist_usps

        X, y, sd = load_mnist_usps("mnist", "usps", data_home=DATA)
        return X.astype(np.float32), y, sd
    sys.path.insert(0, str(HERE))
    from bench_deep import problems

    return next((X, y, sd) for n, X, y, sd in problems(seed) if n == name)


def load_raw():
    return json.loads(RAW.read_text()) if RAW.exists() else {}


def run(jobs):
    raw = load_raw()
    for name, seed, method, reg, warmup in jobs:
        key = f"{name}|{seed}|{method}|{reg}|{warmup}"
        if key in raw:
            continue
        X, y, sd = task(name, seed)
        start = time.perf_counter()
        net = estimator(method, reg, warmup, seed).fit(X, np.where(sd > 0, y, -1),
                                                        sample_domain=sd)
        t = sd < 0
        raw[key] = {"acc": float(np.mean(net.predict(X[t]) == y[t])),
                    "seconds": time.perf_counter() - start}
        print(key, raw[key], flush=True)
        RAW.parent.mkdir(exist_ok=True)
        RAW.write_text(json.dumps(raw, indent=0, sort_keys=True))


def dev_jobs(methods):
    jobs = []
    for name in BENCH_TASKS:
        for seed in DEV_SEEDS:
            jobs.append((name, seed, "source only", None, None))
            for m in methods:
                jobs += [(name, seed, m, r, w) for r in GRID[m] for w in (True, False)]
    return jobs


def confirm_jobs(methods, new):
    jobs = []
    for name in (*BENCH_TASKS, "MNIST -> USPS (held out)"):
        for seed in CONFIRM_SEEDS:
            jobs.append((name, seed, "source only", None, None))
            for m in methods:
                jobs.append((name, seed, m, 1.0, True))
                if m in new:
                    jobs.append((name, seed, m, *new[m]))
    return jobs


def mean_acc(raw, name, seeds, method, reg, warmup):
    accs = [raw.get(f"{name}|{s}|{method}|{reg}|{warmup}", {}).get("acc") for s in seeds]
    return None if None in accs else (float(np.mean(accs)), float(np.min(accs)),
                                      float(np.max(accs)))


def report():
    raw = load_raw()
    fmt = lambda v: "" if v is None else f"{v[0]:.3f}"  # noqa: E731
    lines = ["## Development sweep (seeds 10-12; mean target accuracy)", "",
             "| method | reg | warm-up | " + " | ".join(BENCH_TASKS) + " | mean |",
             "|---|---:|---|" + "---:|" * (len(BENCH_TASKS) + 1)]
    so = [mean_acc(raw, n, DEV_SEEDS, "source only", None, None) for n in BENCH_TASKS]
    if None not in so:
        lines.append("| source only | | | " + " | ".join(fmt(v) for v in so)
                     + f" | {np.mean([v[0] for v in so]):.3f} |")
    best = {}
    for m, regs in GRID.items():
        for r in regs:
            for w in (True, False):
                vals = [mean_acc(raw, n, DEV_SEEDS, m, r, w) for n in BENCH_TASKS]
                if None in vals:
                    continue
                mean = float(np.mean([v[0] for v in vals]))
                if m not in best or mean > best[m][0] + 1e-9:
                    best[m] = (mean, r, w)
                lines.append(f"| {m} | {r:g} | {'yes' if w else 'no'} | "
                             + " | ".join(fmt(v) for v in vals) + f" | {mean:.3f} |")
    lines += ["", "Best on the development draws: " + "; ".join(
        f"{m}: reg={r:g}, warm-up {'on' if w else 'off'} ({a:.3f})"
        for m, (a, r, w) in best.items()) + ".", ""]
    # confirmation: every (method, reg, warmup) found on the confirmation seeds
    names = (*BENCH_TASKS, "MNIST -> USPS (held out)")
    configs = sorted({tuple(k.split("|")[2:]) for k in raw
                      if int(k.split("|")[1]) in CONFIRM_SEEDS})
    if configs:
        lines += ["## Confirmation (seeds 0-2: bench_deep.py's draws; MNIST -> USPS held "
                  "out; mean [min, max] target accuracy)", "",
                  "| method | reg | warm-up | " + " | ".join(names) + " |",
                  "|---|---:|---|" + "---:|" * len(names)]
        order = ["source only", *GRID]
        for m, r, w in sorted(configs, key=lambda c: (order.index(c[0]), c[1], c[2])):
            r, w = (None, None) if m == "source only" else (float(r), w == "True")
            vals = [mean_acc(raw, n, CONFIRM_SEEDS, m, r, w) for n in names]
            cells = ["" if v is None else f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" for v in vals]
            lines.append(f"| {m} | {'' if r is None else f'{r:g}'} | "
                         f"{'' if w is None else ('yes' if w else 'no')} | "
                         + " | ".join(cells) + " |")
    text = ("# Default domain-loss weights of the deep methods\n\n"
            "Generated by `benchmarks/bench_deep_defaults.py` (see its docstring for the "
            "protocol) on the CPU, one torch thread:\n\n"
            "    flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python "
            "benchmarks/bench_deep_defaults.py --part dev\n"
            "    flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python "
            "benchmarks/bench_deep_defaults.py --part confirm --new ...\n\n"
            "Each net: the class's defaults (MLP 64-64, dropout 0.1, 50 epochs, Adam lr 1e-3, "
            "batch 32 source + 32 target rows) except `reg` and `warmup`; the target labels "
            "are never used in fit.\n\n" + "\n".join(lines) + "\n")
    RESULTS.write_text(text)
    print(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["dev", "confirm"])
    parser.add_argument("--methods", nargs="*", default=list(GRID))
    parser.add_argument("--new", nargs="*", default=[],
                        help='chosen defaults, e.g. "Deep CORAL=100" or DANN=0.3:no-warmup')
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    new = {}
    for item in args.new:
        m, _, v = item.partition("=")
        r, _, w = v.partition(":")
        new[m] = (float(r), w != "no-warmup")
    if args.part == "dev":
        run(dev_jobs(args.methods))
    elif args.part == "confirm":
        run(confirm_jobs(args.methods, new))
    report()


if __name__ == "__main__":
    main()
