//! Binary `.evtx`: each record is rendered to XML by the evtx crate and read by
//! the Event XML reader. A corrupt file or record becomes a problem; records
//! after a bad one are still read.

use super::stream::StreamedExport;
use super::{Collector, Event, EventExport, EventFormat, xml};
use crate::problem::{Parsed, Problem};
use evtx::EvtxParser;
use std::io::{Read, Seek};

/// Read an `.evtx` file. `line` / `last_line` of an event are the 1-based
/// ordinal of its record in the file (records have no text lines).
pub fn parse_evtx(bytes: &[u8]) -> Parsed<EventExport> {
    let mut events = Vec::new();
    let (mut c, _) = read(EvtxParser::from_buffer(bytes.to_vec()), |e| events.push(e));
    c.export.events = events;
    c.export.streamed_events = None;
    c.finish()
}

/// Read an `.evtx` file from a seekable source (a file on disk) record by
/// record, handing each kept event to `on_event` (issue 14): the evtx crate
/// reads it a 64 KiB chunk at a time, so memory does not grow with it.
pub fn stream_evtx(source: impl Read + Seek, on_event: impl FnMut(Event)) -> StreamedExport {
    let (c, seen) = read(EvtxParser::from_read_seek(source), on_event);
    StreamedExport {
        export: c.export,
        problems: c.problems,
        lines: seen,
    }
}

/// The records of `parser` through a collector whose kept events go to
/// `on_event`; with how many records were seen.
fn read<T: Read + Seek>(
    parser: evtx::err::Result<EvtxParser<T>>,
    mut on_event: impl FnMut(Event),
) -> (Collector, usize) {
    let mut c = Collector::new(EventFormat::Evtx);
    let mut kept = 0u64;
    // The evtx crate validates its input, but it is a large binary parser fed
    // with untrusted files: a panic inside it must not take the caller down.
    let mut seen = 0usize;
    let mut dropped = 0usize;
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        records(parser, &mut c, (&mut seen, &mut dropped), &mut |e| {
            kept += 1;
            on_event(e);
        });
    }));
    if dropped > 0 {
        c.problems.push(Problem::whole(format!(
            "{dropped} more problems not listed"
        )));
    }
    if run.is_err() {
        c.problems.push(Problem::whole(
            "the evtx reader failed on this file (internal error)",
        ));
    }
    c.export.streamed_events = Some(kept);
    (c, seen)
}

fn records<T: Read + Seek>(
    parser: evtx::err::Result<EvtxParser<T>>,
    c: &mut Collector,
    (seen, dropped): (&mut usize, &mut usize),
    on_event: &mut dyn FnMut(Event),
) {
    // A corrupt file can hold a problem per record: keep the first ones.
    let mut problem = |c: &mut Collector, p: Problem| {
        if c.problems.len() < super::stream::MAX_PROBLEMS {
            c.problems.push(p);
        } else {
            *dropped += 1;
        }
    };
    let mut parser = match parser {
        Ok(p) => p,
        Err(e) => {
            c.problems
                .push(Problem::whole(format!("not a readable .evtx file: {e}")));
            return;
        }
    };
    for (i, record) in parser.records().enumerate() {
        let ordinal = i + 1;
        *seen = ordinal;
        match record {
            Ok(r) => {
                let (ev, err) = xml::parse_one(&r.data);
                if let Some(e) = err {
                    let at = format!("record {}: {e}", r.event_record_id);
                    problem(c, Problem::at(ordinal, at));
                }
                let mut raw = ev.into_raw(ordinal, ordinal);
                raw.record_id = raw.record_id.or(Some(r.event_record_id));
                c.push(EventFormat::Evtx, raw);
                c.export.events.drain(..).for_each(&mut *on_event);
            }
            Err(e) => problem(c, Problem::at(ordinal, format!("unreadable record: {e}"))),
        }
    }
    if *seen == 0 {
        c.problems
            .push(Problem::whole("the .evtx file holds no records"));
    }
}

#[cfg(test)]
pub(crate) mod synth {
    //! A compact EVTX writer for tests: one chunk, records made of plain BinXML
    //! elements (no templates), following the layout of the evtx crate's own
    //! `tests/fixtures.rs` (`synthetic_evtx`).

    const FILE_HEADER: usize = 4096;
    const CHUNK: usize = 65536;
    const CHUNK_HEADER: usize = 512;
    const RECORD_HEADER: usize = 24;

    /// BinXML written at a known chunk offset (inline names point at themselves).
    struct BinXml {
        bytes: Vec<u8>,
        base: u32,
    }

    impl BinXml {
        fn pos(&self) -> u32 {
            self.base + self.bytes.len() as u32
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.bytes.extend_from_slice(b);
            self
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.raw(&v.to_le_bytes())
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.raw(&v.to_le_bytes())
        }
        fn utf16(&mut self, s: &str) -> &mut Self {
            for u in s.encode_utf16() {
                self.u16(u);
            }
            self
        }
        fn name(&mut self, name: &str) -> &mut Self {
            let at = self.pos() + 4;
            self.u32(at)
                .u32(0)
                .u16(0)
                .u16(name.encode_utf16().count() as u16)
                .utf16(name)
                .u16(0)
        }
        fn open(&mut self, name: &str, attrs: bool) -> &mut Self {
            self.raw(&[if attrs { 0x41 } else { 0x01 }])
                .u32(0)
                .name(name);
            if attrs {
                self.u32(0);
            }
            self
        }
        fn text(&mut self, t: &str) -> &mut Self {
            self.raw(&[0x05, 0x01])
                .u16(t.encode_utf16().count() as u16)
                .utf16(t)
        }
        fn element(&mut self, name: &str, t: &str) -> &mut Self {
            self.open(name, false).raw(&[0x02]).text(t).raw(&[0x04])
        }
        fn empty_with_attr(&mut self, name: &str, attr: &str, value: &str) -> &mut Self {
            self.open(name, true)
                .raw(&[0x06])
                .name(attr)
                .text(value)
                .raw(&[0x03])
        }
    }

    /// One event record's content.
    pub struct Rec<'a> {
        pub provider: &'a str,
        pub id: &'a str,
        pub level: &'a str,
        pub time: &'a str,
        pub computer: &'a str,
        pub data: &'a str,
    }

    fn record(x: &mut BinXml, r: &Rec<'_>, record_id: u64) {
        x.raw(&[0x0f, 1, 1, 0]);
        x.open("Event", false).raw(&[0x02]);
        x.open("System", false).raw(&[0x02]);
        x.empty_with_attr("Provider", "Name", r.provider);
        x.element("EventID", r.id)
            .element("Level", r.level)
            .element("Task", "1")
            .element("Keywords", "0x80000000000000");
        x.empty_with_attr("TimeCreated", "SystemTime", r.time);
        x.element("EventRecordID", &record_id.to_string())
            .element("Channel", "Application")
            .element("Computer", r.computer);
        x.raw(&[0x04]);
        x.open("EventData", false).raw(&[0x02]);
        x.element("Data", r.data);
        x.raw(&[0x04]);
        x.raw(&[0x04]);
        x.raw(&[0x00]);
    }

    fn put(buf: &mut [u8], at: usize, b: &[u8]) {
        if let Some(dst) = buf.get_mut(at..at + b.len()) {
            dst.copy_from_slice(b);
        }
    }

    /// A one-chunk `.evtx` file holding `records` (record ids 1…n).
    pub fn evtx(records: &[Rec<'_>]) -> Vec<u8> {
        let count = records.len();
        let mut file = vec![0u8; FILE_HEADER + CHUNK];
        put(&mut file, 0, b"ElfFile\0");
        put(&mut file, 24, &(count as u64 + 1).to_le_bytes());
        put(&mut file, 32, &128u32.to_le_bytes());
        put(&mut file, 36, &1u16.to_le_bytes());
        put(&mut file, 38, &3u16.to_le_bytes());
        put(&mut file, 40, &(FILE_HEADER as u16).to_le_bytes());
        put(&mut file, 42, &1u16.to_le_bytes());
        let sum = evtx::checksum_ieee(&file[..120]);
        put(&mut file, 124, &sum.to_le_bytes());

        let chunk = &mut file[FILE_HEADER..];
        let mut start = CHUNK_HEADER;
        let mut last = start;
        for (i, r) in records.iter().enumerate() {
            let mut x = BinXml {
                bytes: Vec::new(),
                base: (start + RECORD_HEADER) as u32,
            };
            record(&mut x, r, i as u64 + 1);
            let size = RECORD_HEADER + x.bytes.len() + 4;
            let rec = &mut chunk[start..start + size];
            put(rec, 0, b"**\0\0");
            put(rec, 4, &(size as u32).to_le_bytes());
            put(rec, 8, &(i as u64 + 1).to_le_bytes());
            put(rec, 16, &133_551_234_050_000_000u64.to_le_bytes());
            put(rec, RECORD_HEADER, &x.bytes);
            put(rec, size - 4, &(size as u32).to_le_bytes());
            last = start;
            start += size;
        }
        put(chunk, 0, b"ElfChnk\0");
        for (at, id) in [(8, 1), (16, count), (24, 1), (32, count)] {
            put(chunk, at, &(id as u64).to_le_bytes());
        }
        put(chunk, 40, &128u32.to_le_bytes());
        put(chunk, 44, &(last as u32).to_le_bytes());
        put(chunk, 48, &(start as u32).to_le_bytes());
        let events = evtx::checksum_ieee(&chunk[CHUNK_HEADER..start]);
        put(chunk, 52, &events.to_le_bytes());
        let header = evtx::checksum_ieee(&[&chunk[..120], &chunk[128..CHUNK_HEADER]].concat());
        put(chunk, 124, &header.to_le_bytes());
        file
    }
}
