//! Write the benchmark's generated MitigationService log:
//! `cargo run -p eems-parsers --release --example gen_mitigation_log -- <path> [MiB]`.

use std::io::Write;

#[path = "../benches/support/gen_mitigation_log.rs"]
mod generator;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "mitigation-bench.LOG".to_owned());
    let mib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(30);
    let log = generator::generate(mib * 1024 * 1024);
    std::fs::File::create(&path)?.write_all(log.as_bytes())
}
