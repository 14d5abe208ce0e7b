#!/usr/bin/env bash
# Load test of the token endpoint (client_credentials): builds the release binary, starts it on
# a temporary SQLite database on a free loopback port, registers a client, and drives
# POST /oauth/token with wrk (installed from Debian's packages when missing). Prints
# requests/s and the p50/p99 latencies.
#
#   scripts/loadtest.sh [DURATION_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-16}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk..." >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq wrk >&2
fi

cargo build --release --bin gatehouse >&2
BIN="$PWD/target/release/gatehouse"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export GATEHOUSE_DATABASE_URL="sqlite://$WORK/gatehouse.db?mode=rwc"
export GATEHOUSE_LISTEN="127.0.0.1:$PORT"
export GATEHOUSE_ISSUER="http://127.0.0.1:$PORT"
export GATEHOUSE_LOG=warn

(cd "$WORK" && exec "$BIN" serve) &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done

CLIENT_JSON="$("$BIN" client create --name loadtest --grant-type client_credentials --scope "api:read" --json)"
CLIENT_ID="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_id"])' "$CLIENT_JSON")"
CLIENT_SECRET="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_secret"])' "$CLIENT_JSON")"
BASIC="$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load: ${DURATION}s, ${CONNECTIONS} connections, POST /oauth/token grant_type=client_credentials (RS256 JWT)"
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
LUA
wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" --latency -s "$WORK/post.lua" \
  "http://127.0.0.1:$PORT/oauth/token" > "$WORK/wrk.txt"
grep -E "Non-2xx|Socket errors" "$WORK/wrk.txt" || true
awk '/Requests\/sec/ {print "requests/s: " $2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print "p50: " p50 "   p99: " p99}' "$WORK/wrk.txt"
