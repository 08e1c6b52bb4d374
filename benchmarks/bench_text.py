"""Sentiment transfer on text features given as a sparse matrix: no adaptation vs each method.

Data: the Amazon reviews of ``../shared/data/amazon_review_400`` (Blitzer et al. 2007;
400 word features, about 93% zeros) passed to every sktl method as a
``scipy.sparse`` CSR matrix, for two source -> target pairs; and a generated
bag-of-words corpus turned into counts by ``CountVectorizer`` (sparse, 2000 terms).
Every method ends in the same ``LogisticRegression(C=1)`` trained on the source
labels only; the target accuracy is measured on all target rows (their labels are
never used for fitting or settings). skada's CORAL, SubspaceAlignment and TCA
run on the same data densified (skada takes dense arrays), in the same run.

    PYTHONPATH=$PWD /work/benchenv/bin/python benchmarks/bench_text.py

Writes benchmarks/results/text.md.
"""

import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

RESULTS = Path(__file__).parent / "results" / "text.md"
os.environ.setdefault("SKTL_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
PAIRS = [("books", "dvd"), ("elec", "kitchen")]


def clf():
    return LogisticRegression(C=1.0, max_iter=2000)


def sktl_methods():
    from sktl import CORAL, KMM, MSDA, TCA, DiscriminativeReweighter, SubspaceAlignment
    from sktl.pipeline import make_da_pipeline

    return {
        "no adaptation": lambda: make_da_pipeline(clf()),
        "mSDA (3 layers, p=0.5)": lambda: make_da_pipeline(MSDA(0.5, 3), clf()),
        "KMM (Nystrom)": lambda: KMM(clf(), solver="nystrom", n_components=300,
                                    random_state=0),
        "DiscriminativeReweighter": lambda: DiscriminativeReweighter(clf()),
        "TCA (linear, 50)": lambda: make_da_pipeline(TCA(50, random_state=0), clf()),
        "CORAL": lambda: make_da_pipeline(CORAL(), clf()),
        "SubspaceAlignment (50)": lambda: make_da_pipeline(SubspaceAlignment(50), clf()),
    }


def skada_methods():
    try:
        import skada
    except ImportError:
        return {}
    return {
        "CORAL": lambda: skada.make_da_pipeline(skada.CORALAdapter(), clf()),
        "SubspaceAlignment (50)": lambda: skada.make_da_pipeline(
            skada.SubspaceAlignmentAdapter(n_components=50), clf()),
        "TCA (linear, 50)": lambda: skada.make_da_pipeline(
            skada.TransferComponentAnalysisAdapter(n_components=50, kernel="linear"),
            clf()),
    }


def generated_text(seed=0, n=600):
    """Reviews of two product families: shared sentiment words, domain-specific ones."""
    from sklearn.feature_extraction.text import CountVectorizer

    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(2000)]
    pos_s, neg_s = ["gripping", "moving"], ["boring", "predictable"]
    pos_t, neg_t = ["sturdy", "quiet"], ["leaks", "flimsy"]
    texts, y, sd = [], [], []
    for dom, (pos, neg) in ((1, (pos_s, neg_s)), (-2, (pos_t, neg_t))):
        for _ in range(n):
            c = rng.integers(0, 2)
            words = rng.choice(vocab, 30).tolist() + rng.choice(pos if c else neg, 2).tolist()
            if rng.random() < 0.5:
                words += ["great"] if c else ["bad"]
            texts.append(" ".join(words))
            y.append(c)
            sd.append(dom)
    X = CountVectorizer().fit_transform(texts).tocsr()
    return X, np.array(y), np.array(sd)


def tasks():
    from sktl.datasets import load_amazon_reviews

    for s, t in PAIRS:
        X, y, sd = load_amazon_reviews(s, t)
        yield f"{s} -> {t}", sp.csr_matrix(X), y, sd
    X, y, sd = generated_text()
    yield "generated text (CountVectorizer)", X, y, sd


def run(make, X, y, sd):
    y_train = np.where(sd > 0, y, -1)
    start = time.perf_counter()
    try:
        model = make().fit(X, y_train, sample_domain=sd)
        acc = float(np.mean(model.predict(X[sd < 0]) == y[sd < 0]))
    except Exception as exc:  # a peer that cannot run this task
        print("   failed:", type(exc).__name__, str(exc)[:100])
        return float("nan"), time.perf_counter() - start
    return acc, time.perf_counter() - start


def main():
    rows = []
    ours, peers = sktl_methods(), skada_methods()
    for name, X, y, sd in tasks():
        base = None
        for method, make in ours.items():
            acc, sec = run(make, X, y, sd)
            base = acc if base is None else base
            rows.append((name, method, "sktl (sparse)", acc, acc - base, sec))
            print(rows[-1], flush=True)
            if method in peers and X.shape[1] <= 1000:
                acc_p, sec_p = run(peers[method], X.toarray(), y, sd)
                rows.append((name, method, "skada (dense)", acc_p, acc_p - base, sec_p))
                print(rows[-1], flush=True)
    lines = ["| task | method | library | target acc. | vs no adaptation | seconds |",
             "|---|---|---|---:|---:|---:|"]
    lines += [f"| {t} | {m} | {lib} | {a:.3f} | {g:+.3f} | {s:.1f} |"
              for t, m, lib, a, g, s in rows]
    text = ("# Text: sparse bag-of-words features, no adaptation vs each method\n\n"
            "Generated by `PYTHONPATH=$PWD /work/benchenv/bin/python "
            "benchmarks/bench_text.py` (2 CPU cores, shared). sktl gets the "
            "features as a scipy.sparse CSR matrix, skada (dense only) the same "
            "features densified; every method ends in LogisticRegression(C=1) trained "
            "on the source labels; target labels are never used. One run "
            "(deterministic settings).\n\n" + "\n".join(lines) + "\n")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
