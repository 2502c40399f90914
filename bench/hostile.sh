#!/usr/bin/env bash
# Peak memory and wall time of `eems-doctor analyze` on the hostile inputs of
# tests/hostile_inputs.rs (same shapes, generated here with Python), release build.
# Usage: bench/hostile.sh [DIR]   (needs /usr/bin/time, Debian package `time`)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
cargo build --release -q
python3 - "$dir" <<'PY'
import os, sys
d = sys.argv[1]
def w(name, data): open(os.path.join(d, name), 'wb').write(data)
w('random-48mb.bin', os.urandom(48 << 20))
line = b'2024-03-14T10:10:05.447Z,EX01,FetchMitigation,S:LogLevel=Error;S:Message='
w('single-line-32mb.LOG', line + b'A' * ((32 << 20) - len(line)))
w('utf16-odd-length.txt', b'\xff\xfe' + 'Current WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n'.encode('utf-16-le') + b'A')
w('nested-200k.xml', ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>" + '<a>' * 200000 + '</a>' * 200000 + '</Event>').encode())
ents = ''.join('<!ENTITY lol%d "%s">\n' % (i, ('&lol%d;' % (i - 1)) * 10) for i in range(1, 10))
w('billion-laughs.xml', ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n' + ents + ']>\n<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="MSExchange Mitigation Service"/><EventID>1008</EventID></System><EventData><Data>&lol9;</Data></EventData></Event>\n').encode())
row = b'Exception encountered while fetching mitigations : no closing quote in sight\r\n'
w('unclosed-quote-16mb.csv', b'Level,Date and Time,Source,Event ID,Task Category\r\nError,3/14/2024 10:10:05 AM,MSExchange Mitigation Service,1008,General,"' + row * ((16 << 20) // len(row)))
w('format-list-2m-items.txt', ('\r\nName               : EX01\r\nMitigationsEnabled : True\r\nMitigationsApplied : {' + ', '.join('M%d.1' % i for i in range(2000000)) + '}\r\n\r\n').encode())
w('truncated.evtx', b'ElfFile\x00' + os.urandom(70000))
PY
printf '| input | size | wall | peak RSS | exit |\n|---|---|---|---|---|\n'
for f in "$dir"/*; do
  size=$(stat -c %s "$f")
  /usr/bin/time -f "%e %M %x" -o "$dir/.t" target/release/eems-doctor analyze --format json "$f" >/dev/null 2>&1 || true
  read -r wall rss code < <(tail -n 1 "$dir/.t")
  printf '| %s | %s MB | %s s | %s MB | %s |\n' "$(basename "$f")" $((size >> 20)) "$wall" $((rss / 1024)) "$code"
done
