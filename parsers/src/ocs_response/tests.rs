use super::*;
use crate::text::decode;

fn read(rel: &str) -> OcsResponse {
    let bytes = std::fs::read(format!(
        "{}/../tests/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let text = decode(&bytes).text;
    let p = parse(Source {
        text: &text,
        first_line: 1,
    });
    p.value
}

#[test]
fn invoke_webrequest_clixml_gives_status_headers_and_the_eocs_body() {
    let r = read("extra/ocs/invoke-webrequest-clixml_synthetic.xml");
    assert_eq!(r.form, "invoke-webrequest-clixml");
    assert_eq!(r.status_code, Some(200));
    assert_eq!(r.status_description.as_deref(), Some("OK"));
    assert_eq!(r.header("x-officefe"), Some("OfficeClientFE_IN_11"));
    assert_eq!(r.header("Date"), Some("Tue, 14 Mar 2023 09:12:41 GMT"));
    let e = r.eocs.as_ref().unwrap();
    assert_eq!(e.version.as_deref(), Some("1.0.4"));
    assert_eq!(e.config_ids, ["PING1"]);
    assert!(e.signed);
    assert!(r.reached_ocs());
}

#[test]
fn a_block_page_in_ocs_place_is_not_ocs() {
    let r = read("extra/ocs/invoke-webrequest-blockpage_synthetic.txt");
    assert_eq!(r.form, "invoke-webrequest");
    assert_eq!(r.status_code, Some(200));
    assert!(r.eocs.is_none());
    assert!(r.other_body.as_deref().unwrap().contains("Access Denied"));
    assert!(!r.reached_ocs());
}

/// Microsoft Q&A 1052271 (real): Invoke-RestMethod prints the parsed
/// document as a table whose root column is `EOCS`.
#[test]
fn invoke_restmethod_table_is_an_eocs_answer() {
    let r = read("real/qa-1052271-tls-1008-test-success/invoke-restmethod.txt");
    assert_eq!(r.form, "invoke-restmethod");
    assert!(r.reached_ocs());
    assert_eq!(r.line, 3);
}

#[test]
fn recognizers_are_structural() {
    assert!(looks_like_ocs_response(
        "<?xml version=\"1.0\"?>\n<EOCS version=\"1.0.4\"></EOCS>"
    ));
    assert!(!looks_like_ocs_response(
        "The service fetches <EOCS> documents from officeclient.microsoft.com."
    ));
    assert!(!looks_like_ocs_response("StatusCode : 200\n"));
    let summary = eocs_summary(
        "<EOCS version=\"2\"><Config id=\"M1.1\"></Config><Config id=\"PING1\"/></EOCS>",
    )
    .unwrap();
    assert_eq!(summary.config_ids, ["M1.1", "PING1"]);
    assert!(!summary.signed);
}
