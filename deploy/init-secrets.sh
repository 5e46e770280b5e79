#!/bin/sh
# Creates the secrets docker-compose.yml needs, with fresh random values:
#
#   secrets/temporal_db_password    PostgreSQL password of Temporal's role
#   secrets/ado_db_password         PostgreSQL password of the ADO store's role
#   secrets/ui_htpasswd             gateway login for the Web UI and the codec (user admin)
#   secrets/grafana_admin_password  Grafana's admin password (observability profile)
#   secrets/ado.env                 the ADO processes' env file, from ado.env.example: store
#                                   password, API tokens (admin, gateway), a payload encryption key
#   secrets/gateway.env             the gateway's token for the codec endpoint (from ado.env)
#
# Usage: ./init-secrets.sh [folder]      (default: secrets/ beside this script)
#
# A file that exists is kept, so running it again only adds what is missing; ado.env takes the
# store password from secrets/ado_db_password either way, so the two always agree. Logins and
# the API token are printed once, when they are made. The folder is 0700; the files the
# containers read are 0644 (compose mounts them as they are, and the containers run as their
# own users), ado.env, read by compose on this host only, is 0600.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-"$here/secrets"}

if ! command -v openssl >/dev/null 2>&1; then
  echo "init-secrets: openssl is needed to make random secrets (Debian/Ubuntu: apt-get install openssl)" >&2
  exit 1
fi

umask 077
mkdir -p "$dir"
chmod 700 "$dir"
created=""

# put NAME MODE VALUE: writes secrets/NAME, exactly VALUE (no newline added), unless it exists.
put() {
  if [ -e "$dir/$1" ]; then return 1; fi
  printf '%s' "$3" >"$dir/$1"
  chmod "$2" "$dir/$1"
  created="$created $1"
}

random_hex() { openssl rand -hex "$1"; }

# htpasswd line for user admin (apr1, which nginx reads); the password goes through stdin.
login_line() { printf 'admin:%s' "$(printf '%s' "$1" | openssl passwd -apr1 -stdin)"; }

put temporal_db_password 644 "$(random_hex 24)" || true

put ado_db_password 644 "$(random_hex 24)" || true

ui_password=$(random_hex 12)
put ui_htpasswd 644 "$(login_line "$ui_password")" && echo "Web UI login (gateway): admin / $ui_password"

grafana_password=$(random_hex 12)
put grafana_admin_password 644 "$grafana_password" && echo "Grafana login: admin / $grafana_password"

api_token=$(random_hex 32)
gateway_token=$(random_hex 32)
codec_key_id="k$(date +%Y%m%d)"
codec_key=$(openssl rand -base64 32)
ado_db_password=$(cat "$dir/ado_db_password")
# Generated values are hex and base64, which hold no character special to sed with "|".
env_file=$(sed \
  -e "s|__ADO_DB_PASSWORD__|$ado_db_password|" \
  -e "s|__API_TOKEN__|$api_token|" \
  -e "s|__GATEWAY_TOKEN__|$gateway_token|" \
  -e "s|__CODEC_KEY_ID__|$codec_key_id|" \
  -e "s|__CODEC_KEY__|$codec_key|" \
  "$here/ado.env.example")
put ado.env 600 "$env_file
" && echo "API token (reviewer name admin): $api_token"

# The gateway's token is the one ado.env gives the name `gateway`, so the two always agree.
gateway_token=$(sed -n 's/^ADO_API_TOKENS=.*gateway:\([0-9a-f]*\).*/\1/p' "$dir/ado.env")
if [ -n "$gateway_token" ]; then
  put gateway.env 600 "ADO_GATEWAY_TOKEN=$gateway_token
" || true
else
  echo "init-secrets: ADO_API_TOKENS in $dir/ado.env has no gateway:<token> entry; add one (openssl rand -hex 32) and run this again, or the Web UI cannot decode payloads" >&2
fi

if [ -n "$created" ]; then
  echo "Created in $dir:$created"
else
  echo "Nothing to do: every secret exists in $dir"
fi
echo "Next: set the LLM endpoint and key (ADO_LLM_*) in $dir/ado.env."
