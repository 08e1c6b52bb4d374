"""What a label-free decision is made from: each candidate's outputs on held-out rows.

For one cross-validation split, :func:`split_evidence` fits a candidate on the
training part and records what every label-free criterion needs, once, so
that the criteria (:mod:`sktl.metrics._criteria`) and the decision of
:class:`~sktl.model_selection.AdaptationSearchCV` are cheap functions of
stored arrays: predictions (and probabilities) on the held-out labelled
source rows and on the target rows, and the density ratio of the held-out
source rows in the model's own feature space (for deep embedded validation).
:func:`domain_ratio` gives the input-space density ratio once per split,
shared by every candidate, so that importance-weighted comparisons between
candidates are paired.
"""

import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import get_routing_for_object

from ..utils._domain import unlabelled_mask

#: Range of the domain classifier's regularisation, chosen by log-loss CV.
_DOMAIN_CS = (1e-3, 1e-2, 1e-1, 1.0)


def fit_with_domains(estimator, X, y, sample_domain):
    """Fit ``estimator`` on ``X, y`` with ``sample_domain`` routed where it is requested.

    Works for DA estimators, ``make_da_pipeline`` pipelines and plain
    scikit-learn estimators alike, with or without metadata routing enabled
    by the caller.
    """
    with config_context(enable_metadata_routing=True):
        try:
            wants = get_routing_for_object(estimator).consumes("fit", ["sample_domain"])
        except Exception:  # an estimator without routing support
            wants = set()
        if wants:
            return estimator.fit(X, y, sample_domain=sample_domain)
        return estimator.fit(X, y)


def domain_classifier(sparse=False):
    """The domain classifier of the input-space density ratio: scaled, CV-regularised LR."""
    return make_pipeline(StandardScaler(with_mean=not sparse),
                         LogisticRegressionCV(Cs=list(_DOMAIN_CS), cv=3, scoring="neg_log_loss",
                                              max_iter=500))


def as_features(X):
    """``X`` as a float array, or a CSR matrix when sparse (never densified)."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=float)
    X = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X)
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported: X holds complex values; pass real "
                         "features (e.g. the real and imaginary parts as columns).")
    return X.astype(float, copy=False)


def domain_ratio(X_train_source, X_train_target, X_eval, classifier=None):
    """Density ratio ``p_t(x) / p_s(x)`` at ``X_eval``, from a classifier of the training rows.

    The classifier (by default :func:`domain_classifier`) is trained to tell
    the training target rows from the training source rows; by Bayes' rule
    the ratio is its odds times ``n_s / n_t`` (Bickel et al., 2007). The
    rows it is evaluated on were not used to train it, so the ratio of a
    held-out row is not over-fitted. Returned unnormalised; criteria rescale.
    """
    sparse = sp.issparse(X_train_source)
    clf = domain_classifier(sparse) if classifier is None else clone(classifier)
    X = (sp.vstack if sparse else np.vstack)([X_train_source, X_train_target])
    d = np.r_[np.zeros(X_train_source.shape[0]), np.ones(X_train_target.shape[0])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, d)
    p = np.clip(clf.predict_proba(X_eval)[:, 1], 1e-6, 1 - 1e-6)
    return p / (1 - p) * (X_train_source.shape[0] / X_train_target.shape[0])


def _crossfit_ratio(F_source, F_target, n_folds=2, seed=0):
    """Density ratio of the source rows in a feature space, by 2-fold cross-fitting."""
    rng = np.random.default_rng(seed)
    ratio = np.empty(F_source.shape[0])
    folds_s = rng.permutation(F_source.shape[0]) % n_folds
    folds_t = rng.permutation(F_target.shape[0]) % n_folds
    clf = make_pipeline(StandardScaler(with_mean=not sp.issparse(F_source)),
                        LogisticRegression(C=0.1, max_iter=300))
    for k in range(n_folds):
        ratio[folds_s == k] = domain_ratio(F_source[folds_s != k], F_target[folds_t != k],
                                           F_source[folds_s == k], clf)
    return ratio


def _deployed_features(estimator, X):
    """What the final step sees for new (target) rows; the inputs for a bare estimator."""
    steps = getattr(estimator, "steps", None)
    if steps and len(steps) > 1:
        return as_features(estimator[:-1].transform(X))
    return as_features(X)


def split_evidence(estimator, X, y, sample_domain, train, test, *, task, classes=None,
                   feature_ratio=True, reverse=False):
    """Fit a clone on ``train`` and record its outputs on the held-out rows of ``test``.

    Parameters
    ----------
    estimator : estimator
        A candidate (fitted on masked target labels, so it never sees them).
    X, y, sample_domain : arrays
        All rows; ``y`` with the target labels masked.
    train, test : ndarray of int
        Row indices of the split.
    task : {"classification", "regression"}
    classes : ndarray, default=None
        All class labels, so that probability columns line up across candidates.
    feature_ratio : bool, default=True
        Also estimate the density ratio in the candidate's feature space.
    reverse : bool, default=False
        Also fit the reverse model of circular validation (one more fit):
        the training target rows, pseudo-labelled by the candidate, become
        the source, the training source rows the (unlabelled) target.

    Returns
    -------
    evidence : dict
        ``src`` / ``tgt`` (indices of the held-out labelled source rows and
        of the held-out target rows), ``pred_src``, ``pred_tgt``, and for
        held-out *labelled* target rows ``tgt_lab`` and ``pred_tgt_lab``,
        ``proba_src``, ``proba_tgt`` (classification with ``predict_proba``),
        ``feature_ratio``, ``pred_src_reverse`` and ``fit_time``; or ``error``
        when the fit failed.
    """
    sd_test = sample_domain[test]
    labelled = ~unlabelled_mask(y[test], task)
    src, tgt = test[(sd_test > 0) & labelled], test[sd_test < 0]
    tgt_lab = test[(sd_test < 0) & labelled]
    est = clone(estimator)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_with_domains(est, _safe_indexing(X, train), y[train], sample_domain[train])
            out = {"src": src, "tgt": tgt, "fit_time": time.perf_counter() - start}
            Xs, Xt = _safe_indexing(X, src), _safe_indexing(X, tgt)
            out["pred_src"], out["pred_tgt"] = est.predict(Xs), est.predict(Xt)
            if len(tgt_lab):  # a few labelled target rows: the one unbiased criterion
                out["tgt_lab"] = tgt_lab
                out["pred_tgt_lab"] = est.predict(_safe_indexing(X, tgt_lab))
            if task == "classification" and hasattr(est, "predict_proba"):
                out["proba_src"] = _aligned_proba(est, Xs, classes)
                out["proba_tgt"] = _aligned_proba(est, Xt, classes)
            if feature_ratio and len(src) >= 4 and len(tgt) >= 4:
                out["feature_ratio"] = _crossfit_ratio(_deployed_features(est, Xs),
                                                       _deployed_features(est, Xt))
            if reverse:
                out["pred_src_reverse"] = _reverse_predictions(
                    estimator, est, X, y, sample_domain, train, Xs, task)
    except Exception as exc:  # reported per candidate, never raised mid-search
        return {"src": src, "tgt": tgt, "fit_time": time.perf_counter() - start,
                "error": f"{type(exc).__name__}: {exc}"}
    return out


def _reverse_predictions(estimator, fitted, X, y, sample_domain, train, X_eval, task):
    """Circular validation's reverse model, trained on pseudo-labelled target rows."""
    tgt = train[sample_domain[train] < 0]
    pseudo = np.asarray(fitted.predict(_safe_indexing(X, tgt)))
    return reverse_from_labels(estimator, pseudo, X, y, sample_domain, train, X_eval, task)


def reverse_from_labels(estimator, pseudo, X, y, sample_domain, train, X_eval, task):
    """Predictions at ``X_eval`` of ``estimator`` fitted in reverse on given target labels.

    The training target rows of ``train`` (in index order), labelled
    ``pseudo``, become the source; the training labelled source rows become
    the (unlabelled) target. With the candidate's own pseudo-labels this is
    circular validation's reverse model; with the baseline's, the paired
    comparison of :func:`sktl.model_selection.decide` (``rank="paired"``).
    """
    sd = sample_domain[train]
    labelled = ~unlabelled_mask(y[train], task)
    tgt, src = train[sd < 0], train[(sd > 0) & labelled]
    pseudo = np.asarray(pseudo)
    if task == "classification" and len(np.unique(pseudo)) < 2:
        return np.repeat(pseudo[:1], _num_rows(X_eval))  # nothing to learn back
    if task == "regression":
        mask = np.full(len(src), np.nan)
    else:
        pseudo = pseudo.astype(object) if pseudo.dtype.kind not in "iuf" else pseudo
        mask = np.full(len(src), -1, dtype=pseudo.dtype)
    rows = np.r_[tgt, src]
    sd_rev = np.r_[np.ones(len(tgt), np.int64), np.full(len(src), -2, np.int64)]
    rev = fit_with_domains(clone(estimator), _safe_indexing(X, rows),
                           np.concatenate([pseudo, mask]), sd_rev)
    return rev.predict(X_eval)


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _aligned_proba(estimator, X, classes):
    """``predict_proba`` with one column per class of ``classes`` (0 for unseen ones)."""
    proba = np.asarray(estimator.predict_proba(X), float)
    if classes is None:
        return proba
    own = np.asarray(estimator.classes_)
    out = np.zeros((proba.shape[0], len(classes)))
    cols = np.searchsorted(classes, own)
    out[:, cols] = proba
    return out
