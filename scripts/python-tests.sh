#!/usr/bin/env bash
# The Python binding's checks: builds the extension into a venv (created on first use, with
# maturin, pytest, hypothesis, numpy, pyarrow, mypy, ruff, Django 5.2 and Flask 3), then ruff,
# mypy (strict, with the stubs), stubtest (stubs against the built module), pytest (every golden
# vector, the stores on SQLite and on the PostgreSQL server in PG_TEST_URL, threads, properties)
# and the Django and Flask examples' tests.
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
  "mypy>=1.18" "ruff>=0.6" "typing_extensions>=4.15" "Django>=5.2,<5.3" "Flask>=3,<4"

cd bindings/python
export VIRTUAL_ENV=$venv PATH="$venv/bin:$PATH"
# Dev profile, the workspace's target directory: no second build of the core.
maturin develop -q --locked
# Every Python file of the repository (ruff.toml at the root; target/ is ignored).
(cd "$root" && ruff check . && ruff format --check .)
mypy --config-file pyproject.toml
python -m mypy.stubtest teamkpi._teamkpi --mypy-config-file pyproject.toml
python -m pytest -q -p no:cacheprovider "$@"

cd "$root/examples/django_support"
python manage.py test support -v 1
cd "$root/examples/flask_dashboard"
python -m pytest -q -p no:cacheprovider tests
