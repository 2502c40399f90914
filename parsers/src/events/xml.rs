//! Event XML: `wevtutil /f:xml` (single quotes, no root, events back to back),
//! `/f:RenderedXml` (`<RenderingInfo><Message>`), `ToXml()` and Event Viewer
//! "Save as XML" (`<Events>` root, double quotes), the `Event Xml:` block of
//! Event Viewer text, and records rendered from `.evtx`.
//!
//! Each `<Event …>…</Event>` is cut out and read on its own with quick-xml, so
//! a broken event costs only itself.

use super::{Collector, EventExport, EventFormat, Level, RawEvent, decode_entities};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use crate::time::{Timestamp, parse_timestamp};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event as XEvent};

/// The fields of one `<Event>`.
#[derive(Debug, Clone, Default)]
pub(super) struct XmlEvent {
    pub provider: Option<String>,
    pub event_id: Option<u32>,
    pub level: Option<String>,
    pub task: Option<String>,
    pub time: Option<Timestamp>,
    pub record_id: Option<u64>,
    pub channel: Option<String>,
    pub computer: Option<String>,
    pub data: Vec<String>,
    pub rendered_message: Option<String>,
    pub rendered_level: Option<String>,
    pub rendered_task: Option<String>,
}

impl XmlEvent {
    fn message(&self) -> String {
        match &self.rendered_message {
            Some(m) if !m.trim().is_empty() => m.clone(),
            _ => self.data.join("\n"),
        }
    }

    fn level(&self) -> (Option<Level>, Option<String>) {
        let raw = self.rendered_level.clone().or_else(|| self.level.clone());
        let norm = self
            .level
            .as_deref()
            .map(Level::from_raw)
            .filter(|l| *l != Level::Unknown)
            .or_else(|| self.rendered_level.as_deref().map(Level::from_raw));
        (norm, raw)
    }

    pub fn into_raw(self, line: usize, last_line: usize) -> RawEvent {
        let message = self.message();
        let (level, level_raw) = self.level();
        RawEvent {
            provider: self.provider,
            event_id: self.event_id,
            level,
            level_raw,
            time: self.time,
            displayed_time: None,
            computer: self.computer,
            record_id: self.record_id,
            log_name: self.channel,
            task: self.rendered_task,
            message,
            line,
            last_line,
        }
    }

    /// Fill what a text header lacked; the XML time (UTC) wins over the displayed local time.
    pub fn merge_into(self, raw: &mut RawEvent) {
        let message = self.message();
        let (level, level_raw) = self.level();
        if let Some(t) = self.time {
            if raw.time.is_some_and(|d| !d.is_utc()) {
                raw.displayed_time = raw.time;
            }
            raw.time = Some(t);
        }
        raw.provider = raw.provider.take().or(self.provider);
        raw.event_id = raw.event_id.or(self.event_id);
        raw.computer = raw.computer.take().or(self.computer);
        raw.record_id = raw.record_id.or(self.record_id);
        raw.log_name = raw.log_name.take().or(self.channel);
        if raw.level_raw.is_none() {
            raw.level_raw = level_raw;
        }
        if raw.level.is_none()
            && raw.level_raw.as_deref().map(Level::from_raw) == Some(Level::Unknown)
        {
            raw.level = level;
        }
        if raw.message.trim().is_empty() {
            raw.message = message;
        }
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| decode_entities(&a.value).into_owned())
}

/// The element's local name when it is one this reader uses, else `""`:
/// no allocation per element (parsing every element name into a `String`
/// was a visible share of the time on exports with hundreds of events).
fn local(e: &BytesStart<'_>) -> &'static str {
    match e.local_name().as_ref() {
        "Provider" => "Provider",
        "TimeCreated" => "TimeCreated",
        "System" => "System",
        "EventID" => "EventID",
        "Level" => "Level",
        "Task" => "Task",
        "EventRecordID" => "EventRecordID",
        "Channel" => "Channel",
        "Computer" => "Computer",
        "EventData" => "EventData",
        "Data" => "Data",
        "RenderingInfo" => "RenderingInfo",
        "Message" => "Message",
        _ => "",
    }
}

/// Read one `<Event>` element; on malformed XML return what was read and the error.
pub(super) fn parse_one(xml: &str) -> (XmlEvent, Option<String>) {
    let mut r = Reader::from_str(xml);
    let mut ev = XmlEvent::default();
    let mut stack: Vec<&'static str> = Vec::new();
    let mut text = String::new();
    loop {
        match r.read_event() {
            Ok(XEvent::Start(e)) => {
                let name = local(&e);
                start_element(&mut ev, name, &e);
                stack.push(name);
                text.clear();
            }
            Ok(XEvent::Empty(e)) => {
                let name = local(&e);
                start_element(&mut ev, name, &e);
                if name == "Data" && stack.last().is_some_and(|p| *p == "EventData") {
                    ev.data.push(String::new());
                }
            }
            Ok(XEvent::Text(t)) => text.push_str(&t.xml10_content()),
            Ok(XEvent::CData(t)) => text.push_str(&t.xml10_content()),
            Ok(XEvent::GeneralRef(g)) => {
                let name = g.xml10_content();
                let entity = format!("&{name};");
                text.push_str(&decode_entities(&entity));
            }
            Ok(XEvent::End(_)) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().copied().unwrap_or("");
                end_element(&mut ev, name, parent, std::mem::take(&mut text));
            }
            Ok(XEvent::Eof) => {
                let err = (!stack.is_empty()).then(|| "event XML is cut off".to_owned());
                return (ev, err);
            }
            Ok(_) => {}
            Err(e) => return (ev, Some(format!("malformed event XML: {e}"))),
        }
    }
}

fn start_element(ev: &mut XmlEvent, name: &str, e: &BytesStart<'_>) {
    match name {
        "Provider" => {
            // Classic sources: `Name`; some manifests add `EventSourceName` (the classic name).
            let n = attr(e, "EventSourceName").or_else(|| attr(e, "Name"));
            if ev.provider.is_none() {
                ev.provider = n;
            }
        }
        "TimeCreated" => {
            ev.time = attr(e, "SystemTime").and_then(|t| parse_timestamp(&t));
        }
        _ => {}
    }
}

fn end_element(ev: &mut XmlEvent, name: &str, parent: &str, text: String) {
    let t = text.trim();
    match (parent, name) {
        ("System", "EventID") => ev.event_id = t.parse().ok(),
        ("System", "Level") => ev.level = Some(t.to_owned()).filter(|s| !s.is_empty()),
        ("System", "Task") => ev.task = Some(t.to_owned()).filter(|s| !s.is_empty()),
        ("System", "EventRecordID") => ev.record_id = t.parse().ok(),
        ("System", "Channel") => ev.channel = Some(t.to_owned()).filter(|s| !s.is_empty()),
        ("System", "Computer") => ev.computer = Some(t.to_owned()).filter(|s| !s.is_empty()),
        ("EventData", "Data") => ev.data.push(text),
        ("RenderingInfo", "Message") => ev.rendered_message = Some(text),
        ("RenderingInfo", "Level") => {
            ev.rendered_level = Some(t.to_owned()).filter(|s| !s.is_empty())
        }
        ("RenderingInfo", "Task") => {
            ev.rendered_task = Some(t.to_owned()).filter(|s| !s.is_empty())
        }
        _ => {}
    }
}

/// Byte ranges of `<Event …>…</Event>` elements (the end is `text.len()` when cut off).
pub(super) fn event_ranges(text: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|r| r.find("<Event")) {
        let start = from + i;
        let after = text.get(start + 6..).unwrap_or("");
        if !after.starts_with([' ', '>', '\t', '\n', '\r']) {
            from = start + 6;
            continue;
        }
        match after.find("</Event>") {
            Some(e) => {
                let end = start + 6 + e + "</Event>".len();
                out.push((start, end, true));
                from = end;
            }
            None => {
                out.push((start, text.len(), false));
                break;
            }
        }
    }
    out
}

/// Parse an XML export (any number of events, any root).
pub(super) fn parse(src: Source<'_>) -> Parsed<EventExport> {
    let mut c = Collector::new(EventFormat::EventXml);
    let lines = super::Lines::new(src);
    for (start, end, closed) in event_ranges(src.text) {
        let line = lines.at(start);
        let last = lines.at(end.saturating_sub(1));
        let xml = src.text.get(start..end).unwrap_or("");
        let (ev, err) = parse_one(xml);
        if !closed {
            c.problems
                .push(Problem::at(line, "event XML is cut off (no </Event>)"));
        } else if let Some(e) = err {
            c.problems.push(Problem::at(line, e));
        }
        c.push(EventFormat::EventXml, ev.into_raw(line, last));
    }
    if c.export.events.is_empty() && c.export.skipped.total == 0 {
        c.problems
            .push(Problem::whole("no <Event> element found in the XML"));
    }
    c.finish()
}
