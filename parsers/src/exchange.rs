//! `Get-ExchangeServer | fl …`, `Get-OrganizationConfig | fl …` and the
//! state of the MSExchangeMitigation service (`Get-Service` in its table,
//! select and list forms, `sc query` / `sc qc`).

use crate::build::{Build, parse_build};
use crate::clixml;
use crate::format_list::{self, FlProperty, FlRecord, parse_records, strip_truncation};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{digit1, space0, space1};
use nom::combinator::{map_res, rest};
use nom::{IResult, Parser};
use serde::Serialize;

/// One server's EEMS-relevant properties.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeServer {
    pub name: Option<String>,
    pub fqdn: Option<String>,
    /// As printed: `Version 15.2 (Build 1118.7)`.
    pub admin_display_version: Option<String>,
    /// Parsed AdminDisplayVersion; `precision: cu` (it never shows the SU).
    pub build: Option<Build>,
    pub server_role: Option<String>,
    pub is_edge_server: Option<bool>,
    /// `None` when empty (Exchange 2013, Edge) or not shown.
    pub mitigations_enabled: Option<bool>,
    pub mitigations_applied: Vec<String>,
    /// The list ended in `...`: more were applied than printed.
    pub mitigations_applied_incomplete: bool,
    pub mitigations_blocked: Vec<String>,
    pub mitigations_blocked_incomplete: bool,
    pub data_collection_enabled: Option<bool>,
    /// As printed (`http://proxy.contoso.com:8080/`); `None` when empty.
    pub internet_web_proxy: Option<String>,
    pub internet_web_proxy_bypass_list: Vec<String>,
    /// Labels present in the paste, so "empty" can be told from "not shown".
    pub shown: Vec<String>,
    /// Line of the record's first property.
    pub line: usize,
}

impl ExchangeServer {
    /// Whether the paste included the property `name` (case-insensitive).
    pub fn was_shown(&self, name: &str) -> bool {
        self.shown.iter().any(|s| s.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeServers {
    pub servers: Vec<ExchangeServer>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OrganizationConfig {
    pub mitigations_enabled: Option<bool>,
    pub data_collection_enabled: Option<bool>,
    /// Every other property of the record, as printed.
    pub other: Vec<FlProperty>,
    /// Line of the `MitigationsEnabled` property (else of the record).
    pub line: usize,
}

/// Service state as `Get-Service` / `sc query` report it.
/// `Start Pending`, `START_PENDING` and `startpending` compare equal.
fn alnum_lower(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceState {
    Running,
    Stopped,
    StartPending,
    StopPending,
    Paused,
    PausePending,
    ContinuePending,
    Other(String),
}

impl ServiceState {
    /// The state in reports: `running`, `start-pending`; another word as
    /// printed, lowercased.
    pub fn word(&self) -> std::borrow::Cow<'static, str> {
        match self {
            ServiceState::Running => "running".into(),
            ServiceState::Stopped => "stopped".into(),
            ServiceState::StartPending => "start-pending".into(),
            ServiceState::StopPending => "stop-pending".into(),
            ServiceState::Paused => "paused".into(),
            ServiceState::PausePending => "pause-pending".into(),
            ServiceState::ContinuePending => "continue-pending".into(),
            ServiceState::Other(o) => o.to_ascii_lowercase().into(),
        }
    }

    /// PowerShell enum names, sc.exe words and sc.exe state numbers.
    pub fn parse(s: &str) -> ServiceState {
        let t = s.trim();
        let norm = alnum_lower(t);
        match norm.as_str() {
            "running" | "4" => ServiceState::Running,
            "stopped" | "1" => ServiceState::Stopped,
            "startpending" | "2" => ServiceState::StartPending,
            "stoppending" | "3" => ServiceState::StopPending,
            "paused" | "7" => ServiceState::Paused,
            "pausepending" | "6" => ServiceState::PausePending,
            "continuepending" | "5" => ServiceState::ContinuePending,
            _ => ServiceState::Other(t.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartType {
    Automatic,
    AutomaticDelayed,
    Manual,
    Disabled,
    Other(String),
}

impl StartType {
    /// The start type in reports: `automatic`, `automatic-delayed`; another
    /// word as printed, lowercased.
    pub fn word(&self) -> std::borrow::Cow<'static, str> {
        match self {
            StartType::Automatic => "automatic".into(),
            StartType::AutomaticDelayed => "automatic-delayed".into(),
            StartType::Manual => "manual".into(),
            StartType::Disabled => "disabled".into(),
            StartType::Other(o) => o.to_ascii_lowercase().into(),
        }
    }

    /// Started with Windows, delayed or not (an unknown word that says
    /// `Automatic…`, such as `Automatic (Trigger Start)`, counts).
    pub fn is_automatic(&self) -> bool {
        match self {
            StartType::Automatic | StartType::AutomaticDelayed => true,
            StartType::Other(o) => o.to_ascii_lowercase().starts_with("automatic"),
            StartType::Manual | StartType::Disabled => false,
        }
    }

    /// PowerShell `StartType`/`StartMode`, services.msc words and sc.exe
    /// `START_TYPE` words (`AUTO_START`, `DEMAND_START`, `DISABLED`).
    pub fn parse(s: &str) -> StartType {
        let t = s.trim();
        let norm = alnum_lower(t);
        match norm.as_str() {
            "automatic" | "auto" | "autostart" => StartType::Automatic,
            "automaticdelayedstart" | "automaticdelayed" | "autostartdelayed" | "autodelayed" => {
                StartType::AutomaticDelayed
            }
            "manual" | "demandstart" | "demand" => StartType::Manual,
            "disabled" => StartType::Disabled,
            _ => StartType::Other(t.to_owned()),
        }
    }
}

/// One service as shown.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// As printed (`MSExchangeMitig...` in the default table).
    pub name: String,
    /// The name was cut by the column width (`...` or `…`).
    pub name_truncated: bool,
    pub display_name: Option<String>,
    /// `None` when the output does not show it (`sc qc`).
    pub status: Option<ServiceState>,
    /// `None` when not shown (the default `Get-Service` table has no StartType).
    pub start_type: Option<StartType>,
    /// Name (or its truncated prefix) or display name is that of the
    /// Exchange Emergency Mitigation service.
    pub is_mitigation_service: bool,
    pub line: usize,
}

/// A "service does not exist" answer (`Get-Service` error, `sc` 1060).
#[derive(Debug, Clone, Serialize)]
pub struct MissingService {
    pub name: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceStatus {
    pub services: Vec<Service>,
    pub missing: Vec<MissingService>,
}

impl ServiceStatus {
    /// The MSExchangeMitigation entry, if shown.
    pub fn mitigation_service(&self) -> Option<&Service> {
        self.services.iter().find(|s| s.is_mitigation_service)
    }
}

const EEMS_SERVICE: &str = "MSExchangeMitigation";
const EEMS_DISPLAY: &str = "Microsoft Exchange Emergency Mitigation Service";

/// A name as printed refers to MSExchangeMitigation: the full name or a
/// truncated prefix of at least `MSExchangeMitig` (PS column width 18).
fn is_eems_name(name: &str) -> bool {
    let (base, _) = strip_truncation(name);
    let base = base.trim();
    base.len() >= 12
        && EEMS_SERVICE
            .get(..base.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(base))
}

fn is_eems_display(display: &str) -> bool {
    let (base, _) = strip_truncation(display);
    let base = base.trim();
    base.len() >= 20
        && EEMS_DISPLAY
            .get(..base.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(base))
}

fn bool_prop(r: &FlRecord, name: &str, problems: &mut Vec<Problem>) -> Option<bool> {
    let p = r.get(name)?;
    let v = p.as_str()?;
    let b = p.as_bool();
    if b.is_none() {
        problems.push(Problem::at(
            p.line,
            format!("{name} is not True/False: {v}"),
        ));
    }
    b
}

fn list_prop(r: &FlRecord, name: &str) -> (Vec<String>, bool) {
    r.get(name)
        .map(|p| {
            let (list, more) = p.as_list_bounded();
            (list, p.incomplete || more)
        })
        .unwrap_or_default()
}

const SERVER_LABELS: [&str; 9] = [
    "AdminDisplayVersion",
    "MitigationsApplied",
    "MitigationsBlocked",
    "InternetWebProxy",
    "InternetWebProxyBypassList",
    "IsEdgeServer",
    "ServerRole",
    "Fqdn",
    "DataCollectionEnabled",
];

/// Read one or many servers of `Get-ExchangeServer | Format-List …`, its
/// tables, or `Get-ExchangeServer | Export-Clixml`.
pub fn parse_exchange_server(src: Source<'_>) -> Parsed<ExchangeServers> {
    let (records, mut problems) = if clixml::is_clixml(src.text) {
        let parsed = clixml::parse_records(src);
        (parsed.value, parsed.problems)
    } else {
        let tables = server_tables(src);
        if tables.is_empty() {
            let parsed = parse_records(src);
            (parsed.value, parsed.problems)
        } else {
            (tables, Vec::new())
        }
    };
    let servers = servers_from_records(records, &mut problems);
    if servers.is_empty() {
        problems.push(Problem::whole("no Get-ExchangeServer record found"));
    }
    Parsed::with_problems(ExchangeServers { servers }, problems)
}

/// The servers of Format-List records (from console text or CliXml alike).
fn servers_from_records(
    records: Vec<FlRecord>,
    problems: &mut Vec<Problem>,
) -> Vec<ExchangeServer> {
    let mut servers = Vec::new();
    for r in records {
        let is_server = r.has("MitigationsEnabled")
            || SERVER_LABELS.iter().any(|l| r.has(l))
            || r.has("Name") && r.properties.len() == 1;
        if !is_server {
            problems.push(Problem::at(
                r.line,
                "record has no Exchange server properties; skipped",
            ));
            continue;
        }
        let mut s = ExchangeServer {
            name: r
                .get_any(&["Name", "Identity"])
                .and_then(|p| p.as_str())
                .map(str::to_owned),
            fqdn: r.get_str("Fqdn").map(str::to_owned),
            admin_display_version: r.get_str("AdminDisplayVersion").map(str::to_owned),
            server_role: r.get_str("ServerRole").map(str::to_owned),
            internet_web_proxy: r.get_str("InternetWebProxy").map(str::to_owned),
            internet_web_proxy_bypass_list: list_prop(&r, "InternetWebProxyBypassList").0,
            shown: r.properties.iter().map(|p| p.name.clone()).collect(),
            line: r.line,
            ..ExchangeServer::default()
        };
        s.is_edge_server = bool_prop(&r, "IsEdgeServer", problems);
        s.mitigations_enabled = bool_prop(&r, "MitigationsEnabled", problems);
        s.data_collection_enabled = bool_prop(&r, "DataCollectionEnabled", problems);
        (s.mitigations_applied, s.mitigations_applied_incomplete) =
            list_prop(&r, "MitigationsApplied");
        (s.mitigations_blocked, s.mitigations_blocked_incomplete) =
            list_prop(&r, "MitigationsBlocked");
        if let Some(p) = r.get("AdminDisplayVersion") {
            if let Some(v) = p.as_str() {
                // A cut-off version is unknown, never the build its prefix spells.
                s.build = parse_build(v).filter(|_| !p.incomplete);
                if p.incomplete {
                    problems.push(Problem::at(
                        p.line,
                        format!("AdminDisplayVersion was cut off by the console width: {v}"),
                    ));
                } else if s.build.is_none() {
                    problems.push(Problem::at(
                        p.line,
                        format!("AdminDisplayVersion is not a build: {v}"),
                    ));
                }
            }
        }
        if s.name.is_none() {
            problems.push(Problem::at(r.line, "server record without Name"));
        }
        servers.push(s);
    }
    servers
}

/// A table header of `Get-ExchangeServer`: a `Name` column and a server property.
fn is_server_header(names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case("Name"))
        && names.iter().any(|n| {
            n.eq_ignore_ascii_case("MitigationsEnabled")
                || SERVER_LABELS.iter().any(|l| l.eq_ignore_ascii_case(n))
        })
}

/// `Get-ExchangeServer` in its default table (`Name Site ServerRole Edition
/// AdminDisplayVersion`) or `| ft Name,*Mitig*` (also `-Wrap`, and pasted
/// without its dash ruler): rows as records.
fn server_tables(src: Source<'_>) -> Vec<FlRecord> {
    let mut out = Vec::new();
    for t in format_list::parse_tables_with(src, is_server_header) {
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        if !is_server_header(&names) {
            continue;
        }
        for row in &t.rows {
            let properties = t
                .columns
                .iter()
                .zip(&row.cells)
                .zip(&row.truncated)
                .map(|((c, v), &truncated)| FlProperty {
                    name: c.name.clone(),
                    value: v.clone().unwrap_or_default(),
                    incomplete: truncated,
                    line: row.line,
                    items: None,
                })
                .collect();
            out.push(FlRecord {
                properties,
                line: row.line,
            });
        }
    }
    out
}

/// Read `Get-OrganizationConfig | fl MitigationsEnabled` (or `fl *mitig*`,
/// the full list, or `Get-OrganizationConfig | Export-Clixml`). The first
/// record with `MitigationsEnabled` is used.
pub fn parse_organization_config(src: Source<'_>) -> Parsed<OrganizationConfig> {
    let parsed = if clixml::is_clixml(src.text) {
        clixml::parse_records(src)
    } else {
        parse_records(src)
    };
    let mut problems = parsed.problems;
    let out = organization_from_records(&parsed.value, src.first_line, &mut problems);
    Parsed::with_problems(out, problems)
}

/// The organization config of Format-List records (console text or CliXml).
fn organization_from_records(
    records: &[FlRecord],
    first_line: usize,
    problems: &mut Vec<Problem>,
) -> OrganizationConfig {
    let mut out = OrganizationConfig {
        line: first_line,
        ..OrganizationConfig::default()
    };
    let chosen = records
        .iter()
        .position(|r| r.has("MitigationsEnabled"))
        .or(if records.is_empty() { None } else { Some(0) });
    match chosen.and_then(|i| records.get(i)) {
        Some(r) => {
            out.line = r.get("MitigationsEnabled").map_or(r.line, |p| p.line);
            out.mitigations_enabled = bool_prop(r, "MitigationsEnabled", problems);
            out.data_collection_enabled = bool_prop(r, "DataCollectionEnabled", problems);
            out.other = r
                .properties
                .iter()
                .filter(|p| {
                    !p.name.eq_ignore_ascii_case("MitigationsEnabled")
                        && !p.name.eq_ignore_ascii_case("DataCollectionEnabled")
                })
                .cloned()
                .collect();
            if !r.has("MitigationsEnabled") {
                problems.push(Problem::at(r.line, "MitigationsEnabled is not shown"));
            }
            if records.len() > 1 {
                problems.push(Problem::at(
                    records
                        .iter()
                        .find(|x| x.line != r.line)
                        .map_or(r.line, |x| x.line),
                    "several records; only the one with MitigationsEnabled is used",
                ));
            }
        }
        None => problems.push(Problem::whole("no Get-OrganizationConfig record found")),
    }
    out
}

fn new_service(name: &str, display: Option<&str>, line: usize) -> Service {
    let (_, truncated) = strip_truncation(name);
    Service {
        name: name.to_owned(),
        name_truncated: truncated,
        display_name: display.map(str::to_owned),
        status: None,
        start_type: None,
        is_mitigation_service: is_eems_name(name) || display.is_some_and(is_eems_display),
        line,
    }
}

/// `KEY   : value` of sc.exe (keys are upper-case with underscores).
fn sc_field(i: &str) -> IResult<&str, (&str, &str)> {
    let (i, _) = space0(i)?;
    let (i, key) =
        take_while1(|c: char| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())(i)?;
    let (i, _) = (space0, tag(":"), space0).parse(i)?;
    let (i, value) = rest(i)?;
    Ok((i, (key, value.trim())))
}

/// `4  RUNNING` → (4, "RUNNING …").
fn sc_number_word(i: &str) -> IResult<&str, (u32, &str)> {
    let (i, n) = map_res(digit1, str::parse::<u32>).parse(i)?;
    let (i, _) = space1(i)?;
    let (i, word) = rest(i)?;
    Ok((i, (n, word.trim())))
}

fn sc_start_type(v: &str) -> StartType {
    match sc_number_word(v) {
        Ok((_, (2, w))) if w.to_ascii_uppercase().contains("DELAYED") => {
            StartType::AutomaticDelayed
        }
        Ok((_, (2, _))) => StartType::Automatic,
        Ok((_, (3, _))) => StartType::Manual,
        Ok((_, (4, _))) => StartType::Disabled,
        Ok((_, (_, w))) => StartType::parse(w),
        Err(_) => StartType::parse(v),
    }
}

fn sc_state(v: &str) -> ServiceState {
    match sc_number_word(v) {
        Ok((_, (n @ 1..=7, _))) => ServiceState::parse(&n.to_string()),
        Ok((_, (_, w))) => ServiceState::parse(w),
        Err(_) => ServiceState::parse(v),
    }
}

/// `sc query` / `sc qc` blocks. A second block for the same service (query
/// then qc) fills in what the first lacked.
fn parse_sc(src: Source<'_>, out: &mut ServiceStatus, problems: &mut Vec<Problem>) {
    let mut current: Option<usize> = None;
    let mut pending_missing: Option<usize> = None;
    for (ln, line) in src.lines() {
        let t = line.trim();
        if t.contains("FAILED 1060") {
            pending_missing = Some(ln);
            out.missing.push(MissingService {
                name: None,
                line: ln,
            });
            current = None;
            continue;
        }
        let Ok((_, (key, value))) = sc_field(line) else {
            if t.is_empty() {
                current = None;
            }
            continue;
        };
        match key {
            "SERVICE_NAME" => {
                pending_missing = None;
                let existing = out
                    .services
                    .iter()
                    .position(|s| s.name.eq_ignore_ascii_case(value));
                current = Some(existing.unwrap_or_else(|| {
                    out.services.push(new_service(value, None, ln));
                    out.services.len() - 1
                }));
            }
            _ => {
                let Some(svc) = current.and_then(|i| out.services.get_mut(i)) else {
                    if pending_missing.is_none() && matches!(key, "STATE" | "START_TYPE") {
                        problems.push(Problem::at(
                            ln,
                            format!("{key} outside a SERVICE_NAME block"),
                        ));
                    }
                    continue;
                };
                match key {
                    "STATE" => svc.status = Some(sc_state(value)),
                    "START_TYPE" => svc.start_type = Some(sc_start_type(value)),
                    "DISPLAY_NAME" => {
                        svc.display_name = Some(value.to_owned());
                        svc.is_mitigation_service |= is_eems_display(value);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// `Get-Service : Cannot find any service with service name 'X'.`
fn parse_ps_missing(src: Source<'_>, out: &mut ServiceStatus) {
    const NEEDLE: &str = "cannot find any service with service name";
    for (ln, line) in src.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(pos) = lower.find(NEEDLE) {
            let after = line.get(pos + NEEDLE.len()..).unwrap_or_default();
            let name = after
                .trim()
                .trim_matches(|c| c == '\'' || c == '.' || c == '"')
                .trim();
            out.missing.push(MissingService {
                name: (!name.is_empty()).then(|| name.to_owned()),
                line: ln,
            });
        }
    }
}

/// Read the MSExchangeMitigation service state from any of: the default
/// `Get-Service` table, `| select Name,Status,StartType` tables, `| fl`
/// lists, `sc query` / `sc qc` text, and "service not found" errors.
pub fn parse_service_status(src: Source<'_>) -> Parsed<ServiceStatus> {
    if clixml::is_clixml(src.text) {
        return parse_service_status_clixml(src);
    }
    let mut out = ServiceStatus::default();
    let mut problems = Vec::new();

    for t in format_list::parse_tables(src) {
        let name_col = t.column("Name").or_else(|| t.column("ServiceName"));
        if name_col.is_none() && t.column("DisplayName").is_none() {
            continue;
        }
        for row in &t.rows {
            let name = t.cell(row, "Name").or_else(|| t.cell(row, "ServiceName"));
            let display = t.cell(row, "DisplayName");
            let Some(name) = name.or(display) else {
                problems.push(Problem::at(row.line, "service row without a name"));
                continue;
            };
            let mut s = new_service(name, display, row.line);
            s.status = t.cell(row, "Status").map(ServiceState::parse);
            s.start_type = t
                .cell(row, "StartType")
                .or_else(|| t.cell(row, "StartMode"))
                .map(StartType::parse);
            out.services.push(s);
        }
    }

    // `| fl`: only records that look like services (a Status or StartType).
    let has_table = !out.services.is_empty();
    if !has_table {
        services_from_records(&parse_records(src).value, &mut out);
    }

    parse_sc(src, &mut out, &mut problems);
    parse_ps_missing(src, &mut out);
    finish_service_status(out, problems)
}

/// Services of Format-List records (console text, or CliXml of
/// `ServiceController` objects / Health Checker's service objects): only
/// records that look like services (a name and a Status or StartType).
fn services_from_records(records: &[FlRecord], out: &mut ServiceStatus) {
    for r in records {
        let Some(name_p) = r.get_any(&["Name", "ServiceName"]) else {
            continue;
        };
        if !(r.has("Status") || r.has("StartType") || r.has("State")) {
            continue;
        }
        let name = name_p.value.trim();
        let display = r.get_str("DisplayName");
        let mut s = new_service(name, display, r.line);
        s.status = r
            .get_any(&["Status", "State"])
            .and_then(|p| p.as_str())
            .map(ServiceState::parse);
        s.start_type = r
            .get_any(&["StartType", "StartMode"])
            .and_then(|p| p.as_str())
            .map(StartType::parse);
        out.services.push(s);
    }
}

/// `Get-Service | Export-Clixml` (or Health Checker's service objects).
fn parse_service_status_clixml(src: Source<'_>) -> Parsed<ServiceStatus> {
    let parsed = clixml::parse_records(src);
    let mut out = ServiceStatus::default();
    services_from_records(&parsed.value, &mut out);
    finish_service_status(out, parsed.problems)
}

/// Order what was found and report unknown states / nothing found.
fn finish_service_status(
    mut out: ServiceStatus,
    mut problems: Vec<Problem>,
) -> Parsed<ServiceStatus> {
    out.services.sort_by_key(|s| s.line);
    out.missing.sort_by_key(|m| m.line);

    for s in &out.services {
        if let Some(ServiceState::Other(raw)) = &s.status {
            problems.push(Problem::at(
                s.line,
                format!("unknown service status: {raw}"),
            ));
        }
    }
    if out.services.is_empty() && out.missing.is_empty() {
        problems.push(Problem::whole("no service status found"));
    }
    Parsed::with_problems(out, problems)
}

fn fl_labels(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter_map(|l| format_list::split_property(l).map(|(k, _)| k))
}

/// Whether a top-level object of CliXml `text` has a type named `suffix`
/// (or ending in `.suffix`; `Deserialized.` prefixes are fine).
/// CliXml of `Get-ExchangeServer` (type `…Directory.Management.ExchangeServer`).
pub fn looks_like_exchange_server_clixml(text: &str) -> bool {
    clixml::has_top_type(text, "Management.ExchangeServer")
}

/// CliXml of `Get-OrganizationConfig` (type `…Directory.Management.OrganizationConfig`).
pub fn looks_like_organization_config_clixml(text: &str) -> bool {
    clixml::has_top_type(text, "Management.OrganizationConfig")
}

/// CliXml of `Get-Service` (`System.ServiceProcess.ServiceController`), or of
/// a PSCustomObject about MSExchangeMitigation with a name and a `Status` or
/// `StartType` (Health Checker's service objects).
pub fn looks_like_service_status_clixml(text: &str) -> bool {
    if !clixml::is_clixml(text) {
        return false;
    }
    if clixml::has_top_type(text, "System.ServiceProcess.ServiceController") {
        return true;
    }
    let named =
        clixml::mentions_property(text, "Name") || clixml::mentions_property(text, "ServiceName");
    let state =
        clixml::mentions_property(text, "Status") || clixml::mentions_property(text, "StartType");
    named
        && state
        && clixml::has_top_type(text, "System.Management.Automation.PSCustomObject")
        && text.to_ascii_lowercase().contains("msexchangemitigation")
}

/// Cheap check for the sniffer: `Get-ExchangeServer | fl` output, its
/// tables, or its CliXml ([`looks_like_exchange_server_clixml`]).
pub fn looks_like_exchange_server(text: &str) -> bool {
    if clixml::is_clixml(text) {
        return looks_like_exchange_server_clixml(text);
    }
    let mut mitigations_enabled = false;
    let mut named = false;
    for k in fl_labels(text) {
        if SERVER_LABELS[..7].iter().any(|l| l.eq_ignore_ascii_case(k)) {
            return true;
        }
        mitigations_enabled |= k.eq_ignore_ascii_case("MitigationsEnabled");
        named |= k.eq_ignore_ascii_case("Name") || k.eq_ignore_ascii_case("Identity");
    }
    // Table header: `Name … AdminDisplayVersion` / `Name … MitigationsEnabled`.
    let table = text.lines().any(|l| {
        let toks: Vec<&str> = l.split_whitespace().collect();
        toks.contains(&"Name")
            && toks
                .iter()
                .any(|t| *t == "MitigationsEnabled" || SERVER_LABELS[..7].iter().any(|l| l == t))
    });
    table || mitigations_enabled && named
}

/// Cheap check for the sniffer: a Format-List record with
/// `MitigationsEnabled` and no `Name`/`Identity` (nor server-only properties).
/// Also its CliXml ([`looks_like_organization_config_clixml`]).
pub fn looks_like_organization_config(text: &str) -> bool {
    if clixml::is_clixml(text) {
        return looks_like_organization_config_clixml(text);
    }
    let mut mitigations_enabled = false;
    for k in fl_labels(text) {
        if k.eq_ignore_ascii_case("Name")
            || k.eq_ignore_ascii_case("Identity")
            || SERVER_LABELS[..7].iter().any(|l| l.eq_ignore_ascii_case(k))
        {
            return false;
        }
        mitigations_enabled |= k.eq_ignore_ascii_case("MitigationsEnabled");
    }
    mitigations_enabled
}

/// Cheap check for the sniffer: a Get-Service / sc.exe answer about the
/// mitigation service.
/// Also its CliXml ([`looks_like_service_status_clixml`]).
pub fn looks_like_service_status(text: &str) -> bool {
    if clixml::is_clixml(text) {
        return looks_like_service_status_clixml(text);
    }
    let lower = text.to_ascii_lowercase();
    let mentions =
        lower.contains("msexchangemitig") || lower.contains("emergency mitigation service");
    let layout = text.lines().any(|l| {
        let toks: Vec<&str> = l.split_whitespace().collect();
        toks.contains(&"Status") && (toks.contains(&"Name") || toks.contains(&"DisplayName"))
            || l.trim_start().starts_with("SERVICE_NAME:")
    }) || fl_labels(text)
        .any(|k| k.eq_ignore_ascii_case("Status") || k.eq_ignore_ascii_case("StartType"));
    mentions && layout
        || lower.contains("cannot find any service with service name 'msexchangemitigation'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::Precision;
    use proptest::prelude::*;

    #[test]
    fn ex01_server() {
        let t = reference!("os/healthy_EX01/get-exchangeserver-fl.txt");
        assert!(looks_like_exchange_server(&t));
        assert!(!looks_like_organization_config(&t));
        let p = parse_exchange_server(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.servers.len(), 1);
        let s = &p.value.servers[0];
        assert_eq!(s.name.as_deref(), Some("EX01"));
        assert_eq!(s.line, 2);
        assert_eq!(s.mitigations_enabled, Some(true));
        assert_eq!(s.mitigations_applied, vec!["PING1"]);
        assert!(!s.mitigations_applied_incomplete);
        assert!(s.mitigations_blocked.is_empty());
        assert!(s.was_shown("MitigationsBlocked"));
        assert!(!s.was_shown("Fqdn"));
        assert_eq!(s.internet_web_proxy, None);
        assert!(s.was_shown("InternetWebProxy"));
        assert_eq!(
            s.admin_display_version.as_deref(),
            Some("Version 15.2 (Build 1544.4)")
        );
        let b = s.build.unwrap();
        assert_eq!(b.to_string(), "15.2.1544.4");
        assert_eq!(b.precision, Precision::Cu);
        assert_eq!(s.data_collection_enabled, None);
    }

    #[test]
    fn ex04_server() {
        let t = reference!("os/misconfigured_EX04/get-exchangeserver-fl.txt");
        let p = parse_exchange_server(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let s = &p.value.servers[0];
        assert_eq!(s.name.as_deref(), Some("EX04"));
        assert_eq!(s.mitigations_enabled, Some(true));
        assert!(s.mitigations_applied.is_empty());
        assert!(s.mitigations_blocked.is_empty());
        assert_eq!(s.internet_web_proxy, None);
        let b = s.build.unwrap();
        assert_eq!(b.to_string(), "15.2.1118.7");
        assert_eq!(b.precision, Precision::Cu);
    }

    #[test]
    fn multi_server_variant() {
        let t = reference!("os/variants/get-exchangeserver-fl_multi-server.txt");
        assert!(looks_like_exchange_server(&t));
        let p = parse_exchange_server(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = &p.value.servers;
        assert_eq!(v.len(), 3);
        let names: Vec<_> = v.iter().map(|s| s.name.as_deref().unwrap()).collect();
        assert_eq!(names, vec!["EX01", "EX02", "EX2013"]);
        assert_eq!(
            v.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![3, 10, 17]
        );

        assert_eq!(v[0].mitigations_enabled, Some(true));
        assert_eq!(v[0].mitigations_applied, vec!["PING1", "M1.1"]);
        assert_eq!(
            v[0].internet_web_proxy.as_deref(),
            Some("http://proxy.contoso.com:8080/")
        );

        assert_eq!(v[1].mitigations_enabled, Some(false));
        assert!(v[1].mitigations_applied.is_empty());
        assert_eq!(v[1].mitigations_blocked, vec!["M1.1"]);
        assert_eq!(v[1].build.unwrap().to_string(), "15.2.1258.12");

        assert_eq!(v[2].mitigations_enabled, None);
        assert!(v[2].mitigations_applied.is_empty());
        assert_eq!(v[2].internet_web_proxy, None);
        assert_eq!(v[2].build.unwrap().to_string(), "15.0.1497.2");
    }

    #[test]
    fn server_edge_cases_fixture() {
        let t = powershell!("get-exchangeserver-fl_wrapped-truncated.txt");
        assert!(looks_like_exchange_server(&t));
        let p = parse_exchange_server(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = &p.value.servers;
        assert_eq!(v.len(), 2);
        let a = &v[0];
        assert_eq!(a.name.as_deref(), Some("Server1"));
        assert_eq!(a.fqdn.as_deref(), Some("Server1.contoso.com"));
        assert_eq!(a.server_role.as_deref(), Some("Mailbox"));
        assert_eq!(a.is_edge_server, Some(false));
        assert_eq!(a.mitigations_enabled, Some(true));
        assert_eq!(
            a.mitigations_applied,
            vec!["M01.1", "M01.2", "M01.3", "M02.1"]
        );
        assert!(a.mitigations_applied_incomplete);
        assert_eq!(a.mitigations_blocked, vec!["M01.2"]);
        assert!(!a.mitigations_blocked_incomplete);
        assert_eq!(a.data_collection_enabled, Some(false));
        assert_eq!(
            a.internet_web_proxy.as_deref(),
            Some("http://a-rather-long-proxy-host-name.emea.corp.contoso.com:3128/")
        );
        assert_eq!(
            a.internet_web_proxy_bypass_list,
            vec!["*.contoso.com", "10.0.0.0/8"]
        );
        let b = &v[1];
        assert_eq!(b.name.as_deref(), Some("Server2"));
        assert_eq!(b.mitigations_enabled, Some(false), "German Falsch");
        assert_eq!(b.data_collection_enabled, Some(true), "German Wahr");
        assert_eq!(b.is_edge_server, Some(false));
        assert_eq!(b.build.unwrap().to_string(), "15.1.2507.6");
    }

    #[test]
    fn server_default_table() {
        // Default view at 80 columns: AdminDisplayVersion is cut off.
        let t = powershell!("get-exchangeserver-table.txt");
        assert!(looks_like_exchange_server(&t));
        let p = parse_exchange_server(Source::new(&t));
        let v = &p.value.servers;
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name.as_deref(), Some("EX01"));
        assert_eq!(v[0].server_role.as_deref(), Some("Mailbox"));
        assert_eq!(v[0].line, 5);
        assert!(v[0].build.is_none());
        assert_eq!(v[1].name.as_deref(), Some("EX2013"));
        assert_eq!(v[1].server_role.as_deref(), Some("Mailbox, ClientAc..."));
        assert_eq!(v[1].mitigations_enabled, None);
        let lines: Vec<_> = p.problems.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![Some(5), Some(6)]);
        assert!(p.problems[0].message.contains("cut off"));

        let p = parse_exchange_server(Source::new(
            "Name   MitigationsEnabled AdminDisplayVersion\n----   ------------------ -------------------\nEX01                 True Version 15.2 (Build 1544.4)\nEX02                False Version 15.2 (Build 1258.12)\n",
        ));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = &p.value.servers;
        assert_eq!(v[0].mitigations_enabled, Some(true));
        assert_eq!(v[0].build.unwrap().to_string(), "15.2.1544.4");
        assert_eq!(v[1].mitigations_enabled, Some(false));
        assert_eq!(v[1].line, 4);
    }

    #[test]
    fn server_table_without_ruler_real_paste() {
        // Apoc70/Get-ExchangeEnvironmentReport#13: two (Edge) servers as
        // `ft -AutoSize`, ruler lost, ServerRole blank, cells shifted.
        let t = crate::text::decode(fixture!(
            "real/apoc70-envreport-13-get-exchangeserver-ft-edge/get-exchangeserver-ft-autosize.txt"
        ))
        .text;
        assert!(looks_like_exchange_server(&t));
        let p = parse_exchange_server(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = &p.value.servers;
        assert_eq!(v.len(), 2);
        for (s, name, line) in [(&v[0], "xxxxxxxxxxxx1", 3), (&v[1], "xxxxxxxxxxxx2", 4)] {
            assert_eq!(s.name.as_deref(), Some(name));
            assert_eq!(s.line, line);
            assert_eq!(
                s.admin_display_version.as_deref(),
                Some("Version 15.1 (Build 2507.6)")
            );
            let b = s.build.unwrap();
            assert_eq!(b.to_string(), "15.1.2507.6");
            assert_eq!(b.precision, Precision::Cu);
            assert_eq!(s.server_role, None, "blank in the paste");
            assert!(s.was_shown("ServerRole"));
            assert_eq!(s.is_edge_server, None, "not shown: not inferred");
        }
    }

    #[test]
    fn server_table_wrapped_and_cut() {
        // `ft Name,ServerRole,AdminDisplayVersion -Wrap`: the version wraps.
        let p = parse_exchange_server(Source::new(
            "Name   ServerRole AdminDisplayVersion\n----   ---------- -------------------\nEX01   Mailbox    Version 15.2 (Build\n                  1118.7)\nEX2013 Mailbox,   Version 15.0 (Build\n       ClientAcce 1497.2)\n       ss\n",
        ));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = &p.value.servers;
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].build.unwrap().to_string(), "15.2.1118.7");
        assert_eq!(v[1].name.as_deref(), Some("EX2013"));
        assert_eq!(v[1].line, 5);
        assert_eq!(v[1].server_role.as_deref(), Some("Mailbox, ClientAccess"));
        assert_eq!(v[1].build.unwrap().to_string(), "15.0.1497.2");

        // Cut at the column width (PS 7 `…`): a problem, never a build.
        let p = parse_exchange_server(Source::new(
            "Name   AdminDisplayVersion\n----   --------------------------\nEX01   Version 15.2 (Build 1118.\u{2026}\nEX02   Version 15.2 (Build 986.5)\n",
        ));
        let v = &p.value.servers;
        assert_eq!(v.len(), 2);
        assert!(v[0].build.is_none());
        assert_eq!(
            v[0].admin_display_version.as_deref(),
            Some("Version 15.2 (Build 1118.\u{2026}")
        );
        assert_eq!(v[1].build.unwrap().to_string(), "15.2.986.5");
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(p.problems[0].line, Some(3));
        assert!(p.problems[0].message.contains("cut off"));
    }

    #[test]
    fn two_server_format_list_real_paste() {
        // Microsoft Q&A 1114010: `**EX2013**` markdown bold, trailing double
        // spaces, the command echoed without a prompt on the first line.
        let t = crate::text::decode(fixture!(
            "real/qa-1114010-get-exchangeserver-fl-two-servers/get-exchangeserver-fl.txt"
        ))
        .text;
        assert!(looks_like_exchange_server(&t));
        let p = parse_exchange_server(Source::new(&t));
        let v = &p.value.servers;
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name.as_deref(), Some("EX2013"));
        assert_eq!(v[0].build.unwrap().to_string(), "15.0.1497.2");
        assert_eq!(v[0].line, 3);
        assert_eq!(v[1].name.as_deref(), Some("EX2019"));
        assert_eq!(v[1].build.unwrap().to_string(), "15.2.1118.7");
        assert_eq!(v[1].line, 7);
        // Only the echoed command line is reported.
        let lines: Vec<_> = p.problems.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![Some(1)], "{:?}", p.problems);
    }

    #[test]
    fn server_problems() {
        let p = parse_exchange_server(Source::new(
            "Name : X\nMitigationsEnabled : maybe\nAdminDisplayVersion : Version fifteen\n\nFoo : bar\n",
        ));
        assert_eq!(p.value.servers.len(), 1);
        assert_eq!(p.value.servers[0].mitigations_enabled, None);
        let lines: Vec<_> = p.problems.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![Some(2), Some(3), Some(5)]);
        let p = parse_exchange_server(Source::new(""));
        assert!(p.value.servers.is_empty());
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn organization_config_samples() {
        for t in [
            reference!("os/healthy_EX01/get-organizationconfig-fl.txt"),
            reference!("os/misconfigured_EX04/get-organizationconfig-fl.txt"),
        ] {
            assert!(looks_like_organization_config(&t));
            assert!(!looks_like_exchange_server(&t));
            let p = parse_organization_config(Source::new(&t));
            assert!(p.problems.is_empty(), "{:?}", p.problems);
            assert_eq!(p.value.mitigations_enabled, Some(true));
            assert_eq!(p.value.line, 2);
            assert!(p.value.other.is_empty());
        }
    }

    #[test]
    fn organization_config_star() {
        let t = powershell!("get-organizationconfig-fl-mitig.txt");
        assert!(looks_like_organization_config(&t));
        let p = parse_organization_config(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.mitigations_enabled, Some(false));
        assert_eq!(p.value.data_collection_enabled, Some(false));
        assert_eq!(p.value.line, 4);
        assert_eq!(p.value.other.len(), 1);
        assert_eq!(p.value.other[0].name, "CustomerFeedbackEnabled");
        let p = parse_organization_config(Source::new("\nMitigationsEnabled : Wahr\n"));
        assert_eq!(p.value.mitigations_enabled, Some(true));
        let p = parse_organization_config(Source::new("nothing"));
        assert_eq!(p.value.mitigations_enabled, None);
        assert!(!p.problems.is_empty());
    }

    #[test]
    fn service_default_table_samples() {
        for t in [
            reference!("os/healthy_EX01/get-service.txt"),
            reference!("os/misconfigured_EX04/get-service.txt"),
        ] {
            assert!(looks_like_service_status(&t));
            let p = parse_service_status(Source::new(&t));
            assert!(p.problems.is_empty(), "{:?}", p.problems);
            assert_eq!(p.value.services.len(), 1);
            let s = p.value.mitigation_service().unwrap();
            assert_eq!(s.name, "MSExchangeMitig...");
            assert!(s.name_truncated);
            assert_eq!(s.display_name.as_deref(), Some(EEMS_DISPLAY));
            assert_eq!(s.status, Some(ServiceState::Running));
            assert_eq!(s.start_type, None);
            assert_eq!(s.line, 4);
        }
    }

    #[test]
    fn service_select_stopped_disabled() {
        let t = reference!("os/variants/get-service-select_stopped-disabled.txt");
        assert!(looks_like_service_status(&t));
        let p = parse_service_status(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let s = p.value.mitigation_service().unwrap();
        assert_eq!(s.name, "MSExchangeMitigation");
        assert!(!s.name_truncated);
        assert_eq!(s.display_name, None);
        assert_eq!(s.status, Some(ServiceState::Stopped));
        assert_eq!(s.start_type, Some(StartType::Disabled));
        assert_eq!(s.line, 4);
    }

    #[test]
    fn service_ps7_ellipsis() {
        let t = reference!("os/variants/get-service_ps7-ellipsis.txt");
        assert!(looks_like_service_status(&t));
        let p = parse_service_status(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let s = p.value.mitigation_service().unwrap();
        assert_eq!(s.name, "MSExchangeMitigat\u{2026}");
        assert!(s.name_truncated);
        assert_eq!(s.status, Some(ServiceState::Stopped));
        assert_eq!(s.line, 4);
    }

    #[test]
    fn service_format_list() {
        let t = powershell!("get-service-fl.txt");
        assert!(looks_like_service_status(&t));
        let p = parse_service_status(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.services.len(), 1);
        let s = &p.value.services[0];
        assert_eq!(s.name, "MSExchangeMitigation");
        assert!(s.is_mitigation_service);
        assert_eq!(s.display_name.as_deref(), Some(EEMS_DISPLAY));
        assert_eq!(s.status, Some(ServiceState::Running));
        assert_eq!(s.start_type, Some(StartType::Automatic));
        assert_eq!(s.line, 3);
    }

    #[test]
    fn service_sc_query_and_qc() {
        let t = powershell!("sc-query-qc.txt");
        assert!(looks_like_service_status(&t));
        let p = parse_service_status(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.services.len(), 1);
        let s = &p.value.services[0];
        assert_eq!(s.name, "MSExchangeMitigation");
        assert_eq!(s.line, 3);
        assert_eq!(s.status, Some(ServiceState::Stopped));
        assert_eq!(s.start_type, Some(StartType::Disabled));
        assert_eq!(s.display_name.as_deref(), Some(EEMS_DISPLAY));
        assert!(s.is_mitigation_service);

        let p = parse_service_status(Source::new(
            "SERVICE_NAME: MSExchangeMitigation\n        STATE              : 4  RUNNING\n                                (STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)\n",
        ));
        assert_eq!(p.value.services[0].status, Some(ServiceState::Running));
        let p = parse_service_status(Source::new(
            "SERVICE_NAME: MSExchangeMitigation\n        START_TYPE         : 2   AUTO_START  (DELAYED)\n",
        ));
        assert_eq!(
            p.value.services[0].start_type,
            Some(StartType::AutomaticDelayed)
        );
        assert_eq!(p.value.services[0].status, None);
    }

    #[test]
    fn service_missing() {
        let t = powershell!("get-service-missing.txt");
        assert!(looks_like_service_status(&t));
        let p = parse_service_status(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.value.services.is_empty());
        assert_eq!(p.value.missing.len(), 2);
        assert_eq!(
            p.value.missing[0].name.as_deref(),
            Some("MSExchangeMitigation")
        );
        assert_eq!(p.value.missing[0].line, 2);
        assert_eq!(p.value.missing[1].line, 10);
    }

    #[test]
    fn service_enums() {
        assert_eq!(
            ServiceState::parse("Start Pending"),
            ServiceState::StartPending
        );
        assert_eq!(
            ServiceState::parse("STOP_PENDING"),
            ServiceState::StopPending
        );
        assert_eq!(
            ServiceState::parse("Läuft"),
            ServiceState::Other("Läuft".into())
        );
        assert_eq!(
            StartType::parse("Automatic (Delayed Start)"),
            StartType::AutomaticDelayed
        );
        assert_eq!(StartType::parse("DEMAND_START"), StartType::Manual);
        assert_eq!(StartType::parse("Boot"), StartType::Other("Boot".into()));
        let j = serde_json::to_value(ServiceState::StartPending).unwrap();
        assert_eq!(j, "start-pending");
        assert!(is_eems_name("MSExchangeMitig..."));
        assert!(is_eems_name("msexchangemitigation"));
        assert!(!is_eems_name("MSExchangeIS"));
        assert!(!is_eems_name("MSExchangeMitigationX"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let src = Source::new(&s);
            let _ = parse_exchange_server(src);
            let _ = parse_organization_config(src);
            let _ = parse_service_status(src);
            let _ = looks_like_exchange_server(&s);
            let _ = looks_like_organization_config(&s);
            let _ = looks_like_service_status(&s);
        }

        #[test]
        fn mutated_samples_never_panic(which in 0usize..4, cut in 0usize..800, ins in "\\PC{0,8}", pos in 0usize..800, del in 0usize..800) {
            let texts = [
                reference!("os/variants/get-exchangeserver-fl_multi-server.txt"),
                reference!("os/variants/get-service-select_stopped-disabled.txt"),
                reference!("os/variants/get-service_ps7-ellipsis.txt"),
                powershell!("sc-query-qc.txt"),
            ];
            let t = &texts[which];
            let mut s: String = t.chars().take(cut).collect();
            if let Some((i, _)) = s.char_indices().nth(del) { s.remove(i); }
            let at = s.char_indices().nth(pos).map_or(s.len(), |(i, _)| i);
            s.insert_str(at, &ins);
            let src = Source::new(&s);
            let _ = parse_exchange_server(src);
            let _ = parse_organization_config(src);
            let _ = parse_service_status(src);
        }
    }
}
