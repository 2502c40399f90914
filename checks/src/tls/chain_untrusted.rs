use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::id::CheckId;
use crate::probe;
use crate::probe::Stage;
use crate::tls::chain::{self, Untrusted, Verdict};
use eems_parsers::probe_results::{ChainRole, StepKind};

pub struct TlsChainUntrusted;

static META: CheckMeta = CheckMeta {
    id: CheckId::TlsChainUntrusted,
    area: "tls",
    title: "The OCS chain builds to a trusted root",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 120,
    stage: Some(Stage::Tls),
    explains: &[CheckId::TlsValidationFailed],
    fix: Fix::Text(
        "install the missing certificate, or allow AIA and root updates over HTTP/80 through WinHTTP",
    ),
    needs_probes: true,
};

/// ChainEngine\Config `Options` bit that disables AIA (issuer) retrieval.
const DISABLE_AIA: u64 = 0x2;

impl Check for TlsChainUntrusted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let (tls, a) = match chain::from_evidence(ev, ctx, "TLS chain capture and trust evaluation")
        {
            Ok(x) => x,
            Err(o) => return o,
        };
        let Verdict::Untrusted { why, confidence } = &a.verdict else {
            return Outcome::Pass;
        };
        let r = ev.probes.as_ref();
        let aia_policy = ev
            .chain_engine_options
            .as_ref()
            .filter(|o| o.value & DISABLE_AIA != 0);
        let aia_fetches: Vec<String> = r
            .map(|r| r.aia.iter().map(probe::fetch_line).collect())
            .unwrap_or_default();
        let aia_note = format!(
            "{}{}",
            match aia_policy {
                Some(o) => format!(" Issuer (AIA) retrieval is disabled by policy on this server (ChainEngine Options = {:#x}), so Windows cannot download a missing certificate.", o.value),
                None => " Windows downloads a missing intermediate from the AIA URL in the certificate only when issuer (AIA) retrieval is allowed (ChainEngine policy) and the URL is reachable over HTTP/80 through the WinHTTP proxy.".to_owned(),
            },
            if aia_fetches.is_empty() {
                String::new()
            } else {
                format!(" The probe's AIA downloads: {}.", aia_fetches.join("; "))
            }
        );
        let (title, detail, steps) = match why {
            Untrusted::MissingIntermediate { issuer } => (
                format!("The OCS chain is incomplete: the intermediate `{issuer}` was not sent and is not available"),
                format!("The certificate chain for officeclient.microsoft.com does not include the intermediate CA that issued it, and the validator did not have it.{aia_note}"),
                vec![
                    Step::text(format!("Install the current intermediate `{issuer}` into LocalMachine\\CA (from https://www.microsoft.com/pkiops/certs/, see the Azure CA details page), or allow its AIA download.")),
                    Step::cmd("Install a downloaded intermediate:", "certutil -addstore CA \"<intermediate>.crt\""),
                    Step::text("Re-enable issuer (AIA) retrieval if a policy disables it (see aia-retrieval-disabled), and allow HTTP/80 to the AIA host (www.microsoft.com, cacerts.digicert.com) through the WinHTTP proxy."),
                ],
            ),
            Untrusted::UnknownRoot { root } => (
                format!("The OCS chain ends at `{root}`, which the trust store does not hold"),
                format!("The chain is Microsoft's, but its root is not trusted where the probe ran. On Windows the root arrives through automatic root updates (the CTL from ctldl.windowsupdate.com) when a chain needs it; a policy or a blocked CTL download prevents that.{aia_note} The probe judges trust with the store of the machine it runs on: run it on the Exchange server."),
                vec![
                    Step::text(format!("Deploy `{root}` to LocalMachine\\Root, or allow automatic root updates (http://ctldl.windowsupdate.com/* on TCP 80; see ctl-autoupdate-disabled and ctl-unreachable).")),
                    Step::cmd("See which roots the server trusts:", "certutil -verifystore Root"),
                ],
            ),
            Untrusted::Expired { subject, not_after } => (
                format!("`{subject}` in the OCS chain is expired (not after {not_after})"),
                "A certificate in the chain is outside its validity at the time of the probe. A wrong server clock makes valid certificates look expired; otherwise the endpoint (or something in front of it) serves an outdated certificate.".to_owned(),
                vec![
                    Step::cmd("Check the server's clock and time source:", "w32tm /query /status"),
                    Step::text("If the clock is right and the expired certificate is Microsoft's, it is a service-side incident; if it is not Microsoft's, see tls-interception."),
                ],
            ),
            Untrusted::NotValidForName => (
                "The certificate presented is not valid for officeclient.microsoft.com".to_owned(),
                "The chain is Microsoft's, but the leaf does not name the host that was asked for: DNS (or a hosts-file entry) points officeclient.microsoft.com at another Microsoft endpoint, or a proxy routes it elsewhere.".to_owned(),
                vec![Step::cmd("Check where the name resolves on the server:", "Resolve-DnsName officeclient.microsoft.com; Get-Content $env:windir\\System32\\drivers\\etc\\hosts")],
            ),
            Untrusted::Revoked => (
                "A certificate in the OCS chain is revoked".to_owned(),
                "The validator reports a revoked certificate in the chain. See crl-unreachable for the CRL facts.".to_owned(),
                vec![Step::text("Revocation of Microsoft's own certificate is a service-side event; check that no device serves an outdated certificate for the host.")],
            ),
            Untrusted::Other(e) => (
                format!("The OCS chain does not validate: {e}"),
                format!("The chain is Microsoft's, but the validator rejected it.{aia_note}"),
                vec![Step::cmd("Compare with Windows' own verdict on the server:", "certutil -verify -urlfetch <leaf.cer>")],
            ),
        };
        let mut f = finding(&META, *confidence, title)
            .detail(format!(
                "{detail} Signals: {}.{}",
                a.signals.join("; "),
                if a.matched.is_empty() {
                    String::new()
                } else {
                    format!(
                        " Matched Microsoft's documented CAs by name and key: {}.",
                        a.matched.join(", ")
                    )
                }
            ))
            .evidence(
                tls.chain
                    .iter()
                    .enumerate()
                    .map(|(i, c)| probe::cert_evidence(ev, ChainRole::Tls, i, c)),
            );
        if let Some(s) = r.and_then(|r| r.step(StepKind::Tls)) {
            f = f.evidence([probe::step_evidence(ev, s)]);
        }
        if let Some(o) = aia_policy {
            f = f.evidence([o.cite.to_evidence()]);
        }
        f = f.evidence(ev.cause_evidence(Cause::TlsTrust));
        for s in steps {
            f = f.step(s);
        }
        Outcome::fail(f.step(Step::text(
            "Never disable certificate validation or revocation checking to work around it.",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;
    use crate::tls::chain::fixtures::*;
    use eems_parsers::probe_results::{CertInfo, StepOutcome, TlsResult};

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        TlsChainUntrusted.run(ev, &Context::embedded(&b))
    }

    fn with_chain(chain: Vec<CertInfo>, err: &str) -> ServerEvidence {
        let mut r = healthy();
        r.steps[2] = step(
            StepKind::Tls,
            "officeclient.microsoft.com",
            StepOutcome::Failed,
            Some(err),
        );
        r.tls = Some(TlsResult {
            chain,
            trusted: false,
            validation_error: Some(err.into()),
            ..TlsResult::default()
        });
        r.aia = vec![fetch(
            "http://www.microsoft.com/pkiops/certs/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004%20-%20xsign.crt",
            Some("127.0.0.1:3128"),
            Some(403),
        )];
        ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }
    }

    #[test]
    fn missing_intermediate_names_it_and_mentions_aia() {
        let Outcome::Fail(f) = run(&with_chain(
            vec![ms_leaf()],
            "invalid peer certificate: UnknownIssuer",
        )) else {
            panic!()
        };
        assert_eq!(
            f[0].title,
            "The OCS chain is incomplete: the intermediate `Microsoft Azure RSA TLS Issuing CA 04` was not sent and is not available"
        );
        assert!(f[0].detail.contains("AIA"), "{}", f[0].detail);
        assert!(f[0].detail.contains("HTTP 403"), "{}", f[0].detail);
        assert!(
            f[0].remediation
                .iter()
                .any(|s| s.text.starts_with("Never disable"))
        );
    }

    #[test]
    fn interception_and_genuine_chains_pass() {
        assert_eq!(
            run(&with_chain(zscaler_chain(), "UnknownIssuer")),
            Outcome::Pass
        );
        let mut ev = with_chain(ms_chain(), "x");
        if let Some(t) = ev.probes.as_mut().and_then(|p| p.tls.as_mut()) {
            t.trusted = true;
            t.validation_error = None;
        }
        assert_eq!(run(&ev), Outcome::Pass);
    }

    #[test]
    fn unknown_root() {
        let Outcome::Fail(f) = run(&with_chain(ms_chain(), "UnknownIssuer")) else {
            panic!()
        };
        assert!(
            f[0].title.contains("`DigiCert Global Root G2`"),
            "{}",
            f[0].title
        );
    }
}
