//! Names are data, never control (issue 18): what evidence carries (a
//! server name, a path, an excerpt) may hold terminal escapes or Unicode
//! bidi overrides. Every value printed to a terminal or placed in HTML or a
//! command passes through here: C0/C1 control characters and bidi controls
//! are shown visibly as `\u{…}`, never emitted.

use std::borrow::Cow;

/// A character that must never reach a terminal or a page as itself: C0 and
/// C1 controls (ESC, BEL, CSI, …), DEL, and the Unicode bidi controls
/// (U+202A–202E embeddings and overrides, U+2066–2069 isolates, and the
/// LRM/RLM/ALM marks).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// A name carrying control or bidi characters: shown escaped, and flagged.
pub fn is_suspicious(s: &str) -> bool {
    s.chars().any(is_unsafe)
}

fn escape_into(out: &mut String, c: char) {
    use std::fmt::Write;
    let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
}

/// One value: every unsafe character (newlines too) shown as `\u{…}`.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !is_suspicious(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The colour codes the text renderer itself writes (SGR): the only escape
/// sequences a rendered document may keep, and only when colour is on.
const OWN_SGR: [&str; 7] = [
    "\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[2m",
];

/// A whole rendered document (text report, HTML page): line breaks and tabs
/// are kept, every other unsafe character is shown as `\u{…}`; with
/// `keep_colour`, the renderer's own SGR colour codes are kept too (never
/// any other sequence: no title, no cursor move, no screen clear). Linear in
/// the length.
pub fn document(s: &str, keep_colour: bool) -> Cow<'_, str> {
    let needs = s
        .chars()
        .any(|c| is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t'));
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 64);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b'
            && keep_colour
            && let Some(code) = OWN_SGR.iter().find(|code| rest.starts_with(**code))
        {
            out.push_str(code);
            rest = &rest[code.len()..];
            continue;
        }
        if is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t') {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// JSON text (issue 18): JSON is data, so a name keeps every character,
/// but a C1 control or bidi control is written as its `\uXXXX` escape
/// rather than raw (serde_json writes them raw; C0 controls it already
/// escapes). Any JSON reader gets the same string back; a terminal or an
/// editor showing the file is not re-ordered or driven by it. Outside
/// strings JSON text is ASCII, so this touches string contents only.
pub fn json(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| !c.is_ascii() && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !c.is_ascii() && is_unsafe(c) {
            // Every such character is in the BMP: one \uXXXX.
            use std::fmt::Write;
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer applying [`json`] to JSON text streamed through it (a
/// character split across two writes is held until it is complete).
pub struct JsonWriter<W: std::io::Write> {
    inner: W,
    carry: Vec<u8>,
}

impl<W: std::io::Write> JsonWriter<W> {
    pub fn new(inner: W) -> Self {
        JsonWriter {
            inner,
            carry: Vec::new(),
        }
    }

    /// The inner writer; call `flush` first (a held partial character).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: std::io::Write> std::io::Write for JsonWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let owned;
        let data: &[u8] = if self.carry.is_empty() {
            buf
        } else {
            owned = [std::mem::take(&mut self.carry).as_slice(), buf].concat();
            &owned
        };
        match std::str::from_utf8(data) {
            Ok(text) => self.inner.write_all(json(text).as_bytes())?,
            Err(e) => {
                let (good, rest) = data.split_at(e.valid_up_to());
                let good = std::str::from_utf8(good).unwrap_or_default();
                self.inner.write_all(json(good).as_bytes())?;
                if e.error_len().is_none() {
                    // An incomplete character at the end: wait for the rest.
                    self.carry = rest.to_vec();
                } else {
                    // Not UTF-8 (serde_json never writes that): as is.
                    self.inner.write_all(rest)?;
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let carry = std::mem::take(&mut self.carry);
        self.inner.write_all(&carry)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_are_shown_never_emitted() {
        let name = "EXCH\x1b]0;PWN\x07\x1b[2J";
        assert_eq!(visible(name), "EXCH\\u{1B}]0;PWN\\u{7}\\u{1B}[2J");
        assert_eq!(
            visible("EXCH\u{202E}A9102\u{202C}"),
            "EXCH\\u{202E}A9102\\u{202C}"
        );
        assert!(matches!(visible("EX01"), Cow::Borrowed(_)));
        assert!(is_suspicious("a\u{2066}b") && !is_suspicious("EX01.contoso.com"));
        let doc = "\x1b[1mEX01\x1b[0m\tok\r\nEXCH\x1b[2J\u{9b}x\n";
        assert_eq!(
            document(doc, true),
            "\x1b[1mEX01\x1b[0m\tok\r\nEXCH\\u{1B}[2J\\u{9B}x\n"
        );
        assert_eq!(
            document(doc, false),
            "\\u{1B}[1mEX01\\u{1B}[0m\tok\r\nEXCH\\u{1B}[2J\\u{9B}x\n"
        );
    }

    #[test]
    fn json_text_escapes_bidi_and_c1_and_reads_back_the_same() {
        let name = "EXCH\u{202E}A9102\u{202C}\u{85}é";
        let text = serde_json::to_string(&serde_json::json!({ "server": name })).unwrap();
        assert!(text.contains('\u{202E}'), "serde_json writes it raw");
        let safe = json(&text);
        assert_eq!(safe, r#"{"server":"EXCH\u202eA9102\u202c\u0085é"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["server"], name);
        // Streamed one byte at a time: the same text.
        let mut w = JsonWriter::new(Vec::new());
        for b in text.as_bytes() {
            std::io::Write::write_all(&mut w, std::slice::from_ref(b)).unwrap();
        }
        std::io::Write::flush(&mut w).unwrap();
        assert_eq!(String::from_utf8(w.inner).unwrap(), safe);
    }
}
