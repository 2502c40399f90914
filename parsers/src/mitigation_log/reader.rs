//! Streaming reader: one entry at a time from any `BufRead`, borrowing from
//! buffers it reuses, so memory stays flat however large the log is.

use super::classify::MessageKind;
use super::scan::{Bufs, KvSpan, LineParser, Loc, Scanned};
use super::{Header, KvItem, LogRecord, MessageClass};
use crate::problem::Problem;
use crate::time::Timestamp;
use serde::Serialize;
use std::io::{self, BufRead};

/// Longest line kept (1 MiB). Real rows are a few hundred bytes; a longer
/// "line" is binary junk or a file without line ends, and must not make the
/// reader's buffer grow with the file.
pub const MAX_LINE: usize = 1 << 20;

/// A `#Key: value` line, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderView<'a> {
    pub line: usize,
    pub key: &'a str,
    pub value: &'a str,
}

impl HeaderView<'_> {
    pub fn to_header(&self) -> Header {
        Header {
            line: self.line,
            key: self.key.to_owned(),
            value: self.value.to_owned(),
        }
    }
}

/// One KV item, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldView<'a> {
    pub ty: Option<&'a str>,
    pub key: &'a str,
    pub value: &'a str,
}

/// The KV items of a [`RecordView`].
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    spans: &'a [KvSpan],
    bufs: Bufs<'a>,
}

impl<'a> Fields<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = FieldView<'a>> + 'a {
        let bufs = self.bufs;
        self.spans.iter().map(move |s| FieldView {
            ty: s.ty.map(|t| bufs.get(t)),
            key: bufs.get(s.key),
            value: bufs.get(s.value),
        })
    }

    /// First item with this key (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.iter()
            .find(|f| f.key.eq_ignore_ascii_case(key))
            .map(|f| f.value)
    }
}

/// One data row, borrowed from the reader's buffers (valid until the next call).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub line: usize,
    pub time: Option<Timestamp>,
    pub server: Option<&'a str>,
    pub operation: Option<&'a str>,
    pub level: Option<&'a str>,
    pub message: Option<&'a str>,
    pub source: Option<&'a str>,
    pub kind: MessageKind,
    /// The class's value: url, proxy, exception detail or mitigation id.
    pub class_arg: Option<&'a str>,
    /// `This XML is not deemed safe to consume`, alone or inside an exception.
    pub xml_not_safe: bool,
    /// `Mitigations count: N` of a success message.
    pub mitigations_count: Option<u32>,
    pub truncated: bool,
    pub fields: Fields<'a>,
}

impl RecordView<'_> {
    pub fn class(&self) -> MessageClass {
        let arg = || self.class_arg.unwrap_or_default().to_owned();
        match self.kind {
            MessageKind::Started => MessageClass::Started,
            MessageKind::FetchingMitigations => MessageClass::FetchingMitigations { url: arg() },
            MessageKind::UsingProxy => MessageClass::UsingProxy { proxy: arg() },
            MessageKind::NoDiagnosticData => MessageClass::NoDiagnosticData,
            MessageKind::TlsValidationFailed => MessageClass::TlsValidationFailed,
            MessageKind::UntrustedEndpoint => MessageClass::UntrustedEndpoint,
            MessageKind::FetchException => MessageClass::FetchException {
                detail: arg(),
                xml_not_safe: self.xml_not_safe,
            },
            MessageKind::XmlNotSafe => MessageClass::XmlNotSafe,
            MessageKind::FetchSucceeded => MessageClass::FetchSucceeded {
                count: self.mitigations_count,
            },
            MessageKind::MitigationAlreadyApplied => {
                MessageClass::MitigationAlreadyApplied { mitigation: arg() }
            }
            MessageKind::Other => MessageClass::Other,
        }
    }

    pub fn to_record(&self) -> LogRecord {
        let own = |s: Option<&str>| s.map(str::to_owned);
        LogRecord {
            line: self.line,
            time: self.time,
            server: own(self.server),
            operation: own(self.operation),
            level: own(self.level),
            message: own(self.message),
            source: own(self.source),
            fields: self
                .fields
                .iter()
                .map(|f| KvItem {
                    ty: own(f.ty),
                    key: f.key.to_owned(),
                    value: f.value.to_owned(),
                })
                .collect(),
            class: self.class(),
            truncated: self.truncated,
        }
    }
}

/// What the reader found next.
#[derive(Debug, Clone)]
pub enum Entry<'a> {
    Header(HeaderView<'a>),
    Record(RecordView<'a>),
    Problem(Problem),
}

impl Entry<'_> {
    pub fn to_owned_entry(&self) -> OwnedEntry {
        match self {
            Entry::Header(h) => OwnedEntry::Header(h.to_header()),
            Entry::Record(r) => OwnedEntry::Record(r.to_record()),
            Entry::Problem(p) => OwnedEntry::Problem(p.clone()),
        }
    }
}

/// [`Entry`] with owned data, for the [`Entries`] iterator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "entry", rename_all = "kebab-case")]
pub enum OwnedEntry {
    Header(Header),
    Record(LogRecord),
    Problem(Problem),
}

/// Drop the line end and a BOM (first line, or a second file's BOM after a `cat`).
pub(super) fn clean_line(raw: &str) -> &str {
    let s = raw.strip_suffix('\n').unwrap_or(raw);
    let s = s.strip_suffix('\r').unwrap_or(s);
    s.strip_prefix('\u{FEFF}').unwrap_or(s)
}

/// Turn a scan into an entry (plus a problem that goes with a record).
pub(super) fn view<'a>(
    core: &'a LineParser,
    line: &'a str,
    n: usize,
    s: Scanned,
) -> (Option<Entry<'a>>, Option<Problem>) {
    let bufs = Bufs {
        line,
        csv: &core.csv,
        val: &core.val,
    };
    let get = |l: Option<Loc>| l.map(|l| bufs.get(l));
    match s {
        Scanned::Skip => (None, None),
        Scanned::Problem(msg) => (Some(Entry::Problem(Problem::at(n, msg))), None),
        Scanned::Header { key, value } => (
            Some(Entry::Header(HeaderView {
                line: n,
                key: bufs.get(key),
                value: bufs.get(value),
            })),
            None,
        ),
        Scanned::Record(r) => (
            Some(Entry::Record(RecordView {
                line: n,
                time: r.time,
                server: get(r.server),
                operation: get(r.operation),
                level: get(r.level),
                message: get(r.message),
                source: get(r.source),
                kind: r.kind,
                class_arg: get(r.arg),
                xml_not_safe: r.xml_not_safe,
                mitigations_count: r.count,
                truncated: r.truncated,
                fields: Fields {
                    spans: &core.kv,
                    bufs,
                },
            })),
            r.problem.map(|m| Problem::at(n, m)),
        ),
    }
}

/// Streaming MitigationService log reader over UTF-8 (optional BOM, CRLF or
/// LF; invalid bytes replaced). Memory is bounded by the longest line (at most
/// [`MAX_LINE`]) plus one read chunk, not by the file.
///
/// ```
/// use eems_parsers::mitigation_log::{Entry, LogReader};
/// let log = b"2024-03-14T10:10:05.402Z,EX02,FetchMitigation,S:LogLevel=Warning;S:Message=TLS certificate or its chain validation failed\r\n";
/// let mut r = LogReader::new(&log[..]);
/// let mut warnings = 0;
/// while let Some(e) = r.next_entry() {
///     if let Entry::Record(rec) = e {
///         warnings += usize::from(rec.level == Some("Warning"));
///     }
/// }
/// assert_eq!(warnings, 1);
/// ```
#[derive(Debug)]
pub struct LogReader<R> {
    inner: R,
    /// Whole lines read ahead, validated as UTF-8 once per chunk (not per
    /// line); `text[pos..]` is still to be read. Entries borrow from it.
    text: String,
    pos: usize,
    /// Bytes after the last line end read: the start of the next line.
    tail: Vec<u8>,
    /// The line being read is past [`MAX_LINE`]: its bytes are dropped up to its end.
    overlong: bool,
    /// An overlong line ended before `text`'s lines.
    overlong_ended: bool,
    eof: bool,
    err: Option<io::Error>,
    line_no: usize,
    core: LineParser,
    pending: Option<Problem>,
    done: bool,
}

/// Bytes asked of the inner reader at a time: as large as `stream::read_log`'s
/// `BufReader`, so that its reads bypass that buffer instead of copying twice.
const CHUNK: usize = 256 * 1024;

/// The next physical line in [`LogReader::text`].
enum Next {
    Line {
        start: usize,
        end: usize,
        newline: bool,
    },
    Overlong,
    Error(io::Error),
    End,
}

impl<R: BufRead> LogReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_first_line(inner, 1)
    }

    /// Number lines from `first_line` (when the stream starts mid-file).
    pub fn with_first_line(inner: R, first_line: usize) -> Self {
        LogReader {
            inner,
            text: String::new(),
            pos: 0,
            tail: Vec::new(),
            overlong: false,
            overlong_ended: false,
            eof: false,
            err: None,
            line_no: first_line.saturating_sub(1),
            core: LineParser::default(),
            pending: None,
            done: false,
        }
    }

    /// Read the next chunk of whole lines into `text` (the unfinished last
    /// line waits in `tail`), reusing the allocations.
    fn refill(&mut self) {
        let mut raw = std::mem::take(&mut self.text).into_bytes();
        raw.clear();
        raw.append(&mut self.tail);
        self.pos = 0;
        let mut filled = raw.len();
        loop {
            if raw.len() < filled + CHUNK {
                raw.resize(filled + CHUNK, 0);
            }
            let n = match self.inner.read(raw.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.err = Some(e);
                    break;
                }
            };
            let nl = memchr::memchr(b'\n', raw.get(filled..filled + n).unwrap_or_default());
            if self.overlong {
                // `filled` is 0: the overlong line's bytes are not kept.
                if let Some(i) = nl {
                    raw.copy_within(i + 1..n, 0);
                    filled = n - i - 1;
                    self.overlong = false;
                    self.overlong_ended = true;
                    break;
                }
                continue;
            }
            filled += n;
            if nl.is_some() {
                break;
            }
            if filled > MAX_LINE {
                // One unfinished line past the cap: drop it up to its end.
                self.overlong = true;
                filled = 0;
            }
        }
        if self.eof && self.overlong {
            self.overlong = false;
            self.overlong_ended = true;
        }
        raw.truncate(filled);
        // At the end the last line needs no line end; after a read error its
        // unfinished bytes are lost, as the error is reported in its place.
        let cut = if self.eof {
            filled
        } else {
            memchr::memrchr(b'\n', &raw).map_or(0, |i| i + 1)
        };
        if self.err.is_none() {
            self.tail
                .extend_from_slice(raw.get(cut..).unwrap_or_default());
        }
        raw.truncate(cut);
        // A chunk ends at a line end, which never cuts a character, so
        // replacing its invalid bytes equals doing it line by line.
        self.text = match String::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
    }

    /// The next physical line, reading ahead when `text` is used up.
    fn next_line(&mut self) -> Next {
        loop {
            if std::mem::take(&mut self.overlong_ended) {
                return Next::Overlong;
            }
            let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
            if !rest.is_empty() {
                let (len, newline) = match memchr::memchr(b'\n', rest) {
                    Some(i) => (i + 1, true),
                    None => (rest.len(), false),
                };
                let start = self.pos;
                self.pos += len;
                if len > MAX_LINE {
                    return Next::Overlong;
                }
                return Next::Line {
                    start,
                    end: start + len,
                    newline,
                };
            }
            if let Some(e) = self.err.take() {
                return Next::Error(e);
            }
            if self.eof {
                return Next::End;
            }
            self.refill();
        }
    }

    /// The line at `start..end` of `text`, line end and BOM dropped, as a
    /// range of `text` (so that it can be borrowed again after the scan).
    fn clean_range(&self, start: usize, end: usize) -> (usize, usize) {
        let raw = self.text.get(start..end).unwrap_or_default();
        let line = clean_line(raw);
        let from = start + (line.as_ptr() as usize - raw.as_ptr() as usize);
        (from, from + line.len())
    }

    /// The next header, record or problem, skipping blank lines and bare
    /// field lists; `None` at the end. The entry borrows the reader.
    pub fn next_entry(&mut self) -> Option<Entry<'_>> {
        if let Some(p) = self.pending.take() {
            return Some(Entry::Problem(p));
        }
        let (from, to, scanned) = loop {
            if self.done {
                return None;
            }
            match self.next_line() {
                Next::End => {
                    self.done = true;
                    return None;
                }
                Next::Error(e) => {
                    self.done = true;
                    return Some(Entry::Problem(Problem::at(
                        self.line_no + 1,
                        format!("read error: {e}"),
                    )));
                }
                Next::Overlong => {
                    self.line_no += 1;
                    return Some(Entry::Problem(Problem::at(
                        self.line_no,
                        format!("line longer than {MAX_LINE} bytes skipped"),
                    )));
                }
                Next::Line {
                    start,
                    end,
                    newline,
                } => {
                    self.line_no += 1;
                    let (from, to) = self.clean_range(start, end);
                    let line = self.text.get(from..to).unwrap_or_default();
                    match self.core.scan(line, !newline) {
                        Scanned::Skip => continue,
                        s => break (from, to, s),
                    }
                }
            }
        };
        let line = self.text.get(from..to).unwrap_or_default();
        let (entry, problem) = view(&self.core, line, self.line_no, scanned);
        self.pending = problem;
        entry
    }

    /// Physical lines read so far.
    pub fn lines_read(&self) -> usize {
        self.line_no
    }

    /// Owned entries, one allocation set per record.
    pub fn into_entries(self) -> Entries<R> {
        Entries { reader: self }
    }
}

/// Iterator of [`OwnedEntry`] over a [`LogReader`].
#[derive(Debug)]
pub struct Entries<R> {
    reader: LogReader<R>,
}

impl<R: BufRead> Iterator for Entries<R> {
    type Item = OwnedEntry;

    fn next(&mut self) -> Option<OwnedEntry> {
        self.reader.next_entry().map(|e| e.to_owned_entry())
    }
}
