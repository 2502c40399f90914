//! Replays every input that once crashed a fuzz target (`fuzz/regressions/<target>/`)
//! through the same entry point, on stable, in every `cargo test`.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use eems_parsers::{Kind, Source, parse_as};
use std::path::PathBuf;

fn run_target(target: &str, data: &[u8]) {
    match target {
        "parse_input" => {
            let _ = eems_parsers::sniff::sniff(data, None);
            let _ = eems_parsers::parse_input(data, Some("MitigationService_2024031409-1.LOG"));
        }
        "every_parser" => {
            if let Some((&which, rest)) = data.split_first() {
                let text = eems_parsers::text::decode(rest).text;
                let kind = Kind::ALL[usize::from(which) % Kind::ALL.len()];
                let _ = parse_as(
                    kind,
                    Source {
                        text: &text,
                        first_line: 1,
                    },
                );
            }
        }
        "mitigation_log_stream" => {
            let mut r = eems_parsers::mitigation_log::LogReader::new(data);
            while r.next_entry().is_some() {}
        }
        "winhttp_blob" => {
            let _ = eems_parsers::winhttp::decode_winhttp_settings(data);
        }
        "evtx" => {
            let mut bytes = b"ElfFile\0".to_vec();
            bytes.extend_from_slice(data);
            let _ = eems_parsers::events::parse_evtx(&bytes);
        }
        other => panic!("fuzz/regressions/{other}: no such fuzz target"),
    }
}

#[test]
fn every_recorded_crash_stays_fixed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            run_target(&target, &std::fs::read(&f).unwrap());
            replayed += 1;
        }
    }
    // The directory exists (with its README) even before the first crash is recorded.
    assert!(root.join("README.md").exists());
    eprintln!("replayed {replayed} fuzz regression inputs");
}
