//! CRL signatures: a downloaded CRL counts only when it is a CRL and its
//! signature verifies with its issuer's key. A captive portal's page or a
//! proxy's error text served as `.crl` fails here with the reason.

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict", content = "detail")]
pub enum CrlVerdict {
    /// Signed by the issuer's key.
    Verified,
    /// A CRL of this issuer (by name) whose signature does not verify.
    SignatureMismatch,
    /// A CRL, but of another issuer (its issuer name is given).
    OtherIssuer(String),
    /// Not a DER or PEM CRL at all (the first bytes, printable, are given).
    NotACrl(String),
    /// The issuer certificate could not be read.
    BadIssuer,
}

impl CrlVerdict {
    /// `verified`, or why the CRL does not count, in words.
    pub fn words(&self) -> String {
        match self {
            CrlVerdict::Verified => "verified with its issuer's key".to_owned(),
            CrlVerdict::SignatureMismatch => {
                "the signature does not verify with the issuer's key (same issuer name, another key: substituted or corrupted)".to_owned()
            }
            CrlVerdict::OtherIssuer(n) => format!("a CRL of another issuer (`{n}`)"),
            CrlVerdict::NotACrl(s) => format!("not a CRL (starts `{s}`)"),
            CrlVerdict::BadIssuer => "the issuer certificate could not be read".to_owned(),
        }
    }
}

fn excerpt(b: &[u8]) -> String {
    b.iter()
        .take(60)
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

/// `bytes`: the body as downloaded (DER, or PEM `X509 CRL`).
pub fn verify(bytes: &[u8], issuer_der: &[u8]) -> CrlVerdict {
    let pem;
    let der: &[u8] = if bytes.starts_with(b"-----BEGIN") {
        match x509_parser::pem::parse_x509_pem(bytes) {
            Ok((_, p)) if p.label == "X509 CRL" => {
                pem = p;
                &pem.contents
            }
            _ => return CrlVerdict::NotACrl(excerpt(bytes)),
        }
    } else {
        bytes
    };
    let Ok((_, crl)) = parse_x509_crl(der) else {
        return CrlVerdict::NotACrl(excerpt(bytes));
    };
    let Ok((_, issuer)) = X509Certificate::from_der(issuer_der) else {
        return CrlVerdict::BadIssuer;
    };
    if crl.issuer() != issuer.subject() {
        return CrlVerdict::OtherIssuer(crl.issuer().to_string());
    }
    match crl.verify_signature(issuer.public_key()) {
        Ok(()) => CrlVerdict::Verified,
        Err(_) => CrlVerdict::SignatureMismatch,
    }
}
