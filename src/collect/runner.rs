//! The one place `collect` starts programs. Every item goes through
//! [`run`], so tests substitute the Windows tools by putting stand-ins on
//! `PATH`. Output is kept as bytes: the parsers decode code pages and UTF-16.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound for one captured stream: a runaway tool must not exhaust memory.
const MAX_STREAM: u64 = 64 * 1024 * 1024;

/// What one invocation produced. A program that could not start is
/// `exit_code: None` with `error` set, never a failure of the collection.
#[derive(Debug, Default)]
pub struct CommandResult {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub duration: Duration,
    pub error: Option<String>,
}

fn read_bounded(r: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(r) = r {
            let _ = r.take(MAX_STREAM).read_to_end(&mut buf);
        }
        buf
    })
}

/// Run `program args…` with no standard input; killed after `timeout`.
pub fn run(program: &str, args: &[String], timeout: Duration) -> CommandResult {
    let start = Instant::now();
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let error = if e.kind() == std::io::ErrorKind::NotFound {
                format!("`{program}` was not found on PATH")
            } else {
                format!("cannot start `{program}`: {e}")
            };
            return CommandResult {
                duration: start.elapsed(),
                error: Some(error),
                ..CommandResult::default()
            };
        }
    };
    // Drain both pipes on threads so a chatty tool cannot block on a full pipe.
    let out = read_bounded(child.stdout.take());
    let err = read_bounded(child.stderr.take());
    let mut error = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                error = Some(format!(
                    "`{program}` did not finish within {} s and was stopped",
                    timeout.as_secs()
                ));
                break child.wait().ok();
            }
            Err(e) => {
                error = Some(format!("cannot wait for `{program}`: {e}"));
                break None;
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let exit_code = status.and_then(|s| s.code());
    if error.is_none() && exit_code != Some(0) {
        error = Some(match exit_code {
            Some(c) => format!("exited with code {c}"),
            None => "ended by a signal".to_owned(),
        });
    }
    CommandResult {
        exit_code,
        stdout,
        stderr,
        duration: start.elapsed(),
        error,
    }
}
