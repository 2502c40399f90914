//! `eems-doctor probe` against real servers on loopback: an OCS stand-in
//! (rustls), a CRL/AIA/CTL server, real squid proxies (CONNECT-only, basic
//! auth, ssl_bump interception), a real dnsmasq and a black hole.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod support;

use eems_testkit::pki::{self, CrlOf, Pki};
use eems_testkit::servers::{BlackHole, HttpServer, OcsMode, OcsServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
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
        World::answering(mode, Pki::eocs_body)
    }

    /// The world with another `<EOCS>` answer (tampered, signed by another key).
    fn answering(mode: OcsMode, body: fn(&Pki) -> String) -> World {
        let http = HttpServer::start();
        let pki = Pki::new(&http.base_url());
        http.put_all(pki.http_files());
        let ocs = OcsServer::start(pki.server_chain(), pki.server_key(), body(&pki), mode);
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
    if !support::lab("squid, procps") {
        return;
    }
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
    if !support::lab("dnsmasq") {
        return;
    }
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

// ---------------------------------------------------------------------------
// Scenarios: the real binary against the loopback world.
// ---------------------------------------------------------------------------

/// Finding ids the probe can produce (issue 4's catalog).
const PROBE_FINDINGS: &[&str] = &[
    "ocs-dns-failure",
    "ocs-unreachable",
    "proxy-auth-required",
    "tls-protocol-failure",
    "tls-interception",
    "tls-chain-untrusted",
    "ocs-http-error",
    "xml-signature-invalid",
    "crl-unreachable",
    "ctl-unreachable",
];

/// `probe --format json --timeout T --ocs-url … --ca-file … --ctl-url …` plus `extra`.
fn probe_args(w: &World, timeout: &str, extra: &[String]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "probe".into(),
        "--format".into(),
        "json".into(),
        "--timeout".into(),
        timeout.into(),
        "--ocs-url".into(),
        w.ocs_url(),
        "--ca-file".into(),
        w.pki.ca_file().display().to_string(),
        "--ctl-url".into(),
        w.pki.ctl_url(),
    ];
    a.extend(expected_issuers(w));
    a.extend_from_slice(extra);
    a
}

fn s(x: impl ToString) -> String {
    x.to_string()
}

/// Give `flag` (already in `args`) the value `value`.
fn set_flag(args: &mut [String], flag: &str, value: &str) {
    let i = args.iter().position(|a| a == flag).unwrap() + 1;
    args[i] = value.to_owned();
}

/// The usual arguments, with the OCS URL on `port` of 127.0.0.1, where nothing listens.
fn to_closed_ocs_port(w: &World, port: u16) -> Vec<String> {
    let mut args = probe_args(
        w,
        "3",
        &[
            s("--resolve"),
            format!("{}:{port}:127.0.0.1", pki::OCS_HOST),
        ],
    );
    let url = format!("https://{}:{port}{}", pki::OCS_HOST, pki::OCS_PATH);
    set_flag(&mut args, "--ocs-url", &url);
    args
}

/// One probe run with its figures printed for BENCHMARKS.md.
fn run_probe(scenario: &str, args: &[String]) -> (support::Run, serde_json::Value) {
    let run = support::doctor(args);
    eprintln!(
        "SCENARIO {scenario}: probe wall {} ms (exit {:?})",
        run.wall.as_millis(),
        run.status.code()
    );
    let v = run.json();
    (run, v)
}

/// The flag that extends the expected-issuer table at run time.
///
/// The test PKI carries Microsoft's CA names on its own keys, which the
/// checks rightly call interception ("a chain with Microsoft's names but other
/// keys is interception too"). A healthy run therefore needs the test CAs
/// added to the expected set, in the checks' `tls-expected-issuers.csv`
/// layout. Proposed name; not wired into `probe` yet (see the report).
const TLS_ISSUERS_FLAG: &str = "--tls-issuers";

fn binary_knows_tls_issuers() -> bool {
    static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KNOWN.get_or_init(|| {
        support::doctor(&[s("probe"), s("--help")])
            .stdout
            .contains(TLS_ISSUERS_FLAG)
    })
}

/// `--tls-issuers FILE` when the binary has it.
fn expected_issuers(w: &World) -> Vec<String> {
    if binary_knows_tls_issuers() {
        vec![
            s(TLS_ISSUERS_FLAG),
            w.pki.expected_issuers_file().display().to_string(),
        ]
    } else {
        eprintln!(
            "TODO(tls-issuers): `probe {TLS_ISSUERS_FLAG} FILE` does not exist yet: the test PKI's \
             Microsoft-named CAs are judged as forged (tls-interception)"
        );
        Vec::new()
    }
}

/// A healthy run needs the expected-issuer override: fail loudly without it.
fn require_expected_issuers(w: &World) -> Vec<String> {
    assert!(
        binary_knows_tls_issuers(),
        "this scenario needs `eems-doctor probe {TLS_ISSUERS_FLAG} FILE` (extra expected issuers, \
         checks' tls-expected-issuers.csv layout): without it the test PKI's Microsoft names on \
         other keys are reported as tls-interception, so no loopback run can be healthy"
    );
    expected_issuers(w)
}

/// The probe findings are exactly `expected` (plus, until the override
/// exists, the forged-name interception the test PKI causes).
fn assert_probe_findings(v: &serde_json::Value, expected: &[&str]) {
    let mut want: Vec<String> = expected.iter().map(s).collect();
    if !binary_knows_tls_issuers()
        && server(v)["findings"].as_array().is_some_and(|f| {
            f.iter().any(|x| {
                x["id"] == "tls-interception" && x["detail"].to_string().contains("another key")
            })
        })
    {
        want.push(s("tls-interception"));
    }
    want.sort();
    want.dedup();
    let got: Vec<String> = finding_ids(v)
        .into_iter()
        .filter(|i| PROBE_FINDINGS.contains(&i.as_str()))
        .collect();
    assert_eq!(got, want, "probe findings\n  {}", steps_summary(v));
}

fn server(v: &serde_json::Value) -> &serde_json::Value {
    &v["servers"][0]
}

fn finding_ids(v: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = server(v)["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn finding<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let found = server(v)["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|x| x["id"] == id));
    match found {
        Some(f) => f,
        None => panic!(
            "finding `{id}` missing; findings: {:?}\nprobes steps: {}",
            finding_ids(v),
            steps_summary(v)
        ),
    }
}

/// The `probes` object of the JSON report (the ProbeReport, facts only).
fn probes(v: &serde_json::Value) -> &serde_json::Value {
    let p = &server(v)["probes"];
    assert!(
        p.is_object(),
        "servers[0].probes missing from the JSON report:\n{v:#}"
    );
    p
}

fn steps(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    probes(v)["steps"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The GetExchangeConfig step (there is exactly one).
fn config_step(v: &serde_json::Value) -> &serde_json::Value {
    let all: Vec<_> = steps(v)
        .into_iter()
        .filter(|s| s["kind"] == "ocs-config")
        .collect();
    assert_eq!(all.len(), 1, "ocs-config steps:\n  {}", steps_summary(v));
    assert!(
        all[0]["target"]
            .as_str()
            .is_some_and(|t| t.ends_with(pki::CONFIG_PATH)),
        "{:#}",
        all[0]
    );
    all[0]
}

/// How many requests for `path` the OCS stand-in answered.
fn ocs_requests(w: &World, path: &str) -> usize {
    w.ocs.requests().iter().filter(|r| r.path == path).count()
}

fn steps_summary(v: &serde_json::Value) -> String {
    server(v)["probes"]["steps"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    format!(
                        "{} {} {} {}",
                        s["kind"], s["target"], s["outcome"], s["reason"]
                    )
                })
                .collect::<Vec<_>>()
                .join("\n  ")
        })
        .unwrap_or_else(|| "(no probes.steps)".into())
}

/// The first step of `kind` that failed or timed out.
fn failing<'a>(v: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    let found = steps(v)
        .into_iter()
        .find(|s| s["kind"] == kind && (s["outcome"] == "failed" || s["outcome"] == "timed-out"));
    match found {
        Some(s) => s,
        None => panic!("no failing `{kind}` step:\n  {}", steps_summary(v)),
    }
}

fn assert_no_failing_steps(v: &serde_json::Value) {
    let bad: Vec<_> = steps(v)
        .into_iter()
        .filter(|s| s["outcome"] == "failed" || s["outcome"] == "timed-out")
        .collect();
    assert!(bad.is_empty(), "failing steps:\n  {}", steps_summary(v));
}

/// The genuine test chain was recorded with its details.
fn assert_genuine_chain(v: &serde_json::Value, w: &World) {
    let tls = &probes(v)["tls"];
    let chain = tls["chain"]
        .as_array()
        .unwrap_or_else(|| panic!("no tls.chain: {tls:#}"));
    assert_eq!(chain.len(), 2, "leaf + intermediate as presented");
    let leaf = &chain[0];
    assert_eq!(leaf["subject_cn"], pki::OCS_HOST);
    assert_eq!(leaf["issuer_cn"], "Microsoft Azure RSA TLS Issuing CA 04");
    assert_eq!(
        chain[1]["subject_cn"],
        "Microsoft Azure RSA TLS Issuing CA 04"
    );
    assert_eq!(chain[1]["issuer_cn"], "DigiCert Global Root G2");
    use sha2::Digest;
    let sha = sha2::Sha256::digest(&w.pki.leaf.der);
    let hex: String = sha.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(leaf["sha256"], hex.as_str());
    assert_eq!(leaf["sha1"].as_str().map(str::len), Some(40));
    assert_eq!(leaf["key_type"], "EC");
    assert_eq!(leaf["sct_count"], 2);
    assert!(
        leaf["dns_names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == pki::OCS_HOST)
    );
    assert_eq!(
        leaf["crl_urls"][0],
        format!("{}{}", w.pki.base_url, pki::LEAF_CRL_PATH).as_str()
    );
    assert_eq!(
        leaf["ocsp_urls"][0],
        format!("{}{}", w.pki.base_url, pki::OCSP_PATH).as_str()
    );
    assert_eq!(
        leaf["ca_issuers_urls"][0],
        format!("{}{}", w.pki.base_url, pki::LEAF_AIA_PATH).as_str()
    );
    assert!(
        leaf["ski"].is_string() && leaf["aki"].is_string(),
        "SKI/AKI: {leaf:#}"
    );
    assert_eq!(leaf["aki"], chain[1]["ski"]);
}

/// `analyze DIR` on the saved evidence gives the live run's finding ids.
fn assert_offline_same(dir: &std::path::Path, live: &serde_json::Value, w: &World) {
    assert!(dir.join("probe-results.json").is_file());
    let mut args = vec![
        s("analyze"),
        dir.display().to_string(),
        s("--format"),
        s("json"),
    ];
    if binary_knows_tls_issuers() {
        // The live run judged with the extra expected issuers: so must analyze.
        let analyze_help = support::doctor(&[s("analyze"), s("--help")]).stdout;
        assert!(
            analyze_help.contains(TLS_ISSUERS_FLAG),
            "`probe` takes {TLS_ISSUERS_FLAG} but `analyze` does not: the offline verdict cannot match"
        );
        args.extend([
            s(TLS_ISSUERS_FLAG),
            w.pki.expected_issuers_file().display().to_string(),
        ]);
    }
    let run = support::doctor(&args);
    assert_eq!(
        finding_ids(&run.json()),
        finding_ids(live),
        "offline analyze differs from the live probe"
    );
}

fn with_evidence(mut args: Vec<String>, dir: &std::path::Path) -> Vec<String> {
    args.extend([s("--save-evidence"), dir.display().to_string()]);
    args
}

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("eems-probe-")
        .tempdir()
        .unwrap()
}

#[test]
fn healthy_direct() {
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    require_expected_issuers(&w);
    let (run, v) = run_probe(
        "healthy-direct",
        &probe_args(&w, "3", &[s("--resolve"), w.resolve()]),
    );
    assert_no_failing_steps(&v);
    assert_probe_findings(&v, &[]);
    // Not critical. (A probe alone cannot name the build: `build-unknown` keeps it at warning.)
    assert_ne!(run.status.code(), Some(2), "{}", run.stdout);
    assert_genuine_chain(&v, &w);
    let p = probes(&v);
    assert_eq!(p["tls"]["trusted"], true);
    assert!(
        p["tls"]["protocol"]
            .as_str()
            .unwrap_or("")
            .starts_with("TLS")
    );
    let ocs = &p["ocs"];
    assert_eq!(ocs["status"], 200);
    assert_eq!(ocs["from_ocs"], true);
    assert_eq!(ocs["eocs_xml"], true);
    assert_eq!(ocs["has_signature"], true);
    assert_eq!(ocs["mitigation_ids"][0], "PING1");
    // Really signed by the test signer (issue 17), and the probe verified it.
    assert_eq!(ocs["xml_signature"]["verdict"], "valid", "{ocs:#}");
    let signer = &ocs["signing_chain"][0];
    assert_eq!(signer["subject_cn"], "Microsoft Exchange XML Signing");
    assert_eq!(signer["issuer_cn"], "Microsoft Code Signing PCA 2011");
    let eku = signer["eku"].to_string();
    assert!(
        eku.contains("codeSigning") || eku.contains("1.3.6.1.5.5.7.3.3"),
        "{eku}"
    );
    // Every CRL of both chains fetched directly (no WinHTTP proxy), current, nothing revoked.
    let crls = p["crls"].as_array().unwrap();
    let urls: Vec<&str> = crls
        .iter()
        .filter_map(|c| c["fetch"]["url"].as_str())
        .collect();
    for path in [
        pki::LEAF_CRL_PATH,
        pki::INTERMEDIATE_CRL_PATH,
        pki::SIGNER_CRL_PATH,
        pki::PCA_CRL_PATH,
    ] {
        assert!(
            urls.iter().any(|u| u.ends_with(path)),
            "CRL {path} not fetched: {urls:?}"
        );
    }
    for c in crls {
        assert_eq!(c["fetch"]["ok"], true, "{c:#}");
        assert!(c["fetch"]["via_proxy"].is_null());
        assert_eq!(c["revoked"], false, "{c:#}");
        assert_eq!(c["expired"], false, "{c:#}");
        assert_eq!(c["issuer_matches"], true, "{c:#}");
        // Verified wherever the captured chain holds the issuer; never a failed verdict.
        let url = c["fetch"]["url"].as_str().unwrap_or("");
        if url.ends_with(pki::LEAF_CRL_PATH) || url.ends_with(pki::SIGNER_CRL_PATH) {
            assert_eq!(c["signature"]["verdict"], "verified", "{c:#}");
        } else {
            assert!(
                c["signature"].is_null() || c["signature"]["verdict"] == "verified",
                "{c:#}"
            );
        }
    }
    assert_eq!(p["ctl"]["ok"], true);
    assert!(w.http.requests().iter().any(|r| r.path == pki::CTL_PATH));
    // Both URLs of the host answered: the mitigations and GetExchangeConfig.
    let config = config_step(&v);
    assert_eq!(config["outcome"], "ok", "{config:#}");
    assert_eq!(config["http_status"], 200);
    assert!(
        config["details"].to_string().contains("answered by OCS"),
        "{config:#}"
    );
    assert_eq!(ocs_requests(&w, pki::OCS_PATH), 1);
    assert_eq!(ocs_requests(&w, pki::CONFIG_PATH), 1);
    eprintln!(
        "SCENARIO healthy-direct: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn healthy_through_squid_connect_with_direct_crls() {
    if !support::lab("squid") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    require_expected_issuers(&w);
    let squid = Squid::start(
        Mode::ConnectOnly {
            connect_ports: vec![w.ocs.port()],
        },
        &[pki::OCS_HOST],
    );
    let args = probe_args(
        &w,
        "3",
        &[s("--resolve"), w.resolve(), s("--proxy"), squid.url()],
    );
    let (_, v) = run_probe("healthy-squid-connect", &args);
    assert_no_failing_steps(&v);
    assert_probe_findings(&v, &[]);
    let connect = steps(&v)
        .into_iter()
        .find(|s| s["kind"] == "proxy-connect")
        .expect("proxy-connect step");
    assert_eq!(connect["outcome"], "ok");
    assert_eq!(connect["http_status"], 200);
    assert_genuine_chain(&v, &w);
    assert_eq!(probes(&v)["ocs"]["from_ocs"], true);
    assert_eq!(config_step(&v)["outcome"], "ok");
    // The tunnel really went through squid (once for each URL), and the CRLs did not.
    assert_eq!(
        squid
            .access_log()
            .matches("CONNECT officeclient.microsoft.com")
            .count(),
        2,
        "{}",
        squid.access_log()
    );
    assert!(
        squid
            .access_log()
            .contains("CONNECT officeclient.microsoft.com"),
        "{}",
        squid.access_log()
    );
    assert!(!squid.access_log().contains(".crl"));
    assert!(
        w.http
            .requests()
            .iter()
            .any(|r| r.path.ends_with(".crl") && r.via.is_none())
    );
    eprintln!(
        "SCENARIO healthy-squid-connect: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn crls_blocked_by_winhttp_proxy() {
    if !support::lab("squid") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    let squid = Squid::start(
        Mode::ConnectOnly {
            connect_ports: vec![w.ocs.port()],
        },
        &[pki::OCS_HOST],
    );
    let ev = tmp();
    let args = with_evidence(
        probe_args(
            &w,
            "3",
            &[
                s("--resolve"),
                w.resolve(),
                s("--proxy"),
                squid.url(),
                s("--winhttp-proxy"),
                squid.addr(),
            ],
        ),
        ev.path(),
    );
    let (_, v) = run_probe("crl-blocked", &args);
    finding(&v, "crl-unreachable");
    // The CTL goes through the same WinHTTP proxy: blocked as well.
    assert_probe_findings(&v, &["crl-unreachable", "ctl-unreachable"]);
    // Until the expected-issuer override exists, the forged-name interception
    // outranks the CRLs (TODO(tls-issuers)).
    let line = server(&v)["failed_step"].as_str().unwrap_or_default();
    if binary_knows_tls_issuers() {
        assert!(
            line.contains("CRL") && !line.contains('\n'),
            "failed_step: {line:?}"
        );
    }
    let step = failing(&v, "crl");
    assert_eq!(step["http_status"], 403, "{step:#}");
    // The OCS request itself worked through the tunnel: the CRLs are the problem.
    assert_eq!(probes(&v)["ocs"]["status"], 200);
    assert_genuine_chain(&v, &w);
    for c in probes(&v)["crls"].as_array().unwrap() {
        assert_eq!(c["fetch"]["ok"], false, "{c:#}");
        assert_eq!(c["fetch"]["status"], 403);
        assert_eq!(c["fetch"]["via_proxy"], squid.addr().as_str());
    }
    assert!(
        squid.access_log().contains("TCP_DENIED/403"),
        "{}",
        squid.access_log()
    );
    assert_offline_same(ev.path(), &v, &w);
    eprintln!("SCENARIO crl-blocked: total {} ms", t.elapsed().as_millis());
}

#[test]
fn proxy_requires_authentication() {
    if !support::lab("squid") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    let squid = Squid::start(
        Mode::BasicAuth {
            user: s("user"),
            password: s("secret"),
        },
        &[pki::OCS_HOST],
    );
    let ev = tmp();
    let args = with_evidence(
        probe_args(
            &w,
            "3",
            &[s("--resolve"), w.resolve(), s("--proxy"), squid.url()],
        ),
        ev.path(),
    );
    let (_, v) = run_probe("proxy-auth-407", &args);
    finding(&v, "proxy-auth-required");
    assert_probe_findings(&v, &["proxy-auth-required"]);
    let step = failing(&v, "proxy-connect");
    assert_eq!(step["http_status"], 407);
    assert!(
        step["proxy_authenticate"]
            .as_str()
            .unwrap_or("")
            .starts_with("Basic"),
        "{step:#}"
    );
    assert!(
        probes(&v)["tls"]["chain"]
            .as_array()
            .is_none_or(|c| c.is_empty())
    );
    assert_offline_same(ev.path(), &v, &w);
    eprintln!(
        "SCENARIO proxy-auth-407: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn tls_interception_by_ssl_bump_names_the_vendor() {
    if !support::lab("squid-openssl ssl_bump") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    let (ca, key) = pki::vendor_ca(
        "Zscaler Intermediate Root CA (zscalerthree.net) (t)",
        "Zscaler Inc.",
        Some("Zscaler Inc."),
    );
    let squid = Squid::start(
        Mode::Bump {
            ca_cert_pem: ca,
            ca_key_pem: key,
            upstream_ca: w.pki.tls_root_pem(),
        },
        &[pki::OCS_HOST],
    );
    let ev = tmp();
    let args = with_evidence(
        probe_args(
            &w,
            "3",
            &[s("--resolve"), w.resolve(), s("--proxy"), squid.url()],
        ),
        ev.path(),
    );
    let (_, v) = run_probe("tls-interception", &args);
    let f = finding(&v, "tls-interception");
    assert_probe_findings(&v, &["tls-interception"]);
    assert!(
        f.to_string().contains("Zscaler"),
        "the vendor is not named: {f:#}"
    );
    let tls = &probes(&v)["tls"];
    assert_eq!(tls["trusted"], false);
    let leaf = &tls["chain"][0];
    assert_eq!(
        leaf["subject_cn"],
        pki::OCS_HOST,
        "squid mimics the real leaf's names"
    );
    assert_eq!(
        leaf["issuer_cn"],
        "Zscaler Intermediate Root CA (zscalerthree.net) (t)"
    );
    assert_eq!(leaf["issuer_o"], "Zscaler Inc.");
    assert_eq!(leaf["sct_count"], 0, "a re-signed leaf carries no SCTs");
    assert_eq!(failing(&v, "tls")["kind"], "tls");
    assert_offline_same(ev.path(), &v, &w);
    eprintln!(
        "SCENARIO tls-interception: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn dns_nxdomain_from_dnsmasq() {
    if !support::lab("dnsmasq") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    // dnsmasq knows another name only: officeclient.microsoft.com is NXDOMAIN.
    let dns = support::dns::Dnsmasq::start(&[("crl.microsoft.com", std::net::Ipv4Addr::LOCALHOST)]);
    let ev = tmp();
    let args = with_evidence(
        probe_args(&w, "3", &[s("--dns-server"), dns.addr()]),
        ev.path(),
    );
    let (_, v) = run_probe("dns-nxdomain", &args);
    finding(&v, "ocs-dns-failure");
    assert_probe_findings(&v, &["ocs-dns-failure"]);
    let step = failing(&v, "dns");
    assert_eq!(step["target"], pki::OCS_HOST);
    assert!(
        step["reason"]
            .to_string()
            .to_ascii_lowercase()
            .contains("nxdomain")
            || step["reason"]
                .to_string()
                .to_ascii_lowercase()
                .contains("no record"),
        "{step:#}"
    );
    assert!(
        dns.log().contains(&format!("query[A] {}", pki::OCS_HOST)),
        "dnsmasq was not asked:\n{}",
        dns.log()
    );
    assert_eq!(w.ocs.requests().len(), 0);
    assert_offline_same(ev.path(), &v, &w);
    eprintln!(
        "SCENARIO dns-nxdomain: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn dns_answer_from_dnsmasq_then_healthy() {
    if !support::lab("dnsmasq") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    require_expected_issuers(&w);
    let dns = support::dns::Dnsmasq::start(&[(pki::OCS_HOST, std::net::Ipv4Addr::LOCALHOST)]);
    let (_, v) = run_probe(
        "dns-dnsmasq-healthy",
        &probe_args(&w, "3", &[s("--dns-server"), dns.addr()]),
    );
    assert_no_failing_steps(&v);
    assert_probe_findings(&v, &[]);
    let step = steps(&v)
        .into_iter()
        .find(|s| s["kind"] == "dns")
        .expect("dns step");
    assert_eq!(step["outcome"], "ok");
    assert!(
        step["details"].to_string().contains("127.0.0.1"),
        "{step:#}"
    );
    assert_eq!(ocs_requests(&w, pki::OCS_PATH), 1);
    assert_eq!(ocs_requests(&w, pki::CONFIG_PATH), 1);
    eprintln!(
        "SCENARIO dns-dnsmasq-healthy: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn ocs_port_closed() {
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    let args = to_closed_ocs_port(&w, eems_testkit::servers::closed_port());
    let (_, v) = run_probe("ocs-port-closed", &args);
    finding(&v, "ocs-unreachable");
    assert_probe_findings(&v, &["ocs-unreachable"]);
    // GetExchangeConfig takes the same path: not requested, and said why.
    let config = config_step(&v);
    assert_eq!(config["outcome"], "skipped");
    assert!(
        config["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("no TCP connection") && r.contains("same host")),
        "{config:#}"
    );
    let step = failing(&v, "tcp");
    assert!(
        step["reason"]
            .to_string()
            .to_ascii_lowercase()
            .contains("refused"),
        "{step:#}"
    );
    eprintln!(
        "SCENARIO ocs-port-closed: total {} ms",
        t.elapsed().as_millis()
    );
}

/// A failing step of the service's own request (DNS, TCP, TLS: CRITICAL)
/// heads the report above the CTL download that fails beside it (WARNING,
/// `ctl-unreachable`): both as root cause 1 and in the one-line "Probe:"
/// headline, in JSON and text.
#[test]
fn a_critical_step_heads_the_report_above_the_ctl_warning() {
    let _g = serial();
    let w = World::new(OcsMode::Healthy);
    let closed = eems_testkit::servers::closed_port();
    let dead_ctl = format!("http://127.0.0.1:{closed}{}", pki::CTL_PATH);
    let nxdomain = eems_testkit::servers::DnsStub::start(3, None);
    let with_dead_ctl = |mut args: Vec<String>| {
        set_flag(&mut args, "--ctl-url", &dead_ctl);
        args
    };
    let tcp = with_dead_ctl(to_closed_ocs_port(&w, closed));
    let dns = with_dead_ctl(probe_args(
        &w,
        "3",
        &[s("--dns-server"), nxdomain.addr.to_string()],
    ));
    // Without --ca-file the test chain is not trusted: TLS fails.
    let mut tls = with_dead_ctl(probe_args(&w, "3", &[s("--resolve"), w.resolve()]));
    let i = tls.iter().position(|a| a == "--ca-file").unwrap();
    tls.drain(i..i + 2);
    for (case, args, cause, step) in [
        ("dns", dns, "ocs-dns-failure", "DNS"),
        ("tcp", tcp, "ocs-unreachable", "TCP"),
        ("tls", tls, "tls-chain-untrusted", "OCS chain"),
    ] {
        let (run, v) = run_probe(&format!("ranking-{case}"), &args);
        assert_eq!(run.status.code(), Some(2), "{case}: {}", run.stderr);
        finding(&v, "ctl-unreachable");
        let causes: Vec<&str> = server(&v)["root_causes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(causes.first(), Some(&cause), "{case}: {causes:?}");
        let ctl = causes.iter().position(|c| *c == "ctl-unreachable");
        assert!(ctl.is_some_and(|p| p > 0), "{case}: {causes:?}");
        let headline = server(&v)["failed_step"].as_str().unwrap_or_default();
        assert!(
            headline.contains(step) && !headline.contains("Certificate Trust List"),
            "{case}: {headline}"
        );
        // The text report says the same first.
        let mut text = args.clone();
        set_flag(&mut text, "--format", "text");
        let out = support::doctor(&text).stdout;
        let probe_line = out.lines().find(|l| l.trim_start().starts_with("Probe:"));
        assert!(
            probe_line.is_some_and(|l| l.contains(step)),
            "{case}:\n{out}"
        );
        assert!(out.contains(&format!("1. {cause} ")), "{case}:\n{out}");
    }
}

/// Usage errors of `probe` say what is wrong before anything runs (exit 3).
#[test]
fn probe_usage_errors_say_the_allowed_values() {
    let zero = support::doctor(&[s("probe"), s("--timeout"), s("0")]);
    assert_eq!(zero.status.code(), Some(3));
    assert!(
        zero.stderr.contains("more than 0 and at most 3600 seconds"),
        "{}",
        zero.stderr
    );
    for url in [
        "http://officeclient.microsoft.com/getexchangemitigations",
        "ftp://officeclient.microsoft.com/",
        "officeclient.microsoft.com",
    ] {
        let run = support::doctor(&[s("probe"), s("--ocs-url"), s(url)]);
        assert_eq!(run.status.code(), Some(3), "{url}");
        assert!(
            run.stderr.contains("must be an https:// URL") && run.stdout.is_empty(),
            "{url}: {}",
            run.stderr
        );
    }
}

/// The GetExchangeConfig request is informative: when it fails and the
/// mitigations arrive, the diagnosis is the healthy run's, and the report's
/// probe line says the informative request failed.
#[test]
fn a_failing_config_request_changes_no_diagnosis() {
    let _g = serial();
    let w = World::new(OcsMode::ConfigDown);
    let args = probe_args(&w, "3", &[s("--resolve"), w.resolve()]);
    require_expected_issuers(&w);
    let (run, v) = run_probe("config-down", &args);
    assert_probe_findings(&v, &[]);
    assert_ne!(run.status.code(), Some(2), "{}", run.stdout);
    assert_eq!(probes(&v)["ocs"]["eocs_xml"], true);
    let config = config_step(&v);
    assert_eq!(config["outcome"], "failed");
    assert_eq!(config["http_status"], 503);
    assert_eq!(config["reason"], "answered HTTP 503 Service Unavailable");
    // The same status and findings as a healthy stand-in gives.
    let healthy = World::new(OcsMode::Healthy);
    let (healthy_run, hv) = run_probe(
        "config-up",
        &probe_args(&healthy, "3", &[s("--resolve"), healthy.resolve()]),
    );
    assert_eq!(run.status.code(), healthy_run.status.code());
    assert_eq!(finding_ids(&v), finding_ids(&hv));
    assert_eq!(server(&v)["status"], server(&hv)["status"]);
    let mut text = args.clone();
    set_flag(&mut text, "--format", "text");
    let out = support::doctor(&text).stdout;
    assert!(
        out.contains("Probe: every step of the service's path passed")
            && out.contains("the informative GetExchangeConfig request failed (answered HTTP 503"),
        "{out}"
    );
}

#[test]
fn black_holes_everywhere_end_within_the_timeout() {
    let _g = serial();
    let w = World::new(OcsMode::Healthy);
    let bh = BlackHole::start();
    let hole = format!("127.0.0.1:{}", bh.port());
    // (1) Direct: the OCS host, the WinHTTP proxy (CRL/AIA/CTL) and the CTL are all black holes.
    let args = vec![
        s("probe"),
        s("--format"),
        s("json"),
        s("--timeout"),
        s("1"),
        s("--ocs-url"),
        format!("https://{}:{}{}", pki::OCS_HOST, bh.port(), pki::OCS_PATH),
        s("--resolve"),
        format!("{}:{}:127.0.0.1", pki::OCS_HOST, bh.port()),
        s("--ca-file"),
        w.pki.ca_file().display().to_string(),
        s("--winhttp-proxy"),
        hole.clone(),
        s("--ctl-url"),
        format!("http://{hole}{}", pki::CTL_PATH),
    ];
    let (run, v) = run_probe("black-hole-direct", &args);
    assert!(
        run.wall < Duration::from_secs(4),
        "probe took {:?} with --timeout 1",
        run.wall
    );
    assert_eq!(failing(&v, "tls")["outcome"], "timed-out");
    assert_eq!(failing(&v, "ctl")["outcome"], "timed-out");
    assert!(bh.accepted() >= 2);
    // (2) The Exchange proxy is the black hole: CONNECT never answers.
    let mut args2 = args.clone();
    args2.extend([s("--proxy"), format!("http://{hole}")]);
    let (run, v) = run_probe("black-hole-proxy", &args2);
    assert!(
        run.wall < Duration::from_secs(4),
        "probe took {:?} with --timeout 1",
        run.wall
    );
    assert_eq!(failing(&v, "proxy-connect")["outcome"], "timed-out");
    assert_eq!(failing(&v, "ctl")["outcome"], "timed-out");
}

/// The stand-in's answer changed after signing, signed by a key that is not
/// the signer certificate's, or signed by an expired signer (issue 17): the
/// probe verifies the signature and xml-signature-invalid names the reason; a
/// saved probe gives the same.
#[test]
fn tampered_or_wrong_key_answers_fail_the_signature() {
    let _g = serial();
    for (scenario, body, reason, verdict) in [
        (
            "xml-tampered-body",
            Pki::eocs_body_tampered as fn(&Pki) -> String,
            "(tampered body)",
            "digest-mismatch",
        ),
        (
            "xml-wrong-key",
            Pki::eocs_body_wrong_key,
            "(signature mismatch)",
            "signature-mismatch",
        ),
        // The signature itself is good; the signer's certificate expired.
        (
            "xml-expired-signer",
            Pki::eocs_body_expired_signer,
            "signer is not accepted: the signer expired on",
            "valid",
        ),
    ] {
        let w = World::answering(OcsMode::Healthy, body);
        require_expected_issuers(&w);
        let ev = tmp();
        let args = with_evidence(
            probe_args(&w, "3", &[s("--resolve"), w.resolve()]),
            ev.path(),
        );
        let (_, v) = run_probe(scenario, &args);
        assert_probe_findings(&v, &["xml-signature-invalid"]);
        let f = finding(&v, "xml-signature-invalid");
        let title = f["title"].as_str().unwrap_or("");
        assert!(title.contains(reason), "{scenario}: {title}");
        assert_eq!(probes(&v)["ocs"]["xml_signature"]["verdict"], verdict);
        assert_offline_same(ev.path(), &v, &w);
    }
}

#[test]
fn block_page_is_an_http_error() {
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::BlockPage);
    let ev = tmp();
    let args = with_evidence(
        probe_args(&w, "3", &[s("--resolve"), w.resolve()]),
        ev.path(),
    );
    let (_, v) = run_probe("block-page-403", &args);
    let f = finding(&v, "ocs-http-error");
    assert_probe_findings(&v, &["ocs-http-error"]);
    // The filter lists the mitigation URL only: the same host answers
    // GetExchangeConfig, and the finding says so.
    let config = config_step(&v);
    assert_eq!(
        (&config["outcome"], &config["http_status"]),
        (&"ok".into(), &200.into())
    );
    assert!(
        f["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("The same host answered GetExchangeConfig"),
        "{f:#}"
    );
    let step = failing(&v, "ocs-request");
    assert_eq!(step["http_status"], 403);
    let ocs = &probes(&v)["ocs"];
    assert_eq!(ocs["eocs_xml"], false);
    assert_eq!(ocs["from_ocs"], false);
    assert!(
        ocs["body_excerpt"]
            .as_str()
            .unwrap_or("")
            .contains("Access Denied"),
        "{ocs:#}"
    );
    assert_offline_same(ev.path(), &v, &w);
    eprintln!(
        "SCENARIO block-page-403: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn proxy_credentials_never_leave() {
    if !support::lab("squid") {
        return;
    }
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    require_expected_issuers(&w);
    let squid = Squid::start(
        Mode::BasicAuth {
            user: s("user"),
            password: s("secret"),
        },
        &[pki::OCS_HOST],
    );
    let proxy = format!("http://user:secret@127.0.0.1:{}", squid.port);
    let ev = tmp();
    let out = tmp();
    let mut outputs = Vec::new();
    for format in ["json", "text", "html"] {
        let mut args = probe_args(
            &w,
            "3",
            &[s("--resolve"), w.resolve(), s("--proxy"), proxy.clone()],
        );
        let i = args.iter().position(|a| a == "--format").unwrap() + 1;
        args[i] = s(format);
        let file = out.path().join(format!("report.{format}"));
        args.extend([s("-o"), file.display().to_string()]);
        if format == "json" {
            args = with_evidence(args, ev.path());
        }
        let run = support::doctor(&args);
        eprintln!(
            "SCENARIO proxy-credentials ({format}): probe wall {} ms",
            run.wall.as_millis()
        );
        let body = std::fs::read_to_string(&file).unwrap();
        for (what, text) in [
            ("output", &body),
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
        ] {
            assert!(
                !text.contains("secret"),
                "the proxy password is in the {format} {what}:\n{text}"
            );
        }
        outputs.push((format, body));
    }
    // The credentials were used: the tunnel opened and OCS answered.
    let v: serde_json::Value = serde_json::from_str(&outputs[0].1).unwrap();
    assert_probe_findings(&v, &[]);
    assert_eq!(probes(&v)["ocs"]["status"], 200);
    assert!(
        squid.access_log().contains(" user "),
        "squid did not see the user:\n{}",
        squid.access_log()
    );
    let mut files = 0;
    for e in std::fs::read_dir(ev.path()).unwrap() {
        let p = e.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        assert!(
            !text.contains("secret"),
            "the proxy password is in {}",
            p.display()
        );
        files += 1;
    }
    assert!(files >= 1);
    eprintln!(
        "SCENARIO proxy-credentials: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn revoked_and_expired_crls_are_reported() {
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    w.http.put(pki::LEAF_CRL_PATH, w.pki.crl_revoking_leaf());
    w.http.put(
        Pki::crl_path(CrlOf::SigningPca),
        w.pki.crl_expired(CrlOf::SigningPca),
    );
    let (_, v) = run_probe(
        "crl-revoked-expired",
        &probe_args(&w, "3", &[s("--resolve"), w.resolve()]),
    );
    let crls = probes(&v)["crls"].as_array().unwrap();
    let by_path = |path: &str| {
        crls.iter()
            .find(|c| c["fetch"]["url"].as_str().unwrap_or("").ends_with(path))
            .unwrap_or_else(|| panic!("no CRL entry for {path}"))
    };
    let leaf = by_path(pki::LEAF_CRL_PATH);
    assert_eq!(leaf["revoked"], true, "{leaf:#}");
    assert_eq!(
        leaf["for_subject"]
            .as_str()
            .map(|s| s.contains(pki::OCS_HOST)),
        Some(true),
        "{leaf:#}"
    );
    let signer = by_path(pki::SIGNER_CRL_PATH);
    assert_eq!(signer["expired"], true, "{signer:#}");
    assert_eq!(signer["chain"], "signing");
    eprintln!("findings for revoked/expired CRLs: {:?}", finding_ids(&v));
    eprintln!(
        "SCENARIO crl-revoked-expired: total {} ms",
        t.elapsed().as_millis()
    );
}

/// Issue 17: an answer at the CRL URL that is not the issuer's signed CRL
/// (a portal's page with 200, a list signed by another key under the
/// issuer's name) is not a CRL obtained, and the finding says it did not verify.
#[test]
fn crls_that_do_not_verify_are_not_obtained() {
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    w.http.put(
        pki::LEAF_CRL_PATH,
        b"<html><head><title>Network login</title></head><body>Sign in to continue</body></html>"
            .to_vec(),
    );
    w.http.put(
        Pki::crl_path(CrlOf::SigningPca),
        w.pki.crl_wrong_key(CrlOf::SigningPca),
    );
    let (_, v) = run_probe(
        "crl-unverified",
        &probe_args(&w, "3", &[s("--resolve"), w.resolve()]),
    );
    let crls = probes(&v)["crls"].as_array().unwrap();
    let by_path = |path: &str| {
        crls.iter()
            .find(|c| c["fetch"]["url"].as_str().unwrap_or("").ends_with(path))
            .unwrap_or_else(|| panic!("no CRL entry for {path}"))
    };
    // The portal page: fetched with 200, no CRL, so it did not verify.
    let leaf = by_path(pki::LEAF_CRL_PATH);
    assert_eq!(leaf["fetch"]["ok"], true, "{leaf:#}");
    assert!(leaf["parse_error"].is_string(), "{leaf:#}");
    assert_eq!(leaf["signature"]["verdict"], "not-a-crl", "{leaf:#}");
    let signer = by_path(pki::SIGNER_CRL_PATH);
    assert_eq!(signer["issuer_matches"], true, "{signer:#}");
    assert_eq!(
        signer["signature"]["verdict"], "signature-mismatch",
        "{signer:#}"
    );
    let f = finding(&v, "crl-unreachable");
    let text = f.to_string();
    assert!(
        text.contains("did not verify: the signature does not verify with the issuer's key"),
        "{f:#}"
    );
    assert!(
        text.contains("did not verify: not a CRL (starts `<html><head><title>Network login"),
        "{f:#}"
    );
    let step = steps(&v)
        .into_iter()
        .find(|s| {
            s["kind"] == "crl"
                && s["target"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with(pki::SIGNER_CRL_PATH)
        })
        .expect("the signer CRL's step");
    assert!(
        step["details"]
            .to_string()
            .contains("signature: the signature does not verify"),
        "{step:#}"
    );
    eprintln!(
        "SCENARIO crl-unverified: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn incomplete_chain_fetches_the_issuer_by_aia() {
    let _g = serial();
    let t = Instant::now();
    let http = HttpServer::start();
    let pki = Pki::new(&http.base_url());
    http.put_all(pki.http_files());
    // The server forgets its intermediate.
    let ocs = OcsServer::start(
        vec![pki.leaf.der.clone()],
        pki.server_key(),
        pki.eocs_body(),
        OcsMode::Healthy,
    );
    let w = World { http, pki, ocs };
    let (_, v) = run_probe(
        "incomplete-chain-aia",
        &probe_args(&w, "3", &[s("--resolve"), w.resolve()]),
    );
    assert_eq!(probes(&v)["tls"]["chain"].as_array().map(Vec::len), Some(1));
    let aia = probes(&v)["aia"].as_array().cloned().unwrap_or_default();
    assert!(
        aia.iter().any(|a| a["url"]
            .as_str()
            .unwrap_or("")
            .ends_with(pki::LEAF_AIA_PATH)
            && a["ok"] == true),
        "AIA caIssuers not fetched: {aia:?}\n  {}",
        steps_summary(&v)
    );
    assert!(
        w.http
            .requests()
            .iter()
            .any(|r| r.path == pki::LEAF_AIA_PATH)
    );
    eprintln!("findings for an incomplete chain: {:?}", finding_ids(&v));
    eprintln!(
        "SCENARIO incomplete-chain-aia: total {} ms",
        t.elapsed().as_millis()
    );
}

#[test]
fn infra_expected_issuers_csv() {
    let p = Pki::new("http://127.0.0.1:9");
    let csv = p.expected_issuers_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("DigiCert Global Root G2,DigiCert Global Root G2,,"));
    assert!(
        lines[2].starts_with("Microsoft Azure RSA TLS Issuing CA 04,DigiCert Global Root G2,,")
    );
    let (sha1, spki) = pki::thumbprints(&p.tls_intermediate.der());
    assert!(lines[2].contains(&format!(",{sha1},{spki},current")));
}

#[test]
fn forged_microsoft_names_are_interception() {
    // The test PKI without the expected-issuer override: Microsoft's names on
    // keys that are not Microsoft's. Issue 4: "a chain with Microsoft's names
    // but other keys is interception too".
    let _g = serial();
    let t = Instant::now();
    let w = World::new(OcsMode::Healthy);
    let mut args = probe_args(&w, "3", &[s("--resolve"), w.resolve()]);
    if let Some(i) = args.iter().position(|a| a == TLS_ISSUERS_FLAG) {
        args.drain(i..i + 2);
    }
    let i = args.iter().position(|a| a == "--format").unwrap();
    args.drain(i..i + 2);
    let text = support::doctor(&args);
    eprintln!(
        "SCENARIO forged-names (text): probe wall {} ms",
        text.wall.as_millis()
    );
    // The text report says in one line which step failed.
    let probe_line = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Probe:"));
    assert!(
        probe_line.is_some_and(|l| l.contains("TLS")),
        "no `Probe:` line naming TLS:\n{}",
        text.stdout
    );
    args.extend([s("--format"), s("json")]);
    let (_, v) = run_probe("forged-names", &args);
    let f = finding(&v, "tls-interception");
    assert_eq!(f["severity"], "critical");
    assert!(f["detail"].as_str().unwrap_or("").contains("Microsoft Azure RSA TLS Issuing CA 04` carries a name Microsoft documents but another key"), "{f:#}");
    assert_eq!(
        probes(&v)["tls"]["trusted"],
        true,
        "validates against --ca-file, and is still not Microsoft's"
    );
    eprintln!(
        "SCENARIO forged-names: total {} ms",
        t.elapsed().as_millis()
    );
}
