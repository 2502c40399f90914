use crate::builds::{Verdict, judge};
use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct UntrustedEndpoint;

static META: CheckMeta = CheckMeta {
    id: CheckId::UntrustedEndpoint,
    area: "fetch",
    title: "The service trusts the OCS endpoint",
    severity: Severity::Critical,
    role: Role::Symptom,
    priority: 910,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for UntrustedEndpoint {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let evidence = ev.cause_evidence(Cause::UntrustedEndpoint);
        if evidence.is_empty() {
            if ev.log.is_none() {
                return Outcome::Skip("no MitigationService log: copy <ExchangeInstallPath>\\Logging\\MitigationService".into());
            }
            return Outcome::Pass;
        }
        let old = ev
            .build
            .as_ref()
            .map(|b| judge(ctx.builds, b.value.version, b.value.precision));
        let why = match old {
            Some(Verdict::TooOld { .. }) => {
                "The installed build is older than the March 2023 SU, which explains it (see build-before-march-2023)."
            }
            Some(Verdict::Qualifies { .. }) => {
                "The installed build should trust the current certificate, so an intercepting device presenting another certificate is the next suspect."
            }
            _ => {
                "This message is what builds older than the March 2023 SU log since the January 2025 OCS certificate change; check the exact build."
            }
        };
        Outcome::fail(
            finding(&META, Confidence::High, "The service refuses the OCS endpoint (\"Connection attempted against untrusted endpoint\")")
                .detail(format!("The service logs \"Connection attempted against untrusted endpoint\" and event 1008 carries no further detail. {why}"))
                .evidence(evidence)
                .evidence(ev.build.iter().map(|b| b.cite.to_evidence()))
                .step(Step::cmd(
                    "Read the exact build:",
                    format!("Invoke-Command -ComputerName {} {{ (Get-Command ExSetup.exe).FileVersionInfo | Format-List FileVersion }}", ev.server_or_placeholder()),
                ))
                .step(Step::text("Install the latest CU and SU for the product (any build from March 2023 on trusts the new certificate).")),
        )
    }
}
