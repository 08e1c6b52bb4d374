"""
Siamese few-shot transfer: a handful of labelled target rows with CCSA
======================================================================

The target's features are a rotated, stretched copy of the source's (a
conditional shift of four overlapping classes), and only 1 to 7 target rows
per class carry a label. Two baselines bracket the problem: the network
trained on the source alone (:class:`sktl.deep.SourceOnlyClassifier`) is
consistently wrong where the target lives, and the network trained on the
few labelled target rows alone (:class:`sktl.deep.TargetOnlyClassifier`)
sees too few rows to place its boundaries well.

:class:`sktl.deep.CCSAClassifier` (Motiian et al., 2017) trains one network
on the labelled rows of both domains and adds a Siamese loss on its
embedding: every source row is pulled towards the labelled target rows of
its class and pushed at least a margin away from those of other classes.
The source rows then teach the classifier *in the target's coordinates*,
and it beats both baselines, most clearly with the fewest labels.
``benchmarks/results/ccsa.md`` has the digits benchmark (MNIST ↔ USPS).
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from sktl.datasets import make_domain_shift
from sktl.deep import CCSAClassifier, SourceOnlyClassifier, TargetOnlyClassifier

torch.set_num_threads(1)  # tiny networks: one thread is the fastest (and never spins)

per_class = [1, 3, 5, 7]
names = ["source only", "target only", "CCSA"]
accuracy = {name: np.zeros((2, len(per_class))) for name in names}
for seed in range(2):
    X, y, sd = make_domain_shift(300, 300, shift="conditional", n_features=5, n_classes=4,
                                 shift_strength=4.0, noise=1.0, random_state=seed)
    X = StandardScaler().fit_transform(X)
    tgt = np.flatnonzero(sd < 0)
    rng = np.random.default_rng(seed)
    source_only = SourceOnlyClassifier(max_epochs=20, lr=2e-3, random_state=seed)
    source_only.fit(X, np.where(sd > 0, y, -1), sample_domain=sd)
    for i, k in enumerate(per_class):
        labelled = np.concatenate([rng.choice(tgt[y[tgt] == c], k, replace=False)
                                   for c in range(4)])
        y_fit = np.where(sd > 0, y, -1)
        y_fit[labelled] = y[labelled]  # k labelled target rows per class
        test = np.setdiff1d(tgt, labelled)  # scored on the other target rows
        nets = {"source only": source_only,
                "target only": TargetOnlyClassifier(max_epochs=100, lr=1e-2,
                                                    random_state=seed),
                "CCSA": CCSAClassifier(max_epochs=20, lr=2e-3, random_state=seed)}
        for name, net in nets.items():
            if name != "source only":
                net.fit(X, y_fit, sample_domain=sd)
            accuracy[name][seed, i] = net.score(X[test], y[test])

for name in names:
    print(f"{name:12s}", np.round(accuracy[name].mean(axis=0), 3))

fig, ax = plt.subplots(figsize=(6, 4))
for name, style in zip(names, ["o--", "s--", "^-"]):
    ax.plot(per_class, accuracy[name].mean(axis=0), style, label=name)
ax.set_xticks(per_class)
ax.set_xlabel("labelled target rows per class")
ax.set_ylabel("target accuracy (mean of 2 draws)")
ax.set_ylim(0.4, 0.8)
ax.legend()
ax.set_title("Few-shot transfer on a conditional shift")
fig.tight_layout()
plt.show()
