//! Binary .evtx files (our wrapper around the evtx crate).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"ElfFile\0".to_vec();
    bytes.extend_from_slice(data);
    let _ = eems_parsers::events::parse_evtx(&bytes);
});
