//! PowerShell `Export-Clixml` files (MS-PSRP §2.2.5, shared/reference/clixml.md):
//! the serialized objects Health Checker and admins save instead of console text.
//!
//! [`parse`] reads the `<Objs>` document into [`PsObject`]s; [`to_records`]
//! renders each top-level object as the [`FlRecord`] `Format-List` would have
//! printed, so the typed parsers read CliXml through the same per-record code
//! as console text.
//!
//! Safety: quick-xml never expands DTD entities; a `<!DOCTYPE` is refused, only
//! the five standard entities and character references are resolved, nesting
//! is capped at [`MAX_DEPTH`] and `<Ref>` copies are bounded. Nothing here panics.

use crate::format_list::{FlProperty, FlRecord};
use crate::problem::{Parsed, Problem};
use crate::text::{LineMap, Source};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;
use std::collections::HashMap;

/// Namespace of every CliXml document.
pub const NAMESPACE: &str = "http://schemas.microsoft.com/powershell/2004/04";

/// Deepest element nesting read; deeper input is refused with a [`Problem`].
pub const MAX_DEPTH: usize = 64;

/// A byte array longer than this is rendered cut off, as Format-List would.
const MAX_RENDERED_BYTES: usize = 4096;

/// A `<Ref>` is replaced by a copy of its target's rendering only up to this
/// size, and all copies together up to [`REF_COPY_BUDGET`]; beyond that it stays a [`PsValue::Ref`].
const MAX_REF_COPY: usize = 4096;
const REF_COPY_BUDGET: usize = 1 << 20;

/// One serialized object (`<Obj>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsObject {
    /// Most derived first (`<TN>`, or the `<TN>` a `<TNRef>` points at).
    pub type_names: Vec<String>,
    /// `<ToString>`: the object's string form (all that is left of objects
    /// below the serialization depth; what Format-List prints for a nested object).
    pub to_string: Option<String>,
    /// `<Props>` (adapted) then `<MS>` (note/extended) properties, in file order.
    pub properties: Vec<PsProperty>,
    /// What the object holds besides properties: its `LST`/`IE`/`STK`/`QUE`
    /// items, its `DCT`, or the primitive an enum or wrapped value carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<PsValue>,
    /// 1-based line of the `<Obj>` element.
    pub line: usize,
}

impl PsObject {
    /// First property named `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&PsValue> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| &p.value)
    }

    /// Whether one of the type names is `name` or ends in `.name`
    /// (`Deserialized.` prefixes and namespaces are ignored).
    pub fn is_type(&self, name: &str) -> bool {
        self.type_names.iter().any(|t| type_name_matches(t, name))
    }
}

/// Whether type name `t` is `name` or ends in `.name`, ASCII case-insensitive:
/// `Deserialized.System.X` and `System.X` both match `System.X` and `X`.
pub fn type_name_matches(t: &str, name: &str) -> bool {
    t.eq_ignore_ascii_case(name)
        || t.len() > name.len()
            && t.get(t.len() - name.len()..)
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
            && t.as_bytes().get(t.len() - name.len() - 1) == Some(&b'.')
}

/// Whether a top-level object of the CliXml `text` is of type `name` (see
/// [`type_name_matches`]): the recognizers' question.
pub fn has_top_type(text: &str, name: &str) -> bool {
    top_type_names(text)
        .iter()
        .any(|t| type_name_matches(t, name))
}

/// One named member (`N="…"`) of an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsProperty {
    pub name: String,
    pub value: PsValue,
    /// 1-based line of the property's element.
    pub line: usize,
}

/// A serialized value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PsValue {
    Nil,
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Values kept as written, by element: `DT`, `TS`, `G`, `URI`, `Version`,
    /// `C`, `BA` (base64), `XD`, `SBK`, `SS` (a note: a SecureString is
    /// unreadable outside the exporting account), and numbers out of range.
    Text {
        tag: String,
        text: String,
    },
    List(Vec<PsValue>),
    Dict(Vec<(PsValue, PsValue)>),
    Object(Box<PsObject>),
    /// A `<Ref RefId>` whose target could not be copied (unknown, or too large).
    Ref(u32),
}

impl PsValue {
    /// The string of `S`, or of the `ToString` of an object.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PsValue::Str(s) => Some(s),
            PsValue::Text { text, .. } => Some(text),
            PsValue::Object(o) => o.to_string.as_deref(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PsValue::Int(i) => Some(*i),
            PsValue::Object(o) => o.value.as_ref().and_then(PsValue::as_i64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PsValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of a list, also when wrapped in an object (a `MultiValuedProperty`).
    pub fn as_list(&self) -> Option<&[PsValue]> {
        match self {
            PsValue::List(l) => Some(l),
            PsValue::Object(o) => o.value.as_ref().and_then(PsValue::as_list),
            _ => None,
        }
    }

    /// The entries of a dictionary, also when wrapped in an object (a `Hashtable`).
    pub fn as_dict(&self) -> Option<&[(PsValue, PsValue)]> {
        match self {
            PsValue::Dict(d) => Some(d),
            PsValue::Object(o) => o.value.as_ref().and_then(PsValue::as_dict),
            _ => None,
        }
    }

    /// Dictionary lookup by string key (ASCII case-insensitive, as a PowerShell hashtable).
    pub fn dict_get(&self, key: &str) -> Option<&PsValue> {
        self.as_dict()?
            .iter()
            .find(|(k, _)| k.as_str().is_some_and(|s| s.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v)
    }

    pub fn as_object(&self) -> Option<&PsObject> {
        match self {
            PsValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The bytes of a `BA` value.
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        match self {
            PsValue::Text { tag, text } if tag == "BA" => decode_base64(text),
            _ => None,
        }
    }
}

// ====================================================================== cheap checks

/// Strip a BOM, whitespace, `<?xml …?>` and comments from the head.
fn skip_prolog(text: &str) -> &str {
    let mut s = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("<?") {
            match rest.find("?>") {
                Some(i) => s = rest.get(i + 2..).unwrap_or("").trim_start(),
                None => return "",
            }
        } else if let Some(rest) = s.strip_prefix("<!--") {
            match rest.find("-->") {
                Some(i) => s = rest.get(i + 3..).unwrap_or("").trim_start(),
                None => return "",
            }
        } else {
            return s;
        }
    }
}

/// Cheap check: the document element is `<Objs …>` in the PowerShell namespace
/// (a BOM, whitespace, an XML declaration or comments may come first).
pub fn is_clixml(text: &str) -> bool {
    let s = skip_prolog(text);
    let Some(rest) = s.strip_prefix("<Objs") else {
        return false;
    };
    if !rest.starts_with([' ', '\t', '\n', '\r', '>', '/']) {
        return false;
    }
    let tag_end = rest.find('>').unwrap_or(rest.len()).min(1024);
    rest.get(..tag_end).is_some_and(|t| t.contains(NAMESPACE))
}

/// Cheap check for recognisers: whether a property named `name` (written
/// without escapes) occurs in the first 256 KiB.
pub fn mentions_property(text: &str, name: &str) -> bool {
    let head = head_of(text, 256 * 1024);
    head.contains(&format!("N=\"{name}\""))
}

fn head_of(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or(text)
}

/// Cheap scan for recognisers: the most derived type name of each top-level
/// object (up to 4 objects, within the first 1 MiB). Empty for non-CliXml.
pub fn top_type_names(text: &str) -> Vec<String> {
    const MAX: usize = 4;
    let mut out = Vec::new();
    if !is_clixml(text) {
        return out;
    }
    let mut r = Reader::from_str(head_of(text, 1 << 20));
    let mut depth = 0usize;
    let mut tn_refs: HashMap<String, String> = HashMap::new();
    // (RefId of the TN being read, whether its first T was taken) for a top-level object's TN.
    let mut in_top_tn: Option<Option<String>> = None;
    let mut want_t = false;
    let mut found_for_current = false;
    while let Ok(ev) = r.read_event() {
        match ev {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name();
                match (depth, name.as_ref()) {
                    (2, "Obj") => found_for_current = false,
                    (3, "TN") => in_top_tn = Some(attr(&e, "RefId")),
                    (4, "T") if in_top_tn.is_some() && !found_for_current => want_t = true,
                    _ => {}
                }
            }
            Event::Empty(e)
                if depth == 2 && e.local_name().as_ref() == "TNRef" && !found_for_current =>
            {
                if let Some(t) = attr(&e, "RefId").and_then(|id| tn_refs.get(&id)) {
                    out.push(t.clone());
                    found_for_current = true;
                }
            }
            Event::Text(t) if want_t => {
                let name = unescape_ps(&t.xml10_content());
                if let Some(Some(id)) = &in_top_tn {
                    tn_refs.insert(id.clone(), name.clone());
                }
                out.push(name);
                found_for_current = true;
                want_t = false;
            }
            Event::End(_) => {
                if depth == 3 {
                    in_top_tn = None;
                }
                want_t = false;
                depth = depth.saturating_sub(1);
                if depth == 1 && out.len() >= MAX {
                    break;
                }
            }
            Event::Eof | Event::DocType(_) => break,
            _ => {}
        }
        if out.len() >= MAX {
            break;
        }
    }
    out
}

// ====================================================================== escapes

/// Decode PowerShell's `_xHHHH_` escapes (UTF-16 code units, so surrogate
/// pairs arrive as two escapes; `_x005F_` is a literal underscore). A lone
/// surrogate becomes U+FFFD.
pub fn unescape_ps(s: &str) -> String {
    if !s.contains("_x") && !s.contains("_X") {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut units: Vec<u16> = Vec::new();
    let mut rest = s;
    loop {
        match escape_at_start(rest) {
            Some(u) => {
                units.push(u);
                rest = rest.get(7..).unwrap_or("");
                continue;
            }
            None => {
                if !units.is_empty() {
                    out.extend(
                        char::decode_utf16(units.drain(..))
                            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
                    );
                }
            }
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) => {
                out.push(c);
                rest = chars.as_str();
            }
            None => break,
        }
    }
    out
}

/// `_xHHHH_` at the start of `s` → the code unit.
fn escape_at_start(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() < 7 || b[0] != b'_' || !matches!(b[1], b'x' | b'X') || b[6] != b'_' {
        return None;
    }
    let hex = s.get(2..6)?;
    if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(hex, 16).ok()
}

/// Standard base64 (as `BA` values are written); whitespace is ignored.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    }
    let body: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = body.strip_suffix(b"==").or_else(|| body.strip_suffix(b"="));
    let data = trimmed.unwrap_or(&body);
    if body.len() % 4 != 0 && trimmed.is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | val(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

// ====================================================================== parser

/// Why reading stopped early.
struct Stop(Problem);

struct Reading<'a> {
    r: Reader<&'a [u8]>,
    lines: LineMap,
    first_line: usize,
    /// `<TN RefId>` → type names.
    tn: HashMap<String, Vec<String>>,
    /// `<Obj RefId>` → the object's rendering for `<Ref>`; `None` when too large to copy.
    objs: HashMap<String, Option<PsValue>>,
    copied: usize,
    problems: Vec<Problem>,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| crate::events::decode_entities(&a.value).into_owned())
}

fn tag_of(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

/// An element just opened: its tag, attributes and whether it is `<x/>`.
struct Open {
    tag: String,
    n: Option<String>,
    ref_id: Option<String>,
    empty: bool,
    line: usize,
}

impl<'a> Reading<'a> {
    fn line_at(&self, offset: u64) -> usize {
        let off = usize::try_from(offset).unwrap_or(usize::MAX);
        self.first_line + self.lines.line_of(off) - 1
    }

    /// A quick-xml error; a syntax error (quick-xml's "the input ended inside
    /// a tag/comment/…") is a cut-off file.
    fn xml_error(&self, e: &quick_xml::Error) -> Stop {
        let what = if matches!(e, quick_xml::Error::Syntax(_)) {
            "CliXml is cut off"
        } else {
            "malformed CliXml"
        };
        Stop(Problem::at(
            self.line_at(self.r.error_position()),
            format!("{what}: {e}"),
        ))
    }

    fn open(&self, e: &BytesStart<'_>, empty: bool, line: usize) -> Open {
        Open {
            tag: tag_of(e),
            n: attr(e, "N").map(|n| unescape_ps(&n)),
            ref_id: attr(e, "RefId"),
            empty,
            line,
        }
    }

    /// Next structural event: `Ok(Some(open))` for a child element,
    /// `Ok(None)` at the end of the current element. Text is appended to `text`.
    fn next(&mut self, text: &mut String) -> Result<Option<Open>, Stop> {
        loop {
            let before = self.r.buffer_position();
            let line = self.line_at(before);
            match self.r.read_event() {
                Ok(Event::Start(e)) => return Ok(Some(self.open(&e, false, line))),
                Ok(Event::Empty(e)) => return Ok(Some(self.open(&e, true, line))),
                Ok(Event::End(_)) => return Ok(None),
                Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
                Ok(Event::CData(t)) => text.push_str(&t.xml10_content()),
                Ok(Event::GeneralRef(g)) => {
                    let name = g.xml10_content();
                    match g.resolve_char_ref() {
                        Ok(Some(c)) => text.push(c),
                        _ => match name.as_ref() {
                            "lt" => text.push('<'),
                            "gt" => text.push('>'),
                            "amp" => text.push('&'),
                            "quot" => text.push('"'),
                            "apos" => text.push('\''),
                            other => {
                                self.problems.push(Problem::at(
                                    line,
                                    format!("undefined entity &{other}; kept as written (CliXml defines no entities)"),
                                ));
                                text.push('&');
                                text.push_str(other);
                                text.push(';');
                            }
                        },
                    }
                }
                Ok(Event::DocType(_)) => {
                    return Err(Stop(Problem::at(
                        line,
                        "<!DOCTYPE> in a CliXml file: refused (Export-Clixml never writes one; entities are not expanded)",
                    )));
                }
                Ok(Event::Eof) => {
                    return Err(Stop(Problem::at(
                        line,
                        "CliXml is cut off: the file ends inside an element",
                    )));
                }
                Ok(_) => {}
                Err(e) => return Err(self.xml_error(&e)),
            }
        }
    }

    /// Skip the rest of an element (iteratively: no recursion, no depth limit needed).
    fn skip(&mut self, open: &Open) -> Result<(), Stop> {
        if open.empty {
            return Ok(());
        }
        let mut depth = 1usize;
        let mut sink = String::new();
        while depth > 0 {
            match self.next(&mut sink)? {
                Some(o) if !o.empty => depth += 1,
                Some(_) => {}
                None => depth -= 1,
            }
            sink.clear();
        }
        Ok(())
    }

    /// Text content of a leaf element (children are skipped with a problem).
    fn leaf_text(&mut self, open: &Open) -> Result<String, Stop> {
        let mut text = String::new();
        if open.empty {
            return Ok(text);
        }
        while let Some(child) = self.next(&mut text)? {
            self.problems.push(Problem::at(
                child.line,
                format!("unexpected <{}> inside <{}>; skipped", child.tag, open.tag),
            ));
            self.skip(&child)?;
        }
        Ok(text)
    }

    fn check_depth(&self, depth: usize, line: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            Err(Stop(Problem::at(
                line,
                format!("CliXml nested deeper than {MAX_DEPTH} elements: not read further"),
            )))
        } else {
            Ok(())
        }
    }

    /// One value element. `Ok(None)` for elements that carry no value (skipped).
    fn value(&mut self, open: &Open, depth: usize) -> Result<Option<PsValue>, Stop> {
        self.check_depth(depth, open.line)?;
        let tag = open.tag.as_str();
        let v = match tag {
            "Nil" => {
                self.skip(open)?;
                PsValue::Nil
            }
            "S" => PsValue::Str(unescape_ps(&self.leaf_text(open)?)),
            "B" => {
                let t = self.leaf_text(open)?;
                match t.trim() {
                    "true" => PsValue::Bool(true),
                    "false" => PsValue::Bool(false),
                    other => {
                        self.problems.push(Problem::at(
                            open.line,
                            format!("<B> is not true/false: {other}"),
                        ));
                        PsValue::Text {
                            tag: "B".into(),
                            text: other.to_owned(),
                        }
                    }
                }
            }
            "I32" | "I64" | "I16" | "U32" | "U64" | "U16" | "By" | "SB" => {
                let t = self.leaf_text(open)?;
                match t.trim().parse::<i64>() {
                    Ok(i) => PsValue::Int(i),
                    Err(_) => PsValue::Text {
                        tag: tag.to_owned(),
                        text: t.trim().to_owned(),
                    },
                }
            }
            "Db" | "Sg" | "D" => {
                let t = self.leaf_text(open)?;
                match t.trim().parse::<f64>() {
                    Ok(f) => PsValue::Float(f),
                    Err(_) => PsValue::Text {
                        tag: tag.to_owned(),
                        text: t.trim().to_owned(),
                    },
                }
            }
            "SS" => {
                self.skip(open)?;
                PsValue::Text {
                    tag: "SS".into(),
                    text: "(SecureString: encrypted for the exporting account, unreadable here)"
                        .into(),
                }
            }
            "BA" => PsValue::Text {
                tag: "BA".into(),
                text: self.leaf_text(open)?.trim().to_owned(),
            },
            "DT" | "TS" | "G" | "URI" | "Version" | "C" | "XD" | "SBK" | "PR" => PsValue::Text {
                tag: tag.to_owned(),
                text: unescape_ps(&self.leaf_text(open)?),
            },
            "Obj" => PsValue::Object(Box::new(self.object(open, depth)?)),
            "Ref" => {
                self.skip(open)?;
                self.resolve_ref(open)
            }
            "LST" | "IE" | "STK" | "QUE" => PsValue::List(self.list(open, depth)?),
            "DCT" => PsValue::Dict(self.dict(open, depth)?),
            _ => {
                self.problems.push(Problem::at(
                    open.line,
                    format!("unknown CliXml element <{tag}>; skipped"),
                ));
                self.skip(open)?;
                return Ok(None);
            }
        };
        Ok(Some(v))
    }

    fn resolve_ref(&mut self, open: &Open) -> PsValue {
        let id = open.ref_id.clone().unwrap_or_default();
        let num = id.trim().parse::<u32>().unwrap_or(u32::MAX);
        match self.objs.get(&id) {
            Some(None) => PsValue::Ref(num),
            Some(Some(v)) => {
                let size = rendered_size(v);
                if size <= MAX_REF_COPY && self.copied + size <= REF_COPY_BUDGET {
                    self.copied += size;
                    v.clone()
                } else {
                    PsValue::Ref(num)
                }
            }
            None => {
                self.problems.push(Problem::at(
                    open.line,
                    format!("<Ref RefId=\"{id}\"> to no earlier object"),
                ));
                PsValue::Ref(num)
            }
        }
    }

    fn list(&mut self, open: &Open, depth: usize) -> Result<Vec<PsValue>, Stop> {
        let mut items = Vec::new();
        if open.empty {
            return Ok(items);
        }
        let mut sink = String::new();
        while let Some(child) = self.next(&mut sink)? {
            if let Some(v) = self.value(&child, depth + 1)? {
                items.push(v);
            }
            sink.clear();
        }
        Ok(items)
    }

    fn dict(&mut self, open: &Open, depth: usize) -> Result<Vec<(PsValue, PsValue)>, Stop> {
        let mut out = Vec::new();
        if open.empty {
            return Ok(out);
        }
        let mut sink = String::new();
        while let Some(en) = self.next(&mut sink)? {
            self.check_depth(depth + 1, en.line)?;
            if en.tag != "En" {
                self.problems.push(Problem::at(
                    en.line,
                    format!("<{}> inside <DCT>; expected <En>", en.tag),
                ));
                self.skip(&en)?;
                continue;
            }
            let (mut key, mut val) = (None, None);
            if !en.empty {
                while let Some(kv) = self.next(&mut sink)? {
                    let n = kv.n.clone();
                    let v = self.value(&kv, depth + 2)?;
                    match n.as_deref() {
                        Some("Key") => key = v,
                        Some("Value") => val = v,
                        _ => {}
                    }
                    sink.clear();
                }
            }
            match key {
                Some(k) => out.push((k, val.unwrap_or(PsValue::Nil))),
                None => self
                    .problems
                    .push(Problem::at(en.line, "<En> without a Key; skipped")),
            }
            sink.clear();
        }
        Ok(out)
    }

    fn object(&mut self, open: &Open, depth: usize) -> Result<PsObject, Stop> {
        let mut obj = PsObject {
            type_names: Vec::new(),
            to_string: None,
            properties: Vec::new(),
            value: None,
            line: open.line,
        };
        if !open.empty {
            let mut sink = String::new();
            while let Some(child) = self.next(&mut sink)? {
                sink.clear();
                self.check_depth(depth + 1, child.line)?;
                match child.tag.as_str() {
                    "TN" => {
                        let names = self.type_names(&child)?;
                        if let Some(id) = &child.ref_id {
                            self.tn.insert(id.clone(), names.clone());
                        }
                        obj.type_names = names;
                    }
                    "TNRef" => {
                        let id = child.ref_id.clone().unwrap_or_default();
                        match self.tn.get(&id) {
                            Some(names) => obj.type_names = names.clone(),
                            None => self.problems.push(Problem::at(
                                child.line,
                                format!("<TNRef RefId=\"{id}\"> to no earlier <TN>"),
                            )),
                        }
                        self.skip(&child)?;
                    }
                    "ToString" => obj.to_string = Some(unescape_ps(&self.leaf_text(&child)?)),
                    "Props" | "MS" => self.members(&child, depth + 1, &mut obj.properties)?,
                    _ => {
                        if let Some(v) = self.value(&child, depth + 1)? {
                            if child.n.is_some() {
                                // A named value directly under <Obj>: keep it as a property.
                                obj.properties.push(PsProperty {
                                    name: child.n.clone().unwrap_or_default(),
                                    value: v,
                                    line: child.line,
                                });
                            } else {
                                obj.value = Some(v);
                            }
                        }
                    }
                }
            }
        }
        if let Some(id) = &open.ref_id {
            self.objs.insert(id.clone(), summary(&obj));
        }
        Ok(obj)
    }

    fn type_names(&mut self, open: &Open) -> Result<Vec<String>, Stop> {
        let mut names = Vec::new();
        if open.empty {
            return Ok(names);
        }
        let mut sink = String::new();
        while let Some(t) = self.next(&mut sink)? {
            sink.clear();
            if t.tag == "T" {
                names.push(unescape_ps(&self.leaf_text(&t)?));
            } else {
                self.skip(&t)?;
            }
        }
        Ok(names)
    }

    fn members(
        &mut self,
        open: &Open,
        depth: usize,
        out: &mut Vec<PsProperty>,
    ) -> Result<(), Stop> {
        if open.empty {
            return Ok(());
        }
        let mut sink = String::new();
        while let Some(child) = self.next(&mut sink)? {
            sink.clear();
            let name = child.n.clone();
            let line = child.line;
            let v = self.value(&child, depth + 1)?;
            match (name, v) {
                (Some(name), Some(value)) => out.push(PsProperty { name, value, line }),
                (None, Some(_)) => self.problems.push(Problem::at(
                    line,
                    format!("<{}> member without a name (N); skipped", child.tag),
                )),
                _ => {}
            }
        }
        Ok(())
    }
}

/// What a `<Ref>` to `obj` stands for: its ToString, else its list/dict/value,
/// else its `@{…}` rendering; `None` when that is too large to copy.
fn summary(obj: &PsObject) -> Option<PsValue> {
    let v = match (&obj.to_string, &obj.value) {
        (Some(s), _) => PsValue::Str(s.clone()),
        (None, Some(v)) => v.clone(),
        (None, None) => PsValue::Str(render_object(obj).0),
    };
    (rendered_size(&v) <= MAX_REF_COPY).then_some(v)
}

/// Rough size of a value's rendering, to bound `<Ref>` copies.
fn rendered_size(v: &PsValue) -> usize {
    match v {
        PsValue::Str(s) => s.len(),
        PsValue::Text { text, .. } => text.len(),
        PsValue::List(l) => l.iter().map(|i| rendered_size(i) + 2).sum(),
        PsValue::Dict(d) => d
            .iter()
            .map(|(k, v)| rendered_size(k) + rendered_size(v) + 4)
            .sum(),
        PsValue::Object(o) => match &o.to_string {
            Some(s) => s.len(),
            None => {
                o.value.as_ref().map_or(0, rendered_size)
                    + o.properties
                        .iter()
                        .map(|p| p.name.len() + rendered_size(&p.value) + 2)
                        .sum::<usize>()
            }
        },
        _ => 8,
    }
}

/// Read a CliXml document: its top-level objects (a bare top-level value
/// becomes an object with that value and no properties). Reading stops at
/// the first structural error (truncation, malformed XML, DOCTYPE, nesting
/// beyond [`MAX_DEPTH`]) with a [`Problem`]; objects read before it are kept.
pub fn parse(src: Source<'_>) -> Parsed<Vec<PsObject>> {
    let mut rd = Reading {
        r: Reader::from_str(src.text),
        lines: LineMap::new(src.text),
        first_line: src.first_line,
        tn: HashMap::new(),
        objs: HashMap::new(),
        copied: 0,
        problems: Vec::new(),
    };
    let mut out = Vec::new();
    let result = read_document(&mut rd, &mut out);
    if let Err(Stop(p)) = result {
        rd.problems.push(p);
    }
    Parsed::with_problems(out, rd.problems)
}

fn read_document(rd: &mut Reading<'_>, out: &mut Vec<PsObject>) -> Result<(), Stop> {
    let mut sink = String::new();
    // The document element.
    let root = loop {
        let before = rd.r.buffer_position();
        let line = rd.line_at(before);
        match rd.r.read_event() {
            Ok(Event::Start(e)) => break rd.open(&e, false, line),
            Ok(Event::Empty(e)) => break rd.open(&e, true, line),
            Ok(Event::DocType(_)) => {
                return Err(Stop(Problem::at(
                    line,
                    "<!DOCTYPE> in a CliXml file: refused (Export-Clixml never writes one; entities are not expanded)",
                )));
            }
            Ok(Event::Eof) => return Err(Stop(Problem::whole("no CliXml <Objs> element found"))),
            Ok(Event::Text(t)) if !t.xml10_content().trim_matches('\u{feff}').trim().is_empty() => {
                return Err(Stop(Problem::at(
                    line,
                    "text before the CliXml <Objs> element",
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(rd.xml_error(&e)),
        }
    };
    if root.tag != "Objs" {
        return Err(Stop(Problem::at(
            root.line,
            format!("document element is <{}>, not the CliXml <Objs>", root.tag),
        )));
    }
    if root.empty {
        return Ok(());
    }
    while let Some(child) = rd.next(&mut sink)? {
        sink.clear();
        let line = child.line;
        match rd.value(&child, 2)? {
            Some(PsValue::Object(o)) => out.push(*o),
            Some(v) => out.push(PsObject {
                type_names: Vec::new(),
                to_string: None,
                properties: Vec::new(),
                value: Some(v),
                line,
            }),
            None => {}
        }
    }
    Ok(())
}

// ====================================================================== Format-List view

/// How Format-List prints a value: the text, plus the items when it is a collection.
pub fn render(v: &PsValue) -> (String, Option<Vec<String>>) {
    match v {
        PsValue::Nil | PsValue::Ref(_) => (String::new(), None),
        PsValue::Str(s) => (s.clone(), None),
        PsValue::Bool(true) => ("True".into(), None),
        PsValue::Bool(false) => ("False".into(), None),
        PsValue::Int(i) => (i.to_string(), None),
        PsValue::Float(f) => (f.to_string(), None),
        PsValue::Text { tag, text } if tag == "BA" => (render_bytes(text), None),
        PsValue::Text { text, .. } => (text.clone(), None),
        PsValue::List(items) => {
            let items: Vec<String> = items.iter().map(|i| render(i).0).collect();
            (format!("{{{}}}", items.join(", ")), Some(items))
        }
        PsValue::Dict(entries) => {
            let items: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("[{}, {}]", render(k).0, render(v).0))
                .collect();
            (format!("{{{}}}", items.join(", ")), Some(items))
        }
        PsValue::Object(o) => render_object(o),
    }
}

/// A nested object as Format-List prints it: its ToString (`Version 15.2
/// (Build 986.5)`), else the collection it holds, else `@{A=1; B=x}` (a
/// PSCustomObject).
fn render_object(o: &PsObject) -> (String, Option<Vec<String>>) {
    if let Some(s) = &o.to_string {
        return (s.clone(), None);
    }
    if let Some(v) = &o.value {
        return render(v);
    }
    let inner: Vec<String> = o
        .properties
        .iter()
        .map(|p| format!("{}={}", p.name, render(&p.value).0))
        .collect();
    (format!("@{{{}}}", inner.join("; ")), None)
}

/// `BA` as Format-List shows a byte array: `{24, 0, 0, 0}`; very long arrays cut off.
fn render_bytes(b64: &str) -> String {
    match decode_base64(b64) {
        Some(bytes) if bytes.len() <= MAX_RENDERED_BYTES => {
            let parts: Vec<String> = bytes.iter().map(u8::to_string).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Some(bytes) => {
            let parts: Vec<String> = bytes.iter().take(4).map(u8::to_string).collect();
            format!("{{{}...}}", parts.join(", "))
        }
        None => b64.to_owned(),
    }
}

/// Each top-level object as the record `Format-List *` prints for it.
pub fn to_records(objs: &[PsObject]) -> Vec<FlRecord> {
    objs.iter()
        .filter(|o| !o.properties.is_empty())
        .map(|o| FlRecord {
            properties: o
                .properties
                .iter()
                .map(|p| {
                    let (value, items) = render(&p.value);
                    let incomplete = matches!(&p.value, PsValue::Text { tag, .. } if tag == "BA")
                        && value.ends_with("...}");
                    FlProperty {
                        name: p.name.clone(),
                        value,
                        line: p.line,
                        incomplete,
                        items,
                    }
                })
                .collect(),
            line: o.line,
        })
        .collect()
}

/// [`parse`] then [`to_records`]: the Format-List records of a CliXml source.
pub fn parse_records(src: Source<'_>) -> Parsed<Vec<FlRecord>> {
    let p = parse(src);
    Parsed::with_problems(to_records(&p.value), p.problems)
}

#[cfg(test)]
mod tests;
