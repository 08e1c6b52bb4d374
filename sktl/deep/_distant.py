"""Distant domain transfer: selective learning through unlabelled intermediate domains.

DDTL trains an autoencoder on the source, intermediate and target rows
together, the classifier head sharing its code; instance weights, refreshed
at the start of every epoch, drop the source and intermediate rows that the
autoencoder reconstructs worst, a growing share as training goes on.
"""

import numpy as np
import torch
from torch import nn

from ._base import DomainAdaptationClassifierMixin, DomainAdaptationNet
from ._doc import net_doc
from ._losses import entropy
from ._partial import check_entropy_weight

#: roles of the training rows
_SOURCE, _INTERMEDIATE, _TARGET = 0, 1, 2


def check_intermediate_domains(codes, sample_domain, unlabelled):
    """Validate ``intermediate_domains`` against the rows of a fit.

    Parameters
    ----------
    codes : None or array-like of int
        The intermediate domains' codes.
    sample_domain : ndarray of int of shape (n_samples,)
    unlabelled : ndarray of bool of shape (n_samples,)

    Returns
    -------
    codes : ndarray of int
        The validated codes (empty when ``codes`` is None).
    """
    if codes is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(codes, (int, np.integer)) and not isinstance(codes, bool):
        codes = [codes]
    arr = np.asarray(codes)
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or len(arr) == 0:
        raise TypeError("intermediate_domains must be None or a non-empty list of integer "
                        f"sample_domain codes; got {codes!r}.")
    if len(np.unique(arr)) != len(arr):
        raise ValueError(f"intermediate_domains lists a code twice: {arr.tolist()}.")
    if (arr >= 0).any():
        raise ValueError(
            "intermediate_domains must hold negative sample_domain codes (their rows are "
            f"unlabelled; positive codes are the labelled source's); got {arr.tolist()}.")
    present = np.unique(sample_domain)
    missing = np.setdiff1d(arr, present)
    if len(missing):
        raise ValueError(
            f"intermediate domain {int(missing[0])} has no row in sample_domain (codes "
            f"present: {present.tolist()}); pass sample_domain with the intermediate rows' "
            "codes.")
    inter = np.isin(sample_domain, arr)
    if not unlabelled[inter].all():
        code = int(sample_domain[inter & ~unlabelled][0])
        raise ValueError(
            f"The rows of intermediate domain {code} carry labels; intermediate domains are "
            "unlabelled: mark their labels with -1.")
    if not ((sample_domain < 0) & ~inter).any():
        raise ValueError(
            "No target row is left once the intermediate domains "
            f"{arr.tolist()} are set aside: the target needs a negative code of its own.")
    return arr.astype(np.int64)


def selection_weights(errors, roles, drop):
    """0/1 weights keeping all but the ``drop`` share of worst-reconstructed rows per role.

    The source rows and the intermediate rows are ranked separately by their
    reconstruction error; target rows are always kept.

    Parameters
    ----------
    errors : Tensor of shape (n,)
    roles : Tensor of int of shape (n,)
        0 source, 1 intermediate, 2 target.
    drop : float
        Share of each of the source and intermediate groups to drop, in [0, 1).

    Returns
    -------
    weights : Tensor of shape (n,)
    """
    weights = torch.ones_like(errors)
    for role in (_SOURCE, _INTERMEDIATE):
        rows = torch.nonzero(roles == role).flatten()
        k = int(np.floor(drop * len(rows)))
        if k:
            worst = rows[torch.topk(errors[rows], k).indices]
            weights[worst] = 0.0
    return weights


class DDTLClassifier(DomainAdaptationClassifierMixin, DomainAdaptationNet):
    __doc__ = net_doc(
        """Distant domain transfer by selective learning through intermediate domains.

    When source and target are far apart, unlabelled rows of intermediate
    domains can bridge them (Tan, Zhang, Pan & Yang, 2017). The network's
    last adapted layer is the code of an autoencoder (a decoder
    ``decoder_`` maps it back to the input) trained on the source,
    intermediate and target rows together; the classification head shares
    that code. One joint loss per batch, as the paper's selective learning
    algorithm:

    * reconstruction (mean squared error, ``reg`` times: the weight of the
      autoencoder next to the classifier) averaged separately over
      the batch's source, intermediate and target rows, each source and
      intermediate row weighted by its selection weight ``v`` in {0, 1};
    * cross-entropy on the labelled rows, the source rows weighted by ``v``
      (labelled target rows, if any, always count);
    * ``entropy_weight`` times the entropy of the predictions on the
      selected intermediate rows and on the unlabelled target rows (the
      paper's side information on the intermediate domains; the target
      rows join it here because sktl's target is usually unlabelled).

    At the start of every epoch the reconstruction error of every row is
    measured and the worst ``drop`` share of the source rows, and
    separately of the intermediate rows, get ``v = 0`` (the paper's
    thresholds on the reconstruction error, as a share so that it does not
    depend on the features' scale); ``drop`` grows linearly from 0 to
    ``drop_rate`` over the first ``drop_ramp`` share of the epochs, so rows
    unlike the target are dropped gradually and the autoencoder, fitted
    more and more to the rows that remain, drifts towards the target.

    **Encoding of the domains.** Intermediate rows carry negative
    ``sample_domain`` codes of their own, listed in
    ``intermediate_domains``, and their labels must be -1: they are
    unlabelled (for example source 1, target -2, intermediate domains -3,
    -4, -5, as :func:`~sktl.datasets.make_distant_shift` returns them).
    Every positive code is source, every other negative code is target.
    Negative codes keep sktl's convention (positive rows are labelled
    source rows): any other estimator fitted on the same rows takes the
    intermediate rows for unlabelled target rows. In each batch the
    intermediate rows share the target's half.""", """
    intermediate_domains : int, list of int or None, default=None
        The negative ``sample_domain`` codes of the intermediate domains
        (None: none; the source rows are still selected).
    drop_rate : float, default=0.5
        Final share of the source rows, and of the intermediate rows,
        dropped (weight 0), in [0, 1).
    drop_ramp : float, default=0.5
        Share of ``max_epochs`` over which the dropped share grows from 0 to
        ``drop_rate``, in (0, 1].
    entropy_weight : float, default=0.1
        Weight of the prediction entropy on the selected intermediate rows
        and on the unlabelled target rows (ramped in when ``warmup``).
    decoder_hidden : int, default=64
        Width of the decoder's hidden layer.""", """
    decoder_ : nn.Module
        The decoder from the last adapted layer back to the input.
    intermediate_domains_ : ndarray of int
        The validated intermediate codes.
    selection_weights_ : ndarray of shape (n_samples,)
        The selection weight ``v`` of every row of ``fit`` in the last
        epoch (1 for target rows): 0 for the dropped rows.
    reconstruction_errors_ : ndarray of shape (n_samples,)
        Each row's mean squared reconstruction error measured at the start
        of the last epoch (that selected the rows).""", """    References
    ----------
    .. [1] B. Tan, Y. Zhang, S. J. Pan and Q. Yang. "Distant Domain Transfer
       Learning". AAAI 2017.""", """    Examples
    --------
    >>> from sktl.deep import DDTLClassifier
    >>> from sktl.datasets import make_distant_shift
    >>> X, y, sd = make_distant_shift(60, 60, n_intermediate_domains=2,
    ...                               n_samples_intermediate=30, mask_target=True,
    ...                               random_state=0)
    >>> net = DDTLClassifier(intermediate_domains=[-3, -4], max_epochs=3, random_state=0)
    >>> net.fit(X, y, sample_domain=sd).selection_weights_.shape
    (180,)""", reg="0.1", last=" (the autoencoder's code; the decoder reads the "
        "last one)")
    _weight_domain_loss = False

    def __init__(self, module=None, *, reg=0.1, intermediate_domains=None, drop_rate=0.5,
                 drop_ramp=0.5, entropy_weight=0.1, decoder_hidden=64, **kwargs):
        super().__init__(module, reg=reg, **kwargs)
        self.intermediate_domains = intermediate_domains
        self.drop_rate = drop_rate
        self.drop_ramp = drop_ramp
        self.entropy_weight = entropy_weight
        self.decoder_hidden = decoder_hidden

    _transient = DomainAdaptationNet._transient + ("_roles_", "_weights_")

    def _training_rows(self, unlabelled, sample_domain):
        check_entropy_weight(self)
        rate, ramp_ = self.drop_rate, self.drop_ramp
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)) \
                or not 0 <= rate < 1:
            raise ValueError(f"drop_rate must be a number in [0, 1); got {rate!r}.")
        if isinstance(ramp_, bool) or not isinstance(ramp_, (int, float, np.number)) \
                or not 0 < ramp_ <= 1:
            raise ValueError(f"drop_ramp must be a number in (0, 1]; got {ramp_!r}.")
        hidden = self.decoder_hidden
        if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or hidden < 1:
            raise ValueError(f"decoder_hidden must be a positive integer; got {hidden!r}.")
        self.intermediate_domains_ = check_intermediate_domains(
            self.intermediate_domains, sample_domain, unlabelled)
        return None

    def initialize_domain_components(self):
        width = self._feature_dims()[self._last_layer()]
        self.decoder_ = nn.Sequential(
            nn.Linear(width, self.decoder_hidden), nn.ReLU(),
            nn.Linear(self.decoder_hidden, int(np.prod(self.input_shape_)))).to(self.device)

    def drop_share(self, epochs_done):
        """Share of the source (and intermediate) rows dropped after ``epochs_done`` epochs."""
        span = self.drop_ramp * max(self.max_epochs, 1)
        return float(self.drop_rate * min(1.0, epochs_done / span))

    def _reconstruction_errors(self, X):
        _, z = self._full_pass(X)
        out = []
        with torch.no_grad():
            for i in range(0, len(X), 1024):
                x = X[i:i + 1024].to(z.device).flatten(1).float()
                out.append((self.decoder_(z[i:i + 1024]).float() - x).pow(2).mean(1))
        return torch.cat(out)

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        data = getattr(self, "_train_tensors_", None)
        if data is None:
            return
        sd = data["sample_domain"]
        roles = torch.full_like(sd, _TARGET)
        roles[sd > 0] = _SOURCE
        roles[torch.isin(sd, torch.as_tensor(self.intermediate_domains_,
                                             device=sd.device))] = _INTERMEDIATE
        self._roles_ = roles
        errors = self._reconstruction_errors(data["X"])
        weights = selection_weights(errors, roles.to(errors.device),
                                    self.drop_share(len(self.history) - 1))
        self._weights_ = weights
        self.selection_weights_ = weights.cpu().numpy().astype(float)
        self.reconstruction_errors_ = errors.cpu().numpy().astype(float)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not (training and isinstance(X, dict) and "index" in X) \
                or getattr(self, "_weights_", None) is None:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        index = X["index"].to(self._weights_.device)
        w = self._weights_[index].to(y_pred.device)
        roles = self._roles_[index.to(self._roles_.device)].to(y_pred.device)
        ce, labelled = self.sample_loss(y_pred, y_true.to(y_pred.device))
        row_weight = self.row_weight(X)  # source_weights: the source domains' factors
        if row_weight is not None:
            ce = ce * row_weight.to(device=ce.device, dtype=ce.dtype)
        loss = (w * ce).sum() / (w * labelled).sum().clamp(min=1)
        x = X["X"].to(y_pred.device).flatten(1).float()
        rec = (self.decoder_(self._captured_[self._last_layer()]).float() - x).pow(2).mean(1)
        for role in (_SOURCE, _INTERMEDIATE, _TARGET):
            rows = roles == role
            if rows.any():
                loss = loss + self.reg * (w[rows] * rec[rows]).sum() / rows.sum()
        unl = (~labelled) & (roles != _SOURCE)
        if self.entropy_weight and unl.any():
            h = entropy(torch.softmax(y_pred[unl].float(), dim=1))
            loss = loss + self.entropy_weight * self.ramp() * \
                (w[unl] * h).sum() / w[unl].sum().clamp(min=1)
        return loss
