use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct MitigationsDisabledOrg;

static META: CheckMeta = CheckMeta {
    id: CheckId::MitigationsDisabledOrg,
    area: "flags",
    title: "Mitigations are enabled for the organization",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 40,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for MitigationsDisabledOrg {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let f = ev.org_mitigations_enabled.as_ref()?;
        Some(crate::check::seen(
            "Get-OrganizationConfig shows MitigationsEnabled True",
            &f.cite,
        ))
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(org) = &ev.org_mitigations_enabled else {
            return Outcome::Skip("no organization setting: run `Get-OrganizationConfig | Format-List MitigationsEnabled`".into());
        };
        if org.value {
            return Outcome::Pass;
        }
        Outcome::fail(
            finding(&META, Confidence::High, "Mitigations are disabled for the whole organization")
                .detail("Get-OrganizationConfig shows MitigationsEnabled False. This overrides every server: EEMS keeps checking OCS every hour but applies nothing anywhere. The September 2021 CU was seen to leave it False. If this is not a deliberate decision, enable it.")
                .evidence([org.cite.to_evidence()])
                .step(Step::cmd("Enable automatic mitigations for the organization (if intended):", "Set-OrganizationConfig -MitigationsEnabled $true")),
        )
    }
}
