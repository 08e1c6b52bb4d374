import os
from pathlib import Path

import pytest

# OpenMP threads that spin while they wait cost tiny torch nets up to ~25x CPU
# time on a shared machine (measured: 0.85 s vs 0.03 s per 3-epoch fit on 2
# busy cores). Set before torch is first imported; subprocesses inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_home():
    """The real benchmark data, from $SKTL_DATA or the repository's ../shared/data."""
    path = Path(os.environ.get("SKTL_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"benchmark data not found at {path}")
    return path
