//! .NET exception chains inside event messages (en-US and de-DE).
//!
//! `Exception.ToString()` renders `Type: message ---> Inner: message` followed
//! by stack frames (`   at …` / `   bei …`) and `--- End of inner exception
//! stack trace ---` separators. `AggregateException` (.NET Framework) then
//! repeats its first inner exception as `---> (Inner Exception #0) … <---`; that
//! repeat is dropped so the chain reads outer → inner exactly once. The same
//! parser copes with chains flattened onto one line (forum pastes), broken
//! across lines, and XML-escaped (`---&gt;`, `&#13;&#10;`). Classification of
//! the messages is left to the checks: types and messages are kept verbatim.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::character::complete::char as ch;
use nom::combinator::opt;
use serde::Serialize;

/// One exception of a chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExceptionEntry {
    /// Full type name, e.g. `System.Net.WebException`.
    pub type_name: String,
    /// The message after `Type:`, continuation lines joined with a space.
    pub message: String,
}

/// The exception chain found in a message, outer exception first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExceptionChain {
    /// Text before the first exception, e.g. `Exception encountered while fetching mitigations :`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Outer → inner.
    pub exceptions: Vec<ExceptionEntry>,
    /// Stack frame lines (`at …` / `bei …`), trimmed, in message order.
    pub frames: Vec<String>,
    /// The AggregateException `---> (Inner Exception #0) … <---` repeat was seen (and dropped).
    pub inner_repeat_removed: bool,
}

impl ExceptionChain {
    /// Type names outer → inner.
    pub fn types(&self) -> Vec<&str> {
        self.exceptions
            .iter()
            .map(|e| e.type_name.as_str())
            .collect()
    }

    /// The innermost exception, usually the root cause.
    pub fn innermost(&self) -> Option<&ExceptionEntry> {
        self.exceptions.last()
    }

    pub fn is_empty(&self) -> bool {
        self.exceptions.is_empty() && self.frames.is_empty()
    }
}

/// Markers .NET puts before the repeated inner exceptions of an AggregateException.
const INNER_MARKERS: [&str; 2] = ["(Inner Exception #", "(Interne Ausnahme #"];

pub fn parse_chain(message: &str) -> ExceptionChain {
    let decoded;
    let mut text = message;
    // Chains copied out of event XML keep their escapes; decode before looking for `--->`.
    if message.contains("&gt;") || message.contains("&lt;") || message.contains("&#") {
        decoded = crate::events::decode_entities(message).into_owned();
        text = &decoded;
    }
    let (text, inner_repeat_removed) = strip_inner_repeats(text);
    let mut b = Builder {
        chain: ExceptionChain {
            inner_repeat_removed,
            ..ExceptionChain::default()
        },
        prefix: Vec::new(),
        trailing: false,
    };
    for raw in text.split(['\n', '\r']) {
        let indented = raw.starts_with([' ', '\t']);
        let pieces = split_inline(raw);
        for (i, piece) in pieces.into_iter().enumerate() {
            b.piece(piece, indented || i > 0);
        }
    }
    let prefix = b.prefix.join("\n");
    let mut chain = b.chain;
    if !prefix.trim().is_empty() {
        chain.prefix = Some(prefix.trim().to_owned());
    }
    chain
}

struct Builder {
    chain: ExceptionChain,
    prefix: Vec<String>,
    /// Text after the chain that is not part of it (a forum poster's question).
    trailing: bool,
}

impl Builder {
    fn piece(&mut self, piece: &str, indented: bool) {
        let p = piece.trim();
        if p.is_empty() {
            return;
        }
        if let Some(frame) = frame_text(p) {
            // A frame, possibly followed by more chain on a flattened line.
            let (frame, more) = match frame.find("--->") {
                Some(i) => (
                    frame.get(..i).unwrap_or(frame),
                    frame.get(i..).unwrap_or(""),
                ),
                None => (frame, ""),
            };
            self.chain.frames.push(frame.trim().to_owned());
            if !more.is_empty() {
                self.text(more, true);
            }
            return;
        }
        if is_separator(p) {
            return;
        }
        self.text(p, indented);
    }

    /// Non-frame text: split on `--->` and look for `Type: message` heads.
    fn text(&mut self, p: &str, indented: bool) {
        for (i, part) in p.split("--->").enumerate() {
            let part = part.trim().trim_end_matches("<---").trim();
            if part.is_empty() {
                continue;
            }
            let arrow = i > 0;
            if let Some(entry) = head(part) {
                self.chain.exceptions.push(entry);
                self.trailing = false;
                continue;
            }
            if self.chain.exceptions.is_empty() {
                match find_head(part) {
                    Some(pos) => {
                        let (before, after) = part.split_at_checked(pos).unwrap_or((part, ""));
                        self.prefix.push(before.trim_end().to_owned());
                        if let Some(entry) = head(after) {
                            self.chain.exceptions.push(entry);
                        }
                    }
                    None => self.prefix.push(part.to_owned()),
                }
                continue;
            }
            if self.trailing {
                continue;
            }
            if let Some(last) = self.chain.exceptions.last_mut() {
                // A continuation of the message (broken across lines in a paste) is
                // indented, follows an arrow, or follows an unfinished sentence; other
                // text after a finished message is the poster's, not the chain's.
                let unfinished = last.message.is_empty()
                    || !last.message.ends_with(['.', '!', '?', '\'', ')', '"']);
                if arrow || indented || unfinished {
                    if !last.message.is_empty() {
                        last.message.push(' ');
                    }
                    last.message.push_str(part);
                } else {
                    self.trailing = true;
                }
            }
        }
    }
}

/// Remove every `---> (Inner Exception #0) … <---` block; keep later inner
/// exceptions (#1 …) of an AggregateException, which are not repeats, but drop
/// their markers.
fn strip_inner_repeats(text: &str) -> (std::borrow::Cow<'_, str>, bool) {
    if !INNER_MARKERS.iter().any(|m| text.contains(m)) {
        return (std::borrow::Cow::Borrowed(text), false);
    }
    let mut out = String::with_capacity(text.len());
    let mut removed = false;
    let mut rest = text;
    loop {
        let found = INNER_MARKERS
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, *m)))
            .min_by_key(|(i, _)| *i);
        let Some((at, marker)) = found else {
            out.push_str(rest);
            break;
        };
        let after_marker = rest.get(at + marker.len()..).unwrap_or("");
        let digits: &str = after_marker
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap_or("");
        let close = after_marker.get(digits.len()..).unwrap_or("");
        let after = close.strip_prefix(')').unwrap_or(close);
        // The arrow right before the marker belongs to the block.
        let before = rest.get(..at).unwrap_or("");
        let start = before
            .trim_end()
            .strip_suffix("--->")
            .map_or(before.len(), str::len);
        out.push_str(rest.get(..start).unwrap_or(""));
        if digits == "0" {
            removed = true;
            match after.find("<---") {
                Some(end) => rest = after.get(end + 4..).unwrap_or(""),
                None => rest = "",
            }
        } else {
            out.push_str("\n---> ");
            rest = after;
        }
    }
    (std::borrow::Cow::Owned(out), removed)
}

/// Split a physical line at stack frames and separators glued onto it (a chain
/// flattened onto one line).
fn split_inline(line: &str) -> Vec<&str> {
    let mut cuts: Vec<usize> = Vec::new();
    for pat in [" at ", " bei "] {
        for (i, _) in line.match_indices(pat) {
            let after = line.get(i + pat.len()..).unwrap_or("");
            if i > 0 && looks_like_frame_target(after) {
                cuts.push(i + 1);
            }
        }
    }
    for (i, _) in line.match_indices(" --- ") {
        let after = line.get(i + 5..).unwrap_or("");
        if after.starts_with("End ") || after.starts_with("Ende ") {
            cuts.push(i + 1);
            // The separator ends with its own `---`; whatever follows is new content.
            if let Some(end) = after.find(" ---") {
                cuts.push(i + 5 + end + 4);
            }
        }
    }
    if cuts.is_empty() {
        return vec![line];
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        if c > start {
            if let Some(s) = line.get(start..c) {
                out.push(s);
                start = c;
            }
        }
    }
    out.push(line.get(start..).unwrap_or(""));
    out
}

/// `Namespace.Type.Method(` with no space before the parenthesis.
fn looks_like_frame_target(s: &str) -> bool {
    let target: &str = s.split(['(', ' ']).next().unwrap_or("");
    target.contains('.')
        && s.get(target.len()..).is_some_and(|r| r.starts_with('('))
        && !target.ends_with('.')
}

/// The frame text if `p` (trimmed) is a stack frame line.
fn frame_text(p: &str) -> Option<&str> {
    let body = p.strip_prefix("at ").or_else(|| p.strip_prefix("bei "))?;
    (looks_like_frame_target(body) || is_truncated_frame(body)).then_some(p)
}

/// A frame line cut before its parameter list, as Event Viewer copies and
/// forum pastes leave them (`at Microsoft.Exchange.Mitigation.Service.Common.Utils.FetchMitigationsFromUrlT`):
/// one dotted name and nothing else on the line. Without this it would be
/// glued onto the exception message above it.
fn is_truncated_frame(body: &str) -> bool {
    let body = body.trim_end();
    body.split('.').count() >= 3
        && body.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '<' || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '`' | '<' | '>' | '+'))
        })
}

fn is_separator(p: &str) -> bool {
    p.starts_with("--- ") && p.ends_with("---") && !p.starts_with("--->")
}

/// Characters of a .NET type name (generic arity and nested-type markers included).
fn type_name(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '`' | '+')).parse(input)
}

/// `Type: message` or a bare `Type` at the start of `p`.
fn head(p: &str) -> Option<ExceptionEntry> {
    let (after, ty) = type_name(p).ok()?;
    if !is_exception_type(ty) {
        return None;
    }
    // `Type: message`, or `Type` alone.
    let (message, colon) = opt(ch::<&str, nom::error::Error<&str>>(':'))
        .parse(after)
        .ok()?;
    if colon.is_none() && !after.trim().is_empty() {
        return None;
    }
    Some(ExceptionEntry {
        type_name: ty.to_owned(),
        message: message.trim().to_owned(),
    })
}

/// Byte offset of the first `Type:` head inside running text (after a space).
fn find_head(p: &str) -> Option<usize> {
    p.char_indices()
        .filter(|&(i, _)| {
            i > 0
                && p.get(..i)
                    .and_then(|b| b.chars().next_back())
                    .is_some_and(char::is_whitespace)
        })
        .map(|(i, _)| i)
        .find(|&i| {
            p.get(i..)
                .is_some_and(|r| has_colon_after_type(r) && head(r).is_some())
        })
}

/// Inside running text only `Type:` counts as a head (a bare type name is prose).
fn has_colon_after_type(s: &str) -> bool {
    type_name(s)
        .ok()
        .is_some_and(|(after, _)| after.starts_with(':'))
}

fn is_exception_type(ty: &str) -> bool {
    let last = ty.rsplit('.').next().unwrap_or("");
    ty.contains('.')
        && !ty.starts_with('.')
        && !ty.ends_with('.')
        && !ty.contains("..")
        && last.ends_with("Exception")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TLS: &str = "Exception encountered while fetching mitigations : System.AggregateException: One or more errors occurred. ---> System.Net.Http.HttpRequestException: An error occurred while sending the request. ---> System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel. ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.
   at System.Net.TlsStream.EndWrite(IAsyncResult asyncResult)
   --- End of inner exception stack trace ---
   at System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult)
   --- End of inner exception stack trace ---
   --- End of inner exception stack trace ---
   at Microsoft.Exchange.Mitigation.Service.Mitigations.MitigationEngine.FetchMitigations()
---> (Inner Exception #0) System.Net.Http.HttpRequestException: An error occurred while sending the request. ---> System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel. ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.
   at System.Net.TlsStream.EndWrite(IAsyncResult asyncResult)
   --- End of inner exception stack trace ---<---
";

    const TLS_TYPES: [&str; 4] = [
        "System.AggregateException",
        "System.Net.Http.HttpRequestException",
        "System.Net.WebException",
        "System.Security.Authentication.AuthenticationException",
    ];

    /// As pasted on Microsoft Q&A 1052271 (tests/fixtures/real): a frame cut
    /// before its parameter list right after the innermost message.
    #[test]
    fn a_truncated_frame_is_not_glued_onto_the_message() {
        let text = "System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.\n   at System.Threading.Tasks.Task.Wait(Int32 millisecondsTimeout)\n   at Microsoft.Exchange.Mitigation.Service.Common.Utils.FetchMitigationsFromUrlT\n   at Microsoft.Exchange.Mitigation.Service.MitigationCloudServiceV2.FetchMitigations()\n";
        let c = parse_chain(text);
        let last = c.exceptions.last().unwrap();
        assert_eq!(
            last.message,
            "The remote certificate is invalid according to the validation procedure."
        );
        assert!(
            c.frames
                .iter()
                .any(|f| f.ends_with("Utils.FetchMitigationsFromUrlT")),
            "{:?}",
            c.frames
        );
        // A sentence that merely starts with "at" stays text.
        assert!(!is_truncated_frame("the weekend, says the admin"));
        assert!(!is_truncated_frame("10.0.0.1"));
    }

    #[test]
    fn english_chain_with_repeat() {
        let c = parse_chain(TLS);
        assert_eq!(c.types(), TLS_TYPES);
        assert_eq!(
            c.prefix.as_deref(),
            Some("Exception encountered while fetching mitigations :")
        );
        assert_eq!(c.exceptions[0].message, "One or more errors occurred.");
        assert_eq!(
            c.exceptions[2].message,
            "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel."
        );
        assert!(c.inner_repeat_removed);
        assert_eq!(
            c.frames,
            [
                "at System.Net.TlsStream.EndWrite(IAsyncResult asyncResult)",
                "at System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult)",
                "at Microsoft.Exchange.Mitigation.Service.Mitigations.MitigationEngine.FetchMitigations()",
            ]
        );
    }

    #[test]
    fn escaped_chain_and_flattened_line() {
        let escaped = TLS
            .replace("--->", "---&gt;")
            .replace("<---", "&lt;---")
            .replace('\n', "&#13;&#10;");
        let c = parse_chain(&escaped);
        assert_eq!(c.types(), TLS_TYPES);
        assert_eq!(c.frames.len(), 3);
        assert!(c.inner_repeat_removed);

        let flat = TLS.replace('\n', " ");
        let c = parse_chain(&flat);
        assert_eq!(c.types(), TLS_TYPES);
        assert_eq!(c.frames.len(), 3);
        assert_eq!(
            c.exceptions[3].message,
            "The remote certificate is invalid according to the validation procedure."
        );
    }

    #[test]
    fn german_chain() {
        let de = "Diagnostic information: Exception encountered while fetching mitigations : System.AggregateException: Mindestens ein Fehler ist aufgetreten. ---> System.Net.Http.HttpRequestException: Fehler beim Senden der Anforderung. ---> System.Net.WebException: Der Remotename konnte nicht aufgelöst werden: 'officeclient.microsoft.com'
   bei System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult)
   --- Ende der internen Ausnahmestapelüberwachung ---
   bei Microsoft.Exchange.Mitigation.Service.Mitigations.MitigationEngine.FetchMitigations()
---> (Interne Ausnahme #0) System.Net.Http.HttpRequestException: Fehler beim Senden der Anforderung. ---> System.Net.WebException: Der Remotename konnte nicht aufgelöst werden: 'officeclient.microsoft.com'
   bei System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult)
   --- Ende der internen Ausnahmestapelüberwachung ---<---";
        let c = parse_chain(de);
        assert_eq!(
            c.types(),
            [
                "System.AggregateException",
                "System.Net.Http.HttpRequestException",
                "System.Net.WebException"
            ]
        );
        assert_eq!(
            c.exceptions[2].message,
            "Der Remotename konnte nicht aufgelöst werden: 'officeclient.microsoft.com'"
        );
        assert_eq!(c.frames.len(), 2);
        assert!(c.frames[0].starts_with("bei System.Net.HttpWebRequest"));
        assert!(c.inner_repeat_removed);
    }

    #[test]
    fn broken_across_lines_with_trailing_question() {
        let paste = "Diagnostic information: Exception encountered while fetching mitigations :
System.AggregateException: One or more errors occurred.
---> System.Net.WebException: The underlying connection was closed:
      Could not establish trust relationship for the SSL/TLS secure channel.
---> System.Security.Authentication.AuthenticationException:
      The remote certificate is invalid according to the validation procedure.
Any idea?";
        let c = parse_chain(paste);
        assert_eq!(c.exceptions.len(), 3);
        assert_eq!(
            c.exceptions[1].message,
            "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel."
        );
        assert_eq!(
            c.exceptions[2].message,
            "The remote certificate is invalid according to the validation procedure."
        );
        assert!(!c.inner_repeat_removed);
    }

    #[test]
    fn new_type_heads_without_arrow_and_no_exception() {
        let c = parse_chain(
            "System.InvalidOperationException: outer\nSystem.OutOfMemoryException: Insufficient memory to continue the execution of the program.",
        );
        assert_eq!(
            c.types(),
            [
                "System.InvalidOperationException",
                "System.OutOfMemoryException"
            ]
        );
        let c = parse_chain(
            "An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations.",
        );
        assert!(c.exceptions.is_empty());
        assert_eq!(
            c.prefix.as_deref(),
            Some(
                "An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations."
            )
        );
        // A bare type name in prose is not a head; `at` in prose is not a frame.
        let c = parse_chain(
            "Watson report with parameters: System.OutOfMemoryException, 4c2f, look at this.",
        );
        assert!(c.exceptions.is_empty() && c.frames.is_empty());
    }

    #[test]
    fn later_aggregate_inner_exceptions_are_kept() {
        let c = parse_chain(
            "System.AggregateException: One or more errors occurred. ---> System.TimeoutException: first\n---> (Inner Exception #0) System.TimeoutException: first<---\n\n---> (Inner Exception #1) System.Threading.Tasks.TaskCanceledException: A task was canceled.<---",
        );
        assert_eq!(
            c.types(),
            [
                "System.AggregateException",
                "System.TimeoutException",
                "System.Threading.Tasks.TaskCanceledException"
            ]
        );
        assert!(c.inner_repeat_removed);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse_chain(&s);
        }

        #[test]
        fn never_panics_on_mutated_chain(cut in 0usize..2000, ins in "\\PC{0,8}") {
            let mut t: Vec<char> = TLS.chars().collect();
            let at = cut.min(t.len());
            t.splice(at..at, ins.chars());
            let s: String = t.into_iter().collect();
            let _ = parse_chain(&s);
            let _ = parse_chain(s.get(..cut.min(s.len())).unwrap_or(""));
        }
    }
}
