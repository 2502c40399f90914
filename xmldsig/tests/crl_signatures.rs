//! CRL signatures (issue 17): a CRL counts only when its issuer's key signed
//! it. Synthetic: a CA and its CRLs made with rcgen (ECDSA P-256).

use base64::Engine as _;
use eems_xmldsig::crl::{CrlVerdict, verify};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer, DnType,
    IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber, date_time_ymd,
};

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(p, KeyPair::generate().expect("key")).expect("ca")
}

fn crl(issuer: &CertifiedIssuer<'static, KeyPair>) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: date_time_ymd(2026, 1, 1),
        next_update: date_time_ymd(2030, 1, 1),
        crl_number: SerialNumber::from(7u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(issuer)
    .expect("crl")
    .der()
    .to_vec()
}

#[test]
fn a_crl_verifies_only_under_its_issuers_key() {
    let pca = ca("Microsoft Code Signing PCA 2011");
    let good = crl(&pca);
    assert_eq!(verify(&good, pca.der()), CrlVerdict::Verified);
    // PEM, as some servers send it.
    let b64 = {
        use std::fmt::Write;
        let mut s = String::from("-----BEGIN X509 CRL-----\n");
        let enc = base64::engine::general_purpose::STANDARD.encode(&good);
        for chunk in enc.as_bytes().chunks(64) {
            let _ = writeln!(s, "{}", std::str::from_utf8(chunk).expect("ascii"));
        }
        s.push_str("-----END X509 CRL-----\n");
        s
    };
    assert_eq!(verify(b64.as_bytes(), pca.der()), CrlVerdict::Verified);

    // Same name, another key: what a forged or substituted CRL looks like.
    let impostor = ca("Microsoft Code Signing PCA 2011");
    assert_eq!(
        verify(&crl(&impostor), pca.der()),
        CrlVerdict::SignatureMismatch
    );
    // One flipped byte in the signed list.
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 3] ^= 1;
    assert_eq!(verify(&flipped, pca.der()), CrlVerdict::SignatureMismatch);
    // Another CA's CRL.
    let other = ca("Contoso Issuing CA");
    assert!(matches!(
        verify(&crl(&other), pca.der()),
        CrlVerdict::OtherIssuer(n) if n.contains("Contoso")
    ));
}

#[test]
fn a_portal_page_served_as_crl_is_not_a_crl() {
    let pca = ca("Microsoft Code Signing PCA 2011");
    let page = b"<html><head><title>Guest Wi-Fi login</title></head></html>";
    assert!(matches!(
        verify(page, pca.der()),
        CrlVerdict::NotACrl(s) if s.starts_with("<html><head>")
    ));
    assert!(matches!(verify(b"", pca.der()), CrlVerdict::NotACrl(_)));
    assert!(matches!(
        verify(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            pca.der()
        ),
        CrlVerdict::NotACrl(_)
    ));
    assert_eq!(
        verify(&crl(&pca), b"not a certificate"),
        CrlVerdict::BadIssuer
    );
}
