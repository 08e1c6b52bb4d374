"""SPA: DANN plus graph spectral alignment and neighbour-aware pseudo-labels."""

import torch
from torch.nn import functional as F

from ._base import DomainAdaptationClassifierMixin
from ._doc import example, net_doc
from ._losses import spectral_alignment_loss
from ._methods import _DANN


class SPAClassifier(DomainAdaptationClassifierMixin, _DANN):
    __doc__ = net_doc(
        """Graph spectral alignment: align the spectra of the domains' batch graphs.

    Three terms join the task loss (Xiao, Tang, Wang, Liu & Ji, 2023): the
    adversarial loss of DANN; ``reg_spectral`` times the distance between
    the eigenvalues of the normalised Laplacians of the source and target
    batch graphs (Gaussian affinities of the last adapted layer), which
    aligns the domains' structures rather than their points; and
    ``reg_nap`` times a neighbour-aware propagation loss, ramped in with
    training, that pseudo-labels each target row by the mean prediction of
    its ``n_neighbors`` nearest target rows (cosine similarity) in a memory
    bank of the latest features and predictions, weighted by the vote's
    confidence. The bank is filled by a pass over the target rows at the
    start of training and refreshed with every batch.""", """
    discriminator_hidden : int, default=64
        Width of the discriminator's hidden layer.
    reg_spectral : float, default=1.0
        Weight of the spectral alignment loss.
    reg_nap : float, default=1.0
        Final weight of the pseudo-label loss (ramped linearly over the epochs).
    n_neighbors : int, default=5
        Neighbours voting on each target row's pseudo-label.""", """
    discriminator_ : nn.Module
        The trained domain discriminator.""", """    References
    ----------
    .. [1] Z. Xiao, H. Tang, Z. Wang, C. Liu and X. Ji. "SPA: A Graph Spectral
       Alignment Perspective for Domain Adaptation". NeurIPS 2023.""",
        example("SPAClassifier"), last=" (the graphs, the bank and the "
        "discriminator use the last one)")

    def __init__(self, module=None, *, discriminator_hidden=64, reg_spectral=1.0, reg_nap=1.0,
                 n_neighbors=5, **kwargs):
        super().__init__(module, discriminator_hidden=discriminator_hidden, **kwargs)
        self.reg_spectral = reg_spectral
        self.reg_nap = reg_nap
        self.n_neighbors = n_neighbors

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        data = getattr(self, "_train_tensors_", None)
        if data is not None and getattr(self, "_bank_", None) is None:
            target = data["sample_domain"] < 0
            logits, z = self._full_pass(data["X"][target])
            slot = torch.full((len(target),), -1, dtype=torch.long, device=target.device)
            slot[target] = torch.arange(int(target.sum()), device=target.device)
            self._bank_ = {"slot": slot, "features": F.normalize(z, dim=1),
                           "probs": torch.softmax(logits, dim=1)}

    _transient = _DANN._transient + ("_bank_",)

    def _nap_loss(self, z, logits, rows):
        bank = self._bank_
        slot = bank["slot"][rows.to(bank["slot"].device)].to(z.device)
        f = F.normalize(z.detach(), dim=1)
        feats, probs = bank["features"].to(z.device), bank["probs"].to(z.device)
        sim = f @ feats.T
        sim[torch.arange(len(f), device=z.device), slot] = -torch.inf  # not its own neighbour
        k = min(self.n_neighbors, feats.shape[0] - 1)
        if k < 1:
            return None
        votes = probs[sim.topk(k, dim=1).indices].mean(1)
        weight, pseudo = votes.max(1)
        loss = (weight * F.cross_entropy(logits, pseudo, reduction="none")).sum() / \
            weight.sum().clamp(min=1e-8)
        bank["features"][slot] = f.to(bank["features"].device)
        bank["probs"][slot] = torch.softmax(logits.detach(), dim=1).to(bank["probs"].device)
        return loss

    def domain_loss(self, source, target, y_pred, src, tgt):
        loss = super().domain_loss(source, target, y_pred, src, tgt)
        layer = self._last_layer()
        if self.reg_spectral:
            loss = loss + self.reg_spectral * spectral_alignment_loss(source[layer],
                                                                       target[layer])
        if self.reg_nap and getattr(self, "_bank_", None) is not None:
            progress = max(len(self.history) - 1, 0) / max(self.max_epochs, 1)
            nap = self._nap_loss(target[layer], y_pred[tgt], self._batch_index_[tgt])
            if nap is not None:
                loss = loss + self.reg_nap * progress * nap
        return loss
