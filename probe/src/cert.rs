//! Certificate and CRL inspection: turns DER into the facts the checks need
//! (`CertInfo`, CRL facts). Pure functions, no I/O; never panics on any input.

use base64::Engine as _;
use eems_parsers::probe_results::CertInfo;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::time::ASN1Time;

/// Upper-case hex, no separators (the form Windows shows thumbprints in).
pub fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// A serial as an unsigned number: the DER sign byte and other leading zeros
/// removed, so a certificate's serial and a CRL entry compare equal however
/// either was encoded.
pub fn serial_key(raw: &[u8]) -> Vec<u8> {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw.get(start..).unwrap_or_default().to_vec()
}

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn rfc3339(t: ASN1Time) -> String {
    chrono::DateTime::from_timestamp(t.timestamp(), 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// Short names for the attribute types seen in practice; anything else is
/// shown as its dotted OID (RFC 4514 §2.3).
fn attr_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.12" => "title",
        "2.5.4.17" => "postalCode",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "2.5.4.97" => "organizationIdentifier",
        _ => return None,
    })
}

/// Decode a directory string whatever its ASN.1 string type.
fn attr_text(tag: Tag, data: &[u8]) -> String {
    match tag {
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}')
            })
            .collect(),
        // T.61 in practice carries Latin-1.
        Tag::T61String => data.iter().map(|b| char::from(*b)).collect(),
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

fn escape_dn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// RFC 4514 order (most specific first), e.g. `CN=…, O=…, C=US`.
pub fn dn_string(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = attr_name(&oid).map_or(oid.clone(), str::to_owned);
                    let val = attr_text(atv.attr_value().tag(), atv.attr_value().data);
                    format!("{key}={}", escape_dn_value(&val))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(", ")
}

fn first_attr(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .map(|a| attr_text(a.attr_value().tag(), a.attr_value().data))
}

const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_AIA_OCSP: &str = "1.3.6.1.5.5.7.48.1";
const OID_AIA_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// Count SCTs in the raw extension value when x509-parser could not parse
/// the list: OCTET STRING { u16 total, (u16 len, SCT)* } (RFC 6962 §3.3).
fn count_scts_raw(value: &[u8]) -> u32 {
    let inner = match x509_parser::der_parser::der::parse_der_octetstring(value) {
        Ok((_, obj)) => obj.as_slice().unwrap_or_default().to_vec(),
        Err(_) => value.to_vec(),
    };
    let Some(total) = inner
        .get(..2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return 0;
    };
    let list = inner.get(2..2 + total).unwrap_or_default();
    let (mut pos, mut n) = (0usize, 0u32);
    while let Some(len) = list
        .get(pos..pos + 2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    {
        pos += 2 + len;
        if pos > list.len() {
            break;
        }
        n += 1;
    }
    n
}

fn general_name_uri(g: &GeneralName<'_>) -> Option<String> {
    match g {
        GeneralName::URI(u) => Some((*u).to_owned()),
        _ => None,
    }
}

/// Everything the checks need about one certificate. An unparsable DER
/// still gets its thumbprints and PEM, with the parse error as subject.
pub fn cert_info(der: &[u8]) -> CertInfo {
    let mut info = CertInfo {
        sha256: hex_upper(&Sha256::digest(der)),
        sha1: hex_upper(&Sha1::digest(der)),
        pem: Some(pem_encode("CERTIFICATE", der)),
        ..CertInfo::default()
    };
    let cert = match X509Certificate::from_der(der) {
        Ok((_, c)) => c,
        Err(e) => {
            info.subject = format!("(unparsable certificate: {e})");
            return info;
        }
    };
    info.subject = dn_string(cert.subject());
    info.issuer = dn_string(cert.issuer());
    info.subject_cn = first_attr(cert.subject(), "2.5.4.3");
    info.issuer_cn = first_attr(cert.issuer(), "2.5.4.3");
    info.issuer_o = first_attr(cert.issuer(), "2.5.4.10");
    info.serial = hex_upper(&serial_key(cert.raw_serial()));
    info.not_before = rfc3339(cert.validity().not_before);
    info.not_after = rfc3339(cert.validity().not_after);
    let spki = cert.public_key();
    info.spki_sha256 = hex_upper(&Sha256::digest(spki.raw));
    let alg = spki.algorithm.algorithm.to_id_string();
    let (key_type, bits) = match (alg.as_str(), spki.parsed()) {
        ("1.3.101.112", _) => ("Ed25519".to_owned(), Some(256)),
        ("1.3.101.113", _) => ("Ed448".to_owned(), Some(456)),
        (_, Ok(PublicKey::RSA(k))) => ("RSA".to_owned(), Some(k.key_size())),
        (_, Ok(PublicKey::EC(k))) => ("EC".to_owned(), Some(k.key_size())),
        (_, Ok(PublicKey::DSA(k))) => ("DSA".to_owned(), Some(k.len() * 8)),
        (_, Ok(PublicKey::GostR3410(_) | PublicKey::GostR3410_2012(_))) => {
            ("GOST".to_owned(), None)
        }
        _ => (alg, None),
    };
    info.key_type = key_type;
    info.key_bits = bits.filter(|b| *b > 0).and_then(|b| u32::try_from(b).ok());
    info.is_ca = cert.is_ca();

    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => info.ski = Some(hex_upper(k.0)),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                info.aki = a.key_identifier.as_ref().map(|k| hex_upper(k.0));
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                for g in &san.general_names {
                    if let GeneralName::DNSName(d) = g {
                        info.dns_names.push((*d).to_owned());
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(cdp) => {
                for p in &cdp.points {
                    if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                        info.crl_urls
                            .extend(names.iter().filter_map(general_name_uri));
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for d in &aia.accessdescs {
                    let Some(uri) = general_name_uri(&d.access_location) else {
                        continue;
                    };
                    match d.access_method.to_id_string().as_str() {
                        OID_AIA_OCSP => info.ocsp_urls.push(uri),
                        OID_AIA_CA_ISSUERS => info.ca_issuers_urls.push(uri),
                        _ => {}
                    }
                }
            }
            ParsedExtension::SCT(list) => {
                info.sct_count = u32::try_from(list.len()).unwrap_or(u32::MAX)
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let named = [
                    (eku.any, "anyExtendedKeyUsage"),
                    (eku.server_auth, "serverAuth"),
                    (eku.client_auth, "clientAuth"),
                    (eku.code_signing, "codeSigning"),
                    (eku.email_protection, "emailProtection"),
                    (eku.time_stamping, "timeStamping"),
                    (eku.ocsp_signing, "OCSPSigning"),
                ];
                info.eku.extend(
                    named
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, n)| (*n).to_owned()),
                );
                info.eku.extend(eku.other.iter().map(|o| o.to_id_string()));
            }
            _ if ext.oid.to_id_string() == OID_SCT_LIST => {
                info.sct_count = count_scts_raw(ext.value)
            }
            _ => {}
        }
    }
    // Self-signed: same name both sides, and the key identifiers (when both
    // present) agree; a cross-signed copy with the same name has another AKI.
    info.self_signed = cert.subject().as_raw() == cert.issuer().as_raw()
        && match (&info.ski, &info.aki) {
            (Some(s), Some(a)) => s == a,
            _ => true,
        };
    info
}

/// Subject and issuer DN of a DER certificate (for ordering chains).
pub fn names(der: &[u8]) -> Option<(String, String)> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    Some((dn_string(c.subject()), dn_string(c.issuer())))
}

/// The facts of a CRL that do not depend on which certificate it is checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlFacts {
    pub issuer: String,
    pub this_update: String,
    pub next_update: Option<String>,
    pub expired: Option<bool>,
    /// Serials on the list, as `serial_key` gives them.
    pub revoked: Vec<Vec<u8>>,
}

impl CrlFacts {
    pub fn lists(&self, cert_serial_hex: &str) -> bool {
        self.revoked
            .iter()
            .any(|s| hex_upper(s).eq_ignore_ascii_case(cert_serial_hex))
    }
}

/// Parse a CRL as served: DER, or PEM (`-----BEGIN X509 CRL-----`).
pub fn parse_crl(body: &[u8]) -> Result<CrlFacts, String> {
    let trimmed = body.trim_ascii_start();
    let der: Vec<u8> = if trimmed.starts_with(b"-----BEGIN") {
        let (_, pem) =
            x509_parser::pem::parse_x509_pem(trimmed).map_err(|e| format!("bad PEM: {e}"))?;
        pem.contents
    } else {
        body.to_vec()
    };
    let (_, crl) =
        CertificateRevocationList::from_der(&der).map_err(|e| format!("not a CRL: {e}"))?;
    let next = crl.next_update();
    Ok(CrlFacts {
        issuer: dn_string(crl.issuer()),
        this_update: rfc3339(crl.last_update()),
        next_update: next.map(rfc3339),
        expired: next.map(|n| n.timestamp() < chrono::Utc::now().timestamp()),
        revoked: crl
            .iter_revoked_certificates()
            .map(|r| serial_key(r.raw_serial()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_serials() {
        assert_eq!(hex_upper(&[0x00, 0xab, 0x1f]), "00AB1F");
        assert_eq!(serial_key(&[0, 0, 0x80, 1]), vec![0x80, 1]);
        assert_eq!(serial_key(&[0]), vec![0]);
        assert!(serial_key(&[]).is_empty());
    }

    #[test]
    fn garbage_is_not_a_panic() {
        let i = cert_info(b"not a certificate");
        assert!(i.subject.starts_with("(unparsable certificate"));
        assert_eq!(i.sha256.len(), 64);
        assert!(parse_crl(b"nope").is_err());
        assert!(parse_crl(b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n").is_err());
        assert_eq!(count_scts_raw(&[0x04, 0x02, 0x00]), 0);
    }

    #[test]
    fn raw_sct_count() {
        // Two entries of 3 and 1 bytes inside an OCTET STRING.
        let list = [0x00, 0x08, 0x00, 0x03, 1, 2, 3, 0x00, 0x01, 9];
        let mut v = vec![0x04, u8::try_from(list.len()).unwrap()];
        v.extend_from_slice(&list);
        assert_eq!(count_scts_raw(&v), 2);
    }
}
