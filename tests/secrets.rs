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
