"""Hardening tests (issue #8), driven by ``tests/registry.py``.

Every registry entry must not modify its inputs, must round-trip through
pickle/joblib, and on random bad input must either work with finite outputs
or raise a ValueError/TypeError (never another exception type).
"""

import io
import pickle

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.registry import REGISTRY
from tests.test_common import make_data

CASES = [(e, t) for e in REGISTRY for t in e.tasks]
IDS = [f"{e.name}-{t}" for e, t in CASES]


def _fit(est, X, y, sd):
    return est.fit(X, y, sample_domain=sd)


def _out(est, kind, X):
    if kind == "transformer":
        return est.transform(X)
    return est.predict(X)


@pytest.mark.parametrize("entry,task", CASES, ids=IDS)
def test_inputs_not_modified(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    copies = [a.copy() for a in (X, y, sd, X_new)]
    est = _fit(entry.make(task), X, y, sd)
    _out(est, entry.kind, X_new)
    for a, c in zip((X, y, sd, X_new), copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("entry,task", CASES, ids=IDS)
def test_pickle_joblib_roundtrip(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    est = _fit(entry.make(task), X, y, sd)
    ref = np.asarray(_out(est, entry.kind, X_new))
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(np.asarray(_out(loaded, entry.kind, X_new)), ref)
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    np.testing.assert_allclose(np.asarray(_out(joblib.load(buf), entry.kind, X_new)), ref)


@pytest.mark.parametrize("entry,task", CASES, ids=IDS)
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    scale=st.sampled_from([1e-8, 1.0, 1e8]),
    dtype=st.sampled_from([np.float32, np.float64, np.int64]),
    n_target=st.integers(1, 3),
    constant_col=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_random_bad_input(entry, task, scale, dtype, n_target, constant_col, seed):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels, seed=seed)
    tgt = np.flatnonzero(sd < 0)
    keep = np.concatenate([np.flatnonzero(sd > 0), tgt[:n_target]])
    X, y, sd = (X[keep] * scale).astype(dtype), y[keep], sd[keep]
    X_new = (X_new * scale).astype(dtype)
    if constant_col:
        X[:, 0] = 1
        X_new[:, 0] = 1
    try:
        est = _fit(entry.make(task), X, y, sd)
        out = np.asarray(_out(est, entry.kind, X_new), dtype=float)
    except (ValueError, TypeError) as exc:
        assert str(exc), "error raised without a message"
        return
    assert np.all(np.isfinite(out))
