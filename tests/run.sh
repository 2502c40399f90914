#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (README: "Run the tests").
# Installs what the tests need, then: rustfmt check, clippy with warnings as
# errors, and every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages for network tests (added by the probes work). Installing
# needs root; on a developer machine without root the tests that need these
# servers say so and fail loudly rather than pass silently.
# squid-openssl: CONNECT-only, basic-auth and ssl_bump proxies (not plain `squid`:
# it conflicts and has no ssl_bump); dnsmasq: the DNS server; openssl: the
# proxy password hash; procps: `kill` for process groups and `pgrep` for the
# no-stray-process check; chromium: the inert-report test loads a hostile report
# in a real browser; util-linux: `unshare -n` for the no-network test; xmlsec1:
# the oracle for eems-xmldsig (tests/xmldsig_oracle.rs).
APT_PACKAGES=(squid-openssl dnsmasq openssl procps chromium util-linux xmlsec1)
if ((${#APT_PACKAGES[@]})); then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
  else
    echo "tests/run.sh: not root, skipping apt-get install ${APT_PACKAGES[*]}" >&2
  fi
fi

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# The lab tests (real squid, dnsmasq, Chromium, network namespaces) run only
# with EEMS_LAB=1; here they always do, and a missing server fails them.
EEMS_LAB=1 cargo test --workspace --locked

# The Windows stage: eems-doctor.exe cross-built here (Debian's Rust 1.96 with
# build-std, its own target directory) and run under Wine against the samples,
# the reference fixtures and the loopback OCS stand-in (README: "Windows").
echo "== windows: build"
scripts/windows.sh build
echo "== windows: test"
scripts/windows.sh test
