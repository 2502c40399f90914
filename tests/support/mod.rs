//! Shared support for the integration tests that need real servers on
//! loopback (the test PKI and in-process servers are in `eems-testkit`):
//! real squid proxies (`squid`), a real dnsmasq (`dns`) and headless
//! Chromium (`chromium`).
//! Every server is a child of the test (thread or process) and is stopped
//! and reaped when its handle is dropped.
#![allow(dead_code)] // each test binary uses a different subset

pub mod chromium;
pub mod dns;
pub mod squid;
pub mod watch;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Lab tests need real system servers (squid, dnsmasq, Chromium, network
/// namespaces). They run when `EEMS_LAB=1`, which `tests/run.sh` (and so CI)
/// always sets, and there a missing program fails loudly; a plain
/// `cargo test` on a laptop skips them and says so on stderr.
#[allow(clippy::print_stderr)] // the skip must be visible in the test output
pub fn lab(needs: &str) -> bool {
    let on = std::env::var_os("EEMS_LAB").is_some_and(|v| v == "1");
    if !on {
        eprintln!("skipped: a lab test (needs {needs}); set EEMS_LAB=1 as tests/run.sh does");
    }
    on
}

/// Find a system program the tests need. Missing programs fail the test
/// loudly: a silently skipped network test would hide a broken setup.
pub fn require_program(name: &str, package: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/lib/squid"].map(PathBuf::from));
    for d in dirs {
        let p = d.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{name}` not found: this test needs the Debian package `{package}` \
         (tests/run.sh installs it when run as root: apt-get install -y {package})"
    );
}

/// A loopback port that was free a moment ago (for programs that cannot
/// report the port they bound themselves).
pub fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("bind 127.0.0.1:0: {e}"),
    }
}

/// Wait until 127.0.0.1:`port` accepts, failing early if `child` died.
pub fn wait_for_tcp(port: u16, child: &mut Child, what: &str, log: impl Fn() -> String) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before listening on {port}:\n{}",
                log()
            );
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {port} within 15 s:\n{}", log());
}

/// Stop a child we started, its whole process group (squid's helpers), and
/// reap it. SIGKILL at once: squid's graceful stop takes 3–4 s even with
/// `shutdown_lifetime 0`. Its helpers are then reparented to init, which
/// reaps them (they may show as `<defunct>` for a moment).
pub fn kill_group(child: &mut Child) {
    let pid = child.id();
    // The child was started with process_group(0): its pgid is its pid, so
    // this reaches exactly the processes this test started, nothing else.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// One run of the eems-doctor binary.
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_str(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            ),
        }
    }
}

/// `eems-doctor SUB --format json ARGS…`: the JSON it printed and its exit
/// code (the one CLI runner of the integration tests).
pub fn doctor_json(sub: &str, args: &[&str]) -> (serde_json::Value, i32) {
    let mut all = vec![sub.to_owned(), "--format".to_owned(), "json".to_owned()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let r = doctor(&all);
    (r.json(), r.status.code().unwrap_or(-1))
}

/// The "now" the tests' runs judge evidence age against (`evidence-stale`):
/// fixed, so reports of the 2025 samples say the same thing every day.
pub const NOW: &str = "2026-12-01T00:00:00Z";

/// Run `eems-doctor ARGS…` (bounded: killed after 60 s), "now" being [`NOW`].
pub fn doctor(args: &[String]) -> Run {
    let start = Instant::now();
    let mut child = match Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .env("EEMS_DOCTOR_NOW", NOW)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start eems-doctor: {e}"),
    };
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = std::io::Read::read_to_string(o, &mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = std::io::Read::read_to_string(e, &mut s);
        }
        s
    });
    let deadline = start + Duration::from_secs(60);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                match child.wait() {
                    Ok(s) => break s,
                    Err(e) => panic!("eems-doctor: {e}"),
                }
            }
        }
    };
    let wall = start.elapsed();
    Run {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        wall,
    }
}
