//! Secrets never leave: proxy credentials (`http://user:pass@host`) and
//! `Proxy-Authorization` values in the evidence appear in no report format.
//! (The live probe's own credential test is in `tests/probe_scenarios.rs`,
//! the bundle/redaction scans in `tests/collect_bundle.rs`.)

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use std::path::Path;
use std::process::Command;

const PASSWORD: &str = "S3cr3tPw";
const BASIC: &str = "c3ZjLXByb3h5OlMzY3IzdFB3"; // base64("svc-proxy:S3cr3tPw")

fn bundle(dir: &Path) {
    std::fs::create_dir_all(dir.join("MitigationService")).unwrap();
    std::fs::write(
        dir.join("get-exchangeserver-fl.txt"),
        format!("\r\nName                       : EX09\r\nAdminDisplayVersion        : Version 15.2 (Build 1544.4)\r\nMitigationsEnabled         : True\r\nInternetWebProxy           : http://svc-proxy:{PASSWORD}@proxy.contoso.com:8080/\r\nInternetWebProxyBypassList : {{}}\r\n\r\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("netsh-winhttp-show-proxy.txt"),
        "\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n\r\n",
    )
    .unwrap();
    let mut log = String::from(
        "\u{feff}#Software: Microsoft Exchange Server\r\n#Version: 15.02.1544.014\r\n#Fields: DateTime,ServerName,Operation,CustomData\r\n",
    );
    for h in 10..13 {
        log.push_str(&format!("2024-03-14T{h}:10:04.233Z,EX09,FetchMitigation,S:LogLevel=Information;S:Message=Fetching mitigations from https://officeclient.microsoft.com/getexchangemitigations\r\n"));
        log.push_str(&format!("2024-03-14T{h}:10:04.236Z,EX09,FetchMitigation,S:LogLevel=Information;S:Message=Using Proxy http://svc-proxy:{PASSWORD}@proxy.contoso.com:8080/ To Fetch Configurations\r\n"));
        log.push_str(&format!("2024-03-14T{h}:10:05.447Z,EX09,FetchMitigation,S:LogLevel=Error;S:Message=Exception encountered while fetching mitigations : The remote server returned an error: (407) Proxy Authentication Required. Proxy-Authorization: Basic {BASIC}\r\n"));
    }
    std::fs::write(
        dir.join("MitigationService/MitigationService_2024031410-1.LOG"),
        log,
    )
    .unwrap();
}

#[test]
fn no_report_format_carries_proxy_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("EX09");
    bundle(&b);
    for format in ["text", "json", "html"] {
        let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
            .args(["analyze", "--color", "never", "--format", format])
            .arg(&b)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.len() > 200, "{format}: no report");
        assert!(!all.contains(PASSWORD), "{format} leaks the proxy password");
        assert!(
            !all.contains(BASIC),
            "{format} leaks the Proxy-Authorization value"
        );
        // The diagnosis still sees the proxy (without its credentials).
        assert!(
            all.contains("proxy.contoso.com"),
            "{format}: the proxy host vanished"
        );
    }
    let parsed = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["parse", "--format", "json"])
        .arg(&b)
        .output()
        .unwrap();
    assert!(parsed.status.success());
    let s = String::from_utf8_lossy(&parsed.stdout);
    assert!(
        !s.contains(PASSWORD) && !s.contains(BASIC),
        "parse output leaks credentials"
    );
    assert!(s.contains("proxy.contoso.com"));
}

#[test]
fn fleet_outputs_carry_no_proxy_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let bundles = dir.path().join("bundles");
    bundle(&bundles.join("EX09"));
    let out = dir.path().join("out");
    let st = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["fleet", "--format", "html,json,ndjson", "-o"])
        .arg(&out)
        .arg(&bundles)
        .status()
        .unwrap();
    assert!(matches!(st.code(), Some(0..=2)), "{st:?}");
    let mut files = 0;
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            files += 1;
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            assert!(
                !text.contains(PASSWORD),
                "{} leaks the proxy password",
                p.display()
            );
            assert!(
                !text.contains(BASIC),
                "{} leaks the Proxy-Authorization value",
                p.display()
            );
        }
    }
    assert!(
        files >= 4,
        "fleet.json, fleet.ndjson, fleet.html and a server page expected, got {files}"
    );
}

#[cfg(unix)]
#[test]
fn collect_bundles_carry_no_proxy_credentials() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A stand-in powershell.exe whose Get-ExchangeServer shows a proxy with credentials
    // (stderr too); every other tool is simply missing on this PATH.
    let script = format!(
        "#!/bin/sh\nprintf '\\r\\nName             : EX09\\r\\nInternetWebProxy : http://svc-proxy:{PASSWORD}@proxy.contoso.com:8080/\\r\\n\\r\\n'\necho 'Proxy-Authorization: Basic {BASIC}' >&2\nexit 0\n"
    );
    let ps = bin.join("powershell.exe");
    std::fs::write(&ps, script).unwrap();
    std::fs::set_permissions(&ps, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.path().join("bundle");
    let st = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args([
            "collect",
            "--no-probe",
            "--exchange-path",
            "/nonexistent/exchange",
            "--out",
        ])
        .arg(&out)
        .env("PATH", &bin)
        .env_remove("ExchangeInstallPath")
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut saw_proxy = false;
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        assert!(
            !text.contains(PASSWORD),
            "{} leaks the proxy password",
            p.display()
        );
        assert!(
            !text.contains(BASIC),
            "{} leaks the Authorization value",
            p.display()
        );
        saw_proxy |= text.contains("proxy.contoso.com:8080");
    }
    assert!(saw_proxy, "the proxy itself should stay in the bundle");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("credentials-removed"));
}
