use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::proxy::{bypass_matches, exchange_bypass_matches};

pub struct ProxyBypassMismatch;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyBypassMismatch,
    area: "proxy",
    title: "Exchange and WinHTTP bypass the same hosts",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 235,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

/// The hosts EEMS reaches: the OCS request (Exchange's proxy settings) and
/// the revocation/CTL downloads Windows makes for it (WinHTTP's).
const EEMS_HOSTS: [&str; 6] = [
    "officeclient.microsoft.com",
    "crl3.digicert.com",
    "crl4.digicert.com",
    "www.microsoft.com",
    "crl.microsoft.com",
    "ctldl.windowsupdate.com",
];

/// WinHTTP's `<local>` (names without a dot) has no Exchange equivalent.
const LOCAL: &str = "<local>";

fn norm(e: &str) -> String {
    e.trim().to_ascii_lowercase()
}

/// Whether the hosts `entry` bypasses are bypassed by `list` too: the same
/// entry, or one that matches it (`*.contoso.com` covers `mail.contoso.com`;
/// a pattern is tried as a name, so `*` covers `*.contoso.com`).
fn covered(entry: &str, list: &[String], exchange: bool) -> bool {
    let e = norm(entry);
    list.iter().any(|o| {
        norm(o) == e
            || e != LOCAL
                && if exchange {
                    exchange_bypass_matches(o, &e)
                } else {
                    bypass_matches(o, &e)
                }
    })
}

/// One entry of one list the other list does not cover.
struct Gap<'a> {
    entry: &'a str,
    /// The EEMS hosts it sends direct in one stack only.
    hosts: Vec<&'static str>,
}

fn gaps<'a>(from: &'a [String], other: &[String], from_exchange: bool) -> Vec<Gap<'a>> {
    from.iter()
        .filter(|e| !e.trim().is_empty() && !covered(e, other, !from_exchange))
        .map(|e| Gap {
            entry: e.trim(),
            hosts: EEMS_HOSTS
                .into_iter()
                .filter(|h| {
                    if from_exchange {
                        exchange_bypass_matches(e, h)
                    } else {
                        bypass_matches(e, h)
                    }
                })
                .collect(),
        })
        .collect()
}

/// The entry as `Set-ExchangeServer` takes it: `*.contoso.com` and
/// `*contoso.com` → `contoso.com`; `None` for `<local>` and any other wildcard.
fn exchange_form(entry: &str) -> Option<String> {
    let e = entry.trim();
    if norm(e) == LOCAL {
        return None;
    }
    let rest = e
        .strip_prefix("*.")
        .or_else(|| e.strip_prefix('*'))
        .unwrap_or(e);
    (!rest.is_empty() && !rest.contains(['*', '?'])).then(|| rest.to_owned())
}

/// PowerShell's single-quoted string.
fn ps_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn describe(g: &Gap<'_>, direct_in: &str, proxied_in: &str) -> String {
    let hosts = if g.hosts.is_empty() {
        String::new()
    } else {
        format!(" (of the hosts EEMS uses: {})", g.hosts.join(", "))
    };
    format!(
        "`{}`: hosts matching it go direct in {direct_in} but through the proxy in {proxied_in}{hosts}",
        g.entry
    )
}

impl Check for ProxyBypassMismatch {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let (Some(ex), Some(list), Some(w)) =
            (&ev.exchange_proxy, &ev.exchange_bypass, ev.winhttp_proxy())
        else {
            return Outcome::Skip("needs InternetWebProxy with its InternetWebProxyBypassList, and a WinHTTP proxy: run `Get-ExchangeServer <name> | Format-List InternetWebProxy,InternetWebProxyBypassList` and `netsh winhttp show proxy`".into());
        };
        let (Some(ex_proxy), Some(w_proxy)) = (&ex.value, &w.value.proxy) else {
            return Outcome::Skip(
                "a bypass list matters only when both stacks use a proxy (see proxy-exchange-missing / proxy-winhttp-missing)".into(),
            );
        };
        let wl = &w.value.bypass;
        let xl = &list.value;
        let only_winhttp = gaps(wl, xl, false);
        let only_exchange = gaps(xl, wl, true);
        if only_winhttp.is_empty() && only_exchange.is_empty() {
            return Outcome::Pass;
        }
        let touches_eems = only_winhttp
            .iter()
            .chain(&only_exchange)
            .any(|g| !g.hosts.is_empty());
        // Lists that differ only on the site's own hosts (`<local>`,
        // `*.contoso.com`) are common and harmless to EEMS: said, as info.
        let (confidence, severity) = if touches_eems {
            (Confidence::Medium, Severity::Warning)
        } else {
            (Confidence::Low, Severity::Info)
        };
        let mut lines: Vec<String> = only_winhttp
            .iter()
            .map(|g| {
                describe(
                    g,
                    "WinHTTP (CRL/CTL/AIA downloads)",
                    "Exchange (the OCS request)",
                )
            })
            .collect();
        lines.extend(only_exchange.iter().map(|g| {
            describe(
                g,
                "Exchange (the OCS request)",
                "WinHTTP (CRL/CTL/AIA downloads)",
            )
        }));
        let quote = |l: &[String]| {
            if l.is_empty() {
                "(empty)".to_owned()
            } else {
                l.join(";")
            }
        };
        // The union makes them agree without sending anything new through the
        // proxy; `<local>` stays WinHTTP's (Exchange has no such entry).
        let mut union: Vec<&str> = Vec::new();
        for e in wl.iter().chain(xl).map(|e| e.trim()) {
            if !e.is_empty() && !union.iter().any(|u| norm(u) == norm(e)) {
                union.push(e);
            }
        }
        // Set-ExchangeServer takes no wildcards (CSS-Exchange #1091): a leading
        // `*.` becomes the domain (an Exchange entry matches names containing
        // it); other wildcards and `<local>` have no Exchange form.
        let mut for_exchange: Vec<String> = Vec::new();
        let mut no_form: Vec<&str> = Vec::new();
        for e in &union {
            match exchange_form(e) {
                Some(x) if !for_exchange.iter().any(|y| norm(y) == norm(&x)) => {
                    for_exchange.push(x);
                }
                Some(_) => {}
                None => no_form.push(e),
            }
        }
        let server = ev.server_or_placeholder();
        let exchange_cmd = if for_exchange.is_empty() {
            format!("Set-ExchangeServer -Identity {server} -InternetWebProxyBypassList $null")
        } else {
            format!(
                "Set-ExchangeServer -Identity {server} -InternetWebProxyBypassList {}",
                for_exchange
                    .iter()
                    .map(|e| ps_quote(e))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        let netsh = format!(
            "netsh winhttp set proxy proxy-server=\"{w_proxy}\" bypass-list=\"{}\"",
            union.join(";")
        );
        let mut f = finding(
            &META,
            confidence,
            format!(
                "The Exchange and WinHTTP bypass lists differ: {} entr{} in one only",
                lines.len(),
                if lines.len() == 1 { "y" } else { "ies" }
            ),
        )
        .detail(format!(
            "Exchange's InternetWebProxyBypassList (read: {}; proxy {ex_proxy}, from {}) and WinHTTP's bypass list (read: {}; proxy {w_proxy}, from {}) decide which hosts skip the proxy for the OCS request and for Windows' certificate downloads. Compared entry by entry: {}. Where direct egress is blocked, the stack that goes direct fails; where the proxy inspects TLS, the two stacks see different certificates.",
            quote(xl),
            list.cite.source,
            quote(&w.value.bypass),
            w.cite.source,
            lines.join("; ")
        ))
        .severity(severity)
        .evidence([list.cite.to_evidence(), w.cite.to_evidence()]);
        if !only_exchange.is_empty() || !only_winhttp.is_empty() {
            f = f
                .step(Step::cmd(
                    if no_form.is_empty() {
                        "Give Exchange the same bypass list (the union of both; Exchange takes no wildcards, so `*.domain` is written `domain`):".to_owned()
                    } else {
                        format!(
                            "Give Exchange the same bypass list (the union of both; Exchange takes no wildcards, so `*.domain` is written `domain`, and {} has no Exchange form):",
                            no_form.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
                        )
                    },
                    exchange_cmd,
                ))
                .step(Step::cmd(
                    "and WinHTTP the same (from an elevated prompt):",
                    netsh,
                ))
                .step(Step::text(
                    "Or remove the extra entries from the other list instead, if those hosts should go through the proxy; never bypass officeclient.microsoft.com where direct egress is blocked (proxy-bypass-ocs).",
                ));
        }
        Outcome::fail(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Cite, Fact, WinHttpSetting, WinHttpView};

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        ProxyBypassMismatch.run(ev, &Context::embedded(&b))
    }

    fn ev(exchange: &[&str], winhttp: &[&str]) -> ServerEvidence {
        let strings = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        ServerEvidence {
            server: Some("EX01".into()),
            exchange_proxy: Some(Fact::new(
                Some("http://proxy.contoso.com:8080/".into()),
                Cite::new(
                    "gx.txt",
                    Some(9),
                    "InternetWebProxy : http://proxy.contoso.com:8080/",
                ),
            )),
            exchange_bypass: Some(Fact::new(
                strings(exchange),
                Cite::new("gx.txt", Some(10), "InternetWebProxyBypassList : {…}"),
            )),
            winhttp: vec![Fact::new(
                WinHttpSetting {
                    view: WinHttpView::Netsh,
                    proxy: Some("proxy.contoso.com:8080".into()),
                    bypass: strings(winhttp),
                },
                Cite::new(
                    "netsh.txt",
                    Some(4),
                    "Proxy Server(s) : proxy.contoso.com:8080",
                ),
            )],
            ..ServerEvidence::default()
        }
    }

    #[test]
    fn same_or_covered_entries_pass() {
        assert_eq!(
            run(&ev(
                &["mail.contoso.com", "*.fabrikam.com"],
                &["*.fabrikam.com", "MAIL.contoso.com"]
            )),
            Outcome::Pass
        );
        // A wildcard in the other list covers a name, not the reverse.
        let Outcome::Fail(f) = run(&ev(&["mail.contoso.com"], &["*.contoso.com"])) else {
            panic!()
        };
        assert!(f[0].title.contains("1 entry in one only"), "{}", f[0].title);
        assert!(
            f[0].detail
                .contains("`*.contoso.com`: hosts matching it go direct in WinHTTP")
        );
        assert!(covered(
            "mail.contoso.com",
            &["*.contoso.com".into()],
            false
        ));
        assert!(!covered(
            "*.contoso.com",
            &["mail.contoso.com".into()],
            true
        ));
        assert!(!covered("<local>", &["*".into()], true));
    }

    #[test]
    fn winhttp_only_microsoft_wildcard_names_the_eems_hosts_and_both_commands() {
        let Outcome::Fail(f) = run(&ev(
            &["mail.contoso.com"],
            &["<local>", "*.microsoft.com", "mail.contoso.com"],
        )) else {
            panic!()
        };
        let f = &f[0];
        assert_eq!(f.confidence, Confidence::Medium);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.title.contains("2 entries in one only"), "{}", f.title);
        assert!(
            f.detail
                .contains("`*.microsoft.com`: hosts matching it go direct in WinHTTP"),
            "{}",
            f.detail
        );
        assert!(
            f.detail
                .contains("officeclient.microsoft.com, www.microsoft.com, crl.microsoft.com"),
            "{}",
            f.detail
        );
        // The raw values and where they were read.
        assert!(f.detail.contains("read: <local>;*.microsoft.com;mail.contoso.com; proxy proxy.contoso.com:8080, from netsh.txt"), "{}", f.detail);
        assert!(
            f.detail.contains(
                "read: mail.contoso.com; proxy http://proxy.contoso.com:8080/, from gx.txt"
            ),
            "{}",
            f.detail
        );
        let steps = format!("{:?}", f.remediation);
        assert!(steps.contains("Set-ExchangeServer -Identity EX01 -InternetWebProxyBypassList 'microsoft.com','mail.contoso.com'"), "{steps}");
        assert!(steps.contains(r#"netsh winhttp set proxy proxy-server=\"proxy.contoso.com:8080\" bypass-list=\"<local>;*.microsoft.com;mail.contoso.com\""#), "{steps}");
        assert!(steps.contains("`<local>` has no Exchange form"), "{steps}");
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn exchange_forms() {
        assert_eq!(
            exchange_form("*.contoso.com").as_deref(),
            Some("contoso.com")
        );
        assert_eq!(
            exchange_form("*contoso.com").as_deref(),
            Some("contoso.com")
        );
        assert_eq!(
            exchange_form(" mail.contoso.com ").as_deref(),
            Some("mail.contoso.com")
        );
        assert_eq!(exchange_form("<LOCAL>"), None);
        assert_eq!(exchange_form("10.*"), None);
        assert_eq!(exchange_form("*"), None);
    }

    #[test]
    fn exchange_only_entries_outside_eems_are_low_confidence() {
        let Outcome::Fail(f) = run(&ev(&["intranet.contoso.com"], &[])) else {
            panic!()
        };
        assert_eq!(f[0].confidence, Confidence::Low);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(
            f[0].detail.contains(
                "go direct in Exchange (the OCS request) but through the proxy in WinHTTP"
            )
        );
        assert!(f[0].detail.contains("WinHTTP's bypass list (read: (empty)"));
    }

    #[test]
    fn without_both_proxies_it_skips() {
        let mut e = ev(&["a"], &["b"]);
        e.exchange_proxy = Some(Fact::new(None, Cite::new("gx.txt", None, "")));
        assert!(matches!(run(&e), Outcome::Skip(_)));
        assert!(matches!(run(&ServerEvidence::default()), Outcome::Skip(_)));
    }
}
