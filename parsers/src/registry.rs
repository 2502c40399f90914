//! Generic `reg query` output and `.reg` exports.
//!
//! `reg query` (VERIFIED layout): a key path line at column 0, then one line
//! per value: four spaces, name, four spaces, `REG_*` type, four spaces, data;
//! blank lines between keys. `/s` prints every key path in turn, a query
//! without `/v` lists subkeys as bare path lines. A missing key or value prints
//! a single localized `ERROR:` line (`FEHLER:` on de-DE).
//!
//! `.reg` exports (regedit): `Windows Registry Editor Version 5.00` or
//! `REGEDIT4`, `[HKEY_…]` sections, `"Name"=…` / `@=…` values, `hex…:` data
//! continued with `\` at line end.
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::{char, hex_digit1};
use nom::combinator::{all_consuming, opt, recognize};
use nom::multi::many0;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};
use serde::Serialize;

/// Everything read from one `reg query` output or `.reg` export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistryValues {
    pub format: RegFormat,
    pub keys: Vec<RegKey>,
    /// `ERROR:`/`FEHLER:` lines: the queried key or value does not exist.
    pub errors: Vec<RegMessage>,
    /// True when reg reported a missing key/value (at least one error line).
    pub missing: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegFormat {
    #[default]
    Unknown,
    RegQuery,
    RegExport,
    /// `Get-ItemProperty <key> | Export-Clixml`.
    GetItemPropertyClixml,
    /// Health Checker's `Get-AllTlsSettings` object, exported with `Export-Clixml`.
    HealthCheckerTlsClixml,
}

/// 64-bit (native) registry view or the 32-bit `WOW6432Node` redirect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegView {
    #[default]
    Native,
    Wow6432node,
}

impl RegView {
    pub fn of_path(path: &str) -> RegView {
        if path
            .split('\\')
            .any(|seg| seg.eq_ignore_ascii_case("WOW6432Node"))
        {
            RegView::Wow6432node
        } else {
            RegView::Native
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RegKey {
    /// Key path as printed (`HKEY_LOCAL_MACHINE\…`), without `.reg` brackets.
    pub path: String,
    pub view: RegView,
    /// `.reg` `[-HKEY_…]`: the export deletes this key.
    pub deleted: bool,
    pub values: Vec<RegValue>,
    /// Paths of the keys in this output that are direct children of this one.
    pub subkeys: Vec<String>,
    pub line: usize,
}

impl RegKey {
    /// First value named `name` (case-insensitive, as the registry is).
    pub fn value(&self, name: &str) -> Option<&RegValue> {
        self.values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RegValue {
    /// Name as printed: `(Default)` in reg query, `@` in `.reg` for the default value.
    pub name: String,
    /// `REG_*` type name (`.reg` types are mapped: `dword:` → `REG_DWORD`, `hex(2):` → `REG_EXPAND_SZ`).
    pub reg_type: String,
    pub data: RegData,
    /// The data text as printed (continuations joined).
    pub raw: String,
    pub line: usize,
}

/// Typed value data. JSON: `{"kind":"dword","value":1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum RegData {
    Dword(u64),
    Qword(u64),
    String(String),
    MultiString(Vec<String>),
    Binary(Vec<u8>),
    /// `.reg` `"Name"=-`: the export deletes this value.
    Deleted,
    /// Data that could not be read as its type (the raw text is in `RegValue::raw`).
    Invalid,
}

impl RegData {
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            RegData::Dword(v) | RegData::Qword(v) => Some(*v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RegData::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            RegData::Binary(b) => Some(b),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RegMessage {
    pub message: String,
    pub line: usize,
}

impl RegistryValues {
    /// All values named `name` across keys, with their key.
    pub fn find<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a RegKey, &'a RegValue)> {
        self.keys.iter().flat_map(move |k| {
            k.values
                .iter()
                .filter(move |v| v.name.eq_ignore_ascii_case(name))
                .map(move |v| (k, v))
        })
    }
}

// ---------------------------------------------------------------- sniffing

/// Cheap content check: a `reg query` output (key path line followed by a
/// `REG_*` value line) or a `.reg` export. Does not exclude `WinHttpSettings`
/// outputs; the sniffer asks [`crate::winhttp::looks_like_winhttp_registry`] first.
pub fn looks_like_registry_values(text: &str) -> bool {
    if text
        .to_ascii_lowercase()
        .contains("unable to find the specified registry key")
    {
        return true;
    }
    let mut prev_key = false;
    for line in text.lines().take(400) {
        let t = line.trim();
        if t.starts_with("Windows Registry Editor Version") || t == "REGEDIT4" {
            return true;
        }
        if t.starts_with("[HKEY_") && t.ends_with(']') {
            return true;
        }
        if prev_key && value_line(line).is_some() {
            return true;
        }
        if !t.is_empty() {
            prev_key = is_key_path(t);
        }
    }
    false
}

// ---------------------------------------------------------------- parsing

/// Parse a `reg query` output or a `.reg` export.
pub fn parse(src: Source<'_>) -> Parsed<RegistryValues> {
    if crate::clixml::is_clixml(src.text) {
        return parse_clixml(src);
    }
    let (out, mut problems) = parse_raw(src);
    if out.keys.is_empty() && out.errors.is_empty() && problems.is_empty() {
        problems.push(Problem::whole("no registry key or value found"));
    }
    Parsed::with_problems(out, problems)
}

/// [`parse`] without the "nothing found" problem, for callers that judge that themselves.
pub(crate) fn parse_raw(src: Source<'_>) -> (RegistryValues, Vec<Problem>) {
    let is_export = src.lines().any(|(_, l)| {
        let t = l.trim();
        t.starts_with("Windows Registry Editor Version")
            || t == "REGEDIT4"
            || (t.starts_with("[HK") || t.starts_with("[-HK")) && t.ends_with(']')
    });
    let mut out = RegistryValues::default();
    let mut problems = Vec::new();
    if is_export {
        out.format = RegFormat::RegExport;
        parse_export(src, &mut out, &mut problems);
    } else {
        parse_query(src, &mut out, &mut problems);
        if !out.keys.is_empty() {
            out.format = RegFormat::RegQuery;
        }
    }
    out.missing = !out.errors.is_empty();
    fill_subkeys(&mut out.keys);
    (out, problems)
}

fn parse_query(src: Source<'_>, out: &mut RegistryValues, problems: &mut Vec<Problem>) {
    for (n, line) in src.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(msg) = error_line(t) {
            out.errors.push(RegMessage {
                message: msg.to_owned(),
                line: n,
            });
            continue;
        }
        if let Some((name, ty, data)) = value_line(line) {
            let (data_v, problem) = typed_query_data(ty, data);
            if let Some(p) = problem {
                problems.push(Problem::at(n, p));
            }
            if out.keys.is_empty() {
                problems.push(Problem::at(n, "value line before any key path line"));
                out.keys.push(new_key(String::new(), false, n));
            }
            if let Some(k) = out.keys.last_mut() {
                k.values.push(RegValue {
                    name: name.to_owned(),
                    reg_type: ty.to_owned(),
                    data: data_v,
                    raw: data.to_owned(),
                    line: n,
                });
            }
            continue;
        }
        if is_key_path(t) {
            out.keys.push(new_key(t.to_owned(), false, n));
            continue;
        }
        // `reg query /f` prints a match count at the end (en/de).
        if t.starts_with("End of search") || t.starts_with("Ende der Suche") {
            continue;
        }
        problems.push(Problem::at(n, format!("unrecognised line: {}", clip(t))));
    }
}

fn new_key(path: String, deleted: bool, line: usize) -> RegKey {
    RegKey {
        view: RegView::of_path(&path),
        path,
        deleted,
        values: Vec::new(),
        subkeys: Vec::new(),
        line,
    }
}

fn fill_subkeys(keys: &mut [RegKey]) {
    let paths: Vec<String> = keys.iter().map(|k| k.path.clone()).collect();
    for k in keys.iter_mut() {
        if k.path.is_empty() {
            continue;
        }
        let prefix = format!("{}\\", k.path.to_ascii_lowercase());
        for p in &paths {
            let lower = p.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix(&prefix)
                && !rest.is_empty()
                && !rest.contains('\\')
                && !k.subkeys.contains(p)
            {
                k.subkeys.push(p.clone());
            }
        }
    }
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// `ERROR: …`, `FEHLER: …`, `ERREUR : …`: an upper-case word and a colon
/// at the start of the line is how `reg.exe` reports a failure in every language.
pub(crate) fn error_line(t: &str) -> Option<&str> {
    let (word, _) = t.split_once(':')?;
    let word = word.trim_end();
    let upper =
        word.chars().count() >= 3 && word.chars().all(|c| c.is_alphabetic() && !c.is_lowercase());
    (upper && !word.starts_with("HK")).then_some(t)
}

const HIVES: [&str; 12] = [
    "HKEY_LOCAL_MACHINE",
    "HKEY_CURRENT_USER",
    "HKEY_CLASSES_ROOT",
    "HKEY_USERS",
    "HKEY_CURRENT_CONFIG",
    "HKEY_PERFORMANCE_DATA",
    "HKLM",
    "HKCU",
    "HKCR",
    "HKU",
    "HKCC",
    "HKEY_DYN_DATA",
];

pub(crate) fn is_key_path(t: &str) -> bool {
    let hive = t.split('\\').next().unwrap_or_default();
    HIVES.iter().any(|h| h.eq_ignore_ascii_case(hive))
}

/// `    Name    REG_TYPE    data` → (name, type, data). The name may contain
/// spaces, so the line is split at the first whitespace-delimited `REG_*` token.
pub(crate) fn value_line(line: &str) -> Option<(&str, &str, &str)> {
    let mut search = 0;
    while let Some(pos) = line.get(search..).and_then(|s| s.find("REG_")) {
        let at = search + pos;
        search = at + 4;
        let before = line.get(..at)?;
        if !before.ends_with(|c: char| c.is_whitespace()) {
            continue;
        }
        let name = before.trim();
        let rest = line.get(at..)?;
        let Ok((after, ty)) = reg_type_token(rest) else {
            continue;
        };
        if name.is_empty() || !(after.is_empty() || after.starts_with(char::is_whitespace)) {
            continue;
        }
        // The separator is four spaces; data may itself start with spaces (REG_SZ).
        let data = after.strip_prefix("    ").unwrap_or(after.trim_start());
        return Some((name, ty, data.trim_end()));
    }
    None
}

fn reg_type_token(i: &str) -> IResult<&str, &str> {
    recognize((
        tag("REG_"),
        take_while1(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
    ))
    .parse(i)
}

fn typed_query_data(ty: &str, data: &str) -> (RegData, Option<String>) {
    match ty {
        "REG_DWORD" | "REG_QWORD" | "REG_DWORD_BIG_ENDIAN" | "REG_DWORD_LITTLE_ENDIAN" => {
            match parse_reg_number(data) {
                Some(v) if ty == "REG_QWORD" => (RegData::Qword(v), None),
                Some(v) => (RegData::Dword(v), None),
                None => (
                    RegData::Invalid,
                    Some(format!("{ty} data is not a number: {}", clip(data))),
                ),
            }
        }
        "REG_SZ" | "REG_EXPAND_SZ" | "REG_LINK" => (RegData::String(data.to_owned()), None),
        // reg.exe joins the strings with a literal `\0`.
        "REG_MULTI_SZ" => (
            RegData::MultiString(
                data.split("\\0")
                    .map(str::to_owned)
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            None,
        ),
        _ => {
            let (bytes, problem) = parse_hex(data);
            (
                RegData::Binary(bytes),
                problem.map(|p| format!("{ty} data: {p}")),
            )
        }
    }
}

/// `0x1`, `0x0000ABCD` (reg query) or plain decimal.
fn parse_reg_number(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

// ---------------------------------------------------------------- hex

fn hex_separator(i: &str) -> IResult<&str, &str> {
    take_while(|c: char| c == ',' || c == '\\' || c.is_whitespace()).parse(i)
}

fn hex_group(i: &str) -> IResult<&str, &str> {
    preceded(hex_separator, hex_digit1).parse(i)
}

/// Read hex bytes written contiguously (`18000000…`), as `.reg` pairs
/// (`18,00,…`), spaced (`18 00 …`) or mixed, ignoring `\` continuations.
/// Returns what could be read plus a problem for odd digit counts or stray
/// characters (never guessing a half byte).
pub fn parse_hex(s: &str) -> (Vec<u8>, Option<String>) {
    let (rest, groups) = match many0(hex_group).parse(s) {
        Ok(v) => v,
        Err(_) => (s, Vec::new()),
    };
    let mut bytes = Vec::new();
    let mut problem = None;
    for g in groups {
        let digits = g.as_bytes();
        for pair in digits.chunks(2) {
            match pair {
                [h, l] => {
                    if let (Some(h), Some(l)) = (hex_val(*h), hex_val(*l)) {
                        bytes.push(h << 4 | l);
                    }
                }
                _ => {
                    problem.get_or_insert_with(|| {
                        format!(
                            "odd number of hex digits in group '{}' after byte {}",
                            clip(g),
                            bytes.len()
                        )
                    });
                }
            }
        }
    }
    let rest = hex_separator(rest).map(|(r, _)| r).unwrap_or(rest);
    if !rest.is_empty() && problem.is_none() {
        problem = Some(format!(
            "not hex: '{}' after byte {}",
            clip(rest),
            bytes.len()
        ));
    }
    (bytes, problem)
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

// ---------------------------------------------------------------- .reg export

fn parse_export(src: Source<'_>, out: &mut RegistryValues, problems: &mut Vec<Problem>) {
    let mut unicode = true;
    let mut lines = src.lines().peekable();
    while let Some((n, line)) = lines.next() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        if t == "REGEDIT4" {
            unicode = false;
            continue;
        }
        if t.starts_with("Windows Registry Editor Version") {
            continue;
        }
        if let Some(msg) = error_line(t) {
            out.errors.push(RegMessage {
                message: msg.to_owned(),
                line: n,
            });
            continue;
        }
        if let Some(inner) = t.strip_prefix('[') {
            let inner = inner.strip_suffix(']').unwrap_or_else(|| {
                problems.push(Problem::at(n, "key line without closing ']'"));
                inner
            });
            let (deleted, path) = match inner.strip_prefix('-') {
                Some(p) => (true, p),
                None => (false, inner),
            };
            out.keys.push(new_key(path.to_owned(), deleted, n));
            continue;
        }
        // Join `\`-continued hex data into one logical line.
        let mut logical = t.to_owned();
        while logical.ends_with('\\') && logical.contains("=hex") {
            logical.pop();
            match lines.peek() {
                Some((_, next)) if !next.trim().is_empty() => {
                    logical.push_str(next.trim());
                    lines.next();
                }
                _ => {
                    problems.push(Problem::at(
                        n,
                        "hex data continued with '\\' but no next line",
                    ));
                    break;
                }
            }
        }
        match export_value(&logical, unicode) {
            Some((name, ty, data, raw, problem)) => {
                if let Some(p) = problem {
                    problems.push(Problem::at(n, format!("value '{name}': {p}")));
                }
                if out.keys.is_empty() {
                    problems.push(Problem::at(n, "value line before any [key] line"));
                    out.keys.push(new_key(String::new(), false, n));
                }
                if let Some(k) = out.keys.last_mut() {
                    k.values.push(RegValue {
                        name,
                        reg_type: ty,
                        data,
                        raw,
                        line: n,
                    });
                }
            }
            None => problems.push(Problem::at(n, format!("unrecognised line: {}", clip(t)))),
        }
    }
}

type ExportValue = (String, String, RegData, String, Option<String>);

fn export_value(line: &str, unicode: bool) -> Option<ExportValue> {
    let (rest, name) = alt((reg_quoted, recognize(char('@')).map(str::to_owned)))
        .parse(line)
        .ok()?;
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    if rest == "-" {
        return Some((name, String::new(), RegData::Deleted, rest.to_owned(), None));
    }
    if rest.starts_with('"') {
        return match all_consuming(delimited(
            take_while(char::is_whitespace),
            reg_quoted,
            take_while(char::is_whitespace),
        ))
        .parse(rest)
        {
            Ok((_, s)) => Some((
                name,
                "REG_SZ".into(),
                RegData::String(s),
                rest.to_owned(),
                None,
            )),
            Err(_) => Some((
                name,
                "REG_SZ".into(),
                RegData::Invalid,
                rest.to_owned(),
                Some("unterminated string".into()),
            )),
        };
    }
    if let Ok((data, _)) = tag_no_case::<_, _, nom::error::Error<&str>>("dword:").parse(rest) {
        return Some(match u64::from_str_radix(data.trim(), 16) {
            Ok(v) if v <= u64::from(u32::MAX) => (
                name,
                "REG_DWORD".into(),
                RegData::Dword(v),
                data.to_owned(),
                None,
            ),
            _ => (
                name,
                "REG_DWORD".into(),
                RegData::Invalid,
                data.to_owned(),
                Some(format!("dword data is not 8 hex digits: {}", clip(data))),
            ),
        });
    }
    let (data, kind) = hex_prefix(rest).ok()?;
    let (bytes, problem) = parse_hex(data);
    let (ty, value) = typed_hex(kind, bytes, unicode);
    Some((name, ty.to_owned(), value, data.to_owned(), problem))
}

/// `hex:` → None, `hex(7):` → Some("7").
fn hex_prefix(i: &str) -> IResult<&str, Option<&str>> {
    delimited(
        tag_no_case("hex"),
        opt(delimited(
            char('('),
            take_while1(|c: char| c.is_ascii_hexdigit()),
            char(')'),
        )),
        char(':'),
    )
    .parse(i)
}

fn typed_hex(kind: Option<&str>, bytes: Vec<u8>, unicode: bool) -> (&'static str, RegData) {
    let code = kind.and_then(|k| u32::from_str_radix(k, 16).ok());
    match code {
        None | Some(3) => ("REG_BINARY", RegData::Binary(bytes)),
        Some(0) => ("REG_NONE", RegData::Binary(bytes)),
        Some(1) => ("REG_SZ", RegData::String(reg_string(&bytes, unicode))),
        Some(2) => (
            "REG_EXPAND_SZ",
            RegData::String(reg_string(&bytes, unicode)),
        ),
        Some(7) => {
            let joined = reg_string_raw(&bytes, unicode);
            let parts = joined
                .split('\0')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            ("REG_MULTI_SZ", RegData::MultiString(parts))
        }
        Some(4) | Some(5) if bytes.len() == 4 => {
            let arr = [
                bytes.first().copied().unwrap_or(0),
                bytes.get(1).copied().unwrap_or(0),
                bytes.get(2).copied().unwrap_or(0),
                bytes.get(3).copied().unwrap_or(0),
            ];
            let v = if code == Some(4) {
                u32::from_le_bytes(arr)
            } else {
                u32::from_be_bytes(arr)
            };
            ("REG_DWORD", RegData::Dword(u64::from(v)))
        }
        Some(0xb) if bytes.len() == 8 => {
            let mut arr = [0u8; 8];
            arr.copy_from_slice(&bytes);
            ("REG_QWORD", RegData::Qword(u64::from_le_bytes(arr)))
        }
        _ => ("REG_BINARY", RegData::Binary(bytes)),
    }
}

/// REGEDIT5 strings are UTF-16LE, REGEDIT4 strings ANSI.
fn reg_string_raw(bytes: &[u8], unicode: bool) -> String {
    if unicode {
        let units = bytes.chunks_exact(2).map(|p| {
            u16::from_le_bytes([
                p.first().copied().unwrap_or(0),
                p.get(1).copied().unwrap_or(0),
            ])
        });
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else {
        let (s, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
        s.into_owned()
    }
}

fn reg_string(bytes: &[u8], unicode: bool) -> String {
    reg_string_raw(bytes, unicode)
        .trim_end_matches('\0')
        .to_owned()
}

/// `"text with \" and \\"` → unescaped text.
fn reg_quoted(i: &str) -> IResult<&str, String> {
    let (mut rest, _) = char('"').parse(i)?;
    let mut out = String::new();
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None => {
                return Err(nom::Err::Error(nom::error::Error::new(
                    rest,
                    nom::error::ErrorKind::Char,
                )));
            }
            Some('"') => return Ok((chars.as_str(), out)),
            Some('\\') => match chars.next() {
                Some(c) => {
                    out.push(c);
                    rest = chars.as_str();
                }
                None => {
                    return Err(nom::Err::Error(nom::error::Error::new(
                        rest,
                        nom::error::ErrorKind::Escaped,
                    )));
                }
            },
            Some(c) => {
                out.push(c);
                rest = chars.as_str();
            }
        }
    }
}

// ---------------------------------------------------------------- CliXml

/// CliXml holding registry values: `Get-ItemProperty <key> | Export-Clixml`
/// (objects whose `PSPath` is under the `Registry::` provider), or Health
/// Checker's `Get-AllTlsSettings` object (its SCHANNEL and .NET values).
pub fn looks_like_registry_values_clixml(text: &str) -> bool {
    use crate::clixml;
    clixml::is_clixml(text)
        && (clixml::mentions_property(text, "SystemDefaultTlsVersionsValue")
            || clixml::mentions_property(text, "PSPath")
                && text.contains("Microsoft.PowerShell.Core\\Registry::"))
}

fn parse_clixml(src: Source<'_>) -> Parsed<RegistryValues> {
    use crate::clixml::PsValue;
    let parsed = crate::clixml::parse(src);
    let mut problems = parsed.problems;
    let mut out = RegistryValues::default();
    for obj in &parsed.value {
        if let Some(reg) = obj.get("Registry").and_then(PsValue::as_object) {
            out.format = RegFormat::HealthCheckerTlsClixml;
            hc_tls_keys(reg, &mut out.keys);
        } else if let Some(path) = obj.get("PSPath").and_then(PsValue::as_str) {
            out.format = RegFormat::GetItemPropertyClixml;
            out.keys.push(get_item_property_key(obj, path));
        }
    }
    if out.keys.is_empty() {
        problems.push(Problem::whole(
            "no registry key (Get-ItemProperty object or Health Checker TLS settings) found in the CliXml",
        ));
    }
    fill_subkeys(&mut out.keys);
    Parsed::with_problems(out, problems)
}

/// `Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\…` → `HKEY_LOCAL_MACHINE\…`.
fn provider_path(path: &str) -> &str {
    path.split_once("::").map_or(path, |(_, p)| p)
}

/// The properties PowerShell adds to every `Get-ItemProperty` object.
const PS_PROPERTIES: [&str; 5] = [
    "PSPath",
    "PSParentPath",
    "PSChildName",
    "PSDrive",
    "PSProvider",
];

/// One `Get-ItemProperty` object: every property but PowerShell's own is a
/// value. CliXml keeps the .NET type, not the registry type: an `I32` is a
/// `REG_DWORD` (a DWORD above 0x7FFFFFFF arrives negative), a larger integer a
/// `REG_QWORD`, a string `REG_SZ`, a string list `REG_MULTI_SZ`, bytes `REG_BINARY`.
fn get_item_property_key(obj: &crate::clixml::PsObject, path: &str) -> RegKey {
    use crate::clixml::PsValue;
    let mut key = new_key(provider_path(path).to_owned(), false, obj.line);
    for p in &obj.properties {
        if PS_PROPERTIES.iter().any(|n| p.name.eq_ignore_ascii_case(n)) {
            continue;
        }
        let (reg_type, data, raw) = match &p.value {
            PsValue::Int(i) => match (i32::try_from(*i), u64::try_from(*i)) {
                (Ok(d), _) => (
                    "REG_DWORD",
                    RegData::Dword(u64::from(u32::from_ne_bytes(d.to_ne_bytes()))),
                    i.to_string(),
                ),
                (Err(_), Ok(q)) => ("REG_QWORD", RegData::Qword(q), i.to_string()),
                (Err(_), Err(_)) => ("REG_QWORD", RegData::Invalid, i.to_string()),
            },
            PsValue::Str(s) => ("REG_SZ", RegData::String(s.clone()), s.clone()),
            PsValue::Text { tag, text } if tag == "BA" => match p.value.as_bytes() {
                Some(b) => ("REG_BINARY", RegData::Binary(b), text.clone()),
                None => ("REG_BINARY", RegData::Invalid, text.clone()),
            },
            v => match v.as_list() {
                Some(items) => {
                    let strings: Vec<String> = items
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect();
                    let raw = strings.join("\\0");
                    ("REG_MULTI_SZ", RegData::MultiString(strings), raw)
                }
                None => continue,
            },
        };
        key.values.push(RegValue {
            name: p.name.clone(),
            reg_type: reg_type.to_owned(),
            data,
            raw,
            line: p.line,
        });
    }
    key
}

const HC_SCHANNEL: &str = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols";
const HC_NET: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework";
const HC_NET_WOW: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework";

/// Health Checker's `Registry` object: `TLS` (a table by version, each with
/// `ServerEnabledValue`, `ClientDisabledByDefaultValue`, …) and `NET` (by
/// framework, `SystemDefaultTlsVersionsValue`, `WowSchUseStrongCryptoValue`, …).
/// Only the raw `…Value` integers become values: its booleans are its own
/// reading (a missing value counts as its default), and an older object has a
/// `SchUseStrongCrypto` boolean with no raw value, which is then left out.
/// Every version and framework in the object gives its keys, with or without values.
fn hc_tls_keys(reg: &crate::clixml::PsObject, keys: &mut Vec<RegKey>) {
    use crate::clixml::PsValue;
    let value_of = |o: &crate::clixml::PsObject, name: &str| {
        let p = o
            .properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))?;
        let i = p.value.as_i64()?;
        Some(RegValue {
            name: String::new(),
            reg_type: "REG_DWORD".into(),
            data: u64::try_from(i).map_or(RegData::Invalid, RegData::Dword),
            raw: i.to_string(),
            line: p.line,
        })
    };
    let mut push = |path: String, o: &crate::clixml::PsObject, pairs: &[(&str, &str)]| {
        let mut key = new_key(path, false, o.line);
        for (property, name) in pairs {
            if let Some(mut v) = value_of(o, property) {
                v.name = (*name).to_owned();
                key.values.push(v);
            }
        }
        keys.push(key);
    };
    for (_, v) in reg
        .get("TLS")
        .and_then(PsValue::as_dict)
        .unwrap_or_default()
    {
        let Some(o) = v.as_object() else { continue };
        let Some(version) = o.get("TLSVersion").and_then(PsValue::as_str) else {
            continue;
        };
        for side in ["Client", "Server"] {
            push(
                format!("{HC_SCHANNEL}\\TLS {version}\\{side}"),
                o,
                &[
                    (&format!("{side}EnabledValue"), "Enabled"),
                    (
                        &format!("{side}DisabledByDefaultValue"),
                        "DisabledByDefault",
                    ),
                ],
            );
        }
    }
    for (_, v) in reg
        .get("NET")
        .and_then(PsValue::as_dict)
        .unwrap_or_default()
    {
        let Some(o) = v.as_object() else { continue };
        let Some(version) = o.get("NetVersion").and_then(PsValue::as_str) else {
            continue;
        };
        push(
            format!("{HC_NET}\\{version}"),
            o,
            &[
                ("SystemDefaultTlsVersionsValue", "SystemDefaultTlsVersions"),
                ("SchUseStrongCryptoValue", "SchUseStrongCrypto"),
            ],
        );
        push(
            format!("{HC_NET_WOW}\\{version}"),
            o,
            &[
                (
                    "WowSystemDefaultTlsVersionsValue",
                    "SystemDefaultTlsVersions",
                ),
                ("WowSchUseStrongCryptoValue", "SchUseStrongCrypto"),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mutate;
    use crate::text::{Encoding, decode};
    use proptest::prelude::*;

    fn run(bytes: &[u8]) -> Parsed<RegistryValues> {
        let d = decode(bytes);
        parse(Source::new(&d.text))
    }

    const CONNECTIONS: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";

    const TLS12: &str = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2";
    const NET4: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319";
    const NET4_WOW: &str =
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319";

    fn dword(r: &RegistryValues, path: &str, name: &str) -> Option<u64> {
        r.keys
            .iter()
            .find(|k| k.path.eq_ignore_ascii_case(path))?
            .value(name)?
            .data
            .as_u64()
    }

    #[test]
    fn schannel_tls12_subkeys_with_s() {
        let p = run(fixture!("extra/winhttp/reg-query-schannel-tls12-s.txt"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.keys.len(), 3);
        let client = format!("{TLS12}\\Client");
        assert_eq!(dword(&r, &client, "Enabled"), Some(0));
        assert_eq!(dword(&r, &client, "DisabledByDefault"), Some(1));
        assert_eq!(dword(&r, &format!("{TLS12}\\Server"), "Enabled"), Some(1));
        assert_eq!(r.keys[0].subkeys.len(), 2);
        assert_eq!(r.keys[1].values[1].line, 6);
    }

    #[test]
    fn dotnet_v4_and_tls_export() {
        let p = run(fixture!("extra/winhttp/reg-query-dotnet-v4.txt"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(dword(&p.value, NET4, "SchUseStrongCrypto"), Some(0));
        assert_eq!(dword(&p.value, NET4, "SystemDefaultTlsVersions"), Some(0));

        let p = run(fixture!("extra/winhttp/reg-export-tls.reg"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.format, RegFormat::RegExport);
        assert_eq!(dword(&r, &format!("{TLS12}\\Client"), "Enabled"), Some(1));
        assert_eq!(dword(&r, NET4, "SchUseStrongCrypto"), Some(1));
        assert_eq!(dword(&r, NET4_WOW, "SystemDefaultTlsVersions"), Some(0));
        assert_eq!(r.keys[2].view, RegView::Wow6432node);
    }

    #[test]
    fn get_item_property_clixml_is_a_key_with_its_values() {
        let d = decode(fixture!(
            "extra/winhttp/get-itemproperty-dotnet-v4.clixml.xml"
        ));
        assert_eq!(
            crate::sniff::sniff_text(&d.text),
            crate::kind::Kind::RegistryValues
        );
        let p = parse(Source::new(&d.text));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.format, RegFormat::GetItemPropertyClixml);
        assert_eq!(r.keys.len(), 1);
        let k = &r.keys[0];
        assert_eq!(k.path, NET4);
        // PowerShell's own properties are not registry values.
        let names: Vec<&str> = k.values.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "OnlyUseLatestCLR",
                "SchUseStrongCrypto",
                "SystemDefaultTlsVersions"
            ]
        );
        assert_eq!(
            k.value("SchUseStrongCrypto").unwrap().data,
            RegData::Dword(0)
        );
        assert_eq!(k.value("SchUseStrongCrypto").unwrap().line, 9);
    }

    /// Health Checker's own capture (CSS-Exchange test data, see its SOURCE.md).
    #[test]
    fn health_checker_tls_settings_clixml() {
        let d = decode(fixture!("clixml/css-exchange/E15/GetAllTlsSettings.xml"));
        assert_eq!(
            crate::sniff::sniff_text(&d.text),
            crate::kind::Kind::RegistryValues
        );
        let p = parse(Source::new(&d.text));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.format, RegFormat::HealthCheckerTlsClixml);
        // TLS 1.0/1.1/1.2 × Client/Server, v2 and v4 × native/WOW.
        assert_eq!(r.keys.len(), 10);
        let server = format!("{TLS12}\\Server");
        assert_eq!(dword(&r, &server, "Enabled"), Some(1));
        assert_eq!(dword(&r, &server, "DisabledByDefault"), Some(0));
        // Nil in the capture: the value is absent, not 0.
        let client = r
            .keys
            .iter()
            .find(|k| k.path == format!("{TLS12}\\Client"))
            .unwrap();
        assert!(client.values.is_empty());
        assert_eq!(dword(&r, NET4, "SystemDefaultTlsVersions"), Some(1));
        assert_eq!(dword(&r, NET4_WOW, "SystemDefaultTlsVersions"), Some(1));
        // This older object has only Health Checker's boolean for SchUseStrongCrypto.
        assert_eq!(dword(&r, NET4, "SchUseStrongCrypto"), None);
    }

    #[test]
    fn clixml_without_registry_objects_is_a_problem_not_a_panic() {
        let text = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj RefId=\"0\"><MS><S N=\"PSPath\">x</S><I32 N=\"A\">nope</I32><I32 N=\"B\">-1</I32></MS></Obj><Obj RefId=\"1\"><MS><Obj N=\"Registry\" RefId=\"2\"><MS><S N=\"TLS\">x</S></MS></Obj></MS></Obj></Objs>";
        let p = parse(Source::new(text));
        assert_eq!(p.value.keys.len(), 1);
        // A DWORD above 0x7FFFFFFF is a negative I32 in CliXml.
        assert_eq!(
            p.value.keys[0].value("B").map(|v| &v.data),
            Some(&RegData::Dword(0xFFFF_FFFF))
        );
        let p = parse(Source::new(
            "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"></Objs>",
        ));
        assert!(p.value.keys.is_empty());
        assert!(
            p.problems
                .iter()
                .any(|x| x.message.contains("no registry key"))
        );
    }

    #[test]
    fn authroot_dword() {
        let p = run(fixture!("extra/winhttp/reg-query-authroot.txt"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.format, RegFormat::RegQuery);
        assert!(!r.missing);
        assert_eq!(r.keys.len(), 1);
        let k = &r.keys[0];
        assert_eq!(
            k.path,
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot"
        );
        assert_eq!(k.line, 2);
        assert_eq!(k.view, RegView::Native);
        let v = k.value("disablerootautoupdate").unwrap();
        assert_eq!(v.reg_type, "REG_DWORD");
        assert_eq!(v.data, RegData::Dword(1));
        assert_eq!(v.raw, "0x1");
        assert_eq!(v.line, 3);
    }

    #[test]
    fn chainengine_options() {
        let p = run(fixture!("extra/winhttp/reg-query-chainengine-config.txt"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let (k, v) = p.value.find("Options").next().unwrap();
        assert!(
            k.path
                .ends_with("\\SystemCertificates\\ChainEngine\\Config")
        );
        assert_eq!(v.data.as_u64(), Some(2));
        assert_eq!(v.line, 3);
    }

    #[test]
    fn exchange_setup() {
        let p = run(fixture!("extra/winhttp/reg-query-exchange-setup.txt"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.keys.len(), 3);
        let setup = &r.keys[0];
        assert_eq!(setup.values.len(), 8);
        let path = setup.value("MsiInstallPath").unwrap();
        assert_eq!(
            path.data.as_str(),
            Some("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\")
        );
        assert_eq!(path.line, 3);
        let num = |n: &str| setup.value(n).and_then(|v| v.data.as_u64());
        assert_eq!(
            (
                num("MsiProductMajor"),
                num("MsiProductMinor"),
                num("MsiBuildMajor"),
                num("MsiBuildMinor")
            ),
            (Some(15), Some(2), Some(1544), Some(4))
        );
        assert_eq!(setup.value("Watermark").unwrap().data.as_str(), Some(""));
        assert_eq!(
            setup.value("InstalledRoles").unwrap().data,
            RegData::MultiString(vec!["Mailbox".into(), "ClientAccess".into()])
        );
        assert_eq!(
            setup.subkeys,
            [
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup\\Installed Features",
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup\\Mailbox"
            ]
        );
        assert_eq!(r.keys[1].line, 12);
        assert!(r.keys[1].values.is_empty());
    }

    #[test]
    fn several_keys_s() {
        let p = run(fixture!("extra/winhttp/reg-query-systemcertificates-s.txt"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        let lines: Vec<_> = r.keys.iter().map(|k| (k.line, k.values.len())).collect();
        assert_eq!(lines, [(2, 2), (6, 0), (8, 2), (12, 1)]);
        assert_eq!(r.keys[1].subkeys.len(), 1);
        assert!(r.keys[1].subkeys[0].ends_with("ChainEngine\\Config"));
        assert_eq!(r.keys[2].value("Options").unwrap().data, RegData::Dword(2));
        assert_eq!(
            r.keys[2]
                .value("ChainUrlRetrievalTimeoutMilliseconds")
                .unwrap()
                .data,
            RegData::Dword(15000)
        );
        let def = r.keys[3].value("(Default)").unwrap();
        assert_eq!(def.data.as_str(), Some("(value not set)"));
        assert_eq!(r.find("DisableRootAutoUpdate").count(), 1);
    }

    #[test]
    fn missing_german_oem850() {
        let bytes = fixture!("extra/winhttp/reg-query-missing_de-DE_oem850.txt");
        assert_eq!(decode(bytes).encoding, Encoding::Ibm850);
        let p = run(bytes);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.value.missing);
        assert!(p.value.keys.is_empty());
        assert_eq!(p.value.errors[0].line, 1);
        assert!(
            p.value.errors[0]
                .message
                .contains("Registrierungsschlüssel")
        );
    }

    #[test]
    fn missing_english_sample() {
        let p = run(fixture!(
            "reference/os/variants/reg-query-winhttpsettings_missing.txt"
        ));
        assert!(p.problems.is_empty());
        assert!(p.value.missing);
        assert_eq!(
            p.value.errors[0].message,
            "ERROR: The system was unable to find the specified registry key or value."
        );
    }

    #[test]
    fn export_all_types() {
        let bytes = fixture!("extra/winhttp/reg-export-policies.reg");
        assert_eq!(decode(bytes).encoding, Encoding::Utf16leBom);
        let p = run(bytes);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let r = p.value;
        assert_eq!(r.format, RegFormat::RegExport);
        assert_eq!(r.keys.len(), 3);
        let auth = &r.keys[0];
        assert_eq!(auth.line, 3);
        let v = auth.value("DisableRootAutoUpdate").unwrap();
        assert_eq!(
            (v.data.clone(), v.line, v.raw.as_str()),
            (RegData::Dword(1), 4, "00000001")
        );
        let cfg = &r.keys[1];
        assert_eq!(cfg.value("Options").unwrap().data, RegData::Dword(2));
        assert_eq!(
            cfg.value("@").unwrap().data.as_str(),
            Some("default \"quoted\" C:\\Temp")
        );
        let exp = cfg.value("ExpandPath").unwrap();
        assert_eq!(exp.reg_type, "REG_EXPAND_SZ");
        assert_eq!(exp.data.as_str(), Some("%SystemRoot%\\Temp"));
        assert_eq!(exp.line, 10);
        assert_eq!(
            cfg.value("Multi").unwrap().data,
            RegData::MultiString(vec!["a".into(), "bc".into()])
        );
        let multi_line = cfg.value("Multi").unwrap().line;
        assert_eq!(
            multi_line, 12,
            "continuation line must not shift later lines"
        );
        assert_eq!(
            cfg.value("Blob").unwrap().data,
            RegData::Binary(vec![1, 2, 10, 255])
        );
        assert_eq!(cfg.value("Big").unwrap().data, RegData::Qword(1 << 32));
        assert_eq!(cfg.value("Removed").unwrap().data, RegData::Deleted);
        assert!(r.keys[2].deleted);
        assert!(r.keys[2].path.ends_with("\\Obsolete"));
    }

    #[test]
    fn winhttp_outputs_are_generic_registry_too() {
        let p = run(fixture!(
            "reference/os/misconfigured_EX04/reg-query-winhttpsettings.txt"
        ));
        assert!(p.problems.is_empty());
        let (k, v) = p.value.find("WinHttpSettings").next().unwrap();
        assert_eq!(k.path, CONNECTIONS);
        assert_eq!(v.data.as_bytes().map(<[u8]>::len), Some(62));
        let p = run(fixture!(
            "reference/os/variants/reg-export-winhttpsettings.reg"
        ));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let (_, v) = p.value.find("WinHttpSettings").next().unwrap();
        assert_eq!(v.data.as_bytes().map(<[u8]>::len), Some(20));
        assert_eq!(v.line, 4);
    }

    #[test]
    fn odd_lines_are_problems_not_panics() {
        let src = "    Orphan    REG_DWORD    0x5\nHKLM\\X\n    Bad    REG_DWORD    zz\n    Hx    REG_BINARY    0A0\nwhat is this\n    Spaced Name    REG_SZ    a  b  \n";
        let p = parse(Source::new(src));
        assert_eq!(p.value.keys.len(), 2);
        assert_eq!(p.value.keys[0].path, "");
        assert_eq!(p.value.keys[0].values[0].data, RegData::Dword(5));
        let lines: Vec<_> = p.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(1), Some(3), Some(4), Some(5)]);
        assert!(p.problems[2].message.contains("odd number of hex digits"));
        let x = &p.value.keys[1];
        assert_eq!(x.value("Bad").unwrap().data, RegData::Invalid);
        assert_eq!(x.value("Hx").unwrap().data, RegData::Binary(vec![0x0A]));
        assert_eq!(x.value("Spaced Name").unwrap().data.as_str(), Some("a  b"));
        let p = parse(Source::new("\n\n"));
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn export_oddities() {
        let src = "REGEDIT4\n\n[HKEY_CURRENT_USER\\A\n\"S\"=hex(2):41,42,00\n\"U\"=\"open\n\"D\"=dword:1234567890\n\"H\"=hex:01,\\\n";
        let p = parse(Source::new(src));
        let k = &p.value.keys[0];
        assert_eq!(k.path, "HKEY_CURRENT_USER\\A");
        assert_eq!(k.value("S").unwrap().data.as_str(), Some("AB"));
        assert_eq!(k.value("U").unwrap().data, RegData::Invalid);
        assert_eq!(k.value("D").unwrap().data, RegData::Invalid);
        assert_eq!(k.value("H").unwrap().data, RegData::Binary(vec![1]));
        let lines: Vec<_> = p.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(5), Some(6), Some(7)]);
    }

    #[test]
    fn hex_variants() {
        assert_eq!(parse_hex("18000000").0, [0x18, 0, 0, 0]);
        assert_eq!(parse_hex("18,00, 0a ,FF").0, [0x18, 0, 0x0a, 0xff]);
        assert_eq!(
            parse_hex("28000000 03000000").0,
            [0x28, 0, 0, 0, 3, 0, 0, 0]
        );
        assert_eq!(parse_hex("01,\\\n  02").0, [1, 2]);
        let (b, p) = parse_hex("18,0,00");
        assert_eq!(b, [0x18, 0]);
        assert!(p.unwrap().contains("odd number"));
        let (b, p) = parse_hex("1800zz00");
        assert_eq!(b, [0x18, 0]);
        assert!(p.unwrap().starts_with("not hex: 'zz00'"));
        assert_eq!(parse_hex(""), (vec![], None));
    }

    #[test]
    fn sniffing() {
        let d = |b: &[u8]| decode(b).text;
        assert!(looks_like_registry_values(&d(fixture!(
            "extra/winhttp/reg-query-authroot.txt"
        ))));
        assert!(looks_like_registry_values(&d(fixture!(
            "extra/winhttp/reg-export-policies.reg"
        ))));
        assert!(looks_like_registry_values(&d(fixture!(
            "extra/winhttp/reg-query-exchange-setup.txt"
        ))));
        assert!(!looks_like_registry_values(&d(fixture!(
            "reference/os/healthy_EX01/netsh-winhttp-show-proxy.txt"
        ))));
        assert!(!looks_like_registry_values("ERROR: nope"));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC*") {
            let _ = parse(Source::new(&s));
        }

        #[test]
        fn never_panics_on_reg_like_text(s in "[ \\n\\\\\"=:,@\\[\\]\\-A-Za-z0-9_()]{0,200}") {
            let _ = parse(Source::new(&s));
            let _ = parse_hex(&s);
        }

        #[test]
        fn never_panics_on_mutated_samples(
            which in 0usize..4,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<char>()), 0..12),
        ) {
            let samples: [&[u8]; 4] = [
                fixture!("extra/winhttp/reg-export-policies.reg"),
                fixture!("extra/winhttp/reg-query-exchange-setup.txt"),
                fixture!("extra/winhttp/reg-query-systemcertificates-s.txt"),
                fixture!("reference/os/variants/reg-export-winhttpsettings.reg"),
            ];
            let text = decode(samples[which]).text;
            let m = mutate(&text, &edits);
            let _ = parse(Source::new(&m));
        }
    }
}
