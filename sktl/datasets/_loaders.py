"""Loaders for real domain-shift benchmarks. They read local files, never download.

The research feature dumps (Office-Caltech10, MNIST-USPS, COIL-20, Amazon
reviews, NIR corn) are not shipped in the package: pass ``data_home`` or set
the ``SKTL_DATA`` environment variable to a folder laid out like the
project's ``shared/data`` (see its ``SOURCES.md`` for provenance and licences).
The UCI wine-quality data (CC BY 4.0, Cortez et al. 2009) is small and ships
with sktl, so :func:`load_wine_quality` works out of the box.
"""

import gzip
import os
from importlib import resources
from pathlib import Path

import numpy as np

from ..utils._domain import SOURCE_DOMAIN, TARGET_DOMAIN

ENV_VAR = "SKTL_DATA"


def get_data_home(data_home=None):
    """Folder holding the benchmark data: ``data_home``, else ``$SKTL_DATA``.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    path : pathlib.Path
    """
    if data_home is None:
        data_home = os.environ.get(ENV_VAR)
    if data_home is None:
        raise ValueError(
            "No data folder given: pass data_home=... or set the SKTL_DATA "
            "environment variable to the folder holding the benchmark data "
            "(e.g. the project's shared/data). sktl never downloads data."
        )
    path = Path(data_home).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"Data folder {str(path)!r} does not exist.")
    return path


def _file(data_home, relative):
    path = get_data_home(data_home) / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} not found: the data folder must contain {relative!r}."
        )
    return path


def _pick(name, value, choices):
    key = str(value).lower()
    if key not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}; got {value!r}.")
    return choices[key]


def _pack(Xs, ys, Xt, yt):
    X = np.vstack([Xs, Xt]).astype(float)
    y = np.concatenate([np.ravel(ys), np.ravel(yt)])
    sd = np.r_[np.full(len(Xs), SOURCE_DOMAIN), np.full(len(Xt), TARGET_DOMAIN)]
    return X, y, sd.astype(np.int64)


def _loadmat(path):
    from scipy.io import loadmat

    return loadmat(path)


_OFFICE = {"amazon": "amazon", "a": "amazon", "caltech": "Caltech10",
           "caltech10": "Caltech10", "c": "Caltech10", "dslr": "dslr", "d": "dslr",
           "webcam": "webcam", "w": "webcam"}


def load_office_caltech(source="caltech", target="amazon", *, data_home=None):
    """Office-Caltech10 with 800-d SURF bag-of-words features (Gong et al. 2012).

    Four domains (amazon, caltech, dslr, webcam), 10 classes labelled 1..10.
    Features are raw counts; the usual protocol divides each row by its sum
    and then z-scores.

    Parameters
    ----------
    source, target : {"amazon", "caltech", "dslr", "webcam"}
        Domains (first letters accepted).
    data_home : str or path-like, default=None
        Folder holding ``office_caltech10_surf/``; defaults to ``$SKTL_DATA``.

    Returns
    -------
    X : ndarray of shape (n_samples, 800)
    y : ndarray of shape (n_samples,)
        True labels of both domains; mask the target's before adapting.
    sample_domain : ndarray of int
        ``1`` for source rows, ``-2`` for target rows.
    """
    out = []
    for dom in (source, target):
        name = _pick("domain", dom, _OFFICE)
        m = _loadmat(_file(data_home, f"office_caltech10_surf/{name}_SURF_L10.mat"))
        out += [m["fts"], m["labels"].ravel().astype(np.int64)]
    return _pack(out[0], out[1], out[2], out[3])


def load_mnist_usps(source="usps", target="mnist", *, data_home=None):
    """MNIST and USPS digits at 16x16 pixels, as released with JDA (Long et al. 2013).

    Parameters
    ----------
    source, target : {"mnist", "usps"}
        The two must differ.
    data_home : str or path-like, default=None
        Folder holding ``mnist_usps/``; defaults to ``$SKTL_DATA``.

    Returns
    -------
    X : ndarray of shape (n_samples, 256)
    y : ndarray of shape (n_samples,)
        Labels 1..10 (digit + 1), true for both domains.
    sample_domain : ndarray of int
    """
    names = {"mnist": "MNIST", "usps": "USPS"}
    s, t = _pick("source", source, names), _pick("target", target, names)
    if s == t:
        raise ValueError("source and target must differ.")
    m = _loadmat(_file(data_home, f"mnist_usps/{s}_vs_{t}.mat"))
    return _pack(m["X_src"].T, m["Y_src"].astype(np.int64), m["X_tar"].T,
                 m["Y_tar"].astype(np.int64))


def load_coil(source="coil1", target="coil2", *, data_home=None):
    """COIL-20 split into two domains of 720 images each (JDA release).

    Parameters
    ----------
    source, target : {"coil1", "coil2"}
        The two must differ.
    data_home : str or path-like, default=None
        Folder holding ``coil20/``; defaults to ``$SKTL_DATA``.

    Returns
    -------
    X : ndarray of shape (1440, 1024)
    y : ndarray of shape (1440,)
        20 classes, true for both domains.
    sample_domain : ndarray of int
    """
    names = {"coil1": "1", "coil2": "2", "1": "1", "2": "2"}
    s, t = _pick("source", source, names), _pick("target", target, names)
    if s == t:
        raise ValueError("source and target must differ.")
    m = _loadmat(_file(data_home, f"coil20/COIL_{s}.mat"))
    return _pack(m["X_src"].T, m["Y_src"].astype(np.int64), m["X_tar"].T,
                 m["Y_tar"].astype(np.int64))


def load_amazon_reviews(source="books", target="dvd", *, data_home=None):
    """Amazon product reviews, 400-d features, sentiment labels (Blitzer et al. 2007).

    Parameters
    ----------
    source, target : {"books", "dvd", "elec", "kitchen"}
    data_home : str or path-like, default=None
        Folder holding ``amazon_review_400/``; defaults to ``$SKTL_DATA``.

    Returns
    -------
    X : ndarray of shape (n_samples, 400)
    y : ndarray of shape (n_samples,)
        0 (negative) or 1 (positive), true for both domains.
    sample_domain : ndarray of int
    """
    names = {k: k for k in ("books", "dvd", "elec", "kitchen")}
    names["electronics"] = "elec"
    out = []
    for dom in (source, target):
        m = _loadmat(_file(data_home, f"amazon_review_400/{_pick('domain', dom, names)}_400.mat"))
        out += [np.asarray(m["fts"].todense() if hasattr(m["fts"], "todense") else m["fts"]),
                m["labels"].ravel().astype(np.int64)]
    return _pack(out[0], out[1], out[2], out[3])


_CORN_PROPERTIES = {"moisture": 0, "oil": 1, "protein": 2, "starch": 3}


def load_corn_nir(source="m5", target="mp6", *, target_property="moisture", data_home=None):
    """NIR spectra of 80 corn samples on three instruments (Cargill / Eigenvector).

    A calibration-transfer regression task: the same samples, in the same
    order, measured on instruments ``m5``, ``mp5`` and ``mp6`` (700 channels,
    1100-2498 nm).

    Parameters
    ----------
    source, target : {"m5", "mp5", "mp6"}
    target_property : {"moisture", "oil", "protein", "starch"}, default="moisture"
        The property to predict.
    data_home : str or path-like, default=None
        Folder holding ``corn_nir_cargill/``; defaults to ``$SKTL_DATA``.

    Returns
    -------
    X : ndarray of shape (160, 700)
    y : ndarray of shape (160,)
    sample_domain : ndarray of int
    """
    names = {"m5": "m5", "mp5": "mp5", "mp6": "mp6"}
    col = _pick("target_property", target_property, _CORN_PROPERTIES)
    props = np.loadtxt(_file(data_home, "corn_nir_cargill/corn_propvals.csv"),
                       delimiter=",", skiprows=1)[:, col]
    spectra = [
        np.loadtxt(_file(data_home, f"corn_nir_cargill/corn_{_pick('domain', d, names)}spec.csv"),
                   delimiter=",", skiprows=1)
        for d in (source, target)
    ]
    return _pack(spectra[0], props, spectra[1], props)


def _read_wine(colour):
    ref = resources.files("sktl.datasets") / "data" / f"winequality-{colour}.csv.gz"
    with ref.open("rb") as fh, gzip.open(fh, "rt") as text:
        header = text.readline().strip().split(",")
        data = np.loadtxt(text, delimiter=",")
    return header, data


def load_wine_quality(source="red", target="white", *, task="classification", as_frame=False):
    """Wine quality, red vs white (Cortez et al. 2009), shipped with sktl.

    11 physico-chemical features; the label is the sensory quality score.
    The data is CC BY 4.0 (UCI Machine Learning Repository).

    Parameters
    ----------
    source, target : {"red", "white"}
    task : {"classification", "regression"}, default="classification"
        ``"classification"`` predicts ``quality >= 6`` (good wine, 0/1);
        ``"regression"`` predicts the score itself.
    as_frame : bool, default=False
        Return ``X`` as a pandas DataFrame with the original column names.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, 11)
    y : ndarray of shape (n_samples,)
    sample_domain : ndarray of int

    References
    ----------
    .. [1] P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis. "Modeling
       wine preferences by data mining from physicochemical properties".
       Decision Support Systems 47(4), 2009.

    Examples
    --------
    >>> from sktl.datasets import load_wine_quality
    >>> X, y, sd = load_wine_quality()
    >>> X.shape
    (6497, 11)
    """
    colours = {"red": "red", "white": "white"}
    s, t = _pick("source", source, colours), _pick("target", target, colours)
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}.")
    header, ds = _read_wine(s)
    _, dt = _read_wine(t)
    X, y, sd = _pack(ds[:, :-1], ds[:, -1], dt[:, :-1], dt[:, -1])
    y = (y >= 6).astype(np.int64) if task == "classification" else y.astype(float)
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=header[:-1])
    return X, y, sd
