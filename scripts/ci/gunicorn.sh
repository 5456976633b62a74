#!/usr/bin/env bash
# A venv with gunicorn (from PyPI) for a pyenv interpreter, for the agent's integration tests
# (a WSGI app whose workers gunicorn recycles). Cached outside the clone, keyed by the
# interpreter and gunicorn versions; prints the venv's python.
set -euo pipefail
GUNICORN_VERSION="${GUNICORN_VERSION:-23.0.0}"
PYTHON_VERSION="${GUNICORN_PYTHON:-3.12.1}"
python="${PYENV_ROOT:-$HOME/.pyenv}/versions/$PYTHON_VERSION/bin/python3"
venv="${PYFLAME_TS_CACHE:-/var/cache/pyflame-ts}/venvs/gunicorn-$GUNICORN_VERSION-py$PYTHON_VERSION"
# The stamp is written last, so an interrupted install is redone rather than trusted.
if [[ -f "$venv/.installed" ]]; then echo "$venv/bin/python"; exit 0; fi
[[ -x "$python" ]] || { echo "gunicorn.sh: no pyenv Python $PYTHON_VERSION at $python" >&2; exit 1; }
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "gunicorn==$GUNICORN_VERSION" >&2
"$venv/bin/python" -c "import gunicorn" || { echo "gunicorn.sh: gunicorn did not install" >&2; exit 1; }
touch "$venv/.installed"
echo "$venv/bin/python"
