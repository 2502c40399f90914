#!/usr/bin/env bash
# Throughput of the MitigationService log streaming reader vs. the raw-scan floor.
# Usage: bench/mitigation-log.sh [size-MiB]   (run from the repo root)
# Generates the same ~30 MiB log the criterion bench uses, times `grep -c`
# over it, then runs the criterion bench (release build of eems-parsers benches).
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-30}"
OUT="${TMPDIR:-/tmp}/mitigation-bench.LOG"

echo "== machine"
echo "nproc: $(nproc)"
lscpu | grep 'Model name' || true

echo "== generate ${MIB} MiB -> $OUT"
cargo run -q -p eems-parsers --release --example gen_mitigation_log -- "$OUT" "$MIB"
BYTES=$(stat -c %s "$OUT")
echo "bytes: $BYTES, lines: $(wc -l < "$OUT")"

echo "== raw-scan floor: grep -c FetchMitigation (file in page cache)"
grep -c FetchMitigation "$OUT" >/dev/null  # warm the cache
for _ in 1 2 3; do
  start=$(date +%s.%N)
  n=$(grep -c FetchMitigation "$OUT")
  end=$(date +%s.%N)
  awk -v b="$BYTES" -v s="$start" -v e="$end" -v n="$n" \
    'BEGIN { t = e - s; printf "grep -c: %d matches, %.3f s, %.0f MB/s\n", n, t, b / t / 1e6 }'
done

echo "== streaming reader, 20 passes over the file in memory (wall + CPU time)"
EX="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/examples/gen_mitigation_log"
if command -v perf >/dev/null; then
  perf stat -e task-clock "$EX" --stream "$OUT" 20 2>&1 | grep -E 'stream:|task-clock|elapsed'
  echo "(MB/s on one core = bytes x 20 / task-clock)"
else
  "$EX" --stream "$OUT" 20
fi

echo "== criterion: cargo bench -p eems-parsers --bench mitigation_log"
cargo bench -p eems-parsers --bench mitigation_log
