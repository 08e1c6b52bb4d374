"""
The TCA embedding of both domains
=================================

Transfer component analysis finds directions where the source and target
distributions agree; plotted are the first two components of both domains.
"""

import matplotlib.pyplot as plt

from sktl import TCA
from sktl.datasets import make_domain_shift
from sktl.utils import mask_target_labels

X, y, sd = make_domain_shift(200, 200, shift="conditional", n_features=4, random_state=0)
Z = TCA(n_components=2, kernel="rbf", mu=0.1, random_state=0).fit_transform(
    X, mask_target_labels(y, sd), sample_domain=sd)
for d, marker in [(1, "o"), (-2, "x")]:
    m = sd == d
    plt.scatter(Z[m, 0], Z[m, 1], c=y[m], cmap="coolwarm", marker=marker, s=12,
                label="source" if d > 0 else "target")
plt.legend()
plt.title("TCA components (colour = class)")
