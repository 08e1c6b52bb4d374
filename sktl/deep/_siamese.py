"""CCSA: Siamese alignment of source rows with a few labelled target rows."""

import torch

from ._base import DomainAdaptationClassifierMixin, DomainAdaptationNet
from ._doc import net_doc


def contrastive_pair_loss(source, target, y_source, y_target, *, margin=1.0,
                          negative_ratio=3, generator=None):
    """CCSA's semantic alignment and separation losses over source-target pairs.

    Same-class pairs are pulled together (``d^2 / 2``), different-class pairs
    pushed apart until they are ``margin`` away (``max(0, margin - d)^2 / 2``),
    ``d`` the Euclidean distance; each term is the mean over its pairs.

    Parameters
    ----------
    source, target : Tensor of shape (n_s, d), (n_t, d)
        Embeddings.
    y_source, y_target : Tensor of shape (n_s,), (n_t,)
        Their classes.
    margin : float, default=1.0
        The separation margin ``m``.
    negative_ratio : float or None, default=3
        Different-class pairs drawn at random per same-class pair (the
        paper's 1:3); None uses every pair.
    generator : torch.Generator, default=None
        Randomness of the drawn pairs.

    Returns
    -------
    loss : Tensor
        Alignment plus separation (0 for a term without pairs).
    """
    d = torch.cdist(source, target)
    same = y_source[:, None] == y_target[None, :]
    zero = d.sum() * 0.0
    align = (0.5 * d[same].pow(2)).mean() if same.any() else zero
    far = (0.5 * torch.clamp(margin - d[~same], min=0).pow(2))
    if negative_ratio is not None and len(far):
        k = min(len(far), max(1, int(round(negative_ratio * int(same.sum())))))
        pick = torch.randperm(len(far), generator=generator)[:k].to(far.device)
        far = far[pick]
    return align + (far.mean() if len(far) else zero)


class CCSAClassifier(DomainAdaptationClassifierMixin, DomainAdaptationNet):
    __doc__ = net_doc(
        """Classification and contrastive semantic alignment: Siamese few-shot transfer.

    Supervised adaptation with a few labelled target rows, even one per
    class (Motiian, Piccirilli, Adjeroh & Doretto, 2017). Training uses the
    labelled rows only: every batch pairs labelled source rows with the
    labelled target rows (recycled, since there are few). Next to the
    classification loss on all of them, the embedding (the last adapted
    layer, unit-normalised by default) of each source-target pair of the
    same class is pulled together (semantic alignment, ``d^2 / 2``) and of
    different classes pushed at least ``margin`` apart (separation,
    ``max(0, margin - d)^2 / 2``), with ``negative_ratio`` different-class
    pairs drawn per same-class pair. The paper weighs classification and
    the Siamese terms ``1 - alpha`` and ``alpha`` with ``alpha = 0.25``:
    the default ``reg`` is their ratio, 1/3. Unlabelled target rows are
    ignored.""", """
    margin : float, default=1.0
        Distance beyond which different-class pairs cost nothing.
    negative_ratio : float or None, default=3
        Different-class pairs per same-class pair, drawn at random in every
        batch (the paper's 1:3); None uses every different-class pair.
    normalize : bool, default=True
        Measure distances between unit-normalised embeddings, so that
        ``margin`` does not depend on the layer's scale (the paper uses the
        raw embedding; set False for it).""", references="""    References
    ----------
    .. [1] S. Motiian, M. Piccirilli, D. A. Adjeroh and G. Doretto. "Unified
       Deep Supervised Domain Adaptation and Generalization". ICCV 2017.""",
        examples="""    Examples
    --------
    >>> import numpy as np
    >>> from sktl.deep import CCSAClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, shift="conditional", random_state=0)
    >>> y_few = np.where((sd < 0) & (np.arange(len(y)) >= 66), -1, y)  # 6 target labels
    >>> net = CCSAClassifier(max_epochs=2, random_state=0).fit(X, y_few, sample_domain=sd)
    >>> net.predict(X[:3]).shape
    (3,)""", reg="1/3", last=" (the pairs compare the last one)")

    def __init__(self, module=None, *, reg=1 / 3, margin=1.0, negative_ratio=3,
                 normalize=True, **kwargs):
        super().__init__(module, reg=reg, **kwargs)
        self.margin = margin
        self.negative_ratio = negative_ratio
        self.normalize = normalize

    def _training_rows(self, unlabelled, sample_domain):
        if not ((sample_domain < 0) & ~unlabelled).any():
            raise ValueError(f"{type(self).__name__} needs labelled target rows (negative "
                             "sample_domain with a real label) to pair with the source.")
        if not (self.margin >= 0):
            raise ValueError(f"margin must be a non-negative number; got {self.margin!r}.")
        ratio = self.negative_ratio
        if ratio is not None and (isinstance(ratio, bool) or not ratio > 0):
            raise ValueError(f"negative_ratio must be a positive number or None; got "
                             f"{ratio!r}.")
        return ~unlabelled

    def domain_loss(self, source, target, y_pred, src, tgt):
        y = self._train_tensors_["y"][self._batch_index_.to(self._train_tensors_["y"].device)]
        layer = self._last_layer()
        zs, zt = source[layer], target[layer]
        if self.normalize:
            zs, zt = torch.nn.functional.normalize(zs, dim=1), \
                torch.nn.functional.normalize(zt, dim=1)
        y = y.to(zs.device)
        return contrastive_pair_loss(zs, zt, y[src], y[tgt], margin=self.margin,
                                     negative_ratio=self.negative_ratio,
                                     generator=self._generator_)
