#!/usr/bin/env bash
# Runs the criterion benchmarks of the hot paths (benches/tokens.rs: signing, verification,
# token requests, introspection; crates/gatehouse-verify's verify bench) and compares each
# benchmark's mean with the committed baseline (benches/baseline/means.json). Prints one line
# per benchmark and exits 1 when one is more than 10 % slower (BENCH_THRESHOLD=percent to
# change). Not a test: a check to run before merging, on a quiet machine of the kind that
# recorded the baseline (benches/baseline/machine.txt).
#
#   scripts/bench/check.sh           compare with the baseline
#   scripts/bench/check.sh --save    record this run as the new baseline
set -euo pipefail
cd "$(dirname "$0")/../.."
THRESHOLD="${BENCH_THRESHOLD:-10}"
BASELINE=benches/baseline
SAVE=0
[ "${1:-}" = "--save" ] && SAVE=1

if [ "$SAVE" -eq 0 ] && [ ! -f "$BASELINE/means.json" ]; then
  echo "no baseline at $BASELINE/means.json: record one first with $0 --save (on a quiet" >&2
  echo "machine of the kind you compare on), then run $0 after your change" >&2
  exit 2
fi

# A baseline from another kind of CPU compares the machines, not the change: say so up front.
HERE_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
if [ "$SAVE" -eq 0 ] && ! grep -qxF "cpu: $HERE_CPU" "$BASELINE/machine.txt"; then
  echo "warning: the baseline was recorded on another machine ($(grep -m1 '^cpu:' "$BASELINE/machine.txt"));" >&2
  echo "this one is '$HERE_CPU'. Differences below may be the machines'. To compare a change" >&2
  echo "here, record a baseline of the code before it first: $0 --save" >&2
fi

rm -rf target/criterion
cargo bench --bench tokens -- --noplot >&2
cargo bench -p gatehouse-verify --bench verify -- --noplot >&2

# { "benchmark id": mean in nanoseconds } of this run.
CURRENT="$(
  find target/criterion -path '*/new/benchmark.json' | sort | while read -r b; do
    jq -n --slurpfile b "$b" --slurpfile e "$(dirname "$b")/estimates.json" \
      '{($b[0].full_id): $e[0].mean.point_estimate}'
  done | jq -s 'add'
)"

if [ "$SAVE" -eq 1 ]; then
  mkdir -p "$BASELINE"
  echo "$CURRENT" | jq -S . > "$BASELINE/means.json"
  {
    echo "recorded $(date -u +%Y-%m-%dT%H:%MZ) by scripts/bench/check.sh --save"
    echo "cpu: $HERE_CPU"
    echo "rustc: $(rustc --version)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$BASELINE/machine.txt"
  echo "baseline saved to $BASELINE/means.json" >&2
  exit 0
fi

REPORT="$(jq -n -r --argjson base "$(cat "$BASELINE/means.json")" --argjson cur "$CURRENT" \
  --argjson limit "$THRESHOLD" '
  ($base | keys) as $names
  | [ $names[] as $n
      | if ($cur[$n] == null) then "MISSING     \($n)"
        else (($cur[$n] / $base[$n] - 1) * 100) as $d
          | (if $d > $limit then "REGRESSION" else "ok        " end)
            + "  \($d * 10 | round / 10 | tostring)%\t\($base[$n] / 100 | round / 10) µs -> \($cur[$n] / 100 | round / 10) µs\t\($n)"
        end ]
  | .[]')"
echo "$REPORT"
if grep -qE '^(REGRESSION|MISSING)' <<<"$REPORT"; then
  echo "more than ${THRESHOLD} % slower than benches/baseline (or missing): see above" >&2
  exit 1
fi
echo "no benchmark more than ${THRESHOLD} % slower than the baseline" >&2
