"""Partial domain adaptation: the target's classes are a subset of the source's.

SAN weighs one discriminator per class by the predicted class probabilities
(one joint step behind a gradient reversal); IWAN weighs the source rows by
a first discriminator and plays ADDA's alternating game with a second,
weighted one. Both add the target predictions' entropy.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._adversarial import _ADDA
from ._base import DomainAdaptationClassifierMixin, DomainAdaptationNet, Phase
from ._doc import _HEAD, net_doc
from ._losses import entropy
from ._modules import DomainDiscriminator, GradientReversal, get_layer


def check_entropy_weight(net):
    """``entropy_weight`` must be a non-negative number."""
    w = net.entropy_weight
    if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)) \
            or not w >= 0:
        raise ValueError(f"entropy_weight must be a non-negative number; got {w!r}.")


class ClassDiscriminators(nn.Module):
    """``n_classes`` small domain discriminators evaluated together.

    Each is an MLP ``n_features -> hidden_units -> 1`` (ReLU) of its own; the
    forward pass returns the ``(n, n_classes)`` logits of every
    discriminator on every row, behind a gradient reversal of ``scale``
    (none when ``scale`` is None).

    Parameters
    ----------
    n_features : int
        Width of the features.
    n_classes : int
        Number of discriminators.
    hidden_units : int, default=64
        Width of each discriminator's hidden layer.
    """

    def __init__(self, n_features, n_classes, hidden_units=64):
        super().__init__()
        bound1, bound2 = 1 / np.sqrt(n_features), 1 / np.sqrt(hidden_units)
        self.w1 = nn.Parameter(torch.empty(n_classes, n_features, hidden_units)
                               .uniform_(-bound1, bound1))
        self.b1 = nn.Parameter(torch.empty(n_classes, hidden_units).uniform_(-bound1, bound1))
        self.w2 = nn.Parameter(torch.empty(n_classes, hidden_units).uniform_(-bound2, bound2))
        self.b2 = nn.Parameter(torch.empty(n_classes).uniform_(-bound2, bound2))

    def forward(self, z, scale=1.0):
        if scale is not None:
            z = GradientReversal.apply(z, scale)
        h = torch.relu(torch.einsum("nd,kdh->nkh", z, self.w1) + self.b1)
        return torch.einsum("nkh,kh->nk", h, self.w2) + self.b2


_ENTROPY = """
    entropy_weight : float, default={value}
        Weight of the mean entropy of the target rows' predictions (ramped
        in like the adversarial loss when ``warmup``); 0 turns it off."""


class SANClassifier(DomainAdaptationClassifierMixin, DomainAdaptationNet):
    __doc__ = net_doc(
        """Selective adversarial network: one domain discriminator per source class.

    Partial domain adaptation, where the target holds only some of the
    source's classes (Cao, Long, Wang & Jordan, 2018). One discriminator per
    class tells source from target activations of the last adapted layer,
    behind a gradient reversal as in DANN. Every row enters discriminator
    ``k`` with the weight ``p_k(x)`` of its predicted class probability
    (instance-level selection), and discriminator ``k`` is weighted by the
    class weight ``gamma_k``, the mean predicted probability of class ``k``
    over all target rows (recomputed at the start of every epoch and scaled
    so that the largest is 1; class-level selection). Source classes absent
    from the target thus get small weights and their rows are not pulled
    towards target rows, the negative transfer that makes DANN fail on
    partial problems. The entropy of the target predictions is minimised
    too, which sharpens the probabilities the selection relies on.""",
        """
    discriminator_hidden : int, default=64
        Width of each class discriminator's hidden layer.""" + _ENTROPY.format(value="1.0")
        + """
    class_weighting : bool, default=True
        Weigh the discriminators by ``gamma`` (False: instance-level
        selection only).""", """
    discriminators_ : ClassDiscriminators
        The trained class-wise discriminators.
    class_weights_ : ndarray of shape (n_classes,)
        The class weights ``gamma`` of the last epoch (in the order of
        ``classes_``): classes missing from the target get small weights.""",
        """    References
    ----------
    .. [1] Z. Cao, M. Long, J. Wang and M. I. Jordan. "Partial Transfer
       Learning with Selective Adversarial Networks". CVPR 2018.""",
        """    Examples
    --------
    >>> import numpy as np
    >>> from sktl.deep import SANClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(90, 90, n_classes=3, random_state=0)
    >>> keep = (sd > 0) | (y < 2)                 # the target lacks class 2
    >>> X, y, sd = X[keep], np.where(sd[keep] > 0, y[keep], -1), sd[keep]
    >>> net = SANClassifier(max_epochs=2, random_state=0).fit(X, y, sample_domain=sd)
    >>> net.class_weights_.shape
    (3,)""", last=" (the discriminators read the last one)")
    _weight_domain_loss = False

    def __init__(self, module=None, *, discriminator_hidden=64, entropy_weight=1.0,
                 class_weighting=True, **kwargs):
        super().__init__(module, **kwargs)
        self.discriminator_hidden = discriminator_hidden
        self.entropy_weight = entropy_weight
        self.class_weighting = class_weighting

    def initialize_domain_components(self):
        check_entropy_weight(self)
        width = self._feature_dims()[self._last_layer()]
        self.discriminators_ = ClassDiscriminators(width, self.n_outputs_,
                                                   self.discriminator_hidden).to(self.device)
        self.class_weights_ = np.ones(self.n_outputs_)
        self._gamma_ = None

    _transient = DomainAdaptationNet._transient + ("_gamma_",)

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        data = getattr(self, "_train_tensors_", None)
        if data is None or not self.class_weighting:
            return
        target = data["sample_domain"] < 0
        if not target.any():
            return
        logits, _ = self._full_pass(data["X"][target])
        gamma = torch.softmax(logits, dim=1).mean(0)
        gamma = gamma / gamma.max().clamp(min=1e-12)
        self._gamma_ = gamma.to(self.device)
        self.class_weights_ = gamma.cpu().numpy().astype(float)

    def domain_loss(self, source, target, y_pred, src, tgt):
        layer = self._last_layer()
        z = torch.cat([source[layer], target[layer]])
        ns = len(source[layer])
        d = self._domain_labels(ns, len(z) - ns, z.device)
        p_target = torch.softmax(y_pred[tgt], dim=1)
        probs = torch.cat([torch.softmax(y_pred[src], dim=1), p_target]).detach().float()
        weights = probs if self._gamma_ is None else probs * self._gamma_[None, :]
        logits = self.discriminators_(z, scale=float(self.schedule()))
        bce = F.binary_cross_entropy_with_logits(
            logits, d[:, None].expand_as(logits), reduction="none")
        loss = (bce * weights).sum(1).mean()
        if self.entropy_weight:
            loss = loss + self.entropy_weight * self.ramp() * entropy(p_target.float()).mean()
        return loss


class IWANClassifier(DomainAdaptationClassifierMixin, _ADDA):
    __doc__ = net_doc(
        """Importance weighted adversarial nets: source rows weighted by how target-like they are.

    Partial domain adaptation in ADDA's setting (Zhang, Ding, Li &
    Ogunbona, 2018). The network is first trained on the labelled source
    rows for ``pretrain_epochs`` epochs and that encoder is frozen as the
    source encoder ``F_s``; the network's own encoder, initialised from it,
    becomes the target encoder ``F_t``. Each batch then runs three updates:

    1. a first discriminator ``D`` learns to tell ``F_s`` of source rows from
       ``F_t`` of target rows; it gives each source row the importance weight
       ``w = 1 - D(source | z)``, scaled to mean one over the batch, large
       for source rows that look like target rows, small for rows of classes
       the target lacks;
    2. a second discriminator ``D_0`` learns the same task with the source
       rows weighted by ``w`` (the weights carry no gradient);
    3. the target encoder and the head learn to fool ``D_0`` on the target
       rows (inverted labels, as in ADDA) while minimising the entropy of the
       target predictions; the head keeps fitting the labelled source rows
       through the frozen source encoder.

    Aligning with the weighted source only, the target features are not
    pulled towards the classes it does not have. The adapted network
    predicts every row; ``reg`` and ``warmup`` scale and ramp the
    adversarial loss of step 3.""", _HEAD + """
    pretrain_epochs : int, default=10
        Epochs (out of ``max_epochs``) training the whole network on the
        labelled source rows before the adaptation.
    discriminator_hidden : int, default=64
        Width of the hidden layer of both discriminators.
    adapt_lr_scale : float, default=0.2
        Learning rate of the adaptation phase relative to ``lr``.""" + _ENTROPY.format(
            value="0.1"), """
    source_encoder_ : nn.Module
        The frozen copy of the network after pretraining.
    weighting_discriminator_ : nn.Module
        The first discriminator, which gives the importance weights.
    discriminator_ : nn.Module
        The second, weighted discriminator.""", """    References
    ----------
    .. [1] J. Zhang, Z. Ding, W. Li and P. Ogunbona. "Importance Weighted
       Adversarial Nets for Partial Domain Adaptation". CVPR 2018.""",
        """    Examples
    --------
    >>> import numpy as np
    >>> from sktl.deep import IWANClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(90, 90, n_classes=3, random_state=0)
    >>> keep = (sd > 0) | (y < 2)                 # the target lacks class 2
    >>> X, y, sd = X[keep], np.where(sd[keep] > 0, y[keep], -1), sd[keep]
    >>> net = IWANClassifier(max_epochs=3, pretrain_epochs=1, random_state=0)
    >>> net.fit(X, y, sample_domain=sd).predict_weights(X[sd > 0]).shape
    (90,)""", last=" (the discriminators read the last one)")
    phases = (Phase("weighting_loss", ("weighting",)),
              Phase("discriminator_loss", ("discriminator",)),
              Phase("encoder_loss", ("adapted",)))

    def __init__(self, module=None, *, head="head", pretrain_epochs=10, discriminator_hidden=64,
                 adapt_lr_scale=0.2, entropy_weight=0.1, **kwargs):
        super().__init__(module, head=head, pretrain_epochs=pretrain_epochs,
                         discriminator_hidden=discriminator_hidden,
                         adapt_lr_scale=adapt_lr_scale, **kwargs)
        self.entropy_weight = entropy_weight

    def initialize_domain_components(self):
        check_entropy_weight(self)
        super().initialize_domain_components()
        width = self._feature_dims()[self._last_layer()]
        self.weighting_discriminator_ = DomainDiscriminator(
            width, self.discriminator_hidden).to(self.device)

    def players(self):
        encoder, head = self._head_split(self.head)
        return {"model": encoder + head, "adapted": encoder + head,
                "weighting": list(self.weighting_discriminator_.parameters()),
                "discriminator": list(self.discriminator_.parameters())}

    def _features(self, batch):
        """``F_s`` of the batch's source rows and ``F_t`` of its target rows (no gradient)."""
        if "features" not in self._step_cache_:
            Xi, _ = batch
            src, tgt, _, _ = self._split(Xi)
            layer = self._last_layer()
            x = Xi["X"].to(self.device)
            with torch.no_grad():
                self.source_encoder_(x[src])
                zs = self._source_captured_[layer]
                self.module_(x[tgt])
                zt = self._captured_[layer]
            self._step_cache_["features"] = (zs, zt)
        return self._step_cache_["features"]

    def _importance(self, zs):
        """Importance weight of source features: ``P(target | z)`` of ``D``, mean one."""
        with torch.no_grad():
            w = torch.sigmoid(self.weighting_discriminator_(zs, scale=None))
        return w / w.mean().clamp(min=1e-12)

    def weighting_loss(self, batch, **fit_params):
        """Step 1: ``D`` tells source (0) from target (1) features."""
        zs, zt = self._features(batch)
        logits = self.weighting_discriminator_(torch.cat([zs, zt]), scale=None)
        return {"loss": F.binary_cross_entropy_with_logits(
            logits, self._domain_labels(len(zs), len(zt), logits.device))}

    def discriminator_loss(self, batch, **fit_params):
        """Step 2: ``D_0`` on the same task, the source rows weighted by ``D``."""
        zs, zt = self._features(batch)
        logits = self.discriminator_(torch.cat([zs, zt]), scale=None)
        bce = F.binary_cross_entropy_with_logits(
            logits, self._domain_labels(len(zs), len(zt), logits.device), reduction="none")
        w = torch.cat([self._importance(zs), torch.ones(len(zt), device=bce.device)])
        return {"loss": (w * bce).mean()}

    def encoder_loss(self, batch, **fit_params):
        """Step 3: the target encoder fools ``D_0``; entropy and the source fit for the head."""
        Xi, yi = batch
        src, tgt, _, _ = self._split(Xi)
        x = Xi["X"].to(self.device)
        y_pred = self.module_(x[tgt])
        logits = self.discriminator_(self._captured_[self._last_layer()], scale=None)
        loss = self.schedule() * F.binary_cross_entropy_with_logits(
            logits, torch.zeros_like(logits))
        if self.entropy_weight:
            loss = loss + self.entropy_weight * self.ramp() * \
                entropy(torch.softmax(y_pred.float(), dim=1)).mean()
        with torch.no_grad():
            self.source_encoder_(x[src])
        head = get_layer(self.module_, self.head)
        source_pred = head(self._source_captured_[self._last_layer()])
        w = self.row_weight(Xi)
        loss = loss + self.task_loss(source_pred, yi[src].to(source_pred.device),
                                     None if w is None else w[src])
        return {"loss": loss, "y_pred": y_pred}

    def predict_weights(self, X):
        """Importance weight of each row as a source row (``1 - D(source | F_s(x))``).

        Not scaled to mean one: a value in (0, 1), large for rows that the
        first discriminator takes for target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        weights : ndarray of shape (n_samples,)
        """
        X = torch.as_tensor(self._check_X_predict(X), device=self.device)
        self.source_encoder_.eval()
        self.weighting_discriminator_.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(X), 1024):
                self.source_encoder_(X[i:i + 1024])
                z = self._source_captured_[self._last_layer()]
                out.append(torch.sigmoid(self.weighting_discriminator_(z, scale=None)))
        return torch.cat(out).float().cpu().numpy().astype(float)
