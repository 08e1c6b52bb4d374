"""
Which shift is it? Diagnose, then correct a label shift
========================================================

Three classes are balanced in the source, while the target is dominated by
the first one: a label (prior) shift. :func:`sktl.metrics.diagnose_shift`
names it — the domains differ, but matching the source to the estimated
target priors removes the difference — and recommends
:class:`sktl.LabelShiftClassifier`, which estimates the target's priors
with a confidence interval and corrects the classifier's probabilities.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sktl import LabelShiftClassifier
from sktl.datasets import make_domain_shift
from sktl.metrics import diagnose_shift
from sktl.utils import mask_target_labels

X, y, sd = make_domain_shift(400, 400, shift="label", n_classes=3, noise=1.0,
                             random_state=0)
y_masked, target = mask_target_labels(y, sd), sd < 0

report = diagnose_shift(X, y_masked, sd, random_state=0)
print(report)

# %%
# The recommended correction: EM with bias-corrected calibration.
clf = LabelShiftClassifier(LogisticRegression(), random_state=0)
clf.fit(X, y_masked, sample_domain=sd)
plain = LogisticRegression().fit(X[~target], y[~target])
print(f"target accuracy: no correction {plain.score(X[target], y[target]):.3f}, "
      f"label-shift corrected {clf.score(X[target], y[target]):.3f}")

true_priors = np.bincount(y[target]) / target.sum()
lo, hi = clf.target_priors_ci_.T
pos = np.arange(len(clf.classes_))
plt.bar(pos - 0.2, clf.source_priors_, 0.4, label="source priors", color="C0")
plt.bar(pos + 0.2, clf.target_priors_, 0.4, label="estimated target priors", color="C1",
        yerr=[clf.target_priors_ - lo, hi - clf.target_priors_], capsize=4)
plt.scatter(pos + 0.2, true_priors, color="k", zorder=3, label="true target priors")
plt.xticks(pos, [f"class {c}" for c in clf.classes_])
plt.ylabel("prior")
plt.legend()
