//! The one runner that watches the real binary's resources (issues 14 and
//! 18): its peak resident memory (`VmHWM`) and most threads, polled from
//! `/proc` while it runs, and its wall time, with a hang guard.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One watched run.
pub struct Watched {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// Peak resident memory in KiB (`VmHWM:` in /proc; 0 where there is no /proc).
    pub peak_kb: u64,
    /// Most threads seen at once (`Threads:` in /proc).
    pub peak_threads: u64,
    pub took: Duration,
    /// CPU time it used (user + system, from /proc; zero without it): what
    /// a quadratic algorithm grows, whatever else runs on the machine.
    pub cpu: Duration,
}

impl Watched {
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!("stdout is not JSON ({e}); stderr:\n{}", self.stderr),
        }
    }
}

fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of `pid` so far (`/proc/PID/stat` fields 14 and
/// 15, in clock ticks of 1/100 s: USER_HZ is 100 on every Linux the tests
/// run on).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name can hold spaces: fields count from after its `)`.
    let mut f = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The binary under test, `eems-doctor`.
pub fn doctor_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
}

/// Run `cmd` (its stdin as set, else nothing), stdout and stderr to temp
/// files (a pipe could fill and stall it), polling `/proc` every 5 ms.
/// Killed, and the test failed, past `limit`: a hang is a failure, never a
/// wait.
pub fn watch(mut cmd: Command, limit: Duration) -> Watched {
    let out = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
    let err = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
    let reopen = |f: &tempfile::NamedTempFile| {
        f.reopen()
            .unwrap_or_else(|e| panic!("reopen {}: {e}", f.path().display()))
    };
    let mut child = cmd
        .stdout(reopen(&out))
        .stderr(reopen(&err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let start = Instant::now();
    let (mut peak_kb, mut peak_threads, mut cpu) = (0, 0, Duration::ZERO);
    let status = loop {
        if let Some(t) = cpu_time(child.id()) {
            cpu = cpu.max(t);
        }
        if let Some(kb) = proc_status(child.id(), "VmHWM:") {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(n) = proc_status(child.id(), "Threads:") {
            peak_threads = peak_threads.max(n);
        }
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => panic!("{cmd:?}: {e}"),
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Watched {
        code: status.code().unwrap_or(-1),
        stdout: read(out.path()),
        stderr: String::from_utf8_lossy(&read(err.path())).into_owned(),
        peak_kb,
        peak_threads,
        took,
        cpu,
    }
}
