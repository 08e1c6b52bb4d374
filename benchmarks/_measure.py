"""Shared by the benchmark scripts: peak memory of a fit and runs in fresh processes."""

import multiprocessing as mp


def _status_mb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb():
    """Current RSS, after resetting the peak (VmHWM) so that it measures what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _status_mb("VmRSS")


def peak_mb():
    """Peak RSS since the last :func:`rss_mb`."""
    return _status_mb("VmHWM")


def run_isolated(target, *args, timeout=900):
    """``target(*args, queue)`` in a fresh process; its result, or None on failure/timeout."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        return None
    return queue.get() if not queue.empty() else None
