//! Inputs read as they stream, never held whole (issue 14).
//!
//! A MitigationService log is the one input that grows without bound (a row
//! every few seconds, files of hundreds of MiB). When the first bytes of an
//! input show a log and nothing else, the caller streams the rest through
//! [`read_log`]: it is decoded incrementally (UTF-16 and Windows-1252 through
//! `encoding_rs_io`), each record is handed to a callback while it is
//! borrowed from the reader's buffers, and what is returned is the same
//! [`ParsedInput`] the in-memory path gives, without the rows.
//!
//! Event exports stream the same way, record by record
//! ([`events::stream`]). Every other kind is small in practice and still read
//! whole; a file whose head is a log or an export but which holds a pasted
//! console session further down is read as that kind from there on (a tool
//! streams only large files, where that does not happen: see the binary's
//! `--stream-min`).

use crate::events::{self, Event, EventFormat};
use crate::mitigation_log::{self, RecordView};
use crate::text::{self, Encoding};
use crate::{Content, Kind, ParsedInput, Problem, Segment, Status, sniff};
use std::io::{BufReader, Read};

/// How many bytes of an input [`log_encoding`] looks at.
pub const HEAD: usize = 64 * 1024;

/// What an input's first bytes show can be read as a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streamable {
    /// A MitigationService log ([`read_log`]).
    Log(Encoding),
    /// An event export in a format whose records can be cut apart ([`read_events`]).
    Events(Encoding, EventFormat),
}

/// How to stream `head` (an input's first bytes): when it is a log or an
/// event export from its first line with nothing else in it, in an encoding
/// that can be decoded incrementally; `None` otherwise (read it whole).
pub fn streamable(head: &[u8], name_hint: Option<&str>) -> Option<Streamable> {
    if head.starts_with(sniff::EVTX_MAGIC) {
        return None;
    }
    // Whole lines only: the last one may be cut mid-character.
    let utf16 = head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || (head.len() > 1 && head.get(1) == Some(&0));
    let end = if utf16 {
        head.chunks_exact(2)
            .rposition(|p| p == [b'\n', 0] || p == [0, b'\n'])
            .map_or(0, |i| 2 * i + 2)
    } else {
        memchr::memrchr(b'\n', head).map_or(0, |i| i + 1)
    };
    let head = head.get(..end)?;
    let decoded = text::decode(head);
    let encoding = decoded.encoding;
    if !matches!(
        encoding,
        Encoding::Utf8
            | Encoding::Utf8Bom
            | Encoding::Utf16le
            | Encoding::Utf16leBom
            | Encoding::Utf16beBom
            | Encoding::Windows1252
    ) {
        return None;
    }
    let segments = sniff::split_segments(&decoded.text);
    let [one] = segments.as_slice() else {
        return None;
    };
    if one.command.is_some() || one.source.first_line != 1 {
        return None;
    }
    match sniff::sniff_segment(one.source.text, None, name_hint) {
        Kind::MitigationLog => Some(Streamable::Log(encoding)),
        Kind::EventExport => events::detect_format(one.source.text)
            .filter(|f| events::stream::streams(*f))
            .map(|f| Streamable::Events(encoding, f)),
        _ => None,
    }
}

/// The encoding to stream a MitigationService log whose first bytes are
/// `head` in ([`streamable`], for logs only).
pub fn log_encoding(head: &[u8], name_hint: Option<&str>) -> Option<Encoding> {
    match streamable(head, name_hint) {
        Some(Streamable::Log(e)) => Some(e),
        _ => None,
    }
}

/// `reader` as UTF-8: UTF-8 is passed through (scanned in place, invalid
/// bytes replaced by the reader), the others decoded incrementally.
fn utf8_reader<'a>(reader: impl Read + 'a, encoding: Encoding) -> Box<dyn Read + 'a> {
    let whatwg = match encoding {
        Encoding::Utf16le | Encoding::Utf16leBom => Some(encoding_rs::UTF_16LE),
        Encoding::Utf16beBom => Some(encoding_rs::UTF_16BE),
        Encoding::Windows1252 => Some(encoding_rs::WINDOWS_1252),
        _ => None,
    };
    match whatwg {
        None => Box::new(reader),
        Some(enc) => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(enc))
                .build(reader),
        ),
    }
}

/// Read a MitigationService log from `reader` (the whole input, from its
/// first byte) in `encoding`, handing each record to `on_record`.
pub fn read_log<R: Read>(
    reader: R,
    encoding: Encoding,
    on_record: impl FnMut(&RecordView<'_>),
) -> ParsedInput {
    const BUF: usize = 256 * 1024;
    let (p, lines) = mitigation_log::summarize(
        BufReader::with_capacity(BUF, utf8_reader(reader, encoding)),
        on_record,
    );
    one_segment(
        Kind::MitigationLog,
        encoding,
        lines,
        Content::MitigationLog(p.value),
        p.problems,
    )
}

/// Read an event export in `format` from `reader` (the whole input, from
/// its first byte) in `encoding`, handing each kept event to `on_event`.
/// The export returned lists no events; `streamed_events` counts them.
pub fn read_events<R: Read>(
    reader: R,
    encoding: Encoding,
    format: EventFormat,
    on_event: impl FnMut(Event),
) -> ParsedInput {
    let s = events::stream::read(utf8_reader(reader, encoding), format, on_event);
    one_segment(
        Kind::EventExport,
        encoding,
        s.lines,
        Content::EventExport(s.export),
        s.problems,
    )
}

/// Read an `.evtx` file from a seekable source record by record, handing
/// each kept event to `on_event` (see [`events::stream_evtx`]).
pub fn read_evtx(source: impl Read + std::io::Seek, on_event: impl FnMut(Event)) -> ParsedInput {
    let s = events::stream_evtx(source, on_event);
    // Records have no lines: the segment is line 1, as `parse_input` says.
    one_segment(
        Kind::EventExport,
        Encoding::Binary,
        1,
        Content::EventExport(s.export),
        s.problems,
    )
}

/// The input of one segment from its first line, as `parse_input` gives it.
fn one_segment(
    kind: Kind,
    encoding: Encoding,
    lines: usize,
    content: Content,
    problems: Vec<Problem>,
) -> ParsedInput {
    let status = if problems.is_empty() {
        Status::Parsed
    } else {
        Status::Partial
    };
    ParsedInput {
        kind,
        status,
        encoding,
        segments: vec![Segment {
            kind,
            status,
            first_line: 1,
            last_line: lines.max(1),
            command: None,
            content: Some(content),
            problems,
        }],
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.02.1258.012\r\n#Log-type: Mitigation Service Log\r\n#Fields: DateTime,ServerName,Operation,CustomData\r\n2024-03-14T10:10:05.402Z,EX02,FetchMitigation,S:LogLevel=Information;S:Message=Fetching mitigations from https://officeclient.microsoft.com/getexchangemitigations\r\n2024-03-14T10:10:06.402Z,EX02,FetchMitigation,S:LogLevel=Warning;S:Message=TLS certificate or its chain validation failed\r\n";

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    /// The streamed summary equals the in-memory parse, rows aside.
    fn same_as_in_memory(bytes: &[u8], want: Encoding) {
        assert_eq!(log_encoding(bytes, None), Some(want));
        let mut rows = Vec::new();
        let streamed = read_log(bytes, want, |r| rows.push(r.to_record()));
        let mut whole = crate::parse_input(bytes, None);
        let Some(Content::MitigationLog(log)) = whole.segments[0].content.as_mut() else {
            panic!("not a log: {whole:?}");
        };
        assert_eq!(std::mem::take(&mut log.records), rows);
        assert_eq!(
            serde_json::to_value(&streamed).unwrap(),
            serde_json::to_value(&whole).unwrap()
        );
    }

    #[test]
    fn streams_every_incremental_encoding_like_the_whole_read() {
        same_as_in_memory(LOG.as_bytes(), Encoding::Utf8);
        same_as_in_memory(format!("\u{feff}{LOG}").as_bytes(), Encoding::Utf8Bom);
        same_as_in_memory(&utf16le(LOG, true), Encoding::Utf16leBom);
        same_as_in_memory(&utf16le(LOG, false), Encoding::Utf16le);
        let cp1252 = LOG.replace("EX02", "EX\u{e4}2");
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&cp1252);
        same_as_in_memory(&bytes, Encoding::Windows1252);
    }

    /// A streamed export is the in-memory parse with its events handed
    /// over and counted, in every incremental encoding.
    #[test]
    fn streams_event_exports_like_the_whole_read() {
        let xml = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/reference/events/04-wevtutil-xml_unable-to-connect_EX04.xml"
        ));
        for (bytes, want) in [
            (xml.as_bytes().to_vec(), Encoding::Utf8),
            (utf16le(xml, true), Encoding::Utf16leBom),
        ] {
            let Some(Streamable::Events(enc, format)) = streamable(&bytes, None) else {
                panic!("not streamable: {:?}", streamable(&bytes, None));
            };
            assert_eq!((enc, format), (want, EventFormat::EventXml));
            let mut events = Vec::new();
            let streamed = read_events(bytes.as_slice(), enc, format, |e| events.push(e));
            let mut whole = crate::parse_input(&bytes, None);
            let Some(Content::EventExport(export)) = whole.segments[0].content.as_mut() else {
                panic!("not an export: {whole:?}");
            };
            let listed = std::mem::take(&mut export.events);
            assert!(!listed.is_empty());
            export.streamed_events = Some(listed.len() as u64);
            assert_eq!(
                serde_json::to_value(&events).unwrap(),
                serde_json::to_value(&listed).unwrap()
            );
            assert_eq!(
                serde_json::to_value(&streamed).unwrap(),
                serde_json::to_value(&whole).unwrap()
            );
        }
        // A paste that is not an export from its first line is read whole.
        let paste = format!("PS C:\\> wevtutil qe Application /f:xml\n{xml}");
        assert_eq!(streamable(paste.as_bytes(), None), None);
    }

    #[test]
    fn only_a_log_from_its_first_line_streams() {
        let paste = format!("PS C:\\> Get-Content log.LOG\n{LOG}");
        assert_eq!(log_encoding(paste.as_bytes(), None), None);
        let mixed = format!(
            "{LOG}PS C:\\> netsh winhttp show proxy\n\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n"
        );
        assert_eq!(log_encoding(mixed.as_bytes(), None), None);
        assert_eq!(log_encoding(b"Name : EX01\r\n", None), None);
        // A head cut mid-line (and mid-character) still streams.
        let cut = &utf16le(LOG, true)[..utf16le(LOG, true).len() - 3];
        assert_eq!(log_encoding(cut, None), Some(Encoding::Utf16leBom));
    }
}
