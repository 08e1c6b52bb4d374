"""Scorers for model selection in domain adaptation.

A scorer is called as ``scorer(estimator, X, y, sample_domain=None)`` like any
scikit-learn scorer and asks for ``sample_domain`` through metadata routing.
Without routing, target rows are recognised by their masked labels.
"""

import inspect

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.dummy import DummyClassifier
from sklearn.metrics import get_scorer
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import _num_samples

from ..model_selection._masking import _fit_with_domain
from ..utils._domain import _as_1d, check_sample_domain, infer_sample_domain, unlabelled_mask


def _accepts_sample_domain(method):
    try:
        return "sample_domain" in inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def _features(estimator, X, sample_domain):
    """Run ``X`` through a pipeline's steps before the final estimator.

    Each step that takes ``sample_domain`` in ``transform`` is told the rows'
    domains, so source rows are mapped as source rows (e.g. CORAL re-colours
    them) whether or not metadata routing is enabled. Returns the final
    estimator and the features it sees; a non-pipeline is returned with ``X``.
    """
    if not isinstance(estimator, Pipeline):
        return estimator, X
    Z = X
    for _, step in estimator.steps[:-1]:
        if step in (None, "passthrough"):
            continue
        if _accepts_sample_domain(step.transform):
            Z = step.transform(Z, sample_domain=sample_domain)
        else:
            Z = step.transform(Z)
    return estimator.steps[-1][1], Z


def _get_scorer(scoring):
    return get_scorer(scoring) if isinstance(scoring, str) else scoring


class _BaseDAScorer:
    """Common plumbing: metadata request and domain resolution."""

    def get_metadata_routing(self):
        """Request ``sample_domain`` for ``score``.

        Returns
        -------
        routing : MetadataRequest
        """
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="sample_domain", alias=True)
        return request

    @staticmethod
    def _domains(X, y, sample_domain):
        if sample_domain is not None:
            return check_sample_domain(sample_domain, _num_samples(X))
        if y is None:
            raise ValueError(
                "The scorer needs the domains: pass sample_domain (enable "
                "metadata routing) or y with masked target labels."
            )
        return infer_sample_domain(y)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class PredictionEntropyScorer(_BaseDAScorer):
    """Negative mean prediction entropy on the target rows; no labels needed.

    A model that is confident on the target tends to have adapted (Morerio,
    Cavazza & Murino, 2018). The score is ``-mean(H(p(y | x)))`` over target
    rows, so greater is better as scikit-learn expects. It assumes the model
    is reasonably calibrated: an over-confident model can score well and be
    wrong, so use it to compare hyper-parameters of one method, not methods.

    Parameters
    ----------
    eps : float, default=1e-12
        Probabilities are clipped to ``[eps, 1]`` before taking logs.

    References
    ----------
    .. [1] P. Morerio, J. Cavazza and V. Murino. "Minimal-Entropy Correlation
       Alignment for Unsupervised Deep Domain Adaptation". ICLR 2018.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import PredictionEntropyScorer
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> PredictionEntropyScorer()(pipe, X, y, sample_domain=sd) <= 0
    True
    """

    def __init__(self, eps=1e-12):
        self.eps = eps

    def __call__(self, estimator, X, y=None, sample_domain=None):
        sd = self._domains(X, y, sample_domain)
        target = sd < 0
        if not target.any():
            raise ValueError("PredictionEntropyScorer needs target rows (negative sample_domain).")
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"PredictionEntropyScorer needs predict_proba; {type(estimator).__name__} has none."
            )
        proba = np.clip(estimator.predict_proba(_safe_indexing(X, target)), self.eps, 1.0)
        return float(np.mean(np.sum(proba * np.log(proba), axis=1)))


class SupervisedScorer(_BaseDAScorer):
    """Score on the labelled target rows, for when a few target labels exist.

    Only rows that are target rows (negative ``sample_domain``) *and* carry a
    label are scored, with any scikit-learn scoring. It needs
    ``sample_domain``, passed through metadata routing, since labelled target
    rows cannot be told from source rows by their labels.

    Parameters
    ----------
    scoring : str or callable, default="accuracy"
        A scikit-learn scoring name or scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import SupervisedScorer
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0)
    >>> clf = LogisticRegression().fit(X[sd > 0], y[sd > 0])
    >>> 0 <= SupervisedScorer()(clf, X, y, sample_domain=sd) <= 1
    True
    """

    def __init__(self, scoring="accuracy"):
        self.scoring = scoring

    def __call__(self, estimator, X, y, sample_domain=None):
        if sample_domain is None:
            raise ValueError(
                "SupervisedScorer needs sample_domain to find the labelled target "
                "rows: enable metadata routing (sklearn.set_config("
                "enable_metadata_routing=True)) and pass sample_domain to fit."
            )
        y = _as_1d(y)
        sd = check_sample_domain(sample_domain, _num_samples(X))
        keep = (sd < 0) & ~unlabelled_mask(y)
        if not keep.any():
            raise ValueError("SupervisedScorer found no labelled target rows to score.")
        scorer = get_scorer(self.scoring) if isinstance(self.scoring, str) else self.scoring
        return float(scorer(estimator, _safe_indexing(X, keep), y[keep]))


class ImportanceWeightedScorer(_BaseDAScorer):
    """Importance-weighted score on the labelled source rows; no target labels.

    Under covariate shift (``p_s(y | x) = p_t(y | x)``) the target risk equals
    the source risk weighted by ``w(x) = p_t(x) / p_s(x)`` (Sugiyama, Krauledat
    & Müller, 2007). The weights come from a domain classifier
    (:func:`sktl._instance.domain_classifier_weights`) fitted on the rows being
    scored. The estimate is unbiased only under covariate shift and has high
    variance when the domains barely overlap (large weights).

    Parameters
    ----------
    scoring : str or callable, default="accuracy"
        Scikit-learn scoring whose per-sample form is weighted; the scorer
        must accept ``sample_weight``.
    domain_classifier : classifier with ``predict_proba``, default=None
        Defaults to ``LogisticRegression()``.
    max_weight : float, default=None
        Clip the (mean-one) weights at this value to limit the variance.

    References
    ----------
    .. [1] M. Sugiyama, M. Krauledat and K.-R. Müller. "Covariate Shift
       Adaptation by Importance Weighted Cross Validation". JMLR 8, 2007.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import ImportanceWeightedScorer
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> clf = LogisticRegression().fit(X[sd > 0], y[sd > 0])
    >>> 0 <= ImportanceWeightedScorer()(clf, X, y, sample_domain=sd) <= 1
    True
    """

    def __init__(self, scoring="accuracy", domain_classifier=None, max_weight=None):
        self.scoring = scoring
        self.domain_classifier = domain_classifier
        self.max_weight = max_weight

    def __call__(self, estimator, X, y, sample_domain=None):
        from .._instance import domain_classifier_weights

        y = _as_1d(y)
        sd = self._domains(X, y, sample_domain)
        source = (sd > 0) & ~unlabelled_mask(y)
        target = sd < 0
        if not source.any() or not target.any():
            raise ValueError(
                "ImportanceWeightedScorer needs labelled source rows and target rows."
            )
        Xs, Xt = _safe_indexing(X, source), _safe_indexing(X, target)
        w = domain_classifier_weights(
            np.asarray(Xs, dtype=float), np.asarray(Xt, dtype=float),
            self.domain_classifier, self.max_weight,
        )
        final, Zs = _features(estimator, Xs, sd[source])
        return float(_get_scorer(self.scoring)(final, Zs, y[source], sample_weight=w))


class CircularValidation(_BaseDAScorer):
    """Reverse (circular) validation: transfer back from target to source.

    The fitted model pseudo-labels the target rows; a fresh clone is then
    trained with the roles swapped (pseudo-labelled target rows as the source,
    the source rows unlabelled as the target) and scored on the true source
    labels. A model whose target predictions are good lets the reverse model
    recover the source labels (Bruzzone & Marconcini, 2010; Zhong et al.,
    2010). It assumes the adaptation is roughly symmetric and costs one
    extra fit per call. The estimator must train on masked labels (-1 /
    NaN), as sktl estimators and :func:`~sktl.pipeline.make_da_pipeline`
    pipelines do.

    Parameters
    ----------
    scoring : str or callable, default="accuracy"
        How the reverse model is scored on the source rows.

    References
    ----------
    .. [1] L. Bruzzone and M. Marconcini. "Domain Adaptation Problems: A DASVM
       Classification Technique and a Circular Validation Strategy". IEEE
       TPAMI 32(5), 2010.
    .. [2] E. Zhong, W. Fan, Q. Yang, O. Verscheure and J. Ren. "Cross
       Validation Framework to Choose amongst Models and Datasets for Transfer
       Learning". ECML PKDD 2010.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import CircularValidation
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> 0 <= CircularValidation()(pipe, X, y, sample_domain=sd) <= 1
    True
    """

    def __init__(self, scoring="accuracy"):
        self.scoring = scoring

    def __call__(self, estimator, X, y, sample_domain=None):
        y = _as_1d(y)
        sd = self._domains(X, y, sample_domain)
        source = (sd > 0) & ~unlabelled_mask(y)
        target = sd < 0
        if not source.any() or not target.any():
            raise ValueError("CircularValidation needs labelled source rows and target rows.")
        rows = np.flatnonzero(source | target)
        X_rev = _safe_indexing(X, rows)
        pseudo = np.asarray(estimator.predict(_safe_indexing(X, target)))
        if is_regressor(estimator):
            y_rev = np.full(len(rows), np.nan)
        else:
            kind = pseudo.dtype if pseudo.dtype.kind in "iuf" else object
            y_rev = np.full(len(rows), -1, dtype=kind)
        is_t = target[rows]
        y_rev[is_t] = pseudo
        sd_rev = np.where(is_t, 1, -1)
        Xs = _safe_indexing(X, source)
        if not is_regressor(estimator) and len(np.unique(pseudo)) < 2:
            # One pseudo-class: the reverse model can only predict that class.
            constant = DummyClassifier(strategy="constant", constant=pseudo[0])
            return float(_get_scorer(self.scoring)(constant.fit(Xs, pseudo[: 1].repeat(len(Xs))),
                                                   Xs, y[source]))
        reverse = _fit_with_domain(clone(estimator), X_rev, y_rev, sd_rev)
        # The source rows are the reverse problem's target rows.
        final, Zs = _features(reverse, Xs, np.full(len(Xs), -1))
        return float(_get_scorer(self.scoring)(final, Zs, y[source]))


class DeepEmbeddedValidation(_BaseDAScorer):
    """Deep embedded validation (DEV): importance-weighted source loss with a control variate.

    The features are the output of a pipeline's steps before the final
    estimator (the raw ``X`` for a non-pipeline). A domain classifier fitted
    on those features gives density ratios ``w`` for the labelled source rows;
    the per-row loss ``l`` of the final estimator is weighted, and the control
    variate ``eta = -Cov(w l, w) / Var(w)`` (``E[w] = 1``) reduces the variance:
    ``risk = mean(w l) + eta mean(w) - eta``. The score is ``-risk``. Like
    :class:`ImportanceWeightedScorer` it assumes covariate shift *in the
    feature space* (You et al., 2019).

    Parameters
    ----------
    loss : {"log_loss", "zero_one", "squared_error"} or None, default=None
        Per-row loss; None uses log loss for classifiers with
        ``predict_proba``, zero-one loss for other classifiers and squared
        error for regressors.
    domain_classifier : classifier with ``predict_proba``, default=None
        Defaults to ``LogisticRegression()``.
    max_weight : float, default=None
        Clip the weights at this value.

    References
    ----------
    .. [1] K. You, X. Wang, M. Long and M. I. Jordan. "Towards Accurate Model
       Selection in Deep Unsupervised Domain Adaptation". ICML 2019.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import DeepEmbeddedValidation
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> DeepEmbeddedValidation()(pipe, X, y, sample_domain=sd) <= 0
    True
    """

    _LOSSES = ("log_loss", "zero_one", "squared_error")

    def __init__(self, loss=None, domain_classifier=None, max_weight=None):
        self.loss = loss
        self.domain_classifier = domain_classifier
        self.max_weight = max_weight

    def _row_loss(self, final, Z, y):
        loss = self.loss
        if loss is None:
            if is_regressor(final):
                loss = "squared_error"
            else:
                loss = "log_loss" if hasattr(final, "predict_proba") else "zero_one"
        if loss not in self._LOSSES:
            raise ValueError(f"loss must be one of {self._LOSSES} or None; got {loss!r}.")
        if loss == "squared_error":
            return (np.asarray(final.predict(Z), dtype=float) - y.astype(float)) ** 2
        if loss == "zero_one":
            return (np.asarray(final.predict(Z)) != y).astype(float)
        proba = np.clip(final.predict_proba(Z), 1e-12, 1.0)
        classes = list(final.classes_)
        idx = np.array([classes.index(v) if v in classes else -1 for v in y])
        out = np.full(len(y), -np.log(1e-12))
        ok = idx >= 0
        out[ok] = -np.log(proba[np.flatnonzero(ok), idx[ok]])
        return out

    def __call__(self, estimator, X, y, sample_domain=None):
        from .._instance import domain_classifier_weights

        y = _as_1d(y)
        sd = self._domains(X, y, sample_domain)
        source = (sd > 0) & ~unlabelled_mask(y)
        target = sd < 0
        if not source.any() or not target.any():
            raise ValueError("DeepEmbeddedValidation needs labelled source rows and target rows.")
        final, Zs = _features(estimator, _safe_indexing(X, source), sd[source])
        _, Zt = _features(estimator, _safe_indexing(X, target), sd[target])
        w = domain_classifier_weights(
            np.asarray(Zs, dtype=float), np.asarray(Zt, dtype=float),
            self.domain_classifier, self.max_weight,
        )
        wl = w * self._row_loss(final, Zs, y[source])
        var = np.var(w, ddof=1) if len(w) > 1 else 0.0
        eta = -np.cov(wl, w)[0, 1] / var if var > 0 else 0.0
        return float(-(wl.mean() + eta * w.mean() - eta))
