#!/usr/bin/env bash
# Opens the notebooks in Debian's classic Jupyter Notebook (`npm run notebook`), with the kit's
# node_modules/.bin on PATH so that the tslab kernel starts. Jupyter refuses to run as root unless
# told `--allow-root` (containers and these machines run as root): added here only when root.
# Extra arguments go to Jupyter (e.g. `npm run notebook -- --no-browser --port 8899`).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -m notebook --version >/dev/null 2>&1 || ! /usr/bin/python3 -m jupyter kernelspec list 2>/dev/null | grep -qE '^\s+tslab\s'; then
  echo "env/notebook.sh: the classic Jupyter Notebook or the tslab kernel is missing: run 'bash env/setup.sh' first" >&2
  exit 1
fi
# keep the outputs Jupyter saves into notebooks/*.ipynb out of git (see env/strip-notebook.mjs)
bash env/setup.sh --git-filter
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-root)
export PATH="$PWD/node_modules/.bin:$PATH"
exec /usr/bin/python3 -m notebook "${root[@]}" --notebook-dir="$PWD/notebooks" "$@"
