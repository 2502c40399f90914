#!/usr/bin/env python3
"""Check a `probe --format json` report against the expected outcome.

usage: probe_verdict.py healthy|ROOT-CAUSE-ID REPORT.json EXIT-CODE [OS [FINDING...]]

healthy: every probe step ok, no failed step, no root cause, exit code 0
         (the only failed check is the INFO "evidence incomplete").
ROOT-CAUSE-ID (e.g. tls-interception): that is the first root cause, the
         server is critical and the exit code is 2.
OS:      the Windows chain engine's verdict (`tls.os_verdict`): `trusted`,
         or `rejected:WORD` (rejected, its error contains WORD).
FINDING: ids that must be among the findings.
"""
import json
import sys


def probe_steps(server):
    probes = server.get("probes") or []
    if isinstance(probes, dict):
        probes = [probes]
    return [s for p in probes for s in p.get("steps", [])]


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    want, path, code = sys.argv[1], sys.argv[2], int(sys.argv[3])
    want_os = sys.argv[4] if len(sys.argv) > 4 else None
    want_findings = sys.argv[5:]
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        server = report["servers"][0]
    except (OSError, ValueError, KeyError, IndexError) as e:
        print(f"  no probe report: {e}")
        return 1
    steps = probe_steps(server)
    causes = [c["id"] for c in server.get("root_causes", [])]
    problems = []
    if not steps:
        problems.append("no probe steps in the report")
    if want == "healthy":
        bad = [f"{s['kind']} {s['outcome']} ({s.get('reason')})" for s in steps if s["outcome"] != "ok"]
        if bad:
            problems.append("steps not ok: " + "; ".join(bad))
        if server.get("failed_step") is not None:
            problems.append(f"failed_step {server['failed_step']}")
        if causes:
            problems.append(f"root causes {causes}")
        if code != 0 or server.get("status") != "ok":
            problems.append(f"status {server.get('status')}, exit {code} (want ok, 0)")
    else:
        if not causes or causes[0] != want:
            problems.append(f"root causes {causes} (want {want} first)")
        if code != 2 or server.get("status") != "critical":
            problems.append(f"status {server.get('status')}, exit {code} (want critical, 2)")
    if want_os:
        probes = server.get("probes") or []
        if isinstance(probes, dict):
            probes = [probes]
        verdicts = [(p.get("tls") or {}).get("os_verdict") for p in probes]
        v = next((x for x in verdicts if x), None)
        status, _, word = want_os.partition(":")
        if not v:
            problems.append("no os_verdict in the probe's TLS result")
        elif v.get("status") != status or word.upper() not in (v.get("error") or "").upper():
            problems.append(f"os_verdict {v} (want {want_os})")
    found = {f["id"] for f in server.get("findings", [])}
    for f in want_findings:
        if f not in found:
            problems.append(f"finding {f} missing (findings {sorted(found)})")
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
