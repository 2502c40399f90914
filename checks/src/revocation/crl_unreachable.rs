use crate::check::{Check, CheckMeta, Context, Fix, Outcome, ProbeFinding, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Evidence, Finding, Severity, Step};
use crate::id::CheckId;
use crate::network::needs_probe;
use crate::probe;
use crate::tls::chain::{self, Verdict};
use eems_parsers::probe_results::{ChainRole, CrlFetch};
use eems_xmldsig::crl::CrlVerdict;

pub struct CrlUnreachable;

static META: CheckMeta = CheckMeta {
    id: CheckId::CrlUnreachable,
    area: "revocation",
    title: "The CRL distribution points of the OCS and signing chains can be fetched",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 110,
    stage: None,
    explains: &[CheckId::TlsValidationFailed],
    fix: Fix::Line(fix_line),
    needs_probes: true,
};

/// What is wrong with one CRL fetch, if anything (revocation aside).
fn problem(c: &CrlFetch) -> Option<String> {
    let f = &c.fetch;
    if f.timed_out {
        return Some(format!("timed out after {} ms", f.duration_ms));
    }
    match f.status {
        Some(s) if !(200..300).contains(&s) => return Some(format!("HTTP {s}")),
        None if !f.ok => {
            return Some(f.error.clone().unwrap_or_else(|| "no answer".into()));
        }
        _ => {}
    }
    if !f.ok {
        return Some(f.error.clone().unwrap_or_else(|| "failed".into()));
    }
    // A body that is not its issuer's signed CRL (a portal's page, a proxy's
    // error text, another CA's list) is no CRL obtained, whatever it says.
    if let Some(v) = c.signature.as_ref().filter(|v| **v != CrlVerdict::Verified) {
        return Some(format!("the downloaded CRL did not verify: {}", v.words()));
    }
    if let Some(e) = &c.parse_error {
        return Some(format!("not a readable CRL ({e})"));
    }
    if c.expired == Some(true) {
        return Some(format!(
            "the CRL is expired (nextUpdate {})",
            c.next_update.as_deref().unwrap_or("?")
        ));
    }
    if c.issuer_matches == Some(false) {
        return Some(format!(
            "the CRL is issued by `{}`, not by the certificate's issuer",
            c.crl_issuer.as_deref().unwrap_or("?")
        ));
    }
    None
}

fn role(c: &CrlFetch) -> &'static str {
    match c.chain {
        ChainRole::Tls => "TLS chain",
        ChainRole::Signing => "signing chain",
    }
}

fn revoked(ev: &ServerEvidence, crls: &[CrlFetch]) -> Option<Finding> {
    let hits: Vec<&CrlFetch> = crls.iter().filter(|c| c.revoked == Some(true)).collect();
    let first = hits.first()?;
    Some(
        Finding::new(
            META.id,
            Severity::Critical,
            Confidence::High,
            format!(
                "REVOKED: `{}` ({}) is on its issuer's CRL",
                first.for_subject,
                role(first)
            ),
        )
        .detail(format!(
            "The CRL downloaded from {} lists this certificate's serial number: Windows rejects the chain whatever else is fixed. A revoked Microsoft certificate is a service-side event (Microsoft replaces it); a revoked certificate that is not Microsoft's means something in the path serves an outdated or forged certificate (see tls-interception).",
            first.fetch.url
        ))
        .evidence(hits.iter().map(|c| {
            Evidence::new(
                probe::source(ev),
                None,
                &format!(
                    "{} lists {} ({}) as revoked; thisUpdate {}",
                    c.fetch.url,
                    c.for_subject,
                    role(c),
                    c.this_update.as_deref().unwrap_or("?")
                ),
            )
        }))
        .step(Step::text("Do not work around it by disabling revocation checking: find out who serves the revoked certificate (the probe's chain details name it).")),
    )
}

/// The report header: the CRL hosts to allow, on the WinHTTP proxy when the
/// downloads went through one.
fn fix_line(l: &ProbeFinding<'_>) -> (String, String) {
    let bad: Vec<_> = l
        .probe
        .crls
        .iter()
        .filter(|c| !c.fetch.ok || c.fetch.timed_out)
        .collect();
    let mut hosts: Vec<&str> = Vec::new();
    for c in &bad {
        let h = eems_parsers::uri::host(&c.fetch.url);
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    let via = bad.iter().find_map(|c| c.fetch.via_proxy.clone());
    let fix = match (&via, hosts.is_empty()) {
        (_, true) => "see crl-unreachable".to_owned(),
        (Some(px), false) => format!(
            "allow HTTP/80 to {} on the WinHTTP proxy {px}",
            hosts.join(", ")
        ),
        (None, false) => format!(
            "allow HTTP/80 to {} or set the WinHTTP proxy (netsh winhttp set proxy)",
            hosts.join(", ")
        ),
    };
    (l.finding.title.clone(), fix)
}

impl Check for CrlUnreachable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some(r) = &ev.probes else {
            return needs_probe("CRL downloads through the WinHTTP proxy");
        };
        // The CRLs of a re-signed chain are the inspection product's, not
        // Microsoft's: tls-interception speaks for that chain.
        let intercepted = chain::from_evidence(ev, ctx, "")
            .is_ok_and(|(_, a)| matches!(a.verdict, Verdict::Interception { .. }));
        let crls: Vec<CrlFetch> = r
            .crls
            .iter()
            .filter(|c| !(intercepted && c.chain == ChainRole::Tls))
            .cloned()
            .collect();
        let mut findings: Vec<Finding> = revoked(ev, &crls).into_iter().collect();
        let bad: Vec<(&CrlFetch, String)> = crls
            .iter()
            .filter_map(|c| problem(c).map(|p| (c, p)))
            .collect();
        if !bad.is_empty() {
            let mut hosts: Vec<&str> = Vec::new();
            for (c, _) in &bad {
                let h = eems_parsers::uri::host(&c.fetch.url);
                if !hosts.contains(&h) {
                    hosts.push(h);
                }
            }
            let via = bad.iter().find_map(|(c, _)| c.fetch.via_proxy.clone());
            let all_timed_out = bad.iter().all(|(c, _)| c.fetch.timed_out);
            let first = &bad[0];
            let title = format!(
                "The CRLs of the {} cannot be fetched from {}: {}{}",
                role(first.0),
                hosts.join(", "),
                first.1,
                match &via {
                    Some(p) => format!(" via the WinHTTP proxy {p}"),
                    None => " (direct)".to_owned(),
                }
            );
            let unverified = bad.iter().all(|(c, _)| {
                c.signature
                    .as_ref()
                    .is_some_and(|v| *v != CrlVerdict::Verified)
            });
            let why = match (&via, all_timed_out) {
                _ if unverified => "An answer came, but not the issuer's signed CRL: something on the path (a captive portal, a proxy's error or block page served with 200, a cache holding another file) answers in the CRL server's place, and Windows cannot use what it gets.".to_owned(),
                (Some(p), _) => format!(
                    "The downloads went through the WinHTTP proxy {p}, as Windows sends them. A proxy that allows the CONNECT to officeclient.microsoft.com:443 but denies plain HTTP GETs (an allowlist with only the OCS host, or port 80 not allowed) produces exactly this."
                ),
                (None, true) => "The downloads went direct (no WinHTTP proxy) and nothing answered: outbound HTTP/80 is dropped by a firewall. Windows sends CRL requests through WinHTTP, not through Exchange's InternetWebProxy.".to_owned(),
                (None, false) => "The downloads went direct (no WinHTTP proxy) and failed. Windows sends CRL requests through WinHTTP, not through Exchange's InternetWebProxy.".to_owned(),
            };
            let mut f = finding(&META, Confidence::High, title)
                .detail(format!(
                    "The service checks revocation of the OCS TLS chain and of the mitigation XML's signing chain; when the CRLs cannot be downloaded, validation fails (CRYPT_E_REVOCATION_OFFLINE 0x80092013) and every hourly fetch is rejected. {why} Failed: {}.",
                    bad.iter()
                        .map(|(c, p)| format!("{} ({}, {p})", c.fetch.url, role(c)))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .evidence(bad.iter().map(|(c, _)| {
                    Evidence::new(probe::source(ev), None, &probe::fetch_line(&c.fetch))
                }));
            f = f.evidence(ev.cause_evidence(Cause::TlsTrust));
            let allow = format!(
                "{}Allow HTTP (TCP 80) GETs to exactly these hosts: {}{}.",
                if unverified {
                    "Find what answers in the CRL server's place (open the URL from the Exchange server and look at what comes back), then let the real CRL through: "
                } else {
                    ""
                },
                hosts.join(", "),
                match &via {
                    Some(p) => format!(
                        " on the WinHTTP proxy {p} (without authentication, for the Exchange server)"
                    ),
                    None => " from the Exchange server".to_owned(),
                }
            );
            f = f.step(Step::text(allow));
            f = match &via {
                Some(_) => f.step(Step::cmd(
                    "Check which proxy WinHTTP (and so CryptoAPI) uses; it is not Exchange's InternetWebProxy:",
                    "netsh winhttp show proxy",
                )),
                None => f.step(Step::cmd(
                    "Or send them through the proxy: set the WinHTTP proxy (CryptoAPI uses WinHTTP, not the Exchange proxy):",
                    match ev.exchange_proxy.as_ref().and_then(|p| p.value.as_deref()).and_then(|p| crate::proxy::authority(p, crate::proxy::OCS_SCHEME)) {
                        Some((h, port)) => format!("netsh winhttp set proxy {h}:{port} \"<local>\""),
                        None => "netsh winhttp set proxy <proxy-host>:<port> \"<local>\"".to_owned(),
                    },
                )),
            };
            findings.push(f.step(Step::text(
                "Never disable revocation checking to work around it.",
            )));
        }
        if !findings.is_empty() {
            return Outcome::Fail(findings);
        }
        if intercepted {
            return Outcome::Pass;
        }
        if r.crls.is_empty() {
            let chains_have_cdps = r
                .tls
                .iter()
                .flat_map(|t| &t.chain)
                .chain(r.ocs.iter().flat_map(|o| &o.signing_chain))
                .any(|c| !c.crl_urls.is_empty());
            return if chains_have_cdps {
                Outcome::Skip("the probe fetched none of the chains' CRLs".into())
            } else if r.tls.as_ref().is_some_and(|t| !t.chain.is_empty()) {
                Outcome::Pass
            } else {
                Outcome::Skip(match probe::first_path_failure(r) {
                    Some(s) => format!(
                        "the probe got no chain to read CRL URLs from: {}",
                        probe::step_line(s)
                    ),
                    None => "the probe results carry no CRL fetches".into(),
                })
            };
        }
        Outcome::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        CrlUnreachable.run(ev, &Context::embedded(&b))
    }

    const SIGN_CRL: &str =
        "http://crl.microsoft.com/pki/crl/products/MicRooCerAut2011_2011_03_22.crl";

    #[test]
    fn crl_403_through_the_winhttp_proxy_names_hosts_and_proxy() {
        let mut r = healthy();
        r.winhttp_proxy = Some("127.0.0.1:3128".into());
        r.crls = vec![
            crl(
                "http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004.crl",
                ChainRole::Tls,
                Some("127.0.0.1:3128"),
                Some(403),
            ),
            crl(
                SIGN_CRL,
                ChainRole::Signing,
                Some("127.0.0.1:3128"),
                Some(403),
            ),
            crl(
                "http://crl3.digicert.com/DigiCertGlobalRootG2.crl",
                ChainRole::Tls,
                Some("127.0.0.1:3128"),
                Some(200),
            ),
        ];
        let f = failed(&CrlUnreachable, r);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "The CRLs of the TLS chain cannot be fetched from www.microsoft.com, crl.microsoft.com: HTTP 403 via the WinHTTP proxy 127.0.0.1:3128"
        );
        assert!(f[0].remediation[0].text.contains("exactly these hosts: www.microsoft.com, crl.microsoft.com on the WinHTTP proxy 127.0.0.1:3128"));
        assert_eq!(
            f[0].remediation[1].command.as_deref(),
            Some("netsh winhttp show proxy")
        );
        assert_eq!(
            f[0].remediation.last().unwrap().text,
            "Never disable revocation checking to work around it."
        );
        assert_eq!(f[0].evidence.len(), 2);
    }

    #[test]
    fn crl_timeout_direct_suggests_winhttp_proxy() {
        let mut r = healthy();
        let mut c = crl(SIGN_CRL, ChainRole::Signing, None, None);
        c.fetch.timed_out = true;
        c.fetch.duration_ms = 10_000;
        r.crls = vec![c];
        let f = failed(&CrlUnreachable, r);
        assert_eq!(
            f[0].title,
            "The CRLs of the signing chain cannot be fetched from crl.microsoft.com: timed out after 10000 ms (direct)"
        );
        assert!(f[0].detail.contains("firewall"));
        assert!(
            f[0].remediation[1]
                .command
                .as_deref()
                .unwrap()
                .starts_with("netsh winhttp set proxy")
        );
    }

    #[test]
    fn crls_of_an_intercepted_chain_are_not_microsofts() {
        let mut r = healthy();
        if let Some(t) = r.tls.as_mut() {
            t.chain = crate::tls::chain::fixtures::zscaler_chain();
            t.trusted = false;
        }
        r.crls = vec![crl(
            "http://gateway.zscalerthree.net/crl/zs3-kek--4-1.crl",
            ChainRole::Tls,
            Some("127.0.0.1:3128"),
            Some(403),
        )];
        assert_eq!(
            run(&ServerEvidence {
                probes: Some(r.clone()),
                ..ServerEvidence::default()
            }),
            Outcome::Pass
        );
        r.crls.push(crl(
            SIGN_CRL,
            ChainRole::Signing,
            Some("127.0.0.1:3128"),
            Some(403),
        ));
        let f = failed(&CrlUnreachable, r);
        assert!(
            f[0].title.contains("signing chain") && !f[0].title.contains("zscaler"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn revoked_leaf_is_its_own_louder_finding() {
        let mut r = healthy();
        r.crls[0].revoked = Some(true);
        let f = failed(&CrlUnreachable, r);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].title
                .starts_with("REVOKED: `CN=officeclient.microsoft.com`"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn expired_or_unparsable_crl_and_healthy() {
        let ev = ServerEvidence {
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        let mut r = healthy();
        r.crls[0].expired = Some(true);
        let f = failed(&CrlUnreachable, r.clone());
        assert!(f[0].title.contains("the CRL is expired"));
        r.crls[0].expired = Some(false);
        r.crls[0].parse_error = Some("bad DER".into());
        let f = failed(&CrlUnreachable, r);
        assert!(f[0].title.contains("not a readable CRL"));
        assert!(
            matches!(run(&ServerEvidence::default()), Outcome::Skip(s) if s.contains("eems-doctor probe"))
        );
    }

    #[test]
    fn a_crl_that_does_not_verify_is_not_obtained() {
        let mut r = healthy();
        r.crls[0].signature = Some(CrlVerdict::SignatureMismatch);
        let f = failed(&CrlUnreachable, r.clone());
        assert!(
            f[0].title
                .contains("the downloaded CRL did not verify: the signature does not verify with the issuer's key"),
            "{}",
            f[0].title
        );
        assert!(f[0].detail.contains("captive portal"), "{}", f[0].detail);
        assert!(f[0].remediation[0].text.starts_with("Find what answers"));
        // A portal page served as .crl: the verdict wins over the parse error.
        r.crls[0].parse_error = Some("not a CRL: Parsing Error".into());
        r.crls[0].signature = Some(CrlVerdict::NotACrl("<html><head><title>Login".into()));
        let f = failed(&CrlUnreachable, r.clone());
        assert!(
            f[0].title
                .contains("did not verify: not a CRL (starts `<html><head><title>Login`)"),
            "{}",
            f[0].title
        );
        r.crls[0].parse_error = None;
        r.crls[0].signature = Some(CrlVerdict::OtherIssuer("CN=Contoso CA".into()));
        let f = failed(&CrlUnreachable, r.clone());
        assert!(
            f[0].title
                .contains("a CRL of another issuer (`CN=Contoso CA`)"),
            "{}",
            f[0].title
        );
        // Not checked (issuer not captured, or an older saved probe): judged as before.
        r.crls[0].signature = None;
        assert_eq!(
            run(&ServerEvidence {
                probes: Some(r),
                ..ServerEvidence::default()
            }),
            Outcome::Pass
        );
    }

    #[test]
    fn older_saved_probes_without_a_verdict_still_read() {
        let mut c = crl(SIGN_CRL, ChainRole::Signing, None, Some(200));
        c.signature = None;
        let mut j = serde_json::to_value(&c).unwrap();
        assert!(j.get("signature").is_none());
        let back: CrlFetch = serde_json::from_value(j.clone()).unwrap();
        assert_eq!(back, c);
        j["signature"] = serde_json::json!({"verdict": "not-a-crl", "detail": "<html>"});
        let back: CrlFetch = serde_json::from_value(j).unwrap();
        assert_eq!(back.signature, Some(CrlVerdict::NotACrl("<html>".into())));
        assert!(
            matches!(run(&ServerEvidence::default()), Outcome::Skip(s) if s.contains("eems-doctor probe"))
        );
    }
}
