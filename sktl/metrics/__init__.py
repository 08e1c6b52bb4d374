"""Scorers for model selection without target labels, and transfer diagnostics."""

from ._diagnostics import (
    coral_distance,
    mmd,
    mmd_test,
    negative_transfer_check,
    proxy_a_distance,
    rank_source_domains,
)
from ._mixval import MaNoScorer, MixValScorer, SoftNeighborhoodDensity
from ._scorer import (
    CircularValidation,
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    SupervisedScorer,
)
from ._shift import SHIFT_FAMILIES, ShiftDiagnosis, diagnose_shift

__all__ = [
    "CircularValidation",
    "DeepEmbeddedValidation",
    "ImportanceWeightedScorer",
    "MaNoScorer",
    "MixValScorer",
    "PredictionEntropyScorer",
    "SoftNeighborhoodDensity",
    "SupervisedScorer",
    "SHIFT_FAMILIES",
    "ShiftDiagnosis",
    "coral_distance",
    "diagnose_shift",
    "mmd",
    "mmd_test",
    "negative_transfer_check",
    "proxy_a_distance",
    "rank_source_domains",
]
