"""Deep domain adaptation: every sktl.deep net next to skada's and ADAPT's counterpart.

Each library trains the same network, an MLP of 2 hidden layers of 64 units
(ReLU, dropout 0.1) adapting its ``features`` block, with Adam (lr 1e-3) for
the same number of epochs (50) on the same data, 3 seeds, with each method's
own default hyper-parameters. **Batches hold the same rows in every library**:
64 source + 64 target rows per step (skada's and ADAPT's ``batch_size`` counts
rows per domain, sktl's counts both, so sktl gets ``batch_size=128``).
ADAPT (TensorFlow) gets the same MLP written in Keras; its methods that
pretrain (ADDA, MCD, WANN) pretrain for 10 of the 50 epochs, as sktl's ADDA.

Reported: mean target accuracy over the seeds (with min and max) and seconds
per epoch (the whole ``fit`` divided by the epochs: skorch or Keras overhead,
batching and all). Data: rotated two moons (35 degrees, the DANN toy), a
generated conditional shift (10 features), Office-Caltech caltech → amazon
(SURF, rows normalised to sum 1 then z-scored) and MNIST → USPS (the 2000 /
1800 digit protocol of ADDA, 16x16 pixels z-scored). WANN and target-only use
labels for 5 % of the target rows (the same rows in every library) and are
scored on the other target rows; the unsupervised methods on all target rows.

Each run writes a part (after every method), and ``--report`` assembles
``benchmarks/results/deep.md``. The runs behind it (each under 15 minutes on 2
shared cores; ``B`` stands for ``OMP_NUM_THREADS=1 python benchmarks/bench_deep.py``
and ``L`` for ``flock /work/wt/heavy.lock``):

    L B --data moons --methods @moons1
    L B --data moons --methods @moons2
    L B --data moons --libs adapt --methods @baselines
    L B --data conditional
    L B --data office --methods @shared
    L B --data office --methods "CAN,target only (5 % labels)"
    L B --data office --libs sktl,adapt --methods @adapt,JAN
    L B --data digits --methods @shared
    L B --data digits --methods "target only (5 % labels)"
    L B --data digits --methods CAN --seeds 1
    L B --data digits --methods CAN --first-seed 1 --seeds 2
    L B --data digits --libs sktl,adapt --methods @adapt1
    L B --data digits --libs sktl,adapt --methods @adapt2
    L B --data digits --libs sktl,adapt --methods @l2sp_mean
    L B --data office --libs sktl,adapt --methods @l2sp_mean
    N B --data digits --probe NAME   (each side run of PROBES, seeds 0-2)
    python benchmarks/bench_deep.py --report

(``@name`` is a group of methods of ``GROUPS``; the CAN and target-only rows of Office
and MNIST → USPS came from the later runs that name them; ``N`` stands for ``nice -n 19``:
the side runs only report accuracy and run outside the lock.)
Run from the repository root with ``PYTHONPATH=$PWD`` and the benchmark
environment, which has skada 0.6 and ADAPT 0.4.5. Runs on CUDA unchanged
when available.
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

warnings.filterwarnings("ignore", message=".*shuffle=True.*")
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)
HERE = Path(__file__).parent
RESULTS = HERE / "results" / "deep.md"
PARTS = HERE / "results" / "deep_parts"
EPOCHS, BATCH, LR, PRETRAIN = 50, 64, 1e-3, 10
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DATASETS = ("moons", "conditional", "office", "digits")
#: sktl's L2-SP with ADAPT's penalty: the mean squared change of each parameter tensor, summed
#: over the tensors (``lambda * sum_k mean((w_k - w0_k)²)``), instead of the L2-SP paper's sum
#: over every weight; ADAPT's row is the same RegularTransferNN (lambdas=1) as the row above
L2SP_MEAN = "L2-SP fine-tuning with ADAPT's per-tensor mean penalty (5 % labels)"
#: method -> (sktl class, skada factory name, ADAPT class name); None where a library has none
METHODS = {
    "source only": ("SourceOnlyClassifier", "SourceOnly", "SourceOnly"),
    "target only (5 % labels)": ("TargetOnlyClassifier", "TargetOnly", "TargetOnly"),
    "DAN": ("DANClassifier", "DAN", None),
    "Deep CORAL": ("DeepCORALClassifier", "DeepCoral", "DeepCORAL"),
    "DANN": ("DANNClassifier", "DANN", "DANN"),
    "JAN": ("JANClassifier", None, None),
    "CDAN": ("CDANClassifier", "CDAN", "CDAN"),
    "MCC": ("MCCClassifier", "MCC", None),
    "MDD": ("MDDClassifier", "MDD", "MDD"),
    "ADDA": ("ADDAClassifier", None, "ADDA"),
    "WDGRL": ("WDGRLClassifier", None, "WDGRL"),
    "MCD": ("MCDClassifier", None, "MCD"),
    "CAN": ("CANClassifier", "CAN", None),
    "SPA": ("SPAClassifier", "SPA", None),
    "DeepJDOT": ("DeepJDOTClassifier", "DeepJDOT", None),
    "WANN (5 % labels)": ("WANNClassifier", None, "WANN"),
    "IWN": ("IWNClassifier", None, "IWN"),
    "CCSA (5 % labels)": ("CCSAClassifier", None, "CCSA"),
    "fine-tuning (5 % labels)": ("FineTuningClassifier", None, "FineTuning"),
    "L2-SP fine-tuning (5 % labels)": ("FineTuningClassifier", None, "RegularTransferNN"),
    L2SP_MEAN: ("FineTuningClassifier", None, "RegularTransferNN"),
}
_ADAPT = ["ADDA", "WDGRL", "MCD", "WANN (5 % labels)", "IWN", "CCSA (5 % labels)",
          "fine-tuning (5 % labels)", "L2-SP fine-tuning (5 % labels)"]
GROUPS = {  # how the runs are split (each under 15 minutes on 2 shared cores)
    "moons1": ["source only", "target only (5 % labels)", "DAN", "Deep CORAL", "DANN", "JAN",
               "CDAN", "MCC", "MDD"],
    "moons2": ["ADDA", "WDGRL", "MCD", "CAN", "SPA", "DeepJDOT", *_ADAPT[3:]],
    "baselines": ["source only", "target only (5 % labels)"],
    "shared": ["source only", "DANN", "Deep CORAL", "CDAN", "MDD", "DAN", "MCC", "DeepJDOT",
               "SPA", "CAN", "target only (5 % labels)"],  # the methods skada has
    "adapt": _ADAPT,  # the methods only ADAPT has
    "adapt1": _ADAPT[:4], "adapt2": _ADAPT[4:],  # the same in two runs (MNIST → USPS)
    "l2sp_mean": [L2SP_MEAN],
}
SUPERVISED = {"target only (5 % labels)", "WANN (5 % labels)", "CCSA (5 % labels)",
              "fine-tuning (5 % labels)", "L2-SP fine-tuning (5 % labels)", L2SP_MEAN}
#: the fine-tuning methods: half of the epochs pretrain on the source, half fine-tune
FINETUNE = {"fine-tuning (5 % labels)": 0.0, "L2-SP fine-tuning (5 % labels)": 1.0,
            L2SP_MEAN: 1.0}
#: Published numbers on a protocol close to ours (same sample sizes; the papers
#: train a LeNet CNN on 28x28 images, we an MLP on the 16x16 release).
PAPER = {
    ("digits", "source only"): "75.2 ± 1.6 (ADDA paper, LeNet)",
    ("digits", "ADDA"): "89.4 ± 0.2 (Tzeng et al. 2017, LeNet)",
}


def load(name, seed):
    """``X, y, sample_domain`` with true labels for every row (classes coded 0..K-1)."""
    from sklearn.preprocessing import StandardScaler

    if name == "moons":
        from sklearn.datasets import make_moons

        n = 500
        Xs, ys = make_moons(n, noise=0.1, random_state=seed)
        Xt, yt = make_moons(n, noise=0.1, random_state=seed + 100)
        a = np.deg2rad(35)
        Xt = Xt @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T
        return np.vstack([Xs, Xt]), np.r_[ys, yt], np.repeat([1, -2], n)
    if name == "conditional":
        from sktl.datasets import make_domain_shift

        X, y, sd = make_domain_shift(500, 500, shift="conditional", n_features=10,
                                     shift_strength=1.5, random_state=seed)
        return StandardScaler().fit_transform(X), y, sd
    from sktl import datasets

    data = Path(os.environ.get("SKTL_DATA", HERE.resolve().parents[1] / "shared" / "data"))
    if name == "office":
        X, y, sd = datasets.load_office_caltech("caltech", "amazon", data_home=data)
        X = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-12)
    else:
        X, y, sd = datasets.load_mnist_usps("mnist", "usps", data_home=data)
    return StandardScaler().fit_transform(X), y - y.min(), sd


def few_labels(sd, seed, share=0.05):
    """The target rows whose label the supervised methods see (the same in every library)."""
    tgt = np.flatnonzero(sd < 0)
    rng = np.random.default_rng(1000 + seed)
    return rng.choice(tgt, max(2, int(share * len(tgt))), replace=False)


def mlp(n_features, n_classes, peer=False):
    from sktl.deep import MLPModule

    if peer:  # skada passes sample_weight to the module's forward
        class PeerMLP(MLPModule):
            def forward(self, X, sample_weight=None, **kwargs):
                return super().forward(X)

        return PeerMLP(n_features, n_classes, hidden_units=(64, 64), dropout=0.1)
    return MLPModule(n_features, n_classes, hidden_units=(64, 64), dropout=0.1)


def _tensor_mean_penalty(cls):
    """``cls`` with ADAPT's L2-SP penalty: ``source_reg * sum_k mean((w_k - w0_k)²)``."""

    class TensorMeanL2SP(cls):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            pairs = self.__dict__.pop("_source_params_", None)  # no sum penalty from cls
            try:
                loss = super().get_loss(y_pred, y_true, X=X, training=training)
            finally:
                if pairs is not None:
                    self._source_params_ = pairs
            if training and pairs:
                loss = loss + self.source_reg * sum((p - p0).pow(2).mean() for p, p0 in pairs)
            return loss

    return TensorMeanL2SP


def _glorot(module):
    """Keras' initialisation (ADAPT's network): Glorot-uniform weights, zero biases."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return module


def _cdan_adapt_gradients(cls):
    """CDAN whose map and entropy weights pass gradient (reversed) into the predictions,
    as ADAPT's ``CDAN.train_step`` does (sktl and the authors' code detach them in the map)."""
    import torch.nn.functional as F

    from sktl.deep._losses import entropy
    from sktl.deep._modules import GradientReversal

    class CDANWithPredictionGradient(cls):
        def domain_loss(self, source, target, y_pred, src, tgt):
            layer = self._last_layer()
            f = torch.cat([source[layer], target[layer]])
            g = torch.softmax(torch.cat([y_pred[src], y_pred[tgt]]), dim=1)
            ns = len(source[layer])
            d = self._domain_labels(ns, len(f) - ns, f.device)
            scale = float(self.schedule())
            logits = self.discriminator_(self.multilinear_(f, g), scale=scale)
            bce = F.binary_cross_entropy_with_logits(logits, d, reduction="none")
            w = 1.0 + torch.exp(-entropy(GradientReversal.apply(g, scale)))
            return 0.5 * ((bce[:ns] * w[:ns]).sum() / w[:ns].sum()
                          + (bce[ns:] * w[ns:]).sum() / w[ns:].sum())

    return CDANWithPredictionGradient


def run_sktl(method, X, y, sd, seed, labelled, variant=None, **params):
    """Fit sktl's net (its defaults, or ``params`` on top: ``bench_deep_defaults``' sweep).

    ``variant`` (the side runs of ``PROBES``, joined by "+"): "glorot" starts from Keras'
    initialisation, "cdan_gradients" passes the gradient through CDAN's predictions as ADAPT
    does.
    """
    import sktl.deep as deep

    cls = getattr(deep, METHODS[method][0])
    if method == L2SP_MEAN:
        cls = _tensor_mean_penalty(cls)
    variant = (variant or "").split("+")
    if "cdan_gradients" in variant:
        cls = _cdan_adapt_gradients(cls)
    y_fit = np.where(sd > 0, y, -1)
    if method in SUPERVISED:
        y_fit[labelled] = y[labelled]
    torch.manual_seed(seed)  # the module instance is initialised here, as for skada
    kw = {}
    if method in FINETUNE:  # pretrain on the source, then fine-tune the whole net
        kw = dict(pretrain_epochs=EPOCHS // 2, reset_head=False, source_reg=FINETUNE[method])
    if method == "IWN":  # ADAPT's IWN gets the same kernel (see run_adapt)
        kw = dict(sigma_init=float(np.sqrt(X.shape[1])))
    kw = {"max_epochs": EPOCHS - EPOCHS // 2 if method in FINETUNE else EPOCHS,
          "batch_size": 2 * BATCH, "lr": LR, "random_state": seed, **kw, **params}
    module = mlp(X.shape[1], len(np.unique(y)))
    net = cls(module=_glorot(module) if "glorot" in variant else module, **kw)
    net.fit(X, y_fit, sample_domain=sd)
    return net.predict


def run_skada(method, X, y, sd, seed, labelled):
    import skada.deep as sk

    name = METHODS[method][1]
    torch.manual_seed(seed)
    n_classes = len(np.unique(y))
    common = dict(max_epochs=EPOCHS, batch_size=BATCH, lr=LR, optimizer=torch.optim.Adam,
                  train_split=None, device=DEVICE, verbose=0)
    m = mlp(X.shape[1], n_classes, peer=True)
    extra = {"DANN": {"num_features": 64}, "CDAN": {"num_features": 64, "n_classes": n_classes},
             "MDD": {"num_features": 64, "n_classes": n_classes},
             "SPA": {"num_features": 64}}.get(name, {})
    if name == "SPA":
        common["max_epochs"] = EPOCHS
    net = getattr(sk, name)(m, layer_name="features", **extra, **common)
    X32 = X.astype(np.float32)
    if name == "TargetOnly":
        # skada's target-only loader drops the last incomplete batch: with fewer labelled
        # rows than a batch it would never train, so it gets the rows sktl gets per step
        net.set_params(batch_size=min(2 * BATCH, len(labelled)))
        net.fit({"X": X32[labelled], "sample_domain": sd[labelled]}, y[labelled])
    else:
        net.fit({"X": X32, "sample_domain": sd}, np.where(sd > 0, y, -1))
    return lambda Z: net.predict({"X": Z.astype(np.float32),
                                  "sample_domain": -2 * np.ones(len(Z), int)})


def _keras(n_features, n_classes):
    import tensorflow as tf

    L = tf.keras.layers
    encoder = tf.keras.Sequential([tf.keras.Input((n_features,)), L.Dense(64, "relu"),
                                   L.Dropout(0.1), L.Dense(64, "relu"), L.Dropout(0.1)])
    task = tf.keras.Sequential([tf.keras.Input((64,)), L.Dense(n_classes, "softmax")])
    disc = tf.keras.Sequential([tf.keras.Input((64,)), L.Dense(64, "relu"),
                                L.Dense(1, "sigmoid")])
    full = tf.keras.Sequential([tf.keras.Input((n_features,)), L.Dense(64, "relu"),
                                L.Dropout(0.1), L.Dense(64, "relu"), L.Dropout(0.1),
                                L.Dense(n_classes, "softmax")])
    weighter = tf.keras.Sequential([tf.keras.Input((n_features,)), L.Dense(64, "relu"),
                                    L.Dense(1)])
    return encoder, task, disc, full, weighter


def run_adapt(method, X, y, sd, seed, labelled):
    import tensorflow as tf
    from adapt import feature_based as fb
    from adapt import instance_based as ib

    tf.keras.utils.set_random_seed(seed)
    name = METHODS[method][2]
    n_classes = len(np.unique(y))
    encoder, task, disc, full, weighter = _keras(X.shape[1], n_classes)
    onehot = np.eye(n_classes, dtype=np.float32)
    Xs, ys = X[sd > 0].astype(np.float32), onehot[y[sd > 0]]
    Xt = X[sd < 0].astype(np.float32)
    fit = dict(epochs=EPOCHS, batch_size=BATCH, verbose=0)
    opt = dict(optimizer=tf.keras.optimizers.Adam(LR), loss="categorical_crossentropy")
    pre = dict(epochs=EPOCHS - PRETRAIN)  # and pretrain__epochs=PRETRAIN in the model
    if name in ("SourceOnly", "TargetOnly"):  # the same Keras MLP without adaptation
        full.compile(optimizer=tf.keras.optimizers.Adam(LR), loss="categorical_crossentropy")
        if name == "SourceOnly":
            full.fit(Xs, ys, **fit)
        else:
            full.fit(X[labelled].astype(np.float32), onehot[y[labelled]],
                     **dict(fit, batch_size=min(2 * BATCH, len(labelled))))
        return lambda Z: np.asarray(full.predict(Z.astype(np.float32), verbose=0)).argmax(1)
    if name == "DeepCORAL":
        model = fb.DeepCORAL(encoder, task, Xt=Xt, random_state=seed, verbose=0, **opt)
    elif name == "DANN":
        model = fb.DANN(encoder, task, disc, Xt=Xt, random_state=seed, verbose=0, **opt)
    elif name == "CDAN":
        width = min(64 * n_classes, 4096)  # the multilinear map's size
        disc = tf.keras.Sequential([tf.keras.Input((width,)), tf.keras.layers.Dense(64, "relu"),
                                    tf.keras.layers.Dense(1, "sigmoid")])
        model = fb.CDAN(encoder, task, disc, Xt=Xt, random_state=seed, verbose=0, **opt)
    elif name == "MDD":
        model = fb.MDD(encoder, task, Xt=Xt, random_state=seed, verbose=0, **opt)
    elif name == "WDGRL":
        disc = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(64, "relu"),
                                    tf.keras.layers.Dense(1)])
        model = fb.WDGRL(encoder, task, disc, Xt=Xt, random_state=seed, verbose=0, **opt)
    elif name == "ADDA":
        opt["pretrain__epochs"] = PRETRAIN
        model = fb.ADDA(encoder, task, disc, Xt=Xt, random_state=seed, verbose=0, **opt)
        fit.update(pre)
    elif name == "MCD":
        opt["pretrain__epochs"] = PRETRAIN
        model = fb.MCD(encoder, task, Xt=Xt, random_state=seed, verbose=0, **opt)
        fit.update(pre)
    elif name == "WANN":
        opt["pretrain__epochs"] = PRETRAIN
        model = ib.WANN(full, weighter, Xt=X[labelled].astype(np.float32),
                        yt=onehot[y[labelled]], random_state=seed, verbose=0, **opt)
        fit.update(pre)
    elif name == "IWN":  # ADAPT's sigma is the kernel's gamma: the same kernel as sktl's
        opt["pretrain__epochs"] = PRETRAIN  # weights to one first (sktl's start at one)
        full.compile(optimizer=tf.keras.optimizers.Adam(LR), loss="categorical_crossentropy")
        model = ib.IWN(full, weighter, Xt=Xt, sigma_init=1 / (2 * X.shape[1]),
                       random_state=seed, verbose=0, **opt)
        model.fit(Xs, ys, Xt, fit_params_estimator=dict(fit), **fit)
        return lambda Z: np.asarray(model.predict(Z.astype(np.float32),
                                                  verbose=0)).argmax(1)
    elif name == "CCSA":
        model = fb.CCSA(encoder, task, Xt=X[labelled].astype(np.float32),
                        yt=onehot[y[labelled]], random_state=seed, verbose=0, **opt)
        model.fit(Xs, ys, **fit)
        return lambda Z: np.asarray(model.predict(Z.astype(np.float32), verbose=0)).argmax(1)
    elif name in ("FineTuning", "RegularTransferNN"):
        from adapt import parameter_based as pb

        half = dict(fit, epochs=EPOCHS // 2)
        Xl, yl = X[labelled].astype(np.float32), onehot[y[labelled]]
        if name == "FineTuning":
            src = pb.FineTuning(encoder, task, random_state=seed, verbose=0, **opt)
            src.fit(Xs, ys, **half)
            opt["optimizer"] = tf.keras.optimizers.Adam(LR)
            model = pb.FineTuning(src.encoder_, src.task_, training=True, random_state=seed,
                                  verbose=0, **opt)
        else:
            src = pb.RegularTransferNN(full, lambdas=0.0, random_state=seed, verbose=0, **opt)
            src.fit(Xs, ys, **half)
            opt["optimizer"] = tf.keras.optimizers.Adam(LR)
            model = pb.RegularTransferNN(src.task_, lambdas=1.0, random_state=seed, verbose=0,
                                         **opt)
        model.fit(Xl, yl, **dict(fit, epochs=EPOCHS - EPOCHS // 2))
        return lambda Z: np.asarray(model.predict(Z.astype(np.float32), verbose=0)).argmax(1)
    else:
        return None
    if name == "WANN":
        model.fit(Xs, ys, **fit)
    else:
        model.fit(Xs, ys, Xt, **fit)
    return lambda Z: np.asarray(model.predict(Z.astype(np.float32), verbose=0)).argmax(1)


RUNNERS = {"sktl": run_sktl, "skada": run_skada, "adapt": run_adapt}
LIB_COL = {"sktl": 0, "skada": 1, "adapt": 2}


def warm_up(data, lib, methods):
    """One untimed one-epoch fit, so that imports and first-call costs are not timed."""
    global EPOCHS
    method = next((m for m in methods if METHODS[m][LIB_COL[lib]] is not None
                   and m not in ("ADDA", "MCD", "WANN (5 % labels)", "IWN", *FINETUNE)),
                  None)
    if method is None:
        return
    X, y, sd = load(data, 0)
    epochs, EPOCHS = EPOCHS, 1
    try:
        RUNNERS[lib](method, X, y, sd, 0, few_labels(sd, 0))
    finally:
        EPOCHS = epochs


def save_rows(data, libs, rows, part=None):
    """Merge ``rows`` into the part of this data set and libraries (after every method).

    A row replaces the stored row of its method and library, except for its seeds that the
    stored row lacks: those are added to it (``--first-seed``: a row's seeds in several runs).
    """
    PARTS.mkdir(parents=True, exist_ok=True)
    path = PARTS / (part or f"{data}__{'-'.join(libs)}.json")
    old = json.loads(path.read_text()) if path.exists() else []
    old_rows = {(r["method"], r["lib"]): r for r in old}
    for r in rows:
        prev = old_rows.get((r["method"], r["lib"]))
        prev_seeds = prev.get("seeds", list(range(len(prev["acc"])))) if prev else []
        if prev is None or set(r["seeds"]) & set(prev_seeds):
            continue  # a new row, or the same seeds again: the new row replaces the old
        order = np.argsort(prev_seeds + r["seeds"], kind="stable")
        for key in ("acc", "s_per_epoch"):
            r[key] = [(prev[key] + r[key])[i] for i in order]
        r["seeds"] = sorted(prev_seeds + r["seeds"])
        r["load"] = np.ravel([prev.get("load", []), r["load"]]).tolist()
    new = {(r["method"], r["lib"]) for r in rows}
    keep = [r for r in old if (r["method"], r["lib"]) not in new]
    path.write_text(json.dumps(keep + rows, indent=1))


def run_part(data, libs, methods, seeds, probe=None):
    """Run ``methods`` x ``libs`` on ``seeds`` (a range); ``probe``: one side run of sktl's."""
    if probe is not None:
        methods, libs = [PROBES[probe][0]], ["sktl"]
    for lib in libs:
        warm_up(data, lib, methods)
    for method in methods:
        rows = []
        for lib in libs:
            if METHODS[method][LIB_COL[lib]] is None:
                continue
            accs, per_epoch = [], []
            variant, params = PROBES[probe][1:] if probe else (None, {})
            for seed in seeds:
                X, y, sd = load(data, seed)
                labelled = few_labels(sd, seed)
                start = time.perf_counter()
                predict = (run_sktl(method, X, y, sd, seed, labelled, variant, **params)
                           if probe else RUNNERS[lib](method, X, y, sd, seed, labelled))
                per_epoch.append((time.perf_counter() - start) / EPOCHS)
                test = np.setdiff1d(np.flatnonzero(sd < 0),
                                    labelled if method in SUPERVISED else [])
                accs.append(float(np.mean(np.asarray(predict(X[test])) == y[test])))
            rows.append({"data": data, "method": probe or method, "lib": lib, "acc": accs,
                         "s_per_epoch": per_epoch, "seeds": list(seeds),
                         "load": os.getloadavg()[0]})
            print(f"{data:12s} {probe or method:26s} {lib:6s} acc {np.mean(accs):.3f} "
                  f"[{min(accs):.3f}, {max(accs):.3f}]  {np.mean(per_epoch):.4f} s/epoch",
                  flush=True)
        save_rows(data, libs, rows, part=f"{data}__probes.json" if probe else None)


#: Side runs of sktl's nets that the notes quote (accuracy only, outside the lock; never a
#: default): name -> (method, variant of ``run_sktl``, parameters on top of the defaults)
PROBES = {
    "CDAN, reg=1 without warm-up (ADAPT's lambda_)": ("CDAN", None,
                                                     dict(reg=1.0, warmup=False)),
    "CDAN, Glorot init (ADAPT's network)": ("CDAN", "glorot", {}),
    "CDAN, Glorot init, reg=1 without warm-up": ("CDAN", "glorot", dict(reg=1.0, warmup=False)),
    "CDAN, gradient through the predictions (ADAPT's)": ("CDAN", "cdan_gradients", {}),
    "CDAN, all three (ADAPT's network, lambda_ and gradients)": (
        "CDAN", "glorot+cdan_gradients", dict(reg=1.0, warmup=False)),
    "source only, Glorot init (ADAPT's network)": ("source only", "glorot", {}),
    "L2-SP fine-tuning, source_reg=0.05 (the paper's alpha / 2)": (
        "L2-SP fine-tuning (5 % labels)", None, dict(source_reg=0.05)),
}

#: Why sktl trails a peer where it does. The side runs quoted here used the same data, seeds,
#: network and epochs (accuracy only, outside the lock); no default was changed on their
#: strength, since defaults are never chosen on target labels.
NOTES = {
    "New defaults (DANN, CDAN, MCC)": "sktl's DANN (reg=10, no warm-up), CDAN and MCC "
        "(reg=10) had reg=1 with the warm-up until bench_deep_defaults.py chose new "
        "defaults on development draws (results/deep_defaults.md); every row of theirs here "
        "is rerun with them (moons and conditional shift 21:30-21:47 UTC; Office-Caltech and "
        "MNIST → USPS 22:40-22:46 UTC, under the lock at nice -15). On MNIST → USPS they "
        "gain over the old default (0.457, 0.437, 0.472 against 0.409, 0.423, 0.415; source "
        "only 0.376); on Office C → A DANN and CDAN stay below source only (0.546, 0.531 "
        "against 0.553) while MCC gains (0.599). MCD keeps reg=1 (3 won on this benchmark "
        "but fell to chance with the class's own batch), so it stays at 0.669 on the moons. "
        "The peers' rows keep their own defaults (skada: reg=1 without warm-up). The reruns "
        "saw a load average of 1.0-3.6 on the 2 cores. IWN's weighting network learns at "
        "10x lr since a second sweep (weighter_lr_scale=10, deep_defaults.md round 2; its reg "
        "is inert under Adam); its sktl rows are rerun with it.",
    "ADAPT's network (moons: source only, Deep CORAL; MNIST → USPS: source only)":
        "ADAPT's rows train the Keras twin of the MLP (initialised Glorot-uniform, zero "
        "biases; PyTorch: uniform in ±1/sqrt(fan_in), biases too), and its unadapted network "
        "differs: ADAPT's source only is 0.711 on the moons (sktl 0.682, skada 0.684) and "
        "0.424 on MNIST → USPS (sktl 0.376, skada 0.386), so about 3-5 points of these gaps "
        "are the starting network. Not its initialisation alone: sktl's MLP started from "
        "Keras' initialisation gets 0.364 [0.342, 0.378] on MNIST → USPS source only (side "
        "run), no closer to ADAPT's; what else in the Keras twin makes the difference (Adam's "
        "epsilon 1e-7 against PyTorch's 1e-8, Keras' batching) was not probed. Over its own "
        "source only, ADAPT's Deep CORAL still gains 8 points on the moons, where sktl's and "
        "skada's, with the same CORAL loss (skada also without warm-up), gain nothing at any "
        "weight sktl tried (1 to 1000, deep_defaults.md). The reason is in ADAPT 0.4.5's "
        "DeepCORAL.train_step: the encoder's gradient comes from the CORAL loss alone "
        "(enc_tape.gradient(disc_loss, ...)), so the encoder never learns the task; with "
        "lambda_=0 (a random encoder under a trained head) ADAPT gets 0.791 on the moons' "
        "development draws against its source only's 0.687 and DeepCORAL's 0.813 "
        "(benchmarks/probe_adapt_coral.py), and the same untrained encoder explains its "
        "collapse on the other tasks. The normalisation is the same as sktl's "
        "(0.25 * mean of the squared covariance gap = ||C_s - C_t||²_F / (4 d²)). "
        "(ADAPT's CDAN gains 4 points there; sktl's, at its new default reg=10, 21; MNIST → "
        "USPS: CDAN vs ADAPT below.) On Office and MNIST → USPS ADAPT's Deep CORAL collapses "
        "(0.100, 0.162) and sktl's is within skada's spread.",
    "CDAN vs ADAPT (MNIST → USPS)": "read from ADAPT 0.4.5's CDAN.train_step, three things "
        "differ: (1) the starting network (Keras' Glorot-uniform weights, zero biases: a "
        "first-layer bound of 0.137 here against PyTorch's 0.0625); (2) the weight: lambda_=1 "
        "from the first step, against sktl's reg=10 behind DANN's warm-up ramp; (3) the "
        "gradient: ADAPT's encoder gets the reversed gradient through the predictions, both "
        "in the multilinear map and in the entropy weights (sktl detaches both; the authors' "
        "code detaches the map's and reverses the gradient through the weights). The rest "
        "agrees: entropy conditioning (weights 1 + exp(-H) normalised per domain, the two "
        "domains' losses averaged), the full 640-wide map (64 x 10, under both libraries' "
        "4096), the same 640-64-1 discriminator with its own Adam at lr 0.001. Side runs of "
        "sktl's CDAN on seeds 0-2 (default 0.437 [0.413, 0.479]; ADAPT 0.530 [0.484, 0.566]): "
        "Keras' initialisation (of the MLP; the discriminator keeps PyTorch's) 0.492 "
        "[0.443, 0.528]; lambda 1 without warm-up 0.447 [0.377, "
        "0.486]; both 0.502 [0.436, 0.541]; the gradient through the predictions 0.467 "
        "[0.372, 0.547]; all three 0.449 [0.408, 0.489]. The initialisation is the one change "
        "worth more than the seeds' noise: 5.5 of the 9.3 points, and with it sktl's CDAN is "
        "within ADAPT's spread; the schedule and the gradient move it by 1-3 points either "
        "way, inside the spread of 3 seeds (up to 18 points between seeds), so the last 3-4 "
        "points have no mechanism we can name at 3 seeds. The initialisation acts on the "
        "adversarial game, not on the unadapted net (sktl's source only from it: 0.364, "
        "above). No bug found in sktl's CDAN (map, domain labels, weights and reversal "
        "checked against ADAPT's and the authors' code); its default is unchanged.",
    "CAN vs skada (moons)": "sktl's default weight is the paper's (Kang et al., beta = 0.3), "
        "skada's is 1. With reg=1 sktl's CAN gets 0.781 [0.728, 0.884] on the same seeds "
        "(skada 0.759).",
    "DAN vs skada (Office C → A, MNIST → USPS)": "every sktl net ramps its domain loss in "
        "(warmup=True, DANN's schedule), skada applies reg=1 from the first step. With "
        "warmup=False sktl's DAN gets 0.542 [0.534, 0.553] on MNIST → USPS (skada 0.557 "
        "[0.527, 0.599]: within the spread). The kernels differ too: sktl sums 5 Gaussian "
        "kernels around the batch's mean squared distance (the usual DAN code), skada 33 "
        "kernels exp(-d / sigma) with sigma from 2^-8 to 2^8 times the median distance; the "
        "paper's 33 Gaussian kernels (kernel_num=33, kernel_mul=2**0.5) give 0.474.",
    "MDD vs ADAPT (Office C → A, MNIST → USPS)": "the trade-off: ADAPT's default is 0.1, "
        "sktl's and skada's 1, and at 1 both lose to their source only on these tasks (sktl "
        "and skada agree: 0.477 vs 0.471 on Office). With reg=0.1 sktl's MDD gets 0.580 "
        "[0.558, 0.599] on Office C → A (ADAPT 0.531, sktl source only 0.553).",
    "WDGRL and MCD vs ADAPT (Office C → A, MNIST → USPS; WDGRL on the conditional shift), "
    "slower":
        "sktl runs the papers' alternating updates, ADAPT one joint step per batch: "
        "sktl's WDGRL makes 5 critic updates (with the "
        "gradient penalty's double backward) and one network update per batch (Shen et al.'s "
        "n_critic), its MCD steps A, B and 4 feature updates C (Saito et al.'s num_k = 4); "
        "ADAPT's WDGRL and MCD (n_steps=1) update every network once from one forward pass. "
        "Per update sktl is 3-4x faster (0.45 s / 6 vs 0.28 s per epoch); with 800 input "
        "features the 6 passes cost more than ADAPT's one (with MNIST → USPS's 256: 1.82x and "
        "1.32x; on the 2-d moons sktl is still 1.13x and 1.36x faster). critic_steps=1 / "
        "n_generator_steps=1 run ADAPT's schedule.",
    "source only vs skada (conditional shift), timing": "an earlier run had sktl 1.45x "
        "slower (0.032 vs 0.022 s per epoch, the first row timed in its run); rerun alone on "
        "a quiet machine (2026-12-01 01:07 UTC, nice -15 under the lock) it is 1.17x faster "
        "(0.0117 vs 0.0138 s), as in every other row of the table (1.2-6x).",
    "L2-SP fine-tuning vs ADAPT (MNIST → USPS)": "the same lambda (1) weighs different "
        "penalties: ADAPT 0.4.5's RegularTransferNN adds, for each trainable tensor, lambda "
        "times the *mean* squared change of its entries (`reduce_mean(square(old - new))`, "
        "biases included), sktl's source_reg the *sum* over all parameters (the L2-SP "
        "paper's ||w - w_0||²). On this MLP (tensors of 16 384, 64, 4 096, 64, 640 and 10 "
        "entries) ADAPT's pull on a first-layer weight is 16 384x weaker than sktl's at the "
        "same number, on the last bias 10x, so its L2-SP is nearly plain fine-tuning (0.758; "
        "its fine-tuning 0.760), while sktl's at 1 stays near source weights that transfer "
        "badly here (source only 0.376). Like for like, the row 'with ADAPT's per-tensor mean "
        "penalty' fits sktl's FineTuningClassifier with exactly ADAPT's penalty (a subclass "
        "in the benchmark; lambda 1, the same seeds): 0.727 [0.700, 0.751] against ADAPT's "
        "0.758 [0.751, 0.772], within the spread, and, as ADAPT's, the same as its own plain "
        "fine-tuning (sktl 0.726, ADAPT 0.760): the 3 points left are the fine-tuning row's "
        "gap, within its spread. On Office C → A the matched row is 0.603 against 0.568 "
        "(sktl ahead). The sum at 1 is the paper's penalty but a strong weight for this "
        "21 258-parameter net: at 0.05 (alpha = 0.1 in the paper's alpha / 2 ||w - w_0||²) "
        "sktl's L2-SP gets 0.723 [0.699, 0.747] (side run). sktl's default (source_reg=0: "
        "plain fine-tuning) is not in question; the unmatched row keeps 1, ADAPT's default "
        "number, and so measures a 16 384x stronger pull than ADAPT's. The matched rows' "
        "times were taken at a load average of 5-5.7 (sktl 0.07 s per epoch, ADAPT 0.40).",
    "CAN vs skada (Office C → A, MNIST → USPS), sktl ahead": "Office: sktl 0.568 "
        "at 0.27 s per epoch, skada 0.275 at 6.8 s (25x); MNIST → USPS, seed 0 in one run "
        "(load 1.5-1.9: sktl 0.692 at 0.14 s per epoch, skada 0.222 at 1.80 s, 13x) and "
        "seeds 1-2 in a second (`--first-seed 1`, 23:44-23:49 UTC, load 4.6-4.9: sktl 0.503 "
        "and 0.661 at 0.12 s, skada 0.254 and 0.206 at 2.57 s, 22x), together 0.619 against "
        "0.227. "
        "Read from skada 0.6's code, not profiled: its contrastive "
        "loss loops in Python over every pair of classes (55 for 10 classes) with 33 kernels "
        "in each batch, and it weighs the loss with reg=1 (sktl: the paper's 0.3); why its "
        "accuracy drops below its own source only here was not investigated.",
    "skada's target only": "skada's target-only loader drops the last incomplete batch, so "
        "with fewer labelled target rows than a batch it never trains (an earlier run of this "
        "benchmark measured chance accuracy, 0.481 on the conditional shift); it gets a batch "
        "it can fill here (at most the labelled rows), as sktl's.",
}


def _verdict(ref, peer):
    """"↓" when sktl's best seed is below the peer's worst, "↑" for the reverse, else ""."""
    a, b = np.array(ref["acc"]), np.array(peer["acc"])
    return "↓" if a.max() < b.min() else "↑" if a.min() > b.max() else ""


def report():
    rows = [{**r, "part": p.name} for p in sorted(PARTS.glob("*.json"))
            for r in json.loads(p.read_text())]
    found = {(r["data"], r["method"], r["lib"]): r for r in rows}
    names = {"moons": "rotated moons (2-d, 500 + 500)",
             "conditional": "generated conditional shift (10-d, 500 + 500)",
             "office": "Office-Caltech caltech → amazon (SURF 800-d, 1123 + 958)",
             "digits": "MNIST → USPS (16x16, 2000 + 1800)"}
    out = ["# Deep domain adaptation: sktl.deep vs skada.deep vs ADAPT\n",
           f"Generated by `benchmarks/bench_deep.py` on the **CPU only** (no GPU in the "
           f"session that ran it; {os.cpu_count()} cores shared with other sessions, every run "
           "under one lock, torch and TensorFlow with one OpenMP thread), "
           f"{EPOCHS} epochs, 64 source + 64 target rows per step, Adam lr {LR}, the same MLP "
           "(64-64, dropout 0.1) in every library, each method's default hyper-parameters, "
           "3 seeds; the libraries of a row ran one after the other in the same process. "
           "Accuracy: mean over the seeds [min, max] on the target rows (the few-label "
           "methods: on the target rows whose label they did not see); ↓ / ↑ after a peer's "
           "accuracy: sktl's best seed is below that peer's worst / sktl's worst above its "
           "best (beyond the spread). Time: seconds per epoch of the whole `fit` (the "
           "fine-tuning rows: 25 source epochs + 25 target epochs, divided by 50); ratio = "
           "peer's time / sktl's (above 1: sktl is faster).\n",
           "Commands (from the repository root, benchmark environment with skada 0.6 and "
           "ADAPT 0.4.5):\n", "```"]
    out += ["# B = OMP_NUM_THREADS=1 PYTHONPATH=$PWD /work/benchenv/bin/python "
            "benchmarks/bench_deep.py, L = flock /work/wt/heavy.lock, N = nice -n 19"]
    out += [line.strip() for line in __doc__.split("\n") if line.strip()[:4] in ("L B ", "N B ")
            or line.strip().startswith("python benchmarks")]
    out += ["```\n"]
    slower, worse = [], []
    for data in DATASETS:
        if not any(k[0] == data for k in found):
            continue
        out += [f"\n## {names[data]}\n",
                "| method | sktl acc. | skada acc. | ADAPT acc. | sktl s/epoch | "
                "skada s/epoch (ratio) | ADAPT s/epoch (ratio) | paper |",
                "|---|---|---|---|---:|---:|---:|---|"]
        for method in METHODS:
            cells, times = [], []
            ref = found.get((data, method, "sktl"))
            for lib in ("sktl", "skada", "adapt"):
                r = found.get((data, method, lib))
                if r is None:
                    cells.append("—")
                    times.append("—")
                    continue
                a = np.array(r["acc"])
                mark = "" if lib == "sktl" or ref is None else " " + _verdict(ref, r)
                cells.append(f"{a.mean():.3f} [{a.min():.3f}, {a.max():.3f}]{mark}".rstrip())
                t = np.mean(r["s_per_epoch"])
                if lib == "sktl" or ref is None or ref["part"] != r["part"]:
                    times.append(f"{t:.4f}" + ("" if lib == "sktl" or ref is None
                                               else " (other run)"))
                    continue
                ratio = t / np.mean(ref["s_per_epoch"])
                times.append(f"{t:.4f} ({ratio:.2f}x)")
                label = f"{names[data].split(' (')[0]}, {method} vs {lib}"
                if ratio < 1:
                    slower.append(f"{label}: sktl {1 / ratio:.2f}x slower")
                if mark.strip() == "↓":
                    worse.append(f"{label}: {np.mean(ref['acc']):.3f} vs {a.mean():.3f} "
                                 f"({np.mean(ref['acc']) - a.mean():+.3f})")
            if all(c == "—" for c in cells):
                continue
            paper = PAPER.get((data, method), "")
            out.append(f"| {method} | " + " | ".join(cells) + " | " + " | ".join(times)
                       + f" | {paper} |")
        loads = [x for k, r in found.items() if k[0] == data and "load" in r
                 and not r["part"].endswith("__probes.json") for x in np.ravel(r["load"])]
        if loads:  # recorded since the parts of 2026-11-30 (the older rows have none)
            out.append(f"\nLoad average (1 min, 2 shared cores) after the rows that record "
                       f"it: {min(loads):.1f}–{max(loads):.1f}.")
    out += ["\n## Where sktl trails\n",
            "Slower per epoch than the peer (same run):\n"]
    out += [f"- {x}" for x in slower] or ["- none"]
    out += ["\nLess accurate beyond the spread (sktl's best seed below the peer's worst):\n"]
    out += [f"- {x}" for x in worse] or ["- none"]
    if NOTES:
        out += ["\nWhy:\n"] + [f"- **{k}**: {v}" for k, v in NOTES.items()]
    probes = [r for r in rows if r["part"].endswith("__probes.json")]
    if probes:
        out += ["\n## Side runs quoted above (sktl only, accuracy only, `--probe`)\n",
                "| data | run | seeds | sktl acc. |", "|---|---|---|---|"]
        for r in probes:
            a = np.array(r["acc"])
            out.append(f"| {names[r['data']].split(' (')[0]} | {r['method']} | "
                       f"{', '.join(map(str, r['seeds']))} | "
                       f"{a.mean():.3f} [{a.min():.3f}, {a.max():.3f}] |")
    RESULTS.write_text("\n".join(out) + "\n")
    print("\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=DATASETS, help="one data set (default: all, then "
                        "--report)")
    parser.add_argument("--libs", default="sktl,skada,adapt")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated method names (as in the table) or @groups")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="run the seeds first-seed .. first-seed + seeds - 1 (added to the "
                        "stored rows' other seeds)")
    parser.add_argument("--probe", choices=PROBES, help="one side run of sktl's (PROBES) "
                        "instead of --methods and --libs")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="smoke tests only")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--parts", default=str(PARTS), help="folder of the parts (smoke "
                        "tests: elsewhere)")
    args = parser.parse_args()
    globals()["PARTS"] = Path(args.parts)
    if args.report:
        return report()
    globals()["EPOCHS"] = args.epochs
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    for data in [args.data] if args.data else DATASETS:  # no --data: everything (hours)
        methods = [m for item in args.methods.split(",")
                   for m in (GROUPS[item[1:]] if item.startswith("@") else [item])]
        run_part(data, args.libs.split(","), methods,
                 range(args.first_seed, args.first_seed + args.seeds), args.probe)
    if not args.data:
        report()


if __name__ == "__main__":
    main()
