//! The signer's certificate chain, built from the certificates the signature
//! carries: each link found by issuer name and checked by signature
//! (x509-parser's `verify_signature`, ring underneath). Whether the top of
//! the chain is an expected issuer, and whether the dates are acceptable, is
//! for the caller to judge against its data.

use ring::digest;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

/// What a caller needs to know about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFacts {
    pub subject: String,
    pub subject_cn: Option<String>,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    /// SHA-1 of the DER, upper-case hex (the Windows "thumbprint").
    pub sha1: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// `codeSigning`, `serverAuth`, … and other EKU OIDs in dotted form.
    pub eku: Vec<String>,
    pub is_ca: bool,
    /// The key usage extension allows digital signatures (`None`: no extension).
    pub digital_signature: Option<bool>,
}

fn cn(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .map(str::to_owned)
}

pub fn thumbprint(der: &[u8]) -> String {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

pub fn facts(der: &[u8]) -> Option<CertFacts> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    let mut eku = Vec::new();
    if let Ok(Some(e)) = c.extended_key_usage() {
        let e = e.value;
        for (on, name) in [
            (e.any, "anyExtendedKeyUsage"),
            (e.server_auth, "serverAuth"),
            (e.client_auth, "clientAuth"),
            (e.code_signing, "codeSigning"),
            (e.email_protection, "emailProtection"),
            (e.time_stamping, "timeStamping"),
            (e.ocsp_signing, "OCSPSigning"),
        ] {
            if on {
                eku.push(name.to_owned());
            }
        }
        eku.extend(e.other.iter().map(|o| o.to_id_string()));
    }
    Some(CertFacts {
        subject: c.subject().to_string(),
        subject_cn: cn(c.subject()),
        issuer: c.issuer().to_string(),
        issuer_cn: cn(c.issuer()),
        sha1: thumbprint(der),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        eku,
        is_ca: c.is_ca(),
        digital_signature: c
            .key_usage()
            .ok()
            .flatten()
            .map(|k| k.value.digital_signature()),
    })
}

/// `cert` was signed by `issuer`'s key (names match and the signature verifies).
pub fn issued_by(cert: &[u8], issuer: &[u8]) -> bool {
    let (Ok((_, c)), Ok((_, i))) = (
        X509Certificate::from_der(cert),
        X509Certificate::from_der(issuer),
    ) else {
        return false;
    };
    c.issuer() == i.subject() && c.verify_signature(Some(i.public_key())).is_ok()
}

/// The first certificate that issued no other one in the set (the leaf),
/// in document order.
pub fn leaf_index(certs: &[Vec<u8>]) -> Option<usize> {
    let parsed: Vec<Option<X509Certificate<'_>>> = certs
        .iter()
        .map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    (0..certs.len())
        .find(|&i| {
            let Some(me) = &parsed[i] else { return false };
            !parsed.iter().enumerate().any(|(j, other)| {
                j != i
                    && other
                        .as_ref()
                        .is_some_and(|o| o.issuer() == me.subject() && o.subject() != me.subject())
            })
        })
        .or(if certs.is_empty() { None } else { Some(0) })
}

/// One certificate of the chain and whether the next one up verifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub der: Vec<u8>,
    pub facts: CertFacts,
    /// The certificate above it in the chain signed it (`false` for the top
    /// one unless it is self-signed and verifies with its own key).
    pub verified: bool,
}

/// Build the chain from `signer` upwards through `pool`, by name and
/// verified signature, at most 8 links.
pub fn build(signer: &[u8], pool: &[Vec<u8>]) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    let mut cur = signer.to_vec();
    for _ in 0..8 {
        let Some(f) = facts(&cur) else { break };
        let self_signed = f.subject == f.issuer;
        let next = if self_signed {
            None
        } else {
            pool.iter()
                .find(|p| **p != cur && issued_by(&cur, p))
                .cloned()
        };
        let verified = if self_signed {
            issued_by(&cur, &cur)
        } else {
            next.is_some()
        };
        out.push(Link {
            der: cur.clone(),
            facts: f,
            verified,
        });
        match next {
            Some(n) if !out.iter().any(|l| l.der == n) => cur = n,
            _ => break,
        }
    }
    out
}
