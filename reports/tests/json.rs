//! JSON v1 is a contract: its field names, enums and shape are pinned by a
//! snapshot and by the JSON Schema in `schema/analyze-v1.schema.json`.

// Helpers outside #[test] functions unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use eems_reports::json::v1::{Analyze, SCHEMA_VERSION};
use eems_reports::to_json;
use serde_json::{Value, json};

fn schema() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/analyze-v1.schema.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    let schema = schema();
    jsonschema::draft202012::meta::validate(&schema).unwrap();
    // `format` is only an annotation in 2020-12 unless asked for.
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(doc: &Value) {
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

#[test]
fn synthetic_report_snapshot() {
    insta::assert_snapshot!(to_json(&common::two_servers()));
}

#[test]
fn synthetic_report_matches_schema() {
    let doc: Value = serde_json::from_str(&to_json(&common::two_servers())).unwrap();
    assert_valid(&doc);
}

#[test]
fn real_diagnosis_matches_schema() {
    let report = common::real_diagnosis();
    let doc: Value = serde_json::from_str(&to_json(&report)).unwrap();
    assert_valid(&doc);
    // The real checks ran: every registered check is listed once.
    let checks = doc["servers"][0]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), eems_checks::registry::all().len());
    assert!(
        !doc["servers"][0]["root_causes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn hostile_and_empty_reports_match_schema() {
    for report in [
        common::hostile(),
        eems_reports::Report {
            servers: vec![],
            ..common::two_servers()
        },
    ] {
        let doc: Value = serde_json::from_str(&to_json(&report)).unwrap();
        assert_valid(&doc);
    }
}

#[test]
fn unnamed_server_without_build_is_null() {
    let mut report = common::one_server();
    report.servers[0].server = None;
    report.servers[0].build = None;
    let doc: Value = serde_json::from_str(&to_json(&report)).unwrap();
    assert_eq!(doc["servers"][0]["server"], Value::Null);
    assert_eq!(doc["servers"][0]["build"], Value::Null);
    assert_valid(&doc);
}

/// The field names of v1, exactly. Adding is allowed; renaming is not.
#[test]
fn contract_field_names() {
    let doc: Value = serde_json::from_str(&to_json(&common::two_servers())).unwrap();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let has = |v: &Value, names: &[&str]| {
        let k = keys(v);
        for n in names {
            assert!(k.iter().any(|x| x == n), "missing {n} in {k:?}");
        }
    };
    has(
        &doc,
        &["schema_version", "tool_version", "generated_at", "servers"],
    );
    assert_eq!(doc["schema_version"], json!(SCHEMA_VERSION));
    assert_eq!(doc["schema_version"], json!(1));
    assert_eq!(doc["generated_at"], json!("2026-11-23T17:00:00Z"));
    let s = &doc["servers"][0];
    has(
        s,
        &[
            "server",
            "status",
            "build",
            "root_causes",
            "findings",
            "checks",
            "inputs",
        ],
    );
    assert_eq!(s["status"], json!("critical"));
    has(
        &s["build"],
        &["version", "product", "update", "released", "precision"],
    );
    assert_eq!(s["build"]["precision"], json!("cu"));
    has(&s["root_causes"][0], &["id", "confidence", "explanation"]);
    let f = &s["findings"][0];
    has(
        f,
        &[
            "id",
            "severity",
            "confidence",
            "title",
            "detail",
            "evidence",
            "remediation",
            "docs",
        ],
    );
    has(&f["evidence"][0], &["source", "line", "excerpt"]);
    has(&f["remediation"][0], &["text", "command"]);
    has(&s["checks"][0], &["id", "outcome", "reason"]);
    has(&s["inputs"][0], &["path", "kind", "status"]);
    // Evidence that stands for many occurrences carries them.
    let repeated = &f["evidence"][1];
    assert_eq!(repeated["count"], json!(720));
    assert!(repeated["first_seen"].is_string());
}

#[test]
fn round_trips_through_the_dtos() {
    let text = to_json(&common::two_servers());
    let parsed: Analyze = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed.schema_version, 1);
    assert_eq!(parsed.servers.len(), 2);
    assert_eq!(serde_json::to_string_pretty(&parsed).unwrap() + "\n", text);
}

/// The schema is not vacuous: it rejects wrong enums, missing and mistyped fields.
#[test]
fn schema_rejects_invalid_documents() {
    let good: Value = serde_json::from_str(&to_json(&common::two_servers())).unwrap();
    let v = validator();
    assert!(v.is_valid(&good));
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "bad status",
            Box::new(|d| d["servers"][0]["status"] = json!("fine")),
        ),
        (
            "bad severity",
            Box::new(|d| d["servers"][0]["findings"][0]["severity"] = json!("high")),
        ),
        (
            "bad confidence",
            Box::new(|d| d["servers"][0]["root_causes"][0]["confidence"] = json!("sure")),
        ),
        (
            "bad outcome",
            Box::new(|d| d["servers"][0]["checks"][0]["outcome"] = json!("passed")),
        ),
        (
            "bad precision",
            Box::new(|d| d["servers"][0]["build"]["precision"] = json!("su")),
        ),
        (
            "schema version 2",
            Box::new(|d| d["schema_version"] = json!(2)),
        ),
        (
            "missing findings",
            Box::new(|d| {
                d["servers"][0].as_object_mut().unwrap().remove("findings");
            }),
        ),
        (
            "renamed excerpt",
            Box::new(|d| {
                let e = d["servers"][0]["findings"][0]["evidence"][0]
                    .as_object_mut()
                    .unwrap();
                let x = e.remove("excerpt").unwrap();
                e.insert("text".into(), x);
            }),
        ),
        (
            "line as string",
            Box::new(|d| d["servers"][0]["findings"][0]["evidence"][0]["line"] = json!("7")),
        ),
        (
            "generated_at not a date-time",
            Box::new(|d| d["generated_at"] = json!("yesterday")),
        ),
    ];
    for (name, mutate) in mutations {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(!v.is_valid(&doc), "schema accepted: {name}");
    }
}

#[test]
fn probe_diagnosis_carries_probes_and_matches_schema() {
    let report = common::probe_diagnosis();
    let text = to_json(&report);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&doc);
    let s = &doc["servers"][0];
    assert_eq!(s["probes"]["schema_version"], json!(1));
    assert_eq!(s["probes"]["tls"]["chain"].as_array().unwrap().len(), 2);
    assert_eq!(s["probes"]["steps"][3]["outcome"], json!("failed"));
    assert_eq!(s["root_causes"][0]["id"], json!("tls-interception"));
    assert!(s["failed_step"].as_str().unwrap().contains("Zscaler"));
    // The ProbeReport goes out exactly as the probe wrote it.
    let back: eems_parsers::probe_results::ProbeReport =
        serde_json::from_value(s["probes"].clone()).unwrap();
    assert_eq!(back, common::zscaler_probe());
    let parsed: Analyze = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string_pretty(&parsed).unwrap() + "\n", text);
    // Without probes the fields are absent, not null.
    let plain: Value = serde_json::from_str(&to_json(&common::two_servers())).unwrap();
    assert!(plain["servers"][0].get("probes").is_none());
    assert!(plain["servers"][0].get("failed_step").is_none());
    // The schema checks the probe object too.
    let mut bad = doc.clone();
    bad["servers"][0]["probes"]["steps"][0]["outcome"] = json!("fine");
    assert!(!validator().is_valid(&bad));
}

#[test]
fn probe_diagnosis_snapshot() {
    insta::assert_snapshot!(to_json(&common::probe_diagnosis()));
}
