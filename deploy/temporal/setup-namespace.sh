#!/bin/sh
# One-shot (service temporal-namespace, image temporalio/admin-tools): waits for the Temporal
# frontend, creates ADO's namespace when missing and registers the search attributes ADO's
# workflow sets (src/domain/search-attributes.ts). Safe to re-run: an existing namespace is kept,
# and the server skips attributes that exist already.
# TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE are read by the `temporal` CLI itself.
set -eu

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS to the frontend, e.g. temporal:7233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${NAMESPACE_RETENTION:-7d}"

# Retries a command until it succeeds: the frontend answers before its namespace cache knows a
# namespace created a moment ago.
retry() {
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
      echo "[temporal-namespace] gave up after $tries tries: $*" >&2
      return 1
    fi
    sleep 2
  done
}

echo "[temporal-namespace] waiting for $TEMPORAL_ADDRESS"
retry temporal operator cluster health >/dev/null

if temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  echo "[temporal-namespace] namespace $namespace exists"
else
  echo "[temporal-namespace] creating namespace $namespace (retention $retention)"
  temporal operator namespace create --namespace "$namespace" --retention "$retention"
fi

echo "[temporal-namespace] registering search attributes in $namespace"
retry temporal operator search-attribute create --namespace "$namespace" \
  --name AdoPhase --type Keyword \
  --name AdoRepository --type Keyword \
  --name WorkflowVersion --type Keyword
echo "[temporal-namespace] done"
