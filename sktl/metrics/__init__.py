"""Scorers and diagnostics for domain adaptation."""

from ._scorer import PredictionEntropyScorer, SupervisedScorer

__all__ = ["PredictionEntropyScorer", "SupervisedScorer"]
