#!/usr/bin/env bash
# Machine set-up for the kit's tests and notebooks (Debian/Ubuntu). Idempotent: run it as often as
# you like; it installs only what is missing. `npm test` runs it by itself when something is missing
# (test/run-tests.mjs); run it by hand to set a machine up before that.
#  - Jupyter's headless runner (nbconvert + nbclient) for executing the notebooks, and the classic
#    Notebook (jupyter-notebook) that `npm run notebook` opens them with;
#  - Chromium for PNG export of figures and the browser tests (driven by playwright-core);
#  - the tslab TypeScript kernel, registered with Debian's python3 (needs `npm install` first).
#
# env/setup.sh --check installs nothing: it prints what is missing on one line and exits 1 if
# anything is (0 and nothing printed when the machine is ready). env/setup.sh --git-filter only
# configures the checkout's filter that keeps notebook outputs out of git.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-notebook chromium fonts-dejavu-core)
# A Chromium or Chrome of the user's own (IPT_CHROMIUM, as lib/report/png.ts reads it) replaces Debian's.
if [ -n "${IPT_CHROMIUM:-}" ] && [ -x "${IPT_CHROMIUM}" ]; then
  PACKAGES=("${PACKAGES[@]/chromium/}")
fi

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    [ -n "$p" ] || continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# 0: registered; 1: not registered; 2: Jupyter did not answer (not installed, or broken right now)
kernel_registered() {
  local py=/usr/bin/python3 list
  [ -x "$py" ] || py=python3
  list=$("$py" -m jupyter kernelspec list 2>/dev/null) || return 2
  grep -qE '^\s+tslab\s' <<<"$list"
}

# Keeps notebook outputs out of git in this checkout (.gitattributes names the filter; see
# env/strip-notebook.mjs). Local to this clone's .git/config; without git, nothing to do.
git_filter() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git config filter.ipt-strip-outputs.clean "node env/strip-notebook.mjs"
    git config filter.ipt-strip-outputs.smudge cat
  fi
}
if [ "${1:-}" = "--git-filter" ]; then
  git_filter
  exit 0
fi

if [ "${1:-}" = "--check" ]; then
  mapfile -t missing < <(missing_packages)
  kernel=0
  kernel_registered || kernel=$?
  if [ "$kernel" -eq 1 ]; then missing+=("tslab kernel"); fi
  if [ "$kernel" -eq 2 ]; then missing+=("tslab kernel (jupyter kernelspec list failed)"); fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}"
    exit 1
  fi
  exit 0
fi

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    # sudo may ask for a password only where someone can type it
    if command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then SUDO="sudo"; else
      echo "env/setup.sh: not root and no sudo: as root, run: apt-get install --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "env/setup.sh: no apt-get on this machine: install Jupyter (nbconvert, nbclient, ipykernel, the classic notebook) and Chromium yourself, or set IPT_CHROMIUM" >&2
    exit 1
  fi
  echo "env/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine has no package lists yet: update them when the first try cannot find a package.
  if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  echo "env/setup.sh: Debian packages present (${PACKAGES[*]})"
fi

git_filter
if [ -x node_modules/.bin/tslab ]; then
  bash env/register-kernel.sh
else
  echo "env/setup.sh: node_modules not installed yet; run 'npm install', then this script again (it registers the tslab kernel)"
fi
