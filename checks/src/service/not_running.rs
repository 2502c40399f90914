use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::{ServerEvidence, ServiceStatus};
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use eems_parsers::exchange::{ServiceState, StartType};

pub struct ServiceNotRunning;

static META: CheckMeta = CheckMeta {
    id: CheckId::ServiceNotRunning,
    area: "service",
    title: "MSExchangeMitigation is running and starts automatically",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 30,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ServiceNotRunning {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let f = ev.service.as_ref()?;
        let start = f
            .value
            .start_type
            .as_ref()
            .map_or_else(String::new, |s| format!(", start type {}", s.word()));
        Some(crate::check::seen(
            format_args!("MSExchangeMitigation is {}{start}", f.value.status.word()),
            &f.cite,
        ))
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some(svc) = &ev.service else {
            return Outcome::Skip("no service state: run `Get-Service MSExchangeMitigation | Format-List Name,Status,StartType`".into());
        };
        // No service on a build without EEMS is expected (build-predates-eems says why).
        if svc.value.status == ServiceStatus::NotInstalled
            && ev.build.as_ref().is_some_and(|b| {
                crate::builds::judge(ctx.builds, b.value.version, b.value.precision)
                    == crate::builds::Verdict::PredatesEems
            })
        {
            return Outcome::Pass;
        }
        let running = svc.value.status == ServiceStatus::State(ServiceState::Running);
        let start = svc.value.start_type.as_ref();
        let automatic = start.is_none_or(StartType::is_automatic);
        if running && automatic {
            return Outcome::Pass;
        }
        let mut problems = Vec::new();
        if !running {
            problems.push(format!("status is {}", svc.value.status.word()));
        }
        if let Some(s) = start.filter(|_| !automatic) {
            problems.push(format!("start type is {}", s.word()));
        }
        let name = ev.server_or_placeholder();
        let mut f = finding(&META, Confidence::High, format!("The mitigation service is not running normally ({})", problems.join(", ")))
            .detail("EEMS runs as the Windows service MSExchangeMitigation (Microsoft Exchange Emergency Mitigation Service). When it is stopped or disabled, no mitigation is fetched or applied, and no event 1008 is logged either: silence is not health.")
            .evidence([svc.cite.to_evidence()]);
        if start.is_some_and(|s| !s.is_automatic()) {
            f = f.step(Step::cmd(
                "Set the service to start automatically:",
                format!("Invoke-Command -ComputerName {name} {{ Set-Service MSExchangeMitigation -StartupType Automatic }}"),
            ));
        }
        f = f.step(Step::cmd(
            "Start the service:",
            format!("Invoke-Command -ComputerName {name} {{ Start-Service MSExchangeMitigation }}"),
        ));
        if svc.value.start_type.is_none() {
            f = f.step(Step::cmd(
                "The default Get-Service view hides the start type; check it:",
                "Get-Service MSExchangeMitigation | Format-List Name,Status,StartType",
            ));
        }
        Outcome::fail(f)
    }
}
