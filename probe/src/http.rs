//! HTTP for the probe. The plain downloads (CRL, AIA, CTL) go through
//! reqwest; this module turns its answers into the probe's facts
//! (`response_head`, `read_capped`, `request_words`). The CONNECT answer and
//! the OCS request run over a connection the probe opened and recorded itself
//! (the tunnel, the TLS chain whatever the verdict), so they use the small
//! client here: one request per connection (`Connection: close`), heads
//! parsed by httparse, bodies read with Content-Length, chunked transfer
//! coding or until EOF, always capped. Callers bound every call with a
//! timeout; every loop here ends at a cap or EOF.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Longest response head accepted (status line + headers).
const MAX_HEAD: usize = 64 * 1024;
const MAX_LINE: usize = 8 * 1024;

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

/// A reader with a small buffer of bytes already received.
pub struct BufStream<S> {
    pub inner: S,
    buf: Vec<u8>,
    pos: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> BufStream<S> {
    pub fn new(inner: S) -> Self {
        BufStream {
            inner,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Read more; `Ok(false)` at EOF.
    async fn fill(&mut self) -> Result<bool, String> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = self
            .inner
            .read(&mut chunk)
            .await
            .map_err(|e| io_words(&e))?;
        self.buf
            .extend_from_slice(chunk.get(..n).unwrap_or_default());
        Ok(n > 0)
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// The response head, up to and including the blank line. With
    /// `exact`, reads one byte at a time so nothing after the head is consumed
    /// (a CONNECT tunnel's first TLS bytes must stay in the socket).
    pub async fn read_head(&mut self, exact: bool) -> Result<ResponseHead, String> {
        let mut head: Vec<u8> = Vec::new();
        loop {
            if exact {
                let mut b = [0u8; 1];
                let n = self.inner.read(&mut b).await.map_err(|e| io_words(&e))?;
                if n == 0 {
                    return Err(eof_during_head(&head));
                }
                head.push(b[0]);
            } else {
                if self.pending().is_empty() && !self.fill().await? {
                    return Err(eof_during_head(&head));
                }
                let take = self.pending().len();
                head.extend_from_slice(self.pending());
                self.pos += take;
            }
            if let Some(end) = find_head_end(&head) {
                if !exact {
                    // Give back what belongs to the body.
                    let extra = head.split_off(end);
                    let rest = self.pending().to_vec();
                    self.buf = extra;
                    self.buf.extend_from_slice(&rest);
                    self.pos = 0;
                }
                return parse_head(&head);
            }
            if head.len() > MAX_HEAD {
                return Err(format!("response head longer than {} KiB", MAX_HEAD / 1024));
            }
        }
    }

    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.pending().iter().position(|b| *b == b'\n') {
                let line = String::from_utf8_lossy(self.pending().get(..i).unwrap_or_default())
                    .into_owned();
                self.pos += i + 1;
                return Ok(line.trim_end_matches('\r').to_owned());
            }
            if self.pending().len() > MAX_LINE {
                return Err("chunk header line too long".into());
            }
            if !self.fill().await? {
                return Err("connection closed inside a chunked body".into());
            }
        }
    }

    /// Append up to `n` bytes to `out` (stopping at `cap` total); returns whether EOF came first.
    async fn read_n(&mut self, mut n: u64, out: &mut Vec<u8>, cap: usize) -> Result<bool, String> {
        while n > 0 {
            if self.pending().is_empty() && !self.fill().await? {
                return Ok(true);
            }
            let avail = self
                .pending()
                .len()
                .min(usize::try_from(n).unwrap_or(usize::MAX));
            let room = cap.saturating_sub(out.len()).min(avail);
            out.extend_from_slice(self.pending().get(..room).unwrap_or_default());
            self.pos += avail;
            n -= u64::try_from(avail).unwrap_or(n);
            if out.len() >= cap {
                return Ok(false);
            }
        }
        Ok(false)
    }
}

fn eof_during_head(head: &[u8]) -> String {
    if head.is_empty() {
        "connection closed without an answer".into()
    } else {
        "connection closed in the middle of the response head".into()
    }
}

fn find_head_end(b: &[u8]) -> Option<usize> {
    if let Some(i) = b.windows(4).position(|w| w == b"\r\n\r\n") {
        return Some(i + 4);
    }
    b.windows(2).position(|w| w == b"\n\n").map(|i| i + 2)
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

/// Read the body that follows `head`. Never reads more than `cap` bytes into memory;
/// stops reading the socket once the cap is reached.
pub async fn read_body<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufStream<S>,
    head: &ResponseHead,
    cap: usize,
) -> Body {
    let mut body = Body::default();
    if head.status < 200 || head.status == 204 || head.status == 304 {
        return body;
    }
    let chunked = head
        .headers_named("transfer-encoding")
        .any(|v| v.to_ascii_lowercase().contains("chunked"));
    let result: Result<(), String> = if chunked {
        read_chunked(s, &mut body, cap).await
    } else if let Some(len) = head
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        match s.read_n(len, &mut body.data, cap).await {
            Ok(true) => Err(format!(
                "connection closed after {} of {len} bytes",
                body.data.len()
            )),
            Ok(false) => {
                body.truncated = len > u64::try_from(cap).unwrap_or(u64::MAX);
                Ok(())
            }
            Err(e) => Err(e),
        }
    } else {
        match s.read_n(u64::MAX, &mut body.data, cap).await {
            Ok(eof) => {
                body.truncated = !eof;
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Err(e) = result {
        body.error = Some(e);
    }
    body
}

async fn read_chunked<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufStream<S>,
    body: &mut Body,
    cap: usize,
) -> Result<(), String> {
    loop {
        let line = s.read_line().await?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size `{}`", clean_text(&line)))?;
        if size == 0 {
            // Trailers, then the blank line; a server that just closes is fine too.
            for _ in 0..64 {
                match s.read_line().await {
                    Ok(l) if !l.is_empty() => continue,
                    _ => break,
                }
            }
            return Ok(());
        }
        if s.read_n(size, &mut body.data, cap).await? {
            return Err("connection closed inside a chunk".into());
        }
        if body.data.len() >= cap {
            body.truncated = true;
            return Ok(());
        }
        s.read_line().await?;
    }
}

/// One GET over `stream` (a connection the probe opened: the TLS stream,
/// the tunnel, or plain TCP): the head and the body, at most `cap` bytes.
/// Unbounded in time: callers bound it.
pub async fn get<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    target: &str,
    host_header: &str,
    proxy_auth: Option<&str>,
    cap: usize,
) -> Result<(ResponseHead, Body), String> {
    let mut bs = BufStream::new(stream);
    write_get(&mut bs.inner, target, host_header, proxy_auth).await?;
    let head = bs.read_head(false).await?;
    let body = read_body(&mut bs, &head, cap).await;
    Ok((head, body))
}

/// Write a GET. `target` is origin-form (`/path?q`) or, to a proxy, absolute-form.
pub async fn write_get<S: AsyncWrite + Unpin>(
    s: &mut S,
    target: &str,
    host_header: &str,
    proxy_auth: Option<&str>,
) -> Result<(), String> {
    let mut req = format!(
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: eems-doctor/{}\r\nAccept: */*\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(a) = proxy_auth {
        req.push_str(&format!("Proxy-Authorization: Basic {a}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| io_words(&e))?;
    s.flush().await.map_err(|e| io_words(&e))
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

/// The head of a reqwest response as the probe records it: the status line
/// as sent (hyper keeps a reason phrase that is not the standard one), and
/// the headers (names lower case, as hyper gives them).
pub fn response_head(r: &reqwest::Response) -> ResponseHead {
    let status = r.status();
    let reason = match r.extensions().get::<hyper::ext::ReasonPhrase>() {
        Some(p) => clean_text(&String::from_utf8_lossy(p.as_bytes())),
        None => status.canonical_reason().unwrap_or_default().to_owned(),
    };
    let status_line = clean_text(&format!("{:?} {} {reason}", r.version(), status.as_u16()));
    let headers = r
        .headers()
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

    async fn body_of(raw: &'static [u8], cap: usize) -> (ResponseHead, Body) {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            server.write_all(raw).await.unwrap();
        });
        let mut s = BufStream::new(&mut client);
        let head = s.read_head(false).await.unwrap();
        let body = read_body(&mut s, &head, cap).await;
        (head, body)
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
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 100).await;
            assert_eq!((b.data.as_slice(), b.truncated, b.error.is_none()), (&b"hello"[..], false, true));
            let (_, b) = body_of(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n",
                100,
            )
            .await;
            assert_eq!(b.data, b"hello world");
            assert!(b.error.is_none());
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4).await;
            assert_eq!((b.data.as_slice(), b.truncated), (&b"0123"[..], true));
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012", 100).await;
            assert!(b.error.unwrap().contains("3 of 10"));
            let (_, b) = body_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100).await;
            assert!(b.error.unwrap().contains("bad chunk size"));
        });
    }
}
