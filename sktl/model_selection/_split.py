"""Cross-validation splitters that keep domains meaningful."""

import inspect
import numbers

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_regressor
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _num_samples

from ..utils._domain import check_sample_domain, infer_sample_domain, unlabelled_mask


def _resolve_split_domain(X, y, groups, sample_domain):
    """``sample_domain`` for a splitter: given, else ``groups``, else from ``y``."""
    n = _num_samples(X)
    if sample_domain is None:
        sample_domain = groups
    if sample_domain is None:
        if y is None:
            raise ValueError(
                "The splitter needs the domains: pass sample_domain (metadata "
                "routing), groups=sample_domain, or y with masked target labels."
            )
        return infer_sample_domain(y)
    return check_sample_domain(sample_domain, n)


class SourceTargetShuffleSplit(BaseCrossValidator):
    """Shuffle-split every domain separately.

    Each split holds out ``test_size`` of the rows of *every* domain, so both
    the training and the validation part contain source and target rows in
    the same proportions as the whole data. Labels travel with the rows: a
    target row unlabelled in ``y`` (-1 / NaN) stays unlabelled in training,
    and a domain-aware scorer (e.g. :class:`~sktl.metrics.PredictionEntropyScorer`)
    evaluates the held-out target rows without their labels.

    The domains come from ``sample_domain`` (requested through metadata
    routing), else from ``groups`` (so ``GridSearchCV.fit(X, y, groups=sd)``
    works without routing), else they are inferred from the masked labels.

    Parameters
    ----------
    n_splits : int, default=5
        Number of re-shuffling and splitting iterations.
    test_size : float, default=0.2
        Fraction of each domain's rows held out (at least one row of every
        domain with two rows or more).
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling.
    stratify : bool, default=False
        Also keep the class proportions of every domain's *labelled* rows in
        both parts (unlabelled rows are split as one more stratum).

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.model_selection import SourceTargetShuffleSplit
    >>> sd = np.array([1] * 6 + [-2] * 4)
    >>> cv = SourceTargetShuffleSplit(n_splits=2, test_size=0.5, random_state=0)
    >>> [len(test) for _, test in cv.split(np.zeros((10, 1)), sample_domain=sd)]
    [5, 5]
    """

    __metadata_request__split = {"sample_domain": True}

    def __init__(self, n_splits=5, *, test_size=0.2, random_state=None, stratify=False):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state
        self.stratify = stratify

    def _check_params(self):
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive integer; got {self.n_splits!r}.")
        if not (isinstance(self.test_size, numbers.Real) and 0 < self.test_size < 1):
            raise ValueError(f"test_size must be a float in (0, 1); got {self.test_size!r}.")

    def split(self, X, y=None, groups=None, sample_domain=None):
        """Generate train/test indices, stratified by domain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Used as ``sample_domain`` when that is not given.
        sample_domain : array-like of shape (n_samples,), default=None

        Yields
        ------
        train, test : ndarray of int
        """
        self._check_params()
        sd = _resolve_split_domain(X, y, groups, sample_domain)
        rng = check_random_state(self.random_state)
        strata = sd.astype(object)
        if self.stratify:
            if y is None:
                raise ValueError("stratify=True needs y.")
            y = np.asarray(y)
            labels = np.where(unlabelled_mask(y), "unlabelled", y.astype(str))
            strata = np.array([f"{d}|{lab}" for d, lab in zip(sd, labels)], dtype=object)
        codes = np.unique(strata)
        for _ in range(self.n_splits):
            train, test = [], []
            for code in codes:
                idx = rng.permutation(np.flatnonzero(strata == code))
                n_test = int(round(self.test_size * len(idx)))
                n_test = min(max(n_test, 1 if len(idx) > 1 else 0), len(idx) - 1)
                test.append(idx[:n_test])
                train.append(idx[n_test:])
            yield np.sort(np.concatenate(train)), np.sort(np.concatenate(test))

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Number of splits.

        Parameters
        ----------
        X, y, groups, sample_domain : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, test in self.split(X, y, groups):
            yield test


class SourceKFold(BaseCrossValidator):
    """K-fold over the labelled source rows; every target row is in every part.

    The splitter of label-free model selection in the transductive setting
    sktl works in: the unlabelled target rows are available when a model is
    fitted, and it is on them that the model is deployed. Each split holds
    out one fold of the labelled rows of every source domain (stratified by
    class for classification); the training part is the other folds plus
    every target row (and every unlabelled row), and the validation part is
    the held-out source rows plus, again, every target row. Label-free
    criteria score the held-out source rows with their labels (e.g.
    importance weighting) and the target rows without them (e.g. prediction
    entropy). Labelled target rows, when some exist, are folded like source
    rows, so that a :class:`~sktl.metrics.SupervisedScorer` can use them.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2).
    shuffle : bool, default=True
        Shuffle the labelled rows before folding.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.model_selection import SourceKFold
    >>> y = np.array([0, 1, 0, 1, 0, 1, -1, -1])
    >>> sd = np.array([1, 1, 1, 1, 1, 1, -2, -2])
    >>> [test.tolist() for _, test in SourceKFold(2, random_state=0).split(
    ...     np.zeros((8, 1)), y, sample_domain=sd)]
    [[2, 3, 6, 7], [0, 1, 4, 5, 6, 7]]
    """

    __metadata_request__split = {"sample_domain": True}

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def split(self, X, y=None, groups=None, sample_domain=None):
        """Generate train/test indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Labels with -1 / NaN for unlabelled rows; needed to know which
            rows are labelled (without it every source row is).
        groups : array-like of shape (n_samples,), default=None
            Used as ``sample_domain`` when that is not given.
        sample_domain : array-like of shape (n_samples,), default=None

        Yields
        ------
        train, test : ndarray of int
        """
        if not isinstance(self.n_splits, numbers.Integral) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2; got {self.n_splits!r}.")
        sd = _resolve_split_domain(X, y, groups, sample_domain)
        labelled = np.ones(len(sd), bool) if y is None else ~unlabelled_mask(np.asarray(y))
        rng = check_random_state(self.random_state)
        fold = np.full(len(sd), -1)
        for code in np.unique(sd):
            rows = np.flatnonzero((sd == code) & labelled)
            if code < 0 and len(rows) == 0:
                continue
            if code > 0 and len(rows) < self.n_splits:
                raise ValueError(
                    f"SourceKFold(n_splits={self.n_splits}) needs at least {self.n_splits} "
                    f"labelled rows in every source domain; domain {code} has {len(rows)}.")
            strata = np.asarray(y)[rows].astype(str) if y is not None else np.zeros(len(rows))
            for value in np.unique(strata):  # deal each class round-robin: stratified
                members = rows[strata == value]
                if self.shuffle:
                    members = rng.permutation(members)
                start = rng.randint(self.n_splits) if self.shuffle else 0
                fold[members] = (start + np.arange(len(members))) % self.n_splits
        shared = np.flatnonzero(fold < 0)
        for k in range(self.n_splits):
            held = np.flatnonzero(fold == k)
            yield (np.sort(np.r_[np.flatnonzero((fold >= 0) & (fold != k)), shared]),
                   np.sort(np.r_[held, shared]))

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Number of folds.

        Parameters
        ----------
        X, y, groups, sample_domain : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, test in self.split(X, y, groups):
            yield test


class LeaveOneDomainOut(BaseCrossValidator):
    """Hold out one domain at a time (for data with several source domains).

    Each split's test part is every row of one domain, the training part all
    the others. With several labelled source domains, holding each out in
    turn and scoring it with its labels (e.g. ``SupervisedScorer`` after
    giving it a negative code, or the estimator's own ``score``) shows how
    well a method transfers to a *new* domain: the honest proxy when the
    target has no labels.

    Parameters
    ----------
    domains : {"source", "all"}, default="source"
        Hold out only source domains (positive codes), or every domain.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.model_selection import LeaveOneDomainOut
    >>> sd = np.array([1, 1, 2, 2, 3, -4])
    >>> [test.tolist() for _, test in LeaveOneDomainOut().split(np.zeros((6, 1)),
    ...                                                        sample_domain=sd)]
    [[0, 1], [2, 3], [4]]
    """

    __metadata_request__split = {"sample_domain": True}

    def __init__(self, domains="source"):
        self.domains = domains

    def _codes(self, sd):
        if self.domains not in ("source", "all"):
            raise ValueError(f"domains must be 'source' or 'all'; got {self.domains!r}.")
        codes = np.unique(sd)
        return codes[codes > 0] if self.domains == "source" else codes

    def split(self, X, y=None, groups=None, sample_domain=None):
        """Generate train/test indices, one held-out domain per split.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Used as ``sample_domain`` when that is not given.
        sample_domain : array-like of shape (n_samples,), default=None

        Yields
        ------
        train, test : ndarray of int
        """
        sd = _resolve_split_domain(X, y, groups, sample_domain)
        codes = self._codes(sd)
        if len(codes) < 2 and self.domains == "source":
            raise ValueError("LeaveOneDomainOut needs at least two source domains.")
        for code in codes:
            yield np.flatnonzero(sd != code), np.flatnonzero(sd == code)

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Number of domains held out in turn.

        Parameters
        ----------
        X, y, groups, sample_domain : object
            The domains come from ``sample_domain`` (or ``groups``).

        Returns
        -------
        n_splits : int
        """
        sd = sample_domain if sample_domain is not None else groups
        if sd is None:
            raise ValueError("get_n_splits needs sample_domain (or groups).")
        return len(self._codes(np.asarray(sd)))

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, test in self.split(X, y, groups):
            yield test


class UnlabelledTargetTraining(MetaEstimatorMixin, BaseEstimator):
    """Train with the target labels hidden, so only validation ever sees them.

    When a few target labels exist and you want to *measure* unsupervised
    adaptation with them (``SupervisedScorer``) without the method training on
    them, wrap the estimator: at ``fit`` the labels of every target row
    (negative ``sample_domain``) are masked (-1, or NaN for regressors) before
    the wrapped estimator is fitted; ``predict`` and friends are delegated. A
    splitter cannot change ``y``; this wrapper does it inside each training
    fold, and the held-out fold keeps its labels for scoring.

    Parameters
    ----------
    estimator : estimator object
        A DA estimator or pipeline taking ``sample_domain`` (routed or as a
        fit parameter).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl import KMM
    >>> from sktl.model_selection import UnlabelledTargetTraining
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0)  # target labels known
    >>> model = UnlabelledTargetTraining(KMM(LogisticRegression(), random_state=0))
    >>> model.fit(X, y, sample_domain=sd).predict(X[:2]).shape
    (2,)
    """

    __metadata_request__fit = {"sample_domain": True}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Fit the wrapped estimator with every target label masked.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_domain : array-like of shape (n_samples,)
            Required: it says which rows are target rows.
        **fit_params : dict
            Passed on to the wrapped estimator's ``fit``.

        Returns
        -------
        self : object
        """
        from ..utils._domain import mask_target_labels

        if sample_domain is None:
            raise ValueError("UnlabelledTargetTraining needs sample_domain to know which "
                             "labels to hide.")
        task = "regression" if is_regressor(self.estimator) else "classification"
        y_masked = mask_target_labels(y, sample_domain, task=task)
        est = clone(self.estimator)
        if _routing_enabled() or not hasattr(est, "steps"):
            est.fit(X, y_masked, sample_domain=sample_domain, **fit_params)
        else:  # a pipeline without routing: step-prefixed parameters for the steps taking it
            routed = {f"{name}__sample_domain": sample_domain for name, step in est.steps
                      if hasattr(step, "fit")
                      and "sample_domain" in inspect.signature(step.fit).parameters}
            est.fit(X, y_masked, **routed, **fit_params)
        self.estimator_ = est
        return self

    def predict(self, X):
        """Predict with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """The fitted estimator's score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    @property
    def classes_(self):
        """Class labels of the fitted estimator."""
        return self.estimator_.classes_

    def __sklearn_tags__(self):
        from .._base import _copy_type_tags

        return _copy_type_tags(super().__sklearn_tags__(), self.estimator, input_tags=True)
