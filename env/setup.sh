#!/usr/bin/env bash
# Machine set-up for the kit's tests and notebooks (Debian/Ubuntu). Idempotent: run it as often as
# you like; it installs only what is missing.
#  - Jupyter's headless runner (nbconvert + nbclient) for executing the notebooks, and the classic
#    Notebook (jupyter-notebook) that the README opens them with;
#  - Chromium for PNG export of figures and the browser tests (driven by playwright-core);
#  - the tslab TypeScript kernel, registered with Debian's python3 (needs `npm install` first;
#    if node_modules is not there yet, the notebook test registers it on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-notebook chromium fonts-dejavu-core)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "env/setup.sh: not root and no sudo; install these Debian packages yourself: ${PACKAGES[*]}" >&2
    exit 1
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "env/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  echo "env/setup.sh: Debian packages present (${PACKAGES[*]})"
fi

if [ -x node_modules/.bin/tslab ]; then
  bash env/register-kernel.sh
else
  echo "env/setup.sh: node_modules not installed yet; the tslab kernel is registered after 'npm install' (env/register-kernel.sh)"
fi
