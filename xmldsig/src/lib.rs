//! Verifies the XML signature of the Office Config Service's `<EOCS>`
//! answer (and of any document signed the same way): an enveloped XMLDSig
//! signature, Canonical XML 1.0 without comments, a SHA-256 digest of the
//! document, RSA-SHA256 over the canonical `<SignedInfo>`, the key taken
//! from the `X509Data` signer certificate, and `KeyValue` compared with it.
//! Anything else is reported as an unsupported algorithm with its URI,
//! never guessed at. Also: the signer's chain (`chain`), and CRL
//! signatures (`crl`).
//!
//! Why not a crate for the XML part: `xml-sec` (the pure-Rust XMLDSig crate)
//! says of itself "early-stage pre-release ... should not yet be used in
//! production", needs Rust 1.92 (the workspace supports 1.85), and brings a
//! second RSA stack (RustCrypto) next to the ring provider rustls already
//! uses here; the C `xmlsec1` bindings would add libxml2 and OpenSSL to a
//! binary that is cross-built for Windows. The one canonicalisation this
//! document class needs is small (`c14n.rs`) and is tested against
//! `xmlsec1` itself. The cryptography is not hand-written: digests and RSA
//! are ring's (`digest::SHA256`, `signature::RSA_PKCS1_2048_8192_SHA256`),
//! certificates and CRLs are read and their signatures checked by
//! x509-parser (its `verify` feature, backed by ring).
//!
//! Library code: it never prints and never panics on input; every failure
//! is a verdict or a message.

pub mod c14n;
pub mod chain;
pub mod crl;

use base64::Engine as _;
use c14n::{Document, Element};
use ring::{digest, signature};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// Accepted too (XMLDSig 1.1, P-256, `r || s`): OCS signs with RSA, but the
/// loopback stand-in's test PKI has ECDSA keys (ring cannot make RSA keys).
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// The outcome, most decisive first: a document that cannot be read says
/// so before any algorithm is looked at, and the digest is checked before
/// the signature (a changed body fails the digest even when the
/// `SignedInfo` signature still verifies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Digest and signature verify with the `X509Data` signer's key.
    Valid,
    /// The document is not well-formed XML, or its `<Signature>` lacks a
    /// required part (see `detail`).
    Malformed,
    /// No `<Signature>` in the XMLDSig namespace.
    NoSignature,
    /// A canonicalisation, transform, digest or signature algorithm other
    /// than the ones OCS uses (see `algorithms`).
    UnsupportedAlgorithm,
    /// The canonical document's SHA-256 differs from `DigestValue`: the
    /// signed content was changed after signing.
    DigestMismatch,
    /// `SignatureValue` does not verify over `SignedInfo` with the
    /// signer's key (nor with `KeyValue`).
    SignatureMismatch,
    /// It verifies with `KeyValue`, but not with the `X509Data`
    /// certificate's key (or `KeyValue` is not that key): signed by a key
    /// other than the certificate's.
    WrongKey,
    /// No `X509Data` certificate to take the key from.
    NoCertificate,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Malformed => "malformed",
            Verdict::NoSignature => "no-signature",
            Verdict::UnsupportedAlgorithm => "unsupported-algorithm",
            Verdict::DigestMismatch => "digest-mismatch",
            Verdict::SignatureMismatch => "signature-mismatch",
            Verdict::WrongKey => "wrong-key",
            Verdict::NoCertificate => "no-certificate",
        }
    }
}

/// The algorithm URIs as the document states them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Algorithms {
    pub canonicalization: Option<String>,
    pub signature: Option<String>,
    pub transforms: Vec<String>,
    pub digest: Option<String>,
}

/// What verifying the signature found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub verdict: Verdict,
    /// The reason in words (which algorithm, which part is missing, the
    /// digests that differ).
    pub detail: String,
    pub algorithms: Algorithms,
    /// `KeyValue` present and the same RSA key as the signer certificate's.
    pub key_value_matches: Option<bool>,
    /// Index in `certificates` of the signer (the certificate whose key the
    /// signature was checked with).
    pub signer_index: Option<usize>,
    /// `X509Data` certificates of `KeyInfo`, DER, in document order.
    #[serde(with = "b64_list")]
    pub certificates: Vec<Vec<u8>>,
    /// Certificates elsewhere in the signature (the timestamp
    /// countersignature's `<Object>`), DER.
    #[serde(with = "b64_list", default)]
    pub other_certificates: Vec<Vec<u8>>,
    /// `<Object>` content the signature does not cover, by element name
    /// (`CounterSignature ts-format="cms-timestamp-message"`).
    #[serde(default)]
    pub objects: Vec<String>,
}

mod b64_list {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for d in v {
            seq.serialize_element(&base64::engine::general_purpose::STANDARD.encode(d))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        v.iter()
            .map(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

impl Verification {
    fn new(verdict: Verdict, detail: impl Into<String>) -> Self {
        Verification {
            verdict,
            detail: detail.into(),
            algorithms: Algorithms::default(),
            key_value_matches: None,
            signer_index: None,
            certificates: Vec::new(),
            other_certificates: Vec::new(),
            objects: Vec::new(),
        }
    }

    pub fn signer_der(&self) -> Option<&[u8]> {
        self.certificates.get(self.signer_index?).map(Vec::as_slice)
    }
}

fn b64(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

fn is_dsig(el: &Element, scope: &[(String, String)], local: &str) -> bool {
    if el.local_name() != local {
        return false;
    }
    let prefix = el.name.split_once(':').map_or("", |(p, _)| p);
    scope
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .is_some_and(|(_, u)| u == DSIG_NS)
}

/// The first `<Signature>` in the XMLDSig namespace, with the path from the
/// root to its parent.
fn find_signature<'a>(
    el: &'a Element,
    path: &mut Vec<&'a Element>,
    scope: &mut Vec<(String, String)>,
) -> Option<Vec<&'a Element>> {
    let depth = scope.len();
    scope.extend(el.ns_decls.iter().cloned());
    if is_dsig(el, scope, "Signature") {
        let mut p = path.clone();
        p.push(el);
        scope.truncate(depth);
        return Some(p);
    }
    path.push(el);
    for c in el.child_elements() {
        if let Some(found) = find_signature(c, path, scope) {
            return Some(found);
        }
    }
    path.pop();
    scope.truncate(depth);
    None
}

fn certs_in(el: &Element) -> Vec<Vec<u8>> {
    el.child_elements()
        .filter(|x| x.local_name() == "X509Data")
        .flat_map(|x| {
            x.child_elements()
                .filter(|c| c.local_name() == "X509Certificate")
        })
        .filter_map(|c| b64(&c.text()))
        .collect()
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

/// The RSA public key (PKCS#1 `RSAPublicKey` DER, as ring takes it) and its
/// modulus and exponent, from a certificate.
/// For EC keys, `pkcs1` holds the uncompressed point (what ring takes) and
/// `n`/`e` are empty.
struct RsaKey {
    pkcs1: Vec<u8>,
    n: Vec<u8>,
    e: Vec<u8>,
    ec: bool,
}

fn cert_rsa_key(der: &[u8]) -> Option<RsaKey> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let spki = cert.public_key();
    match spki.parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(k) => Some(RsaKey {
            pkcs1: spki.subject_public_key.data.to_vec(),
            n: strip_zeros(k.modulus).to_vec(),
            e: strip_zeros(k.exponent).to_vec(),
            ec: false,
        }),
        x509_parser::public_key::PublicKey::EC(_) => Some(RsaKey {
            pkcs1: spki.subject_public_key.data.to_vec(),
            n: Vec::new(),
            e: Vec::new(),
            ec: true,
        }),
        _ => None,
    }
}

fn key_verify(k: &RsaKey, ecdsa: bool, msg: &[u8], sig: &[u8]) -> bool {
    if ecdsa {
        k.ec && signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &k.pkcs1)
            .verify(msg, sig)
            .is_ok()
    } else {
        !k.ec && rsa_verify(&k.pkcs1, msg, sig)
    }
}

/// DER of `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, l: usize) {
        if l < 0x80 {
            out.push(l as u8);
        } else {
            let bytes: Vec<u8> = l
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn int(out: &mut Vec<u8>, v: &[u8]) {
        let v = strip_zeros(v);
        let pad = v.first().is_some_and(|&b| b & 0x80 != 0);
        out.push(0x02);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::new();
    int(&mut body, n);
    int(&mut body, e);
    let mut out = vec![0x30];
    len(&mut out, body.len());
    out.extend(body);
    out
}

fn rsa_verify(pkcs1: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pkcs1)
        .verify(msg, sig)
        .is_ok()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Verify the enveloped signature of `xml` (the body as sent, decoded to
/// text).
pub fn verify(xml: &str) -> Verification {
    let doc = match c14n::parse(xml) {
        Ok(d) => d,
        Err(e) => return Verification::new(Verdict::Malformed, e.0),
    };
    verify_document(&doc)
}

fn verify_document(doc: &Document) -> Verification {
    let Some(path) = find_signature(&doc.root, &mut Vec::new(), &mut Vec::new()) else {
        return Verification::new(
            Verdict::NoSignature,
            format!("no <Signature xmlns=\"{DSIG_NS}\"> element"),
        );
    };
    let Some(&sig) = path.last() else {
        return Verification::new(Verdict::NoSignature, "no <Signature> element");
    };
    let mut v = Verification::new(Verdict::Valid, String::new());
    let key_info = sig.child("KeyInfo");
    v.certificates = key_info.map(certs_in).unwrap_or_default();
    for obj in sig.child_elements().filter(|e| e.local_name() == "Object") {
        v.other_certificates.extend(certs_in(obj));
        for c in obj
            .child_elements()
            .filter(|c| c.local_name() != "X509Data")
        {
            let fmt = c
                .attr("ts-format")
                .map(|f| format!(" ts-format=\"{f}\""))
                .unwrap_or_default();
            v.objects.push(format!("{}{fmt}", c.local_name()));
        }
    }
    let Some(signed_info) = sig.child("SignedInfo") else {
        v.verdict = Verdict::Malformed;
        v.detail = "the <Signature> has no <SignedInfo>".into();
        return v;
    };
    let alg = |e: Option<&Element>| e.and_then(|e| e.attr("Algorithm")).map(str::to_owned);
    v.algorithms.canonicalization = alg(signed_info.child("CanonicalizationMethod"));
    v.algorithms.signature = alg(signed_info.child("SignatureMethod"));
    let refs: Vec<&Element> = signed_info
        .child_elements()
        .filter(|e| e.local_name() == "Reference")
        .collect();
    let Some(reference) = refs.first() else {
        v.verdict = Verdict::Malformed;
        v.detail = "<SignedInfo> has no <Reference>".into();
        return v;
    };
    v.algorithms.transforms = reference
        .child("Transforms")
        .map(|t| {
            t.child_elements()
                .filter_map(|x| x.attr("Algorithm").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    v.algorithms.digest = alg(reference.child("DigestMethod"));

    // Only what OCS uses is accepted; each refusal names the URI.
    let mut unsupported = Vec::new();
    if v.algorithms.canonicalization.as_deref() != Some(C14N_10) {
        unsupported.push(format!(
            "canonicalization {}",
            v.algorithms.canonicalization.as_deref().unwrap_or("(none)")
        ));
    }
    let ecdsa = v.algorithms.signature.as_deref() == Some(ECDSA_SHA256);
    if v.algorithms.signature.as_deref() != Some(RSA_SHA256) && !ecdsa {
        unsupported.push(format!(
            "signature {}",
            v.algorithms.signature.as_deref().unwrap_or("(none)")
        ));
    }
    if v.algorithms.digest.as_deref() != Some(SHA256) {
        unsupported.push(format!(
            "digest {}",
            v.algorithms.digest.as_deref().unwrap_or("(none)")
        ));
    }
    let transforms_ok = match v.algorithms.transforms.as_slice() {
        [e] => e == ENVELOPED,
        [e, c] => e == ENVELOPED && c == C14N_10,
        _ => false,
    };
    if !transforms_ok {
        unsupported.push(format!(
            "transforms [{}] (expected {ENVELOPED}, then optionally {C14N_10})",
            v.algorithms.transforms.join(", ")
        ));
    }
    if refs.len() != 1 || reference.attr("URI") != Some("") {
        unsupported.push(format!(
            "{} reference(s), URI {:?} (expected one, URI=\"\": the whole document)",
            refs.len(),
            reference.attr("URI").unwrap_or("(none)")
        ));
    }
    if !unsupported.is_empty() {
        v.verdict = Verdict::UnsupportedAlgorithm;
        v.detail = format!("unsupported: {}", unsupported.join("; "));
        return v;
    }

    let Some(digest_value) = reference.child("DigestValue").and_then(|d| b64(&d.text())) else {
        v.verdict = Verdict::Malformed;
        v.detail = "<DigestValue> is missing or not base64".into();
        return v;
    };
    let Some(sig_value) = sig.child("SignatureValue").and_then(|d| b64(&d.text())) else {
        v.verdict = Verdict::Malformed;
        v.detail = "<SignatureValue> is missing or not base64".into();
        return v;
    };

    // The signer: the certificate whose key verifies SignedInfo; when none
    // does, the first one that issued no other in the set (the leaf).
    let signed_info_c14n = match c14n::canonicalize_subtree(signed_info, &path) {
        Ok(b) => b,
        Err(e) => {
            v.verdict = Verdict::Malformed;
            v.detail = format!("<SignedInfo> cannot be canonicalized: {e}");
            return v;
        }
    };
    let keys: Vec<Option<RsaKey>> = v.certificates.iter().map(|d| cert_rsa_key(d)).collect();
    let verifying = keys.iter().position(|k| {
        k.as_ref()
            .is_some_and(|k| key_verify(k, ecdsa, &signed_info_c14n, &sig_value))
    });
    v.signer_index = verifying.or_else(|| chain::leaf_index(&v.certificates));
    let key_value = key_info
        .and_then(|k| k.child("KeyValue"))
        .and_then(|k| k.child("RSAKeyValue"))
        .and_then(|r| {
            Some((
                b64(&r.child("Modulus")?.text())?,
                b64(&r.child("Exponent")?.text())?,
            ))
        });
    let signer_key = v
        .signer_index
        .and_then(|i| keys.get(i))
        .and_then(Option::as_ref);
    if let (Some((n, e)), Some(k)) = (&key_value, signer_key.filter(|k| !k.ec)) {
        v.key_value_matches = Some(strip_zeros(n) == k.n && strip_zeros(e) == k.e);
    }

    // The digest first: it says whether the document is the one signed.
    let canonical = match c14n::canonicalize_document(doc, Some(sig)) {
        Ok(b) => b,
        Err(e) => {
            v.verdict = Verdict::Malformed;
            v.detail = format!("the document cannot be canonicalized: {e}");
            return v;
        }
    };
    let actual = digest::digest(&digest::SHA256, &canonical);
    if actual.as_ref() != digest_value.as_slice() {
        v.verdict = Verdict::DigestMismatch;
        v.detail = format!(
            "the SHA-256 of the canonical document is {}, the signed DigestValue is {}: the content was changed after signing",
            hex(actual.as_ref()),
            hex(&digest_value)
        );
        return v;
    }
    if v.certificates.is_empty() {
        v.verdict = Verdict::NoCertificate;
        v.detail = "no <X509Data> certificate in <KeyInfo> to take the signer's key from".into();
        return v;
    }
    let kv_verifies = !ecdsa
        && key_value
            .as_ref()
            .is_some_and(|(n, e)| rsa_verify(&pkcs1_der(n, e), &signed_info_c14n, &sig_value));
    if verifying.is_none() {
        if kv_verifies {
            v.verdict = Verdict::WrongKey;
            v.detail = "the signature verifies with <KeyValue> but with no <X509Data> certificate's key: it was made with a key other than the certificate's".into();
        } else {
            v.verdict = Verdict::SignatureMismatch;
            v.detail = "<SignatureValue> does not verify over the canonical <SignedInfo> with the signer certificate's key".into();
        }
        return v;
    }
    if v.key_value_matches == Some(false) {
        v.verdict = Verdict::WrongKey;
        v.detail = "<KeyValue> is not the signer certificate's key".into();
        return v;
    }
    v.detail = format!(
        "digest and {} signature verify with the X509Data signer's key",
        if ecdsa { "ECDSA-SHA256" } else { "RSA-SHA256" }
    );
    v
}

/// What a signer signs, for a test signer (the loopback stand-in): the
/// canonical document without its `<Signature>` (its SHA-256 is the
/// `DigestValue`) and the canonical `<SignedInfo>` (what `SignatureValue`
/// signs). The document must already carry its `<Signature>` template.
pub fn signing_inputs(xml: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let doc = c14n::parse(xml).map_err(|e| e.0)?;
    let path =
        find_signature(&doc.root, &mut Vec::new(), &mut Vec::new()).ok_or("no <Signature>")?;
    let sig = *path.last().ok_or("no <Signature>")?;
    let si = sig.child("SignedInfo").ok_or("no <SignedInfo>")?;
    Ok((
        c14n::canonicalize_document(&doc, Some(sig)).map_err(|e| e.0)?,
        c14n::canonicalize_subtree(si, &path).map_err(|e| e.0)?,
    ))
}
