"""Few-shot supervised adaptation on digits: CCSA against its baselines.

MNIST→USPS and USPS→MNIST (the 16x16 release, 2000 / 1800 rows, z-scored)
with 1, 3, 5 and 7 labelled target rows per class (drawn per seed; every
other target row is the test set). Every method trains the MLP of
``bench_deep.py`` (64-64, dropout 0.1) with Adam lr 1e-3 and batches of
64 + 64 rows, 3 seeds:

* **source only**: the source rows, 50 epochs;
* **target only**: the labelled target rows, 200 epochs (one step each);
* **fine-tuning**: the source-only network, its head replaced, trained on the
  labelled target rows for 100 epochs (``FineTuningClassifier`` with
  ``pretrained`` = that network's weights);
* **pooled**: source and labelled target rows in one classification loss,
  50 epochs (``CCSAClassifier(reg=0)``: CCSA without its Siamese terms);
* **CCSA**: ``CCSAClassifier`` with its defaults (margin 1, 1:3 pairs,
  alpha = 0.25), 50 epochs.

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/bench_ccsa.py --task m2u --first-seed S --seeds 1
    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/bench_ccsa.py --task u2m --first-seed S --seeds 1
    python benchmarks/bench_ccsa.py --report

(from the repository root, with ``PYTHONPATH=$PWD``; S = 0, 1, 2 in turn, each run
saving its seed; accuracy only, so no lock). Runs on CUDA unchanged.
"""

import argparse
import os
import time

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from benchmarks._deep_tasks import HERE, cell, load_pair, load_parts, mlp, save_part  # noqa: E402

EPOCHS, BATCH, LR = 50, 64, 1e-3
SHOTS = (1, 3, 5, 7)
TASKS = {"m2u": ("mnist", "usps"), "u2m": ("usps", "mnist")}
METHODS = ("source only", "target only", "fine-tuning", "pooled", "CCSA")
#: CCSA's Table (LeNet on 16x16 digits, 2000 MNIST / 1800 USPS rows drawn at
#: random, labelled target rows per class n = 1, 3, 5, 7), quoted from the paper
PAPER = {"m2u": (85.0, 89.0, 90.1, 91.4), "u2m": (78.4, 82.0, 85.8, 86.1)}

#: Read off the table of 2026-11-30 (3 seeds per task).
NOTES = [
    "## What the numbers say\n",
    "- **CCSA is never below pooled training** (the same loss without the Siamese terms: "
    "+0.000 to +0.022 in all 8 cells), so the contrastive terms help a little and never "
    "hurt; every one of these gains is inside the seeds' spread.",
    "- **Over target only and fine-tuning, CCSA gains little here.** On "
    "MNIST → USPS it is the best column at k = 1, 5, 7 (0.613, 0.792, 0.832) and 0.008 "
    "below target only at k = 3; on USPS → MNIST it is the best at k = 1 (0.436, +0.022 "
    "over pooled, +0.033 over target only), level with target only at k = 3 and 0.003 / "
    "0.016 below fine-tuning at k = 5 / 7.",
    "- **Why the gap to the paper:** with this MLP on z-scored pixels the source barely "
    "transfers (source only 0.376 on MNIST → USPS, 0.224 on USPS → MNIST; the ADDA paper's "
    "LeNet source only is 0.752 on MNIST → USPS), so the few target labels carry almost "
    "everything: target only is "
    "already 0.40–0.81 and what the source adds through any of the methods is a few points. "
    "CCSA's alignment of same-class source/target pairs can only help as much as the source "
    "features are worth; the protocol (sample sizes, shots, pairs) is the paper's, the "
    "network is not, so these numbers do not test the paper's levels.",
]


def labelled_rows(y, sd, k, seed):
    """``k`` target rows per class, drawn per seed (the same for every method)."""
    rng = np.random.default_rng(1000 + seed)
    tgt = np.flatnonzero(sd < 0)
    return np.concatenate([rng.choice(tgt[y[tgt] == c], k, replace=False)
                           for c in np.unique(y[tgt])])


def net(cls, X, y, seed, **kw):
    import sktl.deep as deep

    torch.manual_seed(seed)
    return getattr(deep, cls)(module=mlp(X.shape[1], len(np.unique(y))), batch_size=2 * BATCH,
                              lr=LR, random_state=seed, **kw)


def run_part(task, seeds, shots):
    X, y, sd = load_pair("digits", *TASKS[task])
    for seed in seeds:
        rows = []
        start = time.perf_counter()
        source = net("SourceOnlyClassifier", X, y, seed, max_epochs=EPOCHS)
        source.fit(X, np.where(sd > 0, y, -1), sample_domain=sd)
        src_secs = time.perf_counter() - start
        weights = {k: v.detach().cpu().clone() for k, v in source.module_.state_dict().items()}
        for k in shots:
            lab = labelled_rows(y, sd, k, seed)
            test = np.setdiff1d(np.flatnonzero(sd < 0), lab)
            y_fit = np.where(sd > 0, y, -1)
            y_fit[lab] = y[lab]
            fits = {
                "target only": ("TargetOnlyClassifier", {"max_epochs": 4 * EPOCHS}),
                "fine-tuning": ("FineTuningClassifier", {"max_epochs": 2 * EPOCHS,
                                                         "pretrained": weights}),
                "pooled": ("CCSAClassifier", {"max_epochs": EPOCHS, "reg": 0.0}),
                "CCSA": ("CCSAClassifier", {"max_epochs": EPOCHS}),
            }
            for method in METHODS:
                if method == "source only":
                    model, secs = source, src_secs
                else:
                    cls, kw = fits[method]
                    start = time.perf_counter()
                    model = net(cls, X, y, seed, **kw).fit(X, y_fit, sample_domain=sd)
                    secs = time.perf_counter() - start
                acc = float(np.mean(model.predict(X[test]) == y[test]))
                rows.append({"key": [task, k, method, seed], "acc": acc, "seconds": secs})
                print(f"{task} k={k} seed={seed} {method:12s} acc {acc:.3f} {secs:.1f} s",
                      flush=True)
        save_part("ccsa", task, rows)  # after every seed


def report():
    rows = load_parts("ccsa")
    out = ["# Few-shot supervised adaptation on digits: CCSA\n",
           "Generated by `benchmarks/bench_ccsa.py` (protocol in its docstring; commands "
           f"below) on {'cuda' if torch.cuda.is_available() else 'cpu'} ({os.cpu_count()} "
           "CPU cores, shared). Accuracy on the target rows not labelled, mean over the seeds "
           "[min, max]; k = labelled target rows per class.\n", "```",
           *[line.strip() for line in __doc__.split("\n") if "bench_ccsa.py --" in line],
           "```\n"]
    names = {"m2u": "MNIST → USPS", "u2m": "USPS → MNIST"}
    for task in TASKS:
        found = [r for r in rows if r["key"][0] == task]
        if not found:
            continue
        seeds = len({r["key"][3] for r in found})
        out += [f"\n## {names[task]} ({seeds} seeds)\n",
                "| k | " + " | ".join(METHODS) + " | CCSA − pooled | CCSA − fine-tuning | "
                "paper's CCSA (LeNet) |", "|---|" + "---|" * (len(METHODS) + 3)]
        for i, k in enumerate(SHOTS):
            accs = {m: [r["acc"] for r in found if r["key"][1] == k and r["key"][2] == m]
                    for m in METHODS}
            if not accs["CCSA"]:
                continue
            gap = [f"{np.mean(accs['CCSA']) - np.mean(accs[m]):+.3f}" if accs[m] else "—"
                   for m in ("pooled", "fine-tuning")]
            out.append(f"| {k} | " + " | ".join(cell(accs[m]) for m in METHODS) + " | "
                       + " | ".join(gap) + f" | {PAPER[task][i] / 100:.3f} |")
    out += ["", "The paper's figures (its Table for MNIST↔USPS, quoted; not re-checked "
            "against a copy of the paper available here) come from a LeNet CNN on the 16x16 "
            "images with its own random 2000 / 1800-row draws; ours from an MLP on the JDA "
            "release of the same protocol. The sample sizes and shots match, the network "
            "does not: compare the gains over the baselines, not the levels."]
    out += ["", *NOTES]
    path = HERE / "results" / "ccsa.md"
    path.write_text("\n".join(out) + "\n")
    print("\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=list(TASKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="run the seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--shots", default=",".join(map(str, SHOTS)))
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="smoke tests only")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        return report()
    globals()["EPOCHS"] = args.epochs
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    shots = [int(s) for s in args.shots.split(",")]
    for task in [args.task] if args.task else list(TASKS):
        run_part(task, range(args.first_seed, args.first_seed + args.seeds), shots)
    if not args.task:
        report()


if __name__ == "__main__":
    main()
