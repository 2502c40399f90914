//! The per-line core shared by [`super::parse`] and [`super::LogReader`].
//!
//! `scan` looks at one line and returns only positions and small `Copy`
//! values (no borrow of the line), so the streaming reader can loop over
//! skipped lines and then build a borrowed view; all buffers are reused, so a
//! well-formed row costs no allocation.

use super::classify::{self, Classified, MessageKind};
use super::{csv, kv};
use crate::time::{self, Timestamp};
use chrono::NaiveDate;

/// Which buffer a [`Loc`] points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Buf {
    /// The line itself.
    Line,
    /// A CSV field with `""` undone.
    Csv,
    /// A KV value with `''` undone.
    Val,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub buf: Buf,
    pub start: usize,
    pub end: usize,
}

impl Loc {
    fn line(start: usize, end: usize) -> Self {
        Loc {
            buf: Buf::Line,
            start,
            end,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct KvSpan {
    pub ty: Option<Loc>,
    pub key: Loc,
    pub value: Loc,
}

/// The three buffers a view resolves [`Loc`]s against.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bufs<'a> {
    pub line: &'a str,
    pub csv: &'a str,
    pub val: &'a str,
}

impl<'a> Bufs<'a> {
    pub fn get(&self, l: Loc) -> &'a str {
        let s = match l.buf {
            Buf::Line => self.line,
            Buf::Csv => self.csv,
            Buf::Val => self.val,
        };
        s.get(l.start..l.end).unwrap_or_default()
    }
}

/// Column roles, from `#Fields` (or a bare field-list line) when its names are known.
#[derive(Debug, Clone, Copy, Default)]
struct Schema {
    time: Option<usize>,
    server: Option<usize>,
    operation: Option<usize>,
    kv: Option<usize>,
    ncols: usize,
}

impl Schema {
    fn from_names<'a>(names: impl Iterator<Item = &'a str>) -> Option<Schema> {
        let mut s = Schema::default();
        for (i, name) in names.enumerate() {
            s.ncols = i + 1;
            let n = name.trim().to_ascii_lowercase();
            let slot = match n.as_str() {
                "datetime" | "date-time" | "timestamp" | "time" | "date" => &mut s.time,
                "servername" | "server" | "serverfqdn" | "machinename" | "machine" => &mut s.server,
                "operation" | "event" | "action" => &mut s.operation,
                "customdata" | "data" | "genericinfo" | "details" => &mut s.kv,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        // Unknown names: fall back to per-row heuristics.
        (s.time.is_some() || s.kv.is_some()).then_some(s)
    }
}

/// What one line is. Holds positions only.
#[derive(Debug, Clone)]
pub(super) enum Scanned {
    /// Blank line or a bare copy of the field list.
    Skip,
    Header {
        key: Loc,
        value: Loc,
    },
    Record(RecordScan),
    Problem(String),
}

#[derive(Debug, Clone)]
pub(super) struct RecordScan {
    pub time: Option<Timestamp>,
    pub server: Option<Loc>,
    pub operation: Option<Loc>,
    pub level: Option<Loc>,
    pub message: Option<Loc>,
    pub source: Option<Loc>,
    pub kind: MessageKind,
    pub arg: Option<Loc>,
    pub xml_not_safe: bool,
    pub count: Option<u32>,
    pub truncated: bool,
    /// Something worth a [`crate::Problem`] at this line (rare; allocates).
    pub problem: Option<String>,
}

/// Reusable per-line state: column map, KV spans and unescape buffers.
#[derive(Debug, Default)]
pub(super) struct LineParser {
    schema: Option<Schema>,
    /// Trimmed value of the last `#Fields:` line, to skip bare copies of it.
    fields_line: String,
    cols: Vec<csv::Col>,
    date_cache: Option<([u8; 10], NaiveDate)>,
    pub kv: Vec<KvSpan>,
    pub csv: String,
    pub val: String,
}

const KNOWN_TYPES: [&str; 12] = [
    "S", "I32", "I64", "U32", "U64", "Dbl", "F", "B", "D", "Dt", "L", "G",
];

const KNOWN_LEVELS: [&str; 7] = [
    "Information",
    "Warning",
    "Error",
    "Verbose",
    "Debug",
    "Critical",
    "Info",
];

/// `S:Key=…`, `'S:Key=…`, `I32:Key=…`, or the paste artefact `S_Key=…`.
fn looks_typed(s: &str) -> bool {
    let s = s.trim_start();
    let s = s.strip_prefix('\'').unwrap_or(s);
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let ty_len = b
        .iter()
        .take(6)
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(6);
    let sep_ok = match b.get(ty_len) {
        Some(b':') => ty_len <= 5,
        Some(b'_') => s.get(..ty_len).is_some_and(|t| KNOWN_TYPES.contains(&t)),
        _ => false,
    };
    sep_ok
        && b.get(ty_len + 1).is_some_and(u8::is_ascii_alphabetic)
        && memchr::memchr(b'=', b).is_some()
}

/// A bare copy of the field list: identifier-like columns, at least two.
fn looks_like_field_list(line: &str) -> bool {
    let mut n = 0;
    for name in line.split(',') {
        let name = name.trim();
        let mut chars = name.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return false;
        }
        n += 1;
    }
    n >= 2
}

/// Position of `c` in a short span: a plain loop beats memchr's dispatch
/// below a few dozen bytes (keys, column values).
fn find_short(b: &[u8], c: u8) -> Option<usize> {
    b.iter().position(|&x| x == c)
}

fn digits<const N: usize>(b: [u8; N]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Fast path for the fixed `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` layout Exchange
/// writes; anything else goes through `time::parse_timestamp`.
pub(super) fn fast_utc(s: &str, cache: &mut Option<([u8; 10], NaiveDate)>) -> Option<Timestamp> {
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        rest @ ..,
    ] = s.as_bytes()
    else {
        return None;
    };
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', frac @ .., b'Z'] if !frac.is_empty() && frac.len() <= 9 => {
            let mut v = 0u32;
            for &c in frac {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            v * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    // Consecutive rows share the date: skip the calendar check for them.
    let key = [*y0, *y1, *y2, *y3, b'-', *mo0, *mo1, b'-', *d0, *d1];
    let date = match cache {
        Some((k, d)) if *k == key => *d,
        _ => {
            let y = digits([*y0, *y1, *y2, *y3])?;
            let d = NaiveDate::from_ymd_opt(
                i32::try_from(y).ok()?,
                digits([*mo0, *mo1])?,
                digits([*d0, *d1])?,
            )?;
            *cache = Some((key, d));
            d
        }
    };
    let dt = date.and_hms_nano_opt(
        digits([*h0, *h1])?,
        digits([*mi0, *mi1])?,
        digits([*s0, *s1])?,
        nanos,
    )?;
    Some(Timestamp::Utc { utc: dt.and_utc() })
}

fn parse_time(s: &str, cache: &mut Option<([u8; 10], NaiveDate)>) -> Option<Timestamp> {
    let s = s.trim_ascii();
    fast_utc(s, cache).or_else(|| {
        // Cheap reject before the general parser: every form starts with a digit.
        s.as_bytes()
            .first()
            .filter(|b| b.is_ascii_digit())
            .and_then(|_| time::parse_timestamp(s))
    })
}

/// Sub-range of `l` after trimming whitespace of the text it points at.
fn trimmed(bufs: &Bufs<'_>, l: Loc) -> Loc {
    let s = bufs.get(l);
    let start = l.start + (s.len() - s.trim_ascii_start().len());
    let end = l.end - (s.len() - s.trim_ascii_end().len());
    Loc {
        start,
        end: end.max(start),
        ..l
    }
}

/// Undo `quote` doubling of `text` into `buf`; returns the range written.
/// A lone quote is kept as is.
fn unescape_into(buf: &mut String, text: &str, quote: u8) -> (usize, usize) {
    let start = buf.len();
    let mut rest = text;
    while let Some(q) = memchr::memchr(quote, rest.as_bytes()) {
        // `quote` is ASCII: `q + 1` is a char boundary.
        let (head, tail) = rest.split_at_checked(q + 1).unwrap_or((rest, ""));
        buf.push_str(head);
        rest = match tail.as_bytes().first() {
            Some(&b) if b == quote => tail.get(1..).unwrap_or_default(),
            _ => tail,
        };
    }
    buf.push_str(rest);
    (start, buf.len())
}

impl LineParser {
    fn bufs<'a>(&'a self, line: &'a str) -> Bufs<'a> {
        Bufs {
            line,
            csv: &self.csv,
            val: &self.val,
        }
    }

    /// Column `idx` as a trimmed [`Loc`] (unescaped into `csv` when needed).
    fn col(&mut self, line: &str, idx: usize) -> Option<Loc> {
        let c = *self.cols.get(idx)?;
        let raw = if c.escaped {
            let text = line.get(c.start..c.end).unwrap_or_default();
            let (start, end) = unescape_into(&mut self.csv, text, b'"');
            Loc {
                buf: Buf::Csv,
                start,
                end,
            }
        } else {
            Loc::line(c.start, c.end)
        };
        Some(trimmed(&self.bufs(line), raw))
    }

    fn header(&mut self, line: &str) -> Scanned {
        let body = line.get(1..).unwrap_or_default();
        let (key, value) = body.split_once(':').unwrap_or((body, ""));
        let (key, value) = (key.trim(), value.trim());
        if key.eq_ignore_ascii_case("fields") {
            self.schema = Schema::from_names(value.split(','));
            self.fields_line.clear();
            self.fields_line.push_str(value);
        }
        let at = |s: &str| {
            let start = (s.as_ptr() as usize).saturating_sub(line.as_ptr() as usize);
            Loc::line(start, start + s.len())
        };
        Scanned::Header {
            key: at(key),
            value: at(value),
        }
    }

    /// Classify one line (without its line end). `unterminated`: this is the
    /// last line of the input and no newline follows it.
    pub fn scan(&mut self, line: &str, unterminated: bool) -> Scanned {
        self.kv.clear();
        self.csv.clear();
        self.val.clear();
        let trimmed_line = line.trim_ascii();
        if trimmed_line.is_empty() {
            return Scanned::Skip;
        }
        if line.starts_with('#') {
            return self.header(line);
        }
        if !line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            if trimmed_line == self.fields_line {
                return Scanned::Skip;
            }
            if looks_like_field_list(trimmed_line) {
                // Rps_Http-style bare copy before the `#` block: use it until a `#Fields` comes.
                if self.schema.is_none() {
                    self.schema = Schema::from_names(trimmed_line.split(','));
                }
                return Scanned::Skip;
            }
        }
        // When the KV column is the last one, it runs to the end of the line:
        // its commas need no scanning (and an unquoted comma stays in it).
        let limit = match self.schema {
            Some(Schema {
                kv: Some(k), ncols, ..
            }) if k + 1 == ncols => ncols,
            _ => usize::MAX,
        };
        csv::split(line, &mut self.cols, limit);
        self.record(line, unterminated)
    }

    fn record(&mut self, line: &str, unterminated: bool) -> Scanned {
        let ncols = self.cols.len();
        let schema = self.schema.filter(|s| s.kv.is_none_or(|k| k < ncols));
        let time_idx = schema.as_ref().and_then(|s| s.time).unwrap_or(0);
        let time_loc = self.col(line, time_idx);
        let (time, time_looked_like) = {
            let bufs = Bufs {
                line,
                csv: &self.csv,
                val: &self.val,
            };
            let text = time_loc.map(|l| bufs.get(l)).unwrap_or_default();
            (
                parse_time(text, &mut self.date_cache),
                text.as_bytes().first().is_some_and(u8::is_ascii_digit),
            )
        };

        let col_text = |p: &Self, i: usize| -> &str {
            p.cols
                .get(i)
                .and_then(|c| line.get(c.start..c.end))
                .unwrap_or_default()
        };
        let skip_time = usize::from(time.is_some());
        let kv_idx = schema
            .as_ref()
            .and_then(|s| s.kv)
            .or_else(|| (skip_time..ncols).find(|&i| looks_typed(col_text(self, i))))
            .or_else(|| (ncols > 1).then(|| ncols - 1));
        let Some(kv_idx) = kv_idx.filter(|&k| time.is_some() || looks_typed(col_text(self, k)))
        else {
            return Scanned::Problem(if unterminated {
                "last line is cut off and unreadable (no final newline; file still being written?)"
                    .into()
            } else {
                let shown: String = trimmed_line_preview(line);
                format!("not a MitigationService log row: `{shown}`")
            });
        };

        let (operation_idx, server_idx) = match &schema {
            Some(s) => (s.operation.filter(|&o| o != kv_idx), s.server),
            None => {
                let op = kv_idx
                    .checked_sub(1)
                    .filter(|&o| time.is_none() || o != time_idx);
                let server = (time.is_some() && kv_idx >= time_idx + 3).then_some(time_idx + 1);
                (op, server)
            }
        };
        let operation = operation_idx.and_then(|i| self.col(line, i));
        let server = server_idx.and_then(|i| self.col(line, i));

        let kv_open = self.kv_items(line, kv_idx);
        let csv_open = self.cols.iter().any(|c| c.unterminated);

        let bufs = self.bufs(line);
        let (mut level, mut message, mut source) = (None, None, None);
        for span in &self.kv {
            let key = bufs.get(span.key);
            // Length first: most keys are rejected without a string compare.
            let slot = match key.len() {
                7 if key.eq_ignore_ascii_case("Message") => &mut message,
                8 if key.eq_ignore_ascii_case("LogLevel") => &mut level,
                5 if key.eq_ignore_ascii_case("Level") => &mut level,
                6 if key.eq_ignore_ascii_case("Source") => &mut source,
                _ => continue,
            };
            slot.get_or_insert(span.value);
        }
        let c = message
            .map(|m| classify::classify(bufs.get(m)))
            .unwrap_or(Classified {
                kind: MessageKind::Other,
                arg: None,
                xml_not_safe: false,
                count: None,
            });
        let arg = c.arg.zip(message).map(|((a, b), m)| Loc {
            buf: m.buf,
            start: m.start + a,
            end: m.start + b,
        });
        let level_known = || {
            level.is_some_and(|l| {
                let l = bufs.get(l).trim_ascii();
                KNOWN_LEVELS.iter().any(|k| k.eq_ignore_ascii_case(l))
            })
        };
        let short = schema.as_ref().is_some_and(|s| ncols < s.ncols);
        let truncated =
            unterminated && (csv_open || kv_open || message.is_none() || short || !level_known());

        let mut problem = None;
        if truncated {
            problem = Some(
                "last line is cut off (no final newline; file still being written?)".to_owned(),
            );
        } else if message.is_none() {
            problem = Some("row has no S:Message item".to_owned());
        } else if time.is_none() && time_looked_like {
            let text = time_loc.map(|l| bufs.get(l)).unwrap_or_default();
            problem = Some(format!("unreadable timestamp `{text}`"));
        }
        Scanned::Record(RecordScan {
            time,
            server,
            operation,
            level: level.map(|l| trimmed(&bufs, l)),
            message,
            source: source.map(|s| trimmed(&bufs, s)),
            kind: c.kind,
            arg,
            xml_not_safe: c.xml_not_safe,
            count: c.count,
            truncated,
            problem,
        })
    }

    /// Tokenize the KV column into `self.kv`; returns whether a quote was left open.
    fn kv_items(&mut self, line: &str, kv_idx: usize) -> bool {
        let Some(&c) = self.cols.get(kv_idx) else {
            return false;
        };
        let LineParser {
            cols, kv, csv, val, ..
        } = self;
        let (buf, base, text) = if c.escaped {
            let raw = line.get(c.start..c.end).unwrap_or_default();
            let (s, e) = unescape_into(csv, raw, b'"');
            (Buf::Csv, s, csv.get(s..e).unwrap_or_default())
        } else {
            // An unquoted message with a comma (pasted or hand-edited rows) splits
            // into more columns: glue them back up to the next typed or quoted one.
            let mut end = c.end;
            if !c.quoted {
                for d in cols.iter().skip(kv_idx + 1) {
                    let t = line.get(d.start..d.end).unwrap_or_default();
                    if d.quoted || looks_typed(t) {
                        break;
                    }
                    end = d.end;
                }
            }
            (
                Buf::Line,
                c.start,
                line.get(c.start..end).unwrap_or_default(),
            )
        };
        let text = text.trim_end_matches([' ', '\t']);
        let at = |s: usize, e: usize| Loc {
            buf,
            start: base + s,
            end: base + e,
        };
        let mut open = false;
        kv::tokenize(text, |it| {
            open |= it.unterminated;
            let item = text.get(it.start..it.end).unwrap_or_default();
            let Some(eq) = find_short(item.as_bytes(), b'=') else {
                // No `=`: an unquoted `;` inside the previous value (it was not
                // quoted by the writer or by the paste); extend that value.
                match kv.last_mut() {
                    Some(prev) if !it.quoted && prev.value.buf == buf => {
                        prev.value.end = base + it.end;
                    }
                    _ => kv.push(KvSpan {
                        ty: None,
                        key: at(it.start, it.end),
                        value: at(it.end, it.end),
                    }),
                }
                return;
            };
            let key_part = item.get(..eq).unwrap_or_default();
            let (ty, key) = split_type(key_part);
            let vstart = it.start + eq + 1;
            let vtext = text.get(vstart..it.end).unwrap_or_default();
            let value = if it.quoted && vtext.contains("''") {
                let (s, e) = unescape_into(val, vtext, b'\'');
                Loc {
                    buf: Buf::Val,
                    start: s,
                    end: e,
                }
            } else {
                at(vstart, it.end)
            };
            kv.push(KvSpan {
                ty: ty.map(|(s, e)| at(it.start + s, it.start + e)),
                key: at(it.start + key.0, it.start + key.1),
                value,
            });
        });
        open
    }
}

/// Split `S:Key` into type and key ranges (relative to `key_part`), trimmed.
/// `S_Key` (a paste artefact of `S:Key`) is accepted for known types.
fn split_type(key_part: &str) -> (Option<(usize, usize)>, (usize, usize)) {
    let lead = key_part.len() - key_part.trim_ascii_start().len();
    let kp = key_part.trim_ascii();
    let sep = find_short(kp.as_bytes(), b':').or_else(|| {
        let u = find_short(kp.as_bytes(), b'_')?;
        kp.get(..u).filter(|t| KNOWN_TYPES.contains(t)).map(|_| u)
    });
    match sep {
        Some(s) => {
            let ty = kp.get(..s).unwrap_or_default();
            let key = kp.get(s + 1..).unwrap_or_default();
            let key_lead = key.len() - key.trim_ascii_start().len();
            (
                Some((lead, lead + ty.trim_ascii_end().len())),
                (lead + s + 1 + key_lead, lead + kp.len()),
            )
        }
        None => (None, (lead, lead + kp.len())),
    }
}

fn trimmed_line_preview(line: &str) -> String {
    let t = line.trim();
    match t.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", t.get(..i).unwrap_or_default()),
        None => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_matches_time_rs() {
        for s in [
            "2024-03-14T10:00:04.112Z",
            "2024-03-14T10:00:04Z",
            "2021-04-21T19:22:38.739886100Z",
            "2024-02-29T23:59:59.9Z",
        ] {
            assert_eq!(fast_utc(s, &mut None), time::parse_timestamp(s), "{s}");
            assert!(fast_utc(s, &mut None).is_some(), "{s}");
        }
        for s in [
            "2024-13-14T10:00:04Z",
            "2024-03-14T10:00:04.Z",
            "2024-03-14 10:00:04Z",
            "2024-03-14T10:00:04.1234567890Z",
        ] {
            assert_eq!(fast_utc(s, &mut None), None, "{s}");
        }
    }

    #[test]
    fn typed_detection() {
        assert!(looks_typed("S:LogLevel=Information"));
        assert!(looks_typed("'S:Message=x"));
        assert!(looks_typed("I32:Count=3"));
        assert!(looks_typed("S_LogLevel=Warning"));
        assert!(!looks_typed("FetchMitigation"));
        assert!(!looks_typed("http://x/=y"));
        assert!(!looks_typed("My_Key=1"));
        assert!(!looks_typed("S:LogLevel"));
    }

    #[test]
    fn type_split() {
        assert_eq!(split_type("S:LogLevel"), (Some((0, 1)), (2, 10)));
        assert_eq!(split_type("S_LogLevel"), (Some((0, 1)), (2, 10)));
        assert_eq!(split_type(" Dbl:WLM.TS"), (Some((1, 4)), (5, 11)));
        assert_eq!(split_type("Plain"), (None, (0, 5)));
        assert_eq!(split_type("My_Key"), (None, (0, 6)));
    }
}
