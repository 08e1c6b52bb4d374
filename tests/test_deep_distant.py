"""DDTL: selective learning through intermediate domains, and the distant-shift generator."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sktl.datasets import make_distant_shift  # noqa: E402
from sktl.deep import DDTLClassifier, SourceOnlyClassifier  # noqa: E402
from sktl.deep._distant import selection_weights  # noqa: E402

torch.set_num_threads(1)
INTER = [-3, -4, -5, -6]


def distant(seed, **kw):
    X, y_true, sd = make_distant_shift(100, 100, n_samples_intermediate=50, random_state=seed,
                                       **kw)
    return X, np.where(sd == -2, -1, y_true), sd, y_true


def test_selection_weights_drop_the_worst_share_per_group():
    errors = torch.tensor([5.0, 1.0, 3.0, 2.0, 9.0, 0.5, 7.0, 8.0])
    roles = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2])
    w = selection_weights(errors, roles, 0.5)
    # source: drop the 2 worst of 4 (5 and 3); intermediate: 1 of 2 (9); target always kept
    assert w.tolist() == [0, 1, 0, 1, 0, 1, 1, 1]
    assert selection_weights(errors, roles, 0.0).tolist() == [1] * 8


def test_far_rows_lose_their_weight_and_shapes():
    X, y, sd, _ = distant(0)
    net = DDTLClassifier(intermediate_domains=INTER, max_epochs=20, random_state=0)
    net.fit(X, y, sample_domain=sd)
    w, err = net.selection_weights_, net.reconstruction_errors_
    assert w.shape == err.shape == (len(X),)
    assert set(np.unique(w)) <= {0.0, 1.0} and (w[sd == -2] == 1).all()
    # the final share: half of the source rows and half of the intermediate rows dropped
    assert w[sd == 1].mean() == pytest.approx(0.5)
    assert w[sd < -2].mean() == pytest.approx(0.5)
    # the intermediate domain next to the target keeps more rows than the one next to the
    # source, and the dropped rows are those reconstructed worst
    assert w[sd == -6].mean() > w[sd == -3].mean() + 0.2
    inter = sd < -2
    assert err[inter & (w == 0)].min() >= err[inter & (w == 1)].max() - 1e-6
    assert net.predict_proba(X[:5]).shape == (5, 2)
    assert net.decoder_(torch.zeros(1, 64)).shape == (1, 2)
    assert net.drop_share(0) == 0 and net.drop_share(10) == pytest.approx(0.5)


def test_gain_over_source_only_on_a_distant_shift():
    gains = []
    for seed in range(2):
        X, y, sd, y_true = distant(seed)
        tgt = sd == -2
        so = SourceOnlyClassifier(max_epochs=30, random_state=seed).fit(X, y, sample_domain=sd)
        dd = DDTLClassifier(intermediate_domains=INTER, max_epochs=30,
                            random_state=seed).fit(X, y, sample_domain=sd)
        gains.append(dd.score(X[tgt], y_true[tgt]) - so.score(X[tgt], y_true[tgt]))
    assert np.mean(gains) > 0.1, gains


def test_deterministic_with_random_state():
    X, y, sd, _ = distant(1)
    a = DDTLClassifier(intermediate_domains=INTER, max_epochs=3, random_state=0)
    b = DDTLClassifier(intermediate_domains=INTER, max_epochs=3, random_state=0)
    np.testing.assert_allclose(a.fit(X, y, sample_domain=sd).predict_proba(X),
                               b.fit(X, y, sample_domain=sd).predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("codes, err, match", [
    ([3], ValueError, "negative sample_domain codes"),
    ([-9], ValueError, "intermediate domain -9 has no row"),
    ([-3, -3], ValueError, "twice"),
    ("a", TypeError, "list of integer"),
    ([-3.5], TypeError, "list of integer"),
    ([-2, -3, -4, -5, -6], ValueError, "No target row is left"),
])
def test_encoding_errors(codes, err, match):
    X, y, sd, _ = distant(0)
    with pytest.raises(err, match=match):
        DDTLClassifier(intermediate_domains=codes, max_epochs=1).fit(X, y, sample_domain=sd)


def test_labelled_intermediate_rows_are_refused():
    X, y, sd, y_true = distant(0, mask_intermediate=False)
    assert (y_true[sd < -2] >= 0).all()
    y = np.where((sd < -2) & (sd != -4), -1, y)  # only domain -4 is labelled
    with pytest.raises(ValueError, match="intermediate domain -4 carry labels"):
        DDTLClassifier(intermediate_domains=INTER, max_epochs=1).fit(X, y, sample_domain=sd)


@pytest.mark.parametrize("param, value", [("drop_rate", 1.0), ("drop_rate", -0.1),
                                          ("drop_ramp", 0.0), ("entropy_weight", -1),
                                          ("decoder_hidden", 0)])
def test_parameter_errors(param, value):
    X, y, sd, _ = distant(0)
    with pytest.raises(ValueError, match=param):
        DDTLClassifier(max_epochs=1, **{param: value}).fit(X, y, sample_domain=sd)


def test_single_code_and_no_intermediate():
    X, y, sd, _ = distant(0)
    net = DDTLClassifier(intermediate_domains=-3, max_epochs=2, random_state=0)
    assert net.fit(X, y, sample_domain=sd).intermediate_domains_.tolist() == [-3]
    # without intermediate domains the other negative codes are target rows: all kept
    net = DDTLClassifier(max_epochs=4, random_state=0).fit(X, y, sample_domain=sd)
    assert (net.selection_weights_[sd < 0] == 1).all()
    assert net.selection_weights_[sd == 1].mean() < 1
