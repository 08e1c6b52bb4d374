import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_home():
    """The real benchmark data, from $SKTL_DATA or the repository's ../shared/data."""
    path = Path(os.environ.get("SKTL_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"benchmark data not found at {path}")
    return path
