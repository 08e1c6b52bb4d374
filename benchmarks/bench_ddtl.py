"""Distant domain transfer: DDTL against source-only and DAN on the same rows.

Every method gets the same rows: labelled source rows, unlabelled rows of
the intermediate domains (negative codes of their own) and unlabelled
target rows. Source-only ignores the unlabelled rows; DAN takes the
intermediate rows for target rows (sktl's convention for negative codes);
DDTL uses them as intermediate domains. "DDTL (no intermediate)" fits DDTL
on the source and target rows only (the ablation of the bridge). The
network is ``bench_deep.py``'s (MLP 64-64, ReLU, dropout 0.1), Adam lr 1e-3,
50 epochs, 64 source + 64 non-source rows per step, each method's default
hyper-parameters, 3 seeds; accuracy on every target row. No setting is
chosen with target labels.

Tasks:

* generated: ``make_distant_shift`` (5 features, 2 classes, the target
  rotated by 90 degrees and moved by 3, 4 intermediate domains of 100 rows,
  200 source and 200 target rows; one data draw per seed);
* Office-Caltech10 SURF, Caltech → DSLR through Amazon and Webcam (rows
  normalised to sum one, then z-scored on all four domains);
* Amazon reviews, books → kitchen through DVD and electronics (400-d
  features as stored).

    flock /work/wt/heavy.lock python benchmarks/bench_ddtl.py --data generated
    flock /work/wt/heavy.lock python benchmarks/bench_ddtl.py --data office
    flock /work/wt/heavy.lock python benchmarks/bench_ddtl.py --data amazon
    python benchmarks/bench_ddtl.py --report

(from the repository root, with ``PYTHONPATH=$PWD``). Runs on CUDA unchanged.
"""

import os
import sys
import time

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from benchmarks._deep_tasks import DATA, HERE, cell, load_parts, mlp, parts_cli, save_part  # noqa: E402

EPOCHS, BATCH, LR = 50, 64, 1e-3
METHODS = ["source only", "DAN", "DDTL", "DDTL (no intermediate)"]
TASKS = {"generated": "source → target through 4 generated domains",
         "office": "C → D through A, W",
         "amazon": "books → kitchen through DVD, elec"}
SOURCE, TARGET = 1, -2


def load(data, seed):
    """``X, y, sample_domain`` (true labels), intermediate domains coded -3, -4, ..."""
    from sklearn.preprocessing import StandardScaler

    from sktl import datasets

    if data == "generated":
        X, y, sd = datasets.make_distant_shift(200, 200, n_features=5, random_state=seed,
                                               mask_intermediate=False)
        return X, y, sd
    if data == "office":
        pairs = [("caltech", "amazon"), ("webcam", "dslr")]
        load_pair = datasets.load_office_caltech
    else:
        pairs = [("books", "dvd"), ("elec", "kitchen")]
        load_pair = datasets.load_amazon_reviews
    Xs, ys = [], []
    for pair in pairs:
        X, y, sd = load_pair(*pair, data_home=DATA)
        Xs += [X[sd > 0], X[sd < 0]]
        ys += [y[sd > 0], y[sd < 0]]
    # order along the chain: source, intermediate 1, intermediate 2, target
    codes = [SOURCE, -3, -4, TARGET]
    X = np.vstack(Xs).astype(float)
    y = np.concatenate(ys)
    sd = np.concatenate([np.full(len(x), c) for x, c in zip(Xs, codes)])
    if data == "office":
        X = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-12)
        X = StandardScaler().fit_transform(X)
    return X, y - y.min(), sd


def fit(method, X, y, sd, seed):
    import sktl.deep as deep

    inter = sorted(set(sd[sd < TARGET].tolist()))
    if method == "DDTL (no intermediate)":
        keep = ~np.isin(sd, inter)
        X, y, sd = X[keep], y[keep], sd[keep]
    cls = {"source only": "SourceOnlyClassifier", "DAN": "DANClassifier"}.get(
        method, "DDTLClassifier")
    kw = {"intermediate_domains": inter} if method == "DDTL" else {}
    torch.manual_seed(seed)
    net = getattr(deep, cls)(module=mlp(X.shape[1], len(np.unique(y[sd > 0]))),
                             max_epochs=EPOCHS, batch_size=2 * BATCH, lr=LR,
                             random_state=seed, **kw)
    return net.fit(X, np.where(sd > 0, y, -1), sample_domain=sd)


def run_part(data, methods, seeds):
    rows = []
    for method in methods:
        accs, secs, kept = [], [], []
        for seed in range(seeds):
            X, y, sd = load(data, seed)
            start = time.perf_counter()
            net = fit(method, X, y, sd, seed)
            secs.append(time.perf_counter() - start)
            tgt = sd == TARGET
            accs.append(float(np.mean(net.predict(X[tgt]) == y[tgt])))
            if method == "DDTL":  # share of each domain's rows kept at the end
                w = net.selection_weights_
                kept.append({int(c): float(w[sd == c].mean()) for c in np.unique(sd)})
        rows.append({"key": [data, method], "acc": accs, "seconds": secs, "kept": kept})
        print(f"{data:10s} {method:22s} acc {np.mean(accs):.3f} [{min(accs):.3f}, "
              f"{max(accs):.3f}] {np.mean(secs):.1f} s", flush=True)
    save_part("ddtl", data, rows)


def report():
    found = {tuple(r["key"]): r for r in load_parts("ddtl")}
    out = ["# Distant domain transfer: DDTL vs source-only and DAN\n",
           "Generated by `benchmarks/bench_ddtl.py` (commands below) on "
           f"{'cuda' if torch.cuda.is_available() else 'cpu'} ({os.cpu_count()} CPU cores, "
           f"shared): the same MLP 64-64 for every method, {EPOCHS} epochs, 64 source + 64 "
           f"other rows per step, Adam lr {LR}, default hyper-parameters, 3 seeds, every "
           "method on the same rows (labelled source, unlabelled intermediate domains, "
           "unlabelled target). Accuracy on every target row, mean over seeds [min, max]. "
           "See the script's docstring for the tasks. (Run niced with one thread.)\n",
           "```", *[line.strip() for line in __doc__.split("\n") if "bench_ddtl.py --" in line],
           "```\n",
           "| data | task | " + " | ".join(METHODS) + " | DDTL − source | DDTL − DAN |",
           "|---|---|" + "---|" * (len(METHODS) + 2)]
    for data, task in TASKS.items():
        accs = {m: found.get((data, m), {}).get("acc", []) for m in METHODS}
        if not any(accs.values()):
            continue
        diffs = [f"{np.mean(accs['DDTL']) - np.mean(accs[b]):+.3f}"
                 if accs["DDTL"] and accs[b] else "—" for b in ("source only", "DAN")]
        out.append(f"| {data} | {task} | " + " | ".join(cell(accs[m]) for m in METHODS)
                   + " | " + " | ".join(diffs) + " |")
    out += ["", "Share of each domain's rows DDTL keeps at the end (selection weight 1; mean "
            "over seeds; target rows are always kept). The domains are listed from the "
            "source along the chain to the target.\n",
            "| data | source | intermediate domains, source side → target side | target |",
            "|---|---|---|---|"]
    for data in TASKS:
        kept = found.get((data, "DDTL"), {}).get("kept", [])
        if not kept:
            continue
        codes = [str(SOURCE)] + sorted((c for c in kept[0] if int(c) < TARGET),
                                       key=lambda c: -int(c)) + [str(TARGET)]
        shares = [f"{np.mean([k[c] for k in kept]):.2f}" for c in codes]
        out.append(f"| {data} | {shares[0]} | {', '.join(shares[1:-1])} | {shares[-1]} |")
    path = HERE / "results" / "ddtl.md"
    path.write_text("\n".join(out) + "\n")
    print("\n".join(out))



if __name__ == "__main__":
    parts_cli(sys.modules[__name__])
