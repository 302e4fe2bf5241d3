#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster and a single-node Kafka broker on loopback, runs the
# given command with TEST_PG_DATA_DIR and TEST_KAFKA_DATA_DIR set, then stops both.
# Usage: deploy/test-services.sh COMMAND [ARGS...]   (exit status: the command's)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d /tmp/orderledger-services-XXXXXX)"
chmod 755 "$work"
pg_dir="$work/pg"
kafka_dir="$work/kafka"

cleanup() {
  bash "$here/kafka/kafka.sh" stop "$kafka_dir" >/dev/null 2>&1 || true
  bash "$here/postgres/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)
bash "$here/postgres/postgres.sh" start "$pg_dir" >/dev/null
t1=$(ms)
bash "$here/kafka/kafka.sh" start "$kafka_dir" >/dev/null
t2=$(ms)
echo "test-services: PostgreSQL ready in $((t1 - t0)) ms, Kafka ready in $((t2 - t1)) ms ($(cat "$kafka_dir/bootstrap"))"

export TEST_PG_DATA_DIR="$pg_dir" TEST_KAFKA_DATA_DIR="$kafka_dir"
set +e
"$@"
status=$?
set -e
exit "$status"
