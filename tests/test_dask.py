"""GridSearchCV / cross-validation over sktl pipelines on a Dask cluster.

Runs joblib's Dask backend against a ``distributed.LocalCluster`` with several
in-process workers; skips cleanly when dask is not installed (``sktl[dask]``).
"""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from joblib import parallel_backend  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sktl import CORAL, make_da_pipeline  # noqa: E402
from sktl.datasets import make_domain_shift  # noqa: E402
from sktl.metrics import PredictionEntropyScorer  # noqa: E402
from sktl.model_selection import SourceTargetShuffleSplit  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _data():
    out = make_domain_shift(
        n_samples_source=120, n_samples_target=120, mask_target=True, random_state=0
    )
    return out[0], out[1], out[2]


def test_grid_search_on_dask_matches_serial(client):
    X, y, sd = _data()
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    cv = SourceTargetShuffleSplit(n_splits=3, random_state=0)
    grid = {"coral__reg": [0.1, 1.0, 10.0]}

    serial = GridSearchCV(pipe, grid, cv=cv, scoring=PredictionEntropyScorer()).fit(X, y, groups=sd)
    with parallel_backend("dask"):
        on_dask = GridSearchCV(pipe, grid, cv=cv, scoring=PredictionEntropyScorer(), n_jobs=-1).fit(
            X, y, groups=sd
        )
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"], on_dask.cv_results_["mean_test_score"]
    )
    assert serial.best_params_ == on_dask.best_params_
    on_dask.predict(X[:5])


def test_cross_val_score_on_dask(client):
    X, y, sd = _data()
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    cv = SourceTargetShuffleSplit(n_splits=3, random_state=0)
    with parallel_backend("dask"):
        scores = cross_val_score(
            pipe, X, y, groups=sd, cv=cv, scoring=PredictionEntropyScorer(), n_jobs=-1
        )
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))


def test_adaptation_search_on_dask_matches_serial(client):
    from sktl.model_selection import AdaptationSearchCV

    X, y, sd = _data()
    cands = {"coral": make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())}
    kw = dict(candidates=cands, random_state=0)
    base = make_da_pipeline(StandardScaler(), LogisticRegression())
    serial = AdaptationSearchCV(base, **kw).fit(X, y, sample_domain=sd)
    with parallel_backend("dask"):
        on_dask = AdaptationSearchCV(base, n_jobs=-1, **kw).fit(X, y, sample_domain=sd)
    for key in ("mean_test_circular_validation", "mean_test_source"):
        np.testing.assert_allclose(serial.cv_results_[key], on_dask.cv_results_[key])
    assert serial.best_candidate_ == on_dask.best_candidate_
    np.testing.assert_array_equal(serial.predict(X), on_dask.predict(X))
