"""AdaptationSearchCV: whether to adapt, with which method and settings, without target labels."""

import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import ParameterGrid
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted

from .._base import _copy_type_tags, _index_rows
from ..utils._domain import _as_1d, check_y_domain, unlabelled_mask
from ._candidates import NO_ADAPTATION, _split_pipeline, default_candidates, no_adaptation
from ._decision import CRITERIA, compute_criteria, decide
from ._evidence import (
    as_features,
    domain_ratio,
    fit_with_domains,
    reverse_from_labels,
    split_evidence,
)
from ._split import SourceKFold


def _best_has(method):
    def check(self):
        if hasattr(self, "best_estimator_"):
            return hasattr(self.best_estimator_, method)
        return hasattr(_split_pipeline(self.estimator)[1], method)

    return check


class AdaptationSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Decide without target labels whether to adapt, and with which method and settings.

    Every candidate — "no adaptation" (always; the user's own model trained
    on the labelled rows, see :func:`no_adaptation`), the points of
    ``param_grid`` over ``estimator``, the given ``candidates`` or the
    default library of sktl methods — is cross-validated with a
    domain-aware splitter and scored by label-free criteria, each with its
    standard error. A candidate replaces "no adaptation" only when the
    evidence says it is better by more than its uncertainty; otherwise the
    search keeps "no adaptation" and says why in :attr:`decision_report_`.
    The pick is then refitted on all rows, and the search behaves like
    :class:`~sklearn.model_selection.GridSearchCV`.

    The decision rule (see :func:`sktl.model_selection.decide`) was chosen on
    the development half of sktl's selection benchmark (58 real and generated
    shifted tasks) and confirmed on the other half; see the user guide,
    "Should I adapt?", for what it guarantees and where it is weak.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The user's model. With ``param_grid`` it is the adapted pipeline
        whose parameters are searched (e.g. a :func:`~sktl.make_da_pipeline`
        with a DA step); with ``candidates="default"`` it is the model that
        the sktl methods are built around. "No adaptation" is derived from it.
    param_grid : dict or list of dicts, default=None
        As in ``GridSearchCV``: parameter settings of ``estimator`` to try.
    candidates : "default", "diagnose", dict, list of estimators or None, default=None
        Candidate models besides "no adaptation": ``{name: estimator}``, a
        list (named by class), "default" for :func:`default_candidates`
        around ``estimator``, or "diagnose" (classification): first
        :func:`sktl.metrics.diagnose_shift` names the shift (kept in
        ``diagnosis_``), then only the default candidates of the families
        that fit it are tried (``default_candidates(..., shift=diagnosis)``).
        With neither ``param_grid`` nor ``candidates``, "default" is used.
    baseline : estimator, default=None
        The "no adaptation" model; None derives it from ``estimator``.
    cv : int or cross-validation splitter, default=None
        None or an int ``k`` means :class:`SourceKFold` with ``k`` folds (3
        by default); any splitter yielding held-out labelled source rows and
        target rows works.
    criterion : str, default="circular validation"
        The decisive criterion (any of ``sktl.model_selection.CRITERIA``; all
        are reported). With a few labelled target rows, "labelled target"
        scores the candidates on them (they are held out fold by fold like
        source rows).
        Circular validation, the default, is what the selection benchmark
        found safest and most useful; see :func:`decide`.
    confidence : float or "auto", default="auto"
        One-sided confidence with which a candidate must beat "no
        adaptation" on the decisive criterion to be adopted; "auto" is 0.99
        for classification and 0.95 for regression (chosen on the
        development half of the selection benchmark, see :func:`decide`).
    rank : {"gain", "paired"}, default="gain"
        How the pick is chosen among several candidates that beat "no
        adaptation": "gain", the largest gain on ``criterion``; "paired",
        the largest paired circular gain (each such candidate's reverse
        learner is also trained on the baseline's target pseudo-labels, one
        more fit per candidate and split, so that its labelling is compared
        with the baseline's by one learner; skipped, and "gain" used, once
        ``time_budget`` is spent). See :func:`decide` for why "paired" is
        not the default.
    guard : {"consensus+diagnosis", "consensus", "diagnosis"} or None, \
            default="consensus+diagnosis"
        Classification only. "consensus" (at least three candidates) does
        not adopt a candidate whose target predictions agree with the
        candidates' consensus (their per-row mode) less than half as often
        as the candidates' median: a consensus outlier, however consistent
        its circular validation. "diagnosis" does not adopt a candidate whose
        method :func:`sktl.metrics.diagnose_shift` does not recommend for the
        shift it names (e.g. a feature alignment under a covariate shift);
        the diagnosis (a few seconds) runs only when some candidate would
        be adopted, and is kept in ``diagnosis_``. "consensus+diagnosis"
        both; None neither. See :func:`decide`.
    fallback : {"auto", "reweighter"} or None, default="auto"
        What to try when no candidate beats "no adaptation" on ``criterion``:
        "reweighter" adopts a candidate that reweights the source rows (its
        final step an sktl reweighter, e.g. :class:`~sktl.KMM`) whose
        importance-weighted gain over "no adaptation" has a positive
        one-sided lower bound at 95 %, the risk a reweighter minimises and
        a gain circular validation cannot see; "auto" is "reweighter" in
        classification and None (keep "no adaptation") in regression, where
        the selection benchmark found it harmful. See :func:`decide`.
    refit : bool, default=True
        Refit the chosen candidate on all rows.
    n_jobs : int, default=None
        Parallel (candidate, split) fits through joblib; runs on a Dask
        cluster inside ``joblib.parallel_backend("dask")``.
    time_budget : float, default=None
        Seconds after which no further candidate is started (candidates are
        tried in the order given, cheap methods first in the default
        library); skipped candidates are listed in the report.
    verbose : int, default=0
        Print one line per evaluated candidate.
    random_state : int, RandomState instance or None, default=None
        Shuffling of the default splitter; pass an int for a reproducible
        decision.

    Attributes
    ----------
    best_estimator_ : estimator
        The chosen candidate refitted on all rows (``refit=True``).
    best_index_ : int
        Index of the chosen candidate in ``cv_results_``.
    best_params_ : dict
        Its ``param_grid`` setting, or ``{"candidate": name}``.
    best_candidate_ : str
        Its name ("no adaptation" when the search kept the baseline).
    diagnosis_ : ShiftDiagnosis or None
        The :func:`sktl.metrics.diagnose_shift` report that chose the
        candidates (``candidates="diagnose"``) or that the diagnosis guard
        used; None when neither needed one.
    decision_ : str
        "adapt" or "do not adapt".
    reason_ : str
        Why, in one sentence.
    decision_report_ : pandas.DataFrame
        One row per candidate: each criterion's value and standard error, the
        estimated gain over "no adaptation" on the decisive criterion with its
        standard error and lower confidence bound, the verdict against "no
        adaptation" ("better", "worse", "inconclusive", "rejected" by the
        guard, "better (importance weighted)" by the reweighter fallback,
        whose gains are then in ``fallback gain`` ...), whether it was
        chosen, and why (or why not).
    cv_results_ : dict of ndarray
        ``GridSearchCV``-style: ``params``, ``candidate``, ``mean_fit_time``,
        and for each criterion ``mean_test_<name>``, ``se_test_<name>`` and
        ``rank_test_<name>``.
    evidence_ : dict
        The held-out outputs every criterion was computed from.
    criteria_ : dict
        ``{criterion: {candidate: Criterion}}``, each with ``value``, ``se``
        and ``minus(other)`` (a paired difference and its standard error).
    n_splits_ : int
        Number of cross-validation splits.
    refit_time_ : float
        Seconds spent refitting the pick.
    classes_ : ndarray
        Class labels (classifiers).
    n_features_in_ : int
        Number of features seen during fit.

    See Also
    --------
    sktl.metrics.negative_transfer_check : The same comparison for one given method.

    References
    ----------
    .. [1] M. Sugiyama, M. Krauledat and K.-R. Müller. "Covariate Shift
       Adaptation by Importance Weighted Cross Validation". JMLR 8, 2007.
    .. [2] K. You, X. Wang, M. Long and M. Jordan. "Towards Accurate Model
       Selection in Deep Unsupervised Domain Adaptation". ICML 2019.
    .. [3] Y. Lalou et al. "SKADA-Bench: Benchmarking Unsupervised Domain
       Adaptation Methods with Realistic Validation". arXiv:2407.11676, 2024.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sktl.datasets import make_domain_shift
    >>> from sktl.model_selection import AdaptationSearchCV
    >>> X, y, sd = make_domain_shift(150, 150, shift="covariate", shift_strength=0.0,
    ...                              random_state=1, mask_target=True)   # no shift at all
    >>> search = AdaptationSearchCV(make_pipeline(StandardScaler(), LogisticRegression()),
    ...                             random_state=0).fit(X, y, sample_domain=sd)
    >>> search.decision_, search.best_candidate_
    ('do not adapt', 'no adaptation')
    >>> list(search.decision_report_.columns[:3])
    ['candidate', 'circular validation', 'circular validation s.e.']
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "param_grid": [dict, list, None],
        "candidates": [StrOptions({"default", "diagnose"}), dict, list, None],
        "baseline": [HasMethods(["fit", "predict"]), None],
        "cv": ["cv_object"],
        "criterion": [StrOptions(set(CRITERIA))],
        "confidence": [Interval(numbers.Real, 0.5, 1, closed="neither"), StrOptions({"auto"})],
        "rank": [StrOptions({"gain", "paired"})],
        "guard": [StrOptions({"consensus+diagnosis", "consensus", "diagnosis"}), None],
        "fallback": [StrOptions({"auto", "reweighter"}), None],
        "refit": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "time_budget": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }
    __metadata_request__fit = {"sample_domain": True}

    def __init__(self, estimator, param_grid=None, *, candidates=None, baseline=None, cv=None,
                 criterion="circular validation", confidence="auto", rank="gain",
                 guard="consensus+diagnosis", fallback="auto", refit=True, n_jobs=None,
                 time_budget=None, verbose=0, random_state=None):
        self.estimator = estimator
        self.param_grid = param_grid
        self.candidates = candidates
        self.baseline = baseline
        self.cv = cv
        self.criterion = criterion
        self.confidence = confidence
        self.rank = rank
        self.guard = guard
        self.fallback = fallback
        self.refit = refit
        self.n_jobs = n_jobs
        self.time_budget = time_budget
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ setup
    def _task(self):
        head = _split_pipeline(self.estimator)[1]
        while getattr(head, "estimator", None) is not None and not hasattr(head, "classes_") \
                and not is_classifier(head) and type(head).__module__.startswith("sktl"):
            head = head.estimator
        return "classification" if is_classifier(head) else "regression"

    def _candidate_list(self, n_features, task):
        """``[(name, params, estimator)]`` with "no adaptation" first."""
        base = clone(self.baseline) if self.baseline is not None else no_adaptation(
            self.estimator)
        out = [(NO_ADAPTATION, {"candidate": NO_ADAPTATION}, base)]
        if self.param_grid is not None:
            for params in ParameterGrid(self.param_grid):
                est = clone(self.estimator).set_params(**params)
                name = ", ".join(f"{k}={_short(v)}" for k, v in params.items()) or "estimator"
                out.append((name, dict(params), est))
        cands = self.candidates
        if cands is None and self.param_grid is None:
            cands = "default"
        if isinstance(cands, str):
            cands = default_candidates(self.estimator, n_features, task,
                                       shift=self.diagnosis_ if cands == "diagnose" else None)
            cands.pop(NO_ADAPTATION)
        elif isinstance(cands, list):
            cands = {f"{type(_split_pipeline(e)[1]).__name__} #{i}": e
                     for i, e in enumerate(cands)}
        for name, est in (cands or {}).items():
            if name == NO_ADAPTATION:
                raise ValueError(f"'{NO_ADAPTATION}' is reserved for the baseline; rename "
                                 "the candidate or pass it as baseline=.")
            out.append((name, {"candidate": name}, clone(est)))
        names = [n for n, _, _ in out]
        if len(set(names)) != len(names):
            raise ValueError(f"Candidate names must be unique; got {names}.")
        return out

    def _cv(self):
        if self.cv is None or isinstance(self.cv, numbers.Integral):
            return SourceKFold(3 if self.cv is None else self.cv,
                               random_state=self.random_state)
        return self.cv

    # -------------------------------------------------------------------- fit
    def fit(self, X, y, sample_domain=None):
        """Evaluate every candidate, decide, and refit the pick.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of every domain.
        y : array-like of shape (n_samples,)
            Labels; -1 (classification) or NaN (regression) for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain codes (positive = source, negative = target); inferred from
            the masked labels when None.

        Returns
        -------
        self : object
        """
        self._validate_params()
        task = self._task()
        n = _num_samples(X)
        y, sd = check_y_domain(y, sample_domain, n, task=task)
        labelled = ~unlabelled_mask(y, task)
        Xa = X if hasattr(X, "iloc") or sp.issparse(X) else np.asarray(X)
        n_features = Xa.shape[1] if len(Xa.shape) == 2 else 1
        self.diagnosis_ = None
        if self.candidates == "diagnose" and np.any(sd < 0):
            if task != "classification":
                raise ValueError("candidates='diagnose' runs sktl.metrics.diagnose_shift, "
                                 "which needs class labels; use candidates='default' for "
                                 "regression.")
            from ..metrics import diagnose_shift

            self.diagnosis_ = diagnose_shift(Xa, y, sd, random_state=self.random_state)
        cands = self._candidate_list(n_features, task)
        if not np.any(sd < 0):  # DomainWarning already issued: nothing to adapt to
            cands = cands[:1]
        classes = np.unique(y[labelled]) if task == "classification" else None
        cv = self._cv()
        splits = [] if len(cands) == 1 else list(
            cv.split(Xa, y, sample_domain=sd) if _accepts_domain(cv)
            else cv.split(Xa, y, groups=sd))
        self.n_splits_ = len(splits)
        try:
            Xnum = as_features(Xa)
        except (TypeError, ValueError):  # non-numeric columns: no input-space ratio
            Xnum = None
        ratios = []
        for train, test in splits:
            held = test[(sd[test] > 0) & labelled[test]]
            tr_s = train[(sd[train] > 0) & labelled[train]]
            tr_t = train[sd[train] < 0]
            try:  # the input-space density ratio of the importance-weighted criteria
                ratios.append(domain_ratio(Xnum[tr_s], Xnum[tr_t], Xnum[held]))
            except (ValueError, TypeError, IndexError):  # no numeric X, NaN, too few rows
                ratios.append(None)
        evidence = {"task": task, "y": y, "ratio": ratios, "candidates": {}}
        start, skipped = time.perf_counter(), []
        parallel = Parallel(n_jobs=self.n_jobs)
        # all (candidate, split) fits at once, or candidate by candidate under a time budget
        batches = ([cands] if self.time_budget is None
                   else [cands[:1]] + [[c] for c in cands[1:]])
        for batch in batches:
            if (self.time_budget is not None and batch[0][0] != NO_ADAPTATION
                    and time.perf_counter() - start > self.time_budget):
                skipped.append(batch[0][0])
                continue
            results = parallel(delayed(split_evidence)(est, Xa, y, sd, tr, te, task=task,
                                                       classes=classes, reverse=True)
                               for _, _, est in batch for tr, te in splits)
            for i, (name, params, _) in enumerate(batch):
                folds = results[i * len(splits):(i + 1) * len(splits)]
                evidence["candidates"][name] = {"folds": folds, "params": params}
                errors = [f["error"] for f in folds if "error" in f]
                if errors and name != NO_ADAPTATION:
                    warnings.warn(f"Candidate {name!r} failed on {len(errors)} of "
                                  f"{len(folds)} splits and is left out: {errors[0]}",
                                  FitFailedWarning, stacklevel=2)
                if self.verbose:
                    print(f"[AdaptationSearchCV] {name}: "
                          f"{sum(f['fit_time'] for f in folds):.1f} s"
                          + (f" (failed: {errors[0]})" if errors else ""))
        base_errors = [f["error"] for f in evidence["candidates"][NO_ADAPTATION]["folds"]
                       if "error" in f]
        if base_errors:
            raise ValueError(f"The no-adaptation baseline could not be fitted: {base_errors[0]}")
        if splits:
            criteria = compute_criteria(evidence)
            rules = dict(criterion=self.criterion, confidence=self.confidence,
                         guard=self.guard, fallback=self.fallback,
                         reweighters=[n for n, _, e in cands if _reweights(e)])
            decision = decide(criteria, task, rank="gain", **rules)
            if (task == "classification" and "diagnosis" in (self.guard or "")
                    and any(i["verdict"] == "better"
                            for i in decision["candidates"].values())):
                if self.diagnosis_ is None:  # only when it can change the decision
                    self.diagnosis_ = _diagnose_or_none(Xa, y, sd, self.random_state)
                if self.diagnosis_ is not None:
                    rules["recommended"] = _recommended_names(cands, self.diagnosis_)
                    decision = decide(criteria, task, rank="gain", **rules)
            eligible = [n for n, i in decision["candidates"].items() if i["verdict"] == "better"]
            if (self.rank == "paired" and len(eligible) > 1
                    and (self.time_budget is None
                         or time.perf_counter() - start <= self.time_budget)):
                _paired_evidence(evidence, {n: e for n, _, e in cands}, eligible, Xa, y, sd,
                                 splits, task, parallel)
                criteria = compute_criteria(evidence)
                decision = decide(criteria, task, rank=self.rank, **rules)
        else:
            criteria = {}
            decision = {"chosen": NO_ADAPTATION, "candidates": {},
                        "reason": "no target rows: there is nothing to adapt to"}
        self.evidence_ = evidence
        self.criteria_ = criteria
        self._build_results(cands, evidence, criteria, decision, skipped)
        if self.refit:
            best = dict((n, e) for n, _, e in cands)[self.best_candidate_]
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
                self.best_estimator_ = fit_with_domains(clone(best), X, y, sd)
            self.refit_time_ = time.perf_counter() - t0
            for attr in ("n_features_in_", "feature_names_in_"):
                if hasattr(self.best_estimator_, attr):
                    setattr(self, attr, getattr(self.best_estimator_, attr))
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = n_features
        return self

    def _build_results(self, cands, evidence, criteria, decision, skipped):
        names = [n for n, _, _ in cands if n in evidence["candidates"]]
        results = {"candidate": np.array(names, dtype=object),
                   "params": [evidence["candidates"][n]["params"] for n in names],
                   "mean_fit_time": np.array([np.mean([f["fit_time"] for f in
                                                       evidence["candidates"][n]["folds"]])
                                              for n in names])}
        for crit, values in criteria.items():
            key = crit.replace(" ", "_").replace("(", "").replace(")", "")
            mean = np.array([values[n].value if n in values else np.nan for n in names])
            se = np.array([values[n].se if n in values else np.nan for n in names])
            results[f"mean_test_{key}"] = mean
            results[f"se_test_{key}"] = se
            order = np.argsort(np.argsort(-np.nan_to_num(mean, nan=-np.inf)))
            results[f"rank_test_{key}"] = order.astype(np.int32) + 1
        self.cv_results_ = results
        self.best_candidate_ = decision["chosen"]
        self.best_index_ = names.index(self.best_candidate_)
        self.best_params_ = results["params"][self.best_index_]
        self.decision_ = "do not adapt" if self.best_candidate_ == NO_ADAPTATION else "adapt"
        self.reason_ = decision["reason"]
        self.decision_report_ = _report_frame(names, criteria, decision, evidence, skipped,
                                              self.criterion)

    # -------------------------------------------------------------- delegation
    @available_if(_best_has("predict"))
    def predict(self, X):
        """Predict with the refitted pick.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the refitted pick.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the refitted pick.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R² (regression) of the pick on the labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Rows with a masked label are ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        from sklearn.metrics import accuracy_score, r2_score

        check_is_fitted(self, "best_estimator_")
        y = _as_1d(y)
        task = self._task()
        keep = ~unlabelled_mask(y, task)
        if not keep.any():
            raise ValueError("score needs labelled rows; every label in y is masked.")
        sw = None if sample_weight is None else np.asarray(sample_weight)[keep]
        pred = self.best_estimator_.predict(_index_rows(X, keep))
        metric = accuracy_score if task == "classification" else r2_score
        return float(metric(y[keep], pred, sample_weight=sw))

    @property
    def classes_(self):
        """Class labels of the pick."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    def __sklearn_tags__(self):
        tags = _copy_type_tags(super().__sklearn_tags__(), _split_pipeline(self.estimator)[1],
                               input_tags=True)
        tags.non_deterministic = False
        return tags


def _paired_evidence(evidence, estimators, eligible, X, y, sd, splits, task, parallel):
    """Add ``reverse_on_base`` to the folds of ``eligible``: each one's reverse learner
    trained on the baseline's target pseudo-labels (the paired circular gain's other half)."""
    base = evidence["candidates"][NO_ADAPTATION]["folds"]
    pseudo = []
    for (train, _), fold in zip(splits, base):
        tgt = train[sd[train] < 0]
        if np.array_equal(fold["tgt"], tgt):  # SourceKFold: every target row in every part
            pseudo.append(fold["pred_tgt"])
        else:
            model = fit_with_domains(clone(estimators[NO_ADAPTATION]),
                                     _index_rows(X, train), y[train], sd[train])
            pseudo.append(model.predict(_index_rows(X, tgt)))
    jobs = [(name, k) for name in eligible for k in range(len(splits))]
    out = parallel(delayed(_reverse_or_none)(
        estimators[name], pseudo[k], X, y, sd, splits[k][0],
        _index_rows(X, evidence["candidates"][name]["folds"][k]["src"]), task)
        for name, k in jobs)
    for (name, k), pred in zip(jobs, out):
        if pred is not None:
            evidence["candidates"][name]["folds"][k]["reverse_on_base"] = pred


def _diagnose_or_none(X, y, sd, random_state):
    """:func:`sktl.metrics.diagnose_shift`'s report, or None (with a warning) if it fails."""
    from ..metrics import diagnose_shift

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return diagnose_shift(X, y, sd, random_state=random_state)
    except (ValueError, TypeError) as exc:
        warnings.warn(f"The shift diagnosis failed ({exc}); the diagnosis guard is skipped.",
                      UserWarning, stacklevel=3)
        return None


def _recommended_names(cands, diagnosis):
    """Names of the candidates one of whose sktl steps the diagnosis recommends."""
    keep = set(diagnosis.recommended)
    return [n for n, _, e in cands if n != NO_ADAPTATION and keep & _sktl_classes(e)]


def _sktl_classes(estimator):
    """Class names of the sktl estimators in a candidate (pipeline steps, wrapped ones)."""
    out, todo = set(), [estimator]
    while todo:
        est = todo.pop()
        if est is None or not hasattr(est, "get_params"):
            continue
        if type(est).__module__.startswith("sktl"):
            out.add(type(est).__name__)
        todo.extend(step for _, step in getattr(est, "steps", []))
        todo.append(getattr(est, "estimator", None))
    return out


def _reweights(estimator):
    """Whether a candidate reweights the source rows: its final step an sktl reweighter."""
    from .._base import BaseReweighter

    return isinstance(_split_pipeline(estimator)[1], BaseReweighter)


def _reverse_or_none(estimator, pseudo, X, y, sd, train, X_eval, task):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return reverse_from_labels(estimator, pseudo, X, y, sd, train, X_eval, task)
        except Exception:  # the paired choice then falls back to the largest gain
            return None


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else type(value).__name__


def _accepts_domain(cv):
    import inspect

    return "sample_domain" in inspect.signature(cv.split).parameters


_FALLBACK_KEYS = ("fallback gain", "fallback gain s.e.", "fallback lower bound")


def _report_frame(names, criteria, decision, evidence, skipped, decisive):
    """The decision report: the decisive criterion first, then the others in CRITERIA order."""
    import pandas as pd

    order = [decisive] + [c for c in CRITERIA if c != decisive]
    criteria = {c: criteria[c] for c in order if c in criteria}
    rows = []
    for n in names:
        row = {"candidate": n}
        folds = evidence["candidates"][n]["folds"]
        errors = [f["error"] for f in folds if "error" in f]
        for crit, values in criteria.items():
            if n in values:
                row[crit] = values[n].value
                row[f"{crit} s.e."] = values[n].se
        info = decision["candidates"].get(n, {})
        row.update({k: info.get(k, np.nan) for k in ("gain", "gain s.e.", "gain lower bound",
                                                      "verdict", "paired gain")})
        row.update({k: info[k] for k in _FALLBACK_KEYS if k in info})
        row["chosen"] = n == decision["chosen"]
        row["reason"] = (f"failed: {errors[0]}" if errors else info.get("reason", ""))
        rows.append(row)
    for n in skipped:
        rows.append({"candidate": n, "chosen": False, "reason": "skipped: time budget spent"})
    return pd.DataFrame(rows)
