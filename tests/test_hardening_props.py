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
from test_common import make_data

from registry import REGISTRY

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


def _is_deep(entry):
    return entry.make.__qualname__.startswith("_deep.")


def _predict_in_fresh_process(jobs, tmp_path):
    """Load each ``(estimator, X, method)`` joblib file in one new interpreter; its outputs."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import joblib, numpy as np, sys\n"
        "outs = {}\n"
        "for i, path in enumerate(sys.argv[2:]):\n"
        "    est, X, method = joblib.load(path)\n"
        "    outs[str(i)] = np.asarray(getattr(est, method)(X), dtype=float)\n"
        "np.savez(sys.argv[1], **outs)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    out = tmp_path / "out.npz"
    subprocess.run([sys.executable, "-c", code, str(out), *map(str, jobs)], check=True,
                   cwd=root, env={"PYTHONPATH": root, "PATH": ""}, timeout=300)
    loaded = np.load(out)
    return [loaded[str(i)] for i in range(len(jobs))]


def _dump_fitted(entry, task, path):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    est = _fit(entry.make(task), X, y, sd)
    method = "transform" if entry.kind == "transformer" else "predict"
    joblib.dump((est, X_new, method), path)
    return np.asarray(_out(est, entry.kind, X_new), dtype=float)


@pytest.mark.parametrize("entry,task", [c for c in CASES if not _is_deep(c[0])],
                         ids=[i for c, i in zip(CASES, IDS) if not _is_deep(c[0])])
def test_fresh_process_predicts_same(entry, task, tmp_path):
    ref = _dump_fitted(entry, task, tmp_path / "model.joblib")
    (got,) = _predict_in_fresh_process([tmp_path / "model.joblib"], tmp_path)
    np.testing.assert_allclose(got, ref)


def test_fresh_process_predicts_same_deep(tmp_path):
    """Every deep net in one new interpreter (one torch import, not one per net)."""
    cases = [(e, t) for e, t in CASES if _is_deep(e)]
    refs = [_dump_fitted(e, t, tmp_path / f"{i}.joblib") for i, (e, t) in enumerate(cases)]
    outs = _predict_in_fresh_process([tmp_path / f"{i}.joblib" for i in range(len(cases))],
                                     tmp_path)
    for (e, t), ref, got in zip(cases, refs, outs):
        np.testing.assert_allclose(got, ref, err_msg=f"{e.name}-{t}")


DF_CASES = [pytest.param(e, t, id=f"{e.name}-{t}") for e, t in CASES]


@pytest.mark.parametrize("entry,task", DF_CASES)
def test_dataframe_in_feature_names_checked(entry, task):
    pd = pytest.importorskip("pandas")
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    cols = [f"f{i}" for i in range(X.shape[1])]
    Xdf, Xdf_new = pd.DataFrame(X, columns=cols), pd.DataFrame(X_new, columns=cols)
    before = Xdf.copy()
    est = _fit(entry.make(task), Xdf, y, sd)
    pd.testing.assert_frame_equal(Xdf, before)
    assert list(est.feature_names_in_) == cols
    ref = np.asarray(_out(est, entry.kind, Xdf_new))
    with pytest.warns(UserWarning, match="valid feature names"):
        plain = np.asarray(_out(est, entry.kind, X_new))
    np.testing.assert_allclose(ref, plain)
    renamed = Xdf_new.rename(columns={"f0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        _out(est, entry.kind, renamed)


TRANSFORMERS = [(e, t) for e, t in CASES if e.kind == "transformer"]


@pytest.mark.parametrize("entry,task", TRANSFORMERS,
                         ids=[f"{e.name}-{t}" for e, t in TRANSFORMERS])
def test_set_output_pandas(entry, task):
    pd = pytest.importorskip("pandas")
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    cols = [f"f{i}" for i in range(X.shape[1])]
    est = entry.make(task).set_output(transform="pandas")
    _fit(est, pd.DataFrame(X, columns=cols), y, sd)
    out = est.transform(pd.DataFrame(X_new, columns=cols))
    assert isinstance(out, pd.DataFrame)
    assert out.shape[0] == X_new.shape[0]


@pytest.mark.parametrize("entry,task", CASES, ids=IDS)
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    duplicate_col=st.booleans(),
    source_labels=st.sampled_from(["normal", "single_class", "imbalanced"]),
    unseen_target_class=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_awkward_labels_and_columns(entry, task, duplicate_col, source_labels,
                                    unseen_target_class, seed):
    """Duplicate columns, single-class or 95/5 source, a target class unseen in source."""
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels, seed=seed)
    y = y.copy()
    if duplicate_col:
        X, X_new = np.c_[X, X[:, 0]], np.c_[X_new, X_new[:, 0]]
    if task == "classification":
        src = np.flatnonzero(sd > 0)
        if source_labels == "single_class":
            y[src] = y[src][0]
        elif source_labels == "imbalanced":
            y[src] = np.where(np.arange(len(src)) % 20 == 0, 1, 0)
        labelled_tgt = np.flatnonzero((sd < 0) & (y != -1))
        if unseen_target_class and len(labelled_tgt):
            y[labelled_tgt[0]] = 7
    try:
        est = _fit(entry.make(task), X, y, sd)
        out = _out(est, entry.kind, X_new)
    except (ValueError, TypeError) as exc:
        assert str(exc), "error raised without a message"
        return
    if entry.kind == "transformer" or task == "regression":
        assert np.all(np.isfinite(np.asarray(out, dtype=float)))
    else:
        assert len(out) == len(X_new)
