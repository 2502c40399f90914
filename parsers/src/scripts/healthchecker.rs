//! Microsoft's Health Checker (CSS-Exchange `HealthChecker.ps1`) text output:
//! a whole report, several servers' reports in one file, or any fragment of
//! a section as admins paste it (indented with spaces or tabs, markdown `**`
//! around lines, the quotes of a quoted paste).
//!
//! Labels are the ones the analyzer prints (CSS-Exchange
//! `Diagnostics/HealthChecker/Analyzer/Invoke-AnalyzerExchangeInformation.ps1`,
//! `Invoke-AnalyzerOsInformation.ps1`, `Security/Invoke-AnalyzerSecuritySettings.ps1`,
//! `Security/Invoke-AnalyzerSecurityMitigationService.ps1`). Health Checker
//! has printed the WinHTTP proxy wrongly in several versions (CSS-Exchange
//! #534 dots dropped, #1121 proxy merged with the bypass list, #1875 `:803`
//! for `:80`, #761 an empty value with a warning): such values are read as
//! printed and flagged [`HcValue::mangled`], never silently trusted.

use super::{colon_line, labelled};
use crate::build::{Build, parse_build};
use crate::format_list;
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use serde::Serialize;

/// One Health Checker display line: typed value, text as printed, line.
#[derive(Debug, Clone, Serialize)]
pub struct HcField<T> {
    pub value: T,
    pub raw: String,
    pub line: usize,
}

fn mk<T>(value: T, raw: &str, line: usize) -> HcField<T> {
    HcField {
        value,
        raw: raw.to_owned(),
        line,
    }
}

/// A value Health Checker is known to print wrongly: what is there, and
/// whether it looks mangled (then `reason` says why; do not trust `value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HcValue<T> {
    pub value: T,
    pub mangled: bool,
    pub reason: Option<String>,
}

impl<T> HcValue<T> {
    fn new(value: T, reason: Option<String>) -> Self {
        HcValue {
            value,
            mangled: reason.is_some(),
            reason,
        }
    }
}

/// `Exchange Emergency Mitigation Service:` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EemsConfigState {
    Enabled,
    DisabledOnOrgLevel,
    DisabledOnServerLevel,
    Disabled,
    FailedToQueryConfig,
    Other(String),
}

/// `Windows service:` result (Running = Running + Automatic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HcServiceState {
    Running,
    Investigate,
    Unknown,
    Other(String),
}

/// `Pattern service:` result: `200 - Reachable` or `Unreachable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternService {
    pub reachable: Option<bool>,
    pub status_code: Option<u16>,
}

/// A `Label: value` line kept as printed (TLS settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HcLine {
    pub label: String,
    pub value: String,
    pub line: usize,
}

/// What Health Checker reported for one server.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HcReport {
    /// Section titles seen (title line followed by its dashed ruler).
    pub sections: Vec<HcField<String>>,
    /// Exchange Information `Name:` (the server).
    pub name: Option<HcField<String>>,
    pub generation_time: Option<HcField<String>>,
    /// Exchange Information `Version:` as printed. It can be wrong (CSS-Exchange
    /// #878 printed CU11 for a CU10 build): `build` decides.
    pub exchange_version: Option<HcField<String>>,
    /// `Build Number:` — ExSetup.exe's file version, so exact.
    pub build: Option<HcField<Build>>,
    /// `Internet Web Proxy:` (Get-ExchangeServer InternetWebProxy); `None` = `Not Set`.
    pub internet_web_proxy: Option<HcField<HcValue<Option<String>>>>,
    /// Operating System Information `Version:`.
    pub os_version: Option<HcField<String>>,
    /// `.NET Framework:` as printed (a warning may follow the version).
    pub dotnet: Option<HcField<String>>,
    /// `Http Proxy Setting:` (the WinHTTP proxy as Health Checker decoded it);
    /// `None` = `None` (direct access). The ` --- Warning …` suffix is removed.
    pub http_proxy: Option<HcField<HcValue<Option<String>>>>,
    /// `Http Proxy By Pass List:` entries (printed only when a proxy is set).
    pub http_proxy_bypass: Option<HcField<HcValue<Vec<String>>>>,
    /// `Error: Exchange Internet Web Proxy doesn't match OS Web Proxy.` (can be
    /// false when the WinHTTP value was misdecoded, CSS-Exchange #1875).
    pub proxy_mismatch_error: Option<HcField<String>>,
    /// `TLS 1.0:` … `TLS 1.3:` lines of Security Settings.
    pub tls: Vec<HcLine>,
    /// `SecurityProtocol:` of Security Settings.
    pub security_protocol: Option<HcField<String>>,
    pub eems: Option<HcField<EemsConfigState>>,
    pub windows_service: Option<HcField<HcServiceState>>,
    pub pattern_service: Option<HcField<PatternService>>,
    pub mitigations_applied: Vec<HcField<String>>,
    pub mitigations_blocked: Vec<HcField<String>>,
    pub telemetry_enabled: Option<HcField<Option<bool>>>,
    /// `More information:` links printed in the EEMS block.
    pub more_information: Vec<HcField<String>>,
}

impl HcReport {
    fn is_empty(&self) -> bool {
        self.sections.is_empty() && !self.has_values()
    }

    fn has_values(&self) -> bool {
        self.name.is_some()
            || self.generation_time.is_some()
            || self.exchange_version.is_some()
            || self.build.is_some()
            || self.internet_web_proxy.is_some()
            || self.os_version.is_some()
            || self.dotnet.is_some()
            || self.http_proxy.is_some()
            || self.http_proxy_bypass.is_some()
            || self.proxy_mismatch_error.is_some()
            || !self.tls.is_empty()
            || self.security_protocol.is_some()
            || self.has_eems_lines()
    }

    fn has_eems_lines(&self) -> bool {
        self.eems.is_some()
            || self.windows_service.is_some()
            || self.pattern_service.is_some()
            || !self.mitigations_applied.is_empty()
    }
}

/// A Health Checker output: one report per server (a new `Exchange
/// Information` section or a second `Name:` starts the next one).
#[derive(Debug, Clone, Default, Serialize)]
pub struct HealthChecker {
    /// `Exchange Health Checker version 24.01.23.1802`.
    pub script_version: Option<HcField<String>>,
    /// `Failed to Health Checker against EX19`: the run produced no report for
    /// that server, so a missing section is not evidence of anything.
    pub failed_against: Vec<HcField<String>>,
    pub reports: Vec<HcReport>,
}

fn eems_state(v: &str) -> EemsConfigState {
    let l = v.to_ascii_lowercase();
    match l.trim_end_matches('.') {
        "enabled" => EemsConfigState::Enabled,
        "disabled on org level" => EemsConfigState::DisabledOnOrgLevel,
        "disabled on server level" => EemsConfigState::DisabledOnServerLevel,
        "disabled" => EemsConfigState::Disabled,
        "failed to query config" => EemsConfigState::FailedToQueryConfig,
        _ => EemsConfigState::Other(v.to_owned()),
    }
}

fn hc_service(v: &str) -> HcServiceState {
    let l = v.to_ascii_lowercase();
    if l.starts_with("running") {
        HcServiceState::Running
    } else if l.starts_with("investigate") {
        HcServiceState::Investigate
    } else if l.starts_with("unknown") {
        HcServiceState::Unknown
    } else {
        HcServiceState::Other(v.to_owned())
    }
}

fn pattern(v: &str) -> PatternService {
    let l = v.to_ascii_lowercase();
    let digits: String = v.trim().chars().take_while(char::is_ascii_digit).collect();
    let reachable = if l.contains("unreachable") {
        Some(false)
    } else if l.contains("reachable") {
        Some(true)
    } else {
        None
    };
    PatternService {
        reachable,
        status_code: digits.parse().ok(),
    }
}

const EEMS_HEADER: &str = "Exchange Emergency Mitigation Service";

/// Section titles the analyzer prints (each followed by a dashed ruler).
const SECTIONS: [&str; 10] = [
    "Exchange Information",
    "Organization Information",
    "Hybrid Information",
    "Operating System Information",
    "Processor/Hardware Information",
    "NIC Settings Per Active Adapter",
    "Frequent Configuration Issues",
    "Security Settings",
    "Security Vulnerability",
    "Exchange Web App Pools",
];

/// Labels only Health Checker prints (two of them make a Health Checker paste).
const LABELS: [&str; 24] = [
    "Generation Time",
    "Build Number",
    "Exchange IU or Security Hotfix Detected",
    "Server Role",
    "DAG Name",
    "AD Site",
    "MAPI/HTTP Enabled",
    "MRS Proxy Enabled",
    "Internet Web Proxy",
    "Exchange Server Maintenance",
    "System Up Time",
    "Dynamic Daylight Time Enabled",
    ".NET Framework",
    "Power Plan",
    "Http Proxy Setting",
    "Http Proxy By Pass List",
    "Visual C++ 2012",
    "Visual C++ 2013",
    "Server Pending Reboot",
    "TCP/IP Settings",
    "RPC Min Connection Timeout",
    "Credential Guard Enabled",
    "LmCompatibilityLevel Settings",
    "Security Vulnerability",
];

/// A pasted line without what the paste added: markdown `**` at either end,
/// the quotes of a quoted paste. Returns the indentation width (a tab is 8).
fn clean(line: &str) -> (usize, &str) {
    let indent = line
        .chars()
        .take_while(|c| c.is_whitespace())
        .map(|c| if c == '\t' { 8 } else { 1 })
        .sum();
    let mut t = line.trim();
    loop {
        let before = t.len();
        t = t.trim_start_matches("**").trim_end_matches("**");
        t = t.trim_start_matches('"').trim_end_matches('"').trim();
        if t.len() == before {
            break;
        }
    }
    (indent, t)
}

fn is_ruler(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && t.chars().all(|c| c == '-' || c == '=')
}

/// `Exchange Health Checker version 24.01.23.1802` (a colon is optional).
fn script_version(t: &str) -> Option<&str> {
    let head = "Exchange Health Checker version";
    let rest = t
        .get(..head.len())
        .filter(|h| h.eq_ignore_ascii_case(head))
        .and_then(|_| t.get(head.len()..))?;
    let v = rest.trim_start_matches(':').trim();
    (v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    .then_some(v)
}

/// `Failed to Health Checker against EX19`.
fn failed_against(t: &str) -> Option<&str> {
    let head = "Failed to Health Checker against ";
    let rest = t
        .get(..head.len())
        .filter(|h| h.eq_ignore_ascii_case(head))
        .and_then(|_| t.get(head.len()..))?;
    let name = rest.trim().trim_end_matches(['.', '"']);
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

fn section_title(t: &str) -> Option<&'static str> {
    SECTIONS.iter().copied().find(|s| s.eq_ignore_ascii_case(t))
}

/// Ports proxies commonly listen on: a port that is one of these with one
/// more digit is what CSS-Exchange #1875 printed (`:803` for `:80`).
const COMMON_PORTS: [u32; 13] = [
    80, 81, 443, 1080, 3128, 3129, 8000, 8080, 8081, 8443, 8888, 9090, 9400,
];

/// Split `http://host:port/` or `host:port` into host and port text.
fn host_port(v: &str) -> (&str, Option<&str>) {
    let v = v
        .split_once("://")
        .map_or(v, |(_, rest)| rest)
        .trim_end_matches('/');
    if v.starts_with('[') {
        // [IPv6]:port
        return match v.split_once("]:") {
            Some((h, p)) => (h.get(1..).unwrap_or(h), Some(p)),
            None => (v, None),
        };
    }
    match v.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (v, None),
    }
}

fn is_netbios(host: &str) -> bool {
    (1..=15).contains(&host.len()) && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Why a proxy value looks mangled, if it does. `winhttp`: the value came
/// from Health Checker's decoding of the WinHTTP registry blob (`host:port`),
/// not from Exchange's InternetWebProxy URI.
fn proxy_mangled(v: &str, winhttp: bool) -> Option<String> {
    if v.contains(['*', ';']) || v.to_ascii_lowercase().contains("<local>") {
        return Some(format!(
            "`{v}` holds bypass-list characters (`*`, `;` or `<local>`): Health Checker merged the proxy with the bypass list (CSS-Exchange #1121)"
        ));
    }
    if v.contains(char::is_whitespace) {
        return Some(format!("`{v}` is not one host:port"));
    }
    let (host, port) = host_port(v);
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !host_ok {
        return Some(format!("`{v}` is not a host[:port]"));
    }
    let port_n = match port {
        Some(p) => match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Some(n),
            _ => return Some(format!("`{v}` has no valid port")),
        },
        None => None,
    };
    let ip_like = host.contains(':') || host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !host.contains('.') && !ip_like {
        let plain = is_netbios(host) && (port_n.is_some() || !winhttp);
        if !plain {
            return Some(format!(
                "host `{host}` has no dot and is not a short NetBIOS name with a port: Health Checker dropped the dots (CSS-Exchange #534)"
            ));
        }
    }
    if winhttp
        && let Some(n) = port_n
        && n >= 100
        && !COMMON_PORTS.contains(&n)
        && COMMON_PORTS.contains(&(n / 10))
    {
        return Some(format!(
            "port {n} looks like {} with a stray digit appended: Health Checker misdecoded the WinHTTP setting (CSS-Exchange #1875)",
            n / 10
        ));
    }
    None
}

/// Why a bypass entry list looks mangled, if it does.
fn bypass_mangled(entries: &[String]) -> Option<String> {
    for e in entries {
        if e.contains("**") {
            return Some(format!(
                "bypass entry `{e}` holds `**`: Health Checker mixed the proxy into the bypass list (CSS-Exchange #1121)"
            ));
        }
        // `server.contoso.com:3128**7***.contoso.com`: a port in the middle of an entry.
        if let Some((_, after)) = e.split_once(':') {
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 && digits < after.len() {
                return Some(format!(
                    "bypass entry `{e}` has a port inside it: Health Checker mixed the proxy into the bypass list (CSS-Exchange #1121)"
                ));
            }
        }
        if e.contains(char::is_whitespace) {
            return Some(format!("bypass entry `{e}` is not one host pattern"));
        }
    }
    None
}

/// ` --- Warning …`/` --- Error` that Health Checker appends to a value.
fn split_warning(v: &str) -> (&str, Option<&str>) {
    match v.find("---") {
        Some(i) => (
            v.get(..i).unwrap_or_default().trim(),
            v.get(i..).map(str::trim),
        ),
        None => (v.trim(), None),
    }
}

fn winhttp_proxy(v: &str) -> HcValue<Option<String>> {
    let (value, warning) = split_warning(v);
    if value.is_empty() {
        let why = if warning.is_some() {
            "empty value next to a warning: Health Checker could not decode the WinHTTP setting (CSS-Exchange #761)"
        } else {
            "empty value"
        };
        return HcValue::new(None, Some(why.to_owned()));
    }
    if value.eq_ignore_ascii_case("None") {
        return HcValue::new(None, None);
    }
    HcValue::new(Some(value.to_owned()), proxy_mangled(value, true))
}

fn exchange_proxy(v: &str) -> HcValue<Option<String>> {
    let (value, _) = split_warning(v);
    if value.is_empty() || value.eq_ignore_ascii_case("Not Set") {
        return HcValue::new(None, None);
    }
    HcValue::new(Some(value.to_owned()), proxy_mangled(value, false))
}

fn bypass_list(v: &str, proxy: Option<&HcValue<Option<String>>>) -> HcValue<Vec<String>> {
    let (value, _) = split_warning(v);
    let entries: Vec<String> = value
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    let mut reason = bypass_mangled(&entries);
    if reason.is_none()
        && let Some(p) = proxy
        && p.mangled
    {
        // Both come from the same decoding of the same registry blob.
        reason = Some(
            "printed with a mangled Http Proxy Setting: both come from the same misdecoded WinHTTP setting".to_owned(),
        );
    }
    HcValue::new(entries, reason)
}

/// Which part of the report a line is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// No title seen yet (a fragment).
    None,
    Exchange,
    Os,
    Security,
    Other,
}

fn section_of(title: &str) -> Section {
    match title {
        "Exchange Information" => Section::Exchange,
        "Operating System Information" => Section::Os,
        "Security Settings" => Section::Security,
        _ => Section::Other,
    }
}

fn is_tls_label(label: &str) -> bool {
    let l = label.to_ascii_uppercase();
    matches!(l.as_str(), "TLS 1.0" | "TLS 1.1" | "TLS 1.2" | "TLS 1.3")
}

/// Read a Health Checker output: every report in it, each with the lines
/// checks use. Unknown lines are ignored (the report has hundreds).
pub fn parse_healthchecker(src: Source<'_>) -> Parsed<HealthChecker> {
    let mut out = HealthChecker::default();
    let mut problems = Vec::new();
    let lines: Vec<(usize, &str)> = src.lines().collect();
    // With an EEMS title line, only the lines indented below it are EEMS
    // lines (other sections have `… service:` lines too).
    let has_eems_header = lines
        .iter()
        .any(|(_, l)| labelled(clean(l).1, EEMS_HEADER).is_some());
    let mut cur = HcReport::default();
    let mut section = Section::None;
    let mut eems_indent: Option<usize> = None;
    let mut seen_eems = false;
    let mut idx = 0;
    while let Some(&(ln, raw)) = lines.get(idx) {
        idx += 1;
        let (indent, t) = clean(raw);
        if t.is_empty() || is_ruler(t) {
            continue;
        }
        let next_is_ruler = lines.get(idx).is_some_and(|(_, n)| is_ruler(n));
        if next_is_ruler && !t.contains(':') {
            let title = section_title(t).unwrap_or("");
            if title == "Exchange Information" && !cur.is_empty() {
                out.reports.push(std::mem::take(&mut cur));
                seen_eems = false;
            }
            section = section_of(title);
            eems_indent = None;
            cur.sections.push(mk(t.to_owned(), raw.trim(), ln));
            idx += 1;
            continue;
        }
        if let Some(v) = script_version(t) {
            out.script_version = Some(mk(v.to_owned(), t, ln));
            continue;
        }
        if let Some(n) = failed_against(t) {
            out.failed_against.push(mk(n.to_owned(), t, ln));
            continue;
        }
        let Ok((_, (label, value))) = colon_line(t) else {
            if eems_indent.is_some_and(|h| indent <= h) {
                eems_indent = None;
            }
            continue;
        };
        let lower = label.to_ascii_lowercase();
        if lower == EEMS_HEADER.to_ascii_lowercase() {
            if seen_eems {
                problems.push(Problem::at(
                    ln,
                    "a second EEMS block in one server's report; only the first is read",
                ));
                eems_indent = None;
                continue;
            }
            seen_eems = true;
            eems_indent = Some(indent);
            cur.eems = Some(mk(eems_state(value), value, ln));
            continue;
        }
        let in_eems = match eems_indent {
            Some(h) if indent > h => true,
            Some(_) => {
                eems_indent = None;
                false
            }
            None => false,
        };
        // EEMS lines: inside the block, or anywhere when the paste has no title line.
        let eems_ok = in_eems || !has_eems_header;
        match lower.as_str() {
            "windows service" if eems_ok => {
                cur.windows_service = Some(mk(hc_service(value), value, ln));
            }
            "pattern service" if eems_ok => {
                cur.pattern_service = Some(mk(pattern(value), value, ln));
            }
            "mitigation applied" if eems_ok => {
                cur.mitigations_applied
                    .push(mk(value.to_owned(), value, ln));
            }
            "mitigation blocked" if eems_ok => {
                cur.mitigations_blocked
                    .push(mk(value.to_owned(), value, ln));
            }
            "telemetry enabled" if eems_ok => {
                let b = format_list::parse_bool(value);
                if b.is_none() {
                    problems.push(Problem::at(
                        ln,
                        format!("Telemetry enabled is not a boolean: {value}"),
                    ));
                }
                cur.telemetry_enabled = Some(mk(b, value, ln));
            }
            "more information" if in_eems => {
                cur.more_information.push(mk(value.to_owned(), value, ln));
            }
            "name" if matches!(section, Section::None | Section::Exchange) && !value.is_empty() => {
                if cur.name.is_some() {
                    out.reports.push(std::mem::take(&mut cur));
                    seen_eems = false;
                }
                cur.name = Some(mk(value.to_owned(), value, ln));
            }
            "generation time" => cur.generation_time = Some(mk(value.to_owned(), value, ln)),
            "version" => {
                let is_os = section == Section::Os
                    || (section == Section::None
                        && (value.starts_with("Microsoft Windows")
                            || value.starts_with("Windows")));
                if is_os {
                    cur.os_version = Some(mk(value.to_owned(), value, ln));
                } else if section == Section::Exchange
                    || value.to_ascii_lowercase().starts_with("exchange")
                {
                    cur.exchange_version = Some(mk(value.to_owned(), value, ln));
                }
            }
            "build number" => match parse_build(value) {
                Some(b) => cur.build = Some(mk(b, value, ln)),
                None => problems.push(Problem::at(
                    ln,
                    format!("Build Number is not an Exchange build: {value}"),
                )),
            },
            "internet web proxy" => {
                cur.internet_web_proxy = Some(mk(exchange_proxy(value), value, ln));
            }
            "http proxy setting" => cur.http_proxy = Some(mk(winhttp_proxy(value), value, ln)),
            "http proxy by pass list" => {
                let v = bypass_list(value, cur.http_proxy.as_ref().map(|f| &f.value));
                cur.http_proxy_bypass = Some(mk(v, value, ln));
            }
            "error"
                if value
                    .to_ascii_lowercase()
                    .contains("doesn't match os web proxy") =>
            {
                cur.proxy_mismatch_error = Some(mk(value.to_owned(), value, ln));
            }
            ".net framework" => cur.dotnet = Some(mk(value.to_owned(), value, ln)),
            "securityprotocol" => cur.security_protocol = Some(mk(value.to_owned(), value, ln)),
            _ if is_tls_label(label) => cur.tls.push(HcLine {
                label: label.to_owned(),
                value: value.to_owned(),
                line: ln,
            }),
            _ => {}
        }
    }
    if !cur.is_empty() {
        out.reports.push(cur);
    }
    // The bypass list may come before the proxy line in a re-ordered paste:
    // judge it against the proxy once both are known.
    for r in &mut out.reports {
        if let (Some(p), Some(b)) = (&r.http_proxy, &mut r.http_proxy_bypass)
            && p.value.mangled
            && !b.value.mangled
        {
            b.value = bypass_list(&b.raw, Some(&p.value));
        }
    }
    if out.reports.iter().all(|r| !r.has_values())
        && out.script_version.is_none()
        && out.failed_against.is_empty()
    {
        problems.push(Problem::whole("no Health Checker lines found"));
    }
    for f in out.reports.iter().filter_map(|r| r.eems.as_ref()) {
        if let EemsConfigState::Other(raw) = &f.value {
            problems.push(Problem::at(f.line, format!("unknown EEMS state: {raw}")));
        }
    }
    Parsed::with_problems(out, problems)
}

/// Cheap check for the sniffer: Health Checker output. Structure, never one
/// word: a section title with its dashed ruler, an EEMS block line, or two
/// different lines only Health Checker prints.
pub fn looks_like_healthchecker(text: &str) -> bool {
    let mut known: Vec<&str> = Vec::new();
    let mut prev: Option<&str> = None;
    for raw in text.lines() {
        let (_, t) = clean(raw);
        if is_ruler(t)
            && let Some(p) = prev
            && section_title(p).is_some()
        {
            return true;
        }
        if !t.is_empty() {
            prev = Some(t);
        }
        if labelled(t, EEMS_HEADER).is_some()
            || labelled(t, "Pattern service").is_some()
            || labelled(t, "Mitigation applied").is_some()
        {
            return true;
        }
        let hit = if script_version(t).is_some() {
            Some("version")
        } else if failed_against(t).is_some() {
            Some("failed")
        } else if labelled(t, "Version")
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("exchange "))
        {
            Some("Version")
        } else {
            LABELS.iter().copied().find(|l| labelled(t, l).is_some())
        };
        if let Some(h) = hit
            && !known.contains(&h)
        {
            known.push(h);
            if known.len() >= 2 {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests;
