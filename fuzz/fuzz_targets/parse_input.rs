//! The front door: decoding, sniffing, segment splitting and whichever parser
//! the sniffer picks, on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eems_parsers::sniff::sniff(data, None);
    let _ = eems_parsers::parse_input(data, Some("MitigationService_2024031409-1.LOG"));
});
