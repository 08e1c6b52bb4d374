"""
Decision boundaries before and after adaptation
===============================================

A covariate-shift problem: the target (orange) sits at the edge of the
source (blue). A logistic regression fitted on the source is right where the
source is dense; kernel mean matching reweights the source towards the target
and moves the boundary where the target needs it.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sktl import KMM
from sktl.datasets import make_domain_shift
from sktl.utils import mask_target_labels

X, y, sd = make_domain_shift(300, 300, shift="covariate", random_state=0)
ym, t = mask_target_labels(y, sd), sd < 0
plain = LogisticRegression().fit(X[~t], y[~t])
kmm = KMM(LogisticRegression(), random_state=0).fit(X, ym, sample_domain=sd)

xx, yy = np.meshgrid(np.linspace(-3, 4, 200), np.linspace(-3, 4, 200))
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, model, title in [(axes[0], plain, "no adaptation"), (axes[1], kmm, "KMM")]:
    ax.contourf(xx, yy, model.predict(grid).reshape(xx.shape), alpha=0.2, cmap="coolwarm")
    ax.scatter(*X[~t].T, s=8, c="C0", label="source")
    ax.scatter(*X[t].T, s=8, c="C1", label="target")
    ax.set_title(f"{title}: target accuracy {model.score(X[t], y[t]):.2f}")
axes[0].legend()
plt.tight_layout()
