//! Throughput of the streaming MitigationService log reader (hard target:
//! ≥ 300 MB/s on one core) over a ~30 MB realistic log held in memory.
//! `MITIGATION_LOG_DUMP=<path>` also writes the generated log to a file.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use eems_parsers::mitigation_log::{Entry, LogReader, MessageKind, parse};
use eems_parsers::text::Source;
use std::hint::black_box;
use std::time::Duration;

#[path = "support/gen_mitigation_log.rs"]
mod generator;

const SIZE: usize = 30 * 1024 * 1024;

/// Everything a check would look at: time, level, class and its value.
fn stream(data: &[u8]) -> (usize, usize, usize) {
    let mut r = LogReader::new(data);
    let (mut records, mut errors, mut proxies) = (0, 0, 0);
    while let Some(e) = r.next_entry() {
        if let Entry::Record(rec) = e {
            records += 1;
            black_box(rec.time);
            errors += usize::from(rec.level == Some("Error"));
            if rec.kind == MessageKind::UsingProxy {
                proxies += rec.class_arg.map_or(0, |p| usize::from(!p.is_empty()));
            }
            black_box(rec.source);
        }
    }
    (records, errors, proxies)
}

fn bench(c: &mut Criterion) {
    let log = generator::generate(SIZE);
    if let Some(path) = std::env::var_os("MITIGATION_LOG_DUMP") {
        if let Err(e) = std::fs::write(&path, &log) {
            panic!("cannot write {}: {e}", path.to_string_lossy());
        }
    }
    let data = log.as_bytes();
    let mut g = c.benchmark_group("mitigation_log");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("stream_reader", data.len()),
        data,
        |b, d| b.iter(|| black_box(stream(d))),
    );
    // For comparison: the collecting `parse()` (owned records, allocates per row).
    g.bench_with_input(
        BenchmarkId::new("parse_owned", data.len()),
        &log,
        |b, text| b.iter(|| black_box(parse(Source::new(text)).value.record_count)),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
