use crate::check::{Check, CheckMeta, Context, Fix, Need, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::proxy::{OCS_SCHEME, authority};

pub struct ProxyWinhttpMissing;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyWinhttpMissing,
    area: "proxy",
    title: "When Exchange uses a proxy, WinHTTP uses it too",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 90,
    stage: None,
    explains: &[CheckId::TlsValidationFailed, CheckId::ProxyMismatch],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ProxyWinhttpMissing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let ex = ev.exchange_proxy.as_ref()?;
        match (&ex.value, ev.winhttp_proxy()) {
            (None, _) => Some(crate::check::seen(
                "InternetWebProxy is not set, so WinHTTP needs no proxy to match it",
                &ex.cite,
            )),
            (Some(p), Some(w)) => Some(crate::check::seen(
                format_args!(
                    "InternetWebProxy is {p} and WinHTTP has a proxy too ({})",
                    w.value.proxy.as_deref().unwrap_or_default()
                ),
                &w.cite,
            )),
            (Some(_), None) => None,
        }
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(ex) = &ev.exchange_proxy else {
            if let Some(note) = ev.untrusted_note(Need::ExchangeProxy) {
                return Outcome::Skip(note);
            }
            return Outcome::Skip("no InternetWebProxy value: run `Get-ExchangeServer <name> | Format-List InternetWebProxy`".into());
        };
        let Some(proxy) = &ex.value else {
            return Outcome::Pass;
        };
        if !ev.has_winhttp_evidence() {
            if let Some(note) = ev.untrusted_note(Need::WinHttp) {
                return Outcome::Skip(note);
            }
            return Outcome::Skip("no WinHTTP evidence: run `netsh winhttp show proxy`".into());
        }
        if ev.winhttp_proxy().is_some() {
            return Outcome::Pass;
        }
        // Carry Exchange's bypass entries over rather than wiping WinHTTP's list.
        let bypass = ev
            .exchange_bypass
            .as_ref()
            .map(|b| b.value.join(";"))
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "<local>".to_owned());
        let hp = authority(proxy, OCS_SCHEME)
            .map_or_else(|| "<proxy>:<port>".to_owned(), |(h, p)| format!("{h}:{p}"));
        Outcome::fail(
            finding(&META, Confidence::High, "Exchange uses a proxy but WinHTTP goes direct: revocation and CTL downloads bypass the proxy")
                .detail(format!(
                    "InternetWebProxy is {proxy}, so the service sends its OCS request through the proxy. Certificate validation, however, runs in Windows (CryptoAPI), which fetches CRLs, the CTL and issuer certificates through the WinHTTP proxy — and WinHTTP is set to direct access. Where only the proxy reaches the Internet, the chain's revocation check fails and the service reports a TLS/chain validation failure every hour."
                ))
                .evidence([ex.cite.to_evidence()])
                .evidence(ev.winhttp.iter().map(|w| w.cite.to_evidence()))
                .step(Step::cmd("Set the WinHTTP proxy to the same proxy (elevated prompt on the server):", format!("netsh winhttp set proxy proxy-server=\"{hp}\" bypass-list=\"{bypass}\"")))
                .step(Step::cmd(
                    "Restart the service so the next fetch uses it:",
                    format!("Invoke-Command -ComputerName {} {{ Restart-Service MSExchangeMitigation }}", ev.server_or_placeholder()),
                )),
        )
    }
}
