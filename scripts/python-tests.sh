#!/usr/bin/env bash
# The Python binding's checks: builds the extension into a venv (created on first use, with
# maturin, pytest, hypothesis, numpy, pyarrow, mypy and ruff), then ruff, mypy (strict, with the
# stubs), stubtest (stubs against the built module) and pytest (every golden vector, the stores on
# SQLite and on the PostgreSQL server in PG_TEST_URL, threads, properties).
# Extra arguments go to pytest. VENV overrides the venv's place (default: target/py-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${VENV:-$root/target/py-venv}

if [ ! -x "$venv/bin/python" ]; then
  echo "creating the Python venv in $venv"
  python3 -m venv "$venv"
fi
# Pinned floors keep a fresh machine and a used one on the same tools.
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.16,<2" "pytest>=8" "hypothesis>=6" "numpy>=1.24" "pyarrow>=14" \
  "mypy>=1.18" "ruff>=0.6" "typing_extensions>=4.15"

cd bindings/python
export VIRTUAL_ENV=$venv PATH="$venv/bin:$PATH"
# Dev profile, the workspace's target directory: no second build of the core.
maturin develop -q --locked
ruff check . ../../benches/python
ruff format --check . ../../benches/python
mypy --config-file pyproject.toml
python -m mypy.stubtest teamkpi._teamkpi --mypy-config-file pyproject.toml
python -m pytest -q -p no:cacheprovider "$@"
