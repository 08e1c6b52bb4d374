"""What the weighted conformal predictors and the shift-aware calibrator share.

All three hold out labelled source rows for calibration and weigh those rows
by how target-like they are: by the density ratio ``p_t(x) / p_s(x)`` under a
covariate shift, or by the class-prior ratio ``p_t(y) / p_s(y)`` under a label
shift. This module owns the split, the weighter and the weighted quantile.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import BaseDAEstimator, _copy_type_tags, _DelegatingMixin, _fit_params_subset
from ..exceptions import WeakCalibrationWarning
from ..utils._domain import unlabelled_mask
from ..utils._sparse import vstack

# relative slack of the weighted-quantile comparison, so that exact ranks
# such as ceil(0.9 * (n + 1)) are not lost to rounding
_RTOL = 1e-10


def _effective_sample_size(weights):
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of non-negative weights."""
    weights = np.asarray(weights, dtype=float)
    top = weights.max() if weights.size else 0.0
    if not top > 0:
        return 0.0
    weights = weights / top  # scale-free; huge ratios (e.g. 1e200) would overflow when squared
    return float(weights.sum() ** 2 / (weights**2).sum())


def _check_levels(confidence_level):
    """``confidence_level`` (a float or a list of them) as a 1-d array in (0, 1)."""
    levels = np.atleast_1d(np.asarray(confidence_level, dtype=float))
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(
            "confidence_level must be a float in (0, 1) or a non-empty list of them; "
            f"got {confidence_level!r}."
        )
    return levels


def _weighted_thresholds(sorted_scores, cum_weights, test_weights, levels):
    """Weighted split-conformal thresholds with the test point's mass at +inf.

    For a test weight ``w`` the threshold at level ``1 - alpha`` is the
    ``1 - alpha`` quantile of ``sum_i p_i delta(V_i) + p_test delta(+inf)``
    with ``p_i = w_i / (W + w)`` and ``p_test = w / (W + w)`` (Tibshirani et
    al., 2019, eq. 7): the smallest calibration score whose cumulative weight
    reaches ``(1 - alpha) (W + w)``, or ``+inf`` when none does.

    Returns an array of shape ``(len(test_weights), len(levels))``.
    """
    total = cum_weights[-1] + np.asarray(test_weights, dtype=float)
    need = levels[None, :] * total[:, None] - _RTOL * total[:, None]
    k = np.searchsorted(cum_weights, need.ravel(), side="left").reshape(need.shape)
    out = np.full(k.shape, np.inf)
    finite = k < len(sorted_scores)
    out[finite] = sorted_scores[k[finite]]
    return out


def _default_weighter(n_smallest=np.inf):
    """A domain classifier whose regularisation is chosen by held-out log-loss.

    Its odds are the density ratio only when its probabilities are
    calibrated; an unregularised one separates high-dimensional domains
    perfectly and gives a handful of rows all the weight. With fewer than
    ten rows in a domain (``n_smallest``) there is nothing to cross-validate
    on and the plain logistic regression is used.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from .._instance import DiscriminativeReweighter

    if n_smallest < 10:
        return DiscriminativeReweighter()
    return DiscriminativeReweighter(domain_classifier=GridSearchCV(
        LogisticRegression(max_iter=1000), {"C": np.logspace(-4, 0, 5)},
        scoring="neg_log_loss", cv=StratifiedKFold(3, shuffle=True, random_state=0)))


_SPLIT_CONSTRAINTS = {
    "calibration_size": [Interval(RealNotInt, 0, 1, closed="neither"),
                         Interval(Integral, 1, None, closed="left")],
    "prefit": ["boolean"],
    "random_state": ["random_state"],
}
_WEIGHTER_CONSTRAINT = [StrOptions({"auto", "uniform"}), HasMethods(["fit"]), callable]


class _ShiftCalibrationBase(BaseDAEstimator):
    """Hold out calibration rows, fit the estimator and the importance weights.

    Subclasses set ``_kind`` ("classification" or "regression"), implement
    ``_default_estimator`` and call :meth:`_fit_split`, then
    :meth:`_covariate_weights` or :meth:`_class_weights`.
    """

    _kind = "regression"
    _accept_sparse = "csr"

    def _task(self):
        return self._kind

    def _shift(self):
        return getattr(self, "shift", "covariate")

    def _base_estimator(self):
        return self._default_estimator() if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        return _copy_type_tags(tags, self._base_estimator())

    def _prepare(self, X):
        return self._check_new_X(X)

    # ------------------------------------------------------------------ split
    def _fit_split(self, X, y, sd, fit_params):
        """Fit ``estimator_``; return ``(cal, train, rest)``.

        ``cal`` and ``train`` index the calibration and training rows
        (``train`` is empty with ``prefit=True``); ``rest`` masks the rows left
        for fitting the weighter: every row except the calibration rows (with
        ``prefit=True``, every row).
        """
        labelled = ~unlabelled_mask(y, self._task())
        pool = np.flatnonzero((sd > 0) & labelled)
        if self.prefit:
            try:
                check_is_fitted(self.estimator)
            except (NotFittedError, TypeError) as exc:
                raise ValueError(
                    f"prefit=True needs a fitted estimator; {self.estimator!r} is not "
                    "fitted (or is None). Fit it first, or use prefit=False."
                ) from exc
            self.estimator_ = self.estimator
            cal, train = pool, pool[:0]
        else:
            cal, train = self._calibration_split(pool, y)
            train_mask = np.zeros(X.shape[0], dtype=bool)
            train_mask[train] = True
            self.estimator_ = clone(self._base_estimator()).fit(
                X[train], y[train], **_fit_params_subset(fit_params, train_mask, X.shape[0])
            )
        rest = np.ones(X.shape[0], dtype=bool)
        if not self.prefit:
            rest[cal] = False
        self.n_calibration_ = len(cal)
        return cal, train, rest

    def _calibration_split(self, pool, y):
        n = len(pool)
        size = self.calibration_size
        n_cal = size if isinstance(size, Integral) else int(np.ceil(size * n))
        if n < 2 or n_cal >= n:
            raise ValueError(
                f"calibration_size={size!r} leaves no labelled source row to fit the "
                f"estimator on ({n} labelled source row(s)); lower calibration_size, "
                "add labelled rows, or fit the estimator yourself and use prefit=True."
            )
        rng = check_random_state(self.random_state)
        stratify = None
        if self._kind == "classification":
            _, counts = np.unique(y[pool], return_counts=True)
            if counts.min() >= 2 and len(counts) <= min(n_cal, n - n_cal):
                stratify = y[pool]
        train, cal = train_test_split(pool, test_size=n_cal, stratify=stratify,
                                      random_state=rng)
        return np.sort(cal), np.sort(train)

    # ---------------------------------------------------------------- weights
    def _resolve_weighter(self, n_smallest=np.inf):
        weighter = self.weighter
        if isinstance(weighter, str):
            if weighter == "uniform":
                return None
            if self._shift() == "label":
                try:  # sktl's label-shift estimators (EM / BBSE on the base estimator)
                    from .._label_shift import LabelShiftClassifier
                except ImportError:
                    raise ValueError(
                        "shift='label' needs the class-prior ratios: pass weighter=a "
                        "label-shift estimator (an object whose fit sets class_weights_), "
                        "or the class weights p_target(y) / p_source(y) themselves."
                    ) from None
                return LabelShiftClassifier(clone(self._base_estimator()))
            return _default_weighter(n_smallest)
        return weighter

    def _covariate_weights(self, X, sd, cal, rest):
        """Fit the density-ratio model; return the calibration rows' weights.

        Sets ``weighter_`` (a fitted model, a callable, or None for uniform
        weights) and ``_test_weight`` (None when the ratio is evaluated at each
        test row, else the constant used for every test row).
        """
        self._test_weight = None
        tgt = sd < 0
        weighter = self._resolve_weighter(min((rest & (sd > 0)).sum(), tgt.sum()))
        if weighter is None or not tgt.any():
            self.weighter_ = None
            return np.ones(len(cal))
        if callable(weighter) and not hasattr(weighter, "fit"):
            self.weighter_ = weighter
            return self._ratio_at(X[cal])
        from .._instance import BalancedWeighting

        if isinstance(weighter, BalancedWeighting):
            raise TypeError(
                "weighter BalancedWeighting weighs whole domains against labelled target "
                "rows; it does not estimate p_target(x) / p_source(x). Pass a density-ratio "
                "model (DiscriminativeReweighter, KLIEP, ULSIF, RULSIF, "
                "NearestNeighborReweighter, KernelDensityReweighter, GaussianReweighter), "
                "KMM or LDM, or a callable ratio(X)."
            )
        weighter = clone(weighter)
        if "estimator" in weighter.get_params(deep=False):
            weighter.set_params(estimator=None)  # only the weights are needed
        if hasattr(weighter, "density_ratio"):
            self.weighter_ = weighter.fit(X[rest], sample_domain=sd[rest])
            return self._ratio_at(X[cal])
        # a reweighter without a ratio model weighs its training source rows
        # only: fit it on the calibration rows against the target rows, and
        # give every test row the largest calibration weight (an upper bound
        # on its mass, so the intervals are conservative)
        Xf = vstack([X[cal], X[tgt]])
        sdf = np.r_[np.ones(len(cal), dtype=np.int64), sd[tgt]]
        self.weighter_ = weighter.fit(Xf, sample_domain=sdf)
        if not hasattr(self.weighter_, "weights_"):
            raise TypeError(
                f"weighter {type(weighter).__name__} has neither density_ratio nor "
                "weights_ after fit; pass an sktl reweighter, a callable density ratio"
                + (", or set shift='label' for a label-shift estimator."
                   if hasattr(self, "shift") else ".")
            )
        weights = self._check_weights(self.weighter_.weights_, len(cal), "weights_")
        self._test_weight = float(weights.max())
        return weights

    def _ratio_at(self, X):
        """Density-ratio weight of each row of ``X`` (validated array)."""
        n = X.shape[0]
        if self.weighter_ is None:
            return np.ones(n)
        if self._test_weight is not None:
            return np.full(n, self._test_weight)
        fn = getattr(self.weighter_, "density_ratio", self.weighter_)
        return self._check_weights(fn(X), n, "density ratio")

    @staticmethod
    def _check_weights(weights, n, what):
        weights = np.asarray(weights, dtype=float).reshape(-1)
        if weights.shape != (n,):
            raise ValueError(f"The weighter's {what} has {weights.size} values for {n} rows.")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                f"The weighter's {what} must be finite and non-negative; got values in "
                f"[{np.nanmin(weights):g}, {np.nanmax(weights):g}]."
            )
        return weights

    def _class_weights(self, X, y, sd, rest, classes):
        """``p_t(y) / p_s(y)`` for each of ``classes`` (label-shift mode)."""
        weighter = self._resolve_weighter()
        if weighter is None:
            self.weighter_ = None
            weights, known = np.ones(len(classes)), classes
        elif hasattr(weighter, "fit"):
            est = clone(weighter).fit(X[rest], y[rest], sample_domain=sd[rest])
            if not hasattr(est, "class_weights_"):
                raise TypeError(
                    f"weighter {type(weighter).__name__} has no class_weights_ after fit; "
                    "shift='label' needs a label-shift estimator (or the class weights)."
                )
            self.weighter_ = est
            weights = np.asarray(est.class_weights_, dtype=float).reshape(-1)
            known = np.asarray(getattr(est, "classes_", classes))
        else:
            self.weighter_ = None
            if isinstance(weighter, dict):
                known = np.array(list(weighter.keys()))
                weights = np.asarray(list(weighter.values()), dtype=float)
            else:
                weights = np.asarray(weighter, dtype=float).reshape(-1)
                known = classes
        if len(known) != len(weights):
            raise ValueError(
                f"Got {len(weights)} class weights for {len(known)} classes; give one "
                f"weight per class of {np.asarray(classes).tolist()}."
            )
        out = np.empty(len(classes))
        for i, c in enumerate(classes):
            hit = np.flatnonzero(known == c)
            if not hit.size:
                raise ValueError(f"No class weight for class {c}; the weights cover "
                                 f"{np.asarray(known).tolist()}.")
            out[i] = weights[hit[0]]
        if not np.all(np.isfinite(out)) or np.any(out < 0) or not np.any(out > 0):
            raise ValueError(f"Class weights must be finite, non-negative and not all zero; "
                             f"got {out.tolist()}.")
        return out


class _WeightedConformalBase(_DelegatingMixin, _ShiftCalibrationBase):
    """Weighted split conformal prediction: stores the scores, gives thresholds.

    ``predict``, ``predict_proba``, ... are the base estimator's.
    """

    _prepare = _ShiftCalibrationBase._prepare

    def _store_calibration(self, scores, weights):
        if weights.sum() <= 0:
            raise ValueError(
                "Every calibration row has weight 0: the weighter found no calibration "
                "row that looks like the target. Use another weighter or more rows."
            )
        self.conformity_scores_ = np.asarray(scores, dtype=float)
        self.calibration_weights_ = np.asarray(weights, dtype=float)
        order = np.argsort(self.conformity_scores_, kind="stable")
        self._sorted_scores = self.conformity_scores_[order]
        self._cum_weights = np.cumsum(self.calibration_weights_[order])
        self.effective_sample_size_ = _effective_sample_size(weights)

    def _thresholds(self, test_weights):
        return _weighted_thresholds(self._sorted_scores, self._cum_weights, test_weights,
                                    self.confidence_levels_)

    def _warn_infinite(self, q, what):
        """Warn when some thresholds are infinite (intervals infinite / sets full)."""
        frac = np.isinf(q).mean(axis=0)
        if not np.any(frac > 0):
            return
        parts = ", ".join(f"{100 * f:.0f}% at level {lvl:g}" for f, lvl in
                          zip(frac, self.confidence_levels_) if f > 0)
        warnings.warn(
            f"{what} ({parts}): the importance weights leave "
            "the calibration rows too little mass (effective sample size "
            f"{self.effective_sample_size_:.1f} of {self.n_calibration_} calibration rows). "
            "Lower confidence_level, add labelled source rows, or bound the weights "
            "(e.g. DiscriminativeReweighter(max_weight=...)).",
            WeakCalibrationWarning,
            stacklevel=3,
        )


_CONFORMAL_CONSTRAINTS = {
    "confidence_level": [Interval(Real, 0, 1, closed="neither"), "array-like"],
    **_SPLIT_CONSTRAINTS,
}
