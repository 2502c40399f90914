//! `xmlsec1` (libxmlsec1 over libxml2 and OpenSSL) as the oracle for
//! eems-xmldsig: on the real Microsoft-signed OCS answer and its tampered
//! variants, and on generated documents it signs, whose signatures our
//! verifier must accept (the differential test of our canonicalisation,
//! issue 17). Lab tests: they run with EEMS_LAB=1 (tests/run.sh installs
//! `xmlsec1`) and fail loudly when it is missing.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod support;

use eems_xmldsig::{Verdict, verify};
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURE: &str =
    include_str!("fixtures/clixml/css-exchange/ExchangeInformation/InvokeWebRequestEEMS.xml");

fn real_body() -> String {
    let tag = "<S N=\"Content\">";
    let start = FIXTURE.find(tag).expect("Content") + tag.len();
    let end = start + FIXTURE[start..].find("</S>").expect("end");
    FIXTURE[start..end]
        .replace("_x000D__x000A_", "\r\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// xmlsec1's verdict: true when it says OK (keys from X509Data, no trust
/// decision: the chain is judged elsewhere).
fn xmlsec_verifies(xmlsec: &Path, dir: &Path, name: &str, doc: &str) -> bool {
    let f = dir.join(name);
    std::fs::write(&f, doc).expect("write");
    let out = Command::new(xmlsec)
        .args([
            "--verify",
            "--enabled-key-data",
            "x509,key-value",
            "--insecure",
        ])
        .arg(&f)
        .output()
        .expect("run xmlsec1");
    out.status.success()
}

fn openssl_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let st = Command::new(support::require_program("openssl", "openssl"))
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    (key, cert)
}

fn xmlsec_sign(xmlsec: &Path, dir: &Path, key: &(PathBuf, PathBuf), template: &str) -> String {
    let t = dir.join("template.xml");
    let o = dir.join("signed.xml");
    std::fs::write(&t, template).expect("write");
    let out = Command::new(xmlsec)
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!("{},{}", key.0.display(), key.1.display()))
        .arg("--output")
        .arg(&o)
        .arg(&t)
        .output()
        .expect("run xmlsec1");
    assert!(
        out.status.success(),
        "xmlsec1 --sign refused a generated template: {}\n{template}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&o).expect("signed")
}

#[test]
fn xmlsec1_and_we_agree_on_the_real_answer_and_its_tampered_variants() {
    if !support::lab("xmlsec1") {
        return;
    }
    let xmlsec = support::require_program("xmlsec1", "xmlsec1");
    let dir = tempfile::tempdir().expect("tmp");
    let body = real_body();
    let cases = [
        ("real.xml", body.clone(), Verdict::Valid),
        (
            "body.xml",
            body.replacen("<Value>DoNothing</Value>", "<Value>DoNothinG</Value>", 1),
            Verdict::DigestMismatch,
        ),
        (
            "sigvalue.xml",
            body.replacen("<SignatureValue>jI7j", "<SignatureValue>jI7k", 1),
            Verdict::SignatureMismatch,
        ),
    ];
    for (name, doc, ours) in cases {
        assert_eq!(verify(&doc).verdict, ours, "{name}");
        assert_eq!(
            xmlsec_verifies(&xmlsec, dir.path(), name, &doc),
            ours == Verdict::Valid,
            "xmlsec1 disagrees on {name}"
        );
    }
}

/// xorshift64*: reproducible documents without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const ATTR_BITS: &[&str] = &[
    "a", "Z", " ", "  ", "&amp;", "&lt;", "&gt;", "&quot;", "'", "&#9;", "&#10;", "&#13;", "\t",
    "\n", "\r\n", "é", "€", "&#x20AC;", "=", "x y",
];
const TEXT_BITS: &[&str] = &[
    "text",
    " ",
    "\r\n",
    "\n",
    "\r",
    "&amp;",
    "&lt;",
    ">",
    "&gt;",
    "&#13;",
    "&#xD;",
    "\"'",
    "<![CDATA[<&>\r\n]]>",
    "<!-- a comment -->",
    "<?pi some data?>",
    "<?bare?>",
    "€",
    "\t",
];

fn attr_value(r: &mut Rng) -> String {
    (0..r.below(5)).map(|_| r.pick(ATTR_BITS)).collect()
}

/// One element with random namespaces, attributes and mixed content.
/// `prefixes`: the prefixes declared by ancestors.
fn element(r: &mut Rng, depth: usize, prefixes: &mut Vec<String>, out: &mut String) {
    let mut decls = String::new();
    let mut declared_here = Vec::new();
    match r.below(6) {
        0 => decls.push_str(&format!(" xmlns=\"urn:d{}\"", r.below(3))),
        1 => decls.push_str(" xmlns=\"\""),
        2 => {
            let p = format!("p{}", r.below(3));
            decls.push_str(&format!(" xmlns:{p}=\"urn:{p}:{}\"", r.below(2)));
            declared_here.push(p);
        }
        _ => {}
    }
    let depth_mark = prefixes.len();
    prefixes.extend(declared_here);
    let name = match (r.below(3), prefixes.last()) {
        (0, Some(p)) => format!("{p}:{}", r.pick(&["e", "Item", "b"])),
        _ => r.pick(&["e", "Item", "b", "c-d", "x.y"]).to_owned(),
    };
    let mut attrs = String::new();
    let mut used: Vec<String> = Vec::new();
    for _ in 0..r.below(5) {
        let n = match (r.below(5), prefixes.first()) {
            (0, Some(p)) => format!("{p}:at"),
            (1, _) => "xml:lang".to_owned(),
            _ => r.pick(&["id", "a", "b", "zz", "A1"]).to_owned(),
        };
        if used.contains(&n) {
            continue;
        }
        attrs.push_str(&format!(" {n}=\"{}\"", attr_value(r)));
        used.push(n);
    }
    if r.below(4) == 0 || depth == 0 {
        out.push_str(&format!(
            "<{name}{decls}{attrs}{}/>",
            " ".repeat(r.below(2))
        ));
    } else {
        out.push_str(&format!("<{name}{decls}{attrs}>"));
        for _ in 0..r.below(5) {
            if r.below(2) == 0 {
                element(r, depth - 1, prefixes, out);
            } else {
                out.push_str(r.pick(TEXT_BITS));
            }
        }
        out.push_str(&format!("</{name}>"));
    }
    prefixes.truncate(depth_mark);
}

const TEMPLATE: &str = "<SignedInfo><CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/><SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><Reference URI=\"\"><Transforms><Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/></Transforms><DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><DigestValue></DigestValue></Reference></SignedInfo><SignatureValue/><KeyInfo><KeyValue/><X509Data/></KeyInfo>";

/// A random document with an enveloped signature template as the root's
/// last child (sometimes with a `ds:` prefix, as other signers write it).
fn document(r: &mut Rng) -> String {
    let mut out = String::new();
    if r.below(2) == 0 {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n");
    }
    if r.below(3) == 0 {
        out.push_str("<!-- before -->\n<?before-pi data?>\n");
    }
    let lang = if r.below(3) == 0 {
        " xml:lang=\"de\""
    } else {
        ""
    };
    let root_ns = r.pick(&["", " xmlns=\"urn:root\"", " xmlns:p0=\"urn:p0:root\""]);
    out.push_str(&format!("<EOCS version=\"1.0.4\"{lang}{root_ns}>\r\n"));
    let mut prefixes = if root_ns.contains("p0") {
        vec!["p0".to_owned()]
    } else {
        Vec::new()
    };
    for _ in 0..1 + r.below(3) {
        element(r, 3, &mut prefixes, &mut out);
        out.push_str(r.pick(&["\r\n", "\n  ", ""]));
    }
    let sig = if r.below(3) == 0 {
        format!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{}</ds:Signature>",
            TEMPLATE.replace("<", "<ds:").replace("<ds:/", "</ds:")
        )
    } else {
        format!("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">{TEMPLATE}</Signature>")
    };
    out.push_str(&sig);
    out.push_str("</EOCS>");
    if r.below(3) == 0 {
        out.push_str("\n<?after-pi?>\n<!-- after -->");
    }
    out
}

#[test]
fn our_canonicalization_agrees_with_xmlsec1_on_generated_documents() {
    if !support::lab("xmlsec1") {
        return;
    }
    let xmlsec = support::require_program("xmlsec1", "xmlsec1");
    let dir = tempfile::tempdir().expect("tmp");
    let key = openssl_key(dir.path(), "oracle-signer");
    let other = openssl_key(dir.path(), "other-signer");
    let other_cert: String = std::fs::read_to_string(&other.1)
        .expect("pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let mut r = Rng(0x5EED_0017_C14E_2001);
    let mut checked = 0;
    for i in 0..200 {
        let template = document(&mut r);
        let signed = xmlsec_sign(&xmlsec, dir.path(), &key, &template);
        let v = verify(&signed);
        assert_eq!(
            v.verdict,
            Verdict::Valid,
            "document {i}: xmlsec1 signed it, we say {}\n{signed}",
            v.detail
        );
        if i % 5 == 0 {
            // Change one character of content the signature covers: both must refuse.
            let Some(at) = signed.find("version=\"1.0.4\"") else {
                panic!("no version attribute in {signed}")
            };
            let tampered = format!("{}version=\"1.0.5\"{}", &signed[..at], &signed[at + 15..]);
            assert_eq!(
                verify(&tampered).verdict,
                Verdict::DigestMismatch,
                "document {i}"
            );
            assert!(
                !xmlsec_verifies(&xmlsec, dir.path(), "t.xml", &tampered),
                "document {i}"
            );
            // Another certificate in X509Data, KeyValue left as signed: the wrong key.
            let s = signed.find("X509Certificate>").expect("cert") + "X509Certificate>".len();
            let e = s + signed[s..].find("</").expect("end");
            let swapped = format!("{}{other_cert}{}", &signed[..s], &signed[e..]);
            assert_eq!(verify(&swapped).verdict, Verdict::WrongKey, "document {i}");
            checked += 1;
        }
    }
    assert_eq!(checked, 40);
}

/// The loopback stand-in's answers (eems-testkit's signer) are signatures
/// xmlsec1 accepts too, with the default ECDSA keys and with RSA keys (as
/// the Windows stage uses); the tampered variant fails for both verifiers.
#[test]
fn xmlsec1_accepts_the_stand_ins_signatures() {
    if !support::lab("xmlsec1, openssl") {
        return;
    }
    let xmlsec = support::require_program("xmlsec1", "xmlsec1");
    support::require_program("openssl", "openssl");
    let dir = tempfile::tempdir().expect("tmp");
    let check = |pki: &eems_testkit::pki::Pki, method: &str| {
        let body = pki.eocs_body();
        let v = verify(&body);
        assert_eq!(v.verdict, Verdict::Valid, "{}", v.detail);
        assert_eq!(v.algorithms.signature.as_deref(), Some(method));
        assert!(
            xmlsec_verifies(&xmlsec, dir.path(), "standin.xml", &body),
            "{method}"
        );
        let tampered = pki.eocs_body_tampered();
        assert_eq!(verify(&tampered).verdict, Verdict::DigestMismatch);
        assert!(!xmlsec_verifies(&xmlsec, dir.path(), "t.xml", &tampered));
    };
    check(
        &eems_testkit::pki::Pki::new("http://127.0.0.1:1"),
        eems_xmldsig::ECDSA_SHA256,
    );
    // A process-wide switch: this test binary has no other PKI user.
    eems_testkit::pki::use_rsa_keys();
    check(
        &eems_testkit::pki::Pki::new("http://127.0.0.1:1"),
        eems_xmldsig::RSA_SHA256,
    );
}
