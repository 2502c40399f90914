//! Replays, on stable and in every `cargo test`, through the same entry point
//! as the fuzz target: every input that once crashed one
//! (`fuzz/regressions/<target>/`), and a slice of the minimised fuzz corpus
//! (`fuzz/corpus-replay/<target>/`, ≤ 300 small inputs per target, taken
//! from `cargo fuzz cmin` after the 10-minute runs recorded in BENCHMARKS.md).

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

fn replay_dir(root: &std::path::Path) -> usize {
    let mut replayed = 0;
    for dir in std::fs::read_dir(root).unwrap() {
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
    replayed
}

#[test]
fn the_minimised_fuzz_corpus_replays_cleanly() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-replay");
    let n = replay_dir(&root);
    assert!(
        n >= 1000,
        "expected the committed corpus slice, replayed {n}"
    );
}

#[test]
fn every_recorded_crash_stays_fixed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    // The directory exists (with its README) even before the first crash is recorded.
    assert!(root.join("README.md").exists());
    let n = replay_dir(&root);
    eprintln!("replayed {n} fuzz regression inputs");
}
