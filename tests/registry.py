"""The one list of public sktl estimators that the shared tests run over.

Adding an estimator to sktl means appending an :class:`Entry` here; the
shared tests in ``test_common.py`` then check it with scikit-learn's
``parametrize_with_checks``, the Pipeline / GridSearchCV user stories,
clone / pickle / ``random_state``, and the bad-input cases.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sklearn.linear_model import LogisticRegression, Ridge


@dataclass
class Entry:
    """How the shared tests build and exercise one estimator.

    Attributes
    ----------
    name : str
        Test id.
    make : callable
        ``make(task)`` returns a small, fast instance for ``task``
        ("classification" or "regression"). Reweighters and meta-estimators
        wrap the base estimator they are given the task for.
    kind : {"transformer", "reweighter", "estimator"}
        Transformers go before a ``LabelledOnly`` classifier in the pipeline
        stories; reweighters and estimators are the pipeline's last step.
    tasks : tuple of str
        Tasks it supports.
    needs_target_labels : bool
        Supervised DA (TrAdaBoost, FEDA): some target rows carry labels.
    grid : dict or callable
        A small ``param_grid`` (keys without the step prefix) for the
        GridSearchCV story, or ``grid(task)`` returning one.
    expected_failed_checks : dict
        ``{check_name: reason}`` for estimator checks that genuinely conflict
        with domain adaptation (documented here, reviewed in PRs).
    sklearn_checks : bool
        Run scikit-learn's ``parametrize_with_checks`` here. Off for the skorch
        nets: they share one implementation of validation, prediction and
        parameters, so ``tests/test_deep_checks.py`` runs the checks on one net
        of each kind, with the checks skorch itself fails listed and explained;
        every net gets all the other shared tests.
    """

    name: str
    make: Callable
    kind: str
    tasks: tuple = ("classification",)
    needs_target_labels: bool = False
    grid: object = field(default_factory=dict)

    def param_grid(self, task):
        """The grid for ``task``."""
        return self.grid(task) if callable(self.grid) else self.grid
    expected_failed_checks: dict = field(default_factory=dict)
    sklearn_checks: bool = True


def base_estimator(task):
    """The base estimator used inside meta-estimators in the shared tests."""
    return LogisticRegression() if task == "classification" else Ridge()


def _coral(task):
    from sktl import CORAL

    return CORAL()


def _tca(task):
    from sktl import TCA

    return TCA(n_components=2, kernel="rbf", random_state=0)


def _tca_landmarks(task):
    from sktl import TCA

    return TCA(n_components=2, kernel="rbf", n_landmarks=30, random_state=0)


def _jda(task):
    from sktl import JDA

    return JDA(n_components=2, n_iter=2, random_state=0)


def _subspace(task):
    from sktl import SubspaceAlignment

    return SubspaceAlignment(n_components=2)


def _msda(task):
    from sktl import MSDA

    return MSDA(n_layers=2)


def _coral_estimator(task):
    from sktl import CORALEstimator

    return CORALEstimator(base_estimator(task))


def _discriminative(task):
    from sktl import DiscriminativeReweighter

    return DiscriminativeReweighter(base_estimator(task))


def _kmm(task):
    from sktl import KMM

    return KMM(base_estimator(task), random_state=0)


def _tradaboost(task):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    from sktl import TrAdaBoostClassifier, TrAdaBoostR2

    if task == "classification":
        return TrAdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=8,
                                    random_state=0)
    return TrAdaBoostR2(DecisionTreeRegressor(max_depth=3), n_estimators=8, random_state=0)


def _two_stage(task):
    from sklearn.tree import DecisionTreeRegressor

    from sktl import TwoStageTrAdaBoostR2

    return TwoStageTrAdaBoostR2(DecisionTreeRegressor(max_depth=3), n_estimators=4,
                                n_steps=3, n_folds=2, random_state=0)


def _deep(name):
    def make(task):
        import sktl.deep as deep

        cls = getattr(deep, name + ("Classifier" if task == "classification" else "Regressor"))
        kw = {"FineTuning": {"pretrain_epochs": 3}, "ADDA": {"pretrain_epochs": 1},
              "IWAN": {"pretrain_epochs": 1},
              "WDGRL": {"critic_steps": 2}, "MCD": {"n_generator_steps": 2},
              # a few target rows make one batch: more (cheap) epochs to learn anything
              "TargetOnly": {"max_epochs": 30, "lr": 1e-2}}.get(name, {})
        return cls(**{"max_epochs": 3, "batch_size": 32, "random_state": 0, **kw})

    return make


def _feda(task):
    from sktl import FEDA

    return FEDA(base_estimator(task))


def _adaptation_search(task):
    from sktl import CORAL, make_da_pipeline
    from sktl.model_selection import AdaptationSearchCV

    return AdaptationSearchCV(base_estimator(task),
                              candidates={"coral": make_da_pipeline(CORAL(),
                                                                    base_estimator(task))},
                              cv=2, random_state=0)


REGISTRY = [
    Entry("CORAL", _coral, "transformer", ("classification", "regression"),
          grid={"reg": [0.1, 1.0]}),
    Entry("TCA", _tca, "transformer", ("classification", "regression"),
          grid={"mu": [0.1, 1.0]}),
    Entry("TCA-landmarks", _tca_landmarks, "transformer", ("classification",),
          grid={"n_landmarks": [20, 30]}),
    Entry("JDA", _jda, "transformer", ("classification",), grid={"mu": [0.1, 1.0]}),
    Entry("SubspaceAlignment", _subspace, "transformer", ("classification", "regression"),
          grid={"n_components": [1, 2]}),
    Entry("MSDA", _msda, "transformer", ("classification", "regression"),
          grid={"noise": [0.3, 0.7]}),
    Entry("CORALEstimator", _coral_estimator, "estimator", ("classification", "regression"),
          grid={"reg": [0.1, 1.0]}),
    Entry("DiscriminativeReweighter", _discriminative, "reweighter",
          ("classification", "regression"), grid={"max_weight": [None, 10.0]}),
    Entry("KMM", _kmm, "reweighter", ("classification", "regression"),
          grid={"gamma": [0.1, 1.0]}),
    Entry("TrAdaBoost", _tradaboost, "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"n_estimators": [4, 8]}),
    Entry("TwoStageTrAdaBoostR2", _two_stage, "estimator", ("regression",),
          needs_target_labels=True, grid={"n_steps": [2, 3]}),
    Entry("DAN", _deep("DAN"), "estimator", ("classification", "regression"),
          grid={"reg": [0.5, 1.0]}, sklearn_checks=False),
    Entry("DANN", _deep("DANN"), "estimator", ("classification", "regression"),
          grid={"module__hidden_units": [(16,), (32,)]}, sklearn_checks=False),
    Entry("DeepCORAL", _deep("DeepCORAL"), "estimator", ("classification", "regression"),
          grid={"reg": [0.5, 1.0]}, sklearn_checks=False),
    Entry("JAN", _deep("JAN"), "estimator", ("classification",),
          grid={"reg": [0.3, 1.0]}, sklearn_checks=False),
    Entry("TargetOnlyNet", _deep("TargetOnly"), "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"lr": [1e-3, 3e-3]}, sklearn_checks=False),
    Entry("MCC", _deep("MCC"), "estimator", ("classification",),
          grid={"temperature": [2.0, 2.5]}, sklearn_checks=False),
    Entry("CDAN", _deep("CDAN"), "estimator", ("classification",),
          grid={"entropy_conditioning": [False, True]}, sklearn_checks=False),
    Entry("MDD", _deep("MDD"), "estimator", ("classification",),
          grid={"margin": [2.0, 4.0]}, sklearn_checks=False),
    Entry("ADDA", _deep("ADDA"), "estimator", ("classification", "regression"),
          grid={"discriminator_hidden": [16, 32]}, sklearn_checks=False),
    Entry("WDGRL", _deep("WDGRL"), "estimator", ("classification", "regression"),
          grid={"gradient_penalty": [1.0, 10.0]}, sklearn_checks=False),
    Entry("MCD", _deep("MCD"), "estimator", ("classification", "regression"),
          grid={"reg": [0.5, 1.0]}, sklearn_checks=False),
    Entry("CAN", _deep("CAN"), "estimator", ("classification",),
          grid={"reg": [0.1, 0.3]}, sklearn_checks=False),
    Entry("SPA", _deep("SPA"), "estimator", ("classification",),
          grid={"reg_spectral": [0.5, 1.0]}, sklearn_checks=False),
    Entry("DeepJDOT", _deep("DeepJDOT"), "estimator", ("classification", "regression"),
          grid={"reg_dist": [0.1, 1.0]}, sklearn_checks=False),
    Entry("WANN", _deep("WANN"), "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"weighter_hidden": [16, 32]}, sklearn_checks=False),
    Entry("SAN", _deep("SAN"), "estimator", ("classification",),
          grid={"entropy_weight": [0.0, 1.0]}, sklearn_checks=False),
    Entry("IWAN", _deep("IWAN"), "estimator", ("classification",),
          grid={"entropy_weight": [0.0, 0.1]}, sklearn_checks=False),
    Entry("CCSA", _deep("CCSA"), "estimator", ("classification",), needs_target_labels=True,
          grid={"margin": [0.5, 1.0]}, sklearn_checks=False),
    Entry("FineTuning", _deep("FineTuning"), "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"freeze": [None, 1]}, sklearn_checks=False),
    Entry("FEDA", _feda, "estimator", ("classification", "regression"),
          needs_target_labels=True,
          grid=lambda task: {"estimator": [base_estimator(task), base_estimator(task)]}),
    Entry("AdaptationSearchCV", _adaptation_search, "estimator",
          ("classification", "regression"), grid={"confidence": [0.9, 0.99]}),
]
