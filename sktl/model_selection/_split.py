"""Cross-validation splitters that keep domains meaningful."""

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from ..utils._domain import _as_1d, check_sample_domain, infer_sample_domain, unlabelled_mask


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

    def __init__(self, n_splits=5, *, test_size=0.2, random_state=None):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state

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
        strata = self._strata(sd, y)
        rng = check_random_state(self.random_state)
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

    def _strata(self, sd, y):
        return sd

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


class StratifiedSourceTargetShuffleSplit(SourceTargetShuffleSplit):
    """Shuffle-split every (domain, class) group separately.

    Like :class:`SourceTargetShuffleSplit`, and within each domain the class
    proportions of the labelled rows are kept in both parts (unlabelled rows
    form their own group). Use it for classification with rare classes.

    Parameters
    ----------
    n_splits : int, default=5
        Number of re-shuffling and splitting iterations.
    test_size : float, default=0.2
        Fraction of each group's rows held out.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.model_selection import StratifiedSourceTargetShuffleSplit
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1])
    >>> cv = StratifiedSourceTargetShuffleSplit(n_splits=1, test_size=0.5, random_state=0)
    >>> train, test = next(cv.split(np.zeros((12, 1)), y))
    >>> np.bincount(y[test] + 1).tolist()
    [2, 2, 2]
    """

    def _strata(self, sd, y):
        if y is None:
            raise ValueError("StratifiedSourceTargetShuffleSplit needs y to stratify on.")
        y = _as_1d(y)
        if y.shape[0] != sd.shape[0]:
            raise ValueError(f"y has {y.shape[0]} entries but X has {sd.shape[0]} rows.")
        masked = unlabelled_mask(y)
        labels = np.where(masked, "<masked>", y.astype(str)).astype(object)
        pairs = np.array([f"{d}|{lab}" for d, lab in zip(sd, labels)])
        return np.unique(pairs, return_inverse=True)[1]


class LeaveOneDomainOut(BaseCrossValidator):
    """Hold out one domain at a time (multi-source data).

    Each split tests on every row of one domain and trains on all other rows,
    the target rows included (unlabelled, so adaptation methods still see
    them). By default each *source* domain is held out in turn: its labels
    tell how well a model trained on the remaining sources, adapted to the
    target, generalises to a domain it never saw, which no unlabelled target
    can tell. ``held_out="all"`` also holds out each target domain (score
    those folds with a label-free scorer).

    Domains come from ``sample_domain`` (metadata routing), else ``groups``,
    else the masked labels of ``y`` (then there is a single source domain
    and a single split).

    Parameters
    ----------
    held_out : {"source", "all"}, default="source"
        Which domains are held out.

    Examples
    --------
    >>> import numpy as np
    >>> from sktl.model_selection import LeaveOneDomainOut
    >>> sd = np.array([1, 1, 2, 2, 3, 3, -4, -4])
    >>> [test.tolist() for _, test in LeaveOneDomainOut().split(np.zeros((8, 1)), sample_domain=sd)]
    [[0, 1], [2, 3], [4, 5]]
    """

    __metadata_request__split = {"sample_domain": True}

    def __init__(self, held_out="source"):
        self.held_out = held_out

    def _codes(self, sd):
        if self.held_out not in ("source", "all"):
            raise ValueError(f"held_out must be 'source' or 'all'; got {self.held_out!r}.")
        codes = np.unique(sd)
        if self.held_out == "source":
            codes = codes[codes > 0]
        if len(np.unique(sd)) < 2:
            raise ValueError("LeaveOneDomainOut needs at least two domains.")
        return codes

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
        for code in self._codes(sd):
            yield np.flatnonzero(sd != code), np.flatnonzero(sd == code)

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Number of splits: the number of held-out domains.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
        sample_domain : array-like of shape (n_samples,), default=None

        Returns
        -------
        n_splits : int
        """
        if X is None:
            raise ValueError("LeaveOneDomainOut.get_n_splits needs X and the domains.")
        return len(self._codes(_resolve_split_domain(X, y, groups, sample_domain)))

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, test in self.split(X, y, groups):
            yield test
