"""Multi-task learning: a shared trunk and one head per task (hard parameter sharing).

The tasks ride in the labels: the training ``y`` carries each row's task
index as a second column, so the shared loop's batches (and a validation
split's) bring it to :meth:`get_loss`, which scores every row with its own
task's head.
"""

import warnings
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.utils import column_or_1d
from sklearn.utils.validation import _num_samples

from ..exceptions import DomainWarning
from ..utils._domain import check_y_domain
from ._base import (
    DomainAdaptationClassifierMixin,
    DomainAdaptationNet,
    DomainAdaptationRegressorMixin,
    DomainBatchSampler,
    to_np,
)
from ._doc import _HEAD, net_doc
from ._modules import fresh_copy, get_layer


class _MultiTask(DomainAdaptationNet):
    __metadata_request__fit = {"sample_domain": True, "sample_task": True}
    _transient = (*DomainAdaptationNet._transient, "_task_weight_t_")

    def __init__(self, module=None, *, head="head", task=None, task_weights=None, **kwargs):
        super().__init__(module, **kwargs)
        self.head = head
        self.task = task
        self.task_weights = task_weights

    # -- fit: tasks ---------------------------------------------------------------
    def fit(self, X, y, sample_domain=None, sample_task=None, **fit_params):
        """Train the shared trunk and every task's head on the labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Rows of every task (cast to float32).
        y : array-like of shape (n_samples,)
            Labels, -1 (classification) / NaN (regression) for unlabelled
            rows, which are not used.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain codes (positive source, negative target); inferred from
            the masked labels when None.
        sample_task : array-like of shape (n_samples,), default=None
            The task of each row (integers or strings). None makes each
            domain its own task (the codes of ``sample_domain``); domains
            without a labelled row are then left out.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : object
        """
        with warnings.catch_warnings():  # no target rows is no news: nothing adapts here
            warnings.filterwarnings("ignore", message="No target rows", category=DomainWarning)
            return self._fit_tasks(X, y, sample_domain, sample_task, **fit_params)

    def _fit_tasks(self, X, y, sample_domain, sample_task, **fit_params):
        n = _num_samples(X)
        _, sd = check_y_domain(y, sample_domain, n, task=self._task)
        if sample_task is None:
            tasks, self._explicit_tasks_ = sd, False
        else:
            tasks, self._explicit_tasks_ = column_or_1d(sample_task, warn=True), True
            if len(tasks) != n:
                raise ValueError(f"sample_task has {len(tasks)} entries but X has {n} rows; "
                                 "give one task per row.")
            if tasks.dtype.kind == "f" and not np.isfinite(tasks).all():
                raise ValueError("sample_task holds NaN or infinite values; give every row "
                                 "a task.")
        self._row_tasks_ = tasks
        try:
            return super().fit(X, y, sample_domain=sample_domain, **fit_params)
        finally:
            del self._row_tasks_, self._explicit_tasks_

    def _encode_y(self, y, mask):
        y_enc = super()._encode_y(y, mask)
        tasks = self._row_tasks_
        self.tasks_ = np.unique(tasks[~mask])
        empty = np.setdiff1d(np.unique(tasks), self.tasks_)
        if empty.size and self._explicit_tasks_:
            raise ValueError(f"The tasks {empty.tolist()} of sample_task have no labelled row; "
                             "every task needs labels to train its head.")
        self.task_weights_ = self._resolve_task_weights(tasks[~mask])
        self.default_task_ = self._default_task(tasks)
        index = np.full(len(tasks), -1, dtype=np.int64)
        index[~mask] = np.searchsorted(self.tasks_, tasks[~mask])
        return np.column_stack([y_enc, index.astype(y_enc.dtype)])

    def _resolve_task_weights(self, labelled_tasks):
        """One loss weight per task of ``tasks_`` from ``task_weights``."""
        weights = self.task_weights
        if weights is None:
            return np.ones(len(self.tasks_))
        if isinstance(weights, str):
            if weights != "balanced":
                raise ValueError('task_weights must be None, "balanced" or a dict {task: '
                                 f"weight}}; got {weights!r}.")
            counts = np.array([(labelled_tasks == t).sum() for t in self.tasks_], dtype=float)
            return counts.sum() / (len(self.tasks_) * counts)
        if not isinstance(weights, Mapping):
            raise TypeError('task_weights must be None, "balanced" or a dict {task: weight}; '
                            f"got a {type(weights).__name__}.")
        unknown = [k for k in weights if k not in set(self.tasks_.tolist())]
        if unknown:
            raise ValueError(f"task_weights names unknown tasks {unknown}; the tasks with "
                             f"labelled rows are {self.tasks_.tolist()}.")
        out = np.ones(len(self.tasks_))
        for i, t in enumerate(self.tasks_.tolist()):
            value = weights.get(t, 1.0)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not np.isfinite(value) or value < 0:
                raise ValueError(f"task_weights must be finite non-negative numbers; got "
                                 f"{value!r} for task {t!r}.")
            out[i] = value
        if not out.sum() > 0:
            raise ValueError("task_weights gives every task weight 0.")
        return out

    def _default_task(self, tasks):
        """The task ``predict`` uses without ``sample_task``: ``task``, the only task, or
        (tasks from the domains) the only target domain with labels; else None."""
        if self.task is not None:
            self._task_index([self.task])  # raises for an unknown task
            return self.task
        if len(self.tasks_) == 1:
            return self.tasks_[0]
        if not self._explicit_tasks_:
            targets = self.tasks_[self.tasks_ < 0]
            if len(targets) == 1:
                return targets[0]
        return None

    def _training_rows(self, unlabelled, sample_domain):
        return ~unlabelled  # an unlabelled row belongs to no head's loss

    def _make_sampler(self, sample_domain, y):
        # plain shuffled batches: the rows' domains play no part in the loss
        return DomainBatchSampler(np.ones(len(sample_domain)), self.batch_size, self._generator_)

    def initialize_domain_components(self):
        head = get_layer(self.module_, self.head)
        n_extra = len(self.tasks_) - 1 if hasattr(self, "tasks_") else 0
        self.task_heads_ = torch.nn.ModuleList(
            [fresh_copy(head) for _ in range(n_extra)]).to(self.device)

    # -- the loss: each row through its task's head ------------------------------------
    def _all_heads(self, y_pred):
        """``(n, n_tasks, n_outputs)``: the module's head is task 0, ``task_heads_`` the rest."""
        z = self._captured_[self._last_layer()]
        outs = [y_pred.reshape(len(y_pred), -1)] + \
            [h(z).reshape(len(z), -1).to(y_pred.dtype) for h in self.task_heads_]
        return torch.stack(outs, dim=1)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = y_true.to(y_pred.device)
        if y_true.dim() == 1:  # not our packed labels (e.g. a user's scoring call)
            return super().get_loss(y_pred, y_true, X=X, training=training)
        labels, task = y_true[:, 0], y_true[:, 1].long()
        if self._task == "classification":
            labels = labels.long()
        rows = torch.arange(len(task), device=task.device)
        out = self._all_heads(y_pred)[rows, task.clamp(min=0)]
        loss, keep = self.sample_loss(out, labels)
        weights = self.__dict__.get("_task_weight_t_")
        if weights is None or weights.device != loss.device:
            weights = self._task_weight_t_ = torch.as_tensor(self.task_weights_,
                                                             device=loss.device)
        weight = weights.to(loss.dtype)[task.clamp(min=0)]
        row_weight = self.row_weight(X) if training else None
        if row_weight is not None:
            weight = weight * row_weight.to(loss.dtype)
        return (loss * weight).sum() / keep.sum().clamp(min=1)

    # -- prediction ------------------------------------------------------------------------
    def _task_index(self, tasks):
        """Positions in ``tasks_`` of the given task labels, with a clear error."""
        tasks = np.asarray(tasks)
        known = set(self.tasks_.tolist())
        unknown = sorted({t for t in tasks.tolist() if t not in known}, key=str)
        if unknown:
            raise ValueError(f"Unknown tasks {unknown[:5]}: this {type(self).__name__} was "
                             f"fitted on the tasks {self.tasks_.tolist()} (those with labelled "
                             "rows).")
        return np.searchsorted(self.tasks_, tasks)

    def _row_task_index(self, n, sample_task):
        if sample_task is None:
            if self.default_task_ is None:
                raise ValueError(
                    f"{type(self).__name__} was fitted on the tasks {self.tasks_.tolist()}: "
                    "pass sample_task= to predict (one task per row), or set task= to the "
                    "task to predict for.")
            return np.full(n, self._task_index([self.default_task_])[0])
        sample_task = column_or_1d(sample_task, warn=True)
        if len(sample_task) != n:
            raise ValueError(f"sample_task has {len(sample_task)} entries but X has {n} rows.")
        return self._task_index(sample_task)

    def _task_outputs(self, X, sample_task):
        """The raw output of each row's task head, as an ndarray ``(n, n_outputs)``."""
        X = self._check_X_predict(X)
        index = self._row_task_index(len(X), sample_task)
        step = max(self.batch_size, 256)
        self._set_training(False)
        parts = []
        with torch.no_grad():
            for i in range(0, len(X), step):
                x = torch.as_tensor(X[i:i + step], device=self.device)
                heads = self._all_heads(self.infer(x).float())
                rows = torch.arange(len(x), device=heads.device)
                task = torch.as_tensor(index[i:i + step], device=heads.device)
                parts.append(to_np(heads[rows, task]))
        return np.concatenate(parts) if parts else np.zeros((0, self.n_outputs_))


_PARAMS = _HEAD + """
    task : int or str, default=None
        The task ``predict`` uses when it is not given ``sample_task``. None:
        the only task, or, when the tasks are the domains, the only target
        domain (negative code) with labels; with several candidates
        ``predict`` then needs ``sample_task``.
    task_weights : None, "balanced" or dict, default=None
        Weight of each task's loss. The loss of a batch is the mean over its
        labelled rows of each row's loss times its task's weight, so by
        default a task counts in proportion to its labelled rows; "balanced"
        weighs task ``t`` by ``n / (n_tasks n_t)`` (every task counts
        alike); a dict ``{task: weight}`` sets some (the others weigh 1)."""
_ATTRS = """
    tasks_ : ndarray
        The tasks with labelled rows, sorted; task ``tasks_[0]`` uses the
        module's own head, the others ``task_heads_``.
    task_heads_ : nn.ModuleList
        One copy of the head per further task (newly initialised).
    task_weights_ : ndarray of shape (n_tasks,)
        The loss weight of each task.
    default_task_ : int, str or None
        The task of ``predict`` without ``sample_task`` (None: it must be
        given)."""
_SUMMARY = """Multi-task network: a shared trunk and one head per task (hard parameter sharing).

    Several related tasks are learnt together so that each helps the others
    (Caruana, 1997): every task has its own output head (a copy of the
    module's ``head`` layer, reading the same trunk) and all tasks share the
    rest of the network, the trunk, which a task with few labels thus
    learns from the others' rows. Hard parameter sharing is the most common
    form of multi-task deep learning and lowers the risk of overfitting any
    one task (Ruder, 2017). The tasks are given by ``sample_task`` in
    ``fit`` (routed like ``sample_domain``), by default the domain codes,
    so that each domain is its own task; every row's loss goes through its
    task's head, weighted by ``task_weights``. Only labelled rows are used,
    and there is no domain loss (``reg``, ``warmup`` have no effect; with
    ``source_weights`` the source domains' rows are weighted too).
    ``predict(X, sample_task=...)`` answers with each row's task head."""
_REFS = """    References
    ----------
    .. [1] R. Caruana. "Multitask Learning". Machine Learning 28, 41-75, 1997.
    .. [2] S. Ruder. "An Overview of Multi-Task Learning in Deep Neural
       Networks". arXiv:1706.05098, 2017."""


class MultiTaskClassifier(DomainAdaptationClassifierMixin, _MultiTask):
    __doc__ = net_doc(_SUMMARY + """ The heads share the label set: the
    classes of all tasks together (``classes_``).""", _PARAMS, _ATTRS, _REFS, """    Examples
    --------
    >>> import numpy as np
    >>> from sktl.deep import MultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 4))
    >>> task = np.repeat([0, 1], 60)
    >>> y = np.where(task == 0, X[:, 0] > 0, X[:, 0] + X[:, 1] > 0).astype(int)
    >>> net = MultiTaskClassifier(max_epochs=2, random_state=0).fit(X, y, sample_task=task)
    >>> net.predict(X[:3], sample_task=[0, 1, 1]).shape
    (3,)""", last=" (the heads read the last one)")

    def predict_proba(self, X, sample_task=None):
        """Class probabilities from each row's task head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_task : array-like of shape (n_samples,), default=None
            The task of each row; None uses ``default_task_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._softmax(self._logits(X, sample_task))

    def _logits(self, X, sample_task=None):
        return self._task_outputs(X, sample_task)

    @staticmethod
    def _softmax(logits):
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X, sample_task=None):
        """Most probable class under each row's task head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_task : array-like of shape (n_samples,), default=None
            The task of each row; None uses ``default_task_``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X, sample_task)  # raises NotFittedError first when unfitted
        return self.classes_[logits.argmax(axis=1)]


class MultiTaskRegressor(DomainAdaptationRegressorMixin, _MultiTask):
    __doc__ = net_doc(_SUMMARY, _PARAMS, _ATTRS, _REFS, """    Examples
    --------
    >>> import numpy as np
    >>> from sktl.deep import MultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 4))
    >>> task = np.repeat(["a", "b"], 60)
    >>> y = np.where(task == "a", X[:, 0], X[:, 0] + X[:, 1])
    >>> net = MultiTaskRegressor(max_epochs=2, random_state=0).fit(X, y, sample_task=task)
    >>> net.predict(X[:2], sample_task=["a", "b"]).shape
    (2,)""", last=" (the heads read the last one)")

    def predict(self, X, sample_task=None):
        """Each row's prediction by its task head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_task : array-like of shape (n_samples,), default=None
            The task of each row; None uses ``default_task_``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        out = self._task_outputs(X, sample_task)
        return out.reshape(len(out), -1)[:, 0].astype(float)
