"""Deep domain adaptation: sktl.deep vs skada.deep, same data, network, batch and epochs.

For each method (source only, DAN, Deep CORAL, DANN; JAN has no skada
equivalent) both libraries train the same ``MLPModule`` (2 hidden layers of
64 units, dropout 0.1) with Adam (lr 1e-3), batch size 64, 50 epochs,
adapting the ``features`` block, on two shifted problems: rotated two moons
(35 degrees, the DANN toy problem) and a generated conditional shift with 10
features. Reported: mean seconds per epoch and final target accuracy (mean
over 3 seeds). Runs on CUDA unchanged when available (``device="auto"``
for sktl, ``device="cuda"`` for skada).

    python benchmarks/bench_deep.py

Writes benchmarks/results/deep.md.
"""

import os
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results" / "deep.md"
EPOCHS, BATCH, LR = 50, 64, 1e-3
EXTRA = {}
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def problems(seed):
    from sklearn.datasets import make_moons
    from sklearn.preprocessing import StandardScaler

    from sktl.datasets import make_domain_shift

    n = 500
    Xs, ys = make_moons(n, noise=0.1, random_state=seed)
    Xt, yt = make_moons(n, noise=0.1, random_state=seed + 100)
    a = np.deg2rad(35)
    Xt = Xt @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T
    yield "rotated moons", np.vstack([Xs, Xt]), np.r_[ys, yt], np.repeat([1, -2], n)
    X, y, sd = make_domain_shift(n, n, shift="conditional", n_features=10, shift_strength=1.5,
                                 random_state=seed)
    yield "conditional shift (10 features)", StandardScaler().fit_transform(X), y, sd


def module(n_features, peer=False):
    from sktl.deep import MLPModule

    if peer:  # skada passes sample_weight to the module's forward
        class PeerMLP(MLPModule):
            def forward(self, X, sample_weight=None, **kwargs):
                return super().forward(X)

        return PeerMLP(n_features, 2, hidden_units=(64, 64), dropout=0.1)
    return MLPModule(n_features, 2, hidden_units=(64, 64), dropout=0.1)


def ours(method, X, y, sd, seed):
    import sktl.deep as deep

    cls = {"source only": deep.SourceOnlyClassifier, "DAN": deep.DANClassifier,
           "Deep CORAL": deep.DeepCORALClassifier, "DANN": deep.DANNClassifier,
           "JAN": deep.JANClassifier}[method]
    net = cls(module=module(X.shape[1]), max_epochs=EPOCHS, batch_size=BATCH, lr=LR, **EXTRA,
              warmup=False, random_state=seed)
    net.fit(X, np.where(sd > 0, y, -1), sample_domain=sd)
    return net, lambda Z: net.predict(Z)


def peer(method, X, y, sd, seed):
    import skada.deep as sd_deep

    torch.manual_seed(seed)
    common = dict(max_epochs=EPOCHS, batch_size=BATCH, lr=LR, optimizer=torch.optim.Adam,
                  train_split=None, device=DEVICE, verbose=0)
    m = module(X.shape[1], peer=True)
    if method == "source only":
        net = sd_deep.SourceOnly(m, layer_name="features", **common)
    elif method == "DAN":
        net = sd_deep.DAN(m, layer_name="features", reg=1, **common)
    elif method == "Deep CORAL":
        net = sd_deep.DeepCoral(m, layer_name="features", reg=1, **common)
    elif method == "DANN":
        net = sd_deep.DANN(m, layer_name="features", reg=1, num_features=64, **common)
    else:
        return None, None
    X32 = X.astype(np.float32)
    net.fit({"X": X32, "sample_domain": sd}, np.where(sd > 0, y, -1))
    return net, lambda Z: net.predict({"X": Z.astype(np.float32),
                                       "sample_domain": -2 * np.ones(len(Z), int)})


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    methods = ["source only", "DAN", "Deep CORAL", "DANN", "JAN"]
    rows = []
    for data_name in ("rotated moons", "conditional shift (10 features)"):
        for method in methods:
            for lib, runner in (("sktl", ours), ("skada", peer)):
                accs, per_epoch = [], []
                for seed in range(3):
                    X, y, sd = next((Xp, yp, sdp) for name, Xp, yp, sdp in problems(seed)
                                    if name == data_name)
                    start = time.perf_counter()
                    net, predict = runner(method, X, y, sd, seed)
                    if net is None:
                        break
                    per_epoch.append((time.perf_counter() - start) / EPOCHS)
                    t = sd < 0
                    accs.append(np.mean(np.asarray(predict(X[t])) == y[t]))
                if accs:
                    rows.append((data_name, method, lib, np.mean(per_epoch), np.mean(accs),
                                 np.min(accs), np.max(accs)))
                    print(rows[-1], flush=True)
    lines = ["| data | method | library | s / epoch | target acc. | min | max | "
             "time / sktl's |", "|---|---|---|---:|---:|---:|---:|---:|"]
    ref = {(d, m): s for d, m, lib, s, *_ in rows if lib == "sktl"}
    for d, m, lib, s, acc, lo, hi in rows:
        lines.append(f"| {d} | {m} | {lib} | {s:.3f} | {acc:.3f} | {lo:.3f} | {hi:.3f} | "
                     f"{s / ref[(d, m)]:.2f}x |")
    text = (f"# Deep domain adaptation: sktl.deep vs skada.deep\n\nGenerated by "
            f"`python benchmarks/bench_deep.py` on {DEVICE} ({os.cpu_count()} CPU cores); "
            f"{EPOCHS} epochs, batch {BATCH}, Adam lr {LR}, same MLP (64-64), mean of 3 "
            "seeds. Seconds per epoch include everything `fit` does, divided by the epochs."
            "\n\n" + "\n".join(lines) + "\n")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
