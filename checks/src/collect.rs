//! Parsed inputs → one [`ServerEvidence`] per server.
//!
//! Inputs are grouped by the caller (files in one directory are one server's
//! evidence). Inside a group, names found in the files (log `ServerName`,
//! event `Computer`, Format-List `Name`, Health Checker `Name:`) are matched
//! case-insensitively with the domain part ignored; a multi-server
//! `Get-ExchangeServer` listing or Health Checker file yields one server per
//! record.
//!
//! Health Checker repeats what native artifacts show (its build is ExSetup's
//! file version, its proxies are InternetWebProxy and its own decoding of the
//! WinHTTP setting), so it is read last and only fills what they left empty.

use crate::builds::{Precision, Version};
use crate::classify::{Cause, classify};
use crate::evidence::{
    BuildFact, Cite, CollectionFact, Fact, InputSource, InputSummary, LogTimeline, Occurrences,
    ServerEvidence, ServiceFact, ServiceStatus, Untrusted, WinHttpSetting, WinHttpView,
};
use chrono::{DateTime, Utc};
use eems_parsers::Kind;
use eems_parsers::events::{Event, EventExport};
use eems_parsers::mitigation_log::{
    LogRecord, MessageClass, MessageKind, MitigationLog, RecordView,
};
use eems_parsers::time::Timestamp;
use eems_parsers::{Content, ParsedInput, Status};
use std::collections::{HashMap, HashSet};

/// One parsed file, with the path to cite.
pub struct Input<'a> {
    pub path: &'a str,
    pub parsed: &'a ParsedInput,
    /// The records of an input that was streamed (its `MitigationLog` or
    /// `EventExport` carries the header and counts, no records), already
    /// folded while it was read.
    pub folded: Option<&'a Folded>,
}

/// The fold of a streamed input's records.
#[derive(Debug, Clone)]
pub enum Folded {
    Log(LogFolded),
    Events(EventFolded),
}

impl<'a> Input<'a> {
    pub fn new(path: &'a str, parsed: &'a ParsedInput) -> Self {
        Input {
            path,
            parsed,
            folded: None,
        }
    }
}

/// `EX01.contoso.local` → `ex01` for matching.
pub fn server_key(name: &str) -> String {
    name.trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn short_name(name: &str) -> String {
    name.trim().split('.').next().unwrap_or_default().to_owned()
}

/// Precision and version of a parsed build.
fn to_version(b: &eems_parsers::build::Build) -> Option<BuildFact> {
    let version = Version {
        major: b.major,
        minor: b.minor,
        build: b.build,
        revision: b.revision.unwrap_or(0),
    };
    let precision = match b.precision {
        eems_parsers::build::Precision::Exact if b.revision.is_some() => Precision::Exact,
        _ => Precision::Cu,
    };
    Some(BuildFact { version, precision })
}

/// Keep the more precise build: exact beats CU; among equals the first wins.
fn offer_build(slot: &mut Option<Fact<BuildFact>>, fact: Fact<BuildFact>) {
    match slot {
        Some(cur) if cur.value.precision == Precision::Exact => {}
        Some(_) if fact.value.precision == Precision::Cu => {}
        _ => *slot = Some(fact),
    }
}

fn ts(t: &Option<eems_parsers::time::Timestamp>) -> Option<DateTime<Utc>> {
    t.as_ref().map(|t| t.approx_utc())
}

/// Collect one group of inputs (one directory) into server evidence.
pub fn collect_group(inputs: &[Input<'_>]) -> Vec<ServerEvidence> {
    // Pass 1: which servers does this group name?
    // Lookups by key go through maps: a listing of 50,000 servers is read in
    // linear time (issue 18).
    let mut names: Vec<(String, String, u32)> = Vec::new(); // key, display, weight
    let mut name_index: HashMap<String, usize> = HashMap::new();
    // Keys of the records of multi-server listings, and how many records.
    let mut listed: HashSet<String> = HashSet::new();
    let mut listed_records = 0usize;
    // A `collect` bundle comes from one host: its manifest names it.
    let mut manifest_host: Option<String> = None;
    // Every server name an input mentions, with its weight and where.
    let mut named: Vec<(&str, u32, &str)> = Vec::new();
    // ExSetup outputs of several named servers (`Invoke-Command -ComputerName`
    // one after the other) are a listing too: each is its server's, and none
    // says which server the group's own evidence is from.
    let mut remote: HashSet<String> = HashSet::new();
    for c in inputs.iter().flat_map(|i| contents(i.parsed)) {
        if let Content::ExsetupVersion(x) = c
            && let Some(k) = x.computer_name.as_deref().map(server_key)
            && !k.is_empty()
        {
            remote.insert(k);
        }
    }
    let exsetup_weight = if remote.len() > 1 { 0 } else { 2 };
    for i in inputs {
        for c in contents(i.parsed) {
            match c {
                Content::MitigationLog(l) => {
                    for s in &l.servers {
                        named.push((s, 3, i.path));
                    }
                }
                Content::EventExport(e) => match i.folded {
                    // Two points per event naming the server.
                    Some(Folded::Events(f)) => {
                        for (c, n) in &f.computers {
                            let w = u32::try_from(n.saturating_mul(2)).unwrap_or(u32::MAX);
                            named.push((c, w, i.path));
                        }
                    }
                    _ => {
                        for ev in &e.events {
                            if let Some(c) = ev.computer.as_ref().filter(|c| c.len() <= 253) {
                                named.push((c, 2, i.path));
                            }
                        }
                    }
                },
                Content::ExchangeServers(s) => {
                    for srv in &s.servers {
                        if let Some(n) = &srv.name {
                            named.push((n, 1, i.path));
                            listed.insert(server_key(n));
                            listed_records += 1;
                        }
                    }
                }
                Content::ExsetupVersion(x) => {
                    if let Some(c) = &x.computer_name {
                        named.push((c, exsetup_weight, i.path));
                    }
                }
                Content::EvidenceManifest(m) => {
                    manifest_host = m.host.as_deref().map(server_key);
                }
                Content::HealthChecker(h) => {
                    let reported: Vec<&str> = h
                        .reports
                        .iter()
                        .filter_map(|r| r.name.as_ref().map(|n| n.value.as_str()))
                        .chain(h.failed_against.iter().map(|f| f.value.as_str()))
                        .collect();
                    // One server's report is that server's own evidence; a
                    // report for several servers is a listing.
                    if let [one] = reported.as_slice() {
                        named.push((one, 2, i.path));
                    } else {
                        for n in reported {
                            named.push((n, 1, i.path));
                            listed.insert(server_key(n));
                            listed_records += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (n, w, _) in &named {
        let k = server_key(n);
        if k.is_empty() {
            continue;
        }
        match name_index.get(&k).and_then(|&at| names.get_mut(at)) {
            Some(e) => e.2 += w,
            None => {
                name_index.insert(k.clone(), names.len());
                names.push((k, short_name(n).to_ascii_uppercase(), *w));
            }
        }
    }
    // The group's own server: the name local evidence (log, events, ExSetup)
    // points at most; with only a listing, its single record.
    let by_evidence = || {
        names
            .iter()
            .filter(|(k, _, w)| *w > 0 && (*w > 1 || listed_records == 1 || !listed.contains(k)))
            .max_by_key(|(_, _, w)| *w)
            .or_else(|| names.first().filter(|_| listed_records == 1))
            .map(|(k, d, _)| (k.clone(), d.clone()))
    };
    let primary: Option<(String, String)> = match &manifest_host {
        Some(h) if !h.is_empty() => Some((h.clone(), h.to_ascii_uppercase())),
        _ => by_evidence(),
    };

    let mut servers: Vec<ServerEvidence> = Vec::new();
    let mut main = ServerEvidence {
        server: primary.as_ref().map(|(_, d)| d.clone()),
        ..Default::default()
    };
    let primary_key = primary.map(|(k, _)| k);
    // Other servers of a multi-server listing get their own entries (never
    // inside a collect bundle: it holds one host's evidence).
    let mut others: Vec<ServerEvidence> = names
        .iter()
        .filter(|(k, ..)| {
            manifest_host.is_none()
                && Some(k) != primary_key.as_ref()
                && (listed.contains(k) || remote.contains(k))
        })
        .map(|(_, d, _)| ServerEvidence {
            server: Some(d.clone()),
            ..Default::default()
        })
        .collect();
    // `others` by server key.
    let other_index: HashMap<String, usize> = others
        .iter()
        .enumerate()
        .filter_map(|(at, o)| o.server.as_deref().map(|d| (server_key(d), at)))
        .collect();
    let others_of = OtherIndex {
        index: &other_index,
        primary: primary_key.as_deref(),
    };

    // Whether anything reached the group's own server (beyond the org
    // setting), and which inputs gave each other server something.
    let mut main_used = false;
    let mut fed: Vec<Vec<&str>> = vec![Vec::new(); others.len()];
    for i in inputs {
        main.inputs.push(InputSummary {
            path: InputSource::File(i.path.to_owned()),
            kind: i.parsed.kind,
            status: i.parsed.status,
            reason: None,
        });
        for c in contents(i.parsed) {
            if matches!(c, Content::HealthChecker(_)) {
                continue;
            }
            let reached = add_content(&mut main, &mut others, &others_of, i.path, c, i.folded);
            main_used |= reached.main;
            for o in reached.others {
                if let Some(f) = fed.get_mut(o) {
                    f.push(i.path);
                }
            }
        }
    }
    // Health Checker last: it only fills what native artifacts left empty.
    for i in inputs {
        for c in contents(i.parsed) {
            if let Content::HealthChecker(h) = c {
                for r in &h.reports {
                    // The same attribution as every other content (add_content).
                    let other = r.name.as_ref().and_then(|n| others_of.of(&n.value));
                    let target: &mut ServerEvidence = match other.and_then(|o| others.get_mut(o)) {
                        Some(e) => e,
                        None => &mut main,
                    };
                    match other {
                        Some(o) => {
                            if let Some(f) = fed.get_mut(o) {
                                f.push(i.path);
                            }
                        }
                        None => main_used = true,
                    }
                    add_healthchecker(target, i.path, r);
                }
            }
        }
    }
    // Inside a collect bundle, evidence naming another host is flagged.
    if let (Some(host), Some(c)) = (&manifest_host, main.collection.as_mut()) {
        let mut flagged: HashSet<String> = c
            .value
            .other_servers
            .iter()
            .map(|o| server_key(&o.excerpt))
            .collect();
        for (n, _, path) in &named {
            let k = server_key(n);
            if !k.is_empty() && k != *host && flagged.insert(k) {
                c.value.other_servers.push(Cite::new(
                    path,
                    None,
                    short_name(n).to_ascii_uppercase(),
                ));
            }
        }
    }
    // The organization setting applies to every server of the org.
    let shared_input = |kind: &Kind| {
        matches!(
            kind,
            Kind::ExchangeServer | Kind::OrganizationConfig | Kind::Healthchecker | Kind::Mixed
        )
    };
    // A file nothing could be read from is nobody's evidence: it is shown
    // with every server rather than keeping an empty server alive.
    let unread = |i: &InputSummary| matches!(i.status, Status::Unrecognized | Status::Error);
    for (o, fed) in others.iter_mut().zip(&fed) {
        o.org_mitigations_enabled = main.org_mitigations_enabled.clone();
        o.inputs = main
            .inputs
            .iter()
            .filter(|i| shared_input(&i.kind) || unread(i) || fed.contains(&i.path.as_str()))
            .cloned()
            .collect();
    }
    // No name for the group's own server, nothing of its own, and every
    // input shown with the servers it names (a multi-server listing alone,
    // ExSetup outputs of named servers): the group is exactly those
    // servers, not one more unnamed one.
    let only_named = primary_key.is_none()
        && !others.is_empty()
        && !main_used
        && main.inputs.iter().all(|i| {
            shared_input(&i.kind) || unread(i) || fed.iter().any(|f| f.contains(&i.path.as_str()))
        });
    if !only_named {
        servers.push(main);
    }
    servers.extend(others);
    servers
}

fn contents(p: &ParsedInput) -> impl Iterator<Item = &Content> {
    p.segments.iter().filter_map(|s| s.content.as_ref())
}

/// Where one parsed content went.
#[derive(Default)]
struct Reached {
    /// The group's own server (`main`).
    main: bool,
    /// Indices into `others`.
    others: Vec<usize>,
}

/// Where the named servers other than the primary one are in `others`.
struct OtherIndex<'a> {
    index: &'a HashMap<String, usize>,
    primary: Option<&'a str>,
}

impl OtherIndex<'_> {
    /// The entry of `others` for a named server that is not the primary one.
    fn of(&self, name: &str) -> Option<usize> {
        let k = server_key(name);
        if Some(k.as_str()) == self.primary {
            return None;
        }
        self.index.get(&k).copied()
    }
}

/// Add one parsed content to the group's servers: to the group's own server
/// (`main`), to named servers of `others`, or (the org setting) to no one
/// server.
fn add_content(
    main: &mut ServerEvidence,
    others: &mut [ServerEvidence],
    others_of: &OtherIndex<'_>,
    path: &str,
    c: &Content,
    folded: Option<&Folded>,
) -> Reached {
    let mut reached = Reached::default();
    match c {
        Content::ExchangeServers(list) => {
            for srv in &list.servers {
                // A named record without an entry of its own (inside a collect
                // bundle every record is the host's; other names are flagged)
                // goes to the group's own server.
                let other = srv.name.as_deref().and_then(|n| others_of.of(n));
                let target: &mut ServerEvidence = match other.and_then(|o| others.get_mut(o)) {
                    Some(e) => e,
                    None => &mut *main,
                };
                match other {
                    Some(o) => reached.others.push(o),
                    None => reached.main = true,
                }
                add_exchange_server(target, path, srv);
            }
            return reached;
        }
        Content::OrganizationConfig(org) => {
            if let Some(v) = org.mitigations_enabled {
                main.org_mitigations_enabled = Some(Fact::new(
                    v,
                    Cite::new(
                        path,
                        Some(org.line),
                        format!("MitigationsEnabled : {}", if v { "True" } else { "False" }),
                    ),
                ));
            }
            return reached;
        }
        Content::ServiceStatus(s) => {
            if let Some(svc) = s.services.iter().find(|s| s.is_mitigation_service) {
                let status = svc
                    .status
                    .clone()
                    .map_or(ServiceStatus::Unknown, ServiceStatus::State);
                let excerpt = format!(
                    "{} {}{}",
                    svc.name,
                    status.word(),
                    svc.start_type
                        .as_ref()
                        .map(|s| format!(" {}", s.word()))
                        .unwrap_or_default()
                );
                main.service = Some(Fact::new(
                    ServiceFact {
                        status,
                        start_type: svc.start_type.clone(),
                    },
                    Cite::new(path, Some(svc.line), excerpt),
                ));
            } else if let Some(m) = s.missing.first() {
                main.service = Some(Fact::new(
                    ServiceFact {
                        status: ServiceStatus::NotInstalled,
                        start_type: None,
                    },
                    Cite::new(path, Some(m.line), "service MSExchangeMitigation not found"),
                ));
            }
        }
        Content::ExsetupVersion(x) => {
            // A named server's output is that server's (PSComputerName, or
            // the prompt it was pasted after).
            let other = x.computer_name.as_deref().and_then(|n| others_of.of(n));
            let target = match other.and_then(|o| others.get_mut(o)) {
                Some(o) => o,
                None => &mut *main,
            };
            match other {
                Some(o) => reached.others.push(o),
                None => reached.main = true,
            }
            if let Some(b) = x.build.as_ref().and_then(to_version) {
                offer_build(
                    &mut target.build,
                    Fact::new(
                        b,
                        Cite::new(
                            path,
                            Some(x.line),
                            x.raw.clone().unwrap_or_else(|| b.version.to_string()),
                        ),
                    ),
                );
            }
            return reached;
        }
        Content::NetshProxy(n) => {
            let line = n
                .proxy_server
                .as_ref()
                .map(|v| v.line)
                .or(n.direct_line)
                .or(n.header_line);
            let proxy = (!n.direct)
                .then(|| n.proxy_server.as_ref().map(|v| v.value.clone()))
                .flatten();
            if n.direct || proxy.is_some() {
                let excerpt = match &proxy {
                    Some(p) => format!(
                        "Proxy Server(s) : {p}; Bypass List : {}",
                        n.bypass_list.join(";")
                    ),
                    None => "Direct access (no proxy server).".into(),
                };
                main.winhttp.push(Fact::new(
                    WinHttpSetting {
                        view: WinHttpView::Netsh,
                        proxy,
                        bypass: n.bypass_list.clone(),
                    },
                    Cite::new(path, line, excerpt),
                ));
            }
        }
        Content::AdvProxy(a) => {
            if a.available && !a.per_user_proxy_settings.unwrap_or(false) {
                let proxy = if a.proxy_is_enabled == Some(false) {
                    None
                } else {
                    a.proxy.clone()
                };
                main.winhttp.push(Fact::new(
                    WinHttpSetting {
                        view: WinHttpView::Advproxy,
                        proxy: proxy.clone(),
                        bypass: a.proxy_bypass.clone(),
                    },
                    Cite::new(
                        path,
                        a.lines.proxy.or(a.lines.proxy_is_enabled).or(a.header_line),
                        match proxy {
                            Some(p) => format!("\"Proxy\": \"{p}\""),
                            None => "\"ProxyIsEnabled\": false".into(),
                        },
                    ),
                ));
            }
        }
        Content::WinHttpRegistry(r) => {
            for e in r.entries.iter().filter(|e| !e.incomplete) {
                let Some(s) = &e.settings else { continue };
                let view = match e.view {
                    eems_parsers::registry::RegView::Native => WinHttpView::RegistryNative,
                    eems_parsers::registry::RegView::Wow6432node => WinHttpView::RegistryWow6432,
                };
                let proxy = (!s.is_direct()).then(|| s.proxy.clone()).flatten();
                main.winhttp.push(Fact::new(
                    WinHttpSetting {
                        view,
                        proxy: proxy.clone(),
                        bypass: s.bypass_list.clone(),
                    },
                    Cite::new(
                        path,
                        Some(e.line),
                        match proxy {
                            Some(p) => format!(
                                "WinHttpSettings: proxy {p}, bypass {}",
                                s.bypass.clone().unwrap_or_default()
                            ),
                            None => "WinHttpSettings: direct access".to_owned(),
                        },
                    ),
                ));
            }
        }
        Content::RegistryValues(r) => {
            for key in &r.keys {
                let p = key.path.to_ascii_lowercase();
                for v in &key.values {
                    let dword = match v.data {
                        eems_parsers::registry::RegData::Dword(d)
                        | eems_parsers::registry::RegData::Qword(d) => Some(d),
                        _ => None,
                    };
                    let cite = || {
                        Cite::new(
                            path,
                            Some(v.line),
                            format!("{}\\{}    {}    {}", key.path, v.name, v.reg_type, v.raw),
                        )
                    };
                    if p.ends_with("systemcertificates\\authroot")
                        && v.name.eq_ignore_ascii_case("DisableRootAutoUpdate")
                    {
                        if let Some(d) = dword {
                            main.disable_root_auto_update = Some(Fact::new(d, cite()));
                        }
                    } else if p.ends_with("chainengine\\config")
                        && v.name.eq_ignore_ascii_case("Options")
                    {
                        if let Some(d) = dword {
                            main.chain_engine_options = Some(Fact::new(d, cite()));
                        }
                    }
                }
                add_tls_key(main, path, key);
                if p.ends_with("exchangeserver\\v15\\setup") {
                    let get = |n: &str| {
                        key.values
                            .iter()
                            .find(|v| v.name.eq_ignore_ascii_case(n))
                            .and_then(|v| match v.data {
                                eems_parsers::registry::RegData::Dword(d) => u32::try_from(d).ok(),
                                _ => None,
                            })
                    };
                    if let (Some(a), Some(b), Some(c), Some(d)) = (
                        get("MsiProductMajor"),
                        get("MsiProductMinor"),
                        get("MsiBuildMajor"),
                        get("MsiBuildMinor"),
                    ) {
                        // The Setup key records the CU installed; SUs do not update it.
                        let version = Version {
                            major: a,
                            minor: b,
                            build: c,
                            revision: d,
                        };
                        offer_build(
                            &mut main.build,
                            Fact::new(
                                BuildFact {
                                    version,
                                    precision: Precision::Cu,
                                },
                                Cite::new(
                                    path,
                                    Some(key.line),
                                    format!("{} MsiBuild {version}", key.path),
                                ),
                            ),
                        );
                    }
                }
            }
        }
        Content::ConnectivityTest(t) => {
            use eems_parsers::scripts::TestResult;
            let ok = match t.result {
                TestResult::Success => Some(true),
                TestResult::Failed => Some(false),
                TestResult::Unknown => None,
            };
            if let Some(ok) = ok {
                main.connectivity_test = Some(Fact::new(
                    ok,
                    Cite::new(path, Some(t.line), t.result_raw.clone().unwrap_or_default()),
                ));
            }
        }
        Content::GetMitigations(g) => {
            if let Some(w) = &g.endpoint_warning {
                main.get_mitigations_warning = Some(Cite::new(path, Some(w.line), w.text.clone()));
            }
            for e in &g.entries {
                let (Some(id), Some(status)) = (&e.id, &e.status) else {
                    continue;
                };
                main.mitigation_statuses.push(Fact::new(
                    crate::evidence::MitigationStatus {
                        id: id.clone(),
                        status: status.clone(),
                    },
                    Cite::new(
                        path,
                        Some(e.line),
                        format!("Mitigation Id : {id}; Status : {status}"),
                    ),
                ));
            }
        }
        // Read last, by `add_healthchecker`.
        Content::HealthChecker(_) => {}
        Content::ProbeResults(r) => main.probes = Some((**r).clone()),
        Content::OcsResponse(r) => {
            let status = r.status_code.map_or_else(
                || "no status shown".to_owned(),
                |c| {
                    format!("{c} {}", r.status_description.as_deref().unwrap_or(""))
                        .trim_end()
                        .to_owned()
                },
            );
            let body = match (&r.eocs, &r.other_body) {
                (Some(e), _) => format!(
                    "OCS's <EOCS{}> document{}{}",
                    e.version
                        .as_ref()
                        .map(|v| format!(" version {v}"))
                        .unwrap_or_default(),
                    if e.config_ids.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", e.config_ids.join(", "))
                    },
                    if e.signed { ", signed" } else { "" }
                ),
                (None, Some(b)) => format!("not OCS's document: {b}"),
                (None, None) => "no body shown".to_owned(),
            };
            main.ocs_response = Some(Fact::new(
                r.clone(),
                Cite::new(path, Some(r.line), format!("{} ({status}): {body}", r.form)),
            ));
        }
        Content::EvidenceManifest(m) => {
            for i in m
                .failed_items()
                .filter(|i| i.name == "get-organizationconfig")
            {
                let error = i.error.clone().unwrap_or_default();
                main.org_config_unreadable.push(Fact::new(
                    format!("collect's get-organizationconfig item failed: {error}"),
                    Cite::new(path, None, format!("get-organizationconfig: {error}")),
                ));
            }
            main.collection = Some(Fact::new(
                CollectionFact {
                    host: m.host.clone(),
                    collected_at: m.collected_at.clone(),
                    items: m.items.len(),
                    failed_items: m.failed_items().map(|i| i.name.clone()).collect(),
                    other_servers: Vec::new(),
                },
                Cite::new(
                    path,
                    None,
                    format!(
                        "collected on {} at {}",
                        m.host.as_deref().unwrap_or("(unknown host)"),
                        m.collected_at.as_deref().unwrap_or("(unknown time)")
                    ),
                ),
            ));
        }
        Content::MitigationLog(log) => {
            let folded = match folded {
                Some(Folded::Log(f)) => Some(f),
                _ => None,
            };
            add_log(main, path, log, folded)
        }
        Content::EventExport(e) => {
            let folded = match folded {
                Some(Folded::Events(f)) => Some(f),
                _ => None,
            };
            add_events(main, path, e, folded)
        }
    }
    reached.main = true;
    reached
}

/// SCHANNEL `TLS 1.2\Client|Server` and .NET `v4.0.30319` keys: the key
/// (read, so absent values are at their default) and the values that decide
/// which TLS versions the service's .NET client offers.
fn add_tls_key(ev: &mut ServerEvidence, path: &str, key: &eems_parsers::registry::RegKey) {
    use crate::evidence::{TlsPlace, TlsValue};
    let p = key.path.to_ascii_lowercase();
    let (place, names): (TlsPlace, [&str; 2]) =
        if p.ends_with("schannel\\protocols\\tls 1.2\\client") {
            (
                TlsPlace::SchannelTls12Client,
                ["Enabled", "DisabledByDefault"],
            )
        } else if p.ends_with("schannel\\protocols\\tls 1.2\\server") {
            (
                TlsPlace::SchannelTls12Server,
                ["Enabled", "DisabledByDefault"],
            )
        } else if p.ends_with(".netframework\\v4.0.30319") {
            let place = match key.view {
                eems_parsers::registry::RegView::Native => TlsPlace::DotNet4,
                eems_parsers::registry::RegView::Wow6432node => TlsPlace::DotNet4Wow6432,
            };
            (place, ["SystemDefaultTlsVersions", "SchUseStrongCrypto"])
        } else {
            return;
        };
    let t = &mut ev.tls_registry;
    t.keys.push(Fact::new(
        place,
        Cite::new(path, Some(key.line), key.path.clone()),
    ));
    for v in &key.values {
        let Some(name) = names.iter().find(|n| v.name.eq_ignore_ascii_case(n)) else {
            continue;
        };
        let Some(value) = v.data.as_u64() else {
            continue;
        };
        t.values.push(Fact::new(
            TlsValue {
                place,
                name: (*name).to_owned(),
                value,
            },
            Cite::new(
                path,
                Some(v.line),
                format!("{}\\{}    {}    {}", key.path, v.name, v.reg_type, v.raw),
            ),
        ));
    }
}

/// The command that shows the real WinHTTP proxy when Health Checker's looked mangled.
const NETSH_SHOW_PROXY: &str = "netsh winhttp show proxy";

/// One Health Checker report, after every native input of the group: its
/// build is offered like ExSetup's (exact), its proxies fill only empty
/// slots, and a value that looks mangled is recorded as [`Untrusted`], never
/// as a fact a check would trust.
fn add_healthchecker(ev: &mut ServerEvidence, path: &str, r: &eems_parsers::scripts::HcReport) {
    use crate::check::Need;
    let untrusted =
        |need: Need, label: &str, line: usize, raw: &str, reason: &str, command: &str| {
            Fact::new(
                Untrusted {
                    need,
                    label: label.to_owned(),
                    reason: reason.to_owned(),
                    command: command.to_owned(),
                },
                Cite::new(path, Some(line), format!("{label}: {raw} (Health Checker)")),
            )
        };
    if let Some(b) = &r.build
        && let Some(v) = to_version(&b.value)
    {
        offer_build(
            &mut ev.build,
            Fact::new(
                v,
                Cite::new(
                    path,
                    Some(b.line),
                    format!("Build Number: {} (Health Checker)", b.raw),
                ),
            ),
        );
    }
    if let Some(p) = &r.internet_web_proxy {
        if let Some(why) = &p.value.reason {
            ev.untrusted.push(untrusted(
                Need::ExchangeProxy,
                "Internet Web Proxy",
                p.line,
                &p.raw,
                why,
                "Get-ExchangeServer $env:COMPUTERNAME | Format-List InternetWebProxy*",
            ));
        } else if ev.exchange_proxy.is_none() {
            ev.exchange_proxy = Some(Fact::new(
                p.value.value.clone(),
                Cite::new(
                    path,
                    Some(p.line),
                    format!("Internet Web Proxy: {} (Health Checker)", p.raw),
                ),
            ));
        }
    }
    if let Some(p) = &r.http_proxy {
        let bypass = r.http_proxy_bypass.as_ref();
        let mangled = p
            .value
            .reason
            .as_ref()
            .map(|why| (p.line, p.raw.as_str(), "Http Proxy Setting", why))
            .or_else(|| {
                bypass.and_then(|b| {
                    b.value
                        .reason
                        .as_ref()
                        .map(|why| (b.line, b.raw.as_str(), "Http Proxy By Pass List", why))
                })
            });
        if let Some((line, raw, label, why)) = mangled {
            ev.untrusted.push(untrusted(
                Need::WinHttp,
                label,
                line,
                raw,
                why,
                NETSH_SHOW_PROXY,
            ));
        } else if !ev.has_winhttp_evidence() {
            let proxy = p.value.value.clone();
            let list = bypass.map(|b| b.value.value.clone()).unwrap_or_default();
            let excerpt = match &proxy {
                Some(x) => format!(
                    "Http Proxy Setting: {x}; Http Proxy By Pass List: {} (Health Checker)",
                    list.join(";")
                ),
                None => "Http Proxy Setting: None (Health Checker)".to_owned(),
            };
            ev.winhttp.push(Fact::new(
                WinHttpSetting {
                    view: WinHttpView::HealthChecker,
                    proxy,
                    bypass: list,
                },
                Cite::new(path, Some(p.line), excerpt),
            ));
        }
    }
    if let Some(e) = &r.eems
        && e.value == eems_parsers::scripts::EemsConfigState::FailedToQueryConfig
    {
        ev.org_config_unreadable.push(Fact::new(
            "Health Checker could not query the configuration".to_owned(),
            Cite::new(
                path,
                Some(e.line),
                format!(
                    "Exchange Emergency Mitigation Service: {} (Health Checker)",
                    e.raw
                ),
            ),
        ));
    }
    if ev.healthchecker_pattern_reachable.is_none()
        && let Some(p) = &r.pattern_service
        && let Some(reachable) = p.value.reachable
    {
        ev.healthchecker_pattern_reachable = Some(Fact::new(
            reachable,
            Cite::new(path, Some(p.line), format!("Pattern service: {}", p.raw)),
        ));
    }
}

fn add_exchange_server(
    ev: &mut ServerEvidence,
    path: &str,
    srv: &eems_parsers::exchange::ExchangeServer,
) {
    let cite = |label: &str, value: &str| {
        Cite::new(
            path,
            Some(srv.line),
            format!("{} {label} : {value}", srv.name.as_deref().unwrap_or(""))
                .trim()
                .to_owned(),
        )
    };
    if let Some(b) = srv.build.as_ref().and_then(to_version) {
        offer_build(
            &mut ev.build,
            Fact::new(
                b,
                cite(
                    "AdminDisplayVersion",
                    srv.admin_display_version.as_deref().unwrap_or(""),
                ),
            ),
        );
    }
    if let Some(e) = srv.is_edge_server {
        ev.is_edge = Some(Fact::new(
            e,
            cite("IsEdgeServer", if e { "True" } else { "False" }),
        ));
    } else if let Some(role) = srv
        .server_role
        .as_deref()
        .filter(|r| r.trim().eq_ignore_ascii_case("Edge"))
    {
        // `ServerRole : Edge` says the same when IsEdgeServer was not shown.
        ev.is_edge = Some(Fact::new(true, cite("ServerRole", role)));
    }
    if let Some(v) = srv.mitigations_enabled {
        ev.server_mitigations_enabled = Some(Fact::new(
            v,
            cite("MitigationsEnabled", if v { "True" } else { "False" }),
        ));
    }
    let shown = |name: &str| srv.shown.iter().any(|s| s.eq_ignore_ascii_case(name));
    if shown("MitigationsApplied") {
        ev.mitigations_applied = Some(Fact::new(
            srv.mitigations_applied.clone(),
            cite(
                "MitigationsApplied",
                &format!("{{{}}}", srv.mitigations_applied.join(", ")),
            ),
        ));
    }
    if shown("MitigationsBlocked") {
        ev.mitigations_blocked = Some(Fact::new(
            srv.mitigations_blocked.clone(),
            cite(
                "MitigationsBlocked",
                &format!("{{{}}}", srv.mitigations_blocked.join(", ")),
            ),
        ));
    }
    if shown("InternetWebProxy") {
        ev.exchange_proxy = Some(Fact::new(
            srv.internet_web_proxy.clone(),
            cite(
                "InternetWebProxy",
                srv.internet_web_proxy.as_deref().unwrap_or(""),
            ),
        ));
    }
    if shown("InternetWebProxyBypassList") {
        ev.exchange_bypass = Some(Fact::new(
            srv.internet_web_proxy_bypass_list.clone(),
            cite(
                "InternetWebProxyBypassList",
                &srv.internet_web_proxy_bypass_list.join(", "),
            ),
        ));
    }
}

/// State of one hourly run while walking the log.
#[derive(Default)]
struct Attempt {
    time: Option<DateTime<Utc>>,
    causes: Vec<(Cause, Option<DateTime<Utc>>, Cite)>,
    succeeded: bool,
    truncated: bool,
}

fn close_attempt(tl: &mut LogTimeline, a: Attempt) {
    let specific = a
        .causes
        .iter()
        .any(|(c, ..)| !matches!(c, Cause::Unspecified | Cause::Other));
    let failed = !a.causes.is_empty();
    for (c, t, cite) in a.causes {
        if specific && matches!(c, Cause::Unspecified | Cause::Other) {
            continue; // the generic "One or more errors occurred" row repeats the specific one
        }
        match tl.causes.get_mut(&c) {
            Some(o) => o.add(t, cite),
            None => {
                tl.causes.insert(c, Occurrences::new(t, cite));
            }
        }
    }
    if (a.succeeded || !failed) && !a.truncated {
        tl.fetch_successes += 1;
        if let Some(t) = a.time {
            tl.last_success = tl.last_success.max(Some(t));
        }
    }
}

/// `classify`, remembering the last text: log rows repeat the same failure every hour.
fn classify_memo(text: &str, memo: &mut Option<(String, Cause)>) -> Cause {
    if let Some((t, c)) = memo
        && t == text
    {
        return *c;
    }
    let c = classify(text);
    *memo = Some((text.to_owned(), c));
    c
}

/// One log row as the fold needs it, borrowed from an owned [`LogRecord`] or
/// from the streaming reader's [`RecordView`] (which allocates nothing).
#[derive(Debug, Clone, Copy)]
pub struct LogRow<'a> {
    pub line: usize,
    pub time: Option<Timestamp>,
    pub kind: MessageKind,
    /// The class's value: url, proxy, exception detail or mitigation id.
    pub arg: Option<&'a str>,
    pub xml_not_safe: bool,
    pub error: bool,
    pub operation: Option<&'a str>,
    pub message: Option<&'a str>,
    pub truncated: bool,
}

impl<'a> From<&'a LogRecord> for LogRow<'a> {
    fn from(r: &'a LogRecord) -> Self {
        let (arg, xml_not_safe) = match &r.class {
            MessageClass::FetchingMitigations { url } => (Some(url.as_str()), false),
            MessageClass::UsingProxy { proxy } => (Some(proxy.as_str()), false),
            MessageClass::FetchException {
                detail,
                xml_not_safe,
            } => (Some(detail.as_str()), *xml_not_safe),
            MessageClass::MitigationAlreadyApplied { mitigation } => {
                (Some(mitigation.as_str()), false)
            }
            MessageClass::XmlNotSafe => (None, true),
            _ => (None, false),
        };
        LogRow {
            line: r.line,
            time: r.time,
            kind: r.class.kind(),
            arg,
            xml_not_safe,
            error: r.is_error(),
            operation: r.operation.as_deref(),
            message: r.message.as_deref(),
            truncated: r.truncated,
        }
    }
}

impl<'a> From<&RecordView<'a>> for LogRow<'a> {
    fn from(r: &RecordView<'a>) -> Self {
        LogRow {
            line: r.line,
            time: r.time,
            kind: r.kind,
            arg: r.class_arg,
            xml_not_safe: r.xml_not_safe,
            error: r.level.is_some_and(|l| l.eq_ignore_ascii_case("Error")),
            operation: r.operation,
            message: r.message,
            truncated: r.truncated,
        }
    }
}

fn record_cause(r: &LogRow<'_>, memo: &mut Option<(String, Cause)>) -> Option<Cause> {
    match r.kind {
        MessageKind::TlsValidationFailed => Some(Cause::TlsTrust),
        MessageKind::UntrustedEndpoint => Some(Cause::UntrustedEndpoint),
        MessageKind::XmlNotSafe => Some(Cause::XmlSignature),
        MessageKind::FetchException if r.xml_not_safe => Some(Cause::XmlSignature),
        MessageKind::FetchException => Some(classify_memo(r.arg.unwrap_or(""), memo)),
        _ if r.error => Some(classify_memo(r.message.unwrap_or(""), memo)),
        _ => None,
    }
}

/// Distinct apply-failure messages kept per server.
const MAX_APPLY_ERRORS: usize = 5;

/// One log file reduced to its timeline, row by row: memory does not grow
/// with the rows (issue 14). The same fold serves a log parsed in memory and
/// one streamed from disk while it is read; [`LogFolded::merge_into`] then
/// adds it to the server's timeline exactly as if the rows had followed the
/// previous logs' rows.
pub struct LogFold {
    path: String,
    tl: LogTimeline,
    first_timed_attempt: Option<DateTime<Utc>>,
    current: Option<Attempt>,
    memo: Option<(String, Cause)>,
    apply_errors: Vec<Fact<String>>,
}

/// What [`LogFold`] made of one log.
#[derive(Debug, Clone, Default)]
pub struct LogFolded {
    tl: LogTimeline,
    /// The first attempt with a time: the gap to the previous log's last
    /// attempt is measured to it.
    first_timed_attempt: Option<DateTime<Utc>>,
    /// The first distinct `ApplyMitigation` error messages (at most
    /// [`MAX_APPLY_ERRORS`]: enough for the merge to keep the first ones of
    /// all logs together).
    apply_errors: Vec<Fact<String>>,
}

impl LogFold {
    pub fn new(path: &str) -> Self {
        LogFold {
            path: path.to_owned(),
            tl: LogTimeline::default(),
            first_timed_attempt: None,
            current: None,
            memo: None,
            apply_errors: Vec::new(),
        }
    }

    pub fn push(&mut self, r: LogRow<'_>) {
        let tl = &mut self.tl;
        tl.rows += 1;
        let t = r.time.as_ref().map(|t| t.approx_utc());
        if r.time.as_ref().is_some_and(|t| !t.is_utc()) {
            tl.local_times = true;
        }
        if let Some(t) = t {
            tl.first_time = Some(tl.first_time.map_or(t, |f| f.min(t)));
            tl.last_time = Some(tl.last_time.map_or(t, |l| l.max(t)));
        }
        let path = self.path.as_str();
        let cite = || Cite::new(path, Some(r.line), r.message.unwrap_or_default().to_owned());
        if r.error
            && r.operation
                .is_some_and(|o| o.eq_ignore_ascii_case("ApplyMitigation"))
        {
            // The same failure repeats hourly: its first occurrence per message.
            let msg = r.message.unwrap_or_default();
            if self.apply_errors.len() < MAX_APPLY_ERRORS
                && !self.apply_errors.iter().any(|f| f.value == msg)
            {
                self.apply_errors.push(Fact::new(msg.to_owned(), cite()));
            }
        }
        match r.kind {
            MessageKind::FetchingMitigations => {
                if let Some(a) = self.current.take() {
                    close_attempt(tl, a);
                }
                tl.fetch_attempts += 1;
                if let (Some(prev), Some(now)) = (tl.last_attempt, t) {
                    let gap = (now - prev).num_minutes();
                    if tl.longest_gap_minutes.is_none_or(|g| gap > g) {
                        tl.longest_gap_minutes = Some(gap);
                        tl.longest_gap_end = Some(now);
                    }
                }
                if t.is_some() {
                    if tl.last_attempt.is_none() {
                        self.first_timed_attempt = t;
                    }
                    tl.last_attempt = t;
                }
                self.current = Some(Attempt {
                    time: t,
                    ..Default::default()
                });
            }
            MessageKind::UsingProxy if tl.proxy_used.is_none() => {
                tl.proxy_used = Some(Fact::new(r.arg.unwrap_or_default().to_owned(), cite()));
            }
            MessageKind::FetchSucceeded => {
                if let Some(a) = self.current.as_mut() {
                    a.succeeded = true;
                }
            }
            _ => {}
        }
        if let Some(c) = record_cause(&r, &mut self.memo) {
            let a = self.current.get_or_insert_with(|| Attempt {
                time: t,
                ..Default::default()
            });
            a.causes.push((c, t, cite()));
        }
        if r.truncated
            && let Some(a) = self.current.as_mut()
        {
            a.truncated = true;
        }
    }

    pub fn finish(mut self) -> LogFolded {
        if let Some(a) = self.current.take() {
            close_attempt(&mut self.tl, a);
        }
        LogFolded {
            tl: self.tl,
            first_timed_attempt: self.first_timed_attempt,
            apply_errors: self.apply_errors,
        }
    }
}

impl LogFolded {
    /// Add this log to `into` (the timeline of the logs read before it), with
    /// the result a single fold over both logs' rows in order would give.
    fn merge_into(self, into: &mut LogTimeline) {
        let b = self.tl;
        into.rows += b.rows;
        into.fetch_attempts += b.fetch_attempts;
        into.fetch_successes += b.fetch_successes;
        into.local_times |= b.local_times;
        into.first_time = opt_min(into.first_time, b.first_time);
        into.last_time = into.last_time.max(b.last_time);
        into.last_success = into.last_success.max(b.last_success);
        // Gaps in order: this log's first attempt after the previous log's
        // last, then its own; the first longest wins, as in one fold.
        if let (Some(prev), Some(now)) = (into.last_attempt, self.first_timed_attempt) {
            let gap = (now - prev).num_minutes();
            if into.longest_gap_minutes.is_none_or(|g| gap > g) {
                into.longest_gap_minutes = Some(gap);
                into.longest_gap_end = Some(now);
            }
        }
        if let Some(g) = b.longest_gap_minutes
            && into.longest_gap_minutes.is_none_or(|cur| g > cur)
        {
            into.longest_gap_minutes = Some(g);
            into.longest_gap_end = b.longest_gap_end;
        }
        into.last_attempt = b.last_attempt.or(into.last_attempt);
        for (c, o) in b.causes {
            match into.causes.get_mut(&c) {
                Some(cur) => cur.merge(o),
                None => {
                    into.causes.insert(c, o);
                }
            }
        }
        if into.proxy_used.is_none() {
            into.proxy_used = b.proxy_used;
        }
        if into.software_version.is_none() {
            into.software_version = b.software_version;
        }
    }
}

fn opt_min(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The log's `#Version:` header: the build that wrote it (exact).
fn add_log_version(ev: &mut ServerEvidence, path: &str, log: &MitigationLog) {
    let tl = ev.log.get_or_insert_with(LogTimeline::default);
    if tl.software_version.is_some() {
        return;
    }
    let Some(v) = &log.software_version else {
        return;
    };
    let line = log
        .headers
        .iter()
        .find(|h| h.key.eq_ignore_ascii_case("Version"))
        .map(|h| h.line);
    tl.software_version = Some(Fact::new(
        v.clone(),
        Cite::new(path, line, format!("#Version: {v}")),
    ));
    if let Some(version) = Version::parse(v) {
        offer_build(
            &mut ev.build,
            Fact::new(
                BuildFact {
                    version,
                    precision: Precision::Exact,
                },
                Cite::new(
                    path,
                    line,
                    format!("#Version: {v} (MitigationService log header)"),
                ),
            ),
        );
    }
}

/// Add one log to the server: its header, then its rows — folded here when
/// the log was parsed in memory, or already folded while it was streamed.
fn add_log(ev: &mut ServerEvidence, path: &str, log: &MitigationLog, folded: Option<&LogFolded>) {
    add_log_version(ev, path, log);
    let folded = match folded {
        Some(f) => f.clone(),
        None => {
            let mut fold = LogFold::new(path);
            for r in &log.records {
                fold.push(r.into());
            }
            fold.finish()
        }
    };
    for f in &folded.apply_errors {
        if ev.mitigation_apply_errors.len() < MAX_APPLY_ERRORS
            && !ev
                .mitigation_apply_errors
                .iter()
                .any(|e| e.value == f.value)
        {
            ev.mitigation_apply_errors.push(f.clone());
        }
    }
    if let Some(tl) = ev.log.as_mut() {
        folded.merge_into(tl);
    }
}

fn event_excerpt(e: &Event) -> String {
    let inner = e
        .exception
        .exceptions
        .last()
        .map(|x| format!("{}: {}", x.type_name, x.message));
    let first = e
        .message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let head = format!(
        "{} {} {}",
        e.provider.as_deref().unwrap_or("event"),
        e.event_id
            .map_or_else(|| "(pasted without header)".to_owned(), |i| i.to_string()),
        match inner {
            Some(i) => i,
            None => first,
        }
    );
    crate::finding::clip(&head, crate::finding::MAX_EXCERPT_CHARS)
}

/// Event `Computer` names kept per export (a forged export must not grow it).
const MAX_COMPUTERS: usize = 1000;

/// One event export reduced, event by event, to the evidence it gives
/// (issue 14): the same fold for an export parsed in memory and one
/// streamed from disk, as [`LogFold`] is for logs.
pub struct EventFold {
    path: String,
    folded: EventFolded,
    /// Where each name is in `folded.computers`.
    computer_at: HashMap<String, usize>,
    /// The previous event (provider, id, message), its excerpt and cause:
    /// an export repeats the same hourly failure hundreds of times, so they
    /// are reused while the event repeats.
    last: Option<LastEvent>,
}

/// The previous event's (provider, id, message), its excerpt and its cause
/// once classified.
type LastEvent = ((Option<String>, Option<u32>, String), String, Option<Cause>);

/// What [`EventFold`] made of one export.
#[derive(Debug, Clone, Default)]
pub struct EventFolded {
    events_seen: u64,
    watson: Option<Occurrences>,
    causes: std::collections::BTreeMap<Cause, Occurrences>,
    /// `Computer` names in the order first seen, with how many events name
    /// each (at most [`MAX_COMPUTERS`] names).
    computers: Vec<(String, u64)>,
}

impl EventFold {
    pub fn new(path: &str) -> Self {
        EventFold {
            path: path.to_owned(),
            folded: EventFolded::default(),
            computer_at: HashMap::new(),
            last: None,
        }
    }

    pub fn push(&mut self, e: &Event) {
        let f = &mut self.folded;
        f.events_seen += 1;
        // A name longer than a DNS name is not a server's; it must not be
        // kept a thousand times either.
        if let Some(c) = e.computer.as_ref().filter(|c| c.len() <= 253) {
            match self.computer_at.get(c) {
                Some(&at) => {
                    if let Some((_, n)) = f.computers.get_mut(at) {
                        *n += 1;
                    }
                }
                None if f.computers.len() < MAX_COMPUTERS => {
                    self.computer_at.insert(c.clone(), f.computers.len());
                    f.computers.push((c.clone(), 1));
                }
                None => {}
            }
        }
        let t = ts(&e.time);
        let same = self.last.as_ref().is_some_and(|((p, id, m), ..)| {
            *p == e.provider && *id == e.event_id && *m == e.message
        });
        if !same {
            let key = (e.provider.clone(), e.event_id, e.message.clone());
            self.last = Some((key, event_excerpt(e), None));
        }
        let excerpt = self.last.as_ref().map(|l| l.1.clone()).unwrap_or_default();
        let cite = Cite::new(&self.path, Some(e.line), excerpt);
        if e.watson.is_some() || e.event_id == Some(4999) {
            match f.watson.as_mut() {
                Some(o) => o.add(t, cite.clone()),
                None => f.watson = Some(Occurrences::new(t, cite.clone())),
            }
            if e.message.contains("OutOfMemoryException") {
                add_cause(&mut f.causes, Cause::OutOfMemory, t, cite);
            }
            return;
        }
        // A pasted description without its header is the service's 1008 when
        // the text itself names the service and carries the exception chain.
        let headerless_1008 = e.event_id.is_none()
            && e.kept_because == eems_parsers::events::KeepReason::EemsMessage
            && !e.exception.exceptions.is_empty();
        if e.event_id != Some(1008) && !headerless_1008 {
            return;
        }
        let cause = match self.last.as_mut() {
            Some((_, _, Some(c))) => *c,
            _ => {
                let mut text = e.message.clone();
                for x in &e.exception.exceptions {
                    text.push(' ');
                    text.push_str(&x.message);
                }
                let c = classify(&text);
                if let Some(l) = self.last.as_mut() {
                    l.2 = Some(c);
                }
                c
            }
        };
        add_cause(&mut f.causes, cause, t, cite);
    }

    pub fn finish(self) -> EventFolded {
        self.folded
    }
}

impl EventFolded {
    /// Add the export to the server, as if its events followed the ones
    /// already there.
    pub fn merge_into(&self, ev: &mut ServerEvidence) {
        ev.event_exports += 1;
        ev.events_seen += self.events_seen;
        if let Some(w) = &self.watson {
            match ev.watson.as_mut() {
                Some(o) => o.merge(w.clone()),
                None => ev.watson = Some(w.clone()),
            }
        }
        for (c, o) in &self.causes {
            match ev.event_causes.get_mut(c) {
                Some(mine) => mine.merge(o.clone()),
                None => {
                    ev.event_causes.insert(*c, o.clone());
                }
            }
        }
    }
}

/// Add one export to the server: folded here when it was parsed in memory,
/// or already folded while it was streamed.
fn add_events(
    ev: &mut ServerEvidence,
    path: &str,
    export: &EventExport,
    folded: Option<&EventFolded>,
) {
    match folded {
        Some(f) => f.merge_into(ev),
        None => {
            let mut fold = EventFold::new(path);
            for e in &export.events {
                fold.push(e);
            }
            fold.finish().merge_into(ev);
        }
    }
}

fn add_cause(
    map: &mut std::collections::BTreeMap<Cause, Occurrences>,
    c: Cause,
    t: Option<DateTime<Utc>>,
    cite: Cite,
) {
    match map.get_mut(&c) {
        Some(o) => o.add(t, cite),
        None => {
            map.insert(c, Occurrences::new(t, cite));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collect files given as (path, text) into server evidence.
    fn group(files: &[(&str, &str)]) -> Vec<ServerEvidence> {
        let parsed: Vec<(String, ParsedInput)> = files
            .iter()
            .map(|(p, t)| {
                (
                    p.to_string(),
                    eems_parsers::parse_input(t.as_bytes(), Some(p)),
                )
            })
            .collect();
        let inputs: Vec<Input<'_>> = parsed
            .iter()
            .map(|(path, parsed)| Input::new(path, parsed))
            .collect();
        collect_group(&inputs)
    }

    /// Pseudo-random rows (a fixed LCG: the same cases every run) covering
    /// every branch of the fold: attempts with and without times, times out
    /// of order, successes, specific and generic failures, proxies, cut rows.
    fn random_rows(seed: &mut u64, n: usize) -> Vec<LogRecord> {
        let mut next = move |m: u64| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) % m
        };
        (0..n)
            .map(|i| {
                let time = match next(5) {
                    0 => None,
                    k => Some(Timestamp::Utc {
                        utc: DateTime::<Utc>::from_timestamp(
                            1_700_000_000 + (next(40) as i64 + k as i64) * 600,
                            0,
                        )
                        .unwrap(),
                    }),
                };
                let (class, level) = match next(7) {
                    0 | 1 => (
                        MessageClass::FetchingMitigations { url: "u".into() },
                        "Information",
                    ),
                    2 => (MessageClass::FetchSucceeded { count: None }, "Information"),
                    3 => (MessageClass::TlsValidationFailed, "Warning"),
                    4 => (
                        MessageClass::FetchException {
                            detail: [
                                "One or more errors occurred.",
                                "The remote name could not be resolved",
                            ][next(2) as usize]
                                .into(),
                            xml_not_safe: next(4) == 0,
                        },
                        "Error",
                    ),
                    5 => (
                        MessageClass::UsingProxy {
                            proxy: format!("http://p{}:3128/", next(3)),
                        },
                        "Information",
                    ),
                    _ => (
                        MessageClass::Other,
                        ["Error", "Information"][next(2) as usize],
                    ),
                };
                LogRecord {
                    line: i + 1,
                    time,
                    server: None,
                    operation: None,
                    level: Some(level.into()),
                    message: Some(format!("m{}", next(4))),
                    source: None,
                    fields: Vec::new(),
                    class,
                    truncated: next(25) == 0,
                }
            })
            .collect()
    }

    /// Folding logs one by one and merging each result gives what one fold
    /// continuing over every log's rows gave before logs could be streamed.
    #[test]
    fn merged_folds_equal_one_continued_fold() {
        let mut seed: u64 = 7;
        for case in 0..3000 {
            let logs: Vec<Vec<LogRecord>> = (0..1 + case % 3)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let n = (seed >> 40) as usize % 12;
                    random_rows(&mut seed, n)
                })
                .collect();
            // Reference: the pre-streaming fold, one timeline carried across logs.
            let mut reference = LogTimeline::default();
            for rows in &logs {
                let mut fold = LogFold::new("a.log");
                fold.tl = std::mem::take(&mut reference);
                for r in rows {
                    fold.push(r.into());
                }
                reference = fold.finish().tl;
            }
            let mut merged = LogTimeline::default();
            for rows in &logs {
                let mut fold = LogFold::new("a.log");
                for r in rows {
                    fold.push(r.into());
                }
                fold.finish().merge_into(&mut merged);
            }
            assert_eq!(
                format!("{merged:?}"),
                format!("{reference:?}"),
                "case {case}: {logs:?}"
            );
        }
    }

    #[test]
    fn occurrences_merge_equals_adding_in_order() {
        let times = [None, Some(1), Some(2), Some(3)];
        let at = |t: Option<i64>| t.map(|s| DateTime::<Utc>::from_timestamp(s, 0).unwrap());
        // Every sequence of up to 5 occurrences, split at every point.
        for len in 2..=5u32 {
            for code in 0..4usize.pow(len) {
                let seq: Vec<(Option<DateTime<Utc>>, Cite)> = (0..len as usize)
                    .map(|i| {
                        let t = times[code / 4usize.pow(i as u32) % 4];
                        (at(t), Cite::new("x", Some(i + 1), ""))
                    })
                    .collect();
                let fold = |items: &[(Option<DateTime<Utc>>, Cite)]| {
                    let mut o = Occurrences::new(items[0].0, items[0].1.clone());
                    for (t, c) in &items[1..] {
                        o.add(*t, c.clone());
                    }
                    o
                };
                let whole = fold(&seq);
                for split in 1..seq.len() {
                    let mut a = fold(&seq[..split]);
                    a.merge(fold(&seq[split..]));
                    assert_eq!(format!("{a:?}"), format!("{whole:?}"), "{seq:?} at {split}");
                }
            }
        }
    }

    fn names(servers: &[ServerEvidence]) -> Vec<Option<&str>> {
        servers.iter().map(|s| s.server.as_deref()).collect()
    }

    fn build(s: &ServerEvidence) -> Option<String> {
        s.build.as_ref().map(|b| b.value.version.to_string())
    }

    const LISTING: &str = "\nName                : EX01\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\n\nName                : EX02\nAdminDisplayVersion : Version 15.1 (Build 2507.6)\n\n";

    #[test]
    fn a_listing_alone_is_exactly_its_servers() {
        let v = group(&[("get-exchangeserver-fl.txt", LISTING)]);
        assert_eq!(names(&v), [Some("EX01"), Some("EX02")]);
        assert_eq!(build(&v[0]).as_deref(), Some("15.2.1118.7"));
        assert_eq!(build(&v[1]).as_deref(), Some("15.1.2507.6"));
        assert_eq!(v[0].inputs.len(), 1);
        // The organization setting beside it reaches every listed server.
        let v = group(&[
            ("get-exchangeserver-fl.txt", LISTING),
            (
                "get-organizationconfig-fl.txt",
                "\nMitigationsEnabled : False\n",
            ),
        ]);
        assert_eq!(names(&v), [Some("EX01"), Some("EX02")]);
        assert!(v.iter().all(|s| {
            s.org_mitigations_enabled.as_ref().map(|f| f.value) == Some(false)
                && s.inputs.len() == 2
        }));
    }

    #[test]
    fn unnamed_local_evidence_keeps_the_groups_own_server() {
        // A netsh output beside the listing belongs to some server the
        // listing does not name: it stays with an unnamed server.
        let v = group(&[
            ("get-exchangeserver-fl.txt", LISTING),
            (
                "netsh.txt",
                "\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n\n",
            ),
        ]);
        assert_eq!(names(&v), [None, Some("EX01"), Some("EX02")]);
        assert_eq!(v[0].winhttp.len(), 1);
        // A record without a name is the group's own server too.
        let v = group(&[(
            "get-exchangeserver-fl.txt",
            "\nName : EX01\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\n\nAdminDisplayVersion : Version 15.1 (Build 2507.6)\n\nName : EX02\nMitigationsEnabled : True\n",
        )]);
        assert_eq!(names(&v), [None, Some("EX01"), Some("EX02")]);
        assert_eq!(build(&v[0]).as_deref(), Some("15.1.2507.6"));
        // A file nothing could be read from keeps no empty server alive: it
        // is shown with every listed server (issue 12: no invented server).
        let v = group(&[
            ("get-exchangeserver-fl.txt", LISTING),
            ("notes.txt", "called the customer, no answer\n"),
        ]);
        assert_eq!(names(&v), [Some("EX01"), Some("EX02")]);
        assert!(
            v.iter()
                .all(|s| s.inputs.iter().any(|i| i.path.as_str() == "notes.txt"))
        );
    }

    const EX01_EXSETUP: &str = "[PS] C:\\>Invoke-Command -ComputerName EX01 { (Get-Command ExSetup.exe).FileVersionInfo.FileVersion }\n15.02.1118.040\n";
    const EX02_EXSETUP: &str = "[PS] C:\\>Invoke-Command -ComputerName ex02.contoso.com { (Get-Command ExSetup.exe).FileVersionInfo.FileVersion }\n15.02.0986.005\n";
    const NETSH: &str =
        "\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n\n";

    #[test]
    fn exsetup_outputs_of_named_servers_are_each_their_servers() {
        // One paste, or one file per server: the same two servers.
        let paste = format!("{EX01_EXSETUP}{EX02_EXSETUP}");
        for files in [
            vec![("paste.txt", paste.as_str())],
            vec![("ex01.txt", EX01_EXSETUP), ("ex02.txt", EX02_EXSETUP)],
        ] {
            let v = group(&files);
            assert_eq!(names(&v), [Some("EX01"), Some("EX02")], "{files:?}");
            assert_eq!(build(&v[0]).as_deref(), Some("15.2.1118.40"));
            assert_eq!(build(&v[1]).as_deref(), Some("15.2.986.5"));
            assert!(
                v.iter()
                    .all(|s| s.build.as_ref().unwrap().value.precision == Precision::Exact)
            );
        }
        let v = group(&[("ex01.txt", EX01_EXSETUP), ("ex02.txt", EX02_EXSETUP)]);
        let paths = |s: &ServerEvidence| {
            s.inputs
                .iter()
                .map(|i| i.path.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(&v[0]), ["ex01.txt"]);
        assert_eq!(paths(&v[1]), ["ex02.txt"]);
        // Unnamed local evidence beside them is some third server's.
        let v = group(&[("paste.txt", paste.as_str()), ("netsh.txt", NETSH)]);
        assert_eq!(names(&v), [None, Some("EX01"), Some("EX02")]);
        assert!(v[0].build.is_none());
        assert_eq!(v[0].winhttp.len(), 1);
    }

    #[test]
    fn a_remote_exsetup_is_not_the_groups_own_build() {
        // A log names the group's server EX02; the ExSetup output pasted
        // after `Invoke-Command -ComputerName EX01` is EX01's, not EX02's.
        let log = "#Software: Microsoft Exchange Server\n#Version: 15.02.0986.005\n#Log-type: Mitigation Service Logs\n#Fields: DateTime,ServerName,Operation,Data\n2025-01-27T08:00:00.000Z,EX02,FetchMitigation,S:LogLevel=Information;S:Message=Fetching mitigations from OCS\n";
        let v = group(&[
            ("MitigationService.LOG", log),
            ("exsetup.txt", EX01_EXSETUP),
        ]);
        assert_eq!(names(&v), [Some("EX02"), Some("EX01")]);
        assert_eq!(build(&v[0]).as_deref(), Some("15.2.986.5"));
        assert_eq!(build(&v[1]).as_deref(), Some("15.2.1118.40"));
    }

    #[test]
    fn one_exsetup_output_stays_the_groups_own() {
        // Named or not, a single ExSetup output with the group's other
        // evidence is the group's server, as before.
        let v = group(&[("exsetup.txt", EX01_EXSETUP), ("netsh.txt", NETSH)]);
        assert_eq!(names(&v), [Some("EX01")]);
        assert_eq!(build(&v[0]).as_deref(), Some("15.2.1118.40"));
        assert_eq!(v[0].winhttp.len(), 1);
        let v = group(&[
            ("exsetup.txt", "\nFileVersion : 15.02.1258.028\n"),
            ("netsh.txt", NETSH),
        ]);
        assert_eq!(names(&v), [None]);
        assert_eq!(build(&v[0]).as_deref(), Some("15.2.1258.28"));
    }

    #[test]
    fn a_single_record_listing_is_the_groups_server() {
        let v = group(&[(
            "get-exchangeserver-fl.txt",
            "\nName                : EX01\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\n",
        )]);
        assert_eq!(names(&v), [Some("EX01")]);
    }
}
