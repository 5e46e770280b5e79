#!/bin/sh
# One-shot (service temporal-schema, image temporalio/admin-tools): creates Temporal's two
# databases on PostgreSQL when missing and brings both schemas to the version this admin-tools
# image ships. Safe to run at every start and after an upgrade of the images:
# - `create` keeps an existing database (older tools fail on one instead: that failure is
#   reported and ignored, and a real connection problem fails the next step);
# - `setup-schema -v 0.0` only adds the version tables and leaves a newer version alone;
# - `update-schema` applies the missing versioned steps only.
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host}"
: "${POSTGRES_USER:?set POSTGRES_USER to the PostgreSQL role Temporal uses}"
: "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE to the file holding that role password}"
port="${DB_PORT:-5432}"
schemas="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

# temporal-sql-tool reads the password from SQL_PASSWORD; it never appears on a command line.
SQL_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
export SQL_PASSWORD

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"
}

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db="${pair%%:*}"
  kind="${pair#*:}"
  echo "[temporal-schema] $db ($kind schema)"
  sql_tool --db "$db" create || echo "[temporal-schema] $db: not created (it exists already?); going on"
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$schemas/$kind/versioned"
done
echo "[temporal-schema] done"
