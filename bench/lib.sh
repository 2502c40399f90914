# Shared by the end-to-end bench scripts (sourced; they set $dir first).
# Needs /usr/bin/time (Debian package `time`).

machine() {
  echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# measure CMD...: "wall-seconds peak-RSS-KiB" of one run.
measure() {
  # Output to a file: GNU grep stops at the first match when it writes to /dev/null.
  /usr/bin/time -f "%e %M" -o "$dir/.t" "$@" >"$dir/.out" 2>&1 || true
  tail -n 1 "$dir/.t"
}

# row LABEL BYTES "wall rss": one Markdown table row with the throughput.
row() {
  awk -v l="$1" -v b="$2" -v w="${3% *}" -v r="${3#* }" \
    'BEGIN { printf "| %s | %.2f s | %.0f MB/s | %.1f MB |\n", l, w, b / (w > 0 ? w : 0.001) / 1e6, r / 1024 }'
}
