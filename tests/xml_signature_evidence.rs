//! issue 17 in `analyze`: a captured OCS answer (Invoke-WebRequest's
//! Export-Clixml) has its XML signature verified and its signer judged. The
//! real answer from CSS-Exchange (tests/fixtures/clixml/css-exchange/SOURCE.md)
//! passes, with the signer valid at the answer's Date and expired today; the
//! same capture with one byte of the body changed fails as a tampered body.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod support;

use serde_json::Value;

const REAL: &str =
    "tests/fixtures/clixml/css-exchange/ExchangeInformation/InvokeWebRequestEEMS.xml";

fn check<'a>(server: &'a Value, id: &str) -> &'a Value {
    server["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

/// The server's JSON, after checking the whole report against the v1 schema.
fn analyze(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("WebRequest.xml"), text).unwrap();
    let (v, _) = support::doctor_json("analyze", &[dir.path().to_str().unwrap()]);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/reports/schema/analyze-v1.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::options().build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    v["servers"][0].clone()
}

#[test]
fn the_real_microsoft_signed_answer_passes_with_its_signer_described() {
    let s = analyze(&std::fs::read_to_string(REAL).unwrap());
    let c = check(&s, "xml-signature-invalid");
    assert_eq!(c["outcome"], "pass", "{c}");
    let reason = c["reason"].as_str().unwrap();
    for want in [
        "signature verifies (rsa-sha256)",
        "CN=Microsoft Exchange XML Signing",
        "thumbprint 8A686CF7546035F2E571E302D01BC5303CCB3E08",
        "valid 2021-06-10T18:44:12Z to 2022-06-09T18:44:12Z",
        "valid when the answer was sent (2021-12-07T15:37:24Z)",
        "expired now (2026-12-01T00:00:00Z)",
        "Microsoft Code Signing PCA 2011 -> Microsoft Root Certificate Authority 2011",
    ] {
        assert!(reason.contains(want), "{want:?} not in {reason}");
    }
    let x = &s["facts"]["xml_signature"];
    assert_eq!(x["verdict"], "valid");
    assert_eq!(x["reason"], Value::Null);
    assert_eq!(
        x["signer_thumbprint"],
        "8A686CF7546035F2E571E302D01BC5303CCB3E08"
    );
    assert_eq!(x["signer_not_after"], "2022-06-09T18:44:12Z");
    assert_eq!(x["response_time"], "2021-12-07T15:37:24Z");
    assert_eq!(x["signer_valid_at_response"], true);
    assert_eq!(x["signer_valid_now"], false);
    assert_eq!(
        x["trusted_root"],
        "Microsoft Root Certificate Authority 2011"
    );
}

#[test]
fn one_changed_byte_of_the_body_is_a_tampered_body() {
    // Every copy of the body in the capture (ToString, Content, RawContent).
    let text = std::fs::read_to_string(REAL)
        .unwrap()
        .replace("&lt;Value&gt;DoNothing&lt;", "&lt;Value&gt;DoNothinG&lt;");
    let s = analyze(&text);
    let f = s["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "xml-signature-invalid")
        .unwrap_or_else(|| panic!("no xml-signature-invalid finding: {s}"));
    let title = f["title"].as_str().unwrap();
    assert!(title.contains("(tampered body)"), "{title}");
    assert!(title.contains("changed after signing"), "{title}");
    let detail = f["detail"].as_str().unwrap();
    assert!(detail.contains("verdict digest-mismatch"), "{detail}");
    assert!(
        detail.contains("thumbprint 8A686CF7546035F2E571E302D01BC5303CCB3E08"),
        "{detail}"
    );
}
