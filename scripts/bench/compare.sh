#!/usr/bin/env bash
# Gatehouse side by side with node-oidc-provider (issue 9), in one run on this machine:
# installs node-oidc-provider at a pinned version from the npm registry into a temporary
# folder (its small configuration is written below), `oha` with cargo when it is missing,
# builds the release binary, calibrates with `openssl speed` (at the start, and on the
# server's core right before and after each pinned token load), then drives the peer and
# Gatehouse on SQLite and on PostgreSQL through the same scenarios (scripts/bench/driver.py)
# and writes the table of ratios into docs/benchmarks.md (between its COMPARE markers).
#
#   scripts/bench/compare.sh
#
# Environment: BENCH_SKIP_BUILD=1 (use the existing release binary), BENCH_DURATION (seconds per load scenario, default 8), BENCH_CONNECTIONS
# (default 32), GATEHOUSE_BENCH_POSTGRES (an admin URL of the PostgreSQL server, default
# postgres://postgres@127.0.0.1:5432/postgres; a database is created and dropped), BENCH_OUT
# (default docs/benchmarks.md). Needs node >= 20.19, npm, python3 with requests, taskset.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
PEER_VERSION="9.13.3"

if ! command -v oha >/dev/null 2>&1; then
  echo "installing oha with cargo..." >&2
  cargo install oha --locked >&2
fi
# BENCH_SKIP_BUILD=1 uses the release binary already in target/ (e.g. while another cargo
# command holds the build directory).
[ "${BENCH_SKIP_BUILD:-0}" = "1" ] || cargo build --release --bin gatehouse >&2

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/peer"
echo "installing oidc-provider@$PEER_VERSION..." >&2
npm install --prefix "$WORK/peer" --no-audit --no-fund --silent "oidc-provider@$PEER_VERSION" >&2

# The peer: in-memory store, development login/consent pages, client credentials issuing
# RS256 or ES256 JWT access tokens (or opaque ones, for introspection), refresh rotation.
cat > "$WORK/peer/provider.mjs" <<'JS'
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const secret = process.env.PEER_SECRET;
const jwk = (type, opts, kid, alg) => ({
  ...generateKeyPairSync(type, opts).privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig',
});
const machine = (id) => ({
  client_id: id, client_secret: secret, grant_types: ['client_credentials'],
  redirect_uris: [], response_types: [], scope: 'api:read',
});
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    machine('cc-rs256'), machine('cc-es256'), machine('cc-opaque'),
    {
      client_id: 'rp', client_secret: secret, grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], redirect_uris: ['http://127.0.0.1/cb'],
    },
  ],
  jwks: {
    keys: [
      jwk('rsa', { modulusLength: 2048 }, 'rs', 'RS256'),
      jwk('ec', { namedCurve: 'P-256' }, 'es', 'ES256'),
    ],
  },
  scopes: ['openid', 'offline_access', 'api:read'],
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => (client.clientId.startsWith('cc-') ? 'urn:bench:api' : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'api:read',
        accessTokenFormat: client.clientId === 'cc-opaque' ? 'opaque' : 'jwt',
        jwt: { sign: { alg: client.clientId === 'cc-es256' ? 'ES256' : 'RS256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1');
JS

python3 "$ROOT/scripts/bench/driver.py" \
  --gatehouse "$ROOT/target/release/gatehouse" \
  --peer "$WORK/peer" \
  --peer-version "$PEER_VERSION" \
  --work "$WORK" \
  --postgres "${GATEHOUSE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}" \
  --duration "${BENCH_DURATION:-8}" \
  --connections "${BENCH_CONNECTIONS:-32}" \
  --out "${BENCH_OUT:-$ROOT/docs/benchmarks.md}"
