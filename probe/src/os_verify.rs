//! The second TLS verdict: the OS chain engine's. On Windows that is
//! CryptoAPI, asked the way the mitigation service's .NET client asks it:
//! the machine's chain engine (the service runs as LocalSystem), server
//! authentication usage, revocation checked for the whole chain except the
//! root, and the SSL policy with no "ignore revocation unknown" flags, so an
//! unreachable CRL fails here as it fails there. The bundled WebPKI verifier
//! checks none of that (no revocation, no Disallowed store, no root
//! policies); when the two disagree, the difference is the evidence.
//!
//! rustls-platform-verifier was tried first: it checks revocation of the
//! leaf only and ignores offline revocation, so blocked CRL endpoints, the
//! commonest root cause here, were invisible to it (measured under Wine:
//! CRLs answering 404, verdict "trusted").
//!
//! Elsewhere there is no such engine and no second verdict.

use eems_parsers::probe_results::{OsStatus, OsVerdict};
use rustls_pki_types::CertificateDer;

/// The engine name reported in `os_verdict.engine`.
pub const ENGINE: &str = "windows-cryptoapi";

/// Whether this build has an OS verdict to give.
pub const AVAILABLE: bool = cfg!(windows);

/// Judge `chain` (leaf first, as presented) for `host` with the OS engine.
/// Blocking: Windows fetches CRLs/OCSP/AIA (through the WinHTTP proxy)
/// while it decides, each retrieval bounded by `timeout_ms`.
#[cfg(windows)]
pub fn verify(chain: &[CertificateDer<'static>], host: &str, timeout_ms: u32) -> Option<OsVerdict> {
    if chain.is_empty() {
        return None;
    }
    Some(match cryptoapi::verify(chain, host, timeout_ms) {
        Ok(r) => verdict(r.chain_errors, r.policy_error),
        Err(e) => unavailable(e),
    })
}

#[cfg(not(windows))]
pub fn verify(
    _chain: &[CertificateDer<'static>],
    _host: &str,
    _timeout_ms: u32,
) -> Option<OsVerdict> {
    None
}

/// The verdict from the chain's error bits and the SSL policy's HRESULT.
#[cfg_attr(not(windows), allow(dead_code))]
fn verdict(chain_errors: u32, policy_error: u32) -> OsVerdict {
    let flags: Vec<String> = trust_error_names(chain_errors)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let error = if policy_error != 0 {
        Some(hresult_words(policy_error))
    } else if chain_errors != 0 {
        Some(format!("chain status {}", flags.join(", ")))
    } else {
        None
    };
    OsVerdict {
        engine: ENGINE.into(),
        status: if error.is_none() {
            OsStatus::Trusted
        } else {
            OsStatus::Rejected
        },
        error,
        trust_status: flags,
    }
}

/// No verdict, and why.
pub fn unavailable(why: String) -> OsVerdict {
    OsVerdict {
        engine: ENGINE.into(),
        status: OsStatus::Unavailable,
        error: Some(why),
        trust_status: Vec::new(),
    }
}

/// `CERT_TRUST_*` error bits of a chain, by name (wincrypt.h).
const TRUST_ERRORS: [(u32, &str); 17] = [
    (0x0000_0001, "CERT_TRUST_IS_NOT_TIME_VALID"),
    (0x0000_0002, "CERT_TRUST_IS_NOT_TIME_NESTED"),
    (0x0000_0004, "CERT_TRUST_IS_REVOKED"),
    (0x0000_0008, "CERT_TRUST_IS_NOT_SIGNATURE_VALID"),
    (0x0000_0010, "CERT_TRUST_IS_NOT_VALID_FOR_USAGE"),
    (0x0000_0020, "CERT_TRUST_IS_UNTRUSTED_ROOT"),
    (0x0000_0040, "CERT_TRUST_REVOCATION_STATUS_UNKNOWN"),
    (0x0000_0080, "CERT_TRUST_IS_CYCLIC"),
    (0x0000_0100, "CERT_TRUST_INVALID_EXTENSION"),
    (0x0000_0200, "CERT_TRUST_INVALID_POLICY_CONSTRAINTS"),
    (0x0000_0400, "CERT_TRUST_INVALID_BASIC_CONSTRAINTS"),
    (0x0000_0800, "CERT_TRUST_INVALID_NAME_CONSTRAINTS"),
    (0x0001_0000, "CERT_TRUST_IS_PARTIAL_CHAIN"),
    (0x0100_0000, "CERT_TRUST_IS_OFFLINE_REVOCATION"),
    (0x0200_0000, "CERT_TRUST_NO_ISSUANCE_CHAIN_POLICY"),
    (0x0400_0000, "CERT_TRUST_IS_EXPLICIT_DISTRUST"),
    (0x0800_0000, "CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT"),
];

fn trust_error_names(bits: u32) -> Vec<&'static str> {
    let mut names: Vec<&str> = TRUST_ERRORS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    let known = TRUST_ERRORS.iter().fold(0, |acc, (b, _)| acc | b);
    if bits & !known != 0 {
        names.push("other CERT_TRUST error bits");
    }
    names
}

/// Names of the chain-policy errors that matter here (winerror.h).
const HRESULTS: [(u32, &str); 12] = [
    (0x800B_010E, "CERT_E_REVOCATION_FAILURE"),
    (0x8009_2013, "CRYPT_E_REVOCATION_OFFLINE"),
    (0x8009_2012, "CRYPT_E_NO_REVOCATION_CHECK"),
    (0x8009_2010, "CRYPT_E_REVOKED"),
    (0x800B_010C, "CERT_E_REVOKED"),
    (0x800B_010A, "CERT_E_CHAINING"),
    (0x800B_0109, "CERT_E_UNTRUSTEDROOT"),
    (0x800B_0101, "CERT_E_EXPIRED"),
    (0x800B_010F, "CERT_E_CN_NO_MATCH"),
    (0x800B_0106, "CERT_E_PURPOSE"),
    (0x800B_0110, "CERT_E_WRONG_USAGE"),
    (0x8009_6004, "TRUST_E_CERT_SIGNATURE"),
];

/// `CRYPT_E_REVOCATION_OFFLINE (0x80092013): <Windows' text>`.
#[cfg_attr(not(windows), allow(dead_code))]
fn hresult_words(code: u32) -> String {
    let name = HRESULTS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("error", |(_, n)| *n);
    let text = if cfg!(windows) {
        // Windows' own message; Wine has none for most of these codes.
        let t = std::io::Error::from_raw_os_error(code as i32).to_string();
        if t.contains("FormatMessageW() returned error") {
            String::new()
        } else {
            format!(": {t}")
        }
    } else {
        String::new()
    };
    format!("{name} (0x{code:08X}){text}")
}

/// One line for the TLS step's details.
pub fn detail(v: &OsVerdict) -> String {
    format!("Windows chain engine (CryptoAPI): {}", v.summary())
}

// The probe's only unsafe code: the CryptoAPI calls have no safe wrapper
// that asks them the way the service does (see the module comment).
#[cfg(windows)]
#[allow(unsafe_code)]
mod cryptoapi {
    //! The calls, each result checked; every handle freed on every path.
    use rustls_pki_types::CertificateDer;
    use std::ffi::c_void;
    use std::ptr::{null, null_mut};
    use windows_sys::Win32::Security::Cryptography::{
        AUTHTYPE_SERVER, CERT_CHAIN_CONTEXT, CERT_CHAIN_PARA, CERT_CHAIN_POLICY_PARA,
        CERT_CHAIN_POLICY_SSL, CERT_CHAIN_POLICY_STATUS,
        CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT, CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
        CERT_CONTEXT, CERT_STORE_ADD_ALWAYS, CERT_STORE_PROV_MEMORY,
        CertAddEncodedCertificateToStore, CertCloseStore, CertFreeCertificateChain,
        CertFreeCertificateContext, CertGetCertificateChain, CertOpenStore,
        CertVerifyCertificateChainPolicy, HCERTCHAINENGINE, HCERTSTORE, HTTPSPolicyCallbackData,
        PKCS_7_ASN_ENCODING, USAGE_MATCH_TYPE_AND, X509_ASN_ENCODING, szOID_PKIX_KP_SERVER_AUTH,
    };

    /// The machine's chain engine (wincrypt.h `HCCE_LOCAL_MACHINE`): the
    /// service runs as LocalSystem and sees the machine stores.
    const HCCE_LOCAL_MACHINE: HCERTCHAINENGINE = 1 as HCERTCHAINENGINE;

    pub struct Raw {
        pub chain_errors: u32,
        pub policy_error: u32,
    }

    struct Store(HCERTSTORE);
    impl Drop for Store {
        fn drop(&mut self) {
            // SAFETY: opened by CertOpenStore, closed once.
            unsafe { CertCloseStore(self.0, 0) };
        }
    }
    struct Cert(*mut CERT_CONTEXT);
    impl Drop for Cert {
        fn drop(&mut self) {
            // SAFETY: returned by CertAddEncodedCertificateToStore, freed once.
            unsafe { CertFreeCertificateContext(self.0) };
        }
    }
    struct Chain(*mut CERT_CHAIN_CONTEXT);
    impl Drop for Chain {
        fn drop(&mut self) {
            // SAFETY: returned by CertGetCertificateChain, freed once.
            unsafe { CertFreeCertificateChain(self.0) };
        }
    }

    fn last_error(what: &str) -> String {
        format!("{what}: {}", std::io::Error::last_os_error())
    }

    fn size<T>() -> u32 {
        u32::try_from(std::mem::size_of::<T>()).unwrap_or(u32::MAX)
    }

    pub fn verify(
        chain: &[CertificateDer<'_>],
        host: &str,
        timeout_ms: u32,
    ) -> Result<Raw, String> {
        // SAFETY: every pointer passed below is either null where the API
        // allows it, or points to memory that outlives the call (the DER
        // slices, `para`, `extra`, `name`); handles are checked before use.
        unsafe {
            let store = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, null());
            if store.is_null() {
                return Err(last_error("CertOpenStore"));
            }
            let store = Store(store);
            let mut leaf: *mut CERT_CONTEXT = null_mut();
            for (i, der) in chain.iter().enumerate() {
                let len =
                    u32::try_from(der.len()).map_err(|_| "certificate too large".to_owned())?;
                let want = if i == 0 {
                    &mut leaf as *mut _
                } else {
                    null_mut()
                };
                let ok = CertAddEncodedCertificateToStore(
                    store.0,
                    X509_ASN_ENCODING | PKCS_7_ASN_ENCODING,
                    der.as_ptr(),
                    len,
                    CERT_STORE_ADD_ALWAYS,
                    want,
                );
                if ok == 0 && i == 0 {
                    return Err(last_error("the leaf certificate"));
                }
                // An unparsable intermediate is left out, as Windows would.
            }
            if leaf.is_null() {
                return Err("the leaf certificate could not be added".into());
            }
            let leaf = Cert(leaf);

            let mut server_auth = szOID_PKIX_KP_SERVER_AUTH as *mut u8;
            let mut para: CERT_CHAIN_PARA = std::mem::zeroed();
            para.cbSize = size::<CERT_CHAIN_PARA>();
            para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
            para.RequestedUsage.Usage.cUsageIdentifier = 1;
            para.RequestedUsage.Usage.rgpszUsageIdentifier = &mut server_auth;
            para.dwUrlRetrievalTimeout = timeout_ms;
            let mut ctx: *mut CERT_CHAIN_CONTEXT = null_mut();
            let ok = CertGetCertificateChain(
                HCCE_LOCAL_MACHINE,
                leaf.0,
                null(),
                store.0,
                &para,
                CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
                    | CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT,
                null(),
                &mut ctx,
            );
            if ok == 0 || ctx.is_null() {
                return Err(last_error("CertGetCertificateChain"));
            }
            let ctx = Chain(ctx);
            let chain_errors = (*ctx.0).TrustStatus.dwErrorStatus;

            let mut name: Vec<u16> = host.encode_utf16().chain(Some(0)).collect();
            let mut extra: HTTPSPolicyCallbackData = std::mem::zeroed();
            extra.Anonymous.cbStruct = size::<HTTPSPolicyCallbackData>();
            extra.dwAuthType = AUTHTYPE_SERVER;
            extra.pwszServerName = name.as_mut_ptr();
            let mut policy: CERT_CHAIN_POLICY_PARA = std::mem::zeroed();
            policy.cbSize = size::<CERT_CHAIN_POLICY_PARA>();
            policy.pvExtraPolicyPara =
                (&mut extra as *mut HTTPSPolicyCallbackData).cast::<c_void>();
            let mut status: CERT_CHAIN_POLICY_STATUS = std::mem::zeroed();
            status.cbSize = size::<CERT_CHAIN_POLICY_STATUS>();
            let ok = CertVerifyCertificateChainPolicy(
                CERT_CHAIN_POLICY_SSL,
                ctx.0,
                &policy,
                &mut status,
            );
            if ok == 0 {
                return Err(last_error("CertVerifyCertificateChainPolicy"));
            }
            drop(leaf);
            Ok(Raw {
                chain_errors,
                policy_error: status.dwError,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_revocation_is_a_rejection_with_its_names() {
        let v = verdict(0x0100_0040, 0x8009_2013);
        assert_eq!(v.status, OsStatus::Rejected);
        let e = v.error.as_deref().unwrap_or_default();
        assert!(
            e.starts_with("CRYPT_E_REVOCATION_OFFLINE (0x80092013)"),
            "{e}"
        );
        assert_eq!(
            v.trust_status,
            [
                "CERT_TRUST_REVOCATION_STATUS_UNKNOWN",
                "CERT_TRUST_IS_OFFLINE_REVOCATION"
            ]
        );
        assert_eq!(
            detail(&v),
            format!("Windows chain engine (CryptoAPI): not trusted: {e}")
        );
    }

    #[test]
    fn clean_chain_is_trusted_and_stray_bits_still_reject() {
        let v = verdict(0, 0);
        assert_eq!(v.status, OsStatus::Trusted);
        assert_eq!(v.error, None);
        assert!(v.trust_status.is_empty());
        // The policy passed but the chain carries an error bit: not trusted.
        let v = verdict(0x20, 0);
        assert_eq!(v.status, OsStatus::Rejected);
        assert_eq!(
            v.error.as_deref(),
            Some("chain status CERT_TRUST_IS_UNTRUSTED_ROOT")
        );
        assert_eq!(
            trust_error_names(0x8000_0000),
            ["other CERT_TRUST error bits"]
        );
        assert!(hresult_words(0x1234_5678).starts_with("error (0x12345678)"));
    }

    #[test]
    fn unavailable_says_why() {
        assert_eq!(
            detail(&unavailable("timed out".into())),
            "Windows chain engine (CryptoAPI): no verdict: timed out"
        );
    }

    #[test]
    fn no_second_verdict_off_windows() {
        if !AVAILABLE {
            assert_eq!(verify(&[CertificateDer::from(vec![1u8])], "x", 1000), None);
        }
    }
}
