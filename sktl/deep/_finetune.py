"""Model-based transfer: fine-tune a pretrained network on the target's few labels."""

import numpy as np
import torch
from torch import nn

from ..utils._domain import check_y_domain, unlabelled_mask
from ._base import (
    DomainAdaptationClassifierMixin,
    DomainAdaptationNet,
    DomainAdaptationRegressorMixin,
)
from ._modules import get_layer


class _FineTuning(DomainAdaptationNet):
    def __init__(self, module=None, *, pretrained=None, pretrain_epochs=30, head="head",
                 freeze=None, unfreeze_every=None, backbone_lr_scale=1.0, **kwargs):
        super().__init__(module, **kwargs)
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.head = head
        self.freeze = freeze
        self.unfreeze_every = unfreeze_every
        self.backbone_lr_scale = backbone_lr_scale

    def _load_pretrained(self):
        state = self.pretrained
        if state is True:  # ``module`` is an already trained instance
            return
        if isinstance(state, (str, bytes)) or hasattr(state, "__fspath__"):
            # weights only: never unpickle arbitrary objects from a file
            state = torch.load(state, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise TypeError("pretrained must be True (use the given module's weights), a "
                            "state_dict or a path to a state_dict file; got "
                            f"{type(self.pretrained).__name__}.")
        own = self.module_.state_dict()
        usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        if not usable:
            raise ValueError("No tensor of the pretrained state_dict matches the module "
                             "(names and shapes differ).")
        self.module_.load_state_dict(usable, strict=False)

    def _reset_head(self):
        """Replace the head by a fresh layer sized for this task's outputs."""
        old = get_layer(self.module_, self.head)
        if not isinstance(old, nn.Linear):
            raise TypeError(f"The head {self.head!r} must be an nn.Linear to be replaced.")
        new = nn.Linear(old.in_features, self.n_outputs_).to(self.device)
        parent_name, _, attr = self.head.rpartition(".")
        parent = get_layer(self.module_, parent_name) if parent_name else self.module_
        setattr(parent, attr, new)

    def _freeze_groups(self):
        """Backbone parameter groups, shallowest first (each is frozen or not as a unit)."""
        groups = []
        for name, child in self.module_.named_modules():
            if name and name != self.head and not name.startswith(self.head + ".") \
                    and list(child.parameters(recurse=False)):
                groups.append((name, list(child.parameters(recurse=False))))
        return groups

    def _apply_freeze(self):
        groups = self._freeze_groups()
        if self.freeze is None:
            frozen = []
        elif isinstance(self.freeze, (int, np.integer)):
            frozen = groups[: int(self.freeze)]
        else:
            names = [self.freeze] if isinstance(self.freeze, str) else list(self.freeze)
            known = {n for n, _ in groups}
            for n in names:
                if not any(g == n or g.startswith(n + ".") for g in known):
                    raise ValueError(f"freeze names {n!r}, which is no layer with parameters; "
                                     f"layers are {sorted(known)}.")
            frozen = [(g, p) for g, p in groups
                      if any(g == n or g.startswith(n + ".") for n in names)]
        for _, params in frozen:
            for p in params:
                p.requires_grad_(False)
        self.frozen_layers_ = [g for g, _ in frozen]

    def _build_optimizer(self):
        head = list(get_layer(self.module_, self.head).parameters())
        head_ids = {id(p) for p in head}
        backbone = [p for p in self.module_.parameters()
                    if id(p) not in head_ids and p.requires_grad]
        groups = [{"params": head, "lr": self.lr}]
        if backbone:
            groups.append({"params": backbone, "lr": self.lr * self.backbone_lr_scale})
        self.optimizer_ = self.optimizer(groups, lr=self.lr)

    def on_epoch_begin(self, net, **kwargs):
        """Gradual unfreezing: every ``unfreeze_every`` epochs, free the deepest frozen layer."""
        super().on_epoch_begin(net, **kwargs)
        phase = getattr(self, "_phase_", None)
        if phase != "finetune" or not self.unfreeze_every or not self.frozen_layers_:
            return
        epoch = len(self.history) - self._finetune_start_
        if epoch > 0 and epoch % self.unfreeze_every == 0:
            name = self.frozen_layers_.pop()
            params = dict(self._freeze_groups())[name]
            for p in params:
                p.requires_grad_(True)
            self.optimizer_.add_param_group({"params": params,
                                             "lr": self.lr * self.backbone_lr_scale})

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Pretrain (or load) the network, then fine-tune it on the labelled target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, -1 / NaN for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Positive for source rows, negative for target rows. The labelled
            source rows pretrain the network (unless ``pretrained`` is given);
            the labelled target rows fine-tune it.
        **fit_params : dict
            Passed to skorch's ``fit_loop``.

        Returns
        -------
        self : object
        """
        X = self._prepare_X(X, reset=True)
        y, sd = check_y_domain(y, sample_domain, len(X), task=self._task,
                               require_labelled_source=self.pretrained in (None, False))
        if y is None:
            raise ValueError(f"{type(self).__name__} needs y.")
        mask = unlabelled_mask(y, self._task)
        src, tgt = (sd > 0) & ~mask, (sd < 0) & ~mask
        if not (sd < 0).any():  # no domain information: the labelled rows are the target
            src, tgt = np.zeros_like(src), ~mask
        if not tgt.any():
            raise ValueError(f"{type(self).__name__} needs labelled target rows to fine-tune "
                             "on (negative sample_domain with a real label).")
        if self._task == "classification":
            self.classes_, codes = np.unique(y[~mask], return_inverse=True)
            y_enc = np.full(len(y), -1, dtype=np.int64)
            y_enc[~mask] = codes
            self.n_outputs_ = len(self.classes_)
        else:
            y_enc = np.where(mask, np.nan, y).astype(np.float32)
            self.n_outputs_ = 1
        self.input_shape_ = X.shape[1:]
        self.n_features_in_ = X.shape[1]
        self.domains_ = np.unique(sd)
        seed = int(self.random_state) if self.random_state is not None else \
            int(np.random.default_rng().integers(2**31 - 1))
        torch.manual_seed(seed)
        self._generator_ = torch.Generator().manual_seed(seed)
        self._phase_ = "pretrain"
        self.initialize()
        if self.pretrained is not None and self.pretrained is not False:
            self._load_pretrained()
        elif src.any() and self.pretrain_epochs > 0:
            self._train_domains_ = np.ones(int(src.sum()), dtype=np.int64)
            self.fit_loop({"X": X[src], "sample_domain": self._train_domains_}, y_enc[src],
                          epochs=self.pretrain_epochs, **fit_params)
        self._reset_head()
        self._apply_freeze()
        self._build_optimizer()
        self._phase_ = "finetune"
        self._finetune_start_ = len(self.history)
        self._train_domains_ = -np.ones(int(tgt.sum()), dtype=np.int64)
        self.fit_loop({"X": X[tgt], "sample_domain": self._train_domains_}, y_enc[tgt],
                      epochs=self.max_epochs, **fit_params)
        return self


_DOC = """
    Model-based transfer: the network is pretrained on the labelled source
    rows (or starts from given weights: a trained ``module`` instance with
    ``pretrained=True``, a state_dict, or a path to one read with
    ``torch.load(weights_only=True)``; nothing is ever downloaded), its
    ``head`` is replaced by a fresh layer sized for the task, chosen layers
    are frozen, and it is trained on the labelled target rows, optionally
    unfreezing one layer every ``unfreeze_every`` epochs and with a smaller
    backbone learning rate (Yosinski et al., 2014; Howard &
    Ruder, 2018).

    Parameters
    ----------
    module : nn.Module class or instance, default=None
        The network; None uses :class:`~sktl.deep.MLPModule`.
    pretrained : bool, dict, str or path, default=None
        Weights to start from: True keeps the weights of the ``module``
        instance given, a dict is a state_dict, a path a file holding one.
        None (or False) pretrains on the labelled source rows. Tensors whose
        name or shape does not match are skipped.
    pretrain_epochs : int, default=30
        Epochs of source pretraining.
    head : str, default="head"
        Name of the output ``nn.Linear`` to replace.
    freeze : int, str or list of str, default=None
        Freeze the first ``freeze`` layers with parameters (by depth), or the
        layers with these names.
    unfreeze_every : int, default=None
        Unfreeze the deepest frozen layer every so many epochs.
    backbone_lr_scale : float, default=1.0
        Learning rate of the backbone relative to ``lr`` (the head's).
    max_epochs : int, default=50
        Fine-tuning epochs. Other parameters as in skorch's ``NeuralNet``;
        ``device="auto"`` uses CUDA when available; ``random_state`` seeds torch.

    Attributes
    ----------
    module_ : nn.Module
        The fine-tuned network.
    frozen_layers_ : list of str
        Layers still frozen at the end.
    history : skorch History
        Both phases' epochs.

    References
    ----------
    .. [1] J. Yosinski, J. Clune, Y. Bengio and H. Lipson. "How transferable
       are features in deep neural networks?". NIPS 2014.
    .. [2] J. Howard and S. Ruder. "Universal Language Model Fine-tuning for
       Text Classification". ACL 2018.
"""


class FineTuningClassifier(DomainAdaptationClassifierMixin, _FineTuning):
    __doc__ = "Fine-tune a pretrained classifier on the target's few labels.\n" + _DOC


class FineTuningRegressor(DomainAdaptationRegressorMixin, _FineTuning):
    __doc__ = "Fine-tune a pretrained regressor on the target's few labels.\n" + _DOC
