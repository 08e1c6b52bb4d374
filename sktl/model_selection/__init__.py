"""Domain-aware cross-validation."""

from ._masking import MaskTargetLabels
from ._split import LeaveOneDomainOut, SourceTargetShuffleSplit, StratifiedSourceTargetShuffleSplit

__all__ = [
    "LeaveOneDomainOut",
    "MaskTargetLabels",
    "SourceTargetShuffleSplit",
    "StratifiedSourceTargetShuffleSplit",
]
