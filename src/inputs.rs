//! Turning command-line paths into (name, bytes) inputs. An unreadable file
//! is an input with an error, never the end of the run.
//!
//! Only regular files are evidence (issue 18): a FIFO, socket or device is
//! listed with the reason and never opened; symbolic links are followed only
//! when their target stays inside the analysed folder, and a link that loops
//! or leaves it is listed, never read; a file reached by two names (links, a
//! hard link) is read once. Binary data is skipped after its first 64 KiB.
//! Every read is bounded: a per-file and
//! a per-bundle budget (`--max-file-size`, `--max-bundle-size`); past it the
//! input is `partial` and says why.

use std::io::Read;
use std::path::{Path, PathBuf};

pub struct Input {
    /// Path as given (or found while walking a directory); `-` for stdin.
    pub path: String,
    /// What was read; empty for a streamed input.
    pub bytes: Result<Vec<u8>, String>,
    /// Why only part of the input was read (a size budget), if it was cut.
    pub partial: Option<String>,
    /// A large log or event export, parsed and folded while it was read (issue 14).
    pub streamed: Option<Box<Streamed>>,
}

/// An input read as a stream: its summary (no records) and its records' fold.
pub struct Streamed {
    pub parsed: eems_parsers::ParsedInput,
    pub folded: eems_checks::collect::Folded,
}

impl Input {
    fn err(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Input {
            path: path.into(),
            bytes: Err(reason.into()),
            partial: None,
            streamed: None,
        }
    }

    /// The records of a streamed input, already folded.
    pub fn folded(&self) -> Option<&eems_checks::collect::Folded> {
        self.streamed.as_ref().map(|s| &s.folded)
    }

    /// Parse the bytes read (or give a streamed input's summary); an input
    /// cut by a budget is `partial` and says why.
    pub fn parse(&self) -> Option<eems_parsers::ParsedInput> {
        let bytes = self.bytes.as_ref().ok()?;
        let mut p = match &self.streamed {
            Some(s) => s.parsed.clone(),
            None => eems_parsers::parse_input(bytes, Some(&self.path)),
        };
        if let Some(why) = &self.partial {
            if p.status == eems_parsers::Status::Parsed {
                p.status = eems_parsers::Status::Partial;
            }
            p.problems.push(eems_parsers::Problem::whole(why.clone()));
        }
        Some(p)
    }
}

const MIB: u64 = 1024 * 1024;

/// How much is read: of one file (or standard input), and of one bundle
/// (a folder or zip, every file below it together).
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Read at most SIZE of one file or of standard input; past it the input
    /// is `partial` and says so. Suffixes K, M, G (powers of 1024).
    #[arg(long = "max-file-size", value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub file: u64,
    /// Read at most SIZE of one folder or bundle in all; files past it are
    /// listed as not read. Suffixes K, M, G (powers of 1024).
    #[arg(long = "max-bundle-size", value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub bundle: u64,
    /// A MitigationService log at least this large is read as a stream and
    /// reduced to evidence as it is read, never held whole (issue 14). Small
    /// files are read whole so a pasted console session is split into its
    /// commands; `1` streams every log (the tests compare both paths).
    #[arg(long = "stream-min", value_name = "SIZE", default_value = "4M", value_parser = parse_size, hide = true)]
    pub stream_min: u64,
    /// Stream only files on disk, never standard input or zip entries
    /// (`parse` reads a streamed log a second time to list its rows).
    #[arg(skip)]
    pub stream_files_only: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            file: 256 * MIB,
            bundle: 1024 * MIB,
            stream_min: 4 * MIB,
            stream_files_only: false,
        }
    }
}

/// `1048576`, `64K`, `256M`, `1G`, `1GiB`, `2MB` (all powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 512M, 1G)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => MIB,
        "g" | "gb" | "gib" => 1024 * MIB,
        _ => return Err(format!("`{s}`: unknown unit (use K, M or G)")),
    };
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("`{s}` is not a usable size"))
}

fn human(n: u64) -> String {
    if n >= MIB && n % MIB == 0 {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n % 1024 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// What one bundle (or top-level path) has read so far, against its budget.
struct Spent {
    budget: Budget,
    total: u64,
}

impl Spent {
    fn new(budget: Budget) -> Self {
        Spent { budget, total: 0 }
    }

    /// The most the next file may take, and the note to give if it is cut.
    fn allowance(&self) -> (u64, String) {
        let left = self.budget.bundle.saturating_sub(self.total);
        if left < self.budget.file {
            (
                left,
                format!(
                    "read only the first {}: the bundle budget of {} is spent (--max-bundle-size)",
                    human(left),
                    human(self.budget.bundle)
                ),
            )
        } else {
            (
                self.budget.file,
                format!(
                    "read only the first {}: larger than the per-file budget (--max-file-size)",
                    human(self.budget.file)
                ),
            )
        }
    }

    fn spent_note(&self) -> Option<String> {
        (self.total >= self.budget.bundle).then(|| {
            format!(
                "not read: the bundle budget of {} is spent (--max-bundle-size)",
                human(self.budget.bundle)
            )
        })
    }
}

/// At most `limit` bytes of `r`; the note when there was more. `hint` is
/// the expected size (a file's length): the buffer grows by at most
/// doubling and never past `limit + 1`, so a stream without end (standard
/// input fed `/dev/zero`) costs the budget, not twice it.
fn read_bounded(
    mut r: impl Read,
    limit: u64,
    hint: u64,
    note: String,
) -> (std::io::Result<Vec<u8>>, Option<String>) {
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let first = usize::try_from(hint.saturating_add(1))
        .unwrap_or(usize::MAX)
        .min(cap);
    let mut buf: Vec<u8> = Vec::with_capacity(first);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let want = chunk.len().min(cap - buf.len());
        if want == 0 {
            break;
        }
        let n = match r.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (Err(e), None),
        };
        if buf.len() + n > buf.capacity() {
            let grown = (buf.capacity().saturating_mul(2))
                .max(buf.len() + n)
                .min(cap);
            buf.reserve_exact(grown - buf.len());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if buf.len() as u64 > limit {
        buf.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        (Ok(buf), Some(note))
    } else {
        (Ok(buf), None)
    }
}

/// What a file type is, when it is not a regular file or a folder.
fn not_regular(ft: &std::fs::FileType) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let what = if ft.is_fifo() {
            Some("a FIFO (named pipe)")
        } else if ft.is_socket() {
            Some("a socket")
        } else if ft.is_char_device() {
            Some("a character device")
        } else if ft.is_block_device() {
            Some("a block device")
        } else {
            None
        };
        if let Some(w) = what {
            return format!(
                "skipped: {w}, not a regular file (only regular files are evidence); never opened"
            );
        }
    }
    let _ = ft;
    "skipped: not a regular file (only regular files are evidence); never opened".to_owned()
}

/// Expand directories recursively (sorted, so output is stable) and read every file.
pub fn collect(paths: &[PathBuf], budget: Budget) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        let mut spent = Spent::new(budget);
        if p.as_os_str() == "-" {
            let (limit, note) = spent.allowance();
            // Its size is unknown: a log piped in is streamed whatever its size.
            let (input, _) = read_input(
                "-".into(),
                std::io::stdin().lock(),
                Size::Unknown,
                (limit, note),
                if budget.stream_files_only {
                    u64::MAX
                } else {
                    budget.stream_min
                },
                "cannot read standard input",
            );
            out.push(input);
            continue;
        }
        // A path named on the command line is followed wherever it points;
        // what it points at must still be a folder or a regular file.
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut spent, &mut out),
            Ok(m) if m.is_file() && is_zip(p) => read_zip(p, &mut spent, &mut out),
            Ok(m) if m.is_file() => out.push(read(p, &mut spent)),
            Ok(m) => out.push(Input::err(
                p.display().to_string(),
                not_regular(&m.file_type()),
            )),
            Err(e) => out.push(Input::err(
                p.display().to_string(),
                format!("cannot read file: {e}"),
            )),
        }
    }
    out
}

/// Every file of one server's evidence bundle: a directory walked
/// recursively, or the entries of a `.zip` bundle (read in memory, never
/// extracted).
pub fn bundle_files(path: &Path, budget: Budget) -> Vec<Input> {
    collect(std::slice::from_ref(&path.to_path_buf()), budget)
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

fn read_zip(path: &Path, spent: &mut Spent, out: &mut Vec<Input>) {
    let shown = path.display().to_string();
    let fail = |msg: String| Input::err(shown.clone(), msg);
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
            files.push(Input::err(
                entry_path,
                format!(
                    "zip entry `{name}` rejected: its name escapes the bundle (`..` or an absolute path); not read"
                ),
            ));
            continue;
        }
        if entry.is_dir() {
            continue;
        }
        if let Some(note) = spent.spent_note() {
            files.push(Input::err(entry_path, note));
            continue;
        }
        let remaining = ZIP_MAX_TOTAL - total;
        let bomb = |name: &str| {
            format!(
                "zip bundle rejected: more than {} MiB uncompressed at entry `{name}` (zip bomb guard); stopped reading",
                ZIP_MAX_TOTAL / (1024 * 1024)
            )
        };
        // A large log or event export is streamed like a file on disk (issue 14): bounded
        // by the read budgets, never held, so the in-memory bomb guard
        // does not apply to it.
        let nested = name.to_ascii_lowercase().ends_with(".zip");
        let mut prefix = Vec::new();
        if !nested && !spent.budget.stream_files_only && entry.size() >= spent.budget.stream_min {
            let mut head = Vec::new();
            let head_read = (&mut entry)
                .take(eems_parsers::stream::HEAD as u64)
                .read_to_end(&mut head);
            if head_read.is_ok()
                && let Some(how) = eems_parsers::stream::streamable(&head, Some(&entry_path))
            {
                let (input, used) = stream(
                    entry_path,
                    head,
                    &mut entry,
                    how,
                    spent.allowance(),
                    "cannot read zip entry",
                );
                spent.total = spent.total.saturating_add(used);
                files.push(input);
                continue;
            }
            // Not streamable: read whole below, the head first.
            prefix = head;
        }
        if entry.size() > remaining {
            files.push(fail(bomb(&name)));
            break;
        }
        // The declared size can lie: read at most one byte past the budget.
        let mut buf = std::mem::take(&mut prefix);
        let read = (&mut entry)
            .take(remaining.saturating_add(1).saturating_sub(buf.len() as u64))
            .read_to_end(&mut buf);
        total = total.saturating_add(buf.len() as u64);
        if total > ZIP_MAX_TOTAL {
            drop(buf);
            files.push(fail(bomb(&name)));
            break;
        }
        // A zip inside the bundle is another bundle: not opened (depth 0),
        // and said so rather than read as text.
        if name.to_ascii_lowercase().ends_with(".zip") || buf.starts_with(b"PK\x03\x04") {
            files.push(Input::err(
                entry_path,
                "nested bundle not read: a zip inside a zip bundle is not opened (extract it and analyse it on its own)",
            ));
            continue;
        }
        let (limit, note) = spent.allowance();
        let partial = (buf.len() as u64 > limit).then(|| {
            buf.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            note
        });
        spent.total = spent.total.saturating_add(buf.len() as u64);
        files.push(Input {
            path: entry_path,
            bytes: read
                .map(|_| buf)
                .map_err(|e| format!("cannot read zip entry: {e}")),
            partial,
            streamed: None,
        });
    }
    // Stable order, as for directories.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    out.extend(files);
}

/// Every regular file below `dir`, in a stable order (sorted by name, depth
/// first). Symbolic links are followed only while their target stays inside
/// `dir`; a link that leaves it, loops or is broken is listed with the
/// reason. FIFOs, sockets and devices are listed, never opened.
fn walk(dir: &Path, spent: &mut Spent, out: &mut Vec<Input>) {
    let root = match std::fs::canonicalize(dir) {
        Ok(r) => r,
        Err(e) => {
            out.push(Input::err(
                dir.display().to_string(),
                format!("cannot list directory: {e}"),
            ));
            return;
        }
    };
    // Shared by the filter (links refused) and the loop (files read), so the
    // listing keeps the walk's order.
    let found = std::cell::RefCell::new(Vec::new());
    let entries = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if !e.path_is_symlink() {
                return true;
            }
            let why = match std::fs::canonicalize(e.path()) {
                Ok(target) if target.starts_with(&root) => return true,
                Ok(target) => format!(
                    "symbolic link to `{}`, outside the analysed folder: not followed, never read",
                    target.display()
                ),
                Err(err) => format!("symbolic link not followed: {err}"),
            };
            found
                .borrow_mut()
                .push(Input::err(e.path().display().to_string(), why));
            false
        });
    // Two links to one file inside the folder, or a link and its target,
    // reach the same file twice: it is read once (issue 18).
    let mut seen = std::collections::HashMap::new();
    for entry in entries {
        let input = match entry {
            Ok(e) if e.file_type().is_dir() => continue,
            Ok(e) if e.file_type().is_file() => {
                if let Some(id) = file_id(e.path()) {
                    let shown = e.path().display().to_string();
                    if let Some(first) = seen.get(&id) {
                        found.borrow_mut().push(Input::err(
                            shown,
                            format!(
                                "skipped: the same file as `{first}` (a link or another name for it), already read; not read twice"
                            ),
                        ));
                        continue;
                    }
                    seen.insert(id, shown);
                }
                if is_zip(e.path()) {
                    let mut inner = Vec::new();
                    read_zip(e.path(), spent, &mut inner);
                    found.borrow_mut().extend(inner);
                    continue;
                }
                read(e.path(), spent)
            }
            Ok(e) => Input::err(e.path().display().to_string(), not_regular(&e.file_type())),
            Err(err) => {
                let path = err
                    .path()
                    .map_or_else(|| dir.display().to_string(), |p| p.display().to_string());
                let why = match err.loop_ancestor() {
                    Some(a) => format!(
                        "symbolic link loop: it leads back to `{}`, already being read; not followed",
                        a.display()
                    ),
                    None => match err.io_error() {
                        Some(io) if err.depth() == 0 => format!("cannot list directory: {io}"),
                        Some(io) => format!("cannot read: {io}"),
                        None => format!("cannot read: {err}"),
                    },
                };
                Input::err(path, why)
            }
        };
        found.borrow_mut().push(input);
    }
    out.extend(found.into_inner());
}

/// What makes two paths the same file (device and inode on Unix); `None`
/// when it cannot be told, and the file is read.
#[cfg(unix)]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// Windows: the volume and file index, through an open handle (`same-file`).
#[cfg(windows)]
fn file_id(p: &Path) -> Option<same_file::Handle> {
    same_file::Handle::from_path(p).ok()
}

#[cfg(not(any(unix, windows)))]
fn file_id(_: &Path) -> Option<()> {
    None
}

/// One regular file, within the budget. The type was checked before (an
/// open of a FIFO would block); it is checked again on the open handle.
fn read(p: &Path, spent: &mut Spent) -> Input {
    let shown = p.display().to_string();
    if let Some(note) = spent.spent_note() {
        return Input::err(shown, note);
    }
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => {}
        Ok(m) => return Input::err(shown, not_regular(&m.file_type())),
        Err(e) => return Input::err(shown, format!("cannot read file: {e}")),
    }
    let file = match std::fs::File::open(p) {
        Ok(f) => f,
        Err(e) => return Input::err(shown, format!("cannot read file: {e}")),
    };
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(m) => return Input::err(shown, not_regular(&m.file_type())),
        Err(e) => return Input::err(shown, format!("cannot read file: {e}")),
    }
    let hint = file.metadata().map_or(0, |m| m.len());
    // A large `.evtx` within the budget is read a chunk at a time by the
    // evtx crate, which needs to seek: only a file on disk can.
    if hint >= spent.budget.stream_min && hint <= spent.allowance().0 && is_evtx(&file) {
        let input = stream_evtx(shown, file);
        spent.total = spent.total.saturating_add(hint);
        return input;
    }
    let (input, used) = read_input(
        shown,
        file,
        Size::Known(hint),
        spent.allowance(),
        spent.budget.stream_min,
        "cannot read file",
    );
    spent.total = spent.total.saturating_add(used);
    input
}

/// Whether a file starts with the `.evtx` magic (the position is put back).
fn is_evtx(mut file: &std::fs::File) -> bool {
    use std::io::Seek;
    let mut magic = [0u8; 8];
    let ok =
        file.read_exact(&mut magic).is_ok() && magic.starts_with(eems_parsers::sniff::EVTX_MAGIC);
    file.rewind().is_ok() && ok
}

/// Stream a `.evtx` file record by record into its fold.
fn stream_evtx(path: String, file: std::fs::File) -> Input {
    let mut fold = eems_checks::collect::EventFold::new(&path);
    let parsed = eems_parsers::stream::read_evtx(std::io::BufReader::new(file), |e| fold.push(&e));
    Input {
        path,
        bytes: Ok(Vec::new()),
        partial: None,
        streamed: Some(Box::new(Streamed {
            parsed,
            folded: eems_checks::collect::Folded::Events(fold.finish()),
        })),
    }
}

/// What is known of an input's size before reading it.
#[derive(Clone, Copy)]
enum Size {
    Known(u64),
    Unknown,
}

/// Read one input within `limit` (the note says why it was cut): a log or
/// event export of at least `stream_min` bytes (or of unknown size) is streamed, parsed and
/// folded as it is read, so memory does not grow with it (issue 14);
/// anything else is read whole. Returns the input and the bytes consumed.
fn read_input(
    path: String,
    mut r: impl Read,
    size: Size,
    (limit, note): (u64, String),
    stream_min: u64,
    what: &str,
) -> (Input, u64) {
    let hint = match size {
        Size::Known(n) => n,
        Size::Unknown => 64 * 1024,
    };
    let streamable = match size {
        Size::Known(n) => n >= stream_min,
        // Standard input: a log streams whatever its size, unless
        // streaming is off (`parse`).
        Size::Unknown => stream_min < u64::MAX,
    };
    // Standard input is looked at first even when it is not streamed
    // (`parse`): `/dev/zero` piped in is binary, not 256 MiB to hold.
    if !streamable && matches!(size, Size::Known(_)) {
        return read_whole(path, r, (limit, note), hint, what);
    }
    let head_len = usize::try_from(limit.min(eems_parsers::stream::HEAD as u64)).unwrap_or(0);
    let mut head = Vec::with_capacity(head_len);
    if let Err(e) = (&mut r).take(head_len as u64).read_to_end(&mut head) {
        return (Input::err(path, format!("{what}: {e}")), 0);
    }
    let how = streamable
        .then(|| eems_parsers::stream::streamable(&head, Some(&path)))
        .flatten();
    let Some(how) = how else {
        // Binary data (`/dev/zero` on standard input, a dump in a bundle) is
        // no evidence: reading it to the budget would only hold it.
        if let Some(at) = eems_parsers::text::binary_at(&head) {
            let why = format!(
                "skipped: binary data (a NUL byte at offset {at}), neither text nor an event log (.evtx); not read past its first {}",
                human(head.len() as u64)
            );
            return (Input::err(path, why), head.len() as u64);
        }
        let rest = std::io::Cursor::new(head).chain(r);
        return read_whole(path, rest, (limit, note), hint, what);
    };
    stream(path, head, r, how, (limit, note), what)
}

/// Read one input whole within `limit`; returns it and the bytes consumed.
fn read_whole(
    path: String,
    r: impl Read,
    (limit, note): (u64, String),
    hint: u64,
    what: &str,
) -> (Input, u64) {
    let (bytes, partial) = read_bounded(r, limit, hint, note);
    let used = bytes.as_ref().map_or(0, |b| b.len() as u64);
    let input = Input {
        path,
        bytes: bytes.map_err(|e| format!("{what}: {e}")),
        partial,
        streamed: None,
    };
    (input, used)
}

/// Stream a log or an event export whose first bytes (`head`, already read)
/// showed it; the rest comes from `r`.
fn stream(
    path: String,
    head: Vec<u8>,
    r: impl Read,
    how: eems_parsers::stream::Streamable,
    (limit, note): (u64, String),
    what: &str,
) -> (Input, u64) {
    use eems_checks::collect::{EventFold, Folded, LogFold};
    use eems_parsers::stream::Streamable;
    let mut counted = Counted {
        inner: std::io::Cursor::new(head).chain(r).take(limit),
        n: 0,
        err: None,
    };
    let (parsed, folded) = match how {
        Streamable::Log(encoding) => {
            let mut fold = LogFold::new(&path);
            let parsed =
                eems_parsers::stream::read_log(&mut counted, encoding, |rec| fold.push(rec.into()));
            (parsed, Folded::Log(fold.finish()))
        }
        Streamable::Events(encoding, format) => {
            let mut fold = EventFold::new(&path);
            let parsed = eems_parsers::stream::read_events(&mut counted, encoding, format, |e| {
                fold.push(&e)
            });
            (parsed, Folded::Events(fold.finish()))
        }
    };
    if let Some(e) = counted.err {
        return (Input::err(path, format!("{what}: {e}")), counted.n);
    }
    // Cut by the budget when a byte is left past it.
    let mut rest = counted.inner.into_inner();
    let partial =
        (counted.n >= limit && rest.read(&mut [0u8]).is_ok_and(|n| n > 0)).then_some(note);
    let input = Input {
        path,
        bytes: Ok(Vec::new()),
        partial,
        streamed: Some(Box::new(Streamed { parsed, folded })),
    };
    (input, counted.n)
}

/// Counts what a reader gave, and keeps its error: the log reader reports a
/// read error as a problem and stops, but the input must be listed as unreadable.
struct Counted<R> {
    inner: R,
    n: u64,
    err: Option<std::io::Error>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.n += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let msg = e.to_string();
                self.err = Some(e);
                Err(std::io::Error::other(msg))
            }
        }
    }
}
