"""GLoMo: unsupervised relational graphs between features, handed to a downstream net."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sktl.datasets import make_domain_shift  # noqa: E402
from sktl.deep import GLoMoClassifier, GLoMoTransformer, GraphPredictor  # noqa: E402

torch.set_num_threads(1)


def paired(n=300, seed=0):
    """Features 0-1 copy one signal, 2-3 another (negated), 4 is noise; two domains."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    X = np.c_[a, a + 0.1 * rng.normal(size=n), b, -b + 0.1 * rng.normal(size=n), c]
    sd = np.where(np.arange(n) < n // 2, 1, -2)
    return X, sd


@pytest.fixture(scope="module")
def fitted():
    X, sd = paired()
    return GLoMoTransformer(n_graphs=2, max_epochs=20, random_state=0).fit(
        X, sample_domain=sd), X, sd


def test_graphs_are_row_stochastic_without_self_loops(fitted):
    glomo, X, _ = fitted
    G = glomo.graphs(X[:50])
    assert G.shape == (50, 2, 5, 5)
    assert (G >= 0).all()
    np.testing.assert_allclose(G.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.diagonal(G, axis1=2, axis2=3), 0.0)
    # a row with no affinity at all is uniform over the other features
    gp = GraphPredictor(4, n_graphs=1)
    with torch.no_grad():
        gp.bias.fill_(-1e3)
        g = gp(torch.randn(3, 4))
    np.testing.assert_allclose(g[0, 0].numpy(), (1 - np.eye(4)) / 3, atol=1e-6)


def test_context_prediction_finds_the_related_features(fitted):
    glomo, X, _ = fitted
    best = glomo.graphs(X).mean(0).max(0)  # strongest link over the graphs, averaged over rows
    for i, j in [(0, 1), (1, 0), (2, 3), (3, 2)]:
        assert best[i, j] > 0.5, (i, j, best.round(2))  # uniform would be 0.25
    losses = [h["train_loss"] for h in glomo.predictor_.history]
    assert losses[-1] < 0.5 * losses[0]


def test_transform_mixes_the_standardised_row(fitted):
    glomo, X, _ = fitted
    Z = glomo.transform(X[:20])
    assert Z.shape == (20, 5 * 3) and Z.dtype == np.float64
    np.testing.assert_allclose(Z[:, :5], X[:20])
    z = (X[:20] - glomo.mean_) / glomo.scale_
    expected = np.einsum("nmij,nj->nmi", glomo.graphs(X[:20]), z).reshape(20, -1)
    np.testing.assert_allclose(Z[:, 5:], expected, atol=1e-5)
    names = glomo.get_feature_names_out()
    assert names[0] == "x0" and names[5] == "graph0_x0" and len(names) == 15


def test_deterministic_and_labels_unused():
    X, sd = paired(120)
    y = np.where(sd > 0, (X[:, 0] > 0).astype(int), -1)
    a = GLoMoTransformer(n_graphs=2, max_epochs=3, random_state=1).fit(X, sample_domain=sd)
    b = GLoMoTransformer(n_graphs=2, max_epochs=3, random_state=1).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(a.transform(X), b.transform(X))  # y changes nothing
    c = GLoMoTransformer(n_graphs=2, max_epochs=3, random_state=2).fit(X, sample_domain=sd)
    assert not np.allclose(a.transform(X), c.transform(X))


def test_needs_two_features():
    X, sd = paired(40)
    with pytest.raises(ValueError, match=r"1 feature\(s\)"):
        GLoMoTransformer(max_epochs=1).fit(X[:, :1], sample_domain=sd)


def test_classifier_reads_frozen_graphs():
    X, y, sd = make_domain_shift(80, 80, n_features=4, mask_target=True, random_state=0)
    net = GLoMoClassifier(n_graphs=2, graph_epochs=3, max_epochs=5, random_state=0)
    net.fit(X, y, sample_domain=sd)
    assert net.predict(X[:7]).shape == (7,)
    mixing = net.module_.mixing
    assert mixing is net.graphs_.mixing_
    assert not any(p.requires_grad for p in mixing.parameters())
    assert net.module_.net.features[0].in_features == 4 * 3
    # the graph learner saw every row, the same as a transformer fitted alone
    alone = GLoMoTransformer(2, max_epochs=3, random_state=0).fit(X, sample_domain=sd)
    # (the net hands float32 rows to it)
    np.testing.assert_allclose(net.graphs_.transform(X), alone.transform(X), atol=1e-4)
