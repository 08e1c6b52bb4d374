"""Weighted multi-source transfer: the ``source_weights`` option and its helper."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sktl import KLIEP, ULSIF, NearestNeighborReweighter, source_domain_weights


def three_sources(n=80, seed=0, flip=False):
    """Sources centred 0.3, 2 and 4 away from the target (at 0).

    With ``flip``, source 2 lies on the target too, with twice the rows and
    flipped labels: pooling all sources then transfers the wrong concept.
    """
    rng = np.random.default_rng(seed)
    means, sizes = ((0.3, 0.0, 4.0, 0.0), (n, 2 * n, n, n)) if flip else \
        ((0.3, 2.0, 4.0, 0.0), (n, n, n, n))
    X = np.vstack([rng.normal(m, 1, (k, 2)) for m, k in zip(means, sizes)])
    sd = np.repeat([1, 2, 3, -4], sizes)
    y = (X[:, 1] > X[:, 0]).astype(int)
    if flip:
        y[sd == 2] = 1 - y[sd == 2]
    return X, y, np.where(sd < 0, -1, y), sd


def test_helper_uniform_explicit_similarity():
    X, _, _, sd = three_sources()
    assert source_domain_weights(X, sd) == {1: 1.0, 2: 1.0, 3: 1.0}
    w = source_domain_weights(X, sd, {1: 2, 2: 1, 3: 1})
    np.testing.assert_allclose([w[1], w[2], w[3]], [1.5, 0.75, 0.75])
    sim = source_domain_weights(X, sd, "similarity")
    assert sim[1] > sim[2] > sim[3]  # the closest source counts most
    n_src = (sd > 0).sum()
    assert sum(sim[c] * (sd == c).sum() for c in sim) == pytest.approx(n_src)  # mean one


@pytest.mark.parametrize("weights, error, match", [
    ({1: 1, 2: 1}, ValueError, r"no weight for the source domains \[3\]"),
    ({1: 1, 2: 1, 3: 1, 7: 1}, ValueError, r"domains \[7\] that are not source"),
    ({1: 1, 2: -1, 3: 1}, ValueError, "non-negative"),
    ({1: 0, 2: 0, 3: 0}, ValueError, "weight 0"),
    ({1: float("nan"), 2: 1, 3: 1}, ValueError, "finite"),
    ({"a": 1}, TypeError, "integer domain codes"),
    ("closest", ValueError, "uniform"),
    ([1, 2, 3], TypeError, "dict"),
])
def test_helper_errors(weights, error, match):
    X, _, _, sd = three_sources(20)
    with pytest.raises(error, match=match):
        source_domain_weights(X, sd, weights)


def test_similarity_needs_target_rows():
    X, _, _, sd = three_sources(20)
    with pytest.raises(ValueError, match="found none"):
        source_domain_weights(X[sd > 0], sd[sd > 0], "similarity")


def test_reweighter_uniform_is_the_pooled_fit():
    X, y, y_masked, sd = three_sources()
    for make in (lambda **k: ULSIF(LogisticRegression(), random_state=0, **k),
                 lambda **k: KLIEP(LogisticRegression(), random_state=0, **k)):
        pooled, uniform = make().fit(X, y_masked, sample_domain=sd), \
            make(source_weights="uniform").fit(X, y_masked, sample_domain=sd)
        np.testing.assert_array_equal(pooled.weights_, uniform.weights_)
        np.testing.assert_array_equal(pooled.estimator_.coef_, uniform.estimator_.coef_)
        assert uniform.source_weights_ == {1: 1.0, 2: 1.0, 3: 1.0}


def test_reweighter_explicit_weights_scale_each_domain():
    X, y, y_masked, sd = three_sources(flip=True)
    base = NearestNeighborReweighter(LogisticRegression(), n_neighbors=3)
    pooled = base.fit(X, y_masked, sample_domain=sd)
    w_pooled = pooled.weights_.copy()
    weighted = NearestNeighborReweighter(LogisticRegression(), n_neighbors=3,
                                         source_weights={1: 1.0, 2: 0.0, 3: 1.0})
    weighted.fit(X, y_masked, sample_domain=sd)
    src = sd[sd > 0]
    factor = np.array([weighted.source_weights_[c] for c in src])
    np.testing.assert_allclose(weighted.weights_, w_pooled * factor)
    assert (weighted.weights_[src == 2] == 0).all() and factor[src == 1][0] == 2.0
    # the estimator is the one fitted with those weights: domain 2 (flipped labels) drops out
    ref = LogisticRegression().fit(X[sd > 0], y[sd > 0], sample_weight=weighted.weights_)
    np.testing.assert_allclose(weighted.estimator_.coef_, ref.coef_)
    acc = [(m.predict(X[sd < 0]) == y[sd < 0]).mean() for m in (pooled, weighted)]
    assert acc[1] > acc[0] + 0.2, acc


def test_reweighter_similarity_upweights_the_closest_source():
    X, _, y_masked, sd = three_sources()
    est = KLIEP(LogisticRegression(), random_state=0, source_weights="similarity")
    est.fit(X, y_masked, sample_domain=sd)
    w = est.source_weights_
    assert w[1] > 1 > w[3] and w[1] > w[2] > w[3]


def test_reweighter_validates_source_weights_in_fit():
    X, _, y_masked, sd = three_sources(20)
    est = ULSIF(LogisticRegression(), source_weights={1: 1.0, 2: 1.0, 5: 1.0})
    with pytest.raises(ValueError, match=r"domains \[5\]"):
        est.fit(X, y_masked, sample_domain=sd)
    with pytest.raises(ValueError, match="source_weights"):
        ULSIF(source_weights="best").fit(X, y_masked, sample_domain=sd)


def test_deep_source_weights():
    pytest.importorskip("skorch")
    from sktl.deep import DANClassifier, SourceOnlyClassifier

    X, y, y_masked, sd = three_sources(100, flip=True)
    kw = {"max_epochs": 6, "random_state": 0, "module__hidden_units": (16,), "lr": 1e-2}
    short = {**kw, "max_epochs": 2}
    pooled = DANClassifier(**short).fit(X, y_masked, sample_domain=sd)
    uniform = DANClassifier(source_weights="uniform", **short).fit(X, y_masked, sample_domain=sd)
    np.testing.assert_array_equal(pooled.predict_proba(X), uniform.predict_proba(X))
    weighted = SourceOnlyClassifier(source_weights={1: 1.0, 2: 0.0, 3: 1.0}, **kw)
    weighted.fit(X, y_masked, sample_domain=sd)
    plain = SourceOnlyClassifier(**kw).fit(X, y_masked, sample_domain=sd)
    acc = [(m.predict(X[sd < 0]) == y[sd < 0]).mean() for m in (plain, weighted)]
    assert acc[1] > acc[0] + 0.2, acc
    assert weighted.source_weights_ == {1: 2.0, 2: 0.0, 3: 2.0}
    with pytest.raises(ValueError, match="not source domains"):
        SourceOnlyClassifier(source_weights={9: 1.0}, **kw).fit(X, y_masked, sample_domain=sd)


# --------------------------------------------------------------------------- transformers
@pytest.mark.parametrize("make", [lambda: __import__("sktl").CORAL(),
                                  lambda: __import__("sktl").SubspaceAlignment(2)],
                         ids=["CORAL", "SubspaceAlignment"])
def test_transformer_zero_weight_drops_the_domain(make):
    """A source domain with factor 0 changes nothing: the fit of the others alone."""
    X, _, y, sd = three_sources()
    keep = sd != 2
    weighted = make().set_params(source_weights={1: 1.0, 2: 0.0, 3: 1.0}).fit(
        X, y, sample_domain=sd)
    alone = make().fit(X[keep], y[keep], sample_domain=sd[keep])
    np.testing.assert_allclose(weighted.transform(X[keep], sample_domain=sd[keep]),
                               alone.transform(X[keep], sample_domain=sd[keep]), atol=1e-10)
    assert weighted.source_weights_ == {1: 1.5, 2: 0.0, 3: 1.5}
    pooled = make().fit(X, y, sample_domain=sd)
    assert pooled.source_weights_ == {1: 1.0, 2: 1.0, 3: 1.0}
    assert not np.allclose(pooled.transform(X[keep], sample_domain=sd[keep]),
                           alone.transform(X[keep], sample_domain=sd[keep]))


@pytest.mark.parametrize("params", [dict(), dict(kernel="rbf", random_state=0),
                                    dict(kernel="rbf", n_landmarks=60, random_state=0)],
                         ids=["primal", "dual", "nystrom"])
def test_tca_weights_the_mmd_term(params):
    """Only source 1 weighted: TCA matches source 1's mean to the target's, not the pool's."""
    from sktl import TCA

    rng = np.random.default_rng(0)
    n = 80  # source 1 shifted along feature 0, source 2 along feature 1, target at 0
    X = np.vstack([rng.normal(0, 1, (n, 5)) + [3, 0, 0, 0, 0],
                   rng.normal(0, 1, (n, 5)) + [0, 3, 0, 0, 0], rng.normal(0, 1, (n, 5))])
    sd = np.repeat([1, 2, -3], n)
    y = np.r_[rng.integers(0, 2, 2 * n), -np.ones(n, int)]
    gaps = {}
    for name, weights in (("pooled", "uniform"), ("source 1", {1: 1.0, 2: 0.0})):
        Z = TCA(3, mu=0.1, source_weights=weights, **params).fit_transform(
            X, y, sample_domain=sd)
        gaps[name] = (np.linalg.norm(Z[sd == 1].mean(axis=0) - Z[sd < 0].mean(axis=0))
                      / Z[sd < 0].std(axis=0).mean())
    assert gaps["source 1"] < 0.2 < 1.0 < gaps["pooled"]


def test_transformer_source_weights_errors():
    from sktl import CORAL, TCA

    X, _, y, sd = three_sources(20)
    with pytest.raises(ValueError, match=r"no weight for the source domains \[3\]"):
        CORAL(source_weights={1: 1, 2: 1}).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="source_weights"):
        TCA(source_weights="closest").fit(X, y, sample_domain=sd)
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="in-memory X"):
        CORAL(source_weights="similarity").fit(da.from_array(X, chunks=40),
                                               sample_domain=da.from_array(sd, chunks=40))
