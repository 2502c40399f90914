use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct CtlAutoupdateDisabled;

static META: CheckMeta = CheckMeta {
    id: CheckId::CtlAutoupdateDisabled,
    area: "revocation",
    title: "Automatic root certificate updates are allowed",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 150,
    stage: None,
    explains: &[CheckId::TlsValidationFailed],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for CtlAutoupdateDisabled {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(v) = &ev.disable_root_auto_update else {
            return Outcome::Skip("no AuthRoot policy evidence: run `reg query \"HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot\"`".into());
        };
        if v.value == 0 {
            return Outcome::Pass;
        }
        if v.value != 1 {
            // Health Checker flags this too ("invalid value"): Windows
            // documents only 0 and 1, so what the chain engine does with it
            // is not something to rely on.
            return Outcome::fail(
                finding(&META, Confidence::Medium, format!("DisableRootAutoUpdate has a value Windows does not document ({})", v.value))
                    .detail("The AuthRoot policy DisableRootAutoUpdate is documented with two values: 0 (automatic root updates allowed) and 1 (disabled). Any other value is a misconfiguration (often a typo in a GPO or a script); do not rely on how the chain engine reads it. If roots are not updated, a root that OCS's chain or the mitigation XML signing chain needs and that is missing from the machine store makes validation fail.")
                    .evidence([v.cite.to_evidence()])
                    .step(Step::text("Set DisableRootAutoUpdate to 0 (or remove the policy) to allow automatic root updates, or to 1 if you deploy the roots yourself; then deploy DigiCert Global Root G2/G3, Microsoft RSA/ECC Root CA 2017 and Microsoft Root Certificate Authority 2011 to LocalMachine\\Root."))
                    .step(Step::cmd("Check which policy sets it:", "gpresult /h gpresult.html")),
            );
        }
        Outcome::fail(
            finding(&META, Confidence::High, "Automatic root certificate updates are disabled by policy (DisableRootAutoUpdate = 1)")
                .detail("With DisableRootAutoUpdate = 1 Windows does not download the Certificate Trust List or missing roots from Windows Update. A root that OCS's chain (or its signing chain) needs and that is not already in the machine store makes validation fail.")
                .evidence([v.cite.to_evidence()])
                .step(Step::text("Re-enable automatic root updates (remove the policy or set it to 0), or deploy the roots yourself to LocalMachine\\Root: DigiCert Global Root G2/G3 and Microsoft RSA/ECC Root CA 2017 (TLS chain) and Microsoft Root Certificate Authority 2011 (the mitigation XML signing chain)."))
                .step(Step::cmd("Check which policy sets it:", "gpresult /h gpresult.html")),
        )
    }
}
