use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Evidence, Severity, Step};
use crate::id::CheckId;
use crate::network::needs_probe;
use crate::probe;

pub struct CtlUnreachable;

static META: CheckMeta = CheckMeta {
    id: CheckId::CtlUnreachable,
    area: "revocation",
    title: "ctldl.windowsupdate.com is reachable on port 80",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 215,
    stage: None,
    explains: &[],
    fix: Fix::Text("allow HTTP/80 to ctldl.windowsupdate.com through WinHTTP"),
    needs_probes: true,
};

impl Check for CtlUnreachable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(r) = &ev.probes else {
            return needs_probe(
                "a GET of http://ctldl.windowsupdate.com through the WinHTTP proxy",
            );
        };
        let Some(f) = &r.ctl else {
            return Outcome::Skip("the probe results carry no CTL fetch".into());
        };
        let good = f.ok && !f.timed_out && f.status.is_none_or(|s| (200..400).contains(&s));
        if good {
            return Outcome::Pass;
        }
        let what = if f.timed_out {
            format!("timed out after {} ms", f.duration_ms)
        } else if let Some(s) = f.status {
            format!("HTTP {s}")
        } else {
            f.error.clone().unwrap_or_else(|| "failed".into())
        };
        let host = eems_parsers::uri::host(&f.url).to_owned();
        let via = match &f.via_proxy {
            Some(p) => format!(" via the WinHTTP proxy {p}"),
            None => " (direct)".to_owned(),
        };
        Outcome::fail(
            finding(&META, Confidence::High, format!("The Certificate Trust List cannot be fetched from {host}: {what}{via}"))
                .detail("Windows keeps its trusted and disallowed roots current from http://ctldl.windowsupdate.com/* (TCP 80, through WinHTTP) and installs a missing root only when a chain needs it. Roots already in the store keep working, but a chain that needs a root this server does not have yet will fail.")
                .evidence([Evidence::new(probe::source(ev), None, &probe::fetch_line(f))])
                .step(Step::text(format!(
                    "Allow HTTP (TCP 80) to {host}/*{} and DNS resolution of the host.",
                    match &f.via_proxy {
                        Some(p) => format!(" on the WinHTTP proxy {p}"),
                        None => " from the server (or set the WinHTTP proxy: netsh winhttp set proxy <host>:<port>)".to_owned(),
                    }
                )))
                .step(Step::cmd("Check the CTL state on the server:", "certutil -verifyCTL AuthRootWU")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        CtlUnreachable.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn ctl_unreachable_is_a_warning_naming_the_proxy() {
        let mut r = healthy();
        r.ctl = Some(fetch(
            "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
            Some("127.0.0.1:3128"),
            Some(403),
        ));
        let Outcome::Fail(f) = run(&ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }) else {
            panic!()
        };
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "The Certificate Trust List cannot be fetched from ctldl.windowsupdate.com: HTTP 403 via the WinHTTP proxy 127.0.0.1:3128"
        );
        let ev = ServerEvidence {
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        assert!(
            matches!(run(&ServerEvidence::default()), Outcome::Skip(s) if s.contains("eems-doctor probe"))
        );
    }

    #[test]
    fn ctl_timeout() {
        let mut r = healthy();
        let mut f = fetch("http://ctldl.windowsupdate.com/x.cab", None, None);
        f.timed_out = true;
        r.ctl = Some(f);
        let Outcome::Fail(f) = run(&ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }) else {
            panic!()
        };
        assert!(f[0].title.contains("timed out") && f[0].title.ends_with("(direct)"));
    }
}
