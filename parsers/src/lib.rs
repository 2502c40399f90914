//! eems-parsers: read every artifact an Exchange admin has about the
//! Emergency Mitigation service, in every encoding it arrives in.
//!
//! Flow: bytes → [`text::decode`] → [`sniff`] (split a pasted console session
//! into segments, recognise each) → the typed parser for that kind. Every
//! parser returns data with source lines plus the [`Problem`]s it met; none
//! panics on any input.

#[cfg(test)]
#[macro_use]
mod test_support;

pub mod build;
pub mod clixml;
pub mod events;
pub mod exception;
pub mod exchange;
pub mod format_list;
pub mod kind;
pub mod manifest;
pub mod mitigation_log;
pub mod ocs_response;
pub mod probe_results;
pub mod problem;
pub mod registry;
pub mod scripts;
pub mod sniff;
pub mod stream;
pub mod text;
pub mod time;
pub mod uri;
pub mod winhttp;

pub use kind::Kind;
pub use problem::{Parsed, Problem};
pub use text::{Encoding, Source};

use serde::Serialize;

/// Typed content of one recognised segment.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Content {
    MitigationLog(mitigation_log::MitigationLog),
    EventExport(events::EventExport),
    NetshProxy(winhttp::NetshProxy),
    AdvProxy(winhttp::AdvProxy),
    WinHttpRegistry(winhttp::WinHttpRegistry),
    RegistryValues(registry::RegistryValues),
    ExchangeServers(exchange::ExchangeServers),
    OrganizationConfig(exchange::OrganizationConfig),
    ServiceStatus(exchange::ServiceStatus),
    ExsetupVersion(build::ExsetupVersion),
    ConnectivityTest(scripts::ConnectivityTest),
    GetMitigations(scripts::GetMitigations),
    HealthChecker(scripts::HealthChecker),
    ProbeResults(Box<probe_results::ProbeReport>),
    EvidenceManifest(manifest::EvidenceManifest),
    OcsResponse(ocs_response::OcsResponse),
}

/// How far an input could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Recognised and read without problems.
    Parsed,
    /// Recognised; some parts could not be read (see `problems`).
    Partial,
    /// Not a format eems-doctor knows.
    Unrecognized,
    /// Could not be read at all (I/O error, corrupt binary).
    Error,
}

impl Status {
    /// The word in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Parsed => "parsed",
            Status::Partial => "partial",
            Status::Unrecognized => "unrecognized",
            Status::Error => "error",
        }
    }
}

/// One recognised part of an input: the whole file, or the output of one
/// command in a pasted console session.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub kind: Kind,
    pub status: Status,
    /// 1-based first and last line of the segment in the file.
    pub first_line: usize,
    pub last_line: usize,
    /// The command line typed at the prompt before this output, when pasted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// Everything read from one input.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedInput {
    pub kind: Kind,
    pub status: Status,
    pub encoding: Encoding,
    pub segments: Vec<Segment>,
    pub problems: Vec<Problem>,
}

/// Run the typed parser for `kind` over `src`.
pub fn parse_as(kind: Kind, src: Source<'_>) -> Option<Parsed<Content>> {
    fn wrap<T>(p: Parsed<T>, f: impl FnOnce(T) -> Content) -> Option<Parsed<Content>> {
        Some(Parsed {
            value: f(p.value),
            problems: p.problems,
        })
    }
    match kind {
        Kind::MitigationLog => wrap(mitigation_log::parse(src), Content::MitigationLog),
        Kind::EventExport => wrap(events::parse(src), Content::EventExport),
        Kind::NetshWinhttpProxy => wrap(winhttp::parse_netsh_proxy(src), Content::NetshProxy),
        Kind::NetshWinhttpAdvproxy => wrap(winhttp::parse_advproxy(src), Content::AdvProxy),
        Kind::WinhttpRegistry => wrap(winhttp::parse_registry(src), Content::WinHttpRegistry),
        Kind::RegistryValues => wrap(registry::parse(src), Content::RegistryValues),
        Kind::ExchangeServer => wrap(
            exchange::parse_exchange_server(src),
            Content::ExchangeServers,
        ),
        Kind::OrganizationConfig => wrap(
            exchange::parse_organization_config(src),
            Content::OrganizationConfig,
        ),
        Kind::ServiceStatus => wrap(exchange::parse_service_status(src), Content::ServiceStatus),
        Kind::ExsetupVersion => wrap(build::parse_exsetup(src), Content::ExsetupVersion),
        Kind::ConnectivityTest => wrap(
            scripts::parse_connectivity_test(src),
            Content::ConnectivityTest,
        ),
        Kind::GetMitigations => wrap(scripts::parse_get_mitigations(src), Content::GetMitigations),
        Kind::Healthchecker => wrap(scripts::parse_healthchecker(src), Content::HealthChecker),
        Kind::ProbeResults => wrap(probe_results::parse(src), |r| {
            Content::ProbeResults(Box::new(r))
        }),
        Kind::EvidenceManifest => wrap(manifest::parse(src), Content::EvidenceManifest),
        Kind::OcsResponse => wrap(ocs_response::parse(src), Content::OcsResponse),
        Kind::Mixed | Kind::Unrecognized => None,
    }
}

/// Read one input: detect its encoding, split a pasted console session into
/// segments, recognise each and run its typed parser. Never panics; what
/// cannot be read is reported in `problems` and `status`.
pub fn parse_input(bytes: &[u8], name_hint: Option<&str>) -> ParsedInput {
    if bytes.starts_with(sniff::EVTX_MAGIC) {
        let p = events::parse_evtx(bytes);
        let status = if p.problems.is_empty() {
            Status::Parsed
        } else {
            Status::Partial
        };
        return ParsedInput {
            kind: Kind::EventExport,
            status,
            encoding: Encoding::Binary,
            segments: vec![Segment {
                kind: Kind::EventExport,
                status,
                first_line: 1,
                last_line: 1,
                command: None,
                content: Some(Content::EventExport(p.value)),
                problems: p.problems,
            }],
            problems: Vec::new(),
        };
    }
    let decoded = text::decode_ref(bytes);
    if decoded.text.trim().is_empty() {
        return empty_input(&decoded, name_hint);
    }
    let raw = sniff::split_segments(&decoded.text);
    let mut segments = Vec::with_capacity(raw.len());
    for seg in &raw {
        let kind = sniff::sniff_segment(seg.source.text, seg.command.as_deref(), name_hint);
        let lines = seg.source.text.lines().count().max(1);
        let first_line = seg.source.first_line;
        let last_line = first_line + lines - 1;
        if seg.source.text.trim().is_empty() {
            continue; // a prompt with nothing after it (the final prompt of a paste)
        }
        let (status, mut content, problems) = match parse_as(kind, seg.source) {
            Some(p) => {
                let status = if p.problems.is_empty() {
                    Status::Parsed
                } else {
                    Status::Partial
                };
                (status, Some(p.value), p.problems)
            }
            None => (Status::Unrecognized, None, Vec::new()),
        };
        // An ExSetup version after `Invoke-Command -ComputerName EX02` or at
        // an `[EX02]: PS` prompt is EX02's (PSComputerName, when shown, wins).
        if let (Some(Content::ExsetupVersion(x)), Some(host)) = (content.as_mut(), &seg.host) {
            x.computer_name.get_or_insert_with(|| host.clone());
        }
        segments.push(Segment {
            kind,
            status,
            first_line,
            last_line,
            command: seg.command.clone(),
            content,
            problems,
        });
    }
    let recognised: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.kind != Kind::Unrecognized)
        .collect();
    let kind = match recognised.as_slice() {
        [] => Kind::Unrecognized,
        [one] => one.kind,
        _ => Kind::Mixed,
    };
    let status = if recognised.is_empty() {
        Status::Unrecognized
    } else if decoded.warnings.is_empty() && segments.iter().all(|s| s.status == Status::Parsed) {
        Status::Parsed
    } else {
        Status::Partial
    };
    let mut problems: Vec<Problem> = decoded.warnings.iter().map(Problem::whole).collect();
    if kind == Kind::Unrecognized {
        problems.push(Problem::whole(format!(
            "not a format eems-doctor recognises ({} lines, decoded as {})",
            text::LineMap::new(&decoded.text).line_count(),
            decoded.encoding.as_str()
        )));
    }
    ParsedInput {
        kind,
        status,
        encoding: decoded.encoding,
        segments,
        problems,
    }
}

/// An empty file is a fact too: `wevtutil` writes nothing when no event
/// matched. Its name (when it says what it is) keeps that fact.
fn empty_input(decoded: &text::DecodedRef<'_>, name_hint: Option<&str>) -> ParsedInput {
    let kind = name_hint
        .and_then(sniff::kind_from_name)
        .unwrap_or(Kind::Unrecognized);
    let content = match kind {
        Kind::EventExport => Some(Content::EventExport(events::EventExport::default())),
        _ => None,
    };
    let status = if content.is_some() {
        Status::Parsed
    } else {
        Status::Unrecognized
    };
    ParsedInput {
        kind,
        status,
        encoding: decoded.encoding,
        segments: content
            .map(|c| Segment {
                kind,
                status,
                first_line: 1,
                last_line: 1,
                command: None,
                content: Some(c),
                problems: Vec::new(),
            })
            .into_iter()
            .collect(),
        problems: vec![Problem::whole("the file is empty")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (computer_name, build) of every ExSetup version read from `bytes`.
    fn exsetups(bytes: &[u8]) -> Vec<(Option<String>, String)> {
        parse_input(bytes, None)
            .segments
            .iter()
            .filter_map(|s| match &s.content {
                Some(Content::ExsetupVersion(x)) => Some((
                    x.computer_name.clone(),
                    x.build.map(|b| b.to_string()).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }

    fn named(n: &str, b: &str) -> (Option<String>, String) {
        (Some(n.to_owned()), b.to_owned())
    }

    #[test]
    fn exsetup_after_invoke_command_is_that_servers() {
        let p = parse_input(
            fixture!("extra/powershell/exsetup-invoke-command-two-servers.txt"),
            None,
        );
        assert_eq!(p.kind, Kind::Mixed);
        assert_eq!(p.status, Status::Parsed);
        assert_eq!(
            exsetups(fixture!(
                "extra/powershell/exsetup-invoke-command-two-servers.txt"
            )),
            [named("EX01", "15.2.1118.40"), named("EX02", "15.2.986.5")]
        );
    }

    #[test]
    fn exsetup_at_a_remoting_prompt_is_that_servers() {
        let text = "[PS] C:\\Windows\\system32>Enter-PSSession EX03\n\
                    [EX03]: PS C:\\Users\\admin\\Documents> (Get-Command ExSetup.exe).FileVersionInfo\n\n\
                    ProductVersion   FileVersion      FileName\n\
                    --------------   -----------      --------\n\
                    15.02.1258.016   15.02.1258.016   C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\ExSetup.exe\n\n\
                    [EX03]: PS C:\\Users\\admin\\Documents> exit\n\
                    [PS] C:\\Windows\\system32>etsn ex04.contoso.com\n\
                    [ex04.contoso.com]: PS C:\\> (Get-Command ExSetup.exe).FileVersionInfo.FileVersion\n\
                    15.02.1544.014\n";
        assert_eq!(
            exsetups(text.as_bytes()),
            [
                named("EX03", "15.2.1258.16"),
                named("ex04.contoso.com", "15.2.1544.14")
            ]
        );
    }

    #[test]
    fn ps_computer_name_wins_over_the_prompt() {
        let text = "PS C:\\> Invoke-Command -ComputerName EX05 { (Get-Command ExSetup.exe).FileVersionInfo }\n\n\
                    ProductVersion   FileVersion      FileName                                           PSComputerName\n\
                    --------------   -----------      --------                                           --------------\n\
                    15.02.1748.039   15.02.1748.039   C:\\Program Files\\Microsoft\\Exchange Server\\V15\\... ex05.contoso.com\n";
        assert_eq!(
            exsetups(text.as_bytes()),
            [named("ex05.contoso.com", "15.2.1748.39")]
        );
    }

    #[test]
    fn exsetup_without_a_named_server_names_none() {
        // Real single-server pastes (CSS-Exchange #2471 with EMS prompts,
        // #1977 without): no computer is invented.
        assert_eq!(
            exsetups(fixture!(
                "real/css-exchange-2471-exsetup-prompt-1748-39/exsetup-fileversioninfo.txt"
            )),
            [(None, "15.2.1748.39".to_owned())]
        );
        assert_eq!(
            exsetups(fixture!(
                "real/css-exchange-1977-exsetup-1258-28-hc-failed/exsetup-fileversioninfo.txt"
            )),
            [(None, "15.2.1258.28".to_owned())]
        );
        // Several computers or a variable: no one name.
        let text = "PS C:\\> Invoke-Command -ComputerName $ex { (Get-Command ExSetup.exe).FileVersionInfo.FileVersion }\n15.02.1544.014\n";
        assert_eq!(
            exsetups(text.as_bytes()),
            [(None, "15.2.1544.14".to_owned())]
        );
        // Only the ExSetup output takes the prompt's computer.
        let p = parse_input(
            b"[EX06]: PS C:\\> Get-ExchangeServer EX07 | fl Name,AdminDisplayVersion\n\nName                : EX07\nAdminDisplayVersion : Version 15.2 (Build 1118.7)\n",
            None,
        );
        match &p.segments[0].content {
            Some(Content::ExchangeServers(s)) => {
                assert_eq!(s.servers[0].name.as_deref(), Some("EX07"));
            }
            other => panic!("{other:?}"),
        }
    }
}
