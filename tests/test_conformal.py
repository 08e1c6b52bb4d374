"""sktl.conformal: coverage under shift, the weighted quantile, label shift, warnings, errors."""

import warnings

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsRegressor

from sktl import KMM, DiscriminativeReweighter
from sktl.conformal import (
    ShiftCalibratedClassifier,
    WeightedConformalClassifier,
    WeightedConformalRegressor,
)
from sktl.conformal._base import _weighted_thresholds
from sktl.datasets import make_domain_shift, make_heteroscedastic_shift
from sktl.exceptions import WeakCalibrationWarning


def _domains(n_s, n_t):
    return np.r_[np.ones(n_s, int), -2 * np.ones(n_t, int)]


def hetero_regression(n_s, n_t, shift, seed):
    """Target moved along x0, where the noise grows: plain intervals are too narrow there."""
    return make_heteroscedastic_shift(n_s, n_t, shift_strength=shift, random_state=seed)


def noisy_classes(n_s, n_t, shift, seed, n_classes=3):
    """Classes get noisier as x0 grows; the target moves along x0."""
    return make_heteroscedastic_shift(n_s, n_t, task="classification", n_classes=n_classes,
                                      shift_strength=shift, random_state=seed)


def _coverage(y, interval):
    return np.mean((y >= interval[:, 0]) & (y <= interval[:, 1]))


@pytest.fixture(scope="module")
def shifted_regression():
    return [hetero_regression(800, 800, 1.5, seed) for seed in range(3)]


def test_weighted_intervals_restore_coverage_on_a_covariate_shift(shifted_regression):
    cover = {"uniform": [], "auto": []}
    for seed, (X, y, sd) in enumerate(shifted_regression):
        ym = np.where(sd > 0, y, np.nan)
        for weighter in cover:
            cp = WeightedConformalRegressor(LinearRegression(), weighter=weighter,
                                            random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", WeakCalibrationWarning)
                _, pi = cp.fit(X, ym, sample_domain=sd).predict_interval(X[sd < 0])
            cover[weighter].append(_coverage(y[sd < 0], pi[:, :, 0]))
    assert np.mean(cover["uniform"]) < 0.8
    assert 0.87 <= np.mean(cover["auto"]) <= 0.99  # conservative: a few infinite intervals


def test_residual_normalized_intervals_follow_the_noise(shifted_regression):
    X, y, sd = shifted_regression[0]
    ym = np.where(sd > 0, y, np.nan)
    cp = WeightedConformalRegressor(LinearRegression(), conformity_score="residual_normalized",
                                    random_state=0).fit(X, ym, sample_domain=sd)
    _, pi = cp.predict_interval(X[sd < 0])
    width = pi[:, 1, 0] - pi[:, 0, 0]
    finite = np.isfinite(width)
    assert finite.mean() > 0.9
    # wider where the noise is larger
    assert np.corrcoef(X[sd < 0, 0][finite], width[finite])[0, 1] > 0.5
    assert _coverage(y[sd < 0], pi[:, :, 0]) > 0.85


def test_uniform_weights_give_the_split_conformal_rank():
    X, y, sd = hetero_regression(200, 50, 0.0, 0)
    levels = [0.5, 0.8, 0.9, 0.95]
    cp = WeightedConformalRegressor(LinearRegression(), weighter="uniform",
                                    confidence_level=levels, random_state=0)
    y_pred, pi = cp.fit(X, np.where(sd > 0, y, np.nan), sample_domain=sd).predict_interval(X)
    assert pi.shape == (len(X), 2, 4) and y_pred.shape == (len(X),)
    scores = np.sort(cp.conformity_scores_)
    n = len(scores)
    for k, level in enumerate(levels):  # the ceil((n + 1) level)-th smallest score
        expected = scores[int(np.ceil((n + 1) * level)) - 1]
        np.testing.assert_allclose(pi[:, 1, k] - y_pred, expected)
        np.testing.assert_allclose(y_pred - pi[:, 0, k], expected)
    assert cp.effective_sample_size_ == pytest.approx(n)


def test_weighted_threshold_matches_a_brute_force_quantile():
    rng = np.random.default_rng(0)
    scores, weights = rng.exponential(size=30), rng.exponential(size=30)
    order = np.argsort(scores)
    test_w = np.array([0.0, 0.5, 3.0, 50.0])
    q = _weighted_thresholds(scores[order], np.cumsum(weights[order]), test_w,
                             np.array([0.8, 0.9]))
    for i, w in enumerate(test_w):
        atoms = np.r_[scores, np.inf]
        mass = np.r_[weights, w] / (weights.sum() + w)
        for j, level in enumerate((0.8, 0.9)):
            expected = min(a for a in atoms if mass[atoms <= a].sum() >= level - 1e-12)
            assert q[i, j] == expected
    assert np.isinf(q[-1]).all()  # the test point carries more than 20 % of the mass


def test_callable_weighter_and_kmm_fallback():
    X, y, sd = hetero_regression(300, 300, 1.0, 1)
    ym = np.where(sd > 0, y, np.nan)
    ratio = DiscriminativeReweighter().fit(X, sample_domain=sd).density_ratio
    cp = WeightedConformalRegressor(LinearRegression(), weighter=ratio,
                                    random_state=0).fit(X, ym, sample_domain=sd)
    source_ratios = ratio(X[sd > 0])  # the calibration rows are source rows
    assert all(np.isclose(source_ratios, w).any() for w in cp.calibration_weights_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakCalibrationWarning)
        kmm = WeightedConformalRegressor(LinearRegression(), weighter=KMM(random_state=0),
                                         random_state=0).fit(X, ym, sample_domain=sd)
        y_pred, pi = kmm.predict_interval(X[sd < 0])
    # no ratio model: every test row gets the largest calibration weight, one width
    width = pi[:, 1, 0] - pi[:, 0, 0]
    assert np.isinf(width).all() or np.ptp(width) == 0  # (ptp of infinities is nan)
    assert kmm.weighter_.weights_.shape == (kmm.n_calibration_,)


def test_strong_shift_warns_with_the_effective_sample_size():
    X, y, sd = hetero_regression(200, 200, 4.0, 0)
    cp = WeightedConformalRegressor(LinearRegression(), confidence_level=0.95, random_state=0)
    with pytest.warns(WeakCalibrationWarning, match="effective sample size"):
        cp.fit(X, np.where(sd > 0, y, np.nan), sample_domain=sd)
    assert cp.effective_sample_size_ < 0.2 * cp.n_calibration_
    with pytest.warns(WeakCalibrationWarning, match="infinite"):
        _, pi = cp.predict_interval(X[sd < 0])
    assert np.isinf(pi).any()


def test_zero_width_intervals_are_never_silent():
    X = np.repeat(np.arange(20.0), 5)[:, None]  # every row five times
    y = 2 * X[:, 0]
    sd = np.where(np.arange(len(X)) % 4 == 0, -2, 1)
    cp = WeightedConformalRegressor(KNeighborsRegressor(1), weighter="uniform", random_state=0)
    cp.fit(X, np.where(sd > 0, y, np.nan), sample_domain=sd)
    with pytest.warns(WeakCalibrationWarning, match="zero width"):
        cp.predict_interval(X[:3])


def test_prefit_uses_the_fitted_estimator_and_every_labelled_source_row():
    X, y, sd = hetero_regression(150, 100, 0.5, 2)
    ym = np.where(sd > 0, y, np.nan)
    est = LinearRegression().fit(X[sd > 0], y[sd > 0])
    cp = WeightedConformalRegressor(est, prefit=True).fit(X, ym, sample_domain=sd)
    assert cp.estimator_ is est and cp.n_calibration_ == 150
    with pytest.raises(ValueError, match="prefit=True needs a fitted estimator"):
        WeightedConformalRegressor(LinearRegression(), prefit=True).fit(X, ym, sample_domain=sd)


@pytest.mark.parametrize("kwargs, match", [
    ({"confidence_level": 1.2}, "confidence_level"),
    ({"confidence_level": [0.9, 0.0]}, "confidence_level"),
    ({"calibration_size": 150}, "calibration_size"),
    ({"weighter": lambda X: -np.ones(len(X))}, "non-negative"),
    ({"weighter": lambda X: np.ones(3)}, "3 values"),
    ({"weighter": "uniform", "conformity_score": "gamma"}, "conformity_score"),
])
def test_bad_parameters_raise_clear_errors(kwargs, match):
    X, y, sd = hetero_regression(150, 50, 0.5, 0)
    with pytest.raises(ValueError, match=match):
        WeightedConformalRegressor(LinearRegression(), **kwargs).fit(
            X, np.where(sd > 0, y, np.nan), sample_domain=sd)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        WeightedConformalRegressor().predict_interval(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        WeightedConformalClassifier().predict_set(np.zeros((2, 2)))


@pytest.mark.parametrize("score", ["lac", "aps"])
def test_weighted_sets_restore_coverage_on_a_covariate_shift(score):
    cover = {"uniform": [], "auto": []}
    for seed in range(2):
        X, y, sd = noisy_classes(800, 800, 1.5, seed)
        ym = np.where(sd > 0, y, -1)
        for weighter in cover:
            cp = WeightedConformalClassifier(LogisticRegression(), weighter=weighter,
                                             conformity_score=score,
                                             confidence_level=[0.8, 0.9], random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", WeakCalibrationWarning)
                y_pred, sets = cp.fit(X, ym, sample_domain=sd).predict_set(X[sd < 0])
            assert sets.shape == (int((sd < 0).sum()), 3, 2) and sets.dtype == bool
            assert np.all(sets[:, :, 0] <= sets[:, :, 1])  # nested in the level
            cover[weighter].append(sets[np.arange(len(sets)), y[sd < 0], 1].mean())
    assert np.mean(cover["uniform"]) < 0.85
    assert np.mean(cover["auto"]) >= 0.86


def _label_shift_problem(seed, n=3000):
    """Three classes of unequal difficulty; the target is mostly the hard one."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [1.2, 0.0], [5.0, 5.0]])  # classes 0, 1 overlap
    p_s, p_t = np.array([0.1, 0.1, 0.8]), np.array([0.45, 0.45, 0.1])
    ys, yt = rng.choice(3, n, p=p_s), rng.choice(3, n, p=p_t)
    y = np.r_[ys, yt]
    X = centres[y] + rng.normal(size=(len(y), 2))
    return X, y, _domains(n, n), p_t / p_s


class _KnownPriors:
    """A stand-in label-shift estimator: fit sets class_weights_ and classes_."""

    def __init__(self, weights=None):
        self.weights = weights

    def get_params(self, deep=True):
        return {"weights": self.weights}

    def set_params(self, **params):
        self.weights = params.get("weights", self.weights)
        return self

    def fit(self, X, y, sample_domain=None):
        self.classes_ = np.array([2, 1, 0])  # deliberately not sorted
        self.class_weights_ = np.asarray(self.weights)[::-1]
        return self


def test_label_shift_sets_with_known_priors():
    X, y, sd, ratio = _label_shift_problem(0)
    ym = np.where(sd > 0, y, -1)
    tgt = sd < 0
    cover = {}
    for name, weighter in [("uniform", "uniform"), ("array", ratio),
                           ("estimator", _KnownPriors(ratio)),
                           ("dict", {0: ratio[0], 1: ratio[1], 2: ratio[2]})]:
        cp = WeightedConformalClassifier(LogisticRegression(), shift="label", weighter=weighter,
                                         random_state=0).fit(X, ym, sample_domain=sd)
        _, sets = cp.predict_set(X[tgt])
        cover[name] = sets[np.arange(tgt.sum()), y[tgt], 0].mean()
        if name != "uniform":
            np.testing.assert_allclose(cp.class_weights_, ratio)
    assert cover["uniform"] < 0.85
    assert cover["array"] >= 0.88
    assert cover["array"] == cover["estimator"] == cover["dict"]


@pytest.mark.parametrize("weighter, match", [
    ([1.0, 2.0], "3 classes"),
    ({0: 1.0, 1: 1.0}, "No class weight for class 2"),
    ([1.0, -1.0, 1.0], "non-negative"),
    (DiscriminativeReweighter(), "class_weights_"),
])
def test_label_shift_errors(weighter, match):
    X, y, sd, _ = _label_shift_problem(0, n=100)
    with pytest.raises((ValueError, TypeError), match=match):
        WeightedConformalClassifier(shift="label", weighter=weighter).fit(
            X, np.where(sd > 0, y, -1), sample_domain=sd)


def test_label_shift_default_weighter():
    """Without sktl's label-shift estimators "auto" says what to pass; with them it uses them."""
    X, y, sd, ratio = _label_shift_problem(0, n=1500)
    ym, tgt = np.where(sd > 0, y, -1), sd < 0
    cp = WeightedConformalClassifier(shift="label", random_state=0)
    try:
        import sktl._label_shift  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="label-shift estimator"):
            cp.fit(X, ym, sample_domain=sd)
        return
    _, sets = cp.fit(X, ym, sample_domain=sd).predict_set(X[tgt])
    np.testing.assert_allclose(cp.class_weights_, ratio, rtol=0.3)
    assert sets[np.arange(tgt.sum()), y[tgt], 0].mean() >= 0.85


def _ece(proba, y, bins=15):
    conf, hit = proba.max(1), proba.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    return sum(np.mean(m) * abs(hit[m].mean() - conf[m].mean())
               for m in ((conf > lo) & (conf <= hi) for lo, hi in zip(edges[:-1], edges[1:]))
               if m.any())


def test_shift_calibration_beats_source_calibration_on_the_target():
    X, y, sd = noisy_classes(1000, 1000, 1.5, 0, n_classes=2)
    ym, src, tgt = np.where(sd > 0, y, -1), sd > 0, sd < 0
    source = CalibratedClassifierCV(LogisticRegression()).fit(X[src], y[src])
    base = _ece(source.predict_proba(X[tgt]), y[tgt])
    for method in ("sigmoid", "temperature"):
        clf = ShiftCalibratedClassifier(LogisticRegression(), method=method,
                                        random_state=0).fit(X, ym, sample_domain=sd)
        proba = clf.predict_proba(X[tgt])
        np.testing.assert_allclose(proba.sum(1), 1)
        assert _ece(proba, y[tgt]) < 0.75 * base
    raw = clf.estimator_.predict_proba(X[tgt])  # temperature keeps the ranking
    np.testing.assert_array_equal(clf.predict(X[tgt]), clf.classes_[raw.argmax(1)])


def test_shift_calibration_label_mode_is_the_prior_correction():
    X, y, sd, ratio = _label_shift_problem(1, n=500)
    ym = np.where(sd > 0, y, -1)
    src = ShiftCalibratedClassifier(method="isotonic", weighter="uniform",
                                    random_state=0).fit(X, ym, sample_domain=sd)
    lab = ShiftCalibratedClassifier(method="isotonic", shift="label", weighter=ratio,
                                    random_state=0).fit(X, ym, sample_domain=sd)
    expected = src.predict_proba(X) * ratio
    np.testing.assert_allclose(lab.predict_proba(X), expected / expected.sum(1, keepdims=True))
    assert np.mean(lab.predict(X[sd < 0]) == y[sd < 0]) > np.mean(
        src.predict(X[sd < 0]) == y[sd < 0])


def test_density_ratio_hook_matches_the_weights():
    X, _, sd = make_domain_shift(80, 60, random_state=0)
    rw = DiscriminativeReweighter(max_weight=5.0).fit(X, sample_domain=sd)
    np.testing.assert_allclose(rw.density_ratio(X[sd > 0]), rw.weights_)
    assert rw.density_ratio(X[sd < 0]).max() <= 5.0
    assert not hasattr(KMM(), "density_ratio")


def test_a_reweighter_equals_its_fitted_density_ratio_passed_as_a_callable():
    from sktl.conformal._base import _default_weighter

    X, y, sd = hetero_regression(200, 200, 1.0, 3)
    ym = np.where(sd > 0, y, np.nan)
    est = LinearRegression().fit(X[sd > 0], y[sd > 0])
    auto = WeightedConformalRegressor(est, prefit=True).fit(X, ym, sample_domain=sd)
    ratio = _default_weighter().fit(X, sample_domain=sd).density_ratio
    given = WeightedConformalRegressor(est, prefit=True, weighter=ratio).fit(X, ym,
                                                                            sample_domain=sd)
    np.testing.assert_allclose(auto.calibration_weights_, given.calibration_weights_)
    np.testing.assert_allclose(auto.predict_interval(X)[1], given.predict_interval(X)[1])


def test_aps_sets_are_informative_for_two_classes_and_independent_of_other_rows():
    X, y, sd = noisy_classes(600, 300, 0.0, 0, n_classes=2)
    cp = WeightedConformalClassifier(conformity_score="aps", weighter="uniform",
                                     random_state=0).fit(X, np.where(sd > 0, y, -1),
                                                         sample_domain=sd)
    _, sets = cp.predict_set(X[sd < 0])
    assert sets[:, :, 0].sum(axis=1).mean() < 1.8  # the tie-break avoids all-full sets
    assert sets[np.arange(len(sets)), y[sd < 0], 0].mean() > 0.85
    np.testing.assert_array_equal(cp.predict_set(X[sd < 0][::-1])[1], sets[::-1])


# the density-ratio reweighters of sktl (all subclasses of BaseDensityRatioReweighter)
_RATIO_MODELS = ["DiscriminativeReweighter", "KLIEP", "ULSIF", "RULSIF",
                 "NearestNeighborReweighter", "KernelDensityReweighter", "GaussianReweighter"]


@pytest.fixture(scope="module")
def ratio_problem():
    X, y, sd = hetero_regression(300, 300, 1.5, 4)
    return X, np.where(sd > 0, y, np.nan), sd, y


def _ratio_model(name):
    import sktl

    est = getattr(sktl, name)()
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    if "n_centers" in est.get_params():
        est.set_params(n_centers=50)  # keep the kernel models quick
    return est


def test_every_density_ratio_reweighter_is_a_weighter(ratio_problem):
    from sklearn.base import clone

    from sktl._base import BaseDensityRatioReweighter

    X, ym, sd, y = ratio_problem
    tgt = sd < 0
    est = LinearRegression().fit(X[sd > 0], y[sd > 0])
    cover = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakCalibrationWarning)
        for name in ["uniform"] + _RATIO_MODELS:
            weighter = name if name == "uniform" else _ratio_model(name)
            cp = WeightedConformalRegressor(est, weighter=weighter, prefit=True)
            _, pi = cp.fit(X, ym, sample_domain=sd).predict_interval(X[tgt])
            cover[name] = _coverage(y[tgt], pi[:, :, 0])
            if name == "uniform":
                continue
            assert isinstance(weighter, BaseDensityRatioReweighter)
            # the ratio is the reweighter's, fitted on every row (prefit: no row held out)
            ratio = clone(weighter).fit(X, sample_domain=sd).density_ratio
            np.testing.assert_allclose(cp.calibration_weights_, ratio(X[sd > 0]), rtol=1e-6)
            # and each test row gets its own weight: a wider interval where the ratio is larger
            width = pi[:, 1, 0] - pi[:, 0, 0]
            r_t = ratio(X[tgt])
            w_sorted = width[np.argsort(r_t, kind="stable")]
            assert np.all(w_sorted[1:] >= w_sorted[:-1] - 1e-9), name
    # plain intervals cover about 62 % of the target rows here, every ratio model 90-96 %
    assert all(cover[m] > cover["uniform"] + 0.15 for m in _RATIO_MODELS), cover


def test_reweighters_without_a_ratio_model():
    from sktl import LDM, BalancedWeighting

    X, y, sd = hetero_regression(150, 150, 1.0, 5)
    ym = np.where(sd > 0, y, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakCalibrationWarning)
        cp = WeightedConformalRegressor(LinearRegression(), weighter=LDM(),
                                        random_state=0).fit(X, ym, sample_domain=sd)
        _, pi = cp.predict_interval(X[sd < 0])
    width = pi[:, 1, 0] - pi[:, 0, 0]
    assert np.isinf(width).all() or np.ptp(width) == 0  # one (conservative) width
    with pytest.raises(TypeError, match="BalancedWeighting .* does not estimate"):
        WeightedConformalRegressor(weighter=BalancedWeighting()).fit(X, ym, sample_domain=sd)


def test_effective_sample_size_of_huge_weights_is_finite():
    from sktl.conformal._base import _effective_sample_size

    assert _effective_sample_size([1e200, 1e200, 0.0]) == pytest.approx(2.0)
    assert _effective_sample_size([0.0, 0.0]) == 0.0
