#!/usr/bin/env bash
# Issue 18's rows through the release binary: wall time, CPU time (user +
# system), peak RSS and exit code of each case, as a Markdown table. The
# cases are the shapes of tests/hostile_inputs.rs (which asserts the
# outcomes); the OUTDIR, lock, kill -9 and collect rows (10, 12, 13, 14, 17)
# need the test's choreography and are measured there.
# Usage: bench/hostile-rows.sh [DIR]   (needs /usr/bin/time, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --release -q
bin=$root/target/release/eems-doctor
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
cd "$dir"
export EEMS_DOCTOR_NOW=2025-02-13T00:00:00Z

# t ROW CASE [< FILE via $IN] -- COMMAND...: one table row.
t() {
  local row=$1 name=$2
  shift 2
  /usr/bin/time -f "%e %U %S %M %x" -o .t "$@" <"${IN:-/dev/null}" >/dev/null 2>&1 || true
  read -r wall user sys rss code < <(tail -n 1 .t)
  printf '| %s | %s | %s s | %s s | %s MB | %s |\n' "$row" "$name" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" $((rss / 1024)) "$code"
}

bundle() { rm -rf "$1"; mkdir -p "$(dirname "$1")"; cp -r "$root/samples/01-healthy" "$1"; }

# Rows 1-4 and 11 in one bundle, a clean one beside it.
echo TOP-SECRET >secret.txt
bundle fleet/EX01
b=fleet/EX01
mkfifo $b/pipe.txt
ln -s /dev/zero $b/zero.txt
ln -s /dev/urandom $b/urandom.LOG
ln -s .. $b/MitigationService/up
for x in x y z; do ln -s . $b/$x; done
ln -s "$dir/secret.txt" $b/notes.txt
bundle fleet/EX02
# Row 3, siblings: two links and a hard link to one log, a link to a folder.
bundle sib/EX01
log=$(cd sib/EX01/MitigationService && ls | head -n 1)
ln -s "$log" sib/EX01/MitigationService/zz-a.LOG
ln -s "$log" sib/EX01/MitigationService/zz-b.LOG
ln sib/EX01/MitigationService/"$log" sib/EX01/MitigationService/zz-hard.LOG
ln -s MitigationService sib/EX01/zz-logs
# Row 5: a 2 GB sparse log with a real header, a 2 GB file of zeros.
mkdir -p big/MitigationService
cp "$root/samples/02-build-before-march-2023/MitigationService/MitigationService_2025012708-1.LOG" big/MitigationService/
truncate -s 2G big/MitigationService/MitigationService_2025012708-1.LOG
truncate -s 2G big/MitigationService/MitigationService_2025012709-1.LOG
# Row 6: the issue's 100 MB InternetWebProxy value.
bundle proxy/EX01
python3 - proxy/EX01/get-exchangeserver-fl.txt <<'PY'
import sys
p = sys.argv[1]
t = open(p, encoding='utf-8-sig').read()
v = 'http://proxy.contoso.com:8080/' + 'A' * (100 << 20)
open(p, 'w', encoding='utf-8').write(t.replace('InternetWebProxy           :', 'InternetWebProxy           : ' + v, 1))
PY
# Row 7: listings.
for n in 5000 10000 20000 50000; do
  python3 -c "import sys; n=int(sys.argv[1]); open('listing-%d.txt' % n, 'w', newline='').write(''.join('\r\nName                : EX%05d\r\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\r\n' % i for i in range(n)))" $n
done
# Rows 8-9 and 17.
mkdir -p esc bidi nl
printf '\r\nName                : EXCH\033]0;PWN\a\033[2J\r\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\r\n' >esc/get-exchangeserver-fl.txt
printf '\r\nName                : EXCH\u202eA9102\u202c\r\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\r\n' >bidi/get-exchangeserver-fl.txt
echo x >"nl/a
forged.txt: get-service [parsed] (utf-8)"
# Row 15: a zip in a zip bundle.
mkdir -p nested
python3 - nested/EX01.zip <<'PY'
import io, sys, zipfile
inner = io.BytesIO()
with zipfile.ZipFile(inner, 'w') as z:
    z.writestr('reg-query-winhttpsettings.txt', 'HKEY_LOCAL_MACHINE\\x\r\n')
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('netsh.txt', '\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n')
    z.writestr('inner.zip', inner.getvalue())
PY
# Row 16: two bundles.
bundle two/EX01
bundle two/EX02

printf '| row | case | wall | CPU | peak RSS | exit |\n|---|---|---|---|---|---|\n'
t - "floor: eems-doctor --version" "$bin" --version
t 1-4,11 "analyze the hostile bundle" "$bin" analyze --format json fleet/EX01
t 1-4,11 "parse the hostile bundle" "$bin" parse fleet/EX01
t 1-4,11 "fleet: the hostile bundle and a clean one" "$bin" fleet --out out fleet
IN=/dev/zero t 2 "analyze - < /dev/zero" "$bin" analyze --format json -
IN=/dev/urandom t 2 "analyze - < /dev/urandom" "$bin" analyze --format json -
IN=/dev/zero t 2 "parse - < /dev/zero" "$bin" parse --format json -
t 3 "analyze a bundle with sibling links" "$bin" analyze --format json sib/EX01
t 5 "analyze two 2 GB sparse logs" "$bin" analyze --format json big
for f in text json html; do
  t 6 "analyze a 100 MB proxy value --format $f" "$bin" analyze --format $f -o proxy.out proxy/EX01
done
for n in 5000 10000 20000 50000; do
  t 7 "analyze $n servers --format text" "$bin" analyze -o r.out listing-$n.txt
done
for f in json html; do
  t 7 "analyze 50000 servers --format $f" "$bin" analyze --format $f -o r.out listing-50000.txt
done
t 8 "analyze, escapes in the name" "$bin" analyze esc
t 9 "analyze --format html, bidi in the name" "$bin" analyze --format html bidi
t 15 "analyze a zip with a nested zip" "$bin" analyze --format json nested/EX01.zip
t 16 "fleet --jobs 20000, 2 bundles" "$bin" fleet --jobs 20000 --out out16 two
t 17 "parse a file with a newline in its name" "$bin" parse nl
