use crate::check::{Check, CheckMeta, Context, Fix, Need, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::proxy::{DOWNLOAD_SCHEME, OCS_SCHEME, authority};

pub struct ProxyMismatch;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyMismatch,
    area: "proxy",
    title: "Exchange and WinHTTP use the same proxy",
    severity: Severity::Warning,
    role: Role::Consequence,
    priority: 230,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ProxyMismatch {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let (ex, w) = (ev.exchange_proxy.as_ref()?, ev.winhttp_proxy()?);
        Some(crate::check::seen(
            format_args!(
                "WinHTTP proxy {} matches InternetWebProxy {}",
                w.value.proxy.as_deref().unwrap_or_default(),
                ex.value.as_deref().unwrap_or_default()
            ),
            &w.cite,
        ))
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let (Some(ex), Some(w)) = (&ev.exchange_proxy, ev.winhttp_proxy()) else {
            // A mangled Health Checker value is not a proxy to compare (CSS-Exchange #1875
            // printed `:803` for `:80` and a false "doesn't match").
            let note = if ev.exchange_proxy.is_none() {
                ev.untrusted_note(Need::ExchangeProxy)
            } else {
                None
            }
            .or_else(|| {
                (!ev.has_winhttp_evidence())
                    .then(|| ev.untrusted_note(Need::WinHttp))
                    .flatten()
            });
            return Outcome::Skip(
                note.unwrap_or_else(|| "needs both InternetWebProxy and a WinHTTP proxy".into()),
            );
        };
        let Some(ex_proxy) = &ex.value else {
            return Outcome::Skip(
                "InternetWebProxy is not set (see proxy-exchange-missing)".into(),
            );
        };
        let (Some(a), Some(b)) = (
            authority(ex_proxy, OCS_SCHEME),
            w.value
                .proxy
                .as_deref()
                .and_then(|p| authority(p, DOWNLOAD_SCHEME)),
        ) else {
            return Outcome::Skip(
                "a proxy value could not be read as host:port, or WinHTTP has none for http://"
                    .into(),
            );
        };
        // Different WinHTTP views disagreeing is itself worth a look.
        let views: Vec<(String, u16)> = ev
            .winhttp
            .iter()
            .filter_map(|f| {
                f.value
                    .proxy
                    .as_deref()
                    .and_then(|p| authority(p, DOWNLOAD_SCHEME))
            })
            .collect();
        if a == b && views.iter().all(|v| *v == a) {
            return Outcome::Pass;
        }
        let name = ev.server_or_placeholder();
        Outcome::fail(
            finding(&META, Confidence::Medium, format!("Exchange uses {}:{} but WinHTTP uses {}:{}", a.0, a.1, b.0, b.1))
                .detail("The OCS request goes through Exchange's InternetWebProxy, while CRL/CTL/AIA downloads go through WinHTTP. Two different proxies can have different rules (one may block HTTP/80 to the CRL hosts, or inspect TLS). HealthChecker reports this as \"Exchange Internet Web Proxy doesn't match OS Web Proxy\".")
                .evidence([ex.cite.to_evidence()])
                .evidence(ev.winhttp.iter().map(|w| w.cite.to_evidence()))
                .step(Step::cmd("Use one proxy for both (choose the one that allows the OCS, CRL and CTL URLs):", format!("Set-ExchangeServer -Identity {name} -InternetWebProxy http://{}:{}", b.0, b.1)))
                .step(Step::cmd("…or set WinHTTP to Exchange's proxy:", format!("netsh winhttp set proxy proxy-server=\"{}:{}\" bypass-list=\"<local>\"", a.0, a.1))),
        )
    }
}
