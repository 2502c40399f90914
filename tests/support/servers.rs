//! In-process loopback servers on their own tokio runtime (a background
//! thread pool owned by each server): the OCS stand-in (HTTPS), a plain HTTP
//! server for CRLs/AIA/CTL, and a black hole. Each binds 127.0.0.1:0 and stops
//! when dropped (the runtime is shut down, which closes every socket).

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// A request as a server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
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
    if !matches!(
        tokio::time::timeout(Duration::from_secs(5), fut).await,
        Ok(true)
    ) {
        return None;
    }
    let text = String::from_utf8_lossy(&buf);
    let mut first = text.split("\r\n").next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let path = match target.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_owned(), |i| rest.get(i..).unwrap_or("/").to_owned()),
        None => target,
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
    BlockPage,
}

pub const BLOCK_PAGE: &str = "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>\
<p>The requested URL https://officeclient.microsoft.com/getexchangemitigations is blocked by corporate policy \
(category: Uncategorized).</p></body></html>";

/// The OCS stand-in: HTTPS on 127.0.0.1, presenting `chain` for officeclient.microsoft.com.
pub struct OcsServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    rt: Option<Runtime>,
}

impl OcsServer {
    pub fn start(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        body: String,
        mode: OcsMode,
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
        let body = Arc::new(body);
        rt.spawn(async move {
            loop {
                let Some(tcp) = accept(&listener).await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let seen = Arc::clone(&seen2);
                let body = Arc::clone(&body);
                tokio::spawn(async move {
                    let Ok(Ok(mut tls)) =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let Some(req) = read_head(&mut tls).await else {
                        return;
                    };
                    let reply = if req.method != "GET"
                        || !req.path.eq_ignore_ascii_case(super::pki::OCS_PATH)
                    {
                        response(
                            "404 Not Found",
                            &[("Content-Type", "text/plain")],
                            b"not found",
                        )
                    } else {
                        match mode {
                            OcsMode::Healthy => response(
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
                    };
                    if let Ok(mut v) = seen.lock() {
                        v.push(req);
                    }
                    let _ = tls.write_all(&reply).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        OcsServer {
            addr,
            seen,
            rt: Some(rt),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for OcsServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A plain HTTP server serving bytes per path (CRLs, AIA certificates, the CTL).
/// Unknown paths get 404; `set_all_404` makes every path 404.
pub struct HttpServer {
    pub addr: SocketAddr,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    all_404: Arc<Mutex<bool>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    rt: Option<Runtime>,
}

impl HttpServer {
    pub fn start() -> Self {
        let rt = runtime();
        let (listener, addr) = bind(&rt);
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let all_404 = Arc::new(Mutex::new(false));
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (f2, a2, s2) = (Arc::clone(&files), Arc::clone(&all_404), Arc::clone(&seen));
        rt.spawn(async move {
            loop {
                let Some(mut tcp) = accept(&listener).await else {
                    continue;
                };
                let (files, all_404, seen) = (Arc::clone(&f2), Arc::clone(&a2), Arc::clone(&s2));
                tokio::spawn(async move {
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
                });
            }
        });
        HttpServer {
            addr,
            files,
            all_404,
            seen,
            rt: Some(rt),
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

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// Accepts connections and never answers (holds them open until dropped):
/// what a silently dropping firewall in front of a listening host looks like.
pub struct BlackHole {
    pub addr: SocketAddr,
    pub accepted: Arc<Mutex<usize>>,
    rt: Option<Runtime>,
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
            rt: Some(rt),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn accepted(&self) -> usize {
        self.accepted.lock().map(|n| *n).unwrap_or(0)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("bind: {e}"),
    }
}
