#!/usr/bin/env bash
# Installs the Debian packages the test suite drives: chromium, kcat, Java, Maven, wrk, Prometheus's
# promtool, PostgreSQL.
# Idempotent: installs only what is missing. Needs root (or sudo) on a fresh machine.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)          # browser tests
command -v kcat >/dev/null 2>&1 || missing+=(kcat)      # a Kafka consumer outside the project
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)  # the Kafka broker
command -v mvn >/dev/null 2>&1 || missing+=(maven)      # fetches the Kafka broker jars
command -v wrk >/dev/null 2>&1 || missing+=(wrk)        # the load generator of the read benchmark
# Installed without recommends (prometheus-node-exporter): the tests run its prometheus and promtool.
lean=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || lean+=(prometheus)  # deploy/prometheus

# PostgreSQL has its own installer: it keeps Debian from creating and starting a default cluster.
bash "$(dirname "${BASH_SOURCE[0]}")/postgres/postgres.sh" install

if [ ${#missing[@]} -eq 0 ] && [ ${#lean[@]} -eq 0 ]; then
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "system-packages: need root to install: ${missing[*]} ${lean[*]}" >&2
    exit 1
  fi
fi
echo "system-packages: installing ${missing[*]} ${lean[*]}"
"${as_root[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ${#lean[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
fi
