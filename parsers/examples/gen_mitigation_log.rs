//! Benchmark helper for the MitigationService log reader.
//!
//! - `gen_mitigation_log <path> [MiB]`: write the generated log the criterion
//!   bench uses (default 30 MiB).
//! - `gen_mitigation_log --stream <path> [iterations]`: stream the file from
//!   memory through `LogReader` and print records, wall time and MB/s; run it
//!   under `perf stat -e task-clock` to get CPU time on a busy machine.

use eems_parsers::mitigation_log::{Entry, LogReader, MessageKind};
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

#[path = "../benches/support/gen_mitigation_log.rs"]
mod generator;

fn stream(data: &[u8]) -> usize {
    let mut r = LogReader::new(data);
    let mut n = 0;
    while let Some(e) = r.next_entry() {
        if let Entry::Record(rec) = e {
            n += 1;
            black_box((rec.time, rec.level, rec.source));
            if rec.kind == MessageKind::UsingProxy {
                black_box(rec.class_arg);
            }
        }
    }
    n
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let first = args
        .next()
        .unwrap_or_else(|| "mitigation-bench.LOG".to_owned());
    let mut out = std::io::stdout().lock();
    if first == "--stream" {
        let path = args
            .next()
            .unwrap_or_else(|| "mitigation-bench.LOG".to_owned());
        let iterations: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
        let data = std::fs::read(&path)?;
        let start = Instant::now();
        let mut records = 0;
        for _ in 0..iterations {
            records = stream(&data);
        }
        let secs = start.elapsed().as_secs_f64();
        let bytes = (data.len() * iterations) as f64;
        writeln!(
            out,
            "stream: {records} records x {iterations}, {:.0} MB in {secs:.3} s wall = {:.0} MB/s",
            bytes / 1e6,
            bytes / secs / 1e6
        )?;
        return Ok(());
    }
    let mib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(30);
    let log = generator::generate(mib * 1024 * 1024);
    std::fs::File::create(&first)?.write_all(log.as_bytes())
}
