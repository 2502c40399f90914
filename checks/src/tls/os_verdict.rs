//! The probe's two verdicts on the same OCS chain: the bundled WebPKI
//! verifier's and, on Windows, the OS chain engine's (CryptoAPI with
//! whole-chain revocation, as the mitigation service's .NET client asks it). They differ when Windows
//! knows something WebPKI does not: revocation (CRL/OCSP reachability),
//! the Disallowed store, root policies, or roots Windows fetches on demand.

use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::probe;
use eems_parsers::probe_results::{ChainRole, OsStatus, OsVerdict, StepKind};

pub struct TlsOsVerdictDiffers;

static META: CheckMeta = CheckMeta {
    id: CheckId::TlsOsVerdictDiffers,
    area: "tls",
    title: "Windows and WebPKI agree on the OCS chain",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 130,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: true,
};

/// Whether the OS verdict is about revocation (CRL/OCSP), not trust
/// (`REVOCATION` also covers `CRYPT_E_NO_REVOCATION_CHECK`).
pub fn is_revocation_error(error: &str) -> bool {
    let e = error.to_ascii_uppercase();
    e.contains("REVOCATION") || e.contains("REVOKED")
}

fn os_line(v: &OsVerdict) -> String {
    let mut line = format!("OS chain engine ({}): {}", v.engine, v.summary());
    if !v.trust_status.is_empty() {
        line.push_str(&format!("; chain status {}", v.trust_status.join(", ")));
    }
    line
}

impl Check for TlsOsVerdictDiffers {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(r) = ev.probes.as_ref() else {
            return crate::network::needs_probe("the Windows chain engine's verdict");
        };
        let Some(tls) = r.tls.as_ref().filter(|t| !t.chain.is_empty()) else {
            return Outcome::Skip("the probe captured no OCS certificate chain".into());
        };
        let Some(os) = tls.os_verdict.as_ref() else {
            return Outcome::Skip(
                "the probe did not run on Windows: no Windows chain engine verdict to compare (run `eems-doctor.exe probe` on the server)".into(),
            );
        };
        if os.status == OsStatus::Unavailable {
            return Outcome::Skip(format!(
                "the Windows chain engine gave no verdict: {}",
                os.error.as_deref().unwrap_or("no reason given")
            ));
        }
        let os_trusted = os.status == OsStatus::Trusted;
        if os_trusted == tls.trusted {
            return Outcome::Pass;
        }
        let webpki = match (&tls.validation_error, tls.trusted) {
            (_, true) => "WebPKI verifier: trusted".to_owned(),
            (Some(e), false) => format!("WebPKI verifier: not trusted: {e}"),
            (None, false) => "WebPKI verifier: not trusted".to_owned(),
        };
        let src = probe::source(ev);
        let mut evidence = vec![
            crate::finding::Evidence::new(src.clone(), None, &os_line(os)),
            crate::finding::Evidence::new(src, None, &webpki),
        ];
        if let Some(s) = r.steps_of(StepKind::Tls).next() {
            evidence.push(probe::step_evidence(ev, s));
        }
        evidence.extend(
            tls.chain
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, c)| probe::cert_evidence(ev, ChainRole::Tls, i, c)),
        );
        let os_error = os.error.clone().unwrap_or_default();
        let f = if !os_trusted && is_revocation_error(&os_error) {
            // The hosts Windows asks: the chain's CRL and OCSP URLs.
            let mut hosts: Vec<&str> = tls
                .chain
                .iter()
                .flat_map(|c| c.crl_urls.iter().chain(c.ocsp_urls.iter()))
                .map(|u| eems_parsers::uri::host(u))
                .filter(|h| !h.is_empty())
                .collect();
            hosts.sort_unstable();
            hosts.dedup();
            let hosts = if hosts.is_empty() {
                "the CRL/OCSP hosts named in the chain's certificates".to_owned()
            } else {
                hosts.join(", ")
            };
            // When the probe's own CRL downloads failed, crl-unreachable names
            // the cause; this is Windows confirming it, not a second cause.
            let tls_crls: Vec<_> = r
                .crls
                .iter()
                .filter(|c| c.chain == ChainRole::Tls)
                .collect();
            let fetches_failed = tls_crls.iter().any(|c| !c.fetch.ok);
            let f = if fetches_failed {
                finding(
                    &META,
                    Confidence::High,
                    "Windows confirms it: the OCS chain fails on revocation (see crl-unreachable)",
                )
                .severity(Severity::Info)
            } else {
                finding(
                    &META,
                    Confidence::High,
                    "Windows rejects the OCS chain on revocation: its CRL/OCSP endpoints cannot be checked",
                )
            };
            f.detail(format!(
                "The chain is valid by WebPKI, but the Windows chain engine, which the mitigation service uses, fails it on revocation ({os_error}). The service's request to OCS fails the same way and event 1008 follows. Windows checks revocation over HTTP/80 to {hosts}, through the WinHTTP proxy (not Exchange's InternetWebProxy).{}",
                if fetches_failed {
                    " The probe's own CRL downloads failed too: crl-unreachable has them."
                } else if tls_crls.is_empty() {
                    ""
                } else {
                    " The probe's own CRL downloads worked, so look at what differs for Windows: the OCSP endpoints, the WinHTTP proxy or its authentication, or a firewall rule for the User-Agent Microsoft-CryptoAPI."
                }
            ))
            .evidence(evidence)
            .step(Step::text(format!("Allow HTTP/80 from the server (through the WinHTTP proxy, if one is set) to {hosts}.")))
            .step(Step::cmd("See the failing revocation fetches as Windows does them:", "certutil -verify -urlfetch <leaf.cer>"))
            .step(Step::cmd("Check the proxy Windows' chain engine uses:", "netsh winhttp show proxy"))
        } else if !os_trusted {
            finding(
                &META,
                Confidence::High,
                "Windows rejects the OCS chain that WebPKI trusts",
            )
            .detail(format!(
                "The Windows chain engine, which the mitigation service uses, does not trust the chain ({os_error}), while the bundled WebPKI verifier, with the roots exported from the same machine, does. Windows applies what WebPKI does not see: certificates in the Disallowed store, root program policies (AuthRoot, ChainEngine), and stricter usage rules."
            ))
            .evidence(evidence)
            .step(Step::cmd("Compare with Windows' own verdict and reasons:", "certutil -verify -urlfetch <leaf.cer>"))
            .step(Step::cmd("Look for the chain's certificates among the distrusted ones:", "certutil -store Disallowed"))
            .step(Step::text("Check group policy for certificate path validation (Computer Configuration > Windows Settings > Security Settings > Public Key Policies)."))
        } else {
            finding(
                &META,
                Confidence::Medium,
                "Windows trusts the OCS chain that WebPKI rejects",
            )
            .severity(Severity::Info)
            .detail(format!(
                "The Windows chain engine, which the mitigation service uses, trusts the chain, while the bundled WebPKI verifier does not ({}). Windows can complete a chain WebPKI cannot: it downloads missing intermediates (AIA) and roots from Windows Update on demand. The service's trust decision is Windows': the WebPKI verdict alone would blame the chain wrongly.",
                tls.validation_error.clone().unwrap_or_default()
            ))
            .evidence(evidence)
            .step(Step::text("Rely on the Windows verdict for the service; if other checks blame the chain (tls-chain-untrusted), read them with this in mind."))
        };
        Outcome::fail(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;
    use eems_parsers::probe_results::TlsResult;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        TlsOsVerdictDiffers.run(ev, &Context::embedded(&b))
    }

    fn with_tls(webpki_trusted: bool, os: Option<(bool, &str)>) -> ServerEvidence {
        let mut r = healthy();
        r.tls = Some(TlsResult {
            chain: crate::tls::chain::fixtures::zscaler_chain(),
            trusted: webpki_trusted,
            validation_error: (!webpki_trusted).then(|| "UnknownIssuer".to_owned()),
            os_verdict: os.map(|(trusted, e)| OsVerdict {
                engine: "windows-cryptoapi".into(),
                status: if trusted {
                    OsStatus::Trusted
                } else {
                    OsStatus::Rejected
                },
                error: (!e.is_empty()).then(|| e.to_owned()),
                trust_status: Vec::new(),
            }),
            ..TlsResult::default()
        });
        ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }
    }

    #[test]
    fn agreement_passes_and_no_os_verdict_skips() {
        assert_eq!(run(&with_tls(true, Some((true, "")))), Outcome::Pass);
        assert_eq!(
            run(&with_tls(false, Some((false, "UnknownIssuer")))),
            Outcome::Pass
        );
        let Outcome::Skip(why) = run(&with_tls(true, None)) else {
            panic!()
        };
        assert!(why.contains("Windows"), "{why}");
        assert!(matches!(run(&ServerEvidence::default()), Outcome::Skip(_)));
    }

    #[test]
    fn revocation_failure_names_the_crl_path() {
        let ev = with_tls(
            true,
            Some((
                false,
                "CERT_E_REVOCATION_FAILURE: The revocation function was unable to check revocation for the certificate. (os error -2146762482)",
            )),
        );
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert!(f[0].title.contains("revocation"), "{}", f[0].title);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].detail.contains("CERT_E_REVOCATION_FAILURE"));
        assert!(f[0].detail.contains("downloads worked"), "{}", f[0].detail);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.excerpt == "WebPKI verifier: trusted")
        );
    }

    #[test]
    fn failed_crl_downloads_make_it_a_confirmation() {
        let mut ev = with_tls(
            true,
            Some((false, "CRYPT_E_REVOCATION_OFFLINE (0x80092013)")),
        );
        let r = ev.probes.as_mut().unwrap();
        r.crls.push(crl(
            "http://crl3.digicert.com/DigiCertGlobalRootG2.crl",
            ChainRole::Tls,
            None,
            Some(403),
        ));
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].title.contains("see crl-unreachable"), "{}", f[0].title);
    }

    #[test]
    fn untrusted_by_windows_only_and_trusted_by_windows_only() {
        let Outcome::Fail(f) = run(&with_tls(true, Some((false, "UnknownIssuer")))) else {
            panic!()
        };
        assert_eq!(
            f[0].title,
            "Windows rejects the OCS chain that WebPKI trusts"
        );
        let Outcome::Fail(f) = run(&with_tls(false, Some((true, "")))) else {
            panic!()
        };
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].detail.contains("UnknownIssuer"));
    }

    #[test]
    fn no_verdict_skips() {
        let mut ev = with_tls(true, Some((false, "")));
        let tls = ev.probes.as_mut().and_then(|r| r.tls.as_mut()).unwrap();
        tls.os_verdict = Some(OsVerdict {
            engine: "windows-cryptoapi".into(),
            status: OsStatus::Unavailable,
            error: Some("the OS verifier could not start".into()),
            trust_status: Vec::new(),
        });
        let Outcome::Skip(why) = run(&ev) else {
            panic!()
        };
        assert!(why.contains("could not start"), "{why}");
    }

    #[test]
    fn revocation_words() {
        assert!(is_revocation_error("CRYPT_E_REVOCATION_OFFLINE: x"));
        assert!(is_revocation_error("Revoked"));
        assert!(!is_revocation_error("UnknownIssuer"));
    }
}
