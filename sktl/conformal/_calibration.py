"""Probabilities calibrated for the target: importance-weighted or prior-corrected."""

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import (
    _SPLIT_CONSTRAINTS,
    _WEIGHTER_CONSTRAINT,
    _effective_sample_size,
    _ShiftCalibrationBase,
)


def _calibration_inputs(estimator, X):
    """What the calibrator maps: log-probabilities (or decision values), one column per class.

    Binary problems give one column, the log-odds (or decision value) of the
    second class.
    """
    if hasattr(estimator, "predict_proba"):
        logp = np.log(np.clip(estimator.predict_proba(X), 1e-15, 1.0))
        return logp[:, 1:] - logp[:, :1] if logp.shape[1] == 2 else logp
    scores = np.asarray(estimator.decision_function(X), dtype=float)
    return scores.reshape(X.shape[0], -1)


def _platt(f, t, w):
    """Weighted Platt scaling ``P(t | f) = expit(a f + b)`` with Platt's smoothed targets."""
    pos, neg = w[t].sum(), w[~t].sum()
    target = np.where(t, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))

    def loss(ab):
        z = ab[0] * f + ab[1]
        g = w * (expit(z) - target)
        return w @ (np.logaddexp(0.0, z) - target * z), np.array([g @ f, g.sum()])

    start = np.array([0.0, np.log((pos + 1.0) / (neg + 1.0))])
    return minimize(loss, start, jac=True, method="L-BFGS-B").x


def _temperature(Z, label, w):
    """Temperature ``T`` minimising the weighted log-loss of ``softmax(Z / T)``."""
    def nll(log_t):
        return -w @ log_softmax(Z / np.exp(log_t), axis=1)[np.arange(len(Z)), label]

    return float(np.exp(minimize_scalar(nll, bounds=(-7.0, 7.0), method="bounded").x))


def _as_logits(F):
    """Binary log-odds ``f`` as the two-class logits ``[0, f]``."""
    return np.c_[np.zeros(len(F)), F] if F.shape[1] == 1 else F


class ShiftCalibratedClassifier(_ShiftCalibrationBase):
    """Probabilities calibrated for the target domain, not the source.

    A classifier calibrated on source rows (e.g. with
    :class:`~sklearn.calibration.CalibratedClassifierCV`) is calibrated for
    the source: under a shift its probabilities are over- or under-confident
    on the target. This meta-estimator fits the classifier on part of the
    labelled source rows and calibrates it on the others, so that the
    probabilities are right *on the target*:

    * ``shift="covariate"``: the calibration map (sigmoid, isotonic or
      temperature) is fitted with importance weights
      ``p_target(x) / p_source(x)`` on the calibration rows, so it minimises
      the target's expected log-loss (importance-weighted empirical risk,
      Shimodaira, 2000; Sugiyama, Krauledat & Müller, 2007). This helps when
      ``p(y | score)`` differs between the domains, e.g. for a misspecified
      model.
    * ``shift="label"``: the map is fitted on the source rows as they are,
      then the probabilities are corrected for the new class priors,
      ``p_t(y | x) ∝ w(y) p_s(y | x)`` with ``w(y) = p_t(y) / p_s(y)``
      (Saerens, Latinne & Decaestecker, 2002).

    Parameters
    ----------
    estimator : classifier, default=None
        With ``predict_proba`` or ``decision_function``; None means
        ``LogisticRegression()``.
    method : {"sigmoid", "isotonic", "temperature"}, default="sigmoid"
        The calibration map: Platt's sigmoid on each class's log-odds
        (one-vs-rest, then normalised), isotonic regression (one-vs-rest,
        normalised; needs many calibration rows), or a single temperature
        dividing the logits (Guo et al., 2017), which keeps the ranking.
    shift : {"covariate", "label"}, default="covariate"
        The kind of shift corrected.
    weighter : "auto", "uniform", estimator, callable, array-like or dict, default="auto"
        Where the weights come from, as in
        :class:`~sktl.conformal.WeightedConformalClassifier`: for
        ``shift="covariate"`` an sktl reweighter (``"auto"``:
        :class:`~sktl.DiscriminativeReweighter`; any density-ratio model such
        as :class:`~sktl.KLIEP` or :class:`~sktl.ULSIF`, or :class:`~sktl.KMM`
        / :class:`~sktl.LDM` fitted on the calibration rows against the
        target rows, since only the calibration rows need a weight) or a
        callable density ratio;
        for ``shift="label"`` a label-shift estimator setting
        ``class_weights_`` (``"auto"``: sktl's label-shift classifier, when
        installed), or the class weights themselves. ``"uniform"``
        gives plain source calibration.
    calibration_size : float or int, default=0.3
        Share or number of the labelled source rows held out for
        calibration. Ignored with ``prefit=True``.
    prefit : bool, default=False
        If True, ``estimator`` is already fitted; every labelled source row
        calibrates it.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration split.

    Attributes
    ----------
    estimator_ : classifier
        The fitted classifier.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    weighter_ : object or None
        The fitted density-ratio model or label-shift estimator.
    class_weights_ : ndarray of shape (n_classes,)
        ``shift="label"`` only: ``p_t(y) / p_s(y)`` per class.
    calibration_weights_ : ndarray of shape (n_calibration,)
        Importance weights of the calibration rows (ones for ``"label"``).
    effective_sample_size_ : float
        Kish's effective sample size of those weights.
    temperature_ : float
        The fitted temperature (``method="temperature"``).
    n_calibration_ : int
        Number of calibration rows.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    WeightedConformalClassifier : Prediction sets under shift.

    References
    ----------
    .. [1] H. Shimodaira. "Improving predictive inference under covariate
       shift by weighting the log-likelihood function". J. Stat. Plan.
       Inference, 2000.
    .. [2] M. Saerens, P. Latinne and C. Decaestecker. "Adjusting the Outputs
       of a Classifier to New a Priori Probabilities: A Simple Procedure".
       Neural Computation, 2002.
    .. [3] J. Platt. "Probabilistic Outputs for Support Vector Machines".
       Advances in Large Margin Classifiers, 1999.
    .. [4] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger. "On Calibration of
       Modern Neural Networks". ICML 2017.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.conformal import ShiftCalibratedClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(300, 200, random_state=0, mask_target=True)
    >>> clf = ShiftCalibratedClassifier(LogisticRegression(), method="temperature",
    ...                                 random_state=0).fit(X, y, sample_domain=sd)
    >>> clf.predict_proba(X[sd < 0]).shape
    (200, 2)
    """

    _kind = "classification"
    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]),
                      HasMethods(["fit", "decision_function"]), None],
        "method": [StrOptions({"sigmoid", "isotonic", "temperature"})],
        "shift": [StrOptions({"covariate", "label"})],
        "weighter": [*_WEIGHTER_CONSTRAINT, "array-like", dict],
        **_SPLIT_CONSTRAINTS,
    }

    def __init__(self, estimator=None, *, method="sigmoid", shift="covariate", weighter="auto",
                 calibration_size=0.3, prefit=False, random_state=None):
        self.estimator = estimator
        self.method = method
        self.shift = shift
        self.weighter = weighter
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.random_state = random_state

    @staticmethod
    def _default_estimator():
        return LogisticRegression()

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit the classifier, the weights and the calibration map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).
        **fit_params : dict
            Passed to ``estimator.fit`` (per-row arrays are indexed). A
            ``sample_weight`` also multiplies the calibration rows' weights.

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain, ensure_min_samples=2)
        cal, _, rest = self._fit_split(X, y, sd, fit_params)
        self.classes_ = self.estimator_.classes_
        label = np.array([np.flatnonzero(self.classes_ == v)[0] if np.any(self.classes_ == v)
                          else -1 for v in y[cal]], dtype=np.int64)
        if self.shift == "covariate":
            weights = self._covariate_weights(X, sd, cal, rest)
        else:
            self.class_weights_ = self._class_weights(X, y, sd, rest, self.classes_)
            weights = np.ones(len(cal))
        if fit_params.get("sample_weight") is not None:
            weights = weights * np.asarray(fit_params["sample_weight"], dtype=float)[cal]
        self.calibration_weights_ = weights
        self.effective_sample_size_ = _effective_sample_size(weights)
        known = label >= 0  # rows of a class the estimator never saw cannot calibrate it
        F = _calibration_inputs(self.estimator_, X[cal[known]])
        label, w = label[known], weights[known]
        if w.sum() <= 0:
            raise ValueError(
                "Nothing to calibrate on: no calibration row has both a positive weight and "
                "a class the estimator was fitted on."
            )
        w = w * (len(w) / w.sum())
        if self.method == "temperature":
            self.temperature_ = _temperature(_as_logits(F), label, w)
            return self
        cols = [1] if F.shape[1] == 1 else range(F.shape[1])
        self._maps = []
        for j, col in enumerate(cols):
            t = label == col
            if self.method == "sigmoid":
                self._maps.append(_platt(F[:, j], t, w))
            else:
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                self._maps.append(iso.fit(F[:, j], t.astype(float), sample_weight=w))
        return self

    def predict_proba(self, X):
        """Class probabilities calibrated for the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        F = _calibration_inputs(self.estimator_, self._prepare(X))
        if self.method == "temperature":
            proba = np.exp(log_softmax(_as_logits(F) / self.temperature_, axis=1))
        else:
            cols = [
                expit(m[0] * F[:, j] + m[1]) if self.method == "sigmoid" else m.predict(F[:, j])
                for j, m in enumerate(self._maps)
            ]
            proba = np.column_stack(cols)
            if proba.shape[1] == 1:
                proba = np.c_[1.0 - proba, proba]
        if self.shift == "label":
            proba = proba * self.class_weights_
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        return np.where(total > 0, proba / np.where(total > 0, total, 1.0), uniform)

    def predict(self, X):
        """The most probable class under the calibrated target probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
