"""What a parity module declares, and adapters that give every library one fit/predict API.

A family module ``benchmarks/_parity_<family>.py`` defines ``COMPARISONS``, a
list of :class:`Comparison`. ``bench_parity.py`` imports every such module
(or the one named by ``--family``) and runs each comparison on each data set
whose kind it lists. See the top of ``bench_parity.py`` for the protocol.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Comparison:
    """One sktl method next to its peer counterparts.

    Attributes
    ----------
    name : str
        Row label, e.g. ``"CORAL (align_means=True)"``.
    sktl : callable
        ``sktl(task, base, **params)`` returns an unfitted model with
        ``fit(X, y, sample_domain=sd)`` and ``predict(X)``.
    peers : dict
        ``{"skada": make, "ADAPT": make}``: the counterparts, same signature
        as ``sktl`` (use :class:`AdaptModel` to wrap an ADAPT class).
    kinds : tuple of str
        Data kinds it runs on: ``"classification"``, ``"regression"`` and/or
        ``"multisource"`` (several source domains, classification).
    grid : list of dict
        A small shared grid: each setting is ``{"sktl": kwargs, "skada":
        kwargs, ...}`` naming the same values in each library's words. The
        defaults (no kwargs) are always run as well.
    base : callable or None
        ``base(task)`` returns the base estimator both libraries use; None
        means the driver's default (:func:`default_base`).
    """

    name: str
    sktl: Callable
    peers: dict
    kinds: tuple = ("classification",)
    grid: list = field(default_factory=list)
    base: Callable | None = None


def default_base(task):
    """The base estimator of the parity study: an RBF SVM, or ridge regression."""
    from sklearn.linear_model import Ridge
    from sklearn.svm import SVC

    return SVC() if task == "classification" else Ridge()


class AdaptModel:
    """An ADAPT estimator behind the ``fit(X, y, sample_domain)`` / ``predict`` API.

    ``AdaptModel(cls, estimator, **kwargs)`` builds ``cls(estimator, Xt=...,
    **kwargs)`` at fit time with the target rows, fits it on the source rows
    (plus the labelled target rows as ``yt`` where the method takes them) and
    predicts with it.
    """

    def __init__(self, cls, estimator=None, **kwargs):
        self.cls, self.estimator, self.kwargs = cls, estimator, kwargs

    def fit(self, X, y, sample_domain):
        src, tgt = sample_domain > 0, sample_domain < 0
        kw = dict(self.kwargs, Xt=X[tgt], verbose=0, random_state=0)
        self.model_ = self.cls(self.estimator, **kw)
        self.model_.fit(X[src], y[src])
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(X)).ravel()

