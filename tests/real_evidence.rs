//! Real artifacts that admins published (tests/fixtures/real, each with its
//! SOURCE.md): what each one proves must reach the diagnosis.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use serde_json::Value;
use std::process::Command;

const REAL: &str = "tests/fixtures/real";

fn run(sub: &str, args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg(sub)
        .arg("--format")
        .arg("json")
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

fn finding_ids(server: &Value) -> Vec<&str> {
    server["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect()
}

fn kind_of(rel: &str) -> String {
    let (v, _) = run("parse", &[&format!("{REAL}/{rel}")]);
    v["inputs"][0]["kind"].as_str().unwrap().to_owned()
}

/// Q&A 1052271 and granikos: the 1008 description pasted without its
/// header (and, on the blog, re-wrapped and indented) is the service's
/// event: its TLS failure reaches the diagnosis.
#[test]
fn a_headerless_1008_paste_is_the_services_event() {
    for rel in [
        "qa-1052271-tls-1008-test-success/event-1008-description.txt",
        "granikos-eems-findings-tls-proxy/event-1008-description_granikos-eu.txt",
        "granikos-eems-findings-tls-proxy/event-1008-description_wrapped-indented.txt",
    ] {
        let (v, code) = run("analyze", &[&format!("{REAL}/{rel}")]);
        let server = &v["servers"][0];
        let ids = finding_ids(server);
        assert!(ids.contains(&"tls-validation-failed"), "{rel}: {ids:?}");
        assert_eq!(code, 2, "{rel}: a TLS failure is critical");
        let excerpt = server["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "tls-validation-failed")
            .unwrap()["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            excerpt.contains("AuthenticationException") && excerpt.contains("without header"),
            "{rel}: {excerpt}"
        );
    }
}

/// Prose that names the service, its event or its commands is not evidence
/// (a kind is recognised by structure, never by a word).
#[test]
fn prose_is_not_taken_for_cmdlet_output() {
    for rel in [
        "qa-1375437-prose-1008-every-hour/post-excerpt.txt",
        "msdocs-exchange-3170-prose-build-numbers/issue-excerpt.txt",
    ] {
        assert_eq!(kind_of(rel), "unrecognized", "{rel}");
    }
    // Our own samples README quotes event texts, ExSetup and builds in prose.
    let (v, _) = run("parse", &["samples/README.md"]);
    assert_eq!(v["inputs"][0]["kind"], "unrecognized");
}
