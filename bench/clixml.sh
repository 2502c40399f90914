#!/usr/bin/env bash
# Export-Clixml at scale: a `Get-ExchangeServer | Export-Clixml` of N servers,
# built from the real CSS-Exchange capture (tests/fixtures/clixml/css-exchange/
# E19/GetExchangeServer.xml: its one object repeated N times under new names and
# RefIds, the way PowerShell writes a list: TN once, TNRef after), then
# `eems-doctor parse` and `eems-doctor analyze` over it (release build), with
# the floor `grep -c '<Obj RefId'` and `awk` counting the same objects over the
# same bytes in the same run.
# Usage: bench/clixml.sh [N...]      default: 1000 5000
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000 5000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
cargo build --release -q -p eems-doctor
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/eems-doctor"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| N servers | file | parse --format json | analyze --format json | servers found | grep -c floor | awk floor |\n|---|---|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  python3 - "$n" "$dir/servers-$n.xml" <<'PY'
import re, sys
n, out = int(sys.argv[1]), sys.argv[2]
src = open("tests/fixtures/clixml/css-exchange/E19/GetExchangeServer.xml", encoding="utf-8-sig").read()
head, rest = src.split("\n", 1)
body = rest.rsplit("</Objs>", 1)[0]
# Renumber RefIds per copy so every object is distinct, as PowerShell writes them.
ids = sorted({int(x) for x in re.findall(r'RefId="(\d+)"', body)})
span = max(ids) + 1
parts = [head]
for i in range(n):
    b = re.sub(r'RefId="(\d+)"', lambda m: f'RefId="{int(m.group(1)) + i * span}"', body)
    b = b.replace("SOLO-E19A", f"EX{i:05d}").replace("Solo-E19A", f"EX{i:05d}")
    parts.append(b)
parts.append("</Objs>\n")
open(out, "w", encoding="utf-8").write("\n".join(parts))
PY
  f="$dir/servers-$n.xml"
  cat "$f" >/dev/null
  size=$(du -h "$f" | cut -f1)
  # (the exit code is the diagnosis: 2 = critical, not a failure of the bench)
  t() { { /usr/bin/time -f "%e s wall, %U+%S s CPU, %M KB" "$@" 2>&1 >/dev/null || true; } | tail -n 1; }
  parse=$(t "$bin" parse --format json "$f")
  analyze=$(t "$bin" analyze --format json "$f")
  found=$({ "$bin" analyze --format json "$f" 2>/dev/null || true; } | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["servers"]))')
  g=$( { /usr/bin/time -f "%e s" grep -c '<Obj RefId' "$f" >/dev/null; } 2>&1 )
  a=$( { /usr/bin/time -f "%e s" awk '/<Obj RefId/{n++} END{print n}' "$f" >/dev/null; } 2>&1 )
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$size" "$parse" "$analyze" "$found" "$g" "$a"
done
