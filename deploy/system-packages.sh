#!/usr/bin/env bash
# Installs the Debian packages the test suite drives: chromium (browser tests).
# Idempotent: installs only what is missing. Needs root (or sudo) on a fresh machine.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "system-packages: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "system-packages: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
