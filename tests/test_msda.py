"""mSDA (Chen et al. 2012): the closed form, and what it is for."""

import numpy as np
import scipy.sparse as sp

from sktl import MSDA
from sktl.utils._domain import source_target_merge


def test_closed_form_matches_averaged_random_corruptions():
    """W = P Q^-1 is the least-squares map over the expected corruption."""
    from sktl._msda import _denoising_layer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) + np.array([0.0, 1.0, 2.0])
    W = _denoising_layer(X, 0.3, 0.0)
    # the same least squares over many explicit corruptions
    reps = 4000
    keep = rng.random((reps, *X.shape)) > 0.3
    Xt = np.concatenate([np.c_[X * k, np.ones(len(X))] for k in keep])
    target = np.tile(X, (reps, 1))
    W_mc = np.linalg.lstsq(Xt, target, rcond=None)[0].T
    np.testing.assert_allclose(W, W_mc, atol=0.03)


def test_sparse_and_dense_rows_agree_and_output_shape():
    rng = np.random.default_rng(0)
    X = (rng.random((60, 20)) < 0.2) * rng.integers(1, 4, (60, 20)).astype(float)
    sd = np.repeat([1, -2], 30)
    dense = MSDA(n_layers=2, noise=0.6).fit(X, sample_domain=sd)
    sparse = MSDA(n_layers=2, noise=0.6).fit(sp.csr_matrix(X), sample_domain=sd)
    Z = sparse.transform(sp.csr_matrix(X))
    assert Z.shape == (60, 60) and len(dense.get_feature_names_out()) == 60
    np.testing.assert_allclose(Z, dense.transform(X), atol=1e-10)
    assert MSDA(n_layers=2, include_input=False).fit(X, sample_domain=sd) \
        .transform(X).shape == (60, 40)


def test_domain_specific_words_are_linked_through_shared_ones():
    """Sentiment words differ by domain but co-occur with shared ones: mSDA links them."""
    rng = np.random.default_rng(0)
    n, d = 400, 24
    # features 0-1 shared positive, 2-3 shared negative, 4-7 / 8-11 source positive /
    # negative, 12-15 / 16-19 target positive / negative, the rest noise

    def reviews(pos, neg):
        y = rng.integers(0, 2, n)
        X = (rng.random((n, d)) < 0.05).astype(float)
        for i, c in enumerate(y):
            X[i, rng.choice([0, 1] if c else [2, 3])] = 1
            X[i, rng.choice(pos if c else neg, 2)] = 1
        return X, y

    Xs, ys = reviews(np.arange(4, 8), np.arange(8, 12))
    Xt, _ = reviews(np.arange(12, 16), np.arange(16, 20))
    X, _, sd = source_target_merge(Xs, Xt, ys)
    msda = MSDA(noise=0.5, n_layers=1, include_input=False).fit(X, sample_domain=sd)
    H = msda.transform(np.eye(d)[[4, 8, 12, 16]])  # one word per row
    # what each word adds to an empty review, on the shared words' reconstruction
    H = (H - msda.transform(np.zeros((1, d))))[:, :4]

    def cos(a, b):
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    # a target positive word evokes what a source positive word does, not a negative one
    assert cos(H[2], H[0]) > 0.8 and cos(H[2], H[1]) < -0.8
    assert cos(H[3], H[1]) > 0.8 and cos(H[3], H[0]) < -0.8
    # and the raw words are unrelated (orthogonal one-hot rows)
    assert np.eye(d)[12] @ np.eye(d)[4] == 0
