"""Domain-aware cross-validation."""

from ._split import SourceTargetShuffleSplit

__all__ = ["SourceTargetShuffleSplit"]
