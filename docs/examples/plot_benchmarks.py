"""
Benchmarks against skada and ADAPT
==================================

Reads the tables that ``python benchmarks/run_all.py`` writes under
``benchmarks/results/`` and plots fit time and peak memory against the number
of rows for every method that the timing tables list (sktl's large-n modes,
Nyström KMM and landmark TCA, included), then prints the headline tables.
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
            if (d / "benchmarks" / "results").is_dir():
                return d / "benchmarks" / "results"
    raise FileNotFoundError("benchmarks/results not found")


def tables(text):
    """Yield (section title, header, rows) for every markdown table."""
    title, block = "", []
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            title = line.lstrip("# ").strip()
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            if len(block) > 2:
                yield title, block[0], block[2:]
            block = []


def number(cell):
    try:
        return float(re.sub(r"[^0-9.eE+-]", "", cell))
    except ValueError:
        return float("nan")


results = find_results()
timing = []
for md in sorted(results.glob("*.md")):
    if md.name == "README.md":
        continue
    for title, header, rows in tables(md.read_text()):
        cols = {h: i for i, h in enumerate(header)}
        n_col = next((h for h in header if h.startswith(("n", "rows"))), None)
        if n_col and "method" in cols and "fit s" in cols:
            timing.append((title, cols, n_col, rows))

fig, axes = plt.subplots(len(timing), 2, figsize=(11, 4 * len(timing)), squeeze=False)
for (title, cols, n_col, rows), (ax_t, ax_m) in zip(timing, axes, strict=True):
    methods = dict.fromkeys(r[cols["method"]] for r in rows)
    for method in methods:
        mine = [r for r in rows if r[cols["method"]] == method]
        n = [number(r[cols[n_col]]) for r in mine]
        ax_t.plot(n, [number(r[cols["fit s"]]) for r in mine], marker="o", label=method)
        mem = next((c for c in cols if "MB" in c), None)
        if mem:
            ax_m.plot(n, [number(r[cols[mem]]) for r in mine], marker="o", label=method)
    for ax, what in ((ax_t, "fit time (s)"), (ax_m, "peak extra memory (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows per domain")
        ax.set_ylabel(what)
        ax.set_title(title.split(":")[0].split("(")[0].strip(), fontsize=10)
    ax_t.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
# The collected tables (``benchmarks/results/README.md``) are on the
# benchmarks page of this site; the first lines of each results file:
for md in sorted(results.glob("*.md")):
    if md.name != "README.md":
        print("\n".join(md.read_text().splitlines()[:4]), end="\n\n")
