"""Does a label-free scorer pick a good model? A SKADA-Bench-style selection study.

For every data set (generated shifts and real benchmarks, all with known
target labels), a grid of candidates (no adaptation, KMM, discriminative
reweighting, CORAL, TCA, subspace alignment, each with a few
hyper-parameters) is scored by cross-validation with
``SourceTargetShuffleSplit`` and each scorer: plain source accuracy (what
``GridSearchCV`` does by default), prediction entropy, importance-weighted
accuracy and circular validation. Each scorer's pick is compared with the
candidate of best *true* target accuracy (target labels are never used for
fitting or scoring). Reported: how often the pick is within 1 point of the
best, and the mean accuracy lost.

    python benchmarks/bench_selection.py

Writes benchmarks/results/selection.md.
"""

import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

RESULTS = Path(__file__).parent / "results" / "selection.md"
DATA = os.environ.get("SKTL_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


def candidates(n_features=100):
    from sktl import CORAL, KMM, TCA, DiscriminativeReweighter, SubspaceAlignment
    from sktl.pipeline import make_da_pipeline

    def lr(C=1.0):
        return LogisticRegression(C=C, max_iter=500)

    out = {f"no adaptation C={C}": make_da_pipeline(StandardScaler(), lr(C))
           for C in (0.1, 1.0)}
    for g in (0.01, 0.1):
        out[f"KMM gamma={g}"] = make_da_pipeline(StandardScaler(),
                                                 KMM(lr(), gamma=g, random_state=0))
    out["DiscriminativeReweighter"] = make_da_pipeline(StandardScaler(),
                                                       DiscriminativeReweighter(lr()))
    for reg in (0.1, 1.0):
        out[f"CORAL reg={reg}"] = make_da_pipeline(StandardScaler(), CORAL(reg=reg), lr())
    for k in sorted({min(5, n_features - 1), min(20, n_features - 1)}):
        out[f"TCA k={k}"] = make_da_pipeline(StandardScaler(), TCA(k, mu=1.0), lr())
        out[f"SA k={k}"] = make_da_pipeline(StandardScaler(), SubspaceAlignment(k), lr())
    return out


def datasets():
    from sktl.datasets import (
        load_coil,
        load_office_caltech,
        load_wine_quality,
        make_domain_shift,
    )

    for shift in ("covariate", "conditional"):
        for seed in range(3):
            X, y, sd = make_domain_shift(300, 300, shift=shift, n_features=5,
                                         shift_strength=1.5, random_state=seed)
            yield f"generated {shift} #{seed}", X, y, sd
    X, y, sd = load_wine_quality()
    rng = np.random.default_rng(0)
    keep = np.r_[rng.choice(np.flatnonzero(sd > 0), 800, replace=False),
                 rng.choice(np.flatnonzero(sd < 0), 800, replace=False)]
    yield "wine red → white", X[keep], y[keep], sd[keep]
    if Path(DATA).is_dir():
        for s, t in (("caltech", "amazon"), ("amazon", "webcam"), ("webcam", "dslr")):
            X, y, sd = load_office_caltech(s, t, data_home=DATA)
            yield f"office {s} → {t}", X / X.sum(axis=1, keepdims=True), y, sd
        X, y, sd = load_coil("coil1", "coil2", data_home=DATA)
        yield "COIL1 → COIL2", X, y, sd


def study():
    from sklearn import config_context
    from sklearn.base import clone

    from sktl.metrics import CircularValidation, ImportanceWeightedScorer, PredictionEntropyScorer
    from sktl.model_selection import SourceTargetShuffleSplit
    from sktl.utils import mask_target_labels

    scorers = {
        "source accuracy (default CV)":
            lambda est, X, y, sample_domain: est.score(X[sample_domain > 0],
                                                       y[sample_domain > 0]),
        "prediction entropy": PredictionEntropyScorer(),
        "importance weighted": ImportanceWeightedScorer(),
        "circular validation": CircularValidation(),
    }
    picks = {name: [] for name in scorers}
    detail = []
    for name, X, y, sd in datasets():
        ym = mask_target_labels(y, sd)
        cv = SourceTargetShuffleSplit(n_splits=3, test_size=0.3, random_state=0)
        truth, estimates = {}, {s: {} for s in scorers}
        for cand, est in candidates(X.shape[1]).items():
            with warnings.catch_warnings(), config_context(enable_metadata_routing=True):
                warnings.simplefilter("ignore")
                fitted = clone(est).fit(X, ym, sample_domain=sd)
                truth[cand] = fitted.score(X[sd < 0], y[sd < 0])
                fold_scores = {s: [] for s in scorers}
                for train, test in cv.split(X, sample_domain=sd):
                    f = clone(est).fit(X[train], ym[train], sample_domain=sd[train])
                    for s, scorer in scorers.items():
                        try:
                            fold_scores[s].append(
                                scorer(f, X[test], ym[test], sample_domain=sd[test]))
                        except ValueError:
                            fold_scores[s].append(np.nan)
            for s in scorers:
                estimates[s][cand] = np.nanmean(fold_scores[s])
        best = max(truth.values())
        row = [name, f"{100 * best:.1f}"]
        for s in scorers:
            pick = max(estimates[s], key=lambda c, s=s: estimates[s][c])
            loss = 100 * (best - truth[pick])
            picks[s].append(loss)
            row.append(f"{pick} ({loss:.1f})")
        detail.append(row)
        print(" | ".join(row), flush=True)
    summary = ["| scorer | picks within 1 point of best | mean accuracy lost (points) |",
               "|---|---:|---:|"]
    for s, losses in picks.items():
        losses = np.array(losses)
        summary.append(f"| {s} | {np.sum(losses <= 1.0)}/{len(losses)} | {losses.mean():.1f} |")
    head = "| data set | best target acc. | " + " | ".join(
        f"{s}: pick (points lost)" for s in scorers) + " |"
    table = [head, "|---|---:|" + "---|" * len(scorers)] + ["| " + " | ".join(r) + " |"
                                                            for r in detail]
    return "\n".join(summary), "\n".join(table)


def main():
    summary, table = study()
    text = (f"# Model selection without target labels\n\nGenerated by "
            f"`python benchmarks/bench_selection.py`. {len(candidates())} candidates per data "
            "set, 3 `SourceTargetShuffleSplit` folds; target labels used only to judge.\n\n"
            f"{summary}\n\n## Per data set\n\n{table}\n")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
