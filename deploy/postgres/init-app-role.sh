#!/usr/bin/env bash
# For deploy/compose.yaml: the application role, as deploy/postgres/postgres.sh creates it locally.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<SQL
CREATE ROLE orderledger_app LOGIN PASSWORD '${ORDERLEDGER_APP_PASSWORD}';
GRANT CONNECT ON DATABASE ${POSTGRES_DB} TO orderledger_app;
SQL
