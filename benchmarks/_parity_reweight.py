"""Density-ratio reweighters: KLIEP, uLSIF, RuLSIF, nearest-neighbour, kernel-density and
Gaussian ratios and LDM next to skada's and ADAPT's counterparts. Each library's weights go to
the same base estimator (SVC / Ridge). sktl's KLIEP and (R)uLSIF choose their kernel width by
cross-validation by default (KLIEP: 7 widths x 5 folds; uLSIF: closed-form leave-one-out);
skada's and ADAPT's defaults use one fixed width, so the default rows compare a tuned method
with untuned ones and the grid rows compare fixed widths.

Run on its own (accuracy on the shift generator and the real tasks through the shared driver
``bench_parity.py``, plus the KLIEP time/memory rows at 2 000 and 100 000 rows per domain)::

    PYTHONPATH=$PWD flock /work/wt/heavy.lock /work/benchenv/bin/python \\
        benchmarks/_parity_reweight.py --part shifts|real|scale

Writes ``benchmarks/results/parity_reweight.md`` (one block per part, with its command).
``python benchmarks/bench_parity.py --family reweight`` runs the comparisons into the
shared ``parity.md`` as well.
"""

import dataclasses
import os
import sys
from pathlib import Path

# One BLAS thread for every library: on the shared 2-core machine a threaded BLAS under
# contention turns a 1 ms eigendecomposition into 0.7 s (OpenBLAS threads spin), which would
# time the machine's load rather than the methods.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _parity import AdaptModel, Comparison  # noqa: E402

RESULTS = HERE / "results" / "parity_reweight.md"
THREADS_NOTE = "One BLAS thread per process (every library)."
KINDS = ("classification", "regression")


def _sktl(name, **fixed):
    def make(task, base, **kw):
        import sktl

        return getattr(sktl, name)(base, **fixed, **kw)

    return make


def _skada(name, **fixed):
    def make(task, base, **kw):
        import skada

        base.set_fit_request(sample_weight=True)
        return getattr(skada, name)(base, **fixed, **kw)

    return make


def _adapt(name, **fixed):
    def make(task, base, **kw):
        import adapt.instance_based as ai
        from cvxopt import solvers

        solvers.options["show_progress"] = False  # LDM's SDP solver prints every step

        return AdaptModel(getattr(ai, name), base, **fixed, **kw)

    return make


def _kde(bandwidth):
    from sklearn.neighbors import KernelDensity

    return KernelDensity(bandwidth=bandwidth)


GAMMA_GRID = [{"sktl": {"gamma": g}, "skada": {"gamma": g}, "ADAPT": {"gamma": g}}
              for g in (0.1, 1.0, 10.0)]

COMPARISONS = [
    Comparison("KLIEP", _sktl("KLIEP", random_state=0),
               {"skada": _skada("KLIEPReweight", random_state=0),
                "ADAPT": _adapt("KLIEP")},
               kinds=KINDS, grid=GAMMA_GRID),
    Comparison("uLSIF", _sktl("ULSIF", random_state=0), {"ADAPT": _adapt("ULSIF")},
               kinds=KINDS,
               grid=[{"sktl": {"gamma": g, "reg": 1.0}, "ADAPT": {"gamma": g, "lambdas": 1.0}}
                     for g in (0.1, 1.0, 10.0)]),
    Comparison("RuLSIF", _sktl("RULSIF", random_state=0), {"ADAPT": _adapt("RULSIF")},
               kinds=KINDS,
               grid=[{"sktl": {"gamma": g, "reg": 1.0, "alpha": 0.1},
                      "ADAPT": {"gamma": g, "lambdas": 1.0, "alpha": 0.1}}
                     for g in (0.1, 1.0, 10.0)]),
    Comparison("Nearest-neighbour weighting", _sktl("NearestNeighborReweighter"),
               {"skada": _skada("NearestNeighborReweight"),
                "ADAPT": _adapt("NearestNeighborsWeighting")},
               kinds=KINDS,
               grid=[{"sktl": {"n_neighbors": k, "smoothing": 0.0},
                      "skada": {"n_neighbors": k},
                      "ADAPT": {"n_neighbors": k}} for k in (1, 5, 20)]),
    Comparison("Kernel-density ratio", _sktl("KernelDensityReweighter"),
               {"skada": _skada("DensityReweight")},
               kinds=KINDS,
               grid=[{"sktl": {"bandwidth": b}, "skada": {"weight_estimator": _kde(b)}}
                     for b in (0.1, 0.5, 1.0)]),
    Comparison("Gaussian ratio", _sktl("GaussianReweighter"),
               {"skada": _skada("GaussianReweight")}, kinds=KINDS),
    Comparison("LDM", _sktl("LDM"), {"ADAPT": _adapt("LDM")}, kinds=KINDS),
    Comparison("KMM", _sktl("KMM", random_state=0),
               {"skada": _skada("KMMReweight"), "ADAPT": _adapt("KMM")}, kinds=KINDS,
               grid=GAMMA_GRID),
    Comparison("Discriminative (domain classifier)", _sktl("DiscriminativeReweighter"),
               {"skada": _skada("DiscriminatorReweight"), "ADAPT": _adapt("IWC")},
               kinds=KINDS),
    # target shift: the class (label) proportions change, p(x | y) does not
    Comparison("MMDTarS", _sktl("MMDTarS"), {"skada": _skada("MMDTarSReweight")},
               kinds=KINDS,
               grid=[{"sktl": {"gamma": g}, "skada": {"gamma": g}} for g in (0.1, 1.0, 10.0)]),
]

# the shift of skada's generator each comparison runs on in ``--part shifts`` (default:
# covariate shift, the assumption of every density-ratio reweighter)
SHIFT_OF = {"MMDTarS": "target_shift"}

# LDM's smoothed solver and ADAPT's SDP both work on d x d matrices: real tasks with more
# features than this are left out of the LDM comparison (ADAPT's cvxopt SDP with d = 800 does
# not finish in the timeout; sktl's needs an 800 x 800 eigendecomposition per step)
LDM_MAX_FEATURES = 64


# ------------------------------------------------------------------ scale (time, memory)


def _scale_data(n, d=20, seed=0):
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n, n, shift="covariate", n_features=d, random_state=seed)
    return X[sd > 0], y[sd > 0], X[sd < 0], y[sd < 0]


SCALE_GAMMA = 1.0 / 20  # 1 / n_features, every library's fixed width for the timing rows


def _kliep_weights(method, Xs, Xt):
    n_s = len(Xs)
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(n_s, int), -np.ones(len(Xt), int)]
    if method.startswith("sktl"):
        from sktl import KLIEP

        kw = {} if "CV" in method else {"gamma": SCALE_GAMMA}
        if "em" in method:
            kw["solver"] = "em"
        return KLIEP(random_state=0, **kw).fit(X, sample_domain=sd).weights_
    if method.startswith("skada"):
        from skada import KLIEPReweightAdapter

        ad = KLIEPReweightAdapter(gamma=SCALE_GAMMA, random_state=0).fit(X, sample_domain=sd)
        return np.asarray(ad.compute_weights(X, sample_domain=sd))[:n_s]
    from adapt.instance_based import KLIEP

    return np.asarray(KLIEP(gamma=SCALE_GAMMA, verbose=0, random_state=0)
                      .fit_weights(Xs, Xt)).ravel()


def _scale_child(method, n, queue):
    import time
    import warnings

    from _measure import peak_mb, rss_mb
    from sklearn.linear_model import LogisticRegression

    Xs, ys, Xt, yt = _scale_data(n)
    if method.startswith("ADAPT"):
        import adapt.instance_based  # noqa: F401  (import cost not timed)
    elif method.startswith("skada"):
        import skada  # noqa: F401
    else:
        import sktl._density_ratio  # noqa: F401
    before = rss_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = _kliep_weights(method, Xs, Xt)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    acc = LogisticRegression().fit(Xs, ys, sample_weight=w).score(Xt, yt)
    queue.put(dict(seconds=seconds, mem=max(peak - before, 0.0), acc=acc))


def scale_table(sizes, timeout):
    from _measure import run_isolated

    methods = ["sktl KLIEP (fixed gamma)", "sktl KLIEP (fixed gamma, solver=em)",
               "sktl KLIEP (CV of 7 widths, default)", "skada KLIEPReweight (fixed gamma)",
               "ADAPT KLIEP (fixed gamma)"]
    lines = ["| method | rows per domain | fit s | peak extra MB | target acc. (LR) |",
             "|---|---:|---:|---:|---:|"]
    for n in sizes:
        Xs, ys, Xt, yt = _scale_data(n)
        from sklearn.linear_model import LogisticRegression

        none = LogisticRegression().fit(Xs, ys).score(Xt, yt)
        lines.append(f"| no adaptation | {n} | — | — | {none:.3f} |")
        for method in methods:
            if "solver=em" in method and n <= 20000:
                continue  # the same as the fixed-gamma row (auto picks em)
            out = run_isolated(_scale_child, method, n, timeout=timeout)
            if out is None:
                lines.append(f"| {method} | {n} | > {timeout} (or failed) | — | — |")
            else:
                lines.append(f"| {method} | {n} | {out['seconds']:.2f} | {out['mem']:.0f} | "
                             f"{out['acc']:.3f} |")
            print(lines[-1], flush=True)
    return lines


# ------------------------------------------------------------------------------ runner


def _write(key, title, body):
    start, end = f"<!-- {key} -->", f"<!-- /{key} -->"
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Reweighting parity with skada 0.6 and ADAPT 0.4.5\n\n"
        "Generated by `benchmarks/_parity_reweight.py` (protocol: "
        "`benchmarks/bench_parity.py`'s docstring, and the module docstring).\n")
    block = f"{start}\n## {title}\n\n{body.strip()}\n{end}"
    if start in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["shifts", "real", "scale"], required=True)
    parser.add_argument("--only", nargs="*", help="comparisons whose name contains one of these")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--real", choices=["dev", "confirm", "all"], default="all")
    parser.add_argument("--families", nargs="*", help="real task families to keep")
    parser.add_argument("--max-rows", type=int, default=600)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per fit")
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 100000])
    parser.add_argument("--no-grid", action="store_true", help="defaults only")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = ("PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/_parity_reweight.py "
               + " ".join(argv if argv is not None else sys.argv[1:]))
    if args.part == "scale":
        lines = scale_table(args.sizes, args.timeout)
        note = (f"{THREADS_NOTE} KLIEP weights only (fit of the weights, each in a fresh "
                "process), covariate shift, 20 features, 100 centres, gamma = "
                f"{SCALE_GAMMA} for the fixed rows; the accuracy is a logistic regression on "
                "the reweighted source.")
        body = "\n".join([f"`{command}`", "", note, "", *lines])
        print(body)
        if not args.no_write:
            _write("scale", "KLIEP time and memory", body)
        return
    import bench_parity as bp

    if args.part == "shifts":
        from skada.datasets import make_shifted_datasets

        data = []
        for shift in ("covariate_shift", "target_shift"):
            name = shift.split("_")[0]
            for label, kind in (("binary", "classification"), ("regression", "regression")):
                for seed in range(args.seeds):
                    X, y, sd = make_shifted_datasets(shift=shift, label=label,
                                                     random_state=seed)
                    d = bp.Data(f"{name} {label} #{seed}", f"skada {name} ({label})",
                                kind, X, y, np.where(sd > 0, 1, -2))
                    d.shift = shift
                    data.append(d)
        scope = f"skada {{shift}}, {args.seeds} seeds"
    else:
        data = bp.real_data(args.real, args.max_rows)
        if args.families:
            data = [d for d in data if any(d.group.startswith(f) for f in args.families)]
        scope = (f"real tasks ({args.real} half, families {args.families or 'all'}, "
                 f"<= {args.max_rows} rows per domain)")
    for comp in COMPARISONS:
        if args.only and not any(o.lower() in comp.name.lower() for o in args.only):
            continue
        sets = [d for d in data if comp.name != "LDM" or d.X.shape[1] <= LDM_MAX_FEATURES]
        shift = SHIFT_OF.get(comp.name, "covariate_shift")
        sets = [d for d in sets if getattr(d, "shift", shift) == shift]
        print(f"== {comp.name}", flush=True)
        if args.no_grid:
            comp = dataclasses.replace(comp, grid=[])
        lines = bp.run_comparison(comp, sets, args.timeout, lambda m: print(m, flush=True))
        if not lines:
            continue
        where_data = scope.format(shift=shift.replace("_", " "))
        body = "\n".join([f"Data: {where_data}; timeout {args.timeout} s per fit. {THREADS_NOTE} "
                           f"`{command}`", "",
                          *lines[2:]])
        print(body, flush=True)
        if not args.no_write:
            where = args.part if args.part == "shifts" else (
                "real" + "".join(f" {f}" for f in args.families or [])
                + f" ({args.real} half, <= {args.max_rows} rows per domain)"
                + (", defaults" if args.no_grid else ""))
            _write(f"{where}:{comp.name}", f"{comp.name} — {where}", body)


if __name__ == "__main__":
    main()
