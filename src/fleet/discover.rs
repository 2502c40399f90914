//! From `fleet PATH...` to the list of bundles: each subdirectory or `.zip`
//! of a directory, a `.zip` given directly, or the lines of a list file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub struct Bundle {
    pub path: PathBuf,
    /// The path as reported (`bundle` in the outputs).
    pub display: String,
    /// File stem of `servers/<page>.html`: the bundle's name, made safe and
    /// unique (bundles are usually named after their server).
    pub page: String,
}

fn is_zip_name(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// A file is a list of bundles unless it is a zip (by name or magic number).
fn is_zip(p: &Path) -> bool {
    if is_zip_name(p) {
        return true;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Every bundle once, in a stable order (sorted within each directory, list
/// order within each list file). A PATH that does not exist is a usage error;
/// a listed bundle that does not exist is a bundle that cannot be read.
pub fn bundles(paths: &[PathBuf]) -> Result<Vec<Bundle>, String> {
    let mut found: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd =
                std::fs::read_dir(p).map_err(|e| format!("cannot list {}: {e}", p.display()))?;
            let mut children: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|c| c.is_dir() || (c.is_file() && is_zip_name(c)))
                .collect();
            children.sort();
            found.extend(children);
        } else if p.is_file() {
            if is_zip(p) {
                found.push(p.clone());
            } else {
                let bytes =
                    std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                let text = eems_parsers::text::decode(&bytes).text;
                let base = p.parent().map(Path::to_path_buf).unwrap_or_default();
                for line in text.lines() {
                    let line = line.trim().trim_matches('"');
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let lp = PathBuf::from(line);
                    found.push(if lp.is_absolute() { lp } else { base.join(lp) });
                }
            }
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut pages: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(found.len());
    for path in found {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            continue;
        }
        let page = unique_page(&page_name(&path), &mut pages);
        out.push(Bundle {
            display: path.display().to_string(),
            path,
            page,
        });
    }
    Ok(out)
}

/// `\\share\eems\EX01.zip` → `EX01`: letters, digits, `.`, `-`, `_` kept.
fn page_name(p: &Path) -> String {
    let stem = if is_zip_name(p) {
        p.file_stem()
    } else {
        p.file_name()
    };
    let s: String = stem
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('.').to_owned();
    if s.is_empty() { "bundle".to_owned() } else { s }
}

/// Case-insensitively unique (the output may land on a Windows share).
fn unique_page(name: &str, used: &mut HashSet<String>) -> String {
    let mut candidate = name.to_owned();
    let mut n = 2;
    while !used.insert(candidate.to_ascii_lowercase()) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_are_safe_and_unique() {
        let mut used = HashSet::new();
        assert_eq!(
            unique_page(&page_name(Path::new("/s/EX01.zip")), &mut used),
            "EX01"
        );
        assert_eq!(
            unique_page(&page_name(Path::new("/t/ex01")), &mut used),
            "ex01-2"
        );
        assert_eq!(page_name(Path::new("/t/a b<c>")), "a_b_c_");
        assert_eq!(page_name(Path::new("/t/..")), "bundle");
    }
}
