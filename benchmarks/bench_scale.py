"""Scale: millions of rows in memory and on a Dask cluster; TCA's exact solver vs skada.

Parts (each well under 15 minutes; run them one at a time under the lock):

    # 1M rows x 20 features per domain in memory: KMM (Nystrom) and TCA (500 landmarks)
    python benchmarks/bench_scale.py memory
    # a LocalCluster of 2 worker processes with a memory limit, data generated blockwise
    # on the workers: CORAL, KMM and TCA at 1M, 3M and 10M rows per domain
    python benchmarks/bench_scale.py cluster --rows 1000000 3000000
    python benchmarks/bench_scale.py cluster --rows 10000000
    # the Dask fit equals the in-memory fit on a sample (same landmarks and seed)
    python benchmarks/bench_scale.py equality
    # TCA exact mode vs skada at 2000 and 4000 rows per domain, 3 same-run repeats
    python benchmarks/bench_scale.py exact          # in the benchmark environment (skada)
    # what KMM's bounded exact refinement buys: the exact objective against refine_size
    python benchmarks/bench_scale.py refine
    # the array-API path on a GPU: torch CUDA tensors vs NumPy on the CPU, 100 000 rows per
    # domain (needs torch with CUDA and SciPy >= 1.14; --device cpu exercises it anywhere)
    python benchmarks/bench_scale.py gpu

Each fit runs in a fresh process. Every part rewrites its own section of
benchmarks/results/scale.md and leaves the others.
"""

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np
from _measure import peak_mb, rss_mb, run_isolated

RESULTS = Path(os.environ.get("SKTL_SCALE_RESULTS",
                            Path(__file__).parent / "results" / "scale.md"))
N_FEATURES = 20
CHUNK = 250_000  # rows per chunk on the cluster (half source, half target)


def _estimator(method):
    from sktl import CORAL, KMM, TCA

    if method == "CORAL":
        return CORAL()
    if method == "KMM":
        return KMM(solver="nystrom", random_state=0)  # 300 landmarks, refine_size=3000
    return TCA(20, kernel="rbf", mu=0.1, n_landmarks=500, random_state=0)


def _fit(est, X, y, sd):
    return est.fit(X, y if type(est).__name__ != "KMM" else None, sample_domain=sd)


# --------------------------------------------------------------------------- in memory
def _memory_child(method, n, queue):
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n, n, n_features=N_FEATURES, random_state=0,
                                 mask_target=True)
    import sktl._feature  # noqa: F401  (import cost not measured)
    import sktl._kmm  # noqa: F401

    before = rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    est = _fit(_estimator(method), X, y, sd)
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put(dict(seconds=secs, cpu=cpu, extra=peak_mb() - before, peak=peak_mb(),
                   info=_info(est)))


def _info(est):
    if type(est).__name__ == "KMM":
        w = np.asarray(est.weights_)
        return f"{int((w > 0).sum())} weighted rows, objective {est.objective_:.6g}"
    if type(est).__name__ == "TCA":
        return f"top eigenvalue {est.eigenvalues_[0]:.6g}"
    return ""


def memory(n):
    lines = [f"Rows per domain: {n}, {N_FEATURES} features (`make_domain_shift`, covariate "
             "shift); fit in a fresh process; peak extra = peak RSS above the RSS once the "
             "data is in memory. CPU s = the fit's process CPU time (all threads): on a "
             "shared machine the wall time depends on the other load, the CPU time hardly; "
             "with one BLAS thread (`OMP_NUM_THREADS=1`) it is the wall time the fit takes "
             "on one dedicated core.", "",
             "| method | fit s (wall) | CPU s | peak extra MB | peak RSS MB | target | "
             "details |",
             "|---|---:|---:|---:|---:|---|---|"]
    for method, label in (("KMM", "KMM (Nyström, 300 landmarks)"),
                          ("TCA", "TCA (500 landmarks, rbf, k = 20)")):
        r = run_isolated(_memory_child, method, n, timeout=1500)
        if r is None:
            lines.append(f"| {label} | failed | | | | |")
            continue
        memory_ok = r["extra"] < 3 * 1024
        verdict = ("met" if r["seconds"] < 60 and memory_ok else
                   "met in CPU time (one dedicated core), not in wall time here"
                   if r["cpu"] < 60 and memory_ok else "MISSED")
        lines.append(f"| {label} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['extra']:.0f} | "
                     f"{r['peak']:.0f} | < 60 s, < 3 GB: {verdict} | {r['info']} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


# --------------------------------------------------------------------------- cluster
def _make_block(j, rows, seed):
    """Chunk ``j``: half source, half target rows of a covariate shift.

    The shift of ``make_domain_shift(shift="covariate")`` (the target is a
    narrower cloud at the edge of the source) with a cheaper labelling rule,
    drawn from a generator seeded by ``(seed, j)``: any chunk can be
    recomputed alone, identically.
    """
    rng = np.random.default_rng([seed, j])
    n_s = rows // 2
    X = rng.standard_normal((rows, N_FEATURES))
    X[n_s:] *= 0.5
    X[n_s:, 0] += 1.5
    X[n_s:, 1] += 1.25
    y = (np.sin(1.5 * X[:, 0]) + 0.3 * X[:, 0] ** 2 + 0.5 * X[:, 1] > 0.4).astype(np.int64)
    sd = np.r_[np.ones(n_s, np.int64), np.full(rows - n_s, -2, np.int64)]
    y[n_s:] = -1
    return X, y, sd


def blockwise_data(n_per_domain, seed=0, chunk=CHUNK):
    """Lazy ``X, y, sample_domain`` generated chunk by chunk on the workers."""
    import dask
    import dask.array as da

    total = 2 * n_per_domain
    sizes = [chunk] * (total // chunk) + ([total % chunk] if total % chunk else [])
    parts = [dask.delayed(_make_block, pure=True)(j, s, seed) for j, s in enumerate(sizes)]
    X = da.concatenate([da.from_delayed(p[0], (s, N_FEATURES), float)
                        for p, s in zip(parts, sizes)])
    y = da.concatenate([da.from_delayed(p[1], (s,), np.int64) for p, s in zip(parts, sizes)])
    sd = da.concatenate([da.from_delayed(p[2], (s,), np.int64) for p, s in zip(parts, sizes)])
    return X, y, sd


def _worker_peak_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cluster_child(method, n, limit, queue):
    from distributed import Client, LocalCluster

    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       memory_limit=limit, dashboard_address=None) as cluster,
          Client(cluster) as client):
        pids = client.run(os.getpid)
        X, y, sd = blockwise_data(n)
        est = _estimator(method)
        if method == "KMM":
            est.set_params(verbose=1)
        start = time.perf_counter()
        _fit(est, X, y, sd)
        secs = time.perf_counter() - start
        if method == "KMM":  # the lazy weights, summed on the cluster
            info = f"sum of weights / n_source = {float(est.weights_.sum()) / n:.4f}"
        elif method == "TCA":
            info = f"top eigenvalue {est.eigenvalues_[0]:.6g}"
        else:
            info = f"trace of A = {np.trace(est.coral_matrix_):.6g}"
        peaks = client.run(_worker_peak_mb)
        restarted = client.run(os.getpid) != pids
    queue.put(dict(seconds=secs, workers=max(peaks.values()), restarted=restarted,
                   client=_worker_peak_mb(), info=info))


def cluster(sizes, methods, limit, on_row=None):
    lines = [f"`distributed.LocalCluster(n_workers=2, threads_per_worker=1, "
             f"memory_limit=\"{limit}\")`, {N_FEATURES} features, covariate shift; the "
             f"rows are generated chunk by chunk on the workers ({CHUNK} rows per chunk, half "
             "source, half target) and never persisted, so every pass regenerates them. Fit "
             "time only (outputs stay lazy); peak RSS of the busiest worker and of the client "
             "process.", "",
             "| rows per domain | method | fit s | s per million rows | worker peak MB | "
             "worker restarted | client peak MB | check |",
             "|---:|---|---:|---:|---:|---|---:|---|"]
    for n in sizes:
        for method in methods:
            r = run_isolated(_cluster_child, method, n, limit, timeout=1500)
            if r is None:
                lines.append(f"| {n} | {method} | failed or timed out | | | | | |")
            else:
                lines.append(f"| {n} | {method} | {r['seconds']:.1f} | "
                             f"{r['seconds'] / (2 * n / 1e6):.2f} | {r['workers']:.0f} | "
                             f"{'yes' if r['restarted'] else 'no'} | {r['client']:.0f} | "
                             f"{r['info']} |")
            print(lines[-1], flush=True)
            if on_row is not None:  # keep what is measured if a later fit runs out of time
                on_row("\n".join(lines))
    return "\n".join(lines)


# --------------------------------------------------------------------------- equality
def _equality_child(n, queue):
    import dask.array as da
    from distributed import Client, LocalCluster

    from sktl import DiscriminativeReweighter, SubspaceAlignment
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n, n, n_features=N_FEATURES, random_state=0,
                                 mask_target=True)
    out = {}
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       memory_limit="4GiB", dashboard_address=None) as cluster,
          Client(cluster)):
        Xd, yd, sdd = (da.from_array(a, chunks=50_000) for a in (X, y, sd))
        cases = [(m, _estimator(m)) for m in ("CORAL", "KMM", "TCA")] + [
            ("SubspaceAlignment", SubspaceAlignment(10)),
            ("DiscriminativeReweighter", DiscriminativeReweighter())]
        for name, est in cases:
            reweighter = hasattr(est, "_fit_weights")
            start = time.perf_counter()
            ref = est.fit(X, y if not reweighter else None, sample_domain=sd)
            ref = ref.weights_ if reweighter else ref.transform(X)
            t_mem = time.perf_counter() - start
            start = time.perf_counter()
            got = est.fit(Xd, yd if not reweighter else None, sample_domain=sdd)
            got = (got.weights_ if reweighter else got.transform(Xd)).compute()
            t_dask = time.perf_counter() - start
            rel = float(np.abs(ref - got).max() / np.abs(ref).max())
            out[name] = (rel, "weights" if reweighter else "embedding", t_mem, t_dask)
    queue.put(out)


def equality(n):
    r = run_isolated(_equality_child, n, timeout=1500)
    lines = [f"{n} rows per domain, {N_FEATURES} features, in memory vs `dask.array` "
             "chunks of 50 000 rows on a 2-process LocalCluster; same parameters and "
             "seed (so the same landmarks). Relative difference = max |in-memory - Dask| "
             "/ max |in-memory|.", "",
             "| method | compared | max relative difference | target 1e-6 | in-memory s | "
             "Dask s |", "|---|---|---:|---|---:|---:|"]
    for name, (rel, what, t_mem, t_dask) in (r or {}).items():
        lines.append(f"| {name} | {what} | {rel:.1e} | {'met' if rel <= 1e-6 else 'MISSED'}"
                     f" | {t_mem:.1f} | {t_dask:.1f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


# --------------------------------------------------------------------------- exact TCA
def _exact_child(method, n, queue):
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n, n, shift="conditional", n_features=N_FEATURES,
                                 random_state=0)
    ym = np.where(sd > 0, y, -1)
    if method == "skada":
        from skada import TransferComponentAnalysisAdapter
    else:
        from sktl import TCA
    before = rss_mb()
    start = time.perf_counter()
    if method == "skada":
        Z = TransferComponentAnalysisAdapter(kernel="rbf", n_components=20, mu=0.1) \
            .fit_transform(X, ym, sample_domain=sd)
        Z = Z[0] if isinstance(Z, tuple) else Z
    else:
        Z = TCA(20, kernel="rbf", mu=0.1, random_state=0).fit_transform(X, ym, sample_domain=sd)
    secs = time.perf_counter() - start
    queue.put(dict(seconds=secs, mem=peak_mb() - before))


def exact(sizes, repeats):
    lines = ["TCA exact (dual) mode, rbf kernel, 20 features, k = 20, mu = 0.1, "
             "`make_domain_shift(shift=\"conditional\")`; every fit in a fresh process, sktl "
             "and skada alternating in each repeat.", "",
             "| rows per domain | repeat | sktl s | skada s | time ratio | sktl MB | skada MB | "
             "memory ratio |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    summary = []
    for n in sizes:
        ratios, mems = [], []
        for rep in range(1, repeats + 1):
            ours = run_isolated(_exact_child, "sktl", n)
            theirs = run_isolated(_exact_child, "skada", n)
            ratio = theirs["seconds"] / ours["seconds"]
            mem = theirs["mem"] / max(ours["mem"], 1.0)
            ratios.append(ratio)
            mems.append(mem)
            lines.append(f"| {n} | {rep} | {ours['seconds']:.2f} | {theirs['seconds']:.2f} | "
                         f"{ratio:.1f}x | {ours['mem']:.0f} | {theirs['mem']:.0f} | "
                         f"{mem:.1f}x |")
            print(lines[-1], flush=True)
        summary.append(f"- {n} rows per domain: minimum time ratio {min(ratios):.1f}x "
                       f"(target >= 20x: {'met' if min(ratios) >= 20 else 'MISSED'}), minimum "
                       f"memory ratio {min(mems):.1f}x (target >= 5x: "
                       f"{'met' if min(mems) >= 5 else 'MISSED'})")
    return "\n".join(lines + [""] + summary)


# --------------------------------------------------------------------------- KMM refinement
def _refine_child(n, B, sizes, queue):
    from sktl import KMM
    from sktl.datasets import make_domain_shift
    from sktl.utils._kernel import rbf

    X, _, sd = make_domain_shift(n, n, n_features=N_FEATURES, random_state=0)
    Xs, Xt = X[sd > 0], X[sd < 0]
    gamma = 1.0 / N_FEATURES

    def objective(w):  # exact, from the weighted rows only (the weights are sparse)
        rows = np.flatnonzero(w > 0)
        Xw, ws = Xs[rows], w[rows]
        kappa = sum(rbf(Xw, Xt[i:i + 20_000], gamma).sum(axis=1)
                    for i in range(0, len(Xt), 20_000)) * len(Xs) / len(Xt)
        return 0.5 * ws @ rbf(Xw, Xw, gamma) @ ws - kappa @ ws

    out = []
    for size in sizes:
        kmm = KMM(solver="nystrom", B=B, refine_size=size, random_state=0).fit(
            X, sample_domain=sd)
        w = np.asarray(kmm.weights_)
        out.append((size, kmm.n_refined_, int((w > 0).sum()), objective(w)))
    queue.put(out)


def refine(n, B=100.0, sizes=(1, 300, 1000, 3000)):
    rows = run_isolated(_refine_child, n, B, sizes, timeout=1500)
    lines = [f"{n} rows per domain, {N_FEATURES} features (`make_domain_shift`, covariate "
             f"shift), in memory; `KMM(solver=\"nystrom\", B={B:g}, refine_size=...)`: B is "
             "small so that the weighted rows outnumber a quarter of refine_size, as B = 1000 "
             "does at millions of rows, and the refinement is the bounded one (rows nearest "
             "to their optimality margin refined, the other weights held). refine_size = 1 "
             "is (almost) the Nyström solution alone. Exact objective "
             "`1/2 w'Kw - kappa'w` of the final weights (lower is better).", "",
             "| refine_size | rows refined | weighted rows | exact objective | "
             "gain over Nyström alone |", "|---:|---:|---:|---:|---:|"]
    base = rows[0][3] if rows else None
    for size, refined, weighted, obj in rows or []:
        lines.append(f"| {size} | {refined} | {weighted} | {obj:.6e} | "
                     f"{(base - obj) / abs(base):.1e} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


# --------------------------------------------------------------------------- GPU arrays
GPU_METHODS = ("CORAL", "SubspaceAlignment", "TCA", "KMM")


def _gpu_child(method, n, device, queue):
    import sklearn
    import torch

    from sktl import CORAL, KMM, TCA, SubspaceAlignment
    from sktl.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n, n, n_features=N_FEATURES, random_state=0,
                                 mask_target=True)
    est = {"CORAL": CORAL(), "SubspaceAlignment": SubspaceAlignment(10),
           "TCA": TCA(20, kernel="rbf", mu=0.1, n_landmarks=500, random_state=0),
           "KMM": KMM(solver="nystrom", random_state=0)}[method]
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    if device == "numpy":
        start = time.perf_counter()
        out = _fit(est, X, y, sd)
        out = out.weights_ if method == "KMM" else out.transform(X)
        queue.put(dict(seconds=time.perf_counter() - start, device="CPU (NumPy)"))
        return
    Xd = torch.asarray(X, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        few = np.arange(0, 2 * n, max(1, n // 1000))  # warm-up (CUDA context, kernels):
        _fit(sklearn.clone(est), Xd[few], y[few], sd[few])  # 2000 rows of both domains
        sync()
        start = time.perf_counter()
        out = _fit(est, Xd, y, sd)
        out = out.weights_ if method == "KMM" else out.transform(Xd)
        sync()
        secs = time.perf_counter() - start
    assert out.device.type == torch.device(device).type, out.device
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU (torch)"
    queue.put(dict(seconds=secs, device=name))


def gpu(n, device):
    """Fit (and transform, or weights) time of the array-API estimators on ``device``."""
    try:
        import torch
    except ImportError:
        return "torch is not installed: the GPU part did not run."
    if device.startswith("cuda") and not torch.cuda.is_available():
        return ("No CUDA device is available on this machine: the GPU part did not run "
                "(`tests/test_array_api.py` checks the array-API path with torch CPU tensors "
                "and array-api-strict).")
    os.environ["SCIPY_ARRAY_API"] = "1"  # before the children import SciPy
    lines = [f"{n} rows per domain, {N_FEATURES} features; fit plus transform (KMM: its "
             "weights), the input already on the device, after a warm-up fit on 2000 rows; "
             "every fit in a fresh process.", "",
             "| method | NumPy (CPU) s | device | on the device s | speed-up |",
             "|---|---:|---|---:|---:|"]
    if not device.startswith("cuda"):
        lines[:0] = [f"Device `{device}`, not a GPU: this run exercises the array-API path at "
                     "full size with torch tensors; it is not a GPU measurement.", ""]
    for method in GPU_METHODS:
        cpu = run_isolated(_gpu_child, method, n, "numpy")
        dev = run_isolated(_gpu_child, method, n, device)
        if cpu is None or dev is None:
            cpu_s = "failed" if cpu is None else f"{cpu['seconds']:.2f}"
            dev_s = "failed" if dev is None else f"{dev['seconds']:.2f}"
            lines.append(f"| {method} | {cpu_s} | {device} | {dev_s} | |")
            continue
        lines.append(f"| {method} | {cpu['seconds']:.2f} | {dev['device']} | "
                     f"{dev['seconds']:.2f} | {cpu['seconds'] / dev['seconds']:.1f}x |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


# --------------------------------------------------------------------------- results
TITLES = {
    "memory": "One machine, in memory",
    "cluster": "LocalCluster of 2 worker processes",
    "equality": "Dask fit = in-memory fit",
    "exact": "TCA exact mode vs skada",
    "refine": "KMM: what the bounded exact refinement buys",
    "gpu": "GPU arrays (array API)",
}


def write_section(part, command, body):
    """Replace (or add) this part's section of the results file."""
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Scale: millions of rows in memory and on Dask; TCA's exact solver\n\n"
        f"Machine: {os.cpu_count()} CPU cores shared with other sessions (timed runs under "
        "a lock). No GPU was available in the session that produced these numbers: the "
        "array-API path is tested with torch CPU tensors and array-api-strict only.\n")
    title = f"## {TITLES[part]}"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    section = (f"{title}\n\nGenerated by `{command}` on {time.strftime('%Y-%m-%d')} "
               f"(load average at the end: {load} on {os.cpu_count()} cores).\n\n{body}\n")
    if title in text:
        head, rest = text.split(title, 1)
        nxt = re.search(r"\n## ", rest)
        text = head + section + (rest[nxt.start() + 1:] if nxt else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=sorted(TITLES))
    parser.add_argument("--rows", type=int, nargs="+", default=None)
    parser.add_argument("--methods", nargs="+", default=["CORAL", "KMM", "TCA"])
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda", help="gpu part: a torch device")
    args = parser.parse_args()
    command = "python benchmarks/bench_scale.py " + " ".join(
        a for a in os.sys.argv[1:])
    if args.part == "memory":
        body = memory((args.rows or [1_000_000])[0])
    elif args.part == "cluster":
        sizes = args.rows or [1_000_000, 3_000_000, 10_000_000]

        def save(partial):
            if RESULTS.exists() and f"## {TITLES['cluster']}" in RESULTS.read_text():
                partial = _merge_cluster(partial)
            write_section("cluster", command + " (and the other sizes' commands)", partial)
            return partial

        body = save(cluster(sizes, args.methods, args.memory_limit, on_row=save))
    elif args.part == "equality":
        body = equality((args.rows or [200_000])[0])
    elif args.part == "refine":
        body = refine((args.rows or [100_000])[0])
    elif args.part == "gpu":
        body = gpu((args.rows or [100_000])[0], args.device)
    else:
        body = exact(args.rows or [2000, 4000], args.repeats)
    write_section(args.part, command, body)
    print(RESULTS.read_text())


def _merge_cluster(body):
    """Keep the cluster rows of earlier runs at other sizes (the parts run separately)."""
    old = RESULTS.read_text().split(f"## {TITLES['cluster']}", 1)[1]
    old = old.split("\n## ", 1)[0]
    new_rows = [ln for ln in body.splitlines() if re.match(r"\| \d", ln)]
    keys = {tuple(ln.split("|")[1:3]) for ln in new_rows}
    kept = [ln for ln in old.splitlines() if re.match(r"\| \d", ln)
            and tuple(ln.split("|")[1:3]) not in keys]
    rows = sorted(kept + new_rows, key=lambda ln: (int(ln.split("|")[1]), ln.split("|")[2]))
    head = [ln for ln in body.splitlines() if not re.match(r"\| \d", ln)]
    return "\n".join(head + rows)


if __name__ == "__main__":
    main()
