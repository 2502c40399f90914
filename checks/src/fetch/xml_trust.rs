//! Judges a verified mitigation-XML signature (eems-xmldsig's facts): is the
//! document the one signed, by whom, does the signer chain to an expected
//! issuer (data: `checks/data/xml-signing-issuers.csv`), and was the signer
//! valid when the answer was sent and is it now. One reason per problem,
//! most decisive first, each with its own fix in `xml-signature-invalid`.

use crate::csvdata::Table;
use eems_xmldsig::chain::{self, CertFacts};
use eems_xmldsig::{Verdict, Verification};
use std::sync::OnceLock;

pub const EMBEDDED_CSV: &str = include_str!("../../data/xml-signing-issuers.csv");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerRow {
    pub name: String,
    pub sha1: String,
    pub root: bool,
}

pub fn parse_issuers(text: &str) -> Result<Vec<IssuerRow>, String> {
    let t = Table::parse(text, "xml-signing-issuers.csv")?;
    let (name, sha1, role) = (t.col("name")?, t.col("sha1")?, t.col("role")?);
    t.rows
        .iter()
        .map(|r| {
            Ok(IssuerRow {
                name: t.required(r, name)?.to_owned(),
                sha1: t.required(r, sha1)?.to_ascii_uppercase(),
                root: t.get(r, role).eq_ignore_ascii_case("root"),
            })
        })
        .collect()
}

pub fn embedded() -> &'static [IssuerRow] {
    static T: OnceLock<Vec<IssuerRow>> = OnceLock::new();
    T.get_or_init(|| parse_issuers(EMBEDDED_CSV).unwrap_or_default())
}

/// Why the service would refuse the document, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Not OCS's signed document any more: an HTML page, a stripped or
    /// unreadable signature (a middlebox rewrote the answer).
    Rewritten,
    /// The signed content was changed (digest mismatch).
    TamperedBody,
    /// `SignatureValue` does not verify.
    BadSignature,
    /// Signed with a key other than the certificate's.
    WrongKey,
    UnsupportedAlgorithm,
    /// The chain does not reach an expected root (re-signed by someone else).
    UntrustedSigner,
    /// The signer was not valid when the answer was sent.
    ExpiredSigner,
    /// The signer lacks codeSigning.
    WrongUsage,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Rewritten => "middlebox rewrite",
            Reason::TamperedBody => "tampered body",
            Reason::BadSignature => "signature mismatch",
            Reason::WrongKey => "wrong key",
            Reason::UnsupportedAlgorithm => "unsupported algorithm",
            Reason::UntrustedSigner => "untrusted signer",
            Reason::ExpiredSigner => "expired signer",
            Reason::WrongUsage => "signer not for code signing",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub verification: Verification,
    pub signer: Option<CertFacts>,
    /// Subject CNs from the signer up, and whether each link verified.
    pub chain: Vec<(String, bool)>,
    /// The chain reached a root row of the data by name and thumbprint.
    pub trusted_root: Option<String>,
    /// Unix seconds the signer was judged at (the answer's `Date`), and the
    /// clock's now when known.
    pub at: Option<i64>,
    pub now: Option<i64>,
    pub problems: Vec<(Reason, String)>,
}

fn day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || t.to_string(),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

impl Assessment {
    /// "Microsoft Exchange XML Signing (thumbprint 8A68…, valid 2021-06-10 to 2022-06-09)".
    pub fn signer_line(&self) -> String {
        match &self.signer {
            Some(s) => format!(
                "{} (thumbprint {}, valid {} to {})",
                s.subject,
                s.sha1,
                day(s.not_before),
                day(s.not_after)
            ),
            None => "no signer certificate".to_owned(),
        }
    }

    /// The signer's validity at the answer's time and now, in words.
    pub fn validity_line(&self) -> String {
        let Some(s) = &self.signer else {
            return String::new();
        };
        let judge = |t: i64| {
            if t < s.not_before {
                "not yet valid"
            } else if t > s.not_after {
                "expired"
            } else {
                "valid"
            }
        };
        let mut parts = Vec::new();
        if let Some(t) = self.at {
            parts.push(format!(
                "{} when the answer was sent ({})",
                judge(t),
                day(t)
            ));
        }
        if let Some(t) = self.now {
            parts.push(format!("{} now ({})", judge(t), day(t)));
        }
        parts.join(", ")
    }
}

/// Judge `v` as of `at` (the answer's `Date`, else `now`).
pub fn assess(
    v: Verification,
    at: Option<i64>,
    now: Option<i64>,
    issuers: &[IssuerRow],
) -> Assessment {
    let signer = v.signer_der().and_then(chain::facts);
    let mut problems = Vec::new();
    match v.verdict {
        Verdict::Valid => {}
        Verdict::NoSignature | Verdict::Malformed => {
            problems.push((Reason::Rewritten, v.detail.clone()));
        }
        Verdict::DigestMismatch => problems.push((Reason::TamperedBody, v.detail.clone())),
        Verdict::SignatureMismatch => problems.push((Reason::BadSignature, v.detail.clone())),
        Verdict::WrongKey => problems.push((Reason::WrongKey, v.detail.clone())),
        Verdict::UnsupportedAlgorithm => {
            problems.push((Reason::UnsupportedAlgorithm, v.detail.clone()));
        }
        Verdict::NoCertificate => problems.push((Reason::Rewritten, v.detail.clone())),
    }
    let links = v
        .signer_der()
        .map(|s| {
            let mut pool = v.certificates.clone();
            pool.extend(v.other_certificates.iter().cloned());
            chain::build(s, &pool)
        })
        .unwrap_or_default();
    let chain_names: Vec<(String, bool)> = links
        .iter()
        .map(|l| {
            (
                l.facts
                    .subject_cn
                    .clone()
                    .unwrap_or_else(|| l.facts.subject.clone()),
                l.verified,
            )
        })
        .collect();
    // Trusted: every link up to a root row verified, and that root matches by name and key.
    let mut trusted_root = None;
    for (i, l) in links.iter().enumerate() {
        let name = l.facts.subject_cn.as_deref().unwrap_or("");
        if issuers
            .iter()
            .any(|r| r.root && r.name.eq_ignore_ascii_case(name) && r.sha1 == l.facts.sha1)
            && links[..=i].iter().all(|x| x.verified)
        {
            trusted_root = Some(name.to_owned());
            break;
        }
    }
    if let Some(s) = &signer {
        if trusted_root.is_none() {
            let top = chain_names.last().map_or("", |(n, _)| n.as_str());
            problems.push((
                Reason::UntrustedSigner,
                format!(
                    "the signer `{}` does not chain to an expected root ({}): its chain ends at `{top}`{}",
                    s.subject_cn.as_deref().unwrap_or(&s.subject),
                    issuers
                        .iter()
                        .filter(|r| r.root)
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if chain_names.iter().all(|(_, ok)| *ok) {
                        ""
                    } else {
                        " and a link does not verify"
                    }
                ),
            ));
        }
        if let Some(t) = at.or(now) {
            if t > s.not_after {
                problems.push((
                    Reason::ExpiredSigner,
                    format!(
                        "the signer expired on {}, before the answer's time {}",
                        day(s.not_after),
                        day(t)
                    ),
                ));
            } else if t < s.not_before {
                problems.push((
                    Reason::ExpiredSigner,
                    format!(
                        "the signer is valid only from {}, after the answer's time {}",
                        day(s.not_before),
                        day(t)
                    ),
                ));
            }
        }
        if !s.eku.iter().any(|e| e == "codeSigning") {
            problems.push((
                Reason::WrongUsage,
                format!(
                    "the signer lacks the codeSigning EKU (has: {})",
                    if s.eku.is_empty() {
                        "none".to_owned()
                    } else {
                        s.eku.join(", ")
                    }
                ),
            ));
        }
    }
    Assessment {
        verification: v,
        signer,
        chain: chain_names,
        trusted_root,
        at,
        now,
        problems,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_names_the_2011_root_by_key() {
        let t = embedded();
        assert!(t.iter().any(|r| r.root
            && r.name == "Microsoft Root Certificate Authority 2011"
            && r.sha1 == "8F43288AD272F3103B6FB1428485EA3014C0BCFE"));
        assert!(parse_issuers("name,sha1,role\n,,\n").is_err());
    }

    /// The real answer (tests/fixtures/clixml/css-exchange/SOURCE.md), unescaped.
    pub(crate) fn real_body() -> String {
        let f = include_str!(
            "../../../tests/fixtures/clixml/css-exchange/ExchangeInformation/InvokeWebRequestEEMS.xml"
        );
        let tag = "<S N=\"Content\">";
        let start = f.find(tag).map_or(0, |i| i + tag.len());
        let end = start + f[start..].find("</S>").unwrap_or(0);
        f[start..end]
            .replace("_x000D__x000A_", "\r\n")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
    }

    fn real() -> eems_xmldsig::Verification {
        eems_xmldsig::verify(&real_body())
    }

    const SENT: i64 = 1_638_891_444; // Date: Tue, 07 Dec 2021 15:37:24 GMT
    const TODAY: i64 = 1_796_083_200; // 2026-12-01

    #[test]
    fn the_real_answer_is_trusted_when_sent_and_its_signer_expired_since() {
        let a = assess(real(), Some(SENT), Some(TODAY), embedded());
        assert_eq!(a.problems, []);
        assert_eq!(
            a.trusted_root.as_deref(),
            Some("Microsoft Root Certificate Authority 2011")
        );
        assert_eq!(
            a.validity_line(),
            "valid when the answer was sent (2021-12-07T15:37:24Z), expired now (2026-12-01T00:00:00Z)"
        );
    }

    #[test]
    fn an_answer_sent_after_the_signer_expired_names_the_expired_signer() {
        // The June 2022 incident: the same signer, an answer dated after 2022-06-09.
        let a = assess(real(), Some(1_656_633_600), Some(TODAY), embedded());
        assert_eq!(a.problems.len(), 1);
        assert_eq!(a.problems[0].0, Reason::ExpiredSigner);
        assert!(
            a.problems[0].1.contains("expired on 2022-06-09T18:44:12Z"),
            "{:?}",
            a.problems
        );
    }

    #[test]
    fn a_root_not_in_the_data_or_with_another_key_is_an_untrusted_signer() {
        let other_key = parse_issuers(
            "name,sha1,role\nMicrosoft Root Certificate Authority 2011,0000000000000000000000000000000000000000,root\n",
        )
        .unwrap_or_default();
        let a = assess(real(), Some(SENT), None, &other_key);
        assert_eq!(a.problems.len(), 1);
        assert_eq!(a.problems[0].0, Reason::UntrustedSigner);
        assert!(
            a.problems[0]
                .1
                .contains("its chain ends at `Microsoft Root Certificate Authority 2011`"),
            "{:?}",
            a.problems
        );
    }
}
