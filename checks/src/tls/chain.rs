//! Is the TLS chain the probe saw the genuine one, an interception, or a
//! genuine chain that does not validate? Decided from the chain alone (leaf
//! first) plus the verifier's verdict, against the expected-issuer and vendor
//! tables. Facts in, a verdict and its supporting signals out.

use crate::check::Context;
use crate::finding::Confidence;
use crate::tls::issuers::{TlsIssuerTable, cert_cn, issuer_cn, norm_name};
use crate::tls::vendors::{Strength, VendorTable};
use chrono::{DateTime, Utc};
use eems_parsers::probe_results::{CertInfo, TlsResult};
use std::borrow::Cow;

/// Leaves valid for less than this are a (weak) interception signal.
pub const SHORT_LIVED_DAYS: i64 = 30;

/// Host names of the PKI endpoints Microsoft's and DigiCert's certificates
/// point to (CDP, AIA, OCSP). A leaf pointing elsewhere is a signal.
const KNOWN_PKI_DOMAINS: &[&str] = &[
    "microsoft.com",
    "msocsp.com",
    "digicert.com",
    "digicert.cn",
    "geotrust.com",
    "omniroot.com",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    /// The server did not send the intermediate that issued the certificate at `after`.
    MissingIntermediate {
        issuer: String,
    },
    /// The chain ends at a root this machine does not trust.
    UnknownRoot {
        root: String,
    },
    Expired {
        subject: String,
        not_after: String,
    },
    NotValidForName,
    Revoked,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The chain matches the expected set by name and key, and validates.
    Expected,
    /// Something re-signs the connection.
    Interception {
        product: Option<String>,
        confidence: Confidence,
    },
    /// Genuine (or at least not intercepted), but not trusted.
    Untrusted {
        why: Untrusted,
        confidence: Confidence,
    },
    /// Outside the expected set, validates, and shows no interception signal
    /// (Microsoft may have moved to a CA the data file does not list yet).
    Unrecognized,
    /// The probe received no certificate.
    NoChain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAnalysis {
    pub verdict: Verdict,
    /// Supporting facts, in words, strongest first.
    pub signals: Vec<String>,
    /// Expected-set certificates matched by name and key.
    pub matched: Vec<String>,
}

/// How one certificate relates to the expected set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Key,
    /// A listed name, but another key: a forged copy.
    NameOtherKey,
    NotInSet,
}

/// The reference time of a probe: when it started (so a saved bundle judged
/// later gives the same answer), else now.
pub fn probe_time(started_at: &str) -> DateTime<Utc> {
    parse_time(started_at).unwrap_or_else(Utc::now)
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn known_pki_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    KNOWN_PKI_DOMAINS
        .iter()
        .any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

fn label(c: &CertInfo) -> String {
    cert_cn(c).map_or_else(|| c.subject.clone(), str::to_owned)
}

fn short(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

fn lifetime_days(c: &CertInfo) -> Option<i64> {
    Some((parse_time(&c.not_after)? - parse_time(&c.not_before)?).num_days())
}

fn error_has(tls: &TlsResult, words: &[&str]) -> bool {
    let e = tls
        .validation_error
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace([' ', '_', '-'], "");
    words.iter().any(|w| e.contains(w))
}

/// Judge the chain. `now` is the probe's time (see [`probe_time`]).
pub fn analyze(
    tls: &TlsResult,
    issuers: &TlsIssuerTable,
    vendors: &VendorTable,
    now: DateTime<Utc>,
) -> ChainAnalysis {
    let chain = &tls.chain;
    let mut signals = Vec::new();
    let Some(leaf) = chain.first() else {
        return ChainAnalysis {
            verdict: Verdict::NoChain,
            signals,
            matched: Vec::new(),
        };
    };

    // 1. Vendor names.
    let hits = vendors.hits(chain);
    let mut named: Vec<&str> = Vec::new();
    for h in &hits {
        // One signal per product: the first (leaf-most) certificate it matched.
        if named.contains(&h.product.as_str()) {
            continue;
        }
        named.push(&h.product);
        let issuer = chain
            .get(h.cert)
            .map_or(h.matched.as_str(), |c| c.issuer.as_str());
        signals.push(format!(
            "the issuer of {} (`{issuer}`) matches {}{}",
            if h.cert == 0 {
                "the leaf".to_owned()
            } else {
                format!("certificate {}", h.cert + 1)
            },
            h.product,
            if h.strength == Strength::Strong {
                ""
            } else {
                " (a weak hint)"
            }
        ));
    }
    let strong = hits.iter().find(|h| h.strength == Strength::Strong);
    let weak = hits.iter().find(|h| h.strength == Strength::Weak);

    // 2. The expected set, by name and key; cross-signed copies share a key.
    let mut kinds: Vec<Match> = chain
        .iter()
        .map(|c| match cert_cn(c) {
            Some(cn) if issuers.knows_name(cn) => {
                if issuers.matching(c).is_some() {
                    Match::Key
                } else {
                    Match::NameOtherKey
                }
            }
            _ => Match::NotInSet,
        })
        .collect();
    for i in 0..chain.len() {
        if kinds[i] == Match::NameOtherKey {
            let same_key_matched = chain.iter().zip(&kinds).any(|(o, k)| {
                *k == Match::Key
                    && !o.spki_sha256.is_empty()
                    && o.spki_sha256.eq_ignore_ascii_case(&chain[i].spki_sha256)
                    && cert_cn(o).map(norm_name) == cert_cn(&chain[i]).map(norm_name)
            });
            if same_key_matched {
                kinds[i] = Match::Key;
            }
        }
    }
    let matched: Vec<String> = chain
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| **k == Match::Key)
        .map(|(c, _)| {
            let legacy = issuers
                .matching(c)
                .is_some_and(|r| r.status == crate::tls::issuers::IssuerStatus::Legacy);
            format!(
                "{} (SHA-1 {}){}",
                label(c),
                c.sha1,
                if legacy { ", a legacy CA" } else { "" }
            )
        })
        .collect();
    let forged: Vec<&CertInfo> = chain
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| **k == Match::NameOtherKey)
        .map(|(c, _)| c)
        .collect();
    for c in &forged {
        signals.push(format!(
            "`{}` carries a name Microsoft documents but another key (SHA-1 {}, SPKI {}…)",
            label(c),
            c.sha1,
            short(&c.spki_sha256)
        ));
    }
    let genuine_ca = kinds.iter().skip(1).any(|k| *k == Match::Key);

    // 3. Structural signals of a locally made leaf.
    let mut structural = Vec::new();
    if leaf.sct_count == 0 && !leaf.self_signed {
        structural.push("the leaf carries no Signed Certificate Timestamps (publicly trusted leaves, and Microsoft's, carry at least 2)".to_owned());
    }
    let foreign: Vec<&str> = leaf
        .crl_urls
        .iter()
        .chain(&leaf.ca_issuers_urls)
        .chain(&leaf.ocsp_urls)
        .map(|u| eems_parsers::uri::host(u))
        .filter(|h| !h.is_empty() && !known_pki_host(h))
        .fold(Vec::new(), |mut v, h| {
            if !v.contains(&h) {
                v.push(h);
            }
            v
        });
    if !foreign.is_empty() {
        structural.push(format!(
            "the leaf's CRL/AIA/OCSP URLs point at {} instead of Microsoft's or DigiCert's PKI hosts",
            foreign.join(", ")
        ));
    }
    if let Some(days) = lifetime_days(leaf).filter(|d| *d < SHORT_LIVED_DAYS) {
        structural.push(format!("the leaf is valid for only {days} days"));
    }
    if chain.len() == 2 && chain[1].self_signed && kinds[1] == Match::NotInSet {
        structural.push(format!(
            "a 2-certificate chain ending in the private root `{}`",
            label(&chain[1])
        ));
    }
    if leaf.self_signed {
        structural.push("the leaf is self-signed".to_owned());
    }
    if let (Some(aki), Some(issuer)) = (&leaf.aki, chain.get(1))
        && let Some(ski) = &issuer.ski
        && issuer_cn(leaf).map(norm_name) == cert_cn(issuer).map(norm_name)
        && !aki.eq_ignore_ascii_case(ski)
    {
        structural.push(format!(
            "the leaf's authority key id ({}) is not the key id of `{}` ({ski}), which it names as issuer",
            aki,
            label(issuer)
        ));
    }

    let expired: Option<&CertInfo> = chain
        .iter()
        .find(|c| parse_time(&c.not_after).is_some_and(|t| t < now));
    let interception = |product: Option<String>, confidence, signals: Vec<String>| ChainAnalysis {
        verdict: Verdict::Interception {
            product,
            confidence,
        },
        signals,
        matched: matched.clone(),
    };

    if let Some(h) = strong {
        signals.extend(structural);
        return interception(Some(h.product.clone()), Confidence::High, signals);
    }
    if !forged.is_empty() {
        signals.extend(structural);
        return interception(weak.map(|h| h.product.clone()), Confidence::High, signals);
    }

    let leaf_issuer_listed = issuer_cn(leaf).is_some_and(|n| issuers.knows_name(n));
    if genuine_ca || leaf_issuer_listed {
        // Microsoft's names, and every key we could compare is Microsoft's.
        let aki_mismatch = structural.iter().any(|s| s.contains("authority key id"));
        if aki_mismatch {
            signals.extend(structural);
            return interception(weak.map(|h| h.product.clone()), Confidence::Medium, signals);
        }
        if tls.trusted {
            if !genuine_ca {
                signals.push(format!(
                    "the intermediate `{}` was not sent, so its key could not be compared",
                    issuer_cn(leaf).unwrap_or_default()
                ));
            }
            return ChainAnalysis {
                verdict: Verdict::Expected,
                signals,
                matched,
            };
        }
        let why = untrusted_reason(tls, chain, issuers, expired);
        let mut confidence = Confidence::High;
        if !genuine_ca {
            // Only the leaf's word that Microsoft issued it: weaker.
            confidence = Confidence::Medium;
            signals.extend(structural);
        }
        if let Some(e) = expired {
            signals.push(format!("`{}` expired on {}", label(e), e.not_after));
        }
        if let Some(err) = &tls.validation_error {
            signals.push(format!("the verifier said: {err}"));
        }
        return ChainAnalysis {
            verdict: Verdict::Untrusted { why, confidence },
            signals,
            matched,
        };
    }

    // Outside the expected set.
    let root = chain.last().map(label).unwrap_or_default();
    signals.insert(
        0,
        format!(
            "the chain (issuer `{}`, top `{root}`) is not one Microsoft documents for its endpoints",
            issuer_cn(leaf).unwrap_or(&leaf.issuer)
        ),
    );
    if !structural.is_empty() || weak.is_some() {
        let confidence = if structural.len() >= 2 || weak.is_some() {
            Confidence::High
        } else {
            Confidence::Medium
        };
        signals.extend(structural);
        return interception(weak.map(|h| h.product.clone()), confidence, signals);
    }
    if tls.trusted {
        return ChainAnalysis {
            verdict: Verdict::Unrecognized,
            signals,
            matched,
        };
    }
    if let Some(err) = &tls.validation_error {
        signals.push(format!("the verifier said: {err}"));
    }
    ChainAnalysis {
        verdict: Verdict::Untrusted {
            why: untrusted_reason(tls, chain, issuers, expired),
            confidence: Confidence::Medium,
        },
        signals,
        matched,
    }
}

fn untrusted_reason(
    tls: &TlsResult,
    chain: &[CertInfo],
    issuers: &TlsIssuerTable,
    expired: Option<&CertInfo>,
) -> Untrusted {
    if error_has(tls, &["revoked"]) {
        return Untrusted::Revoked;
    }
    if let Some(e) =
        expired.filter(|_| error_has(tls, &["expired"]) || tls.validation_error.is_none())
    {
        return Untrusted::Expired {
            subject: label(e),
            not_after: e.not_after.clone(),
        };
    }
    if error_has(tls, &["expired"]) {
        // The verifier's clock says expired although the probe's does not: name the earliest.
        if let Some(c) = chain.iter().min_by(|a, b| a.not_after.cmp(&b.not_after)) {
            return Untrusted::Expired {
                subject: label(c),
                not_after: c.not_after.clone(),
            };
        }
    }
    if error_has(tls, &["notvalidforname", "namemismatch"]) {
        return Untrusted::NotValidForName;
    }
    // A certificate whose issuer is not in the chain (other than the top one,
    // whose issuer is the root the client must have).
    let subjects: Vec<String> = chain.iter().map(|c| norm_name(&c.subject)).collect();
    let missing = chain.iter().enumerate().find(|(i, c)| {
        !c.self_signed
            && !subjects.contains(&norm_name(&c.issuer))
            && (*i + 1 < chain.len() || chain.len() == 1)
    });
    if let Some((_, c)) = missing {
        let name = issuer_cn(c).unwrap_or(&c.issuer).to_owned();
        let is_root = issuers.named(&name).any(|r| r.is_root());
        return if is_root {
            Untrusted::UnknownRoot { root: name }
        } else {
            Untrusted::MissingIntermediate { issuer: name }
        };
    }
    if error_has(tls, &["unknownissuer", "untrusted", "unknownca"])
        || tls.validation_error.is_none()
    {
        let top = chain.last().map(|c| {
            if c.self_signed {
                label(c)
            } else {
                issuer_cn(c).unwrap_or(&c.issuer).to_owned()
            }
        });
        return Untrusted::UnknownRoot {
            root: top.unwrap_or_default(),
        };
    }
    Untrusted::Other(tls.validation_error.clone().unwrap_or_default())
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Hand-made certificates shaped like the real ones (pki-network.md §1.2, §2.2, §5).
    use eems_parsers::probe_results::CertInfo;

    pub const OCS: &str = "officeclient.microsoft.com";

    pub fn cert(subject_cn: &str, o: &str, issuer_cn: &str, issuer_o: &str) -> CertInfo {
        CertInfo {
            subject: format!("CN={subject_cn}, O={o}, C=US"),
            issuer: format!("CN={issuer_cn}, O={issuer_o}, C=US"),
            subject_cn: Some(subject_cn.into()),
            issuer_cn: Some(issuer_cn.into()),
            issuer_o: Some(issuer_o.into()),
            serial: "01".into(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            sha256: "AA".repeat(32),
            sha1: "BB".repeat(20),
            spki_sha256: "CC".repeat(32),
            key_type: "RSA".into(),
            key_bits: Some(2048),
            is_ca: true,
            self_signed: subject_cn == issuer_cn,
            ..CertInfo::default()
        }
    }

    /// A genuine-looking leaf for officeclient.microsoft.com under Azure RSA TLS Issuing CA 04.
    pub fn ms_leaf() -> CertInfo {
        CertInfo {
            is_ca: false,
            sct_count: 2,
            dns_names: vec![OCS.into()],
            sha256: "1E".repeat(32),
            sha1: "1F".repeat(20),
            spki_sha256: "1D".repeat(32),
            not_before: "2026-06-01T00:00:00Z".into(),
            not_after: "2026-12-01T00:00:00Z".into(),
            crl_urls: vec!["http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004.crl".into()],
            ca_issuers_urls: vec!["http://www.microsoft.com/pkiops/certs/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004%20-%20xsign.crt".into()],
            ocsp_urls: vec!["http://oneocsp.microsoft.com/ocsp".into()],
            eku: vec!["serverAuth".into(), "clientAuth".into()],
            ..cert(OCS, "Microsoft Corporation", "Microsoft Azure RSA TLS Issuing CA 04", "Microsoft Corporation")
        }
    }

    /// The real CA 04 cross-signed by DigiCert Global Root G2 (thumbprint from the data file).
    pub fn ms_ca04() -> CertInfo {
        CertInfo {
            sha1: "BE68D0ADAA2345B48E507320B695D386080E5B25".into(),
            spki_sha256: "4A".repeat(32),
            crl_urls: vec!["http://crl3.digicert.com/DigiCertGlobalRootG2.crl".into()],
            not_after: "2028-06-27T23:59:59Z".into(),
            ..cert(
                "Microsoft Azure RSA TLS Issuing CA 04",
                "Microsoft Corporation",
                "DigiCert Global Root G2",
                "DigiCert Inc",
            )
        }
    }

    pub fn ms_chain() -> Vec<CertInfo> {
        vec![ms_leaf(), ms_ca04()]
    }

    /// A re-signed leaf as an inspecting proxy makes it: no SCTs, its own CDP.
    pub fn proxy_leaf(issuer_cn: &str, issuer_o: &str, cdp: &str) -> CertInfo {
        CertInfo {
            is_ca: false,
            sct_count: 0,
            dns_names: vec![OCS.into()],
            sha256: "2E".repeat(32),
            sha1: "2F".repeat(20),
            spki_sha256: "2D".repeat(32),
            not_before: "2026-06-10T00:00:00Z".into(),
            not_after: "2026-06-24T00:00:00Z".into(),
            crl_urls: if cdp.is_empty() {
                vec![]
            } else {
                vec![cdp.into()]
            },
            ..cert(OCS, "Microsoft Corporation", issuer_cn, issuer_o)
        }
    }

    pub fn zscaler_chain() -> Vec<CertInfo> {
        vec![
            proxy_leaf(
                "Zscaler Intermediate Root CA (zscalerthree.net) (t)",
                "Zscaler Inc.",
                "http://gateway.zscalerthree.net/crl/zs3-kek--4-1.crl",
            ),
            CertInfo {
                sha1: "3A".repeat(20),
                spki_sha256: "3B".repeat(32),
                ..cert(
                    "Zscaler Intermediate Root CA (zscalerthree.net) (t)",
                    "Zscaler Inc.",
                    "Zscaler Root CA",
                    "Zscaler Inc.",
                )
            },
        ]
    }

    pub fn mitmproxy_chain() -> Vec<CertInfo> {
        vec![
            CertInfo {
                issuer: "CN=mitmproxy, O=mitmproxy".into(),
                not_after: "2027-06-10T00:00:00Z".into(),
                ..proxy_leaf("mitmproxy", "mitmproxy", "")
            },
            CertInfo {
                subject: "CN=mitmproxy, O=mitmproxy".into(),
                issuer: "CN=mitmproxy, O=mitmproxy".into(),
                sha1: "4A".repeat(20),
                ..cert("mitmproxy", "mitmproxy", "mitmproxy", "mitmproxy")
            },
        ]
    }

    /// Microsoft's names, the attacker's keys (a forging proxy, or a test PKI).
    pub fn forged_ms_chain() -> Vec<CertInfo> {
        let mut leaf = ms_leaf();
        leaf.sct_count = 0;
        vec![
            leaf,
            CertInfo {
                sha1: "5A".repeat(20),
                spki_sha256: "5B".repeat(32),
                ..ms_ca04()
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    fn now() -> DateTime<Utc> {
        probe_time("2026-06-15T12:00:00Z")
    }

    fn judge(chain: Vec<CertInfo>, trusted: bool, err: Option<&str>) -> ChainAnalysis {
        let tls = TlsResult {
            chain,
            trusted,
            validation_error: err.map(str::to_owned),
            ..TlsResult::default()
        };
        analyze(
            &tls,
            TlsIssuerTable::embedded(),
            VendorTable::embedded(),
            now(),
        )
    }

    #[test]
    fn genuine_chain_is_expected_by_name_and_key() {
        let a = judge(ms_chain(), true, None);
        assert_eq!(a.verdict, Verdict::Expected, "{a:?}");
        assert_eq!(a.matched.len(), 1);
        assert!(a.matched[0].contains("Microsoft Azure RSA TLS Issuing CA 04"));
        // The Microsoft-root variant of the same CA (other thumbprint, same key) too.
        let mut ms_root = ms_chain();
        ms_root[1].sha1 = "7304022CA8A9FF7E3E0C1242E0110E643822C45E".into();
        ms_root[1].issuer_cn = Some("Microsoft RSA Root Certificate Authority 2017".into());
        assert_eq!(judge(ms_root, true, None).verdict, Verdict::Expected);
    }

    #[test]
    fn cross_signed_copy_with_the_same_key_counts_as_genuine() {
        let mut chain = ms_chain();
        let mut other_copy = ms_ca04();
        other_copy.sha1 = "99".repeat(20); // not listed, but the same SPKI as the listed copy
        chain.push(other_copy);
        assert_eq!(judge(chain, true, None).verdict, Verdict::Expected);
    }

    #[test]
    fn zscaler_is_named_with_its_signals() {
        let a = judge(
            zscaler_chain(),
            false,
            Some("invalid peer certificate: UnknownIssuer"),
        );
        assert_eq!(
            a.verdict,
            Verdict::Interception {
                product: Some("Zscaler".into()),
                confidence: Confidence::High
            }
        );
        let all = a.signals.join("\n");
        assert!(all.contains("no Signed Certificate Timestamps"), "{all}");
        assert!(all.contains("gateway.zscalerthree.net"), "{all}");
        assert!(all.contains("valid for only 14 days"), "{all}");
    }

    #[test]
    fn mitmproxy_is_named() {
        let a = judge(mitmproxy_chain(), false, Some("UnknownIssuer"));
        assert_eq!(
            a.verdict,
            Verdict::Interception {
                product: Some("mitmproxy".into()),
                confidence: Confidence::High
            }
        );
        assert!(
            a.signals
                .iter()
                .any(|s| s.contains("2-certificate chain ending in the private root `mitmproxy`"))
        );
    }

    #[test]
    fn microsoft_names_with_other_keys_is_interception_even_when_trusted() {
        let a = judge(forged_ms_chain(), true, None);
        assert_eq!(
            a.verdict,
            Verdict::Interception {
                product: None,
                confidence: Confidence::High
            }
        );
        assert!(a.signals[0].contains("another key"), "{:?}", a.signals);
        // The same test PKI, listed in a replacement table, is expected.
        let chain = forged_ms_chain();
        let mut table = TlsIssuerTable::embedded().clone();
        table.push(crate::tls::issuers::ExpectedIssuer {
            name: "Microsoft Azure RSA TLS Issuing CA 04".into(),
            issued_by: "Test Root".into(),
            serial: String::new(),
            sha1: chain[1].sha1.clone(),
            spki_sha256: String::new(),
            status: crate::tls::issuers::IssuerStatus::Current,
        });
        let tls = TlsResult {
            chain,
            trusted: true,
            ..TlsResult::default()
        };
        assert_eq!(
            analyze(&tls, &table, VendorTable::embedded(), now()).verdict,
            Verdict::Expected
        );
    }

    #[test]
    fn unknown_private_ca_with_signals_is_interception() {
        let leaf = proxy_leaf(
            "Corp Inspection CA",
            "Contoso",
            "http://pki.contoso.com/x.crl",
        );
        let root = CertInfo {
            sha1: "6A".repeat(20),
            ..cert(
                "Corp Inspection CA",
                "Contoso",
                "Corp Inspection CA",
                "Contoso",
            )
        };
        let a = judge(vec![leaf, root], false, Some("UnknownIssuer"));
        assert_eq!(
            a.verdict,
            Verdict::Interception {
                product: None,
                confidence: Confidence::High
            }
        );
        assert!(a.signals[0].contains("not one Microsoft documents"));
        // A weak vendor hint names the product.
        let leaf = proxy_leaf("Forward-Trust-CA", "Palo Alto Networks", "");
        let a = judge(vec![leaf], false, Some("UnknownIssuer"));
        assert!(
            matches!(a.verdict, Verdict::Interception { product: Some(ref p), .. } if p.starts_with("Palo Alto")),
            "{a:?}"
        );
    }

    #[test]
    fn genuine_chain_missing_its_intermediate_is_untrusted_not_intercepted() {
        let a = judge(
            vec![ms_leaf()],
            false,
            Some("invalid peer certificate: UnknownIssuer"),
        );
        assert_eq!(
            a.verdict,
            Verdict::Untrusted {
                why: Untrusted::MissingIntermediate {
                    issuer: "Microsoft Azure RSA TLS Issuing CA 04".into()
                },
                confidence: Confidence::Medium
            },
            "{a:?}"
        );
        // Leaf + root sent, intermediate skipped: the root's key is Microsoft's.
        let root = CertInfo {
            sha1: "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4".into(),
            ..cert(
                "DigiCert Global Root G2",
                "DigiCert Inc",
                "DigiCert Global Root G2",
                "DigiCert Inc",
            )
        };
        let a = judge(vec![ms_leaf(), root], false, Some("UnknownIssuer"));
        assert_eq!(
            a.verdict,
            Verdict::Untrusted {
                why: Untrusted::MissingIntermediate {
                    issuer: "Microsoft Azure RSA TLS Issuing CA 04".into()
                },
                confidence: Confidence::High
            }
        );
    }

    #[test]
    fn genuine_chain_with_unknown_root_or_expired() {
        let a = judge(ms_chain(), false, Some("UnknownIssuer"));
        assert_eq!(
            a.verdict,
            Verdict::Untrusted {
                why: Untrusted::UnknownRoot {
                    root: "DigiCert Global Root G2".into()
                },
                confidence: Confidence::High
            }
        );
        let mut old = ms_chain();
        old[0].not_after = "2026-06-01T00:00:00Z".into();
        old[0].not_before = "2025-06-01T00:00:00Z".into();
        let a = judge(old, false, Some("invalid peer certificate: Expired"));
        assert!(
            matches!(a.verdict, Verdict::Untrusted { why: Untrusted::Expired { ref not_after, .. }, .. } if not_after == "2026-06-01T00:00:00Z"),
            "{a:?}"
        );
    }

    #[test]
    fn unlisted_but_clean_and_trusted_is_unrecognized_and_no_chain_is_no_chain() {
        let mut leaf = ms_leaf();
        leaf.issuer_cn = Some("Microsoft TLS G3 RSA CA 99".into());
        leaf.issuer = "CN=Microsoft TLS G3 RSA CA 99, O=Microsoft Corporation, C=US".into();
        let ca = CertInfo {
            sha1: "77".repeat(20),
            ..cert(
                "Microsoft TLS G3 RSA CA 99",
                "Microsoft Corporation",
                "Microsoft TLS RSA Root G3",
                "Microsoft Corporation",
            )
        };
        assert_eq!(
            judge(vec![leaf, ca], true, None).verdict,
            Verdict::Unrecognized
        );
        assert_eq!(judge(vec![], false, Some("x")).verdict, Verdict::NoChain);
    }

    #[test]
    fn known_pki_hosts() {
        assert!(known_pki_host("www.microsoft.com"));
        assert!(!known_pki_host("gateway.zscalerthree.net"));
        assert!(!known_pki_host("evilmicrosoft.com"));
    }
}

/// The probe's TLS chain, analysed; `None` without a probe or a chain.
pub fn analyze_evidence(
    ev: &crate::evidence::ServerEvidence,
    ctx: &crate::check::Context<'_>,
) -> Option<ChainAnalysis> {
    let r = ev.probes.as_ref()?;
    let tls = r.tls.as_ref().filter(|t| !t.chain.is_empty())?;
    Some(analyze(
        tls,
        ctx.tls_issuers,
        ctx.vendors,
        probe_time(&r.started_at),
    ))
}

/// The probe's TLS result and its analysis (the run's derived one when the
/// context carries it), or the outcome to return when there is nothing to
/// judge (no probe, or no certificate received).
pub fn from_evidence<'e>(
    ev: &'e crate::evidence::ServerEvidence,
    ctx: &Context<'e>,
    what: &str,
) -> Result<(&'e TlsResult, Cow<'e, ChainAnalysis>), crate::check::Outcome> {
    use crate::check::Outcome;
    let Some(r) = &ev.probes else {
        return Err(crate::network::needs_probe(what));
    };
    let Some(tls) = r.tls.as_ref().filter(|t| !t.chain.is_empty()) else {
        let why = match crate::probe::first_path_failure(r) {
            Some(s) => format!(
                "the probe received no TLS certificate: {}",
                crate::probe::step_line(s)
            ),
            None => "the probe results carry no TLS chain".to_owned(),
        };
        return Err(Outcome::Skip(why));
    };
    let a = match ctx.derived.and_then(|d| d.tls_chain.as_ref()) {
        Some(a) => Cow::Borrowed(a),
        None => Cow::Owned(analyze(
            tls,
            ctx.tls_issuers,
            ctx.vendors,
            probe_time(&r.started_at),
        )),
    };
    Ok((tls, a))
}
