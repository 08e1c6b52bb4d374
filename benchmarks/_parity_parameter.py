"""Parameter-based transfer with a few target labels: sktl next to ADAPT 0.4.5.

Every method of ``sktl/_parameter.py`` and ``sktl/_tree.py`` (and FEDA, and the
instance methods that need target labels: balanced weighting and the TrAdaBoost family) is
compared with its ADAPT counterpart on the same data, the same labelled
target rows and — where ADAPT takes a fitted source model — the *same* fitted
source model (sktl gets it in a ``FrozenEstimator``), so that the two differ
only in how they adapt it. Alongside: the source-only, target-only and pooled
(source + labelled target rows) models of the same kind.

Protocol
--------
* Data: the generated shifts of ``benchmarks/_tasks.py`` (covariate, label,
  conditional; classification and regression; 400 + 400 rows, 5 features;
  ``--seeds`` seeds) and its real tasks of the families wine, corn,
  Office-Caltech and Amazon (at most 600 rows per domain), features
  standardised on all rows of a task (no label used), class labels encoded
  0..K-1 (ADAPT's trees require it).
* Labels: for each fraction in ``--fractions`` (default 1 %, 5 %, 10 %) of the
  target rows, at least 2, ``--draws`` random draws of labelled target rows;
  the rest of the target rows are the test rows.
* Score: accuracy or RMSE on the unlabelled target rows; fit time (for the
  methods given a prefit source, the adaptation only — for both libraries).
* Settings: each library's defaults; for the regularised models also a shared
  grid of penalties (sktl ``alpha`` = ADAPT ``lambda_ ** 2``, the same
  penalty), reported as the best grid value per group and fraction (an oracle
  on target labels, the same for both libraries; it selects nothing).
* Verdict: paired difference sktl − ADAPT (ADAPT − sktl for RMSE, so positive
  is better for sktl) over every data set × fraction × draw, mean ± s.e.,
  "ok" when above −2 s.e.; speed = ADAPT time / sktl time.

Why a protocol of its own: the shared driver ``bench_parity.py`` hides every
target label, and these methods need some. This module therefore runs on its
own and leaves ``COMPARISONS`` empty for the driver.

Run (benchmark environment, under the shared lock; split by ``--data`` and
``--methods`` to keep each run short)::

    PYTHONPATH=$PWD flock /work/wt/heavy.lock /work/benchenv/bin/python \\
        benchmarks/_parity_parameter.py --data generated --methods linear

Results: ``benchmarks/results/parity_parameter.md``, one block per data scope
and method group, each with the command that produced it.
"""

import argparse
import contextlib
import io
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

RESULTS = HERE / "results" / "parity_parameter.md"
COMPARISONS = []  # the shared driver masks every target label: see the docstring
FRACTIONS = (0.01, 0.05, 0.10)
REAL_FAMILIES = ("wine", "corn", "office", "amazon")
GRID = (0.1, 1.0, 10.0, 100.0)  # sktl alpha; ADAPT lambda_ = sqrt(alpha)
N_TREES = 30

# ----------------------------------------------------------------------------- models


def linear(task):
    from sklearn.linear_model import LogisticRegression, Ridge

    return LogisticRegression(max_iter=1000) if task == "classification" else Ridge()


def gp(task):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    return GaussianProcessRegressor(ConstantKernel() * RBF() + WhiteKernel(), normalize_y=True)


def tree(task):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=0)


def forest(task):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=N_TREES, random_state=0)


def _frozen(model):
    from sklearn.frozen import FrozenEstimator

    return FrozenEstimator(model)


def _sktl(name, **kw):
    import sktl

    return getattr(sktl, name)


# Each method: (group, tasks, base, prefit source?, sktl(s) -> model, ADAPT(s) -> model,
# grid). With a prefit source ``s`` is the fitted source model, otherwise the base
# template; sktl models take fit(X, y, sample_domain), ADAPT ones are wrapped below.
def _m_rtlr(kw=None):
    def sk(s, task):
        return _sktl("RegularTransferLR")(_frozen(s), **(kw or {}))

    def ad(s, task):
        from adapt.parameter_based import RegularTransferLR

        lam = {"lambda_": math.sqrt(kw["alpha"])} if kw else {}
        return _Adapt(lambda Xl, yl, Xs, ys: RegularTransferLR(
            s, verbose=0, random_state=0, **lam).fit(Xl, yl))
    return sk, ad


def _m_rtlc(kw=None):
    def sk(s, task):
        return _sktl("RegularTransferLC")(_frozen(s), random_state=0, **(kw or {}))

    def ad(s, task):
        from adapt.parameter_based import RegularTransferLC

        lam = {"lambda_": math.sqrt(kw["alpha"])} if kw else {}
        return _Adapt(lambda Xl, yl, Xs, ys: RegularTransferLC(
            s, verbose=0, random_state=0, **lam).fit(Xl, yl))
    return sk, ad


def _m_rtgp(kw=None):
    def sk(s, task):
        return _sktl("RegularTransferGP")(_frozen(s), **(kw or {}))

    def ad(s, task):
        from adapt.parameter_based import RegularTransferGP

        lam = {"lambda_": math.sqrt(kw["alpha"])} if kw else {}
        return _Adapt(lambda Xl, yl, Xs, ys: RegularTransferGP(
            s, verbose=0, random_state=0, **lam).fit(Xl, yl))
    return sk, ad


def _m_pred():
    def sk(base, task):
        return _sktl("PRED")(base)

    def ad(base, task):
        from adapt.feature_based import PRED

        return _Adapt(lambda Xl, yl, Xs, ys: PRED(
            base, Xt=Xl, yt=yl, pretrain=True, verbose=0, random_state=0).fit(Xs, ys))
    return sk, ad


def _m_linint():
    def sk(base, task):
        return _sktl("LinInt")(base, random_state=0)

    def ad(base, task):
        from adapt.parameter_based import LinInt

        return _Adapt(lambda Xl, yl, Xs, ys: LinInt(
            base, Xt=Xl, yt=yl, verbose=0, random_state=0).fit(Xs, ys))
    return sk, ad


def _m_feda():
    def sk(base, task):
        return _sktl("FEDA")(base)

    def ad(base, task):
        from adapt.feature_based import FA

        return _Adapt(lambda Xl, yl, Xs, ys: FA(
            base, Xt=Xl, yt=yl, verbose=0, random_state=0).fit(Xs, ys))
    return sk, ad


def _m_tree(cls, algo):
    def sk(s, task):
        return _sktl(cls)(_frozen(s), algo=algo, random_state=0)

    def ad(s, task):
        if algo == "mix":
            return None  # ADAPT has no MIX
        import adapt.parameter_based as ap

        return _Adapt(lambda Xl, yl, Xs, ys: getattr(ap, cls)(
            s, algo=algo, verbose=0, random_state=0).fit(Xl, yl))
    return sk, ad


def _m_instance(sktl_name, adapt_name, **sktl_kw):
    """Instance transfer with labelled target rows (balanced weighting, TrAdaBoost)."""
    def sk(base, task):
        return _sktl(sktl_name)(base, **sktl_kw)

    def ad(base, task):
        import adapt.instance_based as ai

        return _Adapt(lambda Xl, yl, Xs, ys: getattr(ai, adapt_name)(
            base, Xt=Xl, yt=yl, verbose=0, random_state=0).fit(Xs, ys))
    return sk, ad


def _grid(maker):
    return [(f"alpha={a:g}", maker({"alpha": a})) for a in GRID]


METHODS = {
    # name: (group, tasks, base, prefit, (sktl, ADAPT), grid)
    "RegularTransferLR": ("linear", ("regression",), linear, True, _m_rtlr(), _grid(_m_rtlr)),
    "RegularTransferLC": ("linear", ("classification",), linear, True, _m_rtlc(),
                          _grid(_m_rtlc)),
    "PRED": ("linear", ("classification", "regression"), linear, False, _m_pred(), []),
    "LinInt": ("linear", ("classification", "regression"), linear, False, _m_linint(), []),
    "FEDA": ("linear", ("classification", "regression"), linear, False, _m_feda(), []),
    "BalancedWeighting": ("instance", ("classification", "regression"), linear, False,
                          _m_instance("BalancedWeighting", "BalancedWeighting"), []),
    "TrAdaBoost": ("instance", ("classification",), linear, False,
                   _m_instance("TrAdaBoostClassifier", "TrAdaBoost", random_state=0), []),
    "TrAdaBoostR2": ("instance", ("regression",), linear, False,
                     _m_instance("TrAdaBoostR2", "TrAdaBoostR2", random_state=0), []),
    "TwoStageTrAdaBoostR2": ("instance", ("regression",), linear, False,
                             _m_instance("TwoStageTrAdaBoostR2", "TwoStageTrAdaBoostR2",
                                         random_state=0), []),
    "RegularTransferGP": ("gp", ("regression",), gp, True, _m_rtgp(), _grid(_m_rtgp)),
    "TransferTree (SER)": ("trees", ("classification",), tree, True,
                           _m_tree("TransferTreeClassifier", "ser"), []),
    "TransferTree (STRUT)": ("trees", ("classification",), tree, True,
                             _m_tree("TransferTreeClassifier", "strut"), []),
    "TransferForest (SER)": ("forests", ("classification",), forest, True,
                             _m_tree("TransferForestClassifier", "ser"), []),
    "TransferForest (STRUT)": ("forests", ("classification",), forest, True,
                               _m_tree("TransferForestClassifier", "strut"), []),
    "TransferForest (MIX)": ("forests", ("classification",), forest, True,
                             _m_tree("TransferForestClassifier", "mix"), []),
}


class _Adapt:
    """An ADAPT model behind ``fit(X, y, sample_domain)`` / ``predict``; prints silenced."""

    def __init__(self, fit):
        self._fit = fit

    def fit(self, X, y, sample_domain):
        src = sample_domain > 0
        lab = (sample_domain < 0) & ~_masked(y)
        with contextlib.redirect_stdout(io.StringIO()):
            self.model_ = self._fit(X[lab], y[lab], X[src], y[src])
        return self

    def predict(self, X):
        with contextlib.redirect_stdout(io.StringIO()):
            return np.asarray(self.model_.predict(X)).ravel()


def _masked(y):
    return np.isnan(y) if y.dtype.kind == "f" else y == -1


# ----------------------------------------------------------------------------- data


class Data:
    def __init__(self, name, group, task, X, y, sd):
        from sklearn.preprocessing import LabelEncoder, StandardScaler

        self.name, self.group, self.task = name, group, task
        self.X = StandardScaler().fit_transform(np.asarray(X, float))
        y = np.asarray(y)
        self.y = (LabelEncoder().fit_transform(y) if task == "classification"
                  else y.astype(float))
        self.sd = np.where(np.asarray(sd) > 0, 1, -2)


def load(which, seeds, max_rows, families=REAL_FAMILIES, half="all"):
    from _tasks import _generated, all_tasks, split_tasks

    out = []
    if which in ("generated", "all"):
        for shift in ("covariate", "label", "conditional"):
            for task in ("classification", "regression"):
                for seed in range(seeds):
                    X, y, sd = _generated(shift, task, seed)()
                    out.append(Data(f"{shift} {task[:5]}. #{seed}",
                                    f"generated {shift} ({task[:5]}.)", task, X, y, sd))
    if which in ("real", "all"):
        keep = None
        if half != "all":  # the shared development / confirmation split of the task list
            dev, confirm = split_tasks(all_tasks(max_rows=max_rows))
            keep = {t.name for t in (dev if half == "dev" else confirm)}
        for t in all_tasks(max_rows=max_rows):
            if t.family in families and (keep is None or t.name in keep):
                X, y, sd = t.load()
                out.append(Data(t.name, f"{t.family} ({t.task[:5]}.)", t.task, X, y, sd))
    return out


def draws(data, fraction, n_draws):
    """``(labelled rows, test rows)`` for each draw of labelled target rows."""
    tgt = np.flatnonzero(data.sd < 0)
    k = max(2, int(round(fraction * len(tgt))))
    for d in range(n_draws):
        rng = np.random.default_rng(1000 * d + int(fraction * 1000))
        lab = rng.choice(tgt, k, replace=False)
        yield lab, np.setdiff1d(tgt, lab)


# ----------------------------------------------------------------------------- running


def _score(task, pred, truth):
    pred = np.asarray(pred).ravel()
    if task == "regression":
        return float(np.sqrt(np.mean((pred.astype(float) - truth) ** 2)))
    return float(np.mean(pred == truth))


def _run(make, arg, data, y, test):
    """``(score, seconds, error)``: fit on every row, score on the test rows."""
    X, sd, task, truth = data.X, data.sd, data.task, data.y[test]
    try:
        model = make(arg, task)
        if model is None:
            return math.nan, math.nan, "no counterpart"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            model.fit(X, y, sample_domain=sd)
            secs = time.perf_counter() - start
            pred = model.predict(X[test])
    except Exception as exc:  # a failure is a result, not a crash of the study
        return math.nan, math.nan, f"{type(exc).__name__}: {str(exc)[:60]}"
    return _score(task, pred, truth), secs, None


def _fit_plain(template, X, y, task):
    """``template`` fitted on ``X, y``; a constant for a single class."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier

    if task == "classification" and len(np.unique(y)) < 2:
        return DummyClassifier().fit(X, y)
    return clone(template).fit(X, y)


def run_method(name, datasets, fractions, n_draws, log):
    group, tasks, base_fn, prefit, (sk, ad), grid = METHODS[name]
    rows = []  # dicts: data, fraction, baselines, sktl, ADAPT, grid results
    for data in [d for d in datasets if d.task in tasks]:
        base = base_fn(data.task)
        src = data.sd > 0
        with warnings.catch_warnings():  # the source model depends on no target label
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            source = _fit_plain(base, data.X[src], data.y[src], data.task)
            src_secs = time.perf_counter() - t0
        for frac in fractions:
            for lab, test in draws(data, frac, n_draws):
                y = data.y.copy()
                y[(data.sd < 0)] = np.nan if data.task == "regression" else -1
                y[lab] = data.y[lab]
                truth = data.y[test]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    keep = src.copy()
                    keep[lab] = True
                    base_scores = {
                        "source": _score(data.task, source.predict(data.X[test]), truth),
                        "target": _score(data.task, _fit_plain(
                            base, data.X[lab], data.y[lab], data.task).predict(data.X[test]),
                            truth),
                        "pooled": _score(data.task, _fit_plain(
                            base, data.X[keep], data.y[keep], data.task).predict(
                                data.X[test]), truth),
                    }
                arg = source if prefit else base
                row = {"data": data, "frac": frac, **base_scores, "source_secs": src_secs}
                for lib, maker in (("sktl", sk), ("ADAPT", ad)):
                    row[lib] = _run(maker, arg, data, y, test)
                for label, (gsk, gad) in grid:
                    for lib, maker in (("sktl", gsk), ("ADAPT", gad)):
                        row[f"{lib} {label}"] = _run(maker, arg, data, y, test)
                rows.append(row)
        last = [r for r in rows if r["data"] is data]
        if last:
            log(f"  {name} | {data.name} | src {np.mean([r['source'] for r in last]):.3f} "
                f"tgt {np.mean([r['target'] for r in last]):.3f} | sktl "
                f"{np.nanmean([r['sktl'][0] for r in last]):.3f} ADAPT "
                f"{np.nanmean([r['ADAPT'][0] for r in last]):.3f}")
    return rows


def _fmt(values, digits=3):
    v = np.asarray([x for x in values if not math.isnan(x)], float)
    if not v.size:
        return "—"
    return f"{v.mean():.{digits}f}"


def table(name, rows, fractions):
    """Markdown lines for one method."""
    if not rows:
        return []
    grid_labels = [k.removeprefix("sktl ") for k in rows[0] if k.startswith("sktl alpha")]
    head = ["data (n)", "labels", "source", "target", "pooled", "sktl", "ADAPT"]
    if grid_labels:
        head += ["sktl grid", "ADAPT grid"]
    head += ["sktl s", "ADAPT s"]
    lines = [f"### {name}", "", "| " + " | ".join(head) + " |",
             "|---|---|" + "---:|" * (len(head) - 2)]
    for g in dict.fromkeys(r["data"].group for r in rows):
        for frac in fractions:
            sel = [r for r in rows if r["data"].group == g and r["frac"] == frac]
            if not sel:
                continue
            best = np.nanmin if sel[0]["data"].task == "regression" else np.nanmax
            n_sets = len({r["data"].name for r in sel})
            cells = [f"{g} ({n_sets})", f"{frac:.0%}",
                     *(_fmt([r[k] for r in sel]) for k in ("source", "target", "pooled"))]
            for lib in ("sktl", "ADAPT"):
                res = [r[lib] for r in sel]
                cell = _fmt([s for s, _, _ in res])
                errors = {e for _, _, e in res if e}
                if errors:
                    cell += " (" + "; ".join(sorted(errors))[:50] + ")"
                cells.append(cell)
            if grid_labels:
                for lib in ("sktl", "ADAPT"):
                    means = [np.nanmean([r[f"{lib} {lab}"][0] for r in sel])
                             if any(not math.isnan(r[f"{lib} {lab}"][0]) for r in sel)
                             else math.nan for lab in grid_labels]
                    cells.append("—" if all(math.isnan(m) for m in means)
                                 else f"{best(means):.3f}")
            for lib in ("sktl", "ADAPT"):
                cells.append(_fmt([r[lib][1] for r in sel], 3))
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += verdict(rows)
    return lines


def verdict(rows):
    """Per task: paired sktl − ADAPT (better is positive) and the gains over the baselines."""
    out = []
    for task in ("classification", "regression"):
        sel = [r for r in rows if r["data"].task == task]
        if sel:
            prefix = f"{task}: " if len({r['data'].task for r in rows}) > 1 else ""
            out += _verdict(sel, -1.0 if task == "regression" else 1.0, prefix)
    out.append("")
    return out


def _mean_se(values):
    v = np.asarray(values, float)
    return v.mean(), (v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0)


def _verdict(rows, sign, prefix):
    out = []
    pairs = [(r["sktl"], r["ADAPT"]) for r in rows
             if not math.isnan(r["sktl"][0]) and not math.isnan(r["ADAPT"][0])]
    if pairs:
        mean, se = _mean_se([sign * (s[0] - a[0]) for s, a in pairs])
        t_s, t_a = sum(s[1] for s, _ in pairs), sum(a[1] for _, a in pairs)
        speed = t_a / t_s if t_s > 0 else math.inf
        out.append(f"* {prefix}vs ADAPT: score difference {mean:+.3f} ± {se:.3f} over "
                   f"{len(pairs)} runs ({'ok' if mean >= -2 * se else '**worse**'}); speed "
                   f"{speed:.2f}× ({'ok' if speed >= 1 else '**slower**'})")
    else:
        out.append(f"* {prefix}vs ADAPT: no run where both succeeded.")
    grid = [k.removeprefix("sktl ") for k in rows[0] if k.startswith("sktl alpha")]
    if grid:  # the same fixed penalties: the time of the fit without the selection
        both = [(r[f"sktl {g}"][1], r[f"ADAPT {g}"][1]) for r in rows for g in grid
                if not math.isnan(r[f"sktl {g}"][1]) and not math.isnan(r[f"ADAPT {g}"][1])]
        t_s, t_a = sum(b[0] for b in both), sum(b[1] for b in both)
        if t_s > 0:
            out.append(f"* {prefix}at the same fixed penalties (grid): speed {t_a / t_s:.2f}×")
    for ref in ("target", "source", "pooled"):
        gains = [sign * (r["sktl"][0] - r[ref]) for r in rows if not math.isnan(r["sktl"][0])]
        if gains:
            mean, se = _mean_se(gains)
            label = f"{ref}-only" if ref != "pooled" else "pooled"
            out.append(f"* {prefix}sktl vs {label}: {mean:+.3f} ± {se:.3f}, better in "
                       f"{np.mean(np.asarray(gains) > 0):.0%} of runs")
    return out


def write_block(key, body, command):
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Parameter-based transfer: parity with ADAPT 0.4.5\n\n"
        "Generated by `benchmarks/_parity_parameter.py` (its docstring gives the protocol).\n"
        "Scores: target accuracy (higher is better) or RMSE (lower is better) on the "
        "unlabelled target rows, mean over data sets and label draws; times in seconds.\n")
    start, end = f"<!-- parity_parameter:{key} -->", f"<!-- /parity_parameter:{key} -->"
    block = f"{start}\n## {key}\n\n`{command}`\n\n{body.strip()}\n{end}"
    if start in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)


def main(argv=None):
    groups = sorted({m[0] for m in METHODS.values()})
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=["generated", "real", "all"], default="generated")
    parser.add_argument("--methods", nargs="*", default=groups,
                        help=f"method groups ({', '.join(groups)}) or method names")
    parser.add_argument("--fractions", nargs="*", type=float, default=list(FRACTIONS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=600)
    parser.add_argument("--families", nargs="*", default=list(REAL_FAMILIES),
                        help="real task families (default: all four)")
    parser.add_argument("--real", choices=["dev", "confirm", "all"], default="all",
                        help="which half of the shared task list (default: all)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    names = [n for n, m in METHODS.items() if m[0] in args.methods or n in args.methods]
    datasets = load(args.data, args.seeds, args.max_rows, args.families, args.real)
    start = time.perf_counter()
    command = ("PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/_parity_parameter.py "
               + " ".join(argv if argv is not None else sys.argv[1:]))
    scope = args.data if args.data == "generated" else (
        f"{args.data} data ({', '.join(args.families)}"
        + ("" if args.real == "all" else f"; {args.real} half")
        + ("" if args.max_rows == 600 else f"; <= {args.max_rows} rows per domain") + ")")
    for group in dict.fromkeys(METHODS[n][0] for n in names):
        body = []
        # a run of some methods of a group (by name) writes a block of its own
        picked = [n for n in names if METHODS[n][0] == group]
        label = group if group in args.methods else f"{group} ({', '.join(picked)})"
        for name in picked:
            print(f"== {name}", flush=True)
            rows = run_method(name, datasets, args.fractions, args.draws,
                              lambda m: print(m, flush=True))
            lines = table(name, rows, args.fractions)
            print("\n".join(lines), flush=True)
            body += lines
            if not args.no_write and body:  # after each method: a killed run keeps the rest
                write_block(f"{label} — {scope}", "\n".join(body), command)
    print(f"total {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
