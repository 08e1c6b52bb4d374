"""Scorers for model selection in domain adaptation.

A scorer is called as ``scorer(estimator, X, y, sample_domain=None)`` like any
scikit-learn scorer and asks for ``sample_domain`` through metadata routing.
Without routing, target rows are recognised by their masked labels.
"""

import numpy as np
from sklearn.metrics import get_scorer
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import _num_samples

from ..utils._domain import _as_1d, check_sample_domain, infer_sample_domain, unlabelled_mask


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
        scorer = get_scorer(self.scoring) if isinstance(self.scoring, str) else self.scoring
        return float(scorer(estimator, Xs, y[source], sample_weight=w))
