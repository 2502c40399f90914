//! `eems-doctor probe` against real servers on loopback: an OCS stand-in
//! (rustls), a CRL/AIA/CTL server, real squid proxies (CONNECT-only, basic
//! auth, ssl_bump interception), a real dnsmasq and a black hole.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::pki::{self, CrlOf, Pki};
use support::servers::{BlackHole, HttpServer, OcsMode, OcsServer};
use support::squid::{Mode, Squid};

/// Scenarios run one at a time: their wall times are measurements, and the
/// timeout bound must not be blurred by a neighbour's squid start on 2 cores.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The loopback world most scenarios share: a CRL/AIA/CTL server, the PKI
/// whose CDP/AIA URLs point at it, and the OCS stand-in.
struct World {
    http: HttpServer,
    pki: Pki,
    ocs: OcsServer,
}

impl World {
    fn new(mode: OcsMode) -> World {
        let http = HttpServer::start();
        let pki = Pki::new(&http.base_url());
        http.put_all(pki.http_files());
        let ocs = OcsServer::start(pki.server_chain(), pki.server_key(), pki.eocs_body(), mode);
        World { http, pki, ocs }
    }

    fn ocs_url(&self) -> String {
        format!(
            "https://{}:{}{}",
            pki::OCS_HOST,
            self.ocs.port(),
            pki::OCS_PATH
        )
    }

    fn resolve(&self) -> String {
        format!("{}:{}:127.0.0.1", pki::OCS_HOST, self.ocs.port())
    }
}

/// One HTTP exchange; returns the head and (for non-CONNECT) the body.
/// Stops at Content-Length: proxies keep the connection alive.
fn raw_http(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            if request.starts_with("CONNECT") && out.starts_with(b"HTTP/1.1 200") {
                break;
            }
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if out.len() >= end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// TLS to the OCS stand-in (optionally through a CONNECT tunnel) trusting
/// `roots`; returns (handshake result, presented chain).
fn tls_probe(
    connect_port: u16,
    via_proxy: bool,
    ocs_port: u16,
    roots: &Pki,
) -> (
    Result<(), String>,
    Vec<rustls_pki_types::CertificateDer<'static>>,
) {
    let mut tcp = TcpStream::connect(("127.0.0.1", connect_port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if via_proxy {
        let req = format!(
            "CONNECT {h}:{ocs_port} HTTP/1.1\r\nHost: {h}:{ocs_port}\r\n\r\n",
            h = pki::OCS_HOST
        );
        tcp.write_all(req.as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(tcp.read(&mut b).unwrap(), 1, "proxy closed during CONNECT");
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 200"), "CONNECT: {head}");
    }
    let mut store = rustls::RootCertStore::empty();
    store.add(roots.tls_root.der()).unwrap();
    let recorder = Arc::new(Recorder {
        inner: rustls::client::WebPkiServerVerifier::builder(Arc::new(store))
            .build()
            .unwrap(),
        chain: Mutex::default(),
    });
    let cfg = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(pki::OCS_HOST).unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let mut result = Ok(());
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            result = Err(e.to_string());
            break;
        }
    }
    let chain = recorder.chain.lock().unwrap().clone();
    if result.is_ok() {
        let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            pki::OCS_PATH,
            pki::OCS_HOST
        );
        tls.write_all(req.as_bytes()).unwrap();
        let mut body = Vec::new();
        let _ = tls.read_to_end(&mut body);
        let body = String::from_utf8_lossy(&body);
        if !body.starts_with("HTTP/1.1 200") {
            result = Err(format!("GET: {}", body.lines().next().unwrap_or("")));
        }
    }
    (result, chain)
}

/// Records the presented chain (rustls keeps none when validation fails), then
/// lets the standard verifier decide.
#[derive(Debug)]
struct Recorder {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    chain: Mutex<Vec<rustls_pki_types::CertificateDer<'static>>>,
}

impl rustls::client::danger::ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        server_name: &rustls_pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let mut c = vec![end_entity.clone().into_owned()];
        c.extend(intermediates.iter().map(|i| i.clone().into_owned()));
        *self.chain.lock().unwrap() = c;
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls_pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls_pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn issuer_of(der: &[u8]) -> String {
    let (_, c) = x509_parser::parse_x509_certificate(der).unwrap();
    c.issuer().to_string()
}

fn pgrep(pattern: &str) -> Vec<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-a", "-f", pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------
// The infrastructure on its own: servers start, answer, and are reaped.
// ---------------------------------------------------------------------------

#[test]
fn infra_pki_and_servers_answer() {
    let _g = serial();
    let w = World::new(OcsMode::Healthy);
    // The leaf is real and carries the loopback CDP/AIA and two SCTs.
    let (_, leaf) = x509_parser::parse_x509_certificate(&w.pki.leaf.der).unwrap();
    assert_eq!(
        leaf.subject().to_string(),
        "C=US, ST=WA, L=Redmond, O=Microsoft Corporation, CN=officeclient.microsoft.com"
    );
    assert_eq!(
        leaf.issuer().to_string(),
        "C=US, O=Microsoft Corporation, CN=Microsoft Azure RSA TLS Issuing CA 04"
    );
    let mut crl_urls = Vec::new();
    let mut aia = Vec::new();
    let mut scts = 0;
    for ext in leaf.extensions() {
        match ext.parsed_extension() {
            x509_parser::extensions::ParsedExtension::CRLDistributionPoints(c) => {
                for p in c.iter() {
                    if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                        &p.distribution_point
                    {
                        crl_urls.extend(names.iter().map(|n| n.to_string()));
                    }
                }
            }
            x509_parser::extensions::ParsedExtension::AuthorityInfoAccess(a) => {
                aia.extend(a.accessdescs.iter().map(|d| d.access_location.to_string()));
            }
            x509_parser::extensions::ParsedExtension::SCT(list) => scts = list.len(),
            _ => {}
        }
    }
    assert_eq!(
        crl_urls,
        vec![format!("URI({}{})", w.http.base_url(), pki::LEAF_CRL_PATH)]
    );
    assert_eq!(aia.len(), 2, "{aia:?}");
    assert_eq!(scts, 2);
    // The EOCS body embeds the real signing chain.
    let body = w.pki.eocs_body();
    assert!(body.contains("<EOCS version=\"1.0.4\"><Config id=\"PING1\""));
    assert!(body.contains(&pki::pem_base64(&w.pki.signer.pem)));
    // CRLs parse, and the revoking one lists the leaf.
    let revoking = w.pki.crl_revoking_leaf();
    let (_, crl) = x509_parser::parse_x509_crl(&revoking).unwrap();
    assert_eq!(
        crl.iter_revoked_certificates().next().unwrap().raw_serial(),
        &pki::LEAF_SERIAL
    );
    let expired = w.pki.crl_expired(CrlOf::SigningPca);
    let (_, crl) = x509_parser::parse_x509_crl(&expired).unwrap();
    assert!(crl.next_update().unwrap().timestamp() < chrono::Utc::now().timestamp());

    // HTTP server: files, 404s, the switch.
    let r = raw_http(
        w.http.port(),
        &format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", pki::LEAF_CRL_PATH),
    );
    assert!(r.starts_with("HTTP/1.1 200 OK"), "{r}");
    assert!(
        raw_http(w.http.port(), "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            .starts_with("HTTP/1.1 404")
    );
    w.http.set_all_404(true);
    assert!(
        raw_http(
            w.http.port(),
            &format!("GET {} HTTP/1.1\r\n\r\n", pki::CTL_PATH)
        )
        .starts_with("HTTP/1.1 404")
    );

    // OCS stand-in: the chain validates for officeclient.microsoft.com against the test root.
    let (res, chain) = tls_probe(w.ocs.port(), false, w.ocs.port(), &w.pki);
    assert_eq!(res, Ok(()));
    assert_eq!(chain.len(), 2);
    assert_eq!(w.ocs.requests()[0].path, pki::OCS_PATH);

    // Black hole: accepts, never answers.
    let bh = BlackHole::start();
    let mut s = TcpStream::connect(bh.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let t = Instant::now();
    let mut b = [0u8; 1];
    assert!(s.read(&mut b).is_err(), "black hole answered");
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert_eq!(bh.accepted(), 1);
    let port = bh.port();
    drop(bh);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "black hole still listening after drop"
    );
}

#[test]
fn infra_squid_modes_and_reaping() {
    let _g = serial();
    let w = World::new(OcsMode::Healthy);
    let hosts = [pki::OCS_HOST];

    let t = Instant::now();
    let a = Squid::start(
        Mode::ConnectOnly {
            connect_ports: vec![w.ocs.port()],
        },
        &hosts,
    );
    eprintln!("squid (CONNECT only) ready in {:?}", t.elapsed());
    let r = raw_http(
        a.port,
        &format!(
            "GET {}{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            w.http.base_url(),
            pki::LEAF_CRL_PATH
        ),
    );
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("ERR_ACCESS_DENIED"), "{r}");
    let (res, _) = tls_probe(a.port, true, w.ocs.port(), &w.pki);
    assert_eq!(res, Ok(()), "{}", a.cache_log());

    let b = Squid::start(
        Mode::BasicAuth {
            user: "user".into(),
            password: "secret".into(),
        },
        &hosts,
    );
    let t = Instant::now();
    let r = raw_http(
        b.port,
        &format!(
            "CONNECT {}:{} HTTP/1.1\r\n\r\n",
            pki::OCS_HOST,
            w.ocs.port()
        ),
    );
    assert!(r.starts_with("HTTP/1.1 407"), "{r}");
    assert!(
        r.contains("Proxy-Authenticate: Basic realm=\"eems-test-proxy\""),
        "{r}"
    );
    // With credentials the tunnel opens. (user:secret in base64)
    let r = raw_http(
        b.port,
        &format!(
            "CONNECT {}:{} HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n",
            pki::OCS_HOST,
            w.ocs.port()
        ),
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}\n{}", b.cache_log());

    let (ca, key) = pki::vendor_ca(
        "Zscaler Intermediate Root CA (zscalerthree.net) (t)",
        "Zscaler Inc.",
        Some("Zscaler Inc."),
    );
    let t = Instant::now();
    let c = Squid::start(
        Mode::Bump {
            ca_cert_pem: ca,
            ca_key_pem: key,
            upstream_ca: w.pki.tls_root_pem(),
        },
        &hosts,
    );
    eprintln!("squid (ssl_bump) ready in {:?}", t.elapsed());
    let t = Instant::now();
    let (res, chain) = tls_probe(c.port, true, w.ocs.port(), &w.pki);
    eprintln!("bumped handshake in {:?}", t.elapsed());
    assert!(
        res.is_err(),
        "the forged chain must not validate against the test root"
    );
    assert!(
        issuer_of(&chain[0]).contains("Zscaler Intermediate Root CA"),
        "{}\n{}",
        issuer_of(&chain[0]),
        c.cache_log()
    );
    let (_, forged) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let san = forged
        .subject_alternative_name()
        .unwrap()
        .expect("forged leaf without SAN");
    assert!(format!("{:?}", san.value).contains(pki::OCS_HOST));

    let name = c.name.clone();
    let ports = [a.port, b.port, c.port];
    drop((a, b, c));
    for p in ports {
        assert!(
            TcpStream::connect(("127.0.0.1", p)).is_err(),
            "squid still listening on {p}"
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    let left = pgrep(&name);
    assert!(left.is_empty(), "stray squid processes: {left:?}");
    let helpers: Vec<String> = pgrep("security_file_certgen|basic_ncsa_auth")
        .into_iter()
        .filter(|l| l.contains("eems-squid-"))
        .collect();
    assert!(helpers.is_empty(), "stray squid helpers: {helpers:?}");
}

#[test]
fn infra_dnsmasq_answers_and_nxdomain() {
    let _g = serial();
    let t = Instant::now();
    let d = support::dns::Dnsmasq::start(&[(pki::OCS_HOST, std::net::Ipv4Addr::LOCALHOST)]);
    eprintln!("dnsmasq ready in {:?}", t.elapsed());
    let dig = |name: &str| -> (u8, Vec<u8>) {
        // A minimal A query over UDP.
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        sock.send_to(&q, ("127.0.0.1", d.port)).unwrap();
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        (buf[3] & 0x0f, buf[..n].to_vec())
    };
    let (rcode, answer) = dig(pki::OCS_HOST);
    assert_eq!(rcode, 0);
    assert!(answer.ends_with(&[127, 0, 0, 1]), "{answer:?}");
    assert_eq!(dig("nothing.example.invalid").0, 3, "NXDOMAIN expected");
    let pid_port = d.port;
    drop(d);
    assert!(TcpStream::connect(("127.0.0.1", pid_port)).is_err());
}
