"""Warnings and errors raised by sktl."""

__all__ = ["DomainWarning"]


class DomainWarning(UserWarning):
    """The data's domain information is missing or unusual.

    Raised, for instance, when an estimator is fitted with no target rows at
    all and therefore cannot adapt.
    """
