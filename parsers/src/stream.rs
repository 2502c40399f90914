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
//! Every other kind is small in practice and still read whole; a file whose
//! head is a log but which holds a pasted console session further down is
//! read as a log from there on (a tool streams only large files, where that
//! does not happen: see the binary's `--stream-min`).

use crate::mitigation_log::{self, RecordView};
use crate::text::{self, Encoding};
use crate::{Content, Kind, ParsedInput, Problem, Segment, Status, sniff};
use std::io::{BufReader, Read};

/// How many bytes of an input [`log_encoding`] looks at.
pub const HEAD: usize = 64 * 1024;

/// The encoding to stream `head` (an input's first bytes) in, when it is a
/// MitigationService log from its first line with nothing else in it and
/// its encoding can be decoded incrementally; `None` otherwise (read it whole).
pub fn log_encoding(head: &[u8], name_hint: Option<&str>) -> Option<Encoding> {
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
    if !matches!(
        decoded.encoding,
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
    let log = one.command.is_none()
        && one.source.first_line == 1
        && sniff::sniff_segment(one.source.text, None, name_hint) == Kind::MitigationLog;
    log.then_some(decoded.encoding)
}

/// Read a MitigationService log from `reader` (the whole input, from its
/// first byte) in `encoding`, handing each record to `on_record`.
pub fn read_log<R: Read>(
    reader: R,
    encoding: Encoding,
    on_record: impl FnMut(&RecordView<'_>),
) -> ParsedInput {
    const BUF: usize = 256 * 1024;
    let whatwg = match encoding {
        Encoding::Utf16le | Encoding::Utf16leBom => Some(encoding_rs::UTF_16LE),
        Encoding::Utf16beBom => Some(encoding_rs::UTF_16BE),
        Encoding::Windows1252 => Some(encoding_rs::WINDOWS_1252),
        _ => None,
    };
    let (p, lines) = match whatwg {
        // UTF-8 is scanned in place; invalid bytes are replaced line by line.
        None => mitigation_log::summarize(BufReader::with_capacity(BUF, reader), on_record),
        Some(enc) => {
            let utf8 = encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(enc))
                .build(reader);
            mitigation_log::summarize(BufReader::with_capacity(BUF, utf8), on_record)
        }
    };
    let status = if p.problems.is_empty() {
        Status::Parsed
    } else {
        Status::Partial
    };
    ParsedInput {
        kind: Kind::MitigationLog,
        status,
        encoding,
        segments: vec![Segment {
            kind: Kind::MitigationLog,
            status,
            first_line: 1,
            last_line: lines.max(1),
            command: None,
            content: Some(Content::MitigationLog(p.value)),
            problems: p.problems,
        }],
        problems: Vec::<Problem>::new(),
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
