//! What the Office Config Service answered when an admin asked it directly:
//! `Invoke-WebRequest https://officeclient.microsoft.com/getexchangemitigations`
//! (its console listing or its `Export-Clixml`, as Health Checker saves it),
//! `Invoke-RestMethod` (which prints the parsed XML as a table), or the raw
//! body saved to a file. It is evidence of what OCS (or whatever answered in
//! its place) sent: status, headers, and whether the body is a signed
//! `<EOCS>` document.

use crate::clixml::{self, PsValue};
use crate::format_list::{self, parse_records};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use serde::Serialize;

/// The parts of the body that tell OCS's document from anything else.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct EocsSummary {
    /// `<EOCS version="…">`.
    pub version: Option<String>,
    /// `<Config id="…">` in order (`PING1`, `M1.1`, …).
    pub config_ids: Vec<String>,
    /// A `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">` is present.
    pub signed: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OcsResponse {
    /// How it was captured: `invoke-webrequest`, `invoke-webrequest-clixml`,
    /// `invoke-restmethod` or `raw-body`.
    pub form: String,
    pub status_code: Option<u16>,
    pub status_description: Option<String>,
    /// Response headers as captured (name, value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// `Some` when the body is OCS's `<EOCS>` document.
    pub eocs: Option<EocsSummary>,
    /// The first line of a body that is not `<EOCS>` (an HTML block page,
    /// a proxy's error text), at most 200 characters.
    pub other_body: Option<String>,
    /// Line of the status (or of the body).
    pub line: usize,
    /// The body as captured, kept only when it is a signed `<EOCS>`
    /// document, for the checks to verify its signature (issue 17). Not in
    /// the `parse` output: it is the body itself, up to 19 KB.
    #[serde(skip)]
    pub signed_body: Option<String>,
}

impl OcsResponse {
    /// OCS answered with its document (the admin's own request got through).
    pub fn reached_ocs(&self) -> bool {
        self.eocs.is_some() && self.status_code.is_none_or(|c| c == 200)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Recognizer for console output and raw bodies.
pub fn looks_like_ocs_response(head: &str) -> bool {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    // The raw body.
    if (t.starts_with("<?xml") || t.starts_with("<EOCS")) && head.contains("<EOCS") {
        return true;
    }
    // `Invoke-WebRequest` listing: StatusCode and StatusDescription labels.
    let labels: Vec<&str> = head
        .lines()
        .filter_map(|l| format_list::split_property(l).map(|(k, _)| k))
        .collect();
    let has = |n: &str| labels.iter().any(|l| l.eq_ignore_ascii_case(n));
    if has("StatusCode") && has("StatusDescription") && has("RawContent") {
        return true;
    }
    // `Invoke-RestMethod`'s table of the parsed document: `xml  EOCS` over a ruler.
    restmethod_table(head).is_some()
}

/// Recognizer for `Export-Clixml` of an Invoke-WebRequest response.
pub fn looks_like_ocs_response_clixml(head: &str) -> bool {
    // The most derived type is a subclass: `BasicHtmlWebResponseObject`
    // (Windows PowerShell -UseBasicParsing, PowerShell 7) or `HtmlWebResponseObject`.
    clixml::top_type_names(head)
        .iter()
        .any(|t| t.ends_with("WebResponseObject"))
}

/// `xml    EOCS` / `---    ----` / `version="1.0" encoding="utf-8" EOCS`:
/// the line of the header.
fn restmethod_table(text: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().find_map(|(i, l)| {
        let toks: Vec<&str> = l.split_whitespace().collect();
        let ruler = lines
            .iter()
            .skip(i + 1)
            .find(|n| !n.trim().is_empty())?
            .split_whitespace()
            .all(|t| t.chars().all(|c| c == '-'));
        (toks == ["xml", "EOCS"] && ruler).then_some(i)
    })
}

/// Read the parts of an `<EOCS>` body that matter, without an XML parser:
/// the body is either OCS's document or not, and only its root, config ids
/// and signature element are needed here (issue 17 verifies the signature).
pub fn eocs_summary(body: &str) -> Option<EocsSummary> {
    let root = body.find("<EOCS")?;
    let after = body.get(root..)?;
    let version = attr(after.get(..after.find('>')?)?, "version");
    let mut config_ids = Vec::new();
    let mut rest = after;
    while let Some(i) = rest.find("<Config ") {
        let tag_end = rest
            .get(i..)
            .and_then(|r| r.find('>'))
            .map_or(rest.len(), |e| i + e);
        if let Some(id) = rest.get(i..tag_end).and_then(|t| attr(t, "id")) {
            config_ids.push(id);
        }
        rest = rest.get(tag_end..).unwrap_or("");
        if config_ids.len() >= 1000 {
            break;
        }
    }
    Some(EocsSummary {
        version,
        config_ids,
        signed: after.contains("<Signature") && after.contains("xmldsig"),
    })
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let end = tag.get(start..)?.find('"')? + start;
    tag.get(start..end).map(str::to_owned)
}

fn first_line(body: &str) -> Option<String> {
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(200).collect())
}

fn with_body(out: &mut OcsResponse, body: &str) {
    out.eocs = eocs_summary(body);
    if out.eocs.is_none() {
        out.other_body = first_line(body);
    }
    if out.eocs.as_ref().is_some_and(|e| e.signed) {
        out.signed_body = Some(body.to_owned());
    }
}

pub fn parse(src: Source<'_>) -> Parsed<OcsResponse> {
    let mut problems = Vec::new();
    let mut out = OcsResponse {
        line: src.first_line,
        ..OcsResponse::default()
    };
    let text = src.text.trim_start_matches('\u{feff}');
    if clixml::is_clixml(text) {
        let objs = clixml::parse(src);
        problems.extend(objs.problems);
        out.form = "invoke-webrequest-clixml".into();
        if let Some(o) = objs.value.first() {
            out.line = o.line;
            out.status_code = o
                .get("StatusCode")
                .and_then(PsValue::as_i64)
                .and_then(|c| u16::try_from(c).ok());
            out.status_description = o
                .get("StatusDescription")
                .and_then(PsValue::as_str)
                .map(str::to_owned);
            if let Some(h) = o.get("Headers").and_then(PsValue::as_dict) {
                out.headers = h
                    .iter()
                    .filter_map(|(k, v)| {
                        let value = v
                            .as_str()
                            .map_or_else(|| clixml::render(v).0, str::to_owned);
                        Some((k.as_str()?.to_owned(), value))
                    })
                    .collect();
            }
            let body = o
                .get("Content")
                .and_then(PsValue::as_str)
                .or(o.to_string.as_deref())
                .unwrap_or("");
            with_body(&mut out, body);
        }
    } else if let Some(i) = restmethod_table(text) {
        // Invoke-RestMethod parsed the body as XML with an `EOCS` root.
        out.form = "invoke-restmethod".into();
        out.line = src.first_line + i;
        out.eocs = Some(EocsSummary::default());
    } else if text.trim_start().starts_with('<') {
        out.form = "raw-body".into();
        with_body(&mut out, text);
    } else {
        out.form = "invoke-webrequest".into();
        let records = parse_records(src);
        problems.extend(records.problems);
        if let Some(r) = records.value.iter().find(|r| r.has("StatusCode")) {
            out.line = r.get("StatusCode").map_or(r.line, |p| p.line);
            out.status_code = r.get_str("StatusCode").and_then(|s| s.parse().ok());
            out.status_description = r.get_str("StatusDescription").map(str::to_owned);
            // The console cuts Content; RawContent's first lines hold the headers.
            if let Some(c) = r.get_str("Content") {
                with_body(&mut out, c);
            }
        }
    }
    if out.status_code.is_none() && out.eocs.is_none() && out.other_body.is_none() {
        problems.push(Problem::whole("no status or body of the OCS answer found"));
    }
    Parsed::with_problems(out, problems)
}

#[cfg(test)]
mod tests;
