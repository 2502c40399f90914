use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::network::from_causes;

pub struct OcsUnreachable;

static META: CheckMeta = CheckMeta {
    id: "ocs-unreachable",
    area: "network",
    title: "officeclient.microsoft.com:443 is reachable (directly or through the proxy)",
    severity: Severity::Critical,
    needs: &[Need::Events, Need::Log, Need::Probes],
    needs_probes: false,
};

impl Check for OcsUnreachable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let proxy = ev.exchange_proxy.as_ref().and_then(|p| p.value.as_deref());
        let test = match proxy.and_then(crate::proxy::authority) {
            Some((h, port)) => Step::cmd(
                "Test the connection to the proxy the service uses:",
                format!("Test-NetConnection {h} -Port {port}"),
            ),
            None => Step::cmd(
                "Test the direct connection from the server:",
                "Test-NetConnection officeclient.microsoft.com -Port 443",
            ),
        };
        let via = match proxy {
            Some(p) => format!("through the proxy {p}"),
            None => "directly (no InternetWebProxy is set)".to_owned(),
        };
        from_causes(
            &META,
            ev,
            &[Cause::Connect, Cause::Timeout],
            "The service cannot connect to officeclient.microsoft.com:443",
            &format!(
                "The fetch fails with \"Unable to connect to the remote server\" / a socket timeout / \"A task was canceled\": the TCP connection {via} is refused or silently dropped. If the network requires a proxy, Exchange's InternetWebProxy must name it."
            ),
            vec![
                test,
                Step::text(
                    "Allow outbound TCP 443 to officeclient.microsoft.com on the firewall, or set InternetWebProxy to the proxy that has Internet access.",
                ),
            ],
        )
    }
}
