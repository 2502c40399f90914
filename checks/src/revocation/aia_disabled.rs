use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct AiaRetrievalDisabled;

static META: CheckMeta = CheckMeta {
    id: CheckId::AiaRetrievalDisabled,
    area: "revocation",
    title: "Issuer certificates (AIA) may be downloaded",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 140,
    stage: None,
    explains: &[CheckId::TlsValidationFailed],
    fix: Fix::None,
    needs_probes: false,
};

/// ChainEngine\Config `Options` bit that disables AIA (issuer) retrieval.
const DISABLE_AIA_URL_RETRIEVAL: u64 = 0x2;

impl Check for AiaRetrievalDisabled {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(v) = &ev.chain_engine_options else {
            return Outcome::Skip("no ChainEngine policy evidence: run `reg query \"HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\ChainEngine\\Config\"`".into());
        };
        if v.value & DISABLE_AIA_URL_RETRIEVAL == 0 {
            return Outcome::Pass;
        }
        Outcome::fail(
            finding(&META, Confidence::High, format!("Issuer certificate retrieval is disabled by policy (ChainEngine Options = {:#x})", v.value))
                .detail("With this policy Windows does not download missing intermediate certificates from the AIA URLs in a certificate. When OCS's chain uses an intermediate the server does not already have (Microsoft Azure RSA/ECC TLS Issuing CA 03/04/07/08 rotate), the chain cannot be built and validation fails.")
                .evidence([v.cite.to_evidence()])
                .step(Step::text("Re-enable AIA retrieval (remove the policy value), or install the current Microsoft Azure TLS Issuing CA intermediates into LocalMachine\\CA."))
                .step(Step::cmd("Show the policy value:", "reg query \"HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\ChainEngine\\Config\" /v Options")),
        )
    }
}
