import numpy as np
import pytest

from sktl.datasets import (
    load_amazon_reviews,
    load_coil,
    load_corn_nir,
    load_mnist_usps,
    load_office_caltech,
    load_wine_quality,
    make_distant_shift,
    make_domain_shift,
)


@pytest.mark.parametrize("shift", ["covariate", "label", "conditional"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_generators_seeded_and_shaped(shift, task):
    a = make_domain_shift(40, 30, shift=shift, task=task, n_features=4, random_state=1)
    b = make_domain_shift(40, 30, shift=shift, task=task, n_features=4, random_state=1)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    X, y, sd = a
    assert X.shape == (70, 4) and (sd > 0).sum() == 40 and (sd < 0).sum() == 30
    X0, y0, sd0 = make_domain_shift(2000, 2000, shift=shift, task=task, random_state=0)
    X1, y1, sd1 = make_domain_shift(2000, 2000, shift=shift, task=task,
                                    shift_strength=0.0, random_state=0)
    # the shift is real, and vanishes at strength 0
    gap = np.abs(X0[sd0 > 0].mean(0) - X0[sd0 < 0].mean(0)).max() + np.abs(
        X0[sd0 > 0].std(0) - X0[sd0 < 0].std(0)).max()
    gap0 = np.abs(X1[sd1 > 0].mean(0) - X1[sd1 < 0].mean(0)).max() + np.abs(
        X1[sd1 > 0].std(0) - X1[sd1 < 0].std(0)).max()
    if shift == "label" and task == "classification":
        assert abs(y0[sd0 > 0].mean() - y0[sd0 < 0].mean()) > 0.2
    else:
        assert gap > 0.3 and gap0 < 0.25


def test_generator_masks_and_validates():
    _, y, sd = make_domain_shift(10, 5, mask_target=True, random_state=0)
    assert (y[sd < 0] == -1).all()
    _, y, sd = make_domain_shift(10, 5, task="regression", mask_target=True, random_state=0)
    assert np.isnan(y[sd < 0]).all()
    with pytest.raises(ValueError, match="shift must be"):
        make_domain_shift(shift="nope")
    with pytest.raises(ValueError, match="n_features"):
        make_domain_shift(n_features=1)


def test_wine_ships_with_the_package():
    X, y, sd = load_wine_quality()
    assert X.shape == (1599 + 4898, 11) and set(np.unique(y)) == {0, 1}
    assert (sd > 0).sum() == 1599
    Xf, yr, _ = load_wine_quality("white", "red", task="regression", as_frame=True)
    assert list(Xf.columns)[0] == "fixed acidity" and yr.max() == 9


def test_loaders_need_a_folder(monkeypatch):
    monkeypatch.delenv("SKTL_DATA", raising=False)
    with pytest.raises(ValueError, match="SKTL_DATA"):
        load_office_caltech()


def test_real_loaders(data_home):
    X, y, sd = load_office_caltech("caltech", "amazon", data_home=data_home)
    assert X.shape == (1123 + 958, 800) and y.min() == 1 and y.max() == 10
    X, y, sd = load_mnist_usps("usps", "mnist", data_home=data_home)
    assert X.shape == (1800 + 2000, 256) and (sd > 0).sum() == 1800
    X, y, sd = load_coil("coil1", "coil2", data_home=data_home)
    assert X.shape == (1440, 1024)
    X, y, sd = load_amazon_reviews("books", "kitchen", data_home=data_home)
    assert X.shape == (2000 + 1999, 400)
    X, y, sd = load_corn_nir("m5", "mp6", target_property="oil", data_home=data_home)
    assert X.shape == (160, 700) and np.allclose(y[:80], y[80:])
    with pytest.raises(ValueError, match="domain must be one of"):
        load_office_caltech("nope", data_home=data_home)
    with pytest.raises(FileNotFoundError):
        load_office_caltech(data_home=data_home / "coil20")


def test_generator_layout():
    X, y, sd = make_distant_shift(30, 20, n_intermediate_domains=2, n_samples_intermediate=10,
                                  n_features=4, random_state=0)
    assert X.shape == (70, 4)
    assert [int((sd == c).sum()) for c in (1, -3, -4, -2)] == [30, 10, 10, 20]
    assert (y[sd < -2] == -1).all() and (y[sd == -2] >= 0).all() and (y[sd == 1] >= 0).all()
    # the domains walk away from the source: centroids move by distance / 3 along feature 0
    Xb, _, sdb = make_distant_shift(900, 900, n_intermediate_domains=2,
                                    n_samples_intermediate=900, random_state=0)
    means = [Xb[sdb == c, 0].mean() for c in (1, -3, -4, -2)]
    np.testing.assert_allclose(np.diff(means), 1.0, atol=0.35)
    X2, *_ = make_distant_shift(30, 20, n_intermediate_domains=2, n_samples_intermediate=10,
                                n_features=4, random_state=0)
    np.testing.assert_array_equal(X, X2)
    _, y3, sd3 = make_distant_shift(5, 5, n_intermediate_domains=0, mask_target=True,
                                    random_state=0)
    assert sorted(set(sd3.tolist())) == [-2, 1] and (y3[sd3 < 0] == -1).all()


@pytest.mark.parametrize("kw, match", [({"n_features": 1}, "n_features"),
                                       ({"n_intermediate_domains": -1}, "n_intermediate"),
                                       ({"cluster_std": 0.0}, "cluster_std"),
                                       ({"rotation": np.nan}, "rotation")])
def test_generator_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        make_distant_shift(**kw)
