//! Hostile or broken input ends in a report (the input marked
//! `unrecognized` or `partial`) or a clear error with exit code 3: never a
//! panic, never unbounded memory or time. Each case runs the real binary and
//! watches its peak resident memory (VmHWM) while it works.
//!
//! Bounds asserted here are correctness bounds (no blow-up, no hang), far
//! above what the cases need; measured figures are in BENCHMARKS.md
//! (`bench/hostile.sh`).

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The bound on peak RSS.
const MAX_RSS_KB: u64 = 512 * 1024;
/// A hang guard, not a speed target: debug builds are slow.
const HANG_GUARD: Duration = Duration::from_secs(180);

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    peak_kb: u64,
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run(args: &[&str], file: &Path) -> Run {
    let out_path = file.with_extension("stdout");
    let err_path = file.with_extension("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(args)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{args:?} {} did not finish in {HANG_GUARD:?}",
                file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read(out_path).unwrap(),
        stderr: std::fs::read_to_string(err_path).unwrap_or_default(),
        peak_kb: peak,
    }
}

/// Deterministic pseudo-random bytes (xorshift): no dependency, same file every run.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.extend_from_slice(&seed.to_le_bytes());
    }
    v.truncate(len);
    v
}

fn cases(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        out.push((name, p));
    };
    add("random-48mb.bin", noise(48 << 20, 0x9E37_79B9_7F4A_7C15));
    let mut line =
        b"2024-03-14T10:10:05.447Z,EX01,FetchMitigation,S:LogLevel=Error;S:Message=".to_vec();
    line.resize(32 << 20, b'A');
    add("single-line-32mb.LOG", line);
    let mut odd = vec![0xFF, 0xFE];
    odd.extend(
        "Current WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    odd.push(b'A');
    add("utf16-odd-length.txt", odd);
    let mut nested =
        String::from("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>");
    nested.push_str(&"<a>".repeat(200_000));
    nested.push_str(&"</a>".repeat(200_000));
    nested.push_str("</Event>");
    add("nested-200k.xml", nested.into_bytes());
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]>\n<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"MSExchange Mitigation Service\"/><EventID>1008</EventID><Computer>EX01</Computer></System><EventData><Data>&lol9;</Data></EventData></Event>\n");
    add("billion-laughs.xml", laughs.into_bytes());
    let mut csv = b"Level,Date and Time,Source,Event ID,Task Category\r\nError,3/14/2024 10:10:05 AM,MSExchange Mitigation Service,1008,General,\"".to_vec();
    while csv.len() < 16 << 20 {
        csv.extend_from_slice(
            b"Exception encountered while fetching mitigations : no closing quote in sight\r\n",
        );
    }
    add("unclosed-quote-16mb.csv", csv);
    let mut fl = String::from(
        "\r\nName               : EX01\r\nMitigationsEnabled : True\r\nMitigationsApplied : {",
    );
    for i in 0..2_000_000 {
        if i > 0 {
            fl.push_str(", ");
        }
        fl.push_str(&format!("M{i}.1"));
    }
    fl.push_str("}\r\n\r\n");
    add("format-list-2m-items.txt", fl.into_bytes());
    let mut evtx = b"ElfFile\0".to_vec();
    evtx.extend(noise(70_000, 7));
    add("truncated.evtx", evtx);
    out
}

#[test]
fn hostile_inputs_end_in_a_report_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, path) in cases(dir.path()) {
        for args in [
            &["analyze", "--format", "json"][..],
            &["parse", "--format", "json"][..],
        ] {
            let r = run(args, &path);
            let what = format!("{} {name}", args[0]);
            if r.stderr.contains("panicked") || !(0..=3).contains(&r.code) {
                failures.push(format!(
                    "{what}: exit {} stderr {}",
                    r.code,
                    r.stderr.lines().take(3).collect::<Vec<_>>().join(" | ")
                ));
                continue;
            }
            if r.peak_kb > MAX_RSS_KB {
                failures.push(format!("{what}: peak RSS {} MB > 512 MB", r.peak_kb / 1024));
            }
            // Exit 3 means nothing could be read: it still prints a report, and says so.
            let v: serde_json::Value = match serde_json::from_slice(&r.stdout) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{what}: output is not JSON: {e}"));
                    continue;
                }
            };
            let status = if args[0] == "analyze" && r.code == 3 {
                // Nothing read: no diagnosis; the input is listed with its reason.
                match v["unassigned"][0]["reason"].as_str() {
                    Some(reason) if !reason.is_empty() => serde_json::json!("unrecognized"),
                    _ => v["unassigned"].clone(),
                }
            } else if args[0] == "analyze" {
                v["servers"][0]["inputs"][0]["status"].clone()
            } else {
                v["inputs"][0]["status"].clone()
            };
            if !matches!(
                status.as_str(),
                Some("partial" | "unrecognized" | "parsed" | "error")
            ) {
                failures.push(format!("{what}: input status {status}"));
            }
            if r.code == 3 && !r.stderr.contains("error:") {
                failures.push(format!("{what}: exit 3 without a clear message"));
            }
            eprintln!(
                "{what}: exit {}, peak {} MB, status {status}",
                r.code,
                r.peak_kb / 1024
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
