//! Event exports: event 1008 of `MSExchange Mitigation Service` (and its
//! siblings) and Watson reports (4999) about `M.E.Mitigation.Service`, in every
//! shape an admin hands them over: Event Viewer "Copy details as text",
//! `wevtutil /f:text` and `/f:xml`, Event XML, `Get-WinEvent | fl`,
//! `Get-EventLog | fl`, Event Viewer CSV/TSV, `Export-Csv`, forum pastes and
//! binary `.evtx`.
//!
//! [`parse`] detects the text format itself ([`detect_format`]); every reader
//! produces [`RawEvent`]s that [`Collector`] finishes: unrelated events are only
//! counted, kept ones get their exception chain parsed.

mod csv;
mod evtx;
mod list;
pub mod stream;
mod text;
mod xml;

#[cfg(test)]
mod tests;

use crate::exception::{ExceptionChain, parse_chain};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use crate::time::Timestamp;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub use evtx::{parse_evtx, stream_evtx};

/// The shape an event export came in. Serialised kebab-case (`eventviewer-text`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventFormat {
    /// Event Viewer "Copy → Copy details as text" (padded labels, optional `Event Xml:`).
    EventviewerText,
    /// `wevtutil qe … /f:text` (`Event[N]:` blocks).
    WevtutilText,
    /// `wevtutil /f:xml`, `/f:RenderedXml`, `ToXml()`, Event Viewer "Save as XML".
    EventXml,
    /// `Get-WinEvent | Format-List` (PowerShell 5.1 or 7).
    GetWineventList,
    /// `Get-EventLog | Format-List`.
    GetEventlogList,
    /// Event Viewer "Save All Events As… CSV".
    EventviewerCsv,
    /// Event Viewer "Save All Events As… Text (tab delimited)".
    EventviewerTsv,
    /// `Get-WinEvent/Get-EventLog | Export-Csv`.
    ExportCsv,
    /// Forum/Q&A/blog pastes: doubled lines, unpadded labels, one flattened line, `Error, Source`.
    ForumPaste,
    /// Binary `.evtx`.
    Evtx,
}

impl EventFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::EventviewerText => "eventviewer-text",
            EventFormat::WevtutilText => "wevtutil-text",
            EventFormat::EventXml => "event-xml",
            EventFormat::GetWineventList => "get-winevent-list",
            EventFormat::GetEventlogList => "get-eventlog-list",
            EventFormat::EventviewerCsv => "eventviewer-csv",
            EventFormat::EventviewerTsv => "eventviewer-tsv",
            EventFormat::ExportCsv => "export-csv",
            EventFormat::ForumPaste => "forum-paste",
            EventFormat::Evtx => "evtx",
        }
    }
}

/// Normalised event level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Critical,
    Error,
    Warning,
    Information,
    Verbose,
    AuditSuccess,
    AuditFailure,
    Unknown,
}

impl Level {
    /// Level names as exported in en/de/fr/es UIs, `EntryType` names and XML numbers.
    pub fn from_raw(raw: &str) -> Level {
        let l = raw.trim().to_lowercase();
        match l.as_str() {
            "1" | "critical" | "kritisch" | "critique" | "crítico" | "critico" => Level::Critical,
            "2" | "error" | "fehler" | "erreur" | "errore" => Level::Error,
            "3" | "warning" | "warnung" | "avertissement" | "advertencia" | "avviso" => {
                Level::Warning
            }
            "0" | "4" | "information" | "informationen" | "informational" | "info"
            | "informations" | "información" | "informazioni" => Level::Information,
            "5" | "verbose" | "ausführlich" | "détaillé" | "commentaires" => Level::Verbose,
            "successaudit" | "audit success" | "überwachung erfolgreich" => Level::AuditSuccess,
            "failureaudit" | "audit failure" | "überwachung gescheitert" => Level::AuditFailure,
            _ => Level::Unknown,
        }
    }
}

/// Why an event was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeepReason {
    /// Provider `MSExchange Mitigation Service`.
    MitigationService,
    /// Watson report (4999) naming `M.E.Mitigation.Service` / `MSExchangeMitigation`.
    WatsonReport,
    /// No provider in the export, but the message is an EEMS message.
    EemsMessage,
}

/// A Watson report event (`Watson report about to be sent for process id: …, with parameters: …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatsonReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_id: Option<u32>,
    /// The comma-separated parameters, trimmed.
    pub parameters: Vec<String>,
    /// The parameter that names an exception type, e.g. `System.OutOfMemoryException`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception_type: Option<String>,
}

/// One kept event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub format: EventFormat,
    pub provider: Option<String>,
    pub event_id: Option<u32>,
    pub level: Level,
    /// The level as exported (`Error`, `Fehler`, `2`, `Error` from `EntryType`).
    pub level_raw: Option<String>,
    /// UTC from XML `SystemTime` when present; otherwise the exported local time.
    pub time: Option<Timestamp>,
    /// The local time shown by the export when `time` came from the XML block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displayed_time: Option<Timestamp>,
    pub computer: Option<String>,
    pub record_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Message text, wrapped lines joined, entities decoded, real line breaks kept.
    pub message: String,
    pub exception: ExceptionChain,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watson: Option<WatsonReport>,
    pub kept_because: KeepReason,
    /// 1-based first and last line in the file (record ordinal for `.evtx`).
    pub line: usize,
    pub last_line: usize,
}

/// Events that were read but are not about EEMS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Skipped {
    pub total: usize,
    /// Provider → count; `(unknown)` when the export did not carry one.
    pub by_provider: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EventExport {
    /// The detected export format (`None` when nothing event-like was found).
    pub format: Option<EventFormat>,
    /// Kept events, in file order.
    pub events: Vec<Event>,
    pub skipped: Skipped,
    /// Kept events of an export that was streamed (issue 14): they went to
    /// the reader's caller and are counted here, not listed in `events`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed_events: Option<u64>,
}

/// An event as a reader saw it, before filtering.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawEvent {
    pub provider: Option<String>,
    pub event_id: Option<u32>,
    pub level_raw: Option<String>,
    pub level: Option<Level>,
    pub time: Option<Timestamp>,
    pub displayed_time: Option<Timestamp>,
    pub computer: Option<String>,
    pub record_id: Option<u64>,
    pub log_name: Option<String>,
    pub task: Option<String>,
    pub message: String,
    pub line: usize,
    pub last_line: usize,
}

impl RawEvent {
    fn is_empty(&self) -> bool {
        self.provider.is_none()
            && self.event_id.is_none()
            && self.time.is_none()
            && self.message.trim().is_empty()
    }
}

/// Filters raw events into an [`EventExport`].
pub(crate) struct Collector {
    pub export: EventExport,
    pub problems: Vec<Problem>,
    /// The last raw message with its normalised text and exception chain:
    /// an export repeats the same hourly failure hundreds of times in a row,
    /// and parsing the chain again each time was most of the parse cost.
    last: Option<(String, String, crate::exception::ExceptionChain)>,
}

impl Collector {
    pub fn new(format: EventFormat) -> Self {
        Collector {
            export: EventExport {
                format: Some(format),
                ..EventExport::default()
            },
            problems: Vec::new(),
            last: None,
        }
    }

    pub fn push(&mut self, format: EventFormat, raw: RawEvent) {
        if raw.is_empty() {
            return;
        }
        let provider = raw
            .provider
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let Some(reason) = keep_reason(provider, raw.event_id, &raw.message) else {
            self.export.skipped.total += 1;
            let key = provider.unwrap_or("(unknown)").to_owned();
            *self.export.skipped.by_provider.entry(key).or_insert(0) += 1;
            return;
        };
        let (message, exception) = match &self.last {
            Some((m, norm, chain)) if *m == raw.message => (norm.clone(), chain.clone()),
            _ => {
                let message = normalize_message(&raw.message);
                let exception = parse_chain(&message);
                self.last = Some((raw.message.clone(), message.clone(), exception.clone()));
                (message, exception)
            }
        };
        let watson = (reason == KeepReason::WatsonReport)
            .then(|| watson(&message))
            .flatten();
        let level = raw.level.unwrap_or_else(|| {
            raw.level_raw
                .as_deref()
                .map_or(Level::Unknown, Level::from_raw)
        });
        self.export.events.push(Event {
            format,
            provider: provider.map(str::to_owned),
            event_id: raw.event_id,
            level,
            level_raw: raw.level_raw,
            time: raw.time,
            displayed_time: raw.displayed_time,
            computer: raw.computer,
            record_id: raw.record_id,
            log_name: raw.log_name,
            task: raw.task,
            message,
            exception,
            watson,
            kept_because: reason,
            line: raw.line,
            last_line: raw.last_line.max(raw.line),
        });
    }

    pub fn finish(self) -> Parsed<EventExport> {
        Parsed::with_problems(self.export, self.problems)
    }
}

/// The provider of EEMS events, with or without spaces.
pub fn is_mitigation_provider(provider: &str) -> bool {
    let p: String = provider
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    p == "msexchangemitigationservice" || p == "msexchangemitigation"
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

/// A message that names the mitigation service process (Watson parameters).
fn names_mitigation_process(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("m.e.mitigation.service") || m.contains("msexchangemitigation")
}

/// Text only EEMS writes (used when an export does not carry the provider).
pub fn is_eems_message(message: &str) -> bool {
    let m = message.to_lowercase();
    [
        "exception encountered while fetching mitigations",
        "fetching mitigations from",
        "getexchangemitigations",
        "msexchangemitigation",
        "m.e.mitigation.service",
        "msexchange mitigation service",
        "connection attempted against untrusted endpoint",
        "not deemed safe to consume",
    ]
    .iter()
    .any(|n| m.contains(n))
}

fn keep_reason(provider: Option<&str>, id: Option<u32>, message: &str) -> Option<KeepReason> {
    if provider.is_some_and(is_mitigation_provider) {
        return Some(KeepReason::MitigationService);
    }
    let watsonish = id == Some(4999) || (id.is_none() && contains_ci(message, "watson report"));
    if watsonish && names_mitigation_process(message) {
        return Some(KeepReason::WatsonReport);
    }
    if provider.is_none() && is_eems_message(message) {
        return Some(KeepReason::EemsMessage);
    }
    None
}

/// `Watson report about to be sent for process id: 1234, with parameters: a, b, …`.
fn watson(message: &str) -> Option<WatsonReport> {
    let lower = message.to_lowercase();
    let pid = lower.find("process id:").and_then(|i| {
        let rest = message.get(i + "process id:".len()..)?;
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    });
    let parameters: Vec<String> = lower
        .find("with parameters:")
        .and_then(|i| message.get(i + "with parameters:".len()..))
        .and_then(|r| r.lines().next())
        .map(|line| {
            line.trim()
                .trim_end_matches('.')
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if pid.is_none() && parameters.is_empty() {
        return None;
    }
    let exception_type = parameters
        .iter()
        .find(|p| p.contains('.') && p.ends_with("Exception") && !p.contains(' '))
        .cloned();
    Some(WatsonReport {
        process_id: pid,
        parameters,
        exception_type,
    })
}

/// CRLF/CR → LF, trailing whitespace per line and trailing blank lines removed.
fn normalize_message(m: &str) -> String {
    let m = if m.contains('\r') {
        Cow::Owned(m.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(m)
    };
    let mut out = String::with_capacity(m.len());
    for line in m.split('\n') {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let trimmed = out.trim_end().trim_start_matches('\n');
    trimmed.to_owned()
}

/// Decode XML entities (`&lt; &gt; &amp; &quot; &apos; &#NN; &#xHH;`); unknown
/// ones are kept verbatim.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        let semi = after.find(';').filter(|&n| n <= 10);
        let decoded = semi.and_then(|n| {
            let name = after.get(..n)?;
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, n))
        });
        match decoded {
            Some((c, n)) => {
                out.push(c);
                rest = after.get(n + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// File line of a byte offset, via one [`LineMap`](crate::text::LineMap) per
/// input (`Source::line_at` rescans from the start, quadratic over many events).
pub(crate) struct Lines<'a> {
    src: Source<'a>,
    map: crate::text::LineMap,
}

impl<'a> Lines<'a> {
    pub fn new(src: Source<'a>) -> Self {
        Lines {
            src,
            map: crate::text::LineMap::new(src.text),
        }
    }

    pub fn at(&self, offset: usize) -> usize {
        let offset = offset.min(self.src.text.len());
        self.src.first_line + self.map.line_of(offset) - 1
    }
}

/// Parse an event export in any text format.
pub fn parse(src: Source<'_>) -> Parsed<EventExport> {
    parse_as(src, detect_format(src.text))
}

/// Parse an event export known to be in `format` (`None`: read as a paste).
fn parse_as(src: Source<'_>, format: Option<EventFormat>) -> Parsed<EventExport> {
    match format {
        Some(EventFormat::EventXml) => xml::parse(src),
        Some(f @ (EventFormat::EventviewerText | EventFormat::WevtutilText)) => text::parse(src, f),
        Some(EventFormat::ForumPaste) => text::parse_paste(src),
        Some(f @ (EventFormat::GetWineventList | EventFormat::GetEventlogList)) => {
            list::parse(src, f)
        }
        Some(f @ (EventFormat::EventviewerCsv | EventFormat::EventviewerTsv)) => {
            csv::parse_eventviewer(src, f)
        }
        Some(EventFormat::ExportCsv) => csv::parse_export_csv(src),
        Some(EventFormat::Evtx) | None => {
            let mut p = text::parse_paste(src);
            if p.value.events.is_empty() && p.value.skipped.total == 0 {
                p.value.format = None;
                p.problems
                    .push(Problem::whole("no event export format recognised"));
            }
            p
        }
    }
}

/// The sniffer's recognizer: a known export format (which includes the
/// service's own event text pasted without any header), or a Watson report
/// naming the service's process.
pub fn looks_like_event_export(head: &str) -> bool {
    detect_format(head).is_some()
        || (head.to_lowercase().contains("m.e.mitigation.service") && head.contains("4999"))
}

/// How many leading lines the sniffer looks at.
const SNIFF_LINES: usize = 200;

/// Recognise an event export's format from its text (the sniffer uses this).
pub fn detect_format(text: &str) -> Option<EventFormat> {
    let text = text.trim_start_matches('\u{feff}');
    let head: Vec<&str> = text
        .split('\n')
        .take(SNIFF_LINES)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let first = head.iter().map(|l| l.trim()).find(|l| !l.is_empty())?;

    if first.starts_with('<') && text.contains("<Event") {
        return Some(EventFormat::EventXml);
    }
    if head.iter().any(|l| text::is_wevtutil_marker(l.trim())) {
        return Some(EventFormat::WevtutilText);
    }
    if first.starts_with("#TYPE") || csv::is_export_csv_header(first) {
        return Some(EventFormat::ExportCsv);
    }
    if csv::is_eventviewer_header(first, ',') {
        return Some(EventFormat::EventviewerCsv);
    }
    if csv::is_eventviewer_header(first, '\t') {
        return Some(EventFormat::EventviewerTsv);
    }
    if let Some(f) = list::detect(&head) {
        return Some(f);
    }
    if let Some(f) = text::detect(&head, text) {
        return Some(f);
    }
    // XML after a pasted prompt line.
    head.iter()
        .any(|l| is_xml_event_line(l))
        .then_some(EventFormat::EventXml)
}

/// The start of event XML, also after a pasted prompt line.
pub(crate) fn is_xml_event_line(l: &str) -> bool {
    let t = l.trim_start();
    t.starts_with("<Event ") || t.starts_with("<Events>") || t.starts_with("<?xml")
}
