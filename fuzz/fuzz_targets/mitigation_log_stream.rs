//! The streaming MitigationService log reader on raw bytes (its own UTF-8
//! handling, buffer reuse, over-long lines).
#![no_main]
use eems_parsers::mitigation_log::{Entry, LogReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = LogReader::new(data);
    let mut n = 0usize;
    while let Some(e) = r.next_entry() {
        if let Entry::Record(rec) = e {
            let _ = rec.to_record();
        }
        n += 1;
        if n > 1_000_000 {
            break;
        }
    }
});
