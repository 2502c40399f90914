#!/usr/bin/env python3
"""Compare two eems-doctor JSON outputs, Linux build vs Windows build.

usage: same_json.py LINUX.json WINDOWS.json   (exit 0 when equal)

Equal means equal as JSON values after removing what legitimately differs
between the two runs:
- `generated_at` / `started_at` (the wall clock of each run);
- how the same file is named: the Windows run gets `Z:\\work\\...` for
  `/work/...` (Wine's Z: drive is the Unix root) and joins paths with `\\`.
  Every `Z:\\...` path inside a string becomes `/...` with `/` separators.
  Other backslashes (Windows paths quoted from the evidence, such as
  `C:\\Program Files\\...`) are left alone: they must be equal as they are.
Arrays keep their order: a different order is a difference.
"""
import json
import re
import sys

CLOCK_KEYS = {"generated_at", "started_at"}
# A Z: path runs until whitespace or a quoting/markup character.
Z_PATH = re.compile(r"[Zz]:\\[^\s\"'`<>|]*")


def unix_path(match):
    return match.group(0)[2:].replace("\\", "/")


def norm(value):
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, str):
        return Z_PATH.sub(unix_path, value)
    return value


def diffs(a, b, where="$"):
    """Yield (path, linux, windows) for each difference, depth first."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield f"{where}.{k}", a.get(k, "<absent>"), b.get(k, "<absent>")
            else:
                yield from diffs(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{where} (length)", len(a), len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diffs(x, y, f"{where}[{i}]")
    elif a != b:
        yield where, a, b


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        linux, windows = (norm(load(p)) for p in sys.argv[1:])
    except (OSError, ValueError) as e:
        print(f"  cannot compare: {e}")
        return 1
    found = list(diffs(linux, windows))
    for where, a, b in found[:10]:
        print(f"  {where}:\n    linux:   {str(a)[:200]!s}\n    windows: {str(b)[:200]!s}")
    if len(found) > 10:
        print(f"  ... {len(found) - 10} more differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
