"""sktl: transfer learning and domain adaptation for scikit-learn.

Every estimator takes the rows of all domains in one ``X`` with a
``sample_domain`` array (positive = source, negative = target; skada's
convention) and fits into ``Pipeline``/``GridSearchCV``. Importing ``sktl`` is
cheap: estimators load on first use, and torch only with ``sktl.deep``.
"""

import importlib

__version__ = "0.1.0"

# public name -> private module that defines it
_LAZY = {
    "CORAL": "._feature",
    "DiscriminativeReweighter": "._instance",
    "FEDA": "._augment",
    "KMM": "._kmm",
    "MMDFeatureSelector": "._feature",
    "MMDTarS": "._kmm",
    "KLIEP": "._density_ratio",
    "ULSIF": "._density_ratio",
    "RULSIF": "._density_ratio",
    "NearestNeighborReweighter": "._density_ratio",
    "KernelDensityReweighter": "._density_ratio",
    "GaussianReweighter": "._density_ratio",
    "LDM": "._instance",
    "BalancedWeighting": "._instance",
    "MSDA": "._msda",
    "LabelledOnly": "._base",
    "LabelShiftClassifier": "._label_shift",
    "LinInt": "._parameter",
    "PRED": "._parameter",
    "RegularTransferGP": "._parameter",
    "RegularTransferLC": "._parameter",
    "RegularTransferLR": "._parameter",
    "TCA": "._feature",
    "JDA": "._feature",
    "SubspaceAlignment": "._feature",
    "CORALEstimator": "._feature",
    "TrAdaBoostClassifier": "._boosting",
    "TransferForestClassifier": "._tree",
    "TransferTreeClassifier": "._tree",
    "TrAdaBoostR2": "._boosting",
    "TwoStageTrAdaBoostR2": "._boosting",
    "estimate_label_shift": "._label_shift",
    "OTMapping": "._ot",
    "EntropicOTMapping": "._ot",
    "ClassRegularizedOTMapping": "._ot",
    "LinearOTMapping": "._ot",
    "MultiLinearMongeAlignment": "._ot",
    "MMDLSConSMapping": "._ot",
    "JDOTClassifier": "._ot",
    "JDOTRegressor": "._ot",
    "OTLabelPropagation": "._ot",
    "JCPOT": "._ot",
    "TJM": "._subspace",
    "TSL": "._subspace",
    "DASVMClassifier": "._dasvm",
    "make_da_pipeline": ".pipeline",
    "source_domain_weights": "._multisource",
    "source_target_merge": ".utils._domain",
    "source_target_split": ".utils._domain",
}
_SUBMODULES = ["conformal", "datasets", "exceptions", "metrics", "model_selection", "pipeline",
               "utils"]

__all__ = sorted(_LAZY) + _SUBMODULES


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES or name == "deep":
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'sktl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
