"""Base classes shared by every sktl estimator.

Three kinds of domain-adaptation (DA) estimator exist, and each has a base:

* :class:`BaseDATransformer` maps rows into a space where domains agree;
  its ``fit``/``fit_transform`` accept ``sample_domain``, its ``transform``
  treats new rows as target rows unless told otherwise.
* :class:`BaseReweighter` computes source weights and fits any estimator
  that accepts ``sample_weight`` on the reweighted rows.
* :class:`BaseDAEstimator` is any other DA meta-estimator or predictor
  around a base estimator (boosting, feature augmentation, ...).

All of them request ``sample_domain`` through scikit-learn's metadata
routing by default, so ``Pipeline(...).fit(X, y, sample_domain=sd)`` routes it
with routing enabled, and all of them infer it from masked labels when it is
not passed at all.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ._multisource import is_uniform, source_domain_weights, source_row_weights
from .utils._array_api import asarray, cast, float_dtypes, host, to_numpy
from .utils._blocks import is_dask
from .utils._domain import (
    TARGET_DOMAIN,
    _as_1d,
    check_label_convention,
    check_sample_domain,
    check_y_domain,
    unlabelled_mask,
)


def _estimator_task(estimator):
    """``"classification"``, ``"regression"`` or ``"auto"`` for an estimator."""
    if estimator is None:
        return "auto"
    kind = get_tags(estimator).estimator_type
    return {"classifier": "classification", "regressor": "regression"}.get(kind, "auto")


def _index_rows(X, mask):
    """Rows of ``X`` (array, list, DataFrame or sparse matrix) selected by ``mask``."""
    if sp.issparse(X):
        return X.tocsr()[mask]
    if hasattr(X, "iloc"):
        return _safe_indexing(X, mask)
    return np.asarray(X)[mask]


def _copy_type_tags(tags, estimator, input_tags=False):
    """Make a meta-estimator's tags say what its base estimator is.

    With ``input_tags`` the accepted inputs (sparse, NaN, ...) are copied too,
    for wrappers that hand ``X`` to the base estimator untouched.
    """
    if estimator is None:
        return tags
    inner = get_tags(estimator)
    if input_tags:
        tags.input_tags = inner.input_tags
    else:  # sktl validates X itself: dense and finite
        tags.input_tags.allow_nan = False
    tags.estimator_type = inner.estimator_type
    tags.classifier_tags = inner.classifier_tags
    if tags.classifier_tags is not None and not input_tags:
        tags.classifier_tags.multi_label = False  # one label column per row
    tags.regressor_tags = inner.regressor_tags
    # sample_domain masking is defined for one output column
    tags.target_tags.single_output = True
    tags.target_tags.multi_output = False
    return tags


def _delegates(method):
    """``available_if`` check: the (fitted or unfitted) base estimator has it."""

    def check(self):
        est = getattr(self, "estimator_", None)
        if est is None:
            est = self.estimator
        return est is not None and hasattr(est, method)

    return check


def _fit_params_subset(fit_params, mask, n_samples):
    """Index array-like fit parameters by ``mask``; leave others untouched."""
    out = {}
    for key, value in fit_params.items():
        if value is not None and hasattr(value, "__len__") and not isinstance(value, str) \
                and _num_samples(value) == n_samples:
            out[key] = _safe_indexing(value, mask)
        else:
            out[key] = value
    return out


class DAMixin:
    """Mixin of every domain-adaptation estimator.

    Requests ``sample_domain`` in ``fit`` through metadata routing and owns the
    validation of ``X``, ``y`` and ``sample_domain``.
    """

    __metadata_request__fit = {"sample_domain": True}
    _parameter_constraints: dict = {}

    # Subclasses set these to describe what they need.
    _requires_labelled_source = True  # fit raises when no source row is labelled
    _strict_domains = False  # predict/transform reject unseen *target* codes too
    _accept_sparse = False  # "csr": scipy.sparse rows are taken (as CSR), never densified
    _needs_source_rows = True  # False where a prefit source model stands in for them

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._accept_sparse)
        return tags

    def _check_new_X(self, X):
        """Validate rows seen after fit (same features, finite, dense or sparse as in fit)."""
        return validate_data(self, X, reset=False, dtype=float_dtypes(X),
                             accept_sparse=self._accept_sparse)

    def _task(self):
        return _estimator_task(getattr(self, "estimator", None))

    def _validate_domain_data(self, X, y, sample_domain, *, reset=True, **check_params):
        """Validate training data and store ``domains_``.

        Returns ``X, y, sample_domain`` as arrays. ``y`` is kept as given
        (masked rows included) so the method can decide what to do with them.
        """
        if is_dask(X):  # lazy checks, one pass over the chunks (sktl.utils._dask)
            from .utils._dask import validate_domain_data

            return validate_domain_data(self, X, y, sample_domain, reset=reset)
        if reset:
            self._validate_params()
        check_params.setdefault("dtype", float_dtypes(X))  # X's namespace (array API)
        check_params.setdefault("accept_sparse", self._accept_sparse)
        X = validate_data(self, X, reset=reset, **check_params)
        if not getattr(self, "_array_api_support", False) and not isinstance(X, np.ndarray) \
                and not sp.issparse(X):
            raise TypeError(
                f"{type(self).__name__} computes with NumPy only; got a "
                f"{type(X).__module__}.{type(X).__name__}. Pass NumPy arrays, or use an "
                "estimator with array API support (CORAL, SubspaceAlignment, TCA, KMM).")
        y, sample_domain = host(y), host(sample_domain)
        y, sd = check_y_domain(
            y,
            sample_domain,
            X.shape[0],
            task=self._task(),
            require_labelled_source=self._requires_labelled_source and y is not None,
        )
        if not (sd > 0).any() and self._needs_source_rows:
            raise ValueError(
                "No source rows: "
                + ("sample_domain has no positive code. Mark source rows with positive "
                   "domain codes (e.g. 1)." if sample_domain is not None else
                   "every label in y is masked (-1 / NaN), so every row was taken as a "
                   "target row. Pass sample_domain or the source rows' labels.")
            )
        if reset:
            self.domains_ = np.unique(sd)
        return X, y, sd

    def _predict_domain(self, sample_domain, n_samples):
        """Domain codes for new rows: target unless the caller says otherwise."""
        if sample_domain is None:
            targets = self.domains_[self.domains_ < 0]
            code = targets[-1] if targets.size else TARGET_DOMAIN
            return np.full(n_samples, code, dtype=np.int64)
        sd = check_sample_domain(sample_domain, n_samples)
        unknown = np.setdiff1d(np.unique(sd), self.domains_)
        # An unseen *target* code is fine for methods that treat all targets
        # alike; an unseen source code never is.
        unknown = unknown[unknown > 0] if not self._strict_domains else unknown
        if unknown.size:
            raise ValueError(
                f"Unknown domain codes {unknown.tolist()} in sample_domain: this "
                f"estimator was fitted on domains {self.domains_.tolist()}."
            )
        return sd

    @staticmethod
    def _source_target_masks(sample_domain):
        """Source and target row masks; with no target rows, all rows are target."""
        src = sample_domain > 0
        tgt = sample_domain < 0
        if not tgt.any():
            tgt = np.ones_like(src)
        return src, tgt

    def _source_factors(self, X, sample_domain, always=False):
        """Resolve a ``source_weights`` option into ``source_weights_``.

        Returns the factor of each source domain (a dict) when the sources
        are weighted, None for the pooled default (nothing to apply). An
        estimator without the option is pooled; ``always`` still records its
        ``source_weights_`` (the reweighters all expose it).
        """
        if not (always or hasattr(self, "source_weights")):
            return None
        option = getattr(self, "source_weights", "uniform")
        if is_dask(X):
            if not is_uniform(option):
                raise ValueError(f"{type(self).__name__}: source_weights other than "
                                 '"uniform" needs in-memory X, not a Dask array.')
            return None
        sd = np.asarray(host(sample_domain))
        self.source_weights_ = (source_domain_weights(X, sd, option) if (sd > 0).any()
                                else {})
        return None if is_uniform(option) else self.source_weights_


class BaseDATransformer(DAMixin, TransformerMixin, BaseEstimator):
    """Base class for domain-adaptation transformers.

    Subclasses implement ``_fit(X, y, sample_domain)`` and
    ``_transform(X, sample_domain)``, and may override ``_fit_transform``
    when the fit already produces the training rows' output.
    ``fit_transform`` transforms the training rows as the domains they
    belong to (e.g. CORAL re-colours source rows), while ``transform`` on new
    rows treats them as target rows unless ``sample_domain`` says otherwise.
    """

    __metadata_request__transform = {"sample_domain": True}
    _requires_labelled_source = False

    def fit(self, X, y=None, sample_domain=None):
        """Fit the transformer on source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,), default=None
            Labels, -1 / NaN for unlabelled rows. Used to infer the domains
            when ``sample_domain`` is None, and by supervised methods.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        self._fit(X, y, sd)
        return self

    def fit_transform(self, X, y=None, sample_domain=None):
        """Fit, then transform the training rows as their own domains.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_domain : array-like of shape (n_samples,), default=None

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        if is_dask(X):  # X is a DaskRows: fit, then a lazy transform of the chunks
            from .utils._dask import map_transform

            self._fit(X, y, sd)
            return map_transform(self, X)
        return self._fit_transform(X, y, sd)

    def _fit_transform(self, X, y, sample_domain):
        """Fit on validated data, then transform the training rows."""
        self._fit(X, y, sample_domain)
        return self._transform(X, sample_domain)

    def transform(self, X, sample_domain=None):
        """Transform rows, as target rows unless ``sample_domain`` says otherwise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row; None means every row is a target row.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
        """
        if is_dask(X):
            from .utils._dask import transform

            return transform(self, X, sample_domain)
        check_is_fitted(self)
        X = self._check_new_X(X)
        return self._transform(X, self._predict_domain(host(sample_domain), X.shape[0]))


class _LabelledScoreMixin:
    """``score`` on the labelled rows: accuracy for classifiers, R² for regressors."""

    def score(self, X, y, sample_weight=None):
        """Score on the labelled rows of ``X``.

        Rows whose label is masked (-1 / NaN) are ignored, so a held-out fold
        that mixes source and unlabelled target rows scores the labelled ones.
        The score is the accuracy for a classifier and R² for a regressor.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        from sklearn.metrics import accuracy_score, r2_score

        y = _as_1d(y)
        task = (self._task() if hasattr(self, "_task")
                else _estimator_task(getattr(self, "estimator", None)))
        keep = ~unlabelled_mask(y, task)
        if not keep.any():
            raise ValueError("score needs labelled rows; every label in y is masked.")
        sw = None if sample_weight is None else np.asarray(sample_weight)[keep]
        pred = self.predict(_index_rows(X, keep))
        metric = r2_score if task == "regression" else accuracy_score
        return float(metric(y[keep], pred, sample_weight=sw))


class _DelegatingMixin(_LabelledScoreMixin):
    """Prediction methods delegated to a fitted ``estimator_``."""

    @available_if(_delegates("predict"))
    def predict(self, X):
        """Predict with the fitted base estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(self._prepare(X))

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted base estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(self._prepare(X))

    @available_if(_delegates("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted base estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(self._prepare(X))

    @available_if(_delegates("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted base estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(self._prepare(X))

    @property
    def classes_(self):
        """Class labels of the fitted base estimator."""
        check_is_fitted(self)
        return self.estimator_.classes_

    def _prepare(self, X):
        """Hook: map new rows before they reach ``estimator_``."""
        return X


class LabelledOnly(_DelegatingMixin, MetaEstimatorMixin, BaseEstimator):
    """Fit an estimator on the labelled rows only.

    The final step of a domain-adaptation pipeline sees the source rows and
    the unlabelled target rows; a plain classifier would take the mask value
    -1 for a class. Wrapping it in ``LabelledOnly`` drops every row whose
    label is masked (-1 for classification, NaN for regression) before
    fitting, and passes other fit parameters (e.g. ``sample_weight``) along,
    indexed the same way. :func:`sktl.pipeline.make_da_pipeline` adds it for
    you.

    Parameters
    ----------
    estimator : estimator object
        Any scikit-learn estimator.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import LabelledOnly
    >>> X = np.array([[0.0], [1.0], [0.2], [0.9]])
    >>> clf = LabelledOnly(LogisticRegression()).fit(X, [0, 1, -1, -1])
    >>> clf.classes_
    array([0, 1])
    """

    __metadata_request__fit = {"sample_domain": True}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit ``estimator`` on the rows of ``X`` whose label is not masked.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 / NaN for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Accepted and ignored, so that a no-adaptation pipeline takes the
            same fit arguments (and routed metadata) as an adapted one.
        **fit_params : dict
            Passed to ``estimator.fit``; per-row arrays are indexed too.

        Returns
        -------
        self : object
        """
        if y is None:
            raise ValueError("LabelledOnly requires y to know which rows are labelled.")
        y = _as_1d(y)
        n = _num_samples(X)
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} entries but X has {n} rows.")
        task = _estimator_task(self.estimator)
        keep = ~unlabelled_mask(y, task)
        if not keep.any():
            raise ValueError(
                "No labelled rows to fit on: every label is masked (-1 / NaN)."
            )
        check_label_convention(
            y, None if sample_domain is None else check_sample_domain(sample_domain, n),
            task=task)
        self.estimator_ = clone(self.estimator).fit(
            _index_rows(X, keep), y[keep], **_fit_params_subset(fit_params, keep, n)
        )
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        return self

    def __sklearn_tags__(self):
        return _copy_type_tags(super().__sklearn_tags__(), self.estimator, input_tags=True)


class BaseDAEstimator(DAMixin, _LabelledScoreMixin, MetaEstimatorMixin, BaseEstimator):
    """Base class for domain-adaptation meta-estimators around ``estimator``.

    Its tags mirror the base estimator's (classifier or regressor), so
    ``is_classifier``, stratified CV and the default scorers behave as they
    would for the base estimator.
    """

    def __sklearn_tags__(self):
        return _copy_type_tags(super().__sklearn_tags__(), self.estimator)


def _has_density_ratio(reweighter):
    """``available_if`` check of ``density_ratio``: raise with the reason when absent."""
    reason = type(reweighter)._no_density_ratio
    if reason:
        raise AttributeError(f"{type(reweighter).__name__} has no density_ratio: {reason}")
    return True


class BaseReweighter(_DelegatingMixin, BaseDAEstimator):
    """Base class for instance-reweighting methods.

    Subclasses implement ``_fit_weights(X_source, X_target)`` returning one
    non-negative weight per source row. ``fit`` stores them in ``weights_``
    and, when ``estimator`` is given, fits a clone of it on the labelled rows
    with those weights as ``sample_weight`` (labelled target rows weigh 1).
    With ``estimator=None`` the reweighter only computes weights. A method
    that weighs target rows too overrides ``_sample_weights``. A reweighter
    with a ``source_weights`` parameter (multi-source transfer) then
    multiplies each source domain's weights by that domain's factor
    (:func:`~sktl.source_domain_weights`, stored in ``source_weights_``).

    Reweighters whose weights come from a model of the density ratio
    ``p_target(x) / p_source(x)`` that can be evaluated at any row expose it as
    :meth:`density_ratio` (see :class:`BaseDensityRatioReweighter`); the
    others say why they cannot in ``_no_density_ratio``.
    """

    _no_density_ratio = (
        "its weights are defined on the training source rows only, not as a "
        "function of x."
    )

    @property
    def _requires_labelled_source(self):
        return self.estimator is not None

    def fit(self, X, y=None, sample_domain=None, **fit_params):
        """Compute the source weights and fit the base estimator with them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,), default=None
            Labels, -1 / NaN for unlabelled rows. Required when ``estimator``
            is given.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).
        **fit_params : dict
            Passed to ``estimator.fit``. A ``sample_weight`` given here is
            multiplied with the computed weights.

        Returns
        -------
        self : object
        """
        if self.estimator is not None and y is None:
            raise ValueError(
                f"{type(self).__name__} with an estimator needs y to fit it; pass "
                "labels (-1 / NaN for unlabelled target rows)."
            )
        if is_dask(X):  # lazy weights_, a Dask-aware estimator (sktl.utils._dask)
            from .utils._dask import fit_reweighter

            self._source_factors(X, sample_domain)  # refuses non-uniform weights on Dask
            return fit_reweighter(self, X, y, sample_domain, fit_params)
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        src, tgt = self._source_target_masks(sd)
        if not src.any():
            raise ValueError("No source rows to reweight: sample_domain has no positive code.")
        on_host = isinstance(X, np.ndarray)  # else sparse or array API (torch, CuPy, ...)
        labelled = None if y is None else ~unlabelled_mask(y, self._task())
        sample_weight = self._sample_weights(X, src, tgt, labelled, y=y)
        factors = self._source_factors(X, sd, always=True)
        if factors is not None:  # multi-source: scale each domain's rows
            sample_weight = sample_weight * source_row_weights(sd, factors)
        self.weights_ = sample_weight[src] if on_host or sp.issparse(X) else cast(
            sample_weight[src], X)
        if self.estimator is None:
            return self
        user_sw = fit_params.pop("sample_weight", None)
        if user_sw is not None:
            sample_weight = sample_weight * np.asarray(user_sw, dtype=float)
        keep = labelled
        if not keep.any():
            raise ValueError("No labelled rows to fit the estimator on.")
        self.estimator_ = clone(self.estimator).fit(
            X[asarray(keep, X)],
            y[keep] if on_host else asarray(y[keep], X),
            sample_weight=sample_weight[keep] if on_host else cast(sample_weight[keep], X),
            **_fit_params_subset(fit_params, keep, X.shape[0]),
        )
        return self

    def _sample_weights(self, X, src, tgt, labelled, y=None):
        """Training weight of every row: ``_fit_weights`` on the source, 1 elsewhere.

        ``labelled`` is the mask of labelled rows and ``y`` the labels (both
        None when ``y`` is None); a method whose weights depend on the labels
        (:class:`~sktl.MMDTarS`) overrides this with them.
        """
        sample_weight = np.ones(X.shape[0])
        sample_weight[src] = to_numpy(self._fit_weights(X[asarray(src, X)], X[asarray(tgt, X)]))
        return sample_weight

    @available_if(_has_density_ratio)
    def density_ratio(self, X):
        """Estimated density ratio ``p_target(x) / p_source(x)`` at any rows.

        The fitted ratio model evaluated at new rows, on the scale of
        ``weights_``: ``density_ratio(X_source)`` equals ``weights_`` for the
        training source rows (with the default ``source_weights="uniform"``;
        the domain factors of another option are not part of the ratio). It
        is what weighted conformal prediction and importance-weighted
        validation need at calibration and test points.
        Only reweighters that model the ratio as a function of ``x`` have it;
        :class:`~sktl.KMM`, :class:`~sktl.LDM` and
        :class:`~sktl.BalancedWeighting` weigh the training rows only and
        raise ``AttributeError`` saying so (``hasattr`` is then False).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows at which to evaluate the ratio (any domain).

        Returns
        -------
        ratio : ndarray of shape (n_samples,)
            Non-negative estimate of ``p_target(x) / p_source(x)``, scaled
            like ``weights_`` (mean 1 over the training source rows, before
            any ``max_weight`` clip).
        """
        check_is_fitted(self)
        return self._density_ratio(self._prepare(X))

    def _prepare(self, X):
        return self._check_new_X(X)


class BaseDensityRatioReweighter(BaseReweighter):
    """Base class for reweighters built on a density-ratio model ``r(x)``.

    Subclasses implement ``_fit_ratio(X_source, X_target)``, which fits the
    model (and may return its values at the source rows, to save evaluating
    it again), and ``_ratio(X)``, which evaluates the raw estimate of
    ``p_target(x) / p_source(x)`` at any rows. The weights are that estimate
    at the source rows, rescaled to mean 1 over them (the ratio's mean under
    the source distribution is 1, so this only removes the estimate's own
    scale error) and clipped at ``max_weight`` when the subclass has one.
    :meth:`density_ratio` applies the same scale and clip to new rows.
    """

    _no_density_ratio = None

    def _fit_weights(self, X_source, X_target):
        raw = self._fit_ratio(X_source, X_target)  # may return r at the source rows
        raw = np.asarray(self._ratio(X_source) if raw is None else raw, dtype=float)
        total = raw.sum()
        if not np.isfinite(total) or total <= 0:
            raise ValueError(
                f"{type(self).__name__} estimated a density ratio that is "
                f"{'zero' if total == 0 else 'not finite'} on every source row: the "
                "domains barely overlap for this model. Check the feature scaling, "
                "widen the kernel, or clip with max_weight."
            )
        self._ratio_scale = len(raw) / total
        return self._scaled(raw)

    def _scaled(self, raw):
        ratio = np.asarray(raw, dtype=float) * self._ratio_scale
        max_weight = getattr(self, "max_weight", None)
        return ratio if max_weight is None else np.minimum(ratio, max_weight)

    def _density_ratio(self, X):
        return self._scaled(self._ratio(X))
