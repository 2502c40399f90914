//! MitigationService log (`V15\Logging\MitigationService`, input-formats §1).
//!
//! Layout: optional, repeatable `#Software/#Version/#Log-type/#Date/#Fields`
//! header blocks (plus an optional bare copy of the field list), then CSV rows
//! `DateTime,ServerName,Operation,CustomData` whose last column is Exchange's
//! typed key/value notation (`S:LogLevel=…;S:Message=…;S:Source=…`). Only the
//! rows' operation + KV part is VERIFIED; the header and column names are
//! reconstructed, so columns are mapped by `#Fields` names when known and by
//! heuristics otherwise.
//!
//! Two entry points share one per-line core ([`scan`]): [`parse`] over a
//! decoded [`Source`] (collects everything), and [`LogReader`], a streaming
//! reader over any `BufRead` whose memory does not grow with the file.

mod classify;
mod csv;
mod kv;
mod reader;
mod scan;
#[cfg(test)]
mod tests;

pub use classify::MessageKind;
pub use reader::{
    Entries, Entry, FieldView, Fields, HeaderView, LogReader, MAX_LINE, OwnedEntry, RecordView,
};

use crate::problem::{Parsed, Problem};
use crate::text::Source;
use crate::time::{self, Timestamp};
use serde::Serialize;

/// One `#Key: value` header line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub line: usize,
    /// `Software`, `Version`, `Log-type`, `Date`, `Fields` or whatever else follows `#`.
    pub key: String,
    pub value: String,
}

/// One item of the typed key/value column (`S:LogLevel=Error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvItem {
    /// Type prefix (`S`, `I32`, `Dbl`, `F`, …); `None` when the item has no `type:`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    pub key: String,
    /// Value with `''` undone; may contain ` : `, `/`, `;` and runs of spaces.
    pub value: String,
}

/// What a message says, with the values the checks need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MessageClass {
    Started,
    FetchingMitigations {
        url: String,
    },
    UsingProxy {
        /// The .NET `Uri` string as logged, e.g. `http://10.20.30.40:8080/`.
        proxy: String,
    },
    NoDiagnosticData,
    TlsValidationFailed,
    UntrustedEndpoint,
    FetchException {
        /// Text after `… fetching mitigations :`, trimmed.
        detail: String,
        /// The detail contains `This XML is not deemed safe to consume`.
        xml_not_safe: bool,
    },
    XmlNotSafe,
    FetchSucceeded {
        #[serde(skip_serializing_if = "Option::is_none")]
        count: Option<u32>,
    },
    MitigationAlreadyApplied {
        mitigation: String,
    },
    Other,
}

impl MessageClass {
    pub fn kind(&self) -> MessageKind {
        match self {
            MessageClass::Started => MessageKind::Started,
            MessageClass::FetchingMitigations { .. } => MessageKind::FetchingMitigations,
            MessageClass::UsingProxy { .. } => MessageKind::UsingProxy,
            MessageClass::NoDiagnosticData => MessageKind::NoDiagnosticData,
            MessageClass::TlsValidationFailed => MessageKind::TlsValidationFailed,
            MessageClass::UntrustedEndpoint => MessageKind::UntrustedEndpoint,
            MessageClass::FetchException { .. } => MessageKind::FetchException,
            MessageClass::XmlNotSafe => MessageKind::XmlNotSafe,
            MessageClass::FetchSucceeded { .. } => MessageKind::FetchSucceeded,
            MessageClass::MitigationAlreadyApplied { .. } => MessageKind::MitigationAlreadyApplied,
            MessageClass::Other => MessageKind::Other,
        }
    }

    /// The "XML is not deemed safe" failure, on its own or inside an exception.
    pub fn is_xml_not_safe(&self) -> bool {
        matches!(
            self,
            MessageClass::XmlNotSafe
                | MessageClass::FetchException {
                    xml_not_safe: true,
                    ..
                }
        )
    }
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    pub line: usize,
    /// `DateTime` column: UTC for `…Z`, local (maybe ambiguous) for locale dates;
    /// `None` for pasted rows without one.
    pub time: Option<Timestamp>,
    pub server: Option<String>,
    /// `FetchMitigation` (VERIFIED), `StartService`, `ApplyMitigation` (reconstructed), …
    pub operation: Option<String>,
    /// `LogLevel` item, as written (`Information`, `Warning`, `Error`).
    pub level: Option<String>,
    pub message: Option<String>,
    pub source: Option<String>,
    /// Every KV item, including unknown types and keys, in order.
    pub fields: Vec<KvItem>,
    pub class: MessageClass,
    /// Last line of a file still being written: the row is cut off.
    pub truncated: bool,
}

impl LogRecord {
    /// First KV item with this key (case-insensitive).
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key.eq_ignore_ascii_case(key))
            .map(|f| f.value.as_str())
    }

    pub fn is_error(&self) -> bool {
        self.level
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("Error"))
    }

    pub fn is_warning(&self) -> bool {
        self.level
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("Warning"))
    }
}

/// A whole MitigationService log (one file or several concatenated).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MitigationLog {
    /// Every `#` header line, in order (repeated blocks of concatenated files
    /// included). `#Software`, `#Log-type` and `#Fields` are read from here by
    /// [`MitigationLog::software`] & co. (kept out of the struct so the
    /// `Content` enum in lib.rs stays within clippy's variant-size limit).
    pub headers: Vec<Header>,
    /// Last `#Version:` value: the Exchange build that wrote the log (`15.02.1258.012`).
    pub software_version: Option<String>,
    /// Last `#Date:` value.
    pub header_date: Option<Timestamp>,
    pub records: Vec<LogRecord>,
    pub record_count: usize,
    /// Earliest and latest record time (by `Timestamp::approx_utc`; files can be out of order).
    pub first_time: Option<Timestamp>,
    pub last_time: Option<Timestamp>,
    pub error_count: usize,
    pub warning_count: usize,
    /// Distinct server names, in order of appearance.
    pub servers: Vec<String>,
    /// The last record is cut off.
    pub truncated: bool,
}

impl MitigationLog {
    /// Value of the last `#<key>:` header (case-insensitive key).
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|h| h.key.eq_ignore_ascii_case(key))
            .map(|h| h.value.as_str())
    }

    /// Last `#Software:` value.
    pub fn software(&self) -> Option<&str> {
        self.header("Software")
    }

    /// Last `#Log-type:` value.
    pub fn log_type(&self) -> Option<&str> {
        self.header("Log-type")
    }

    /// Column names of the last `#Fields:` line.
    pub fn field_names(&self) -> Vec<&str> {
        self.header("Fields")
            .map(|f| f.split(',').map(str::trim).collect())
            .unwrap_or_default()
    }

    /// Records of one message kind.
    pub fn records_of(&self, kind: MessageKind) -> impl Iterator<Item = &LogRecord> + '_ {
        self.records.iter().filter(move |r| r.class.kind() == kind)
    }
}

/// Accumulates entries into a [`MitigationLog`] (shared by [`parse`] and [`read_log`]).
#[derive(Debug, Default)]
struct Builder {
    log: MitigationLog,
    problems: Vec<Problem>,
    problems_dropped: usize,
    servers_dropped: bool,
}

/// Problems listed per log; past it they are counted (a binary file read as
/// a log has one per line).
const MAX_PROBLEMS: usize = 1000;
/// Distinct `ServerName` values listed per log.
const MAX_SERVERS: usize = 1000;
/// Header lines kept per log: a concatenation of many days repeats the
/// five-line block per file; past this only the values are updated.
const MAX_HEADERS: usize = 10_000;

impl Builder {
    fn header(&mut self, h: Header) {
        if h.key.eq_ignore_ascii_case("Version") {
            self.log.software_version = Some(h.value.clone());
        } else if h.key.eq_ignore_ascii_case("Date") {
            self.log.header_date = time::parse_timestamp(&h.value);
        }
        if self.log.headers.len() < MAX_HEADERS {
            self.log.headers.push(h);
        }
    }

    fn record(&mut self, r: LogRecord) {
        self.count(
            r.time,
            r.is_error(),
            r.is_warning(),
            r.server.as_deref(),
            r.truncated,
        );
        self.log.records.push(r);
    }

    /// Everything a record adds to the summary, without keeping the record.
    fn count(
        &mut self,
        time: Option<Timestamp>,
        error: bool,
        warning: bool,
        server: Option<&str>,
        truncated: bool,
    ) {
        let log = &mut self.log;
        log.record_count += 1;
        if let Some(t) = time {
            if log
                .first_time
                .is_none_or(|f| t.approx_utc() < f.approx_utc())
            {
                log.first_time = Some(t);
            }
            if log
                .last_time
                .is_none_or(|l| t.approx_utc() >= l.approx_utc())
            {
                log.last_time = Some(t);
            }
        }
        log.error_count += usize::from(error);
        log.warning_count += usize::from(warning);
        if let Some(s) = server.filter(|s| !s.is_empty())
            && !log.servers.iter().any(|k| k == s)
        {
            // A log names one server, a concatenation a few; junk rows must
            // not grow the list with the file.
            if log.servers.len() < MAX_SERVERS {
                log.servers.push(s.to_owned());
            } else {
                self.servers_dropped = true;
            }
        }
        log.truncated = truncated;
    }

    fn problem(&mut self, p: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.problems_dropped += 1;
        }
    }

    fn add(&mut self, e: OwnedEntry) {
        match e {
            OwnedEntry::Header(h) => self.header(h),
            OwnedEntry::Record(r) => self.record(r),
            OwnedEntry::Problem(p) => self.problem(p),
        }
    }

    fn finish(mut self) -> Parsed<MitigationLog> {
        if self.problems_dropped > 0 {
            self.problems.push(Problem::whole(format!(
                "{} more problems not listed",
                self.problems_dropped
            )));
        }
        if self.servers_dropped {
            self.problems.push(Problem::whole(format!(
                "more than {MAX_SERVERS} distinct server names: the rest are not listed"
            )));
        }
        Parsed::with_problems(self.log, self.problems)
    }
}

/// The sniffer's recognizer: the log's `#` header, its CSV column line, or
/// the `S:Key=value` custom data of its rows.
pub fn looks_like_mitigation_log(head: &str) -> bool {
    head.contains("#Log-type: Mitigation")
        || head.contains("#Software: Microsoft Exchange")
        || head.contains("S:LogLevel=")
        || head.contains("S_LogLevel=")
        || head.contains("S:Message=")
        || head.lines().any(|l| {
            let l = l.trim_start_matches('\u{feff}');
            l.starts_with("DateTime,") && l.contains("CustomData")
        })
}

/// Parse a decoded MitigationService log (whole file or a pasted segment).
pub fn parse(src: Source<'_>) -> Parsed<MitigationLog> {
    let mut core = scan::LineParser::default();
    let mut b = Builder::default();
    let ends_with_newline = src.text.ends_with('\n');
    let mut lines = src.lines().peekable();
    while let Some((n, raw)) = lines.next() {
        let unterminated = lines.peek().is_none() && !ends_with_newline;
        let line = reader::clean_line(raw);
        let scanned = core.scan(line, unterminated);
        let (entry, problem) = reader::view(&core, line, n, scanned);
        if let Some(e) = entry {
            b.add(e.to_owned_entry());
        }
        if let Some(p) = problem {
            b.problems.push(p);
        }
    }
    b.finish()
}

/// Stream a log: its header, counts, times and servers are summarised (the
/// returned log has no `records`), and each record is handed to `on_record`
/// while it is borrowed from the reader's buffers. Memory is bounded by the
/// longest line, not by the file (issue 14). Also returns the number of
/// lines read.
pub fn summarize<R: std::io::BufRead>(
    reader: R,
    mut on_record: impl FnMut(&RecordView<'_>),
) -> (Parsed<MitigationLog>, usize) {
    let mut b = Builder::default();
    let mut r = LogReader::new(reader);
    while let Some(e) = r.next_entry() {
        match e {
            Entry::Header(h) => b.header(h.to_header()),
            Entry::Problem(p) => b.problem(p),
            Entry::Record(rec) => {
                let level = |want: &str| rec.level.is_some_and(|l| l.eq_ignore_ascii_case(want));
                b.count(
                    rec.time,
                    level("Error"),
                    level("Warning"),
                    rec.server,
                    rec.truncated,
                );
                on_record(&rec);
            }
        }
    }
    (b.finish(), r.lines_read())
}

/// Read a whole log from a byte stream with [`LogReader`] and collect it like [`parse`].
pub fn read_log<R: std::io::BufRead>(reader: R) -> Parsed<MitigationLog> {
    let mut b = Builder::default();
    for e in LogReader::new(reader).into_entries() {
        b.add(e);
    }
    b.finish()
}
