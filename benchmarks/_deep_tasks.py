"""Shared pieces of the deep transfer benchmarks (partial DA, CCSA, multi-task, multi-source).

Loading the real pairs with the preprocessing of ``bench_deep.py`` (Office-
Caltech SURF rows normalised to sum one then z-scored, digits z-scored,
Amazon reviews as stored), the benchmark MLP, and the parts/report plumbing:
each run of a script writes a JSON part under ``results/<name>_parts/`` and
``--report`` assembles the Markdown table from every part.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
DATA = Path(os.environ.get("SKTL_DATA", HERE.resolve().parents[1] / "shared" / "data"))
OFFICE = {"A": "amazon", "C": "caltech", "W": "webcam", "D": "dslr"}
AMAZON = {"B": "books", "D": "dvd", "E": "elec", "K": "kitchen"}


def load_pair(kind, source, target):
    """``X, y, sample_domain`` (every label true, classes coded 0..K-1), scaled on all rows.

    ``kind`` is "office" (domain letters A, C, W, D), "digits" ("mnist",
    "usps") or "amazon" (letters B, D, E, K).
    """
    from sklearn.preprocessing import StandardScaler

    from sktl import datasets

    if kind == "office":
        X, y, sd = datasets.load_office_caltech(OFFICE[source], OFFICE[target], data_home=DATA)
        X = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-12)
    elif kind == "digits":
        X, y, sd = datasets.load_mnist_usps(source, target, data_home=DATA)
    elif kind == "amazon":
        X, y, sd = datasets.load_amazon_reviews(AMAZON[source], AMAZON[target], data_home=DATA)
        return np.asarray(X, dtype=float), y - y.min(), sd
    else:
        raise ValueError(kind)
    return StandardScaler().fit_transform(X), y - y.min(), sd


def mlp(n_features, n_outputs, hidden_units=(64, 64), dropout=0.1):
    """The benchmark network of ``bench_deep.py``: an MLP 64-64, dropout 0.1."""
    from sktl.deep import MLPModule

    return MLPModule(n_features, n_outputs, hidden_units=hidden_units, dropout=dropout)


def save_part(name, part, rows):
    """Write (or update, by the ``key`` of each row) the JSON part ``part`` of a benchmark."""
    folder = HERE / "results" / f"{name}_parts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{part}.json"
    old = json.loads(path.read_text()) if path.exists() else []
    keys = {tuple(r["key"]) for r in rows}
    path.write_text(json.dumps([r for r in old if tuple(r["key"]) not in keys] + rows,
                               indent=1))


def load_parts(name):
    """Every row of every part of a benchmark."""
    folder = HERE / "results" / f"{name}_parts"
    return [r for p in sorted(folder.glob("*.json")) for r in json.loads(p.read_text())]


def cell(values):
    """``mean [min, max]`` of a list of accuracies, or a dash."""
    if not values:
        return "—"
    a = np.asarray(values)
    return f"{a.mean():.3f} [{a.min():.3f}, {a.max():.3f}]"


def parts_cli(module):
    """The command line of a benchmark run in parts (``bench_partial``, ``bench_glomo``,
    ``bench_ddtl``): ``--data`` one part, ``--report`` the table only; with no
    ``--data`` every part, then the table.

    ``module`` provides ``TASKS``, ``METHODS``, ``EPOCHS``, ``run_part(data, methods,
    seeds)`` and ``report()``; ``--epochs`` (smoke tests only) overrides its ``EPOCHS``.
    """
    import torch

    parser = argparse.ArgumentParser(description=module.__doc__.split("\n")[0])
    parser.add_argument("--data", choices=list(module.TASKS))
    parser.add_argument("--methods", default=",".join(module.METHODS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=module.EPOCHS, help="smoke tests only")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        return module.report()
    module.EPOCHS = args.epochs
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    for data in [args.data] if args.data else list(module.TASKS):
        module.run_part(data, args.methods.split(","), args.seeds)
    if not args.data:
        module.report()
