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


def _deployed_features(estimator, X):
    """What the final estimator sees for rows at prediction time.

    A fitted pipeline maps new rows as *target* rows; that is the function
    whose target risk a scorer estimates, so source rows are mapped the same
    way (under covariate shift, ``E_t[loss(f(x), y)] = E_s[w(x) loss(f(x), y)]``
    for the deployed ``f``).
    """
    steps = getattr(estimator, "steps", None)
    if steps and len(steps) > 1:
        return np.asarray(estimator[:-1].transform(X), float)
    return np.asarray(X, float)


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
    wrong. **Not recommended for choosing between methods** or against no
    adaptation: on sktl's 58-task selection benchmark its pick was worse than
    no adaptation on 37 % (development) and 50 % (confirmation) of the
    classification tasks (``benchmarks/results/selection.md``); prefer
    :class:`CircularValidation` or
    :class:`~sktl.model_selection.AdaptationSearchCV`.

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
    """Importance-weighted source score: an estimate of the target score.

    Under covariate shift the target risk equals the source risk weighted by
    the density ratio ``p_t(x) / p_s(x)`` (Sugiyama, Krauledat & Müller,
    2007). The ratio is estimated on the held-out fold by a domain
    classifier (see :func:`sktl._instance.domain_classifier_weights`) and the
    labelled source rows are scored with those weights. Assumes covariate
    shift (``p(y | x)`` shared) and overlapping supports; noisy when the
    weights are extreme, which ``max_weight`` tempers. On real tables the
    domains are often nearly separable and the weights degenerate: on sktl's
    selection benchmark its pick harmed 17–21 % of the tasks
    (``benchmarks/results/selection.md``); use it for covariate shift with
    overlapping domains only.

    Parameters
    ----------
    scoring : str or callable, default=None
        Scikit-learn scoring that accepts ``sample_weight``; None means
        "accuracy" for classifiers and "r2" for regressors.
    domain_classifier : classifier, default=None
        Defaults to ``LogisticRegression()``.
    max_weight : float, default=20.0
        Clip of the (mean-1) weights.

    References
    ----------
    .. [1] M. Sugiyama, M. Krauledat and K.-R. Müller. "Covariate Shift
       Adaptation by Importance Weighted Cross Validation". JMLR 8, 2007.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.metrics import ImportanceWeightedScorer
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(LogisticRegression()).fit(X, y)
    >>> 0 <= ImportanceWeightedScorer()(pipe, X, y, sample_domain=sd) <= 1
    True
    """

    def __init__(self, scoring=None, domain_classifier=None, max_weight=20.0):
        self.scoring = scoring
        self.domain_classifier = domain_classifier
        self.max_weight = max_weight

    def __call__(self, estimator, X, y, sample_domain=None):
        from sklearn.base import is_regressor

        from .._instance import domain_classifier_weights

        y = _as_1d(y)
        sd = self._domains(X, y, sample_domain)
        src = (sd > 0) & ~unlabelled_mask(y)
        tgt = sd < 0
        if not src.any() or tgt.sum() < 2:
            raise ValueError(
                "ImportanceWeightedScorer needs labelled source rows and at least 2 "
                "target rows in the validation fold."
            )
        Xs, Xt = np.asarray(_safe_indexing(X, src), float), np.asarray(_safe_indexing(X, tgt),
                                                                       float)
        w = domain_classifier_weights(Xs, Xt, self.domain_classifier, self.max_weight)
        name = self.scoring or ("r2" if is_regressor(estimator) else "accuracy")
        scorer = get_scorer(name) if isinstance(name, str) else name
        # the deployed model (new rows are target rows) on reweighted source rows
        return float(scorer(estimator, _safe_indexing(X, src), y[src], sample_weight=w))


class CircularValidation(_BaseDAScorer):
    """Reverse (circular) validation: adapt back from the target to the source.

    The fitted model pseudo-labels the target rows of the fold; a clone is
    then trained in the reverse direction (pseudo-labelled target as source,
    source rows unlabelled as target) and scored on the true source labels
    (Bruzzone & Marconcini, 2010; Zhong et al., 2010). A model whose target
    predictions are consistent with the source scores high. Assumes the
    method is symmetric enough to adapt both ways; costs one extra fit per
    call. The clone is fitted with masked labels, so its domains are
    inferred from them. **The recommended label-free scorer**: on sktl's
    58-task selection benchmark it was the only criterion that recognised
    the large gains of feature-based methods on real data while rarely
    preferring a harmful model, and it is the decisive criterion of
    :class:`~sktl.model_selection.AdaptationSearchCV`. It cannot credit a
    reweighting that fixes a covariate shift where the target covers only
    part of the source (the reverse model cannot extrapolate).

    Parameters
    ----------
    scoring : str or callable, default=None
        Scoring on the source rows; None means "accuracy" for classifiers
        and "r2" for regressors.

    References
    ----------
    .. [1] L. Bruzzone and M. Marconcini. "Domain Adaptation Problems: A DASVM
       Classification Technique and a Circular Validation Strategy". IEEE
       TPAMI 32(5), 2010.
    .. [2] E. Zhong, W. Fan, Q. Yang, O. Verscheure and J. Ren. "Cross
       Validation Framework to Choose amongst Models and Datasets for
       Transfer Learning". ECML PKDD 2010.
    """

    def __init__(self, scoring=None):
        self.scoring = scoring

    def __call__(self, estimator, X, y, sample_domain=None):
        from sklearn.base import clone, is_regressor

        y = _as_1d(y)
        sd = self._domains(X, y, sample_domain)
        src = (sd > 0) & ~unlabelled_mask(y)
        tgt = sd < 0
        if not src.any() or not tgt.any():
            raise ValueError("CircularValidation needs labelled source rows and target rows.")
        Xs, Xt = _safe_indexing(X, src), _safe_indexing(X, tgt)
        pseudo = estimator.predict(Xt)
        regression = is_regressor(estimator)
        name = self.scoring or ("r2" if regression else "accuracy")
        scorer = get_scorer(name) if isinstance(name, str) else name
        if not regression and len(np.unique(pseudo)) < 2:
            # One pseudo-class: no classifier can be trained back, and the
            # reverse model could only predict that class on the source rows.
            from sklearn.dummy import DummyClassifier

            constant = DummyClassifier(strategy="constant", constant=pseudo[0])
            return float(scorer(constant.fit(Xs, np.repeat(pseudo[:1], len(Xs))), Xs, y[src]))
        mask = np.full(src.sum(), np.nan if regression else -1,
                       dtype=float if regression else np.asarray(pseudo).dtype)
        X_rev = np.vstack([np.asarray(Xt, float), np.asarray(Xs, float)])
        y_rev = np.concatenate([pseudo, mask])
        reverse = clone(estimator).fit(X_rev, y_rev)
        return float(scorer(reverse, Xs, y[src]))


class DeepEmbeddedValidation(_BaseDAScorer):
    """Deep embedded validation: importance weighting in the model's feature space.

    The density ratio is estimated by a domain classifier on the model's
    *features* (for a pipeline, the output of every step but the last; else
    the inputs), where adaptation made the domains overlap, and the weighted
    source loss is corrected with a control variate that cuts its variance:
    ``risk = mean(w l) + eta mean(w) - eta`` with
    ``eta = -Cov(w l, w) / Var(w)`` (You, Wang, Chen, Long & Jordan, 2019).
    The score is ``-risk`` on the 0-1 loss (classification) or squared error
    (regression), so greater is better. Assumes covariate shift in feature
    space. On sktl's selection benchmark its pick harmed 21–24 % of the
    tasks, like plain importance weighting
    (``benchmarks/results/selection.md``).

    Parameters
    ----------
    domain_classifier : classifier, default=None
        Defaults to ``LogisticRegression()``.
    max_weight : float, default=20.0
        Clip of the (mean-1) weights.

    References
    ----------
    .. [1] K. You, X. Wang, M. Long and M. Jordan. "Towards Accurate Model
       Selection in Deep Unsupervised Domain Adaptation". ICML 2019.
    """

    def __init__(self, domain_classifier=None, max_weight=20.0):
        self.domain_classifier = domain_classifier
        self.max_weight = max_weight

    def __call__(self, estimator, X, y, sample_domain=None):
        from sklearn.base import is_regressor

        from .._instance import domain_classifier_weights

        y = _as_1d(y)
        sd = self._domains(X, y, sample_domain)
        src = (sd > 0) & ~unlabelled_mask(y)
        tgt = sd < 0
        if src.sum() < 2 or tgt.sum() < 2:
            raise ValueError("DeepEmbeddedValidation needs at least 2 labelled source rows "
                             "and 2 target rows in the validation fold.")
        Xs, Xt = _safe_indexing(X, src), _safe_indexing(X, tgt)
        w = domain_classifier_weights(_deployed_features(estimator, Xs),
                                      _deployed_features(estimator, Xt),
                                      self.domain_classifier, self.max_weight)
        pred = estimator.predict(Xs)
        if is_regressor(estimator):
            loss = (np.asarray(pred, float) - y[src].astype(float)) ** 2
        else:
            loss = (np.asarray(pred) != y[src]).astype(float)
        wl = w * loss
        var = np.var(w)
        eta = -np.cov(wl, w)[0, 1] / var if var > 0 else 0.0
        return float(-(wl.mean() + eta * w.mean() - eta))
