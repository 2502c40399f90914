//! `eems-doctor analyze samples/<each>`: the expected diagnosis for every
//! scenario, as the JSON report (schema v1) says it. The full JSON of each
//! scenario is snapshotted (timestamps and versions redacted).

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod support;

use serde_json::Value;
use std::process::Command;

fn analyze(args: &[&str]) -> (Value, i32) {
    support::doctor_json("analyze", args)
}

fn ids(server: &Value, key: &str) -> Vec<String> {
    server[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

/// (folder, server, status, exit code, first root cause, finding ids that must be present, ids that must not be)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    Option<&'static str>,
    &'static [&'static str],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    // Analysed "now" (support::NOW, 2026) the 2025 evidence is stale: the
    // healthy server is WARNING; `max_age_makes_the_healthy_sample_ok` shows
    // it OK within --max-age.
    (
        "01-healthy",
        "EXMBX01",
        "warning",
        1,
        None,
        &["evidence-stale"],
        &["fetch-stale", "evidence-incomplete", "build-unknown"],
    ),
    (
        "02-build-before-march-2023",
        "EXCH2019A",
        "critical",
        2,
        Some("build-before-march-2023"),
        &["build-before-march-2023", "untrusted-endpoint"],
        &["build-unknown"],
    ),
    (
        "03-build-predates-eems",
        "EX2016-01",
        "critical",
        2,
        Some("build-predates-eems"),
        &["build-predates-eems"],
        &["service-not-running", "evidence-incomplete"],
    ),
    (
        "04-tls-inspection-proxy",
        "EXSRV02",
        "critical",
        2,
        Some("tls-interception"),
        &["tls-validation-failed"],
        &["build-before-march-2023"],
    ),
    (
        "05-proxy-exchange-missing",
        "LONEX04",
        "critical",
        2,
        Some("proxy-exchange-missing"),
        &["proxy-exchange-missing", "ocs-unreachable"],
        &["build-before-march-2023"],
    ),
    (
        "06-proxy-winhttp-missing",
        "FABEX01",
        "critical",
        2,
        Some("proxy-winhttp-missing"),
        &["proxy-winhttp-missing", "tls-validation-failed"],
        &[],
    ),
    (
        "07-proxy-auth-407",
        "EXMAIL05",
        "critical",
        2,
        Some("proxy-auth-required"),
        &["proxy-auth-required"],
        &[],
    ),
    (
        "08-dns-failure-de",
        "EXDE06",
        "critical",
        2,
        Some("ocs-dns-failure"),
        &["ocs-dns-failure"],
        &[],
    ),
    (
        "09-xml-signature",
        "EXMUC07",
        "critical",
        2,
        Some("xml-signature-invalid"),
        &["xml-signature-invalid"],
        &["tls-validation-failed"],
    ),
    (
        "10-mitigations-disabled-org",
        "EXMB10",
        "warning",
        1,
        Some("mitigations-disabled-org"),
        &["mitigations-disabled-org"],
        &["mitigations-disabled-server"],
    ),
    (
        "11-mitigations-disabled-server-and-blocked",
        "EXMB11",
        "warning",
        1,
        Some("mitigations-disabled-server"),
        &["mitigations-disabled-server", "mitigations-blocked"],
        &[],
    ),
    (
        "12-mitigation-obsolete",
        "EXCAS12",
        "warning",
        1,
        Some("mitigation-obsolete"),
        &["mitigation-obsolete"],
        &[],
    ),
    (
        "13-service-stopped-disabled",
        "EXMBX13",
        "critical",
        2,
        Some("service-not-running"),
        &["service-not-running"],
        &[],
    ),
    (
        "14-policy-ctl-aia",
        "EXMB14",
        "critical",
        2,
        Some("aia-retrieval-disabled"),
        &[
            "aia-retrieval-disabled",
            "ctl-autoupdate-disabled",
            "tls-validation-failed",
        ],
        &[],
    ),
    (
        "15-watson-crashing",
        "EXMB15",
        "warning",
        1,
        Some("service-crashing"),
        &["service-crashing"],
        &[],
    ),
    (
        "16-paste-only",
        "MBX16",
        "critical",
        2,
        Some("proxy-bypass-ocs"),
        &["proxy-bypass-ocs", "proxy-bypass-mismatch", "build-unknown"],
        &[],
    ),
    (
        "17-tls12-client-disabled",
        "EXMB17",
        "critical",
        2,
        Some("tls-config-weak"),
        &["tls-config-weak", "tls-protocol-failure"],
        &["build-before-march-2023", "tls-validation-failed"],
    ),
];

#[test]
fn every_sample_gets_its_expected_diagnosis() {
    let mut failures = Vec::new();
    for (dir, server, status, code, first_cause, must, must_not) in CASES {
        let (v, exit) = analyze(&[&format!("samples/{dir}")]);
        let servers = v["servers"].as_array().unwrap();
        assert_eq!(servers.len(), 1, "{dir}: one server per sample folder");
        let s = &servers[0];
        let findings = ids(s, "findings");
        let causes = ids(s, "root_causes");
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!(
                    "{dir}: {what} (findings {findings:?}, root causes {causes:?})"
                ));
            }
        };
        check(
            s["server"] == *server,
            format!("server {} != {server}", s["server"]),
        );
        check(
            s["status"] == *status,
            format!("status {} != {status}", s["status"]),
        );
        check(exit == *code, format!("exit code {exit} != {code}"));
        check(
            causes.first().map(String::as_str) == *first_cause,
            format!("first root cause != {first_cause:?}"),
        );
        for m in *must {
            check(findings.iter().any(|f| f == m), format!("missing {m}"));
        }
        for m in *must_not {
            check(!findings.iter().any(|f| f == m), format!("unexpected {m}"));
        }
        // Every check reports an outcome for every server.
        check(
            s["checks"].as_array().unwrap().len() == eems_checks::registry::all().len(),
            "not every check has an outcome".into(),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The 2025 sample is healthy as of its own time: within `--max-age` it is
/// OK, and the passing checks say why; older than that it is WARNING and
/// the text report says so before anything else.
#[test]
fn max_age_makes_the_healthy_sample_ok() {
    let (v, code) = analyze(&["--max-age", "1000", "samples/01-healthy"]);
    assert_eq!(code, 0);
    let s = &v["servers"][0];
    assert_eq!(s["status"], "ok");
    let stale = s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "evidence-stale")
        .unwrap();
    assert_eq!(stale["outcome"], "pass");
    assert!(
        stale["reason"]
            .as_str()
            .unwrap()
            .starts_with("the newest timestamp (2025-02-12T07:08:14Z) is 656 days before now"),
        "{stale}"
    );
    // Every pass carries a reason.
    for c in s["checks"].as_array().unwrap() {
        assert!(c["reason"].is_string(), "{c}");
    }
    assert_eq!(s["facts"]["last_success"]["value"], "2025-02-12T07:08:13Z");
    assert_eq!(
        s["facts"]["evidence_latest"]["value"],
        "2025-02-12T07:08:14Z"
    );

    let r = support::doctor(&["analyze".into(), "samples/01-healthy".into()]);
    assert_eq!(r.status.code(), Some(1));
    let first: Vec<&str> = r.stdout.lines().take(2).collect();
    assert!(
        first[1].starts_with("  OLD EVIDENCE: The evidence is 656 days old"),
        "{first:?}"
    );
}

/// An unreadable `EEMS_DOCTOR_NOW` is a usage error naming it, not a silent
/// fallback to the system clock.
#[test]
fn a_bad_now_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("EEMS_DOCTOR_NOW", "yesterday")
        .args(["analyze", "samples/01-healthy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EEMS_DOCTOR_NOW"));
}

#[test]
fn every_sample_report_validates_against_the_v1_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/reports/schema/analyze-v1.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let (v, _) = analyze(&["samples"]);
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

#[test]
fn json_snapshots_of_every_sample() {
    for (dir, ..) in CASES {
        let (v, _) = analyze(&[&format!("samples/{dir}")]);
        insta::with_settings!({snapshot_suffix => *dir}, {
            insta::assert_json_snapshot!("analyze", v, {
                ".generated_at" => "[generated_at]",
                ".tool_version" => "[tool_version]",
            });
        });
    }
}

#[test]
fn a_folder_of_bundles_is_one_server_per_folder_and_the_exit_code_is_the_worst() {
    let (v, code) = analyze(&["samples"]);
    let servers = v["servers"].as_array().unwrap();
    assert_eq!(servers.len(), CASES.len());
    assert_eq!(code, 2);
}

#[test]
fn one_pasted_event_is_enough_to_start() {
    let (v, code) =
        analyze(&["tests/fixtures/reference/events/02-wevtutil-text_proxy-407_EX05.txt"]);
    let s = &v["servers"][0];
    assert_eq!(s["server"], "EX05");
    assert_eq!(code, 2);
    assert_eq!(
        ids(s, "root_causes").first().map(String::as_str),
        Some("proxy-auth-required")
    );
    assert!(ids(s, "findings").contains(&"evidence-incomplete".to_owned()));
}

#[test]
fn standard_input_is_an_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["analyze", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let paste = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reference/mitigation-log/03-untrusted-endpoint-old-build_EX03/MitigationService_2025012708-1.LOG")).unwrap();
    child.stdin.take().unwrap().write_all(&paste).unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["servers"][0];
    assert_eq!(s["server"], "EX03");
    assert!(ids(s, "findings").contains(&"untrusted-endpoint".to_owned()));
    assert_eq!(s["inputs"][0]["path"], "-");
}

#[test]
fn nothing_readable_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.txt");
    std::fs::write(&f, "hello\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .arg("analyze")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .arg("analyze")
        .arg("--builds")
        .arg(dir.path().join("none.csv"))
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn builds_file_replaces_the_table() {
    // A table that knows only CU11 RTM and a fictitious later SU as its "Mar23SU".
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("builds.csv");
    std::fs::write(
        &csv,
        "product,update,build,released,confidence\nExchange Server 2019,CU11,15.2.986.5,2021-09-28,verified\nExchange Server 2019,CU11 Mar23SU,15.2.986.3,2023-03-14,verified\n",
    )
    .unwrap();
    let (v, _) = analyze(&[
        "--builds",
        csv.to_str().unwrap(),
        "samples/02-build-before-march-2023",
    ]);
    let findings = ids(&v["servers"][0], "findings");
    assert!(
        !findings.contains(&"build-before-march-2023".to_owned()),
        "{findings:?}"
    );
}

#[test]
fn html_report_is_written_and_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let st = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", "--format", "html", "-o"])
        .arg(&out)
        .arg("samples/05-proxy-exchange-missing")
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(2));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("proxy-exchange-missing"));
    assert!(html.contains("Set-ExchangeServer -Identity LONEX04 -InternetWebProxy"));
    assert!(!html.contains("<script src"));
}

#[test]
fn text_output_respects_no_color() {
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", "--color", "always", "samples/07-proxy-auth-407"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["analyze", "samples/07-proxy-auth-407"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(!s.contains('\u{1b}'));
    assert!(s.contains("EXMAIL05  CRITICAL"), "{s}");
}

#[test]
fn checks_and_explain() {
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .arg("checks")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(s.lines().count(), eems_checks::registry::all().len());
    assert!(s.contains("proxy-winhttp-missing"));
    // The Markdown as it is with `--format md`; rendered for a terminal by default.
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["explain", "crl-unreachable", "--format", "md"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.starts_with("## crl-unreachable"), "{s}");
    assert!(s.contains("**Remediation.**"));
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["explain", "crl-unreachable"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.starts_with("crl-unreachable\n===="), "{s}");
    assert!(s.contains("\nRemediation\n") && !s.contains("**"), "{s}");
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["explain", "no-such-check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_folder_of_zip_bundles_is_one_server_per_zip() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    for sample in ["05-proxy-exchange-missing", "07-proxy-auth-407"] {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(sample);
        let f = std::fs::File::create(dir.path().join(format!("{sample}.zip"))).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let mut stack = vec![src.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let name = p
                        .strip_prefix(&src)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    z.start_file(name, zip::write::SimpleFileOptions::default())
                        .unwrap();
                    z.write_all(&std::fs::read(&p).unwrap()).unwrap();
                }
            }
        }
        z.finish().unwrap();
    }
    let (v, code) = analyze(&[dir.path().to_str().unwrap()]);
    let servers: Vec<&str> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers, ["LONEX04", "EXMAIL05"]);
    assert_eq!(code, 2);
}

/// One server's diagnosis, reduced to what must not depend on how it was grouped.
fn summary(server: &Value) -> (String, Vec<String>, Vec<String>, Value) {
    (
        server["status"].as_str().unwrap().to_owned(),
        ids(server, "root_causes"),
        ids(server, "findings"),
        server["build"]["version"].clone(),
    )
}

/// `analyze samples` (16 bundles and a loose README.md beside them) gives
/// the same sixteen diagnoses as analysing each sample alone; the README
/// belongs to no server and is listed as such.
#[test]
fn the_samples_folder_gives_each_samples_own_diagnosis() {
    let (all, code) = analyze(&["samples"]);
    let servers = all["servers"].as_array().unwrap();
    assert_eq!(servers.len(), CASES.len());
    assert_eq!(code, 2);
    for (folder, name, ..) in CASES {
        let (alone, _) = analyze(&[&format!("samples/{folder}")]);
        let want = summary(&alone["servers"][0]);
        let got = servers
            .iter()
            .find(|s| s["server"] == *name)
            .unwrap_or_else(|| panic!("{name} missing from `analyze samples`"));
        assert_eq!(summary(got), want, "{folder}");
    }
    let unassigned = all["unassigned"].as_array().unwrap();
    assert_eq!(unassigned.len(), 1, "{unassigned:?}");
    assert_eq!(unassigned[0]["path"], "samples/README.md");
    assert_eq!(unassigned[0]["error"], false);
    assert!(
        all["grouping"][0]
            .as_str()
            .unwrap()
            .contains("a folder of server bundles"),
        "{}",
        all["grouping"]
    );
}

/// A mistyped path is an error naming the OS reason, on stderr and in the
/// report; with nothing read there is no diagnosis and the exit code is 3.
#[test]
fn a_missing_path_or_an_empty_folder_is_an_error_not_a_diagnosis() {
    let empty = tempfile::tempdir().unwrap();
    for (arg, reason) in [
        ("samples/no-such-bundle", "No such file or directory"),
        (empty.path().to_str().unwrap(), "the folder is empty"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["analyze", "--format", "json", arg])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{arg}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(arg) && stderr.contains(reason), "{stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["servers"].as_array().unwrap().len(), 0, "{arg}");
        assert!(
            v["unassigned"][0]["reason"]
                .as_str()
                .unwrap()
                .contains(reason)
        );
        assert_eq!(v["unassigned"][0]["error"], true);
    }
    // One good input and one missing: the good one is diagnosed, the missing
    // one listed, the exit code is the diagnosis'.
    let (v, code) = analyze(&["samples/no-such-bundle", "samples/01-healthy"]);
    assert_eq!(code, 1, "the healthy sample's evidence is stale");
    assert_eq!(v["servers"][0]["server"], "EXMBX01");
    assert_eq!(v["unassigned"][0]["path"], "samples/no-such-bundle");
}

/// The grouping rules on folders the samples do not cover: per-server log
/// folders side by side are servers; a bundle's own `MitigationService/`
/// subfolder is part of it; a notes file beside bundles is not mixed in.
#[test]
fn grouping_rules_are_predictable() {
    let root = tempfile::tempdir().unwrap();
    let log = std::fs::read(
        "samples/02-build-before-march-2023/MitigationService/MitigationService_2025012708-1.LOG",
    )
    .unwrap();
    for server in ["EX01", "EX02"] {
        let d = root.path().join("logs").join(server);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("MitigationService_2025012708-1.LOG"), &log).unwrap();
    }
    let (v, _) = analyze(&[root.path().join("logs").to_str().unwrap()]);
    assert_eq!(
        v["servers"].as_array().unwrap().len(),
        2,
        "{}",
        v["grouping"]
    );

    // A case folder: two bundles, a notes file and a screenshots folder.
    let case = root.path().join("case");
    for s in ["01-healthy", "02-build-before-march-2023"] {
        let d = case.join(s);
        std::fs::create_dir_all(d.join("MitigationService")).unwrap();
        for e in std::fs::read_dir(format!("samples/{s}")).unwrap() {
            let e = e.unwrap().path();
            if e.is_file() {
                std::fs::copy(&e, d.join(e.file_name().unwrap())).unwrap();
            }
        }
    }
    std::fs::write(
        case.join("notes.txt"),
        "Customer says the Microsoft Exchange Emergency Mitigation Service is Running on both.\n",
    )
    .unwrap();
    std::fs::create_dir_all(case.join("screenshots")).unwrap();
    std::fs::write(case.join("screenshots").join("shot.png"), b"\x89PNG\r\n").unwrap();
    let (v, _) = analyze(&[case.to_str().unwrap()]);
    let names: Vec<&str> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["server"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["EXMBX01", "EXCH2019A"]);
    let set_aside: Vec<String> = v["unassigned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            u["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(set_aside, ["screenshots", "notes.txt"]);

    // One bundle with its MitigationService/ subfolder: one server.
    let (v, _) = analyze(&[case.join("01-healthy").to_str().unwrap()]);
    assert_eq!(v["servers"].as_array().unwrap().len(), 1);
}

/// A bundle written by `collect` (with `manifest.json`) comes from one host:
/// its evidence is that host's, and files naming another server are said,
/// not split off into a server of their own.
#[test]
fn a_collect_bundle_is_its_manifests_host() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bundle");
    std::fs::create_dir_all(b.join("MitigationService")).unwrap();
    let src = std::path::Path::new("samples/05-proxy-exchange-missing");
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap().path();
        if e.is_file() {
            std::fs::copy(&e, b.join(e.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        b.join("manifest.json"),
        r#"{"tool_version":"0.1.0","host":"EXHOST1","collected_at":"2025-03-14T12:00:00Z","redacted":false,"os":"windows","exchange_path":null,"since_days":30,"items":[{"name":"netsh-proxy","command":"netsh winhttp show proxy","exit_code":0,"duration_ms":5,"output":"netsh-winhttp-show-proxy.txt","error":null}]}"#,
    )
    .unwrap();
    let (v, _) = analyze(&[b.to_str().unwrap()]);
    let servers = v["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0]["server"], "EXHOST1");
    assert_eq!(servers[0]["root_causes"][0]["id"], "proxy-exchange-missing");
    let incomplete = servers[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "evidence-incomplete")
        .unwrap();
    assert!(
        incomplete["title"].as_str().unwrap().contains("LONEX04"),
        "{incomplete:#}"
    );
    assert!(
        v["grouping"][0]
            .as_str()
            .unwrap()
            .contains("collect bundle")
    );
}

/// Streaming a log or an event export (issue 14) gives the report reading
/// it whole gives: every sample, every real fixture folder, the reference
/// and extra fixtures, with every input streamed that can be
/// (`--stream-min 1`) and with none streamed.
#[test]
fn streamed_logs_give_the_same_reports_as_logs_read_whole() {
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    for root in [
        "samples",
        "tests/fixtures/real",
        "tests/fixtures/extra",
        "tests/fixtures/reference",
    ] {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
        for e in std::fs::read_dir(&root).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            }
        }
    }
    dirs.sort();
    let mut logs = 0;
    let mut exports = 0;
    for d in &dirs {
        let d = d.to_str().unwrap();
        let (mut whole, code_whole) = analyze(&["--stream-min", "1024G", d]);
        let (mut streamed, code_streamed) = analyze(&["--stream-min", "1", d]);
        assert_eq!(code_whole, code_streamed, "{d}");
        // The two runs differ in when they ran, nothing else.
        whole["generated_at"] = Value::Null;
        streamed["generated_at"] = Value::Null;
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
        assert_eq!(pretty(&whole), pretty(&streamed), "{d}");
        logs += whole.to_string().matches("\"mitigation-log\"").count();
        exports += whole.to_string().matches("\"event-export\"").count();
    }
    // The comparison covered logs and exports at all (the samples hold several).
    assert!(logs >= 5, "only {logs} logs compared");
    assert!(exports >= 8, "only {exports} event exports compared");
}

/// `--format nagios`: the plugin line (status, root cause, perfdata) and the
/// plugin exit code, for one server and for all samples at once.
#[test]
fn nagios_line_and_exit_code() {
    let run = |paths: &[&str]| {
        // The samples are from 2025: without --max-age each is also stale.
        let mut args = vec![
            "analyze".to_owned(),
            "--format".into(),
            "nagios".into(),
            "--max-age".into(),
            "36500".into(),
        ];
        args.extend(
            paths
                .iter()
                .map(|p| format!("{}/samples/{p}", env!("CARGO_MANIFEST_DIR"))),
        );
        let r = support::doctor(&args);
        (r.stdout, r.status.code())
    };
    let (out, code) = run(&["02-build-before-march-2023"]);
    assert_eq!(
        out,
        "EEMS CRITICAL - EXCH2019A CRITICAL (build-before-march-2023) | servers=1;;;0 ok=0;;;0 warning=0;;;0 critical=1;;;0 unknown=0;;;0 root_causes=1;;;0 findings=3;;;0\n"
    );
    assert_eq!(code, Some(2));
    let (out, code) = run(&["01-healthy"]);
    assert!(
        out.starts_with("EEMS OK - EXMBX01 OK | servers=1;;;0 ok=1;;;0"),
        "{out}"
    );
    assert_eq!(code, Some(0));
    let (out, _) = run(&["10-mitigations-disabled-org", "01-healthy"]);
    assert!(out.starts_with("EEMS WARNING - "), "{out}");
    assert!(out.contains("warning=1;;;0"), "{out}");
}

/// Issue 13: a report cites files as they are in the bundle, in every
/// format, however the bundle was named on the command line. The analysed
/// path itself is said once (JSON `paths_relative_to`, the grouping line).
#[test]
fn paths_are_relative_to_the_bundle_in_every_format() {
    let abs = std::fs::canonicalize("samples/16-paste-only").unwrap();
    let abs = abs.to_str().unwrap();
    let (v, _) = analyze(&[abs]);
    let s = &v["servers"][0];
    assert_eq!(s["paths_relative_to"], abs);
    assert_eq!(s["inputs"][0]["path"], "eems-ticket-paste.txt");
    let mut left = serde_json::to_string(s).unwrap();
    left = left.replace(&format!("\"paths_relative_to\":\"{abs}\""), "");
    assert!(!left.contains(abs), "an absolute path is left: {left}");
    let (v, _) = analyze(&["samples/02-build-before-march-2023"]);
    let log = "MitigationService/MitigationService_2025012708-1.LOG";
    assert_eq!(v["servers"][0]["build"]["source"], log);
    let cited: Vec<String> = v["servers"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap().clone())
        .map(|e| e["source"].as_str().unwrap().to_owned())
        .collect();
    assert!(cited.iter().any(|c| c == log), "{cited:?}");
    for format in ["text", "html"] {
        let r = support::doctor(&[
            "analyze".into(),
            "--format".into(),
            format.into(),
            abs.into(),
        ]);
        let grouping = format!("{abs}: one folder");
        let rest = r.stdout.replace(&grouping, "");
        assert!(r.stdout.contains("eems-ticket-paste.txt"), "{format}");
        assert!(!rest.contains(abs), "{format} still names {abs}:\n{rest}");
    }
}

/// Issue 13: candidates that share the command telling them apart show it
/// once (text and HTML), and counts read as English ("crashed 3 times").
#[test]
fn a_shared_fix_is_shown_once_and_counts_are_worded() {
    let cmd = "eems-doctor probe --proxy http://10.20.30.40:8080/ --winhttp-proxy 10.20.30.40:8080";
    for format in ["text", "html"] {
        let r = support::doctor(&[
            "analyze".into(),
            "--format".into(),
            format.into(),
            "samples/04-tls-inspection-proxy".into(),
        ]);
        assert_eq!(r.stdout.matches(cmd).count(), 1, "{format}:\n{}", r.stdout);
        assert_eq!(
            r.stdout.matches("Fix: the same as for 1 above.").count()
                + r.stdout.matches("Fix:  the same as for 1 above.").count(),
            2,
            "{format}"
        );
        let r = support::doctor(&[
            "analyze".into(),
            "--format".into(),
            format.into(),
            "samples/15-watson-crashing".into(),
        ]);
        assert!(r.stdout.contains("crashed 3 times"), "{format}");
        assert!(!r.stdout.contains("(s)"), "{format}:\n{}", r.stdout);
    }
}

/// Issue 16: the mitigation inventory (Health Checker's applied/blocked
/// lists, Get-Mitigations.ps1's status), each row with its citation, in
/// JSON, text and HTML.
#[test]
fn the_mitigation_inventory_is_in_every_format() {
    let (v, _) = analyze(&["samples/11-mitigations-disabled-server-and-blocked"]);
    let inv = v["servers"][0]["facts"]["mitigation_inventory"]
        .as_array()
        .unwrap();
    assert_eq!(inv.len(), 1, "{inv:?}");
    assert_eq!(inv[0]["id"], "M1.1");
    assert_eq!(inv[0]["status"], "blocked");
    assert_eq!(inv[0]["source"], "MitigationsBlocked");
    assert_eq!(inv[0]["evidence"]["source"], "get-exchangeserver-fl.txt");
    let (v, _) = analyze(&["samples/01-healthy"]);
    let inv = v["servers"][0]["facts"]["mitigation_inventory"]
        .as_array()
        .unwrap();
    let rows: Vec<(&str, &str)> = inv
        .iter()
        .map(|r| (r["status"].as_str().unwrap(), r["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("applied", "MitigationsApplied"),
            ("Applied", "Get-Mitigations.ps1")
        ]
    );
    assert_eq!(inv[1]["evidence"]["source"], "get-mitigations.txt");
    for (format, line) in [
        (
            "text",
            "Mitigation inventory       M1.1 blocked (MitigationsBlocked) [get-exchangeserver-fl.txt:2]",
        ),
        (
            "html",
            "<dt>Mitigation inventory</dt>\n<dd><ul class=\"inventory\">\n<li><code>M1.1</code> blocked",
        ),
    ] {
        let r = support::doctor(&[
            "analyze".into(),
            "--format".into(),
            format.into(),
            "samples/11-mitigations-disabled-server-and-blocked".into(),
        ]);
        assert!(r.stdout.contains(line), "{format}:\n{}", r.stdout);
    }
}
