#!/usr/bin/env bash
# Runs the README's "Five-minute quick start" and the "## Examples" of docs/admin-api.md as
# written, against a fresh server started from the built binary, and fails on the first
# command that fails. CI runs it after the tests: the docs are a test.
#
#   scripts/quickstart.sh [path/to/gatehouse]   (default: target/debug/gatehouse, built if missing)
#
# What it changes from the text, and why:
# - the `gatehouse() { cargo run ... }` line is replaced by the given binary (no second build);
# - `curl` fails on an HTTP error (--fail-with-body), unless the block asks for the status
#   itself with -w;
# - the person at the browser is scripts/signin-robot.py (BROWSER), signing in as alice.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=${1:-target/debug/gatehouse}
if [ ! -x "$BIN" ]; then
  cargo build --bin gatehouse
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
for tool in curl jq openssl python3; do
  command -v "$tool" >/dev/null || { echo "quickstart: $tool is required" >&2; exit 1; }
done
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  echo "quickstart: 127.0.0.1:8080 is taken; the quick start needs it (stop what listens there)" >&2
  exit 1
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The ```sh blocks of the section of $1 headed $2 (up to the next heading of that level).
blocks() {
  awk -v heading="$2" '
    $0 == heading { inside = 1; next }
    inside && /^## / { inside = 0 }
    inside && /^```sh$/ { code = 1; next }
    inside && /^```$/ { code = 0; next }
    inside && code { print }
  ' "$1"
}

{
  echo 'set -euo pipefail'
  echo "gatehouse() { \"$BIN\" \"\$@\"; }"
  echo 'curl() { case " $* " in *" -w "*) command curl "$@" ;; *) command curl --fail-with-body "$@" ;; esac; }'
  blocks "$ROOT/README.md" '## Five-minute quick start' | grep -v '^gatehouse() {'
  echo 'echo "== docs/admin-api.md examples"'
  blocks "$ROOT/docs/admin-api.md" '## Examples'
} > "$WORK/steps.sh"
if ! grep -q 'perform authorization-code' "$WORK/steps.sh"; then
  echo "quickstart: no quick start found in README.md (heading renamed?)" >&2
  exit 1
fi

# The server, as the README's "Run" starts it, in a directory of its own.
mkdir -p "$WORK/server"
# `exec`: the background job is the server itself, so that the cleanup stops it.
(cd "$WORK/server" && exec env -u GATEHOUSE_DATABASE_URL "$BIN" serve > "$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if command curl -fs http://127.0.0.1:8080/health/ready >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
  sleep 0.2
done

echo "== README quick start ($(grep -c '' "$WORK/steps.sh") lines)"
# The admin commands find the server's database the way an operator's do: from its directory.
if ! (cd "$WORK/server" && BROWSER="$ROOT/scripts/signin-robot.py" ROBOT_USERNAME=alice \
      ROBOT_PASSWORD='a long password' bash -x "$WORK/steps.sh"); then
  echo "quickstart: a step failed; the server's log:" >&2
  tail -n 40 "$WORK/server.log" >&2
  exit 1
fi
echo "== quick start and admin API examples ran as written"
