"""Real tables and persistence: DataFrames, set_output, ColumnTransformer, joblib, new process."""

import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from test_common import make_data, output

from registry import REGISTRY
from sktl import CORAL, LabelledOnly
from sktl.datasets import load_wine_quality
from sktl.utils import mask_target_labels

pd = pytest.importorskip("pandas")

CLASSICAL = [(e, "classification") for e in REGISTRY
             if "classification" in e.tasks and e.sklearn_checks]
IDS = [e.name for e, _ in CLASSICAL]


def _frame(X):
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])


@pytest.mark.parametrize("entry, task", CLASSICAL, ids=IDS)
def test_dataframes_in_names_checked_inputs_untouched(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    df, df_new = _frame(X), _frame(X_new)
    before = df.copy()
    est = entry.make(task).fit(df, y, sample_domain=sd)
    assert list(est.feature_names_in_) == list(df.columns)
    out = output(est, df_new)
    assert np.all(np.isfinite(np.asarray(out, dtype=float)))
    pd.testing.assert_frame_equal(df, before)
    renamed = df_new.rename(columns={"f0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        output(est, renamed)


@pytest.mark.parametrize("entry, task", [(e, t) for e, t in CLASSICAL
                                         if e.kind == "transformer"],
                         ids=[e.name for e, _ in CLASSICAL if e.kind == "transformer"])
def test_transformers_set_output_pandas(entry, task):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    est = entry.make(task).set_output(transform="pandas")
    Z = est.fit_transform(_frame(X), y, sample_domain=sd)
    assert isinstance(Z, pd.DataFrame) and list(Z.columns) == list(est.get_feature_names_out())
    assert isinstance(est.transform(_frame(X_new)), pd.DataFrame)


def test_column_transformer_with_one_hot_in_front_of_da():
    X, y, sd = load_wine_quality(as_frame=True)
    X = X.assign(batch=np.where(X["alcohol"] > 10.5, "high", "low"))
    ym = mask_target_labels(y, sd)
    prep = ColumnTransformer([("num", StandardScaler(), list(X.columns[:-1])),
                              ("cat", OneHotEncoder(), ["batch"])])
    pipe = Pipeline([("prep", prep), ("coral", CORAL()),
                     ("clf", LabelledOnly(LogisticRegression(max_iter=500)))])
    pipe.fit(X, ym, coral__sample_domain=sd)
    acc = pipe.score(X[sd < 0], y[sd < 0])
    assert 0.5 < acc <= 1.0


@pytest.mark.parametrize("entry, task", CLASSICAL, ids=IDS)
def test_joblib_round_trip_and_fresh_process(entry, task, tmp_path):
    X, y, sd, X_new, _ = make_data(task, entry.needs_target_labels)
    est = entry.make(task).fit(X, y, sample_domain=sd)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    np.save(tmp_path / "X.npy", X_new)
    expected = np.asarray(output(est, X_new), dtype=float)
    np.testing.assert_allclose(np.asarray(output(joblib.load(path), X_new), dtype=float),
                               expected)
    code = (
        "import joblib, numpy as np, sys; m = joblib.load(sys.argv[1]); X = np.load(sys.argv[2]);"
        "out = m.predict(X) if hasattr(m, 'predict') else m.transform(X);"
        "np.save(sys.argv[3], np.asarray(out, dtype=float))"
    )
    res = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "X.npy"),
                          str(tmp_path / "out.npy")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected)


def test_near_singular_covariance_and_constant_columns():
    X, y, sd, X_new, _ = make_data("classification", False)
    X = np.c_[X, np.ones(len(X)), X[:, 0]]  # a constant and a duplicate column
    Z = CORAL(reg=0.0).fit(X, y, sample_domain=sd).transform(np.c_[X_new, np.ones(len(X_new)),
                                                                   X_new[:, 0]])
    assert np.all(np.isfinite(Z))


def test_near_singular_kernels_warn_and_stay_finite():
    from sktl import KMM, TCA
    from sktl.exceptions import NearSingularKernelWarning

    X, y, sd, X_new, _ = make_data("classification", False)
    X = np.repeat(X[:20], 8, axis=0)  # many duplicate rows: singular landmark kernels
    y, sd = np.repeat(y[:20], 8), np.repeat(np.where(np.arange(20) < 10, 1, -2), 8)
    with pytest.warns(NearSingularKernelWarning, match="duplicate"):
        w = KMM(solver="nystrom", n_components=100, random_state=0).fit(
            X, sample_domain=sd).weights_
    assert np.all(np.isfinite(w))
    with pytest.warns(NearSingularKernelWarning, match="duplicate"):
        Z = TCA(2, kernel="rbf", n_landmarks=100, random_state=0).fit(
            X, y, sample_domain=sd).transform(X_new)
    assert np.all(np.isfinite(Z))
