use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::evidence::ServerEvidence;
use crate::finding::Severity;
use crate::network::needs_probe;

pub struct CrlUnreachable;

static META: CheckMeta = CheckMeta {
    id: "crl-unreachable",
    area: "revocation",
    title: "The CRL distribution points of the OCS and signing chains can be fetched",
    severity: Severity::Critical,
    needs: &[Need::Probes],
    needs_probes: true,
};

impl Check for CrlUnreachable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        if ev.probes.is_none() {
            return needs_probe("CRL downloads through the WinHTTP proxy");
        }
        Outcome::Skip("the probe results carry no CRL fetches".into())
    }
}
