"""Instance-based transfer: sktl vs ADAPT and skada on the same data, in one run.

KMM: fit time, peak extra memory (RSS of a fresh process), objective value of
the *exact* problem at the returned weights, constraint violation and target
accuracy of a logistic regression trained on the reweighted source, at
several sizes (20 features, rbf kernel, gamma = 1/20, B = 1000, the paper's
eps). TrAdaBoost family: target accuracy / MAE and fit time with 5 % of the
target labelled, on a problem where part of the source is misleading.

Every measurement runs in its own process, so memory peaks do not mix and
the peers' imports (TensorFlow for ADAPT) do not count. Run:

    python benchmarks/bench_instance.py            # sizes 1000, 2000, 4000
    python benchmarks/bench_instance.py --large    # adds Nyström at 10k and 100k rows

in an environment with sktl, skada, adapt and cvxopt installed (see
benchmarks/README.md). Writes benchmarks/results/instance.md.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
from _measure import peak_mb, rss_mb, run_isolated

GAMMA = 1.0 / 20
RESULTS = Path(__file__).parent / "results" / "instance.md"


def kmm_data(n, seed=0):
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n, n, shift="covariate", n_features=20, random_state=seed)
    return X[sd > 0], y[sd > 0], X[sd < 0], y[sd < 0]


def _kmm_weights(method, Xs, Xt):
    n = len(Xs)
    if method.startswith("sktl"):
        from sktl import KMM

        solver = method.split("(")[1].rstrip(")")
        X = np.vstack([Xs, Xt])
        sd = np.r_[np.ones(n, int), -2 * np.ones(len(Xt), int)]
        return KMM(gamma=GAMMA, solver=solver, n_components=500, random_state=0,
                   max_dense_memory=16).fit(X, sample_domain=sd).weights_
    if method.startswith("ADAPT"):
        from adapt.instance_based import KMM

        max_size = n if "exact" in method else 1000
        return np.asarray(KMM(kernel="rbf", gamma=GAMMA, max_size=max_size, verbose=0,
                              random_state=0).fit_weights(Xs, Xt)).ravel()
    from skada import KMMReweightAdapter

    solver = "scipy" if "exact" in method else "frank-wolfe"
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(n, int), -2 * np.ones(len(Xt), int)]
    adapter = KMMReweightAdapter(gamma=GAMMA, solver=solver).fit(X, sample_domain=sd)
    w = adapter.compute_weights(X, sample_domain=sd)
    return np.asarray(w)[:n]


def _kmm_child(method, n, queue):
    Xs, ys, Xt, yt = kmm_data(n)
    if method.startswith("ADAPT"):
        import adapt.instance_based  # noqa: F401  (import cost not timed)
    elif method.startswith("skada"):
        import skada  # noqa: F401
    before = rss_mb()
    start = time.perf_counter()
    w = _kmm_weights(method, Xs, Xt)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    from sklearn.linear_model import LogisticRegression

    acc = LogisticRegression().fit(Xs, ys, sample_weight=w).score(Xt, yt)
    obj = viol = float("nan")
    if n <= 8000:
        from sktl._kmm import _kernel

        K = _kernel(Xs, Xs, "rbf", GAMMA, 3, 1, None)
        kappa = (n / len(Xt)) * _kernel(Xs, Xt, "rbf", GAMMA, 3, 1, None).sum(axis=1)
        obj = 0.5 * w @ K @ w - kappa @ w
        eps = (np.sqrt(n) - 1) / np.sqrt(n)
        viol = max(0.0, -w.min(), w.max() - 1000, abs(w.sum() - n) - n * eps)
    queue.put(dict(seconds=seconds, mem=max(peak - before, 0.0), obj=obj, viol=viol, acc=acc,
                   nonzero=int((w > 1e-8).sum())))


def _boost_problem(n, task, seed, d=10, frac_lab=0.05, frac_misleading=0.3):
    rng = np.random.default_rng(seed)
    w, w_other = rng.normal(size=d), rng.normal(size=d)
    Xs, Xt = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    mis = rng.random(n) < frac_misleading
    if task == "classification":
        ys = np.where(mis, Xs @ w_other > 0, Xs @ w > 0).astype(int)
        yt = (Xt @ w > 0).astype(int)
    else:
        ys = np.where(mis, Xs @ w_other, Xs @ w) + 0.1 * rng.normal(size=n)
        yt = Xt @ w + 0.1 * rng.normal(size=n)
    lab = rng.choice(n, int(frac_lab * n), replace=False)
    test = np.setdiff1d(np.arange(n), lab)
    return Xs, ys, Xt[lab], yt[lab], Xt[test], yt[test]


def _boost_child(method, n, seed, queue):
    from sklearn.linear_model import LogisticRegression, Ridge

    task = "regression" if ("R2" in method or "reg" in method) else "classification"
    Xs, ys, Xl, yl, Xte, yte = _boost_problem(n, task, seed)
    base = LogisticRegression() if task == "classification" else Ridge()
    X = np.vstack([Xs, Xl])
    y = np.r_[ys, yl]
    sd = np.r_[np.ones(len(ys), int), -2 * np.ones(len(yl), int)]
    if method.startswith("ADAPT"):
        import adapt.instance_based as ai
    start = time.perf_counter()
    if method.startswith("pooled"):
        model = base.fit(X, y)
    elif method.startswith("target only"):
        model = base.fit(Xl, yl)
    elif method.startswith("sktl"):
        import sktl

        name = method.split()[-1]
        kw = {"n_estimators": 10, "n_steps": 10, "n_folds": 5} if name.startswith("TwoStage") \
            else {"n_estimators": 30}
        model = getattr(sktl, name)(base, random_state=seed, **kw).fit(X, y, sample_domain=sd)
    else:
        name = method.split()[-1]
        kw = {"n_estimators": 10, "n_estimators_fs": 10, "cv": 5} \
            if name.startswith("TwoStage") else {"n_estimators": 30}
        model = getattr(ai, name)(base, Xt=Xl, yt=yl, verbose=0, random_state=seed, **kw)
        model.fit(Xs, ys)
    seconds = time.perf_counter() - start
    pred = np.asarray(model.predict(Xte)).ravel()
    if task == "classification":
        score = float(np.mean(pred == yte))
    else:
        score = float(np.mean(np.abs(pred - yte)))
    queue.put(dict(seconds=seconds, score=score))


def kmm_table(sizes, large):
    methods = {
        "sktl KMM (fista)": 100_000,
        "sktl KMM (cvxpy)": 2000,
        "sktl KMM (nystrom)": 100_000,
        "ADAPT KMM exact": 4000,
        "ADAPT KMM default (blocks of 1000)": 4000,
        "skada KMM exact (scipy)": 1000,
        "skada KMM default (frank-wolfe)": 4000,
    }
    all_sizes = list(sizes) + ([10_000, 100_000] if large else [])
    rows = []
    for n in all_sizes:
        res = {}
        for m, limit in methods.items():
            if n > limit or (m == "sktl KMM (fista)" and n > 10_000):
                continue
            r = run_isolated(_kmm_child, m, n)
            if r is not None:
                res[m] = r
                print(f"n={n:>6} {m:<36} {r['seconds']:8.2f}s {r['mem']:8.0f}MB "
                      f"obj={r['obj']:.6g} viol={r['viol']:.2g} acc={r['acc']:.3f}", flush=True)
        ref = res.get("ADAPT KMM exact") or res.get("sktl KMM (cvxpy)")
        for m, r in res.items():
            rel = abs(r["obj"] - ref["obj"]) / abs(ref["obj"]) if ref and n <= 8000 else np.nan
            ours = res.get("sktl KMM (fista)") or res.get("sktl KMM (nystrom)")
            speed = r["seconds"] / ours["seconds"] if ours else np.nan
            rows.append((n, m, r["seconds"], r["mem"], r["obj"], rel, r["viol"], r["acc"],
                         r["nonzero"], speed))
    lines = ["| n_s = n_t | method | fit s | peak extra MB | objective | rel. gap to exact | "
             "constraint violation | target acc. | non-zero weights | time / sktl's |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, m, s, mem, obj, rel, viol, acc, nz, speed in rows:
        lines.append(f"| {n} | {m} | {s:.2f} | {mem:.0f} | {obj:.6g} | {rel:.1e} | {viol:.1e} | "
                     f"{acc:.3f} | {nz} | {speed:.1f}x |")
    return "\n".join(lines)


def boost_table(n, seeds):
    groups = {
        "classification (accuracy, higher is better)": [
            "pooled clf", "target only clf", "sktl TrAdaBoostClassifier", "ADAPT TrAdaBoost"],
        "regression (MAE, lower is better)": [
            "pooled reg", "target only reg", "sktl TrAdaBoostR2", "ADAPT TrAdaBoostR2",
            "sktl TwoStageTrAdaBoostR2", "ADAPT TwoStageTrAdaBoostR2"],
    }
    lines = [f"n_s = n_t = {n}, 10 features, 5 % of the target labelled, 30 % of the source "
             f"misleading; mean over seeds {list(seeds)}.", "",
             "| task | method | score | min over seeds | max over seeds | fit s |",
             "|---|---|---:|---:|---:|---:|"]
    for task, methods in groups.items():
        for m in methods:
            rs = [r for r in (run_isolated(_boost_child, m, n, s) for s in seeds) if r]
            if not rs:
                continue
            sc = [r["score"] for r in rs]
            secs = np.mean([r["seconds"] for r in rs])
            print(f"{task[:14]} {m:<30} {np.mean(sc):.3f} [{min(sc):.3f}, {max(sc):.3f}] "
                  f"{secs:.2f}s", flush=True)
            lines.append(f"| {task} | {m} | {np.mean(sc):.3f} | {min(sc):.3f} | "
                         f"{max(sc):.3f} | {secs:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="add 10k and 100k rows (Nyström)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--boost-size", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    kmm = kmm_table(args.sizes, args.large)
    boost = boost_table(args.boost_size, seeds=range(3))
    text = (f"# Instance-based transfer: sktl vs ADAPT and skada\n\n"
            f"Generated by `python benchmarks/bench_instance.py{' --large' if args.large else ''}` "
            f"on {os.cpu_count()} CPU cores.\n\n## Kernel mean matching\n\n{kmm}\n\n"
            f"## TrAdaBoost family\n\n{boost}\n")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
