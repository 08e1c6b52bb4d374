"""
Partial domain adaptation: when the target lacks some classes
=============================================================

The source has six classes, the target only the first three, and its
features are a rotated, stretched copy of the source's. Plain adversarial
alignment (:class:`sktl.deep.DANNClassifier`) pulls the target rows towards
*all* source classes, including the three the target does not have, and
loses accuracy against the network trained on the source only: negative
transfer.

:class:`sktl.deep.SANClassifier` weighs one discriminator per class by the
target's predicted class probabilities, so the missing classes drop out of
the alignment (its ``class_weights_`` show which ones it found);
:class:`sktl.deep.IWANClassifier` weighs the source rows by how target-like
a first discriminator finds them. ``benchmarks/results/partial.md`` has the
same comparison on Office-Caltech and digits.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from sktl.datasets import make_domain_shift
from sktl.deep import DANNClassifier, IWANClassifier, SANClassifier, SourceOnlyClassifier

torch.set_num_threads(1)  # tiny networks: one thread is the fastest (and never spins)

X, y, sd = make_domain_shift(400, 400, shift="conditional", n_features=10, n_classes=6,
                             shift_strength=1.5, noise=0.5, random_state=0)
X = StandardScaler().fit_transform(X)
keep = (sd > 0) | (y < 3)  # the target keeps classes 0, 1 and 2
X, y, sd = X[keep], y[keep], sd[keep]
y_fit = np.where(sd > 0, y, -1)  # no target label is seen

nets = {"source only": SourceOnlyClassifier, "DANN": DANNClassifier,
        "SAN": SANClassifier, "IWAN": IWANClassifier}
accuracy = {}
for name, cls in nets.items():
    nets[name] = cls(max_epochs=20, lr=2e-3, batch_size=128, random_state=0).fit(
        X, y_fit, sample_domain=sd)
    accuracy[name] = float(np.mean(nets[name].predict(X[sd < 0]) == y[sd < 0]))
print({k: round(v, 3) for k, v in accuracy.items()})

iwan_weights = nets["IWAN"].predict_weights(X[sd > 0])
present = y[sd > 0] < 3
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
axes[0].bar(list(accuracy), list(accuracy.values()), color=["grey", "C3", "C0", "C2"])
axes[0].set_ylim(0.0, 1.0)
axes[0].set_title("target accuracy")
axes[1].bar(range(6), nets["SAN"].class_weights_, color=["C0"] * 3 + ["lightgrey"] * 3)
axes[1].set_xlabel("class (grey: missing from the target)")
axes[1].set_title("SAN's class weights")
axes[2].hist([iwan_weights[present], iwan_weights[~present]], bins=20,
             label=["classes in the target", "missing classes"])
axes[2].set_xlabel("IWAN's importance weight of source rows")
axes[2].legend()
fig.tight_layout()
plt.show()
