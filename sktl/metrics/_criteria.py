"""Label-free criteria as functions of held-out outputs, with their uncertainty.

Every function here takes arrays (labels, predictions, probabilities, density
ratios) and returns an estimate with its standard error, so that the scorers
of :mod:`sktl.metrics._scorer` and the decision of
:class:`~sktl.model_selection.AdaptationSearchCV` compute each criterion once,
the same way. Risks are losses (lower is better): the 0-1 loss for
classification and the squared error for regression.
"""

import numpy as np


def row_loss(task, y_true, y_pred):
    """Per-row loss: 0-1 for classification, squared error for regression."""
    if task == "classification":
        return (np.asarray(y_true) != np.asarray(y_pred)).astype(float)
    return (np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2


def normalise_weights(ratio, max_weight=None):
    """Density-ratio weights rescaled to mean 1, optionally clipped (then rescaled again)."""
    w = np.asarray(ratio, float)
    w = w / w.mean()
    if max_weight is not None:
        w = np.minimum(w, max_weight)
        w = w / w.mean()
    return w


def effective_sample_size(weights):
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of importance weights."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / max((w**2).sum(), 1e-300))


def weighted_mean(values, weights=None):
    """Self-normalised weighted mean of ``values`` and its delta-method standard error.

    With importance weights this is the importance-weighted risk estimate
    (Sugiyama, Krauledat & Müller, 2007); its standard error
    ``sqrt(sum w_i^2 (v_i - m)^2) / sum w_i`` grows as the effective sample
    size of the weights shrinks, which is what makes a weighted comparison
    honest about extreme weights.
    """
    v = np.asarray(values, float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, float)
    if v.size == 0:
        return np.nan, np.inf
    m = float(np.sum(w * v) / np.sum(w))
    if v.size < 2:
        return m, np.inf
    se = float(np.sqrt(np.sum(w**2 * (v - m) ** 2)) / np.sum(w))
    return m, se * np.sqrt(v.size / (v.size - 1))


def dev_risk(loss, weights):
    """Deep embedded validation: weighted risk with a control variate, and its s.e.

    ``mean(w l) + eta (mean(w) - 1)`` with ``eta = -Cov(w l, w) / Var(w)``
    (You, Wang, Long & Jordan, ICML 2019): the control variate ``w`` (whose
    mean is known to be 1) removes the part of the weighted loss's variance
    that the weights explain.
    """
    loss, w = np.asarray(loss, float), np.asarray(weights, float)
    wl = w * loss
    var = np.var(w)
    eta = -np.cov(wl, w)[0, 1] / var if var > 0 else 0.0
    corrected = wl + eta * (w - 1.0)
    if corrected.size < 2:
        return float(corrected.mean()), np.inf
    return float(corrected.mean()), float(corrected.std(ddof=1) / np.sqrt(corrected.size))


def entropy_rows(proba, eps=1e-12):
    """Shannon entropy of each row of class probabilities."""
    p = np.clip(np.asarray(proba, float), eps, 1.0)
    return -np.sum(p * np.log(p), axis=1)


def information_maximisation(proba, eps=1e-12):
    """Information maximisation: entropy of the mean prediction minus the mean entropy.

    Large when target predictions are individually confident *and*
    diverse across classes (Gomes, Krause & Perona, 2010; Shi & Sha, 2012),
    so a model that puts every target row in one class does not score well,
    unlike with the mean entropy alone.
    """
    p = np.clip(np.asarray(proba, float), eps, 1.0)
    mean = p.mean(axis=0)
    return float(-(mean * np.log(mean)).sum() - entropy_rows(p).mean())


def soft_neighbourhood_density(proba, temperature=0.05):
    """Soft neighbourhood density of the target predictions (Saito et al., ICCV 2021).

    The rows' probability vectors are L2-normalised, their cosine
    similarities turned into a softmax over neighbours at ``temperature``,
    and the score is the mean entropy of those neighbourhood distributions:
    high when target rows form dense, consistent clusters of predictions.
    """
    p = np.asarray(proba, float)
    z = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    sim = sim / temperature
    sim -= sim.max(axis=1, keepdims=True)
    e = np.exp(sim)
    nb = e / e.sum(axis=1, keepdims=True)
    return float(entropy_rows(nb).mean())
