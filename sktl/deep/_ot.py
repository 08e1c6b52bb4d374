"""DeepJDOT: optimal transport of the joint (feature, label) distribution in a batch."""

import torch
from torch.nn import functional as F

from ._base import (
    DomainAdaptationClassifierMixin,
    DomainAdaptationNet,
    DomainAdaptationRegressorMixin,
)
from ._doc import example, net_doc
from ._losses import transport_plan


class _DeepJDOT(DomainAdaptationNet):
    def __init__(self, module=None, *, reg_dist=1.0, reg_cl=1.0, **kwargs):
        super().__init__(module, **kwargs)
        self.reg_dist = reg_dist
        self.reg_cl = reg_cl

    def jdot_cost(self, z_source, y_source, z_target, pred_target):
        """``reg_dist * ||g(x_s) - g(x_t)||^2 + reg_cl * L(y_s, f(g(x_t)))`` for every pair."""
        cost = self.reg_dist * torch.cdist(z_source, z_target).pow(2)
        if self._task == "classification":
            label = -F.log_softmax(pred_target, dim=1)[:, y_source.long()].T
        else:
            label = (y_source[:, None] - pred_target.reshape(len(pred_target), -1)[None, :, 0])
            label = label.pow(2)
        return cost + self.reg_cl * label

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if not (training and isinstance(X, dict)):
            return loss
        src, tgt, ns, nt = self._split(X)
        if ns < 2 or nt < 2:
            return loss
        y_true = y_true.to(y_pred.device)
        ys = y_true[src]
        keep = ys >= 0 if self._task == "classification" else ~torch.isnan(ys)
        z = self._captured_[self._last_layer()]
        zs = z[src]
        if not bool(keep.all()):
            zs, ys = zs[keep], ys[keep]
            if len(ys) < 2:
                return loss
        cost = self.jdot_cost(zs, ys, z[tgt], y_pred[tgt])
        plan = transport_plan(cost)  # exact, without gradient (Damodaran et al.)
        return loss + self.schedule() * (plan * cost).sum()


_PARAMS = """
    reg_dist : float, default=1.0
        Weight ``alpha`` of the squared feature distance in the cost.
    reg_cl : float, default=1.0
        Weight ``lambda_t`` of the label loss between a source label and a
        target prediction in the cost."""
_DOC = """DeepJDOT: transport source rows onto target rows in feature and label space.

    In every batch the exact optimal transport plan between the source and
    target rows is computed (without gradient) for the cost
    ``reg_dist * ||g(x_s) - g(x_t)||^2 + reg_cl * L(y_s, f(g(x_t)))``, ``g``
    the last adapted layer and ``f`` the rest of the network; the
    plan-weighted cost is then added to the task loss, pulling target
    features towards the source rows they are matched with and target
    predictions towards those rows' labels (Damodaran, Kellenberger,
    Flamary, Tuia & Courty, 2018). The plan is a Hungarian assignment for
    balanced batches; POT's solver (when installed) or SciPy's linear
    programme otherwise."""
_REFS = """    References
    ----------
    .. [1] B. B. Damodaran, B. Kellenberger, R. Flamary, D. Tuia and
       N. Courty. "DeepJDOT: Deep Joint Distribution Optimal Transport for
       Unsupervised Domain Adaptation". ECCV 2018."""
_LAST = " (the transport cost uses the last one)"


class DeepJDOTClassifier(DomainAdaptationClassifierMixin, _DeepJDOT):
    __doc__ = net_doc(_DOC, _PARAMS, references=_REFS, examples=example("DeepJDOTClassifier"),
                      last=_LAST)


class DeepJDOTRegressor(DomainAdaptationRegressorMixin, _DeepJDOT):
    __doc__ = net_doc("DeepJDOT for regression (see :class:`DeepJDOTClassifier`); the label "
                      "cost is the squared error.", _PARAMS, references=_REFS, last=_LAST)
