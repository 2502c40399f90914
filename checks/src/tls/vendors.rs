//! Issuer-name patterns of SSL/TLS-inspection products (data, not code:
//! `checks/data/ssl-inspection-vendors.csv`, replaceable through
//! [`VendorTable::from_csv`]).

use crate::csvdata::Table;
use crate::tls::issuers::dn_value;
use eems_parsers::probe_results::CertInfo;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

pub const EMBEDDED_CSV: &str = include_str!("../../data/ssl-inspection-vendors.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorField {
    /// The whole issuer CN.
    IssuerCn,
    /// The whole issuer O.
    IssuerO,
    /// Anywhere in the issuer DN.
    AnyDn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    Weak,
    Strong,
}

#[derive(Debug, Clone)]
pub struct VendorPattern {
    pub product: String,
    pub field: VendorField,
    /// The pattern as written in the table.
    pub pattern: String,
    pub strength: Strength,
    pub source: String,
    regex: Regex,
}

/// One pattern that matched one certificate's issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorHit {
    pub product: String,
    pub strength: Strength,
    /// Index of the certificate (0 = leaf) whose issuer matched.
    pub cert: usize,
    /// The issuer value that matched.
    pub matched: String,
}

#[derive(Debug, Clone)]
pub struct VendorTable {
    patterns: Vec<VendorPattern>,
}

static EMBEDDED: LazyLock<VendorTable> = LazyLock::new(|| {
    // The embedded table is tested; a broken edit fails `cargo test`.
    VendorTable::from_csv(EMBEDDED_CSV).unwrap_or(VendorTable {
        patterns: Vec::new(),
    })
});

impl VendorTable {
    pub fn embedded() -> &'static VendorTable {
        &EMBEDDED
    }

    /// Read `product,field,regex,strength,source` rows (header required; `source` optional).
    pub fn from_csv(text: &str) -> Result<VendorTable, String> {
        let t = Table::parse(text, "SSL-inspection vendor table")?;
        let (ip, ifield, ire, istr) = (
            t.col("product")?,
            t.col("field")?,
            t.col("regex")?,
            t.col("strength")?,
        );
        let isrc = t.opt_col("source");
        let mut patterns = Vec::new();
        for r in &t.rows {
            let at = |msg: String| format!("{} line {}: {msg}", t.what(), r.line);
            let field = match t.required(r, ifield)?.to_ascii_lowercase().as_str() {
                "issuer_cn" => VendorField::IssuerCn,
                "issuer_o" => VendorField::IssuerO,
                "any_dn" => VendorField::AnyDn,
                other => {
                    return Err(at(format!(
                        "field `{other}` (expected issuer_cn, issuer_o or any_dn)"
                    )));
                }
            };
            let strength = match t.required(r, istr)?.to_ascii_lowercase().as_str() {
                "strong" => Strength::Strong,
                "weak" => Strength::Weak,
                other => return Err(at(format!("strength `{other}` (expected strong or weak)"))),
            };
            let pattern = t.required(r, ire)?.to_owned();
            // CN/O patterns match the whole value, as Chromium's list does.
            let full = match field {
                VendorField::AnyDn => format!("(?i){pattern}"),
                _ => format!("(?i)^(?:{pattern})$"),
            };
            let regex = Regex::new(&full).map_err(|e| at(format!("bad regex `{pattern}`: {e}")))?;
            patterns.push(VendorPattern {
                product: t.required(r, ip)?.to_owned(),
                field,
                pattern,
                strength,
                source: isrc.map(|i| t.get(r, i).to_owned()).unwrap_or_default(),
                regex,
            });
        }
        Ok(VendorTable { patterns })
    }

    pub fn patterns(&self) -> &[VendorPattern] {
        &self.patterns
    }

    /// Every pattern that matches the issuer of a certificate in `chain`, strongest first.
    pub fn hits(&self, chain: &[CertInfo]) -> Vec<VendorHit> {
        let mut out = Vec::new();
        for (i, c) in chain.iter().enumerate() {
            let cn = c.issuer_cn.as_deref().or_else(|| dn_value(&c.issuer, "CN"));
            let o = c.issuer_o.as_deref().or_else(|| dn_value(&c.issuer, "O"));
            for p in &self.patterns {
                let value = match p.field {
                    VendorField::IssuerCn => cn,
                    VendorField::IssuerO => o,
                    VendorField::AnyDn => Some(c.issuer.as_str()),
                };
                if let Some(v) = value.filter(|v| p.regex.is_match(v)) {
                    let hit = VendorHit {
                        product: p.product.clone(),
                        strength: p.strength,
                        cert: i,
                        matched: v.to_owned(),
                    };
                    if !out
                        .iter()
                        .any(|h: &VendorHit| h.product == hit.product && h.cert == hit.cert)
                    {
                        out.push(hit);
                    }
                }
            }
        }
        out.sort_by_key(|h| (std::cmp::Reverse(h.strength), h.cert));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued_by(dn: &str) -> CertInfo {
        CertInfo {
            issuer: dn.into(),
            ..CertInfo::default()
        }
    }

    #[test]
    fn embedded_table_names_the_products() {
        let t = VendorTable::from_csv(EMBEDDED_CSV).unwrap();
        assert!(t.patterns().len() >= 30);
        let cases = [
            (
                "CN=Zscaler Intermediate Root CA (zscalerthree.net) (t), OU=Zscaler Inc., O=Zscaler Inc., C=US",
                "Zscaler",
            ),
            (
                "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=Certificate Authority, CN=FG6H0FTB22903890",
                "Fortinet FortiGate",
            ),
            ("CN=mitmproxy, O=mitmproxy", "mitmproxy"),
            (
                "C=SK, O=ESET\\, spol. s r. o., CN=ESET SSL Filter CA",
                "ESET",
            ),
            ("CN=caadmin.netskope.com, O=Netskope", "Netskope"),
            ("CN=Cisco Umbrella Primary SubCA, O=Cisco", "Cisco Umbrella"),
            (
                "CN=Avast Web/Mail Shield Root, OU=generated by Avast Antivirus for SSL/TLS scanning",
                "Avast/AVG/Norton",
            ),
            (
                "CN=Kaspersky Anti-Virus Personal Root Certificate, O=AO Kaspersky Lab, C=RU",
                "Kaspersky",
            ),
        ];
        for (dn, product) in cases {
            let hits = t.hits(&[issued_by(dn)]);
            assert_eq!(
                hits.first().map(|h| h.product.as_str()),
                Some(product),
                "{dn}"
            );
            assert_eq!(hits[0].strength, Strength::Strong, "{dn}");
        }
        let weak = t.hits(&[issued_by("CN=Forward-Trust-CA, O=Palo Alto Networks")]);
        assert!(!weak.is_empty() && weak.iter().all(|h| h.strength == Strength::Weak));
        for genuine in [
            "CN=Microsoft Azure RSA TLS Issuing CA 04, O=Microsoft Corporation, C=US",
            "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US",
            "CN=Microsoft RSA Root Certificate Authority 2017, O=Microsoft Corporation, C=US",
        ] {
            assert!(t.hits(&[issued_by(genuine)]).is_empty(), "{genuine}");
        }
    }

    #[test]
    fn replaceable_table_and_bad_tables() {
        let t = VendorTable::from_csv(
            "product,field,regex,strength\nAcme,issuer_cn,\"Acme CA \\d{1,3}\",strong\n",
        )
        .unwrap();
        assert_eq!(t.hits(&[issued_by("CN=Acme CA 12")]).len(), 1);
        assert!(t.hits(&[issued_by("CN=Acme CA 1234")]).is_empty());
        for (bad, why) in [
            (
                "product,field,regex,strength\nA,subject,x,strong\n",
                "field `subject`",
            ),
            (
                "product,field,regex,strength\nA,issuer_cn,x,maybe\n",
                "strength",
            ),
            (
                "product,field,regex,strength\nA,issuer_cn,(,strong\n",
                "bad regex",
            ),
            ("product,field,regex\nA,issuer_cn,x\n", "`strength`"),
        ] {
            let e = VendorTable::from_csv(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
