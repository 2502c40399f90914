//! In-process loopback servers on their own tokio runtime (a background
//! thread pool owned by each server): the OCS stand-in (HTTPS), a plain HTTP
//! server for CRLs/AIA/CTL, a CONNECT proxy, a DNS server and a black hole.
//! Each binds 127.0.0.1:0 and stops when dropped (the runtime is shut down,
//! which closes every socket).

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::runtime::Runtime;

/// A request as a server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request target as sent (absolute-form when the server stood in for a proxy).
    pub target: String,
    /// Origin-form path (an absolute-form target is reduced to its path).
    pub path: String,
    pub host: Option<String>,
    pub via: Option<String>,
}

fn runtime() -> Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

/// A server's runtime, shut down when the server is dropped (which closes
/// every socket it holds).
struct Background(Option<Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

fn bind(rt: &Runtime) -> (TcpListener, SocketAddr) {
    let listener = match rt.block_on(TcpListener::bind("127.0.0.1:0")) {
        Ok(l) => l,
        Err(e) => panic!("bind 127.0.0.1:0: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("local_addr: {e}"),
    };
    (listener, addr)
}

/// Read one request head (bounded: 64 KiB, 5 s) and parse what the tests look at.
async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<Seen> {
    let text = read_raw_head(s).await?;
    let mut first = text.split("\r\n").next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let path = match target.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_owned(), |i| rest.get(i..).unwrap_or("/").to_owned()),
        None => target.clone(),
    };
    let header = |name: &str| {
        text.split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    Some(Seen {
        method,
        target,
        path,
        host: header("host"),
        via: header("via"),
    })
}

/// Accept one connection; on an error (e.g. out of descriptors) pause briefly
/// instead of spinning.
async fn accept(listener: &TcpListener) -> Option<TcpStream> {
    match listener.accept().await {
        Ok((tcp, _)) => Some(tcp),
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(20)).await;
            None
        }
    }
}

/// Serve every connection `listener` accepts with `handle`, each in a task
/// of its own, for as long as the runtime lives.
fn serve_each<F, Fut>(rt: &Runtime, listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    rt.spawn(async move {
        loop {
            if let Some(tcp) = accept(&listener).await {
                tokio::spawn(handle(tcp));
            }
        }
    });
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// What the OCS stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcsMode {
    /// 200 with the `<EOCS>` body and OCS's `X-OfficeCluster`/`X-OfficeFE` headers.
    Healthy,
    /// 403 with an HTML block page, as a filtering proxy or WAF would send.
    /// A filter that lists only the mitigation URL: GetExchangeConfig answers.
    BlockPage,
    /// The mitigations as `Healthy`, but GetExchangeConfig answers 503 (the
    /// other service on the host is down).
    ConfigDown,
}

pub const BLOCK_PAGE: &str = "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>\
<p>The requested URL https://officeclient.microsoft.com/getexchangemitigations is blocked by corporate policy \
(category: Uncategorized).</p></body></html>";

/// Synthetic: the answer of the Feature Flighting endpoint. Only its status
/// and OCS's front-end headers matter to the probe; the body is a stand-in
/// (the reference notes do not quote the real one).
pub const CONFIG_BODY: &str = "<ExchangeConfig><!-- synthetic test answer --></ExchangeConfig>";

/// What the stand-in answers to GetExchangeConfig in `mode`.
fn config_answer(mode: OcsMode) -> Vec<u8> {
    let office = [
        ("Server", "Microsoft-IIS/10.0"),
        ("X-OfficeFE", "ConfigFE_IN_15"),
        ("X-OfficeCluster", "eus2-config.officeapps.live.com"),
    ];
    match mode {
        OcsMode::Healthy | OcsMode::BlockPage => {
            let mut h = vec![("Content-Type", "application/xml; charset=utf-8")];
            h.extend(office);
            response("200 OK", &h, CONFIG_BODY.as_bytes())
        }
        OcsMode::ConfigDown => {
            let mut h = vec![("Content-Type", "text/html")];
            h.extend(office);
            response(
                "503 Service Unavailable",
                &h,
                b"<html><body>Service Unavailable</body></html>",
            )
        }
    }
}

/// The OCS stand-in: HTTPS on 127.0.0.1, presenting `chain` for officeclient.microsoft.com.
pub struct OcsServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _rt: Background,
}

impl OcsServer {
    pub fn start(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        body: String,
        mode: OcsMode,
    ) -> Self {
        Self::serve(chain, key, move |req| {
            if req.method == "GET" && req.path.eq_ignore_ascii_case(super::pki::CONFIG_PATH) {
                return config_answer(mode);
            }
            if req.method != "GET" || !req.path.eq_ignore_ascii_case(super::pki::OCS_PATH) {
                return response(
                    "404 Not Found",
                    &[("Content-Type", "text/plain")],
                    b"not found",
                );
            }
            match mode {
                OcsMode::Healthy | OcsMode::ConfigDown => response(
                    "200 OK",
                    &[
                        ("Content-Type", "application/xml; charset=utf-8"),
                        ("Cache-Control", "no-cache"),
                        ("Server", "Microsoft-IIS/10.0"),
                        ("X-OfficeFE", "ConfigFE_IN_15"),
                        ("X-OfficeVersion", "16.0.14527.30525"),
                        ("X-OfficeCluster", "eus2-config.officeapps.live.com"),
                    ],
                    body.as_bytes(),
                ),
                OcsMode::BlockPage => response(
                    "403 Forbidden",
                    &[
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Server", "BlueCoat-Security-Appliance"),
                    ],
                    BLOCK_PAGE.as_bytes(),
                ),
            }
        })
    }

    /// Answers every request with `reply`, a whole HTTP response as given
    /// (e.g. [`chunked_response`], or a malformed one).
    pub fn start_raw(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        reply: Vec<u8>,
    ) -> Self {
        Self::serve(chain, key, move |_| reply.clone())
    }

    fn serve(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        reply: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static,
    ) -> Self {
        let rt = runtime();
        let (listener, addr) = bind(&rt);
        let config = match rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
        {
            Ok(c) => c,
            Err(e) => panic!("rustls server config: {e}"),
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        let reply = Arc::new(reply);
        serve_each(&rt, listener, move |tcp| {
            let acceptor = acceptor.clone();
            let seen = Arc::clone(&seen2);
            let reply = Arc::clone(&reply);
            async move {
                let Ok(Ok(mut tls)) =
                    tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let Some(req) = read_head(&mut tls).await else {
                    return;
                };
                let reply = reply(&req);
                if let Ok(mut v) = seen.lock() {
                    v.push(req);
                }
                let _ = tls.write_all(&reply).await;
                let _ = tls.shutdown().await;
            }
        });
        OcsServer {
            addr,
            seen,
            _rt: Background(Some(rt)),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A plain HTTP server serving bytes per path (CRLs, AIA certificates, the CTL).
/// Unknown paths get 404; `set_all_404` makes every path 404.
pub struct HttpServer {
    pub addr: SocketAddr,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    all_404: Arc<Mutex<bool>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _rt: Background,
}

impl HttpServer {
    pub fn start() -> Self {
        let rt = runtime();
        let (listener, addr) = bind(&rt);
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let all_404 = Arc::new(Mutex::new(false));
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (f2, a2, s2) = (Arc::clone(&files), Arc::clone(&all_404), Arc::clone(&seen));
        serve_each(&rt, listener, move |mut tcp| {
            let (files, all_404, seen) = (Arc::clone(&f2), Arc::clone(&a2), Arc::clone(&s2));
            async move {
                let Some(req) = read_head(&mut tcp).await else {
                    return;
                };
                let deny = all_404.lock().map(|b| *b).unwrap_or(false);
                let hit = if deny {
                    None
                } else {
                    files.lock().ok().and_then(|f| f.get(&req.path).cloned())
                };
                let ctype = if req.path.ends_with(".crl") {
                    "application/pkix-crl"
                } else if req.path.ends_with(".crt") {
                    "application/pkix-cert"
                } else {
                    "application/octet-stream"
                };
                let reply = match hit {
                    Some(body) if req.method == "HEAD" => {
                        let mut r = response("200 OK", &[("Content-Type", ctype)], &body);
                        r.truncate(r.len() - body.len());
                        r
                    }
                    Some(body) => response("200 OK", &[("Content-Type", ctype)], &body),
                    None => response(
                        "404 Not Found",
                        &[("Content-Type", "text/plain")],
                        b"not found",
                    ),
                };
                if let Ok(mut v) = seen.lock() {
                    v.push(req);
                }
                let _ = tcp.write_all(&reply).await;
                let _ = tcp.shutdown().await;
            }
        });
        HttpServer {
            addr,
            files,
            all_404,
            seen,
            _rt: Background(Some(rt)),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn put(&self, path: &str, body: Vec<u8>) {
        if let Ok(mut f) = self.files.lock() {
            f.insert(path.to_owned(), body);
        }
    }

    pub fn put_all(&self, files: Vec<(String, Vec<u8>)>) {
        for (p, b) in files {
            self.put(&p, b);
        }
    }

    pub fn set_all_404(&self, on: bool) {
        if let Ok(mut b) = self.all_404.lock() {
            *b = on;
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Accepts connections and never answers (holds them open until dropped):
/// what a silently dropping firewall in front of a listening host looks like.
pub struct BlackHole {
    pub addr: SocketAddr,
    pub accepted: Arc<Mutex<usize>>,
    _rt: Background,
}

impl BlackHole {
    pub fn start() -> Self {
        let rt = runtime();
        let (listener, addr) = bind(&rt);
        let accepted = Arc::new(Mutex::new(0usize));
        let acc2 = Arc::clone(&accepted);
        rt.spawn(async move {
            let mut held: Vec<TcpStream> = Vec::new();
            loop {
                let Some(tcp) = accept(&listener).await else {
                    continue;
                };
                if let Ok(mut n) = acc2.lock() {
                    *n += 1;
                }
                // Bounded: a test opens a handful of connections at most.
                if held.len() < 1024 {
                    held.push(tcp);
                }
            }
        });
        BlackHole {
            addr,
            accepted,
            _rt: Background(Some(rt)),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn accepted(&self) -> usize {
        self.accepted.lock().map(|n| *n).unwrap_or(0)
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("bind: {e}"),
    }
}

/// A loopback UDP port nothing listens on (bound, then released).
pub fn closed_udp_port() -> u16 {
    match std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("bind: {e}"),
    }
}

/// A whole HTTP response with a chunked body (as IIS sends the mitigations).
pub fn chunked_response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n")
            .into_bytes();
    for (k, v) in headers {
        out.extend(format!("{k}: {v}\r\n").bytes());
    }
    out.extend(b"\r\n");
    for chunk in body.chunks(1000) {
        out.extend(format!("{:x}\r\n", chunk.len()).bytes());
        out.extend_from_slice(chunk);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\n\r\n");
    out
}

/// A minimal CONNECT proxy: tunnels to 127.0.0.1:<port> whatever the host,
/// after checking `Proxy-Authorization: Basic <auth>` when `auth` is given
/// (407 with a `Proxy-Authenticate` challenge otherwise). For the probe's own
/// tests; the integration tests use real squid.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    /// The request heads received, whole, in order.
    pub heads: Arc<Mutex<Vec<String>>>,
    _rt: Background,
}

impl ConnectProxy {
    pub fn start(auth: Option<String>) -> Self {
        let rt = runtime();
        let (listener, addr) = bind(&rt);
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let heads2 = Arc::clone(&heads);
        serve_each(&rt, listener, move |mut tcp| {
            let (heads, auth) = (Arc::clone(&heads2), auth.clone());
            async move {
                let Some(head) = read_raw_head(&mut tcp).await else {
                    return;
                };
                if let Ok(mut v) = heads.lock() {
                    v.push(head.clone());
                }
                if let Some(a) = auth
                    && !head.contains(&format!("Proxy-Authorization: Basic {a}\r\n"))
                {
                    let deny = "HTTP/1.1 407 Proxy Authentication Required\r\n\
                                    Proxy-Authenticate: Basic realm=\"eems test\"\r\n\
                                    Content-Length: 0\r\n\r\n";
                    let _ = tcp.write_all(deny.as_bytes()).await;
                    return;
                }
                let authority = head.split(' ').nth(1).unwrap_or_default();
                let port: u16 = authority
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(443);
                let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)).await else {
                    let _ = tcp.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = tcp
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut upstream).await;
            }
        });
        ConnectProxy {
            addr,
            heads,
            _rt: Background(Some(rt)),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// One request head as text (bounded: 64 KiB, 5 s).
async fn read_raw_head<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let fut = async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65_536 {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        true
    };
    match tokio::time::timeout(Duration::from_secs(5), fut).await {
        Ok(true) => Some(String::from_utf8_lossy(&buf).into_owned()),
        _ => None,
    }
}

/// A minimal DNS server on UDP: every query gets `rcode`; A queries also get
/// `a` when given (AAAA queries then get an empty NOERROR answer: NODATA).
/// For the probe's own tests; the integration tests use real dnsmasq.
pub struct DnsStub {
    pub addr: SocketAddr,
    _rt: Background,
}

impl DnsStub {
    pub fn start(rcode: u8, a: Option<Ipv4Addr>) -> Self {
        let rt = runtime();
        let sock = match rt.block_on(UdpSocket::bind("127.0.0.1:0")) {
            Ok(s) => s,
            Err(e) => panic!("bind udp 127.0.0.1:0: {e}"),
        };
        let addr = match sock.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("local_addr: {e}"),
        };
        rt.spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
                if let Some(r) = dns_answer(buf.get(..n).unwrap_or_default(), rcode, a) {
                    let _ = sock.send_to(&r, peer).await;
                }
            }
        });
        DnsStub {
            addr,
            _rt: Background(Some(rt)),
        }
    }
}

/// The answer to query `q`, or `None` when it is too short to answer.
fn dns_answer(q: &[u8], rcode: u8, a: Option<Ipv4Addr>) -> Option<Vec<u8>> {
    // Question: QNAME labels, then QTYPE and QCLASS.
    let mut i = 12;
    while i < q.len() && q.get(i) != Some(&0) {
        i += 1 + usize::from(*q.get(i)?);
    }
    let question = q.get(12..i + 5)?;
    let qtype = u16::from_be_bytes([*q.get(i + 1)?, *q.get(i + 2)?]);
    let answer = a.filter(|_| qtype == 1 && rcode == 0);
    let mut r = vec![
        *q.first()?,
        *q.get(1)?,
        0x81,
        0x80 | rcode,
        0,
        1,
        0,
        u8::from(answer.is_some()),
        0,
        0,
        0,
        0,
    ];
    r.extend_from_slice(question);
    if let Some(ip) = answer {
        r.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        r.extend(ip.octets());
    }
    Some(r)
}
