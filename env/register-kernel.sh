#!/usr/bin/env bash
# Registers the tslab TypeScript/JavaScript kernels with Debian's Jupyter. Idempotent.
# The kernel starts `tslab` from PATH: run Jupyter with node_modules/.bin on PATH
# (`npm run notebook` does this).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if "$PY" -m jupyter kernelspec list 2>/dev/null | grep -qE '^\s+tslab\s'; then
  echo "env/register-kernel.sh: tslab kernel already registered"
  exit 0
fi
scope=()
[ "$(id -u)" -ne 0 ] && scope=(--user)
node_modules/.bin/tslab install --python="$PY" "${scope[@]}"
"$PY" -m jupyter kernelspec list
