"""Weighted split conformal prediction under covariate and label shift."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..exceptions import WeakCalibrationWarning
from ._base import (
    _CONFORMAL_CONSTRAINTS,
    _WEIGHTER_CONSTRAINT,
    _check_levels,
    _WeightedConformalBase,
)


def _point_prediction(estimator, X):
    pred = np.asarray(estimator.predict(X), dtype=float)
    return pred.reshape(X.shape[0]) if pred.size == X.shape[0] else pred


class WeightedConformalRegressor(_WeightedConformalBase):
    """Split conformal prediction intervals that stay valid under covariate shift.

    Split conformal prediction holds out calibration rows, scores how wrong
    the model is on each (the conformity score, e.g. ``|y - y_pred|``), and
    widens every prediction by a quantile of those scores. Its coverage
    guarantee needs the new rows to be exchangeable with the calibration
    rows, which a covariate shift breaks. Weighted split conformal
    prediction (Tibshirani, Barber, Candès & Ramdas, 2019) restores it when
    only ``p(x)`` moves: each calibration score gets the weight
    ``w(x_i) = p_target(x_i) / p_source(x_i)``, the test row itself the weight
    ``w(x)`` placed at ``+inf``, and the interval half-width is the
    ``confidence_level`` quantile of that weighted distribution. A test row
    whose weight is large compared with the calibration weights (the target
    far from the source) gets a wide, possibly infinite, interval: the honest
    answer when the source says little about it.

    ``fit(X, y, sample_domain)`` fits the base estimator on part of the
    labelled source rows, keeps ``calibration_size`` of them for calibration
    (or, with ``prefit=True``, calibrates a fitted estimator on all of them),
    and fits the density ratio on the remaining source rows against the
    target rows. The names and shapes follow MAPIE's
    ``SplitConformalRegressor`` (v1); with ``weighter="uniform"`` this is
    plain split conformal prediction.

    Parameters
    ----------
    estimator : regressor, default=None
        The point predictor; None means ``LinearRegression()``.
    weighter : "auto", "uniform", reweighter or callable, default="auto"
        Where the weights ``p_target(x) / p_source(x)`` come from:

        * ``"auto"``: :class:`~sktl.DiscriminativeReweighter` (a logistic
          regression telling target from source rows);
        * ``"uniform"``: no weights, plain split conformal prediction;
        * an sktl reweighter: fitted (a clone, with ``estimator=None``) on
          the source rows not used for calibration against the target rows.
          The density-ratio models (every subclass of
          ``sktl._base.BaseDensityRatioReweighter``:
          :class:`~sktl.DiscriminativeReweighter`, :class:`~sktl.KLIEP`,
          :class:`~sktl.ULSIF`, :class:`~sktl.RULSIF`,
          :class:`~sktl.NearestNeighborReweighter`,
          :class:`~sktl.KernelDensityReweighter`,
          :class:`~sktl.GaussianReweighter`) give the ratio at the
          calibration and test rows through their ``density_ratio``.
          :class:`~sktl.RULSIF` returns the *relative* ratio
          ``p_t / (alpha p_t + (1 - alpha) p_s)``, which is not the ratio the
          guarantee needs (coverage falls short of nominal; ``alpha=0`` is
          :class:`~sktl.ULSIF`). :class:`~sktl.KMM` and :class:`~sktl.LDM`
          weigh their training rows only: they are fitted on the calibration
          rows against the target rows, and every test row gets the largest
          calibration weight (conservative intervals of one width, often
          infinite under a strong shift). :class:`~sktl.BalancedWeighting`
          estimates no ratio and is refused;
        * a callable ``ratio(X) -> ndarray of shape (n_samples,)``: an already
          fitted density-ratio model, e.g. ``fitted_reweighter.density_ratio``.
    confidence_level : float or list of float, default=0.9
        Target coverage(s) of the intervals, each in (0, 1); one interval per
        level.
    conformity_score : {"absolute", "residual_normalized"}, default="absolute"
        ``"absolute"``: ``|y - y_pred|``, intervals of one width per weight.
        ``"residual_normalized"``: ``|y - y_pred| / sigma(x)`` with
        ``sigma`` the ``scale_estimator`` fitted to out-of-fold absolute
        residuals of the training rows, so the width follows the local noise
        (Lei et al., 2018). With ``prefit=True`` half of the calibration rows
        fit ``sigma`` instead.
    scale_estimator : regressor, default=None
        Model of the absolute residual for ``"residual_normalized"``; None
        means ``RandomForestRegressor(n_estimators=50, min_samples_leaf=10)``.
    calibration_size : float or int, default=0.3
        Share (float in (0, 1)) or number (int) of the labelled source rows
        held out for calibration. Ignored with ``prefit=True``.
    prefit : bool, default=False
        If True, ``estimator`` is already fitted and used as is; every
        labelled source row is a calibration row.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration split and the default scale estimator.

    Attributes
    ----------
    estimator_ : regressor
        The fitted point predictor (``estimator`` itself with ``prefit=True``).
    weighter_ : object or None
        The fitted density-ratio model (or the callable), None for uniform
        weights or when ``fit`` saw no target row.
    scale_estimator_ : regressor
        The fitted residual model (``"residual_normalized"`` only).
    confidence_levels_ : ndarray of shape (n_levels,)
        The levels of ``confidence_level``, in order.
    conformity_scores_ : ndarray of shape (n_calibration,)
        Conformity scores of the calibration rows.
    calibration_weights_ : ndarray of shape (n_calibration,)
        Their importance weights.
    effective_sample_size_ : float
        Kish's effective sample size ``(sum w)^2 / sum w^2`` of the
        calibration weights: how many unweighted rows they are worth. When it
        is small, intervals widen and may become infinite (a
        :class:`~sktl.exceptions.WeakCalibrationWarning` says so).
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
    WeightedConformalClassifier : The same for prediction sets.
    ShiftCalibratedClassifier : Target-calibrated probabilities.

    Notes
    -----
    The guarantee is the paper's: with the true density ratio, a test row
    drawn from the target is covered with probability at least
    ``confidence_level``. An estimated ratio makes it approximate; the
    effective sample size says how much the weighting costs. Labelled target
    rows, if any, are not used (they would need weights of their own).

    References
    ----------
    .. [1] R. J. Tibshirani, R. Foygel Barber, E. J. Candès and A. Ramdas.
       "Conformal Prediction Under Covariate Shift". NeurIPS 2019.
    .. [2] J. Lei, M. G'Sell, A. Rinaldo, R. J. Tibshirani and L. Wasserman.
       "Distribution-Free Predictive Inference for Regression". JASA, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sktl.conformal import WeightedConformalRegressor
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(300, 200, task="regression", shift_strength=0.3,
    ...                              random_state=0, mask_target=True)
    >>> cp = WeightedConformalRegressor(Ridge(), confidence_level=[0.8, 0.9],
    ...                                 random_state=0).fit(X, y, sample_domain=sd)
    >>> y_pred, y_pis = cp.predict_interval(X[sd < 0])
    >>> y_pis.shape
    (200, 2, 2)
    >>> bool(np.all(y_pis[:, 1, 1] - y_pis[:, 0, 1] >= y_pis[:, 1, 0] - y_pis[:, 0, 0]))
    True
    """

    _kind = "regression"
    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "weighter": _WEIGHTER_CONSTRAINT,
        "conformity_score": [StrOptions({"absolute", "residual_normalized"})],
        "scale_estimator": [HasMethods(["fit", "predict"]), None],
        **_CONFORMAL_CONSTRAINTS,
    }

    def __init__(self, estimator=None, *, weighter="auto", confidence_level=0.9,
                 conformity_score="absolute", scale_estimator=None, calibration_size=0.3,
                 prefit=False, random_state=None):
        self.estimator = estimator
        self.weighter = weighter
        self.confidence_level = confidence_level
        self.conformity_score = conformity_score
        self.scale_estimator = scale_estimator
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.random_state = random_state

    @staticmethod
    def _default_estimator():
        return LinearRegression()

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit the estimator, the density ratio and the calibration scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Targets, NaN for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target);
            inferred from the NaN labels when None.
        **fit_params : dict
            Passed to ``estimator.fit`` (per-row arrays are indexed).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain, ensure_min_samples=2)
        self.confidence_levels_ = _check_levels(self.confidence_level)
        y = np.asarray(y, dtype=float)
        cal, train, rest = self._fit_split(X, y, sd, fit_params)
        if self.conformity_score == "residual_normalized":
            cal = self._fit_scale(X, y, cal, train)
        scores = np.abs(y[cal] - _point_prediction(self.estimator_, X[cal]))
        if self.conformity_score == "residual_normalized":
            scores = scores / self._scale(X[cal])
        weights = self._covariate_weights(X, sd, cal, rest)
        self._store_calibration(scores, weights)
        if np.any(sd < 0):
            self._warn_infinite(self._thresholds(self._ratio_at(X[sd < 0])),
                                "Prediction intervals are infinite for target rows given to fit")
        return self

    def _fit_scale(self, X, y, cal, train):
        """Fit ``scale_estimator_`` on honest absolute residuals; return the calibration rows.

        Out-of-fold residuals of the training rows; with ``prefit=True``, the
        fitted estimator's residuals on half of the calibration rows, the
        other half calibrating.
        """
        seed = self.random_state if isinstance(self.random_state, Integral) else None
        scale = (RandomForestRegressor(n_estimators=50, min_samples_leaf=10, random_state=seed)
                 if self.scale_estimator is None else clone(self.scale_estimator))
        if self.prefit:
            perm = np.random.default_rng(seed).permutation(cal)
            fit_rows, cal = np.sort(perm[: len(cal) // 2]), np.sort(perm[len(cal) // 2:])
            if len(fit_rows) < 2:
                raise ValueError("residual_normalized with prefit=True needs at least 4 "
                                 "labelled source rows.")
            pred = _point_prediction(self.estimator_, X[fit_rows])
            self.n_calibration_ = len(cal)
        else:
            fit_rows = train
            if len(fit_rows) < 2:
                raise ValueError("residual_normalized needs at least 2 training rows; "
                                 "lower calibration_size.")
            cv = KFold(min(5, len(fit_rows)), shuffle=True, random_state=seed)
            pred = cross_val_predict(clone(self._base_estimator()), X[fit_rows], y[fit_rows],
                                     cv=cv)
            pred = np.asarray(pred, dtype=float).reshape(len(fit_rows))
        resid = np.abs(y[fit_rows] - pred)
        self.scale_estimator_ = scale.fit(X[fit_rows], resid)
        mean = float(resid.mean())
        self._scale_floor = 1e-3 * mean if mean > 0 else 1e-12
        return cal

    def _scale(self, X):
        sigma = np.asarray(self.scale_estimator_.predict(X), dtype=float).reshape(X.shape[0])
        return np.maximum(sigma, self._scale_floor)

    def predict_interval(self, X):
        """Point predictions and weighted conformal intervals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New rows (the target rows to predict).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions of ``estimator_``.
        y_pred_interval : ndarray of shape (n_samples, 2, n_levels)
            Lower (``[:, 0, k]``) and upper (``[:, 1, k]``) bound at the
            ``k``-th confidence level; ``-inf`` / ``inf`` where the weights
            leave too little calibration mass (with a
            :class:`~sktl.exceptions.WeakCalibrationWarning`).
        """
        check_is_fitted(self)
        X = self._prepare(X)
        y_pred = _point_prediction(self.estimator_, X)
        q = self._thresholds(self._ratio_at(X))
        half = q if self.conformity_score == "absolute" else q * self._scale(X)[:, None]
        self._warn_infinite(q, "Prediction intervals are infinite for some rows")
        zero = (half == 0).mean(axis=0)
        if np.any(zero > 0):
            warnings.warn(
                f"{100 * zero.max():.0f}% of the prediction intervals have zero width: the "
                "weighted quantile of the calibration scores is exactly 0 (the estimator "
                "fits those calibration rows exactly). The coverage guarantee still "
                "holds, but check for duplicated rows between training and calibration.",
                WeakCalibrationWarning, stacklevel=2,
            )
        y_pi = np.stack([y_pred[:, None] - half, y_pred[:, None] + half], axis=1)
        return y_pred, y_pi


def _row_uniforms(X, seed):
    """A uniform number per row, fixed by the row's values and ``seed``.

    APS breaks ties with a uniform draw per row; deriving it from the row
    (a random projection, its fractional digits) keeps the score a function
    of ``(x, y)`` only, so the conformal guarantee is untouched, and a row's
    set does not depend on the other rows of the call.
    """
    v = np.random.RandomState(seed).normal(size=X.shape[1])
    return np.mod(np.abs(np.asarray(X @ v, dtype=float).ravel()) * 1e6, 1.0)


def _class_scores(proba, method, u=None):
    """Conformity score of every class for every row: LAC, or APS tie-broken by ``u``."""
    if method == "lac":
        return 1.0 - proba
    order = np.argsort(-proba, axis=1, kind="stable")
    sorted_p = np.take_along_axis(proba, order, axis=1)
    cum = np.cumsum(sorted_p, axis=1) - (1.0 - u[:, None]) * sorted_p
    scores = np.empty_like(proba)
    np.put_along_axis(scores, order, cum, axis=1)
    return scores


class WeightedConformalClassifier(_WeightedConformalBase):
    """Split conformal prediction sets that stay valid under covariate or label shift.

    The classification counterpart of :class:`WeightedConformalRegressor`.
    The conformity score of a label is

    * ``"lac"`` (least ambiguous set-valued classifier, Sadinle, Lei &
      Wasserman, 2019): ``1 - p(y | x)``;
    * ``"aps"`` (adaptive prediction sets, Romano, Sesia & Candès, 2020): the
      total probability of the labels more likely than ``y``, plus ``u``
      times that of ``y``, with ``u`` the paper's uniform tie-break. Here
      ``u`` is derived from the row's values and ``random_state`` rather
      than drawn afresh, so the score stays a function of ``(x, y)`` (the
      guarantee is unchanged) and a row gets the same set whatever the other
      rows of the call. Without the tie-break (``u = 1``) APS sets are
      conservative, and all full for two classes;

    and the set of a row holds every label whose score is at most the
    weighted quantile of the calibration scores.

    * ``shift="covariate"``: calibration rows weigh ``p_t(x) / p_s(x)`` and
      the test row ``w(x)`` at ``+inf`` (Tibshirani et al., 2019), as in the
      regressor: one threshold per test row.
    * ``shift="label"``: ``p(x | y)`` is the same in both domains and only
      the class priors move. Calibration rows weigh
      ``w(y_i) = p_t(y_i) / p_s(y_i)`` and, for each candidate label ``y``,
      the test point weighs ``w(y)`` (Podkopaev & Ramdas, 2021): one threshold
      per class. The weights come from a label-shift estimator (any object
      whose ``fit(X, y, sample_domain=...)`` sets ``class_weights_``, aligned
      with its ``classes_``) or are given directly.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        None means ``LogisticRegression()``.
    weighter : "auto", "uniform", estimator, callable, array-like or dict, default="auto"
        ``shift="covariate"``: as in :class:`WeightedConformalRegressor`
        (``"auto"`` is :class:`~sktl.DiscriminativeReweighter`).
        ``shift="label"``: a label-shift estimator (fitted on the source rows
        not used for calibration and the target rows; ``"auto"``: sktl's
        label-shift classifier around a clone of ``estimator``, when
        ``sktl._label_shift`` is installed), the class weights
        ``p_t(y) / p_s(y)`` as an array aligned with ``classes_`` or a dict
        ``{label: weight}``, or ``"uniform"``.
    shift : {"covariate", "label"}, default="covariate"
        The kind of shift the weights correct.
    confidence_level : float or list of float, default=0.9
        Target coverage(s) of the sets, each in (0, 1).
    conformity_score : {"lac", "aps"}, default="lac"
        See above. LAC gives the smallest sets on average and may return an
        empty set for an ambiguous row; APS adapts the size to the row's
        difficulty.
    calibration_size : float or int, default=0.3
        Share or number of the labelled source rows held out for
        calibration (stratified by class when possible). Ignored with
        ``prefit=True``.
    prefit : bool, default=False
        If True, ``estimator`` is already fitted; every labelled source row
        is a calibration row.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration split and the APS tie-break.

    Attributes
    ----------
    estimator_ : classifier
        The fitted classifier.
    classes_ : ndarray of shape (n_classes,)
        Its classes; the columns of the prediction sets.
    weighter_ : object or None
        The fitted density-ratio model or label-shift estimator.
    class_weights_ : ndarray of shape (n_classes,)
        ``shift="label"`` only: the class weights used, aligned with
        ``classes_``.
    confidence_levels_ : ndarray of shape (n_levels,)
        The levels of ``confidence_level``.
    conformity_scores_ : ndarray of shape (n_calibration,)
        Scores of the calibration rows' true labels.
    calibration_weights_ : ndarray of shape (n_calibration,)
        Their weights.
    effective_sample_size_ : float
        Kish's effective sample size of the calibration weights.
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
    WeightedConformalRegressor : Prediction intervals.
    ShiftCalibratedClassifier : Target-calibrated probabilities.

    Notes
    -----
    A calibration row whose label the estimator never saw scores 1 (the
    largest score), which makes the sets conservative.

    References
    ----------
    .. [1] R. J. Tibshirani, R. Foygel Barber, E. J. Candès and A. Ramdas.
       "Conformal Prediction Under Covariate Shift". NeurIPS 2019.
    .. [2] A. Podkopaev and A. Ramdas. "Distribution-free uncertainty
       quantification for classification under label shift". UAI 2021.
    .. [3] M. Sadinle, J. Lei and L. Wasserman. "Least Ambiguous Set-Valued
       Classifiers With Bounded Error Levels". JASA, 2019.
    .. [4] Y. Romano, M. Sesia and E. J. Candès. "Classification with Valid
       and Adaptive Coverage". NeurIPS 2020.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.conformal import WeightedConformalClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(300, 200, n_classes=3, shift_strength=0.3,
    ...                              random_state=0, mask_target=True)
    >>> cp = WeightedConformalClassifier(LogisticRegression(), conformity_score="aps",
    ...                                  random_state=0).fit(X, y, sample_domain=sd)
    >>> y_pred, y_sets = cp.predict_set(X[sd < 0])
    >>> y_sets.shape
    (200, 3, 1)

    Under label shift with known class-prior ratios:

    >>> cp = WeightedConformalClassifier(LogisticRegression(), shift="label",
    ...                                  weighter=[0.5, 1.0, 1.5],
    ...                                  random_state=0).fit(X, y, sample_domain=sd)
    >>> cp.class_weights_
    array([0.5, 1. , 1.5])
    """

    _kind = "classification"
    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "weighter": [*_WEIGHTER_CONSTRAINT, "array-like", dict],
        "shift": [StrOptions({"covariate", "label"})],
        "conformity_score": [StrOptions({"lac", "aps"})],
        **_CONFORMAL_CONSTRAINTS,
    }

    def __init__(self, estimator=None, *, weighter="auto", shift="covariate",
                 confidence_level=0.9, conformity_score="lac", calibration_size=0.3,
                 prefit=False, random_state=None):
        self.estimator = estimator
        self.weighter = weighter
        self.shift = shift
        self.confidence_level = confidence_level
        self.conformity_score = conformity_score
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.random_state = random_state

    @staticmethod
    def _default_estimator():
        return LogisticRegression()

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit the classifier, the weights and the calibration scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target);
            inferred from the masked labels when None.
        **fit_params : dict
            Passed to ``estimator.fit`` (per-row arrays are indexed).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain, ensure_min_samples=2)
        self.confidence_levels_ = _check_levels(self.confidence_level)
        cal, _, rest = self._fit_split(X, y, sd, fit_params)
        classes = self.estimator_.classes_
        label = np.array([np.flatnonzero(classes == v)[0] if np.any(classes == v) else -1
                          for v in y[cal]], dtype=np.int64)
        self._tie_seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        all_scores = self._all_scores(X[cal])
        scores = np.where(label >= 0, all_scores[np.arange(len(cal)), label], 1.0)
        if self.shift == "covariate":
            weights = self._covariate_weights(X, sd, cal, rest)
        else:
            self.class_weights_ = self._class_weights(X, y, sd, rest, classes)
            weights = np.where(label >= 0, self.class_weights_[np.maximum(label, 0)], 1.0)
        self._store_calibration(scores, weights)
        if self.shift == "label":
            self._warn_infinite(self._thresholds(self.class_weights_),
                                "Some classes are in every prediction set")
        elif np.any(sd < 0):
            self._warn_infinite(self._thresholds(self._ratio_at(X[sd < 0])),
                                "Prediction sets hold every class for target rows given to fit")
        return self

    def _all_scores(self, X):
        u = _row_uniforms(X, self._tie_seed) if self.conformity_score == "aps" else None
        return _class_scores(self.estimator_.predict_proba(X), self.conformity_score, u)

    def predict_set(self, X):
        """Predicted labels and weighted conformal prediction sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New rows (the target rows to predict).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels predicted by ``estimator_``.
        y_pred_set : ndarray of bool of shape (n_samples, n_classes, n_levels)
            ``y_pred_set[i, j, k]`` is True when ``classes_[j]`` is in the
            set of row ``i`` at the ``k``-th confidence level.
        """
        check_is_fitted(self)
        X = self._prepare(X)
        scores = self._all_scores(X)
        if self.shift == "covariate":
            q = self._thresholds(self._ratio_at(X))  # one threshold per row
            self._warn_infinite(q, "Prediction sets hold every class for some rows")
            sets = scores[:, :, None] <= q[:, None, :] + 1e-12
        else:
            q = self._thresholds(self.class_weights_)  # one threshold per class
            sets = scores[:, :, None] <= q[None, :, :] + 1e-12
        return self.estimator_.predict(X), sets
