"""
Time per row on a Dask cluster
==============================

Reads the cluster table that ``python benchmarks/bench_scale.py cluster``
writes to ``benchmarks/results/scale.md`` (CORAL, Nyström KMM and landmark TCA
on a ``LocalCluster`` of two worker processes, 1 to 10 million rows per
domain, generated chunk by chunk on the workers) and plots the fit time and
the time per row against the number of rows. Flat time per row means the fit
scales linearly: every pass over the data is a blockwise reduction.
"""

import re
from pathlib import Path

import matplotlib.pyplot as plt


def find_results():
    starts = [Path.cwd()]
    if "__file__" in globals():
        starts.insert(0, Path(__file__).resolve().parent)
    for start in starts:
        for d in [start, *start.parents]:
            if (d / "benchmarks" / "results" / "scale.md").is_file():
                return d / "benchmarks" / "results" / "scale.md"
    raise FileNotFoundError("benchmarks/results/scale.md not found")


text = find_results().read_text()
section = text.split("## LocalCluster", 1)[1].split("\n## ", 1)[0] if "## LocalCluster" in text \
    else "(no cluster run recorded yet: python benchmarks/bench_scale.py cluster)"
rows = [[c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines() if re.match(r"\| \d", line)]
runs = {}
for cells in rows:
    try:
        n, method, secs = int(cells[0]), cells[1], float(cells[2])
    except ValueError:  # a failed run
        continue
    runs.setdefault(method, []).append((n, secs, secs / (2 * n / 1e6)))

fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(10, 4))
if not runs:
    ax_t.text(0.5, 0.5, "no cluster run recorded", ha="center")
for method, points in sorted(runs.items()):
    points.sort()
    n = [p[0] for p in points]
    ax_t.plot(n, [p[1] for p in points], marker="o", label=method)
    ax_r.plot(n, [p[2] for p in points], marker="o", label=method)
for ax, what in ((ax_t, "fit time (s)"), (ax_r, "seconds per million rows")):
    ax.set_xscale("log")
    ax.set_xlabel("rows per domain (two domains)")
    ax.set_ylabel(what)
ax_t.set_yscale("log")
ax_r.set_ylim(bottom=0)
if runs:
    ax_t.legend()
fig.suptitle("Dask LocalCluster, 2 worker processes")
fig.tight_layout()
plt.show()

# %%
# The table behind the figure:
print(section.strip())
