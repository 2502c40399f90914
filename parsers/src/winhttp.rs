//! WinHTTP proxy settings: `netsh winhttp show proxy` (input-formats.md §4),
//! `netsh winhttp show advproxy` (§5) and the `WinHttpSettings` registry value
//! (§6; blob layout in exchange-facts.md §3).
use crate::clixml;
use crate::problem::{Parsed, Problem};
use crate::registry::{self, RegFormat, RegMessage, RegView};
use crate::text::Source;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{opt, recognize};
use nom::sequence::{delimited, preceded, terminated};
use nom::{IResult, Parser};
use serde::Serialize;

mod blob;
mod json;

pub use blob::{AccessType, WinHttpDecodeError, WinHttpSettings, decode_winhttp_settings};
pub use registry::parse_hex;

// ====================================================================== shared

/// One proxy from a WinHTTP proxy list: `host:port`, `http://host:port` or a
/// per-scheme `https=host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyEntry {
    /// Per-scheme selector (`http` in `http=a:3128`); `None` = all schemes.
    pub scheme: Option<String>,
    /// URL scheme written before the host (`http` in `http://a:3128`).
    pub url_scheme: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The entry as written.
    pub raw: String,
    /// Read without a problem: a port that is not a number, or text after
    /// the port, leaves a host that must not be used as the proxy's address.
    #[serde(skip)]
    pub well_formed: bool,
}

impl ProxyEntry {
    /// The proxy server as written, without its `scheme=` selector
    /// (`http://a:3128` for `http=http://a:3128`).
    pub fn server(&self) -> &str {
        match &self.scheme {
            Some(sel) => self.raw.get(sel.len() + 1..).unwrap_or_default(),
            None => &self.raw,
        }
    }

    /// `host:port` (host lowercased, brackets off an IPv6 address, port 80
    /// when none is written, as WinHTTP and System.Uri assume for http), or
    /// `None` when the entry was not read cleanly.
    pub fn authority(&self) -> Option<(String, u16)> {
        (self.well_formed && !self.host.is_empty()).then(|| {
            (
                self.host.trim_matches(['[', ']']).to_ascii_lowercase(),
                self.port.unwrap_or(80),
            )
        })
    }
}

/// A WinHTTP proxy list (`proxy-server=` of `netsh winhttp set proxy`, the
/// `WinHttpSettings` blob, or Exchange's one-URI InternetWebProxy), parsed
/// once for the parsers, the checks and the probe alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ProxyList(pub Vec<ProxyEntry>);

impl std::ops::Deref for ProxyList {
    type Target = [ProxyEntry];
    fn deref(&self) -> &[ProxyEntry] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a ProxyList {
    type Item = &'a ProxyEntry;
    type IntoIter = std::slice::Iter<'a, ProxyEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl ProxyList {
    /// Parse a list (`;`- or space-separated entries). Returns the entries
    /// plus a message for every entry that could not be read cleanly.
    pub fn parse(s: &str) -> (ProxyList, Vec<String>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for raw in s
            .split(|c: char| c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            match proxy_entry(raw) {
                Ok((rest, (scheme, url, h, port))) => {
                    let port_num = port.and_then(|p| p.parse::<u16>().ok());
                    let mut well_formed = true;
                    if let Some(p) = port
                        && port_num.is_none()
                    {
                        problems.push(format!("proxy '{raw}': port {p} out of range"));
                        well_formed = false;
                    }
                    if !rest.is_empty() {
                        problems.push(format!("proxy '{raw}': unexpected text '{rest}'"));
                        well_formed = false;
                    }
                    out.push(ProxyEntry {
                        scheme: scheme.map(str::to_ascii_lowercase),
                        url_scheme: url.map(str::to_ascii_lowercase),
                        host: h.to_owned(),
                        port: port_num,
                        raw: raw.to_owned(),
                        well_formed,
                    });
                }
                Err(_) => problems.push(format!("proxy '{raw}': no host")),
            }
        }
        (ProxyList(out), problems)
    }

    /// The proxy WinHTTP sends a request for a `scheme` URL (`http`,
    /// `https`) through: the first `scheme=` entry, else the first entry
    /// without a selector, which serves every scheme (WINHTTP_PROXY_INFO,
    /// pki-network.md §7). `None`: that scheme goes direct, as it does for
    /// `https` under `http=a:3128` alone.
    pub fn for_scheme(&self, scheme: &str) -> Option<&ProxyEntry> {
        self.iter()
            .find(|e| {
                e.scheme
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            })
            .or_else(|| self.iter().find(|e| e.scheme.is_none()))
    }
}

fn scheme_word(i: &str) -> IResult<&str, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic()),
        nom::bytes::complete::take_while(|c: char| {
            c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'
        }),
    ))
    .parse(i)
}

fn host(i: &str) -> IResult<&str, &str> {
    // `[v6::addr]` or anything up to the port colon / path.
    nom::branch::alt((
        recognize(delimited(
            char('['),
            take_while1(|c: char| c != ']'),
            char(']'),
        )),
        take_while1(|c: char| c != ':' && c != '/' && c != '=' && !c.is_whitespace()),
    ))
    .parse(i)
}

type EntryParts<'a> = (Option<&'a str>, Option<&'a str>, &'a str, Option<&'a str>);

fn proxy_entry(i: &str) -> IResult<&str, EntryParts<'_>> {
    let (i, scheme) = opt(terminated(scheme_word, char('='))).parse(i)?;
    let (i, url) = opt(terminated(scheme_word, tag("://"))).parse(i)?;
    let (i, h) = host(i)?;
    let (i, port) = opt(preceded(char(':'), digit1)).parse(i)?;
    // A path after a URL (`http://host:8080/`, `http://host:8080/x`) is
    // not part of the proxy's address: System.Uri keeps it, WinHTTP ignores it.
    let i = match url {
        Some(_) if i.starts_with('/') => "",
        _ => i,
    };
    Ok((i, (scheme, url, h, port)))
}

/// Split a bypass list on `;`. `(none)`/`(keine)` (any fully parenthesised
/// localized "none") means empty.
pub fn split_bypass(s: &str) -> Vec<String> {
    let t = s.trim();
    if t.starts_with('(') && t.ends_with(')') && !t.contains(';') {
        return Vec::new();
    }
    t.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

// ====================================================================== netsh show proxy

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    #[default]
    Unknown,
    En,
    De,
}

/// A `label : value` line of `netsh winhttp show proxy`.
#[derive(Debug, Clone, Serialize)]
pub struct LabeledValue {
    pub label: String,
    /// Value as printed (a console-wrapped continuation is joined on).
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NetshProxy {
    pub language: Language,
    pub header_line: Option<usize>,
    /// `Direct access (no proxy server).`
    pub direct: bool,
    pub direct_line: Option<usize>,
    /// First `label : value` line after the header (the proxy server list).
    pub proxy_server: Option<LabeledValue>,
    pub proxies: ProxyList,
    /// Second `label : value` line (the bypass list).
    pub bypass: Option<LabeledValue>,
    /// Bypass entries; empty for `(none)`/`(keine)`.
    pub bypass_list: Vec<String>,
}

const EN_WORDS: [&str; 5] = [
    "current winhttp",
    "proxy server(s)",
    "bypass list",
    "direct access",
    "no proxy server",
];
const DE_WORDS: [&str; 6] = [
    "aktuelle winhttp",
    "proxyeinstellungen",
    "proxyserver",
    "umgehungsliste",
    "direkter zugriff",
    "die proxyliste umgehen",
];

fn detect_language(lower: &str) -> Language {
    if DE_WORDS.iter().any(|w| lower.contains(w)) {
        Language::De
    } else if EN_WORDS.iter().any(|w| lower.contains(w)) {
        Language::En
    } else {
        Language::Unknown
    }
}

fn is_direct_text(lower: &str) -> bool {
    [
        "direct access",
        "direkter zugriff",
        "accès direct",
        "acceso directo",
        "accesso diretto",
        "(no proxy server)",
        "(kein proxyserver)",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

fn known_label(lower: &str) -> bool {
    [
        "proxy server",
        "bypass list",
        "proxyserver",
        "umgehungsliste",
        "proxyliste",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// `label : value` ([`crate::format_list::split_label`]; any label).
fn label_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if let Some(lv) = crate::format_list::split_label(t) {
        return Some(lv);
    }
    // `Proxy Server(s):host:8080`: no whitespace at all, accepted for known labels only.
    let (label, value) = t.split_once(':')?;
    known_label(&label.to_lowercase()).then_some((label.trim_end(), value.trim()))
}

/// Cheap content check for the sniffer.
pub fn looks_like_netsh_proxy(text: &str) -> bool {
    text.lines().take(60).any(|l| {
        let lower = l.trim().to_lowercase();
        let header = lower.contains("winhttp")
            && lower.ends_with(':')
            && !lower.contains("advanced")
            && !lower.contains("erweitert")
            && (lower.contains("proxy"));
        header
            || lower.starts_with("proxy server(s)")
            || lower.contains("direct access (no proxy server)")
            || lower.contains("direkter zugriff (kein proxyserver)")
    })
}

/// Parse `netsh winhttp show proxy` (any language: values are taken by position).
pub fn parse_netsh_proxy(src: Source<'_>) -> Parsed<NetshProxy> {
    let mut out = NetshProxy::default();
    let mut problems = Vec::new();
    let mut values: Vec<LabeledValue> = Vec::new();
    let mut prev_was_value = false;
    let mut seen_lang = Language::Unknown;
    for (n, line) in src.lines() {
        let t = line.trim();
        if t.is_empty() {
            prev_was_value = false;
            continue;
        }
        let lower = t.to_lowercase();
        if seen_lang == Language::Unknown {
            seen_lang = detect_language(&lower);
        }
        if out.header_line.is_none() && values.is_empty() && !out.direct && t.ends_with(':') {
            out.header_line = Some(n);
            continue;
        }
        if is_direct_text(&lower) {
            out.direct = true;
            out.direct_line = Some(n);
            prev_was_value = false;
            continue;
        }
        let indented = line.starts_with(char::is_whitespace);
        if let Some((label, value)) = label_value(t) {
            let label_lower = label.to_lowercase();
            let message_like = ["error", "fehler", "not found", "nicht gefunden"]
                .iter()
                .any(|w| label_lower.contains(w));
            if (indented || known_label(&label_lower)) && !message_like {
                if values.len() < 2 {
                    values.push(LabeledValue {
                        label: label.to_owned(),
                        value: value.to_owned(),
                        line: n,
                    });
                    prev_was_value = true;
                } else {
                    problems.push(Problem::at(
                        n,
                        format!("unexpected third value line: {}", clip(t)),
                    ));
                }
                continue;
            }
        }
        // A long list wrapped by a narrow console continues on the next line.
        if prev_was_value
            && !t.contains(char::is_whitespace)
            && let Some(last) = values.last_mut()
        {
            last.value.push_str(t);
            continue;
        }
        problems.push(Problem::at(n, format!("unexpected text: {}", clip(t))));
        prev_was_value = false;
    }
    out.language = seen_lang;
    let mut values = values.into_iter();
    if let Some(p) = values.next() {
        let (entries, msgs) = ProxyList::parse(&p.value);
        problems.extend(msgs.into_iter().map(|m| Problem::at(p.line, m)));
        if entries.is_empty() {
            problems.push(Problem::at(p.line, "proxy server value is empty"));
        }
        out.proxies = entries;
        out.proxy_server = Some(p);
    }
    if let Some(b) = values.next() {
        out.bypass_list = split_bypass(&b.value);
        out.bypass = Some(b);
    }
    if out.direct && out.proxy_server.is_some() {
        problems.push(Problem::whole(
            "both 'direct access' and proxy server lines present",
        ));
    }
    if out.proxy_server.is_some() && out.bypass.is_none() {
        problems.push(Problem::whole("bypass list line missing"));
    }
    if !out.direct && out.proxy_server.is_none() {
        problems.push(Problem::whole("no WinHTTP proxy settings found"));
    }
    Parsed::with_problems(out, problems)
}

// ====================================================================== advproxy

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvProxyFormat {
    #[default]
    Unknown,
    /// `netsh winhttp show advproxy` JSON (header optional).
    Json,
    /// `Get-WinhttpProxy -Advanced` (`Proxy: …` lines).
    GetWinhttpProxy,
    /// netsh does not know the command (older Windows).
    NotAvailable,
}

/// A key the parser does not know, kept with its value.
#[derive(Debug, Clone, Serialize)]
pub struct OtherKey {
    pub key: String,
    pub value: serde_json::Value,
    pub line: usize,
}

/// Line of each known key, when present.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AdvProxyLines {
    pub proxy_is_enabled: Option<usize>,
    pub proxy: Option<usize>,
    pub proxy_bypass: Option<usize>,
    pub auto_config_is_enabled: Option<usize>,
    pub auto_config_url: Option<usize>,
    pub auto_detect: Option<usize>,
    pub per_user_proxy_settings: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AdvProxy {
    /// False when netsh does not know `show advproxy` (Server 2016/2019).
    pub available: bool,
    pub format: AdvProxyFormat,
    pub header_line: Option<usize>,
    /// The "command was not found" message, when that is the output.
    pub message: Option<RegMessage>,
    /// `{ }`: nothing configured.
    pub empty: bool,
    pub proxy_is_enabled: Option<bool>,
    /// `None` when absent or blank (`" "`).
    pub proxy: Option<String>,
    pub proxies: ProxyList,
    pub proxy_bypass: Vec<String>,
    pub auto_config_is_enabled: Option<bool>,
    /// `None` when absent or blank (`" "`, seen in real output).
    pub auto_config_url: Option<String>,
    pub auto_detect: Option<bool>,
    pub per_user_proxy_settings: Option<bool>,
    pub other: Vec<OtherKey>,
    pub lines: AdvProxyLines,
}

const ADV_KEYS: [&str; 7] = [
    "proxyisenabled",
    "proxy",
    "proxybypass",
    "autoconfigisenabled",
    "autoconfigurl",
    "autodetect",
    "peruserproxysettings",
];

/// Cheap content check for the sniffer.
pub fn looks_like_advproxy(text: &str) -> bool {
    let lower: String = text.chars().take(8000).collect::<String>().to_lowercase();
    if lower.contains("winhttp advanced proxy")
        || lower.contains("advanced proxy settings")
        || lower.contains("winhttp show advproxy")
        || lower.contains("erweiterte winhttp")
    {
        return true;
    }
    let json_keys = [
        "\"proxyisenabled\"",
        "\"peruserproxysettings\"",
        "\"autoconfigisenabled\"",
        "\"proxybypass\"",
        "\"autodetect\"",
    ];
    if lower.contains('{') && json_keys.iter().any(|k| lower.contains(k)) {
        return true;
    }
    // Get-WinhttpProxy -Advanced
    let has = |k: &str| {
        lower.lines().any(|l| {
            l.trim_start()
                .strip_prefix(k)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
    };
    // A bare `{}` is what `netsh winhttp show advproxy` prints when nothing is set.
    let t = lower.trim();
    has("proxybypass") && (has("autodetect") || has("proxy"))
        || (t.starts_with('{') && lower.contains("\"proxy\""))
        || (t.starts_with('{') && t.ends_with('}') && t.len() < 8)
}

fn as_bool(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        serde_json::Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

fn as_text(v: &serde_json::Value) -> Result<Option<String>, ()> {
    match v {
        serde_json::Value::String(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(()),
    }
}

impl AdvProxy {
    fn apply(
        &mut self,
        key: &str,
        value: serde_json::Value,
        line: usize,
        problems: &mut Vec<Problem>,
    ) {
        let lower = key.to_ascii_lowercase();
        let mut want_bool = |slot: &mut Option<bool>, line_slot: &mut Option<usize>| {
            *line_slot = Some(line);
            match as_bool(&value) {
                Some(b) => *slot = Some(b),
                None => problems.push(Problem::at(
                    line,
                    format!("{key}: expected true/false, got {value}"),
                )),
            }
        };
        match lower.as_str() {
            "proxyisenabled" => {
                want_bool(&mut self.proxy_is_enabled, &mut self.lines.proxy_is_enabled)
            }
            "autoconfigisenabled" => want_bool(
                &mut self.auto_config_is_enabled,
                &mut self.lines.auto_config_is_enabled,
            ),
            "autodetect" => want_bool(&mut self.auto_detect, &mut self.lines.auto_detect),
            "peruserproxysettings" => want_bool(
                &mut self.per_user_proxy_settings,
                &mut self.lines.per_user_proxy_settings,
            ),
            "proxy" | "proxybypass" | "autoconfigurl" => {
                let text = match as_text(&value) {
                    Ok(t) => t,
                    Err(()) => {
                        problems.push(Problem::at(
                            line,
                            format!("{key}: expected a string, got {value}"),
                        ));
                        None
                    }
                };
                match lower.as_str() {
                    "proxy" => {
                        self.lines.proxy = Some(line);
                        let (entries, msgs) =
                            text.as_deref().map(ProxyList::parse).unwrap_or_default();
                        problems.extend(msgs.into_iter().map(|m| Problem::at(line, m)));
                        self.proxies = entries;
                        self.proxy = text;
                    }
                    "proxybypass" => {
                        self.lines.proxy_bypass = Some(line);
                        self.proxy_bypass = text.as_deref().map(split_bypass).unwrap_or_default();
                    }
                    _ => {
                        self.lines.auto_config_url = Some(line);
                        self.auto_config_url = text;
                    }
                }
            }
            _ => self.other.push(OtherKey {
                key: key.to_owned(),
                value,
                line,
            }),
        }
    }
}

/// Parse `netsh winhttp show advproxy` (or `Get-WinhttpProxy -Advanced`).
pub fn parse_advproxy(src: Source<'_>) -> Parsed<AdvProxy> {
    let mut out = AdvProxy {
        available: true,
        ..AdvProxy::default()
    };
    let mut problems = Vec::new();
    let text = src.text;

    if let Some(start) = text.find('{') {
        out.format = AdvProxyFormat::Json;
        let before = text.get(..start).unwrap_or_default();
        for (i, l) in before.split('\n').enumerate() {
            let t = l.trim();
            if t.is_empty() {
                continue;
            }
            let n = src.first_line + i;
            if out.header_line.is_none() && t.ends_with(':') {
                out.header_line = Some(n);
            } else {
                problems.push(Problem::at(
                    n,
                    format!("unexpected text before JSON: {}", clip(t)),
                ));
            }
        }
        let read = json::read_object(text, start);
        for (off, msg) in read.errors {
            problems.push(Problem::at(src.line_at(off), msg));
        }
        out.empty = read.members.is_empty() && read.end.is_some();
        for m in read.members {
            let line = src.line_at(m.offset);
            out.apply(&m.key, m.value, line, &mut problems);
        }
        if let Some(end) = read.end {
            let after = text.get(end..).unwrap_or_default();
            if let Some(pos) = after.find(|c: char| !c.is_whitespace()) {
                let line = src.line_at(end + pos);
                let t = after
                    .get(pos..)
                    .unwrap_or_default()
                    .split('\n')
                    .next()
                    .unwrap_or_default();
                problems.push(Problem::at(
                    line,
                    format!("unexpected text after JSON: {}", clip(t.trim())),
                ));
            }
        }
        return Parsed::with_problems(out, problems);
    }

    // "The following command was not found: winhttp show advproxy." (any language:
    // the command name is not translated).
    if let Some((n, l)) = src
        .lines()
        .find(|(_, l)| l.to_lowercase().contains("show advproxy"))
    {
        out.available = false;
        out.format = AdvProxyFormat::NotAvailable;
        out.message = Some(RegMessage {
            message: l.trim().to_owned(),
            line: n,
        });
        return Parsed::with_problems(out, problems);
    }

    // Get-WinhttpProxy -Advanced: `Key : value` lines.
    let mut unknown = Vec::new();
    for (n, l) in src.lines() {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        match t.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(char::is_whitespace) => {
                let k = k.trim();
                if ADV_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                    out.format = AdvProxyFormat::GetWinhttpProxy;
                }
                out.apply(
                    k,
                    serde_json::Value::String(v.trim().to_owned()),
                    n,
                    &mut problems,
                );
            }
            _ => unknown.push(Problem::at(n, format!("unexpected text: {}", clip(t)))),
        }
    }
    if out.format == AdvProxyFormat::Unknown {
        // Nothing recognisable: do not report stray `x: y` lines as settings.
        out.other.clear();
        problems.push(Problem::whole("no advproxy JSON or settings found"));
    }
    problems.extend(unknown);
    Parsed::with_problems(out, problems)
}

// ====================================================================== WinHttpSettings registry value

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WinHttpRegistryFormat {
    #[default]
    Unknown,
    RegQuery,
    RegExport,
    /// `Get-ItemProperty` (Format-List): byte arrays are usually truncated.
    GetItemProperty,
    /// `Get-ItemProperty … | Export-Clixml`: the whole byte array.
    GetItemPropertyClixml,
    /// Health Checker's `Get-HttpProxySetting` object (`GetHttpProxySetting.xml`):
    /// the proxy and bypass list Health Checker decoded, no bytes.
    HealthCheckerClixml,
}

/// One `WinHttpSettings` value found in the input.
#[derive(Debug, Clone, Serialize)]
pub struct WinHttpSettingsValue {
    pub key_path: Option<String>,
    pub view: RegView,
    pub reg_type: Option<String>,
    /// The data as printed.
    pub raw: String,
    pub bytes: Vec<u8>,
    /// The printed bytes are not the whole value (`{24, 0, 0, 0...}`); never decoded.
    pub incomplete: bool,
    /// Decoded settings (partial when `decode_error` is set).
    pub settings: Option<WinHttpSettings>,
    pub decode_error: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WinHttpRegistry {
    pub format: WinHttpRegistryFormat,
    pub entries: Vec<WinHttpSettingsValue>,
    /// reg reported the key/value as missing (`ERROR:`/`FEHLER:` line).
    pub missing: bool,
    pub errors: Vec<RegMessage>,
}

impl WinHttpRegistry {
    pub fn native(&self) -> Option<&WinHttpSettingsValue> {
        self.entries.iter().find(|e| e.view == RegView::Native)
    }
    pub fn wow6432node(&self) -> Option<&WinHttpSettingsValue> {
        self.entries.iter().find(|e| e.view == RegView::Wow6432node)
    }
}

/// Cheap content check for the sniffer: any output/export holding a
/// `WinHttpSettings` value, or its CliXml forms (see [`looks_like_winhttp_registry_clixml`]).
pub fn looks_like_winhttp_registry(text: &str) -> bool {
    if clixml::is_clixml(text) {
        return looks_like_winhttp_registry_clixml(text);
    }
    text.lines().any(|l| {
        let t = l.trim_start();
        let Some(rest) = t
            .strip_prefix("WinHttpSettings")
            .or_else(|| t.strip_prefix("\"WinHttpSettings\""))
        else {
            return false;
        };
        let rest = rest.trim_start();
        rest.starts_with("REG_") || rest.starts_with('=') || rest.starts_with(':')
    })
}

/// CliXml holding WinHTTP proxy settings: Health Checker's `Get-HttpProxySetting`
/// object (`ProxyAddress` with `HttpProxy64`/`HttpProxy32` or `ByPassList`), or
/// `Get-ItemProperty …\Connections | Export-Clixml` (a `WinHttpSettings` property).
pub fn looks_like_winhttp_registry_clixml(text: &str) -> bool {
    clixml::is_clixml(text)
        && (clixml::mentions_property(text, "WinHttpSettings")
            || clixml::mentions_property(text, "ProxyAddress")
                && (clixml::mentions_property(text, "HttpProxy64")
                    || clixml::mentions_property(text, "HttpProxy32")
                    || clixml::mentions_property(text, "ByPassList")))
}

/// `WinHttpSettings : {24, 0, 0, 0...}` → the part after the colon.
fn get_item_property_line(t: &str) -> Option<&str> {
    let rest = t.trim_start().strip_prefix("WinHttpSettings")?;
    let rest = rest.trim_start().strip_prefix(':')?;
    Some(rest.trim())
}

/// Parse the `WinHttpSettings` value from `reg query`, a `.reg` export or
/// `Get-ItemProperty` output.
pub fn parse_registry(src: Source<'_>) -> Parsed<WinHttpRegistry> {
    if clixml::is_clixml(src.text) {
        return parse_registry_clixml(src);
    }
    let mut out = WinHttpRegistry::default();
    let mut problems = Vec::new();
    let gip = src
        .lines()
        .any(|(_, l)| get_item_property_line(l).is_some());
    if gip {
        out.format = WinHttpRegistryFormat::GetItemProperty;
        parse_get_item_property(src, &mut out, &mut problems);
    } else {
        let (values, reg_problems) = registry::parse_raw(src);
        problems.extend(reg_problems);
        out.format = match values.format {
            RegFormat::RegExport => WinHttpRegistryFormat::RegExport,
            RegFormat::RegQuery => WinHttpRegistryFormat::RegQuery,
            // `parse_raw` reads text only; the CliXml forms are read above.
            RegFormat::Unknown
            | RegFormat::GetItemPropertyClixml
            | RegFormat::HealthCheckerTlsClixml => WinHttpRegistryFormat::Unknown,
        };
        out.errors = values.errors.clone();
        for (key, v) in values.find("WinHttpSettings") {
            let mut entry = WinHttpSettingsValue {
                key_path: (!key.path.is_empty()).then(|| key.path.clone()),
                view: key.view,
                reg_type: Some(v.reg_type.clone()),
                raw: v.raw.clone(),
                bytes: Vec::new(),
                incomplete: false,
                settings: None,
                decode_error: None,
                line: v.line,
            };
            match v.data.as_bytes() {
                Some(b) if v.reg_type == "REG_BINARY" => {
                    entry.bytes = b.to_vec();
                    decode_into(&mut entry, &mut problems);
                }
                _ => problems.push(Problem::at(
                    v.line,
                    format!(
                        "WinHttpSettings has type {}, expected REG_BINARY",
                        v.reg_type
                    ),
                )),
            }
            out.entries.push(entry);
        }
    }
    if out.format == WinHttpRegistryFormat::GetItemProperty {
        // Get-ItemProperty errors are PowerShell error records, not `ERROR:` lines.
        for (n, l) in src.lines() {
            let t = l.trim();
            if registry::error_line(t).is_some() {
                out.errors.push(RegMessage {
                    message: t.to_owned(),
                    line: n,
                });
            }
        }
    }
    out.missing = !out.errors.is_empty();
    if out.entries.is_empty() && !out.missing {
        problems.push(Problem::whole("no WinHttpSettings value found"));
    }
    Parsed::with_problems(out, problems)
}

/// `WinHttpSettings` from CliXml: the `Get-ItemProperty` object (its byte
/// array read through the same [`gip_entry`] as the Format-List form, now
/// complete) or Health Checker's `Get-HttpProxySetting` object.
fn parse_registry_clixml(src: Source<'_>) -> Parsed<WinHttpRegistry> {
    let parsed = clixml::parse(src);
    let mut problems = parsed.problems;
    let mut out = WinHttpRegistry::default();
    for (obj, record) in parsed.value.iter().zip(clixml::to_records(&parsed.value)) {
        if let Some(p) = record.get("WinHttpSettings") {
            out.format = WinHttpRegistryFormat::GetItemPropertyClixml;
            let mut entry = gip_entry(p.value.clone(), p.line, &mut problems);
            if let Some(path) = record.get_str("PSPath") {
                let path = gip_key_path(path);
                entry.view = RegView::of_path(&path);
                entry.key_path = Some(path);
            }
            entry.reg_type = Some("REG_BINARY".into());
            out.entries.push(entry);
        } else if obj.get("ProxyAddress").is_some() {
            out.format = WinHttpRegistryFormat::HealthCheckerClixml;
            health_checker_entries(obj, &mut out.entries);
        }
    }
    if out.entries.is_empty() {
        problems.push(Problem::whole(
            "no WinHttpSettings value or Health Checker proxy setting found in the CliXml",
        ));
    }
    Parsed::with_problems(out, problems)
}

/// The registry keys Health Checker's `Get-HttpProxySetting` reads. It names
/// the value of the native key `HttpProxy32` and that of the `WOW6432Node`
/// key `HttpProxy64` (CSS-Exchange `Get-HttpProxySetting.ps1`); entries here
/// carry the key actually read.
const HC_NATIVE_KEY: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
const HC_WOW_KEY: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";

/// One entry per view Health Checker read (`HttpProxy32` → native key,
/// `HttpProxy64` → `WOW6432Node`); an older object with only the top-level
/// `ProxyAddress`/`ByPassList` gives one native entry.
fn health_checker_entries(obj: &clixml::PsObject, entries: &mut Vec<WinHttpSettingsValue>) {
    let views = [
        ("HttpProxy32", RegView::Native, HC_NATIVE_KEY),
        ("HttpProxy64", RegView::Wow6432node, HC_WOW_KEY),
    ];
    let mut any = false;
    for (name, view, key) in views {
        let Some(inner) = obj.get(name).and_then(clixml::PsValue::as_object) else {
            continue;
        };
        let line = obj
            .properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map_or(obj.line, |p| p.line);
        entries.push(health_checker_entry(inner, view, key, line));
        any = true;
    }
    if !any {
        entries.push(health_checker_entry(
            obj,
            RegView::Native,
            HC_NATIVE_KEY,
            obj.line,
        ));
    }
}

/// Health Checker writes `ProxyAddress` `None` when the value has no proxy
/// string (it does not read the access-type field: `access` stays unknown).
fn health_checker_entry(
    obj: &clixml::PsObject,
    view: RegView,
    key: &str,
    line: usize,
) -> WinHttpSettingsValue {
    let proxy_raw = obj
        .get("ProxyAddress")
        .and_then(clixml::PsValue::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    let bypass_raw = obj
        .get("ByPassList")
        .and_then(clixml::PsValue::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    let proxy = (!proxy_raw.is_empty() && !proxy_raw.eq_ignore_ascii_case("None"))
        .then(|| proxy_raw.clone());
    let settings = WinHttpSettings {
        proxies: proxy
            .as_deref()
            .map(|p| ProxyList::parse(p).0)
            .unwrap_or_default(),
        proxy,
        bypass_list: split_bypass(&bypass_raw),
        bypass: (!bypass_raw.is_empty()).then(|| bypass_raw.clone()),
        ..WinHttpSettings::default()
    };
    WinHttpSettingsValue {
        key_path: Some(key.to_owned()),
        view,
        reg_type: None,
        raw: format!("ProxyAddress={proxy_raw}; ByPassList={bypass_raw}"),
        bytes: Vec::new(),
        incomplete: false,
        settings: Some(settings),
        decode_error: None,
        line,
    }
}

/// `Microsoft.PowerShell.Core\Registry::HKEY_…` → `HKEY_…`.
fn gip_key_path(path: &str) -> String {
    path.split_once("::")
        .map(|(_, p)| p.to_owned())
        .unwrap_or_else(|| path.to_owned())
}

fn decode_into(entry: &mut WinHttpSettingsValue, problems: &mut Vec<Problem>) {
    match decode_winhttp_settings(&entry.bytes) {
        Ok(s) => entry.settings = Some(s),
        Err(e) => {
            problems.push(Problem::at(entry.line, e.message.clone()));
            entry.decode_error = Some(e.message);
            entry.settings = Some(*e.partial);
        }
    }
}

fn parse_get_item_property(
    src: Source<'_>,
    out: &mut WinHttpRegistry,
    problems: &mut Vec<Problem>,
) {
    let mut lines = src.lines().peekable();
    // Entries of the current Format-List record (records are separated by blank lines).
    let mut block_start = 0;
    while let Some((n, line)) = lines.next() {
        let t = line.trim();
        if t.is_empty() {
            block_start = out.entries.len();
            continue;
        }
        if let Some(v) = get_item_property_line(t) {
            let mut raw = v.to_owned();
            // Format-List wraps a long array onto indented lines until `}`.
            while raw.starts_with('{') && !raw.contains('}') {
                match lines.peek() {
                    Some((_, next))
                        if next.starts_with(char::is_whitespace)
                            && !next.trim().is_empty()
                            && !next.contains(" : ") =>
                    {
                        raw.push(' ');
                        raw.push_str(next.trim());
                        lines.next();
                    }
                    _ => break,
                }
            }
            out.entries.push(gip_entry(raw, n, problems));
            continue;
        }
        if let Some(path) = t
            .strip_prefix("PSPath")
            .and_then(|r| r.trim_start().strip_prefix(':'))
        {
            let mut path = path.trim().to_owned();
            while let Some((_, next)) = lines.peek() {
                if next.starts_with(char::is_whitespace)
                    && !next.trim().is_empty()
                    && !next.contains(" : ")
                {
                    path.push_str(next.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            let path = gip_key_path(&path);
            for e in out.entries.iter_mut().skip(block_start) {
                if e.key_path.is_none() {
                    e.view = RegView::of_path(&path);
                    e.key_path = Some(path.clone());
                }
            }
        }
    }
}

/// `{24, 0, 0, 0...}` → bytes + incomplete flag.
fn gip_entry(raw: String, line: usize, problems: &mut Vec<Problem>) -> WinHttpSettingsValue {
    let inner = raw
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    let (body, truncated) = if let Some(b) = inner.strip_suffix("...") {
        (b, true)
    } else if let Some(b) = inner.strip_suffix('…') {
        (b, true)
    } else {
        (inner, !raw.trim_end().ends_with('}'))
    };
    let mut bytes = Vec::new();
    let mut bad = false;
    for tok in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match tok.parse::<u8>() {
            Ok(b) => bytes.push(b),
            Err(_) => {
                bad = true;
                problems.push(Problem::at(
                    line,
                    format!("WinHttpSettings: '{}' is not a byte", clip(tok)),
                ));
                break;
            }
        }
    }
    let mut entry = WinHttpSettingsValue {
        key_path: None,
        view: RegView::Native,
        reg_type: None,
        raw,
        bytes,
        incomplete: truncated || bad,
        settings: None,
        decode_error: None,
        line,
    };
    if entry.incomplete {
        problems.push(Problem::at(
            line,
            format!(
                "WinHttpSettings from Get-ItemProperty is truncated after {} bytes; use reg query to see the whole value",
                entry.bytes.len()
            ),
        ));
    } else {
        decode_into(&mut entry, problems);
    }
    entry
}

#[cfg(test)]
mod tests;
