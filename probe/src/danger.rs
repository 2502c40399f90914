//! The TLS verifier: records the chain the server presents, then asks the
//! standard WebPKI verifier and returns its verdict unchanged. The "danger"
//! is only in the name rustls gives custom verifiers: nothing is accepted
//! that the standard verifier rejects, so an untrusted handshake still fails.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::{Arc, Mutex};

/// What the server presented and what the standard verifier said about it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Leaf first, as sent.
    pub chain: Vec<CertificateDer<'static>>,
    pub verdict: Result<(), Error>,
}

#[derive(Debug)]
pub struct RecordingVerifier {
    /// `None` when there is no trust anchor at all (empty OS store, no `--ca-file`).
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    record: Arc<Mutex<Option<Recorded>>>,
}

impl RecordingVerifier {
    pub fn new(inner: Option<Arc<WebPkiServerVerifier>>, provider: Arc<CryptoProvider>) -> Self {
        RecordingVerifier {
            inner,
            provider,
            record: Arc::new(Mutex::new(None)),
        }
    }

    /// Shared handle to read the record after the handshake (successful or not).
    pub fn record(&self) -> Arc<Mutex<Option<Recorded>>> {
        Arc::clone(&self.record)
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        };
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        let rec = Recorded {
            chain,
            verdict: verdict.as_ref().map(|_| ()).map_err(Clone::clone),
        };
        // A poisoned lock only means another thread panicked mid-write; the data is still ours.
        *self
            .record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(rec);
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Short, stable name of a verifier verdict (`UnknownIssuer`, `Expired`,
/// `NotValidForName`, …): what the checks match on.
pub fn verdict_name(e: &Error) -> String {
    use CertificateError as C;
    match e {
        Error::InvalidCertificate(ce) => match ce {
            C::BadEncoding => "BadEncoding".into(),
            C::Expired | C::ExpiredContext { .. } => "Expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "NotValidYet".into(),
            C::Revoked => "Revoked".into(),
            C::UnhandledCriticalExtension => "UnhandledCriticalExtension".into(),
            C::UnknownIssuer => "UnknownIssuer".into(),
            C::UnknownRevocationStatus => "UnknownRevocationStatus".into(),
            C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
                "ExpiredRevocationList".into()
            }
            C::BadSignature => "BadSignature".into(),
            C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                "UnsupportedSignatureAlgorithm".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => "NotValidForName".into(),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => "InvalidPurpose".into(),
            C::InvalidOcspResponse => "InvalidOcspResponse".into(),
            C::ApplicationVerificationFailure => "ApplicationVerificationFailure".into(),
            other => {
                let d = format!("{other:?}");
                d.split(['(', ' ', '{'])
                    .next()
                    .unwrap_or("Other")
                    .to_owned()
            }
        },
        other => other.to_string(),
    }
}
