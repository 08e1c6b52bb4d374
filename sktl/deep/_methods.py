"""DAN, Deep CORAL, DANN and JAN: each is a domain loss in the shared loop."""

import torch
from torch import nn

from ._base import (
    DomainAdaptationClassifierMixin,
    DomainAdaptationNet,
    DomainAdaptationRegressorMixin,
)
from ._losses import coral_loss, joint_mmd_loss, mmd_loss
from ._modules import DomainDiscriminator

_COMMON_DOC = """
    Parameters
    ----------
    module : nn.Module class or instance, default=None
        The network; None uses :class:`~sktl.deep.MLPModule` (its
        ``n_features``/``n_outputs`` are set from the data; other arguments
        go through ``module__hidden_units`` etc.). Any module works: name the
        layers to adapt in ``adapt_layers``.
    reg : float, default=1.0
        Weight of the domain loss (skada's name for the trade-off).
    warmup : bool, default=True
        Ramp the weight from 0 to ``reg`` with ``2 / (1 + exp(-10 p)) - 1``,
        ``p`` the fraction of epochs done (Ganin et al., 2016).
    adapt_layers : str or tuple of str, default=("features",)
        Names of the layers whose activations are adapted.
    max_epochs, lr, batch_size, optimizer, criterion, train_split, callbacks, verbose
        As in skorch's ``NeuralNet`` (defaults: 50 epochs, Adam, lr 1e-3,
        batch 64 = 32 source + 32 target rows, no internal validation split,
        silent). Add ``skorch.callbacks.EarlyStopping(monitor="train_loss")``
        for early stopping, ``verbose=1`` for the per-epoch table.
    device : str, default="auto"
        "auto" trains on CUDA when available, else on the CPU.
    mixed_precision : bool, default=False
        bfloat16 autocast on CUDA.
    random_state : int or None, default=None
        Seeds torch and the domain batch sampler.

    Attributes
    ----------
    module_ : nn.Module
        The trained network.
    classes_ : ndarray
        Class labels (classifiers).
    history : skorch History
        Per-epoch training loss and timing.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of input features.
"""


class _DAN(DomainAdaptationNet):
    def __init__(self, module=None, *, kernel_mul=2.0, kernel_num=5, linear_mmd=False,
                 **kwargs):
        super().__init__(module, **kwargs)
        self.kernel_mul = kernel_mul
        self.kernel_num = kernel_num
        self.linear_mmd = linear_mmd

    def domain_loss(self, source, target, y_pred, src, tgt):
        return sum(mmd_loss(source[k], target[k], kernel_mul=self.kernel_mul,
                            kernel_num=self.kernel_num, linear=self.linear_mmd)
                   for k in source)


class DANClassifier(DomainAdaptationClassifierMixin, _DAN):
    __doc__ = """Deep adaptation network: multi-kernel MMD on the adapted layers.

    Each step draws source and target rows together and adds the
    multi-kernel MMD (a family of ``kernel_num`` Gaussian kernels whose
    bandwidths are ``kernel_mul`` powers around the batch's mean distance)
    between their activations to the classification loss on the labelled
    rows (Long, Cao, Wang & Jordan, 2015). ``linear_mmd=True`` uses the
    linear-time estimator.
""" + _COMMON_DOC + """
    References
    ----------
    .. [1] M. Long, Y. Cao, J. Wang and M. Jordan. "Learning Transferable
       Features with Deep Adaptation Networks". ICML 2015.

    Examples
    --------
    >>> from sktl.deep import DANClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, random_state=0, mask_target=True)
    >>> net = DANClassifier(max_epochs=2, random_state=0).fit(X, y, sample_domain=sd)
    >>> net.predict(X[:3]).shape
    (3,)
"""


class DANRegressor(DomainAdaptationRegressorMixin, _DAN):
    __doc__ = "DAN for regression (see :class:`DANClassifier`).\n" + _COMMON_DOC


class _DeepCORAL(DomainAdaptationNet):
    def domain_loss(self, source, target, y_pred, src, tgt):
        return sum(coral_loss(source[k], target[k]) for k in source)


class DeepCORALClassifier(DomainAdaptationClassifierMixin, _DeepCORAL):
    __doc__ = """Deep CORAL: align the covariances of the adapted layers.

    Adds ``||C_s - C_t||_F^2 / (4 d^2)`` between the source and target
    activations' covariances to the task loss (Sun & Saenko, 2016).
""" + _COMMON_DOC + """
    References
    ----------
    .. [1] B. Sun and K. Saenko. "Deep CORAL: Correlation Alignment for Deep
       Domain Adaptation". ECCV Workshops 2016.
"""


class DeepCORALRegressor(DomainAdaptationRegressorMixin, _DeepCORAL):
    __doc__ = "Deep CORAL for regression (see :class:`DeepCORALClassifier`).\n" + _COMMON_DOC


class _DANN(DomainAdaptationNet):
    _weight_domain_loss = False

    def __init__(self, module=None, *, discriminator_hidden=64, **kwargs):
        super().__init__(module, **kwargs)
        self.discriminator_hidden = discriminator_hidden

    def initialize_domain_components(self):
        layer = list(self._feature_dims())[-1]
        self.discriminator_ = DomainDiscriminator(self._feature_dims()[layer],
                                                  self.discriminator_hidden).to(self.device)

    def domain_loss(self, source, target, y_pred, src, tgt):
        layer = list(source)[-1]
        z = torch.cat([source[layer], target[layer]])
        d = torch.cat([torch.zeros(len(source[layer])), torch.ones(len(target[layer]))])
        # the reversal carries the weight: the discriminator learns at full
        # strength, the features get -schedule() times its gradient (Ganin et al.)
        logits = self.discriminator_(z, scale=float(self.schedule()))
        return nn.functional.binary_cross_entropy_with_logits(logits, d.to(logits.device))


class DANNClassifier(DomainAdaptationClassifierMixin, _DANN):
    __doc__ = """Domain-adversarial network: a discriminator behind a gradient reversal.

    A small discriminator learns to tell source from target activations of
    the last adapted layer; the gradient reversal layer makes the feature
    extractor learn to fool it, so the features become domain-invariant
    (Ganin et al., 2016). The discriminator's parameters join the optimizer.
""" + _COMMON_DOC + """
    discriminator_hidden : int, default=64
        Width of the discriminator's hidden layer.

    References
    ----------
    .. [1] Y. Ganin, E. Ustinova, H. Ajakan, P. Germain, H. Larochelle,
       F. Laviolette, M. Marchand and V. Lempitsky. "Domain-Adversarial
       Training of Neural Networks". JMLR 17, 2016.
"""


class DANNRegressor(DomainAdaptationRegressorMixin, _DANN):
    __doc__ = "DANN for regression (see :class:`DANNClassifier`).\n" + _COMMON_DOC


class JANClassifier(DomainAdaptationClassifierMixin, _DAN):
    __doc__ = """Joint adaptation network: joint MMD of features and predictions.

    Matches the joint distribution of the adapted activations and the softmax
    predictions with the product of their multi-kernel Gaussian kernels
    (Long, Zhu, Wang & Jordan, 2017).
""" + _COMMON_DOC + """
    References
    ----------
    .. [1] M. Long, H. Zhu, J. Wang and M. Jordan. "Deep Transfer Learning
       with Joint Adaptation Networks". ICML 2017.
"""

    def domain_loss(self, source, target, y_pred, src, tgt):
        probs = torch.softmax(y_pred, dim=1)
        return joint_mmd_loss([*source.values(), probs[src]], [*target.values(), probs[tgt]],
                              kernel_mul=self.kernel_mul, kernel_num=self.kernel_num)


class SourceOnlyClassifier(DomainAdaptationClassifierMixin, DomainAdaptationNet):
    __doc__ = """The same network and loop with no domain loss: the no-adaptation baseline.
""" + _COMMON_DOC


class SourceOnlyRegressor(DomainAdaptationRegressorMixin, DomainAdaptationNet):
    __doc__ = "No-adaptation baseline for regression.\n" + _COMMON_DOC
