//! Event parser throughput on large generated exports (the reference samples
//! repeated to about 10 MB per format).
//!
//! `cargo bench -p eems-parsers --bench events`
//! With `EEMS_BENCH_DUMP=<dir>` the generated inputs are also written there
//! (`events-<format>.txt`, UTF-8) so that `grep -c 1008` can be timed on the same bytes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use eems_parsers::events;
use eems_parsers::text::{Source, decode};
use std::hint::black_box;

const TARGET: usize = 10 * 1024 * 1024;

fn sample(name: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/reference/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    decode(&bytes).text
}

/// `head` once, then `body` repeated until the text reaches `TARGET` bytes.
fn grow(head: &str, body: &str) -> String {
    let mut out = String::with_capacity(TARGET + body.len() + head.len());
    out.push_str(head);
    while out.len() < TARGET {
        out.push_str(body);
    }
    out
}

fn inputs() -> Vec<(&'static str, String)> {
    let ev_text = sample("01-eventviewer-copy-details_tls-chain_EX02.txt");
    let wevtutil = sample("02-wevtutil-text_proxy-407_EX05.txt");
    let fl = sample("03-get-winevent-fl_dns_de-DE_EX06.txt");
    let xml = sample("04-wevtutil-xml_unable-to-connect_EX04.xml");
    let csv = sample("05-eventviewer-csv_untrusted-endpoint-old-build_EX03.csv");
    let paste = sample("06-forum-paste_doubled-lines_tls-chain_EX02.txt");
    let (csv_head, csv_rows) = csv.split_once('\n').unwrap_or(("", &csv));
    vec![
        ("eventviewer-text", grow("", &ev_text)),
        (
            "wevtutil-text",
            grow("", &format!("{}\n\n", wevtutil.trim_end())),
        ),
        ("get-winevent-list", grow("", &fl)),
        ("event-xml", grow("", &xml)),
        ("eventviewer-csv", grow(&format!("{csv_head}\n"), csv_rows)),
        ("forum-paste", grow("", &format!("{paste}\n\n"))),
    ]
}

fn bench(c: &mut Criterion) {
    let inputs = inputs();
    if let Some(dir) = std::env::var_os("EEMS_BENCH_DUMP") {
        for (name, text) in &inputs {
            let path = std::path::Path::new(&dir).join(format!("events-{name}.txt"));
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    let mut g = c.benchmark_group("events");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(4));
    for (name, text) in &inputs {
        // Sanity: the generated input parses to many kept events.
        let kept = events::parse(Source::new(text)).value.events.len();
        assert!(kept > 1000, "{name}: {kept} events");
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| events::parse(Source::new(black_box(text))))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
