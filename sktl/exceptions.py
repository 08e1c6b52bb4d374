"""Warnings and errors raised by sktl."""

__all__ = ["DomainWarning", "NearSingularKernelWarning"]


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
