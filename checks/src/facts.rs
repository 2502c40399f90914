//! "What eems-doctor saw": the server's facts as read, each with its
//! citation, or "not collected" with the command that collects it; and the
//! evidence window (earliest and latest timestamp seen, the collection time).
//! Health Checker's users expect the values, not only verdicts on them.

use crate::evidence::{Cite, ServerEvidence, WinHttpView};
use crate::finding::Evidence;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// One fact as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactRow {
    /// Stable key (the JSON field name in `facts`).
    pub key: &'static str,
    /// The label shown to people.
    pub label: &'static str,
    /// The value as shown; `None` = not collected.
    pub value: Option<String>,
    /// Where it was read.
    pub cite: Option<Evidence>,
    /// The command that collects it, when it was not collected.
    pub collect: Option<&'static str>,
}

/// The facts of one server. Only the values read are stored (a
/// 50,000-server listing keeps every diagnosis); [`Facts::rows`] adds the
/// ones not collected, in display order, with their commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// The values read, in display order.
    known: Vec<FactRow>,
    /// Every fact, by key, label and collecting command, in display order.
    #[serde(skip)]
    defs: Vec<(&'static str, &'static str, &'static str)>,
    /// Each mitigation's status as `Get-Mitigations.ps1` listed it (the
    /// applied and blocked lists are in `known` already).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    get_mitigations: Vec<InventoryRow>,
    /// The mitigation XML's signature as verified from a captured answer
    /// (set by the diagnosis, which knows the clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Boxed: a 50,000-server listing keeps every diagnosis, most without one.
    pub xml_signature: Option<Box<crate::fetch::xml_signature::XmlSignatureSummary>>,
}

/// Most rows of the mitigation inventory (a hostile 10,000-item list is
/// cut; the rest are counted).
pub const MAX_INVENTORY: usize = 50;

/// One mitigation as one source lists it (issue 16): Health Checker's
/// `MitigationsApplied`/`MitigationsBlocked` (from `Get-ExchangeServer`)
/// and `Get-Mitigations.ps1`'s status per mitigation. Sources are not
/// merged: when they disagree, the reader sees both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryRow {
    /// As written (`M1`, `M1.1`, `PING1`).
    pub id: String,
    /// `applied`, `blocked`, or Get-Mitigations.ps1's status as printed.
    pub status: String,
    /// `MitigationsApplied`, `MitigationsBlocked` or `Get-Mitigations.ps1`.
    pub source: &'static str,
    pub cite: Evidence,
}

impl Facts {
    /// A value read (`None`: not collected).
    pub fn get(&self, key: &str) -> Option<&FactRow> {
        self.known.iter().find(|r| r.key == key)
    }

    /// Whether facts were gathered at all (a server nothing was read about
    /// has none).
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// The citations of the values read (to make their paths relative).
    pub fn cites_mut(&mut self) -> impl Iterator<Item = &mut Evidence> {
        self.known
            .iter_mut()
            .filter_map(|r| r.cite.as_mut())
            .chain(self.get_mitigations.iter_mut().map(|r| &mut r.cite))
    }

    /// The mitigation inventory: the applied, then the blocked list, then
    /// `Get-Mitigations.ps1`'s rows, at most [`MAX_INVENTORY`], and how
    /// many were left out. The lists are read back from their facts rows
    /// (nothing is stored twice: a 50,000-server listing keeps them all).
    pub fn inventory(&self) -> (Vec<InventoryRow>, usize) {
        let mut rows = Vec::new();
        let mut left_out = 0;
        let lists = [
            ("mitigations_applied", "applied", "MitigationsApplied"),
            ("mitigations_blocked", "blocked", "MitigationsBlocked"),
        ];
        for (key, status, source) in lists {
            let Some(r) = self.get(key) else { continue };
            let (Some(v), Some(cite)) = (&r.value, &r.cite) else {
                continue;
            };
            // `(empty)`, or a list cut for its size (`… N more bytes`).
            for id in v
                .split(", ")
                .filter(|i| !i.starts_with('(') && !i.contains('…'))
            {
                if rows.len() < MAX_INVENTORY {
                    rows.push(InventoryRow {
                        id: id.to_owned(),
                        status: status.to_owned(),
                        source,
                        cite: cite.clone(),
                    });
                } else {
                    left_out += 1;
                }
            }
        }
        for r in &self.get_mitigations {
            if rows.len() < MAX_INVENTORY {
                rows.push(r.clone());
            } else {
                left_out += 1;
            }
        }
        (rows, left_out)
    }

    /// Every fact in display order: the values read, and the others as
    /// not collected with the command that collects them.
    pub fn rows(&self) -> Vec<FactRow> {
        self.defs
            .iter()
            .map(|(key, label, collect)| match self.get(key) {
                Some(r) => r.clone(),
                None => FactRow {
                    key,
                    label,
                    value: None,
                    cite: None,
                    collect: Some(collect),
                },
            })
            .collect()
    }
}

/// A point in time the evidence shows, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub time: DateTime<Utc>,
    pub cite: Evidence,
}

/// The earliest and latest timestamps in the evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    pub earliest: Option<Stamp>,
    pub latest: Option<Stamp>,
}

impl Window {
    fn see(&mut self, time: Option<DateTime<Utc>>, cite: impl Fn() -> Evidence) {
        let Some(t) = time else { return };
        if self.earliest.as_ref().is_none_or(|s| t < s.time) {
            self.earliest = Some(Stamp {
                time: t,
                cite: cite(),
            });
        }
        if self.latest.as_ref().is_none_or(|s| t > s.time) {
            self.latest = Some(Stamp {
                time: t,
                cite: cite(),
            });
        }
    }
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The MitigationService log's file, for facts the log timeline keeps
/// without a line (the last successful fetch).
fn log_source(ev: &ServerEvidence) -> String {
    ev.log
        .as_ref()
        .and_then(|l| l.software_version.as_ref())
        .map(|v| v.cite.source.clone())
        .or_else(|| {
            ev.inputs
                .iter()
                .rev()
                .find(|i| i.kind == eems_parsers::Kind::MitigationLog)
                .map(|i| i.path.to_string())
        })
        .unwrap_or_else(|| "MitigationService log".to_owned())
}

/// Earliest and latest timestamps of the log, the events, the Watson
/// reports and the live probe (the collection time is not evidence of the
/// server's state, so it is not part of the window).
pub fn window(ev: &ServerEvidence) -> Window {
    let mut w = Window::default();
    if let Some(log) = &ev.log {
        let src = log_source(ev);
        w.see(log.first_time, || {
            Evidence::new(src.clone(), None, "first timestamp of the log")
        });
        w.see(log.last_time, || {
            Evidence::new(src.clone(), None, "last timestamp of the log")
        });
        for o in log.causes.values() {
            w.see(o.first_time, || o.first.to_evidence());
            w.see(o.last_time, || o.last.to_evidence());
        }
    }
    for o in ev.event_causes.values().chain(ev.watson.as_ref()) {
        w.see(o.first_time, || o.first.to_evidence());
        w.see(o.last_time, || o.last.to_evidence());
    }
    if let Some(p) = &ev.probes
        && let Ok(t) = DateTime::parse_from_rfc3339(&p.started_at)
    {
        w.see(Some(t.with_timezone(&Utc)), || {
            Evidence::new("probe", None, &format!("probe started {}", p.started_at))
        });
    }
    w
}

/// The collection time of a collect bundle, when its manifest says it.
pub fn collected_at(ev: &ServerEvidence) -> Option<(DateTime<Utc>, &Cite)> {
    let c = ev.collection.as_ref()?;
    let t = DateTime::parse_from_rfc3339(c.value.collected_at.as_deref()?).ok()?;
    Some((t.with_timezone(&Utc), &c.cite))
}

fn yes_no(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(empty)".to_owned()
    } else {
        v.join(", ")
    }
}

const GET_EXCHANGESERVER: &str = "Get-ExchangeServer $env:COMPUTERNAME | Format-List Name,ServerRole,AdminDisplayVersion,*Mitigation*,InternetWebProxy,InternetWebProxyBypassList";

/// The facts of one server.
pub fn of(ev: &ServerEvidence) -> Facts {
    let mut known = Vec::new();
    let mut defs = Vec::new();
    let mut row = |key: &'static str,
                   label: &'static str,
                   found: Option<(String, Evidence)>,
                   collect: &'static str| {
        defs.push((key, label, collect));
        if let Some((v, c)) = found {
            known.push(FactRow {
                key,
                label,
                // A 100 MB proxy value is quoted cut, as in findings (issue 18).
                value: Some(crate::finding::bound_values(v)),
                cite: Some(c),
                collect: None,
            });
        }
    };
    row(
        "role",
        "Role",
        ev.is_edge.as_ref().map(|f| {
            let role = if f.value { "Edge Transport" } else { "Mailbox" };
            (role.to_owned(), f.cite.to_evidence())
        }),
        GET_EXCHANGESERVER,
    );
    row(
        "build",
        "Build",
        ev.build.as_ref().map(|b| {
            let precision = match b.value.precision {
                crate::builds::Precision::Exact => "exact build",
                crate::builds::Precision::Cu => "CU only, the SU is unknown",
            };
            (
                format!("{} ({precision})", b.value.version),
                b.cite.to_evidence(),
            )
        }),
        "(Get-Command ExSetup.exe).FileVersionInfo | Format-List FileVersion",
    );
    row(
        "org_mitigations_enabled",
        "Org MitigationsEnabled",
        ev.org_mitigations_enabled
            .as_ref()
            .map(|f| (yes_no(f.value), f.cite.to_evidence())),
        "Get-OrganizationConfig | Format-List MitigationsEnabled",
    );
    row(
        "server_mitigations_enabled",
        "Server MitigationsEnabled",
        ev.server_mitigations_enabled
            .as_ref()
            .map(|f| (yes_no(f.value), f.cite.to_evidence())),
        GET_EXCHANGESERVER,
    );
    row(
        "mitigations_applied",
        "Mitigations applied",
        ev.mitigations_applied
            .as_ref()
            .map(|f| (list(&f.value), f.cite.to_evidence())),
        GET_EXCHANGESERVER,
    );
    row(
        "mitigations_blocked",
        "Mitigations blocked",
        ev.mitigations_blocked
            .as_ref()
            .map(|f| (list(&f.value), f.cite.to_evidence())),
        GET_EXCHANGESERVER,
    );
    row(
        "service",
        "Service",
        ev.service.as_ref().map(|f| {
            let v = match &f.value.start_type {
                Some(st) => format!("{}, start type {}", f.value.status.word(), st.word()),
                None => format!("{} (start type not shown)", f.value.status.word()),
            };
            (v, f.cite.to_evidence())
        }),
        "Get-Service MSExchangeMitigation | Format-List Name,Status,StartType",
    );
    row(
        "exchange_proxy",
        "InternetWebProxy",
        ev.exchange_proxy.as_ref().map(|f| {
            let v = f.value.clone().unwrap_or_else(|| "(not set)".to_owned());
            (v, f.cite.to_evidence())
        }),
        GET_EXCHANGESERVER,
    );
    row(
        "exchange_bypass",
        "InternetWebProxy bypass",
        ev.exchange_bypass
            .as_ref()
            .map(|f| (list(&f.value), f.cite.to_evidence())),
        GET_EXCHANGESERVER,
    );
    row(
        "winhttp_proxy",
        "WinHTTP proxy",
        winhttp(ev),
        "netsh winhttp show proxy",
    );
    row(
        "last_success",
        "Last successful fetch",
        ev.log.as_ref().map(|l| {
            let v = match l.last_success {
                Some(t) => rfc3339(t),
                None => format!(
                    "none in the log ({} fetch attempt{}, none succeeded)",
                    l.fetch_attempts,
                    if l.fetch_attempts == 1 { "" } else { "s" }
                ),
            };
            (
                v,
                Evidence::new(log_source(ev), None, "fetches in the MitigationService log"),
            )
        }),
        "Copy-Item \"$env:ExchangeInstallPath\\Logging\\MitigationService\" -Recurse -Destination .\\evidence",
    );
    // No failure in a log or event export that was read is a value too.
    let none_seen = (ev.log.is_some() || ev.event_exports > 0).then(|| {
        let src = if ev.log.is_some() {
            log_source(ev)
        } else {
            ev.inputs
                .iter()
                .find(|i| i.kind == eems_parsers::Kind::EventExport)
                .map_or_else(|| "events".to_owned(), |i| i.path.to_string())
        };
        (
            "none seen".to_owned(),
            Evidence::new(src, None, "no failure in the log or events read"),
        )
    });
    row(
        "last_failure",
        "Last failure",
        last_failure(ev).or(none_seen),
        "wevtutil qe Application /q:\"*[System[Provider[@Name='MSExchange Mitigation Service']]]\" /f:xml /rd:true /c:500 > events.xml",
    );
    let w = window(ev);
    let stamp = |s: Option<Stamp>| s.map(|s| (rfc3339(s.time), s.cite));
    row(
        "evidence_earliest",
        "Evidence from",
        stamp(w.earliest),
        "eems-doctor collect",
    );
    row(
        "evidence_latest",
        "Evidence until",
        stamp(w.latest),
        "eems-doctor collect",
    );
    row(
        "collected_at",
        "Collected at",
        collected_at(ev).map(|(t, c)| (rfc3339(t), c.to_evidence())),
        "eems-doctor collect",
    );
    let get_mitigations = ev
        .mitigation_statuses
        .iter()
        .take(MAX_INVENTORY)
        .map(|f| InventoryRow {
            id: f.value.id.clone(),
            status: f.value.status.clone(),
            source: "Get-Mitigations.ps1",
            cite: f.cite.to_evidence(),
        })
        .collect();
    Facts {
        known,
        defs,
        get_mitigations,
        xml_signature: None,
    }
}

fn view_name(v: WinHttpView) -> &'static str {
    match v {
        WinHttpView::Netsh => "netsh",
        WinHttpView::Advproxy => "advproxy",
        WinHttpView::RegistryNative => "registry 64-bit",
        WinHttpView::RegistryWow6432 => "registry 32-bit",
        WinHttpView::HealthChecker => "Health Checker",
    }
}

/// The WinHTTP proxy and bypass list; every view when they differ.
fn winhttp(ev: &ServerEvidence) -> Option<(String, Evidence)> {
    let first = ev.winhttp.first()?;
    let shown = |s: &crate::evidence::WinHttpSetting| match &s.proxy {
        None => "direct (no proxy)".to_owned(),
        Some(p) if s.bypass.is_empty() => p.clone(),
        Some(p) => format!("{p}, bypass {}", s.bypass.join(";")),
    };
    let same = ev
        .winhttp
        .iter()
        .all(|f| f.value.proxy == first.value.proxy && f.value.bypass == first.value.bypass);
    let v = if same {
        shown(&first.value)
    } else {
        ev.winhttp
            .iter()
            .map(|f| format!("{}: {}", view_name(f.value.view), shown(&f.value)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Some((v, first.cite.to_evidence()))
}

/// The latest failure the log or the events show, with its cause.
fn last_failure(ev: &ServerEvidence) -> Option<(String, Evidence)> {
    let log = ev.log.iter().flat_map(|l| l.causes.iter());
    let (cause, o) = log
        .chain(ev.event_causes.iter())
        .filter(|(_, o)| o.last_time.is_some())
        .max_by_key(|(_, o)| o.last_time)?;
    let t = o.last_time?;
    Some((
        format!("{} ({})", rfc3339(t), cause.as_str()),
        o.last.to_evidence(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Fact, LogTimeline, Occurrences, ServiceFact, ServiceStatus};
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 2, 10, h, 0, 0).unwrap()
    }

    #[test]
    fn the_inventory_lists_each_mitigation_with_its_source() {
        use crate::evidence::{Cite, MitigationStatus};
        let ex = Cite::new(
            "get-exchangeserver-fl.txt",
            Some(2),
            "MitigationsApplied : {PING1, M1.1}",
        );
        let ev = ServerEvidence {
            mitigations_applied: Some(Fact::new(vec!["PING1".into(), "M1.1".into()], ex.clone())),
            mitigations_blocked: Some(Fact::new(vec!["M2".into()], ex)),
            mitigation_statuses: vec![Fact::new(
                MitigationStatus {
                    id: "M2".into(),
                    status: "Blocked".into(),
                },
                Cite::new(
                    "get-mitigations.txt",
                    Some(9),
                    "Mitigation Id : M2; Status : Blocked",
                ),
            )],
            ..ServerEvidence::default()
        };
        let (rows, left_out) = of(&ev).inventory();
        assert_eq!(left_out, 0);
        let seen: Vec<(&str, &str, &str, Option<usize>)> = rows
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.status.as_str(),
                    r.cite.source.as_str(),
                    r.cite.line,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("PING1", "applied", "get-exchangeserver-fl.txt", Some(2)),
                ("M1.1", "applied", "get-exchangeserver-fl.txt", Some(2)),
                ("M2", "blocked", "get-exchangeserver-fl.txt", Some(2)),
                ("M2", "Blocked", "get-mitigations.txt", Some(9)),
            ]
        );
        // An empty list is no mitigation; a huge one is cut and counted.
        let empty = ServerEvidence {
            mitigations_applied: Some(Fact::new(Vec::new(), Cite::new("x", None, ""))),
            ..ServerEvidence::default()
        };
        assert!(of(&empty).inventory().0.is_empty());
        let many = ServerEvidence {
            mitigations_applied: Some(Fact::new(
                (0..80).map(|i| format!("M{i}")).collect(),
                Cite::new("x", None, ""),
            )),
            ..ServerEvidence::default()
        };
        let (rows, left_out) = of(&many).inventory();
        assert_eq!((rows.len(), left_out), (MAX_INVENTORY, 30));
    }

    #[test]
    fn unknown_values_say_how_to_collect_them() {
        let f = of(&ServerEvidence::default());
        assert!(!f.is_empty());
        assert_eq!(f.rows().len(), 15);
        assert!(Facts::default().rows().is_empty());
        assert!(f.rows().iter().all(|r| r.value.is_none()
            && r.cite.is_none()
            && r.collect.is_some_and(|c| !c.is_empty())));
        assert!(f.get("service").is_none());
        assert_eq!(
            f.rows()
                .iter()
                .find(|r| r.key == "service")
                .and_then(|r| r.collect),
            Some("Get-Service MSExchangeMitigation | Format-List Name,Status,StartType")
        );
    }

    #[test]
    fn values_carry_their_citation_and_the_window_spans_log_and_events() {
        let mut ev = ServerEvidence {
            service: Some(Fact::new(
                ServiceFact {
                    status: ServiceStatus::State(eems_parsers::exchange::ServiceState::Running),
                    start_type: Some(eems_parsers::exchange::StartType::Automatic),
                },
                Cite::new("get-service.txt", Some(4), "Running  MSExchangeMitigation"),
            )),
            ..ServerEvidence::default()
        };
        let mut log = LogTimeline {
            first_time: Some(t(3)),
            last_time: Some(t(9)),
            last_success: Some(t(8)),
            ..LogTimeline::default()
        };
        log.causes.insert(
            crate::classify::Cause::UntrustedEndpoint,
            Occurrences::new(Some(t(7)), Cite::new("a.LOG", Some(12), "untrusted")),
        );
        ev.log = Some(log);
        ev.event_causes.insert(
            crate::classify::Cause::UntrustedEndpoint,
            Occurrences::new(Some(t(11)), Cite::new("events.xml", Some(40), "1008")),
        );
        let f = of(&ev);
        let service = f.get("service").unwrap();
        assert_eq!(
            service.value.as_deref(),
            Some("running, start type automatic")
        );
        assert_eq!(service.cite.as_ref().unwrap().line, Some(4));
        assert!(service.collect.is_none());
        assert_eq!(
            f.get("last_success").unwrap().value.as_deref(),
            Some("2025-02-10T08:00:00Z")
        );
        let last = f.get("last_failure").unwrap();
        assert!(
            last.value
                .as_deref()
                .unwrap()
                .starts_with("2025-02-10T11:00:00Z")
        );
        assert_eq!(last.cite.as_ref().unwrap().source, "events.xml");
        let w = window(&ev);
        assert_eq!(w.earliest.unwrap().time, t(3));
        assert_eq!(w.latest.as_ref().unwrap().time, t(11));
        assert_eq!(w.latest.unwrap().cite.line, Some(40));
    }

    #[test]
    fn winhttp_views_listed_when_they_differ() {
        use crate::evidence::WinHttpSetting;
        let s = |view, proxy: Option<&str>| {
            Fact::new(
                WinHttpSetting {
                    view,
                    proxy: proxy.map(str::to_owned),
                    bypass: vec![],
                },
                Cite::new("x.txt", Some(1), "x"),
            )
        };
        let mut ev = ServerEvidence {
            winhttp: vec![
                s(WinHttpView::RegistryNative, Some("proxy:3128")),
                s(WinHttpView::RegistryWow6432, Some("proxy:3128")),
            ],
            ..ServerEvidence::default()
        };
        assert_eq!(winhttp(&ev).unwrap().0, "proxy:3128");
        ev.winhttp[1] = s(WinHttpView::RegistryWow6432, None);
        assert_eq!(
            winhttp(&ev).unwrap().0,
            "registry 64-bit: proxy:3128; registry 32-bit: direct (no proxy)"
        );
    }
}
