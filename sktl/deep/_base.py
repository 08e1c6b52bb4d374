"""One skorch training loop for every deep domain-adaptation method.

A method is a domain loss: :class:`DomainAdaptationNet` draws source and
target rows together in every mini-batch, computes the task loss on the
labelled rows only, and adds ``reg * domain_loss(...)`` computed on the
activations of the layers named in ``adapt_layers`` (captured by forward
hooks, so any ``nn.Module`` works). DAN, Deep CORAL, DANN and JAN only
override :meth:`DomainAdaptationNet.domain_loss`.
"""

from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_feature_names
from skorch import NeuralNet
from skorch.dataset import unpack_data
from torch import nn
from torch.utils.data import DataLoader, Sampler

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
        self.store[self.name] = output.flatten(1) if output.dim() > 2 else output


class DomainBatchSampler(Sampler):
    """Mini-batches holding ``batch_size // 2`` source and as many target rows.

    An epoch walks once through the source rows in random order; target rows
    are drawn in random order too and recycled when they run out. Without
    target rows it yields ordinary shuffled batches.
    """

    def __init__(self, sample_domain, batch_size, generator):
        self.sd = np.asarray(sample_domain)
        self.batch_size = batch_size
        self.generator = generator

    def _perm(self, idx):
        return idx[torch.randperm(len(idx), generator=self.generator).numpy()]

    def __iter__(self):
        src, tgt = np.flatnonzero(self.sd > 0), np.flatnonzero(self.sd < 0)
        if len(tgt) == 0 or len(src) == 0:
            rows = self._perm(np.arange(len(self.sd)))
            for i in range(0, len(rows), self.batch_size):
                yield rows[i:i + self.batch_size].tolist()
            return
        half = max(1, self.batch_size // 2)
        s, t, j = self._perm(src), self._perm(tgt), 0
        for i in range(0, len(s), half):
            if j + half > len(t):
                t, j = self._perm(tgt), 0
            yield np.r_[s[i:i + half], t[j:j + half]].tolist()
            j += half

    def __len__(self):
        n_src = int((self.sd > 0).sum())
        if n_src == 0 or (self.sd < 0).sum() == 0:
            return int(np.ceil(len(self.sd) / self.batch_size))
        return int(np.ceil(n_src / max(1, self.batch_size // 2)))


class DomainAdaptationNet(NeuralNet, BaseEstimator):
    """Base skorch net for deep domain adaptation (classification or regression).

    Subclasses set ``_task`` and override :meth:`domain_loss`. See
    :class:`~sktl.deep.DANClassifier` for the parameters.
    """

    # BaseEstimator is a base of skorch's NeuralNet only from skorch 1.1 on; naming it
    # here gives skorch 1.0 nets metadata routing (sample_domain in a Pipeline) and tags
    __metadata_request__fit = {"sample_domain": True}
    _task = "classification"
    _weight_domain_loss = True  # False: the method applies ``schedule()`` itself

    def __init__(self, module=None, *, criterion=None, optimizer=torch.optim.Adam, lr=1e-3,
                 max_epochs=50, batch_size=64, train_split=None, verbose=0, device="auto",
                 reg=1.0, warmup=True, adapt_layers=("features",), mixed_precision=False,
                 random_state=None, **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, verbose=verbose, device=device, **kwargs)
        self.reg = reg
        self.warmup = warmup
        self.adapt_layers = adapt_layers
        self.mixed_precision = mixed_precision
        self.random_state = random_state

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
        kwargs = self.get_params_for("module")
        module = MLPModule if self.module is None else self.module
        if isinstance(module, type) and issubclass(module, MLPModule):
            kwargs.setdefault("n_features", int(np.prod(self.input_shape_)))
            kwargs.setdefault("n_outputs", self.n_outputs_)
        self.module_ = self.initialized_instance(module, kwargs)
        self._hook_layers()
        self.initialize_domain_components()
        return self

    def _hook_layers(self):
        """Capture the adapted layers' outputs with (picklable) forward hooks."""
        self._captured_ = {}
        self._drop_hooks()
        layers = (self.adapt_layers,) if isinstance(self.adapt_layers, str) else self.adapt_layers
        for name in layers:
            get_layer(self.module_, name).register_forward_hook(
                _ActivationStore(name, self._captured_))

    def _drop_hooks(self):
        """Remove the capturing hooks of an earlier net, if any."""
        for module in self.module_.modules():
            for key, hook in list(module._forward_hooks.items()):
                if isinstance(hook, _ActivationStore):
                    del module._forward_hooks[key]

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
            self.criterion_ = crit()
        else:
            self.criterion_ = self.initialized_instance(self.criterion,
                                                        self.get_params_for("criterion"))
        return self

    def get_iterator(self, dataset, training=False):
        if not training:
            return super().get_iterator(dataset, training=False)
        sampler = DomainBatchSampler(self._train_domains_, self.batch_size, self._generator_)
        return DataLoader(dataset, batch_sampler=sampler)

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
        if not self.warmup:
            return self.reg
        progress = min(1.0, max(len(self.history) - 1, 0) / max(self.max_epochs, 1))
        return self.reg * (2.0 / (1.0 + np.exp(-10.0 * progress)) - 1.0)

    def task_loss(self, y_pred, y_true):
        if self._task == "classification":
            keep = y_true >= 0
            if not keep.any():
                return y_pred.sum() * 0.0
            return self.criterion_(y_pred[keep], y_true[keep].long())
        y_pred = y_pred.reshape(len(y_pred), -1)[:, 0]
        keep = ~torch.isnan(y_true)
        if not keep.any():
            return y_pred.sum() * 0.0
        return self.criterion_(y_pred[keep], y_true[keep].to(y_pred.dtype))

    def domain_loss(self, source, target, y_pred, src, tgt):
        """The method's loss on the adapted activations (none for the base net).

        Parameters
        ----------
        source, target : dict of str to Tensor
            Activations of each layer in ``adapt_layers`` for the batch's
            source and target rows.
        y_pred : Tensor
            The network's output for the whole batch.
        src, tgt : Tensor of bool
            Masks of the batch's source and target rows.
        """
        return None

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = y_true.to(y_pred.device)
        loss = self.task_loss(y_pred, y_true)
        if training and isinstance(X, dict):
            sd = X["sample_domain"].to(y_pred.device)
            src, tgt = sd > 0, sd < 0
            if src.sum() > 1 and tgt.sum() > 1:
                feats = self._captured_
                dom = self.domain_loss({k: v[src] for k, v in feats.items()},
                                       {k: v[tgt] for k, v in feats.items()}, y_pred, src, tgt)
                if dom is not None:
                    loss = loss + (self.schedule() if self._weight_domain_loss else 1.0) * dom
        if not torch.isfinite(loss):
            raise ValueError(
                f"{type(self).__name__}: the training loss became {loss.item()} at epoch "
                f"{len(self.history)}. Lower lr, scale the features (e.g. StandardScaler) "
                "or lower reg."
            )
        return loss

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

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
        self._train_domains_ = sd
        seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else \
            np.random.default_rng(self.random_state).integers(2**31 - 1)
        torch.manual_seed(int(seed))
        self._generator_ = torch.Generator().manual_seed(int(seed))
        super().fit({"X": X, "sample_domain": sd.astype(np.int64)}, y_enc, **fit_params)
        return self

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
        X = self._check_X_predict(X)
        logits = np.concatenate([to_np(o) for o in self.forward_iter(X, training=False)])
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

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
