"""Helpers for the ``sample_domain`` convention (see :mod:`sktl.utils._domain`)."""

from ._domain import (
    MASKED_LABEL,
    SOURCE_DOMAIN,
    TARGET_DOMAIN,
    check_label_convention,
    check_sample_domain,
    check_X_y_domain,
    check_y_domain,
    infer_sample_domain,
    mask_target_labels,
    source_target_merge,
    source_target_split,
    unlabelled_mask,
)

__all__ = [
    "MASKED_LABEL",
    "SOURCE_DOMAIN",
    "TARGET_DOMAIN",
    "check_X_y_domain",
    "check_label_convention",
    "check_sample_domain",
    "check_y_domain",
    "infer_sample_domain",
    "mask_target_labels",
    "source_target_merge",
    "source_target_split",
    "unlabelled_mask",
]
