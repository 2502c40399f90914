//! A lenient JSON reader for `netsh winhttp show advproxy`: tabs, trailing
//! (or doubled) commas, bare keys and case-insensitive literals are accepted,
//! because serde_json rejects what admins paste. The top-level object is read
//! member by member so that one damaged line costs one member, not the lot.
use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{opt, recognize};
use nom::error::{Error, ErrorKind};
use nom::sequence::preceded;
use nom::{IResult, Parser};
use serde_json::{Map, Number, Value};

/// Nested arrays/objects deeper than this are refused (no stack overflow on hostile input).
const MAX_DEPTH: usize = 32;

/// One member of the top-level object; `offset` is the byte offset of its key.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub key: String,
    pub value: Value,
    pub offset: usize,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectRead {
    pub members: Vec<Member>,
    /// (byte offset, message) of every place reading went wrong.
    pub errors: Vec<(usize, String)>,
    /// Byte offset just past the closing `}`, when found.
    pub end: Option<usize>,
}

/// Read the object starting at byte `start` (which must hold `{`) of `text`.
pub(crate) fn read_object(text: &str, start: usize) -> ObjectRead {
    let mut read = ObjectRead::default();
    let Some(body) = text.get(start..).and_then(|s| s.strip_prefix('{')) else {
        read.errors.push((start, "expected '{'".into()));
        return read;
    };
    let offset = |rest: &str| text.len() - rest.len();
    let mut rest = body;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            read.errors
                .push((text.len(), "JSON object not closed with '}'".into()));
            return read;
        }
        if let Some(after) = rest.strip_prefix('}') {
            read.end = Some(offset(after));
            return read;
        }
        let key_at = offset(rest);
        match member(rest) {
            Ok((after, (key, value))) => {
                read.members.push(Member {
                    key,
                    value,
                    offset: key_at,
                });
                rest = after;
                let trimmed = rest.trim_start();
                if !(trimmed.starts_with(',') || trimmed.starts_with('}') || trimmed.is_empty()) {
                    read.errors
                        .push((offset(trimmed), "expected ',' or '}' after a value".into()));
                    rest = skip_line(trimmed);
                }
            }
            Err(_) => {
                let line_rest = rest.split('\n').next().unwrap_or_default().trim_end();
                read.errors
                    .push((key_at, format!("unreadable JSON member: {line_rest}")));
                rest = skip_line(rest);
            }
        }
    }
}

/// Continue at the next line (the only sane resynchronisation point in netsh output).
fn skip_line(s: &str) -> &str {
    match s.find('\n') {
        Some(i) => s.get(i + 1..).unwrap_or_default(),
        None => "",
    }
}

fn ws(i: &str) -> IResult<&str, &str> {
    take_while(char::is_whitespace).parse(i)
}

fn member(i: &str) -> IResult<&str, (String, Value)> {
    let (i, key) = alt((string, bare_word.map(str::to_owned))).parse(i)?;
    let (i, _) = (ws, char(':')).parse(i)?;
    let (i, v) = value(i, 0)?;
    Ok((i, (key, v)))
}

fn bare_word(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_alphanumeric() || c == '_' || c == '-').parse(i)
}

fn fail<T>(i: &str, kind: ErrorKind) -> IResult<&str, T> {
    Err(nom::Err::Error(Error::new(i, kind)))
}

pub(crate) fn value(i: &str, depth: usize) -> IResult<&str, Value> {
    if depth > MAX_DEPTH {
        return fail(i, ErrorKind::TooLarge);
    }
    let (i, _) = ws(i)?;
    match i.chars().next() {
        Some('"') => string.map(Value::String).parse(i),
        Some('{') => object(i, depth + 1),
        Some('[') => array(i, depth + 1),
        _ => alt((literal, number)).parse(i),
    }
}

fn literal(i: &str) -> IResult<&str, Value> {
    alt((
        tag_no_case("true").map(|_| Value::Bool(true)),
        tag_no_case("false").map(|_| Value::Bool(false)),
        tag_no_case("null").map(|_| Value::Null),
    ))
    .parse(i)
}

fn number(i: &str) -> IResult<&str, Value> {
    let (rest, text) = recognize((
        opt(char('-')),
        digit1,
        opt(preceded(char('.'), digit1)),
        opt((
            alt((char('e'), char('E'))),
            opt(alt((char('+'), char('-')))),
            digit1,
        )),
    ))
    .parse(i)?;
    let n = text
        .parse::<i64>()
        .ok()
        .map(Number::from)
        .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64));
    match n {
        Some(n) => Ok((rest, Value::Number(n))),
        None => fail(i, ErrorKind::Float),
    }
}

fn array(i: &str, depth: usize) -> IResult<&str, Value> {
    let (mut rest, _) = char('[').parse(i)?;
    let mut items = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((after, Value::Array(items)));
        }
        let (after, v) = value(rest, depth)?;
        items.push(v);
        rest = after;
    }
}

fn object(i: &str, depth: usize) -> IResult<&str, Value> {
    let (mut rest, _) = char('{').parse(i)?;
    let mut map = Map::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((after, Value::Object(map)));
        }
        let (after, key) = alt((string, bare_word.map(str::to_owned))).parse(rest)?;
        let (after, _) = (ws, char(':')).parse(after)?;
        let (after, v) = value(after, depth)?;
        map.insert(key, v);
        rest = after;
    }
}

/// A double-quoted string with JSON escapes; unknown escapes are kept verbatim.
pub(crate) fn string(i: &str) -> IResult<&str, String> {
    let (body, _) = char('"').parse(i)?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((idx, c)) = chars.next() {
        match c {
            '"' => {
                let rest = body.get(idx + 1..).unwrap_or_default();
                return Ok((rest, out));
            }
            // A raw line break inside a string means the closing quote is missing.
            '\n' => return fail(i, ErrorKind::Char),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 'b')) => out.push('\u{8}'),
                Some((_, 'f')) => out.push('\u{c}'),
                Some((_, 'u')) => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let ch = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    out.push(ch);
                }
                Some((_, c @ ('"' | '\\' | '/'))) => out.push(c),
                Some((_, c)) => {
                    out.push('\\');
                    out.push(c);
                }
                None => return fail(i, ErrorKind::Escaped),
            },
            c => out.push(c),
        }
    }
    fail(i, ErrorKind::Char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_object() {
        let t = "{\n\t\"A\":\ttrue,\n\t\"B\":\t\" \",\n\tC: [1, 2,],\n\t\"D\": {\"x\": null,},\n}";
        let r = read_object(t, 0);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.end, Some(t.len()));
        let keys: Vec<_> = r.members.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["A", "B", "C", "D"]);
        assert_eq!(r.members[1].value, Value::String(" ".into()));
        assert_eq!(r.members[2].value, serde_json::json!([1, 2]));
    }

    #[test]
    fn damaged_member_is_skipped() {
        let t = "{\n\"A\": true,\n\"B\": \"unterminated,\n\"C\": false\n";
        let r = read_object(t, 0);
        let keys: Vec<_> = r.members.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["A", "C"]);
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        assert_eq!(r.end, None);
    }

    #[test]
    fn deep_nesting_refused() {
        let t = format!("{{\"a\": {}}}", "[".repeat(10_000));
        let r = read_object(&t, 0);
        assert!(r.members.is_empty());
        assert!(!r.errors.is_empty());
    }

    #[test]
    fn escapes() {
        assert_eq!(
            string(r#""a\"b\\c\u0041\q""#).unwrap().1,
            "a\"b\\cA\\q".to_string()
        );
    }
}
