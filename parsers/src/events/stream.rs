//! Event exports read record by record (issue 14): a 100 MB `wevtutil` XML
//! or `Get-WinEvent | fl` export is cut into chunks of whole records, each
//! chunk is read by the same reader as a whole file, and every kept event is
//! handed to the caller, so memory holds one chunk, never the export.
//!
//! A cut is made only where the format's own reader starts a record (an
//! `<Event` it would open, an `Event[N]:` line, a key line after a blank
//! line, a CSV row outside quotes), so each chunk reads exactly as that part
//! of the whole file does. What a reader takes from the whole file is carried
//! over: a CSV header is repeated before each later chunk, and a Format-List
//! export's console width is taken from its head.

use super::{Event, EventExport, EventFormat, csv, list, parse_as, text};
use crate::problem::Problem;
use crate::text::{Source, normalize_newlines};
use std::io::Read;

/// The formats whose records can be cut apart while streaming. Event Viewer
/// "Copy details as text" and forum pastes are single events or short
/// pastes; `.evtx` is binary (see the binary's reader).
pub fn streams(format: EventFormat) -> bool {
    matches!(
        format,
        EventFormat::EventXml
            | EventFormat::WevtutilText
            | EventFormat::GetWineventList
            | EventFormat::GetEventlogList
            | EventFormat::EventviewerCsv
            | EventFormat::EventviewerTsv
            | EventFormat::ExportCsv
    )
}

/// A streamed export: everything but its events, which went to the caller.
#[derive(Debug, Default)]
pub struct StreamedExport {
    /// `events` is empty; `streamed_events` counts what was handed over.
    pub export: EventExport,
    /// At most [`MAX_PROBLEMS`], then one saying how many more there were.
    pub problems: Vec<Problem>,
    /// Lines read (as `str::lines` counts them over the decoded text).
    pub lines: usize,
}

/// Bytes of whole records gathered before they are read.
const CHUNK: usize = 1 << 20;
/// Bytes asked of the reader at a time.
const READ: usize = 64 * 1024;
/// Problems kept per export; a broken 100 MB file must not list a million.
pub const MAX_PROBLEMS: usize = 1000;

/// Read an export in `format` (already decoded to UTF-8, BOM or not) from
/// `r`, handing each kept event to `on_event` in file order.
pub fn read(r: impl Read, format: EventFormat, on_event: impl FnMut(Event)) -> StreamedExport {
    read_chunked(r, format, CHUNK, on_event)
}

/// [`read`] with the chunk size as a parameter: the tests cut at every record.
pub(crate) fn read_chunked(
    mut r: impl Read,
    format: EventFormat,
    chunk: usize,
    mut on_event: impl FnMut(Event),
) -> StreamedExport {
    let mut out = StreamedExport {
        export: EventExport {
            format: Some(format),
            streamed_events: Some(0),
            ..EventExport::default()
        },
        ..StreamedExport::default()
    };
    let mut more_problems = 0usize;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk.saturating_add(READ).min(CHUNK + READ));
    let mut cutter = Cutter::new(format);
    let mut scanned = 0usize;
    let mut cut = 0usize;
    let mut first_line = 1usize;
    // CSV: the header line(s), read again before each later chunk.
    let mut prefix: Option<String> = None;
    // Format-List: the console width, from the head.
    let mut width: Option<Option<usize>> = None;
    let mut started = false;
    let mut ends_with_newline = true;
    loop {
        let before = buf.len();
        buf.resize(before + READ, 0);
        let n = loop {
            match r.read(buf.get_mut(before..).unwrap_or_default()) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    push_problem(
                        &mut out.problems,
                        &mut more_problems,
                        Problem::whole(format!("reading stopped: {e}")),
                    );
                    break 0;
                }
            }
        };
        buf.truncate(before + n);
        let eof = n == 0;
        if !started {
            if buf.len() < 3 && !eof {
                continue;
            }
            if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                buf.drain(..3);
            }
            started = true;
        }
        if width.is_none()
            && matches!(
                format,
                EventFormat::GetWineventList | EventFormat::GetEventlogList
            )
            && (buf.len() >= crate::stream::HEAD || eof)
        {
            let head = buf.get(..buf.len().min(crate::stream::HEAD)).unwrap_or(&[]);
            let head = match memchr::memrchr(b'\n', head) {
                Some(i) if !eof || buf.len() > crate::stream::HEAD => {
                    head.get(..=i).unwrap_or(head)
                }
                _ => head,
            };
            let text = normalize_newlines(String::from_utf8_lossy(head)).into_owned();
            width = Some(list::wrap_width(&Source::new(&text)));
        }
        scanned = cutter.scan(&buf, scanned, eof, &mut cut);
        if prefix.is_none()
            && let Some(end) = cutter.header_end
        {
            let head = String::from_utf8_lossy(buf.get(..end).unwrap_or(&[])).into_owned();
            prefix = Some(normalize_newlines(head.into()).into_owned());
        }
        let ready = if eof {
            (!buf.is_empty()).then_some(buf.len())
        } else {
            (buf.len() >= chunk && cut > 0).then_some(cut)
        };
        if let Some(end) = ready {
            let part = buf.get(..end).unwrap_or(&[]);
            let own = normalize_newlines(String::from_utf8_lossy(part)).into_owned();
            let newlines = own.matches('\n').count();
            let (text, from) = match prefix.as_deref().filter(|_| cutter.cuts > 0) {
                Some(p) => (
                    format!("{p}{own}"),
                    first_line.saturating_sub(p.matches('\n').count()).max(1),
                ),
                None => (own, first_line),
            };
            let src = Source {
                text: &text,
                first_line: from,
            };
            let mut p = match (format, width) {
                (EventFormat::GetWineventList | EventFormat::GetEventlogList, Some(w)) => {
                    list::parse_wrapped(src, format, w)
                }
                _ => parse_as(src, Some(format)),
            };
            let events = std::mem::take(&mut p.value.events);
            if let Some(n) = out.export.streamed_events.as_mut() {
                *n += events.len() as u64;
            }
            events.into_iter().for_each(&mut on_event);
            out.export.skipped.total += p.value.skipped.total;
            for (k, v) in p.value.skipped.by_provider {
                *out.export.skipped.by_provider.entry(k).or_insert(0) += v;
            }
            for pr in p.problems {
                push_problem(&mut out.problems, &mut more_problems, pr);
            }
            first_line += newlines;
            out.lines += newlines;
            ends_with_newline = text.ends_with('\n') || (end == 0 && ends_with_newline);
            buf.drain(..end);
            scanned = scanned.saturating_sub(end);
            cut = 0;
            cutter.cuts += 1;
        }
        if eof {
            break;
        }
    }
    if !ends_with_newline {
        out.lines += 1;
    }
    if more_problems > 0 {
        out.problems.push(Problem::whole(format!(
            "{more_problems} more problems not listed"
        )));
    }
    out
}

fn push_problem(list: &mut Vec<Problem>, more: &mut usize, p: Problem) {
    if list.len() < MAX_PROBLEMS {
        list.push(p);
    } else {
        *more += 1;
    }
}

/// Finds where records start, as the format's reader would, over bytes that
/// arrive a piece at a time.
struct Cutter {
    format: EventFormat,
    /// XML: inside an `<Event>` (its `</Event>` not seen yet).
    inside: bool,
    /// CSV: inside a quoted field, and at the start of a field.
    in_quotes: bool,
    field_start: bool,
    /// CSV: the delimiter (an `Export-Csv` file's is read from its header).
    delim: u8,
    /// CSV: the end of the header line(s), once seen.
    header_end: Option<usize>,
    /// Format-List: the previous line was blank.
    prev_blank: bool,
    /// Chunks handed to the reader so far.
    cuts: usize,
}

impl Cutter {
    fn new(format: EventFormat) -> Self {
        Cutter {
            format,
            inside: false,
            in_quotes: false,
            field_start: true,
            delim: if format == EventFormat::EventviewerTsv {
                b'\t'
            } else {
                b','
            },
            header_end: None,
            prev_blank: false,
            cuts: 0,
        }
    }

    /// Scan `buf[from..]`, moving `cut` to the last record start after the
    /// first; returns how far the scan got (a partial line or tag waits).
    fn scan(&mut self, buf: &[u8], from: usize, eof: bool, cut: &mut usize) -> usize {
        match self.format {
            EventFormat::EventXml => self.scan_xml(buf, from, eof, cut),
            _ => self.scan_lines(buf, from, cut),
        }
    }

    /// `xml::event_ranges`: an `<Event` followed by a blank or `>` opens a
    /// record, the next `</Event>` closes it, and the search goes on after it.
    fn scan_xml(&mut self, buf: &[u8], mut at: usize, eof: bool, cut: &mut usize) -> usize {
        const OPEN: &[u8] = b"<Event";
        const CLOSE: &[u8] = b"</Event>";
        loop {
            let rest = buf.get(at..).unwrap_or(&[]);
            if self.inside {
                match memchr::memmem::find(rest, CLOSE) {
                    Some(i) => {
                        at += i + CLOSE.len();
                        self.inside = false;
                    }
                    // Keep the bytes a split `</Event>` may start with.
                    None => return buf.len().saturating_sub(CLOSE.len() - 1).max(at),
                }
            } else {
                match memchr::memmem::find(rest, OPEN) {
                    Some(i) => {
                        let start = at + i;
                        match buf.get(start + OPEN.len()) {
                            Some(b' ' | b'>' | b'\t' | b'\n' | b'\r') => {
                                if start > 0 {
                                    *cut = start;
                                }
                                self.inside = true;
                                at = start + OPEN.len();
                            }
                            Some(_) => at = start + OPEN.len(),
                            None if eof => return buf.len(),
                            None => return start,
                        }
                    }
                    None => return buf.len().saturating_sub(OPEN.len()).max(at),
                }
            }
        }
    }

    /// Line formats: every complete line from `at`.
    fn scan_lines(&mut self, buf: &[u8], mut at: usize, cut: &mut usize) -> usize {
        while let Some(nl) = buf.get(at..).and_then(|r| memchr::memchr(b'\n', r)) {
            let end = at + nl;
            let line = buf.get(at..end).unwrap_or(&[]);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if at > 0 && self.starts_record(line, at) {
                *cut = at;
            }
            self.after_line(line, end + 1);
            at = end + 1;
        }
        at
    }

    /// Whether the line at `at` (not the first) starts a record.
    fn starts_record(&self, line: &[u8], at: usize) -> bool {
        match self.format {
            EventFormat::WevtutilText => {
                std::str::from_utf8(line).is_ok_and(|l| text::is_wevtutil_marker(l.trim()))
            }
            EventFormat::GetWineventList | EventFormat::GetEventlogList => {
                self.prev_blank
                    && !line.is_empty()
                    && !line.starts_with(b" ")
                    && !line.starts_with(b"\t")
                    && !line.iter().all(u8::is_ascii_whitespace)
            }
            // A row starts outside quotes, after the header.
            _ => !self.in_quotes && self.header_end.is_some_and(|h| at > h),
        }
    }

    /// Carry the state past a line (`next` is where the next line starts).
    fn after_line(&mut self, line: &[u8], next: usize) {
        match self.format {
            EventFormat::GetWineventList | EventFormat::GetEventlogList => {
                self.prev_blank = line.iter().all(u8::is_ascii_whitespace);
            }
            EventFormat::EventviewerCsv | EventFormat::EventviewerTsv | EventFormat::ExportCsv => {
                let blank = line.iter().all(u8::is_ascii_whitespace);
                let header_line = !self.in_quotes
                    && self.header_end.is_none()
                    && !blank
                    && !line.starts_with(b"#TYPE");
                if header_line && self.format == EventFormat::ExportCsv {
                    let header = String::from_utf8_lossy(line);
                    self.delim = if csv::export_delim(&header) == ';' {
                        b';'
                    } else {
                        b','
                    };
                }
                self.csv_line(line);
                if header_line && !self.in_quotes {
                    self.header_end = Some(next);
                }
            }
            _ => {}
        }
    }

    /// `csv::read_records`' quote state over one line and its newline.
    fn csv_line(&mut self, line: &[u8]) {
        let mut i = 0;
        while let Some(&c) = line.get(i) {
            if self.in_quotes {
                if c == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        self.in_quotes = false;
                    }
                }
            } else if c == b'"' && self.field_start {
                self.in_quotes = true;
                self.field_start = false;
            } else if c == self.delim {
                self.field_start = true;
            } else if c != b'\r' {
                self.field_start = false;
            }
            i += 1;
        }
        if !self.in_quotes {
            self.field_start = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    /// Streaming `bytes` with chunks of `chunk` bytes gives the events,
    /// skipped counts, problems and line count of reading them whole.
    fn same_as_whole(name: &str, bytes: &[u8], chunk: usize) {
        let text = crate::text::decode(bytes).text;
        let whole = crate::events::parse(Source::new(&text));
        let format = whole.value.format.expect("an event export");
        let mut events = Vec::new();
        let s = read_chunked(text.as_bytes(), format, chunk, |e| events.push(e));
        let at = format!("{name}, chunk {chunk}");
        assert_eq!(json(&events), json(&whole.value.events), "events: {at}");
        assert_eq!(json(&s.export.skipped), json(&whole.value.skipped), "{at}");
        assert_eq!(json(&s.problems), json(&whole.problems), "problems: {at}");
        assert_eq!(s.export.streamed_events, Some(events.len() as u64));
        assert_eq!(s.lines, text.lines().count(), "lines: {at}");
    }

    /// The event exports among the repository's fixtures and samples.
    fn exports() -> Vec<(String, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dirs = vec![
            root.join("tests/fixtures/reference/events"),
            root.join("tests/fixtures/extra/events"),
        ];
        for parent in ["samples", "tests/fixtures/real"] {
            if let Ok(rd) = std::fs::read_dir(root.join(parent)) {
                dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
            }
        }
        let mut out = Vec::new();
        for d in dirs {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for f in rd.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
                let Ok(bytes) = std::fs::read(&f) else {
                    continue;
                };
                let text = crate::text::decode(&bytes).text;
                if crate::events::detect_format(&text).is_some_and(streams)
                    && crate::sniff::sniff_segment(&text, None, None) == crate::Kind::EventExport
                {
                    out.push((f.display().to_string(), bytes));
                }
            }
        }
        out
    }

    /// Every streamable export among the fixtures, cut at every record, at
    /// a few records, and not at all.
    #[test]
    fn streamed_exports_read_as_whole_exports() {
        let found = exports();
        let formats: std::collections::BTreeSet<_> = found
            .iter()
            .filter_map(|(_, b)| crate::events::detect_format(&crate::text::decode(b).text))
            .map(EventFormat::as_str)
            .collect();
        assert!(
            formats.len() >= 5,
            "streamable formats among the fixtures: {formats:?}"
        );
        for (name, bytes) in &found {
            for chunk in [1, 7, 300, 4096, usize::MAX / 4] {
                same_as_whole(name, bytes, chunk);
            }
        }
    }

    /// A large export (the fixtures repeated) in chunks of the real size.
    #[test]
    fn many_chunks_of_a_large_export_read_as_the_whole() {
        for (name, bytes) in exports() {
            let text = crate::text::decode(&bytes).text;
            let format = crate::events::detect_format(&text);
            // Whole records repeated: XML events and wevtutil blocks only.
            let body = match format {
                Some(EventFormat::EventXml) => {
                    let (Some(a), Some(b)) = (text.find("<Event "), text.rfind("</Event>")) else {
                        continue;
                    };
                    text[a..b + "</Event>".len()].to_owned() + "\n"
                }
                Some(EventFormat::WevtutilText) => text.clone() + "\n",
                _ => continue,
            };
            let big = body.repeat((3 * CHUNK / body.len()).max(2));
            same_as_whole(&name, big.as_bytes(), CHUNK);
        }
    }

    #[test]
    fn a_bom_and_crlf_are_read_as_in_a_whole_read() {
        let xml = "\u{feff}<Events>\r\n<Event xmlns='x'><System><Provider Name='MSExchange Mitigation Service'/><EventID>1008</EventID></System><EventData><Data>a\r\nb</Data></EventData></Event>\r\n<Event xmlns='x'><System><Provider Name='Other'/><EventID>1</EventID></System></Event>\r\n</Events>\r\n";
        for chunk in [1, 1 << 20] {
            same_as_whole("bom-crlf", xml.as_bytes(), chunk);
        }
    }
}
