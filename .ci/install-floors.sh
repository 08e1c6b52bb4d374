#!/usr/bin/env bash
# The "floors" environment of .ci/run: the README's set-up with every dependency
# pinned to its declared minimum.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-floor
.venv-floor/bin/pip install -q torch==2.13.0
.venv-floor/bin/pip install -q -c .ci/constraints-min.txt -e ".[all]"
.venv-floor/bin/python -c "import numpy, scipy, sklearn, cvxpy, torch, skorch, pandas
print('floors:', *(f'{m.__name__} {m.__version__}' for m in
      (numpy, scipy, sklearn, cvxpy, torch, skorch, pandas)))"
