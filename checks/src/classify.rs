//! Classify failure texts (log messages, event 1008 exception chains, Watson
//! reports) into causes. en-US and de-DE .NET messages; matching is on the
//! message text because exception *types* are too generic (a WebException
//! wraps DNS, TLS, 407 and timeouts alike).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// "Could not establish trust relationship for the SSL/TLS secure channel",
    /// log "TLS certificate or its chain validation failed".
    TlsTrust,
    /// Log "Connection attempted against untrusted endpoint" (old build, Jan 2025 cert change).
    UntrustedEndpoint,
    /// "This XML is not deemed safe to consume …".
    XmlSignature,
    /// "The remote name could not be resolved".
    Dns,
    /// "The proxy name could not be resolved".
    ProxyDns,
    /// "(407) Proxy Authentication Required".
    ProxyAuth,
    /// "Unable to connect to the remote server" / socket timeout / refused.
    Connect,
    /// "A task was canceled" (HttpClient timeout).
    Timeout,
    /// "Could not create SSL/TLS secure channel" / "unexpected error occurred on a send".
    TlsProtocol,
    /// "The remote server returned an error: (403) …" and other HTTP statuses.
    HttpStatus,
    /// System.OutOfMemoryException (Watson).
    OutOfMemory,
    /// "Exception encountered while fetching mitigations." with no detail.
    Unspecified,
    /// A failure we could not attribute.
    Other,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::TlsTrust => "tls-trust",
            Cause::UntrustedEndpoint => "untrusted-endpoint",
            Cause::XmlSignature => "xml-signature",
            Cause::Dns => "dns",
            Cause::ProxyDns => "proxy-dns",
            Cause::ProxyAuth => "proxy-auth",
            Cause::Connect => "connect",
            Cause::Timeout => "timeout",
            Cause::TlsProtocol => "tls-protocol",
            Cause::HttpStatus => "http-status",
            Cause::OutOfMemory => "out-of-memory",
            Cause::Unspecified => "unspecified",
            Cause::Other => "other",
        }
    }
}

/// Longest stretch of a message that is searched. Causes are named in the
/// first lines of a chain; a hostile 16 MB "message" must not make every
/// needle scan all of it.
const MAX_SCAN: usize = 256 * 1024;

/// `text` lower-cased once (bounded), so every needle is one fast `contains`.
fn lowered(text: &str) -> String {
    let end = text
        .char_indices()
        .nth(MAX_SCAN)
        .map_or(text.len(), |(i, _)| i);
    text.get(..end).unwrap_or(text).to_lowercase()
}

/// The most specific cause named anywhere in `text` (a message, a whole
/// exception chain, or a log message). Specific beats generic: a 407 inside
/// "An error occurred while sending the request" is a 407.
pub fn classify(text: &str) -> Cause {
    const RULES: &[(Cause, &[&str])] = &[
        (Cause::UntrustedEndpoint, &["untrusted endpoint"]),
        (
            Cause::XmlSignature,
            &["not deemed safe to consume", "signing cert is invalid"],
        ),
        (
            Cause::ProxyAuth,
            &[
                "(407)",
                "Proxy Authentication Required",
                "Proxyauthentifizierung erforderlich",
            ],
        ),
        (
            Cause::ProxyDns,
            &[
                "proxy name could not be resolved",
                "Proxyname konnte nicht aufgelöst",
            ],
        ),
        (
            Cause::Dns,
            &[
                "remote name could not be resolved",
                "Remotename konnte nicht aufgelöst",
                "No such host is known",
                "Der angegebene Host ist unbekannt",
            ],
        ),
        (
            Cause::TlsTrust,
            &[
                "trust relationship for the SSL/TLS",
                "remote certificate is invalid",
                "chain validation failed",
                "Vertrauensstellung hergestellt werden",
                "Remotezertifikat ist laut Validierungsverfahren ungültig",
                "RemoteCertificateChainErrors",
                "revocation",
            ],
        ),
        (
            Cause::TlsProtocol,
            &[
                "Could not create SSL/TLS secure channel",
                "unexpected error occurred on a send",
                "unexpected error occurred on a receive",
                "Authentication failed because the remote party has closed",
                "sicheren SSL/TLS-Kanal konnte nicht erstellt",
            ],
        ),
        (
            Cause::Connect,
            &[
                "Unable to connect to the remote server",
                "connection attempt failed",
                "actively refused",
                "keine Verbindung mit dem Remoteserver",
                "Verbindungsversuch ist fehlgeschlagen",
                "The operation has timed out",
                "Der Vorgang hat das Zeitlimit überschritten",
            ],
        ),
        (
            Cause::Timeout,
            &[
                "A task was canceled",
                "TaskCanceledException",
                "Eine Aufgabe wurde abgebrochen",
            ],
        ),
        (
            Cause::HttpStatus,
            &[
                "The remote server returned an error: (",
                "Der Remoteserver hat einen Fehler zurückgegeben: (",
                "Response status code does not indicate success",
            ],
        ),
        (Cause::OutOfMemory, &["OutOfMemoryException"]),
    ];
    let lower = lowered(text);
    let has = |needle: &str| lower.contains(&needle.to_lowercase());
    for (cause, needles) in RULES {
        if needles.iter().any(|n| has(n)) {
            return *cause;
        }
    }
    let t = lower.trim().trim_end_matches('.');
    if t.is_empty()
        || has("An unexpected exception occurred") && !has("Exception:")
        || t.ends_with("exception encountered while fetching mitigations")
        || has("fetching mitigations :") && has("One or more errors occurred") && !has("--->")
    {
        return Cause::Unspecified;
    }
    Cause::Other
}

/// HTTP status named in a message ("(403) Forbidden" → 403).
pub fn http_status(text: &str) -> Option<u16> {
    let start = text.find("error: (")? + "error: (".len();
    text.get(start..start + 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_chains() {
        let tls = "System.AggregateException: One or more errors occurred. ---> System.Net.Http.HttpRequestException: An error occurred while sending the request. ---> System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel. ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.";
        assert_eq!(classify(tls), Cause::TlsTrust);
        assert_eq!(
            classify("The remote server returned an error: (407) Proxy Authentication Required."),
            Cause::ProxyAuth
        );
        assert_eq!(
            classify("The remote name could not be resolved: 'officeclient.microsoft.com'"),
            Cause::Dns
        );
        assert_eq!(
            classify("The proxy name could not be resolved: 'proxy'"),
            Cause::ProxyDns
        );
        assert_eq!(
            classify(
                "Unable to connect to the remote server ---> System.Net.Sockets.SocketException: A connection attempt failed because the connected party did not properly respond after a period of time"
            ),
            Cause::Connect
        );
        assert_eq!(
            classify("System.Threading.Tasks.TaskCanceledException: A task was canceled."),
            Cause::Timeout
        );
        assert_eq!(
            classify("The request was aborted: Could not create SSL/TLS secure channel."),
            Cause::TlsProtocol
        );
        assert_eq!(
            classify("The remote server returned an error: (403) Forbidden."),
            Cause::HttpStatus
        );
        assert_eq!(
            http_status("The remote server returned an error: (403) Forbidden."),
            Some(403)
        );
        assert_eq!(
            classify("Connection attempted against untrusted endpoint"),
            Cause::UntrustedEndpoint
        );
        assert_eq!(
            classify("TLS certificate or its chain validation failed"),
            Cause::TlsTrust
        );
        assert_eq!(
            classify(
                "This XML is not deemed safe to consume since Response xml's signing cert is invalid or not from microsoft"
            ),
            Cause::XmlSignature
        );
    }

    #[test]
    fn german_chains() {
        assert_eq!(
            classify(
                "System.Net.WebException: Der Remotename konnte nicht aufgelöst werden: 'officeclient.microsoft.com'"
            ),
            Cause::Dns
        );
        assert_eq!(
            classify(
                "Für den geschützten SSL/TLS-Kanal konnte keine Vertrauensstellung hergestellt werden."
            ),
            Cause::TlsTrust
        );
        assert_eq!(
            classify("Das Remotezertifikat ist laut Validierungsverfahren ungültig."),
            Cause::TlsTrust
        );
    }

    #[test]
    fn no_detail_is_unspecified_and_unknown_is_other() {
        assert_eq!(
            classify(
                "An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations."
            ),
            Cause::Unspecified
        );
        assert_eq!(
            classify(
                "Exception encountered while fetching mitigations :   One or more errors occurred."
            ),
            Cause::Unspecified
        );
        assert_eq!(
            classify("Something entirely different happened"),
            Cause::Other
        );
    }
}
