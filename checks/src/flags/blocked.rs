use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct MitigationsBlocked;

static META: CheckMeta = CheckMeta {
    id: CheckId::MitigationsBlocked,
    area: "flags",
    title: "No mitigation is blocked",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 240,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for MitigationsBlocked {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let f = ev.mitigations_blocked.as_ref()?;
        Some(crate::check::seen("MitigationsBlocked is empty", &f.cite))
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(blocked) = &ev.mitigations_blocked else {
            return Outcome::Skip("no MitigationsBlocked value: run `Get-ExchangeServer <name> | Format-List MitigationsBlocked`".into());
        };
        if blocked.value.is_empty() {
            return Outcome::Pass;
        }
        let name = ev.server_or_placeholder();
        Outcome::fail(
            finding(&META, Confidence::High, format!("Blocked mitigations: {}", blocked.value.join(", ")))
                .detail("MitigationsBlocked lists mitigations an administrator chose never to apply on this server. EEMS skips them even when OCS publishes them. Keep the block only if it is deliberate (e.g. a known conflict) and the vulnerability is fixed by an SU.")
                .evidence([blocked.cite.to_evidence()])
                .step(Step::cmd(
                    "Unblock all mitigations on the server (if the block is not intended):",
                    format!("Set-ExchangeServer -Identity {name} -MitigationsBlocked @()"),
                )),
        )
    }
}
