//! The real answer officeclient.microsoft.com sent on 2021-12-07 (CSS-Exchange's
//! `InvokeWebRequestEEMS.xml`, see tests/fixtures/clixml/css-exchange/SOURCE.md),
//! verified with this crate alone: no xmlsec1 needed (tests/xmlsec1_oracle.rs
//! asserts that xmlsec1 agrees).

use eems_xmldsig::{Verdict, chain, verify};

const FIXTURE: &str = include_str!(
    "../../tests/fixtures/clixml/css-exchange/ExchangeInformation/InvokeWebRequestEEMS.xml"
);

/// The body as sent: the CliXml `Content` string, unescaped (`_x000D__x000A_` is CRLF).
pub fn body() -> String {
    let start = FIXTURE.find("<S N=\"Content\">").expect("Content") + "<S N=\"Content\">".len();
    let end = start + FIXTURE[start..].find("</S>").expect("end of Content");
    FIXTURE[start..end]
        .replace("_x000D__x000A_", "\r\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_microsoft_signed_answer_verifies() {
    let b = body();
    assert_eq!(b.len(), 19221, "Content-Length of the captured answer");
    let v = verify(&b);
    assert_eq!(v.verdict, Verdict::Valid, "{}", v.detail);
    assert_eq!(v.key_value_matches, Some(true));
    assert_eq!(v.certificates.len(), 3);
    assert_eq!(
        v.other_certificates.len(),
        2,
        "the timestamp authority's two certificates"
    );
    assert_eq!(
        v.objects,
        ["CounterSignature ts-format=\"cms-timestamp-message\""]
    );
    assert_eq!(
        v.algorithms.signature.as_deref(),
        Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    assert_eq!(
        v.algorithms.transforms,
        [
            "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
        ]
    );
    let signer = chain::facts(v.signer_der().expect("signer")).expect("parses");
    assert_eq!(
        signer.subject_cn.as_deref(),
        Some("Microsoft Exchange XML Signing")
    );
    assert_eq!(signer.sha1, "8A686CF7546035F2E571E302D01BC5303CCB3E08");
    assert_eq!(signer.not_before, 1_623_350_652, "2021-06-10T18:44:12Z");
    assert_eq!(signer.not_after, 1_654_800_252, "2022-06-09T18:44:12Z");
    assert!(
        signer.eku.contains(&"codeSigning".to_owned()),
        "{:?}",
        signer.eku
    );
    assert!(
        signer
            .eku
            .contains(&"1.3.6.1.4.1.311.76.57.1.11".to_owned())
    );
}

#[test]
fn its_chain_verifies_up_to_the_2011_root() {
    let v = verify(&body());
    let links = chain::build(v.signer_der().expect("signer"), &v.certificates);
    let names: Vec<_> = links
        .iter()
        .map(|l| l.facts.subject_cn.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "Microsoft Exchange XML Signing",
            "Microsoft Code Signing PCA 2011",
            "Microsoft Root Certificate Authority 2011"
        ]
    );
    assert!(
        links.iter().all(|l| l.verified),
        "every signature in the chain verifies"
    );
    assert_eq!(
        links[2].facts.sha1,
        "8F43288AD272F3103B6FB1428485EA3014C0BCFE"
    );
}

#[test]
fn a_one_byte_change_in_the_body_fails_the_digest() {
    let b = body().replacen("<Value>DoNothing</Value>", "<Value>DoNothinG</Value>", 1);
    let v = verify(&b);
    assert_eq!(v.verdict, Verdict::DigestMismatch, "{}", v.detail);
    assert!(
        v.detail.contains("a2c38c84b11c0b01"),
        "the signed digest, in hex: {}",
        v.detail
    );
}

#[test]
fn a_changed_signature_value_fails_the_signature() {
    let b = body().replacen("<SignatureValue>jI7j", "<SignatureValue>jI7k", 1);
    assert_eq!(verify(&b).verdict, Verdict::SignatureMismatch);
}

#[test]
fn a_changed_key_value_is_the_wrong_key() {
    let b = body().replacen("<Modulus>9dM4", "<Modulus>9dM5", 1);
    assert_eq!(verify(&b).verdict, Verdict::WrongKey);
}

#[test]
fn another_algorithm_is_named_not_guessed() {
    let b = body().replacen("xmldsig-more#rsa-sha256", "xmldsig-more#rsa-sha512", 1);
    let v = verify(&b);
    assert_eq!(v.verdict, Verdict::UnsupportedAlgorithm);
    assert!(
        v.detail
            .contains("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"),
        "{}",
        v.detail
    );
}

#[test]
fn a_block_page_or_a_stripped_signature_says_so() {
    assert_eq!(
        verify("<html><body>Access denied by policy</body></html>").verdict,
        Verdict::NoSignature
    );
    assert_eq!(verify("<html><body>unclosed").verdict, Verdict::Malformed);
    let b = body();
    let no_certs = {
        let s = b.find("<X509Data>").expect("x509");
        let e = b.find("</KeyInfo>").expect("keyinfo");
        format!("{}{}", &b[..s], &b[e..])
    };
    assert_eq!(verify(&no_certs).verdict, Verdict::NoCertificate);
}

#[test]
fn verdicts_round_trip_through_json() {
    let v = verify(&body());
    let j = serde_json::to_string(&v).expect("json");
    assert!(j.contains("\"verdict\":\"valid\""));
    let back: eems_xmldsig::Verification = serde_json::from_str(&j).expect("back");
    assert_eq!(back, v);
}
