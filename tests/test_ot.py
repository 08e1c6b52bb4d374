"""Optimal transport: mappings recover known maps, transport adapts, JCPOT finds proportions."""

import builtins
import sys

import numpy as np
import pytest
from sklearn import config_context
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC

from sktl import (
    JCPOT,
    ClassRegularizedOTMapping,
    EntropicOTMapping,
    JDOTClassifier,
    JDOTRegressor,
    LinearOTMapping,
    MMDLSConSMapping,
    MultiLinearMongeAlignment,
    OTLabelPropagation,
    OTMapping,
)
from sktl.datasets import make_domain_shift
from sktl.pipeline import make_da_pipeline

pytest.importorskip("ot")

SHIFT = np.array([4.0, -3.0])


def _translated(n=80, seed=0):
    """Source rows and the same rows translated by SHIFT as the target."""
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(n, 2))
    y = (Xs[:, 0] + Xs[:, 1] > 0).astype(int)
    X = np.r_[Xs, Xs + SHIFT]
    sd = np.r_[np.ones(n, int), -2 * np.ones(n, int)]
    return X, np.r_[y, -np.ones(n, int)], sd, np.r_[y, y]


def _two_class_shift(n=100, seed=0):
    """Two classes; the target moves each class by a different translation."""
    rng = np.random.default_rng(seed)
    y = np.arange(2 * n) % 2
    Xs = rng.normal(scale=0.6, size=(2 * n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0) * [1, 0]
    yt = rng.permutation(y)
    Xt = rng.normal(scale=0.6, size=(2 * n, 2)) + np.where(yt[:, None] == 1, 2.0, -2.0) * [1, 0]
    Xt = Xt + np.where(yt[:, None] == 1, [0.0, 3.0], [0.0, -1.0]) + [1.5, 0]
    X = np.r_[Xs, Xt]
    sd = np.r_[np.ones(2 * n, int), -np.ones(2 * n, int)]
    return X, np.r_[y, -np.ones(2 * n, int)], sd, np.r_[y, yt]


def test_exact_mapping_recovers_a_translation_and_extends_out_of_sample():
    X, y, sd, _ = _translated()
    m = OTMapping().fit(X, y, sample_domain=sd)
    Z = m.fit_transform(X, y, sample_domain=sd)
    np.testing.assert_allclose(Z[sd > 0], X[sd < 0], atol=1e-8)  # every row lands on its twin
    np.testing.assert_allclose(Z[sd < 0], X[sd < 0])  # target rows do not move
    np.testing.assert_allclose(m.coupling_.sum(), 1.0)
    new = X[sd > 0][:5] + 0.01  # new source rows near training ones move the same way
    moved = m.transform(new, sample_domain=np.ones(5, int))
    np.testing.assert_allclose(moved - new, np.tile(SHIFT, (5, 1)), atol=1e-8)
    np.testing.assert_allclose(m.transform(new), new)  # new rows are target rows by default


def test_entropic_mapping_approaches_the_translation_and_blurs_with_reg():
    X, y, sd, _ = _translated()
    err = {}
    for reg in (0.01, 1.0):
        Z = EntropicOTMapping(reg_e=reg).fit_transform(X, y, sample_domain=sd)
        err[reg] = np.abs(Z[sd > 0] - X[sd < 0]).mean()
        np.testing.assert_allclose(Z[sd > 0].mean(axis=0), X[sd < 0].mean(axis=0), atol=1e-3)
    assert err[0.01] < 0.1 < err[1.0]  # small reg: near the exact map; large: towards the mean


def test_labelled_target_rows_only_receive_mass_from_their_class():
    X, y, sd, y_true = _two_class_shift()
    tgt = np.flatnonzero(sd < 0)
    y_semi = y.copy()
    y_semi[tgt[:20]] = y_true[tgt[:20]]
    G = OTMapping().fit(X, y_semi, sample_domain=sd).coupling_
    ys = y[sd > 0]
    for j in range(20):
        assert G[ys != y_true[tgt[j]], j].sum() < 1e-12


def test_class_regulariser_makes_target_rows_receive_one_class():
    X, y, sd, _ = _two_class_shift()
    ys = y[sd > 0]

    def impurity(G):
        per_class = np.stack([G[ys == c].sum(axis=0) for c in (0, 1)])
        return np.mean(per_class.min(axis=0) / per_class.sum(axis=0))

    plain = EntropicOTMapping(reg_e=0.5).fit(X, y, sample_domain=sd).coupling_
    grouped = ClassRegularizedOTMapping(reg_e=0.5, reg_cl=1.0).fit(
        X, y, sample_domain=sd).coupling_
    assert impurity(grouped) < 0.5 * impurity(plain)


def test_linear_mapping_recovers_a_known_monge_map():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 3))
    B = rng.normal(size=(3, 3))
    A = B @ B.T + np.eye(3)  # symmetric positive definite: the Monge map is x A + b
    b = np.array([1.0, -2.0, 0.5])
    X = np.r_[Xs, Xs @ A + b]
    sd = np.r_[np.ones(500, int), -np.ones(500, int)]
    m = LinearOTMapping(reg=0).fit(X, sample_domain=sd)
    np.testing.assert_allclose(m.A_, A, atol=1e-6)
    np.testing.assert_allclose(m.b_, b, atol=1e-6)
    # bias=False assumes centred domains: no translation
    assert np.all(LinearOTMapping(bias=False).fit(X, sample_domain=sd).b_ == 0)


def test_multi_source_alignment_maps_every_domain_to_the_barycentre():
    rng = np.random.default_rng(0)
    scales = {1: 1.0, 2: 2.0, 3: 0.5, -4: 1.5}
    X = np.vstack([scales[d] * rng.normal(size=(300, 2)) + d for d in scales])
    sd = np.repeat(list(scales), 300)
    mlma = MultiLinearMongeAlignment(reg=0).fit(X, sample_domain=sd)
    mean, cov = mlma.barycenter_
    np.testing.assert_allclose(mean, X[sd > 0].reshape(3, 300, 2).mean(axis=1).mean(axis=0))
    Z = mlma.transform(X, sample_domain=sd)
    for d in scales:
        np.testing.assert_allclose(Z[sd == d].mean(axis=0), mean, atol=1e-8)
        np.testing.assert_allclose(np.cov(Z[sd == d].T, bias=True), cov, atol=1e-6)
    # a new target domain is mapped from its own rows; an unseen source code is an error
    new = 3 * rng.normal(size=(200, 2)) - 5
    Zn = mlma.transform(new, sample_domain=np.full(200, -9))
    np.testing.assert_allclose(Zn.mean(axis=0), mean, atol=1e-8)
    with pytest.raises(ValueError, match="Unknown domain"):
        mlma.transform(new, sample_domain=np.full(200, 9))
    with pytest.raises(ValueError, match="at least 2"):
        mlma.transform(new[:1], sample_domain=[-9])


def test_mmd_location_scale_mapping_recovers_class_wise_shifts():
    X, y, sd, y_true = _two_class_shift(seed=1)
    m = MMDLSConSMapping(random_state=0).fit(X, y, sample_domain=sd)
    Z = m.transform(X, sample_domain=sd)
    src, tgt = sd > 0, sd < 0
    before = after = 0.0
    for c in (0, 1):
        target_mean = X[tgt & (y_true == c)].mean(axis=0)
        before += np.linalg.norm(X[src & (y == c)].mean(axis=0) - target_mean)
        after += np.linalg.norm(Z[src & (y == c)].mean(axis=0) - target_mean)
    assert after < 0.3 * before


@pytest.mark.parametrize("make", [
    lambda: make_da_pipeline(OTMapping(), SVC()),
    lambda: make_da_pipeline(ClassRegularizedOTMapping(), SVC()),
    lambda: JDOTClassifier(),
    lambda: OTLabelPropagation(SVC()),
], ids=["OTMapping", "ClassRegularizedOTMapping", "JDOT", "OTLabelPropagation"])
def test_transport_beats_no_adaptation_on_a_conditional_shift(make):
    X, y, sd, y_true = _two_class_shift()
    tgt = sd < 0
    baseline = SVC().fit(X[sd > 0], y[sd > 0]).score(X[tgt], y_true[tgt])
    with config_context(enable_metadata_routing=True):
        acc = make().fit(X, y, sample_domain=sd).score(X[tgt], y_true[tgt])
    assert acc > baseline + 0.1 and acc > 0.9


def test_jdot_iterations_lower_the_objective_and_hinge_works():
    X, y, sd, y_true = _two_class_shift()
    jdot = JDOTClassifier(max_iter=5, tol=0).fit(X, y, sample_domain=sd)
    assert jdot.objective_[-1] <= jdot.objective_[1] + 1e-9
    hinge = JDOTClassifier(SVC(kernel="linear"), loss="hinge").fit(X, y, sample_domain=sd)
    assert hinge.score(X[sd < 0], y_true[sd < 0]) > 0.9
    with pytest.raises(ValueError, match="needs an estimator with predict_proba"):
        JDOTClassifier(SVC(), loss="log").fit(X, y, sample_domain=sd)


def test_jdot_regressor_beats_no_adaptation_on_a_translated_target():
    X, y, sd = make_domain_shift(150, 150, shift="conditional", task="regression",
                                 random_state=0)
    ym = np.where(sd > 0, y, np.nan)
    tgt = sd < 0

    def rmse(model):
        return np.sqrt(np.mean((model.predict(X[tgt]) - y[tgt]) ** 2))

    base = Ridge().fit(X[sd > 0], y[sd > 0])
    jdot = JDOTRegressor().fit(X, ym, sample_domain=sd)
    assert rmse(jdot) < 0.8 * rmse(base)
    assert jdot.score(X[tgt], y[tgt]) > base.score(X[tgt], y[tgt])  # R², not accuracy


def test_label_propagation_transports_labels_and_keeps_given_ones():
    X, y, sd, y_true = _translated()
    tgt = np.flatnonzero(sd < 0)
    prop = OTLabelPropagation(LogisticRegression()).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(prop.target_labels_, y_true[tgt])
    np.testing.assert_allclose(prop.target_proba_.sum(axis=1), 1.0)
    y_semi = y.copy()
    y_semi[tgt[0]] = 1 - y_true[tgt[0]]  # a given (even wrong) label is kept
    kept = OTLabelPropagation(LogisticRegression()).fit(X, y_semi, sample_domain=sd)
    assert kept.target_labels_[0] == 1 - y_true[tgt[0]]
    # regression: the barycentric label
    yr = np.r_[X[sd > 0, 0], np.full(len(tgt), np.nan)]
    reg = OTLabelPropagation(Ridge()).fit(X, yr, sample_domain=sd)
    np.testing.assert_allclose(reg.target_labels_, X[sd > 0, 0], atol=1e-8)


def _target_shift_sources(seed=0, n=200):
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    props = {1: [0.6, 0.2, 0.2], 2: [0.2, 0.4, 0.4], -3: [0.1, 0.2, 0.7]}
    X, y, sd = [], [], []
    for d, p in props.items():
        lab = rng.choice(3, size=n, p=p)
        X.append(means[lab] + rng.normal(scale=0.7, size=(n, 2)))
        y.append(lab if d > 0 else -np.ones(n, int))
        sd.append(np.full(n, d))
    return np.vstack(X), np.concatenate(y), np.concatenate(sd), np.array(props[-3])


def test_jcpot_recovers_target_proportions_and_adapts():
    X, y, sd, true = _target_shift_sources()
    jcpot = JCPOT(LogisticRegression()).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(jcpot.proportions_, true, atol=0.06)
    assert jcpot.proportions_.sum() == pytest.approx(1.0)
    for plan in jcpot.couplings_:
        np.testing.assert_allclose(plan.sum(axis=0), 1 / len(plan[0]), rtol=1e-3)
    # the source-reweighting variant gives each class the estimated target mass
    src = jcpot.fit(X, y, sample_domain=sd)
    w = JCPOT(LogisticRegression(), fit_on="source").fit(X, y, sample_domain=sd)
    assert w.estimator_.classes_.tolist() == [0, 1, 2]
    assert src.target_labels_.shape == ((sd < 0).sum(),)


def test_jcpot_with_a_class_missing_from_one_source():
    X, y, sd, true = _target_shift_sources(seed=1)
    drop = (sd == 2) & (y == 0)
    jcpot = JCPOT(LogisticRegression()).fit(X[~drop], y[~drop], sample_domain=sd[~drop])
    assert np.all(np.isfinite(jcpot.proportions_))
    np.testing.assert_allclose(jcpot.proportions_, true, atol=0.1)


def test_jcpot_small_reg_falls_back_to_the_log_domain():
    # exp(-C / reg) underflows for a tiny reg: the same iterations then run in the log domain
    X, y, sd, true = _target_shift_sources()
    ref = JCPOT(LogisticRegression(), reg_e=0.05).fit(X, y, sample_domain=sd)
    tiny = JCPOT(LogisticRegression(), reg_e=1e-3, max_iter=30).fit(X, y, sample_domain=sd)
    assert np.all(np.isfinite(tiny.proportions_))
    np.testing.assert_allclose(tiny.proportions_, ref.proportions_, atol=0.08)
    assert all(np.all(np.isfinite(plan)) for plan in tiny.couplings_)


def test_jcpot_names_a_single_propagated_class():
    rng = np.random.default_rng(0)
    src = np.r_[rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 6]
    X = np.r_[src, src + 0.1, rng.normal(size=(60, 2))]  # the target: class 0's cluster only
    y = np.r_[[0] * 50 + [1] * 50, [0] * 50 + [1] * 50, [-1] * 60]
    sd = np.repeat([1, 2, -3], [100, 100, 60])
    with pytest.raises(ValueError, match="one class to every target row"):
        JCPOT(LogisticRegression()).fit(X, y, sample_domain=sd)


def test_missing_pot_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_ot(name, *args, **kwargs):
        if name == "ot" or name.startswith("ot."):
            raise ImportError("No module named 'ot'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "ot", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_ot)
    X, y, sd, _ = _translated(20)
    with pytest.raises(ImportError, match=r"sktl\[ot\]"):
        OTMapping().fit(X, y, sample_domain=sd)
    # the Gaussian maps need no POT
    LinearOTMapping().fit(X, y, sample_domain=sd)
