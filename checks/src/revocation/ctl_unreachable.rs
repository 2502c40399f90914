use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::evidence::ServerEvidence;
use crate::finding::Severity;
use crate::network::needs_probe;

pub struct CtlUnreachable;

static META: CheckMeta = CheckMeta {
    id: "ctl-unreachable",
    area: "revocation",
    title: "ctldl.windowsupdate.com is reachable on port 80",
    severity: Severity::Warning,
    needs: &[Need::Probes],
    needs_probes: true,
};

impl Check for CtlUnreachable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        if ev.probes.is_none() {
            return needs_probe(
                "a GET of http://ctldl.windowsupdate.com through the WinHTTP proxy",
            );
        }
        Outcome::Skip("the probe results carry no CTL fetch".into())
    }
}
