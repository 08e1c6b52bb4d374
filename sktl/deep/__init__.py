"""Deep domain adaptation with skorch (imports torch).

Every net takes the same ``X, y, sample_domain`` as sktl's classical
estimators and is a scikit-learn estimator: it fits in ``Pipeline`` and
``GridSearchCV``, clones and pickles. All of them run on one training loop,
:class:`DomainAdaptationNet`: most differ only by their domain loss (DAN,
Deep CORAL, DANN, JAN, CDAN, MCC, MDD, SPA, CAN, DeepJDOT, WANN, SAN, CCSA, DDTL); MCD, ADDA
WDGRL and IWAN declare alternating updates of named parameter groups that the
same loop runs. Submodules load on first use.
"""

import importlib

_LAZY = {
    "DomainAdaptationNet": "_base", "DomainBatchSampler": "_base", "Phase": "_base",
    "resolve_device": "_base",
    "FineTuningClassifier": "_finetune", "FineTuningRegressor": "_finetune",
    "coral_loss": "_losses", "joint_mmd_loss": "_losses", "mmd_loss": "_losses",
    "mcc_loss": "_losses", "contrastive_domain_discrepancy": "_losses",
    "spectral_alignment_loss": "_losses", "transport_plan": "_losses",
    "DANClassifier": "_methods", "DANRegressor": "_methods",
    "DANNClassifier": "_methods", "DANNRegressor": "_methods",
    "DeepCORALClassifier": "_methods", "DeepCORALRegressor": "_methods",
    "JANClassifier": "_methods", "MCCClassifier": "_methods",
    "SourceOnlyClassifier": "_methods", "SourceOnlyRegressor": "_methods",
    "TargetOnlyClassifier": "_methods", "TargetOnlyRegressor": "_methods",
    "CDANClassifier": "_adversarial", "MDDClassifier": "_adversarial",
    "ADDAClassifier": "_adversarial", "ADDARegressor": "_adversarial",
    "WDGRLClassifier": "_adversarial", "WDGRLRegressor": "_adversarial",
    "MCDClassifier": "_discrepancy", "MCDRegressor": "_discrepancy",
    "CANClassifier": "_discrepancy", "ClassAwareBatchSampler": "_discrepancy",
    "SPAClassifier": "_graph", "GLoMoTransformer": "_graph", "GLoMoClassifier": "_graph",
    "GraphPredictor": "_graph",
    "DeepJDOTClassifier": "_ot", "DeepJDOTRegressor": "_ot",
    "CCSAClassifier": "_siamese", "contrastive_pair_loss": "_siamese",
    "DDTLClassifier": "_distant",
    "SANClassifier": "_partial", "IWANClassifier": "_partial",
    "WANNClassifier": "_weighting", "WANNRegressor": "_weighting",
    "DomainDiscriminator": "_modules", "GradientReversal": "_modules", "MLPModule": "_modules",
    "MultilinearMap": "_modules",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
