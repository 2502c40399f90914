use crate::builds::{Verdict, judge};
use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct FetchFailing;

static META: CheckMeta = CheckMeta {
    id: CheckId::FetchFailing,
    area: "fetch",
    title: "Fetches do not fail repeatedly for an unexplained reason",
    severity: Severity::Critical,
    role: Role::Symptom,
    priority: 920,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

/// Causes that another check names precisely.
const SPECIFIC: &[Cause] = &[
    Cause::TlsTrust,
    Cause::UntrustedEndpoint,
    Cause::XmlSignature,
    Cause::Dns,
    Cause::ProxyDns,
    Cause::ProxyAuth,
    Cause::Connect,
    Cause::Timeout,
    Cause::TlsProtocol,
    Cause::HttpStatus,
];

impl Check for FetchFailing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        if SPECIFIC.iter().any(|c| ev.has_cause(*c)) {
            return Some("the failures have a specific cause, reported by its own check".into());
        }
        let log = ev.log.as_ref()?;
        (log.fetch_successes > 0).then(|| {
            format!(
                "{} of {} fetch attempts in the log succeeded, the last at {}",
                log.fetch_successes,
                log.fetch_attempts,
                log.last_success
                    .map(crate::facts::rfc3339)
                    .unwrap_or_default()
            )
        })
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let peers = peer_verdicts(ev);
        if ev.events_seen == 0 && ev.log.is_none() && peers.is_empty() {
            return Outcome::Skip("no MitigationService log, mitigation events or peer test result (Test-MitigationServiceConnectivity.ps1, Get-Mitigations.ps1, Health Checker)".into());
        }
        if SPECIFIC.iter().any(|c| ev.has_cause(*c)) {
            return Outcome::Pass;
        }
        if let Some(b) = &ev.build
            && matches!(
                judge(ctx.builds, b.value.version, b.value.precision),
                Verdict::TooOld { .. } | Verdict::PredatesEems
            )
        {
            return Outcome::Pass; // explained by the build checks
        }
        let generic: Vec<_> = [Cause::Unspecified, Cause::Other]
            .iter()
            .flat_map(|c| ev.cause(*c))
            .collect();
        let total: u64 = generic.iter().map(|o| o.count).sum();
        if total < 2 && !peers.is_empty() {
            // Microsoft's own scripts say the endpoint cannot be reached, and
            // nothing in the evidence says why: that verdict is the finding.
            return Outcome::fail(
                finding(&META, Confidence::Medium, "Microsoft's own test scripts report that the mitigation endpoint cannot be reached")
                    .detail("Test-MitigationServiceConnectivity.ps1, Get-Mitigations.ps1, Health Checker or an Invoke-WebRequest to the OCS URL ran on the server and reported that the Office Config Service could not be reached (or something else answered in its place). Their verdict is reliable when it says Failed (when it says Success it can still be wrong: they run as the admin, not as the service, and skip the certificate revocation path). The evidence does not name the reason; the service's own log and events, and the live probes, do.")
                    .evidence(peers.iter().map(|c| c.to_evidence()))
                    .step(Step::cmd("Probe the path the service uses, on the server:", "eems-doctor probe"))
                    .step(Step::cmd("Collect the service's own evidence (log folder, events 1008, proxies, build):", "eems-doctor collect"))
                    .step(Step::cmd("Read the exact build (builds before March 2023 cannot reach OCS any more):", "(Get-Command ExSetup.exe).FileVersionInfo | Format-List FileVersion")),
            );
        }
        if total < 2 {
            return Outcome::Pass;
        }
        Outcome::fail(
            finding(&META, Confidence::Medium, format!("Fetches fail repeatedly ({total} failures) without a named cause"))
                .detail("The service reports failures (\"Exception encountered while fetching mitigations\") whose text names no specific cause. On a build older than the March 2023 SU this is the expected symptom of the OCS certificate change; otherwise the MitigationService log around the failures, and the live probes, tell more.")
                .evidence(generic.iter().map(|o| o.to_evidence()))
                .step(Step::cmd("Read the exact build (builds before March 2023 fail exactly like this):", "(Get-Command ExSetup.exe).FileVersionInfo | Format-List FileVersion"))
                .step(Step::cmd("Probe the path the service uses:", "eems-doctor probe"))
                .step(Step::text("Collect the MitigationService log folder and the Application log events 1008 for the same hours.")),
        )
    }
}

/// The peers' own failure verdicts: `Test-MitigationServiceConnectivity.ps1`
/// "Result: Failed.", Get-Mitigations.ps1's endpoint WARNING, Health
/// Checker's "Pattern service … Unreachable", an `Invoke-WebRequest` to the
/// OCS URL that got an error status or a page that is not OCS's document.
fn peer_verdicts(ev: &ServerEvidence) -> Vec<&crate::evidence::Cite> {
    let mut out = Vec::new();
    if let Some(t) = ev.connectivity_test.as_ref().filter(|t| !t.value) {
        out.push(&t.cite);
    }
    if let Some(w) = &ev.get_mitigations_warning {
        out.push(w);
    }
    // An admin's own request answered by something other than OCS's
    // document (an error status, a block page).
    if let Some(r) = ev.ocs_response.as_ref().filter(|r| !r.value.reached_ocs()) {
        out.push(&r.cite);
    }
    if let Some(h) = ev
        .healthchecker_pattern_reachable
        .as_ref()
        .filter(|h| !h.value)
    {
        out.push(&h.cite);
    }
    out
}
