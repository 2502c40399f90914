//! The expected-issuer set: the CAs Microsoft documents for its TLS
//! endpoints (data, not code: `checks/data/tls-expected-issuers.csv`,
//! replaceable through [`TlsIssuerTable::from_csv`]).

use crate::csvdata::Table;
use eems_parsers::probe_results::CertInfo;
use serde::Serialize;
use std::sync::LazyLock;

/// The table shipped with eems-doctor.
pub const EMBEDDED_CSV: &str = include_str!("../../data/tls-expected-issuers.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerStatus {
    /// In Microsoft's list today.
    Current,
    /// Removed or expired; kept so old captures replay.
    Legacy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedIssuer {
    /// The subject CN, e.g. `Microsoft Azure RSA TLS Issuing CA 04`.
    pub name: String,
    /// The issuer CN (the name itself for a root).
    pub issued_by: String,
    /// Lower-case hex, no separators; may be empty.
    pub serial: String,
    /// SHA-1 thumbprint, upper-case hex, no separators; may be empty.
    pub sha1: String,
    /// SHA-256 of the SubjectPublicKeyInfo, upper-case hex; empty when unknown.
    pub spki_sha256: String,
    pub status: IssuerStatus,
}

impl ExpectedIssuer {
    pub fn is_root(&self) -> bool {
        norm_name(&self.name) == norm_name(&self.issued_by)
    }

    /// The row carries something to compare a key with.
    pub fn has_key(&self) -> bool {
        !self.sha1.is_empty() || !self.spki_sha256.is_empty()
    }

    /// Same key: SHA-1 thumbprint, or SPKI (which cross-signed copies share).
    pub fn key_matches(&self, c: &CertInfo) -> bool {
        (!self.sha1.is_empty() && self.sha1 == norm_hex(&c.sha1))
            || (!self.spki_sha256.is_empty() && self.spki_sha256 == norm_hex(&c.spki_sha256))
    }
}

#[derive(Debug, Clone)]
pub struct TlsIssuerTable {
    rows: Vec<ExpectedIssuer>,
}

static EMBEDDED: LazyLock<TlsIssuerTable> = LazyLock::new(|| {
    // The embedded table is tested; a broken edit fails `cargo test`.
    TlsIssuerTable::from_csv(EMBEDDED_CSV).unwrap_or(TlsIssuerTable { rows: Vec::new() })
});

impl TlsIssuerTable {
    /// The shipped table (parsed once).
    pub fn embedded() -> &'static TlsIssuerTable {
        &EMBEDDED
    }

    /// Read `name,issued_by,serial,sha1,spki_sha256,status` rows (header
    /// required; `serial`, `spki_sha256` and `status` may be left out).
    /// Every row needs a name and a SHA-1 or SPKI hash: a name alone proves nothing.
    pub fn from_csv(text: &str) -> Result<TlsIssuerTable, String> {
        let t = Table::parse(text, "expected-issuer table")?;
        let (iname, iby, isha1) = (t.col("name")?, t.col("issued_by")?, t.col("sha1")?);
        let (iserial, ispki, istatus) = (
            t.opt_col("serial"),
            t.opt_col("spki_sha256"),
            t.opt_col("status"),
        );
        let mut rows = Vec::new();
        for r in &t.rows {
            let name = t.required(r, iname)?.to_owned();
            let issued_by = t.required(r, iby)?.to_owned();
            let sha1 = norm_hex(t.get(r, isha1));
            let spki = ispki.map(|i| norm_hex(t.get(r, i))).unwrap_or_default();
            let bad_hex = |v: &str, len: usize| {
                !v.is_empty() && (v.len() != len || !v.chars().all(|c| c.is_ascii_hexdigit()))
            };
            if bad_hex(&sha1, 40) {
                return Err(format!(
                    "{} line {}: `sha1` must be 40 hex digits",
                    t.what(),
                    r.line
                ));
            }
            if bad_hex(&spki, 64) {
                return Err(format!(
                    "{} line {}: `spki_sha256` must be 64 hex digits",
                    t.what(),
                    r.line
                ));
            }
            if sha1.is_empty() && spki.is_empty() {
                return Err(format!(
                    "{} line {}: `{name}` needs a sha1 or spki_sha256",
                    t.what(),
                    r.line
                ));
            }
            let status = match istatus.map(|i| t.get(r, i).to_ascii_lowercase()).as_deref() {
                None | Some("") | Some("current") => IssuerStatus::Current,
                Some("legacy") => IssuerStatus::Legacy,
                Some(other) => {
                    return Err(format!(
                        "{} line {}: status `{other}` (expected current or legacy)",
                        t.what(),
                        r.line
                    ));
                }
            };
            rows.push(ExpectedIssuer {
                name,
                issued_by,
                serial: iserial
                    .map(|i| t.get(r, i).trim_start_matches("0x").to_ascii_lowercase())
                    .unwrap_or_default(),
                sha1,
                spki_sha256: spki,
                status,
            });
        }
        Ok(TlsIssuerTable { rows })
    }

    /// An extra trusted issuer (a private PKI the operator vouches for, e.g. a test CA).
    pub fn push(&mut self, row: ExpectedIssuer) {
        self.rows.push(row);
    }

    pub fn rows(&self) -> &[ExpectedIssuer] {
        &self.rows
    }

    /// Rows whose name is `cn` (case and spacing ignored).
    pub fn named<'a>(&'a self, cn: &str) -> impl Iterator<Item = &'a ExpectedIssuer> + use<'a> {
        let n = norm_name(cn);
        self.rows.iter().filter(move |r| norm_name(&r.name) == n)
    }

    pub fn knows_name(&self, cn: &str) -> bool {
        self.named(cn).next().is_some()
    }

    /// The row that matches this certificate by name and key.
    pub fn matching(&self, c: &CertInfo) -> Option<&ExpectedIssuer> {
        let cn = cert_cn(c)?;
        self.named(cn).find(|r| r.key_matches(c))
    }
}

/// The subject CN of a certificate (from the DN when `subject_cn` is unset).
pub fn cert_cn(c: &CertInfo) -> Option<&str> {
    c.subject_cn
        .as_deref()
        .or_else(|| dn_value(&c.subject, "CN"))
}

/// The issuer CN of a certificate.
pub fn issuer_cn(c: &CertInfo) -> Option<&str> {
    c.issuer_cn.as_deref().or_else(|| dn_value(&c.issuer, "CN"))
}

/// The first value of attribute `attr` in an RFC 4514-style DN (`CN=x, O=y`).
/// Escaped commas are not split on.
pub fn dn_value<'a>(dn: &'a str, attr: &str) -> Option<&'a str> {
    let mut start = 0;
    let bytes = dn.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b',' => {
                parts.push(&dn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(dn.get(start..).unwrap_or(""));
    parts.into_iter().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(attr).then(|| v.trim())
    })
}

pub(crate) fn norm_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub(crate) fn norm_hex(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_loads_with_both_variants() {
        let t = TlsIssuerTable::from_csv(EMBEDDED_CSV).unwrap();
        assert_eq!(t.rows().len(), TlsIssuerTable::embedded().rows().len());
        for ca in ["03", "04", "07", "08"] {
            for kind in ["RSA", "ECC"] {
                let name = format!("Microsoft Azure {kind} TLS Issuing CA {ca}");
                let rows: Vec<_> = t.named(&name).collect();
                assert_eq!(rows.len(), 2, "{name}: xsign and Microsoft-root variants");
                assert!(
                    rows.iter()
                        .any(|r| r.issued_by.starts_with("DigiCert Global Root G"))
                );
                assert!(rows.iter().any(|r| r.issued_by.starts_with("Microsoft")));
            }
        }
        for root in [
            "DigiCert Global Root G2",
            "DigiCert Global Root G3",
            "Microsoft RSA Root Certificate Authority 2017",
            "Microsoft ECC Root Certificate Authority 2017",
        ] {
            assert!(t.named(root).all(ExpectedIssuer::is_root), "{root}");
            assert!(t.knows_name(root), "{root}");
        }
        assert!(t.rows().iter().any(|r| r.status == IssuerStatus::Legacy));
        assert!(t.rows().iter().all(|r| r.sha1.len() == 40));
        let ca04 = CertInfo {
            subject_cn: Some("microsoft azure rsa tls issuing ca 04".into()),
            sha1: "be:68:d0:ad:aa:23:45:b4:8e:50:73:20:b6:95:d3:86:08:0e:5b:25".into(),
            ..CertInfo::default()
        };
        assert_eq!(
            t.matching(&ca04).unwrap().issued_by,
            "DigiCert Global Root G2"
        );
    }

    #[test]
    fn replaceable_table_and_bad_tables() {
        let spki = "AB".repeat(32);
        let mut t = TlsIssuerTable::from_csv(&format!(
            "name,issued_by,sha1,spki_sha256\nTest CA,Test CA,,{spki}\n"
        ))
        .unwrap();
        let c = CertInfo {
            subject: "CN=Test CA, O=Example".into(),
            spki_sha256: spki.to_lowercase(),
            ..CertInfo::default()
        };
        assert!(t.matching(&c).is_some());
        assert_eq!(t.rows()[0].status, IssuerStatus::Current);
        t.push(ExpectedIssuer {
            name: "Other".into(),
            ..t.rows()[0].clone()
        });
        assert_eq!(t.rows().len(), 2);
        for (bad, why) in [
            ("", "empty"),
            ("name,issued_by\nA,A\n", "`sha1`"),
            ("name,issued_by,sha1\nA,A,\n", "needs a sha1"),
            ("name,issued_by,sha1\nA,A,XYZ\n", "40 hex"),
            (
                "name,issued_by,sha1,status\nA,A,DF3C24F9BFD666761B268073FE06D1CC8D4F82A4,maybe\n",
                "status",
            ),
            (
                "name,issued_by,sha1\n,A,DF3C24F9BFD666761B268073FE06D1CC8D4F82A4\n",
                "empty `name`",
            ),
        ] {
            let e = TlsIssuerTable::from_csv(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn dn_values() {
        let dn = "CN=Zscaler Intermediate Root CA (zscalerthree.net) (t), OU=Zscaler Inc., O=Zscaler Inc., C=US";
        assert_eq!(dn_value(dn, "O"), Some("Zscaler Inc."));
        assert_eq!(
            dn_value(dn, "cn"),
            Some("Zscaler Intermediate Root CA (zscalerthree.net) (t)")
        );
        assert_eq!(
            dn_value("O=ESET\\, spol. s r. o., CN=ESET SSL Filter CA", "CN"),
            Some("ESET SSL Filter CA")
        );
        assert_eq!(dn_value("", "CN"), None);
        assert_eq!(dn_value("garbage", "CN"), None);
    }
}
