//! What the OCS answer contains: is it the signed `<EOCS>` XML, which
//! mitigations it lists, and the signing chain from `X509Data`. Text
//! scanning only (no XML parser): a block page or garbage is data, not an error.

use super::cert::{cert_info, names};
use super::http::{ResponseHead, clean_text};
use base64::Engine as _;
use eems_parsers::probe_results::{CertInfo, OcsResponse};
use regex::Regex;
use std::sync::LazyLock;

/// Headers worth keeping: who answered (OCS front end, proxy, cache) and
/// what. Recorded in these spellings whatever case the answer used (hyper
/// gives names lower case), so reports read the same from every server.
const KEPT_HEADERS: &[&str] = &[
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Server",
    "Via",
    "X-OfficeCluster",
    "X-OfficeFE",
    "X-OfficeVersion",
    "Location",
    "X-Cache",
    "X-Squid-Error",
    "X-Powered-By",
    "Date",
];

static CONFIG_ID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"<(?:[\w.-]+:)?Config\b[^>]*?\bid\s*=\s*(?:"([^"]*)"|'([^']*)')"#).ok()
});
static SIGNATURE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"<(?:[\w.-]+:)?Signature[\s>/]").ok());
static KEY_INFO: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?s)<(?:[\w.-]+:)?KeyInfo\b.*?</(?:[\w.-]+:)?KeyInfo\s*>").ok());
static X509_CERT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?s)<(?:[\w.-]+:)?X509Certificate\b[^>]*>(.*?)</(?:[\w.-]+:)?X509Certificate\s*>")
        .ok()
});
static CHAR_REF: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"&#x?[0-9A-Fa-f]+;").ok());

/// Certificates in `text` (base64 inside `X509Certificate`), decoded.
fn x509_certs(text: &str) -> Vec<Vec<u8>> {
    let (Some(re), Some(refs)) = (X509_CERT.as_ref(), CHAR_REF.as_ref()) else {
        return Vec::new();
    };
    re.captures_iter(text)
        .filter_map(|c| {
            // .NET writes `&#xD;` into long base64 text; drop references and whitespace.
            let raw = refs.replace_all(c.get(1)?.as_str(), "");
            let b64: String = raw
                .chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '/' | '='))
                .collect();
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        })
        .take(32)
        .collect()
}

/// Leaf first: start from the certificate that issued no other one, follow
/// issuer names up; whatever does not fit the path keeps its original order after.
pub fn order_signer_first(ders: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let named: Vec<Option<(String, String)>> = ders.iter().map(|d| names(d)).collect();
    let issues_another = |i: usize| {
        named
            .get(i)
            .and_then(|n| n.as_ref())
            .is_some_and(|(subj, _)| {
                named.iter().enumerate().any(|(j, o)| {
                    j != i
                        && o.as_ref()
                            .is_some_and(|(s2, iss2)| iss2 == subj && s2 != subj)
                })
            })
    };
    let Some(leaf) = (0..ders.len()).find(|i| !issues_another(*i)) else {
        return ders;
    };
    let mut order = vec![leaf];
    while order.len() < ders.len() {
        let Some(Some((subj, iss))) = order.last().and_then(|i| named.get(*i)) else {
            break;
        };
        if subj == iss {
            break;
        }
        let next = (0..ders.len()).find(|j| {
            !order.contains(j)
                && named
                    .get(*j)
                    .and_then(|n| n.as_ref())
                    .is_some_and(|(s, _)| s == iss)
        });
        match next {
            Some(j) => order.push(j),
            None => break,
        }
    }
    for i in 0..ders.len() {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    let mut slots: Vec<Option<Vec<u8>>> = ders.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// Skip the prolog (`<?xml …?>`, comments, doctype, BOM) and tell whether the root is `<EOCS`.
fn root_is_eocs(text: &str) -> bool {
    let mut t = text.trim_start_matches('\u{feff}').trim_start();
    for _ in 0..32 {
        if let Some(rest) = t.strip_prefix("<?") {
            t = rest.split_once("?>").map_or("", |(_, r)| r).trim_start();
        } else if let Some(rest) = t.strip_prefix("<!--") {
            t = rest.split_once("-->").map_or("", |(_, r)| r).trim_start();
        } else if let Some(rest) = t.strip_prefix("<!") {
            t = rest.split_once('>').map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    t.strip_prefix("<EOCS")
        .is_some_and(|r| r.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/'))
}

/// Facts from the OCS answer. `signing_chain` is leaf first; the
/// timestamp countersignature's certificates (outside `KeyInfo`) are returned separately.
pub fn analyze(head: &ResponseHead, body: &[u8]) -> (OcsResponse, Vec<CertInfo>) {
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .filter_map(|(k, v)| {
            let name = KEPT_HEADERS.iter().find(|h| h.eq_ignore_ascii_case(k))?;
            Some(((*name).to_owned(), v.clone()))
        })
        .collect();
    let from_ocs = head.headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("x-officecluster") || k.eq_ignore_ascii_case("x-officefe")
    });
    let text = String::from_utf8_lossy(body);
    let eocs_xml = root_is_eocs(&text);
    let has_signature = eocs_xml && SIGNATURE.as_ref().is_some_and(|r| r.is_match(&text));
    let mut mitigation_ids = Vec::new();
    let mut signing_chain = Vec::new();
    let mut timestamp_chain = Vec::new();
    if eocs_xml {
        if let Some(re) = CONFIG_ID.as_ref() {
            for c in re.captures_iter(&text).take(10_000) {
                if let Some(id) = c.get(1).or_else(|| c.get(2)) {
                    let id = clean_text(id.as_str());
                    if !mitigation_ids.contains(&id) {
                        mitigation_ids.push(id);
                    }
                }
            }
        }
        let key_info: Vec<&str> = KEY_INFO
            .as_ref()
            .map(|r| r.find_iter(&text).map(|m| m.as_str()).collect())
            .unwrap_or_default();
        let all = x509_certs(&text);
        let signing: Vec<Vec<u8>> = if key_info.is_empty() {
            all.clone()
        } else {
            key_info.iter().flat_map(|k| x509_certs(k)).collect()
        };
        let others: Vec<Vec<u8>> = all.into_iter().filter(|c| !signing.contains(c)).collect();
        signing_chain = order_signer_first(signing)
            .iter()
            .map(|d| cert_info(d))
            .collect();
        timestamp_chain = order_signer_first(others)
            .iter()
            .map(|d| cert_info(d))
            .collect();
    }
    let body_excerpt = (!eocs_xml).then(|| {
        clean_text(&text.chars().take(600).collect::<String>())
            .chars()
            .take(300)
            .collect()
    });
    let ocs = OcsResponse {
        status: head.status,
        headers,
        from_ocs,
        eocs_xml,
        has_signature,
        mitigation_ids,
        signing_chain,
        body_excerpt,
        body_bytes: u64::try_from(body.len()).unwrap_or(u64::MAX),
        xml_signature: has_signature.then(|| verify_signature(&text)),
    };
    (ocs, timestamp_chain)
}

/// The one place the probe verifies the answer's XML signature (issue 17),
/// right after the answer is read: eems-xmldsig's verdict, kept as a fact
/// in the probe results; the checks judge the signer.
pub fn verify_signature(body: &str) -> eems_xmldsig::Verification {
    eems_xmldsig::verify(body)
}

#[cfg(test)]
mod tests {
    use super::super::http::parse_head;
    use super::*;

    #[test]
    fn block_page_and_prolog() {
        let head = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nVia: 1.1 proxy\r\nX-Junk: 1\r\n\r\n",
        )
        .unwrap();
        let (o, _) = analyze(
            &head,
            b"<html>\r\n<body>\x07Access   denied by policy</body></html>",
        );
        assert!(!o.eocs_xml && !o.from_ocs && !o.has_signature);
        assert_eq!(
            o.body_excerpt.as_deref(),
            Some("<html> <body>Access denied by policy</body></html>")
        );
        assert_eq!(o.headers.len(), 2);
        assert!(root_is_eocs(
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- c --><EOCS version=\"1.0.4\">"
        ));
        assert!(!root_is_eocs("<EOCSX>"));
        assert!(!root_is_eocs("<?xml version=\"1.0\""));
        let head = parse_head(b"HTTP/1.1 200 OK\r\nX-OfficeFE: ConfigFE_IN_15\r\n\r\n").unwrap();
        let (o, _) = analyze(&head, b"<EOCS version=\"1.0.4\"><Config id=\"PING1\" desc=\"x\"/><Config desc='y' id='M1.1'/><Config id=\"PING1\"/></EOCS>");
        assert!(o.eocs_xml && o.from_ocs && !o.has_signature);
        assert_eq!(o.mitigation_ids, vec!["PING1", "M1.1"]);
        assert!(o.body_excerpt.is_none());
        let (o, _) = analyze(&head, b"<EOCS><ds:Signature xmlns:ds=\"x\"><ds:X509Certificate>!!notbase64</ds:X509Certificate></ds:Signature></EOCS>");
        assert!(o.has_signature);
        assert!(o.signing_chain.is_empty());
    }

    #[test]
    fn the_answer_is_verified_where_it_is_read() {
        // The real answer (tests/fixtures/clixml/css-exchange/SOURCE.md).
        let f = include_str!(
            "../../tests/fixtures/clixml/css-exchange/ExchangeInformation/InvokeWebRequestEEMS.xml"
        );
        let tag = "<S N=\"Content\">";
        let start = f.find(tag).map_or(0, |i| i + tag.len());
        let end = start + f[start..].find("</S>").unwrap_or(0);
        let body = f[start..end]
            .replace("_x000D__x000A_", "\r\n")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        let head = parse_head(b"HTTP/1.1 200 OK\r\nX-OfficeCluster: eus2\r\n\r\n").unwrap();
        let (o, _) = analyze(&head, body.as_bytes());
        let v = o.xml_signature.expect("verified");
        assert_eq!(v.verdict, eems_xmldsig::Verdict::Valid, "{}", v.detail);
        let (o, _) = analyze(
            &head,
            body.replacen("DoNothing<", "DoNothinG<", 1).as_bytes(),
        );
        assert_eq!(
            o.xml_signature.map(|v| v.verdict),
            Some(eems_xmldsig::Verdict::DigestMismatch)
        );
        // No signature, nothing to verify.
        let (o, _) = analyze(&head, b"<EOCS version=\"1.0.4\"></EOCS>");
        assert!(o.xml_signature.is_none());
    }

    #[test]
    fn the_stand_ins_answers_are_really_signed() {
        use eems_xmldsig::Verdict;
        let pki = eems_testkit::pki::Pki::new("http://127.0.0.1:1");
        let head = parse_head(b"HTTP/1.1 200 OK\r\nX-OfficeCluster: eus2\r\n\r\n").unwrap();
        let verdict = |body: String| {
            analyze(&head, body.as_bytes())
                .0
                .xml_signature
                .map(|v| v.verdict)
        };
        assert_eq!(verdict(pki.eocs_body()), Some(Verdict::Valid));
        assert_eq!(
            verdict(pki.eocs_body_tampered()),
            Some(Verdict::DigestMismatch)
        );
        assert_eq!(
            verdict(pki.eocs_body_wrong_key()),
            Some(Verdict::SignatureMismatch)
        );
    }
}
