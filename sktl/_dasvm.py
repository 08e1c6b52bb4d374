"""DASVM: an SVM that moves from the source to the target, a few rows at a time."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.svm import SVC
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import has_fit_parameter

from ._base import BaseDAEstimator, _DelegatingMixin
from .utils._domain import unlabelled_mask


class DASVMClassifier(_DelegatingMixin, BaseDAEstimator):
    """Domain adaptation SVM: iterative self-labelling of the target inside the margin.

    DASVM (Bruzzone & Marconcini, 2010) starts from an SVM trained on the
    labelled source rows and, at each iteration,

    * labels the ``n_per_step`` unlabelled target rows of each class that lie
      inside the margin band (``0 < f_c(x) < 1``) closest to its edge, i.e.
      the most confident of the uncertain rows, and adds them to the
      training set ("semi-labelled" rows);
    * returns to the unlabelled pool every semi-labelled row whose label the
      current model changed;
    * removes the ``n_per_step`` source rows of each class that lie farthest
      from the boundary on their own side (the least informative about the
      target boundary);
    * retrains, with semi-labelled rows weighted by a cost that grows from
      ``target_weight`` to 1 over ``ramp`` iterations (the paper's increasing
      ``C*``), source rows by 1.

    It stops when no unlabelled target row is left in the band, or when
    fewer than ``tol`` times the initial number of band rows changed label,
    or after ``max_iter`` iterations. With more than two classes the SVM is
    one-vs-rest (the paper's one-against-all architecture), so every class
    has its own margin band.

    Parameters
    ----------
    estimator : classifier with decision_function, default=None
        The SVM; defaults to ``SVC()`` (RBF kernel). Must accept
        ``sample_weight`` for the cost schedule (otherwise rows are
        unweighted).
    n_per_step : int, default=5
        Rows added (target) and removed (source) per class and iteration
        (``rho`` in the paper).
    max_iter : int, default=100
        Iterations.
    target_weight : float, default=0.1
        Initial weight of the semi-labelled rows, relative to source rows.
    ramp : int, default=10
        Iterations over which that weight grows to 1.
    tol : float, default=0.01
        Stop when fewer than ``tol`` times the initial number of band rows
        changed label in an iteration (``beta`` in the paper).

    Attributes
    ----------
    estimator_ : classifier
        The SVM of the last iteration.
    target_labels_ : ndarray of shape (n_target,)
        Semi-labels of the training target rows (-1 where none was given);
        given target labels are kept.
    n_source_left_ : int
        Source rows still in the training set at the end.
    n_iter_ : int
        SVM fits: the first on the source rows, then one per iteration.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] L. Bruzzone and M. Marconcini. "Domain Adaptation Problems: A DASVM
       Classification Technique and a Circular Validation Strategy". IEEE
       TPAMI 32(5), 2010.

    Examples
    --------
    >>> from sktl import DASVMClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, shift="conditional", random_state=0,
    ...                              mask_target=True)
    >>> DASVMClassifier(max_iter=5).fit(X, y, sample_domain=sd).predict(X[sd < 0]).shape
    (60,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "decision_function"]), None],
        "n_per_step": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "target_weight": [Interval(Real, 0, 1, closed="right")],
        "ramp": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, estimator=None, *, n_per_step=5, max_iter=100, target_weight=0.1,
                 ramp=10, tol=0.01):
        self.estimator = estimator
        self.n_per_step = n_per_step
        self.max_iter = max_iter
        self.target_weight = target_weight
        self.ramp = ramp
        self.tol = tol

    def _task(self):
        return "classification"

    def __sklearn_tags__(self):
        from ._base import _copy_type_tags

        tags = super().__sklearn_tags__()
        return _copy_type_tags(tags, SVC()) if self.estimator is None else tags

    def _fit_model(self, X, y, w):
        """The SVM on rows ``X``: binary, or one binary SVM per class (one-vs-rest)."""
        base = SVC() if self.estimator is None else self.estimator
        weighted = has_fit_parameter(base, "sample_weight") and not np.all(w == 1)
        kw = {"sample_weight": w} if weighted else {}
        classes = np.unique(y)
        if len(classes) <= 2:
            return clone(base).fit(X, y, **kw)
        return _OneVsRest(classes, [clone(base).fit(X, y == c, **kw) for c in classes])

    @staticmethod
    def _scores(model, X, classes):
        """One margin per class: ``(-f, f)`` for a binary SVM, one-vs-rest otherwise."""
        f = model.decision_function(X)
        if f.ndim == 1:
            return np.column_stack([-f, f])
        return f

    def fit(self, X, y, sample_domain=None):
        """Run the DASVM iterations.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X, y, sd = self._validate_domain_data(X, y, sample_domain)
        labelled = ~unlabelled_mask(y, "classification")
        check_classification_targets(y[labelled])
        src = (sd > 0) & labelled
        if not src.any():
            raise ValueError("DASVMClassifier needs labelled source rows.")
        tgt = np.flatnonzero(sd < 0)
        if not len(tgt):  # no target: no adaptation (see DomainWarning)
            self.estimator_ = self._fit_model(X[labelled], y[labelled], np.ones(labelled.sum()))
            self.target_labels_ = np.empty(0, dtype=object)
            self.n_source_left_, self.n_iter_ = int(src.sum()), 1
            return self
        classes = np.unique(y[labelled])
        given = labelled[tgt]  # labelled target rows stay in the training set
        k = len(classes)
        code = {c: i for i, c in enumerate(classes)}
        src_rows = np.flatnonzero(src)
        src_code = np.array([code[c] for c in y[src_rows]])
        active = np.ones(len(src_rows), bool)  # source rows still used
        semi = np.full(len(tgt), -1)  # class index of each semi-labelled target row
        semi[given] = [code[c] for c in y[tgt][given]]
        age = np.zeros(len(tgt))

        def train():
            rows = np.r_[src_rows[active], tgt[semi >= 0]]
            labels = classes[np.r_[src_code[active], semi[semi >= 0]]]
            w_t = np.where(given[semi >= 0], 1.0, np.minimum(
                1.0, self.target_weight + (1 - self.target_weight) * age[semi >= 0] / self.ramp))
            w = np.r_[np.ones(active.sum()), w_t]
            return self._fit_model(X[rows], labels, w) if len(np.unique(labels)) > 1 else None

        model = train()
        if model is None:  # one class: nothing to adapt
            self.estimator_ = self._fit_model(X[src_rows], y[src_rows], np.ones(len(src_rows)))
            self.target_labels_, self.n_source_left_, self.n_iter_ = y[tgt], int(active.sum()), 1
            return self
        initial, it = None, 0
        for it in range(1, self.max_iter + 1):  # noqa: B007 - the count is kept
            S = self._scores(model, X[tgt], classes)
            col = [list(model.classes_).index(c) if c in model.classes_ else None
                   for c in classes]
            S = np.column_stack([S[:, j] if j is not None else np.full(len(tgt), -np.inf)
                                 for j in col])
            pred = S.argmax(axis=1)
            top = S[np.arange(len(tgt)), pred]
            band = (top > 0) & (top < 1)
            changed = (semi >= 0) & ~given & (semi != pred)
            semi[changed], age[changed] = -1, 0
            free = (semi < 0) & ~given
            if initial is None:
                initial = max(int(band.sum()), 1)
            candidates = free & band
            for c in range(k):  # the most confident uncertain rows of each class
                pool = np.flatnonzero(candidates & (pred == c))
                pick = pool[np.argsort(-top[pool])[: self.n_per_step]]
                semi[pick] = c
            age[semi >= 0] += 1
            Ss = self._scores(model, X[src_rows], classes)
            Ss = np.column_stack([Ss[:, j] if j is not None else np.full(len(src_rows), -np.inf)
                                  for j in col])
            own = Ss[np.arange(len(src_rows)), src_code]
            for c in range(k):  # drop the source rows farthest inside their own class
                pool = np.flatnonzero(active & (src_code == c))
                if len(pool) > self.n_per_step:
                    active[pool[np.argsort(-own[pool])[: self.n_per_step]]] = False
            new = train()
            if new is not None:
                model = new
            if not candidates.any() and changed.sum() <= self.tol * initial:
                break
        self.estimator_ = model
        labels = np.full(len(tgt), -1, dtype=object)
        labels[semi >= 0] = classes[semi[semi >= 0]]
        self.target_labels_ = labels
        self.n_source_left_, self.n_iter_ = int(active.sum()), it + 1
        return self

    def _prepare(self, X):
        return self._check_new_X(X)


class _OneVsRest:
    """Binary classifiers, one per class, behind ``predict`` / ``decision_function``."""

    def __init__(self, classes, models):
        self.classes_, self.models = classes, models

    @available_if(lambda self: hasattr(self.models[0], "predict_proba"))
    def predict_proba(self, X):
        """Each class's one-vs-rest probability, normalised over the classes."""
        P = np.column_stack([m.predict_proba(X)[:, list(m.classes_).index(True)]
                             for m in self.models])
        total = P.sum(axis=1, keepdims=True)
        return np.where(total > 0, P / np.where(total > 0, total, 1), 1 / P.shape[1])

    def decision_function(self, X):
        return np.column_stack([m.decision_function(X) for m in self.models])

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]
