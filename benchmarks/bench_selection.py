"""The judge of the label-free decision: does it adapt when it should, and only then?

For every task of ``benchmarks/_tasks.py`` (58: generated shifts of each kind
including two without shift, wine, the 12 Office-Caltech pairs, digits, COIL,
the 12 Amazon-review pairs, 12 NIR-corn instrument pairs for regression), the
candidates of :func:`sktl.model_selection.default_candidates` around the
user's model (StandardScaler + LogisticRegression, or + Ridge) are

1. fitted once on all rows with the target labels masked and scored on the
   target labels (the truth, used only to judge), and
2. cross-validated with :class:`~sktl.model_selection.SourceKFold`, recording
   what every label-free criterion needs (the *evidence*, cached per task in
   ``benchmarks/results/.selection_cache``).

Each criterion, and the decision of :class:`~sktl.model_selection.AdaptationSearchCV`,
is then a function of the evidence. Reported per criterion over the
development and the confirmation half of the tasks (fixed split, see
``_tasks.py``): **harm rate** (pick worse than no adaptation by more than 1
accuracy point, or 2 % RMSE), **mean regret** to the best candidate (accuracy
points; for regression, points of the no-adaptation RMSE) and **captured
gain** (pick's gain over no adaptation divided by the best candidate's gain,
over the tasks where the best candidate gains more than the harm margin).

    python benchmarks/bench_selection.py collect [--only SUBSTRING] [--dev|--confirm] [--new]
    python benchmarks/bench_selection.py study     # two circular variants set aside
    python benchmarks/bench_selection.py extras --criteria mixval mano  # refits, classification
    python benchmarks/bench_selection.py compare   # does the library gain from new methods?
    python benchmarks/bench_selection.py diagnose [--dev]  # diagnose_shift per task (cached)
    python benchmarks/bench_selection.py reverse [--dev|--confirm|--fresh]  # JDA, SA via TCA
    python benchmarks/bench_selection.py rules [--dev|--fresh]  # guards, two-stage rules

``--fresh`` works on the fresh task set (:func:`benchmarks._tasks.fresh_tasks`,
tasks in neither half, declared before any of their numbers existed) instead
of the two halves: ``collect --fresh``, ``study --fresh`` and ``reverse
--fresh`` gather its evidence, ``rules --fresh`` judges the fresh round's
rules (:data:`benchmarks._selection_report.FRESH_RULES`) on it. ``--round5``
does the same for the fifth round (:func:`benchmarks._tasks.round5_tasks`,
:data:`benchmarks._selection_report.ROUND5_RULES`; ``collect`` and ``study``), and
``--round6`` for the sixth (:func:`benchmarks._tasks.round6_tasks`,
:data:`benchmarks._selection_report.ROUND6_RULES`; ``collect``); ``--round7`` the
confirmation of the default adopted there (:func:`benchmarks._tasks.round7_tasks`);
``--round8`` the eighth round (the diagnosis guard) and ``--round9`` the confirmation of
the default it adopted (:func:`benchmarks._tasks.round9_tasks`, both task types).
    python benchmarks/bench_selection.py report

``collect --new`` collects only the methods studied for the default library
(:func:`new_candidates`, e.g. label-shift correction, a density-ratio
reweighter, moment-matching maps); ``compare`` judges the default decision with
and without them, decided on the development half only.

Writes benchmarks/results/selection.md.
"""

import argparse
import pickle
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._tasks import (  # noqa: E402
    MAX_ROWS,
    all_tasks,
    fresh_tasks,
    round5_tasks,
    round6_tasks,
    round7_tasks,
    round8_tasks,
    round9_tasks,
    split_tasks,
)

RESULTS = Path(__file__).parent / "results" / "selection.md"
CACHE = Path(__file__).parent / "results" / ".selection_cache"
N_SPLITS = 3


def user_model(task):
    """The model a user brings: scaled linear model."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    final = LogisticRegression(max_iter=1000) if task == "classification" else Ridge()
    return make_pipeline(StandardScaler(), final)


def _quadratic(n_features):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    square = FunctionTransformer(lambda Z: np.hstack([Z, Z**2]) if Z.shape[1] <= 50 else Z)
    return make_pipeline(StandardScaler(), square, StandardScaler(),
                         LogisticRegressionCV(Cs=[1e-3, 1e-2, 1e-1, 1.0], cv=3,
                                              scoring="neg_log_loss", max_iter=500))


def _linear(n_features):
    from sktl.model_selection._evidence import domain_classifier

    return domain_classifier()


#: Domain classifiers whose density ratios the study compares (input space).
RATIO_MODELS = {"lr": _linear, "quad": _quadratic}


def new_candidates(task, n_features=None):
    """Methods studied as additions to ``default_candidates`` (cached under these names).

    * ``CORAL means reg=1``: CORAL that also moves the source onto the target
      mean (``align_means=True``), which its own benchmark found much better
      on the NIR-corn instruments and on digits;
    * ``LinearOTMapping``: the Gaussian Monge map, matching both moments
      while moving rows as little as possible;
    * ``uLSIF``: a kernel density-ratio reweighter (closed form), for
      covariate shift, next to the logistic ``DiscriminativeReweighter``;
    * ``LabelShift EM`` (classification): prior correction by EM (Saerens et
      al. 2002) for label shift, which no default candidate addresses
      (bootstrap off: only the point estimate is needed to predict).
    """
    from sktl import CORAL, ULSIF, LabelShiftClassifier, LinearOTMapping
    from sktl.model_selection._candidates import _around

    est = user_model(task)
    out = {"CORAL means reg=1": _around(est, CORAL(reg=1.0, align_means=True)),
           "LinearOTMapping": _around(est, LinearOTMapping()),
           "uLSIF": _around(est, reweighter=lambda e: ULSIF(e, random_state=0))}
    if task == "classification":
        out["LabelShift EM"] = _around(est, reweighter=lambda e: LabelShiftClassifier(
            e, method="em", n_bootstrap=0, random_state=0))
    return out


def _slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def truth_score(task, y_true, y_pred):
    """Accuracy in points, or minus the RMSE (relative scale fixed later)."""
    if task == "classification":
        return 100.0 * float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    return -float(np.sqrt(np.mean((np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2)))


def collect(task, candidates=None, reverse=True):
    """Fill the task's cache with the truth and the evidence of every candidate."""
    from sklearn.base import clone

    from sktl.model_selection import SourceKFold, default_candidates
    from sktl.model_selection._evidence import domain_ratio, fit_with_domains, split_evidence
    from sktl.utils import mask_target_labels

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{_slug(task.name)}.pkl"
    store = pickle.loads(path.read_bytes()) if path.exists() else {"candidates": {}}
    X, y, sd = task.load()
    ym = mask_target_labels(y, sd, task=task.task)
    if "splits" not in store:
        splits = list(SourceKFold(N_SPLITS, random_state=0).split(X, ym, sample_domain=sd))
        ratios = {name: [] for name in RATIO_MODELS}
        for train, test in splits:
            tr_s, tr_t = train[sd[train] > 0], train[sd[train] < 0]
            src = test[sd[test] > 0]
            for name, make in RATIO_MODELS.items():
                ratios[name].append(domain_ratio(X[tr_s], X[tr_t], X[src], make(X.shape[1])))
        store.update(splits=splits, ratio=ratios["lr"], ratios=ratios, y=y, sd=sd,
                     task=task.task, family=task.family, n_features=X.shape[1])
    classes = np.unique(y[sd > 0]) if task.task == "classification" else None
    cands = candidates or default_candidates(user_model(task.task), X.shape[1], task.task)
    for name, est in cands.items():
        if name in store["candidates"]:
            continue
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                full = fit_with_domains(clone(est), X, ym, sd)
                truth = truth_score(task.task, y[sd < 0], full.predict(X[sd < 0]))
            except Exception as exc:  # a candidate that cannot run here is reported
                truth = np.nan
                print(f"  {name}: full fit failed: {exc}", flush=True)
        folds = [split_evidence(est, X, ym, sd, tr, te, task=task.task, classes=classes,
                                reverse=reverse) for tr, te in store["splits"]]
        store["candidates"][name] = {"truth": truth, "folds": folds,
                                     "seconds": time.perf_counter() - start}
        path.write_bytes(pickle.dumps(store))
        print(f"  {task.name} | {name}: truth {truth:.3f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)
    return store


class _Given:
    """A stand-in "fitted model" whose target predictions are given."""

    def __init__(self, pred):
        self.pred = pred

    def predict(self, X):
        return self.pred


def study_extras(task):
    """Evidence for two circular-validation variants that the study tried and set aside.

    * ``fixed_reverse``: the reverse model is always the user's own model
      (no adaptation), trained on the candidate's target pseudo-labels;
    * ``reverse_on_base``: the candidate's own method in reverse, trained on
      the *no-adaptation* pseudo-labels (to pair the candidate's labels with
      the baseline's under one reverse learner).
    """
    from sklearn.base import clone

    from sktl.model_selection import default_candidates
    from sktl.model_selection._evidence import _reverse_predictions
    from sktl.utils import mask_target_labels

    store = load_store(task)
    if store is None:
        return
    X, y, sd = task.load()
    ym = mask_target_labels(y, sd, task=task.task)
    cands = {**default_candidates(user_model(task.task), X.shape[1], task.task),
             **new_candidates(task.task, X.shape[1])}
    base = store["candidates"]["no adaptation"]["folds"]
    for name, cand in store["candidates"].items():
        for k, ((train, _), fold) in enumerate(zip(store["splits"], cand["folds"])):
            if "error" in fold:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if "fixed_reverse" not in fold:
                    pseudo = np.asarray(fold["pred_tgt"])
                    if task.task == "classification" and len(np.unique(pseudo)) < 2:
                        fold["fixed_reverse"] = np.repeat(pseudo[:1], len(fold["src"]))
                    else:
                        model = clone(user_model(task.task)).fit(X[fold["tgt"]], pseudo)
                        fold["fixed_reverse"] = model.predict(X[fold["src"]])
                if "reverse_on_base" not in fold:
                    fold["reverse_on_base"] = _reverse_predictions(
                        cands[name], _Given(base[k]["pred_tgt"]), X, ym, sd, train,
                        X[fold["src"]], task.task)
    (CACHE / f"{_slug(task.name)}.pkl").write_bytes(pickle.dumps(store))


def reverse_extras(task, methods=("JDA", "SA")):
    """JDA's and SA's labels reversed through TCA: the ``R4b`` and fresh-round ``F3`` evidence.

    For every cached JDA (fourth round) or SA (fresh round) candidate and
    split, the TCA candidate of the same dimension (``TCA(k, mu=1)``: JDA's
    settings without its pseudo-label iterations; for SA, a reverse learner
    that does not apply the transpose of SA's own alignment) is the reverse
    learner of circular validation, trained on the candidate's cached target
    pseudo-labels (``pred_tgt``: with ``SourceKFold`` every target row is in
    every training part, in the same order); its predictions on the held-out
    source rows are stored as ``reverse_marginal``. No forward refit.
    """
    from sktl.model_selection import default_candidates
    from sktl.model_selection._evidence import _reverse_predictions
    from sktl.utils import mask_target_labels

    store = load_store(task)
    if store is None:
        return
    X, y, sd = task.load()
    ym = mask_target_labels(y, sd, task=task.task)
    cands = default_candidates(user_model(task.task), X.shape[1], task.task)
    todo = [n for n in store["candidates"] if n.split(" ")[0] in methods]
    for name in todo:
        partner = cands["TCA k=" + name.split("k=")[1]]
        for (train, _), fold in zip(store["splits"], store["candidates"][name]["folds"]):
            if "error" in fold or "reverse_marginal" in fold:
                continue
            if not np.array_equal(train[sd[train] < 0], fold["tgt"]):
                raise ValueError(f"{task.name}: target rows of a split differ")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fold["reverse_marginal"] = _reverse_predictions(
                    partner, _Given(fold["pred_tgt"]), X, ym, sd, train, X[fold["src"]],
                    task.task)
    if todo:
        (CACHE / f"{_slug(task.name)}.pkl").write_bytes(pickle.dumps(store))


#: Label-free scorers of :mod:`sktl.metrics` measured by ``extras`` (cache key: scorer).
SCORERS = {"mixval": "MixValScorer", "mano": "MaNoScorer"}


def scorer_extras(task, criteria=tuple(SCORERS), names=None):
    """Per-fold values of the public scorers ``criteria`` (classification tasks only).

    MixVal needs the model's predictions on mixed target rows and MaNo its
    target probabilities, neither of which the evidence cache holds, so each
    cached candidate (of ``default_candidates`` unless ``names``) is refitted
    on each cached split's training rows exactly as ``collect`` fits it
    (:func:`~sktl.model_selection._evidence.fit_with_domains`, target labels
    masked; no full fit, no reverse fit) and the scorer is called on the
    split's held-out target rows, as a user's ``GridSearchCV`` would call it.
    The share of target rows on which the refit predicts as the cached fit
    did is stored as ``refit_agreement`` (the refit is the same model).
    """
    from sklearn.base import clone

    import sktl.metrics
    from sktl.model_selection import default_candidates
    from sktl.model_selection._evidence import fit_with_domains
    from sktl.utils import mask_target_labels

    store = load_store(task)
    if store is None or store["task"] != "classification":
        return
    X, y, sd = task.load()
    ym = mask_target_labels(y, sd, task=task.task)
    scorers = {k: getattr(sktl.metrics, SCORERS[k])() for k in criteria}
    cands = default_candidates(user_model(task.task), X.shape[1], task.task)
    path = CACHE / f"{_slug(task.name)}.pkl"
    for name in names or cands:
        if name not in store["candidates"]:
            continue
        start = time.perf_counter()
        todo = [(k, fold) for k, fold in enumerate(store["candidates"][name]["folds"])
                if "error" not in fold and any(c not in fold for c in scorers)]
        for k, fold in todo:
            train, _ = store["splits"][k]
            tgt = fold["tgt"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    est = fit_with_domains(clone(cands[name]), X[train], ym[train], sd[train])
                    fold["refit_agreement"] = float(np.mean(
                        np.asarray(est.predict(X[tgt])) == np.asarray(fold["pred_tgt"])))
                    for c, scorer in scorers.items():
                        fold[c] = scorer(est, X[tgt], sample_domain=sd[tgt])
                except Exception as exc:  # reported, the criterion then skips the candidate
                    fold["extras_error"] = f"{type(exc).__name__}: {exc}"
                    print(f"  {name} split {k}: {fold['extras_error']}", flush=True)
        if todo:
            path.write_bytes(pickle.dumps(store))
            print(f"  {task.name} | {name}: {len(todo)} splits "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)


def diagnose(task):
    """Store ``diagnose_shift``'s verdict and recommended estimators in the task's cache.

    Classification only (the diagnosis needs class priors); the rule study's
    "diagnosis guard" reads them. Never sees the target labels.
    """
    from sktl.metrics import diagnose_shift
    from sktl.utils import mask_target_labels

    store = load_store(task)
    if store is None or store["task"] != "classification" or "diagnosis" in store:
        return
    X, y, sd = task.load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = diagnose_shift(X, mask_target_labels(y, sd), sample_domain=sd, random_state=0)
    store["diagnosis"] = {"verdict": d.verdict, "recommended": list(d.recommended)}
    (CACHE / f"{_slug(task.name)}.pkl").write_bytes(pickle.dumps(store))
    print(f"{task.name}: {d.verdict}", flush=True)


def load_store(task, names=None):
    """The task's cache, restricted to the candidates ``names(store)`` when given."""
    path = CACHE / f"{_slug(task.name)}.pkl"
    store = pickle.loads(path.read_bytes()) if path.exists() else None
    if store is not None and names is not None:
        keep = set(names(store))
        store["candidates"] = {c: v for c, v in store["candidates"].items() if c in keep}
    return store


def default_names(store):
    """Names of ``default_candidates`` for a cached task."""
    from sktl.model_selection import default_candidates

    return list(default_candidates(user_model(store["task"]), store["n_features"],
                                   store["task"]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["collect", "study", "extras", "reverse", "diagnose",
                                         "compare", "rules", "report"])
    parser.add_argument("--only", default=None)
    parser.add_argument("--new", action="store_true",
                        help="collect only the methods of new_candidates()")
    parser.add_argument("--methods", default=None,
                        help="with --new: comma-separated subset of new_candidates() names")
    parser.add_argument("--criteria", nargs="+", choices=list(SCORERS), default=list(SCORERS),
                        help="with extras: the scorers to measure")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--dev", action="store_true")
    group.add_argument("--confirm", action="store_true")
    group.add_argument("--fresh", action="store_true",
                       help="the fresh task set (neither half) instead of the halves")
    group.add_argument("--round5", action="store_true",
                       help="the round-5 task set (no earlier set) instead of the halves")
    group.add_argument("--round6", action="store_true",
                       help="the round-6 task set (no earlier set) instead of the halves")
    group.add_argument("--round7", action="store_true",
                       help="the round-7 task set (no earlier set) instead of the halves")
    group.add_argument("--round8", action="store_true",
                       help="the round-8 task set (no earlier set) instead of the halves")
    group.add_argument("--round9", action="store_true",
                       help="the round-9 task set (no earlier set) instead of the halves")
    args = parser.parse_args()
    dev, confirm = split_tasks(all_tasks())
    fresh = fresh_tasks()
    round5, round6, round7 = round5_tasks(), round6_tasks(), round7_tasks()
    round8, round9 = round8_tasks(), round9_tasks()
    tasks = (dev if args.dev else confirm if args.confirm else fresh if args.fresh
             else round5 if args.round5 else round6 if args.round6
             else round7 if args.round7 else round8 if args.round8
             else round9 if args.round9 else dev + confirm)
    if args.only:
        tasks = [t for t in tasks if args.only in t.name]
    if args.what == "collect" and args.new:  # method by method, so a cut run is usable
        methods = args.methods.split(",") if args.methods else list(
            new_candidates("classification"))
        for method in methods:
            for task in tasks:
                cands = {k: v for k, v in new_candidates(task.task).items() if k == method}
                if cands:
                    collect(task, cands)
    elif args.what == "collect":
        for task in tasks:
            print(f"{task.name} (max {MAX_ROWS} rows per domain)", flush=True)
            collect(task)
    elif args.what == "study":
        for task in tasks:
            study_extras(task)
            print(f"{task.name}: study variants done", flush=True)
    elif args.what == "extras":
        for task in tasks:
            start = time.perf_counter()
            scorer_extras(task, args.criteria)
            print(f"{task.name}: scorers done ({time.perf_counter() - start:.1f} s)", flush=True)
    elif args.what == "reverse":
        for task in tasks:
            start = time.perf_counter()
            reverse_extras(task)
            print(f"{task.name}: JDA, SA reversed by TCA ({time.perf_counter() - start:.1f} s)",
                  flush=True)
    elif args.what == "compare":
        from benchmarks._selection_report import compare_libraries

        print("\n".join(compare_libraries(dev, confirm if args.confirm else None)))
    elif args.what == "diagnose":
        for task in tasks:
            diagnose(task)
    elif args.what == "rules" and args.round9:
        from benchmarks._selection_report import round9_rule_lines

        print("\n".join(round9_rule_lines(round9)))
    elif args.what == "rules" and args.round8:
        from benchmarks._selection_report import round8_rule_lines

        print("\n".join(round8_rule_lines(round8, dev, confirm, fresh, round5, round6,
                                           round7)))
    elif args.what == "rules" and args.round7:
        from benchmarks._selection_report import round7_rule_lines

        print("\n".join(round7_rule_lines(round7)))
    elif args.what == "rules" and args.round6:
        from benchmarks._selection_report import round6_rule_lines

        print("\n".join(round6_rule_lines(round6, dev, confirm, fresh, round5)))
    elif args.what == "rules" and args.round5:
        from benchmarks._selection_report import round5_rule_lines

        print("\n".join(round5_rule_lines(round5, dev, confirm, fresh)))
    elif args.what == "rules" and args.fresh:
        from benchmarks._selection_report import fresh_rule_lines

        print("\n".join(fresh_rule_lines(fresh, dev, confirm)))
    elif args.what == "rules":
        from benchmarks._selection_report import rule_lines

        print("\n".join(rule_lines(dev, None if args.dev else confirm)[0]))
    else:
        from benchmarks._selection_report import report

        report(dev, confirm, RESULTS, fresh, round5, round6, round7, round8, round9)


if __name__ == "__main__":
    main()
