//! The evidence model: what is known about one server, each fact with the
//! file and line it came from. Built from parsed inputs (`collect.rs`); the
//! checks read only this.

use crate::builds::{Precision, Version};
use crate::classify::Cause;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a fact was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cite {
    pub source: String,
    pub line: Option<usize>,
    pub excerpt: String,
}

impl Cite {
    pub fn new(source: &str, line: Option<usize>, excerpt: impl Into<String>) -> Self {
        Cite {
            source: source.to_owned(),
            line,
            excerpt: excerpt.into(),
        }
    }

    pub fn to_evidence(&self) -> crate::finding::Evidence {
        crate::finding::Evidence::new(self.source.clone(), self.line, &self.excerpt)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact<T> {
    pub value: T,
    pub cite: Cite,
}

impl<T> Fact<T> {
    pub fn new(value: T, cite: Cite) -> Self {
        Fact { value, cite }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuildFact {
    pub version: Version,
    pub precision: Precision,
}

/// Which WinHTTP setting a value describes. `netsh winhttp show proxy` shows
/// the view of the process that ran it; the registry has both views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WinHttpView {
    Netsh,
    Advproxy,
    RegistryNative,
    RegistryWow6432,
    /// Health Checker's `Http Proxy Setting:` (its own decoding of the
    /// registry blob; used only when no other view is given and it does not
    /// look mangled).
    HealthChecker,
}

/// Where a TLS setting lives: SCHANNEL's `TLS 1.2\Client|Server` keys, or
/// .NET Framework 4's `v4.0.30319` key (native or `WOW6432Node`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsPlace {
    SchannelTls12Client,
    SchannelTls12Server,
    DotNet4,
    DotNet4Wow6432,
}

impl TlsPlace {
    /// The key, as `reg query` takes it.
    pub fn key(self) -> &'static str {
        match self {
            TlsPlace::SchannelTls12Client => {
                r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client"
            }
            TlsPlace::SchannelTls12Server => {
                r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server"
            }
            TlsPlace::DotNet4 => r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319",
            TlsPlace::DotNet4Wow6432 => {
                r"HKLM\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319"
            }
        }
    }
}

/// One DWORD read from a [`TlsPlace`] (`Enabled`, `DisabledByDefault`,
/// `SystemDefaultTlsVersions`, `SchUseStrongCrypto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsValue {
    pub place: TlsPlace,
    pub name: String,
    pub value: u64,
}

/// The SCHANNEL and .NET TLS registry evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsRegistry {
    /// The keys read, with or without the values: a value absent from a key
    /// that was read is at its Windows/.NET default.
    pub keys: Vec<Fact<TlsPlace>>,
    pub values: Vec<Fact<TlsValue>>,
}

impl TlsRegistry {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The last value `name` read at `place` (a later file overrides an earlier one).
    pub fn value(&self, place: TlsPlace, name: &str) -> Option<&Fact<TlsValue>> {
        self.values
            .iter()
            .rev()
            .find(|v| v.value.place == place && v.value.name.eq_ignore_ascii_case(name))
    }

    pub fn read(&self, place: TlsPlace) -> bool {
        self.keys.iter().any(|k| k.value == place)
    }
}

/// One row of `Get-Mitigations.ps1`: a mitigation and its status
/// (`Applied`, `Blocked`, `Failed`, …, as printed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MitigationStatus {
    pub id: String,
    pub status: String,
}

/// What `collect`'s manifest says about the collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CollectionFact {
    /// The host collect ran on.
    pub host: Option<String>,
    /// RFC 3339, UTC, as written.
    pub collected_at: Option<String>,
    pub items: usize,
    /// Names of the items that ended with an error.
    pub failed_items: Vec<String>,
    /// Evidence inside the bundle that names another server (short names,
    /// with where): a bundle comes from one host, so these are flagged,
    /// never split off into a server of their own.
    pub other_servers: Vec<Cite>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WinHttpSetting {
    pub view: WinHttpView,
    /// `None` = direct access (no proxy).
    pub proxy: Option<String>,
    pub bypass: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceFact {
    pub status: ServiceStatus,
    /// When the evidence shows it (the default `Get-Service` table does not).
    pub start_type: Option<eems_parsers::exchange::StartType>,
}

/// The mitigation service's state as the evidence shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceStatus {
    /// `Get-Service` / `sc` answered that it does not exist.
    NotInstalled,
    /// Listed without a state.
    Unknown,
    State(eems_parsers::exchange::ServiceState),
}

impl ServiceStatus {
    /// The word in citations and findings: `running`, `not-installed`.
    pub fn word(&self) -> std::borrow::Cow<'static, str> {
        match self {
            ServiceStatus::NotInstalled => "not-installed".into(),
            ServiceStatus::Unknown => "unknown".into(),
            ServiceStatus::State(s) => s.word(),
        }
    }
}

/// A value the evidence printed but eems-doctor did not use because it looked
/// mangled (Health Checker's proxy lines, CSS-Exchange #534/#1121/#1875):
/// checks that needed it say so and give the command that shows the real value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Untrusted {
    /// What the value would have been evidence of.
    pub need: crate::check::Need,
    /// The label as printed (`Http Proxy Setting`).
    pub label: String,
    /// Why it looked mangled.
    pub reason: String,
    /// The command that shows the real value.
    pub command: String,
}

/// How often something happened, with the first and last occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrences {
    pub count: u64,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub first: Cite,
    pub last: Cite,
}

impl Occurrences {
    pub fn new(time: Option<DateTime<Utc>>, cite: Cite) -> Self {
        Occurrences {
            count: 1,
            first_time: time,
            last_time: time,
            first: cite.clone(),
            last: cite,
        }
    }

    pub fn add(&mut self, time: Option<DateTime<Utc>>, cite: Cite) {
        self.count += 1;
        match (time, self.first_time) {
            (Some(t), Some(f)) if t < f => {
                self.first_time = Some(t);
                self.first = cite.clone();
            }
            (Some(t), None) => {
                self.first_time = Some(t);
                self.first = cite.clone();
            }
            _ => {}
        }
        match (time, self.last_time) {
            (Some(t), Some(l)) if t < l => {}
            (None, Some(_)) => {}
            _ => {
                self.last_time = time.or(self.last_time);
                self.last = cite;
            }
        }
    }

    /// Add `other` (occurrences seen after these) with the result `add`ing
    /// each of its occurrences in order would give: the earliest time keeps
    /// its first citation, the latest (or, untimed throughout, the last) its
    /// last one.
    pub fn merge(&mut self, other: Occurrences) {
        self.count += other.count;
        if let Some(t) = other.first_time
            && self.first_time.is_none_or(|f| t < f)
        {
            self.first_time = Some(t);
            self.first = other.first;
        }
        match (other.last_time, self.last_time) {
            (Some(t), Some(l)) if t < l => {}
            (None, Some(_)) => {}
            (t, l) => {
                self.last_time = t.or(l);
                self.last = other.last;
            }
        }
    }

    /// A finding citation: the first occurrence, with the count and time span.
    pub fn to_evidence(&self) -> crate::finding::Evidence {
        let mut e = self.first.to_evidence();
        if self.count > 1 {
            e.count = Some(self.count);
            e.first_seen = self
                .first_time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            e.last_seen = self
                .last_time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        e
    }
}

/// What the MitigationService log says, reduced to what the checks need.
/// Built by streaming: memory does not grow with the number of rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogTimeline {
    pub rows: u64,
    /// Fetch attempts (`Fetching mitigations from …`).
    pub fetch_attempts: u64,
    pub fetch_successes: u64,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    /// Longest interval between two consecutive fetch attempts, in minutes.
    pub longest_gap_minutes: Option<i64>,
    pub longest_gap_end: Option<DateTime<Utc>>,
    /// Failures by cause (log `TLS … validation failed`, `untrusted endpoint`, exception details).
    pub causes: BTreeMap<Cause, Occurrences>,
    /// `Using Proxy http://…/ To Fetch Configurations`.
    pub proxy_used: Option<Fact<String>>,
    /// `#Version:` of the log header: the Exchange build that wrote it (exact).
    pub software_version: Option<Fact<String>>,
    /// Local (zone-unknown) timestamps were seen: gaps and staleness are approximate.
    pub local_times: bool,
}

/// Everything known about one server.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerEvidence {
    /// Short server name (domain part removed), when any input names it.
    pub server: Option<String>,
    pub inputs: Vec<InputSummary>,
    /// The most precise build known (ExSetup/log `#Version` beat AdminDisplayVersion).
    pub build: Option<Fact<BuildFact>>,
    pub is_edge: Option<Fact<bool>>,
    pub org_mitigations_enabled: Option<Fact<bool>>,
    pub server_mitigations_enabled: Option<Fact<bool>>,
    pub mitigations_applied: Option<Fact<Vec<String>>>,
    pub mitigations_blocked: Option<Fact<Vec<String>>>,
    /// `Some(fact with None)` = the evidence shows InternetWebProxy is not set.
    pub exchange_proxy: Option<Fact<Option<String>>>,
    pub exchange_bypass: Option<Fact<Vec<String>>>,
    pub winhttp: Vec<Fact<WinHttpSetting>>,
    pub disable_root_auto_update: Option<Fact<u64>>,
    pub chain_engine_options: Option<Fact<u64>>,
    /// SCHANNEL TLS 1.2 and .NET 4 TLS registry values.
    #[serde(skip_serializing_if = "TlsRegistry::is_empty")]
    pub tls_registry: TlsRegistry,
    pub service: Option<Fact<ServiceFact>>,
    pub log: Option<LogTimeline>,
    /// Mitigation-service events (1008 …) by classified cause.
    pub event_causes: BTreeMap<Cause, Occurrences>,
    pub events_seen: u64,
    /// Event exports read (an export with no matching event still counts).
    pub event_exports: u64,
    /// Watson (4999) crash reports naming the mitigation service.
    pub watson: Option<Occurrences>,
    /// `Test-MitigationServiceConnectivity.ps1` said Success (true) or Failed (false).
    pub connectivity_test: Option<Fact<bool>>,
    /// `Get-Mitigations.ps1` printed "Connection with Mitigation Endpoint was not successful".
    pub get_mitigations_warning: Option<Cite>,
    /// HealthChecker's EEMS block, when pasted.
    pub healthchecker_pattern_reachable: Option<Fact<bool>>,
    /// What OCS answered an admin's own `Invoke-WebRequest`/`Invoke-RestMethod`.
    pub ocs_response: Option<Fact<eems_parsers::ocs_response::OcsResponse>>,
    /// Each mitigation's status as `Get-Mitigations.ps1` listed it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mitigation_statuses: Vec<Fact<MitigationStatus>>,
    /// MitigationService log rows of a failed apply (`ApplyMitigation` at
    /// level Error), the first few distinct messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mitigation_apply_errors: Vec<Fact<String>>,
    /// Reading the organization configuration failed (Health Checker's
    /// "Failed to query config", or collect's `get-organizationconfig` item).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub org_config_unreadable: Vec<Fact<String>>,
    /// The bundle was written by `eems-doctor collect` (its `manifest.json`).
    pub collection: Option<Fact<CollectionFact>>,
    /// Values read but not used because they looked mangled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untrusted: Vec<Fact<Untrusted>>,
    /// Live probe results (`eems-doctor probe`, or `probe-results.json` in a bundle).
    pub probes: Option<eems_parsers::probe_results::ProbeReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputSummary {
    pub path: InputSource,
    /// Serialised as its kebab-case name (`mitigation-log`, …).
    pub kind: eems_parsers::Kind,
    pub status: eems_parsers::Status,
    /// Why the file was not read, or only in part (skipped: not a regular
    /// file, a symbolic link leaving the folder or looping; cut by a size
    /// budget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where an input came from: a file (its path as given), or this run's own
/// live probe, which reports show as `(live probe)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InputSource {
    File(String),
    LiveProbe,
}

impl InputSource {
    pub fn as_str(&self) -> &str {
        match self {
            InputSource::File(p) => p,
            InputSource::LiveProbe => "(live probe)",
        }
    }
}

impl std::fmt::Display for InputSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InputSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl ServerEvidence {
    /// All causes seen, in the log and in events, with their occurrences.
    pub fn cause(&self, c: Cause) -> Vec<&Occurrences> {
        let mut v = Vec::new();
        if let Some(o) = self.log.as_ref().and_then(|l| l.causes.get(&c)) {
            v.push(o);
        }
        if let Some(o) = self.event_causes.get(&c) {
            v.push(o);
        }
        v
    }

    pub fn has_cause(&self, c: Cause) -> bool {
        !self.cause(c).is_empty()
    }

    /// Evidence citations for a cause (log and events), capped.
    pub fn cause_evidence(&self, c: Cause) -> Vec<crate::finding::Evidence> {
        self.cause(c).iter().map(|o| o.to_evidence()).collect()
    }

    /// The server name to put in commands (`<server>` when unknown).
    pub fn server_or_placeholder(&self) -> &str {
        self.server.as_deref().unwrap_or("<server>")
    }

    /// Any WinHTTP setting with a proxy.
    pub fn winhttp_proxy(&self) -> Option<&Fact<WinHttpSetting>> {
        self.winhttp.iter().find(|f| f.value.proxy.is_some())
    }

    pub fn has_winhttp_evidence(&self) -> bool {
        !self.winhttp.is_empty()
    }

    /// The values of `need` that were read but not used (they looked mangled).
    pub fn untrusted(&self, need: crate::check::Need) -> impl Iterator<Item = &Fact<Untrusted>> {
        self.untrusted.iter().filter(move |u| u.value.need == need)
    }

    /// A skip reason when the only value for `need` looked mangled: what was
    /// printed, why it was not used, and the command that shows the real value.
    pub fn untrusted_note(&self, need: crate::check::Need) -> Option<String> {
        self.untrusted(need).next().map(|u| {
            format!(
                "{} looked mangled and was not used ({}); run `{}` for the real value",
                u.cite.excerpt, u.value.reason, u.value.command
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_serialize_as_before_and_the_probe_is_cited_by_its_file() {
        let live = InputSummary {
            path: InputSource::LiveProbe,
            kind: eems_parsers::Kind::ProbeResults,
            status: eems_parsers::Status::Parsed,
            reason: None,
        };
        assert_eq!(
            serde_json::to_string(&live).unwrap(),
            r#"{"path":"(live probe)","kind":"probe-results","status":"parsed"}"#
        );
        let mut ev = ServerEvidence {
            inputs: vec![live],
            ..ServerEvidence::default()
        };
        assert_eq!(crate::probe::source(&ev), "probe");
        // A saved probe whose file name starts with `(` is still a file.
        ev.inputs.push(InputSummary {
            path: InputSource::File("(copy) probe-results.json".into()),
            kind: eems_parsers::Kind::ProbeResults,
            status: eems_parsers::Status::Partial,
            reason: None,
        });
        assert_eq!(crate::probe::source(&ev), "(copy) probe-results.json");
        let status = ServiceStatus::State(eems_parsers::exchange::ServiceState::StartPending);
        assert_eq!(status.word(), "start-pending");
        assert_eq!(ServiceStatus::NotInstalled.word(), "not-installed");
    }
}
