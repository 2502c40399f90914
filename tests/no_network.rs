//! `analyze` never touches the network: run inside a network namespace with
//! no usable interface (`unshare -n`, loopback down), where any connection
//! attempt fails, and get exactly the report it gives outside.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod support;

use std::process::Command;

fn analyze_json(in_namespace: bool) -> (serde_json::Value, i32) {
    let bin = env!("CARGO_BIN_EXE_eems-doctor");
    let mut cmd = if in_namespace {
        let mut c = Command::new("unshare");
        c.args(["-n", "--", bin]);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // One "now" for both runs: evidence-stale quotes it.
        .env("EEMS_DOCTOR_NOW", "2026-12-01T00:00:00Z")
        .args(["analyze", "--format", "json", "samples"])
        .output()
        .expect("`unshare` (util-linux) must be installed to run this test");
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["generated_at"] = serde_json::Value::Null;
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn analyze_gives_the_same_report_without_a_network() {
    if !support::lab("unshare -n, as root") {
        return;
    }
    // The namespace really has no network: even loopback refuses.
    let probe = Command::new("unshare")
        .args(["-n", "--", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9"])
        .output()
        .expect("`unshare` must be available (run the tests as root, as CI does)");
    let stderr = String::from_utf8_lossy(&probe.stderr);
    assert!(
        !stderr.contains("Operation not permitted") && !stderr.contains("cannot"),
        "could not create a network namespace: {stderr}"
    );
    assert!(
        !probe.status.success(),
        "a connection succeeded inside the namespace"
    );

    let (outside, code_out) = analyze_json(false);
    let (inside, code_in) = analyze_json(true);
    assert_eq!(code_in, code_out);
    assert_eq!(inside, outside);
    assert_eq!(inside["servers"].as_array().unwrap().len(), sample_count());
}

#[test]
fn fleet_runs_without_a_network() {
    if !support::lab("unshare -n, as root") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args([
            "-n",
            "--",
            env!("CARGO_BIN_EXE_eems-doctor"),
            "fleet",
            "--jobs",
            "2",
            "--format",
            "json",
            "-o",
        ])
        .arg(dir.path())
        .arg("samples")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("`unshare` (util-linux) must be installed to run this test");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("fleet.json")).unwrap()).unwrap();
    assert_eq!(v["servers"].as_array().unwrap().len(), sample_count());
}

/// One server per folder of `samples/`.
fn sample_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}
