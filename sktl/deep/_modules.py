"""Default network for tabular data, the methods' extra modules, and layer helpers."""

import copy
import math

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
    """Small MLP telling source (0) from target (1) features, behind a gradient reversal.

    ``scale=None`` skips the reversal (methods that alternate updates, and
    WDGRL's critic, which uses the same network).
    """

    def __init__(self, n_features, hidden_units=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden_units), nn.ReLU(),
                                 nn.Linear(hidden_units, 1))

    def forward(self, z, scale=1.0):
        if scale is not None:
            z = GradientReversal.apply(z, scale)
        return self.net(z).squeeze(-1)


class MultilinearMap(nn.Module):
    """CDAN's conditioning ``f (x) g`` of features ``f`` by predictions ``g``.

    The flattened outer product when it has at most ``max_dim`` entries,
    else the randomised map ``(R_f f) * (R_g g) / sqrt(max_dim)`` with fixed
    Gaussian matrices (Long et al., 2018).
    """

    def __init__(self, n_features, n_classes, max_dim=4096, generator=None):
        super().__init__()
        self.randomised = n_features * n_classes > max_dim
        self.out_features = max_dim if self.randomised else n_features * n_classes
        if self.randomised:
            self.register_buffer("rf", torch.randn(n_features, max_dim, generator=generator))
            self.register_buffer("rg", torch.randn(n_classes, max_dim, generator=generator))

    def forward(self, f, g):
        if self.randomised:
            return (f @ self.rf) * (g @ self.rg) / math.sqrt(self.out_features)
        return (g[:, :, None] * f[:, None, :]).flatten(1)


def fresh_copy(module):
    """A copy of ``module`` (same architecture) with newly initialised parameters."""
    new = copy.deepcopy(module)
    for sub in new.modules():
        sub._forward_hooks.clear()
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    return new
