//! Event Viewer "Save All Events As…" CSV and tab-delimited text (5 header
//! names, 6 fields per row: the unnamed description comes last, quoted, with
//! `""` and raw line breaks; header names are localized, so columns are taken
//! by position), and homemade `Export-Csv` files (quoted header names, optional
//! `#TYPE` line, columns by name).

use super::{Collector, EventExport, EventFormat, Level, RawEvent};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use crate::time::parse_timestamp;

/// One CSV record and where it lies in the text.
pub(super) struct CsvRecord {
    pub fields: Vec<String>,
    pub start: usize,
    pub end: usize,
    /// The record ended inside an open quote (file cut off).
    pub unterminated: bool,
}

/// RFC 4180-ish reader: quotes may span lines, `""` is a quote; a quote inside
/// an unquoted field is literal (lenient with hand-edited files).
pub(super) fn read_records(text: &str, delim: char) -> Vec<CsvRecord> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut field_start = true;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek().is_some_and(|(_, n)| *n == '"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field_start => {
                in_quotes = true;
                field_start = false;
            }
            c if c == delim => {
                fields.push(std::mem::take(&mut field));
                field_start = true;
            }
            '\n' => {
                fields.push(std::mem::take(&mut field));
                let f = std::mem::take(&mut fields);
                if !(f.len() == 1 && f.first().is_some_and(|x| x.trim().is_empty())) {
                    out.push(CsvRecord {
                        fields: f,
                        start,
                        end: i,
                        unterminated: false,
                    });
                }
                start = i + 1;
                field_start = true;
            }
            '\r' => {}
            c => {
                field.push(c);
                field_start = false;
            }
        }
    }
    if !field.is_empty() || !fields.is_empty() || in_quotes {
        fields.push(field);
        out.push(CsvRecord {
            fields,
            start,
            end: text.len(),
            unterminated: in_quotes,
        });
    }
    out
}

/// `Level,Date and Time,Source,Event ID,Task Category` (or localized, or tab-separated).
pub(super) fn is_eventviewer_header(first: &str, delim: char) -> bool {
    let names: Vec<&str> = first.split(delim).collect();
    names.len() == 5
        && !first.contains('"')
        && names
            .iter()
            .all(|n| !n.trim().is_empty() && n.chars().count() <= 40 && !n.contains(':'))
}

const EXPORT_NAMES: [&str; 10] = [
    "Id",
    "EventID",
    "InstanceId",
    "Message",
    "ProviderName",
    "Source",
    "TimeCreated",
    "TimeGenerated",
    "LevelDisplayName",
    "EntryType",
];

/// `"TimeCreated","Id","LevelDisplayName","Message","ProviderName"`.
pub(super) fn is_export_csv_header(first: &str) -> bool {
    if !first.starts_with('"') {
        return false;
    }
    let delim = export_delim(first);
    let names: Vec<String> = read_records(first, delim)
        .into_iter()
        .next()
        .map(|r| r.fields)
        .unwrap_or_default();
    names.len() >= 2
        && names
            .iter()
            .filter(|n| EXPORT_NAMES.iter().any(|k| k.eq_ignore_ascii_case(n)))
            .count()
            >= 2
}

/// `Export-Csv -UseCulture` writes `;` on de-DE systems.
pub(super) fn export_delim(header: &str) -> char {
    if header.contains("\";\"") && !header.contains("\",\"") {
        ';'
    } else {
        ','
    }
}

pub(super) fn parse_eventviewer(src: Source<'_>, format: EventFormat) -> Parsed<EventExport> {
    let delim = if format == EventFormat::EventviewerTsv {
        '\t'
    } else {
        ','
    };
    let mut c = Collector::new(format);
    let lines = super::Lines::new(src);
    let records = read_records(src.text, delim);
    for (n, r) in records.iter().enumerate() {
        let line = lines.at(r.start);
        if n == 0 && r.fields.len() == 5 {
            continue; // header
        }
        if r.unterminated {
            c.problems.push(Problem::at(
                line,
                "description quote never closed (file cut off?)",
            ));
        }
        if r.fields.len() < 5 {
            c.problems.push(Problem::at(
                line,
                format!("expected 6 fields, found {}", r.fields.len()),
            ));
            continue;
        }
        let f = |i: usize| r.fields.get(i).map(|s| s.trim()).unwrap_or("");
        let date = f(1);
        let time = parse_timestamp(date);
        if time.is_none() && !date.is_empty() {
            c.problems
                .push(Problem::at(line, format!("unreadable date `{date}`")));
        }
        let id = f(3);
        let event_id = id.parse().ok();
        if event_id.is_none() {
            c.problems
                .push(Problem::at(line, format!("unreadable event id `{id}`")));
        }
        let description = r
            .fields
            .get(5..)
            .unwrap_or_default()
            .join(&delim.to_string());
        let level_raw = Some(f(0).to_owned()).filter(|s| !s.is_empty());
        c.push(
            format,
            RawEvent {
                provider: Some(f(2).to_owned()).filter(|s| !s.is_empty()),
                event_id,
                level: level_raw.as_deref().map(Level::from_raw),
                level_raw,
                time,
                task: Some(f(4).to_owned()).filter(|s| !s.is_empty()),
                message: description,
                line,
                last_line: lines.at(r.end.saturating_sub(1).max(r.start)),
                ..RawEvent::default()
            },
        );
    }
    c.finish()
}

pub(super) fn parse_export_csv(src: Source<'_>) -> Parsed<EventExport> {
    let mut c = Collector::new(EventFormat::ExportCsv);
    let lines = super::Lines::new(src);
    // Skip `#TYPE …` (Windows PowerShell 5.1) and leading blank lines.
    let mut offset = 0;
    for l in src.text.split_inclusive('\n') {
        let t = l.trim();
        if t.is_empty() || t.starts_with("#TYPE") {
            offset += l.len();
        } else {
            break;
        }
    }
    let body = src.text.get(offset..).unwrap_or("");
    let first = body.lines().next().unwrap_or("");
    let delim = export_delim(first);
    let records = read_records(body, delim);
    let Some((header, rows)) = records.split_first() else {
        c.problems
            .push(Problem::whole("Export-Csv file without a header"));
        return c.finish();
    };
    let col = |names: &[&str]| {
        names.iter().find_map(|n| {
            header
                .fields
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
        })
    };
    let c_time = col(&["TimeCreated", "TimeGenerated", "TimeWritten"]);
    let c_id = col(&["Id", "EventID"]);
    let c_instance = col(&["InstanceId"]);
    let c_level = col(&["LevelDisplayName", "EntryType"]);
    let c_level_num = col(&["Level"]);
    let c_msg = col(&["Message"]);
    let c_provider = col(&["ProviderName", "Source"]);
    let c_machine = col(&["MachineName"]);
    let c_record = col(&["RecordId", "Index"]);
    let c_log = col(&["LogName", "ContainerLog"]);
    let c_task = col(&["TaskDisplayName", "Category"]);
    for r in rows {
        let line = lines.at(offset + r.start);
        if r.unterminated {
            c.problems.push(Problem::at(
                line,
                "quoted field never closed (file cut off?)",
            ));
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| r.fields.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let time_text = get(c_time);
        let time = time_text.and_then(parse_timestamp);
        if let (None, Some(t)) = (time, time_text) {
            c.problems
                .push(Problem::at(line, format!("unreadable time `{t}`")));
        }
        let event_id = get(c_id).and_then(|v| v.parse::<u32>().ok()).or_else(|| {
            get(c_instance)
                .and_then(|v| v.parse::<u64>().ok())
                .map(|v| (v & 0xFFFF) as u32)
        });
        let level_raw = get(c_level).or_else(|| get(c_level_num)).map(str::to_owned);
        c.push(
            EventFormat::ExportCsv,
            RawEvent {
                provider: get(c_provider).map(str::to_owned),
                event_id,
                level: level_raw.as_deref().map(Level::from_raw),
                level_raw,
                time,
                computer: get(c_machine).map(str::to_owned),
                record_id: get(c_record).and_then(|v| v.parse().ok()),
                log_name: get(c_log).map(str::to_owned),
                task: get(c_task).map(str::to_owned),
                message: c_msg
                    .and_then(|i| r.fields.get(i))
                    .cloned()
                    .unwrap_or_default(),
                line,
                last_line: lines.at(offset + r.end.saturating_sub(1).max(r.start)),
                ..RawEvent::default()
            },
        );
    }
    c.finish()
}
