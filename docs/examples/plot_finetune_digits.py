"""
Fine-tuning a pretrained CNN: MNIST -> USPS with a few labels
=============================================================

Model-based transfer as it is done with pretrained networks: a small CNN is
trained on the source task (MNIST digits) with an ordinary torch loop and its
``state_dict`` saved to a file, as whoever publishes weights would do it. On
the target task (USPS digits, written and scanned differently: the pretrained
network gets only about half of them right) 1, 5 or 10 digits per class are
labelled. Four ways to use them:

* **from scratch**: the same network trained on the few target rows only
  (:class:`~sktl.deep.FineTuningClassifier` with ``pretrain_epochs=0``, so
  the training loop is the same);
* **frozen features**: the pretrained trunk, frozen, as a transformer in a
  scikit-learn pipeline before a ``LogisticRegression``;
* **fine-tuning, new head**: ``FineTuningClassifier(pretrained=path,
  freeze=["conv1", "conv2"], head="head")`` loads the weights, replaces the
  head by a fresh layer for the target's classes, freezes the convolutions
  and trains the rest;
* **fine-tuning, source head kept**: the same with ``reset_head=False``: the
  target has the source's ten classes, so the source's classifier is a
  better start than a random head.

Unlike :ref:`sphx_glr_auto_examples_plot_target_labels.py`, where the
source misleads, here a few target labels plus the source beat both the
source alone and the target labels alone. The full comparison (five seeds,
a ResNet-style network with head ``fc``, gradual unfreezing, pretraining with
augmentation) is in ``benchmarks/results/finetune.md``. The data are the
16x16 digits of ``shared/data/mnist_usps`` (set ``SKTL_DATA``; nothing is
downloaded). A tiny network and few epochs keep this under a minute on a CPU.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from torch import nn

from sktl.datasets import load_mnist_usps
from sktl.deep import FineTuningClassifier

torch.manual_seed(0)
X, y, sd = load_mnist_usps("mnist", "usps")
X = X.reshape(-1, 1, 16, 16).astype(np.float32)  # images: (rows, channels, height, width)
y = y - 1  # the files number the digits 1..10
Xs, ys, Xt, yt = X[sd > 0], y[sd > 0], X[sd < 0], y[sd < 0]


# %%
# The network and its pretraining on the source
# ---------------------------------------------
# Any ``nn.Module`` works; the layer names are what ``freeze`` and ``head``
# refer to.
class SmallCNN(nn.Module):
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


source_net = SmallCNN()
opt = torch.optim.Adam(source_net.parameters(), lr=1e-3)
Xs_t, ys_t = torch.as_tensor(Xs), torch.as_tensor(ys)
for _ in range(10):  # epochs
    for rows in torch.randperm(len(Xs)).split(64):
        opt.zero_grad()
        nn.functional.cross_entropy(source_net(Xs_t[rows]), ys_t[rows]).backward()
        opt.step()
source_net.eval()
path = Path(tempfile.mkdtemp()) / "mnist_cnn.pt"
torch.save(source_net.state_dict(), path)
with torch.no_grad():
    source_only = np.mean(source_net(torch.as_tensor(Xt)).argmax(1).numpy() == yt)
print(f"pretrained network on USPS, no target label: {source_only:.3f}")


# %%
# The frozen trunk as a scikit-learn transformer
# ----------------------------------------------
def embed(X):
    with torch.no_grad():
        return source_net.trunk(torch.as_tensor(np.asarray(X, dtype=np.float32))).numpy()


# %%
# A few labelled target rows per class
# ------------------------------------
# Each model sees the labelled rows only, and is scored on every other USPS
# digit. All settings are fixed in advance.
rng = np.random.default_rng(0)
per_class = [1, 5, 10]
common = dict(module=SmallCNN, head="head", max_epochs=60, batch_size=32, random_state=0)
finetune = dict(pretrained=path, freeze=["conv1", "conv2"], **common)
scores = {"from scratch": [], "frozen features + LogisticRegression": [],
          "fine-tuning, new head": [], "fine-tuning, source head kept": []}
for k in per_class:
    lab = np.concatenate([rng.choice(np.flatnonzero(yt == c), k, replace=False)
                          for c in range(10)])
    test = np.setdiff1d(np.arange(len(yt)), lab)
    target = np.full(len(lab), -2)  # every training row is a (labelled) target row
    models = {
        "from scratch": FineTuningClassifier(pretrain_epochs=0, **common),
        "frozen features + LogisticRegression": make_pipeline(
            FunctionTransformer(embed), StandardScaler(), LogisticRegression(max_iter=2000)),
        "fine-tuning, new head": FineTuningClassifier(**finetune),
        "fine-tuning, source head kept": FineTuningClassifier(reset_head=False, **finetune),
    }
    for name, model in models.items():
        if isinstance(model, FineTuningClassifier):
            model.fit(Xt[lab], yt[lab], sample_domain=target)
        else:
            model.fit(Xt[lab], yt[lab])
        scores[name].append(np.mean(model.predict(Xt[test]) == yt[test]))

# %%
# Accuracy against the number of labels
# -------------------------------------
fig, ax = plt.subplots(figsize=(6, 4))
ax.axhline(source_only, color="grey", ls="--", label="pretrained, no target label")
for name, acc in scores.items():
    ax.plot(per_class, acc, marker="o", label=name)
ax.set_xlabel("labelled USPS digits per class")
ax.set_ylabel("accuracy on the other USPS digits")
ax.set_xticks(per_class)
ax.legend()
ax.set_title("MNIST -> USPS: fine-tuning a pretrained CNN")
plt.show()
print({name: np.round(acc, 3).tolist() for name, acc in scores.items()})
