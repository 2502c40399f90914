//! Every typed parser on the same text, whatever it is: the first byte picks
//! the parser so the corpus can specialise per format.
#![no_main]
use eems_parsers::{Kind, Source, parse_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = eems_parsers::text::decode(rest).text;
    let kind = Kind::ALL[usize::from(which) % Kind::ALL.len()];
    let _ = parse_as(kind, Source { text: &text, first_line: 1 });
});
