"""One skorch training loop for every deep domain-adaptation method.

A method is a domain loss: :class:`DomainAdaptationNet` draws source and
target rows together in every mini-batch, computes the task loss on the
labelled rows only, and adds ``reg * domain_loss(...)`` computed on the
activations of the layers named in ``adapt_layers`` (captured by forward
hooks, so any ``nn.Module`` works). Most methods only override
:meth:`DomainAdaptationNet.domain_loss`, adding modules in
:meth:`~DomainAdaptationNet.initialize_domain_components`; an adversary sits
behind a gradient reversal, so one optimizer step trains both players.

Methods that alternate updates of different parameter groups (MCD, ADDA,
WDGRL) declare them once: :meth:`~DomainAdaptationNet.players` names the
parameter groups (one optimizer each) and ``phases`` lists the updates of a
training step as :class:`Phase` tuples; one ``train_step`` runs them all.

Speed: batches are cut from tensors placed on the device once per fit, with
the indices of a whole epoch drawn at once (no per-row Python work, no
host-to-device copy per step), and the per-step losses are read back once
per epoch.
"""

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_feature_names
from skorch import NeuralNet
from skorch.dataset import Dataset as _SkorchDataset
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator
from torch import nn
from torch.utils.data import Subset

from .._multisource import is_uniform, source_domain_weights, source_row_weights
from ..utils._domain import check_y_domain, unlabelled_mask
from ._modules import MLPModule, get_layer


def resolve_device(device):
    """``"auto"`` becomes ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class _ActivationStore:
    """Forward hook writing a layer's output (flattened to 2-d) into ``store``."""

    def __init__(self, name, store):
        self.name = name
        self.store = store

    def __call__(self, module, inputs, output):
        if output.dtype in (torch.float16, torch.bfloat16):  # mixed precision: losses in fp32
            output = output.float()
        self.store[self.name] = output.flatten(1) if output.dim() > 2 else output


class DomainBatchSampler:
    """Mini-batches holding ``batch_size // 2`` source and as many target rows.

    An epoch walks once through the source rows in random order (the last
    batch is topped up with other source rows, so every batch is balanced);
    target rows are drawn in random order too and recycled when they run out.
    Without target (or without source) rows it yields ordinary shuffled
    batches. Each batch is a ``LongTensor`` of row indices, source rows first.

    Parameters
    ----------
    sample_domain : array-like of shape (n_samples,)
        Positive codes for source rows, negative for target rows.
    batch_size : int
        Rows per batch (both domains together).
    generator : torch.Generator
        Source of randomness.
    """

    def __init__(self, sample_domain, batch_size, generator):
        self.sd = np.asarray(sample_domain)
        self.batch_size = batch_size
        self.generator = generator

    def _perms(self, idx, n):
        """``n`` indices from back-to-back random permutations of ``idx``."""
        reps = -(-n // len(idx))
        return torch.cat([idx[torch.randperm(len(idx), generator=self.generator)]
                          for _ in range(reps)])[:n]

    @property
    def half(self):
        """Rows of each domain in a batch."""
        return max(1, self.batch_size // 2)

    def balanced(self):
        """Whether batches mix source and target rows."""
        return bool((self.sd > 0).any() and (self.sd < 0).any())

    def epoch(self):
        """The batches of one epoch: a 2-d tensor (balanced) or a list of index tensors."""
        if not self.balanced():
            rows = torch.randperm(len(self.sd), generator=self.generator)
            return list(torch.split(rows, self.batch_size))
        src = torch.from_numpy(np.flatnonzero(self.sd > 0))
        tgt = torch.from_numpy(np.flatnonzero(self.sd < 0))
        half, n_batches = self.half, len(self)
        s = self._perms(src, n_batches * half).view(n_batches, half)
        t = self._perms(tgt, n_batches * half).view(n_batches, half)
        return torch.cat([s, t], dim=1)

    def __iter__(self):
        return iter(self.epoch())

    def __len__(self):
        if not self.balanced():
            return int(np.ceil(len(self.sd) / self.batch_size))
        return int(np.ceil((self.sd > 0).sum() / self.half))


#: Entries the training loop adds to a batch's ``X`` dict (never a module's input).
LOOP_KEYS = frozenset({"sample_domain", "index", "n_source"})


class _Batches:
    """Batches sliced from whole-data tensors, for skorch's loops.

    Training batches are ``({"X", "sample_domain", "index", "n_source"}, y)``
    with the source rows first; evaluation batches are ``(X, y)`` slices in
    order (``y`` None for prediction).
    """

    def __init__(self, X, y=None, sample_domain=None, batch_size=64, sampler=None,
                 device="cpu"):
        self.X, self.y, self.sd = X, y, sample_domain
        self.batch_size, self.sampler, self.device = batch_size, sampler, device

    def __len__(self):
        if self.sampler is not None:
            return len(self.sampler)
        return int(np.ceil(len(self.X) / self.batch_size))

    def __iter__(self):
        dev = torch.device(self.device)
        if self.sampler is None:
            for i in range(0, len(self.X), self.batch_size):
                y = None if self.y is None else self.y[i:i + self.batch_size].to(dev)
                yield self.X[i:i + self.batch_size].to(dev, non_blocking=True), y
            return
        batches = self.sampler.epoch()
        half = self.sampler.half if self.sampler.balanced() else None
        if isinstance(batches, torch.Tensor):
            batches = batches.to(self.X.device)
        move = self.X.device != dev  # data too large to live on the device
        for idx in batches:
            n_source = half if half is not None else len(idx) * bool((self.sampler.sd > 0).any())
            X, y, sd = self.X[idx], self.y[idx], self.sd[idx]
            if move:
                X, y, sd, idx = (t.to(dev, non_blocking=True) for t in (X, y, sd, idx))
            yield {"X": X, "sample_domain": sd, "index": idx, "n_source": n_source}, y


class Phase(NamedTuple):
    """One update within a training step of an alternating method.

    Attributes
    ----------
    loss : str
        Name of the net's method ``loss(batch) -> {"loss": tensor, ...}``
        computing this update's loss (its dict may also hold ``y_pred``).
    players : tuple of str
        The parameter groups (keys of :meth:`DomainAdaptationNet.players`)
        that this update changes; the others keep their values.
    repeat : int or str, default=1
        How many times the update runs per batch, or the name of an integer
        parameter of the net holding that number.
    """

    loss: str
    players: tuple
    repeat: object = 1


_RESIDENT_BYTES = 2**30  # training data up to this size lives on the device


class DomainAdaptationNet(NeuralNet, BaseEstimator):
    """Base skorch net for deep domain adaptation (classification or regression).

    Subclasses set ``_task`` and override :meth:`domain_loss`. See
    :class:`~sktl.deep.DANClassifier` for the parameters.
    """

    def __sklearn_is_fitted__(self):
        """Fitted once the module is initialised (skorch >= 1.3 says the same; 1.2 did not)."""
        from skorch.exceptions import NotInitializedError

        try:
            self.check_is_fitted()
        except NotInitializedError:
            return False
        return True


    # BaseEstimator is a base of skorch's NeuralNet only from skorch 1.1 on; naming it
    # here gives skorch 1.0 nets metadata routing (sample_domain in a Pipeline) and tags
    __metadata_request__fit = {"sample_domain": True}
    _task = "classification"
    _weight_domain_loss = True  # False: the method applies ``schedule()`` itself

    def __init__(self, module=None, *, criterion=None, optimizer=torch.optim.Adam, lr=1e-3,
                 max_epochs=50, batch_size=64, train_split=None, verbose=0, device="auto",
                 reg=1.0, warmup=True, adapt_layers=("features",), mixed_precision=False,
                 random_state=None, source_weights="uniform", **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, verbose=verbose, device=device, **kwargs)
        self.reg = reg
        self.warmup = warmup
        self.adapt_layers = adapt_layers
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.source_weights = source_weights

    # -- device: "auto" stays the parameter, the resolved device is used ------
    @property
    def device(self):
        return resolve_device(self._device_arg_)

    @device.setter
    def device(self, value):
        self._device_arg_ = value

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self._device_arg_
        return params

    def __getstate__(self):
        state = super().__getstate__()
        state["device"] = self.device  # concrete device, for skorch's map_location
        return state

    # -- components ------------------------------------------------------------
    def initialize_module(self):
        self.module_ = self._build_module()
        self._hook_layers()
        self.initialize_domain_components()
        return self

    def _build_module(self, n_features=None):
        """The network: ``module`` (an :class:`MLPModule` sized from the data by default).

        ``n_features`` overrides the input width given to an ``MLPModule``
        (methods that put a layer of their own before the network).
        """
        kwargs = self.get_params_for("module")
        module = MLPModule if self.module is None else self.module
        if isinstance(module, type) and issubclass(module, MLPModule):
            kwargs.setdefault("n_features", int(np.prod(self.input_shape_))
                              if n_features is None else n_features)
            kwargs.setdefault("n_outputs", self.n_outputs_)
        return self.initialized_instance(module, kwargs)

    def _hook_layers(self, module=None, store=None):
        """Capture the adapted layers' outputs with (picklable) forward hooks.

        By default on ``module_`` into ``_captured_``; methods holding a
        second copy of the network (ADDA) hook it into a store of its own.
        """
        if module is None:
            self._captured_ = store = {}
            module = self.module_
        self._drop_hooks(module)
        for name in self._layer_names():
            get_layer(module, name).register_forward_hook(_ActivationStore(name, store))

    def _layer_names(self):
        layers = self.adapt_layers
        return (layers,) if isinstance(layers, str) else tuple(layers)

    def _last_layer(self):
        """Name of the last adapted layer (the input of extra heads and discriminators)."""
        return self._layer_names()[-1]

    def _head_split(self, head):
        """Parameters of the layer ``head`` and of the rest of ``module_`` (the features)."""
        head_ids = {id(p) for p in get_layer(self.module_, head).parameters()}
        head_params = [p for p in self.module_.parameters() if id(p) in head_ids]
        if not head_params:
            raise ValueError(f"The layer {head!r} has no parameters to train as a head.")
        return [p for p in self.module_.parameters() if id(p) not in head_ids], head_params

    @torch.no_grad()
    def _full_pass(self, X):
        """Outputs and last adapted activations of all rows of ``X``, in eval mode."""
        self._set_training(False)
        outs, feats = [], []
        for i in range(0, len(X), max(self.batch_size, 256)):
            outs.append(self.infer(X[i:i + max(self.batch_size, 256)]).float())
            feats.append(self._captured_[self._last_layer()].float())
        self._mode_ = None
        return torch.cat(outs), torch.cat(feats)

    def _drop_hooks(self, module=None):
        """Remove the capturing hooks of an earlier net, if any (from ``module_`` by default)."""
        for sub in (self.module_ if module is None else module).modules():
            for key, hook in list(sub._forward_hooks.items()):
                if isinstance(hook, _ActivationStore):
                    del sub._forward_hooks[key]

    def __setstate__(self, state):
        super().__setstate__(state)
        self.__dict__.pop("device", None)  # the property (and "auto") rule again
        if hasattr(self, "module_"):
            self._hook_layers()

    def _feature_dims(self):
        """Width of every adapted layer, from one dry forward pass."""
        self.module_.to(self.device)
        was_training = self.module_.training
        self.module_.eval()
        with torch.no_grad():
            self.module_(torch.zeros((2, *self.input_shape_), device=self.device))
        self.module_.train(was_training)
        return {k: v.shape[1] for k, v in self._captured_.items()}

    def initialize_domain_components(self):
        """Hook for methods with extra modules (e.g. DANN's discriminator)."""

    def initialize_criterion(self):
        if self.criterion is None:
            crit = nn.CrossEntropyLoss if self._task == "classification" else nn.MSELoss
            self.criterion_ = crit(reduction="none")
        else:
            self.criterion_ = self.initialized_instance(self.criterion,
                                                        self.get_params_for("criterion"))
        return self

    # -- parameter groups and optimizers ----------------------------------------
    #: ``None``: one joint update per batch on every parameter (the default);
    #: a tuple of :class:`Phase`: the alternating updates of one training step.
    phases = None

    def players(self):
        """Named parameter groups, one optimizer each (methods with ``phases``).

        The first group's optimizer is ``optimizer_`` (the one ``lr`` and
        ``optimizer__*`` parameters address); the others are
        ``optimizer_<name>_`` with the same class and settings.

        Returns
        -------
        players : dict of str to list of Parameter
        """
        return {"model": [p for _, p in self.get_all_learnable_params()]}

    def player_lr_scale(self, name):
        """Learning rate of the player ``name`` relative to ``lr`` (1 unless a method says)."""
        return 1.0

    def active_phases(self):
        """The phases of the current epoch (``phases`` unless a method schedules them)."""
        return self.phases

    def initialize_optimizer(self, *args, **kwargs):
        if self.phases is None:
            return super().initialize_optimizer(*args, **kwargs)
        self._player_optimizers_ = {}
        for i, (name, params) in enumerate(self.players().items()):
            named = [(f"{name}.{j}", p) for j, p in enumerate(params)]
            pargs, pkwargs = self.get_params_for_optimizer("optimizer", named)
            pkwargs["lr"] = pkwargs.get("lr", self.lr) * self.player_lr_scale(name)
            attr = "optimizer_" if i == 0 else f"optimizer_{name}_"
            setattr(self, attr, self.optimizer(*pargs, **pkwargs))
            self._player_optimizers_[name] = attr
        return self

    def train_step(self, batch, **fit_params):
        if self.phases is None:
            return super().train_step(batch, **fit_params)
        self._train_mode()
        self._step_cache_ = {}  # for a phase's values reused by its repeats
        optimizers = [getattr(self, a) for a in self._player_optimizers_.values()]
        report = None
        for phase in self.active_phases():
            stepped = [getattr(self, self._player_optimizers_[p]) for p in phase.players]
            repeat = getattr(self, phase.repeat) if isinstance(phase.repeat, str) \
                else phase.repeat
            for _ in range(int(repeat)):
                for opt in optimizers:
                    opt.zero_grad(set_to_none=True)
                step = getattr(self, phase.loss)(batch, **fit_params)
                step["loss"].backward()
                self.notify("on_grad_computed", batch=batch, training=True,
                            named_parameters=TeeGenerator(self.get_all_learnable_params()))
                for opt in stepped:
                    opt.step()
                if report is None or "y_pred" in step:
                    report = step
        return report

    # -- batches -------------------------------------------------------------------
    @staticmethod
    def _arrays(dataset):
        """``(X, y, sample_domain)`` arrays behind a skorch dataset (or a subset of one,
        as a ``train_split`` makes), or None when batches must go through a DataLoader."""
        rows = None
        if isinstance(dataset, Subset):
            dataset, rows = dataset.dataset, np.asarray(dataset.indices)
        if not isinstance(dataset, _SkorchDataset):
            return None
        X, y, sd = dataset.X, dataset.y, None
        if isinstance(X, dict):
            if set(X) != {"X", "sample_domain"}:
                return None
            X, sd = X["X"], X["sample_domain"]
        if not isinstance(X, np.ndarray):
            return None
        if rows is not None:
            X, y, sd = X[rows], None if y is None else np.asarray(y)[rows], \
                None if sd is None else np.asarray(sd)[rows]
        return X, y, sd

    def get_iterator(self, dataset, training=False):
        arrays = self._arrays(dataset)
        if arrays is None or (training and (arrays[1] is None or arrays[2] is None)):
            return super().get_iterator(dataset, training=training)
        X = torch.as_tensor(np.ascontiguousarray(arrays[0], dtype=np.float32))
        if not training:  # prediction, or the validation of a train_split
            y = None if arrays[1] is None else torch.as_tensor(np.asarray(arrays[1]))
            return _Batches(X, y, batch_size=self.batch_size, device=self.device)
        sd = torch.as_tensor(np.asarray(arrays[2], dtype=np.int64))
        y = torch.as_tensor(np.asarray(arrays[1]))
        home = self.device if X.element_size() * X.nelement() <= _RESIDENT_BYTES else "cpu"
        X, y, sd = X.to(home), y.to(home), sd.to(home)
        self._train_tensors_ = {"X": X, "y": y, "sample_domain": sd}
        if not is_uniform(self.source_weights):  # per-row factors of the source loss
            if getattr(self.criterion_, "reduction", "none") != "none":
                raise ValueError(f"{type(self).__name__}: source_weights needs a criterion "
                                 "with reduction='none' (one loss per row) to weigh rows.")
            w = source_row_weights(arrays[2], self.source_weights_)
            self._train_tensors_["w"] = torch.as_tensor(w, dtype=torch.float32).to(home)
        sampler = self._make_sampler(sd.cpu().numpy(), y.cpu().numpy())
        return _Batches(X, y, sd, self.batch_size, sampler, device=self.device)

    def _make_sampler(self, sample_domain, y):
        """The training batches' sampler (CAN swaps in a class-aware one)."""
        return DomainBatchSampler(sample_domain, self.batch_size, self._generator_)

    #: Attributes that live during a training loop only (never pickled with the net,
    #: never seen by predict); methods add their own (memory banks, pseudo-labels).
    _transient = ("_train_tensors_", "_step_cache_", "_batch_index_", "_mode_")

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            for name in self._transient:
                self.__dict__.pop(name, None)

    # -- training step ------------------------------------------------------------
    def infer(self, x, **fit_params):
        if isinstance(x, dict):
            x = x["X"]
        x = x.to(self.device)
        if self.mixed_precision and str(self.device).startswith("cuda"):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return self.module_(x, **fit_params).float()
        return self.module_(x, **fit_params)

    def schedule(self):
        """Weight of the domain loss now: ``reg`` times DANN's warm-up ramp."""
        return self.reg * self.ramp()

    def ramp(self):
        """DANN's warm-up ramp ``2 / (1 + exp(-10 p)) - 1`` now (1 without ``warmup``)."""
        if not self.warmup:
            return 1.0
        progress = min(1.0, max(len(self.history) - 1, 0) / max(self.max_epochs, 1))
        return float(2.0 / (1.0 + np.exp(-10.0 * progress)) - 1.0)

    def sample_loss(self, y_pred, y_true):
        """Per-row task loss (0 on unlabelled rows) and the mask of labelled rows.

        Parameters
        ----------
        y_pred : Tensor of shape (n, n_outputs)
        y_true : Tensor of shape (n,)
            Class codes (-1 unlabelled) or values (NaN unlabelled).

        Returns
        -------
        loss : Tensor of shape (n,)
        labelled : Tensor of bool of shape (n,)
        """
        if self._task == "classification":
            keep = y_true >= 0
            target = y_true.clamp(min=0).long()
        else:
            y_pred = y_pred.reshape(len(y_pred), -1)[:, 0]
            keep = ~torch.isnan(y_true)
            target = torch.where(keep, y_true, 0.0).to(y_pred.dtype)
        loss = self.criterion_(y_pred, target)
        if loss.dim() == 0:
            raise TypeError(f"{type(self).__name__} needs a criterion with reduction='none' "
                            "(one loss per row).")
        return loss * keep, keep

    def row_weight(self, X):
        """The ``source_weights`` factor of each row of a training batch ``X`` (or None).

        None with the default ``source_weights="uniform"``, and outside the
        training loop; methods pass it to :meth:`task_loss` (index it like
        the rows they pass).
        """
        w = getattr(self, "_train_tensors_", {}).get("w")
        if w is None or not isinstance(X, dict) or "index" not in X:
            return None
        return w[X["index"].to(w.device)]

    def task_loss(self, y_pred, y_true, weight=None):
        """Mean task loss over the labelled rows (0 when the batch has none).

        ``weight`` (one per row, see :meth:`row_weight`) multiplies each
        row's loss; the mean still divides by the number of labelled rows.
        """
        if getattr(self.criterion_, "reduction", "none") != "none":  # a user's criterion
            keep = y_true >= 0 if self._task == "classification" else ~torch.isnan(y_true)
            if not keep.any():
                return y_pred.sum() * 0.0
            if self._task == "classification":
                return self.criterion_(y_pred[keep], y_true[keep].long())
            y_pred = y_pred.reshape(len(y_pred), -1)[:, 0]
            return self.criterion_(y_pred[keep], y_true[keep].to(y_pred.dtype))
        loss, keep = self.sample_loss(y_pred, y_true)
        if weight is not None:
            loss = loss * weight.to(device=loss.device, dtype=loss.dtype)
        return loss.sum() / keep.sum().clamp(min=1)

    def domain_loss(self, source, target, y_pred, src, tgt):
        """The method's loss on the adapted activations (none for the base net).

        Parameters
        ----------
        source, target : dict of str to Tensor
            Activations of each layer in ``adapt_layers`` for the batch's
            source and target rows.
        y_pred : Tensor
            The network's output for the whole batch.
        src, tgt : slice or Tensor of bool
            The batch's source and target rows (index ``y_pred`` with them).
        """
        return None

    @staticmethod
    def _domain_labels(n_source, n_target, device):
        """Discriminator targets: 0 for the source rows, 1 for the target rows."""
        return torch.cat([torch.zeros(n_source, device=device),
                          torch.ones(n_target, device=device)])

    @staticmethod
    def _split(X):
        """Selectors of a training batch's source and target rows, and their counts."""
        if "n_source" in X:  # our batches: source rows first
            n, ns = len(X["X"]), X["n_source"]
            return slice(0, ns), slice(ns, n), ns, n - ns
        sd = X["sample_domain"]
        src, tgt = sd > 0, sd < 0
        return src, tgt, int(src.sum()), int(tgt.sum())

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = y_true.to(y_pred.device)
        loss = self.task_loss(y_pred, y_true, self.row_weight(X) if training else None)
        if training and isinstance(X, dict):
            src, tgt, ns, nt = self._split(X)
            self._batch_index_ = X.get("index")  # rows of the batch, for memory banks
            if ns > 1 and nt > 1:
                feats = self._captured_
                dom = self.domain_loss({k: v[src] for k, v in feats.items()},
                                       {k: v[tgt] for k, v in feats.items()}, y_pred, src, tgt)
                if dom is not None:
                    loss = loss + (self.schedule() if self._weight_domain_loss else 1.0) * dom
        return loss

    def _train_mode(self):
        """Training mode for every module, switched only when it is not already on."""
        if getattr(self, "_mode_", None) is not True:
            self._set_training(True)
            self._mode_ = True

    def _set_training(self, training=True):
        super()._set_training(training)
        if self.__dict__.get("_mode_") is not None:  # (predict leaves the net's dict alone)
            self._mode_ = None

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        self._mode_ = None  # a callback may have switched modes between epochs

    def train_step_single(self, batch, **fit_params):
        self._train_mode()
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not training or not isinstance(iterator, _Batches):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=True)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_batch_size", len(batch[1]))
            self.notify("on_batch_end", batch=batch, training=True, **step)
        values = torch.stack(losses).float().cpu().numpy() if losses else np.zeros(0)
        for entry, value in zip(self.history[-1]["batches"][-len(losses):], values):
            entry[prefix + "_loss"] = float(value)
        self.history.record(prefix + "_batch_count", len(losses))
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"{type(self).__name__}: the training loss became "
                f"{values[~np.isfinite(values)][0]} at epoch {len(self.history)}. Lower lr, "
                "scale the features (e.g. StandardScaler) or lower reg."
            )

    # -- scikit-learn API ------------------------------------------------------
    def _prepare_X(self, X, reset=None):
        if reset is not None:  # record (fit) or check (predict) DataFrame column names
            _check_feature_names(self, X, reset=reset)
        # scikit-learn's validation and messages: rows first, any number of
        # dimensions after (images), float32, finite, dense
        X = check_array(X, allow_nd=True, dtype=np.float32, input_name="X")
        if 0 in X.shape[1:]:
            raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a "
                             "minimum of 1 is required.")
        return X

    def _encode_y(self, y, mask):
        """Labels for the loop (class codes, -1 / NaN unlabelled); sets ``classes_``."""
        if mask.all():
            raise ValueError(f"{type(self).__name__} has no labelled row to learn from: every "
                             "label in y is masked (-1 / NaN).")
        if self._task != "classification":
            self.n_outputs_ = 1
            return np.where(mask, np.nan, y).astype(np.float32)
        check_classification_targets(y[~mask])  # "Unknown label type: continuous"
        self.classes_, codes = np.unique(y[~mask], return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the labelled "
                f"rows; got one class: {self.classes_.tolist()}.")
        y_enc = np.full(len(y), -1, dtype=np.int64)
        y_enc[~mask] = codes
        self.n_outputs_ = len(self.classes_)
        return y_enc

    def fit(self, X, y, sample_domain=None, **fit_params):
        """Train on labelled source rows and (unlabelled) target rows together.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Rows of both domains (cast to float32).
        y : array-like of shape (n_samples,)
            Labels, -1 (classification) / NaN (regression) for unlabelled rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Positive codes for source rows, negative for target rows;
            inferred from the masked labels when None.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : object
        """
        X = self._prepare_X(X, reset=True)
        y, sd = check_y_domain(y, sample_domain, len(X), task=self._task)
        if y is None:
            raise ValueError(f"{type(self).__name__} needs y.")
        mask = unlabelled_mask(y, self._task)
        y_enc = self._encode_y(y, mask)
        self.input_shape_ = X.shape[1:]
        self.n_features_in_ = X.shape[1]
        self.domains_ = np.unique(sd)
        self.source_weights_ = source_domain_weights(X, sd, self.source_weights) \
            if (sd > 0).any() else {}
        self._before_training(X, sd)
        rows = self._training_rows(mask, sd)
        if rows is not None:
            X, y_enc, sd = X[rows], y_enc[rows], sd[rows]
        return self._fit_arrays(X, y_enc, sd, **fit_params)

    def _fit_arrays(self, X, y, sample_domain, **fit_params):
        """Seed torch and the batch sampler, then run skorch's fit on validated arrays."""
        self._train_domains_ = sample_domain
        seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else \
            np.random.default_rng(self.random_state).integers(2**31 - 1)
        torch.manual_seed(int(seed))
        self._generator_ = torch.Generator().manual_seed(int(seed))
        super().fit({"X": X, "sample_domain": sample_domain.astype(np.int64)}, y, **fit_params)
        return self

    def _before_training(self, X, sample_domain):
        """Hook on the validated rows of every domain before training (GLoMo's graphs)."""

    def _training_rows(self, unlabelled, sample_domain):
        """Mask of the rows the loop trains on (None: all of them)."""
        return None

    def _check_X_predict(self, X):
        if not hasattr(self, "module_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} is not fitted yet.")
        X = self._prepare_X(X, reset=False)
        if X.shape[1:] != tuple(self.input_shape_):
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.input_shape_[0]} features as input.")
        return X

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R² (regressor) on the labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        from sklearn.metrics import accuracy_score, r2_score

        y = np.asarray(y)
        keep = ~unlabelled_mask(y, self._task)
        sw = None if sample_weight is None else np.asarray(sample_weight)[keep]
        metric = accuracy_score if self._task == "classification" else r2_score
        return float(metric(y[keep], self.predict(_take_rows(X, keep)), sample_weight=sw))


class DomainAdaptationClassifierMixin:
    """``predict``/``predict_proba`` in the original labels."""

    _task = "classification"
    _estimator_type = "classifier"

    def predict_proba(self, X):
        """Class probabilities (softmax of the network's output).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._logits(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def _logits(self, X):
        """The network's raw outputs (label-free scorers such as MaNo read them)."""
        X = self._check_X_predict(X)
        return np.concatenate([to_np(o) for o in self.forward_iter(X, training=False)])

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # raises NotFittedError first when unfitted
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        from sklearn.utils._tags import ClassifierTags

        tags.classifier_tags = ClassifierTags()
        return tags


class DomainAdaptationRegressorMixin:
    """``predict`` for one continuous output."""

    _task = "regression"
    _estimator_type = "regressor"

    @property
    def predict_proba(self):
        """A regressor has no probabilities (skorch's ``predict_proba`` is hidden)."""
        raise AttributeError(f"{type(self).__name__} is a regressor: it has no predict_proba.")

    def predict(self, X):
        """Predicted values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_X_predict(X)
        out = np.concatenate([to_np(o) for o in self.forward_iter(X, training=False)])
        return out.reshape(len(out), -1)[:, 0].astype(float)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        from sklearn.utils._tags import RegressorTags

        tags.regressor_tags = RegressorTags()
        return tags


def _n_rows(X):
    """Number of rows of an array or of a dict of arrays."""
    return len(next(iter(X.values()))) if isinstance(X, Mapping) else len(X)


def _take_rows(X, rows):
    """Rows of an array, or of every entry of a dict of arrays."""
    if isinstance(X, Mapping):
        return {k: np.asarray(v)[rows] for k, v in X.items()}
    return np.asarray(X)[rows]


def to_np(t):
    t = t[0] if isinstance(t, tuple) else t
    return t.detach().float().cpu().numpy()
