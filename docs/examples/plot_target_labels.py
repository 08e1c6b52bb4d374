"""
Accuracy vs number of target labels
===================================

With a handful of labelled target rows, :class:`sktl.TrAdaBoostClassifier`
(instance transfer by boosting) and :class:`sktl.deep.FineTuningClassifier`
(pre-train on the source, fine-tune on the target) are compared with a model
trained on the source only and one trained on the target labels only.

This is the *when not to transfer* counter-example. The shift here is a strong
conditional shift (the labels move with respect to the inputs): the
source-only model is worse than chance, and every transfer method stays below
the model trained on the target labels alone. Check this with
:func:`sktl.metrics.negative_transfer_check` on your data before adapting.
The opposite cases, where a few target labels plus the source win, are
:ref:`sphx_glr_auto_examples_plot_few_target_labels.py` (covariate shift:
:class:`sktl.RegularTransferLC` beats the target labels alone) and
:ref:`sphx_glr_auto_examples_plot_finetune_digits.py` (a pretrained network
plus a few target labels beats both).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sktl import TrAdaBoostClassifier
from sktl.datasets import make_domain_shift
from sktl.deep import FineTuningClassifier

X, y, sd = make_domain_shift(
    200, 200, shift="conditional", shift_strength=4.0, random_state=0
)[:3]
src, tgt = sd > 0, sd < 0
Xt, yt = X[tgt], y[tgt]
rng = np.random.default_rng(0)
order = rng.permutation(tgt.sum())
counts = [4, 16, 64]
test = order[max(counts):]  # scored on target rows never labelled

scores = {"source only": [], "target only": [], "TrAdaBoost": [], "fine-tuning": []}
for n in counts:
    y_few = y.copy()
    y_few[tgt] = -1
    lab = np.flatnonzero(tgt)[order[:n]]
    y_few[lab] = y[lab]
    models = {
        "source only": LogisticRegression().fit(X[src], y[src]),
        "target only": LogisticRegression().fit(X[lab], y[lab]),
        "TrAdaBoost": TrAdaBoostClassifier(
            DecisionTreeClassifier(max_depth=3), n_estimators=20, random_state=0
        ).fit(X, y_few, sample_domain=sd),
        "fine-tuning": FineTuningClassifier(
            pretrain_epochs=15, max_epochs=10, lr=3e-3, random_state=0
        ).fit(X.astype(np.float32), y_few, sample_domain=sd),
    }
    for name, model in models.items():
        pred = model.predict(Xt[test].astype(np.float32))
        scores[name].append(np.mean(pred == yt[test]))

fig, ax = plt.subplots(figsize=(6, 4))
for name, acc in scores.items():
    ax.plot(counts, acc, marker="o", label=name)
ax.set_xscale("log", base=2)
ax.set_xlabel("labelled target rows")
ax.set_ylabel("target accuracy")
ax.legend()
ax.set_title("Accuracy vs number of target labels")
plt.show()
print({k: np.round(v, 2).tolist() for k, v in scores.items()})
