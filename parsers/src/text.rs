//! Bytes → text. Files reach us in whatever encoding the admin's shell produced:
//! UTF-8 with or without BOM (Exchange logs, PowerShell 7), UTF-16LE with BOM
//! (Windows PowerShell 5.1 `>`), UTF-16LE without BOM (raw console captures),
//! UTF-16BE with BOM (rare) and OEM/ANSI code pages (cmd.exe `>`, old Notepad).
//! Everything downstream parses `&str` with `\n` line ends only.

use serde::Serialize;
use std::borrow::Cow;

/// How the input bytes were decoded. Serialised as a stable kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    #[serde(rename = "utf-16le-bom")]
    Utf16leBom,
    #[serde(rename = "utf-16le")]
    Utf16le,
    #[serde(rename = "utf-16be-bom")]
    Utf16beBom,
    /// Not valid UTF-8; decoded as Windows-1252 (also covers the ASCII subset of every OEM page).
    #[serde(rename = "windows-1252")]
    Windows1252,
    /// Not valid UTF-8 and the bytes look like box-drawing/umlauts of OEM 850 (cmd.exe redirection).
    Ibm850,
    /// Binary `.evtx` files are not text; they carry their own encoding.
    Binary,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Utf16leBom => "utf-16le-bom",
            Encoding::Utf16le => "utf-16le",
            Encoding::Utf16beBom => "utf-16be-bom",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Ibm850 => "ibm850",
            Encoding::Binary => "binary",
        }
    }
}

/// Decoded text, with line ends normalised to `\n`.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: Encoding,
    /// Decoding happened but something was off (e.g. a UTF-16 file with an odd byte count).
    pub warnings: Vec<String>,
}

/// Detect the encoding of `bytes` and decode it. Never fails: undecodable
/// sequences become U+FFFD, as a support engineer would rather see a partly
/// garbled line than nothing.
pub fn decode(bytes: &[u8]) -> Decoded {
    let d = decode_ref(bytes);
    Decoded {
        text: d.text.into_owned(),
        encoding: d.encoding,
        warnings: d.warnings,
    }
}

/// [`Decoded`], borrowing `bytes` where it can.
#[derive(Debug, Clone)]
pub struct DecodedRef<'a> {
    pub text: Cow<'a, str>,
    pub encoding: Encoding,
    pub warnings: Vec<String>,
}

/// [`decode`] without a copy when none is needed: valid UTF-8 with `\n`
/// line ends (a large input's common case) is borrowed, so parsing it does
/// not hold the input twice (issue 18: 256 MiB of standard input cost 530 MB).
pub fn decode_ref(bytes: &[u8]) -> DecodedRef<'_> {
    let (text, encoding) = decode_raw(bytes);
    let mut warnings = Vec::new();
    let utf16 = matches!(
        encoding,
        Encoding::Utf16leBom | Encoding::Utf16le | Encoding::Utf16beBom
    );
    if utf16 && bytes.len() % 2 == 1 {
        warnings.push(
            "UTF-16 input has an odd number of bytes: the last byte was ignored (file cut off?)"
                .to_owned(),
        );
    }
    DecodedRef {
        text: normalize_newlines(text),
        encoding,
        warnings,
    }
}

fn decode_raw(bytes: &[u8]) -> (Cow<'_, str>, Encoding) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (String::from_utf8_lossy(rest), Encoding::Utf8Bom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (utf16(rest, true).into(), Encoding::Utf16leBom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (utf16(rest, false).into(), Encoding::Utf16beBom);
    }
    if looks_like_utf16le(bytes) {
        return (utf16(bytes, true).into(), Encoding::Utf16le);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.into(), Encoding::Utf8),
        Err(_) => {
            let (text, encoding) = legacy(bytes);
            (text.into(), encoding)
        }
    }
}

/// Where the first NUL byte of `head` (an input's first bytes) is, when it
/// is binary data: no text format eems-doctor reads has a NUL byte unless it
/// is UTF-16 (a BOM, or NUL high bytes) or an event log (`.evtx` magic).
/// Like git, a NUL in the first 8,000 bytes is the sign.
pub fn binary_at(head: &[u8]) -> Option<usize> {
    if head.starts_with(crate::sniff::EVTX_MAGIC)
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || looks_like_utf16le(head)
    {
        return None;
    }
    memchr::memchr(0, &head[..head.len().min(8000)])
}

/// UTF-16LE without BOM: ASCII-heavy text has a NUL in most odd positions.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    if bytes.len() < 4 {
        return false;
    }
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    let odd_nuls = sample.chunks_exact(2).filter(|p| p[1] == 0).count();
    let even_nuls = sample.chunks_exact(2).filter(|p| p[0] == 0).count();
    // Mostly NUL high bytes, and not mostly NUL low bytes (that would be UTF-16BE or binary).
    odd_nuls * 10 >= pairs * 6 && even_nuls * 10 < pairs * 2
}

fn utf16(bytes: &[u8], little_endian: bool) -> String {
    let units = bytes.chunks_exact(2).map(|p| {
        if little_endian {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Not UTF-8: choose between Windows-1252 (ANSI, Notepad) and IBM850 (cmd.exe
/// redirection on western European systems). German umlauts in CP850 are
/// 0x81 (ü), 0x84 (ä), 0x94 (ö), 0x8E (Ä), 0x99 (Ö), 0x9A (Ü), 0xE1 (ß) — bytes
/// that are rare or unassigned in text written in Windows-1252.
fn legacy(bytes: &[u8]) -> (String, Encoding) {
    let cp850_hits = bytes
        .iter()
        .filter(|b| matches!(b, 0x81 | 0x84 | 0x94 | 0x8E | 0x99 | 0x9A | 0xE1 | 0x82))
        .count();
    let w1252_hits = bytes
        .iter()
        .filter(|b| matches!(b, 0xE4 | 0xF6 | 0xFC | 0xC4 | 0xD6 | 0xDC | 0xDF | 0xE9))
        .count();
    if cp850_hits > w1252_hits {
        (ibm850(bytes), Encoding::Ibm850)
    } else {
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
        (text.into_owned(), Encoding::Windows1252)
    }
}

/// encoding_rs implements only WHATWG encodings, which exclude IBM850, so the
/// upper half is a table.
fn ibm850(bytes: &[u8]) -> String {
    const HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u{AD}±‗¾¶§÷¸°¨·¹³²■\u{A0}";
    let table: Vec<char> = HIGH.chars().collect();
    bytes
        .iter()
        .map(|&b| {
            if b < 0x80 {
                char::from(b)
            } else {
                table
                    .get(usize::from(b - 0x80))
                    .copied()
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            }
        })
        .collect()
}

/// CRLF and lone CR → LF, and a stray leading BOM character (left by a
/// concatenation of two files) is dropped. Borrowed text stays borrowed
/// when nothing changes.
pub(crate) fn normalize_newlines(text: Cow<'_, str>) -> Cow<'_, str> {
    let text = match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.strip_prefix('\u{FEFF}').unwrap_or(s)),
        Cow::Owned(mut s) => {
            if s.starts_with('\u{FEFF}') {
                s.drain(..'\u{FEFF}'.len_utf8());
            }
            Cow::Owned(s)
        }
    };
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Byte offset → 1-based line number over a decoded text.
#[derive(Debug, Clone)]
pub struct LineMap {
    starts: Vec<usize>,
}

impl LineMap {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineMap { starts }
    }

    /// 1-based line holding byte `offset` (offsets past the end map to the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// A piece of decoded text and where it starts in its file, so that parsers
/// running on a segment of a pasted console session still report file lines.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub text: &'a str,
    /// 1-based line number of the first line of `text` in the original file.
    pub first_line: usize,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        Source {
            text,
            first_line: 1,
        }
    }

    /// Lines with their 1-based file line numbers. A trailing `\r` (input that
    /// bypassed `decode`) and trailing spaces from forum pastes are kept; trim as needed.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        let first = self.first_line;
        self.text
            .split('\n')
            .enumerate()
            .map(move |(i, l)| (first + i, l.strip_suffix('\r').unwrap_or(l)))
    }

    /// File line of byte `offset` within this source.
    ///
    /// This counts newlines from the start (SIMD, but O(offset)): fine for a
    /// few problems, quadratic when called once per item of a large input.
    /// Parsers that cite many items build a [`LineMap`] once instead.
    pub fn line_at(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let before = self.text.as_bytes().get(..offset).unwrap_or_default();
        self.first_line + memchr::memchr_iter(b'\n', before).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_with_lf_is_borrowed_not_copied() {
        assert!(matches!(
            decode_ref(b"a\nb\n").text,
            Cow::Borrowed("a\nb\n")
        ));
        assert!(matches!(
            decode_ref(b"\xEF\xBB\xBFa\n").text,
            Cow::Borrowed("a\n")
        ));
        assert!(matches!(
            decode_ref("\u{FEFF}a".as_bytes()).text,
            Cow::Borrowed("a")
        ));
        assert_eq!(decode_ref(b"a\r\nb").text, "a\nb");
        assert_eq!(decode_ref(b"f\xFCr").text, "für");
    }

    #[test]
    fn binary_is_a_nul_outside_utf16_and_evtx() {
        assert_eq!(binary_at(&[0u8; 100]), Some(0));
        assert_eq!(binary_at(b"MZ\x90\0\x03"), Some(3));
        assert_eq!(binary_at(b"plain text\r\n"), None);
        let utf16: Vec<u8> = "Proxy\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(binary_at(&utf16), None);
        assert_eq!(binary_at(b"\xFF\xFEP\0"), None);
        assert_eq!(binary_at(b"ElfFile\0\0\0"), None);
        // Past the first 8,000 bytes a NUL is a damaged text file, not binary.
        let mut late = vec![b'a'; 9000];
        late[8500] = 0;
        assert_eq!(binary_at(&late), None);
    }

    #[test]
    fn utf8_bom_and_crlf() {
        let d = decode(b"\xEF\xBB\xBFa\r\nb\r\n");
        assert_eq!(d.encoding, Encoding::Utf8Bom);
        assert_eq!(d.text, "a\nb\n");
    }

    #[test]
    fn utf16le_with_and_without_bom() {
        let s: Vec<u8> = "Proxy\r\nÄ"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend(&s);
        assert_eq!(decode(&with_bom).encoding, Encoding::Utf16leBom);
        assert_eq!(decode(&with_bom).text, "Proxy\nÄ");
        assert_eq!(decode(&s).encoding, Encoding::Utf16le);
        assert_eq!(decode(&s).text, "Proxy\nÄ");
    }

    #[test]
    fn odd_utf16_is_flagged() {
        let mut b = vec![0xFF, 0xFE, b'A', 0];
        b.push(b'B');
        let d = decode(&b);
        assert_eq!(d.text, "A");
        assert_eq!(d.warnings.len(), 1);
        assert!(decode(b"plain").warnings.is_empty());
    }

    #[test]
    fn utf16be_with_bom() {
        let mut b = vec![0xFE, 0xFF];
        b.extend("Hi".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(&b).text, "Hi");
    }

    #[test]
    fn oem850_and_windows1252() {
        // "Umgehungsliste für" in CP850: ü = 0x81
        let d = decode(b"Umgehungsliste f\x81r");
        assert_eq!(d.encoding, Encoding::Ibm850);
        assert_eq!(d.text, "Umgehungsliste für");
        let d = decode(b"Umgehungsliste f\xFCr");
        assert_eq!(d.encoding, Encoding::Windows1252);
        assert_eq!(d.text, "Umgehungsliste für");
    }

    #[test]
    fn serde_names_are_the_display_names() {
        for e in [
            Encoding::Utf8,
            Encoding::Utf8Bom,
            Encoding::Utf16leBom,
            Encoding::Utf16le,
            Encoding::Utf16beBom,
            Encoding::Windows1252,
            Encoding::Ibm850,
            Encoding::Binary,
        ] {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }

    #[test]
    fn line_map() {
        let m = LineMap::new("a\nbc\n\nd");
        assert_eq!(m.line_of(0), 1);
        assert_eq!(m.line_of(2), 2);
        assert_eq!(m.line_of(5), 3);
        assert_eq!(m.line_of(6), 4);
        let s = Source {
            text: "x\ny",
            first_line: 10,
        };
        assert_eq!(s.line_at(2), 11);
        assert_eq!(s.lines().map(|(n, _)| n).collect::<Vec<_>>(), vec![10, 11]);
    }
}
