use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct EvidenceIncomplete;

static META: CheckMeta = CheckMeta {
    id: CheckId::EvidenceIncomplete,
    area: "meta",
    title: "The evidence covers what is needed to decide",
    severity: Severity::Info,
    role: Role::Meta,
    priority: 990,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for EvidenceIncomplete {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        // A build without EEMS has no log or events to ask for.
        if let Some(b) = &ev.build
            && crate::builds::judge(ctx.builds, b.value.version, b.value.precision)
                == crate::builds::Verdict::PredatesEems
        {
            return Outcome::Pass;
        }
        let mut missing: Vec<(&str, &str)> = Vec::new();
        if ev.build.is_none() {
            missing.push((
                "the exact build",
                "(Get-Command ExSetup.exe).FileVersionInfo | Format-List FileVersion",
            ));
        }
        if ev.server_mitigations_enabled.is_none() || ev.exchange_proxy.is_none() {
            missing.push((
                "the server's mitigation and proxy settings",
                "Get-ExchangeServer $env:COMPUTERNAME | Format-List Name,AdminDisplayVersion,*Mitigation*,InternetWebProxy,InternetWebProxyBypassList",
            ));
        }
        if ev.org_mitigations_enabled.is_none() {
            missing.push((
                "the organization setting",
                "Get-OrganizationConfig | Format-List MitigationsEnabled",
            ));
        }
        let winhttp_untrusted = ev.untrusted(crate::check::Need::WinHttp).next();
        if !ev.has_winhttp_evidence() {
            missing.push((
                if winhttp_untrusted.is_some() {
                    "the WinHTTP proxy (Health Checker's value looked mangled and was not used)"
                } else {
                    "the WinHTTP proxy"
                },
                "netsh winhttp show proxy",
            ));
        }
        if ev.service.is_none() {
            missing.push((
                "the service state",
                "Get-Service MSExchangeMitigation | Format-List Name,Status,StartType",
            ));
        }
        if ev.log.is_none() {
            missing.push(("the MitigationService log", "Copy-Item \"$env:ExchangeInstallPath\\Logging\\MitigationService\" -Recurse -Destination .\\evidence"));
        }
        if ev.events_seen == 0 && ev.event_exports == 0 {
            missing.push((
                "the mitigation service events",
                "wevtutil qe Application /q:\"*[System[Provider[@Name='MSExchange Mitigation Service'] or (EventID=4999)]]\" /f:xml /rd:true /c:500 > events.xml",
            ));
        }
        // A collect bundle holds one host's evidence; a file naming another
        // server was copied in from elsewhere or renamed: it is read as the
        // host's, and said here.
        let foreign: Vec<&crate::evidence::Cite> = ev
            .collection
            .iter()
            .flat_map(|c| &c.value.other_servers)
            .collect();
        let foreign_what = (!foreign.is_empty()).then(|| {
            let names: Vec<&str> = foreign.iter().map(|c| c.excerpt.as_str()).collect();
            format!(
                "evidence of this host only (the bundle's files also name {})",
                names.join(", ")
            )
        });
        if let Some(w) = &foreign_what {
            missing.push((
                w.as_str(),
                "eems-doctor collect   # run on each server, one bundle per server",
            ));
        }
        if missing.is_empty() {
            return Outcome::Pass;
        }
        let what: Vec<&str> = missing.iter().map(|(w, _)| *w).collect();
        let mut f = finding(&META, Confidence::High, format!("Missing evidence: {}", what.join(", ")))
            .detail("eems-doctor decides only from what it was given. These inputs would let more checks run (`eems-doctor collect` gathers all of them in one go on the server):");
        if !ev.has_winhttp_evidence()
            && let Some(u) = winhttp_untrusted
        {
            f = f.evidence([u.cite.to_evidence()]);
        }
        f = f.evidence(foreign.iter().map(|c| c.to_evidence()));
        for (w, cmd) in missing {
            f = f.step(Step::cmd(format!("Collect {w}:"), cmd));
        }
        Outcome::fail(f)
    }
}
