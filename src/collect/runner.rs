//! The one place `collect` starts programs. Every item goes through
//! [`run`], so tests substitute the Windows tools by putting stand-ins on
//! `PATH`. Output is kept as bytes: the parsers decode code pages and UTF-16.
//!
//! On Windows a tool is found the way `cmd.exe` finds it: each `PATH`
//! directory in order, trying each `PATHEXT` extension, so `reg` is
//! `C:\Windows\System32\reg.exe` and a `powershell.cmd` earlier on `PATH` is a
//! stand-in. Rust's own lookup would try System32 before `PATH` and `.exe`
//! only. Unlike `cmd.exe`, the current directory is never searched: `collect`
//! may be started from a bundle or download folder.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One argument of a tool's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Quoted by the standard library as needed.
    Plain(String),
    /// Windows: written into the command line exactly as `raw` (the tool's
    /// documented quoting, e.g. `/q:"…"` for wevtutil); elsewhere passed as
    /// `plain`, the argument the Windows C runtime would hand the tool.
    Raw { raw: String, plain: String },
}

impl Arg {
    /// The argument as the tool receives it.
    #[cfg_attr(windows, allow(dead_code))]
    pub fn plain(&self) -> &str {
        match self {
            Arg::Plain(s) | Arg::Raw { plain: s, .. } => s,
        }
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Plain(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Plain(s)
    }
}

/// The `PATHEXT` used when the variable is unset (Windows' own default, in its order).
pub const DEFAULT_PATHEXT: &str = ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC";

/// Find `program` the way `cmd.exe` does, without the current directory:
/// a name that already ends in a `PATHEXT` extension (`powershell.exe`) is
/// also tried by its stem with every extension, so a `powershell.cmd`
/// stand-in earlier on `PATH` wins over a later `powershell.exe`. A
/// directory's candidates are tried before the next directory's.
pub fn resolve_windows(
    program: &str,
    path: &OsStr,
    pathext: &str,
    is_file: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if program.contains(['\\', '/', ':']) {
        let p = PathBuf::from(program);
        return is_file(&p).then_some(p);
    }
    let exts: Vec<&str> = pathext
        .split(';')
        .map(str::trim)
        .filter(|e| e.starts_with('.') && e.len() > 1)
        .collect();
    let lower = program.to_ascii_lowercase();
    let stem = exts
        .iter()
        .find(|e| lower.ends_with(&e.to_ascii_lowercase()))
        .map_or(program, |e| &program[..program.len() - e.len()]);
    // Windows splits PATH on `;` whatever the host; std::env::split_paths
    // would use `:` on Unix, where this is unit-tested.
    let path = path.to_string_lossy();
    for dir in path.split(';').map(|d| d.trim().trim_matches('"')) {
        if dir.is_empty() {
            continue;
        }
        for ext in &exts {
            let candidate = Path::new(dir).join(format!("{stem}{ext}"));
            if is_file(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// The program to start for `program`: on Windows its `PATH`/`PATHEXT`
/// resolution (falling back to the name, so the error says what was
/// missing); elsewhere the name, for the normal `PATH` lookup.
pub fn locate(program: &str) -> Option<PathBuf> {
    if cfg!(windows) {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let pathext = std::env::var("PATHEXT").unwrap_or_else(|_| DEFAULT_PATHEXT.to_owned());
        resolve_windows(program, &path, &pathext, Path::is_file)
    } else {
        None
    }
}

#[cfg(windows)]
fn add_arg(cmd: &mut Command, a: &Arg) {
    use std::os::windows::process::CommandExt;
    match a {
        Arg::Plain(s) => {
            cmd.arg(s);
        }
        Arg::Raw { raw, .. } => {
            cmd.raw_arg(raw);
        }
    }
}

#[cfg(not(windows))]
fn add_arg(cmd: &mut Command, a: &Arg) {
    cmd.arg(a.plain());
}

/// Bound for one captured stream: a runaway tool must not exhaust memory.
/// Past it the stream is still drained (and dropped), so the tool is not
/// blocked on a full pipe until its time limit.
const MAX_STREAM: usize = 64 * 1024 * 1024;

/// After the tool itself exits, how long a process it left behind may keep
/// its output open before the whole tree is stopped.
const LINGER: Duration = Duration::from_secs(5);

/// After the tree is stopped, how long to wait for the pipes to close. A
/// process that left the tree (a daemon) may hold them forever: the run
/// takes what was read and stops waiting.
const GRACE: Duration = Duration::from_secs(2);

/// What one invocation produced. A program that could not start is
/// `exit_code: None` with `error` set, never a failure of the collection.
#[derive(Debug, Default)]
pub struct CommandResult {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub duration: Duration,
    pub error: Option<String>,
    /// Where the program was found (Windows lookup), when it was.
    pub resolved: Option<PathBuf>,
}

/// One stream as read so far, shared with its reader thread so the run can
/// stop waiting for a pipe another process still holds.
#[derive(Default)]
struct Capture {
    buf: Mutex<Vec<u8>>,
    cut: AtomicBool,
    done: AtomicBool,
}

impl Capture {
    fn take(&self) -> (Vec<u8>, bool) {
        let buf = match self.buf.lock() {
            Ok(mut b) => std::mem::take(&mut *b),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        (buf, self.cut.load(Ordering::Relaxed))
    }
}

fn read_capped(r: Option<impl Read + Send + 'static>) -> Arc<Capture> {
    let cap = Arc::new(Capture::default());
    let Some(mut r) = r else {
        cap.done.store(true, Ordering::Release);
        return cap;
    };
    let c = Arc::clone(&cap);
    std::thread::spawn(move || {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match r.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let mut buf = match c.buf.lock() {
                        Ok(b) => b,
                        Err(p) => p.into_inner(),
                    };
                    let room = MAX_STREAM.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..n.min(room)]);
                    if n > room {
                        c.cut.store(true, Ordering::Relaxed);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        c.done.store(true, Ordering::Release);
    });
    cap
}

/// The tool and every process it starts, stopped together: on Unix its own
/// process group (`kill(-pgid, SIGKILL)`), on Windows a Job object
/// (`TerminateJobObject`). Killing only the direct child would leave a
/// grandchild (`sleep 3600` in a script) holding the output pipe open.
struct Tree {
    #[cfg(windows)]
    job: Option<job::Job>,
}

impl Tree {
    fn prepare(cmd: &mut Command) {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        #[cfg(not(unix))]
        let _ = cmd;
    }

    fn of(child: &Child) -> Tree {
        #[cfg(windows)]
        let tree = Tree {
            job: job::Job::assign(child),
        };
        #[cfg(not(windows))]
        let tree = {
            let _ = child;
            Tree {}
        };
        tree
    }

    fn kill(&self, child: &mut Child) {
        #[cfg(unix)]
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_child(child),
            rustix::process::Signal::KILL,
        );
        #[cfg(windows)]
        if let Some(j) = &self.job {
            j.terminate();
        }
        // The direct child in any case (also where neither exists).
        let _ = child.kill();
    }
}

/// Windows Job objects: every process the tool starts joins the tool's job
/// and is terminated with it. A process the tool starts before it is
/// assigned (in its first instants) escapes; the tools run here do not.
#[cfg(windows)]
#[allow(unsafe_code)] // three kernel32 calls on a handle this module owns
mod job {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, TerminateJobObject,
    };

    pub struct Job(HANDLE);

    impl Job {
        pub fn assign(child: &std::process::Child) -> Option<Job> {
            // SAFETY: no attributes, no name; the handle is checked.
            let h = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if h.is_null() {
                return None;
            }
            let job = Job(h);
            // SAFETY: both handles are valid for the call (the child's is
            // owned by `child`, which outlives it).
            let ok = unsafe { AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) };
            (ok != 0).then_some(job)
        }

        pub fn terminate(&self) {
            // SAFETY: a job handle this value owns.
            unsafe {
                TerminateJobObject(self.0, 1);
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: closed once, here.
            unsafe {
                CloseHandle(self.0);
            }
        }
    }
}

/// Run `program args…` with no standard input; it and every process it
/// started are stopped after `timeout`. Output beyond [`MAX_STREAM`] per
/// stream is dropped and said so.
pub fn run(program: &str, args: &[Arg], timeout: Duration) -> CommandResult {
    let start = Instant::now();
    let resolved = locate(program);
    if cfg!(windows) && resolved.is_none() {
        return CommandResult {
            duration: start.elapsed(),
            error: Some(format!("`{program}` was not found on PATH")),
            ..CommandResult::default()
        };
    }
    let mut cmd = match &resolved {
        Some(p) => Command::new(p),
        None => Command::new(program),
    };
    for a in args {
        add_arg(&mut cmd, a);
    }
    Tree::prepare(&mut cmd);
    let mut child = match cmd
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
                resolved,
                ..CommandResult::default()
            };
        }
    };
    let tree = Tree::of(&child);
    // Drain both pipes on threads so a chatty tool cannot block on a full pipe.
    let out = read_capped(child.stdout.take());
    let err = read_capped(child.stderr.take());
    let drained = || out.done.load(Ordering::Acquire) && err.done.load(Ordering::Acquire);
    let deadline = start + timeout;
    let mut error = None;
    let mut status = None;
    let mut exited_at = None;
    loop {
        if status.is_none() {
            match child.try_wait() {
                Ok(Some(s)) => {
                    status = Some(s);
                    exited_at = Some(Instant::now());
                }
                Ok(None) => {}
                Err(e) => {
                    error = Some(format!("cannot wait for `{program}`: {e}"));
                    tree.kill(&mut child);
                    break;
                }
            }
        }
        if status.is_some() && drained() {
            break;
        }
        let now = Instant::now();
        let lingered = exited_at.is_some_and(|t| now >= t + LINGER);
        if now >= deadline || lingered {
            tree.kill(&mut child);
            if status.is_none() {
                error = Some(format!(
                    "`{program}` did not finish within {} s and was stopped (with every process it started)",
                    timeout.as_secs()
                ));
                status = child.wait().ok();
            }
            let stop = Instant::now() + GRACE;
            while !drained() && Instant::now() < stop {
                std::thread::sleep(Duration::from_millis(10));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (stdout, out_cut) = out.take();
    let (stderr, _) = err.take();
    let exit_code = status.and_then(|s| s.code());
    if error.is_none() && exit_code != Some(0) {
        error = Some(match exit_code {
            Some(c) => format!("exited with code {c}"),
            None => "ended by a signal".to_owned(),
        });
    }
    if out_cut {
        let note = format!("output cut at {} MiB", MAX_STREAM >> 20);
        error = Some(match error {
            Some(e) => format!("{e}; {note}"),
            None => note,
        });
    }
    CommandResult {
        exit_code,
        stdout,
        stderr,
        duration: start.elapsed(),
        error,
        resolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn resolve(program: &str, path: &str, files: &[&str]) -> Option<String> {
        let set: HashSet<String> = files.iter().map(|f| f.to_ascii_lowercase()).collect();
        resolve_windows(program, OsStr::new(path), DEFAULT_PATHEXT, |p| {
            set.contains(&p.to_string_lossy().replace('\\', "/").to_ascii_lowercase())
        })
        // Windows file names are case-insensitive: compare lower-cased.
        .map(|p| p.to_string_lossy().replace('\\', "/").to_ascii_lowercase())
    }

    #[test]
    fn path_order_decides_then_pathext_order() {
        let path = "C:/standins;C:/Windows/system32;C:/Windows";
        let files = [
            "C:/Windows/system32/reg.exe",
            "C:/Windows/system32/powershell.exe",
            "C:/standins/powershell.cmd",
            "C:/standins/wevtutil.bat",
            "C:/standins/wevtutil.cmd",
        ];
        assert_eq!(
            resolve("reg", path, &files).as_deref(),
            Some("c:/windows/system32/reg.exe")
        );
        // The stand-in earlier on PATH wins over System32's powershell.exe,
        // even though the program is named with its .exe.
        assert_eq!(
            resolve("powershell.exe", path, &files).as_deref(),
            Some("c:/standins/powershell.cmd")
        );
        // .BAT comes before .CMD in PATHEXT.
        assert_eq!(
            resolve("wevtutil", path, &files).as_deref(),
            Some("c:/standins/wevtutil.bat")
        );
        assert_eq!(resolve("netsh", path, &files), None);
    }

    #[test]
    fn empty_and_quoted_path_entries() {
        let files = ["C:/Program Files/Tools/netsh.exe"];
        assert_eq!(
            resolve("netsh", ";;\"C:/Program Files/Tools\";", &files).as_deref(),
            Some("c:/program files/tools/netsh.exe")
        );
        assert_eq!(resolve("netsh", "", &files), None);
    }

    #[test]
    fn a_path_is_taken_as_is() {
        let files = ["C:/x/reg.exe"];
        assert_eq!(
            resolve("C:/x/reg.exe", "", &files).as_deref(),
            Some("c:/x/reg.exe")
        );
        assert_eq!(resolve("C:/x/nope.exe", "C:/x", &files), None);
    }

    #[test]
    fn raw_args_pass_their_plain_form_off_windows() {
        let a = Arg::Raw {
            raw: "/q:\"*[x or y]\"".into(),
            plain: "/q:*[x or y]".into(),
        };
        assert_eq!(a.plain(), "/q:*[x or y]");
    }
}
