"""
KMM weights over the source density
===================================

Kernel mean matching gives large weights to the source rows that look like
the target and (near) zero to the others; here they follow the true density
ratio of two Gaussians.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from sktl import KMM

rng = np.random.default_rng(0)
xs, xt = rng.normal(0, 1, 400), rng.normal(0.5, 0.8, 400)
X = np.r_[xs, xt][:, None]
sd = np.repeat([1, -2], 400)
w = KMM(gamma=0.5, B=50, random_state=0).fit(X, sample_domain=sd).weights_
order = np.argsort(xs)
plt.scatter(xs, w, s=6, label="KMM weights")
plt.plot(xs[order], norm.pdf(xs[order], 0.5, 0.8) / norm.pdf(xs[order]), "k", label="true ratio")
plt.xlabel("x (source rows)")
plt.ylabel("weight")
plt.legend()
