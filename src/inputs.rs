//! Turning command-line paths into (name, bytes) inputs. An unreadable file
//! is an input with an error, never the end of the run.

use std::io::Read;
use std::path::{Path, PathBuf};

pub struct Input {
    /// Path as given (or found while walking a directory); `-` for stdin.
    pub path: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// Expand directories recursively (sorted, so output is stable) and read every file.
pub fn collect(paths: &[PathBuf]) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut buf = Vec::new();
            let bytes = std::io::stdin()
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| format!("cannot read standard input: {e}"));
            out.push(Input {
                path: "-".into(),
                bytes,
            });
        } else if p.is_dir() {
            walk(p, &mut out);
        } else {
            out.push(read(p));
        }
    }
    out
}

/// Every file of one server's evidence bundle: a directory walked
/// recursively (a `.zip` bundle is read by the collect work; until then it
/// is one unreadable input).
pub fn bundle_files(path: &Path) -> Vec<Input> {
    let mut out = Vec::new();
    if path.is_dir() {
        walk(path, &mut out);
    } else {
        out.push(read(path));
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<Input>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            out.push(Input {
                path: dir.display().to_string(),
                bytes: Err(format!("cannot list directory: {e}")),
            });
            return;
        }
    };
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out);
        } else {
            out.push(read(&e));
        }
    }
}

fn read(p: &Path) -> Input {
    Input {
        path: p.display().to_string(),
        bytes: std::fs::read(p).map_err(|e| format!("cannot read file: {e}")),
    }
}
