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
    sparse : bool
        Accepts ``scipy.sparse`` rows (``tests/test_sparse.py`` checks it gives
        the dense answer). False only where the method needs dense rows (a
        kernel density estimate); such an estimator must refuse sparse input
        with scikit-learn's "dense data is required" error.
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
    sparse: bool = True


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


def _mmd_selector(task):
    from sktl import MMDFeatureSelector

    return MMDFeatureSelector(random_state=0)


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


def _reweighter(name, **params):
    def make(task):
        import sktl

        return getattr(sktl, name)(base_estimator(task), **params)

    return make


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
              "GLoMo": {"graph_epochs": 2, "n_graphs": 2},
              "IWAN": {"pretrain_epochs": 1},
              "WDGRL": {"critic_steps": 2}, "MCD": {"n_generator_steps": 2},
              # a few target rows make one batch: more (cheap) epochs to learn anything
              "TargetOnly": {"max_epochs": 30, "lr": 1e-2}}.get(name, {})
        return cls(**{"max_epochs": 3, "batch_size": 32, "random_state": 0, **kw})

    return make


def _glomo(task):
    from sktl.deep import GLoMoTransformer

    return GLoMoTransformer(n_graphs=2, embedding_dim=8, max_epochs=2, batch_size=32,
                            random_state=0)


def _label_shift(task):
    from sktl import LabelShiftClassifier

    return LabelShiftClassifier(base_estimator(task), cv=3, n_bootstrap=10, random_state=0)
def _ot(name, **kw):
    def make(task):
        import sktl

        return getattr(sktl, name)(**kw)

    return make


def _jdot(task):
    from sktl import JDOTClassifier, JDOTRegressor

    if task == "classification":
        return JDOTClassifier(base_estimator(task), max_iter=3)
    return JDOTRegressor(base_estimator(task), max_iter=3)


def _ot_label_prop(task):
    from sktl import OTLabelPropagation

    return OTLabelPropagation(base_estimator(task))


def _jcpot(task):
    from sktl import JCPOT

    return JCPOT(base_estimator(task), max_iter=20)


def _tjm(task):
    from sktl import TJM

    return TJM(n_components=2, kernel="rbf", n_iter=3, random_state=0)


def _tsl(task):
    from sktl import TSL

    return TSL(n_components=2, max_iter=10)


def _dasvm(task):
    from sktl import DASVMClassifier

    return DASVMClassifier(base_estimator(task), max_iter=5)


def _feda(task):
    from sktl import FEDA

    return FEDA(base_estimator(task))


def _conformal(task):
    from sktl.conformal import WeightedConformalClassifier, WeightedConformalRegressor

    cls = WeightedConformalClassifier if task == "classification" else WeightedConformalRegressor
    return cls(base_estimator(task), confidence_level=[0.8, 0.9], random_state=0)


def _shift_calibrated(task):
    from sktl.conformal import ShiftCalibratedClassifier

    return ShiftCalibratedClassifier(LogisticRegression(), random_state=0)


def _adaptation_search(task):
    from sktl import CORAL, make_da_pipeline
    from sktl.model_selection import AdaptationSearchCV

    return AdaptationSearchCV(base_estimator(task),
                              candidates={"coral": make_da_pipeline(CORAL(),
                                                                    base_estimator(task))},
                              cv=2, random_state=0)
def _regular_transfer(task):
    from sktl import RegularTransferLC, RegularTransferLR

    return RegularTransferLC(random_state=0) if task == "classification" else RegularTransferLR()


def _regular_transfer_gp(task):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, WhiteKernel

    from sktl import RegularTransferGP

    return RegularTransferGP(GaussianProcessRegressor(RBF() + WhiteKernel(), optimizer=None))


def _pred(task):
    from sktl import PRED

    return PRED(base_estimator(task))


def _linint(task):
    from sktl import LinInt

    return LinInt(base_estimator(task), random_state=0)


def _transfer_tree(task):
    from sktl import TransferTreeClassifier

    return TransferTreeClassifier(random_state=0)


def _transfer_forest(task):
    from sklearn.ensemble import RandomForestClassifier

    from sktl import TransferForestClassifier

    return TransferForestClassifier(RandomForestClassifier(n_estimators=5), algo="mix",
                                    random_state=0)


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
    Entry("OTMapping", _ot("OTMapping"), "transformer", ("classification", "regression"),
          grid={"metric": ["sqeuclidean", "euclidean"]},
          sparse=False),
    Entry("EntropicOTMapping", _ot("EntropicOTMapping"), "transformer",
          ("classification", "regression"), grid={"reg_e": [0.05, 0.5]},
          sparse=False),
    Entry("ClassRegularizedOTMapping", _ot("ClassRegularizedOTMapping", max_iter=3),
          "transformer", ("classification",), grid={"reg_cl": [0.1, 1.0]},
          sparse=False),
    Entry("LinearOTMapping", _ot("LinearOTMapping"), "transformer",
          ("classification", "regression"), grid={"reg": [1e-6, 0.1]},
          sparse=False),
    Entry("MultiLinearMongeAlignment", _ot("MultiLinearMongeAlignment"), "transformer",
          ("classification", "regression"), grid={"bias": [True, False]},
          sparse=False),
    Entry("MMDLSConSMapping", _ot("MMDLSConSMapping", max_iter=20, random_state=0),
          "transformer", ("classification", "regression"), grid={"reg_m": [1e-3, 1.0]},
          sparse=False),
    Entry("JDOT", _jdot, "estimator", ("classification", "regression"),
          grid={"alpha": [0.5, 1.0]},
          sparse=False),
    Entry("OTLabelPropagation", _ot_label_prop, "estimator", ("classification", "regression"),
          grid={"reg_e": [None, 0.1]},
          sparse=False),
    Entry("JCPOT", _jcpot, "estimator", ("classification",), grid={"reg_e": [0.1, 0.5]},
          sparse=False),
    Entry("TJM", _tjm, "transformer", ("classification", "regression"),
          grid={"mu": [0.1, 1.0]}),
    Entry("TSL", _tsl, "transformer", ("classification",), grid={"mu": [0.1, 1.0]},
          sparse=False),
    Entry("DASVM", _dasvm, "estimator", ("classification",), grid={"n_per_step": [2, 5]},
          sparse=False),
    Entry("MMDFeatureSelector", _mmd_selector, "transformer",
          ("classification", "regression"), grid={"kernel": ["linear", "rbf"]}, sparse=False),
    Entry("MSDA", _msda, "transformer", ("classification", "regression"),
          grid={"noise": [0.3, 0.7]}),
    Entry("CORALEstimator", _coral_estimator, "estimator", ("classification", "regression"),
          grid={"reg": [0.1, 1.0]}),
    Entry("DiscriminativeReweighter", _discriminative, "reweighter",
          ("classification", "regression"), grid={"max_weight": [None, 10.0]}),
    Entry("KMM", _kmm, "reweighter", ("classification", "regression"),
          grid={"gamma": [0.1, 1.0]}),
    Entry("MMDTarS", _reweighter("MMDTarS"), "reweighter", ("classification", "regression"),
          grid={"gamma": [0.1, 1.0]}, sparse=False),
    Entry("KLIEP", _reweighter("KLIEP", gamma=[0.3, 1.0], n_centers=20, cv=2, random_state=0),
          "reweighter", ("classification", "regression"), grid={"n_centers": [10, 20]}),
    Entry("KLIEP-minibatch", _reweighter("KLIEP", solver="minibatch", gamma=0.3, batch_size=32,
                                         n_epochs=2, random_state=0), "reweighter",
          ("classification",), grid={"gamma": [0.1, 0.3]}),
    Entry("ULSIF", _reweighter("ULSIF", n_centers=20, random_state=0), "reweighter",
          ("classification", "regression"), grid={"n_centers": [10, 20]}),
    Entry("RULSIF", _reweighter("RULSIF", n_centers=20, random_state=0), "reweighter",
          ("classification", "regression"), grid={"alpha": [0.1, 0.5]}),
    Entry("NearestNeighborReweighter", _reweighter("NearestNeighborReweighter"), "reweighter",
          ("classification", "regression"), grid={"n_neighbors": [1, 5]}),
    Entry("KernelDensityReweighter", _reweighter("KernelDensityReweighter"), "reweighter",
          ("classification", "regression"), grid={"bandwidth": ["scott", 0.5]}, sparse=False),
    Entry("GaussianReweighter", _reweighter("GaussianReweighter"), "reweighter",
          ("classification", "regression"), grid={"max_weight": [None, 10.0]}),
    Entry("LDM", _reweighter("LDM", tol=1e-2), "reweighter", ("classification", "regression"),
          grid={"tol": [1e-2, 1e-3]}),
    Entry("BalancedWeighting", _reweighter("BalancedWeighting"), "reweighter",
          ("classification", "regression"), needs_target_labels=True,
          grid={"target_share": [0.3, 0.5]}),
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
    Entry("IWN", _deep("IWN"), "estimator", ("classification", "regression"),
          grid={"weighter_hidden": [16, 32]}, sklearn_checks=False),
    Entry("SAN", _deep("SAN"), "estimator", ("classification",),
          grid={"entropy_weight": [0.0, 1.0]}, sklearn_checks=False),
    Entry("IWAN", _deep("IWAN"), "estimator", ("classification",),
          grid={"entropy_weight": [0.0, 0.1]}, sklearn_checks=False),
    Entry("CCSA", _deep("CCSA"), "estimator", ("classification",), needs_target_labels=True,
          grid={"margin": [0.5, 1.0]}, sklearn_checks=False),
    Entry("MultiTask", _deep("MultiTask"), "estimator", ("classification", "regression"),
          grid={"task_weights": [None, "balanced"]}, sklearn_checks=False),
    Entry("DDTL", _deep("DDTL"), "estimator", ("classification",),
          grid={"drop_rate": [0.0, 0.5]}, sklearn_checks=False),
    Entry("GLoMoTransformer", _glomo, "transformer", ("classification", "regression"),
          grid={"n_graphs": [1, 2]}, sparse=False),
    Entry("GLoMo", _deep("GLoMo"), "estimator", ("classification",),
          grid={"n_graphs": [1, 2]}, sklearn_checks=False),
    Entry("FineTuning", _deep("FineTuning"), "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"freeze": [None, 1]}, sklearn_checks=False),
    Entry("LabelShiftClassifier", _label_shift, "estimator", ("classification",),
          grid={"method": ["em", "bbse", "rlls"]}),
    Entry("FEDA", _feda, "estimator", ("classification", "regression"),
          needs_target_labels=True,
          grid=lambda task: {"estimator": [base_estimator(task), base_estimator(task)]}),
    Entry("WeightedConformal", _conformal, "estimator", ("classification", "regression"),
          grid={"calibration_size": [0.3, 0.5]}),
    Entry("ShiftCalibratedClassifier", _shift_calibrated, "estimator", ("classification",),
          grid={"method": ["sigmoid", "temperature"]}),
    Entry("AdaptationSearchCV", _adaptation_search, "estimator",
          ("classification", "regression"), grid={"confidence": [0.9, 0.99]}),
    Entry("RegularTransfer", _regular_transfer, "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"alpha": [0.1, "auto"]}, sparse=False),
    Entry("RegularTransferGP", _regular_transfer_gp, "estimator", ("regression",),
          needs_target_labels=True, grid={"alpha": [0.0, "auto"]}, sparse=False),
    Entry("PRED", _pred, "estimator", ("classification", "regression"),
          needs_target_labels=True,
          grid=lambda task: {"estimator": [base_estimator(task), base_estimator(task)]},
          sparse=False),
    Entry("LinInt", _linint, "estimator", ("classification", "regression"),
          needs_target_labels=True, grid={"random_state": [0, 1]}, sparse=False),
    Entry("TransferTree", _transfer_tree, "estimator", ("classification",),
          needs_target_labels=True, grid={"algo": ["ser", "strut"]}, sparse=False),
    Entry("TransferForest", _transfer_forest, "estimator", ("classification",),
          needs_target_labels=True, grid={"algo": ["ser", "mix"]}, sparse=False),
]
