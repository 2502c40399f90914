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
        if v.value != 1 {
            return Outcome::Pass;
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
