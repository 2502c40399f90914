use crate::check::{Check, CheckMeta, Context, Need, Outcome, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};

pub struct ProxyAuthRequired;

static META: CheckMeta = CheckMeta {
    id: "proxy-auth-required",
    area: "proxy",
    title: "The proxy lets the server through without authentication",
    severity: Severity::Critical,
    needs: &[Need::Events, Need::Log],
    needs_probes: false,
};

impl Check for ProxyAuthRequired {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        if !ev.has_cause(Cause::ProxyAuth) {
            if ev.events_seen == 0 && ev.log.is_none() && ev.probes.is_none() {
                return Outcome::Skip("no events, log or probe results to show a 407".into());
            }
            return Outcome::Pass;
        }
        Outcome::fail(
            finding(&META, Confidence::High, "The proxy answers 407 Proxy Authentication Required")
                .detail("The mitigation service runs as LocalSystem and cannot answer a proxy authentication challenge, so every hourly fetch fails with (407) Proxy Authentication Required.")
                .evidence(ev.cause_evidence(Cause::ProxyAuth))
                .step(Step::text("On the proxy, allow the Exchange server (by source address) to reach these URLs without authentication: https://officeclient.microsoft.com/getexchangemitigations, the CRL hosts of its chain over http (e.g. crl3.digicert.com, crl4.digicert.com, www.microsoft.com/pkiops, crl.microsoft.com) and http://ctldl.windowsupdate.com/*."))
                .step(Step::text("Run `eems-doctor probe --proxy http://<proxy>:<port>` to confirm the proxy now answers 200 to CONNECT.")),
        )
    }
}
