//! `Get-WinEvent | Format-List` and `Get-EventLog | Format-List`.
//!
//! Records are runs of `Name : value` lines separated by blank lines. A value
//! continues on indented lines (15 spaces in Windows PowerShell 5.1 for the
//! default view, 4 in PowerShell 7). Out-File hard-wraps lines at the console
//! width and may split a word: a continuation line is glued to the previous
//! one without a space when that line filled the whole width, and starts a new
//! line otherwise.

use super::{Collector, EventExport, EventFormat, Level, RawEvent};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use crate::time::parse_timestamp;
use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::character::complete::{char as ch, space0};
use nom::combinator::rest;

/// `Name : value` at column 0: name, value, value column.
fn key_line(line: &str) -> Option<(&str, &str, usize)> {
    let (_, (name, _, _, _, value)) = (
        take_while1::<_, &str, nom::error::Error<&str>>(|c: char| {
            c.is_ascii_alphanumeric() || c == '_'
        }),
        space0,
        ch(':'),
        space0,
        rest,
    )
        .parse(line)
        .ok()?;
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value_col = line.len() - value.len();
    Some((name, value, value_col))
}

const WINEVENT_KEYS: [&str; 6] = [
    "TimeCreated",
    "ProviderName",
    "Id",
    "LevelDisplayName",
    "RecordId",
    "MachineName",
];
const EVENTLOG_KEYS: [&str; 5] = [
    "Index",
    "EntryType",
    "InstanceId",
    "TimeGenerated",
    "Source",
];

/// Format-List event output among the first lines?
pub(super) fn detect(head: &[&str]) -> Option<EventFormat> {
    let keys: Vec<&str> = head
        .iter()
        .filter(|l| l.contains(" :") || l.contains(": "))
        .filter_map(|l| key_line(l).map(|(k, _, _)| k))
        .collect();
    let has = |set: &[&str]| {
        set.iter()
            .filter(|k| keys.iter().any(|x| x.eq_ignore_ascii_case(k)))
            .count()
    };
    if has(&EVENTLOG_KEYS) >= 2
        && keys
            .iter()
            .any(|k| k.eq_ignore_ascii_case("EntryType") || k.eq_ignore_ascii_case("InstanceId"))
    {
        return Some(EventFormat::GetEventlogList);
    }
    if has(&WINEVENT_KEYS) >= 2
        && keys
            .iter()
            .any(|k| k.eq_ignore_ascii_case("ProviderName") || k.eq_ignore_ascii_case("Id"))
    {
        return Some(EventFormat::GetWineventList);
    }
    None
}

/// One property with its unwrapped value.
struct Prop {
    name: String,
    value: String,
}

struct Record {
    props: Vec<Prop>,
    line: usize,
    last_line: usize,
}

/// The console width the output was wrapped at, if any: the longest line
/// length, when several lines reach it (one long line alone is no wrapping).
pub(super) fn wrap_width(src: &Source<'_>) -> Option<usize> {
    let mut max = 0;
    let mut count = 0;
    for (_, l) in src.lines() {
        let n = l.chars().count();
        if n > max {
            max = n;
            count = 1;
        } else if n == max {
            count += 1;
        }
    }
    (max >= 40 && (count >= 2 || matches!(max, 79 | 80 | 119 | 120 | 132 | 160 | 200)))
        .then_some(max)
}

struct Pending<'a> {
    name: &'a str,
    first: &'a str,
    value_col: usize,
    first_full: bool,
    /// (line text, leading spaces, full width, blank lines before it)
    cont: Vec<(&'a str, usize, bool, usize)>,
}

impl Pending<'_> {
    fn finish(self) -> Prop {
        let indent = self
            .cont
            .iter()
            .map(|(_, n, _, _)| *n)
            .min()
            .unwrap_or(0)
            .min(self.value_col.max(1));
        let mut value = if self.first_full {
            String::from(self.first)
        } else {
            String::from(self.first.trim_end_matches(' '))
        };
        let mut prev_full = self.first_full;
        for (text, _, full, blanks) in self.cont {
            let content = text.get(indent..).unwrap_or_else(|| text.trim_start());
            if blanks > 0 {
                for _ in 0..blanks {
                    value.push('\n');
                }
                value.push('\n');
            } else if !prev_full {
                value.push('\n');
            }
            value.push_str(content);
            prev_full = full;
        }
        Prop {
            name: self.name.to_owned(),
            value: value.trim_end().to_owned(),
        }
    }
}

fn records(src: &Source<'_>, width: Option<usize>) -> Vec<Record> {
    let is_full = |l: &str| width.is_some_and(|w| l.chars().count() >= w);
    let mut out: Vec<Record> = Vec::new();
    let mut cur: Option<Record> = None;
    let mut pending: Option<Pending<'_>> = None;
    let mut blanks = 0;
    let mut blank_since_key = false;
    for (no, line) in src.lines() {
        if line.trim().is_empty() {
            blanks += 1;
            blank_since_key = true;
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented {
            if let Some(p) = pending.as_mut() {
                let lead = line.len() - line.trim_start_matches(' ').len();
                p.cont.push((line, lead, is_full(line), blanks));
                if let Some(r) = cur.as_mut() {
                    r.last_line = no;
                }
            }
            blanks = 0;
            blank_since_key = false;
            continue;
        }
        match key_line(line) {
            Some((name, value, value_col)) => {
                if let (Some(p), Some(r)) = (pending.take(), cur.as_mut()) {
                    r.props.push(p.finish());
                }
                if blank_since_key {
                    if let Some(r) = cur.take() {
                        out.push(r);
                    }
                }
                let r = cur.get_or_insert_with(|| Record {
                    props: Vec::new(),
                    line: no,
                    last_line: no,
                });
                r.last_line = no;
                pending = Some(Pending {
                    name,
                    first: value,
                    value_col,
                    first_full: is_full(line),
                    cont: Vec::new(),
                });
            }
            None => {
                // Not part of a list (a prompt, a banner): ends the record.
                if let (Some(p), Some(r)) = (pending.take(), cur.as_mut()) {
                    r.props.push(p.finish());
                }
                if let Some(r) = cur.take() {
                    out.push(r);
                }
            }
        }
        blanks = 0;
        blank_since_key = false;
    }
    if let (Some(p), Some(r)) = (pending.take(), cur.as_mut()) {
        r.props.push(p.finish());
    }
    if let Some(r) = cur.take() {
        out.push(r);
    }
    out
}

pub(super) fn parse(src: Source<'_>, format: EventFormat) -> Parsed<EventExport> {
    parse_wrapped(src, format, wrap_width(&src))
}

/// [`parse`] with the console width the output was wrapped at, when it was
/// taken from elsewhere (a streamed export: from its head, not each chunk).
pub(super) fn parse_wrapped(
    src: Source<'_>,
    format: EventFormat,
    width: Option<usize>,
) -> Parsed<EventExport> {
    let mut c = Collector::new(format);
    for r in records(&src, width) {
        let get = |k: &str| {
            r.props
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(k))
                .map(|p| p.value.as_str())
        };
        let is_eventlog = get("InstanceId").is_some() || get("EntryType").is_some();
        let is_event = is_eventlog
            || get("ProviderName").is_some()
            || get("Id").is_some()
            || get("TimeCreated").is_some();
        if !is_event {
            continue;
        }
        let some = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let mut raw = RawEvent {
            line: r.line,
            last_line: r.last_line,
            ..RawEvent::default()
        };
        let fmt = if is_eventlog {
            // InstanceId carries the qualifiers in its high word: 3221226480 = 0xC00003F0 → 1008.
            let id = get("EventID")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .or_else(|| {
                    get("InstanceId")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|v| (v & 0xFFFF) as u32)
                });
            raw.event_id = id;
            raw.provider = some(get("Source"));
            raw.level_raw = some(get("EntryType"));
            raw.record_id = get("Index").and_then(|v| v.trim().parse().ok());
            raw.task = some(get("Category"));
            raw.time = get("TimeGenerated").and_then(parse_timestamp);
            EventFormat::GetEventlogList
        } else {
            raw.event_id = get("Id").and_then(|v| v.trim().parse().ok());
            raw.provider = some(get("ProviderName"));
            raw.level_raw = some(get("LevelDisplayName"));
            if raw.level_raw.is_none() {
                raw.level_raw = some(get("Level"));
            }
            raw.record_id = get("RecordId").and_then(|v| v.trim().parse().ok());
            raw.task = some(get("TaskDisplayName"));
            raw.log_name = some(get("LogName"));
            raw.time = get("TimeCreated").and_then(parse_timestamp);
            EventFormat::GetWineventList
        };
        let time_text = get("TimeCreated").or_else(|| get("TimeGenerated"));
        if raw.time.is_none() && time_text.is_some_and(|t| !t.trim().is_empty()) {
            c.problems.push(Problem::at(
                r.line,
                format!("unreadable time `{}`", time_text.unwrap_or("").trim()),
            ));
        }
        raw.computer = some(get("MachineName"));
        if let Some(l) = raw.level_raw.as_deref() {
            raw.level = Some(Level::from_raw(l)).filter(|l| *l != Level::Unknown);
        }
        raw.message = get("Message").unwrap_or("").to_owned();
        c.push(fmt, raw);
    }
    c.finish()
}
