"""Parameter-based transfer: RegularTransferLR/LC/GP, PRED and LinInt."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from sktl import PRED, LinInt, RegularTransferGP, RegularTransferLC, RegularTransferLR
from sktl.datasets import make_domain_shift
from sktl.exceptions import DomainWarning


def few_labels(task="regression", n_labels=20, shift="conditional", seed=0, n_features=3,
               n_source=150, n_target=200):
    """Data with ``n_labels`` labelled target rows, and the held-out target rows."""
    X, y, sd = make_domain_shift(n_source, n_target, shift=shift, task=task,
                                 n_features=n_features, noise=0.3, random_state=seed)
    rng = np.random.default_rng(seed)
    tgt = np.flatnonzero(sd < 0)
    while True:
        lab = rng.choice(tgt, n_labels, replace=False)
        if task == "regression" or len(np.unique(y[lab])) > 1:
            break
    y_train = y.astype(float) if task == "regression" else y.copy()
    y_train[np.setdiff1d(tgt, lab)] = np.nan if task == "regression" else -1
    return X, y_train, sd, lab, np.setdiff1d(tgt, lab), y


def test_regular_lr_limits_are_target_only_and_source_only():
    X, y, sd, lab, test, _ = few_labels()
    src = sd > 0
    target_only = LinearRegression().fit(X[lab], y[lab])
    zero = RegularTransferLR(alpha=0.0).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(zero.coef_, target_only.coef_, atol=1e-8)
    np.testing.assert_allclose(zero.predict(X[test]), target_only.predict(X[test]), atol=1e-8)
    source = Ridge().fit(X[src], y[src])
    for alpha in (np.inf, 1e12):
        far = RegularTransferLR(alpha=alpha).fit(X, y, sample_domain=sd)
        np.testing.assert_allclose(far.predict(X[test]), source.predict(X[test]), atol=1e-6)
    # in between, the coefficients lie between the two
    mid = RegularTransferLR(alpha=5.0).fit(X, y, sample_domain=sd)
    assert np.linalg.norm(mid.coef_ - source.coef_) < np.linalg.norm(zero.coef_ - source.coef_)


def test_regular_lr_few_rows_many_features_solves_the_same_problem():
    # fewer labelled target rows than features: the n x n (dual) system replaces the d x d one
    X, y, sd, lab, test, _ = few_labels(n_labels=5, n_features=40)
    src = sd > 0
    source = Ridge().fit(X[src], y[src])
    reg = RegularTransferLR(FrozenEstimator(source), alpha=2.0).fit(X, y, sample_domain=sd)
    Z = np.c_[X[lab], np.ones(len(lab))]
    theta_s = np.r_[source.coef_, source.intercept_]
    primal = np.linalg.solve(Z.T @ Z + 2.0 * np.eye(Z.shape[1]),
                             Z.T @ (y[lab] - Z @ theta_s))
    np.testing.assert_allclose(np.r_[reg.coef_, reg.intercept_], theta_s + primal, atol=1e-8)


def test_regular_lr_prefit_source_needs_no_source_rows():
    X, y, sd, lab, test, _ = few_labels()
    source = Ridge(alpha=3.0).fit(X[sd > 0], y[sd > 0])
    coef = source.coef_.copy()
    only_target = np.flatnonzero(sd < 0)
    reg = RegularTransferLR(FrozenEstimator(source), alpha=np.inf).fit(
        X[only_target], y[only_target], sample_domain=sd[only_target])
    np.testing.assert_allclose(reg.predict(X[test]), source.predict(X[test]))
    np.testing.assert_array_equal(source.coef_, coef)  # the prefit model is untouched
    with pytest.raises(ValueError, match="features"):
        RegularTransferLR(FrozenEstimator(source)).fit(X[:, :2], y, sample_domain=sd)


def test_regular_lr_auto_alpha_follows_the_evidence():
    """Same target as source: a strong pull; an unrelated source: a weak one."""
    X, y, sd, lab, test, y_true = few_labels(shift="covariate", n_labels=30)
    y_same = y.copy()
    y_same[sd > 0] = y_true[sd > 0]
    close = RegularTransferLR().fit(X, y_same, sample_domain=sd)
    y_far = y.copy()
    y_far[sd > 0] = -5 * y_true[sd > 0] + 10  # a source that misleads
    far = RegularTransferLR().fit(X, y_far, sample_domain=sd)
    assert far.alpha_ < close.alpha_


def test_regular_lr_bad_source_model():
    X, y, sd, *_ = few_labels()
    from sklearn.tree import DecisionTreeRegressor

    with pytest.raises(TypeError, match="coef_"):
        RegularTransferLR(DecisionTreeRegressor()).fit(X, y, sample_domain=sd)


def test_regular_lc_infinite_penalty_is_the_source():
    X, y, sd, lab, test, _ = few_labels("classification")
    source = LogisticRegression().fit(X[sd > 0], y[sd > 0])
    clf = RegularTransferLC(alpha=np.inf).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(clf.predict_proba(X[test]), source.predict_proba(X[test]))
    np.testing.assert_allclose(clf.coef_, source.coef_)


def test_regular_lc_towards_a_zero_source_is_l2_logistic_regression():
    """Pulled towards zero coefficients, alpha is LogisticRegression's 1 / C."""
    X, y, sd, lab, test, _ = few_labels("classification", n_labels=40)
    zero = LogisticRegression().fit(X[sd > 0], y[sd > 0])
    zero.coef_[:] = 0.0
    zero.intercept_[:] = 0.0
    clf = RegularTransferLC(FrozenEstimator(zero), alpha=2.0).fit(X, y, sample_domain=sd)
    # the same objective: the intercept is a penalised column of ones
    ref = LogisticRegression(C=0.5, fit_intercept=False, tol=1e-10).fit(
        np.c_[X[lab], np.ones(len(lab))], y[lab])
    np.testing.assert_allclose(np.c_[clf.coef_, clf.intercept_], ref.coef_, rtol=1e-4)


def test_regular_lc_new_target_class_and_multiclass():
    X, y, sd, lab, test, y_true = few_labels("classification", n_labels=40)
    region = (sd < 0) & (X[:, 0] > np.quantile(X[sd < 0, 0], 0.7))
    y_true = np.where(region, 5, y_true)  # a class the source never saw
    y = np.where(np.isin(np.arange(len(y)), lab) & region, 5, y)
    clf = RegularTransferLC(random_state=0).fit(X, y, sample_domain=sd)
    assert clf.classes_.tolist() == [0, 1, 5]
    assert clf.coef_.shape == (3, X.shape[1])
    np.testing.assert_allclose(clf.predict_proba(X[test]).sum(axis=1), 1.0)
    new = test[region[test]]
    assert np.mean(clf.predict(X[new]) == 5) > 0.5


def test_regular_lc_beats_target_only_and_source_only_with_few_labels():
    """Covariate shift, nonlinear labels: the source is wrong where the target lives."""
    gains = []
    for seed in range(5):
        X, y, sd, lab, test, y_true = few_labels("classification", n_labels=16,
                                                 shift="covariate", seed=seed, n_features=2,
                                                 n_source=200, n_target=300)
        acc = {
            "source": LogisticRegression().fit(X[sd > 0], y[sd > 0]),
            "target": LogisticRegression().fit(X[lab], y[lab]),
            "transfer": RegularTransferLC(random_state=0).fit(X, y, sample_domain=sd),
        }
        acc = {k: np.mean(m.predict(X[test]) == y_true[test]) for k, m in acc.items()}
        gains.append([acc["transfer"] - acc["target"], acc["transfer"] - acc["source"]])
    over_target, over_source = np.mean(gains, axis=0)
    assert over_target > 0.02 and over_source > 0.05, (over_target, over_source)


def test_no_labelled_target_rows_warns_and_keeps_the_source():
    X, y, sd, lab, test, _ = few_labels()
    y = y.copy()
    y[lab] = np.nan
    for est in (RegularTransferLR(), RegularTransferGP(), PRED(Ridge()), LinInt(Ridge())):
        with pytest.warns(DomainWarning, match="no labelled target rows"):
            est.fit(X, y, sample_domain=sd)
        np.testing.assert_allclose(est.predict(X[test]),
                                   est.source_estimator_.predict(X[test]))


def _fixed_gp():
    return GaussianProcessRegressor(RBF(1.0) + WhiteKernel(0.1), optimizer=None)


def test_regular_gp_is_a_gp_with_the_source_as_prior_mean():
    X, y, sd, lab, test, _ = few_labels(n_labels=15)
    reg = RegularTransferGP(_fixed_gp(), alpha=0.0).fit(X, y, sample_domain=sd)
    source = _fixed_gp().fit(X[sd > 0], y[sd > 0])
    resid = y[lab] - source.predict(X[lab])
    # the textbook posterior mean, with the source's (fixed) kernel and noise
    correction = _fixed_gp().fit(X[lab], resid)
    np.testing.assert_allclose(reg.predict(X[test]),
                               source.predict(X[test]) + correction.predict(X[test]),
                               atol=1e-8)
    far = RegularTransferGP(_fixed_gp(), alpha=np.inf).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(far.predict(X[test]), source.predict(X[test]))


def test_regular_gp_auto_improves_on_the_source_under_shift():
    errors = []
    for seed in range(3):
        X, y, sd, lab, test, y_true = few_labels(n_labels=20, seed=seed)
        reg = RegularTransferGP(_fixed_gp()).fit(X, y, sample_domain=sd)
        src = reg.source_estimator_
        errors.append([np.mean((m.predict(X[test]) - y_true[test]) ** 2) for m in (reg, src)])
    transfer, source = np.mean(errors, axis=0)
    assert transfer < 0.8 * source
    with pytest.raises(TypeError, match="GaussianProcessRegressor"):
        RegularTransferGP(Ridge()).fit(X, y, sample_domain=sd)


def test_pred_uses_a_nonlinear_source_where_target_only_cannot():
    """The source feature carries the curve a linear target model cannot fit."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(260, 2))
    y_true = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=260)
    sd = np.r_[np.ones(160, int), -2 * np.ones(100, int)]
    y_true[sd < 0] += 1.0  # the target is offset
    y = np.where((sd < 0) & (np.arange(260) >= 175), np.nan, y_true)
    test = np.flatnonzero(np.isnan(y))
    pred = PRED(LinearRegression(), source_estimator=_fixed_gp()).fit(X, y, sample_domain=sd)
    alone = LinearRegression().fit(X[160:175], y[160:175])
    source = pred.source_estimator_
    errors = [np.mean((m.predict(X[test]) - y_true[test]) ** 2) for m in (pred, alone, source)]
    assert errors[0] < 0.3 * min(errors[1:]), errors
    assert pred.estimator_.coef_[-1] > 0.5  # it trusts the source feature
    clf_data = few_labels("classification", n_labels=10)
    clf = PRED(LogisticRegression()).fit(*clf_data[:2], sample_domain=clf_data[2])
    assert clf.predict_proba(clf_data[0][:5]).shape == (5, 2)


def test_pred_single_target_class_falls_back_to_the_source():
    X, y, sd, lab, test, y_true = few_labels("classification", n_labels=10)
    y = y.copy()
    y[lab] = 1
    with pytest.warns(DomainWarning, match="single class"):
        clf = PRED(LogisticRegression()).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(clf.predict(X[test]),
                                  clf.source_estimator_.predict(X[test]))


def test_linint_weight_between_source_and_target():
    X, y, sd, lab, test, y_true = few_labels(n_labels=40, shift="covariate")
    y_same = y.copy()
    y_same[sd > 0] = y_true[sd > 0]
    same = LinInt(LinearRegression(), random_state=0).fit(X, y_same, sample_domain=sd)
    y_far = y.copy()
    y_far[sd > 0] = -y_true[sd > 0]  # a source with the opposite relation
    far = LinInt(LinearRegression(), random_state=0).fit(X, y_far, sample_domain=sd)
    assert far.source_weight_ == 0.0 and same.source_weight_ > 0.0
    np.testing.assert_allclose(far.predict(X[test]), far.estimator_.predict(X[test]))
    # fewer than three labelled target rows: the source alone
    few = y.copy()
    few[lab[2:]] = np.nan
    tiny = LinInt(Ridge()).fit(X, few, sample_domain=sd)
    assert tiny.source_weight_ == 1.0


def test_linint_classification_mixes_probabilities_over_all_classes():
    X, y, sd, lab, test, _ = few_labels("classification", n_labels=12)
    y = y.copy()
    y[lab[:3]] = 7
    clf = LinInt(LogisticRegression(), random_state=0).fit(X, y, sample_domain=sd)
    assert clf.classes_.tolist() == [0, 1, 7]
    np.testing.assert_allclose(clf.predict_proba(X[test]).sum(axis=1), 1.0)
    from sklearn.svm import LinearSVC

    with pytest.raises(TypeError, match="predict_proba"):
        LinInt(LinearSVC()).fit(X, y, sample_domain=sd)
