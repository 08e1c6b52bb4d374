"""scikit-learn's estimator checks on the skorch nets (issue #16).

One net of each kind runs every check that applies; the nets share their
validation, prediction and parameter code (``sktl/deep/_base.py``), so a
regression in cloning, ``get_params`` or input validation shows here. Every
check expected to fail is listed with its reason.
"""

import pytest

pytest.importorskip("torch")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from sktl.deep import (  # noqa: E402
    DANClassifier,
    DeepCORALRegressor,
    FineTuningClassifier,
    MultiTaskClassifier,
)

SKORCH = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ "
        "(every skorch model does)"),
    "check_set_params": (
        "skorch's set_params treats callbacks__* / optimizer__* values as components to "
        "(re)initialise, so the arbitrary values the check sets fail inside skorch"),
    "check_fit_score_takes_y": (
        "skorch's partial_fit is the inner step of fit and takes skorch's own input "
        "(a dict with the domains), not a raw X; fit and score pass"),
    "check_n_features_in_after_fitting": "the same partial_fit (see check_fit_score_takes_y)",
    "check_estimators_partial_fit_n_features": "the same partial_fit",
}
CLASSIFIER = {
    "check_classifiers_classes": (
        "the check trains on the labels {-1, 1}; y = -1 marks an unlabelled row "
        "(skada's convention), so fit refuses them with a message naming LabelEncoder"),
}


REGRESSOR = {
    "check_regressors_train": (
        "the check wants R² > 0.5 after fit; the nets train 2 epochs here, for speed "
        "(accuracy lives in benchmarks/bench_deep.py)"),
}


def _expected(estimator):
    failed = dict(SKORCH)
    if isinstance(estimator, DeepCORALRegressor):
        failed.update(REGRESSOR)
    if isinstance(estimator, (DANClassifier, FineTuningClassifier, MultiTaskClassifier)):
        failed.update(CLASSIFIER)
    return failed


@parametrize_with_checks(
    [DANClassifier(max_epochs=2, batch_size=32, random_state=0),
     DeepCORALRegressor(max_epochs=2, batch_size=32, random_state=0),
     FineTuningClassifier(max_epochs=2, pretrain_epochs=2, batch_size=32, random_state=0),
     # its own fit (sample_task), predict and loss: the checks run on it too
     MultiTaskClassifier(max_epochs=2, batch_size=32, random_state=0)],
    expected_failed_checks=_expected,
)
def test_deep_nets_sklearn_checks(estimator, check):
    check(estimator)
