#!/usr/bin/env bash
# eems-doctor.exe: cross-built on Debian 12, run and tested under Wine.
#
#   scripts/windows.sh build        install what is missing, cross-build the release .exe
#   scripts/windows.sh run ARGS...  run the .exe under Wine, headless, with ARGS
#   scripts/windows.sh test         the Windows test suite (needs `build` first)
#
# Why it is built this way (measured, see BENCHMARKS.md "Windows stage"):
# - Target x86_64-pc-windows-gnu: MSVC import libraries cannot be had here.
# - Debian ships no prebuilt Windows std, so std is compiled from rust-web-src
#   with -Zbuild-std, which needs Debian's own 1.96 cargo/rustc (rustup's 1.95
#   comes first on PATH and cannot build those sources) and RUSTC_BOOTSTRAP=1.
# - Its own target directory (target/windows-build), so the normal rustup
#   build and its target directory are never touched.
# - Wine 8.0 lacks bcryptprimitives.dll!ProcessPrng, which Rust std imports;
#   a tiny stand-in DLL (scripts/windows/bcryptprimitives.c) goes into the
#   Wine prefix only, never next to the shipped .exe.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=x86_64-pc-windows-gnu
OUT_DIR=$ROOT/target/$TARGET/release
EXE=$OUT_DIR/eems-doctor.exe
BUILD_DIR=$ROOT/target/windows-build
SHIM_DLL=$BUILD_DIR/wine/bcryptprimitives.dll
PREFIX=${EEMS_WINEPREFIX:-$ROOT/target/wine-prefix}
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
APT_PACKAGES=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64)

die() {
  echo "scripts/windows.sh: $*" >&2
  exit 1
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- build -------------------------------------------------------------------

install_missing() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); install them as root: apt-get install ${missing[*]}"
  echo "== windows: installing ${missing[*]}"
  local t0
  t0=$(now)
  apt-get update -qq
  # No recommends: Wine's recommends are fonts, desktop integration and the
  # 32-bit loader, none of which a console program needs.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "== windows: install took $(since "$t0") s"
}

# The environment of the cross-build: Debian's toolchain first, the mingw
# tools for the Windows target (ring's C code, the final link).
cross_env() {
  env -u RUSTUP_TOOLCHAIN -u RUSTC_WRAPPER -u CARGO_BUILD_TARGET_DIR \
    PATH="/usr/bin:$PATH" \
    CARGO_TARGET_DIR="$BUILD_DIR" \
    RUSTC=/usr/bin/rustc \
    RUSTDOC=/usr/bin/rustdoc \
    RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
    AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
    "$@"
}

build() {
  install_missing
  echo "== windows: cargo build --release --target $TARGET -Zbuild-std ($(/usr/bin/rustc --version))"
  local t0
  t0=$(now)
  mkdir -p "$BUILD_DIR"
  (cd "$ROOT" && cross_env /usr/bin/cargo build --release --locked --target "$TARGET" \
    -Zbuild-std --bin eems-doctor) 2>&1 | tee "$BUILD_DIR/build.log"
  # Warnings are errors, as in the Linux CI: code under cfg(windows) is
  # compiled only here. Cargo replays cached warnings, so this holds on
  # rebuilds too.
  if grep -q '^warning: `eems' "$BUILD_DIR/build.log"; then
    die "the Windows build has warnings (above); fix them"
  fi
  mkdir -p "$OUT_DIR"
  # The release profile keeps line tables (for Linux profiling); the shipped
  # .exe drops the DWARF (77 MB -> 20 MB) but keeps the symbol table, so a
  # panic's backtrace still names functions. The unstripped .exe stays in
  # target/windows-build for symbolising.
  x86_64-w64-mingw32-strip --strip-debug -o "$EXE" "$BUILD_DIR/$TARGET/release/eems-doctor.exe"
  (cd "$OUT_DIR" && sha256sum eems-doctor.exe >eems-doctor.exe.sha256)
  # The Wine-only ProcessPrng stand-in (a few ms to build).
  mkdir -p "$(dirname "$SHIM_DLL")"
  if [ ! -f "$SHIM_DLL" ] || [ "$ROOT/scripts/windows/bcryptprimitives.c" -nt "$SHIM_DLL" ]; then
    x86_64-w64-mingw32-gcc -shared -O2 -s -o "$SHIM_DLL" \
      "$ROOT/scripts/windows/bcryptprimitives.c" -ladvapi32
  fi
  echo "== windows: build took $(since "$t0") s; $EXE ($(stat -c %s "$EXE") bytes)"
  cat "$EXE.sha256"
}

# --- run ---------------------------------------------------------------------

wine_env() {
  env -u DISPLAY -u WAYLAND_DISPLAY \
    WINEPREFIX="$PREFIX" \
    WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b" \
    "$@"
}

# Creates the prefix on first use (~8 s) and puts the ProcessPrng stand-in
# in its system32, where Wine looks after the .exe's own directory.
ensure_prefix() {
  [ -x "$WINE" ] || die "no $WINE: run scripts/windows.sh build first"
  [ -f "$SHIM_DLL" ] || die "no $SHIM_DLL: run scripts/windows.sh build first"
  if [ ! -f "$PREFIX/system.reg" ]; then
    mkdir -p "$PREFIX"
    echo "scripts/windows.sh: creating the Wine prefix $PREFIX (once)" >&2
    wine_env "$WINE" wineboot --init >"$PREFIX.log" 2>&1 || {
      cat "$PREFIX.log" >&2
      die "wineboot failed"
    }
    wine_env "$WINESERVER" -w
  fi
  local dest=$PREFIX/drive_c/windows/system32/bcryptprimitives.dll
  cmp -s "$SHIM_DLL" "$dest" 2>/dev/null || cp "$SHIM_DLL" "$dest"
}

# Unix absolute paths become Z:\ paths (Wine maps / to Z:). A bare "/x"
# also works while the current directory is on Z:, but not from inside the
# prefix's C: drive; the explicit drive works from anywhere. `--flag=/path`
# is converted too. Nothing else (URLs, HOST:PORT, `-`) starts with `/`.
to_windows_arg() {
  local a=$1
  case $a in
  //*) printf '%s' "$a" ;; # already a UNC-ish path: leave it alone
  /*) printf 'Z:%s' "${a//\//\\}" ;;
  --*=/*)
    local flag=${a%%=*} value=${a#*=}
    printf '%s=Z:%s' "$flag" "${value//\//\\}"
    ;;
  *) printf '%s' "$a" ;;
  esac
}

run() {
  [ -f "$EXE" ] || die "no $EXE: run scripts/windows.sh build first"
  ensure_prefix
  local args=() a
  for a in "$@"; do args+=("$(to_windows_arg "$a")"); done
  # exec: stdout, stderr and the exit code are the program's own.
  exec env -u DISPLAY -u WAYLAND_DISPLAY WINEPREFIX="$PREFIX" WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b" \
    "$WINE" "$(to_windows_arg "$EXE")" "${args[@]}"
}

# --- test --------------------------------------------------------------------

FAILURES=0
pass() { echo "PASS  $1  ($(since "$2") s)"; }
fail() {
  echo "FAIL  $1  ($(since "$2") s)"
  FAILURES=$((FAILURES + 1))
}

# One .exe run, with the exit code captured instead of aborting the suite.
win() { "$ROOT/scripts/windows.sh" run "$@"; }

# WinHttpSettings as Windows writes it: header 0x18, a counter, flags
# (1 direct, 3 proxy), then the length-prefixed proxy and bypass strings.
winhttp_blob() {
  python3 -c '
import struct, sys
proxy, bypass = sys.argv[1].encode(), sys.argv[2].encode()
flags = 3 if proxy else 1
b = struct.pack("<III", 0x18, 0, flags) + struct.pack("<I", len(proxy)) + proxy \
    + struct.pack("<I", len(bypass)) + bypass
print(b.hex().upper())' "$1" "$2"
}

wine_reg() { wine_env "$WINE" reg "$@" >/dev/null; }

collect_under_wine() {
  local work=$1 linux=$2 t0
  local sdir=$work/standins exdir=$work/exchange sample=$ROOT/samples/06-proxy-winhttp-missing
  mkdir -p "$sdir/out" "$exdir/Logging/MitigationService"
  cp "$sample"/MitigationService/* "$exdir/Logging/MitigationService/"
  touch "$exdir"/Logging/MitigationService/* # within collect's --since window
  for f in get-exchangeserver-fl.txt get-organizationconfig-fl.txt get-service.txt exsetup-version.txt; do
    cp "$sample/$f" "$sdir/out/$f"
  done
  : >"$sdir/out/events-mitigation.xml" # wevtutil: no events
  x86_64-w64-mingw32-gcc -municode -O2 -s -o "$sdir/argv-standin.exe" "$ROOT/scripts/windows/standin.c"
  cp "$sdir/argv-standin.exe" "$sdir/wevtutil.exe"
  printf '@set EEMS_STANDIN_AS=powershell\r\n@"%%~dp0argv-standin.exe" %%*\r\n' >"$sdir/powershell.cmd"

  local win_sdir win_ex
  win_sdir=$(to_windows_arg "$sdir")
  win_ex="$(to_windows_arg "$exdir")\\"
  local connections='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections'
  wine_reg add 'HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Setup' /v MsiInstallPath /t REG_SZ /d "$win_ex" /f
  wine_reg add 'HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot' /v DisableRootAutoUpdate /t REG_DWORD /d 1 /f

  local expect proxy rc
  for expect in proxy direct; do
    t0=$(now)
    proxy=
    [ "$expect" = proxy ] && proxy=proxy.fabrikam.local:3128
    wine_reg add "$connections" /v WinHttpSettings /t REG_BINARY /d "$(winhttp_blob "$proxy" '<local>')" /f
    : >"$sdir/argv.log"
    rc=0
    # `collect` then the Linux analysis for one; `check` (collect + analysis,
    # all in the .exe) for the other.
    if [ "$expect" = proxy ]; then
      env -u ExchangeInstallPath WINEPATH="$win_sdir" EEMS_STANDIN_DIR="$win_sdir\\out" \
        EEMS_STANDIN_LOG="$win_sdir\\argv.log" \
        "$ROOT/scripts/windows.sh" run collect --no-probe --out "$work/bundle-$expect" \
        >"$work/collect-$expect.out" 2>"$work/collect-$expect.err" || rc=$?
      "$linux" analyze --format json "$work/bundle-$expect" >"$work/analysis-$expect.json" 2>/dev/null || true
    else
      env -u ExchangeInstallPath WINEPATH="$win_sdir" EEMS_STANDIN_DIR="$win_sdir\\out" \
        EEMS_STANDIN_LOG="$win_sdir\\argv.log" \
        "$ROOT/scripts/windows.sh" run check --no-probe --out "$work/bundle-$expect" \
        --format json -o "$work/analysis-$expect.json" \
        >"$work/collect-$expect.out" 2>"$work/collect-$expect.err" || rc=$?
    fi
    if [ -f "$work/bundle-$expect/manifest.json" ] && python3 "$ROOT/scripts/windows/collect_check.py" \
      "$work/bundle-$expect" "$work/analysis-$expect.json" "$sdir/argv.log" "$expect" "$win_ex"; then
      pass "collect under Wine, WinHttpSettings $expect via reg add: read back through reg query, analysed (exit $rc)" "$t0"
    else
      sed 's/^/  stderr: /' "$work/collect-$expect.err" | tail -20
      fail "collect under Wine, WinHttpSettings $expect (exit $rc)" "$t0"
    fi
  done
  # Leave the prefix as it was: later `run`s must not see the test's values.
  wine_reg delete 'HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Setup' /v MsiInstallPath /f || true
  wine_reg delete 'HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot' /v DisableRootAutoUpdate /f || true
  wine_reg delete "$connections" /v WinHttpSettings /f || true
}

test_suite() {
  [ -f "$EXE" ] || die "no $EXE: run scripts/windows.sh build first"
  local t_all t0 work linux rc_l rc_w
  t_all=$(now)
  work=$(mktemp -d "${TMPDIR:-/tmp}/eems-windows-test.XXXXXX")
  local standin_pid=
  # shellcheck disable=SC2064 # expand now: the values are known here
  trap "[ -n \"\${standin_pid:-}\" ] && kill \"\${standin_pid}\" 2>/dev/null; wine_env \"$WINESERVER\" -k 2>/dev/null; rm -rf \"$work\"" EXIT

  ensure_prefix
  # One wineserver for the whole suite: ~1 s saved per run.
  wine_env "$WINESERVER" -p

  # The Linux build the .exe is compared with (normal rustup build, debug).
  t0=$(now)
  (cd "$ROOT" && cargo build -q --locked --bin eems-doctor)
  linux="$(cd "$ROOT" && cargo metadata -q --no-deps --format-version 1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/eems-doctor"
  [ -x "$linux" ] || die "no Linux binary at $linux"
  echo "== windows test: Linux reference build ready ($(since "$t0") s)"

  # (1) --version
  t0=$(now)
  local want got
  want=$("$linux" --version)
  got=$(win --version 2>"$work/version.err") || true
  if [ "$got" = "$want" ]; then
    pass "version: '$got'" "$t0"
  else
    cat "$work/version.err"
    fail "version: want '$want', got '$got'" "$t0"
  fi

  # (2) analyze --format json on every sample: same JSON and exit code.
  t0=$(now)
  local dir name ok=0 bad=0 codes=""
  # One clock for both runs: evidence-stale quotes "now" to the second.
  export EEMS_DOCTOR_NOW
  EEMS_DOCTOR_NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for dir in "$ROOT"/samples/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    rc_l=0 rc_w=0
    "$linux" analyze --format json "$dir" >"$work/$name.linux.json" 2>/dev/null || rc_l=$?
    win analyze --format json "$dir" >"$work/$name.win.json" 2>"$work/$name.win.err" || rc_w=$?
    codes+=" $name=$rc_w"
    if [ "$rc_l" != "$rc_w" ]; then
      echo "  $name: exit code Linux $rc_l, Windows $rc_w"
      cat "$work/$name.win.err"
      bad=$((bad + 1))
    elif ! python3 "$ROOT/scripts/windows/same_json.py" "$work/$name.linux.json" "$work/$name.win.json"; then
      echo "  $name: JSON differs (above)"
      bad=$((bad + 1))
    else
      ok=$((ok + 1))
    fi
  done
  unset EEMS_DOCTOR_NOW
  if ((bad == 0 && ok > 0)); then
    pass "analyze --format json: $ok samples identical to Linux (exit codes:$codes)" "$t0"
  else
    fail "analyze --format json: $bad of $((ok + bad)) samples differ from Linux" "$t0"
  fi

  # (3) parse --format json on the reference fixtures.
  t0=$(now)
  ok=0 bad=0
  for dir in "$ROOT"/tests/fixtures/reference/*/; do
    dir=${dir%/}
    name=parse-$(basename "$dir")
    rc_l=0 rc_w=0
    "$linux" parse --format json "$dir" >"$work/$name.linux.json" 2>/dev/null || rc_l=$?
    win parse --format json "$dir" >"$work/$name.win.json" 2>"$work/$name.win.err" || rc_w=$?
    if [ "$rc_l" != "$rc_w" ]; then
      echo "  $name: exit code Linux $rc_l, Windows $rc_w"
      cat "$work/$name.win.err"
      bad=$((bad + 1))
    elif ! python3 "$ROOT/scripts/windows/same_json.py" "$work/$name.linux.json" "$work/$name.win.json"; then
      echo "  $name: JSON differs (above)"
      bad=$((bad + 1))
    else
      ok=$((ok + 1))
    fi
  done
  if ((bad == 0 && ok > 0)); then
    pass "parse --format json: $ok fixture folders identical to Linux" "$t0"
  else
    fail "parse --format json: $bad of $((ok + bad)) fixture folders differ from Linux" "$t0"
  fi

  # (4) probe under Wine against the loopback OCS stand-in (RSA keys: Wine's
  # CryptoAPI cannot verify ECDSA signatures). Its roots go into the Wine
  # prefix's machine Root store, so the second verdict, the OS chain
  # engine's (CryptoAPI with revocation), judges the chain as Windows would.
  t0=$(now)
  (cd "$ROOT" && cargo build -q --locked --example ocs_standin)
  echo "== windows test: OCS stand-in example built ($(since "$t0") s)"
  local scenario
  for scenario in healthy no-crls http-dropped; do
    t0=$(now)
    local standin_args=(--rsa 120) extra_args=()
    [ "$scenario" = no-crls ] && standin_args=(--rsa --no-crls 120)
    # HTTP/80 silently dropped. Windows gets three quarters of the step
    # timeout for its downloads; Wine's cryptnet ignores that budget and
    # hangs, so here the verdict is "unavailable" and the probe must still
    # end by its own deadline with the CRL and CTL failures reported.
    [ "$scenario" = http-dropped ] && standin_args=(--rsa --http-dropped 120) && extra_args=(--timeout 4)
    (cd "$ROOT" && exec cargo run -q --locked --example ocs_standin -- "${standin_args[@]}") \
      >"$work/standin-$scenario.out" 2>"$work/standin-$scenario.err" &
    standin_pid=$!
    local i probe_line=
    for i in $(seq 1 300); do
      probe_line=$(grep -m1 '^ *eems-doctor probe ' "$work/standin-$scenario.out" || true)
      [ -n "$probe_line" ] && break
      sleep 0.1
    done
    if [ -z "$probe_line" ]; then
      cat "$work/standin-$scenario.err"
      fail "probe ($scenario): the OCS stand-in did not print its probe command" "$t0"
      continue
    fi
    local probe_args=() without=() roots=
    read -r -a probe_args <<<"${probe_line#*eems-doctor }"
    # The same command without --tls-issuers FILE: the test PKI then looks
    # like an inspecting proxy's re-signed chain.
    for ((i = 0; i < ${#probe_args[@]}; i++)); do
      case ${probe_args[i]} in
      --tls-issuers) i=$((i + 1)) ;;
      --ca-file)
        roots=${probe_args[i + 1]}
        without+=("${probe_args[i]}")
        ;;
      *) without+=("${probe_args[i]}") ;;
      esac
    done
    # Wine caches revocation results by serial number, and the test PKI's
    # serials are fixed: a previous scenario's "not revoked" must not answer.
    rm -rf "$PREFIX"/drive_c/users/*/AppData/LocalLow/Microsoft/CryptnetUrlCache
    local keys=() key hex
    while IFS=$'\t' read -r key hex; do
      wine_reg add "$key" /v Blob /t REG_BINARY /d "$hex" /f
      keys+=("$key")
    done < <(python3 "$ROOT/scripts/windows/wine_root.py" "$roots")
    rc_w=0
    win "${probe_args[@]}" "${extra_args[@]}" --format json >"$work/probe-$scenario.json" 2>"$work/probe-$scenario.err" || rc_w=$?
    if [ "$scenario" = healthy ]; then
      if python3 "$ROOT/scripts/windows/probe_verdict.py" healthy "$work/probe-$scenario.json" "$rc_w" trusted; then
        pass "probe with --tls-issuers: every step passed, Windows chain engine trusts the chain, no root cause (exit $rc_w)" "$t0"
      else
        cat "$work/probe-$scenario.err"
        fail "probe with --tls-issuers: expected a healthy probe (exit $rc_w)" "$t0"
      fi
      t0=$(now)
      rc_w=0
      win "${without[@]}" --format json >"$work/probe-intercepted.json" 2>"$work/probe-intercepted.err" || rc_w=$?
      if python3 "$ROOT/scripts/windows/probe_verdict.py" tls-interception "$work/probe-intercepted.json" "$rc_w"; then
        pass "probe without --tls-issuers: root cause tls-interception (exit $rc_w)" "$t0"
      else
        cat "$work/probe-intercepted.err"
        fail "probe without --tls-issuers: expected root cause tls-interception (exit $rc_w)" "$t0"
      fi
    elif [ "$scenario" = http-dropped ]; then
      if python3 "$ROOT/scripts/windows/probe_verdict.py" crl-unreachable "$work/probe-$scenario.json" "$rc_w" unavailable:"no verdict within" ctl-unreachable &&
        [ "$(since "$t0" | cut -d. -f1)" -lt 30 ]; then # a hang guard (deadline 9 s), not a speed test
        pass "probe with HTTP/80 dropped: crl-unreachable, ctl-unreachable; Wine's chain engine hangs, reported as no verdict, probe ends on time (exit $rc_w)" "$t0"
      else
        cat "$work/probe-$scenario.err"
        fail "probe with HTTP/80 dropped: expected crl-unreachable and an on-time end (exit $rc_w)" "$t0"
      fi
    else
      # CRLs answer 404: WebPKI (no revocation) still trusts the chain, the
      # Windows engine rejects it on revocation, as the service would.
      if python3 "$ROOT/scripts/windows/probe_verdict.py" crl-unreachable "$work/probe-$scenario.json" "$rc_w" rejected:REVOCATION tls-os-verdict-differs; then
        pass "probe with blocked CRLs: root cause crl-unreachable, Windows rejects on revocation, WebPKI trusts: tls-os-verdict-differs (exit $rc_w)" "$t0"
      else
        cat "$work/probe-$scenario.err"
        fail "probe with blocked CRLs: expected crl-unreachable and a revocation rejection by Windows (exit $rc_w)" "$t0"
      fi
    fi
    for key in "${keys[@]}"; do wine_reg delete "$key" /f || true; done
    kill "$standin_pid" 2>/dev/null || true
    wait "$standin_pid" 2>/dev/null || true
    standin_pid=
  done

  # (5) exit codes pass through Wine and this script: critical is 2,
  # a usage error is Linux's usage code, text output too.
  t0=$(now)
  local crit=$ROOT/samples/04-tls-inspection-proxy
  rc_l=0 rc_w=0
  "$linux" analyze "$crit" >/dev/null 2>&1 || rc_l=$?
  win analyze "$crit" >"$work/crit.txt" 2>/dev/null || rc_w=$?
  local rc_lu=0 rc_wu=0
  "$linux" analyze >/dev/null 2>&1 || rc_lu=$?
  win analyze >/dev/null 2>"$work/usage.err" || rc_wu=$?
  if [ "$rc_w" = 2 ] && [ "$rc_l" = 2 ] && [ "$rc_wu" = "$rc_lu" ] && [ "$rc_wu" != 0 ] &&
    grep -q CRITICAL "$work/crit.txt" && grep -qi usage "$work/usage.err"; then
    pass "exit codes: critical sample 2, usage error $rc_wu (as on Linux), stderr passed through" "$t0"
  else
    fail "exit codes: critical sample Linux $rc_l / Windows $rc_w (want 2), usage error Linux $rc_lu / Windows $rc_wu" "$t0"
  fi

  # (6) collect and check under Wine: Wine's own reg.exe reads Wine's real
  # registry (values written with reg add); stand-ins on PATH replace the
  # tools Wine lacks (powershell as a .cmd, wevtutil as an .exe) and record
  # the arguments they received, split the Windows way.
  t0=$(now)
  collect_under_wine "$work" "$linux"

  if ((FAILURES)); then
    echo "== windows test: $FAILURES check(s) FAILED ($(since "$t_all") s)"
    return 1
  fi
  echo "== windows test: all checks passed ($(since "$t_all") s)"
}

# --- main --------------------------------------------------------------------

verb=${1:-}
[ $# -gt 0 ] && shift
case $verb in
build) build ;;
run) run "$@" ;;
test) test_suite ;;
*)
  echo "usage: scripts/windows.sh build | run ARGS... | test" >&2
  exit 64
  ;;
esac
