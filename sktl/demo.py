"""sktl's demo: no adaptation vs several adaptation methods on shifted data.

Run ``python -m sktl.demo`` (add ``--plot PATH`` to choose where the figure
goes). It uses the wine-quality data shipped with sktl (red -> white) and a
generated covariate-shift problem, trains each method on the labelled source
rows plus the unlabelled target rows (supervised methods also get 5 % of the
target labels), and prints the accuracy on the held-out target rows.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sktl
from sktl.datasets import load_wine_quality, make_domain_shift
from sktl.exceptions import DomainWarning
from sktl.pipeline import make_da_pipeline
from sktl.utils import mask_target_labels

TARGET_LABEL_FRACTION = 0.05


def _methods():
    """(name, factory, uses target labels) for every method available."""
    lr = LogisticRegression
    candidates = [
        ("no adaptation", lambda: make_da_pipeline(StandardScaler(), lr()), False),
        ("CORAL", lambda: make_da_pipeline(StandardScaler(), sktl.CORAL(), lr()), False),
        ("DiscriminativeReweighter",
         lambda: make_da_pipeline(StandardScaler(), sktl.DiscriminativeReweighter(lr())), False),
        ("KMM", lambda: make_da_pipeline(StandardScaler(), sktl.KMM(lr())), False),
        ("TCA (rbf, 300 landmarks)", lambda: make_da_pipeline(
            StandardScaler(), sktl.TCA(n_components=5, kernel="rbf", n_landmarks=300,
                                       random_state=0), lr()), False),
        ("SubspaceAlignment", lambda: make_da_pipeline(
            StandardScaler(), sktl.SubspaceAlignment(n_components=2), lr()), False),
        ("target labels only", None, True),
        ("FEDA (5 % target labels)",
         lambda: make_da_pipeline(StandardScaler(), sktl.FEDA(lr())), True),
        ("TrAdaBoost (5 % target labels)",
         lambda: make_da_pipeline(StandardScaler(), sktl.TrAdaBoostClassifier(
             lr(), n_estimators=20, random_state=0)), True),
    ]
    out = []
    for name, factory, supervised in candidates:
        try:
            if factory is not None:
                factory()
        except AttributeError:  # method not in this version of sktl
            continue
        out.append((name, factory, supervised))
    return out


def _datasets():
    X, y, sd = load_wine_quality("red", "white")
    yield "wine red -> white", X, y, sd
    X, y, sd = make_domain_shift(1000, 1000, shift="covariate", random_state=0)
    yield "generated covariate shift", X, y, sd


def run(seed=0):
    """Return ``{dataset: {method: (accuracy, seconds)}}``."""
    results = {}
    for data_name, X, y, sd in _datasets():
        rng = np.random.default_rng(seed)
        tgt = np.flatnonzero(sd < 0)
        train_t, test_t = train_test_split(tgt, test_size=0.5, random_state=seed)
        train = np.r_[np.flatnonzero(sd > 0), train_t]
        y_train = mask_target_labels(y, sd)[train]
        sd_train = sd[train]
        few = rng.choice(len(train_t), max(2, int(TARGET_LABEL_FRACTION * len(tgt))),
                         replace=False) + (sd > 0).sum()
        y_few = y_train.copy()
        y_few[few] = y[train][few]
        results[data_name] = {}
        for name, factory, supervised in _methods():
            start = time.perf_counter()
            if factory is None:  # baseline: only the few labelled target rows
                model = make_da_pipeline(StandardScaler(), LogisticRegression())
                model.fit(X[train][few], y[train][few])
            else:
                model = factory()
                with config_context(enable_metadata_routing=True), warnings.catch_warnings():
                    # the table shows how each method fares; skip the per-fit advice
                    warnings.simplefilter("ignore", DomainWarning)
                    model.fit(X[train], y_few if supervised else y_train,
                              sample_domain=sd_train)
            acc = float(np.mean(model.predict(X[test_t]) == y[test_t]))
            results[data_name][name] = (acc, time.perf_counter() - start)
    return results


def format_table(results):
    """Markdown table: one row per method, one accuracy column per data set."""
    names = list(results)
    methods = list(dict.fromkeys(m for r in results.values() for m in r))
    lines = ["| method | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for m in methods:
        cells = []
        for d in names:
            acc, _ = results[d].get(m, (np.nan, 0))
            base = results[d]["no adaptation"][0]
            cells.append(f"{100 * acc:.1f} ({100 * (acc - base):+.1f})")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results, path):
    """Bar chart of target accuracy per method and data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    methods = list(dict.fromkeys(m for r in results.values() for m in r))
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4), sharey=False)
    for ax, d in zip(np.atleast_1d(axes), names):
        accs = [100 * results[d][m][0] for m in methods]
        colors = ["0.6" if m == "no adaptation" else "C0" for m in methods]
        ax.barh(methods, accs, color=colors)
        ax.axvline(accs[0], color="k", lw=1, ls="--")
        ax.set_xlim(max(0, min(accs) - 10), min(100, max(accs) + 5))
        ax.set_title(d)
        ax.set_xlabel("target accuracy (%)")
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default="sktl_demo.png", help="where to save the figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results = run(args.seed)
    print("Target accuracy in % (gain over no adaptation), held-out target rows:\n")
    print(format_table(results))
    plot(results, args.plot)
    print(f"\nFigure saved to {args.plot}")


if __name__ == "__main__":
    main()
