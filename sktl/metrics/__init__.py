"""Scorers and diagnostics for domain adaptation."""

from ._diagnostics import (
    check_negative_transfer,
    coral_distance,
    mmd,
    proxy_a_distance,
    rank_source_domains,
)
from ._scorer import (
    CircularValidation,
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    SupervisedScorer,
)

__all__ = [
    "CircularValidation",
    "DeepEmbeddedValidation",
    "ImportanceWeightedScorer",
    "PredictionEntropyScorer",
    "SupervisedScorer",
    "check_negative_transfer",
    "coral_distance",
    "mmd",
    "proxy_a_distance",
    "rank_source_domains",
]
