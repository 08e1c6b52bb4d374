"""Label-free scorers from the deep model-selection literature: MixVal, MaNo and SND.

Both follow the scorer protocol of :mod:`sktl.metrics._scorer`
(``scorer(estimator, X, y=None, sample_domain=None)``, ``sample_domain``
requested through metadata routing, target rows recognised by masked labels
without it) and score classifiers on the target rows only.
"""

import numpy as np
from sklearn.base import is_regressor
from sklearn.utils import _safe_indexing, check_random_state

from ._scorer import _BaseDAScorer


def _target_rows(scorer, estimator, X, y, sample_domain):
    """The target rows of ``X`` as a float array (and a rebuild-as-input function)."""
    if is_regressor(estimator):
        raise ValueError(f"{type(scorer).__name__} scores classifiers only.")
    sd = scorer._domains(X, y, sample_domain)
    target = sd < 0
    if not target.any():
        raise ValueError(f"{type(scorer).__name__} needs target rows (negative sample_domain).")
    Xt = _safe_indexing(X, np.flatnonzero(target))
    columns = getattr(Xt, "columns", None)
    Xt = np.asarray(Xt, dtype=float)

    def as_input(A):  # keep DataFrame column names for estimators fitted with them
        if columns is None:
            return A
        import pandas as pd

        return pd.DataFrame(A, columns=columns)

    return Xt, as_input


class MixValScorer(_BaseDAScorer):
    """MixVal: does the model predict mixed target rows as their dominant row?

    Target rows are paired at random and mixed,
    ``x = lam * x_i + (1 - lam) * x_j`` with ``lam`` slightly above one half,
    and the model's hard predictions serve as pseudo-labels: the score is
    the share of mixed rows predicted as ``x_i``'s pseudo-label (Hu, Liang,
    Liew, Xue, Bai & Wang, 2023). Pairs with the same pseudo-label probe
    the clusters' consistency (intra-cluster), pairs with different ones
    the boundaries between them (inter-cluster); ``ice="both"`` averages
    the two. A model predicting a single class has no inter-cluster pair:
    that half counts as 0, so a collapsed model cannot win. Mixing happens
    in the estimator's input space; no labels are used.

    Parameters
    ----------
    mix_ratio : float, default=0.55
        The weight ``lam`` of the dominant row, in (0.5, 1).
    ice : {"both", "intra", "inter"}, default="both"
        Which pairs are scored.
    n_repeats : int, default=1
        Random pairings averaged.
    random_state : int, RandomState instance or None, default=0
        Pairing randomness (fixed by default so repeated calls agree).

    References
    ----------
    .. [1] D. Hu, J. Liang, J. H. Liew, C. Xue, S. Bai and X. Wang. "Mixed
       Samples as Probes for Unsupervised Model Selection in Domain
       Adaptation". NeurIPS 2023.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import MixValScorer
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> 0 <= MixValScorer()(pipe, X, y, sample_domain=sd) <= 1
    True
    """

    def __init__(self, mix_ratio=0.55, ice="both", n_repeats=1, random_state=0):
        self.mix_ratio = mix_ratio
        self.ice = ice
        self.n_repeats = n_repeats
        self.random_state = random_state

    def __call__(self, estimator, X, y=None, sample_domain=None):
        if self.ice not in ("both", "intra", "inter"):
            raise ValueError(f"ice must be 'both', 'intra' or 'inter'; got {self.ice!r}.")
        if not 0.5 < self.mix_ratio < 1:
            raise ValueError(f"mix_ratio must be in (0.5, 1); got {self.mix_ratio!r}.")
        if int(self.n_repeats) < 1:
            raise ValueError(f"n_repeats must be at least 1; got {self.n_repeats!r}.")
        Xt, as_input = _target_rows(self, estimator, X, y, sample_domain)
        rng = check_random_state(self.random_state)
        pseudo = np.asarray(estimator.predict(as_input(Xt)))
        lam = self.mix_ratio
        perms = [rng.permutation(len(Xt)) for _ in range(int(self.n_repeats))]
        mixed = np.vstack([lam * Xt + (1 - lam) * Xt[p] for p in perms])
        first = np.tile(pseudo, len(perms))
        same = np.concatenate([pseudo == pseudo[p] for p in perms])
        hit = np.asarray(estimator.predict(as_input(mixed))) == first
        intra = hit[same].mean() if same.any() else 0.0
        inter = hit[~same].mean() if (~same).any() else 0.0
        return float({"intra": intra, "inter": inter, "both": (intra + inter) / 2}[self.ice])


def _deep_logits(estimator, X):
    """An sktl.deep classifier's raw outputs on ``X`` (through a pipeline's steps), or None."""
    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if steps else estimator
    if not hasattr(final, "_logits"):
        return None
    if steps and len(steps) > 1:
        X = estimator[:-1].transform(X)
    return np.asarray(final._logits(X), dtype=float)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MaNoScorer(_BaseDAScorer):
    """MaNo: the matrix norm of the normalised target logits, an accuracy proxy.

    The logits of the target rows are normalised row by row into a
    prediction matrix ``Q`` and the score is its entry-wise ``p``-norm
    scaled by its size, ``(mean |Q_ik|^p)^(1/p)``: larger when the
    predictions sit far from the decision boundaries (Xie, Odonnat, Feofanov,
    Deng, Zhang & An, 2024). The normalisation (``softrun``) is the softmax
    when the dataset-level criterion ``-mean(log softmax(logits))`` exceeds
    ``threshold``, else the second-order Taylor expansion of the exponential,
    ``1 + z + z^2 / 2`` normalised, which the authors found robust to poorly
    calibrated models. That applies to sktl.deep nets, whose logits are
    read; for any other classifier ``Q`` is its ``predict_proba`` (the
    softmax branch), as the expansion means nothing on probabilities. No
    labels are used.

    Parameters
    ----------
    p : float, default=4
        Order of the norm.
    threshold : float, default=5.0
        ``eta`` of the softrun switch; 0 or less always uses the softmax.

    References
    ----------
    .. [1] R. Xie, A. Odonnat, V. Feofanov, W. Deng, J. Zhang and B. An.
       "MaNo: Exploiting Matrix Norm for Unsupervised Accuracy Estimation
       Under Distribution Shifts". NeurIPS 2024.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import MaNoScorer
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> 0 < MaNoScorer()(pipe, X, y, sample_domain=sd) <= 1
    True
    """

    def __init__(self, p=4, threshold=5.0):
        self.p = p
        self.threshold = threshold

    def __call__(self, estimator, X, y=None, sample_domain=None):
        if not self.p > 0:
            raise ValueError(f"p must be positive; got {self.p!r}.")
        Xt, as_input = _target_rows(self, estimator, X, y, sample_domain)
        z = _deep_logits(estimator, as_input(Xt))
        if z is None:  # no logits: the probabilities themselves (the softmax branch)
            if not hasattr(estimator, "predict_proba"):
                raise TypeError(f"MaNoScorer needs predict_proba; {type(estimator).__name__} "
                                "has none.")
            q = np.asarray(estimator.predict_proba(as_input(Xt)), dtype=float)
        else:
            soft = _softmax(z)
            criterion = -np.mean(np.log(np.clip(soft, 1e-300, 1.0)))
            if self.threshold <= 0 or criterion > self.threshold:
                q = soft
            else:
                v = 1.0 + z + z**2 / 2
                q = v / v.sum(axis=1, keepdims=True)
        return float(np.mean(np.abs(q) ** self.p) ** (1.0 / self.p))


class SoftNeighborhoodDensity(_BaseDAScorer):
    """Soft neighborhood density: are the target predictions densely clustered?

    The target rows' class probabilities are normalised to unit length, their
    cosine similarities (each row with every other) are turned into a soft
    neighbourhood by a softmax of temperature ``temperature``, and the score
    is the mean entropy of these neighbourhoods (Saito, Kim, Teterwak,
    Sclaroff, Darrell & Saenko, 2021): it is high when every target row has
    many close neighbours in prediction space, i.e. when the predictions
    form dense clusters rather than scattered points near the boundaries.
    Greater is better; no labels are used. It needs ``predict_proba``. Like
    the prediction entropy it rewards confident clustered predictions, so a
    model collapsed onto one class also scores high: compare models that
    predict every class.

    Parameters
    ----------
    temperature : float, default=0.05
        Softmax temperature of the similarities (the paper's value).

    References
    ----------
    .. [1] K. Saito, D. Kim, P. Teterwak, S. Sclaroff, T. Darrell and K.
       Saenko. "Tune it the Right Way: Unsupervised Validation of Domain
       Adaptation via Soft Neighborhood Density". ICCV 2021.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import SoftNeighborhoodDensity
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> SoftNeighborhoodDensity()(pipe, X, y, sample_domain=sd) > 0
    True
    """

    def __init__(self, temperature=0.05):
        self.temperature = temperature

    def __call__(self, estimator, X, y=None, sample_domain=None):
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive; got {self.temperature!r}.")
        Xt, as_input = _target_rows(self, estimator, X, y, sample_domain)
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(f"SoftNeighborhoodDensity needs predict_proba; "
                            f"{type(estimator).__name__} has none.")
        if len(Xt) < 2:
            raise ValueError("SoftNeighborhoodDensity needs at least 2 target rows.")
        q = np.asarray(estimator.predict_proba(as_input(Xt)), dtype=float)
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        entropies = []
        for start in range(0, len(q), 1024):  # blocks of rows: memory O(1024 n), not O(n²)
            sim = q[start:start + 1024] @ q.T / self.temperature
            rows = np.arange(len(sim))
            sim[rows, start + rows] = -np.inf  # a row is not its own neighbour
            p = _softmax(sim)
            entropies.append(-np.sum(p * np.log(np.clip(p, 1e-300, 1.0)), axis=1))
        return float(np.mean(np.concatenate(entropies)))
