"""Boosting for transfer: the TrAdaBoost family.

TrAdaBoost (Dai, Yang, Xue & Yu, 2007) and its regression variants (Pardoe &
Stone, 2010) learn from labelled source rows and a few labelled target rows.
Each round fits the base estimator on weighted rows, then shrinks the weight
of source rows the learner gets wrong (they look unlike the target) and
raises the weight of target rows it gets wrong (as AdaBoost does).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.ensemble._base import _set_random_states
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseDAEstimator
from .exceptions import DomainWarning
from .utils._domain import unlabelled_mask


def _labelled_rows(est, X, y, sd):
    """Labelled rows split into source and target masks over those rows.

    With no target rows at all (no domain information), every labelled row
    counts as a target row, so the method reduces to boosting on them.
    """
    keep = ~unlabelled_mask(y, est._task())
    X, y, sd = X[keep], y[keep], sd[keep]
    if not (sd < 0).any():
        if est.domains_.min() < 0:
            raise ValueError(
                f"{type(est).__name__} needs a few labelled target rows (negative "
                "sample_domain with a real label); every target row is unlabelled."
            )
        return X, y, np.zeros(len(y), bool), np.ones(len(y), bool)
    return X, y, sd > 0, sd < 0


def _source_factor(n_source, n_estimators):
    """The fixed source factor 1 / (1 + sqrt(2 ln n / N)) of Dai et al."""
    if n_source < 2:
        return 1.0
    return 1.0 / (1.0 + np.sqrt(2.0 * np.log(n_source) / n_estimators))


def _fit_learner(template, X, y, weights, rng):
    est = clone(template)
    _set_random_states(est, rng)
    return est.fit(X, y, sample_weight=weights * (len(weights) / weights.sum()))


def _weighted_median(preds, weights):
    """Row-wise weighted median of ``preds`` (n_learners, n_samples)."""
    order = np.argsort(preds, axis=0)
    sorted_preds = np.take_along_axis(preds, order, axis=0)
    cum = np.cumsum(weights[order], axis=0)
    idx = (cum >= 0.5 * cum[-1]).argmax(axis=0)
    return sorted_preds[idx, np.arange(preds.shape[1])]


def _stop_warning(name, t, limit):
    """Warn that boosting stopped at round ``t`` (from 0): no better than chance on the target."""
    kept = (f"the ensemble keeps the {t} learner(s) before it" if t else
            "its first learner is all the ensemble has")
    warnings.warn(
        f"{name}: boosting stopped at round {t + 1}, whose learner had a target error "
        f">= {limit:.3f}, no better than chance on the target (AdaBoost's rule); {kept}. "
        "The source may mislead more than it helps: try a stronger base estimator or "
        "more target labels, and compare with no transfer.",
        DomainWarning,
        stacklevel=3,
    )


class _TrAdaBoostMixin:
    """Parameters, validation and the second-half ensemble shared by the family."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def _ensemble(self, stage=None):
        """Learners and weights voting at ``stage``.

        The later half votes, as in the paper, since the early learners still
        lean on the source; without source rows (no domain information) the
        method is plain AdaBoost and every learner votes.
        """
        n = len(self.estimators_) if stage is None else stage
        first = int(np.ceil(n / 2)) - 1 if self._had_source else 0
        return self.estimators_[first:n], self.estimator_weights_[first:n]

    def _boost(self, X, y, src, tgt, row_errors, limit, bonus=0.0):
        """The TrAdaBoost loop shared by the classifier and TrAdaBoost.R2.

        ``row_errors(learner)`` gives every row's error in [0, 1]; ``limit`` is
        the target error at which a learner is no better than chance (boosting
        then stops without it, or keeps it alone if it is the first); ``bonus`` is
        SAMME's ``log(K - 1)``. Returns the final row weights.
        """
        rng = check_random_state(self.random_state)
        beta_src = _source_factor(src.sum(), self.n_estimators)
        self._had_source = bool(src.any())
        w = np.ones(len(y)) / len(y)
        self.estimators_, weights, errors = [], [], []
        for t in range(self.n_estimators):
            est = _fit_learner(self.estimator, X, y, w, rng)
            e = row_errors(est)
            eps = np.sum(w[tgt] * e[tgt]) / np.sum(w[tgt])
            if eps >= limit:  # AdaBoost's rule: stop; a learner no better than chance
                # would get no vote and leave the target weights as they are, so every
                # later round would repeat it
                _stop_warning(type(self).__name__, t, limit)
                if not self.estimators_:
                    self.estimators_, weights, errors = [est], [1.0], [eps]  # the only one
                break
            perfect = eps <= 1e-10
            eps = min(max(eps, 1e-10), limit)
            alpha = self.learning_rate * (np.log((1 - eps) / eps) + bonus)
            self.estimators_.append(est)
            weights.append(alpha)
            errors.append(eps)
            if perfect:  # it decides alone from now on
                break
            w[src] *= beta_src ** (self.learning_rate * e[src])
            w[tgt] *= np.exp(alpha * e[tgt])
            w /= w.sum()
        self.estimator_weights_ = np.asarray(weights)
        self.estimator_errors_ = np.asarray(errors)
        return w

    def _check_X(self, X):
        check_is_fitted(self)
        return self._check_new_X(X)


class TrAdaBoostClassifier(_TrAdaBoostMixin, BaseDAEstimator):
    """TrAdaBoost: boosting that down-weights misleading source rows.

    Trained on labelled source rows and a few labelled target rows (pass
    ``sample_domain``; target rows carry negative codes). Each round fits the
    base estimator on the weighted rows, measures its error ``eps_t`` on the
    target rows only, multiplies the weight of every misclassified source row
    by the fixed factor ``beta = 1 / (1 + sqrt(2 ln n_s / N))`` and of every
    misclassified target row by ``(1 - eps_t) / eps_t`` (Dai et al., 2007).
    The prediction is the weighted vote of the later half of the learners,
    with weights ``log((1 - eps_t) / eps_t)``.

    Multi-class problems use the SAMME correction (Zhu et al., 2009): target
    weights and votes use ``log((1 - eps_t) / eps_t) + log(K - 1)``, which is
    the paper's rule for two classes. ``learning_rate`` scales every exponent
    (1 is the paper). Boosting stops early when a learner is perfect on the
    target, and, as in AdaBoost, at the first learner no better than chance on
    it (error ``>= (K - 1) / K``), which is dropped with a ``DomainWarning``: it
    would get no vote and leave the target weights unchanged, so every later
    round would repeat it and the voting half could be left without a vote.

    Parameters
    ----------
    estimator : estimator object
        Classifier whose ``fit`` accepts ``sample_weight``.
    n_estimators : int, default=50
        Number of boosting rounds ``N``.
    learning_rate : float, default=1.0
        Multiplies the weight-update exponents.
    random_state : int, RandomState instance or None, default=None
        Seeds the base estimators that take a ``random_state``.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted learners, one per round.
    estimator_weights_ : ndarray of shape (n_rounds,)
        Vote of each learner.
    estimator_errors_ : ndarray of shape (n_rounds,)
        Weighted target error of each learner.
    sample_weight_ : ndarray of shape (n_samples,)
        Final normalised weight of every training row (0 for unlabelled rows).
    classes_ : ndarray
        Class labels.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] W. Dai, Q. Yang, G.-R. Xue and Y. Yu. "Boosting for Transfer
       Learning". ICML 2007.
    .. [2] J. Zhu, H. Zou, S. Rosset and T. Hastie. "Multi-class AdaBoost".
       Statistics and Its Interface, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sktl import TrAdaBoostClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(200, 200, random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(400) % 10 != 0), -1, y)
    >>> clf = TrAdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=10,
    ...                            random_state=0).fit(X, y_train, sample_domain=sd)
    >>> clf.predict(X[sd < 0]).shape
    (200,)
    """

    _accept_sparse = "csr"

    def __init__(self, estimator, *, n_estimators=50, learning_rate=1.0, random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, X, y, sample_domain=None):
        """Boost on labelled source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 for unlabelled rows (ignored).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X_all, y_all, sd = self._validate_domain_data(X, y, sample_domain)
        X, y, src, tgt = _labelled_rows(self, X_all, y_all, sd)
        self.classes_ = np.unique(y)
        K = len(self.classes_)
        if K < 2:
            raise ValueError(
                f"TrAdaBoostClassifier needs at least two classes in y; got {K} class."
            )
        w = self._boost(X, y, src, tgt, lambda est: (est.predict(X) != y).astype(float),
                        limit=(K - 1) / K, bonus=np.log(K - 1))
        self.sample_weight_ = np.zeros(len(y_all))
        self.sample_weight_[~unlabelled_mask(y_all, self._task())] = w
        return self

    def _votes(self, X, stage=None):
        learners, alphas = self._ensemble(stage)
        scores = np.zeros((X.shape[0], len(self.classes_)))
        for est, a in zip(learners, alphas):
            pred = np.searchsorted(self.classes_, est.predict(X))
            scores[np.arange(X.shape[0]), pred] += a
        return scores / max(alphas.sum(), np.finfo(float).tiny)

    def decision_function(self, X):
        """Weighted votes of the later half of the learners.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
            For two classes, the vote for ``classes_[1]`` minus that for
            ``classes_[0]``.
        """
        scores = self._votes(self._check_X(X))
        return scores[:, 1] - scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X):
        """Class with the largest weighted vote.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        votes = self._votes(self._check_X(X))
        return self.classes_[votes.argmax(axis=1)]

    def predict_proba(self, X):
        """Share of the (weighted) vote each class gets.

        Consistent with :meth:`predict` (its argmax) and with the paper's
        weighted-majority output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._votes(self._check_X(X))

    def staged_predict(self, X):
        """Prediction after each boosting round.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Yields
        ------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        for stage in range(1, len(self.estimators_) + 1):
            yield self.classes_[self._votes(X, stage).argmax(axis=1)]


def _adjusted_errors(pred, y, loss):
    """Errors in [0, 1] relative to the largest one (AdaBoost.R2, Drucker 1997)."""
    err = np.abs(pred - y)
    top = err.max()
    if top <= 0:
        return np.zeros_like(err)
    err = err / top
    if loss == "square":
        return err**2
    if loss == "exponential":
        return 1.0 - np.exp(-err)
    return err


class _RegressorMixinDA:
    def predict(self, X):
        """Weighted median of the later half of the learners' predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        learners, alphas = self._ensemble()
        return _weighted_median(np.array([e.predict(X) for e in learners]), alphas)

    def staged_predict(self, X):
        """Prediction after each boosting round.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Yields
        ------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        preds = np.array([e.predict(X) for e in self.estimators_])
        for stage in range(1, len(self.estimators_) + 1):
            learners, alphas = self._ensemble(stage)
            yield _weighted_median(preds[stage - len(learners):stage], alphas)


class TrAdaBoostR2(_RegressorMixinDA, _TrAdaBoostMixin, BaseDAEstimator):
    """TrAdaBoost.R2: TrAdaBoost for regression with AdaBoost.R2's losses.

    Each round fits the base regressor on the weighted rows, turns its
    absolute errors into adjusted errors ``e_i`` in [0, 1] (divided by the
    largest, then linear, square or exponential as in AdaBoost.R2), computes
    the weighted target error ``eps_t``, and multiplies source weights by
    ``beta ** e_i`` (``beta = 1 / (1 + sqrt(2 ln n_s / N))``) and target weights
    by ``beta_t ** -e_i`` with ``beta_t = eps_t / (1 - eps_t)`` (Pardoe & Stone,
    2010). The prediction is the weighted median of the later half of the
    learners, weights ``log(1 / beta_t)``. Boosting stops at the first learner
    with ``eps_t >= 0.5``, which is dropped (a
    :class:`~sktl.exceptions.DomainWarning` reports it), as AdaBoost.R2 does
    and as in :class:`TrAdaBoostClassifier`.

    Parameters
    ----------
    estimator : estimator object
        Regressor whose ``fit`` accepts ``sample_weight``.
    n_estimators : int, default=50
        Number of boosting rounds.
    learning_rate : float, default=1.0
        Multiplies the weight-update exponents (1 is the paper).
    loss : {"linear", "square", "exponential"}, default="linear"
        How absolute errors become adjusted errors.
    random_state : int, RandomState instance or None, default=None
        Seeds the base estimators that take a ``random_state``.

    Attributes
    ----------
    estimators_ : list of estimators
        Fitted learners.
    estimator_weights_ : ndarray of shape (n_rounds,)
        Weight of each learner in the median.
    estimator_errors_ : ndarray of shape (n_rounds,)
        Weighted adjusted target error of each learner.
    sample_weight_ : ndarray of shape (n_samples,)
        Final normalised weight of every training row (0 for unlabelled rows).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] D. Pardoe and P. Stone. "Boosting for Regression Transfer". ICML 2010.
    .. [2] H. Drucker. "Improving Regressors using Boosting Techniques". ICML 1997.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from sktl import TrAdaBoostR2
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(200, 200, task="regression", random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(400) % 10 != 0), np.nan, y)
    >>> reg = TrAdaBoostR2(DecisionTreeRegressor(max_depth=3), n_estimators=10,
    ...                    random_state=0).fit(X, y_train, sample_domain=sd)
    >>> reg.predict(X[sd < 0]).shape
    (200,)
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        **_TrAdaBoostMixin._parameter_constraints,
        "loss": [StrOptions({"linear", "square", "exponential"})],
    }

    def __init__(self, estimator, *, n_estimators=50, learning_rate=1.0, loss="linear",
                 random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.loss = loss
        self.random_state = random_state

    def fit(self, X, y, sample_domain=None):
        """Boost on labelled source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets, NaN for unlabelled rows (ignored).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X_all, y_all, sd = self._validate_domain_data(X, y, sample_domain)
        X, y, src, tgt = _labelled_rows(self, X_all, y_all, sd)
        y = y.astype(float)
        w = self._boost(X, y, src, tgt,
                        lambda est: _adjusted_errors(est.predict(X), y, self.loss), limit=0.5)
        self.sample_weight_ = np.zeros(len(y_all))
        self.sample_weight_[~unlabelled_mask(y_all, self._task())] = w
        return self


def _adaboost_r2_frozen(template, X, y, w, frozen, n_estimators, loss, rng):
    """AdaBoost.R2 that only updates the weights of the rows not ``frozen``.

    Returns ``(learners, learner_weights)``; predictions are their weighted median.
    """
    w = w.copy()
    learners, alphas = [], []
    for _ in range(n_estimators):
        est = _fit_learner(template, X, y, w, rng)
        e = _adjusted_errors(est.predict(X), y, loss)
        eps = np.sum(w * e) / np.sum(w)
        if eps >= 0.5 and learners:
            break
        eps = min(max(eps, 1e-10), 0.5 - 1e-10)
        beta = eps / (1 - eps)
        learners.append(est)
        alphas.append(np.log(1 / beta))
        if eps <= 1e-10:
            break
        w[~frozen] *= beta ** (1 - e[~frozen])
        w /= w.sum()
    return learners, np.asarray(alphas)


class TwoStageTrAdaBoostR2(_RegressorMixinDA, _TrAdaBoostMixin, BaseDAEstimator):
    """Two-stage TrAdaBoost.R2: shift weight from source to target, pick by CV.

    Stage one moves weight gradually from the source to the target: at step
    ``t`` of ``n_steps`` the source weights are multiplied by
    ``beta_t ** e_i`` (``e_i`` the adjusted errors of a learner fitted on the
    current weights), with ``beta_t`` found by bisection so that the target
    holds ``m / (n + m) + t / (S - 1) * (1 - m / (n + m))`` of the total
    weight. Stage two, at every step, boosts with AdaBoost.R2 keeping the
    source weights frozen, and scores that model by ``n_folds``-fold cross-
    validation on the target rows. The model of the step with the lowest
    cross-validated error is kept (Pardoe & Stone, 2010).

    Parameters
    ----------
    estimator : estimator object
        Regressor whose ``fit`` accepts ``sample_weight``.
    n_estimators : int, default=20
        AdaBoost.R2 rounds of each stage-two model.
    n_steps : int, default=10
        Number of stage-one steps ``S``.
    n_folds : int, default=5
        Folds of the cross-validation on the target rows (at most their count).
    learning_rate : float, default=1.0
        Kept for API symmetry with the family; 1 is the paper.
    loss : {"linear", "square", "exponential"}, default="linear"
        How absolute errors become adjusted errors.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the base estimators.

    Attributes
    ----------
    estimators_ : list of estimators
        Learners of the selected stage-two model.
    estimator_weights_ : ndarray
        Their weights in the median.
    best_step_ : int
        The selected step.
    cv_errors_ : ndarray of shape (n_steps,)
        Cross-validated target mean absolute error of every step's model.
    sample_weight_ : ndarray of shape (n_samples,)
        Row weights at the selected step (0 for unlabelled rows).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] D. Pardoe and P. Stone. "Boosting for Regression Transfer". ICML 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from sktl import TwoStageTrAdaBoostR2
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(100, 100, task="regression", random_state=0)
    >>> y_train = np.where((sd < 0) & (np.arange(200) % 5 != 0), np.nan, y)
    >>> reg = TwoStageTrAdaBoostR2(DecisionTreeRegressor(max_depth=3), n_estimators=5,
    ...                            n_steps=4, n_folds=3, random_state=0)
    >>> reg.fit(X, y_train, sample_domain=sd).predict(X[sd < 0]).shape
    (100,)
    """

    _accept_sparse = "csr"

    _parameter_constraints = {
        **_TrAdaBoostMixin._parameter_constraints,
        "n_steps": [Interval(Integral, 2, None, closed="left")],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "loss": [StrOptions({"linear", "square", "exponential"})],
    }

    def __init__(self, estimator, *, n_estimators=20, n_steps=10, n_folds=5,
                 learning_rate=1.0, loss="linear", random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.n_steps = n_steps
        self.n_folds = n_folds
        self.learning_rate = learning_rate
        self.loss = loss
        self.random_state = random_state

    def fit(self, X, y, sample_domain=None):
        """Run both stages and keep the best step's model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets, NaN for unlabelled rows (ignored).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain code of each row (positive = source, negative = target).

        Returns
        -------
        self : object
        """
        X_all, y_all, sd = self._validate_domain_data(X, y, sample_domain)
        X, y, src, tgt = _labelled_rows(self, X_all, y_all, sd)
        y = y.astype(float)
        rng = check_random_state(self.random_state)
        n, m = src.sum(), tgt.sum()
        n_folds = min(self.n_folds, m)
        if n_folds < 2:
            raise ValueError(
                "TwoStageTrAdaBoostR2 needs at least 2 labelled target rows for its "
                f"cross-validation; got n_samples = {m}."
            )
        tgt_idx = np.flatnonzero(tgt)
        folds = list(KFold(n_folds, shuffle=True,
                           random_state=rng.randint(2**31 - 1)).split(tgt_idx))
        w = np.ones(len(y)) / len(y)
        best = (np.inf, None)
        cv_errors, history = [], []
        for t in range(self.n_steps):
            # stage two at this step: AdaBoost.R2 with frozen source weights, scored by CV
            err = 0.0
            for train_t, test_t in folds:
                rows = np.r_[np.flatnonzero(src), tgt_idx[train_t]]
                learners, alphas = _adaboost_r2_frozen(
                    self.estimator, X[rows], y[rows], w[rows], src[rows],
                    self.n_estimators, self.loss, rng)
                pred = _weighted_median(
                    np.array([e.predict(X[tgt_idx[test_t]]) for e in learners]), alphas)
                err += np.abs(pred - y[tgt_idx[test_t]]).sum()
            err /= m
            cv_errors.append(err)
            history.append(w.copy())
            if err < best[0]:
                best = (err, t)
            # stage one: move weight from source to target
            if t == self.n_steps - 1 or n == 0:
                continue
            est = _fit_learner(self.estimator, X, y, w, rng)
            e = _adjusted_errors(est.predict(X), y, self.loss)
            share = m / (n + m) + (t + 1) / (self.n_steps - 1) * (1 - m / (n + m))
            w = self._shift_weights(w, e, src, tgt, share)
        self.best_step_ = best[1]
        self.cv_errors_ = np.asarray(cv_errors)
        w = history[self.best_step_]
        self.estimators_, self.estimator_weights_ = _adaboost_r2_frozen(
            self.estimator, X, y, w, src, self.n_estimators, self.loss, rng)
        self.sample_weight_ = np.zeros(len(y_all))
        self.sample_weight_[~unlabelled_mask(y_all, self._task())] = w
        return self

    @staticmethod
    def _shift_weights(w, e, src, tgt, share):
        """Source weights times ``beta ** e``, ``beta`` set so the target holds ``share``."""
        w_t = w[tgt].sum()

        def target_share(beta):
            return w_t / (w_t + np.sum(w[src] * beta ** e[src]))

        if target_share(1.0) >= share:
            return w / w.sum()
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if target_share(mid) < share:
                hi = mid
            else:
                lo = mid
        out = w.copy()
        out[src] *= lo ** e[src] if lo > 0 else (e[src] == 0)
        return out / out.sum()

    def _ensemble(self, stage=None):
        # the selected AdaBoost.R2 model votes with all its learners
        n = len(self.estimators_) if stage is None else stage
        return self.estimators_[:n], self.estimator_weights_[:n]


