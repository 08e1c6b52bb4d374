"""Deep domain adaptation with skorch (imports torch).

Every net takes the same ``X, y, sample_domain`` as sktl's classical
estimators and is a scikit-learn estimator: it fits in ``Pipeline`` and
``GridSearchCV``, clones and pickles. DAN, Deep CORAL, DANN and JAN share one
training loop and differ only by their domain loss.
"""

from ._base import DomainAdaptationNet, DomainBatchSampler, resolve_device
from ._finetune import FineTuningClassifier, FineTuningRegressor
from ._losses import coral_loss, joint_mmd_loss, mmd_loss
from ._methods import (
    DANClassifier,
    DANNClassifier,
    DANNRegressor,
    DANRegressor,
    DeepCORALClassifier,
    DeepCORALRegressor,
    JANClassifier,
    SourceOnlyClassifier,
    SourceOnlyRegressor,
)
from ._modules import DomainDiscriminator, GradientReversal, MLPModule

__all__ = [
    "DANClassifier",
    "DANNClassifier",
    "DANNRegressor",
    "DANRegressor",
    "DeepCORALClassifier",
    "DeepCORALRegressor",
    "DomainAdaptationNet",
    "DomainBatchSampler",
    "DomainDiscriminator",
    "FineTuningClassifier",
    "FineTuningRegressor",
    "GradientReversal",
    "JANClassifier",
    "MLPModule",
    "SourceOnlyClassifier",
    "SourceOnlyRegressor",
    "coral_loss",
    "joint_mmd_loss",
    "mmd_loss",
    "resolve_device",
]
