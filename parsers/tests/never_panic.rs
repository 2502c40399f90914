//! Whatever bytes arrive, the top-level entry points return data or
//! problems: never a panic. Arbitrary bytes, every reference sample mutated
//! (byte flips, insertions, deletions, truncation), re-encoded as UTF-16, and
//! fed to every typed parser directly regardless of what it is.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use eems_parsers::{Kind, Source, parse_as, parse_input, sniff::sniff};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn samples() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        fn walk(d: &Path, out: &mut Vec<Vec<u8>>) {
            let mut es: Vec<PathBuf> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            es.sort();
            for e in es {
                if e.is_dir() {
                    walk(&e, out);
                } else {
                    out.push(std::fs::read(&e).unwrap());
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures"),
            &mut out,
        );
        assert!(out.len() > 60, "fixtures found: {}", out.len());
        out
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len().max(1);
        match m {
            Mutation::Flip(i, x) => {
                if let Some(c) = b.get_mut(i % len) {
                    *c ^= x;
                }
            }
            Mutation::Insert(i, v) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            Mutation::Truncate(i) => b.truncate(i % len),
        }
    }
    b
}

fn every_parser(text: &str) {
    for kind in Kind::ALL {
        let _ = parse_as(
            kind,
            Source {
                text,
                first_line: 7,
            },
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = sniff(&bytes, None);
        let p = parse_input(&bytes, Some("x.txt"));
        prop_assert!(!p.segments.is_empty() || p.kind == Kind::Unrecognized);
        every_parser(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_evtx_like(body in proptest::collection::vec(any::<u8>(), 0..8192)) {
        let mut bytes = b"ElfFile\0".to_vec();
        bytes.extend(body);
        let p = parse_input(&bytes, None);
        prop_assert_eq!(p.kind, Kind::EventExport);
    }

    #[test]
    fn mutated_samples(idx in any::<usize>(), muts in proptest::collection::vec(mutation(), 1..6)) {
        let s = samples();
        let original = &s[idx % s.len()];
        let mutated = apply(original.clone(), &muts);
        let _ = sniff(&mutated, Some("MitigationService_2024.LOG"));
        let _ = parse_input(&mutated, None);
        let decoded = eems_parsers::text::decode(&mutated);
        every_parser(&decoded.text);
        // The same text as UTF-16LE without BOM (a raw console capture).
        let utf16: Vec<u8> = decoded.text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let _ = parse_input(&utf16, None);
    }
}

#[test]
fn every_fixture_through_every_parser() {
    for bytes in samples() {
        let text = eems_parsers::text::decode(bytes).text;
        every_parser(&text);
        for cut in [1, 7, 100, text.len() / 2] {
            if let Some((i, _)) = text.char_indices().nth(cut) {
                every_parser(&text[..i]);
            }
        }
    }
}
