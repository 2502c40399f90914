//! Generic PowerShell console formatting: `Format-List` records and
//! `Format-Table` tables (header + dash ruler), plus the prompt lines admins
//! paste between outputs.
//!
//! Everything here is culture-neutral layout; what a property *means* is up
//! to the callers (`exchange`, `build`, `scripts`).

use crate::problem::{Parsed, Problem};
use crate::text::Source;
use serde::Serialize;

/// One `Name : value` property of a Format-List record.
#[derive(Debug, Clone, Serialize)]
pub struct FlProperty {
    /// Label as printed (may contain spaces: `Server Name`).
    pub name: String,
    /// Value with wrapped continuation lines joined; empty for Nil.
    pub value: String,
    pub line: usize,
    /// The value ends in a truncation marker (`...` or `…`, also inside a
    /// closing brace: `{M1, M2, M3, M4...}`): more existed than was printed.
    pub incomplete: bool,
    /// The items, when the value is a collection known item by item (read
    /// from CliXml): preferred over splitting the printed `{a, b}`, whose
    /// items may themselves contain commas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
}

impl FlProperty {
    /// `True`/`False` (also German `Wahr`/`Falsch`), case-insensitive.
    pub fn as_bool(&self) -> Option<bool> {
        parse_bool(&self.value)
    }

    /// `{a, b}` → `[a, b]`; a bare value → one element; empty/`{}` → empty.
    /// Known [`items`](Self::items) win over splitting the printed value.
    /// At most [`MAX_LIST_ITEMS`] (see [`as_list_bounded`](Self::as_list_bounded)).
    pub fn as_list(&self) -> Vec<String> {
        self.as_list_bounded().0
    }

    /// [`as_list`](Self::as_list), and whether items past [`MAX_LIST_ITEMS`]
    /// were left out.
    pub fn as_list_bounded(&self) -> (Vec<String>, bool) {
        match &self.items {
            Some(items) => (
                items.iter().take(MAX_LIST_ITEMS).cloned().collect(),
                items.len() > MAX_LIST_ITEMS,
            ),
            None => parse_list_bounded(&self.value),
        }
    }

    /// The value, or `None` when empty (Nil).
    pub fn as_str(&self) -> Option<&str> {
        let v = self.value.trim();
        (!v.is_empty()).then_some(v)
    }
}

/// One Format-List record (the block between blank lines).
#[derive(Debug, Clone, Serialize)]
pub struct FlRecord {
    /// In printed order.
    pub properties: Vec<FlProperty>,
    /// Line of the first property.
    pub line: usize,
}

impl FlRecord {
    /// First property whose label equals `name`, ignoring ASCII case and
    /// inner spacing differences (`Server Name` vs `ServerName` do NOT match:
    /// callers list both when both occur).
    pub fn get(&self, name: &str) -> Option<&FlProperty> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// First of several alternative labels that is present.
    pub fn get_any(&self, names: &[&str]) -> Option<&FlProperty> {
        names.iter().find_map(|n| self.get(n))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Property as bool; `None` when absent, empty or not a boolean word.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(FlProperty::as_bool)
    }

    /// Property as list; `None` when the property is absent.
    pub fn get_list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(FlProperty::as_list)
    }

    /// Property as string; `None` when absent or empty.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(FlProperty::as_str)
    }
}

/// `True`/`False`, `$true`/`$false`, German `Wahr`/`Falsch`.
pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    let s = s.strip_prefix('$').unwrap_or(s);
    if ["true", "wahr"].iter().any(|w| s.eq_ignore_ascii_case(w)) {
        Some(true)
    } else if ["false", "falsch"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
    {
        Some(false)
    } else {
        None
    }
}

/// Split off a trailing truncation marker (`...` / `…`), looking inside a
/// closing brace. Returns the value without the marker and whether one was found.
pub fn strip_truncation(s: &str) -> (String, bool) {
    let t = s.trim_end();
    let (body, brace) = match t.strip_suffix('}') {
        Some(b) => (b.trim_end(), "}"),
        None => (t, ""),
    };
    for marker in ["...", "\u{2026}"] {
        if let Some(b) = body.strip_suffix(marker) {
            return (format!("{}{brace}", b.trim_end()), true);
        }
    }
    (t.to_owned(), false)
}

/// Whether a value ends with a truncation marker ([`strip_truncation`]'s
/// flag, without its copy of the value).
pub fn ends_truncated(s: &str) -> bool {
    let t = s.trim_end();
    let body = t.strip_suffix('}').map_or(t, str::trim_end);
    body.ends_with("...") || body.ends_with('\u{2026}')
}

/// Items kept of one list value. A server has a handful of mitigations; a
/// list of millions is hostile or broken, and keeping it would cost memory
/// and time in every check that reads it (issue 14): it is cut here and
/// marked incomplete, like a list PowerShell itself cut with `...`.
pub const MAX_LIST_ITEMS: usize = 10_000;

/// Format-List rendering of a collection: `{a, b}`, `{}`, empty, or one bare
/// value. The truncation marker is removed (see [`strip_truncation`]). At
/// most [`MAX_LIST_ITEMS`].
pub fn parse_list(s: &str) -> Vec<String> {
    parse_list_bounded(s).0
}

/// [`parse_list`], and whether items past [`MAX_LIST_ITEMS`] were left out.
pub fn parse_list_bounded(s: &str) -> (Vec<String>, bool) {
    // `strip_truncation` without its copy: the value can be a line of
    // millions of items.
    let t = s.trim();
    let (body, brace) = match t.strip_suffix('}') {
        Some(b) => (b.trim_end(), true),
        None => (t, false),
    };
    let cut = ["...", "\u{2026}"]
        .iter()
        .find_map(|m| body.strip_suffix(m))
        .map(str::trim_end);
    // What `strip_truncation` gives, borrowed: `t` itself when no marker
    // was found, else the value before the marker and the brace.
    let (v, close) = match cut {
        None => (t, true),
        Some(b) => (b, !brace),
    };
    if v.is_empty() && (cut.is_none() || !brace) {
        return (Vec::new(), false);
    }
    let inner = match v.strip_prefix('{') {
        // A wrapped list cut off before its brace still lists its items.
        Some(rest) if close => rest.strip_suffix('}').unwrap_or(rest),
        Some(rest) => rest,
        // One bare value, as PowerShell showed it (less the marker).
        None => {
            let v = match cut {
                Some(b) if brace => format!("{b}}}"),
                _ => v.to_owned(),
            };
            return (vec![v], false);
        }
    };
    let mut items = inner.split(',').map(str::trim).filter(|x| !x.is_empty());
    let kept: Vec<String> = items
        .by_ref()
        .take(MAX_LIST_ITEMS)
        .map(str::to_owned)
        .collect();
    let more = items.next().is_some();
    (kept, more)
}

/// A console prompt line: `[PS] C:\Windows\system32>cmd`, `PS C:\>cmd`,
/// `C:\>cmd`, `[EX01]: PS C:\>cmd`. Returns the command typed after `>`.
pub fn prompt_command(line: &str) -> Option<&str> {
    let mut s = line.trim_start();
    // `On EX02 C:\>`: a paste that says where each command ran (issue 12).
    if let Some((_, rest)) = on_host(s) {
        s = rest;
    }
    // Remoting prefix `[EX01]: `.
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((inner, after)) = rest.split_once(']') {
            if inner.eq_ignore_ascii_case("PS") {
                s = after.trim_start();
            } else if let Some(a) = after.strip_prefix(':') {
                s = a.trim_start();
            } else {
                return None;
            }
        }
    }
    if let Some(rest) = s.strip_prefix("PS ") {
        s = rest.trim_start();
    }
    let mut chars = s.chars();
    let drive = chars.next()?;
    if !drive.is_ascii_alphabetic() || chars.next()? != ':' || chars.next()? != '\\' {
        return None;
    }
    let (path, cmd) = s.split_once('>')?;
    // Paths contain no characters that PowerShell would print in an output line.
    if path.contains(['<', '|', '"']) {
        return None;
    }
    Some(cmd.trim())
}

/// `On EX02 C:\>…` → (`EX02`, `C:\>…`).
fn on_host(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("On ")?;
    let (host, after) = rest.split_once(' ')?;
    let host = host_name(host)?;
    let after = after.trim_start();
    let b = after.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\')
        .then_some((host, after))
}

pub fn is_prompt_line(line: &str) -> bool {
    prompt_command(line).is_some()
}

/// A computer name as typed: `EX02`, `ex02.contoso.com`, `'EX02'`. Not a
/// variable, a list, an expression, nor the local computer.
fn host_name(v: &str) -> Option<&str> {
    let v = v.trim().trim_matches(['\'', '"']);
    let ok = v.chars().next().is_some_and(|c| c.is_alphanumeric())
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && !v.eq_ignore_ascii_case("localhost")
        && v != "127.0.0.1";
    ok.then_some(v)
}

/// The computer of a remoting prompt: `[EX02]: PS C:\>` → `EX02`. The
/// Exchange Management Shell's own `[PS] C:\>` names none.
pub fn prompt_host(line: &str) -> Option<&str> {
    prompt_command(line)?;
    if let Some((host, _)) = on_host(line.trim_start()) {
        return Some(host);
    }
    let rest = line.trim_start().strip_prefix('[')?;
    let (inner, after) = rest.split_once(']')?;
    if inner.trim().eq_ignore_ascii_case("PS") || !after.starts_with(':') {
        return None;
    }
    host_name(inner)
}

/// The one remote computer a command runs on: `Invoke-Command -ComputerName
/// EX02 {…}` (also `-cn`, `-ComputerName:EX02`, a prefix such as `-Comp`,
/// positional `Invoke-Command EX02 {…}` / `icm`), `Enter-PSSession EX02` /
/// `etsn`. `None` for several computers, a variable or a session object;
/// what the script block itself runs is not looked at.
pub fn command_computer(cmd: &str) -> Option<String> {
    // The command outside its script blocks, split on whitespace.
    let mut outer = String::new();
    let mut depth = 0usize;
    for c in cmd.chars() {
        match c {
            '{' => {
                depth += 1;
                outer.push(' ');
            }
            '}' => {
                depth = depth.saturating_sub(1);
                outer.push(' ');
            }
            '|' | ';' if depth == 0 => break, // the next command of a pipeline
            _ if depth == 0 => outer.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = outer.split_whitespace().collect();
    let (first, args) = words.split_first()?;
    let remoting = ["invoke-command", "icm", "enter-pssession", "etsn"]
        .iter()
        .any(|c| first.eq_ignore_ascii_case(c));
    if !remoting {
        return None;
    }
    let is_param = |w: &str| {
        let w = w.to_ascii_lowercase();
        w == "-cn" || (w.len() >= 5 && "-computername".starts_with(&w))
    };
    let mut k = 0;
    while let Some(&w) = args.get(k) {
        if let Some((p, v)) = w.split_once(':') {
            if is_param(p) {
                return host_name(v).map(str::to_owned);
            }
        }
        if is_param(w) {
            return args
                .get(k + 1)
                .and_then(|v| host_name(v))
                .map(str::to_owned);
        }
        k += 1;
    }
    // Positional: ComputerName is the first positional parameter of both.
    match args.first() {
        Some(w) if !w.starts_with(['-', '$', '(', '@']) => host_name(w).map(str::to_owned),
        _ => None,
    }
}

fn is_label_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '\t' | '_' | '-' | '.' | '(' | ')' | '/' | '#')
}

/// `label : value`, split at the first colon followed by whitespace or the
/// end of the line (values such as `10.0.0.1:8080` and `http://x` have
/// colons too); both trimmed, the label not empty. The one splitter for
/// Format-List, netsh and similar console output; callers add their own
/// rules for what a label may be.
pub fn split_label(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let mut from = 0;
    while let Some(pos) = t.get(from..).and_then(|s| s.find(':')) {
        let at = from + pos;
        let after = t.get(at + 1..)?;
        if after.is_empty() || after.starts_with(char::is_whitespace) {
            let label = t.get(..at)?.trim_end();
            return (!label.is_empty()).then_some((label, after.trim()));
        }
        from = at + 1;
    }
    None
}

/// Parse one line as a Format-List property: `(label, value)`.
pub fn split_property(line: &str) -> Option<(&str, &str)> {
    let (label, value) = split_label(line)?;
    let first = label.chars().next()?;
    if !first.is_alphabetic() || label.chars().count() > 64 || !label.chars().all(is_label_char) {
        return None;
    }
    Some((label, value))
}

/// Stream markers PowerShell prints with a colon; they are never properties.
fn is_stream_marker(label: &str) -> bool {
    ["WARNING", "VERBOSE", "DEBUG", "WARNUNG", "AUSFÜHRLICH"].contains(&label)
}

fn leading_ws(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count()
}

/// Char column where the value of a property line starts.
fn value_column(line: &str) -> usize {
    let Some((before, after)) = line.split_once(':') else {
        return 0;
    };
    before.chars().count() + 1 + leading_ws(after)
}

/// Join a wrapped continuation onto a value. PowerShell word-wraps values
/// with spaces (the space is consumed at the break), while a single long
/// token (URL, path) is hard-split: join with a space only in the first case.
fn join_continuation(value: &mut String, more: &str) {
    if value.is_empty() {
        value.push_str(more);
    } else if value.contains(char::is_whitespace) || value.ends_with([',', ';']) {
        value.push(' ');
        value.push_str(more);
    } else {
        value.push_str(more);
    }
}

struct Builder {
    record: Option<FlRecord>,
    value_col: usize,
    out: Vec<FlRecord>,
}

impl Builder {
    fn finish(&mut self) {
        if let Some(mut r) = self.record.take() {
            for p in &mut r.properties {
                let unwrapped = strip_markdown_bold(&p.value);
                if unwrapped.len() != p.value.len() {
                    p.value = unwrapped.to_owned();
                }
                p.incomplete = ends_truncated(&p.value);
            }
            if !r.properties.is_empty() {
                self.out.push(r);
            }
        }
    }

    fn last_mut(&mut self) -> Option<&mut FlProperty> {
        self.record.as_mut().and_then(|r| r.properties.last_mut())
    }
}

/// Read every Format-List record of `src`. Lines that are neither properties
/// nor continuations are reported and skipped; prompt lines end a record.
pub fn parse_records(src: Source<'_>) -> Parsed<Vec<FlRecord>> {
    let mut b = Builder {
        record: None,
        value_col: 0,
        out: Vec::new(),
    };
    let mut problems = Vec::new();
    for (ln, raw) in src.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() || is_prompt_line(line) {
            b.finish();
            continue;
        }
        let indent = leading_ws(line);
        let in_value = b.last_mut().is_some();
        // PS 5.1 indents wrapped values to the value column; such a line is a
        // continuation even when it happens to contain ` : `.
        let deep_continuation = in_value && indent > 0 && indent >= b.value_col;
        let prop = if deep_continuation {
            None
        } else {
            split_property(line)
        };
        match prop {
            Some((label, _)) if is_stream_marker(label) => {}
            Some((label, value)) => {
                // Blank lines lost in a paste: a repeated first label starts a new record.
                let restart = b.record.as_ref().is_some_and(|r| {
                    r.properties.len() > 1
                        && r.properties
                            .first()
                            .is_some_and(|p| p.name.eq_ignore_ascii_case(label))
                });
                if restart {
                    b.finish();
                }
                b.value_col = value_column(line);
                let record = b.record.get_or_insert_with(|| FlRecord {
                    properties: Vec::new(),
                    line: ln,
                });
                record.properties.push(FlProperty {
                    name: label.to_owned(),
                    value: value.to_owned(),
                    line: ln,
                    incomplete: false,
                    items: None,
                });
            }
            None => {
                if let Some(last) = b.last_mut() {
                    join_continuation(&mut last.value, line.trim());
                } else {
                    problems.push(Problem::at(ln, "not a Format-List property line; skipped"));
                }
            }
        }
    }
    b.finish();
    Parsed::with_problems(b.out, problems)
}

/// One column of a Format-Table output, located by its dash ruler (or, in
/// a paste that lost the ruler, by where its header name starts).
#[derive(Debug, Clone, Serialize)]
pub struct TableColumn {
    pub name: String,
    /// Char columns of the ruler run (or from the header name to the next
    /// header name), `end` exclusive. Cells of the last column may run past
    /// `end`: the rest of a longer row is theirs.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// One cell per column; `None` when nothing was printed there. Wrapped
    /// continuation lines (`Format-Table -Wrap`) are joined onto their cell.
    pub cells: Vec<Option<String>>,
    /// Per column: the cell ends in a truncation marker (`...` / `…`), so
    /// more existed than the column width let through.
    pub truncated: Vec<bool>,
    /// Line of the row (its first line when wrapped).
    pub line: usize,
}

/// A Format-Table block: header, dash ruler (or none, see
/// [`parse_tables_with`]), rows up to a blank line.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub columns: Vec<TableColumn>,
    pub rows: Vec<TableRow>,
    /// Line of the header.
    pub line: usize,
    /// The header had no dash ruler under it (lost in a forum paste):
    /// columns were placed by the header names.
    pub ruler_missing: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn cell<'t>(&self, row: &'t TableRow, name: &str) -> Option<&'t str> {
        let i = self.column(name)?;
        row.cells.get(i)?.as_deref()
    }

    /// Whether the cell of column `name` was cut off at the column width.
    pub fn cell_truncated(&self, row: &TableRow, name: &str) -> bool {
        self.column(name)
            .and_then(|i| row.truncated.get(i).copied())
            .unwrap_or(false)
    }
}

/// Dash runs of a ruler line (`------   ----`), as char extents.
fn ruler_runs(line: &str) -> Option<Vec<(usize, usize)>> {
    let t = line.trim();
    if t.is_empty() || !t.chars().all(|c| c == '-' || c == ' ') || !t.contains("--") {
        return None;
    }
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in line.chars().enumerate() {
        match (c == '-', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, line.chars().count()));
    }
    Some(runs)
}

/// Whitespace-separated tokens with their char extents.
fn tokens(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut n = 0;
    for (i, c) in line.chars().enumerate() {
        n = i + 1;
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, n));
    }
    out
}

fn char_slice(chars: &[char], start: usize, end: usize) -> String {
    chars
        .get(start..end.min(chars.len()))
        .map(|c| c.iter().collect::<String>())
        .unwrap_or_default()
}

/// `**EX2013**` → `EX2013`: markdown bold a forum paste put around a whole value.
pub fn strip_markdown_bold(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix("**").and_then(|r| r.strip_suffix("**")) {
        Some(inner) if !inner.trim().is_empty() && !inner.contains("**") => inner.trim(),
        _ => s,
    }
}

/// Assign each token to a column. A column's region runs from its ruler
/// run (or header name) to the next one; the last takes the rest of a row
/// longer than its header. A token that overlaps the run of the region it
/// starts in is that column's (left-aligned cells start under their header,
/// and may overflow it); else the column whose run it overlaps most
/// (right-aligned values wider than their header, cells shifted a
/// character by a name the poster edited); else the region's (further words
/// of a left-aligned cell wider than its header).
fn split_row(line: &str, columns: &[TableColumn]) -> Vec<Option<String>> {
    let chars: Vec<char> = line.chars().collect();
    let mut spans: Vec<Option<(usize, usize)>> = vec![None; columns.len()];
    let overlap =
        |c: &TableColumn, ts: usize, te: usize| te.min(c.end).saturating_sub(ts.max(c.start));
    for (ts, te) in tokens(line) {
        let region = columns
            .iter()
            .rposition(|c| c.start <= ts)
            .unwrap_or_default();
        let own = columns.get(region).is_some_and(|c| overlap(c, ts, te) > 0);
        let mut ci = region;
        if !own {
            let best = columns
                .iter()
                .enumerate()
                .map(|(k, c)| (overlap(c, ts, te), k))
                .max_by_key(|&(o, k)| (o, std::cmp::Reverse(k)));
            if let Some((o, k)) = best
                && o > 0
            {
                ci = k;
            }
        }
        if let Some(slot) = spans.get_mut(ci) {
            *slot = Some(match *slot {
                Some((s, _)) => (s, te),
                None => (ts, te),
            });
        }
    }
    spans
        .into_iter()
        .map(|s| {
            s.map(|(a, e)| {
                let cell = char_slice(&chars, a, e);
                strip_markdown_bold(&cell).trim().to_owned()
            })
        })
        .collect()
}

/// Join a wrapped table cell: `Format-Table -Wrap` breaks at a space (which
/// it drops) unless one word is wider than the column, which it splits at
/// the column width. So a piece that is one word as wide as the column was
/// split inside that word.
fn join_cell(value: &mut String, piece: &str, width: usize, more: &str) {
    let split_word = !piece.contains(char::is_whitespace) && piece.chars().count() >= width;
    if split_word {
        value.push_str(more);
    } else {
        value.push(' ');
        value.push_str(more);
    }
}

/// A header line of a table that lost its ruler: property names only
/// (letters, digits, `_`, `.`, `-`), at least two.
fn rulerless_header(line: &str) -> Option<Vec<&str>> {
    let is_name = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && n.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    // Stops at the first non-name or past MAX_COLUMNS: every line of a file
    // is tried, and a Format-List value of millions of items is one line.
    let mut names = Vec::new();
    for n in line.split_whitespace() {
        if names.len() == MAX_COLUMNS || !is_name(n) {
            return None;
        }
        names.push(n);
    }
    (names.len() >= 2).then_some(names)
}

/// More columns than any Format-Table an admin pastes: such a line is not a
/// header (and is not split into millions of names).
const MAX_COLUMNS: usize = 64;

/// Every Format-Table block of `src` (a header line directly followed by a
/// dash ruler). Rows run up to a blank or prompt line.
pub fn parse_tables(src: Source<'_>) -> Vec<Table> {
    parse_tables_with(src, |_| false)
}

/// [`parse_tables`], and also tables whose dash ruler was lost (a forum's
/// markdown eats a line of dashes): a header line of names that
/// `accept_rulerless` accepts, directly followed by rows. Their columns start
/// where the header names start; each runs up to the next.
pub fn parse_tables_with(
    src: Source<'_>,
    accept_rulerless: impl Fn(&[&str]) -> bool,
) -> Vec<Table> {
    let lines: Vec<(usize, &str)> = src.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&(hl, htext)) = lines.get(i) {
        if htext.trim().is_empty() || is_prompt_line(htext) {
            i += 1;
            continue;
        }
        let next = lines.get(i + 1).map(|&(_, l)| l);
        let runs = next.and_then(ruler_runs);
        let names = match runs {
            Some(_) => None,
            None => rulerless_header(htext),
        };
        // Only a line that can head a table is split into chars.
        if runs.is_none() && names.is_none() {
            i += 1;
            continue;
        }
        let hchars: Vec<char> = htext.chars().collect();
        let (columns, ruler_missing) = match runs {
            Some(runs) => (
                runs.iter()
                    .enumerate()
                    .map(|(k, &(s, e))| TableColumn {
                        // The last name, like the last cells, may run past its ruler.
                        name: char_slice(
                            &hchars,
                            s,
                            if k + 1 == runs.len() { hchars.len() } else { e },
                        )
                        .trim()
                        .to_owned(),
                        start: s,
                        end: e,
                    })
                    .collect::<Vec<_>>(),
                false,
            ),
            None => {
                let has_row = next.is_some_and(|l| !l.trim().is_empty() && !is_prompt_line(l));
                match names {
                    Some(names) if has_row && accept_rulerless(&names) => {
                        let columns = tokens(htext.trim_end())
                            .iter()
                            .map(|&(s, e)| TableColumn {
                                name: char_slice(&hchars, s, e),
                                start: s,
                                end: e,
                            })
                            .collect();
                        (columns, true)
                    }
                    _ => {
                        i += 1;
                        continue;
                    }
                }
            }
        };
        let first_row = i + if ruler_missing { 1 } else { 2 };
        let row_lines: Vec<(usize, &str)> = lines
            .iter()
            .skip(first_row)
            .take_while(|(_, l)| !l.trim().is_empty() && !is_prompt_line(l))
            .map(|&(ln, l)| (ln, l.trim_end()))
            .collect();
        // Width of each column, to tell a hard-split word from a word wrap:
        // up to the next column (a header wider than its values starts where
        // the column starts); the last one up to the table's right edge.
        let right_edge = row_lines
            .iter()
            .map(|(_, l)| l.chars().count())
            .max()
            .unwrap_or_default();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(k, c)| match columns.get(k + 1) {
                Some(next) => next.start.saturating_sub(c.start + 1),
                None => right_edge.saturating_sub(c.start),
            })
            .collect();
        let mut rows: Vec<TableRow> = Vec::new();
        // The cells of the row's latest line: what a continuation continues.
        let mut pieces: Vec<Option<String>> = Vec::new();
        for &(ln, l) in &row_lines {
            let cells = split_row(l, &columns);
            // `Format-Table -Wrap`: a line with nothing under the first
            // column continues the cells of the row above.
            let continuation = cells.first().is_some_and(Option::is_none);
            match rows.last_mut() {
                Some(prev) if continuation => {
                    for (k, more) in cells.into_iter().enumerate() {
                        let Some(more) = more else { continue };
                        let piece = pieces.get(k).cloned().flatten();
                        if let Some(slot) = prev.cells.get_mut(k) {
                            match (slot.as_mut(), piece) {
                                (Some(v), Some(piece)) => {
                                    join_cell(
                                        v,
                                        &piece,
                                        widths.get(k).copied().unwrap_or(usize::MAX),
                                        &more,
                                    );
                                }
                                (Some(v), None) => join_continuation(v, &more),
                                (None, _) => *slot = Some(more.clone()),
                            }
                        }
                        if let Some(p) = pieces.get_mut(k) {
                            *p = Some(more);
                        }
                    }
                }
                _ => {
                    pieces.clone_from(&cells);
                    rows.push(TableRow {
                        cells,
                        truncated: Vec::new(),
                        line: ln,
                    });
                }
            }
        }
        for r in &mut rows {
            r.truncated = r
                .cells
                .iter()
                .map(|c| c.as_deref().is_some_and(ends_truncated))
                .collect();
        }
        out.push(Table {
            columns,
            rows,
            line: hl,
            ruler_missing,
        });
        i = first_row + row_lines.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_label_splitter() {
        assert_eq!(
            split_label("  Proxy Server(s) :  10.0.0.1:8080 "),
            Some(("Proxy Server(s)", "10.0.0.1:8080"))
        );
        // A colon inside the value, or inside a URL label, is not the split.
        assert_eq!(
            split_label("Url: http://x:80/a"),
            Some(("Url", "http://x:80/a"))
        );
        assert_eq!(split_label("Bypass List :"), Some(("Bypass List", "")));
        assert_eq!(split_label("http://x:80/a"), None);
        assert_eq!(split_label("   : x"), None);
        assert_eq!(split_label("no colon here"), None);
        // Any label for netsh (`Liste d'exclusion`); Format-List properties
        // keep their narrower label rule.
        assert_eq!(
            split_label("Liste d'exclusion : <local>"),
            Some(("Liste d'exclusion", "<local>"))
        );
        assert_eq!(split_property("Liste d'exclusion : <local>"), None);
        assert_eq!(split_property("http://x : y"), None);
        assert_eq!(split_property("1st : y"), None);
        assert_eq!(split_property("Name    : EX01"), Some(("Name", "EX01")));
    }
    use proptest::prelude::*;

    fn recs(text: &str) -> Parsed<Vec<FlRecord>> {
        parse_records(Source::new(text))
    }

    #[test]
    fn basic_record_with_lines_and_nil() {
        let p = recs(
            "\nName                : EX01\nMitigationsApplied  : {PING1}\nInternetWebProxy    :\n\n",
        );
        assert!(p.problems.is_empty());
        assert_eq!(p.value.len(), 1);
        let r = &p.value[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.get("name").unwrap().value, "EX01");
        assert_eq!(r.get("NAME").unwrap().line, 2);
        assert_eq!(r.get_list("MitigationsApplied").unwrap(), vec!["PING1"]);
        assert_eq!(r.get_str("InternetWebProxy"), None);
        assert!(r.has("InternetWebProxy"));
        assert_eq!(r.get("InternetWebProxy").unwrap().line, 4);
    }

    #[test]
    fn odd_spacing_and_labels_with_spaces() {
        let p = recs(
            "Name            :   Server1\nMitigationsApplied  :   {M01.1, M01.2, M01.3}\nServer Name    : EX01\nMitigation Id  : PING1",
        );
        let r = &p.value[0];
        assert_eq!(r.get_str("Name"), Some("Server1"));
        assert_eq!(
            r.get_list("MitigationsApplied").unwrap(),
            vec!["M01.1", "M01.2", "M01.3"]
        );
        assert_eq!(r.get_str("server name"), Some("EX01"));
        assert_eq!(r.get_str("Mitigation Id"), Some("PING1"));
    }

    #[test]
    fn several_records_and_prompts() {
        let text = "[PS] C:\\Windows\\system32>Get-X | fl\n\nName : A\nX : 1\n\nName : B\nX : 2\nPS C:\\> \nC:\\>\nName : C\n";
        let p = recs(text);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let names: Vec<_> = p.value.iter().map(|r| r.get_str("name").unwrap()).collect();
        assert_eq!(names, vec!["A", "B", "C"]);
        assert_eq!(p.value[1].line, 6);
        assert_eq!(p.value[2].line, 10);
    }

    #[test]
    fn lost_blank_lines_split_on_repeated_first_label() {
        let p = recs("Name : A\nX : 1\nName : B\nX : 2\n");
        assert_eq!(p.value.len(), 2);
    }

    #[test]
    fn wrapped_values_join() {
        let text = "MitigationsApplied  : {PING1, M1.1, M2.1,\n                      M3.1}\nInternetWebProxy    : http://averyveryveryverylongproxyname.contoso.c\n                      om:8080/\nDescription         : EEMS Heartbeat probe. Does not modify\n                      any exchange settings.\n";
        let p = recs(text);
        let r = &p.value[0];
        assert_eq!(
            r.get_list("MitigationsApplied").unwrap(),
            vec!["PING1", "M1.1", "M2.1", "M3.1"]
        );
        assert_eq!(
            r.get_str("InternetWebProxy"),
            Some("http://averyveryveryverylongproxyname.contoso.com:8080/")
        );
        assert_eq!(
            r.get_str("Description"),
            Some("EEMS Heartbeat probe. Does not modify any exchange settings.")
        );
        assert_eq!(r.get("Description").unwrap().line, 5);
    }

    #[test]
    fn deep_indented_continuation_with_colon_is_not_a_property() {
        let p = recs("Message : first part\n          second : part\nNext    : x\n");
        let r = &p.value[0];
        assert_eq!(r.properties.len(), 2);
        assert_eq!(r.get_str("Message"), Some("first part second : part"));
    }

    #[test]
    fn truncation_markers() {
        let p = recs(
            "A : {M1, M2, M3, M4...}\nB : {M1, M2, M3, M4\u{2026}}\nC : some text...\nD : {x}\n",
        );
        let r = &p.value[0];
        assert!(r.get("A").unwrap().incomplete);
        assert_eq!(r.get_list("A").unwrap(), vec!["M1", "M2", "M3", "M4"]);
        assert!(r.get("B").unwrap().incomplete);
        assert_eq!(r.get_list("B").unwrap().len(), 4);
        assert!(r.get("C").unwrap().incomplete);
        assert!(!r.get("D").unwrap().incomplete);
    }

    #[test]
    fn booleans_lists_strings() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool(" falsch "), Some(false));
        assert_eq!(parse_bool("Wahr"), Some(true));
        assert_eq!(parse_bool("$false"), Some(false));
        assert_eq!(parse_bool(""), None);
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_list("{}"), Vec::<String>::new());
        assert_eq!(parse_list(""), Vec::<String>::new());
        assert_eq!(parse_list("PING1"), vec!["PING1"]);
        assert_eq!(parse_list("{a,b , c}"), vec!["a", "b", "c"]);
        assert_eq!(parse_list("{a, b"), vec!["a", "b"]);
        let many = format!("{{{}}}", vec!["M1"; MAX_LIST_ITEMS + 1].join(", "));
        let (kept, more) = parse_list_bounded(&many);
        assert_eq!((kept.len(), more), (MAX_LIST_ITEMS, true));
        let exact = format!("{{{}}}", vec!["M1"; MAX_LIST_ITEMS].join(", "));
        assert!(!parse_list_bounded(&exact).1);
    }

    #[test]
    fn junk_lines_reported_and_stream_markers_ignored() {
        let p = recs("garbage here\n\nWARNING: something odd\nName : A\n");
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].line, Some(1));
        assert_eq!(p.value.len(), 1);
        assert_eq!(p.value[0].properties.len(), 1);
    }

    #[test]
    fn prompt_forms() {
        assert_eq!(
            prompt_command("[PS] C:\\Windows\\system32>Get-ExchangeServer | fl"),
            Some("Get-ExchangeServer | fl")
        );
        assert_eq!(
            prompt_command("PS C:\\Users\\admin> sc query x"),
            Some("sc query x")
        );
        assert_eq!(prompt_command("C:\\>"), Some(""));
        assert_eq!(
            prompt_command("[EX01]: PS C:\\> hostname"),
            Some("hostname")
        );
        assert_eq!(prompt_command("Name : C:\\x>y"), None);
        assert_eq!(prompt_command("C:\\Program Files\\x.exe"), None);
        // Issue 12: a paste that says where each command ran.
        assert_eq!(
            prompt_command("On EX02 C:\\>(Get-Command ExSetup.exe).FileVersionInfo"),
            Some("(Get-Command ExSetup.exe).FileVersionInfo")
        );
        assert_eq!(
            prompt_host("On EX02 C:\\>(Get-Command ExSetup.exe).FileVersionInfo"),
            Some("EX02")
        );
        assert_eq!(prompt_command("On the server C:\\ is full"), None);
    }

    #[test]
    fn remote_computer_of_a_prompt_or_command() {
        assert_eq!(
            prompt_host("[EX02]: PS C:\\Users\\admin\\Documents> hostname"),
            Some("EX02")
        );
        assert_eq!(
            prompt_host("[ex02.contoso.com]: PS C:\\> (Get-Command ExSetup.exe).FileVersionInfo"),
            Some("ex02.contoso.com")
        );
        assert_eq!(
            prompt_host("[PS] C:\\Windows\\system32>Get-ExchangeServer"),
            None
        );
        assert_eq!(prompt_host("PS C:\\> hostname"), None);
        assert_eq!(prompt_host("[EX02]: not a prompt"), None);

        let cc = |c: &str| command_computer(c);
        assert_eq!(
            cc("Invoke-Command -ComputerName EX02 { (Get-Command ExSetup.exe).FileVersionInfo }")
                .as_deref(),
            Some("EX02")
        );
        assert_eq!(
            cc("invoke-command -cn 'ex01.contoso.com' -ScriptBlock {(gcm exsetup).FileVersionInfo} | fl")
                .as_deref(),
            Some("ex01.contoso.com")
        );
        assert_eq!(
            cc("Invoke-Command -ComputerName:EX03 {x}").as_deref(),
            Some("EX03")
        );
        assert_eq!(cc("icm -Comp EX04 {x}").as_deref(), Some("EX04"));
        assert_eq!(
            cc("Invoke-Command {x} -ComputerName \"EX05\"").as_deref(),
            Some("EX05")
        );
        assert_eq!(cc("Invoke-Command EX06 {x}").as_deref(), Some("EX06"));
        assert_eq!(cc("Enter-PSSession EX07").as_deref(), Some("EX07"));
        assert_eq!(
            cc("etsn -ComputerName EX08 -Credential $c").as_deref(),
            Some("EX08")
        );
        // Several computers, variables, sessions, the local computer: no one name.
        assert_eq!(cc("Invoke-Command -ComputerName EX01,EX02 {x}"), None);
        assert_eq!(cc("Invoke-Command -ComputerName EX01, EX02 {x}"), None);
        assert_eq!(cc("Invoke-Command -ComputerName $servers {x}"), None);
        assert_eq!(cc("Invoke-Command -Session $s {x}"), None);
        assert_eq!(cc("Invoke-Command {x}"), None);
        assert_eq!(cc("Invoke-Command -ComputerName localhost {x}"), None);
        // Only the remoting command's own parameters count.
        assert_eq!(
            cc("Invoke-Command -Session $s { Get-Service -ComputerName EX09 }"),
            None
        );
        assert_eq!(cc("Get-Service -ComputerName EX09"), None);
        assert_eq!(cc("Get-ExchangeServer EX10 | fl"), None);
        assert_eq!(cc(""), None);
    }

    #[test]
    fn first_line_offset_is_respected() {
        let p = parse_records(Source {
            text: "A : 1\nB : 2",
            first_line: 40,
        });
        assert_eq!(p.value[0].get("B").unwrap().line, 41);
    }

    #[test]
    fn tables_with_ruler_extents() {
        let text = "\nName                  Status StartType\n----                  ------ ---------\nMSExchangeMitigation Stopped  Disabled\n\n";
        let t = parse_tables(Source::new(text));
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!(t.line, 2);
        let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["Name", "Status", "StartType"]);
        let r = &t.rows[0];
        assert_eq!(r.line, 4);
        assert_eq!(t.cell(r, "name"), Some("MSExchangeMitigation"));
        assert_eq!(t.cell(r, "Status"), Some("Stopped"));
        assert_eq!(t.cell(r, "StartType"), Some("Disabled"));

        let text = "Status   Name               DisplayName\n------   ----               -----------\nRunning  MSExchangeMitig... Microsoft Exchange Emergency Mitigation Service\n";
        let t = &parse_tables(Source::new(text))[0];
        let r = &t.rows[0];
        assert_eq!(t.cell(r, "Name"), Some("MSExchangeMitig..."));
        assert_eq!(
            t.cell(r, "DisplayName"),
            Some("Microsoft Exchange Emergency Mitigation Service")
        );
    }

    #[test]
    fn table_with_empty_cell() {
        let text = "Aa     Bb     Cc\n--     --     --\nx             z\n";
        let t = &parse_tables(Source::new(text))[0];
        assert_eq!(
            t.rows[0].cells,
            vec![Some("x".into()), None, Some("z".into())]
        );
    }

    #[test]
    fn table_without_ruler_real_paste() {
        // Apoc70/Get-ExchangeEnvironmentReport#13: `ft -AutoSize` pasted
        // without its dash ruler; names edited by the poster shift the
        // later cells one character left of their header; ServerRole blank.
        let text = crate::text::decode(fixture!(
            "real/apoc70-envreport-13-get-exchangeserver-ft-edge/get-exchangeserver-ft-autosize.txt"
        ))
        .text;
        assert!(parse_tables(Source::new(&text)).is_empty(), "opt-in only");
        let accept = |names: &[&str]| names.contains(&"AdminDisplayVersion");
        let t = parse_tables_with(Source::new(&text), accept);
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert!(t.ruler_missing);
        assert_eq!(t.line, 2);
        let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Name",
                "Site",
                "ServerRole",
                "Edition",
                "AdminDisplayVersion"
            ]
        );
        assert_eq!(t.rows.len(), 2);
        for (r, name, line) in [
            (&t.rows[0], "xxxxxxxxxxxx1", 3),
            (&t.rows[1], "xxxxxxxxxxxx2", 4),
        ] {
            assert_eq!(r.line, line);
            assert_eq!(t.cell(r, "Name"), Some(name));
            assert_eq!(
                t.cell(r, "Site"),
                Some("xxxxxxxxxxxx/Configuration/Sites/xxxxxxxxxxxx")
            );
            assert_eq!(t.cell(r, "ServerRole"), None);
            assert_eq!(t.cell(r, "Edition"), Some("Standard"));
            assert_eq!(
                t.cell(r, "AdminDisplayVersion"),
                Some("Version 15.1 (Build 2507.6)")
            );
            assert!(r.truncated.iter().all(|x| !x));
        }
    }

    #[test]
    fn rulerless_header_needs_names_and_a_row() {
        let yes = |_: &[&str]| true;
        // Prose, a property line or a header with nothing under it is no table.
        assert!(parse_tables_with(Source::new("Name : EX01\nX : 1\n"), yes).is_empty());
        assert!(parse_tables_with(Source::new("Name Site\n\nEX01 a\n"), yes).is_empty());
        assert!(
            parse_tables_with(Source::new("The server (EX01) failed.\nagain\n"), yes).is_empty()
        );
        let t = parse_tables_with(Source::new("Name Site\nEX01 a/b\n"), yes);
        assert_eq!(
            t[0].rows[0].cells,
            vec![Some("EX01".into()), Some("a/b".into())]
        );
    }

    #[test]
    fn last_column_takes_the_rest_of_a_long_row() {
        let text = "Name MitigationsEnabled AdminDisplayVersion\n---- ------------------ ---\nEX01               True Version 15.2 (Build 1544.4)\n";
        let t = &parse_tables(Source::new(text))[0];
        let r = &t.rows[0];
        assert_eq!(t.cell(r, "MitigationsEnabled"), Some("True"));
        assert_eq!(
            t.cell(r, "AdminDisplayVersion"),
            Some("Version 15.2 (Build 1544.4)")
        );
    }

    #[test]
    fn wrapped_table_rows_join_their_cells() {
        // `ft Name,ServerRole,AdminDisplayVersion -Wrap` in a narrow console:
        // word wraps (space dropped) and a word wider than its column split.
        let text = "\nName   ServerRole AdminDisplayVersion\n----   ---------- -------------------\nEX01   Mailbox    Version 15.2 (Build\n                  1118.7)\nEX2013 Mailbox,   Version 15.0 (Build\n       ClientAcce 1497.2)\n       ss\nEX02   Edge       Version 15.2 (Build 986.5)\n\n";
        let t = &parse_tables(Source::new(text))[0];
        assert_eq!(t.rows.len(), 3);
        let r = &t.rows[0];
        assert_eq!(r.line, 4);
        assert_eq!(
            t.cell(r, "AdminDisplayVersion"),
            Some("Version 15.2 (Build 1118.7)")
        );
        let r = &t.rows[1];
        assert_eq!(r.line, 6);
        assert_eq!(t.cell(r, "Name"), Some("EX2013"));
        assert_eq!(t.cell(r, "ServerRole"), Some("Mailbox, ClientAccess"));
        assert_eq!(
            t.cell(r, "AdminDisplayVersion"),
            Some("Version 15.0 (Build 1497.2)")
        );
        let r = &t.rows[2];
        assert_eq!(r.line, 9);
        assert_eq!(t.cell(r, "ServerRole"), Some("Edge"));
        assert_eq!(
            t.cell(r, "AdminDisplayVersion"),
            Some("Version 15.2 (Build 986.5)")
        );
    }

    #[test]
    fn cells_wider_than_their_header() {
        // Rulers are as wide as the header names: a left-aligned cell runs
        // past its ruler (even nearer the next column's), a right-aligned
        // value wider than its header starts before its ruler.
        let text = "FileName                                           PSComputerName\n--------                                           --------------\nC:\\Program Files\\Microsoft\\Exchange Server\\V15\\... EX01\n";
        let t = &parse_tables(Source::new(text))[0];
        let r = &t.rows[0];
        assert_eq!(
            t.cell(r, "FileName"),
            Some("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\...")
        );
        assert_eq!(t.cell(r, "PSComputerName"), Some("EX01"));
        let text = "Name    Id Status\n----    -- ------\nEX01 12345 Running\n";
        let t = &parse_tables(Source::new(text))[0];
        assert_eq!(
            t.rows[0].cells,
            vec![
                Some("EX01".into()),
                Some("12345".into()),
                Some("Running".into())
            ]
        );
    }

    #[test]
    fn truncated_cells_are_marked() {
        let text = "Name               Status  DisplayName\n----               ------  -----------\nMSExchangeMitig... Running Microsoft Exchange Emergency Mitigati\u{2026}\nMSExchangeIS       Running Microsoft Exchange Information Store\n";
        let t = &parse_tables(Source::new(text))[0];
        let (a, b) = (&t.rows[0], &t.rows[1]);
        assert!(t.cell_truncated(a, "Name"));
        assert!(!t.cell_truncated(a, "Status"));
        assert!(t.cell_truncated(a, "DisplayName"));
        assert_eq!(a.truncated, vec![true, false, true]);
        assert_eq!(b.truncated, vec![false, false, false]);
        assert!(!t.cell_truncated(a, "NoSuchColumn"));
    }

    #[test]
    fn markdown_bold_around_a_value_is_removed() {
        // Microsoft Q&A 1114010, as posted: `**EX2013**` and trailing double spaces.
        let text = crate::text::decode(fixture!(
            "real/qa-1114010-get-exchangeserver-fl-two-servers/get-exchangeserver-fl.txt"
        ))
        .text;
        let p = recs(&text);
        let names: Vec<_> = p.value.iter().map(|r| r.get_str("Name").unwrap()).collect();
        assert_eq!(names, ["EX2013", "EX2019"]);
        assert_eq!(
            p.value[1].get_str("AdminDisplayVersion"),
            Some("Version 15.2 (Build 1118.7)")
        );
        assert_eq!(strip_markdown_bold("**a b**"), "a b");
        assert_eq!(strip_markdown_bold("**"), "**");
        assert_eq!(strip_markdown_bold("****"), "****");
        assert_eq!(strip_markdown_bold("**a** and **b**"), "**a** and **b**");
        assert_eq!(strip_markdown_bold("2**10"), "2**10");
        let t = parse_tables(Source::new(
            "Name     Edition\n----     -------\n**EX01** Standard\n",
        ));
        assert_eq!(t[0].cell(&t[0].rows[0], "Name"), Some("EX01"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_records(Source::new(&s));
            let _ = parse_tables(Source::new(&s));
            let _ = parse_tables_with(Source::new(&s), |_| true);
            let _ = prompt_command(&s);
            let _ = prompt_host(&s);
            let _ = command_computer(&s);
            let _ = parse_list(&s);
        }

        /// The list reader that does not copy the value reads lists as
        /// `strip_truncation` followed by the split does.
        #[test]
        fn lists_read_as_with_strip_truncation(s in "[ {}.,\u{2026}ab]{0,24}") {
            let (v, _) = strip_truncation(s.trim());
            let v = v.trim();
            let want: Vec<String> = if v.is_empty() {
                Vec::new()
            } else {
                match v.strip_prefix('{') {
                    Some(rest) => rest
                        .strip_suffix('}')
                        .unwrap_or(rest)
                        .split(',')
                        .map(str::trim)
                        .filter(|x| !x.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    None => vec![v.to_owned()],
                }
            };
            prop_assert_eq!(parse_list(&s), want);
            prop_assert_eq!(ends_truncated(&s), strip_truncation(&s).1);
        }

        #[test]
        fn never_panics_on_layout_chars(s in "[ \\-:{}.,\u{2026}a-zA-Z\\n\\t>\\\\\\[\\]]{0,200}") {
            let _ = parse_records(Source::new(&s));
            let _ = parse_tables(Source::new(&s));
            let _ = parse_tables_with(Source::new(&s), |_| true);
        }
    }
}
