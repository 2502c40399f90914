#!/usr/bin/env bash
# Fleet scan at scale: N synthetic 30-day bundles (bench/gen-fleet), analysed by
# `eems-doctor fleet` with --jobs 1 and --jobs 2 (release build).
# Prints wall time, CPU time and peak RSS (/usr/bin/time, Debian package `time`).
# Usage: bench/fleet.sh [DIR] [N...]      default: a temp dir, N = 250 500 1000
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$(mktemp -d)}"
shift || true
sizes=("${@:-250 500 1000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
cargo build --release -q -p eems-doctor
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/eems-doctor"
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
max=0
for n in "${sizes[@]}"; do (( n > max )) && max=$n; done
if [ ! -d "$dir/bundles" ] || [ "$(ls "$dir/bundles" | wc -l)" -lt "$max" ]; then
  bench/gen-fleet "$dir/bundles" "$max" >/dev/null
fi
echo "bundle size: $(du -sh "$dir/bundles/SRV00000" | cut -f1) (SRV00000), total $(du -shL "$dir/bundles" | cut -f1)"
find -L "$dir/bundles" -type f -exec cat {} + >/dev/null  # warm the page cache
printf '| N | --jobs | wall | user+sys CPU | peak RSS | exit |\n|---|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  # (no `ls | head` under pipefail: head closing the pipe would stop the script)
  ls -d "$dir"/bundles/SRV* > "$dir/all.txt"
  head -n "$n" "$dir/all.txt" > "$dir/list-$n.txt"
  for j in 1 2; do
    rm -rf "$dir/out-$n-$j"
    /usr/bin/time -f "%e %U %S %M %x" -o "$dir/.t" "$bin" fleet "$dir/list-$n.txt" --jobs "$j" -o "$dir/out-$n-$j" >/dev/null 2>&1 || true
    read -r wall user sys rss code < <(tail -n 1 "$dir/.t")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    printf '| %s | %s | %s s | %s s | %s MB | %s |\n' "$n" "$j" "$wall" "$cpu" $((rss / 1024)) "$code"
  done
done
