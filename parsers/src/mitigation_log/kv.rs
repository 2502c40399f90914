//! Tokenizer for Exchange's typed key/value "custom data" column
//! (`S:LogLevel=Error;'S:Message=…xml''s…'; S:Source=…`, input-formats §1.2).
//!
//! The tokenizer only finds item boundaries (byte ranges, no allocation) so the
//! streaming path stays allocation-free; splitting an item into type, key and
//! value and undoing `''` is done by the caller on those ranges.

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::char;
use nom::combinator::{opt, recognize};
use nom::error::{Error, ErrorKind};
use nom::multi::many0_count;
use nom::{IResult, Offset, Parser};

/// One item of the field, as byte offsets into the tokenized text. For a
/// quoted item the range is the inside of the quotes (`''` still doubled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RawItem {
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
    /// A quoted item whose closing `'` is missing (line cut off).
    pub unterminated: bool,
}

/// Split `i` before the first occurrence of `byte` (ASCII), or take all of it.
/// memchr keeps the hot path far above nom's char-by-char `take_till`
/// (`bench/mitigation-log.sh`). Both parts are sub-slices of `i` (nom's
/// `recognize` and `Offset` rely on that). Not an `IResult`: it cannot fail.
fn split_before(i: &str, byte: u8) -> (&str, &str) {
    // `byte` is ASCII, so the position is a char boundary.
    let n = memchr::memchr(byte, i.as_bytes()).unwrap_or(i.len());
    let (head, tail) = i
        .split_at_checked(n)
        .unwrap_or((i, i.get(i.len()..).unwrap_or_default()));
    (tail, head)
}

/// A non-empty run without `'`.
fn not_quote1(i: &str) -> IResult<&str, &str> {
    let (rest, run) = split_before(i, b'\'');
    if run.is_empty() {
        Err(nom::Err::Error(Error::new(i, ErrorKind::IsNot)))
    } else {
        Ok((rest, run))
    }
}

/// `'…'` with `''` doubling. An unclosed quote runs to the end of the text
/// (the `;` inside a quoted value is literal) and is reported as such.
fn quoted(i: &str) -> IResult<&str, (&str, bool)> {
    let (i, _) = char('\'').parse(i)?;
    let (i, body) = recognize(many0_count(alt((not_quote1, tag("''"))))).parse(i)?;
    let (i, close) = opt(char('\'')).parse(i)?;
    Ok((i, (body, close.is_some())))
}

/// Call `out` for every non-empty item of `text`, in order. Items are
/// separated by `;`; whitespace before an item is skipped (the VERIFIED
/// `'; S:Source` has a space after the separator).
pub(super) fn tokenize(text: &str, mut out: impl FnMut(RawItem)) {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            break;
        }
        if let Ok((after, (body, closed))) = quoted(rest) {
            let start = text.offset(body);
            out(RawItem {
                start,
                end: start + body.len(),
                quoted: true,
                unterminated: !closed,
            });
            // Anything between the closing quote and the next `;` is noise.
            rest = split_before(after, b';').0;
        } else {
            // A bare item: everything up to the next `;`.
            let (after, item) = split_before(rest, b';');
            if !item.is_empty() {
                let start = text.offset(item);
                out(RawItem {
                    start,
                    end: start + item.len(),
                    quoted: false,
                    unterminated: false,
                });
            }
            rest = after;
        }
        // Either at a `;` or at the end: always progresses.
        rest = rest.strip_prefix(';').unwrap_or(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<(&str, bool, bool)> {
        let mut v = Vec::new();
        tokenize(text, |it| {
            v.push((
                text.get(it.start..it.end).unwrap_or("<bad range>"),
                it.quoted,
                it.unterminated,
            ))
        });
        v
    }

    #[test]
    fn bare_items() {
        assert_eq!(
            items("S:LogLevel=Information;S:Message=Using Proxy http://1.2.3.4:80/ To Fetch"),
            vec![
                ("S:LogLevel=Information", false, false),
                (
                    "S:Message=Using Proxy http://1.2.3.4:80/ To Fetch",
                    false,
                    false
                )
            ]
        );
    }

    #[test]
    fn quoted_items_with_doubling_and_space() {
        assert_eq!(
            items("S:LogLevel=Error;'S:Message=a : xml''s; b'; S:Source=X"),
            vec![
                ("S:LogLevel=Error", false, false),
                ("S:Message=a : xml''s; b", true, false),
                ("S:Source=X", false, false)
            ]
        );
    }

    #[test]
    fn unterminated_and_empty() {
        assert_eq!(
            items("'S:Message=xml''s sig"),
            vec![("S:Message=xml''s sig", true, true)]
        );
        assert_eq!(items(";;  ;"), vec![]);
        assert_eq!(
            items("'x'junk;S:A=1"),
            vec![("x", true, false), ("S:A=1", false, false)]
        );
        assert_eq!(items("'"), vec![("", true, true)]);
    }
}
