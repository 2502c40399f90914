#!/usr/bin/env bash
# Issue 14: analyse large MitigationService logs end to end (release build),
# beside the awk/grep floor over the same bytes, measured in the same run.
# Prints wall time, MB/s and peak RSS (/usr/bin/time, Debian package `time`).
# Usage: bench/streaming.sh [DIR] [MiB...]    default: a temp dir, 256 and 1024 MiB
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$(mktemp -d)}"
shift || true
sizes=("${@:-256 1024}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
cargo build --release -q -p eems-doctor
cargo build --release -q -p eems-parsers --example gen_mitigation_log
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"
bin="$target/eems-doctor"
. bench/lib.sh
machine
printf '| what | wall | throughput | peak RSS |\n|---|---|---|---|\n'
for mib in "${sizes[@]}"; do
  log="$dir/big-$mib.LOG"
  [ -f "$log" ] || "$target/examples/gen_mitigation_log" "$log" "$mib" >/dev/null
  u16="$dir/big-$mib-utf16.LOG"
  [ -f "$u16" ] || { printf '\xff\xfe' > "$u16"; tail -c +4 "$log" | iconv -f UTF-8 -t UTF-16LE >> "$u16"; }
  bytes=$(stat -c %s "$log")
  cat "$log" "$u16" > /dev/null  # page cache
  row "awk -F, '/Exception/{n++}' ($mib MiB)" "$bytes" "$(measure awk -F, '/Exception/{n++} END{print n}' "$log")"
  row "grep -c FetchMitigation ($mib MiB)" "$bytes" "$(measure grep -c FetchMitigation "$log")"
  big=(--max-file-size 4G --max-bundle-size 4G)
  row "analyze --format json, UTF-8 ($mib MiB)" "$bytes" "$(measure "$bin" analyze "${big[@]}" --format json "$log")"
  row "analyze --format json, UTF-16LE ($mib MiB of UTF-8 text)" "$bytes" "$(measure "$bin" analyze "${big[@]}" --format json "$u16")"
  row "analyze, default budget (256 MiB read)" "$(( bytes < 268435456 ? bytes : 268435456 ))" "$(measure "$bin" analyze --format json "$log")"
done
