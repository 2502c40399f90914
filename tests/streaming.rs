//! Memory flat in input size (issue 14), through the real binary: a log
//! twice as large must not take more memory, in each encoding a log arrives
//! in, on disk, in a zip bundle and on standard input. The log is one of the
//! samples' real-format logs repeated; what is asserted beside the memory is
//! that every row was read (the report's row count).

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::watch::{doctor_cmd, watch};

/// Peak RSS allowed for analysing one log, whatever its size. The release
/// binary stays near 10 MB; the debug build used by `cargo test` is larger.
const RSS_KB: u64 = 64 * 1024;
/// How much more a log twice as large may take (noise of the allocator).
const GROWTH_KB: u64 = 4 * 1024;

/// `eems-doctor SUB --format json ARGS`, stdin from `stdin`: the JSON it
/// printed and its peak RSS in KiB (killed past 300 s).
fn doctor(sub: &str, args: &[&str], stdin: Option<&Path>) -> (serde_json::Value, u64) {
    let stdin = stdin.map_or_else(Stdio::null, |p| {
        Stdio::from(std::fs::File::open(p).unwrap())
    });
    let mut cmd = doctor_cmd();
    cmd.args([sub, "--format", "json"]).args(args).stdin(stdin);
    let r = watch(cmd, Duration::from_secs(300));
    (r.json(), r.peak_kb)
}

fn analyze(args: &[&str], stdin: Option<&Path>) -> (serde_json::Value, u64) {
    doctor("analyze", args, stdin)
}

/// A log of about `mib` MiB: a sample's header, then its rows repeated.
fn log_text(mib: usize) -> (String, u64) {
    let sample = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "samples/02-build-before-march-2023/MitigationService/MitigationService_2025012708-1.LOG",
    ))
    .unwrap();
    let (head, rows): (Vec<&str>, Vec<&str>) = sample
        .trim_start_matches('\u{feff}')
        .lines()
        .partition(|l| l.starts_with('#'));
    let mut text = head.join("\r\n") + "\r\n";
    let mut n = 0u64;
    while text.len() < mib << 20 {
        for r in &rows {
            text.push_str(r);
            text.push_str("\r\n");
            n += 1;
        }
    }
    (text, n)
}

fn rows(report: &serde_json::Value) -> u64 {
    // The fetch-stale evidence says "N rows, …".
    let s = report.to_string();
    let at = s.find(" rows, ").unwrap();
    let digits: String = s[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn utf16le(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    v
}

fn zip_of(dir: &Path, name: &str, entry: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
    z.start_file(entry, zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(bytes).unwrap();
    z.finish().unwrap();
    p
}

#[test]
fn a_log_twice_as_large_takes_no_more_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for mib in [8, 16] {
        let (text, n) = log_text(mib);
        let utf8 = write(dir.path(), &format!("u8-{mib}.LOG"), text.as_bytes());
        let utf16 = write(dir.path(), &format!("u16-{mib}.LOG"), &utf16le(&text));
        let zipped = zip_of(
            dir.path(),
            &format!("bundle-{mib}.zip"),
            "MitigationService/MitigationService_1.LOG",
            text.as_bytes(),
        );
        let u8s = utf8.to_str().unwrap();
        let cases: [(&str, Vec<&str>, Option<&Path>); 4] = [
            ("utf-8 file", vec![u8s], None),
            ("utf-16le file", vec![utf16.to_str().unwrap()], None),
            ("zip entry", vec![zipped.to_str().unwrap()], None),
            ("standard input", vec!["-"], Some(utf8.as_path())),
        ];
        for (what, args, stdin) in cases {
            let (report, kb) = analyze(&args, stdin);
            assert_eq!(rows(&report), n, "{what}, {mib} MiB: every row read");
            assert!(kb < RSS_KB, "{what}, {mib} MiB: peak RSS {kb} KiB");
            seen.push((what, mib, kb));
        }
    }
    eprintln!("peak RSS (what, MiB, KiB): {seen:?}");
    for (what, mib, kb) in &seen {
        if *mib == 16 {
            let small = seen
                .iter()
                .find(|(w, m, _)| w == what && *m == 8)
                .unwrap()
                .2;
            assert!(
                *kb <= small + GROWTH_KB,
                "{what}: {small} KiB at 8 MiB, {kb} KiB at 16 MiB"
            );
        }
    }
}

/// A `Format-List` value of 4 million items (16 MB): bounded memory and
/// time, the list cut at `MAX_LIST_ITEMS` and each mitigation reported once
/// (it took over 10 minutes and 2 GB before, one finding per repetition).
#[test]
fn a_list_of_four_million_items_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<String> = (0..4_000_000).map(|i| format!("M{}", i % 10)).collect();
    let text = format!(
        "\r\nName                : EX01\r\nAdminDisplayVersion : Version 15.2 (Build 1258.12)\r\nMitigationsApplied  : {{{}}}\r\nMitigationsBlocked  : {{}}\r\n\r\n",
        items.join(", ")
    );
    let p = write(dir.path(), "get-exchangeserver.txt", text.as_bytes());
    let start = Instant::now();
    let (report, kb) = analyze(&[p.to_str().unwrap()], None);
    let took = start.elapsed();
    let findings = report["servers"][0]["findings"].as_array().unwrap();
    let obsolete = findings
        .iter()
        .filter(|f| f["id"] == "mitigation-obsolete")
        .count();
    assert_eq!(obsolete, 1, "one finding for M1");
    assert!(kb < 256 * 1024, "peak RSS {kb} KiB");
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

/// `parse --format json` of a streamed log lists every row, as reading it
/// whole does, with memory flat in its size; `--max-items` cuts the list
/// and says how many rows were left out.
#[test]
fn parse_json_streams_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "samples/02-build-before-march-2023/MitigationService/MitigationService_2025012708-1.LOG",
    );
    let parse = |args: &[&str]| doctor("parse", args, None);
    let s = sample.to_str().unwrap();
    let (whole, _) = parse(&["--stream-min", "1024G", s]);
    let (streamed, _) = parse(&["--stream-min", "1", s]);
    assert_eq!(whole, streamed);
    assert_eq!(
        whole["inputs"][0]["items"][0]["records"]
            .as_array()
            .unwrap()
            .len(),
        65
    );
    let (cut, _) = parse(&["--stream-min", "1", "--max-items", "3", s]);
    assert_eq!(
        cut["inputs"][0]["items"][0]["records"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(
        cut.to_string()
            .contains("62 of 65 rows not listed (--max-items 3)")
    );
    // Memory: a log twice as large, every row listed, no more memory.
    let mut peaks = Vec::new();
    for mib in [8, 16] {
        let (text, n) = log_text(mib);
        let p = write(dir.path(), &format!("p-{mib}.LOG"), text.as_bytes());
        let (v, kb) = parse(&[p.to_str().unwrap()]);
        let listed = v["inputs"][0]["items"][0]["records"]
            .as_array()
            .unwrap()
            .len() as u64;
        assert_eq!(listed, n);
        peaks.push(kb);
    }
    eprintln!("parse peak RSS at 8 and 16 MiB: {peaks:?} KiB");
    assert!(
        peaks[1] < RSS_KB && peaks[1] <= peaks[0] + GROWTH_KB,
        "{peaks:?}"
    );
}

/// `text` (an export's records, each ending in a newline) repeated to about
/// `mib` MiB, between `head` and `tail`; with how many times it was repeated.
fn repeated(head: &str, records: &str, tail: &str, mib: usize) -> (String, u64) {
    let mut text = head.to_owned();
    let mut n = 0;
    while text.len() < mib << 20 {
        text.push_str(records);
        n += 1;
    }
    text.push_str(tail);
    (text, n)
}

/// The occurrence count of the first cause finding's evidence.
fn first_cause_count(report: &serde_json::Value) -> u64 {
    report["servers"][0]["findings"][0]["evidence"][0]["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count in {report}"))
}

/// Event exports stream record by record (issue 14): a `wevtutil /f:xml`
/// export (UTF-8) and a `Get-WinEvent | Format-List` export (UTF-16LE, as
/// `Out-File` writes it) twice as large take no more memory, and every
/// 1008 event is counted.
#[test]
fn an_event_export_twice_as_large_takes_no_more_memory() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        |p: &str| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap();
    let xml = fixture("tests/fixtures/reference/events/04-wevtutil-xml_unable-to-connect_EX04.xml");
    let events = &xml[xml.find("<Event ").unwrap()..xml.rfind("</Event>").unwrap() + 8];
    let per_xml = events.matches(">1008</EventID>").count() as u64;
    let fl = fixture("tests/fixtures/extra/events/get-winevent-fl_ps7_EX02.txt");
    let per_fl = fl
        .lines()
        .filter(|l| l.starts_with("Id ") && l.trim_end().ends_with(": 1008"))
        .count() as u64;
    assert!(per_xml > 0 && per_fl > 0, "{per_xml} {per_fl}");
    let mut kbs = Vec::new();
    for (name, mib) in [("a.xml", 12), ("b.xml", 24)] {
        let (text, n) = repeated("<Events>\n", &format!("{events}\n"), "</Events>\n", mib);
        let p = write(dir.path(), name, text.as_bytes());
        let (report, kb) = analyze(&[p.to_str().unwrap()], None);
        assert_eq!(first_cause_count(&report), n * per_xml, "{name}");
        assert!(kb < RSS_KB, "{name}: {kb} KiB");
        eprintln!("{name}: {mib} MiB, {kb} KiB");
        kbs.push(kb);
    }
    for (name, mib) in [("a.txt", 6), ("b.txt", 12)] {
        let (text, n) = repeated("", &format!("{}\n\n", fl.trim_end()), "", mib);
        let p = write(dir.path(), name, &utf16le(&text));
        let (report, kb) = analyze(&[p.to_str().unwrap()], None);
        assert_eq!(first_cause_count(&report), n * per_fl, "{name}");
        assert!(kb < RSS_KB, "{name}: {kb} KiB");
        eprintln!("{name}: {mib} MiB UTF-16, {kb} KiB");
        kbs.push(kb);
    }
    for pair in kbs.chunks(2) {
        assert!(pair[1] < pair[0] + GROWTH_KB, "grew: {kbs:?}");
    }
}

/// `parse --format json` of an event export lists every event as reading it
/// whole does, written while a second read goes through the file.
#[test]
fn parse_json_streams_the_events() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference/events/04-wevtutil-xml_unable-to-connect_EX04.xml");
    let s = sample.to_str().unwrap();
    let parse = |args: &[&str]| doctor("parse", args, None).0;
    let whole = parse(&["--stream-min", "1024G", s]);
    let streamed = parse(&["--stream-min", "1", s]);
    assert_eq!(whole, streamed);
    let listed = |v: &serde_json::Value| {
        v["inputs"][0]["items"][0]["events"]
            .as_array()
            .unwrap()
            .len()
    };
    assert!(listed(&whole) >= 2);
    let cut = parse(&["--stream-min", "1", "--max-items", "1", s]);
    assert_eq!(listed(&cut), 1);
    assert!(cut.to_string().contains(&format!(
        "{} of {} events not listed (--max-items 1)",
        listed(&whole) - 1,
        listed(&whole)
    )));
}

/// A large `.evtx` is read record by record from disk (issue 14); a broken
/// one says so as it does when read whole.
#[test]
fn a_large_evtx_streams_and_reports_as_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"ElfFile\0".to_vec();
    bytes.resize(256 * 1024, 0);
    let p = write(dir.path(), "Application.evtx", &bytes);
    let s = p.to_str().unwrap();
    let (mut whole, _) = analyze(&["--stream-min", "1024G", s], None);
    let (mut streamed, _) = analyze(&["--stream-min", "1", s], None);
    whole["generated_at"] = serde_json::Value::Null;
    streamed["generated_at"] = serde_json::Value::Null;
    assert_eq!(whole, streamed);
    assert_eq!(whole["servers"][0]["inputs"][0]["status"], "partial");
    let parse = |args: &[&str]| doctor("parse", args, None).0;
    let parsed = parse(&["--stream-min", "1024G", s]);
    assert_eq!(parsed, parse(&["--stream-min", "1", s]));
    assert!(parsed.to_string().contains(".evtx"), "{parsed}");
}
