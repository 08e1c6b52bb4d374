"""diagnose_shift: verdicts on generated shifts, the report's fields, errors."""

import numpy as np
import pytest

import sktl
from sktl.datasets import make_domain_shift
from sktl.metrics import SHIFT_FAMILIES, diagnose_shift
from sktl.utils import mask_target_labels


def _diagnose(shift, strength=1.0, seed=0, n_target_labels=0, **kw):
    X, y, sd = make_domain_shift(250, 250, shift=shift, shift_strength=strength,
                                 n_classes=kw.pop("n_classes", 2), random_state=seed)
    y_masked = mask_target_labels(y, sd)
    if n_target_labels:
        keep = np.flatnonzero(sd < 0)[:n_target_labels]
        y_masked[keep] = y[keep]
    return diagnose_shift(X, y_masked, sd, n_permutations=100, random_state=seed, **kw)


@pytest.mark.parametrize("shift, strength, expected", [
    ("label", 0.0, "no shift"),
    ("label", 1.0, "label shift"),
    ("covariate", 1.0, "covariate shift"),
    ("conditional", 1.0, "conditional shift"),
])
def test_verdicts_on_generated_shifts(shift, strength, expected):
    report = _diagnose(shift, strength, n_classes=3 if shift == "label" else 2)
    assert report.verdict == expected, report
    assert report.recommended == SHIFT_FAMILIES[expected].estimators
    assert report.families == SHIFT_FAMILIES[expected].families


def test_report_fields_and_repr():
    pd = pytest.importorskip("pandas")
    report = _diagnose("label", 1.0, n_classes=3)
    assert isinstance(report.report, pd.DataFrame)
    assert list(report.report.columns) == ["check", "statistic", "value", "p_value", "finding"]
    assert len(report.report) == len(report.rows) == 7
    assert list(report.priors.columns) == ["class", "source", "target", "target_low",
                                           "target_high"]
    text = repr(report)
    assert text.startswith("Shift diagnosis: label shift")
    assert "LabelShiftClassifier" in text and "p(x) after prior matching" in text
    # the p-values behind the verdict
    assert report.p_values["priors"] < 0.025 and report.p_values["after_prior_matching"] > 0.05
    np.testing.assert_allclose(report.target_priors.sum(), 1.0)
    assert report.label_shift_estimator.target_priors_ is report.target_priors


def test_recommended_names_resolve():
    import sktl.deep as deep

    for entry in SHIFT_FAMILIES.values():
        for name in entry.estimators:
            module, attr = (deep, name.split(".")[1]) if name.startswith("deep.") else \
                (sktl, name)
            assert hasattr(module, attr), name


def test_target_labels_tell_conditional_from_covariate():
    report = _diagnose("conditional", 1.0, n_target_labels=60)
    assert report.verdict == "conditional shift", report
    assert report.p_values["target_labels_covariate"] < 0.05
    assert "FEDA" in report.recommended
    assert any(r["check"].startswith("target labels") for r in report.rows)


def test_errors():
    X, y, sd = make_domain_shift(50, 50, random_state=0)
    with pytest.raises(ValueError, match="class labels"):
        diagnose_shift(X, np.where(sd > 0, y + 0.5, np.nan), sd)
    with pytest.raises(ValueError, match="No target rows"):
        diagnose_shift(X, y, np.ones_like(sd))
    with pytest.raises(ValueError, match="alpha"):
        diagnose_shift(X, mask_target_labels(y, sd), sd, alpha=2.0)


def test_diagnosis_feeds_the_candidates_of_the_label_free_search():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from sktl.model_selection import AdaptationSearchCV, default_candidates

    est = LogisticRegression()
    assert list(default_candidates(est, 5, shift="label shift")) == [
        "no adaptation", "LabelShiftClassifier"]
    assert list(default_candidates(est, 5, shift="no shift")) == ["no adaptation"]
    covariate = default_candidates(est, 5, shift="covariate shift")
    assert set(covariate) == {"no adaptation", "DiscriminativeReweighter", "KMM", "KLIEP",
                              "ULSIF"}
    conditional = default_candidates(est, 5, shift="conditional shift")
    assert "KMM" not in conditional and any(n.startswith("CORAL") for n in conditional)
    with pytest.raises(ValueError, match="shift must be"):
        default_candidates(est, 5, shift="drift")

    X, y, sd = make_domain_shift(200, 200, shift="label", n_classes=3, mask_target=True,
                                 random_state=0)
    search = AdaptationSearchCV(est, candidates="diagnose", cv=2, random_state=0)
    search.fit(X, y, sample_domain=sd)
    assert search.diagnosis_.verdict == "label shift"
    assert list(search.cv_results_["candidate"]) == ["no adaptation", "LabelShiftClassifier"]
    with pytest.raises(ValueError, match="needs class labels"):
        AdaptationSearchCV(LinearRegression(), candidates="diagnose").fit(
            X, np.where(sd > 0, y.astype(float), np.nan), sample_domain=sd)
