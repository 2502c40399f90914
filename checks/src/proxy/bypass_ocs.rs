use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::proxy::{OCS_HOST, exchange_bypass_matches};

pub struct ProxyBypassOcs;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyBypassOcs,
    area: "proxy",
    title: "officeclient.microsoft.com is not in a proxy bypass list",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 220,
    stage: None,
    explains: &[CheckId::OcsUnreachable, CheckId::OcsDnsFailure],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ProxyBypassOcs {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let mut hits = Vec::new();
        if let (Some(ex), Some(list)) = (&ev.exchange_proxy, &ev.exchange_bypass)
            && ex.value.is_some()
            && let Some(e) = list
                .value
                .iter()
                .find(|e| exchange_bypass_matches(e, OCS_HOST))
        {
            hits.push((
                format!("Exchange InternetWebProxyBypassList entry `{e}`"),
                list.cite.to_evidence(),
            ));
        }
        // WinHTTP's bypass list is not consulted: the OCS request never goes
        // through WinHTTP (only CRL/CTL/AIA downloads do).
        if hits.is_empty() {
            if ev.exchange_bypass.is_none() {
                return Outcome::Skip("no InternetWebProxyBypassList in the evidence: run `Get-ExchangeServer <name> | Format-List InternetWebProxy,InternetWebProxyBypassList`".into());
            }
            return Outcome::Pass;
        }
        let what: Vec<String> = hits.iter().map(|(w, _)| w.clone()).collect();
        Outcome::fail(
            finding(&META, Confidence::Medium, format!("{OCS_HOST} matches a proxy bypass list"))
                .detail(format!(
                    "{} matches {OCS_HOST}, so the request goes direct even though a proxy is configured. Where direct Internet access is blocked this fails; where it is allowed it avoids the proxy's rules.",
                    what.join("; ")
                ))
                .evidence(hits.into_iter().map(|(_, e)| e))
                .step(Step::text(format!("Remove the matching entry from the bypass list (or narrow it so it no longer matches {OCS_HOST}), unless direct egress to it is deliberately allowed."))),
        )
    }
}
