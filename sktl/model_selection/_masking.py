"""Keep target labels out of training during cross-validation."""

import inspect

from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import _num_samples

from .._base import _copy_type_tags, _DelegatingMixin, _estimator_task
from ..utils._domain import check_sample_domain, mask_target_labels


def _fit_with_domain(estimator, X, y, sample_domain, **fit_params):
    """Fit ``estimator`` passing ``sample_domain`` where it can arrive.

    It is passed when the estimator's ``fit`` names it or when metadata
    routing is enabled (a Pipeline then routes it); otherwise the domains are
    left to be inferred from the masked labels of ``y``.
    """
    try:
        named = "sample_domain" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):  # pragma: no cover
        named = False
    if named or get_config().get("enable_metadata_routing", False):
        return estimator.fit(X, y, sample_domain=sample_domain, **fit_params)
    return estimator.fit(X, y, **fit_params)


class MaskTargetLabels(_DelegatingMixin, MetaEstimatorMixin, BaseEstimator):
    """Fit an estimator with the labels of the target rows hidden.

    A cross-validation splitter cannot change ``y``, so when a benchmark has
    labelled target rows, they would reach training. Wrap the model in
    ``MaskTargetLabels``: ``fit`` replaces every target row's label by the
    mask (-1, NaN for regression) before fitting, so the model trains as in
    unsupervised domain adaptation, while the validation fold keeps its
    labels for :class:`~sktl.metrics.SupervisedScorer`. This measures the
    true target score of an unsupervised method, e.g. to check a label-free
    scorer against it.

    It needs ``sample_domain`` to know the target rows: enable metadata
    routing (``sklearn.set_config(enable_metadata_routing=True)``) and pass it
    to ``GridSearchCV.fit`` / ``cross_validate(params=...)``.

    Parameters
    ----------
    estimator : estimator object
        The model (e.g. a :func:`~sktl.pipeline.make_da_pipeline` pipeline).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import CORAL
    >>> from sktl.datasets import make_domain_shift
    >>> from sktl.model_selection import MaskTargetLabels
    >>> from sktl.pipeline import make_da_pipeline
    >>> X, y, sd = make_domain_shift(random_state=0)
    >>> model = MaskTargetLabels(make_da_pipeline(CORAL(), LogisticRegression()))
    >>> model.fit(X, y, sample_domain=sd).predict(X[sd < 0]).shape
    (100,)
    """

    __metadata_request__fit = {"sample_domain": True}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Mask the target labels, then fit a clone of ``estimator``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_domain : array-like of shape (n_samples,)
            Domain code of each row (positive = source, negative = target).
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : object
        """
        if sample_domain is None:
            raise ValueError(
                "MaskTargetLabels needs sample_domain to find the target rows: enable "
                "metadata routing and pass sample_domain to fit."
            )
        if y is None:
            raise ValueError("MaskTargetLabels needs y.")
        sd = check_sample_domain(sample_domain, _num_samples(X))
        y_masked = mask_target_labels(y, sd, task=_estimator_task(self.estimator))
        self.estimator_ = _fit_with_domain(clone(self.estimator), X, y_masked, sd, **fit_params)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        return self

    def __sklearn_tags__(self):
        return _copy_type_tags(super().__sklearn_tags__(), self.estimator)
