//! A test PKI shaped like the one the mitigation service meets: a TLS chain
//! (DigiCert Global Root G2 → Microsoft Azure RSA TLS Issuing CA 04 →
//! officeclient.microsoft.com) and an XML-signing chain (Microsoft Root
//! Certificate Authority 2011 → Microsoft Code Signing PCA 2011 → Microsoft
//! Exchange XML Signing, and a Time-Stamp Service certificate beside it), with CRL distribution points and AIA on a loopback
//! HTTP server whose base URL is known when the PKI is made. The names are
//! Microsoft's, the keys are fresh ECDSA P-256 keys (ring cannot make RSA keys):
//! the certificates are real, only the trust is private (`--ca-file`).
//! [`use_rsa_keys`] switches to RSA 2048 keys made by the `openssl` command,
//! as Microsoft's chain has: Wine's CryptoAPI cannot verify ECDSA
//! certificate signatures (TRUST_E_CERT_SIGNATURE), so the Windows tests need RSA.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CrlDistributionPoint, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber, date_time_ymd,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const OCS_HOST: &str = "officeclient.microsoft.com";
pub const OCS_PATH: &str = "/getexchangemitigations";
/// Health Checker's second URL on the same host (Feature Flighting).
pub const CONFIG_PATH: &str = "/GetExchangeConfig";

// Paths on the CRL/AIA server, shaped like Microsoft's and DigiCert's.
pub const LEAF_CRL_PATH: &str = "/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004.crl";
pub const LEAF_AIA_PATH: &str =
    "/pkiops/certs/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004%20-%20xsign.crt";
pub const OCSP_PATH: &str = "/ocsp";
pub const INTERMEDIATE_CRL_PATH: &str = "/DigiCertGlobalRootG2.crl";
pub const INTERMEDIATE_AIA_PATH: &str = "/DigiCertGlobalRootG2.crt";
pub const SIGNER_CRL_PATH: &str = "/pkiops/crl/MicCodSigPCA2011_2011-07-08.crl";
pub const SIGNER_AIA_PATH: &str = "/pkiops/certs/MicCodSigPCA2011_2011-07-08.crt";
pub const PCA_CRL_PATH: &str = "/pki/crl/products/MicRooCerAut2011_2011_03_22.crl";
pub const PCA_AIA_PATH: &str = "/pki/certs/MicRooCerAut2011_2011_03_22.crt";
pub const CTL_PATH: &str = "/msdownload/update/v3/static/trustedr/en/authrootstl.cab";

/// Serial of the OCS leaf (the one the revoking CRL lists).
pub const LEAF_SERIAL: [u8; 10] = [0x33, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x01];

/// A CA: its certificate and what signs with it.
pub struct Ca {
    pub cert: CertifiedIssuer<'static, KeyPair>,
    pub params: CertificateParams,
}

impl Ca {
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }
    pub fn pem(&self) -> String {
        self.cert.pem()
    }
}

/// An end-entity certificate and its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key: KeyPair,
}

/// Which CA's CRL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlOf {
    /// Issued by the TLS intermediate; covers the OCS leaf.
    TlsIntermediate,
    /// Issued by the TLS root; covers the intermediate.
    TlsRoot,
    /// Issued by the code-signing PCA; covers the XML signer.
    SigningPca,
    /// Issued by the signing root; covers the PCA.
    SigningRoot,
}

pub struct Pki {
    /// `http://127.0.0.1:PORT`: where the CDP/AIA URLs point.
    pub base_url: String,
    pub tls_root: Ca,
    pub tls_intermediate: Ca,
    pub leaf: Leaf,
    pub signing_root: Ca,
    pub signing_pca: Ca,
    pub signer: Leaf,
    /// The timestamp countersigner: issued by the PCA, same CRL as the signer.
    pub tsa: Leaf,
    /// Temp dir with the PEM files (removed on drop).
    pub dir: tempfile::TempDir,
}

/// Time since the epoch; rcgen's dates are `date_time_ymd(1970, 1, 1) + since_epoch`
/// (a macro, so the `time` crate's type never needs naming here).
fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

macro_rules! at {
    ($since_epoch:expr) => {
        date_time_ymd(1970, 1, 1) + $since_epoch
    };
}

impl Pki {
    /// Make the whole PKI with CDP/AIA URLs under `base_url` (`http://127.0.0.1:PORT`).
    pub fn new(base_url: &str) -> Pki {
        let base = base_url.trim_end_matches('/').to_owned();
        let now = now();

        let tls_root = ca(
            &[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "DigiCert Inc"),
                (DnType::OrganizationalUnitName, "www.digicert.com"),
                (DnType::CommonName, "DigiCert Global Root G2"),
            ],
            now - days(3650),
            now + days(7300),
            &[0x03, 0x3a, 0xf1, 0xe6, 0xa7, 0x11],
            None,
            None,
        );
        let tls_intermediate = ca(
            &[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Microsoft Corporation"),
                (DnType::CommonName, "Microsoft Azure RSA TLS Issuing CA 04"),
            ],
            now - days(900),
            now + days(1000),
            &[0x09, 0xf9, 0x6e, 0xc2, 0x95, 0x55],
            Some((&tls_root, format!("{base}{INTERMEDIATE_CRL_PATH}"))),
            Some(aia(None, Some(&format!("{base}{INTERMEDIATE_AIA_PATH}")))),
        );
        let leaf = {
            let mut p = match CertificateParams::new(vec![
                OCS_HOST.to_owned(),
                "*.officeclient.microsoft.com".to_owned(),
            ]) {
                Ok(p) => p,
                Err(e) => panic!("leaf params: {e}"),
            };
            p.distinguished_name = dn(&[
                (DnType::CountryName, "US"),
                (DnType::StateOrProvinceName, "WA"),
                (DnType::LocalityName, "Redmond"),
                (DnType::OrganizationName, "Microsoft Corporation"),
                (DnType::CommonName, OCS_HOST),
            ]);
            p.not_before = at!(now - days(30));
            p.not_after = at!(now + days(150));
            p.serial_number = Some(SerialNumber::from_slice(&LEAF_SERIAL));
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            p.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            p.use_authority_key_identifier_extension = true;
            // CA:false with a subject key id, as real leaves carry.
            p.is_ca = IsCa::ExplicitNoCa;
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![format!("{base}{LEAF_CRL_PATH}")],
            }];
            p.custom_extensions = vec![
                aia(
                    Some(&format!("{base}{OCSP_PATH}")),
                    Some(&format!("{base}{LEAF_AIA_PATH}")),
                ),
                // Publicly trusted leaves carry ≥ 2 SCTs; a re-signed one carries none.
                sct_list(2, now),
            ];
            issue(&p, &tls_intermediate)
        };

        let signing_root = ca(
            &[
                (DnType::CountryName, "US"),
                (DnType::StateOrProvinceName, "Washington"),
                (DnType::LocalityName, "Redmond"),
                (DnType::OrganizationName, "Microsoft Corporation"),
                (
                    DnType::CommonName,
                    "Microsoft Root Certificate Authority 2011",
                ),
            ],
            now - days(5000),
            now + days(5000),
            &[0x3f, 0x8b, 0xc8, 0xb5, 0xfc, 0x9f],
            None,
            None,
        );
        let signing_pca = ca(
            &[
                (DnType::CountryName, "US"),
                (DnType::StateOrProvinceName, "Washington"),
                (DnType::LocalityName, "Redmond"),
                (DnType::OrganizationName, "Microsoft Corporation"),
                (DnType::CommonName, "Microsoft Code Signing PCA 2011"),
            ],
            now - days(4000),
            now + days(900),
            &[0x61, 0x0e, 0x90, 0xd2, 0x00, 0x00],
            Some((&signing_root, format!("{base}{PCA_CRL_PATH}"))),
            Some(aia(None, Some(&format!("{base}{PCA_AIA_PATH}")))),
        );
        // Beside the signer, the timestamp countersigner: same PCA, same CRL
        // (one download must serve both certificates).
        let signer = signing_leaf(
            "Microsoft Exchange XML Signing",
            &[0x33, 0x00, 0x00, 0x02, 0x7a, 0x51],
            // Code Signing plus Microsoft's Exchange-signing EKU, as on the 2021 signer.
            vec![
                ExtendedKeyUsagePurpose::CodeSigning,
                ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 311, 76, 57, 1, 11]),
            ],
            &base,
            Some(aia(None, Some(&format!("{base}{SIGNER_AIA_PATH}")))),
            &signing_pca,
        );
        let tsa = signing_leaf(
            "Microsoft Time-Stamp Service",
            &[0x33, 0x00, 0x00, 0x01, 0xc4, 0x27],
            vec![ExtendedKeyUsagePurpose::TimeStamping],
            &base,
            None,
            &signing_pca,
        );

        let dir = match tempfile::Builder::new().prefix("eems-pki-").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("temp dir: {e}"),
        };
        let pki = Pki {
            base_url: base,
            tls_root,
            tls_intermediate,
            leaf,
            signing_root,
            signing_pca,
            signer,
            tsa,
            dir,
        };
        write(&pki.tls_root_pem(), &pki.tls_root.pem());
        write(&pki.signing_root_pem(), &pki.signing_root.pem());
        write(
            &pki.ca_file(),
            &format!("{}{}", pki.tls_root.pem(), pki.signing_root.pem()),
        );
        write(&pki.dir.path().join("leaf.pem"), &pki.leaf.pem);
        write(
            &pki.dir.path().join("intermediate.pem"),
            &pki.tls_intermediate.pem(),
        );
        pki
    }

    /// Both roots (TLS and XML signing) in one PEM file: the `--ca-file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("roots.pem")
    }
    pub fn tls_root_pem(&self) -> PathBuf {
        self.dir.path().join("tls-root.pem")
    }
    pub fn signing_root_pem(&self) -> PathBuf {
        self.dir.path().join("signing-root.pem")
    }

    /// What the OCS stand-in presents: leaf then intermediate (not the root, like real servers).
    pub fn server_chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.leaf.der.clone(), self.tls_intermediate.der()]
    }
    pub fn server_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf.key.serialize_der()))
    }

    /// The `<EOCS>` body the OCS answers with: PING1 plus an enveloped
    /// XMLDSig `<Signature>` made for real by the XML signer's key (ECDSA
    /// P-256 by default, RSA after [`use_rsa_keys`]), with the signing chain
    /// (signer first) in `X509Data`: eems-xmldsig verifies it as it verifies
    /// OCS's own answer.
    pub fn eocs_body(&self) -> String {
        sign_eocs(&self.eocs_template(), &self.signer.key)
    }

    /// The same answer with one byte of the signed content changed after
    /// signing (what a rewriting proxy produces): the digest fails.
    pub fn eocs_body_tampered(&self) -> String {
        self.eocs_body()
            .replacen("<Value>DoNothing</Value>", "<Value>DoNothinG</Value>", 1)
    }

    /// Signed by another key than the signer certificate's (a re-signing
    /// middlebox that kept Microsoft's certificates): the signature fails.
    pub fn eocs_body_wrong_key(&self) -> String {
        sign_eocs(&self.eocs_template(), &key())
    }

    /// Signed correctly, but by a signer whose certificate expired (as the
    /// Exchange XML signing certificate did in June 2022): same name, EKUs
    /// and issuer as the signer, valid from 400 days ago to 10 days ago.
    pub fn eocs_body_expired_signer(&self) -> String {
        let now = now();
        let expired = signing_leaf_dated(
            "Microsoft Exchange XML Signing",
            &[0x33, 0x00, 0x00, 0x01, 0x9e, 0x17],
            vec![
                ExtendedKeyUsagePurpose::CodeSigning,
                ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 311, 76, 57, 1, 11]),
            ],
            &self.base_url,
            None,
            &self.signing_pca,
            (now - days(400), now - days(10)),
        );
        sign_eocs(&self.eocs_template_for(&expired.pem), &expired.key)
    }

    fn eocs_template(&self) -> String {
        self.eocs_template_for(&self.signer.pem)
    }

    fn eocs_template_for(&self, signer_pem: &str) -> String {
        let signer_b64 = pem_base64(signer_pem);
        let pca_b64 = pem_base64(&self.signing_pca.pem());
        format!(
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
                "<EOCS version=\"1.0.4\">",
                "<Config id=\"PING1\" desc=\"EEMS Heartbeat probe. Does not modify any exchange settings.\">",
                "<ActionList><Action type=\"DoNothing\" scope=\"Server\" desc=\"Heartbeat\"><Value>DoNothing</Value></Action></ActionList>",
                "</Config>",
                "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">",
                "<SignedInfo>",
                "<CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
                "<SignatureMethod Algorithm=\"@@SIGNATURE_METHOD@@\"/>",
                "<Reference URI=\"\"><Transforms><Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/></Transforms>",
                "<DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>",
                "<DigestValue>@@DIGEST@@</DigestValue></Reference>",
                "</SignedInfo>",
                "<SignatureValue>@@SIGNATURE@@</SignatureValue>",
                "<KeyInfo><X509Data>",
                "<X509Certificate>{signer}</X509Certificate>",
                "<X509Certificate>{pca}</X509Certificate>",
                "</X509Data></KeyInfo>",
                "</Signature>",
                "</EOCS>"
            ),
            signer = signer_b64,
            pca = pca_b64
        )
    }

    /// The `<EOCS>` body as a .NET signer writes it, for the order- and
    /// format-sensitive parts of the probe: the PCA listed before the signer
    /// (order must not matter), base64 wrapped at 76 characters with `&#xD;`
    /// line breaks, and the timestamp countersigner's certificate in an
    /// `<Object>` (not part of the signing chain, but its CRL is checked).
    pub fn eocs_body_countersigned(&self) -> String {
        let wrapped = |pem: &str| {
            let b64 = pem_base64(pem);
            b64.as_bytes()
                .chunks(76)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("&#xD;\n")
        };
        format!(
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n",
                "<EOCS version=\"1.0.4\"><Config id=\"PING1\" desc=\"EEMS Heartbeat probe. Does not modify any exchange settings.\">",
                "<ActionList><Action type=\"DoNothing\" scope=\"Server\"><Value>DoNothing</Value></Action></ActionList></Config>",
                "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo/><SignatureValue>AAAA</SignatureValue>",
                "<KeyInfo><X509Data><X509Certificate>{pca}</X509Certificate><X509Certificate>{signer}</X509Certificate></X509Data></KeyInfo>",
                "<Object Id=\"ts-countersig\"><X509Data><X509Certificate>{tsa}</X509Certificate></X509Data></Object>",
                "</Signature></EOCS>"
            ),
            pca = wrapped(&self.signing_pca.pem()),
            signer = wrapped(&self.signer.pem),
            tsa = wrapped(&self.tsa.pem),
        )
    }

    fn crl_issuer(&self, of: CrlOf) -> &Ca {
        match of {
            CrlOf::TlsIntermediate => &self.tls_intermediate,
            CrlOf::TlsRoot => &self.tls_root,
            CrlOf::SigningPca => &self.signing_pca,
            CrlOf::SigningRoot => &self.signing_root,
        }
    }

    /// A current CRL (thisUpdate yesterday, nextUpdate in a week), nothing revoked.
    pub fn crl_fresh(&self, of: CrlOf) -> Vec<u8> {
        let n = now();
        crl(self.crl_issuer(of), n - days(1), n + days(7), Vec::new())
    }

    /// A CRL whose nextUpdate has passed.
    pub fn crl_expired(&self, of: CrlOf) -> Vec<u8> {
        let n = now();
        crl(self.crl_issuer(of), n - days(30), n - days(2), Vec::new())
    }

    /// A fresh CRL bearing the issuer's name but signed by another key (a
    /// substituted or forged list): its signature must not verify.
    pub fn crl_wrong_key(&self, of: CrlOf) -> Vec<u8> {
        let real = self.crl_issuer(of);
        let impostor = match CertifiedIssuer::self_signed(real.params.clone(), key()) {
            Ok(cert) => Ca {
                cert,
                params: real.params.clone(),
            },
            Err(e) => panic!("impostor CA: {e}"),
        };
        let n = now();
        crl(&impostor, n - days(1), n + days(7), Vec::new())
    }

    /// The intermediate's CRL, listing the OCS leaf as revoked (key compromise).
    pub fn crl_revoking_leaf(&self) -> Vec<u8> {
        let n = now();
        let revoked = vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&LEAF_SERIAL),
            revocation_time: at!(n - days(2)),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }];
        crl(&self.tls_intermediate, n - days(1), n + days(7), revoked)
    }

    /// CRL path served for each CA.
    pub fn crl_path(of: CrlOf) -> &'static str {
        match of {
            CrlOf::TlsIntermediate => LEAF_CRL_PATH,
            CrlOf::TlsRoot => INTERMEDIATE_CRL_PATH,
            CrlOf::SigningPca => SIGNER_CRL_PATH,
            CrlOf::SigningRoot => PCA_CRL_PATH,
        }
    }

    /// Everything a healthy CRL/AIA/CTL server serves: fresh CRLs, issuer
    /// certificates (DER, as `.crt` files are), and a CTL stand-in.
    pub fn http_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = [
            CrlOf::TlsIntermediate,
            CrlOf::TlsRoot,
            CrlOf::SigningPca,
            CrlOf::SigningRoot,
        ]
        .into_iter()
        .map(|of| (Pki::crl_path(of).to_owned(), self.crl_fresh(of)))
        .collect();
        v.push((
            LEAF_AIA_PATH.to_owned(),
            self.tls_intermediate.der().to_vec(),
        ));
        v.push((
            INTERMEDIATE_AIA_PATH.to_owned(),
            self.tls_root.der().to_vec(),
        ));
        v.push((SIGNER_AIA_PATH.to_owned(), self.signing_pca.der().to_vec()));
        v.push((PCA_AIA_PATH.to_owned(), self.signing_root.der().to_vec()));
        v.push((CTL_PATH.to_owned(), fake_cab()));
        v
    }

    /// An expected-issuer table (the checks' `tls-expected-issuers.csv` layout)
    /// listing this PKI's TLS CAs by name and key: the production table knows
    /// Microsoft's keys, and a Microsoft name on another key is interception.
    pub fn expected_issuers_csv(&self) -> String {
        let mut out = String::from("name,issued_by,serial,sha1,spki_sha256,status\n");
        for (ca, issued_by) in [
            (&self.tls_root, "DigiCert Global Root G2"),
            (&self.tls_intermediate, "DigiCert Global Root G2"),
        ] {
            let der = ca.der();
            let (sha1, spki) = thumbprints(&der);
            let cn = match x509_parser::parse_x509_certificate(&der) {
                Ok((_, c)) => c
                    .subject()
                    .iter_common_name()
                    .next()
                    .and_then(|n| n.as_str().ok())
                    .unwrap_or("")
                    .to_owned(),
                Err(e) => panic!("parse own CA: {e}"),
            };
            out.push_str(&format!("{cn},{issued_by},,{sha1},{spki},current\n"));
        }
        out
    }

    /// `expected_issuers_csv` written to the PKI's temp dir.
    pub fn expected_issuers_file(&self) -> PathBuf {
        let p = self.dir.path().join("expected-issuers.csv");
        write(&p, &self.expected_issuers_csv());
        p
    }

    pub fn ctl_url(&self) -> String {
        format!("{}{CTL_PATH}", self.base_url)
    }
}

/// A self-signed interception CA with a vendor's name, as PEM (certificate, key),
/// e.g. `CN=Zscaler Intermediate Root CA (zscalerthree.net) (t), O=Zscaler Inc.`.
pub fn vendor_ca(cn: &str, o: &str, ou: Option<&str>) -> (String, String) {
    let mut names = vec![(DnType::CountryName, "US"), (DnType::OrganizationName, o)];
    if let Some(ou) = ou {
        names.push((DnType::OrganizationalUnitName, ou));
    }
    names.push((DnType::CommonName, cn));
    let n = now();
    let c = ca(
        &names,
        n - days(10),
        n + days(3650),
        &[0x5a, 0x5c, 0x01],
        None,
        None,
    );
    (c.pem(), c.cert.key().serialize_pem())
}

fn dn(parts: &[(DnType, &str)]) -> rcgen::DistinguishedName {
    let mut d = rcgen::DistinguishedName::new();
    for (t, v) in parts {
        d.push(t.clone(), *v);
    }
    d
}

static RSA_KEYS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Every PKI made after this call uses RSA 2048 keys (from `openssl genpkey`).
pub fn use_rsa_keys() {
    RSA_KEYS.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Fill a template's `@@SIGNATURE_METHOD@@`, `@@DIGEST@@` and `@@SIGNATURE@@`:
/// the digest of the canonical document, then the signature over the
/// canonical `SignedInfo` (eems-xmldsig's canonicalisation, ring's signing).
pub fn sign_eocs(template: &str, key: &KeyPair) -> String {
    use base64::Engine as _;
    use ring::signature;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let rsa = key.algorithm() == &rcgen::PKCS_RSA_SHA256;
    let method = if rsa {
        eems_xmldsig::RSA_SHA256
    } else {
        eems_xmldsig::ECDSA_SHA256
    };
    let doc = template.replace("@@SIGNATURE_METHOD@@", method);
    let (canonical, _) = match eems_xmldsig::signing_inputs(&doc) {
        Ok(x) => x,
        Err(e) => panic!("EOCS template: {e}"),
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, &canonical);
    let doc = doc.replace("@@DIGEST@@", &b64(digest.as_ref()));
    let (_, signed_info) = match eems_xmldsig::signing_inputs(&doc) {
        Ok(x) => x,
        Err(e) => panic!("EOCS template: {e}"),
    };
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = key.serialize_der();
    let sig = if rsa {
        let k = match signature::RsaKeyPair::from_pkcs8(&pkcs8) {
            Ok(k) => k,
            Err(e) => panic!("RSA signer key: {e}"),
        };
        let mut out = vec![0; k.public().modulus_len()];
        if let Err(e) = k.sign(&signature::RSA_PKCS1_SHA256, &rng, &signed_info, &mut out) {
            panic!("RSA signing: {e}");
        }
        out
    } else {
        let k = match signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &pkcs8,
            &rng,
        ) {
            Ok(k) => k,
            Err(e) => panic!("ECDSA signer key: {e}"),
        };
        match k.sign(&rng, &signed_info) {
            Ok(s) => s.as_ref().to_vec(),
            Err(e) => panic!("ECDSA signing: {e}"),
        }
    };
    doc.replace("@@SIGNATURE@@", &b64(&sig))
}

fn key() -> KeyPair {
    if RSA_KEYS.load(std::sync::atomic::Ordering::SeqCst) {
        let out = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output();
        let pem = match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            Ok(o) => panic!("openssl genpkey: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => panic!("openssl genpkey: {e}"),
        };
        return match KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256) {
            Ok(k) => k,
            Err(e) => panic!("RSA key: {e}"),
        };
    }
    match KeyPair::generate() {
        Ok(k) => k,
        Err(e) => panic!("key generation: {e}"),
    }
}

fn ca(
    names: &[(DnType, &str)],
    not_before: Duration,
    not_after: Duration,
    serial: &[u8],
    issuer: Option<(&Ca, String)>,
    extra: Option<CustomExtension>,
) -> Ca {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(names);
    p.not_before = at!(not_before);
    p.not_after = at!(not_after);
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p.is_ca = IsCa::Ca(match issuer {
        Some(_) => BasicConstraints::Constrained(0),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.custom_extensions = extra.into_iter().collect();
    let k = key();
    let cert = match issuer {
        Some((parent, crl_url)) => {
            p.use_authority_key_identifier_extension = true;
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![crl_url],
            }];
            CertifiedIssuer::signed_by(p.clone(), k, &parent.cert)
        }
        None => CertifiedIssuer::self_signed(p.clone(), k),
    };
    match cert {
        Ok(cert) => Ca { cert, params: p },
        Err(e) => panic!("CA certificate: {e}"),
    }
}

/// An end-entity certificate of the XML-signing chain, issued by `pca`, its
/// CRL at the PCA's CDP under `base`.
fn signing_leaf(
    cn: &str,
    serial: &[u8],
    eku: Vec<ExtendedKeyUsagePurpose>,
    base: &str,
    extra: Option<CustomExtension>,
    pca: &Ca,
) -> Leaf {
    let now = now();
    signing_leaf_dated(
        cn,
        serial,
        eku,
        base,
        extra,
        pca,
        (now - days(60), now + days(300)),
    )
}

/// [`signing_leaf`] valid from `dates.0` to `dates.1` (since the epoch).
fn signing_leaf_dated(
    cn: &str,
    serial: &[u8],
    eku: Vec<ExtendedKeyUsagePurpose>,
    base: &str,
    extra: Option<CustomExtension>,
    pca: &Ca,
    dates: (Duration, Duration),
) -> Leaf {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&[
        (DnType::CountryName, "US"),
        (DnType::StateOrProvinceName, "Washington"),
        (DnType::LocalityName, "Redmond"),
        (DnType::OrganizationName, "Microsoft Corporation"),
        (DnType::CommonName, cn),
    ]);
    p.not_before = at!(dates.0);
    p.not_after = at!(dates.1);
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = eku;
    p.use_authority_key_identifier_extension = true;
    p.is_ca = IsCa::ExplicitNoCa;
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![format!("{base}{SIGNER_CRL_PATH}")],
    }];
    p.custom_extensions = extra.into_iter().collect();
    issue(&p, pca)
}

fn issue(p: &CertificateParams, issuer: &Ca) -> Leaf {
    let k = key();
    match p.signed_by(&k, &issuer.cert) {
        Ok(c) => Leaf {
            der: c.der().clone(),
            pem: c.pem(),
            key: k,
        },
        Err(e) => panic!("leaf certificate: {e}"),
    }
}

fn crl(
    issuer: &Ca,
    this_update: Duration,
    next_update: Duration,
    revoked_certs: Vec<RevokedCertParams>,
) -> Vec<u8> {
    let params = CertificateRevocationListParams {
        this_update: at!(this_update),
        next_update: at!(next_update),
        crl_number: SerialNumber::from(this_update.as_secs()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    match params.signed_by(&issuer.cert) {
        Ok(c) => c.der().to_vec(),
        Err(e) => panic!("CRL: {e}"),
    }
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("write {}: {e}", path.display());
    }
}

/// (SHA-1 of the certificate, SHA-256 of its SubjectPublicKeyInfo), upper-case hex.
pub fn thumbprints(der: &[u8]) -> (String, String) {
    use sha1::Digest as _;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let sha1 = hex(&sha1::Sha1::digest(der));
    let spki = match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => hex(&sha2::Sha256::digest(c.tbs_certificate.subject_pki.raw)),
        Err(e) => panic!("parse certificate: {e}"),
    };
    (sha1, spki)
}

/// The base64 body of a PEM block, on one line (what `<X509Certificate>` holds).
pub fn pem_base64(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect()
}

/// Starts like a cabinet file (`MSCF`); nobody parses it here.
fn fake_cab() -> Vec<u8> {
    let mut v = b"MSCF\0\0\0\0".to_vec();
    v.resize(512, 0);
    v
}

// --- DER by hand for the two extensions rcgen does not write. ---

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else if n < 0x100 {
        vec![0x81, n as u8]
    } else {
        vec![0x82, (n >> 8) as u8, n as u8]
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(content.len()));
    v.extend_from_slice(content);
    v
}

/// Authority Information Access: OCSP and/or caIssuers URLs.
fn aia(ocsp: Option<&str>, ca_issuers: Option<&str>) -> CustomExtension {
    // id-ad-ocsp 1.3.6.1.5.5.7.48.1, id-ad-caIssuers 1.3.6.1.5.5.7.48.2.
    const OCSP: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
    const CA_ISSUERS: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut seq = Vec::new();
    for (oid, url) in [(OCSP, ocsp), (CA_ISSUERS, ca_issuers)] {
        if let Some(url) = url {
            let mut ad = tlv(0x06, &oid);
            ad.extend(tlv(0x86, url.as_bytes()));
            seq.extend(tlv(0x30, &ad));
        }
    }
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &seq))
}

/// An embedded SCT list with `n` syntactically valid (unverifiable) SCTs.
fn sct_list(n: u8, now: Duration) -> CustomExtension {
    let mut list = Vec::new();
    for i in 0..n {
        let mut sct = vec![0u8]; // v1
        sct.extend([0xa0 + i; 32]); // log id
        sct.extend((now.as_millis() as u64).to_be_bytes());
        sct.extend([0, 0]); // no extensions
        sct.extend([4, 3]); // sha256, ecdsa
        let sig = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01];
        sct.extend((sig.len() as u16).to_be_bytes());
        sct.extend(sig);
        list.extend((sct.len() as u16).to_be_bytes());
        list.extend(sct);
    }
    let mut body = (list.len() as u16).to_be_bytes().to_vec();
    body.extend(list);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2], tlv(0x04, &body))
}
