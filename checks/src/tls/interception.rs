use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::evidence::ServerEvidence;
use crate::finding::Severity;
use crate::network::needs_probe;

pub struct TlsInterception;

static META: CheckMeta = CheckMeta {
    id: "tls-interception",
    area: "tls",
    title: "The OCS connection is not re-signed by an SSL-inspection product",
    severity: Severity::Critical,
    needs: &[Need::Probes],
    needs_probes: true,
};

impl Check for TlsInterception {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        if ev.probes.is_none() {
            return needs_probe("the TLS chain presented for officeclient.microsoft.com");
        }
        Outcome::Skip("the probe results carry no TLS chain".into())
    }
}
