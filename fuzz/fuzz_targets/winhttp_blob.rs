//! The WinHttpSettings binary layout decoder: every length field is hostile.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eems_parsers::winhttp::decode_winhttp_settings(data);
});
