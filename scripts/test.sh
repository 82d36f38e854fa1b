#!/usr/bin/env bash
# The test suite, from a fresh machine: installs what the tests need, then runs them.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k points`).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"
python -m ruff check src tests benchmarks
python -m pytest "$@"
