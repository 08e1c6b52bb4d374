"""Domain-aware cross-validation."""

from ._split import LeaveOneDomainOut, SourceTargetShuffleSplit

__all__ = ["LeaveOneDomainOut", "SourceTargetShuffleSplit"]
