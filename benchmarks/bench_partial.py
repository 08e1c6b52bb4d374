"""Partial domain adaptation: the target holds half of the source's classes.

Source-only, DANN, SAN and IWAN (``sktl.deep``) train the same network as
``bench_deep.py`` (an MLP 64-64, ReLU, dropout 0.1, adapting ``features``),
Adam lr 1e-3, 50 epochs, 64 source + 64 target rows per step, each method's
default hyper-parameters (IWAN pretrains 10 of the 50 epochs), 3 seeds.
Neither skada nor ADAPT has a partial-DA method, so there is no peer column.

Tasks (the target keeps only the classes listed, fixed here; the source
keeps all of them; scored on every target row):

* Office-Caltech10 SURF, C→A, A→C, C→W, A→W: target classes 1–5 of 10
  (rows normalised to sum one, then z-scored);
* MNIST→USPS and USPS→MNIST (16x16, 2000 / 1800 rows): target digits 0–4;
* a generated conditional shift (``make_domain_shift``, 10 features,
  6 classes, shift strength 1.5, noise 0.5, 600 + 600 rows, one data draw
  per seed): target classes 0–2.

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/bench_partial.py --data generated
    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/bench_partial.py --data digits
    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/bench_partial.py --data office
    python benchmarks/bench_partial.py --report

(from the repository root, with ``PYTHONPATH=$PWD``; accuracy only, so the
runs need no lock and no quiet machine). Runs on CUDA unchanged.
"""

import os
import sys
import time

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from benchmarks._deep_tasks import HERE, cell, load_pair, load_parts, mlp, parts_cli, save_part  # noqa: E402

EPOCHS, BATCH, LR = 50, 64, 1e-3
METHODS = {"source only": "SourceOnlyClassifier", "DANN": "DANNClassifier",
           "SAN": "SANClassifier", "IWAN": "IWANClassifier"}
#: target classes kept (codes 0..K-1 after loading)
KEEP = {"office": [0, 1, 2, 3, 4], "digits": [0, 1, 2, 3, 4], "generated": [0, 1, 2]}
TASKS = {"office": [("C", "A"), ("A", "C"), ("C", "W"), ("A", "W")],
         "digits": [("mnist", "usps"), ("usps", "mnist")],
         "generated": [("conditional", "6 → 3 classes")]}


#: The issue's done-when read off the table of 2026-11-30 (3 seeds), and the side run behind
#: the IWAN note (accuracy only, same data and network; no default was changed on it).
NOTES = [
    "## Done when? (issue #14: SAN and IWAN each beat DANN on average, never far below "
    "source only)\n",
    "- **SAN: yes.** +0.154 over DANN on average and ahead of it on 6 of 7 tasks; +0.070 over "
    "source only on average, ahead on 6 of 7 (generated: −0.029, inside the seeds' spread). "
    "Where it trails DANN, USPS → MNIST (0.473 vs 0.626), it is still above source only "
    "(0.400). Its class weights do the selection: the missing classes get 0.00–0.14.",
    "- DANN ran at its current default (reg=10, no warm-up; `deep_defaults.md`), SAN and IWAN "
    "at theirs (reg=1, warm-up). DANN's column was rerun when that default changed; at the "
    "old one (reg=1 with the warm-up, the weight SAN and IWAN use) DANN's mean was 0.522 "
    "(0.513, 0.422, 0.417, 0.491, 0.440, 0.613, 0.759 in the table's order), and the "
    "verdicts below do not change.",
    "- **IWAN: half.** +0.053 over DANN on average, but 0.031 *below* source only on average "
    "and far below it on MNIST → USPS (0.187 vs 0.524), C → A (−0.103) and A → C (−0.076); "
    "it also trails DANN on MNIST → USPS (−0.302).",
    "- **Why IWAN fails there: its importance weights do not select.** The ratio of the "
    "weights of missing-class to present-class source rows is 0.91–1.08 on the four Office "
    "tasks and on MNIST → USPS (0.76 on USPS → MNIST; 0.31 on the generated shift, where "
    "IWAN is level with source only). Our reading, not checked further: the first "
    "discriminator tells the frozen source "
    "features from the target encoder's on cues common to every class (800-d SURF, "
    "256-pixel digits: the domains are easy to separate), so `1 − D(source | z)` is about "
    "the same for every source row, and step 3 becomes ADDA's unweighted alignment onto all "
    "source classes: the negative transfer partial DA is about. The ADDA-style untied "
    "target encoder is weak with this MLP anyway (`deep.md`: sktl's ADDA 0.466 vs source "
    "only 0.553 on the full Office C → A). Side run, MNIST → USPS, seed 0: default 0.250, "
    "529 of the 1090 target rows (digits 0–4 only) predicted as the missing digits 5–9; "
    "`entropy_weight=0` 0.221; `reg=0` (no adversarial term, entropy only) 0.656; "
    "`reg=0, entropy_weight=0` 0.579. The adversarial term, not the entropy term, causes "
    "the collapse.",
]


def load(data, pair, seed):
    """``X, y, sample_domain`` of a partial task (target restricted to ``KEEP[data]``)."""
    if data == "generated":
        from sklearn.preprocessing import StandardScaler

        from sktl.datasets import make_domain_shift

        X, y, sd = make_domain_shift(600, 600, shift="conditional", n_features=10, n_classes=6,
                                     shift_strength=1.5, noise=0.5, random_state=seed)
        X = StandardScaler().fit_transform(X)
    else:
        X, y, sd = load_pair(data, *pair)
    keep = (sd > 0) | np.isin(y, KEEP[data])
    return X[keep], y[keep], sd[keep]


def fit_predict(method, X, y, sd, seed):
    import sktl.deep as deep

    torch.manual_seed(seed)
    net = getattr(deep, METHODS[method])(
        module=mlp(X.shape[1], len(np.unique(y[sd > 0]))), max_epochs=EPOCHS,
        batch_size=2 * BATCH, lr=LR, random_state=seed)
    net.fit(X, np.where(sd > 0, y, -1), sample_domain=sd)
    return net


def run_part(data, methods, seeds):
    rows = []
    for pair in TASKS[data]:
        task = f"{pair[0]} → {pair[1]}"
        for method in methods:
            accs, secs, extra = [], [], []
            for seed in range(seeds):
                X, y, sd = load(data, pair, seed)
                start = time.perf_counter()
                net = fit_predict(method, X, y, sd, seed)
                secs.append(time.perf_counter() - start)
                accs.append(float(np.mean(net.predict(X[sd < 0]) == y[sd < 0])))
                if method == "SAN":  # weight of the classes missing from the target
                    w = net.class_weights_
                    extra.append(float(np.mean(np.delete(w, KEEP[data]))))
                if method == "IWAN":  # mean weight of the source rows of missing classes
                    w = net.predict_weights(X[sd > 0])
                    absent = ~np.isin(y[sd > 0], KEEP[data])
                    extra.append(float(w[absent].mean() / w[~absent].mean()))
            rows.append({"key": [data, task, method], "acc": accs, "seconds": secs,
                         "extra": extra})
            print(f"{data:10s} {task:16s} {method:12s} acc {np.mean(accs):.3f} "
                  f"[{min(accs):.3f}, {max(accs):.3f}] {np.mean(secs):.1f} s"
                  + (f"  extra {np.mean(extra):.3f}" if extra else ""), flush=True)
    save_part("partial", data, rows)


def report():
    rows = load_parts("partial")
    found = {tuple(r["key"]): r for r in rows}
    tasks = [(d, f"{a} → {b}") for d in TASKS for a, b in TASKS[d]
             if any(k[:2] == (d, f"{a} → {b}") for k in found)]
    names = {"office": "Office-Caltech10", "digits": "digits", "generated": "generated"}
    out = ["# Partial domain adaptation: source-only, DANN, SAN, IWAN\n",
           "Generated by `benchmarks/bench_partial.py` (commands below) on "
           f"{'cuda' if torch.cuda.is_available() else 'cpu'} ({os.cpu_count()} CPU cores, "
           f"shared): the same MLP 64-64 for every method, {EPOCHS} epochs, 64 source + 64 "
           f"target rows per step, Adam lr {LR}, default hyper-parameters, 3 seeds. The "
           "target keeps half of the classes (Office-Caltech: 1–5 of 10; digits: 0–4; "
           "generated: 3 of 6); accuracy on every target row, mean over seeds [min, max].\n",
           "```", *[line.strip() for line in __doc__.split("\n") if "bench_partial.py --" in line],
           "```\n",
           "| data | task | " + " | ".join(METHODS) + " | SAN − DANN | IWAN − DANN | "
           "SAN − source | IWAN − source |", "|---|---|" + "---|" * (len(METHODS) + 4)]
    means = {m: [] for m in METHODS}
    for data, task in tasks:
        accs = {m: found.get((data, task, m), {}).get("acc", []) for m in METHODS}
        for m in METHODS:
            means[m].append(np.mean(accs[m]) if accs[m] else np.nan)
        diffs = []
        for a, b in (("SAN", "DANN"), ("IWAN", "DANN"), ("SAN", "source only"),
                     ("IWAN", "source only")):
            diffs.append(f"{np.mean(accs[a]) - np.mean(accs[b]):+.3f}"
                         if accs[a] and accs[b] else "—")
        out.append(f"| {names[data]} | {task} | " + " | ".join(cell(accs[m]) for m in METHODS)
                   + " | " + " | ".join(diffs) + " |")
    avg = {m: np.nanmean(v) for m, v in means.items()}
    out.append("| **mean** | all tasks | " + " | ".join(f"**{avg[m]:.3f}**" for m in METHODS)
               + f" | {avg['SAN'] - avg['DANN']:+.3f} | {avg['IWAN'] - avg['DANN']:+.3f} | "
               f"{avg['SAN'] - avg['source only']:+.3f} | "
               f"{avg['IWAN'] - avg['source only']:+.3f} |")
    out += ["", "What the methods saw of the missing classes (mean over seeds): SAN's class "
            "weight of the missing classes (the present ones are near 1), and IWAN's mean "
            "importance weight of the source rows of missing classes relative to the rows of "
            "present classes (1 = no selection).\n",
            "| data | task | SAN: weight of missing classes | IWAN: weight ratio missing / "
            "present |", "|---|---|---:|---:|"]
    for data, task in tasks:
        e = [found.get((data, task, m), {}).get("extra", []) for m in ("SAN", "IWAN")]
        out.append(f"| {names[data]} | {task} | "
                   + " | ".join(f"{np.mean(v):.3f}" if v else "—" for v in e) + " |")
    out += ["", *NOTES]
    path = HERE / "results" / "partial.md"
    path.write_text("\n".join(out) + "\n")
    print("\n".join(out))



if __name__ == "__main__":
    parts_cli(sys.modules[__name__])
