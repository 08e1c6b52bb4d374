"""Label shift: sktl's BBSE, RLLS and EM vs skada's MMD target-shift reweighting; diagnose_shift.

Part ``digits`` follows Lipton et al. (ICML 2018, BBSE): the digits of ONE
domain (MNIST or USPS, 16x16 pixels from ``shared/data``) are split per seed
into a labelled source (60 %, stratified) and a target pool (40 %); target
sets of ``--n-target`` rows are drawn from the pool with class priors from a
Dirichlet(alpha) (alpha in {0.1, 1, 10}) or a tweak-one shift (one random
class gets probability rho in {0.5, 0.9}, the others share the rest). The
classifier is StandardScaler + PCA(50) + LogisticRegression(C=0.1). For
every target sample we report the mean squared error of the estimated
importance weights ``w = q / p_s`` over classes, and the target accuracy of
no correction, of the prior-corrected posterior (``correction="proba"``) and
of the classifier refitted with the class weights (``correction="reweight"``),
against skada's ``MMDTarSReweightAdapter`` (Zhang et al. 2013; RBF kernel,
median-heuristic gamma on the same PCA features, its weights refit the same
classifier) and an oracle that knows the true priors.

The cross-fitted source models do not depend on the target sample, so per
seed they are fitted once and every target sample is scored with
:func:`sktl.estimate_label_shift` on their predictions: exactly what
:class:`sktl.LabelShiftClassifier` computes (checked on the first seed of each run).

Part ``diagnose`` runs :func:`sktl.metrics.diagnose_shift` on seeded
``make_domain_shift`` problems of each kind (300 + 300 rows, 2 or 5 features,
2 or 3 classes, default strength; "none" = strength 0 of the three
generators) and counts the verdicts; part ``diagnose-digits`` runs it on
real digits (MNIST -> MNIST, a Dirichlet label shift of MNIST, MNIST -> USPS).

Run (each part under the shared lock; ``report`` writes the results file):

    PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/bench_label_shift.py digits \
        --domain mnist --seeds 3
    (the same with --domain usps, and --first-seed 3 ... for more seeds)
    PYTHONPATH=$PWD python benchmarks/bench_label_shift.py diagnose --kind label
    PYTHONPATH=$PWD python benchmarks/bench_label_shift.py diagnose --kind covariate
    PYTHONPATH=$PWD python benchmarks/bench_label_shift.py diagnose --kind conditional
    PYTHONPATH=$PWD python benchmarks/bench_label_shift.py diagnose --kind none
    PYTHONPATH=$PWD python benchmarks/bench_label_shift.py diagnose-digits --seeds 5
    PYTHONPATH=$PWD python benchmarks/bench_label_shift.py report

in an environment with sktl and skada (see benchmarks/README.md). Raw results
go to benchmarks/results/label_shift_raw/, the tables to
benchmarks/results/label_shift.md.
"""

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
RAW = HERE / "results" / "label_shift_raw"
RESULTS = HERE / "results" / "label_shift.md"
DATA = Path(os.environ.get("SKTL_DATA", HERE.resolve().parents[1] / "shared" / "data"))
SHIFTS = [("dirichlet", 0.1), ("dirichlet", 1.0), ("dirichlet", 10.0),
          ("tweak-one", 0.5), ("tweak-one", 0.9)]
# the interpreter named in the recorded commands (skada is needed by part digits only)
_PY = "/work/benchenv/bin/python" if "benchenv" in sys.executable else "python"
KINDS = ["none", "label", "covariate", "conditional"]
VERDICTS = ["no shift", "label shift", "covariate shift", "conditional shift",
            "label shift + conditional shift"]


def _base(svd_solver="full"):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # part digits: the full SVD, the same components whichever random_state a
    # meta-estimator passes down (diagnose-digits ran with the default solver)
    return make_pipeline(StandardScaler(), PCA(50, svd_solver=svd_solver, random_state=0),
                         LogisticRegression(C=0.1, max_iter=1000))


def _reweighted_accuracy(Zs, ys, Zt, yt, w_rows):
    """The classifier's last step refitted with per-row weights on the same features.

    Scaler and PCA are fitted without weights (as ``Pipeline.fit`` would with
    ``logisticregression__sample_weight``), so they are reused.
    """
    from sklearn.base import clone

    clf = clone(_base()[-1]).fit(Zs, ys, sample_weight=w_rows)
    return float(clf.score(Zt, yt))


def _target_priors(kind, param, k, rng):
    if kind == "dirichlet":
        return rng.dirichlet(np.full(k, param))
    q = np.full(k, (1 - param) / (k - 1))
    q[rng.randint(k)] = param
    return q


def _draw_target(X_pool, y_pool, classes, q, n, rng):
    counts = rng.multinomial(n, q)
    idx = np.concatenate([rng.choice(np.flatnonzero(y_pool == c), m, replace=True)
                          for c, m in zip(classes, counts) if m])
    return X_pool[idx], y_pool[idx]


def _draw_target_unique(X_pool, y_pool, classes, q, n, rng):
    """Up to ``n`` distinct pool rows with class proportions ``q``.

    Duplicated rows are themselves a difference between the domains (atoms in
    the target), which any two-sample test sees; the diagnosis benchmark
    therefore draws without replacement, as many rows as the pool allows.
    """
    avail = np.array([np.sum(y_pool == c) for c in classes])
    n = int(min(n, np.min(avail[q > 0] / q[q > 0])))
    counts = np.minimum(np.floor(q * n + 0.5).astype(int), avail)
    idx = np.concatenate([rng.choice(np.flatnonzero(y_pool == c), m, replace=False)
                          for c, m in zip(classes, counts) if m])
    return X_pool[idx], y_pool[idx]


def _median_gamma(Z, rng):
    sub = Z[rng.choice(len(Z), min(len(Z), 1000), replace=False)]
    d2 = ((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1)
    return 1.0 / np.median(d2[np.triu_indices(len(sub), 1)])


def _skada_weights(Zs, ys, Zt, gamma):
    from skada import MMDTarSReweightAdapter

    X = np.vstack([Zs, Zt])
    y = np.r_[ys, np.full(len(Zt), -1)]
    sd = np.r_[np.ones(len(Zs), int), -2 * np.ones(len(Zt), int)]
    adapter = MMDTarSReweightAdapter(gamma=gamma).fit(X, y, sample_domain=sd)
    return np.asarray(adapter.alpha_, dtype=float).ravel()


def _check_estimator_path(Xs, ys, Xt, folds, expected):
    """Largest difference between LabelShiftClassifier's priors and the function path's.

    With the same folds the two compute the same thing; the difference is
    recorded (and printed) rather than asserted, so that a solver's last
    digits cannot stop a long run.
    """
    from sktl import LabelShiftClassifier

    X = np.vstack([Xs, Xt])
    y = np.r_[ys, np.full(len(Xt), -1)]
    sd = np.r_[np.ones(len(Xs), int), -2 * np.ones(len(Xt), int)]
    clf = LabelShiftClassifier(_base(), cv=folds, n_bootstrap=0, random_state=0)
    clf.fit(X, y, sample_domain=sd)
    return float(np.abs(clf.target_priors_ - expected).max())


def run_digits(domain, seeds, n_target, check=True):
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, train_test_split

    from sktl import estimate_label_shift
    from sktl._label_shift import _adjust_proba
    from sktl.datasets import load_mnist_usps

    other = "usps" if domain == "mnist" else "mnist"
    X, y, sd = load_mnist_usps(domain, other, data_home=DATA)
    X, y = X[sd > 0], y[sd > 0]
    records = []
    for seed in seeds:
        rng = np.random.RandomState(seed)
        Xs, X_pool, ys, y_pool = train_test_split(X, y, train_size=0.6, stratify=y,
                                                  random_state=seed)
        classes = np.unique(ys)
        y_enc = np.searchsorted(classes, ys)
        p_s = np.bincount(y_enc) / len(ys)
        start = time.perf_counter()
        folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(Xs, ys))
        oof = np.zeros((len(ys), len(classes)))
        fold_models = []
        for fit_idx, test_idx in folds:
            model = clone(_base()).fit(Xs[fit_idx], ys[fit_idx])
            oof[test_idx] = model.predict_proba(Xs[test_idx])
            fold_models.append(model)
        t_crossfit = time.perf_counter() - start
        start = time.perf_counter()
        fit_idx, held = next(StratifiedShuffleSplit(1, test_size=0.5, random_state=seed)
                             .split(Xs, ys))
        split_model = clone(_base()).fit(Xs[fit_idx], ys[fit_idx])
        t_split = time.perf_counter() - start
        full = clone(_base()).fit(Xs, ys)
        Zs = full[:-1].transform(Xs)
        gamma = _median_gamma(Zs, rng)
        for kind, param in SHIFTS:
            q = _target_priors(kind, param, len(classes), rng)
            Xt, yt = _draw_target(X_pool, y_pool, classes, q, n_target, rng)
            true_w = q / p_s
            P_folds = np.stack([m.predict_proba(Xt) for m in fold_models])
            P_full = full.predict_proba(Xt)
            Zt = full[:-1].transform(Xt)
            cross = (ys, oof, P_folds)
            split = (ys[held], split_model.predict_proba(Xs[held]),
                     split_model.predict_proba(Xt))
            specs = {
                "BBSE, one split": (split, dict(method="bbse", n_bootstrap=0)),
                "BBSE, 5-fold cross-fit": (cross, dict(method="bbse", n_bootstrap=100)),
                "RLLS, 5-fold cross-fit": (cross, dict(method="rlls", n_bootstrap=0)),
                "EM + BCTS, one split": (split, dict(method="em", n_bootstrap=0)),
                "EM + BCTS, 5-fold cross-fit": (cross, dict(method="em", n_bootstrap=100)),
                "EM uncalibrated, 5-fold cross-fit": (cross, dict(method="em", calibration=None,
                                                                  n_bootstrap=0)),
            }
            rec = {"domain": domain, "seed": seed, "shift": f"{kind} {param:g}",
                   "t_crossfit": t_crossfit, "t_split": t_split, "methods": {}}
            cal_cross = None
            for name, (args, kw) in specs.items():
                start = time.perf_counter()
                try:
                    res = estimate_label_shift(*args, classes=classes, random_state=seed, **kw)
                except ValueError as exc:  # singular confusion matrix
                    rec["methods"][name] = {"error": str(exc)[:80]}
                    continue
                seconds = time.perf_counter() - start
                if name == "EM + BCTS, 5-fold cross-fit":
                    cal_cross = res
                w_hat = res.target_priors / p_s
                proba = _adjust_proba(P_full, res.target_priors, res.model_priors,
                                      res.calibration)
                out = {"mse": float(np.mean((w_hat - true_w) ** 2)), "seconds": seconds,
                       "acc_proba": float(np.mean(classes[proba.argmax(1)] == yt))}
                if res.target_priors_ci is not None:
                    lo, hi = res.target_priors_ci.T
                    out["coverage"] = float(np.mean((lo <= q) & (q <= hi)))
                if "cross-fit" in name and name.split(",")[0] in ("BBSE", "EM + BCTS"):
                    out["acc_reweight"] = _reweighted_accuracy(
                        Zs, ys, Zt, yt, np.clip(w_hat, 0, None)[y_enc])
                rec["methods"][name] = out
                if check and seed == seeds[0] and kind == "dirichlet" and param == 1.0 and \
                        name == "EM + BCTS, 5-fold cross-fit":
                    rec["estimator_path_max_diff"] = _check_estimator_path(
                        Xs, ys, Xt, folds, res.target_priors)
                    print("LabelShiftClassifier vs estimate_label_shift, max |diff| of the "
                          f"priors: {rec['estimator_path_max_diff']:.2e}", flush=True)
            start = time.perf_counter()
            alpha = _skada_weights(Zs, ys, Zt, gamma)
            seconds = time.perf_counter() - start
            rec["methods"]["skada MMDTarSReweight"] = {
                "mse": float(np.mean((alpha - true_w) ** 2)), "seconds": seconds,
                "acc_reweight": _reweighted_accuracy(Zs, ys, Zt, yt, alpha[y_enc])}
            oracle_proba = _adjust_proba(P_full, q, cal_cross.model_priors,
                                         cal_cross.calibration)
            rec["methods"]["oracle (true priors)"] = {
                "mse": 0.0,
                "acc_proba": float(np.mean(classes[oracle_proba.argmax(1)] == yt)),
                "acc_reweight": _reweighted_accuracy(Zs, ys, Zt, yt, true_w[y_enc])}
            rec["methods"]["no correction"] = {"acc_proba": float(full.score(Xt, yt))}
            records.append(rec)
            print(domain, seed, rec["shift"], {k: round(v.get("mse", np.nan), 4)
                                               for k, v in rec["methods"].items()}, flush=True)
    return records


def _kind_problem(kind, i):
    from sktl.datasets import make_domain_shift

    rs = np.random.RandomState(1000 + i)
    n_features, n_classes = int(rs.choice([2, 5])), int(rs.choice([2, 3]))
    if kind == "none":
        shift, strength = ["label", "covariate", "conditional"][i % 3], 0.0
    else:
        shift, strength = kind, 1.0
    X, y, sd = make_domain_shift(300, 300, shift=shift, shift_strength=strength,
                                 n_features=n_features, n_classes=n_classes,
                                 mask_target=True, random_state=10_000 + i)
    return X, y, sd, {"n_features": n_features, "n_classes": n_classes, "generator": shift}


def run_diagnose(kind, problems):
    from sktl.metrics import diagnose_shift

    records = []
    for i in problems:
        X, y, sd, info = _kind_problem(kind, i)
        start = time.perf_counter()
        r = diagnose_shift(X, y, sd, random_state=i)
        records.append({"kind": kind, "problem": i, "verdict": r.verdict,
                        "seconds": time.perf_counter() - start,
                        "p_values": {k: float(v) for k, v in r.p_values.items()}, **info})
        print(kind, i, r.verdict, {k: round(v, 3) for k, v in r.p_values.items()}, flush=True)
    return records


DIGIT_KINDS = ["no shift (MNIST -> MNIST)", "label shift (MNIST, Dirichlet 1)",
               "domain change (MNIST -> USPS)"]


def run_diagnose_digits(seeds):
    """diagnose_shift on real digits: no shift, a resampled label shift, MNIST -> USPS."""
    from sklearn.model_selection import train_test_split

    from sktl.datasets import load_mnist_usps
    from sktl.metrics import diagnose_shift

    X, y, sd = load_mnist_usps("mnist", "usps", data_home=DATA)
    Xm, ym, Xu = X[sd > 0], y[sd > 0], X[sd < 0]
    records = []
    for seed in seeds:
        rng = np.random.RandomState(seed)
        Xs, X_pool, ys, y_pool = train_test_split(Xm, ym, train_size=0.5, stratify=ym,
                                                  random_state=seed)
        classes = np.unique(ys)
        same = rng.choice(len(X_pool), 500, replace=False)
        q = rng.dirichlet(np.ones(len(classes)))
        targets = {
            DIGIT_KINDS[0]: X_pool[same],
            DIGIT_KINDS[1]: _draw_target_unique(X_pool, y_pool, classes, q, 500, rng)[0],
            DIGIT_KINDS[2]: Xu[rng.choice(len(Xu), 500, replace=False)],
        }
        for kind, Xt in targets.items():
            X_all = np.vstack([Xs, Xt])
            y_all = np.r_[ys, np.full(len(Xt), -1)]
            sd_all = np.r_[np.ones(len(Xs), int), -2 * np.ones(len(Xt), int)]
            start = time.perf_counter()
            r = diagnose_shift(X_all, y_all, sd_all, estimator=_base("auto"),
                               random_state=seed)
            records.append({"kind": kind, "problem": seed, "verdict": r.verdict,
                            "seconds": time.perf_counter() - start,
                            "p_values": {k: float(v) for k, v in r.p_values.items()}})
            print(kind, seed, r.verdict, {k: round(v, 3) for k, v in r.p_values.items()},
                  flush=True)
    return records


def _mean_sd(values):
    values = [v for v in values if v is not None and not np.isnan(v)]
    if not values:
        return ""
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}" if len(values) > 1 else \
        f"{values[0]:.4f}"


def _digits_tables(records):
    lines = []
    methods = list(records[0]["methods"])
    for domain in dict.fromkeys(r["domain"] for r in records):
        rows = [r for r in records if r["domain"] == domain]
        n_seeds = len({r["seed"] for r in rows})
        lines += [f"### {domain.upper()} ({n_seeds} seeds per shift)", "",
                  "| shift | method | weight MSE | acc. (proba) | acc. (reweight) | "
                  "CI coverage | estimate s |", "|---|---|---:|---:|---:|---:|---:|"]
        for shift in dict.fromkeys(r["shift"] for r in rows):
            sub = [r for r in rows if r["shift"] == shift]
            for m in methods:
                cells = [r["methods"].get(m, {}) for r in sub]
                errors = sum("error" in c for c in cells)

                def col(key, cells=cells):
                    return _mean_sd([c.get(key) for c in cells if key in c])

                mse = col("mse") + (f" ({errors} singular)" if errors else "")
                lines.append(f"| {shift} | {m} | {mse} | {col('acc_proba')} | "
                             f"{col('acc_reweight')} | {col('coverage')} | {col('seconds')} |")
        t_cross = np.mean([r["t_crossfit"] for r in rows])
        t_split = np.mean([r["t_split"] for r in rows])
        lines += ["", f"Fitting the classifiers: 5-fold cross-fit {t_cross:.1f} s, one split "
                  f"{t_split:.1f} s per seed (shared by every target sample of the seed).", ""]
    # summary: mean over every shift and domain
    lines += ["### Summary over both domains and all shifts", "",
              "| method | weight MSE | median weight MSE | acc. (proba) | acc. (reweight) | "
              "MSE / skada's | median MSE / skada's |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    sk_mse = [r["methods"]["skada MMDTarSReweight"]["mse"] for r in records]
    for m in methods:
        cells = [r["methods"].get(m, {}) for r in records]
        vals = {k: [c[k] for c in cells if k in c] for k in ("mse", "acc_proba", "acc_reweight")}
        ratios = ["", ""]
        if vals["mse"] and m != "oracle (true priors)":
            ratios = [f"{np.mean(vals['mse']) / np.mean(sk_mse):.2f}",
                      f"{np.median(vals['mse']) / np.median(sk_mse):.2f}"]
        median = f"{np.median(vals['mse']):.4f}" if vals["mse"] else ""
        mean = {k: f"{np.mean(v):.4f}" if v else "" for k, v in vals.items()}
        lines.append(f"| {m} | {mean['mse']} | {median} | {mean['acc_proba']} | "
                     f"{mean['acc_reweight']} | {ratios[0]} | {ratios[1]} |")
    lines += ["", "The mean weight MSE of skada's reweighting is driven by a few samples where "
              "its weights blow up; the median columns are robust to them.", ""]
    return lines


def _diagnose_tables(records, kinds=None, expected=None):
    lines = ["| true kind | problems | " + " | ".join(VERDICTS) + " | correct | s / problem |",
             "|---|---:|" + "---:|" * (len(VERDICTS) + 2)]
    expected = expected or {"none": "no shift", "label": "label shift",
                            "covariate": "covariate shift", "conditional": "conditional shift"}
    for kind in kinds or KINDS:
        rows = [r for r in records if r["kind"] == kind]
        if not rows:
            continue
        counts = Counter(r["verdict"] for r in rows)
        hits = sum(counts[v] for v in expected[kind]) if isinstance(expected[kind], tuple) \
            else counts[expected[kind]]
        correct = hits / len(rows)
        secs = np.mean([r["seconds"] for r in rows])
        lines.append(f"| {kind} | {len(rows)} | " + " | ".join(str(counts[v]) for v in VERDICTS)
                     + f" | {correct:.0%} | {secs:.1f} |")
    return lines


def _md(text):
    """A docstring paragraph as Markdown: plain code spans, no Sphinx roles."""
    return text.replace(":func:", "").replace(":class:", "").replace("``", "`")


def report():
    parts = {p.stem: json.loads(p.read_text()) for p in sorted(RAW.glob("*.json"))}
    digits = [r for k, v in parts.items() if k.startswith("digits") for r in v["records"]]
    diag = [r for k, v in parts.items() if k.startswith("diagnose_") for r in v["records"]]
    diag_digits = [r for k, v in parts.items() if k.startswith("diagdigits")
                   for r in v["records"]]
    commands = [v["command"] + (f"  # load average at the end: {v['loadavg'][0]:.1f} (1 min), "
                                f"{v['loadavg'][1]:.1f} (5 min)" if "loadavg" in v else "")
                + (f"  # {v['note']}" if "note" in v else "") for v in parts.values()]
    lines = ["# Label shift: sktl vs skada, and diagnose_shift", "",
             "Generated by (each part under `flock /work/wt/heavy.lock`, 2 CPU cores shared "
             "with other sessions, unless its line says otherwise):", "", "```"] + commands + [
             "PYTHONPATH=$PWD python benchmarks/bench_label_shift.py report", "```", ""]
    if digits:
        lines += ["## Estimating the target priors on digits (Lipton et al.'s protocol)", "",
                  _md("The protocol " + __doc__.split("Part ``digits``")[1]
                      .split("Part ``diagnose``")[0].strip()), "",
                  "Weight MSE is the mean over classes of (estimated - true) importance weight "
                  "squared; accuracies are on the target sample; CI coverage is the share of "
                  "classes whose true prior lies in the 95 % bootstrap interval.", ""]
        lines += _digits_tables(digits) + [""]
    if diag:
        lines += ["## diagnose_shift: verdicts on generated problems", "",
                  _md("Part ``diagnose`` " + __doc__.split("Part ``diagnose``")[1]
                      .split("Run (")[0].strip()), ""]
        lines += _diagnose_tables(diag) + [""]
    if diag_digits:
        lines += ["## diagnose_shift on real digits", "",
                  "MNIST rows split in halves per seed: a labelled source, and a pool "
                  "from which 500 target rows are drawn with the source's class balance "
                  "(no shift) or, without replacement, as many as the pool allows (at most "
                  "500) with Dirichlet(1) priors (label shift), or 500 USPS rows (a "
                  "change of the digits' appearance: any verdict but \"no shift\" and "
                  "\"label shift\" counts as correct). Estimator: StandardScaler + PCA(50) + "
                  "LogisticRegression(C=0.1).", ""]
        expected = {DIGIT_KINDS[0]: "no shift", DIGIT_KINDS[1]: "label shift",
                    DIGIT_KINDS[2]: ("covariate shift", "conditional shift",
                                     "label shift + conditional shift")}
        lines += _diagnose_tables(diag_digits, DIGIT_KINDS, expected) + [""]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["digits", "diagnose", "diagnose-digits", "report"])
    parser.add_argument("--domain", choices=["mnist", "usps"], default="mnist")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--n-target", type=int, default=500)
    parser.add_argument("--kind", choices=KINDS, default="label")
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--first-problem", type=int, default=0)
    args = parser.parse_args()
    if args.part == "report":
        report()
        return
    RAW.mkdir(parents=True, exist_ok=True)
    if args.part == "digits":
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        name = f"digits_{args.domain}_{seeds.start}-{seeds.stop - 1}"
        command = (f"PYTHONPATH=$PWD {_PY} benchmarks/bench_label_shift.py digits --domain "
                   f"{args.domain} --first-seed {args.first_seed} --seeds {args.seeds} "
                   f"--n-target {args.n_target}")
        records = []
        for seed in seeds:  # saved seed by seed: a run stopped by a timeout keeps its seeds
            records += run_digits(args.domain, [seed], args.n_target, check=seed == seeds[0])
            (RAW / f"{name}.json").write_text(json.dumps({"command": command,
                                                          "loadavg": os.getloadavg(),
                                                          "records": records}))
        report()
        return
    elif args.part == "diagnose-digits":
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        records = run_diagnose_digits(seeds)
        name = f"diagdigits_{seeds.start}-{seeds.stop - 1}"
        command = (f"PYTHONPATH=$PWD {_PY} benchmarks/bench_label_shift.py diagnose-digits "
                   f"--first-seed {args.first_seed} --seeds {args.seeds}")
    else:
        problems = range(args.first_problem, args.first_problem + args.problems)
        records = run_diagnose(args.kind, problems)
        name = f"diagnose_{args.kind}_{problems.start}-{problems.stop - 1}"
        command = (f"PYTHONPATH=$PWD {_PY} benchmarks/bench_label_shift.py diagnose --kind "
                   f"{args.kind} --first-problem {args.first_problem} --problems "
                   f"{args.problems}")
    (RAW / f"{name}.json").write_text(json.dumps({"command": command, "loadavg": os.getloadavg(),
                                                  "records": records}))
    report()


if __name__ == "__main__":
    main()
