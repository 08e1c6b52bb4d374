"""scipy.sparse input (bag-of-words text) wherever the method allows (issue #16)."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from test_common import make_data, output

from registry import REGISTRY
from sktl import CORAL, KMM, TCA, DiscriminativeReweighter, SubspaceAlignment
from sktl.utils._sparse import MAX_SPARSE_FEATURES

CASES = [(e, t) for e in REGISTRY if e.sklearn_checks for t in e.tasks]
IDS = [f"{e.name}-{t}" for e, t in CASES]


def _dense(a):
    return np.asarray(a.toarray() if sp.issparse(a) else a, dtype=float)


@pytest.mark.parametrize("entry, task", CASES, ids=IDS)
def test_sparse_rows_give_the_dense_answer(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    X[np.abs(X) < 0.5], X_new[np.abs(X_new) < 0.5] = 0, 0  # really sparse rows
    dense = entry.make(task).fit(X, y, sample_domain=sd)
    sparse = entry.make(task).fit(sp.csr_matrix(X), y, sample_domain=sd)
    got = _dense(output(sparse, sp.csc_matrix(X_new)))
    if entry.name == "TrAdaBoost" and task == "regression":
        # regression trees break split ties differently on sparse input
        assert np.all(np.isfinite(got))
    else:
        np.testing.assert_allclose(got, _dense(output(dense, X_new)), atol=1e-8)


def _wide_text_like(n=300, d=200_000, seed=0):
    """Counts over a large vocabulary: densified, it would take n * d * 8 = 480 MB."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), 20)
    cols = np.where(rng.random(n * 20) < 0.5, rng.integers(0, 50, n * 20),
                    rng.integers(0, d, n * 20))
    half = np.arange(n) >= n // 2
    cols = np.where(half[rows] & (cols < 50), cols + 25, cols)  # the target's words shift
    X = sp.csr_matrix((np.ones(n * 20), (rows, cols)), shape=(n, d))
    y = (np.asarray(X[:, :25].sum(axis=1)).ravel() > np.asarray(X[:, 25:75].sum(axis=1))
         .ravel() / 2).astype(int)
    sd = np.where(half, -2, 1)
    return X, np.where(half, -1, y), sd


@pytest.mark.parametrize("make", [
    lambda: KMM(LogisticRegression(), solver="nystrom", n_components=50, random_state=0),
    lambda: KMM(LogisticRegression(), random_state=0),
    lambda: DiscriminativeReweighter(LogisticRegression()),
    lambda: TCA(n_components=5, kernel="rbf", random_state=0),
    lambda: TCA(n_components=5, kernel="linear", n_landmarks=50, random_state=0),
], ids=["KMM-nystrom", "KMM", "Discriminative", "TCA-kernel", "TCA-landmarks"])
def test_wide_sparse_input_is_never_densified(make):
    X, y, sd = _wide_text_like()
    tracemalloc.start()
    est = make().fit(X, y, sample_domain=sd)
    out = output(est, X[sd < 0])
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert np.all(np.isfinite(_dense(out)))
    assert peak < 150, f"{peak:.0f} MiB: the 480 MB dense matrix was formed"


@pytest.mark.parametrize("cls", [CORAL, SubspaceAlignment])
def test_d_by_d_methods_refuse_wide_sparse_input_naming_truncated_svd(cls):
    X, y, sd = _wide_text_like(n=60, d=MAX_SPARSE_FEATURES + 1)
    with pytest.raises(ValueError, match="TruncatedSVD"):
        cls().fit(X, y, sample_domain=sd)
    narrow = X[:, :300]
    Z = cls().fit(narrow, y, sample_domain=sd).transform(narrow)
    assert np.all(np.isfinite(_dense(Z)))


def test_coral_keeps_target_rows_sparse():
    X, y, sd = _wide_text_like(n=60, d=300)
    out = CORAL().fit(X, y, sample_domain=sd).transform(X[sd < 0])
    assert sp.issparse(out) and (out != X[sd < 0]).nnz == 0


def test_count_vectorizer_in_front_of_a_reweighter():
    from sklearn.feature_extraction.text import CountVectorizer

    from sktl.pipeline import make_da_pipeline

    rng = np.random.default_rng(0)
    good, bad = ["great", "love", "superb"], ["awful", "hate", "broken"]
    topics = {1: ["book", "plot", "author"], -2: ["kettle", "blender", "toaster"]}

    def review(label, dom):
        words = rng.choice(good if label else bad, 2).tolist() + rng.choice(topics[dom], 3).tolist()
        return " ".join(rng.permutation(words))

    sd = np.repeat([1, -2], 100)
    y_true = rng.integers(0, 2, 200)
    texts = [review(c, d) for c, d in zip(y_true, sd)]
    y = np.where(sd > 0, y_true, -1)
    pipe = make_da_pipeline(CountVectorizer(), DiscriminativeReweighter(LogisticRegression()))
    pipe.fit(texts, y, discriminativereweighter__sample_domain=sd)
    assert sp.issparse(pipe[0].transform(texts[:2]))
    assert pipe.score([t for t, d in zip(texts, sd) if d < 0], y_true[sd < 0]) > 0.9
