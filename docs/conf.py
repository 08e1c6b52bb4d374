"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of examples, Markdown results."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SKTL_DATA", str(ROOT.parent / "shared" / "data"))

project = "sktl"
author = "sktl developers"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
autosummary_generate = True
templates_path = ["_templates"]
autodoc_default_options = {}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
suppress_warnings = ["myst.header", "config.cache"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples"]
html_theme = "pydata_sphinx_theme"
html_title = "sktl"
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}


def _skip_request_setters(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated ``set_*_request`` methods (documented upstream)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_request_setters)
