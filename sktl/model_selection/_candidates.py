"""Candidates of a label-free decision: "no adaptation" and sktl methods around a user's model.

:func:`no_adaptation` strips the domain-adaptation steps out of a model, so
that the baseline of a decision is always the user's own model trained on the
labelled rows. :func:`default_candidates` builds the small library the
search tries when the user names no method: every sktl method that applies
to the task, each with a short grid, around the user's final estimator.
"""

from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline

from .._base import BaseDAEstimator, BaseDATransformer, LabelledOnly

NO_ADAPTATION = "no adaptation"


def _split_pipeline(estimator):
    """``(preprocessing steps, final estimator)``, unwrapping ``LabelledOnly``."""
    if isinstance(estimator, Pipeline):
        pre, head = list(estimator.steps[:-1]), estimator.steps[-1][1]
    else:
        pre, head = [], estimator
    if isinstance(head, LabelledOnly):
        head = head.estimator
    return pre, head


def _is_da(step):
    return isinstance(step, (BaseDATransformer, BaseDAEstimator))


def no_adaptation(estimator):
    """The model without its domain-adaptation steps: the baseline of every decision.

    Domain-adaptation transformers are dropped from a pipeline, and a
    domain-adaptation meta-estimator (reweighter, boosting, ...) is replaced
    by the estimator it wraps; the final predictor is wrapped in
    :class:`~sktl.LabelledOnly` so that it learns from the labelled rows only.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A model, adapted or not.

    Returns
    -------
    baseline : Pipeline or LabelledOnly
        An unfitted model that adapts nothing.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sktl import CORAL, make_da_pipeline
    >>> from sktl.model_selection import no_adaptation
    >>> no_adaptation(make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression()))
    Pipeline(steps=[('standardscaler', StandardScaler()),
                    ('labelledonly', LabelledOnly(estimator=LogisticRegression()))])
    """
    pre, head = _split_pipeline(estimator)
    pre = [(name, clone(step)) for name, step in pre if not _is_da(step)
           and step not in (None, "passthrough")]
    while _is_da(head) and getattr(head, "estimator", None) is not None:
        head = head.estimator
    if _is_da(head):
        raise ValueError(f"{type(head).__name__} has no wrapped estimator to fall back on; "
                         "pass baseline= explicitly.")
    final = ("labelledonly", LabelledOnly(clone(head)))
    return Pipeline(pre + [final]) if pre else final[1]


def _around(estimator, method=None, reweighter=None):
    """The user's model with a DA transformer before its final step, or its head reweighted."""
    pre, head = _split_pipeline(estimator)
    pre = [(name, clone(step)) for name, step in pre]
    if reweighter is not None:
        return Pipeline(pre + [("adapt", reweighter(clone(head)))])
    return Pipeline(pre + [("adapt", method), ("estimator", LabelledOnly(clone(head)))])


def default_candidates(estimator, n_features, task=None, *, shift=None):
    """The sktl methods that apply to the task, with short grids, around ``estimator``.

    With ``shift`` (a :func:`sktl.metrics.diagnose_shift` report or its
    verdict), only the methods of the families that fit the diagnosed shift
    are kept (:data:`sktl.metrics.SHIFT_FAMILIES`): a label shift gets
    :class:`~sktl.LabelShiftClassifier`, a covariate shift the reweighters
    (with :class:`~sktl.KLIEP` and :class:`~sktl.ULSIF`), a conditional shift
    the feature alignments, "no shift" no method at all.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The user's model (its preprocessing steps are kept, the methods go
        right before its final estimator or wrap it).
    n_features : int
        Number of input features (caps the subspace dimensions).
    task : {"classification", "regression"}, default=None
        Inferred from ``estimator`` when None.
    shift : ShiftDiagnosis or str, default=None
        A diagnosis (its ``recommended`` estimators are used) or a verdict
        such as ``"label shift"``; None keeps every method.

    Returns
    -------
    candidates : dict
        ``{name: unfitted estimator}``, "no adaptation" first.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktl.model_selection import default_candidates
    >>> list(default_candidates(LogisticRegression(), 5, shift="label shift"))
    ['no adaptation', 'LabelShiftClassifier']
    """
    from .. import (
        CORAL,
        JDA,
        KLIEP,
        KMM,
        TCA,
        ULSIF,
        DiscriminativeReweighter,
        LabelShiftClassifier,
        SubspaceAlignment,
    )

    if task is None:
        task = "classification" if is_classifier(_split_pipeline(estimator)[1]) else "regression"
    out = {NO_ADAPTATION: no_adaptation(estimator)}
    out["DiscriminativeReweighter"] = _around(
        estimator, reweighter=lambda e: DiscriminativeReweighter(e))
    out["KMM"] = _around(estimator, reweighter=lambda e: KMM(e, random_state=0))
    for reg in (0.1, 1.0):
        out[f"CORAL reg={reg:g}"] = _around(estimator, CORAL(reg=reg))
    dims = sorted({k for k in (min(10, n_features - 1), min(30, n_features - 1)) if k >= 1})
    for k in dims:
        out[f"SA k={k}"] = _around(estimator, SubspaceAlignment(k))
        out[f"TCA k={k}"] = _around(estimator, TCA(k, mu=1.0, random_state=0))
    if task == "classification" and dims:
        out[f"JDA k={dims[-1]}"] = _around(estimator, JDA(dims[-1], n_iter=5, random_state=0))
    if shift is None:
        return out
    keep = set(_recommended(shift))
    if "KLIEP" in keep:
        out["KLIEP"] = _around(estimator, reweighter=lambda e: KLIEP(e, random_state=0))
    if "ULSIF" in keep:
        out["ULSIF"] = _around(estimator, reweighter=lambda e: ULSIF(e, random_state=0))
    if "LabelShiftClassifier" in keep and task == "classification":
        out["LabelShiftClassifier"] = _around(
            estimator, reweighter=lambda e: LabelShiftClassifier(e, random_state=0))
    return {name: est for name, est in out.items()
            if name == NO_ADAPTATION or _method_name(est) in keep}


def _recommended(shift):
    """The estimator names a diagnosis (or a verdict) recommends."""
    from ..metrics import SHIFT_FAMILIES

    if hasattr(shift, "recommended"):
        return list(shift.recommended)
    kinds = [k.strip() for k in str(shift).split("+")]
    unknown = [k for k in kinds if k not in SHIFT_FAMILIES]
    if unknown:
        raise ValueError(f"shift must be a diagnose_shift report or one of "
                         f"{sorted(SHIFT_FAMILIES)} (joined by '+'); got {shift!r}.")
    return [name for k in kinds for name in SHIFT_FAMILIES[k].estimators]


def _method_name(candidate):
    """Class name of a candidate's adaptation step (the ``adapt`` step of ``_around``)."""
    return type(candidate.named_steps["adapt"]).__name__
