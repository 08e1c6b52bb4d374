"""Domain-adaptation pipelines built from plain scikit-learn ``Pipeline``."""

from sklearn.pipeline import Pipeline, _name_estimators

from ._base import DAMixin, LabelledOnly

__all__ = ["LabelledOnly", "make_da_pipeline"]


def _requests_domains(step):
    """Whether ``step.fit`` asks for ``sample_domain`` (e.g. the sktl.deep nets)."""
    try:
        routing = step.get_metadata_routing()
        return bool(routing.consumes(method="fit", params={"sample_domain"}))
    except (AttributeError, TypeError):
        return False


def _needs_wrapping(step):
    return (
        step not in (None, "passthrough")
        and not isinstance(step, (DAMixin, LabelledOnly))
        and hasattr(step, "fit")
        and not hasattr(step, "transform")
        and not _requests_domains(step)
    )


def make_da_pipeline(*steps, memory=None, verbose=False):
    """Build a :class:`~sklearn.pipeline.Pipeline` for domain adaptation.

    Like :func:`~sklearn.pipeline.make_pipeline`, but a final step that is a
    plain scikit-learn predictor is wrapped in :class:`~sktl.LabelledOnly`, so
    it is trained on the labelled rows only and never learns the mask value
    -1 as a class. Domain-adaptation estimators are left as they are. The
    result is an ordinary ``Pipeline``: ``sample_domain`` reaches its steps by
    metadata routing, or is inferred from masked labels when not passed.

    Parameters
    ----------
    *steps : list of estimators
        Transformers followed by a final estimator.
    memory : str or object with the joblib.Memory interface, default=None
        Passed to ``Pipeline``.
    verbose : bool, default=False
        Passed to ``Pipeline``.

    Returns
    -------
    pipeline : Pipeline

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sktl import CORAL
    >>> from sktl.pipeline import make_da_pipeline
    >>> from sktl.datasets import make_domain_shift
    >>> X, y, sd = make_domain_shift(random_state=0, mask_target=True)
    >>> pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    >>> pipe.fit(X, y).predict(X[sd < 0]).shape
    (100,)
    """
    named = _name_estimators(steps)
    if named and _needs_wrapping(named[-1][1]):
        named[-1] = (named[-1][0], LabelledOnly(named[-1][1]))
    return Pipeline(named, memory=memory, verbose=verbose)
