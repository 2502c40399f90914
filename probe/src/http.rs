//! HTTP for the probe. The plain downloads (CRL, AIA, CTL) go through
//! reqwest; the OCS requests (the mitigations and GetExchangeConfig) go
//! through hyper's connection-level client (`client::conn::http1`) over the
//! connection the probe opened and recorded itself (plain TCP, the CONNECT
//! tunnel, the TLS stream whatever its chain), one request per connection.
//! Both turn their answers into the probe's facts (`ResponseHead`, a capped
//! `Body`, errors in words). Only the CONNECT answer is read by hand: its
//! head is parsed with httparse, one byte at a time, so the tunnel's first
//! TLS bytes stay in the socket and the TLS step gets the `TcpStream` itself
//! (hyper's CONNECT would hand back an upgraded wrapper and its read buffer
//! to unpack instead, for the same head: status, reason, `Proxy-Authenticate`).
//! Callers bound every call with a timeout; every loop here ends at a cap or EOF.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CONNECTION, HOST, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

/// Longest response head accepted (status line + headers).
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// `HTTP/1.1 407 Proxy Authentication Required`, control characters removed.
    pub status_line: String,
    pub status: u16,
    pub reason: String,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Printable text only: what goes into reports must not carry control bytes.
pub fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !last_space && !out.is_empty() {
                out.push(' ');
            }
            last_space = true;
        } else if !eems_reports::safe::is_unsafe(c) {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_owned()
}

/// Parse a response head (the bytes up to, and possibly including, the blank
/// line) with httparse, set up as leniently as the answers met in the field
/// need: bare LF line ends, folded header lines, and malformed header lines
/// skipped rather than fatal. The reason phrase is taken from the status line
/// as sent (httparse drops a non-ASCII one), cleaned like every value.
pub fn parse_head(bytes: &[u8]) -> Result<ResponseHead, String> {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let status_line = clean_text(&String::from_utf8_lossy(first));
    if !status_line.starts_with("HTTP/") {
        let shown: String = status_line.chars().take(80).collect();
        return Err(format!("not an HTTP response (starts with `{shown}`)"));
    }
    let bad_status = || format!("bad HTTP status line `{status_line}`");
    // One slot per line: a head (at most MAX_HEAD bytes) never has more headers.
    let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
    let mut slots = vec![httparse::EMPTY_HEADER; lines];
    let mut response = httparse::Response::new(&mut slots);
    let parsed = httparse::ParserConfig::default()
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_responses(true)
        .parse_response(&mut response, bytes);
    match parsed {
        Ok(_) => {}
        Err(httparse::Error::Version | httparse::Error::Status) => return Err(bad_status()),
        Err(e) => return Err(format!("malformed HTTP response head: {e}")),
    }
    let status = response
        .code
        .filter(|s| (100..1000).contains(s))
        .ok_or_else(bad_status)?;
    let reason = status_line
        .splitn(3, ' ')
        .nth(2)
        .unwrap_or_default()
        .to_owned();
    // A head cut short (no blank line) leaves the slots unfilled: skip those.
    let headers = response
        .headers
        .iter()
        .filter(|h| !h.name.is_empty())
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (clean_text(h.name), clean_text(value.trim()))
        })
        .collect();
    Ok(ResponseHead {
        status_line,
        status,
        reason,
        headers,
    })
}

/// The response head to CONNECT, up to and including the blank line, read
/// one byte at a time so nothing after it is consumed (the tunnel's first
/// TLS bytes must stay in the socket). At most `MAX_HEAD` bytes.
pub async fn read_connect_head<S: AsyncRead + Unpin>(s: &mut S) -> Result<ResponseHead, String> {
    let mut head: Vec<u8> = Vec::new();
    loop {
        let mut b = [0u8; 1];
        let n = s.read(&mut b).await.map_err(|e| io_words(&e))?;
        if n == 0 {
            return Err(if head.is_empty() {
                "connection closed without an answer".into()
            } else {
                "connection closed in the middle of the response head".into()
            });
        }
        head.push(b[0]);
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            return parse_head(&head);
        }
        if head.len() > MAX_HEAD {
            return Err(format!("response head longer than {} KiB", MAX_HEAD / 1024));
        }
    }
}

/// A response body as read: possibly cut at the cap.
#[derive(Debug, Default)]
pub struct Body {
    pub data: Vec<u8>,
    /// More was announced or sent than `cap`.
    pub truncated: bool,
    /// The transfer broke off (the data so far is kept).
    pub error: Option<String>,
}

/// One GET over `stream` (a connection the probe opened: the TLS stream,
/// the tunnel, or plain TCP) with hyper's HTTP/1 connection client: the head
/// and the body, at most `cap` bytes kept, reading stopped at the cap.
/// `target` is origin-form (`/path?q`) or, to a proxy, absolute-form.
/// Unbounded in time: callers bound it.
pub async fn get<S>(
    stream: S,
    target: &str,
    host_header: &str,
    proxy_auth: Option<&str>,
    cap: usize,
) -> Result<(ResponseHead, Body), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // As lenient with heads as the answers met in the field need (folded or
    // malformed header lines), and as strict about size as the probe's caps.
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_responses(true)
        .max_header_size(MAX_HEAD)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| hyper_words(&e))?;
    let mut request = hyper::Request::get(target)
        .header(HOST, host_header)
        .header(
            USER_AGENT,
            concat!("eems-doctor/", env!("CARGO_PKG_VERSION")),
        )
        .header(ACCEPT, "*/*")
        .header(CONNECTION, "close");
    if let Some(a) = proxy_auth {
        let value = HeaderValue::from_str(&format!("Basic {a}"))
            .map_err(|_| "the proxy credentials are not a valid header value".to_owned())?;
        request = request.header(PROXY_AUTHORIZATION, value);
    }
    let request = request
        .body(Empty::new())
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| hyper_words(&e))?;
        let head = head_of(
            response.version(),
            response.status(),
            response.extensions(),
            response.headers(),
        );
        let mut body = Body {
            truncated: content_length(&head).is_some_and(|n| n > cap as u64),
            ..Body::default()
        };
        let mut incoming = response.into_body();
        while body.data.len() < cap {
            match incoming.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    let Ok(chunk) = frame.into_data() else {
                        continue; // trailers
                    };
                    let room = cap - body.data.len();
                    body.truncated |= chunk.len() > room;
                    body.data
                        .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                }
                Some(Err(e)) => {
                    body.error = Some(body_error_words(&e, &head, body.data.len()));
                    break;
                }
            }
        }
        Ok::<_, String>((head, body))
    };
    // The connection is driven beside the exchange and dropped with it: a
    // body cut at the cap is not read further.
    let mut exchange = std::pin::pin!(exchange);
    let mut conn = std::pin::pin!(conn);
    let mut conn_error: Option<String> = None;
    let mut conn_ended = false;
    loop {
        tokio::select! {
            done = &mut exchange => {
                // A request the connection gave up on says only "canceled":
                // the connection's own error says why.
                return match (done, conn_error) {
                    (Err(_), Some(why)) => Err(why),
                    (done, _) => done,
                };
            }
            ended = &mut conn, if !conn_ended => {
                conn_ended = true;
                conn_error = ended.err().map(|e| hyper_words(&e));
            }
        }
    }
}

fn content_length(head: &ResponseHead) -> Option<u64> {
    head.header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// A body that broke off, in words: with a Content-Length, how much came.
fn body_error_words(e: &hyper::Error, head: &ResponseHead, got: usize) -> String {
    let closed = e.is_incomplete_message()
        || io_source(e).is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
    match content_length(head) {
        Some(len) if closed => format!("connection closed after {got} of {len} bytes"),
        _ if closed => "connection closed inside the body".into(),
        _ => hyper_words(e),
    }
}

/// The innermost I/O error behind a hyper error, if any.
fn io_source(e: &hyper::Error) -> Option<&std::io::Error> {
    let mut next: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        next = err.source();
    }
    None
}

/// A hyper failure in the probe's words: the innermost I/O error when there
/// is one, an answer that never came, else hyper's own text.
pub fn hyper_words(e: &hyper::Error) -> String {
    if let Some(io) = io_source(e) {
        return io_words(io);
    }
    if e.is_incomplete_message() {
        return "connection closed without a complete answer".into();
    }
    if e.is_parse() {
        return format!("malformed HTTP response: {e}");
    }
    e.to_string()
}

/// An I/O error in words an administrator recognises.
pub fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset by peer".into(),
        K::ConnectionAborted => "connection aborted".into(),
        K::UnexpectedEof => "connection closed unexpectedly".into(),
        K::BrokenPipe => "connection closed while sending".into(),
        K::TimedOut => "connection timed out".into(),
        K::HostUnreachable => "no route to host".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::AddrNotAvailable => "address not available".into(),
        _ => e.to_string(),
    }
}

/// The head of a reqwest response as the probe records it (see [`head_of`]).
pub fn response_head(r: &reqwest::Response) -> ResponseHead {
    head_of(r.version(), r.status(), r.extensions(), r.headers())
}

/// A response head as the probe records it, from hyper's or reqwest's
/// parts: the status line as sent (hyper keeps a reason phrase that is not
/// the standard one), and the headers (names lower case, as hyper gives them).
fn head_of(
    version: hyper::Version,
    status: hyper::StatusCode,
    extensions: &hyper::http::Extensions,
    headers: &hyper::HeaderMap,
) -> ResponseHead {
    let reason = match extensions.get::<hyper::ext::ReasonPhrase>() {
        Some(p) => clean_text(&String::from_utf8_lossy(p.as_bytes())),
        None => status.canonical_reason().unwrap_or_default().to_owned(),
    };
    let status_line = clean_text(&format!("{version:?} {} {reason}", status.as_u16()));
    let headers = headers
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes());
            (k.as_str().to_owned(), clean_text(value.trim()))
        })
        .collect();
    ResponseHead {
        status_line,
        status: status.as_u16(),
        reason,
        headers,
    }
}

/// The body of a reqwest response, at most `cap` bytes kept; reading stops
/// once the cap is reached.
pub async fn read_capped(r: &mut reqwest::Response, cap: usize) -> Body {
    let mut body = Body {
        truncated: r
            .content_length()
            .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX)),
        ..Body::default()
    };
    while body.data.len() < cap {
        match r.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - body.data.len();
                if chunk.len() > room {
                    body.truncated = true;
                }
                body.data
                    .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            }
            Ok(None) => break,
            Err(e) => {
                body.error = Some(request_words(&e));
                break;
            }
        }
    }
    body
}

/// A reqwest failure in the probe's words: the innermost I/O error when
/// there is one (`connection refused`), an answer that never came, else the
/// innermost error's own text.
pub fn request_words(e: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = e;
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io_words(io);
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && h.is_incomplete_message()
        {
            return "connection closed without a complete answer".into();
        }
        innermost = err;
        next = err.source();
    }
    innermost.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let h =
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-A: 1\r\n  folded\r\n\r\n")
                .unwrap();
        assert_eq!((h.status, h.reason.as_str()), (200, "OK"));
        assert_eq!(h.header("content-type"), Some("text/xml"));
        assert_eq!(h.header("x-a"), Some("1 folded"));
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 abc\r\n\r\n").is_err());
        assert_eq!(parse_head(b"HTTP/1.0 204\n\n").unwrap().reason, "");
        // Lenient where the field needs it: a line without a colon is skipped,
        // a non-ASCII reason is kept, a head with no blank line still parses.
        let h = parse_head(b"HTTP/1.1 403 Verboten \xc3\xa4\r\nnonsense\r\nVia: 1.1 p\r\n\r\n")
            .unwrap();
        assert_eq!((h.status, h.reason.as_str()), (403, "Verboten \u{e4}"));
        assert_eq!(h.headers, vec![("Via".to_owned(), "1.1 p".to_owned())]);
        let h = parse_head(b"HTTP/1.1 200 OK\r\nA: 1\r\n").unwrap();
        assert_eq!(h.status, 200);
        assert!(h.headers.iter().all(|(k, _)| !k.is_empty()), "{h:?}");
        assert!(parse_head(b"HTTP/1.1 20\r\n\r\n").is_err());
        assert_eq!(clean_text("a\u{1}b\r\n\t c "), "ab c");
    }

    /// `get` against a peer that answers `raw` whatever it is asked.
    async fn body_of(raw: &'static [u8], cap: usize) -> Result<(ResponseHead, Body), String> {
        use tokio::io::AsyncWriteExt;
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            // Answer once the request head is in, as a server does.
            let mut got = Vec::new();
            let mut b = [0u8; 1024];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match server.read(&mut b).await {
                    Ok(n) if n > 0 => got.extend_from_slice(&b[..n]),
                    _ => return,
                }
            }
            let _ = server.write_all(raw).await;
            let _ = server.shutdown().await;
        });
        get(client, "/x", "h", None, cap).await
    }

    #[test]
    fn downloads_are_capped_and_recorded() {
        let server = eems_testkit::servers::HttpServer::start();
        server.put("/big.crl", vec![7u8; 100_000]);
        server.put("/small", b"hello".to_vec());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // No proxy from the environment: these requests stay on loopback.
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        rt.block_on(async {
            let get = |path: &str| client.get(format!("{}{path}", server.base_url())).send();
            let mut r = get("/big.crl").await.unwrap();
            let head = response_head(&r);
            assert_eq!(
                (head.status, head.status_line.as_str()),
                (200, "HTTP/1.1 200 OK")
            );
            assert_eq!(head.header("Content-Type"), Some("application/pkix-crl"));
            let b = read_capped(&mut r, 4096).await;
            assert_eq!(
                (b.data.len(), b.truncated, b.error.is_none()),
                (4096, true, true)
            );
            let mut r = get("/small").await.unwrap();
            let b = read_capped(&mut r, 4096).await;
            assert_eq!((b.data.as_slice(), b.truncated), (&b"hello"[..], false));
            let r = get("/absent").await.unwrap();
            let head = response_head(&r);
            assert_eq!((head.status, head.reason.as_str()), (404, "Not Found"));
        });
        // A refused connection in the probe's words.
        let port = eems_testkit::servers::closed_port();
        let e = rt
            .block_on(client.get(format!("http://127.0.0.1:{port}/x.crl")).send())
            .unwrap_err();
        assert_eq!(request_words(&e), "connection refused");
    }

    #[test]
    fn bodies() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (h, b) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 100).await.unwrap();
            assert_eq!(h.status_line, "HTTP/1.1 200 OK");
            assert_eq!((b.data.as_slice(), b.truncated, b.error.is_none()), (&b"hello"[..], false, true));
            let (_, b) = body_of(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n",
                100,
            )
            .await
            .unwrap();
            assert_eq!(b.data, b"hello world");
            assert!(b.error.is_none(), "{:?}", b.error);
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4).await.unwrap();
            assert_eq!((b.data.as_slice(), b.truncated), (&b"0123"[..], true));
            // Until EOF, cut at the cap.
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 4).await.unwrap();
            assert_eq!((b.data.as_slice(), b.truncated), (&b"0123"[..], true));
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012", 100).await.unwrap();
            assert_eq!(b.data, b"012");
            assert_eq!(b.error.as_deref(), Some("connection closed after 3 of 10 bytes"));
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100).await.unwrap();
            assert!(b.error.is_some() && b.data.is_empty());
            // The reason phrase as sent; folded and malformed header lines tolerated.
            let (h, _) = body_of(
                b"HTTP/1.1 403 Verboten\r\nX-A: 1\r\n  folded\r\nnonsense\r\nVia: 1.1 p\r\nContent-Length: 0\r\n\r\n",
                100,
            )
            .await
            .unwrap();
            assert_eq!((h.status, h.status_line.as_str()), (403, "HTTP/1.1 403 Verboten"));
            assert_eq!(h.header("via"), Some("1.1 p"));
            assert_eq!(h.header("x-a"), Some("1 folded"));
            // Not HTTP, no answer at all, a head past the cap: errors in words.
            let e = body_of(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", 100).await.unwrap_err();
            assert!(e.starts_with("malformed HTTP response"), "{e}");
            let e = body_of(b"", 100).await.unwrap_err();
            assert_eq!(e, "connection closed without a complete answer");
            let big: &'static [u8] = Box::leak(
                format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000)).into_bytes().into_boxed_slice(),
            );
            let e = body_of(big, 100).await.unwrap_err();
            assert!(e.contains("too large") || e.contains("malformed"), "{e}");
        });
    }

    /// The CONNECT answer is read to its blank line and not a byte further.
    #[test]
    fn connect_head_leaves_the_tunnel_bytes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut s: &[u8] = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n\x16\x03\x01";
            let h = read_connect_head(&mut s).await.unwrap();
            assert_eq!(h.status, 407);
            assert_eq!(h.header("proxy-authenticate"), Some("Basic realm=\"x\""));
            assert_eq!(s, b"\x16\x03\x01");
            let mut short: &[u8] = b"HTTP/1.1 200 Conn";
            let e = read_connect_head(&mut short).await.unwrap_err();
            assert!(e.contains("middle of the response head"), "{e}");
        });
    }
}
