//! The fleet OUTDIR: often a shared folder other accounts can write to,
//! while `fleet` often runs privileged. Nothing planted there is written
//! through, and two scans never interleave:
//!
//! - one scan at a time: an advisory lock (`flock` on Unix, `LockFileEx` on
//!   Windows, through `fs4`) on `.eems-fleet.lock`, held for the whole run.
//!   The kernel drops it when the process dies, even by `kill -9`, so a stale
//!   lock file never blocks the next scan; a second scan while one runs is
//!   refused with a message naming the running one;
//! - every output is written to a temp file this run created itself
//!   (`O_CREAT|O_EXCL`, random name, so never through a link) and renamed
//!   over the output name. A rename replaces a name, it never follows a link;
//!   and a name that holds something other than a regular file (a planted
//!   link, a folder) is not replaced at all: that output fails, and the scan
//!   exits 3 naming it;
//! - an interrupted scan leaves only `.eems-fleet-*.tmp` files (removed by the
//!   next scan, under the lock): `fleet.json`, `fleet.ndjson` and
//!   `fleet.html` are always a complete scan's, or absent.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in OUTDIR.
pub const LOCK: &str = ".eems-fleet.lock";
/// Prefix and suffix of this tool's temp files in OUTDIR and `servers/`.
const TMP_PREFIX: &str = ".eems-fleet-";
const TMP_SUFFIX: &str = ".tmp";

/// Why OUTDIR cannot be used.
#[derive(Debug)]
pub enum OpenError {
    /// Another scan holds the lock.
    Busy(String),
    /// OUTDIR (or `servers/`) cannot be created, locked, or is not a folder.
    Unusable(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Busy(s) | OpenError::Unusable(s) => f.write_str(s),
        }
    }
}

/// A locked OUTDIR; the lock is released when this is dropped (or the
/// process ends).
pub struct OutDir {
    root: PathBuf,
    _lock: File,
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    // A planted link at the lock's name is refused (ELOOP), not followed:
    // the pid written below must not land in someone else's file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The flag's bits fit an i32 (0o400000 on Linux).
        o.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    o.open(path)
}

/// Create OUTDIR (and `servers/` when `pages`), take the scan lock, and
/// remove the temp files an interrupted scan left behind.
pub fn open(root: &Path, pages: bool) -> Result<OutDir, OpenError> {
    let unusable = |what: &Path, e: &dyn std::fmt::Display| {
        OpenError::Unusable(format!("cannot use {}: {e}", what.display()))
    };
    std::fs::create_dir_all(root).map_err(|e| unusable(root, &e))?;
    let lock_path = root.join(LOCK);
    let mut lock =
        open_lock_file(&lock_path).map_err(|e| match std::fs::symlink_metadata(&lock_path) {
            Ok(m) if !m.file_type().is_file() => unusable(
                &lock_path,
                &format!(
                    "it is {}, not this tool's lock file: not followed (remove it if it is yours)",
                    describe(&m)
                ),
            ),
            _ => unusable(&lock_path, &e),
        })?;
    match fs4::FileExt::try_lock(&lock) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            // The holder wrote who it is (unreadable on Windows, where the
            // lock is mandatory: then the message says less).
            let mut who = String::new();
            let _ = (&lock).take(200).read_to_string(&mut who);
            let who = eems_reports::safe::visible(who.trim());
            return Err(OpenError::Busy(format!(
                "another fleet scan is writing into {}{}: wait for it to finish, or choose another -o OUTDIR",
                root.display(),
                if who.is_empty() {
                    String::new()
                } else {
                    format!(" ({who})")
                }
            )));
        }
        Err(fs4::TryLockError::Error(e)) => return Err(unusable(&lock_path, &e)),
    }
    let me = format!(
        "pid {}, started {}",
        std::process::id(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // Who holds the lock, for the refused scan's message; not load-bearing.
    let _ = lock
        .set_len(0)
        .and_then(|()| lock.seek(SeekFrom::Start(0)))
        .and_then(|_| lock.write_all(me.as_bytes()));
    let dir = OutDir {
        root: root.to_path_buf(),
        _lock: lock,
    };
    let mut dirs = vec![root.to_path_buf()];
    if pages {
        let servers = root.join("servers");
        match std::fs::create_dir(&servers) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(unusable(&servers, &e)),
        }
        // A link planted at `servers` would send every page elsewhere.
        let meta = std::fs::symlink_metadata(&servers).map_err(|e| unusable(&servers, &e))?;
        if !meta.is_dir() {
            return Err(unusable(
                &servers,
                &format!("it is {}, not a folder", describe(&meta)),
            ));
        }
        dirs.push(servers);
    }
    for d in dirs {
        remove_stale_temps(&d);
    }
    Ok(dir)
}

/// Under the lock no other scan runs: any temp file of ours is an
/// interrupted scan's. Links with our prefix are removed too (the link, not
/// its target).
fn remove_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(TMP_PREFIX) && name.ends_with(TMP_SUFFIX);
        let plain = e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
        if ours && plain {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn describe(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a file"
    } else {
        "a special file"
    }
}

impl OutDir {
    /// A new output at `rel` (e.g. `servers/EX01.html`): a fresh temp file
    /// beside it, renamed over `rel` by [`Output::commit`].
    pub fn create(&self, rel: &str) -> Result<Output, String> {
        let dest = self.root.join(rel);
        let dir = dest.parent().unwrap_or(&self.root);
        let mut b = tempfile::Builder::new();
        b.prefix(TMP_PREFIX).suffix(TMP_SUFFIX);
        // The outputs are published (an intranet page, a log shipper): the
        // mode a plain create gives (0666 less the umask), not a temp
        // file's 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            b.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = b
            .tempfile_in(dir)
            .map_err(|e| format!("{rel}: cannot create a file in {}: {e}", dir.display()))?;
        Ok(Output {
            rel: rel.to_owned(),
            dest,
            tmp,
        })
    }

    /// An unnamed scratch file in OUTDIR (the spool): nothing to plant at.
    pub fn scratch(&self) -> std::io::Result<File> {
        tempfile::tempfile_in(&self.root)
    }

    /// Write `bytes` to `rel` in one go.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), String> {
        let mut o = self.create(rel)?;
        o.write_all(bytes).map_err(|e| format!("{rel}: {e}"))?;
        o.commit()
    }
}

/// An output being written; dropped without [`Output::commit`], its temp
/// file is removed and the output name untouched.
pub struct Output {
    rel: String,
    dest: PathBuf,
    tmp: tempfile::NamedTempFile,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

impl Output {
    /// Rename the finished file over its name, unless that name holds
    /// something other than a regular file (then that is the error).
    pub fn commit(mut self) -> Result<(), String> {
        let rel = &self.rel;
        self.tmp.flush().map_err(|e| format!("{rel}: {e}"))?;
        match std::fs::symlink_metadata(&self.dest) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{rel}: {e}")),
            Ok(m) if m.file_type().is_file() => {}
            Ok(m) => {
                return Err(format!(
                    "{rel} is {}, not an output of a previous scan: not replaced (remove it if it is yours)",
                    describe(&m)
                ));
            }
        }
        self.tmp
            .persist(&self.dest)
            .map(drop)
            .map_err(|e| format!("{rel}: {}", e.error))
    }
}
