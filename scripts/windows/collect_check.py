#!/usr/bin/env python3
"""Checks of `scripts/windows.sh test`'s collect-under-Wine stage.

  collect_check.py BUNDLE ANALYSIS.json ARGV.log EXPECT EXCHANGE_PATH

BUNDLE is the directory `collect` wrote under Wine (Wine's reg.exe reading
Wine's registry, stand-ins for powershell/wevtutil); ANALYSIS.json the JSON
report of that bundle; ARGV.log what the stand-ins received, as the Windows
C runtime split it. EXPECT is `proxy` (WinHttpSettings holds the same proxy
as InternetWebProxy) or `direct` (no WinHTTP proxy: proxy-winhttp-missing).
Prints what failed and exits 1, or prints one summary line.
"""
import json
import os
import sys

EVENT_QUERY = ("*[System[Provider[@Name='MSExchange Mitigation Service'] "
               "or (EventID=4999)]]")


def main():
    bundle, analysis, argv_log, expect, exchange_path = sys.argv[1:6]
    problems = []

    def check(ok, what):
        if not ok:
            problems.append(what)

    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    items = {i["name"]: i for i in manifest["items"]}
    check(manifest["os"] == "windows", f"manifest os is {manifest['os']!r}")
    cp = manifest.get("code_pages") or {}
    check(isinstance(cp.get("oem"), int) and cp["oem"] > 0 and isinstance(cp.get("ansi"), int),
          f"code_pages {cp!r}")
    # The install path came from the Setup registry value written with reg add.
    check((manifest.get("exchange_path") or "").rstrip("\\").lower()
          == exchange_path.rstrip("\\").lower(),
          f"exchange_path {manifest.get('exchange_path')!r}, want {exchange_path!r}")

    # reg.exe is Wine's own, found on PATH in System32; the registry answered.
    reg = items.get("winhttp-settings", {})
    check((reg.get("program") or "").lower().endswith("\\system32\\reg.exe"),
          f"reg resolved to {reg.get('program')!r}")
    check(reg.get("exit_code") == 0, f"reg query WinHttpSettings: {reg}")
    raw = open(os.path.join(bundle, "reg-query-winhttpsettings.txt"), "rb").read()
    check(b"WinHttpSettings" in raw and b"REG_BINARY" in raw,
          f"reg query output: {raw[:200]!r}")
    pol = items.get("authroot-policy", {})
    check(pol.get("exit_code") == 0, f"reg query AuthRoot policy: {pol}")

    # powershell is the .cmd stand-in (PATH/PATHEXT lookup), wevtutil the .exe one.
    ps = items.get("get-exchangeserver", {})
    check((ps.get("program") or "").lower().endswith("\\powershell.cmd"),
          f"powershell resolved to {ps.get('program')!r}")
    ev = items.get("events", {})
    check((ev.get("program") or "").lower().endswith("\\wevtutil.exe"),
          f"wevtutil resolved to {ev.get('program')!r}")
    # Nothing "succeeds" silently (Wine's netsh stub prints nothing).
    for i in manifest["items"]:
        if i.get("exit_code") == 0 and not i.get("output") and i["name"] != "events":
            check(bool(i.get("error")), f"{i['name']}: exit 0, no output, no error")
    logs = items.get("mitigation-logs", {})
    check(len(logs.get("files", [])) > 0, f"no logs copied: {logs}")

    # What the tools received, split the Windows way.
    calls = [line.rstrip("\r\n").split("\t")
             for line in open(argv_log, encoding="utf-8", errors="replace")
             if line.strip()]
    wev = [c[1:] for c in calls if c[0] == "wevtutil"]
    want = ["qe", "Application", "/q:" + EVENT_QUERY, "/f:xml", "/rd:true", "/c:500"]
    check(wev and wev[-1] == want, f"wevtutil argv {wev[-1:]!r}, want {want!r}")
    ps_calls = [c[1:] for c in calls if c[0] == "powershell"]
    scripts = {c[3] for c in ps_calls if len(c) == 4 and c[:3] ==
               ["-NoProfile", "-NonInteractive", "-Command"]}
    for name in ["get-exchangeserver", "get-organizationconfig", "get-service",
                 "exsetup-version"]:
        shown = items.get(name, {}).get("command", "")
        prefix = 'powershell.exe -NoProfile -NonInteractive -Command "'
        script = shown[len(prefix):-1] if shown.startswith(prefix) else None
        check(script in scripts,
              f"{name}: the script did not arrive as one argument intact: {script!r} not in {sorted(scripts)!r}")

    with open(analysis, encoding="utf-8") as f:
        report = json.load(f)
    server = report["servers"][0]
    found = {x["id"] for x in server.get("findings", [])}
    roots = [r.get("id") for r in server.get("root_causes", [])]
    check("ctl-autoupdate-disabled" in found,
          f"DisableRootAutoUpdate=1 not reported: findings {sorted(found)}")
    if expect == "direct":
        check("proxy-winhttp-missing" in found,
              f"direct WinHTTP not reported: findings {sorted(found)}")
    else:
        check("proxy-winhttp-missing" not in found and "proxy-mismatch" not in found,
              f"the WinHTTP proxy was not read back: findings {sorted(found)}")

    if problems:
        for p in problems:
            print("  " + p)
        return 1
    print(f"  {expect}: findings {sorted(found)}, root causes {roots}, "
          f"{len(calls)} stand-in calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
