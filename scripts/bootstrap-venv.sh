#!/usr/bin/env bash
# Creates (or reuses) a virtualenv for a requirements file and links it into the clone.
#   scripts/bootstrap-venv.sh LINK REQUIREMENTS [EXTRA_HASHED_FILES...]
# The venv lives outside the clone, keyed on a hash of the requirements, so a fresh clone
# reuses it; the project itself is never cached: it is installed editable from this clone.
set -euo pipefail
cd "$(dirname "$0")/.."
link=$1; req=$2; shift 2
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: $python is older than 3.11; set PYTHON=python3.11" >&2; exit 2; }
pyver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
hash=$(cat "$req" "$@" | sha256sum | cut -c1-16)
cache=${YOLO_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/yolo-on-upload}
venv="$cache/$(basename "$link" | tr -d .)-py$pyver-$hash"
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  echo ">> building $venv from $req (first run only; later runs reuse it)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  touch "$venv/.complete"
fi
if [ -e "$link" ] && [ ! -L "$link" ]; then rm -rf "$link"; fi
ln -sfn "$venv" "$link"
