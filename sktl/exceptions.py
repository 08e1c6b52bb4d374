"""Warnings and errors raised by sktl."""

__all__ = ["DomainWarning", "NearSingularKernelWarning", "WeakCalibrationWarning"]


class DomainWarning(UserWarning):
    """The data's domain information is missing or unusual.

    Raised, for instance, when an estimator is fitted with no target rows at
    all and therefore cannot adapt.
    """


class NearSingularKernelWarning(UserWarning):
    """A kernel matrix was near-singular and was regularised.

    Issued when near-duplicate rows make a kernel matrix numerically singular
    and some of its directions are dropped to keep the problem well-posed.
    """


class WeakCalibrationWarning(UserWarning):
    """Conformal intervals or sets are uninformative for some rows.

    Issued by :mod:`sktl.conformal` when the importance weights leave the
    calibration rows too little mass for a row, so that its interval is
    infinite or its prediction set holds every class, and when intervals have
    zero width because the conformity-score quantile is exactly zero.
    """
