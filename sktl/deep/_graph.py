"""Graphs in transfer: SPA's spectral alignment, and GLoMo's transferred relational graphs.

SPA (DANN plus graph spectral alignment and neighbour-aware pseudo-labels)
aligns the domains' batch graphs. GLoMo learns, without labels, a graph
predictor giving each row an affinity graph between its features (trained
with a feature predictor by context prediction on the rows of every
domain); the graphs, not the features, are handed to a downstream network
as a feature-mixing layer.
"""

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from .._base import BaseDATransformer
from ._base import DomainAdaptationClassifierMixin, DomainAdaptationNet
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


class GraphPredictor(nn.Module):
    """GLoMo's graph predictor for tabular rows: ``n_graphs`` affinity graphs between features.

    Feature ``j`` of a row is embedded as ``x_j * v_j + p_j`` (a value
    embedding and a position embedding of its own). Graph ``m`` links
    feature ``i`` to feature ``j`` with the affinity
    ``a_ij = relu(q_i . k_j / sqrt(h) + b_m)^2``, the squared ReLU of the
    paper, where the key ``k_j`` reads feature ``j``'s embedding and the
    query ``q_i`` only feature ``i``'s position, so that the graph of a
    feature never sees its own value (the context prediction could
    otherwise read it back). Self-loops are removed and each row of a graph
    is normalised to sum to one, with ``eps`` shared uniformly so that a
    row without affinity is uniform over the other features.

    Parameters
    ----------
    n_features : int
        Number of features (at least 2).
    n_graphs : int, default=4
        Number of graphs (the paper's heads).
    embedding_dim : int, default=16
        Width ``h`` of the embeddings, keys and queries.
    eps : float, default=1e-6
        Mass spread over each row of a graph before normalising.
    """

    def __init__(self, n_features, n_graphs=4, embedding_dim=16, eps=1e-6):
        super().__init__()
        d, h = n_features, embedding_dim
        self.n_graphs, self.embedding_dim, self.eps = n_graphs, embedding_dim, eps
        self.value = nn.Parameter(torch.randn(d, h) / math.sqrt(h))
        self.position = nn.Parameter(torch.randn(d, h) / math.sqrt(h))
        self.key = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, n_graphs * h))
        self.query = nn.Linear(h, n_graphs * h)
        self.bias = nn.Parameter(torch.zeros(n_graphs))
        self.register_buffer("off_diagonal", 1.0 - torch.eye(d))

    def forward(self, z):
        n, d = z.shape
        m, h = self.n_graphs, self.embedding_dim
        k = self.key(z[:, :, None] * self.value + self.position).view(n, d, m, h)
        q = self.query(self.position).view(d, m, h)
        scores = torch.einsum("imh,njmh->nmij", q, k) / math.sqrt(h)
        a = torch.relu(scores + self.bias[None, :, None, None]).pow(2) * self.off_diagonal
        return (a + self.eps * self.off_diagonal) / (a.sum(-1, keepdim=True)
                                                     + self.eps * (d - 1))


class ContextPredictor(nn.Module):
    """The graph predictor with GLoMo's feature predictor, for context prediction.

    Each feature ``i`` of a row is predicted from the other features: its
    own feature embeddings ``f_j = x_j * u_j + r_j`` are mixed by every
    graph (``sum_j G_ij f_j``, no self-loop), concatenated with feature
    ``i``'s position and passed through an MLP; the output is the predicted
    row. Trained with the squared error, the graphs learn which features
    tell about which.

    Parameters
    ----------
    n_features : int
    n_graphs : int, default=4
    embedding_dim : int, default=16
    hidden_units : int, default=64
        Width of the predicting MLP's hidden layer.
    """

    def __init__(self, n_features, n_graphs=4, embedding_dim=16, hidden_units=64):
        super().__init__()
        d, h = n_features, embedding_dim
        self.graph = GraphPredictor(n_features, n_graphs, embedding_dim)
        self.value = nn.Parameter(torch.randn(d, h) / math.sqrt(h))
        self.position = nn.Parameter(torch.randn(d, h) / math.sqrt(h))
        self.target = nn.Parameter(torch.randn(d, h) / math.sqrt(h))
        self.predict = nn.Sequential(nn.Linear((n_graphs + 1) * h, hidden_units), nn.ReLU(),
                                     nn.Linear(hidden_units, 1))

    def forward(self, z):
        n, d = z.shape
        f = z[:, :, None] * self.value + self.position
        context = torch.einsum("nmij,njh->nimh", self.graph(z), f).flatten(2)
        return self.predict(torch.cat([context, self.target.expand(n, d, -1)], -1))[..., 0]


class GraphMixing(nn.Module):
    """Hands learned graphs to a network: ``[x, G_1 z, ..., G_M z]`` for each row.

    ``z`` is the row standardised with the statistics of the graph
    predictor's training rows; ``G_m z`` mixes its features with graph
    ``m`` (row-stochastic, so each mixed feature is a weighted mean of the
    other features).

    Parameters
    ----------
    graph : GraphPredictor
        A trained graph predictor (its parameters are frozen).
    mean, scale : Tensor of shape (n_features,)
        The standardisation.
    """

    def __init__(self, graph, mean, scale):
        super().__init__()
        self.graph = graph
        for p in self.graph.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        z = (x - self.mean) / self.scale
        mixed = torch.einsum("nmij,nj->nmi", self.graph(z), z)
        return torch.cat([x, mixed.flatten(1)], 1)


class _ContextPredictionNet(DomainAdaptationNet):
    """The shared loop training a :class:`ContextPredictor` on unlabelled rows."""

    _task = "regression"

    def __init__(self, module=None, *, n_graphs=4, embedding_dim=16, hidden_units=64,
                 **kwargs):
        super().__init__(module, adapt_layers=(), **kwargs)
        self.n_graphs = n_graphs
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units

    def _build_module(self, n_features=None):
        return ContextPredictor(self.input_shape_[0], self.n_graphs, self.embedding_dim,
                                self.hidden_units)

    def fit_rows(self, Z, sample_domain):
        """Train on standardised rows ``Z`` (float32) of the domains ``sample_domain``."""
        self.input_shape_ = Z.shape[1:]
        self.n_outputs_ = Z.shape[1]
        return self._fit_arrays(Z, np.zeros(len(Z), dtype=np.float32), sample_domain)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        x = X["X"] if isinstance(X, dict) else X
        return F.mse_loss(y_pred.float(), x.to(y_pred.device).float())


class GLoMoTransformer(BaseDATransformer):
    """Unsupervised relational graphs between features, learned on every domain (GLoMo).

    GLoMo (Yang, Zhao, Dhingra, He, Cohen, Salakhutdinov & LeCun, 2018)
    transfers graphs rather than features: a graph predictor (key and
    query networks, squared-ReLU affinities normalised per row) is trained
    together with a feature predictor by context prediction on unlabelled
    data, and the graphs it predicts for new inputs weight the mixing of a
    downstream model's features. Here the positions are a row's features:
    each graph says, for every feature, which other features predict it,
    and the context prediction task is to predict every (standardised)
    feature of a row from the others through the graphs
    (:class:`ContextPredictor`). It trains on every row of every domain,
    labels ignored, in :class:`DomainAdaptationNet`'s loop (batches mix
    source and target rows).

    ``transform`` hands the graphs on as a feature-mixing layer: a row
    ``x`` becomes ``[x, G_1 z, ..., G_M z]``, ``z`` the standardised row
    and ``G_m`` its ``m``-th graph, for any downstream estimator (a linear
    model, a deep net); :class:`GLoMoClassifier` puts the same frozen layer
    in front of a network. ``graphs`` returns the graphs themselves. This is
    the paper's idea at its smallest: one layer of graphs, tabular
    positions, a masked-feature rather than a next-word objective.

    Parameters
    ----------
    n_graphs : int, default=4
        Number of graphs per row (the paper's heads).
    embedding_dim : int, default=16
        Width of the embeddings, keys and queries.
    hidden_units : int, default=64
        Width of the feature predictor's hidden layer.
    max_epochs : int, default=50
        Training epochs of the context prediction.
    lr : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=64
        Rows per step (half source, half target when both are present).
    device : str, default="auto"
        "auto" trains on CUDA when available, else on the CPU.
    random_state : int or None, default=None
        Seeds torch and the batch sampler.

    Attributes
    ----------
    predictor_ : skorch net
        The trained context-prediction net; ``predictor_.module_.graph`` is
        the :class:`GraphPredictor`.
    mixing_ : GraphMixing
        The frozen feature-mixing layer that ``transform`` applies.
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation (over the rows of every domain).
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of features seen during fit, when ``X`` had string column names.

    References
    ----------
    .. [1] Z. Yang, J. Zhao, B. Dhingra, K. He, W. W. Cohen, R. Salakhutdinov
       and Y. LeCun. "GLoMo: Unsupervised Learning of Transferable
       Relational Graphs". NeurIPS 2018.

    Examples
    --------
    >>> from sktl.deep import GLoMoTransformer
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(40, 40, n_features=3, random_state=0)
    >>> glomo = GLoMoTransformer(n_graphs=2, max_epochs=2, random_state=0)
    >>> glomo.fit(X, sample_domain=sd).transform(X).shape   # [x, G_1 z, G_2 z]
    (80, 9)
    >>> glomo.graphs(X[:5]).shape                             # rows, graphs, features^2
    (5, 2, 3, 3)
    """

    _parameter_constraints = {
        "n_graphs": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_units": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "device": [StrOptions({"auto", "cpu", "cuda"}), str],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }
    _requires_labelled_source = False

    def __init__(self, n_graphs=4, *, embedding_dim=16, hidden_units=64, max_epochs=50,
                 lr=1e-3, batch_size=64, device="auto", random_state=None):
        self.n_graphs = n_graphs
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _fit(self, X, y, sample_domain):
        if X.shape[1] < 2:
            raise ValueError(f"{type(self).__name__} learns graphs between features and needs "
                             f"at least 2; got {X.shape[1]} feature(s).")
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        Z = ((X - self.mean_) / self.scale_).astype(np.float32)
        self.predictor_ = _ContextPredictionNet(
            n_graphs=self.n_graphs, embedding_dim=self.embedding_dim,
            hidden_units=self.hidden_units, max_epochs=self.max_epochs, lr=self.lr,
            batch_size=self.batch_size, device=self.device, random_state=self.random_state)
        self.predictor_.fit_rows(Z, sample_domain)
        self.mixing_ = GraphMixing(self.predictor_.module_.graph, self.mean_,
                                   self.scale_).eval()
        return self

    @torch.no_grad()
    def _batched(self, fn, X):
        """``fn(mixing, rows)`` over chunks of ``X``, in float64 (chunking-invariant)."""
        mixing = copy.deepcopy(self.mixing_).double().eval()
        device = next(mixing.buffers()).device
        X = np.asarray(X, dtype=np.float64)
        out = [fn(mixing, torch.as_tensor(X[i:i + 256], device=device))
               for i in range(0, len(X), 256)]
        return np.concatenate([o.cpu().numpy() for o in out])

    def _transform(self, X, sample_domain):
        return self._batched(lambda mixing, x: mixing(x), X)

    def graphs(self, X):
        """Each row's graphs: ``G[n, m, i, j]`` is how much feature ``j`` tells about ``i``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        graphs : ndarray of shape (n_samples, n_graphs, n_features, n_features)
            Non-negative, zero on the diagonal, each row summing to one.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = self._check_new_X(X)
        return self._batched(lambda mixing, x: mixing.graph((x - mixing.mean) / mixing.scale),
                             X)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the inputs, then ``graph<m>_<input>`` per graph.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str
        """
        from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

        check_is_fitted(self)
        names = list(_check_feature_names_in(self, input_features))
        return np.asarray(names + [f"graph{m}_{name}" for m in range(self.n_graphs)
                                   for name in names], dtype=object)


class GLoMoClassifier(DomainAdaptationClassifierMixin, DomainAdaptationNet):
    __doc__ = net_doc(
        """A network reading features mixed by GLoMo's graphs, learned without labels.

    First a :class:`GLoMoTransformer` learns its graph predictor by context
    prediction on every row given to ``fit`` (source and target, labels
    ignored); then the network is trained on the labelled rows behind the
    frozen mixing layer, so that it reads ``[x, G_1 z, ..., G_M z]`` for
    every row (Yang et al., 2018: the graphs are transferred, the network
    on top is new). There is no domain loss: what crosses the domains is the
    graph predictor, fitted on all of them. The same network on ``x`` alone
    is :class:`SourceOnlyClassifier`, the comparison that says whether the
    graphs help.""", """
    n_graphs : int, default=4
        Number of graphs (see :class:`GLoMoTransformer`).
    embedding_dim : int, default=16
        Width of the graph predictor's embeddings.
    graph_epochs : int, default=50
        Epochs of the unsupervised context prediction (the network's
        training takes ``max_epochs``).""", """
    graphs_ : GLoMoTransformer
        The fitted graph learner (``graphs_.graphs(X)`` gives the graphs).""",
        """    References
    ----------
    .. [1] Z. Yang, J. Zhao, B. Dhingra, K. He, W. W. Cohen, R. Salakhutdinov
       and Y. LeCun. "GLoMo: Unsupervised Learning of Transferable
       Relational Graphs". NeurIPS 2018.""",
        example("GLoMoClassifier", ", graph_epochs=2"), last=" (the network "
        "sits behind the mixing layer as ``net``: its layers are ``net.<name>``)").replace(
        'default=("features",)', 'default=("net.features",)')

    def __init__(self, module=None, *, n_graphs=4, embedding_dim=16, graph_epochs=50,
                 adapt_layers=("net.features",), **kwargs):
        super().__init__(module, adapt_layers=adapt_layers, **kwargs)
        self.n_graphs = n_graphs
        self.embedding_dim = embedding_dim
        self.graph_epochs = graph_epochs

    def _before_training(self, X, sample_domain):
        self.graphs_ = GLoMoTransformer(
            self.n_graphs, embedding_dim=self.embedding_dim, max_epochs=self.graph_epochs,
            lr=self.lr, batch_size=self.batch_size, device=self._device_arg_,
            random_state=self.random_state).fit(X, sample_domain=sample_domain)

    def _build_module(self, n_features=None):
        width = self.input_shape_[0] * (self.n_graphs + 1)
        return _GraphMixedNet(self.graphs_.mixing_, super()._build_module(width))


class _GraphMixedNet(nn.Module):
    """A frozen :class:`GraphMixing` layer, then the network ``net``."""

    def __init__(self, mixing, net):
        super().__init__()
        self.mixing = mixing
        self.net = net

    def forward(self, x):
        return self.net(self.mixing(x))
