//! `check` end to end on loopback: stand-in Windows tools on PATH (the
//! healthy sample: no proxies), the OCS stand-in and its CRL/AIA/CTL server
//! from the probe tests. Writes the HTML and JSON reports beside the bundle.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod support;

use eems_testkit::pki::{self, Pki};
use eems_testkit::servers::{HttpServer, OcsMode, OcsServer};
use std::path::PathBuf;
use std::process::Command;

#[test]
fn check_probes_the_loopback_ocs_and_writes_both_reports() {
    let http = HttpServer::start();
    let pki = Pki::new(&http.base_url());
    http.put_all(pki.http_files());
    let ocs = OcsServer::start(
        pki.server_chain(),
        pki.server_key(),
        pki.eocs_body(),
        OcsMode::Healthy,
    );

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let standins = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/standins");
    for e in std::fs::read_dir(standins).unwrap() {
        let p = e.unwrap().path();
        std::os::unix::fs::symlink(&p, bin.join(p.file_name().unwrap())).unwrap();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&path));
    let out = dir.path().join("EX01");
    let ocs_url = format!("https://{}:{}{}", pki::OCS_HOST, ocs.port(), pki::OCS_PATH);
    let resolve = format!("{}:{}:127.0.0.1", pki::OCS_HOST, ocs.port());
    let t = std::time::Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args([
            "check",
            "--out",
            out.to_str().unwrap(),
            "--exchange-path",
            dir.path().join("no-exchange").to_str().unwrap(),
            "--ocs-url",
            &ocs_url,
            "--resolve",
            &resolve,
            "--ca-file",
            pki.ca_file().to_str().unwrap(),
            "--ctl-url",
            &pki.ctl_url(),
            "--tls-issuers",
            pki.expected_issuers_file().to_str().unwrap(),
            "--probe-timeout",
            "3",
            "--color",
            "never",
        ])
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .env("EEMS_STANDIN_SAMPLE", "01-healthy")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    eprintln!("check wall {} ms", t.elapsed().as_millis());
    // The text summary is printed.
    assert!(stdout.contains("EXMBX01"), "{stdout}\n{stderr}");
    // Bundle with probe results, reports beside it.
    assert!(out.join("probe-results.json").is_file(), "{stderr}");
    assert!(out.join("manifest.json").is_file());
    let html = std::fs::read_to_string(dir.path().join("EX01.report.html")).unwrap();
    assert!(html.contains("<html") && html.contains("EXMBX01"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("EX01.report.json")).unwrap())
            .unwrap();
    let server = &json["servers"][0];
    // The bundle is the collecting host's (its manifest says which); the
    // stand-ins print another server's outputs, which is said, not split off.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let host = manifest["host"].as_str().unwrap().to_ascii_uppercase();
    let host = host.split('.').next().unwrap();
    assert_eq!(server["server"], host);
    assert_eq!(json["servers"].as_array().unwrap().len(), 1);
    if host != "EXMBX01" {
        let incomplete = server["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "evidence-incomplete")
            .unwrap();
        assert!(incomplete["title"].as_str().unwrap().contains("EXMBX01"));
    }
    // The live probe reached the stand-in and was judged healthy.
    let probes = &server["probes"];
    assert_eq!(probes["ocs"]["status"], 200, "{probes:#}");
    assert_eq!(probes["tls"]["trusted"], true, "{probes:#}");
    let findings: Vec<&str> = server["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for bad in [
        "tls-interception",
        "tls-chain-untrusted",
        "crl-unreachable",
        "ocs-unreachable",
    ] {
        assert!(!findings.contains(&bad), "{findings:?}");
    }
    // The exit code is the analysis status (healthy sample: not critical).
    assert_ne!(run.status.code(), Some(2), "{stdout}");
    assert_ne!(run.status.code(), Some(3), "{stderr}");
    assert!(
        ocs.requests()
            .iter()
            .any(|r| r.path.starts_with(pki::OCS_PATH))
    );
}

/// `check` on a host where every collection item failed is UNKNOWN, never
/// a WARNING about what is missing: exit 2 when the tools wrote something
/// unreadable, 3 when nothing at all was collected.
#[test]
fn check_where_every_item_failed_is_unknown() {
    use std::os::unix::fs::PermissionsExt;
    for (tools_answer, want_exit) in [(false, 3), (true, 2)] {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        if tools_answer {
            // Every tool answers with an error text and a failing exit code.
            for tool in ["reg", "netsh", "powershell.exe", "wevtutil"] {
                let p = bin.join(tool);
                std::fs::write(&p, "#!/bin/sh\necho 'Access is denied.'\nexit 5\n").unwrap();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        let out = dir.path().join("bundle");
        let report = dir.path().join("report.json");
        let run = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
            .args(["check", "--no-probe", "--format", "json", "--out"])
            .arg(&out)
            .arg("-o")
            .arg(&report)
            .env("PATH", format!("{}:/bin:/usr/bin", bin.display()))
            .env_remove("ExchangeInstallPath")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(want_exit), "{stderr}");
        assert!(
            stderr.contains("nothing collected could be read"),
            "{stderr}"
        );
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(v["servers"][0]["status"], "unknown", "{v:#}");
    }
}
