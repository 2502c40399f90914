//! Label/value text exports: Event Viewer "Copy details as text", `wevtutil
//! /f:text`, and forum pastes of either (doubled lines, trailing spaces, the
//! whole event on one line, blog style `Error, Source` / `Event ID: N`).
//!
//! Labels are localized by the exporting UI, so they are mapped through a small
//! en/de/fr/es dictionary and, failing that, by position and value shape. The
//! header is a run of `Label: value` lines; the message follows the
//! description label (the first label with an empty value) and ends at an
//! `Event Xml` block, a `wevtutil` `Event[N]:` marker, or the next header.

use super::{Collector, EventExport, EventFormat, Level, RawEvent, xml};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use crate::time::parse_timestamp;
use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::character::complete::{one_of, space0};
use nom::combinator::rest;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    LogName,
    Source,
    Date,
    EventId,
    Task,
    Level,
    Opcode,
    Keywords,
    User,
    UserName,
    Computer,
    Description,
    EventXml,
}

/// Event Viewer's label order, for labels in languages the dictionary lacks.
const EV_ORDER: [Field; 10] = [
    Field::LogName,
    Field::Source,
    Field::Date,
    Field::EventId,
    Field::Task,
    Field::Level,
    Field::Keywords,
    Field::User,
    Field::Computer,
    Field::Description,
];

const WEVTUTIL_ORDER: [Field; 12] = [
    Field::LogName,
    Field::Source,
    Field::Date,
    Field::EventId,
    Field::Task,
    Field::Level,
    Field::Opcode,
    Field::Keywords,
    Field::User,
    Field::UserName,
    Field::Computer,
    Field::Description,
];

fn field_of(label: &str) -> Option<Field> {
    let l = label.trim().to_lowercase().replace('’', "'");
    Some(match l.as_str() {
        "log name" | "protokollname" | "nom du journal" | "nombre de registro" => Field::LogName,
        "source" | "quelle" | "origen" | "provider" => Field::Source,
        "date" | "datum" | "fecha" | "logged" | "protokolliert" | "date and time" => Field::Date,
        "event id"
        | "eventid"
        | "ereignis-id"
        | "id de l'événement"
        | "id. del evento"
        | "id del evento" => Field::EventId,
        "task category"
        | "task"
        | "aufgabenkategorie"
        | "catégorie de la tâche"
        | "categoría de la tarea" => Field::Task,
        "level" | "ebene" | "niveau" | "nivel" => Field::Level,
        "opcode" | "code opération" => Field::Opcode,
        "keywords" | "keyword" | "schlüsselwörter" | "mots-clés" | "palabras clave" => {
            Field::Keywords
        }
        "user" | "benutzer" | "utilisateur" | "usuario" => Field::User,
        "user name" | "benutzername" => Field::UserName,
        "computer" | "ordinateur" | "equipo" | "machine name" => Field::Computer,
        "description" | "beschreibung" | "descripción" => Field::Description,
        "event xml" | "ereignis-xml" | "xml de l'événement" | "xml del evento" => Field::EventXml,
        _ => return None,
    })
}

/// A `Label: value` line: the label, the value (trimmed) and the value's column.
pub(super) struct LabelLine<'a> {
    pub label: &'a str,
    pub value: &'a str,
    /// Characters before the value (padding check).
    pub value_col: usize,
}

fn label_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '-' | '.' | '\'' | '’' | '_' | '(' | ')')
}

pub(super) fn label_line(line: &str) -> Option<LabelLine<'_>> {
    let (after, (indent, label, _colon, gap, value)) = (
        space0::<&str, nom::error::Error<&str>>,
        take_while1(label_char),
        one_of(":："),
        space0,
        rest,
    )
        .parse(line)
        .ok()?;
    let _ = after;
    let trimmed = label.trim_end();
    if trimmed.is_empty()
        || trimmed.chars().count() > 40
        || !trimmed.chars().next().is_some_and(char::is_alphabetic)
        || value.starts_with("//")
    {
        return None;
    }
    let value_col = indent.chars().count() + label.chars().count() + 1 + gap.chars().count();
    Some(LabelLine {
        label: trimmed,
        value: value.trim_end(),
        value_col,
    })
}

/// `Event[12]:`
pub(super) fn is_wevtutil_marker(t: &str) -> bool {
    t.strip_prefix("Event[")
        .and_then(|r| r.strip_suffix("]:"))
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// `Error, MSExchange Mitigation Service` (blog style): level and provider.
fn blog_head(t: &str) -> Option<(&str, &str)> {
    let (level, provider) = t.split_once(',')?;
    let provider = provider.trim();
    (Level::from_raw(level) != Level::Unknown
        && !level.trim().contains(' ')
        && !provider.is_empty()
        && !provider.contains(':'))
    .then_some((level.trim(), provider))
}

#[derive(Debug, Clone)]
pub(super) struct Line<'a> {
    pub no: usize,
    pub text: Cow<'a, str>,
}

/// Parse Event Viewer text or wevtutil text.
pub(super) fn parse(src: Source<'_>, format: EventFormat) -> Parsed<EventExport> {
    let lines: Vec<Line<'_>> = src
        .lines()
        .map(|(no, t)| Line {
            no,
            text: Cow::Borrowed(t),
        })
        .collect();
    let mut c = Collector::new(format);
    scan(&lines, format, &mut c);
    c.finish()
}

/// Parse a forum paste: undo the doubling and flattening, then read as Event Viewer text.
pub(super) fn parse_paste(src: Source<'_>) -> Parsed<EventExport> {
    let lines = normalize_paste(src);
    let mut c = Collector::new(EventFormat::ForumPaste);
    scan(&lines, EventFormat::ForumPaste, &mut c);
    if c.export.events.is_empty() && c.export.skipped.total == 0 {
        bare_message(&lines, &mut c);
    }
    c.finish()
}

/// A paste of only the message text: keep it when it is unmistakably an EEMS event message.
fn bare_message(lines: &[Line<'_>], c: &mut Collector) {
    let text: Vec<&str> = lines.iter().map(|l| l.text.as_ref()).collect();
    let message = text.join("\n");
    if !is_bare_event_message(&message) {
        return;
    }
    let first = lines.iter().find(|l| !l.text.trim().is_empty());
    let last = lines.iter().rev().find(|l| !l.text.trim().is_empty());
    c.push(
        EventFormat::ForumPaste,
        RawEvent {
            message: message.trim().to_owned(),
            line: first.map_or(1, |l| l.no),
            last_line: last.map_or(1, |l| l.no),
            ..RawEvent::default()
        },
    );
}

/// The service's event text pasted without any header: its own opening
/// sentence or a .NET exception line, and words that name the service.
/// Structure, not words alone: prose that quotes the message is not an event.
fn is_bare_event_message(m: &str) -> bool {
    (m.contains("An unexpected exception occurred. Diagnostic information:")
        || has_exception_type(m))
        && super::is_eems_message(m)
}

/// `System.Net.WebException:` — a dotted .NET type name ending in
/// `Exception` right before a colon, as exception chains print them.
fn has_exception_type(m: &str) -> bool {
    m.match_indices("Exception:").any(|(i, _)| {
        let before = m.get(..i).unwrap_or_default();
        // The delimiter found is not ASCII alphanumeric but may be multi-byte.
        let name_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '.'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let name = before.get(name_start..).unwrap_or_default();
        name.contains('.') && name.starts_with(|c: char| c.is_ascii_uppercase())
    })
}

fn normalize_paste<'a>(src: Source<'a>) -> Vec<Line<'a>> {
    let raw: Vec<(usize, &str)> = src.lines().map(|(n, t)| (n, t.trim_end())).collect();
    let doubled = is_doubled(raw.iter().map(|(_, t)| *t));
    let mut out: Vec<Line<'a>> = Vec::with_capacity(raw.len());
    let mut blank_run: Vec<usize> = Vec::new();
    for (no, t) in raw {
        if t.is_empty() {
            blank_run.push(no);
            continue;
        }
        // Each original line break became two: a run of n blanks was n/2.
        let keep = if doubled {
            blank_run.len() / 2
        } else {
            blank_run.len()
        };
        out.extend(blank_run.drain(..).take(keep).map(|no| Line {
            no,
            text: Cow::Borrowed(""),
        }));
        blank_run.clear();
        match unflatten(t) {
            Some(parts) => out.extend(parts.into_iter().map(|p| Line {
                no,
                text: Cow::Owned(p),
            })),
            None => out.push(Line {
                no,
                text: Cow::Borrowed(t),
            }),
        }
    }
    out
}

/// Most non-blank lines are followed by exactly one blank line.
fn is_doubled<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    let v: Vec<&str> = lines.collect();
    let nonblank = v.iter().filter(|l| !l.trim().is_empty()).count();
    if nonblank < 3 {
        return false;
    }
    let followed = v
        .windows(3)
        .filter(|w| {
            let [a, b, c] = w else { return false };
            !a.trim().is_empty() && b.trim().is_empty() && !c.trim().is_empty()
        })
        .count();
    followed * 10 >= (nonblank - 1) * 6
}

/// Labels searched inside a flattened line (en, de).
const INLINE_LABELS: [&str; 21] = [
    "Log Name:",
    "Source:",
    "Date:",
    "Event ID:",
    "Task Category:",
    "Level:",
    "Keywords:",
    "User:",
    "Computer:",
    "Description:",
    "Protokollname:",
    "Quelle:",
    "Datum:",
    "Ereignis-ID:",
    "Aufgabenkategorie:",
    "Ebene:",
    "Schlüsselwörter:",
    "Benutzer:",
    "Beschreibung:",
    "Event Xml:",
    "Ereignis-XML:",
];

/// Split a whole event flattened onto one line back into label lines. The
/// message after the description label is left in one piece (the exception
/// parser copes with that), except for a trailing `Event Xml:` block.
fn unflatten(line: &str) -> Option<Vec<String>> {
    if line.len() < 40 {
        return None;
    }
    let mut hits: Vec<(usize, &str)> = Vec::new();
    for label in INLINE_LABELS {
        for (i, _) in line.match_indices(label) {
            let at_word = i == 0
                || line
                    .get(..i)
                    .and_then(|b| b.chars().next_back())
                    .is_some_and(char::is_whitespace);
            if at_word {
                hits.push((i, label));
            }
        }
    }
    hits.sort_unstable();
    // Up to the description label; after it only an `Event Xml:` block followed by `<Event`.
    let mut cuts = Vec::new();
    let mut in_message = false;
    for (i, label) in hits {
        let is_desc = matches!(label, "Description:" | "Beschreibung:");
        let is_xml = matches!(label, "Event Xml:" | "Ereignis-XML:");
        if in_message {
            let xml_follows = line
                .get(i + label.len()..)
                .is_some_and(|r| r.trim_start().starts_with("<Event"));
            if is_xml && xml_follows {
                cuts.push(i);
                if let Some(x) = line.get(i..).and_then(|r| r.find("<Event")) {
                    cuts.push(i + x);
                }
                break;
            }
            continue;
        }
        cuts.push(i);
        if is_desc {
            in_message = true;
            cuts.push(i + label.len());
        }
    }
    let labels = cuts.len();
    if labels < 4 {
        return None;
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        if let Some(p) = line.get(start..c) {
            if !p.trim().is_empty() {
                parts.push(p.trim().to_owned());
            }
            start = c;
        }
    }
    if let Some(p) = line.get(start..) {
        if !p.trim().is_empty() {
            parts.push(p.trim().to_owned());
        }
    }
    Some(parts)
}

/// Is there a header starting at `i`?
fn header_start(lines: &[Line<'_>], i: usize) -> bool {
    let Some(l) = lines.get(i).and_then(|l| label_line(&l.text)) else {
        return false;
    };
    if field_of(l.label).is_some_and(|f| f != Field::Description && f != Field::EventXml) {
        return true;
    }
    // Unknown language: three label lines with values in a row.
    !l.value.is_empty()
        && lines
            .iter()
            .skip(i + 1)
            .filter(|l| !l.text.trim().is_empty())
            .take(2)
            .filter(|l| label_line(&l.text).is_some_and(|x| !x.value.is_empty()))
            .count()
            == 2
}

fn next_nonblank<'l, 'a>(lines: &'l [Line<'a>], from: usize) -> Option<&'l Line<'a>> {
    lines.iter().skip(from).find(|l| !l.text.trim().is_empty())
}

fn scan(lines: &[Line<'_>], format: EventFormat, c: &mut Collector) {
    let mut i = 0;
    while i < lines.len() {
        let Some(line) = lines.get(i) else { break };
        let t = line.text.trim();
        if t.is_empty() || is_wevtutil_marker(t) {
            i += 1;
            continue;
        }
        if let Some((level, provider)) = blog_head(t) {
            let id_follows = next_nonblank(lines, i + 1)
                .and_then(|l| label_line(&l.text))
                .is_some_and(|l| field_of(l.label) == Some(Field::EventId));
            if id_follows {
                i = blog_event(lines, i, level, provider, format, c);
                continue;
            }
        }
        if header_start(lines, i) {
            i = event(lines, i, format, c);
            continue;
        }
        i += 1;
    }
}

fn assign(raw: &mut RawEvent, field: Field, value: &str, c: &mut Collector, line: usize) {
    let v = value.trim();
    let some = || (!v.is_empty()).then(|| v.to_owned());
    match field {
        Field::LogName => raw.log_name = some(),
        Field::Source => raw.provider = some(),
        Field::Date => {
            raw.time = parse_timestamp(v);
            if raw.time.is_none() && !v.is_empty() {
                c.problems
                    .push(Problem::at(line, format!("unreadable event date `{v}`")));
            }
        }
        Field::EventId => {
            raw.event_id = v.parse().ok();
            if raw.event_id.is_none() && !v.is_empty() {
                c.problems
                    .push(Problem::at(line, format!("unreadable event id `{v}`")));
            }
        }
        Field::Task => raw.task = some(),
        Field::Level => raw.level_raw = some(),
        Field::Computer => raw.computer = some(),
        Field::Opcode
        | Field::Keywords
        | Field::User
        | Field::UserName
        | Field::Description
        | Field::EventXml => {}
    }
}

/// Field for a label the dictionary does not know: by value shape, then position.
fn guess(value: &str, pos: usize, format: EventFormat, raw: &RawEvent) -> Option<Field> {
    let v = value.trim();
    if raw.time.is_none() && parse_timestamp(v).is_some() {
        return Some(Field::Date);
    }
    if raw.event_id.is_none() && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Field::EventId);
    }
    let order: &[Field] = if format == EventFormat::WevtutilText {
        &WEVTUTIL_ORDER
    } else {
        &EV_ORDER
    };
    let f = order.get(pos).copied();
    // Shape checks above own dates and ids; do not let position assign them again.
    f.filter(|f| !matches!(f, Field::Date | Field::EventId))
}

/// One header + message (+ optional XML block) starting at `start`; returns the next index.
fn event(lines: &[Line<'_>], start: usize, format: EventFormat, c: &mut Collector) -> usize {
    let mut raw = RawEvent {
        line: lines.get(start).map_or(1, |l| l.no),
        ..RawEvent::default()
    };
    raw.last_line = raw.line;
    let first_label = lines
        .get(start)
        .and_then(|l| label_line(&l.text))
        .map(|l| l.label.to_lowercase())
        .unwrap_or_default();
    let mut j = start;
    let mut pos = 0;
    let mut message: Vec<&str> = Vec::new();
    // Header.
    while let Some(line) = lines.get(j) {
        if line.text.trim().is_empty() {
            j += 1;
            continue;
        }
        if is_wevtutil_marker(line.text.trim()) {
            break;
        }
        let Some(l) = label_line(&line.text) else {
            break;
        };
        let field = field_of(l.label).or_else(|| {
            if l.value.is_empty() {
                Some(Field::Description)
            } else {
                guess(l.value, pos, format, &raw)
            }
        });
        raw.last_line = line.no;
        j += 1;
        match field {
            Some(Field::Description) => {
                if !l.value.is_empty() {
                    message.push(l.value);
                }
                break;
            }
            Some(f) => assign(&mut raw, f, l.value, c, line.no),
            None => {}
        }
        pos += 1;
    }
    // Message.
    let mut xml_block: Option<(usize, usize)> = None;
    let mut msg_last = None;
    while let Some(line) = lines.get(j) {
        let t = line.text.as_ref();
        let ts = t.trim_start();
        if is_wevtutil_marker(t.trim()) {
            break;
        }
        if starts_event_element(ts) {
            let end = (j..lines.len())
                .find(|&k| lines.get(k).is_some_and(|l| l.text.contains("</Event>")))
                .unwrap_or(lines.len().saturating_sub(1));
            xml_block = Some((j, end));
            j = end + 1;
            break;
        }
        let next_is_header = label_line(t).is_some_and(|l| l.label.to_lowercase() == first_label)
            && next_nonblank(lines, j + 1).is_some_and(|n| label_line(&n.text).is_some());
        if next_is_header && !first_label.is_empty() {
            break;
        }
        message.push(t);
        if !t.trim().is_empty() {
            msg_last = Some((message.len(), line.no));
        }
        j += 1;
    }
    // Drop blank tail and the `Event Xml:` label before an XML block.
    if let Some((len, no)) = msg_last {
        message.truncate(len);
        raw.last_line = raw.last_line.max(no);
    } else {
        message.clear();
    }
    if xml_block.is_some() {
        if let Some(last) = message.last() {
            let is_xml_label = label_line(last).is_some_and(|l| {
                l.value.is_empty()
                    && (field_of(l.label) == Some(Field::EventXml)
                        || l.label.to_lowercase().ends_with("xml"))
            });
            if is_xml_label {
                message.pop();
            }
        }
    }
    raw.message = message.join("\n");
    if let Some((from, to)) = xml_block {
        let text: Vec<&str> = lines
            .get(from..=to)
            .unwrap_or_default()
            .iter()
            .map(|l| l.text.as_ref())
            .collect();
        let (x, err) = xml::parse_one(&text.join("\n"));
        if let Some(e) = err {
            let at = lines.get(from).map_or(raw.line, |l| l.no);
            c.problems
                .push(Problem::at(at, format!("event XML block: {e}")));
        }
        x.merge_into(&mut raw);
        if let Some(l) = lines.get(to) {
            raw.last_line = raw.last_line.max(l.no);
        }
    }
    c.push(format, raw);
    j.max(start + 1)
}

fn starts_event_element(ts: &str) -> bool {
    ts.strip_prefix("<Event")
        .is_some_and(|r| r.starts_with([' ', '>', '\t']) || r.is_empty())
}

/// `Error, Source` / `Event ID: N` / message up to a blank line.
fn blog_event(
    lines: &[Line<'_>],
    start: usize,
    level: &str,
    provider: &str,
    format: EventFormat,
    c: &mut Collector,
) -> usize {
    let mut raw = RawEvent {
        level_raw: Some(level.to_owned()),
        provider: Some(provider.to_owned()),
        line: lines.get(start).map_or(1, |l| l.no),
        ..RawEvent::default()
    };
    raw.last_line = raw.line;
    let mut j = start + 1;
    while let Some(line) = lines.get(j) {
        if line.text.trim().is_empty() {
            j += 1;
            continue;
        }
        let known = label_line(&line.text).and_then(|l| field_of(l.label).map(|f| (f, l.value)));
        match known {
            Some((Field::Description, v)) => {
                if !v.is_empty() {
                    raw.message = v.to_owned();
                }
                j += 1;
                break;
            }
            Some((f, v)) => {
                assign(&mut raw, f, v, c, line.no);
                raw.last_line = line.no;
                j += 1;
            }
            None => break,
        }
    }
    let mut message: Vec<&str> = Vec::new();
    if !raw.message.is_empty() {
        message.push(&raw.message);
    }
    let mut last = raw.last_line;
    while let Some(line) = lines.get(j) {
        let t = line.text.trim();
        if t.is_empty() || blog_head(t).is_some() || header_start(lines, j) {
            break;
        }
        message.push(line.text.as_ref());
        last = line.no;
        j += 1;
    }
    let joined = message.join("\n");
    raw.message = joined;
    raw.last_line = last;
    c.push(format, raw);
    j.max(start + 1)
}

/// Event Viewer text, wevtutil text or a forum paste?
pub(super) fn detect(head: &[&str], text: &str) -> Option<EventFormat> {
    let labels: Vec<LabelLine<'_>> = head
        .iter()
        .filter_map(|l| label_line(l))
        .filter(|l| field_of(l.label).is_some())
        .collect();
    let trailing_spaces = head.iter().filter(|l| l.ends_with("  ")).count();
    let doubled = is_doubled(head.iter().copied());
    // Every Event Viewer export names the event id; other label/value outputs
    // (Health Checker, netsh) may share `Source:`/`Level:`/`Computer:`.
    let has_id = labels
        .iter()
        .any(|l| field_of(l.label) == Some(Field::EventId));
    if labels.len() >= 3 && has_id {
        let padded = labels
            .iter()
            .filter(|l| l.value.is_empty() || l.value_col >= 12)
            .count();
        let clean = !doubled && trailing_spaces * 4 < labels.len();
        if clean && padded * 2 > labels.len() {
            return Some(EventFormat::EventviewerText);
        }
        return Some(EventFormat::ForumPaste);
    }
    if head.iter().any(|l| unflatten(l.trim_end()).is_some()) {
        return Some(EventFormat::ForumPaste);
    }
    let blog = head.windows(2).any(|w| {
        let [a, b] = w else { return false };
        blog_head(a.trim()).is_some()
            && label_line(b).is_some_and(|l| field_of(l.label) == Some(Field::EventId))
    });
    if blog {
        return Some(EventFormat::ForumPaste);
    }
    let sample: String = head.join("\n");
    let sample = if sample.len() < text.len() {
        sample
    } else {
        text.to_owned()
    };
    // Event XML quotes the same chain; it is recognised as XML, not as a paste.
    let xml = head.iter().any(|l| super::is_xml_event_line(l));
    (!xml && is_bare_event_message(&sample)).then_some(EventFormat::ForumPaste)
}
