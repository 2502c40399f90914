use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::fetch::xml_trust::{self, Assessment, Reason, assess};
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::probe::{self, Live, StepState};
use crate::tls::chain::{parse_time, probe_time};
use crate::tls::issuers::cert_cn;
use eems_parsers::probe_results::{ChainRole, StepKind};

pub struct XmlSignatureInvalid;

static META: CheckMeta = CheckMeta {
    id: CheckId::XmlSignatureInvalid,
    area: "fetch",
    title: "The mitigation XML's signature and signer are accepted",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 210,
    stage: Some(Stage::OcsRequest),
    explains: &[],
    fix: Fix::Text("check the clock and stop anything rewriting the response"),
    needs_probes: false,
};

/// The signer Microsoft's service uses (pki-network.md §4).
pub const SIGNER_CN: &str = "Microsoft Exchange XML Signing";
const CODE_SIGNING: [&str; 2] = ["codesigning", "1.3.6.1.5.5.7.3.3"];

fn steps() -> Vec<Step> {
    vec![
        Step::text(
            "Check the server's clock and time zone (a wrong date makes a valid signing certificate look expired).",
        ),
        Step::text(
            "Make sure no proxy or content filter rewrites the response (exclude officeclient.microsoft.com from SSL inspection and content scanning).",
        ),
        Step::text(
            "Make sure the signing chain's roots are trusted and its CRLs reachable (see ctl-autoupdate-disabled, crl-unreachable). If all servers worldwide see it at once, it is a service-side incident that resolves without action.",
        ),
    ]
}

fn live(ev: &ServerEvidence) -> Live {
    let Some(r) = &ev.probes else {
        return Live::NoData;
    };
    let Some(o) = r.ocs.as_ref().filter(|o| o.eocs_xml && o.has_signature) else {
        return match probe::step_state(Some(r), StepKind::OcsRequest) {
            StepState::NotReached(why) => Live::NotReached(why),
            StepState::Failed(s) => Live::NotReached(probe::step_line(s)),
            // No signed XML to judge: ocs-http-error speaks for that.
            _ if r.ocs.is_some() => Live::NotReached(
                "the answer carried no signed mitigation XML (see ocs-http-error)".into(),
            ),
            _ => Live::NoData,
        };
    };
    let now = probe_time(&r.started_at);
    // The probe verified the signature where it read the answer: a digest or
    // signature that fails is the answer's problem before the signer's.
    if let Some(v) = o
        .xml_signature
        .as_ref()
        .filter(|v| v.verdict != eems_xmldsig::Verdict::Valid)
    {
        let a = assess(v.clone(), Some(now.timestamp()), None, &[]);
        if let Some((reason, why)) = a.problems.first() {
            return Live::Fail(
                finding(
                    &META,
                    Confidence::High,
                    format!(
                        "The mitigation XML's signature is not accepted ({}): {why}",
                        reason.as_str()
                    ),
                )
                .detail(format!(
                    "The probe verified the answer's XML signature (enveloped, Canonical XML 1.0, SHA-256 digest, signature over SignedInfo with the X509Data signer's key): verdict {}; signer {}.",
                    v.verdict.as_str(),
                    a.signer_line()
                ))
                .evidence(r.step(StepKind::OcsRequest).map(|s| probe::step_evidence(ev, s)))
                .step(reason_step(*reason)),
            );
        }
    }
    let mut problems = Vec::new();
    let Some(signer) = o.signing_chain.first() else {
        return Live::Fail(
            finding(&META, Confidence::High, "The mitigation XML's signature carries no signing certificate (no X509Data)")
                .detail("The service validates the signer's certificate (chain, issuer, EKU); without X509Data there is nothing to validate, so it rejects the XML. The content was probably rewritten in transit.")
                .evidence(r.step(StepKind::OcsRequest).map(|s| probe::step_evidence(ev, s)))
                .step(steps().swap_remove(1)),
        );
    };
    let cn = cert_cn(signer).unwrap_or(&signer.subject);
    if !cn.eq_ignore_ascii_case(SIGNER_CN) {
        problems.push(format!("the signer is `{cn}`, not `{SIGNER_CN}`"));
    }
    if !signer
        .eku
        .iter()
        .any(|e| CODE_SIGNING.contains(&e.to_ascii_lowercase().as_str()))
    {
        problems.push(format!(
            "the signer lacks the codeSigning EKU (has: {})",
            if signer.eku.is_empty() {
                "none".to_owned()
            } else {
                signer.eku.join(", ")
            }
        ));
    }
    if parse_time(&signer.not_after).is_some_and(|t| t < now) {
        problems.push(format!("the signer expired on {}", signer.not_after));
    }
    if parse_time(&signer.not_before).is_some_and(|t| t > now) {
        problems.push(format!(
            "the signer is not valid before {}",
            signer.not_before
        ));
    }
    if problems.is_empty() {
        return Live::Pass;
    }
    let title = format!(
        "The mitigation XML's signer is not accepted: {}",
        problems[0]
    );
    let mut f = finding(&META, Confidence::High, title)
        .detail(format!(
            "The service accepts the XML only when it is signed by Microsoft's signing certificate ({SIGNER_CN}, codeSigning EKU, valid, chaining to Microsoft Root Certificate Authority 2011). The live probe found: {}.",
            problems.join("; ")
        ))
        .evidence(
            o.signing_chain
                .iter()
                .enumerate()
                .map(|(i, c)| probe::cert_evidence(ev, ChainRole::Signing, i, c)),
        );
    for s in steps() {
        f = f.step(s);
    }
    Live::Fail(f)
}

/// The verdict on the mitigation XML's signature, for the reports (JSON
/// `facts.xml_signature`): what was verified, the signer, and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct XmlSignatureSummary {
    /// eems-xmldsig's verdict: `valid`, `digest-mismatch`, `signature-mismatch`,
    /// `wrong-key`, `unsupported-algorithm`, `no-signature`, `malformed`, `no-certificate`.
    pub verdict: String,
    /// The first reason the service would refuse it (`tampered body`,
    /// `expired signer`, …); `None`: accepted.
    pub reason: Option<String>,
    /// Every problem, `reason: detail`.
    pub problems: Vec<String>,
    pub signer_subject: Option<String>,
    /// SHA-1 of the signer certificate, upper-case hex.
    pub signer_thumbprint: Option<String>,
    /// RFC 3339.
    pub signer_not_before: Option<String>,
    pub signer_not_after: Option<String>,
    /// The answer's time (its `Date` header), RFC 3339.
    pub response_time: Option<String>,
    pub signer_valid_at_response: Option<bool>,
    pub signer_valid_now: Option<bool>,
    /// Subject CNs from the signer up.
    pub chain: Vec<String>,
    /// The expected root the chain reached (by name and thumbprint).
    pub trusted_root: Option<String>,
    pub signature_algorithm: Option<String>,
    pub digest_algorithm: Option<String>,
    pub cite: crate::evidence::Cite,
}

fn rfc3339(t: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(t, 0).map(crate::facts::rfc3339)
}

/// The summary of the captured answer's signature, when the evidence holds one.
pub fn summary(ev: &ServerEvidence, ctx: &Context<'_>) -> Option<XmlSignatureSummary> {
    let (a, cite) = captured(ev, ctx)?;
    let s = a.signer.as_ref();
    let valid = |t: Option<i64>| {
        let (t, s) = (t?, s?);
        Some(s.not_before <= t && t <= s.not_after)
    };
    Some(XmlSignatureSummary {
        verdict: a.verification.verdict.as_str().to_owned(),
        reason: a.problems.first().map(|(r, _)| r.as_str().to_owned()),
        problems: a
            .problems
            .iter()
            .map(|(r, w)| format!("{}: {w}", r.as_str()))
            .collect(),
        signer_subject: s.map(|s| s.subject.clone()),
        signer_thumbprint: s.map(|s| s.sha1.clone()),
        signer_not_before: s.and_then(|s| rfc3339(s.not_before)),
        signer_not_after: s.and_then(|s| rfc3339(s.not_after)),
        response_time: a.at.and_then(rfc3339),
        signer_valid_at_response: valid(a.at),
        signer_valid_now: valid(a.now),
        chain: a.chain.iter().map(|(n, _)| n.clone()).collect(),
        trusted_root: a.trusted_root.clone(),
        signature_algorithm: a.verification.algorithms.signature.clone(),
        digest_algorithm: a.verification.algorithms.digest.clone(),
        cite,
    })
}

/// The fix for each reason the signature or its signer is refused.
fn reason_step(reason: Reason) -> Step {
    Step::text(match reason {
        Reason::Rewritten | Reason::TamperedBody | Reason::BadSignature | Reason::WrongKey => {
            "Something between the server and OCS changed the answer: exclude officeclient.microsoft.com from SSL inspection, content scanning and block pages on the proxy or firewall, then run the probe again."
        }
        Reason::UntrustedSigner => {
            "The answer was re-signed by someone other than Microsoft: exclude officeclient.microsoft.com from inspection; if the chain is Microsoft's but new, update checks/data/xml-signing-issuers.csv."
        }
        Reason::ExpiredSigner => {
            "Microsoft's signing certificate had expired when the answer was sent (as in June 2022): the fix ships in an Exchange update or on the service side; install the latest CU/SU and check the server's clock."
        }
        Reason::UnsupportedAlgorithm | Reason::WrongUsage => {
            "The answer is not signed the way OCS signs it: compare with a capture from another network, and exclude officeclient.microsoft.com from content rewriting."
        }
    })
}

/// A captured answer (Invoke-WebRequest, a saved body) whose signature the
/// evidence lets us verify.
fn captured(ev: &ServerEvidence, ctx: &Context<'_>) -> Option<(Assessment, crate::evidence::Cite)> {
    let r = ev.ocs_response.as_ref()?;
    let body = r.value.signed_body.as_deref()?;
    let at = r
        .value
        .header("Date")
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
        .map(|d| d.timestamp());
    let now = ctx.now.map(|n| n.timestamp());
    Some((
        assess(eems_xmldsig::verify(body), at, now, xml_trust::embedded()),
        r.cite.clone(),
    ))
}

fn captured_live(ev: &ServerEvidence, ctx: &Context<'_>) -> Live {
    let Some((a, cite)) = captured(ev, ctx) else {
        return Live::NoData;
    };
    let Some((reason, why)) = a.problems.first() else {
        return Live::Pass;
    };
    let alg = &a.verification.algorithms;
    let mut f = finding(
        &META,
        Confidence::High,
        format!("The mitigation XML's signature is not accepted ({}): {why}", reason.as_str()),
    )
    .detail(format!(
        "eems-doctor verified the captured answer's XML signature itself (enveloped, Canonical XML 1.0, SHA-256 digest, RSA-SHA256 with the X509Data signer's key) and its signer's chain up to the expected Microsoft roots: verdict {}; signer {}; {}; chain {}; algorithms: signature {}, digest {}. Every problem found: {}.",
        a.verification.verdict.as_str(),
        a.signer_line(),
        a.validity_line(),
        a.chain
            .iter()
            .map(|(n, ok)| if *ok { n.clone() } else { format!("{n} (does not verify)") })
            .collect::<Vec<_>>()
            .join(" -> "),
        alg.signature.as_deref().unwrap_or("(none)"),
        alg.digest.as_deref().unwrap_or("(none)"),
        a.problems
            .iter()
            .map(|(r, w)| format!("{}: {w}", r.as_str()))
            .collect::<Vec<_>>()
            .join("; ")
    ))
    .evidence(std::iter::once(cite.to_evidence()));
    let mut seen = Vec::new();
    for (r, _) in &a.problems {
        let s = reason_step(*r);
        if !seen.contains(&s) {
            seen.push(s.clone());
            f = f.step(s);
        }
    }
    Live::Fail(f)
}

impl Check for XmlSignatureInvalid {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Option<String> {
        let (a, cite) = captured(ev, ctx)?;
        a.problems.is_empty().then(|| {
            crate::check::seen(
                format!(
                    "the captured answer's XML signature verifies (rsa-sha256), signer {}: {}; chain {}",
                    a.signer_line(),
                    a.validity_line(),
                    a.chain.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" -> ")
                ),
                &cite,
            )
        })
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let live = match live(ev) {
            Live::NoData => captured_live(ev, ctx),
            l => l,
        };
        probe::combine(
            &META,
            ev,
            &[Cause::XmlSignature],
            live,
            |logged| {
                steps().into_iter().fold(
                    finding(&META, Confidence::High, "The service rejects the mitigation XML's signature (\"not deemed safe to consume\")")
                        .detail("The TLS connection worked, but the service did not accept the XML: \"This XML is not deemed safe to consume since Response xml's signing cert is invalid or not from microsoft\". It validates the signing certificate's chain, issuer and EKU. Seen when Microsoft's signing certificate expired (2022-06-09, resolved service-side) and when something modifies the content in transit. Test-MitigationServiceConnectivity.ps1 still says Success in this case.")
                        .evidence(logged),
                    crate::finding::Finding::step,
                )
            },
            "the signed XML from OCS",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        XmlSignatureInvalid.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn signer_not_microsoft() {
        let mut r = healthy();
        if let Some(o) = r.ocs.as_mut() {
            let s = &mut o.signing_chain[0];
            s.subject_cn = Some("Contoso Content Filter".into());
            s.subject = "CN=Contoso Content Filter".into();
            s.eku = vec!["serverAuth".into()];
        }
        let f = failed(&XmlSignatureInvalid, r);
        assert_eq!(
            f[0].title,
            "The mitigation XML's signer is not accepted: the signer is `Contoso Content Filter`, not `Microsoft Exchange XML Signing`"
        );
        assert!(
            f[0].detail
                .contains("lacks the codeSigning EKU (has: serverAuth)")
        );
        assert!(
            f[0].evidence[0]
                .excerpt
                .starts_with("signing chain #1: subject CN=Contoso Content Filter")
        );
    }

    #[test]
    fn expired_signer_no_x509data_and_healthy() {
        let ev = ServerEvidence {
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        let mut r = healthy();
        if let Some(o) = r.ocs.as_mut() {
            o.signing_chain[0].not_after = "2022-06-09T18:44:12Z".into();
        }
        let f = failed(&XmlSignatureInvalid, r.clone());
        assert!(
            f[0].title
                .ends_with("the signer expired on 2022-06-09T18:44:12Z"),
            "{}",
            f[0].title
        );
        if let Some(o) = r.ocs.as_mut() {
            o.signing_chain.clear();
        }
        let f = failed(&XmlSignatureInvalid, r);
        assert!(f[0].title.contains("no X509Data"));
    }

    #[test]
    fn the_probes_verdict_is_judged_before_the_signer() {
        let body = crate::fetch::xml_trust::tests::real_body();
        let mut r = healthy();
        if let Some(o) = r.ocs.as_mut() {
            o.xml_signature = Some(eems_xmldsig::verify(&body));
        }
        let ev = ServerEvidence {
            probes: Some(r.clone()),
            ..ServerEvidence::default()
        };
        assert_eq!(
            run(&ev),
            Outcome::Pass,
            "a valid signature leaves the signer checks"
        );
        if let Some(o) = r.ocs.as_mut() {
            o.xml_signature = Some(eems_xmldsig::verify(&body.replacen(
                "<SignatureValue>jI7j",
                "<SignatureValue>jI7k",
                1,
            )));
        }
        let f = failed(&XmlSignatureInvalid, r);
        assert!(
            f[0].title.contains("(signature mismatch)"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].detail
                .contains("thumbprint 8A686CF7546035F2E571E302D01BC5303CCB3E08")
        );
    }
}
