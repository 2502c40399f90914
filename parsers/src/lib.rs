//! eems-parsers: read every artifact an Exchange admin has about the
//! Emergency Mitigation service, in every encoding it arrives in.
//!
//! Flow: bytes → [`text::decode`] → [`sniff`] (split a pasted console session
//! into segments, recognise each) → the typed parser for that kind. Every
//! parser returns data with source lines plus the [`Problem`]s it met; none
//! panics on any input.

pub mod build;
pub mod events;
pub mod exception;
pub mod exchange;
pub mod format_list;
pub mod kind;
pub mod mitigation_log;
pub mod problem;
pub mod registry;
pub mod scripts;
pub mod sniff;
pub mod text;
pub mod time;
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
        Kind::EvidenceManifest | Kind::Mixed | Kind::Unrecognized => None,
    }
}
