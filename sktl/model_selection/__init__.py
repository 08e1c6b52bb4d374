"""Domain-aware cross-validation and the label-free decision whether and how to adapt."""

from ._candidates import default_candidates, no_adaptation
from ._decision import decide
from ._search import AdaptationSearchCV
from ._split import (
    LeaveOneDomainOut,
    SourceKFold,
    SourceTargetShuffleSplit,
    UnlabelledTargetTraining,
)

__all__ = ["AdaptationSearchCV", "LeaveOneDomainOut", "SourceKFold", "SourceTargetShuffleSplit",
           "UnlabelledTargetTraining", "decide", "default_candidates", "no_adaptation"]
