"""Label-shift (prior-shift) correction around any probabilistic classifier.

Under label shift the class priors move between domains while the classes
look the same: ``p_t(y) != p_s(y)`` but ``p_t(x | y) = p_s(x | y)``. The
target's priors are then identifiable from unlabelled target rows and a
classifier trained on the source, and the correction is cheap: re-weight the
training rows by ``w(y) = p_t(y) / p_s(y)`` or adjust the posterior
``p_t(y | x) ∝ w(y) p_s(y | x)`` (Saerens, Latinne & Decaestecker, 2002).

Three estimators of the target priors are implemented from their papers:

* ``"bbse"`` — black-box shift estimation (Lipton, Wang & Smola, 2018): the
  target's predicted-label distribution ``mu`` equals ``C w`` with ``C`` the
  joint confusion matrix of the classifier on held-out source rows;
* ``"rlls"`` — its regularised form (Azizzadenesheli, Liu, Yang & Anandkumar,
  2019): ``min ||C theta - b|| + Delta_C ||theta||`` over ``theta = w - 1``;
* ``"em"`` — maximum likelihood by expectation-maximisation (Saerens et al.,
  2002) on posteriors calibrated by bias-corrected temperature scaling
  (Alexandari, Kundaje & Shrikumar, 2020).

The held-out predictions come from cross-fitting: each source row is
predicted by the model of the fold that did not see it, and the target rows
by every fold model, so the confusion matrix, the calibration and the
target's predictions all describe the same models and no source row is
wasted on a single held-out split.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import optimize, special, stats
from sklearn import get_config
from sklearn.base import clone
from sklearn.ensemble._base import _set_random_states
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils._tags import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from ._base import BaseDAEstimator
from .exceptions import DomainWarning
from .utils._domain import _as_1d, unlabelled_mask

_EPS = 1e-12
_RLLS_DELTA = 0.05  # confidence of the concentration bound behind Delta_C


# --------------------------------------------------------------------------
# calibration: bias-corrected temperature scaling (Alexandari et al., 2020)
# --------------------------------------------------------------------------
def _log_proba(proba):
    return np.log(np.clip(proba, _EPS, None))


def _fit_calibration(logp, y, kind, init=None, max_iter=50):
    """Fit ``softmax(a * logp + b)`` to labels ``y`` by maximum likelihood.

    ``kind="ts"`` fits the inverse temperature ``a = 1 / T`` only, ``"bcts"``
    also one bias per class (the first fixed at 0: softmax ignores a common
    shift). The negative log-likelihood is convex in ``(a, b)``, so damped
    Newton steps converge in a few iterations; ``a`` stays in [0.01, 100].
    Returns the parameter vector ``(a, b_1, ..., b_{K-1})``.
    """
    n, k = logp.shape
    rows = np.arange(n)
    n_bias = k - 1 if kind == "bcts" else 0

    def nll(v):
        z = v[0] * logp
        if n_bias:
            z = z + np.r_[0.0, v[1:]]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        total = e.sum(axis=1, keepdims=True)
        lse = np.log(total[:, 0]) + z.max(axis=1)
        return np.mean(lse - z[rows, y]), e / total

    v = np.r_[1.0, np.zeros(n_bias)] if init is None else np.array(init, dtype=float)
    f, s = nll(v)
    for _ in range(max_iter):
        resid = s.copy()
        resid[rows, y] -= 1.0
        sl = np.sum(s * logp, axis=1)
        grad = np.r_[np.sum(resid * logp), resid.sum(axis=0)[1:] if n_bias else []] / n
        hess = np.empty((1 + n_bias, 1 + n_bias))
        hess[0, 0] = np.sum(s * logp**2) - sl @ sl
        if n_bias:
            h_ab = (s * logp).sum(axis=0) - s.T @ sl
            h_bb = np.diag(s.sum(axis=0)) - s.T @ s
            hess[0, 1:] = hess[1:, 0] = h_ab[1:]
            hess[1:, 1:] = h_bb[1:, 1:]
        hess /= n
        step = np.linalg.lstsq(hess + 1e-12 * np.eye(len(v)), grad, rcond=None)[0]
        decrease = grad @ step
        if decrease < 1e-12:
            break
        t = 1.0
        while t > 1e-8:
            cand = v - t * step
            cand[0] = np.clip(cand[0], 1e-2, 1e2)
            f_new, s_new = nll(cand)
            if f_new <= f - 1e-4 * t * decrease:
                break
            t /= 2
        else:
            break
        v, f, s = cand, f_new, s_new
    return v


def _calibration_bunch(theta, n_classes):
    if theta is None:
        return None
    bias = np.zeros(n_classes)
    bias[1:] = theta[1:] if len(theta) > 1 else 0.0
    return Bunch(temperature=float(1.0 / theta[0]), bias=bias)


def _apply_calibration(logp, calibration):
    """Calibrated probabilities from log-probabilities (last axis = classes)."""
    if calibration is None:
        return special.softmax(logp, axis=-1)
    return special.softmax(logp / calibration.temperature + calibration.bias, axis=-1)


# --------------------------------------------------------------------------
# the three estimators of the target priors
# --------------------------------------------------------------------------
def _em_priors(posterior, model_priors, tol=1e-8, max_iter=1000):
    """Saerens et al.'s EM: the target priors maximising the target likelihood.

    ``posterior`` are calibrated source posteriors ``p_s(y | x)`` of the target
    rows, ``model_priors`` the priors they embody (mean calibrated posterior
    on held-out source rows, as Alexandari et al. recommend).
    """
    priors = model_priors.copy()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        adjusted = posterior * (priors / model_priors)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        new = adjusted.mean(axis=0)
        converged = np.max(np.abs(new - priors)) < tol
        priors = new
        if converged:
            break
    return priors, n_iter


def _joint_confusion(pred, y, n_classes):
    """``C[i, j]`` = fraction of held-out rows predicted ``i`` with label ``j``."""
    C = np.zeros((n_classes, n_classes))
    np.add.at(C, (pred, y), 1.0)
    return C / len(y)


def _bbse_weights(C, mu, classes, strict):
    """Solve ``C w = mu`` (Lipton et al., 2018)."""
    k = len(mu)
    if np.linalg.matrix_rank(C) < k:
        if strict:
            never = classes[C.sum(axis=1) == 0]
            hint = (f" The classifier never predicts {never.tolist()} on held-out source "
                    "rows." if never.size else "")
            raise ValueError(
                f"The held-out confusion matrix is singular (rank "
                f"{np.linalg.matrix_rank(C)} < {k} classes), so BBSE cannot invert it."
                f"{hint} Use method='rlls' (regularised) or 'em', a stronger estimator, "
                "or more labelled source rows."
            )
        return np.linalg.lstsq(C, mu, rcond=None)[0]
    return np.linalg.solve(C, mu)


def _rlls_delta(n_classes, n_source, reg):
    """``reg`` times the concentration bound of Azizzadenesheli et al. (2019)."""
    log_term = np.log(2 * n_classes / _RLLS_DELTA)
    return reg * 3 * (2 * log_term / (3 * n_source) + np.sqrt(2 * log_term / n_source))


def _rlls_weights(C, mu, delta_c):
    """``w = 1 + theta``, ``theta = argmin ||C theta - b|| + delta_c ||theta||, theta >= -1``.

    ``b = mu - C 1`` (target minus source predicted-label distribution). The
    two norms are smoothed by 1e-12 and the bound-constrained convex problem
    solved by L-BFGS-B, started at the unregularised least-squares solution.
    """
    b = mu - C.sum(axis=1)
    eps2 = 1e-24

    def objective(theta):
        r = C @ theta - b
        nr, nt = np.sqrt(r @ r + eps2), np.sqrt(theta @ theta + eps2)
        return nr + delta_c * nt, C.T @ r / nr + delta_c * theta / nt

    x0 = np.maximum(np.linalg.lstsq(C, b, rcond=None)[0], -1.0)
    res = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                            bounds=[(-1.0, None)] * len(b),
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000})
    # theta = 0 is the answer whenever ||C^T b|| <= delta_c ||b|| (subgradient);
    # keep it when the smoothed solver stops next to it
    best = res.x if res.fun < objective(np.zeros_like(b))[0] else np.zeros_like(b)
    return 1.0 + best


def _priors_from_weights(w, source_priors):
    priors = np.clip(w, 0.0, None) * source_priors
    total = priors.sum()
    return priors / total if total > 0 else source_priors.copy()


def _point_estimate(y, logp_s, logp_t, classes, method, calibration, reg, strict=True,
                    init=None):
    """Target priors from held-out source and target log-probabilities.

    ``logp_t`` has shape (n_models, n_target, n_classes): cross-fitted models
    each predict every target row. Returns ``(priors, extra)``.
    """
    k = len(classes)
    source_priors = np.bincount(y, minlength=k) / len(y)
    if method == "em":
        theta = None if calibration is None else _fit_calibration(logp_s, y, calibration, init)
        cal = _calibration_bunch(theta, k)
        model_priors = _apply_calibration(logp_s, cal).mean(axis=0)
        posterior = _apply_calibration(logp_t, cal).mean(axis=0)
        priors, n_iter = _em_priors(posterior, model_priors)
        return priors, {"theta": theta, "n_iter": n_iter, "confusion": None}
    C = _joint_confusion(logp_s.argmax(axis=1), y, k)
    mu = np.mean([np.bincount(p.argmax(axis=1), minlength=k) / p.shape[0] for p in logp_t],
                 axis=0)
    if method == "bbse":
        w = _bbse_weights(C, mu, classes, strict)
    else:
        w = _rlls_weights(C, mu, _rlls_delta(k, len(y), reg))
    return _priors_from_weights(w, source_priors), {"confusion": C, "n_iter": None}


def _stratified_resample(y, rng):
    """Bootstrap indices that keep every class's count."""
    idx = [rng.choice(np.flatnonzero(y == c), size=np.sum(y == c))
           for c in np.unique(y)]
    return np.concatenate(idx)


def _equal_priors_p_value(priors, source_priors, boot, n_source):
    """Wald test of ``target priors == source priors`` with the bootstrap covariance.

    The source priors are class frequencies of ``n_source`` rows, whose
    multinomial covariance is added; one class is dropped (the priors sum to 1).
    """
    if boot is None or len(boot) < 2:
        return float("nan")
    d = (priors - source_priors)[:-1]
    cov = np.atleast_2d(np.cov(boot[:, :-1], rowvar=False))
    ps = source_priors[:-1]
    cov = cov + (np.diag(ps) - np.outer(ps, ps)) / n_source
    stat = float(d @ np.linalg.pinv(cov) @ d)
    dof = max(np.linalg.matrix_rank(cov), 1)
    return float(stats.chi2.sf(stat, dof))


def _check_label_shift_inputs(y_source, proba_source, proba_target, classes):
    y = _as_1d(y_source, "y_source")
    Ps = check_array(proba_source, input_name="proba_source")
    Pt = np.asarray(proba_target, dtype=float)
    if Pt.ndim == 2:
        Pt = Pt[None]
    if Pt.ndim != 3:
        raise ValueError(
            "proba_target must have shape (n_target, n_classes), or (n_models, n_target, "
            f"n_classes) for cross-fitted models; got an array of shape {np.shape(proba_target)}."
        )
    for name, P in (("proba_source", Ps), ("proba_target", Pt)):
        if not np.all(np.isfinite(P)) or np.any(P < 0):
            raise ValueError(f"{name} must hold finite, non-negative probabilities.")
    if len(y) != len(Ps):
        raise ValueError(f"y_source has {len(y)} entries but proba_source has {len(Ps)} rows.")
    if Pt.shape[2] != Ps.shape[1] or Pt.shape[1] == 0:
        raise ValueError(
            f"proba_source has {Ps.shape[1]} class columns but proba_target has "
            f"{Pt.shape[2]} (and {Pt.shape[1]} rows); both need one column per class."
        )
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if len(classes) != Ps.shape[1]:
        raise ValueError(
            f"{len(classes)} classes but proba_source has {Ps.shape[1]} columns; pass "
            "classes= in the column order of the probabilities."
        )
    if len(classes) < 2:
        raise ValueError("Label-shift estimation needs at least 2 classes; got 1 class.")
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(f"y_source holds labels {unknown.tolist()} missing from classes.")
    y_enc = np.searchsorted(classes, y) if np.all(classes[:-1] <= classes[1:]) else \
        np.array([np.flatnonzero(classes == v)[0] for v in y])
    absent = classes[np.bincount(y_enc, minlength=len(classes)) == 0]
    if absent.size:
        raise ValueError(
            f"Class(es) {absent.tolist()} have no labelled source row: label-shift "
            "correction assumes every target class occurs in the source (p_s(y) > 0)."
        )
    return y_enc, _log_proba(Ps), _log_proba(Pt), classes


@validate_params(
    {
        "y_source": ["array-like"],
        "proba_source": ["array-like"],
        "proba_target": ["array-like"],
        "classes": ["array-like", None],
        "method": [StrOptions({"em", "bbse", "rlls"})],
        "calibration": [StrOptions({"bcts", "ts"}), None],
        "reg": [Interval(Real, 0, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def estimate_label_shift(y_source, proba_source, proba_target, *, classes=None, method="em",
                         calibration="bcts", reg=0.01, n_bootstrap=100,
                         confidence_level=0.95, random_state=None):
    """Estimate the target's class priors under label shift from a classifier's outputs.

    The building block of :class:`LabelShiftClassifier`, usable on its own
    with any model: give the predicted probabilities of labelled source rows
    the model did **not** train on (a held-out split or out-of-fold
    predictions) and of the unlabelled target rows.

    Parameters
    ----------
    y_source : array-like of shape (n_source,)
        Labels of the held-out source rows.
    proba_source : array-like of shape (n_source, n_classes)
        The model's probabilities for those rows, columns in ``classes`` order.
    proba_target : array-like of shape (n_target, n_classes) or (n_models, n_target, n_classes)
        Probabilities for the target rows; with cross-fitting pass one slice
        per fold model (they are pooled as the source rows are).
    classes : array-like of shape (n_classes,), default=None
        Class labels in column order; defaults to the sorted labels of
        ``y_source``.
    method : {"em", "bbse", "rlls"}, default="em"
        ``"em"``: maximum likelihood by EM on calibrated posteriors (Saerens
        et al., 2002; Alexandari et al., 2020). ``"bbse"``: solve ``C w = mu``
        with the held-out joint confusion matrix ``C`` of the hard predictions
        (Lipton et al., 2018). ``"rlls"``: the regularised least-squares form
        (Azizzadenesheli et al., 2019).
    calibration : {"bcts", "ts"} or None, default="bcts"
        Calibration fitted on the held-out source rows: bias-corrected
        temperature scaling (one temperature and one bias per class),
        temperature scaling only, or none. EM needs calibrated posteriors;
        BBSE and RLLS use hard predictions, so for them it only sets the
        returned ``calibration`` (used to correct posteriors).
    reg : float, default=0.01
        RLLS only: ``Delta_C`` is ``reg`` times the paper's concentration
        bound ``3 (2 log(2K/δ) / (3n) + sqrt(2 log(2K/δ) / n))`` with
        ``δ = 0.05``. ``reg=1`` is the theoretical value, which shrinks every
        estimate to "no shift" at moderate sample sizes; 0.01 is the value of
        the authors' experiments; 0 gives BBSE with non-negative weights.
    n_bootstrap : int, default=100
        Bootstrap replicates for the confidence interval and the test of
        equal priors: source rows are resampled within each class, target rows
        freely, and the whole estimate (calibration included) is repeated. 0
        skips them (``target_priors_ci`` is then None).
    confidence_level : float, default=0.95
        Coverage of the percentile bootstrap interval.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    result : Bunch
        ``classes``; ``target_priors`` (n_classes,); ``target_priors_ci``
        (n_classes, 2) lower and upper bounds, or None; ``source_priors``
        (class frequencies of ``y_source``); ``class_weights`` =
        ``target_priors / source_priors``; ``p_value`` of the test "the target
        priors equal the source priors" (a Wald test with the bootstrap
        covariance, NaN without bootstrap); ``bootstrap_priors``
        (n_bootstrap, n_classes) or None; ``confusion_matrix`` (the joint
        ``C``, BBSE/RLLS) or None; ``calibration`` (Bunch with ``temperature``
        and ``bias``) or None; ``model_priors`` (mean calibrated posterior of
        the held-out rows: the priors the calibrated model embodies, which a
        posterior correction divides by); ``n_iter`` (EM iterations) or None.

    References
    ----------
    .. [1] M. Saerens, P. Latinne and C. Decaestecker. "Adjusting the Outputs
       of a Classifier to New a Priori Probabilities: A Simple Procedure".
       Neural Computation 14(1), 2002.
    .. [2] Z. Lipton, Y.-X. Wang and A. Smola. "Detecting and Correcting for
       Label Shift with Black Box Predictors". ICML 2018.
    .. [3] K. Azizzadenesheli, A. Liu, F. Yang and A. Anandkumar. "Regularized
       Learning for Domain Adaptation under Label Shifts". ICLR 2019.
    .. [4] A. Alexandari, A. Kundaje and A. Shrikumar. "Maximum Likelihood
       with Bias-Corrected Calibration is Hard-To-Beat at Label Shift
       Adaptation". ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl import estimate_label_shift
    >>> rng = np.random.default_rng(0)
    >>> def proba(y):  # a noisy but calibrated two-class model
    ...     p1 = np.clip(0.8 * y + 0.1 + rng.normal(0, 0.05, len(y)), 0.01, 0.99)
    ...     return np.c_[1 - p1, p1]
    >>> y_s = rng.integers(0, 2, 500)             # source: 50 % of class 1
    >>> y_t = (rng.random(2000) < 0.2).astype(int)  # target: 20 % of class 1
    >>> res = estimate_label_shift(y_s, proba(y_s), proba(y_t), random_state=0)
    >>> np.round(res.target_priors, 1)
    array([0.8, 0.2])
    """
    y, logp_s, logp_t, classes = _check_label_shift_inputs(
        y_source, proba_source, proba_target, classes)
    priors, extra = _point_estimate(y, logp_s, logp_t, classes, method, calibration, reg)
    k = len(classes)
    source_priors = np.bincount(y, minlength=k) / len(y)
    theta = extra.get("theta")
    if theta is None and calibration is not None:
        theta = _fit_calibration(logp_s, y, calibration)
    cal = _calibration_bunch(theta, k)
    rng = check_random_state(random_state)
    boot = None
    if n_bootstrap:
        boot = np.empty((n_bootstrap, k))
        n_t = logp_t.shape[1]
        for r in range(n_bootstrap):
            i_s = _stratified_resample(y, rng)
            i_t = rng.randint(n_t, size=n_t)
            boot[r] = _point_estimate(y[i_s], logp_s[i_s], logp_t[:, i_t], classes, method,
                                      calibration, reg, strict=False, init=theta)[0]
    ci = None
    if boot is not None:
        tail = 50 * (1 - confidence_level)
        ci = np.percentile(boot, [tail, 100 - tail], axis=0).T
    return Bunch(
        classes=classes,
        target_priors=priors,
        target_priors_ci=ci,
        source_priors=source_priors,
        class_weights=priors / source_priors,
        p_value=_equal_priors_p_value(priors, source_priors, boot, len(y)),
        bootstrap_priors=boot,
        confusion_matrix=extra["confusion"],
        calibration=cal,
        model_priors=_apply_calibration(logp_s, cal).mean(axis=0),
        n_iter=extra["n_iter"],
    )


def _adjust_proba(proba, target_priors, model_priors, calibration=None):
    """Posteriors for new class priors: ``p_t(y | x) ∝ p_t(y) / p_s(y) p_s(y | x)``.

    Saerens et al.'s prior correction; ``calibration`` (a Bunch with
    ``temperature`` and ``bias``, as returned by :func:`estimate_label_shift`)
    is applied first.
    """
    p = _apply_calibration(_log_proba(np.asarray(proba, dtype=float)), calibration)
    p = p * (np.asarray(target_priors) / np.asarray(model_priors))
    return p / p.sum(axis=1, keepdims=True)


def _accepts_sample_weight(estimator):
    """Whether ``fit`` takes ``sample_weight`` (a pipeline's: its last step's)."""
    if isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return has_fit_parameter(estimator, "sample_weight")


def _fit_weighted(estimator, X, y, sample_weight):
    """``estimator.fit`` with row weights; a pipeline passes them to its last step.

    ``estimator`` is a clone owned by the caller (its last step may be told
    to request ``sample_weight`` when metadata routing is on).
    """
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        if not get_config()["enable_metadata_routing"]:
            return estimator.fit(X, y, **{f"{name}__sample_weight": sample_weight})
        for _, step in estimator.steps[:-1]:  # the weights are for the classifier only
            if hasattr(step, "set_fit_request") and has_fit_parameter(step, "sample_weight"):
                step.set_fit_request(sample_weight=False)
        last.set_fit_request(sample_weight=True)
    return estimator.fit(X, y, sample_weight=sample_weight)


def _proba_columns(model, X, classes):
    """``model.predict_proba(X)`` with one column per class of ``classes``."""
    P = model.predict_proba(X)
    out = np.zeros((X.shape[0], len(classes)))
    out[:, np.searchsorted(classes, model.classes_)] = P
    return out


class LabelShiftClassifier(BaseDAEstimator):
    """Correct a classifier for a change of class priors between domains.

    Label shift (prior shift): the class balance moves between source and
    target (a disease more frequent at one hospital, fraud rates between
    months) while each class looks the same, ``p_t(x | y) = p_s(x | y)``.
    The meta-estimator estimates the target's class priors from the
    unlabelled target rows and the wrapped classifier's predictions, then
    corrects the classifier — by prior-adjusting its calibrated
    ``predict_proba`` (``correction="proba"``, Saerens et al. 2002) or by
    refitting it with the class weights ``w(y) = p_t(y) / p_s(y)`` on the
    source rows (``correction="reweight"``, importance-weighted learning as in
    Lipton et al. 2018).

    The held-out predictions the estimators need come from cross-fitting:
    the labelled source rows are split into ``cv`` stratified folds, a clone
    of ``estimator`` fitted on the other folds predicts each fold and every
    target row; the confusion matrix, the calibration and the target's
    predictions therefore describe the same models, and every source row
    serves both for training and for the estimate. The final ``estimator_``
    is refitted on all labelled source rows.

    Use :func:`sktl.metrics.diagnose_shift` to check that the shift is a
    label shift: this correction is wrong for a covariate or conditional shift.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba`` (for ``correction="reweight"``
        its ``fit``, or its last step's for a pipeline, must accept
        ``sample_weight``).
    method : {"em", "bbse", "rlls"}, default="em"
        How the target priors are estimated (see
        :func:`~sktl.estimate_label_shift`): EM on calibrated posteriors, the
        best of the three in Alexandari et al.'s comparison; BBSE; or RLLS,
        which stays defined when the confusion matrix is singular.
    correction : {"proba", "reweight"}, default="proba"
        ``"proba"``: ``predict_proba`` returns the calibrated posterior
        adjusted to the target priors, no refit. ``"reweight"``: refit
        ``estimator`` with ``sample_weight = class_weights_[y]``.
    calibration : {"bcts", "ts"} or None, default="bcts"
        Calibration fitted on the out-of-fold source predictions (bias-
        corrected temperature scaling, temperature scaling, or none); used
        by EM and by ``correction="proba"``.
    cv : int, cross-validation generator or iterable, default=5
        Cross-fitting folds over the labelled source rows. An int gives that
        many stratified folds, capped by the smallest class count. A class with
        a single labelled source row cannot be held out: the fit then warns
        (:class:`~sktl.exceptions.DomainWarning`) and leaves the classifier
        uncorrected (``target_priors_ = source_priors_``, ``class_weights_``
        all 1, no interval), so that a search or a circular-validation
        reverse fit, whose pseudo-labels can make such a class, never stops on
        it. A splitter with a single split (e.g.
        ``StratifiedShuffleSplit(n_splits=1)``) gives the papers' single
        held-out split; rows never held out then do not enter the estimate.
    reg : float, default=0.01
        RLLS regularisation, in units of the paper's concentration bound.
    n_bootstrap : int, default=100
        Bootstrap replicates for ``target_priors_ci_``; 0 skips them.
    confidence_level : float, default=0.95
        Coverage of ``target_priors_ci_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the bootstrap and the clones of ``estimator``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels of the labelled source rows.
    target_priors_ : ndarray of shape (n_classes,)
        Estimated class priors of the target rows.
    target_priors_ci_ : ndarray of shape (n_classes, 2) or None
        Lower and upper bootstrap bounds of ``target_priors_``.
    source_priors_ : ndarray of shape (n_classes,)
        Class frequencies of the labelled source rows.
    class_weights_ : ndarray of shape (n_classes,)
        ``target_priors_ / source_priors_``: the importance weight of a source
        row of each class.
    prior_shift_p_value_ : float
        p-value of "the target priors equal the source priors" (NaN without
        bootstrap).
    confusion_matrix_ : ndarray of shape (n_classes, n_classes) or None
        Out-of-fold joint confusion matrix ``C[predicted, true]`` (BBSE, RLLS).
    calibration_ : Bunch or None
        ``temperature`` and ``bias`` of the fitted calibration.
    n_iter_ : int or None
        EM iterations.
    estimator_ : classifier
        ``estimator`` fitted on all labelled source rows (with the class
        weights for ``correction="reweight"``).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    estimate_label_shift : The estimate from given held-out predictions.
    sktl.metrics.diagnose_shift : Which shift the data show.

    References
    ----------
    .. [1] M. Saerens, P. Latinne and C. Decaestecker. "Adjusting the Outputs
       of a Classifier to New a Priori Probabilities: A Simple Procedure".
       Neural Computation 14(1), 2002.
    .. [2] Z. Lipton, Y.-X. Wang and A. Smola. "Detecting and Correcting for
       Label Shift with Black Box Predictors". ICML 2018.
    .. [3] K. Azizzadenesheli, A. Liu, F. Yang and A. Anandkumar. "Regularized
       Learning for Domain Adaptation under Label Shifts". ICLR 2019.
    .. [4] A. Alexandari, A. Kundaje and A. Shrikumar. "Maximum Likelihood
       with Bias-Corrected Calibration is Hard-To-Beat at Label Shift
       Adaptation". ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import LabelShiftClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(400, 400, shift="label", mask_target=True,
    ...                              random_state=0)
    >>> clf = LabelShiftClassifier(LogisticRegression(), random_state=0)
    >>> clf = clf.fit(X, y, sample_domain=sd)
    >>> clf.source_priors_                  # the source is balanced
    array([0.5025, 0.4975])
    >>> np.round(clf.target_priors_, 2)     # the target holds 78 % of class 0
    array([0.77, 0.23])
    >>> np.round(clf.target_priors_ci_, 2)  # 95 % bootstrap interval per class
    array([[0.73, 0.81],
           [0.19, 0.27]])
    >>> np.round(clf.class_weights_, 2)
    array([1.54, 0.46])
    """

    _accept_sparse = "csr"
    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "method": [StrOptions({"em", "bbse", "rlls"})],
        "correction": [StrOptions({"proba", "reweight"})],
        "calibration": [StrOptions({"bcts", "ts"}), None],
        "cv": ["cv_object"],
        "reg": [Interval(Real, 0, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, method="em", correction="proba", calibration="bcts",
                 cv=5, reg=0.01, n_bootstrap=100, confidence_level=0.95, random_state=None):
        self.estimator = estimator
        self.method = method
        self.correction = correction
        self.calibration = calibration
        self.cv = cv
        self.reg = reg
        self.n_bootstrap = n_bootstrap
        self.confidence_level = confidence_level
        self.random_state = random_state

    def _task(self):
        return "classification"

    def _splits(self, X, y, rng):
        if isinstance(self.cv, Integral):
            counts = np.unique(y, return_counts=True)
            folds = StratifiedKFold(min(self.cv, counts[1].min()), shuffle=True,
                                    random_state=rng.randint(np.iinfo(np.int32).max))
            return folds.split(X, y)
        return check_cv(self.cv, y, classifier=True).split(X, y)

    def fit(self, X, y, sample_domain=None):
        """Estimate the target's class priors and correct the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabelled (target) rows. Labels of target rows are
            not used, but a target label unseen in the source is an error.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target);
            inferred from the masked labels when None. All target domains are
            pooled into one target.

        Returns
        -------
        self : object
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        src, tgt = self._source_target_masks(sd)
        labelled = ~unlabelled_mask(y, "classification")
        train = src & labelled
        y_src = y[train]
        check_classification_targets(y_src)
        classes, y_enc = np.unique(y_src, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes among the labelled "
                f"source rows; got {len(classes)} class."
            )
        unseen = np.setdiff1d(y[(sd < 0) & labelled], classes)
        if unseen.size:
            raise ValueError(
                f"Target label(s) {unseen.tolist()} never occur in the source: label-shift "
                "correction assumes every target class occurs in the source."
            )
        if self.correction == "reweight" and not _accepts_sample_weight(self.estimator):
            raise ValueError(
                f"correction='reweight' refits the estimator with sample_weight, which "
                f"{type(self.estimator).__name__}.fit does not accept; use "
                "correction='proba'."
            )
        rng = check_random_state(self.random_state)
        X_src, X_tgt = X[train], X[tgt]
        self.classes_ = classes
        counts = np.bincount(y_enc, minlength=len(classes))
        self.source_priors_ = counts / len(y_enc)
        if isinstance(self.cv, Integral) and counts.min() < 2:
            warnings.warn(
                f"Class(es) {classes[counts < 2].tolist()} have a single labelled source row, "
                "which cross-fitting cannot hold out: the target priors are not estimated "
                "and the classifier is left uncorrected (target priors = source priors).",
                DomainWarning, stacklevel=2)
            return self._fit_uncorrected(X_src, y_src, rng)
        proba_src = np.zeros((len(y_src), len(classes)))
        held = np.zeros(len(y_src), dtype=bool)
        proba_tgt = []
        for fit_idx, test_idx in self._splits(X_src, y_src, rng):
            model = self._fit_clone(X_src[fit_idx], y_src[fit_idx], rng)
            proba_src[test_idx] = _proba_columns(model, X_src[test_idx], classes)
            held[test_idx] = True
            proba_tgt.append(_proba_columns(model, X_tgt, classes))
        res = estimate_label_shift(
            y_src[held], proba_src[held], np.stack(proba_tgt), classes=classes,
            method=self.method, calibration=self.calibration, reg=self.reg,
            n_bootstrap=self.n_bootstrap, confidence_level=self.confidence_level,
            random_state=rng,
        )
        self.target_priors_ = res.target_priors
        self.target_priors_ci_ = res.target_priors_ci
        self.class_weights_ = self.target_priors_ / self.source_priors_
        self.prior_shift_p_value_ = res.p_value
        self.confusion_matrix_ = res.confusion_matrix
        self.calibration_ = res.calibration
        self.n_iter_ = res.n_iter
        self._model_priors = res.model_priors
        weights = self.class_weights_[y_enc] if self.correction == "reweight" else None
        self.estimator_ = self._fit_clone(X_src, y_src, rng, weights)
        return self

    def _fit_uncorrected(self, X_src, y_src, rng):
        """The fallback of a class with one labelled source row: no shift estimated."""
        k = len(self.classes_)
        self.target_priors_ = self._model_priors = self.source_priors_.copy()
        self.target_priors_ci_ = self.confusion_matrix_ = self.calibration_ = None
        self.class_weights_ = np.ones(k)
        self.prior_shift_p_value_ = np.nan
        self.n_iter_ = None
        self.estimator_ = self._fit_clone(X_src, y_src, rng)
        return self

    def _fit_clone(self, X, y, rng, sample_weight=None):
        est = clone(self.estimator)
        _set_random_states(est, rng)
        if sample_weight is None:
            return est.fit(X, y)
        return _fit_weighted(est, X, y, sample_weight)

    def _check_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                             accept_sparse=self._accept_sparse)

    def predict_proba(self, X):
        """Class probabilities for target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            With ``correction="proba"`` the calibrated posterior adjusted to
            ``target_priors_``; with ``"reweight"`` the reweighted model's.
        """
        X = self._check_X(X)
        proba = _proba_columns(self.estimator_, X, self.classes_)
        if self.correction == "reweight":
            return proba
        return _adjust_proba(proba, self.target_priors_, self._model_priors,
                            self.calibration_)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return _log_proba(self.predict_proba(X))

    def predict(self, X):
        """Most probable class under the target priors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        if tags.classifier_tags is None:
            tags.classifier_tags = ClassifierTags(multi_label=False)
        tags.target_tags.required = True
        return tags
