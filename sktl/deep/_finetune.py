"""Model-based transfer: fine-tune a pretrained network on the target's few labels."""

import copy
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..utils._domain import check_y_domain, unlabelled_mask
from ._base import (
    LOOP_KEYS,
    DomainAdaptationClassifierMixin,
    DomainAdaptationNet,
    DomainAdaptationRegressorMixin,
    _ActivationStore,
    _n_rows,
    _take_rows,
)
from ._modules import get_layer


def _as_array(value, key):
    """One entry of a dict input as a numpy array (integers stay integers)."""
    if torch.is_tensor(value):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    if value.dtype.kind in "iub":
        return value.astype(np.int64)
    if value.dtype.kind != "f":
        raise TypeError(f"X[{key!r}] must be numeric; got dtype {value.dtype}.")
    value = value.astype(np.float32)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"Input X[{key!r}] contains NaN or infinity.")
    return value


class _FineTuning(DomainAdaptationNet):
    def __init__(self, module=None, *, pretrained=None, pretrain_epochs=30, head="head",
                 reset_head=True, freeze=None, unfreeze_every=None, backbone_lr_scale=1.0,
                 source_reg=0.0, source_reg_norm="l2", **kwargs):
        super().__init__(module, **kwargs)
        self.pretrained = pretrained
        self.pretrain_epochs = pretrain_epochs
        self.head = head
        self.reset_head = reset_head
        self.freeze = freeze
        self.unfreeze_every = unfreeze_every
        self.backbone_lr_scale = backbone_lr_scale
        self.source_reg = source_reg
        self.source_reg_norm = source_reg_norm

    # -- inputs: arrays, or a dict of arrays handed to the module as keywords ---
    def _prepare_X(self, X, reset=None):
        if not isinstance(X, Mapping) or sp.issparse(X):  # a dok_matrix is a dict
            return super()._prepare_X(X, reset=reset)
        if not X or "sample_domain" in X:
            raise ValueError("A dict X needs at least one entry, and no 'sample_domain' "
                             "entry (pass sample_domain to fit).")
        X = {k: _as_array(v, k) for k, v in X.items()}
        lengths = {k: len(v) if v.ndim else 0 for k, v in X.items()}
        if len(set(lengths.values())) != 1 or 0 in lengths.values():
            raise ValueError(f"Every entry of a dict X needs the same number (> 0) of rows; "
                             f"got {lengths}.")
        return X

    def _check_X_predict(self, X):
        if not isinstance(X, Mapping) and not isinstance(getattr(self, "input_shape_", None),
                                                         dict):
            return super()._check_X_predict(X)
        if not hasattr(self, "module_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} is not fitted yet.")
        X = self._prepare_X(X)
        expected = sorted(self.input_shape_) if isinstance(self.input_shape_, dict) else None
        if not isinstance(X, Mapping) or sorted(X) != expected:
            raise ValueError(f"X must be a dict with the entries {expected} seen in fit.")
        return X

    def _loop_X(self, X, rows, code):
        """What skorch iterates over: the rows' inputs and their domain code."""
        X = _take_rows(X, rows)
        sd = np.full(_n_rows(X), code, dtype=np.int64)
        self._train_domains_ = sd
        return {**X, "sample_domain": sd} if isinstance(X, Mapping) else \
            {"X": X, "sample_domain": sd}

    def infer(self, x, **fit_params):
        if not isinstance(x, Mapping) or set(x) - LOOP_KEYS <= {"X"}:
            out = super().infer(x, **fit_params)
        else:  # a dict input: its entries are the module's keyword arguments
            x = {k: v.to(self.device) for k, v in x.items() if k not in LOOP_KEYS}
            out = self.module_(**x, **fit_params)
        if torch.is_tensor(out):
            return out
        # e.g. a Hugging Face ``SequenceClassifierOutput``
        return out.logits if hasattr(out, "logits") else out[0]

    # -- network ------------------------------------------------------------------
    def initialized_instance(self, instance_or_cls, kwargs):
        out = super().initialized_instance(instance_or_cls, kwargs)
        if out is self.module and isinstance(out, nn.Module):
            # never alter the caller's network (its head is replaced, layers frozen);
            # activations captured by another sktl net's hooks are not copied
            memo = {id(hook.store): {} for m in out.modules()
                    for hook in m._forward_hooks.values() if isinstance(hook, _ActivationStore)}
            out = copy.deepcopy(out, memo)
        return out

    def _hook_layers(self):
        """Fine-tuning aligns no layer: no activation is captured, ``adapt_layers`` is unused."""
        self._captured_ = {}
        self._drop_hooks()  # copied from another sktl net's module, if any

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
        """Replace the head by a fresh layer sized for this task's outputs (or keep it)."""
        old = get_layer(self.module_, self.head)
        if not isinstance(old, nn.Linear):
            raise TypeError(f"The head {self.head!r} must be an nn.Linear to be replaced.")
        if not self.reset_head:
            if old.out_features != self.n_outputs_:
                raise ValueError(
                    f"reset_head=False keeps the head {self.head!r}, which has "
                    f"{old.out_features} outputs, but y has {self.n_outputs_} "
                    f"{'classes' if self._task == 'classification' else 'outputs'}; label "
                    "every class the head was trained on, or use reset_head=True.")
            return
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
        # the units that gradual unfreezing frees, deepest last: each layer with
        # parameters for an integer ``freeze``, each named layer for names
        if self.freeze is None or isinstance(self.freeze, (int, np.integer)):
            self.frozen_layers_ = [g for g, _ in frozen]
        else:
            order = {g: i for i, (g, _) in enumerate(groups)}
            first = {n: min(order[g] for g, _ in frozen if g == n or g.startswith(n + "."))
                     for n in names}
            self.frozen_layers_ = sorted(dict.fromkeys(names), key=first.get)

    def _unit_params(self, name):
        """Parameters of the frozen unit ``name`` (a layer and everything under it)."""
        exact = self.freeze is None or isinstance(self.freeze, (int, np.integer))
        return [p for g, params in self._freeze_groups()
                if g == name or (not exact and g.startswith(name + ".")) for p in params]

    def _build_optimizer(self):
        head = list(get_layer(self.module_, self.head).parameters())
        head_ids = {id(p) for p in head}
        backbone = [p for p in self.module_.parameters()
                    if id(p) not in head_ids and p.requires_grad]
        groups = [{"params": head, "lr": self.lr}]
        if backbone:
            groups.append({"params": backbone, "lr": self.lr * self.backbone_lr_scale})
        self.optimizer_ = self.optimizer(groups, lr=self.lr)

    _transient = DomainAdaptationNet._transient + ("_source_params_",)

    def _check_source_reg(self):
        reg = self.source_reg
        if isinstance(reg, bool) or not isinstance(reg, (int, float, np.number)) or reg < 0:
            raise ValueError(f"source_reg must be a number >= 0; got {reg!r}.")
        if self.source_reg_norm not in ("l2", "l1"):
            raise ValueError("source_reg_norm must be 'l2' or 'l1'; got "
                             f"{self.source_reg_norm!r}.")

    def _keep_source_params(self):
        """Remember the starting weights that ``source_reg`` pulls towards (a new head has none)."""
        if not self.source_reg:
            return
        head = {id(p) for p in get_layer(self.module_, self.head).parameters()}
        self._source_params_ = [(p, p.detach().clone()) for p in self.module_.parameters()
                                if not (self.reset_head and id(p) in head)]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        pairs = self.__dict__.get("_source_params_") if training else None
        if pairs:  # ||theta - theta_source||² (or its l1 norm), summed over the parameters
            power = 2 if self.source_reg_norm == "l2" else 1
            loss = loss + self.source_reg * sum((p - p0).abs().pow(power).sum()
                                                for p, p0 in pairs)
        return loss

    def on_epoch_begin(self, net, **kwargs):
        """Gradual unfreezing: every ``unfreeze_every`` epochs, free the deepest frozen layer."""
        super().on_epoch_begin(net, **kwargs)
        phase = getattr(self, "_phase_", None)
        if phase != "finetune" or not self.unfreeze_every or not self.frozen_layers_:
            return
        epoch = len(self.history) - self._finetune_start_
        if epoch > 0 and epoch % self.unfreeze_every == 0:
            name = self.frozen_layers_.pop()
            params = self._unit_params(name)
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
        self._check_source_reg()
        X = self._prepare_X(X, reset=None if isinstance(X, Mapping) else True)
        y, sd = check_y_domain(y, sample_domain, _n_rows(X), task=self._task,
                               require_labelled_source=self.pretrained in (None, False)
                               and self.pretrain_epochs > 0)
        if y is None:
            raise ValueError(f"{type(self).__name__} needs y.")
        mask = unlabelled_mask(y, self._task)
        src, tgt = (sd > 0) & ~mask, (sd < 0) & ~mask
        if not (sd < 0).any():  # no domain information: the labelled rows are the target
            src, tgt = np.zeros_like(src), ~mask
        if not tgt.any():
            raise ValueError(f"{type(self).__name__} needs labelled target rows to fine-tune "
                             "on (negative sample_domain with a real label).")
        y_enc = self._encode_y(y, mask)
        if isinstance(X, Mapping):
            if self.module is None:
                raise ValueError("A dict X needs a module that takes its entries as keyword "
                                 "arguments (e.g. a Hugging Face model).")
            self.input_shape_ = {k: v.shape[1:] for k, v in X.items()}
        else:
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
            self.fit_loop(self._loop_X(X, src, 1), y_enc[src], epochs=self.pretrain_epochs,
                          **fit_params)
        self._reset_head()
        self._keep_source_params()
        self._apply_freeze()
        self._build_optimizer()
        self._phase_ = "finetune"
        self._finetune_start_ = len(self.history)
        self.fit_loop(self._loop_X(X, tgt, -1), y_enc[tgt], epochs=self.max_epochs,
                      **fit_params)
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
    Ruder, 2018). Nothing is aligned, so any network works: no
    ``adapt_layers`` is needed, and the ``module`` instance given is copied,
    never changed.

    ``X`` is an array (rows first: tabular rows, images of shape
    ``(n, channels, height, width)``, ...) cast to float32, or a dict of
    arrays whose entries the module takes as keyword arguments, e.g. the
    ``input_ids`` and ``attention_mask`` of a tokenizer for a Hugging Face
    model: integer entries stay integers, and a model output with
    ``logits`` is read as the logits.

    Pretrained weights are read from the local disk only. A state_dict saved
    with ``torch.save(model.state_dict(), path)`` is given as
    ``pretrained=path`` with ``module`` set to the same architecture; a Hugging
    Face model saved with ``save_pretrained(folder)`` (or a downloaded
    checkpoint folder) is loaded by the caller and given as an instance::

        from transformers import AutoModelForSequenceClassification
        model = AutoModelForSequenceClassification.from_pretrained(
            "/path/to/local/folder", local_files_only=True)
        clf = FineTuningClassifier(module=model, pretrained=True, head="classifier",
                                   freeze=["bert.embeddings", "bert.encoder"])

    Parameters
    ----------
    module : nn.Module class or instance, default=None
        The network; None uses :class:`~sktl.deep.MLPModule`. An instance is
        deep-copied at each fit.
    pretrained : bool, dict, str or path, default=None
        Weights to start from: True keeps the weights of the ``module``
        instance given, a dict is a state_dict, a path a file holding one.
        None (or False) pretrains on the labelled source rows. Tensors whose
        name or shape does not match are skipped.
    pretrain_epochs : int, default=30
        Epochs of source pretraining. 0 without ``pretrained`` trains the
        same network from scratch on the target rows (the no-transfer
        baseline); no source rows are needed then.
    head : str, default="head"
        Name of the output ``nn.Linear`` to replace (``"fc"`` in torchvision's
        ResNets, ``"classifier"`` in Hugging Face sequence classifiers).
    reset_head : bool, default=True
        Replace the head by a fresh layer. False keeps the pretrained head
        and goes on training it: for a target with the source's classes,
        where the source's classifier is a better start than a random one
        (on MNIST -> USPS with one label per class it is worth about 15
        accuracy points, see ``benchmarks/results/finetune.md``). Its output
        ``i`` must then be the ``i``-th of the sorted classes, and every one
        of them must be labelled.
    freeze : int, str or list of str, default=None
        Freeze the first ``freeze`` layers with parameters (by depth), or the
        layers with these names and everything inside them.
    unfreeze_every : int, default=None
        Gradual unfreezing: every so many epochs, unfreeze the deepest frozen
        unit — one layer with parameters for an integer ``freeze``, one of the
        named layers (the last named first) for names.
    backbone_lr_scale : float, default=1.0
        Learning rate of the backbone relative to ``lr`` (the head's).
    source_reg : float, default=0.0
        Weight of a penalty pulling the fine-tuned weights towards the
        pretrained ones, ``source_reg * sum ||theta - theta_source||²`` over
        every parameter but a reset head (Chelba & Acero, 2004; L2-SP, Li et
        al., 2018): the regularised transfer of ADAPT's
        ``RegularTransferNN`` with ``reset_head=False``, whose ``lambdas``
        weigh the *mean* squared change of each tensor instead (the same
        number pulls a tensor of ``n`` entries ``n`` times harder here).
    source_reg_norm : {"l2", "l1"}, default="l2"
        The penalty's norm: squared euclidean, or absolute values.
    max_epochs : int, default=50
        Fine-tuning epochs. Other parameters as in skorch's ``NeuralNet``;
        ``device="auto"`` uses CUDA when available; ``random_state`` seeds torch.

    Attributes
    ----------
    module_ : nn.Module
        The fine-tuned network.
    frozen_layers_ : list of str
        Units still frozen at the end.
    history : skorch History
        Both phases' epochs.
    input_shape_ : tuple or dict
        Shape of a row of ``X``, or of each entry of a dict ``X``.

    References
    ----------
    .. [1] J. Yosinski, J. Clune, Y. Bengio and H. Lipson. "How transferable
       are features in deep neural networks?". NIPS 2014.
    .. [2] J. Howard and S. Ruder. "Universal Language Model Fine-tuning for
       Text Classification". ACL 2018.
    .. [3] C. Chelba and A. Acero. "Adaptation of Maximum Entropy
       Capitalizer: Little Data Can Help a Lot". EMNLP 2004.
    .. [4] X. Li, Y. Grandvalet and F. Davoine. "Explicit Inductive Bias for
       Transfer Learning with Convolutional Networks". ICML 2018.
"""


class FineTuningClassifier(DomainAdaptationClassifierMixin, _FineTuning):
    __doc__ = "Fine-tune a pretrained classifier on the target's few labels.\n" + _DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> from sktl.deep import FineTuningClassifier
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, random_state=0)
    >>> y_few = np.where((sd < 0) & (np.arange(len(y)) % 6 != 0), -1, y)  # 10 target labels
    >>> clf = FineTuningClassifier(pretrain_epochs=2, max_epochs=2, freeze=1, random_state=0)
    >>> clf.fit(X, y_few, sample_domain=sd).predict(X[sd < 0]).shape
    (60,)
"""


class FineTuningRegressor(DomainAdaptationRegressorMixin, _FineTuning):
    __doc__ = "Fine-tune a pretrained regressor on the target's few labels.\n" + _DOC
