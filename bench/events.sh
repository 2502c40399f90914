#!/usr/bin/env bash
# Issue 14: analyse and parse large event exports end to end (release build),
# beside the awk/grep floor over the same bytes, measured in the same run:
# a `wevtutil qe /f:xml` export (UTF-8) and a `Get-WinEvent | Format-List`
# export written by Out-File (UTF-16LE), made of the reference fixtures'
# events repeated to the size asked for. Prints wall time, MB/s, peak RSS.
# Usage: bench/events.sh [DIR] [MiB]    default: a temp dir, 100 MiB
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$(mktemp -d)}"
mib="${2:-100}"
mkdir -p "$dir"
cargo build --release -q -p eems-doctor
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"
bin="$target/eems-doctor"
. bench/lib.sh
machine
# grow FILE to MIB MiB by repeating its records (a file holding whole
# records, each ending in a blank line or a newline), cut at the first
# record end past the size.
grow() {
  while [ "$(stat -c %s "$1")" -lt $(( mib << 20 )) ]; do
    cat "$1" "$1" > "$1.2" && mv "$1.2" "$1"
  done
  awk -v max=$(( mib << 20 )) '{ print; n += length($0) + 1 } n >= max && (/^\r?$/ || /<\/Event>/) { exit }' "$1" > "$1.2"
  mv "$1.2" "$1"
}
xml="$dir/events-$mib.xml"
if [ ! -f "$xml" ]; then
  # The fixture's events, one per line (wevtutil writes them back to back).
  sed -n '/^<Event /p' tests/fixtures/reference/events/04-wevtutil-xml_unable-to-connect_EX04.xml > "$xml.body"
  grow "$xml.body"
  { echo '<Events>'; cat "$xml.body"; echo '</Events>'; } > "$xml"
  rm -f "$xml.body"
fi
fl="$dir/events-$mib-utf16.txt"
if [ ! -f "$fl" ]; then
  { sed 's/\r$//' tests/fixtures/extra/events/get-winevent-fl_ps7_EX02.txt; echo; } > "$fl.body"
  grow "$fl.body"
  { printf '\xff\xfe'; iconv -f UTF-8 -t UTF-16LE "$fl.body"; } > "$fl"
  rm -f "$fl.body"
fi
big=(--max-file-size 4G --max-bundle-size 4G)
printf '| what | wall | throughput | peak RSS |\n|---|---|---|---|\n'
for f in "$xml" "$fl"; do
  bytes=$(stat -c %s "$f")
  cat "$f" > /dev/null # page cache
  name="$(basename "$f") ($(( bytes >> 20 )) MiB)"
  row "awk '/1008/{n++}' $name" "$bytes" "$(measure awk '/1008/{n++} END{print n}' "$f")"
  row "grep -c 1008 $name" "$bytes" "$(measure grep -c 1008 "$f")"
  row "analyze --format json $name" "$bytes" "$(measure "$bin" analyze "${big[@]}" --format json "$f")"
  row "parse --format json $name" "$bytes" "$(measure "$bin" parse "${big[@]}" --format json "$f")"
done
