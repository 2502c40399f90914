use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct MitigationsDisabledServer;

static META: CheckMeta = CheckMeta {
    id: CheckId::MitigationsDisabledServer,
    area: "flags",
    title: "Mitigations are enabled on the server",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 50,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for MitigationsDisabledServer {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let f = ev.server_mitigations_enabled.as_ref()?;
        Some(crate::check::seen(
            format_args!(
                "the server's MitigationsEnabled is {}",
                if f.value {
                    "True"
                } else {
                    "False, and the organization's is False too (see mitigations-disabled-org)"
                }
            ),
            &f.cite,
        ))
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(server) = &ev.server_mitigations_enabled else {
            return Outcome::Skip("no server setting: run `Get-ExchangeServer <name> | Format-List Name,MitigationsEnabled`".into());
        };
        if server.value {
            return Outcome::Pass;
        }
        // The org-level finding already says everything when the org is off too.
        if ev
            .org_mitigations_enabled
            .as_ref()
            .is_some_and(|o| !o.value)
        {
            return Outcome::Pass;
        }
        let org_known = ev.org_mitigations_enabled.is_some();
        let name = ev.server_or_placeholder();
        Outcome::fail(
            finding(
                &META,
                if org_known { Confidence::High } else { Confidence::Medium },
                "Mitigations are disabled on this server",
            )
            .detail(format!(
                "Get-ExchangeServer shows MitigationsEnabled False for {name}{}. EEMS on this server keeps checking OCS hourly but applies no mitigation.",
                if org_known { " while the organization allows them" } else { " (the organization setting was not in the evidence)" }
            ))
            .evidence([server.cite.to_evidence()])
            .evidence(ev.org_mitigations_enabled.iter().map(|o| o.cite.to_evidence()))
            .step(Step::cmd(
                "Enable automatic mitigations on the server (if intended):",
                format!("Set-ExchangeServer -Identity {name} -MitigationsEnabled $true"),
            )),
        )
    }
}
