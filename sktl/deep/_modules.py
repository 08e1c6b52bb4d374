"""Default network for tabular data, and helpers to reach layers by name."""

import torch
from torch import nn


class MLPModule(nn.Module):
    """A multi-layer perceptron: ``features`` (the backbone) then ``head``.

    Parameters
    ----------
    n_features : int
        Input dimension (set from ``X`` by sktl's nets).
    n_outputs : int
        Classes (classification) or 1 (regression); set from ``y``.
    hidden_units : tuple of int, default=(64, 64)
        Width of each hidden layer of the backbone.
    dropout : float, default=0.1
        Dropout after each hidden layer.
    """

    def __init__(self, n_features, n_outputs, hidden_units=(64, 64), dropout=0.1):
        super().__init__()
        layers, width = [], n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_outputs)

    def forward(self, X):
        return self.head(self.features(X))


def get_layer(module, name):
    """The sub-module of ``module`` called ``name`` (dotted path), with a clear error."""
    named = dict(module.named_modules())
    if name not in named:
        options = [n for n in named if n][:20]
        raise ValueError(f"The module has no layer named {name!r}; layers include {options}.")
    return named[name]


class GradientReversal(torch.autograd.Function):
    """Identity forward, gradient times ``-scale`` backward (Ganin et al., 2016)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


class DomainDiscriminator(nn.Module):
    """Small MLP telling source (0) from target (1) features, behind a gradient reversal."""

    def __init__(self, n_features, hidden_units=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden_units), nn.ReLU(),
                                 nn.Linear(hidden_units, 1))

    def forward(self, z, scale=1.0):
        return self.net(GradientReversal.apply(z, scale)).squeeze(-1)
