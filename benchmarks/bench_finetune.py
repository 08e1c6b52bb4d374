"""Fine-tuning a pretrained network on a few target labels: MNIST -> USPS digits.

The model-based transfer of the seeds: a small network is trained on the
source task (the 2000 MNIST digits of ``../shared/data/mnist_usps``, 16x16
pixels) with a plain torch loop, either plainly or with random zoom and shift
(the augmentation any published network is trained with), and its
``state_dict`` saved to a file; then,
with 1, 5 and 10 labelled USPS digits per class, compared on all the other
USPS digits:

* **source only**: the pretrained network as it is (no target label used);
* **pixels + logistic regression**: no transfer, a linear model on the pixels;
* **from scratch**: the same network and the same fine-tuning loop, from a
  random initialisation (``FineTuningClassifier(pretrain_epochs=0)``);
* **frozen features + logistic regression**: the pretrained trunk (everything
  but the head, weights frozen) as a ``FunctionTransformer`` in a
  scikit-learn ``Pipeline`` ending in ``LogisticRegression``;
* **fine-tune (frozen convs)**: ``FineTuningClassifier(pretrained=path,
  freeze=[the convolutions], head=...)``: new head, the rest trained;
* **fine-tune all (backbone lr x0.1)**: nothing frozen, the backbone at a
  tenth of the head's learning rate;
* **gradual unfreezing**: the convolutions frozen, one unfrozen every 20
  epochs from the deepest (Howard & Ruder, 2018).
* **fine-tune, source head kept**: as fine-tune (frozen convs) with
  ``reset_head=False``: source and target share the ten classes, so the
  source's classifier is kept and trained on.

Two networks: a LeNet-style CNN (``conv1``, ``conv2``, ``fc1``, head
``head``) and a ResNet-style one (``conv1``/``bn1``, two residual blocks
``layer1``/``layer2``, global average pooling, head ``fc`` as in
torchvision's ResNets; ``layer2`` is left trainable). Every setting (epochs,
learning rate, batch) is fixed in advance, the same for every method, and
never chosen with target labels. Mean over the seeds (each seed: a new
pretraining, new labelled rows, a new initialisation).

    flock /work/wt/heavy.lock env PYTHONPATH=$PWD /work/benchenv/bin/python \\
        benchmarks/bench_finetune.py --seeds 0 1 2 3 4

Writes benchmarks/results/finetune.md (``--nets cnn``, ``--pretraining plain``
etc. run a part; finished runs are kept in ``results/finetune.json``).
"""

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).parent
RAW = HERE / "results" / "finetune.json"
RESULTS = HERE / "results" / "finetune.md"
DATA = os.environ.get("SKTL_DATA", str(HERE.resolve().parents[1] / "shared" / "data"))
PER_CLASS = (1, 5, 10)
PRETRAIN_EPOCHS, EPOCHS, LR, BATCH = 10, 60, 1e-3, 32
PRETRAININGS = ("plain", "augmented")


class SmallCNN(nn.Module):
    """LeNet-style: two convolutions with pooling, one hidden layer, the head."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.head = nn.Linear(64, n_classes)

    def trunk(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return torch.relu(self.fc1(x.flatten(1)))

    def forward(self, x):
        return self.head(self.trunk(x))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                            nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class TinyResNet(nn.Module):
    """ResNet-style (torchvision's layout and names, head ``fc``), sized for 16x16 digits."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.fc = nn.Linear(32, n_classes)

    def trunk(self, x):
        x = self.layer2(self.layer1(torch.relu(self.bn1(self.conv1(x)))))
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.trunk(x))


NETS = {  # network, head, the layers frozen when fine-tuning (shallowest first)
    "cnn": (SmallCNN, "head", ["conv1", "conv2"]),
    "resnet": (TinyResNet, "fc", ["conv1", "bn1", "layer1"]),
}


def augment(x, generator):
    """Random zoom (x1 to x1.4) and shift (up to 1.2 pixels) of a batch of images."""
    n = len(x)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = torch.empty(n).uniform_(0.7, 1.0, generator=generator)
    theta[:, :, 2] = torch.empty(n, 2).uniform_(-0.15, 0.15, generator=generator)
    grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return nn.functional.grid_sample(x, grid, align_corners=False)


def pretrain(cls, X, y, seed, augmented):
    """What a user did elsewhere: train on the source with a plain torch loop."""
    torch.manual_seed(seed)
    net = cls()
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    net.train()
    for _ in range(PRETRAIN_EPOCHS):
        for rows in torch.randperm(len(X)).split(64):
            opt.zero_grad()
            batch = augment(X[rows], generator) if augmented else X[rows]
            nn.functional.cross_entropy(net(batch), y[rows]).backward()
            opt.step()
    return net.eval()


def trunk_transformer(cls, path):
    """The pretrained trunk, frozen, as a scikit-learn transformer."""
    from sklearn.preprocessing import FunctionTransformer

    net = cls()
    net.load_state_dict(torch.load(path, weights_only=True))
    net.eval()

    def embed(X):
        with torch.no_grad():
            return net.trunk(torch.as_tensor(np.asarray(X, dtype=np.float32))).numpy()

    return FunctionTransformer(embed)


def methods(cls, head, frozen, path, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from sktl.deep import FineTuningClassifier

    def ft(**kw):
        return FineTuningClassifier(module=cls, head=head, max_epochs=EPOCHS, lr=LR,
                                    batch_size=BATCH, random_state=seed, **kw)

    flat = FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1))
    return {
        "pixels + logistic regression": lambda: make_pipeline(
            flat, StandardScaler(), LogisticRegression(max_iter=2000)),
        "from scratch": lambda: ft(pretrain_epochs=0),
        "frozen features + logistic regression": lambda: make_pipeline(
            trunk_transformer(cls, path), StandardScaler(), LogisticRegression(max_iter=2000)),
        "fine-tune (frozen convs)": lambda: ft(pretrained=path, freeze=frozen),
        "fine-tune all (backbone lr x0.1)": lambda: ft(pretrained=path, backbone_lr_scale=0.1),
        "gradual unfreezing": lambda: ft(pretrained=path, freeze=frozen[:2],
                                         unfreeze_every=EPOCHS // 3),
        "fine-tune, source head kept (frozen convs)": lambda: ft(
            pretrained=path, freeze=frozen, reset_head=False),
    }


def labelled_rows(y, k, rng):
    return np.concatenate([rng.choice(np.flatnonzero(y == c), k, replace=False)
                           for c in np.unique(y)])


def run(nets, pretrainings, seeds):
    from sktl.datasets import load_mnist_usps
    from sktl.deep import FineTuningClassifier

    X, y, sd = load_mnist_usps("mnist", "usps", data_home=DATA)
    X = X.reshape(-1, 1, 16, 16).astype(np.float32)
    y = y - 1  # digits 0..9
    Xs, ys, Xt, yt = X[sd > 0], y[sd > 0], X[sd < 0], y[sd < 0]
    raw = json.loads(RAW.read_text()) if RAW.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for net_name, pretraining in itertools.product(nets, pretrainings):
            cls, head, frozen = NETS[net_name]
            for seed in seeds:
                prefix = f"{net_name}|{pretraining}|{seed}"
                if all(f"{prefix}|{k}|{m}" in raw for k in PER_CLASS
                       for m in methods(cls, head, frozen, None, seed)):
                    continue
                start = time.perf_counter()
                net = pretrain(cls, Xs, ys, seed, pretraining == "augmented")
                path = Path(tmp) / f"{net_name}_{seed}.pt"
                torch.save(net.state_dict(), path)
                print(prefix, f"pretrained in {time.perf_counter() - start:.1f} s",
                      flush=True)
                rng = np.random.default_rng(seed)
                for k in PER_CLASS:
                    lab = labelled_rows(yt, k, rng)
                    test = np.setdiff1d(np.arange(len(yt)), lab)
                    with torch.no_grad():
                        pred = net(torch.as_tensor(Xt[test])).argmax(1).numpy()
                    raw[f"{prefix}|{k}|source only"] = float(np.mean(pred == yt[test]))
                    for name, make in methods(cls, head, frozen, path, seed).items():
                        t0 = time.perf_counter()
                        model = make()
                        if isinstance(model, FineTuningClassifier):  # every row is target
                            model.fit(Xt[lab], yt[lab], sample_domain=np.full(len(lab), -2))
                        else:
                            model.fit(Xt[lab], yt[lab])
                        acc = float(np.mean(model.predict(Xt[test]) == yt[test]))
                        raw[f"{prefix}|{k}|{name}"] = acc
                        print(prefix, k, name, f"{acc:.3f}",
                              f"{time.perf_counter() - t0:.1f} s", flush=True)
                RAW.parent.mkdir(exist_ok=True)
                RAW.write_text(json.dumps(raw, indent=0, sort_keys=True))
    return raw


def report():
    raw = json.loads(RAW.read_text())
    order = ["source only", "pixels + logistic regression", "from scratch",
             "frozen features + logistic regression", "fine-tune (frozen convs)",
             "fine-tune all (backbone lr x0.1)", "gradual unfreezing",
             "fine-tune, source head kept (frozen convs)"]
    titles = {"cnn": "LeNet-style CNN (head `head`; frozen: `conv1`, `conv2`)",
              "resnet": "ResNet-style (head `fc`; frozen: `conv1`, `bn1`, `layer1`)"}
    out = []
    for net_name, pretraining in itertools.product(NETS, PRETRAININGS):
        prefix = f"{net_name}|{pretraining}|"
        seeds = sorted({int(key.split("|")[2]) for key in raw if key.startswith(prefix)})
        if not seeds:
            continue
        out += [f"## {titles[net_name]}, {pretraining} pretraining", "",
                f"Mean target accuracy ± standard deviation over seeds {seeds}, on the USPS "
                "digits not labelled; **bold**: the best per column.", "",
                "| method | " + " | ".join(f"{k} label{'s' * (k > 1)} / class"
                                           for k in PER_CLASS) + " |",
                "|---|" + "---:|" * len(PER_CLASS)]
        table = {m: [[raw[f"{prefix}{s}|{k}|{m}"] for s in seeds
                      if f"{prefix}{s}|{k}|{m}" in raw] for k in PER_CLASS] for m in order}
        best = [max(np.mean(table[m][j]) for m in order if table[m][j])
                for j in range(len(PER_CLASS))]
        for m in order:
            cells = []
            for j, accs in enumerate(table[m]):
                cell = f"{np.mean(accs):.3f} ± {np.std(accs):.3f}" if accs else ""
                cells.append(f"**{cell}**" if accs and np.mean(accs) == best[j] else cell)
            out.append(f"| {m} | " + " | ".join(cells) + " |")
        out.append("")
    text = ("# Fine-tuning a pretrained network: MNIST -> USPS with a few target labels\n\n"
            "Generated by\n\n    flock /work/wt/heavy.lock env PYTHONPATH=$PWD "
            "/work/benchenv/bin/python benchmarks/bench_finetune.py --seeds 0 1 2 3 4\n\n"
            "(run in parts with `--nets` and `--pretraining`) on the CPU, one torch thread. "
            f"Source: the 2000 MNIST digits (16x16), pretrained {PRETRAIN_EPOCHS} "
            f"epochs with Adam (lr {LR}, batch 64), plain or with random zoom (x1 to x1.4) and "
            "shift (up to 1.2 pixels), and saved as a `state_dict`; target: the 1800 USPS "
            "digits, k labelled per class (drawn per seed), scored on the others. Every "
            f"fine-tuning run: {EPOCHS} epochs, Adam lr {LR}, batch {BATCH}, a new head unless "
            f"kept; gradual unfreezing frees one frozen layer every {EPOCHS // 3} epochs. "
            "Settings fixed in advance, never chosen with target labels.\n\n" + "\n".join(out))
    RESULTS.write_text(text)
    print(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nets", nargs="*", default=list(NETS), choices=list(NETS))
    parser.add_argument("--pretraining", nargs="*", default=list(PRETRAININGS),
                        choices=list(PRETRAININGS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--report", action="store_true", help="only write the table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.report:
        run(args.nets, args.pretraining, args.seeds)
    report()


if __name__ == "__main__":
    main()
