#!/usr/bin/env bash
# Fuzz every target for SECONDS (default 600) with cargo-fuzz (nightly + libFuzzer),
# seeding each corpus with the project's fixtures and samples.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
# Crashes land in fuzz/artifacts/<target>/; copy each into fuzz/regressions/<target>/
# so that `cargo test` (parsers/tests/fuzz_regressions.rs) replays it forever.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parse_input every_parser mitigation_log_stream winhttp_blob evtx)
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  # Seeds: every fixture and sample file (small ones; libFuzzer caps input size anyway).
  find ../tests/fixtures ../samples -type f -size -256k -print0 |
    while IFS= read -r -d '' f; do cp -n "$f" "corpus/$t/$(sha1sum "$f" | cut -c1-16)" 2>/dev/null || true; done
  echo "== $t for ${secs}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=262144 2>&1 |
    grep -E "^#[0-9]+ +(DONE|pulse)|Done [0-9]+ runs|SUMMARY|ERROR|panicked" | tail -n 3
done
