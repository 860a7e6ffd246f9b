#!/usr/bin/env bash
# Creates a virtualenv for this clone from a requirements file, reusing a cached build.
#   scripts/bootstrap-venv.sh VENV REQUIREMENTS [EXTRA_HASHED_FILES...] [--project]
# The third-party packages live in a venv outside the clone, keyed on a hash of the
# requirements (torch alone is several GB), so a fresh clone reuses it. The clone gets its
# own small venv whose site-packages chain to the cached one through a .pth file; with
# --project, this clone is installed editable into that small venv. What is under test is
# therefore never cached, and two clones never share an install of the project.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1; req=$2; shift 2
project=false; hashed=()
for arg in "$@"; do
  if [ "$arg" = --project ]; then project=true; else hashed+=("$arg"); fi
done
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: $python is older than 3.11; set PYTHON=python3.11" >&2; exit 2; }
pyver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
hash=$(cat "$req" "${hashed[@]}" | sha256sum | cut -c1-16)
cache=${YOLO_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/yolo-on-upload}
deps="$cache/$(basename "$venv" | tr -d .)-py$pyver-$hash"
mkdir -p "$cache"

# 1. The cached third-party venv (built once per requirements hash, under a lock).
exec 9>"$deps.lock"
flock 9
if [ ! -f "$deps/.complete" ]; then
  echo ">> building $deps from $req (first run only; later runs and clones reuse it)"
  rm -rf "$deps"
  "$python" -m venv "$deps"
  # (this machine's pip.conf names find-links folders that do not exist for most packages:
  # hide those warnings, keep everything else; pipefail keeps pip's exit status)
  "$deps/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" 2>&1 \
    | { grep -v "^WARNING: Location 'file://" || true; }
  touch "$deps/.complete"
fi
exec 9>&-

# 2. This clone's own venv, chained to the cached one.
if [ -L "$venv" ] || { [ -e "$venv" ] && [ "$(cat "$venv/.deps" 2>/dev/null)" != "$deps" ]; }; then
  rm -rf "$venv"
fi
if [ ! -e "$venv/.deps" ]; then
  "$python" -m venv --without-pip "$venv"  # pip and setuptools come from the cached venv
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  deps_site=$("$deps/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  # addsitedir (not a bare path) so the cached venv's own .pth files are processed too.
  echo "import site; site.addsitedir('$deps_site')" > "$site/_cached_deps.pth"
  # The cached venv's tools (pytest, mypy, sam, ...): Python scripts are copied with
  # this venv's interpreter in the shebang, so they see this clone's project; binaries
  # (ruff) are linked. pip is left out: `.venv/bin/python -m pip` installs here.
  for tool in "$deps"/bin/*; do
    name=$(basename "$tool")
    case $name in pip|pip3*|python*|activate*|Activate*|__pycache__) continue ;; esac
    [ -e "$venv/bin/$name" ] && continue
    if head -c 2 "$tool" | grep -q '#!' && head -n 1 "$tool" | grep -q "$deps/bin/python"; then
      { echo "#!$PWD/$venv/bin/python"; tail -n +2 "$tool"; } > "$venv/bin/$name"
      chmod +x "$venv/bin/$name"
    else
      ln -s "$tool" "$venv/bin/$name"
    fi
  done
  echo "$deps" > "$venv/.deps"
fi
if $project; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation -e .
fi
