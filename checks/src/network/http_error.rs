use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::network::from_causes;

pub struct OcsHttpError;

static META: CheckMeta = CheckMeta {
    id: "ocs-http-error",
    area: "network",
    title: "OCS answers 200 with signed mitigation XML",
    severity: Severity::Critical,
    needs: &[Need::Events, Need::Log, Need::Probes],
    needs_probes: false,
};

impl Check for OcsHttpError {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let proxy = ev
            .exchange_proxy
            .as_ref()
            .and_then(|p| p.value.as_deref())
            .map(|p| format!(" -Proxy {p}"))
            .unwrap_or_default();
        from_causes(
            &META,
            ev,
            &[Cause::HttpStatus],
            "The OCS request gets an HTTP error instead of the mitigation XML",
            "The service reached an HTTP server but got an error status (\"The remote server returned an error: (403) …\"). A proxy or firewall block page, or a URL filter category, is the usual cause; a 5xx can be a transient OCS incident.",
            vec![
                Step::text(
                    "Allow https://officeclient.microsoft.com/getexchangemitigations in the proxy's URL filter.",
                ),
                Step::cmd(
                    "See what the server gets (through Exchange's proxy, as the service does):",
                    format!(
                        "Invoke-WebRequest https://officeclient.microsoft.com/getexchangemitigations -UseBasicParsing{proxy} | Select-Object StatusCode,Headers"
                    ),
                ),
            ],
        )
    }
}
