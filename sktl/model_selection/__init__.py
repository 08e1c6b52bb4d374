"""Domain-aware cross-validation."""

from ._split import LeaveOneDomainOut, SourceTargetShuffleSplit, UnlabelledTargetTraining

__all__ = ["LeaveOneDomainOut", "SourceTargetShuffleSplit", "UnlabelledTargetTraining"]
