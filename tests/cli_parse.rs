//! `eems-doctor parse` end to end: the JSON contract and files never seen before.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference")
}

fn parse_json(args: &[&std::ffi::OsStr]) -> (Value, i32) {
    let out = bin()
        .arg("parse")
        .arg("--format")
        .arg("json")
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn json_contract_over_every_reference_sample() {
    let root = fixtures();
    let (v, code) = parse_json(&[
        root.join("events").as_os_str(),
        root.join("mitigation-log").as_os_str(),
        root.join("os").as_os_str(),
    ]);
    assert_eq!(code, 0, "every sample is recognised");
    assert_eq!(v["schema_version"], 1);
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 36);
    for i in inputs {
        for key in [
            "path", "kind", "status", "encoding", "segments", "items", "problems",
        ] {
            assert!(i.get(key).is_some(), "{key} missing in {i}");
        }
        assert!(
            matches!(i["status"].as_str(), Some("parsed" | "partial")),
            "{}: {}",
            i["path"],
            i["status"]
        );
        assert_ne!(i["kind"], "unrecognized", "{}", i["path"]);
        assert!(
            !i["items"].as_array().unwrap().is_empty(),
            "{} has no items",
            i["path"]
        );
    }
    // The truncated last line of log 02 is reported with its line number.
    let log02 = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().contains("02-tls-chain"))
        .unwrap();
    assert_eq!(log02["status"], "partial");
    assert!(
        log02["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["line"].as_u64().is_some())
    );
    // UTF-16 sample decoded as such.
    let de = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().contains("de-DE_EX06"))
        .unwrap();
    assert_eq!(de["encoding"], "utf-16le-bom");
}

#[test]
fn unknown_and_unreadable_files_are_listed_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, b"\x00\x01\x02 nothing to see here \xff\xfe").unwrap();
    let missing = dir.path().join("missing.txt");
    let good = fixtures().join("os/healthy_EX01/netsh-winhttp-show-proxy.txt");
    let (v, code) = parse_json(&[junk.as_os_str(), missing.as_os_str(), good.as_os_str()]);
    assert_eq!(code, 1, "some inputs could not be read");
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs[0]["status"], "unrecognized");
    assert_eq!(inputs[1]["status"], "error");
    assert!(
        inputs[1]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read")
    );
    assert_eq!(inputs[2]["kind"], "netsh-winhttp-proxy");
    assert_eq!(inputs[2]["items"][0]["direct"], true);
}

#[test]
fn a_never_seen_console_paste_in_utf16_without_bom() {
    let mut text = String::from("[PS] C:\\Windows\\system32>netsh winhttp show proxy\r\n");
    text += &String::from_utf8(
        std::fs::read(fixtures().join("os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"))
            .unwrap(),
    )
    .unwrap();
    text += "[PS] C:\\Windows\\system32>Get-OrganizationConfig | fl MitigationsEnabled\r\n\r\nMitigationsEnabled : False\r\n\r\n";
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("paste.txt");
    std::fs::write(&f, bytes).unwrap();
    let (v, code) = parse_json(&[f.as_os_str()]);
    assert_eq!(code, 0);
    let i = &v["inputs"][0];
    assert_eq!(i["kind"], "mixed");
    assert_eq!(i["encoding"], "utf-16le");
    let kinds: Vec<&str> = i["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["netsh-winhttp-proxy", "organization-config"]);
    assert_eq!(i["items"][1]["mitigations_enabled"], false);
}

#[test]
fn text_format_names_kind_and_encoding() {
    let out = bin()
        .arg("parse")
        .arg(fixtures().join("events/03-get-winevent-fl_dns_de-DE_EX06.txt"))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("event-export [parsed] (utf-16le-bom)"), "{s}");
    assert!(s.contains("Remotename"), "{s}");
}

#[test]
fn usage_errors_exit_3() {
    let out = bin().arg("parse").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = bin().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// `-o FILE` without `--format` writes the format its extension names; a
/// `--format` that contradicts the extension is a usage error (exit 3).
#[test]
fn the_output_extension_chooses_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .unwrap()
    };
    let html = dir.path().join("r.html");
    let out = run(&[
        "analyze",
        "samples/01-healthy",
        "-o",
        html.to_str().unwrap(),
    ]);
    // The 2025 sample's evidence is stale today: WARNING, exit 1.
    assert_eq!(out.status.code(), Some(1));
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let json = dir.path().join("r.json");
    run(&[
        "analyze",
        "samples/01-healthy",
        "-o",
        json.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["servers"][0]["server"], "EXMBX01");
    let txt = dir.path().join("r.txt");
    run(&["analyze", "samples/01-healthy", "-o", txt.to_str().unwrap()]);
    assert!(
        std::fs::read_to_string(&txt)
            .unwrap()
            .starts_with("EXMBX01  WARNING")
    );
    let clash = dir.path().join("clash.html");
    let out = run(&[
        "analyze",
        "samples/01-healthy",
        "--format",
        "json",
        "-o",
        clash.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("contradicts"));
    assert!(!clash.exists());
}

/// Bare `eems-doctor` shows the help and is a usage error (3), so a script
/// that forgot the subcommand does not read "ok"; `--help` itself is 0. A
/// non-HTTPS `--ocs-url` is a usage error, not a DNS failure to diagnose.
#[test]
fn usage_errors_are_exit_3() {
    let bare = bin().output().unwrap();
    assert_eq!(bare.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("Usage"));
    assert_eq!(bin().arg("--help").output().unwrap().status.code(), Some(0));
    let http = bin()
        .args([
            "probe",
            "--ocs-url",
            "http://officeclient.microsoft.com/getexchangemitigations",
        ])
        .output()
        .unwrap();
    assert_eq!(http.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&http.stderr).contains("https://"));
}

/// Errors are printed once, as `error: …`, and exit 3: a timeout out of
/// range is refused by the flag's own parser, before anything runs; a
/// report that cannot be written names the file and the OS's reason.
#[test]
fn bad_flag_values_and_write_failures_are_exit_3() {
    for (cmd, flag) in [("probe", "--timeout"), ("collect", "--probe-timeout")] {
        for bad in ["0", "3601", "NaN", "ten"] {
            let out = bin().args([cmd, flag, bad]).output().unwrap();
            assert_eq!(out.status.code(), Some(3), "{cmd} {flag} {bad}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(flag) && err.contains("seconds"), "{err}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-dir").join("report.json");
    let out = bin()
        .arg("analyze")
        .arg(fixtures().join("os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"))
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("error: cannot write"))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("report.json"), "{err}");
    let out = bin()
        .args(["analyze", "--builds"])
        .arg(dir.path().join("missing.csv"))
        .arg(fixtures().join("os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --builds: "));
}
