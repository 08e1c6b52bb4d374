"""Shifted data sets: seeded generators and loaders for real benchmarks."""

from ._generators import make_distant_shift, make_domain_shift, make_heteroscedastic_shift
from ._loaders import (
    get_data_home,
    load_amazon_reviews,
    load_coil,
    load_corn_nir,
    load_mnist_usps,
    load_office_caltech,
    load_wine_quality,
)

__all__ = [
    "get_data_home",
    "load_amazon_reviews",
    "load_coil",
    "load_corn_nir",
    "load_mnist_usps",
    "load_office_caltech",
    "load_wine_quality",
    "make_distant_shift",
    "make_domain_shift",
    "make_heteroscedastic_shift",
]
