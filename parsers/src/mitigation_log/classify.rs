//! Message classification (input-formats §1.4 item 5): case-insensitive
//! prefixes, dispatched on the first byte so every row costs a handful of
//! comparisons. Unknown messages are `Other`, never an error.

use serde::Serialize;

/// What a log message says, without its parameters (cheap, `Copy`; the
/// streaming reader exposes this; [`super::MessageClass`] carries the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageKind {
    /// `Started MSExchangeMitigation` (VERIFIED).
    Started,
    /// `Fetching mitigations from <url>` (VERIFIED).
    FetchingMitigations,
    /// `Using Proxy <uri> To Fetch Configurations` (VERIFIED).
    UsingProxy,
    /// `No diagnostic data sent. DataCollectionEnabled is false` (VERIFIED).
    NoDiagnosticData,
    /// `TLS certificate or its chain validation failed` (VERIFIED).
    TlsValidationFailed,
    /// `Connection attempted against untrusted endpoint` (VERIFIED).
    UntrustedEndpoint,
    /// `Exception encountered while fetching mitigations : <detail>` (VERIFIED).
    FetchException,
    /// `This XML is not deemed safe to consume …` on its own (VERIFIED inside an exception).
    XmlNotSafe,
    /// `Successfully fetched and validated mitigations. Mitigations count: N` (RECONSTRUCTED, matched leniently).
    FetchSucceeded,
    /// `Mitigation <id> is already applied …` (RECONSTRUCTED, matched leniently).
    MitigationAlreadyApplied,
    Other,
}

/// Classification of one message; `arg` is a byte range into the message
/// (url, proxy, exception detail or mitigation id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Classified {
    pub kind: MessageKind,
    pub arg: Option<(usize, usize)>,
    pub xml_not_safe: bool,
    pub count: Option<u32>,
}

const XML_NOT_SAFE: &str = "this xml is not deemed safe to consume";

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let (head, tail) = s.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

/// Byte offset of the first case-insensitive occurrence of `needle` (lower-case ASCII).
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    let first = *n.first()?;
    let h = hay.as_bytes();
    let mut from = 0;
    // memchr2 on both cases of the first byte, then verify.
    while let Some(k) = h
        .get(from..)
        .and_then(|s| memchr::memchr2(first, first.to_ascii_uppercase(), s))
    {
        let at = from + k;
        if h.get(at..at + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn first_token(s: &str) -> &str {
    let s = s.trim_start();
    s.split_ascii_whitespace().next().unwrap_or(s)
}

pub(super) fn classify(msg: &str) -> Classified {
    let m = msg.trim_start();
    let span = |inner: &str| {
        let start = (inner.as_ptr() as usize).saturating_sub(msg.as_ptr() as usize);
        Some((start, start + inner.len()))
    };
    let mut c = Classified {
        kind: MessageKind::Other,
        arg: None,
        xml_not_safe: false,
        count: None,
    };
    let Some(first) = m.as_bytes().first() else {
        return c;
    };
    match first.to_ascii_lowercase() {
        b's' => {
            if strip_prefix_ci(m, "started msexchangemitigation").is_some() {
                c.kind = MessageKind::Started;
            } else if strip_prefix_ci(m, "successfully fetched").is_some() {
                c.kind = MessageKind::FetchSucceeded;
                c.count = find_ci(m, "count:").and_then(|at| {
                    let digits = m.get(at + 6..)?.trim_start();
                    let end = digits
                        .find(|ch: char| !ch.is_ascii_digit())
                        .unwrap_or(digits.len());
                    digits.get(..end)?.parse().ok()
                });
            }
        }
        b'f' => {
            if let Some(rest) = strip_prefix_ci(m, "fetching mitigations from") {
                c.kind = MessageKind::FetchingMitigations;
                c.arg = span(first_token(rest));
            }
        }
        b'u' => {
            if let Some(rest) = strip_prefix_ci(m, "using proxy") {
                c.kind = MessageKind::UsingProxy;
                let proxy = match find_ci(rest, " to fetch configurations") {
                    Some(at) => rest.get(..at).unwrap_or(rest).trim(),
                    None => first_token(rest),
                };
                c.arg = span(proxy);
            }
        }
        b'n' if strip_prefix_ci(m, "no diagnostic data sent").is_some() => {
            c.kind = MessageKind::NoDiagnosticData;
        }
        b't' => {
            if strip_prefix_ci(m, "tls certificate or its chain validation failed").is_some() {
                c.kind = MessageKind::TlsValidationFailed;
            } else if strip_prefix_ci(m, XML_NOT_SAFE).is_some() {
                c.kind = MessageKind::XmlNotSafe;
                c.xml_not_safe = true;
            }
        }
        b'c' if strip_prefix_ci(m, "connection attempted against untrusted endpoint").is_some() => {
            c.kind = MessageKind::UntrustedEndpoint;
        }
        b'e' => {
            if let Some(rest) =
                strip_prefix_ci(m, "exception encountered while fetching mitigations")
            {
                c.kind = MessageKind::FetchException;
                let rest = rest.trim_start();
                let detail = rest.strip_prefix(':').unwrap_or(rest).trim();
                c.arg = span(detail);
                c.xml_not_safe = find_ci(detail, XML_NOT_SAFE).is_some();
            }
        }
        b'm' => {
            // No let-chains: the workspace MSRV is 1.85.
            let applied = strip_prefix_ci(m, "mitigation ")
                .and_then(|rest| Some((rest, find_ci(rest, " is already applied")?)));
            if let Some((rest, at)) = applied {
                c.kind = MessageKind::MitigationAlreadyApplied;
                c.arg = span(rest.get(..at).unwrap_or_default().trim());
            }
        }
        _ => {}
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(msg: &str) -> (MessageKind, Option<&str>) {
        let c = classify(msg);
        (c.kind, c.arg.and_then(|(a, b)| msg.get(a..b)))
    }

    #[test]
    fn verified_messages() {
        use MessageKind::*;
        assert_eq!(arg("Started MSExchangeMitigation"), (Started, None));
        assert_eq!(
            arg(
                "Fetching mitigations from https://officeclient.microsoft.com/getexchangemitigations"
            ),
            (
                FetchingMitigations,
                Some("https://officeclient.microsoft.com/getexchangemitigations")
            )
        );
        assert_eq!(
            arg("USING PROXY http://10.1.1.1:8080/ to fetch configurations"),
            (UsingProxy, Some("http://10.1.1.1:8080/"))
        );
        assert_eq!(
            arg("No diagnostic data sent. DataCollectionEnabled is false").0,
            NoDiagnosticData
        );
        assert_eq!(
            arg("TLS certificate or its chain validation failed").0,
            TlsValidationFailed
        );
        assert_eq!(
            arg("connection attempted against untrusted endpoint").0,
            UntrustedEndpoint
        );
        assert_eq!(
            arg(
                "Exception encountered while fetching mitigations :   One or more errors occurred."
            ),
            (FetchException, Some("One or more errors occurred."))
        );
        let c = classify(
            "Exception encountered while fetching mitigations : This XML is not deemed safe to consume since x",
        );
        assert!(c.xml_not_safe);
        assert_eq!(arg("This XML is not deemed safe to consume").0, XmlNotSafe);
    }

    #[test]
    fn reconstructed_and_other() {
        let c = classify("Successfully fetched and validated mitigations. Mitigations count: 12");
        assert_eq!((c.kind, c.count), (MessageKind::FetchSucceeded, Some(12)));
        assert_eq!(
            arg("Mitigation PING1 is already applied on this server"),
            (MessageKind::MitigationAlreadyApplied, Some("PING1"))
        );
        assert_eq!(arg("Mitigation PING1 applied").0, MessageKind::Other);
        assert_eq!(arg("").0, MessageKind::Other);
        assert_eq!(arg("Ünïcode ß").0, MessageKind::Other);
        assert_eq!(arg("s").0, MessageKind::Other);
    }
}
