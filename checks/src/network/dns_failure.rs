use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::network::from_causes;

pub struct OcsDnsFailure;

static META: CheckMeta = CheckMeta {
    id: "ocs-dns-failure",
    area: "network",
    title: "officeclient.microsoft.com (or the proxy) resolves in DNS",
    severity: Severity::Critical,
    needs: &[Need::Events, Need::Log, Need::Probes],
    needs_probes: false,
};

impl Check for OcsDnsFailure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        from_causes(
            &META,
            ev,
            &[Cause::Dns, Cause::ProxyDns],
            "The service cannot resolve officeclient.microsoft.com (or its proxy) in DNS",
            "The fetch fails with \"The remote name could not be resolved\" (de-DE: \"Der Remotename konnte nicht aufgelöst werden\"). Without a proxy the server itself must resolve officeclient.microsoft.com; with a proxy (InternetWebProxy) it must resolve the proxy's name.",
            vec![
                Step::cmd(
                    "Test name resolution on the server:",
                    "Resolve-DnsName officeclient.microsoft.com",
                ),
                Step::text(
                    "Allow the server's DNS to resolve officeclient.microsoft.com (forwarders/conditional forwarding), or set InternetWebProxy so the proxy resolves it.",
                ),
            ],
        )
    }
}
