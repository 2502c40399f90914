use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct ServiceCrashing;

static META: CheckMeta = CheckMeta {
    id: CheckId::ServiceCrashing,
    area: "service",
    title: "The mitigation service does not crash",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 260,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ServiceCrashing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(w) = &ev.watson else {
            if ev.events_seen == 0 {
                return Outcome::Skip("no Application log events: export them with `wevtutil qe Application /q:\"*[System[Provider[@Name='MSExchange Mitigation Service'] or (EventID=4999)]]\" /f:xml /rd:true /c:500`".into());
            }
            return Outcome::Pass;
        };
        let oom = ev.event_causes.contains_key(&Cause::OutOfMemory)
            || w.first.excerpt.contains("OutOfMemory");
        Outcome::fail(
            finding(&META, Confidence::High, format!("The mitigation service crashed {} (Watson reports)", crate::finding::counted(w.count, "time", "times")))
                .detail(format!(
                    "Event 4999 (Watson) reports name M.E.Mitigation.Service{}. A crashing service fetches and applies mitigations only between restarts.",
                    if oom { " with System.OutOfMemoryException: the process ran out of memory" } else { "" }
                ))
                .evidence([w.to_evidence()])
                .step(Step::text("Check the server's memory pressure and the Exchange build (crash fixes ship in CUs/SUs); install the latest CU and SU."))
                .step(Step::cmd(
                    "List recent Watson reports for the service:",
                    "Get-WinEvent -FilterHashtable @{LogName='Application';Id=4999} -MaxEvents 20 | Where-Object Message -match 'Mitigation' | Format-List TimeCreated,Message",
                )),
        )
    }
}
