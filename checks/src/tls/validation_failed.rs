use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::id::CheckId;
use crate::network::from_causes;

pub struct TlsValidationFailed;

const DETAIL: &str = "The service logs \"TLS certificate or its chain validation failed\" and/or event 1008 carries \"Could not establish trust relationship for the SSL/TLS secure channel\" + \"The remote certificate is invalid according to the validation procedure\". This is a symptom with three usual causes: CRL endpoints unreachable (revocation cannot be checked), an SSL-inspecting proxy re-signing the connection, or a missing intermediate. See the diagnosis for which one the evidence supports.";

static META: CheckMeta = CheckMeta {
    id: CheckId::TlsValidationFailed,
    area: "tls",
    title: "The service validates the OCS certificate chain",
    severity: Severity::Critical,
    role: Role::Symptom,
    priority: 900,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for TlsValidationFailed {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let script_success = ev.connectivity_test.as_ref().is_some_and(|t| t.value);
        let admin_got_ocs = ev
            .ocs_response
            .as_ref()
            .is_some_and(|r| r.value.reached_ocs());
        // The script's Success is the better-known contradiction: said first.
        let shallow = if script_success {
            " Test-MitigationServiceConnectivity.ps1 reported Success in the same evidence: the classic contradiction, and not a real one. The script runs as the signed-in admin and sends one plain request; the service runs as LocalSystem and validates the chain through WinHTTP's proxy and the CRL/CTL downloads the script never exercises, so its Success does not clear this failure."
        } else if admin_got_ocs {
            " The admin's own Invoke-WebRequest/Invoke-RestMethod got OCS's document in the same evidence: not a contradiction. It ran as the signed-in admin with that user's proxy and certificate stores; the service runs as LocalSystem and validates the chain through WinHTTP's proxy and the CRL/CTL downloads the admin's request never exercised."
        } else {
            ""
        };
        let detail = format!("{DETAIL}{shallow}");
        from_causes(
            &META,
            ev,
            &[Cause::TlsTrust],
            "The service rejects the OCS certificate chain (TLS validation failed)",
            &detail,
            vec![
                Step::cmd(
                    "Tell the causes apart with the live probes, run on the server with its proxies:",
                    "eems-doctor probe --proxy <InternetWebProxy> --winhttp-proxy <WinHTTP proxy>",
                ),
                Step::text("Never disable certificate or revocation checking to work around it."),
            ],
        )
    }
}
