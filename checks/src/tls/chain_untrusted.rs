use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::evidence::ServerEvidence;
use crate::finding::Severity;
use crate::network::needs_probe;

pub struct TlsChainUntrusted;

static META: CheckMeta = CheckMeta {
    id: "tls-chain-untrusted",
    area: "tls",
    title: "The OCS chain builds to a trusted root",
    severity: Severity::Critical,
    needs: &[Need::Probes],
    needs_probes: true,
};

impl Check for TlsChainUntrusted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        if ev.probes.is_none() {
            return needs_probe("TLS chain capture and trust evaluation");
        }
        Outcome::Skip("the probe results carry no TLS chain".into())
    }
}
