"""The docstring every sktl.deep net shares, assembled around each method's own parts."""

from .._multisource import SOURCE_WEIGHTS_DOC

_PARAMETERS = """
    Parameters
    ----------
    module : nn.Module class or instance, default=None
        The network; None uses :class:`~sktl.deep.MLPModule` (its
        ``n_features``/``n_outputs`` are set from the data; other arguments
        go through ``module__hidden_units`` etc.). Any module works: name the
        layers to adapt in ``adapt_layers``.
    reg : {reg_type}, default={reg}
        Weight of the domain loss (skada's name for the trade-off).{why}
    warmup : bool, default={warmup}
        Ramp the weight from 0 to ``reg`` with ``2 / (1 + exp(-10 p)) - 1``,
        ``p`` the fraction of epochs done (Ganin et al., 2016).
    adapt_layers : str or tuple of str, default=("features",)
        Names of the layers whose activations are adapted{last}.
    max_epochs, lr, batch_size, optimizer, criterion, train_split, callbacks, verbose
        As in skorch's ``NeuralNet`` (defaults: 50 epochs, Adam, lr 1e-3,
        batch 64 = 32 source + 32 target rows, no internal validation split,
        silent). Add ``skorch.callbacks.EarlyStopping(monitor="train_loss")``
        for early stopping, ``verbose=1`` for the per-epoch table.
    device : str, default="auto"
        "auto" trains on CUDA when available, else on the CPU.
    mixed_precision : bool, default=False
        bfloat16 autocast on CUDA.
    random_state : int or None, default=None
        Seeds torch and the domain batch sampler."""

_SOURCE_WEIGHTS = SOURCE_WEIGHTS_DOC.replace("{what}", "source rows' task losses").rstrip()

_ATTRIBUTES = """

    Attributes
    ----------
    module_ : nn.Module
        The trained network.
    classes_ : ndarray
        Class labels (classifiers).
    history : skorch History
        Per-epoch training loss and timing.
    domains_ : ndarray of int
        Domain codes seen during fit.
    n_features_in_ : int
        Number of input features.
    source_weights_ : dict of int to float
        The factor of each source domain's rows (all 1 with "uniform")."""

_HEAD = """
    head : str, default="head"
        Name of the module's output layer, which must take the last adapted
        layer's activation as its input (as :class:`~sktl.deep.MLPModule`'s
        ``head`` takes ``features``)."""


def tuned(moons, digits, old="1 with the warm-up"):
    """The ``why`` of :func:`net_doc` for a default chosen by ``bench_deep_defaults.py``.

    ``moons``/``digits``: the target accuracies of the new and the old default
    on the benchmark's rotated moons and on MNIST -> USPS.
    """
    return f"""
        The default is the best of a sweep on development draws of the
        benchmark's tasks, confirmed on the reported draws and on held-out
        MNIST -> USPS: target accuracy {moons[0]} on the rotated moons and
        {digits[0]} on MNIST -> USPS, where the old default ({old}) gets
        {moons[1]} and {digits[1]} and the source-only net 0.682 and 0.376
        (``benchmarks/results/deep_defaults.md``)."""


def net_doc(summary, params="", attributes="", references="", examples="", *, reg="1.0",
            warmup="True", why="", last="", reg_type="float"):
    """Assemble a net's numpydoc docstring.

    ``params``/``attributes`` are extra entries (indented like the common
    ones), ``references``/``examples`` whole sections; ``last`` completes the
    ``adapt_layers`` entry for methods that use the last adapted layer; ``why``
    (indented like an entry's text) says where the ``reg``/``warmup`` defaults come from.
    """
    text = summary.rstrip() + "\n" + _PARAMETERS.format(reg=reg, warmup=warmup, why=why,
                                                        last=last, reg_type=reg_type) \
        + _SOURCE_WEIGHTS \
        + params.rstrip()
    text += _ATTRIBUTES + attributes.rstrip() + "\n"
    for section in (references, examples):
        if section:
            text += "\n" + section.rstrip() + "\n"
    return text


def example(name, extra=""):
    """A doctest fitting ``name`` for two epochs on a generated shift."""
    return f"""    Examples
    --------
    >>> from sktl.deep import {name}
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(60, 60, random_state=0, mask_target=True)
    >>> net = {name}(max_epochs=2{extra}, random_state=0).fit(X, y, sample_domain=sd)
    >>> net.predict(X[:3]).shape
    (3,)"""
