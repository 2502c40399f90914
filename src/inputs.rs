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
        } else if is_zip(p) {
            read_zip(p, &mut out);
        } else {
            out.push(read(p));
        }
    }
    out
}

/// Every file of one server's evidence bundle: a directory walked
/// recursively, or the entries of a `.zip` bundle (read in memory, never
/// extracted).
pub fn bundle_files(path: &Path) -> Vec<Input> {
    let mut out = Vec::new();
    if path.is_dir() {
        walk(path, &mut out);
    } else if is_zip(path) {
        read_zip(path, &mut out);
    } else {
        out.push(read(path));
    }
    out
}

/// Bounds for one zip bundle: a real bundle is a few MB; a zip bomb is not
/// allowed to take more than this much memory.
pub const ZIP_MAX_TOTAL: u64 = 128 * 1024 * 1024;
pub const ZIP_MAX_ENTRIES: usize = 10_000;

/// A `.zip` by name or by its local-header magic.
pub fn is_zip(p: &Path) -> bool {
    if !p.is_file() {
        return false;
    }
    if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == *b"PK\x03\x04")
}

/// An entry name that would land outside the bundle if extracted: `..`
/// components, absolute paths, drive letters, NUL.
fn escapes(name: &str) -> bool {
    name.starts_with(['/', '\\'])
        || name.contains('\0')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split(['/', '\\']).any(|c| c == "..")
}

fn read_zip(path: &Path, out: &mut Vec<Input>) {
    let shown = path.display().to_string();
    let fail = |msg: String| Input {
        path: shown.clone(),
        bytes: Err(msg),
    };
    let mut z = match std::fs::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| e.to_string()))
    {
        Ok(z) => z,
        Err(e) => {
            out.push(fail(format!("cannot read zip bundle: {e}")));
            return;
        }
    };
    if z.len() > ZIP_MAX_ENTRIES {
        out.push(fail(format!(
            "zip bundle rejected: {} entries, more than {ZIP_MAX_ENTRIES} (zip bomb guard); nothing read",
            z.len()
        )));
        return;
    }
    let mut total: u64 = 0;
    let mut files = Vec::new();
    for i in 0..z.len() {
        let mut entry = match z.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                files.push(fail(format!("zip entry {i}: {e}")));
                continue;
            }
        };
        let name = entry.name().to_owned();
        let entry_path = format!("{shown}/{name}");
        if escapes(&name) {
            files.push(Input {
                path: entry_path,
                bytes: Err(format!(
                    "zip entry `{name}` rejected: its name escapes the bundle (`..` or an absolute path); not read"
                )),
            });
            continue;
        }
        if entry.is_dir() {
            continue;
        }
        let remaining = ZIP_MAX_TOTAL - total;
        let bomb = |name: &str| {
            format!(
                "zip bundle rejected: more than {} MiB uncompressed at entry `{name}` (zip bomb guard); stopped reading",
                ZIP_MAX_TOTAL / (1024 * 1024)
            )
        };
        if entry.size() > remaining {
            files.push(fail(bomb(&name)));
            break;
        }
        // The declared size can lie: read at most one byte past the budget.
        let mut buf = Vec::new();
        let read = (&mut entry)
            .take(remaining.saturating_add(1))
            .read_to_end(&mut buf);
        total = total.saturating_add(buf.len() as u64);
        if total > ZIP_MAX_TOTAL {
            drop(buf);
            files.push(fail(bomb(&name)));
            break;
        }
        files.push(Input {
            path: entry_path,
            bytes: read
                .map(|_| buf)
                .map_err(|e| format!("cannot read zip entry: {e}")),
        });
    }
    // Stable order, as for directories.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    out.extend(files);
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
        } else if is_zip(&e) {
            read_zip(&e, out);
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
