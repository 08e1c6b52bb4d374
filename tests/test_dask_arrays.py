"""Dask arrays in, Dask arrays out, on a LocalCluster of worker processes.

The Dask fits must equal the in-memory fits (same landmarks and seed), keep
their outputs lazy, accept dask DataFrames, and survive a worker killed in the
middle of a fit. Skipped when dask is not installed (``sktl[dask]``).
"""

import os
import signal
import threading
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

from sklearn.linear_model import SGDClassifier  # noqa: E402

from sktl import CORAL, JDA, KMM, TCA, DiscriminativeReweighter, SubspaceAlignment  # noqa: E402
from sktl.datasets import make_domain_shift  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 memory_limit="1GiB", dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data():
    X, y, sd = make_domain_shift(2000, 2000, n_features=5, shift="covariate",
                                 random_state=0, mask_target=True)
    chunks = 700  # uneven chunks, some without target rows
    return X, y, sd, tuple(da.from_array(a, chunks=chunks) for a in (X, y, sd))


def _close(a, b, rtol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    assert np.abs(a - b).max() <= rtol * np.abs(a).max(), np.abs(a - b).max()


TRANSFORMERS = [
    CORAL(), SubspaceAlignment(3), TCA(3),
    TCA(3, kernel="rbf", n_landmarks=100, random_state=0),
]


@pytest.mark.parametrize("est", TRANSFORMERS, ids=["CORAL", "SA", "TCA-primal", "TCA-landmarks"])
def test_transformers_equal_in_memory_and_stay_lazy(client, data, est):
    X, y, sd, (Xd, yd, sdd) = data
    ref = est.fit_transform(X, y, sample_domain=sd)
    ref_new = est.transform(X[:50])
    Z = est.fit_transform(Xd, yd, sample_domain=sdd)
    assert isinstance(Z, da.Array) and Z.chunks[0] == Xd.chunks[0]
    _close(ref, Z.compute())
    new = est.transform(Xd[:50])
    assert isinstance(new, da.Array)
    _close(ref_new, new.compute())


def test_reweighters_equal_in_memory(client, data):
    X, y, sd, (Xd, yd, sdd) = data
    n_positive = []
    # B = 5: at least 400 weighted rows, so the second KMM refines 100 of them only
    for est in (KMM(solver="nystrom", n_components=100, refine_size=400, random_state=0),
                KMM(solver="nystrom", B=5.0, n_components=100, refine_size=100,
                    random_state=0),
                DiscriminativeReweighter()):
        ref = est.fit(X, sample_domain=sd).weights_
        w = est.fit(Xd, sample_domain=sdd).weights_
        assert isinstance(w, da.Array)
        w = w.compute()
        assert w.shape == ref.shape == ((sd > 0).sum(),)
        _close(ref, w)
        n_positive.append((w > 0).sum())
    assert n_positive[0] < 0.5 * len(w) and n_positive[2] == len(w)  # KMM's are sparse
    assert n_positive[1] >= len(w) / 5


def test_dataframes_and_a_partial_fit_estimator(client, data):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, sd, _ = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    Xf = dd.from_pandas(frame, npartitions=3)
    yf = dd.from_pandas(pd.Series(y), npartitions=3)
    sdf = dd.from_pandas(pd.Series(sd), npartitions=3)
    coral = CORAL().fit(Xf, yf, sample_domain=sdf)
    assert list(coral.feature_names_in_) == list(frame.columns)
    _close(CORAL().fit(X, y, sample_domain=sd).coral_matrix_, coral.coral_matrix_)
    # the reweighter streams its weights into an estimator with partial_fit
    dr = DiscriminativeReweighter(SGDClassifier(random_state=0))
    dr.fit(Xf, yf, sample_domain=sdf)
    assert dr.estimator_.coef_.shape == (1, X.shape[1])
    assert np.array_equal(dr.classes_, [0, 1])


def test_clear_errors_on_dask_input(client, data):
    _, _, _, (Xd, yd, sdd) = data
    with pytest.raises(ValueError, match="n_landmarks"):
        TCA(2, kernel="rbf").fit(Xd, yd, sample_domain=sdd)
    with pytest.raises(TypeError, match="does not accept Dask"):
        JDA(2).fit(Xd, yd, sample_domain=sdd)
    with pytest.raises(ValueError, match="solver='nystrom'"):
        KMM(solver="fista").fit(Xd, sample_domain=sdd)
    bad = da.where(da.arange(len(Xd), chunks=700)[:, None] == 5, np.nan, Xd)
    with pytest.raises(ValueError, match="NaN"):
        CORAL().fit(bad, yd, sample_domain=sdd)
    with pytest.raises(ValueError, match="0, which is not a domain code"):
        CORAL().fit(Xd, yd, sample_domain=sdd * 0)
    with pytest.raises(ValueError, match="features"):
        CORAL().fit(Xd, yd, sample_domain=sdd).transform(Xd[:, :2])


def test_killed_worker_costs_time_not_correctness(client, data):
    X, _, sd, _ = data
    est = DiscriminativeReweighter()  # Newton: several passes over the chunks
    ref = est.fit(X, sample_domain=sd).weights_
    Xd, sdd = da.from_array(X, chunks=400), da.from_array(sd, chunks=400)
    victim = next(iter(client.run(os.getpid).values()))
    result = {}

    def fit():
        result["w"] = est.fit(Xd, sample_domain=sdd).weights_.compute()

    worker = threading.Thread(target=fit)
    worker.start()
    deadline = time.time() + 30
    while time.time() < deadline and not any(client.processing().values()):
        time.sleep(0.005)
    os.kill(victim, signal.SIGKILL)  # mid-fit: its chunks and results are lost
    worker.join(120)
    assert not worker.is_alive()
    _close(ref, result["w"])
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
