//! Loopback test kit: a test PKI made with rcgen (TLS chain, XML-signing
//! chain, CRLs) and real servers on 127.0.0.1 (plain HTTP for CRLs/AIA/CTL,
//! a rustls HTTPS OCS stand-in, a black hole). Servers run on a runtime owned
//! by `Lab`; dropping the `Lab` stops them.

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber, date_time_ymd,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const OCS_HOST: &str = "officeclient.microsoft.com";
/// The leaf's serial, fixed so a CRL can list it.
pub const LEAF_SERIAL: [u8; 4] = [0x4f, 0x1c, 0xe5, 0x01];

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![u8::try_from(n).unwrap()]
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        let mut v = vec![0x80 | u8::try_from(bytes.len()).unwrap()];
        v.extend(bytes);
        v
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(content.len()));
    v.extend_from_slice(content);
    v
}

/// AuthorityInfoAccess with optional OCSP and caIssuers URIs.
fn aia_ext(ocsp: Option<&str>, ca_issuers: Option<&str>) -> CustomExtension {
    let mut descs = Vec::new();
    for (last_arc, uri) in [(1u8, ocsp), (2u8, ca_issuers)] {
        if let Some(u) = uri {
            let oid = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, last_arc]);
            let loc = tlv(0x86, u.as_bytes());
            descs.extend(tlv(0x30, &[oid, loc].concat()));
        }
    }
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &descs))
}

/// Two syntactically valid (unsigned) SCTs, as publicly trusted leaves carry.
fn sct_ext() -> CustomExtension {
    let mut list = Vec::new();
    for i in 0..2u8 {
        let mut sct = vec![0u8]; // v1
        sct.extend([i; 32]); // log id
        sct.extend(1_700_000_000_000u64.to_be_bytes());
        sct.extend([0, 0]); // no extensions
        sct.extend([4, 3, 0, 4, 1, 2, 3, 4]); // sha256/ecdsa, 4-byte signature
        list.extend(u16::try_from(sct.len()).unwrap().to_be_bytes());
        list.extend(sct);
    }
    let mut tls = u16::try_from(list.len()).unwrap().to_be_bytes().to_vec();
    tls.extend(list);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2], tlv(0x04, &tls))
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "US");
    d.push(DnType::OrganizationName, "Microsoft Corporation");
    d.push(DnType::CommonName, cn);
    d
}

fn ca_params(cn: &str, crl: Option<String>, ca_issuers: Option<String>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = true;
    if let Some(u) = crl {
        p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![u] }];
    }
    if let Some(u) = ca_issuers {
        p.custom_extensions.push(aia_ext(None, Some(&u)));
    }
    p
}

fn end_entity(
    cn: &str,
    sans: Vec<String>,
    eku: Vec<ExtendedKeyUsagePurpose>,
    crl: String,
) -> CertificateParams {
    let mut p = CertificateParams::new(sans).unwrap();
    p.distinguished_name = dn(cn);
    p.extended_key_usages = eku;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![crl] }];
    p
}

pub enum CrlKind {
    Fresh,
    Expired,
    Revoking(Vec<u8>),
}

pub struct Pki {
    pub root: CertificateDer<'static>,
    pub root_pem: String,
    pub int: CertificateDer<'static>,
    pub leaf: CertificateDer<'static>,
    leaf_key: Vec<u8>,
    pub signer: CertificateDer<'static>,
    pub pca: CertificateDer<'static>,
    pub tsa: CertificateDer<'static>,
    pub root_issuer: Issuer<'static, KeyPair>,
    pub int_issuer: Issuer<'static, KeyPair>,
    pub csroot_issuer: Issuer<'static, KeyPair>,
    pub pca_issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    /// `base` = `http://127.0.0.1:PORT`: where the CRLs and issuer certificates live.
    pub fn new(base: &str) -> Pki {
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca_params("Microsoft RSA Root CA 2017 (test)", None, None);
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, root_key);

        let int_key = KeyPair::generate().unwrap();
        let int_params = ca_params(
            "Microsoft Azure RSA TLS Issuing CA 04 (test)",
            Some(format!("{base}/root.crl")),
            Some(format!("{base}/root.crt")),
        );
        let int = int_params.signed_by(&int_key, &root_issuer).unwrap();
        let int_issuer = Issuer::new(int_params, int_key);

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = end_entity(
            OCS_HOST,
            vec![OCS_HOST.to_owned()],
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            format!("{base}/int.crl"),
        );
        leaf_params.serial_number = Some(SerialNumber::from_slice(&LEAF_SERIAL));
        leaf_params.custom_extensions.push(aia_ext(
            Some(&format!("{base}/ocsp")),
            Some(&format!("{base}/int.crt")),
        ));
        leaf_params.custom_extensions.push(sct_ext());
        let leaf = leaf_params.signed_by(&leaf_key, &int_issuer).unwrap();

        let csroot_key = KeyPair::generate().unwrap();
        let csroot_params = ca_params(
            "Microsoft Root Certificate Authority 2011 (test)",
            None,
            None,
        );
        csroot_params.self_signed(&csroot_key).unwrap();
        let csroot_issuer = Issuer::new(csroot_params, csroot_key);
        let pca_key = KeyPair::generate().unwrap();
        let pca_params = ca_params(
            "Microsoft Code Signing PCA 2011 (test)",
            Some(format!("{base}/csroot.crl")),
            None,
        );
        let pca = pca_params.signed_by(&pca_key, &csroot_issuer).unwrap();
        let pca_issuer = Issuer::new(pca_params, pca_key);
        let signer_key = KeyPair::generate().unwrap();
        let signer = end_entity(
            "Microsoft Exchange XML Signing (test)",
            Vec::new(),
            vec![ExtendedKeyUsagePurpose::CodeSigning],
            format!("{base}/pca.crl"),
        )
        .signed_by(&signer_key, &pca_issuer)
        .unwrap();
        let tsa_key = KeyPair::generate().unwrap();
        // Same CDP as the signer: one download must serve both certificates.
        let tsa = end_entity(
            "Microsoft Time-Stamp Service (test)",
            Vec::new(),
            vec![ExtendedKeyUsagePurpose::TimeStamping],
            format!("{base}/pca.crl"),
        )
        .signed_by(&tsa_key, &pca_issuer)
        .unwrap();

        Pki {
            root_pem: root.pem(),
            root: root.der().clone(),
            int: int.der().clone(),
            leaf: leaf.der().clone(),
            leaf_key: leaf_key.serialize_der(),
            signer: signer.der().clone(),
            pca: pca.der().clone(),
            tsa: tsa.der().clone(),
            root_issuer,
            int_issuer,
            csroot_issuer,
            pca_issuer,
        }
    }

    pub fn server_chain(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.clone()));
        (vec![self.leaf.clone(), self.int.clone()], key)
    }

    /// The signed mitigation document: PCA listed before the signer (order must not matter),
    /// base64 broken with `&#xD;` as .NET writes it, and a timestamp chain in an `Object`.
    pub fn eocs_body(&self) -> String {
        let b64 = |d: &CertificateDer<'_>| {
            let s = base64::engine::general_purpose::STANDARD.encode(d.as_ref());
            s.as_bytes()
                .chunks(76)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("&#xD;\n")
        };
        format!(
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n",
                "<EOCS version=\"1.0.4\"><Config id=\"PING1\" desc=\"EEMS Heartbeat probe. Does not modify any exchange settings.\">",
                "<ActionList><Action type=\"DoNothing\" scope=\"Server\"><Value>DoNothing</Value></Action></ActionList></Config>",
                "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo/><SignatureValue>AAAA</SignatureValue>",
                "<KeyInfo><X509Data><X509Certificate>{pca}</X509Certificate><X509Certificate>{signer}</X509Certificate></X509Data></KeyInfo>",
                "<Object Id=\"ts-countersig\"><X509Data><X509Certificate>{tsa}</X509Certificate></X509Data></Object>",
                "</Signature></EOCS>"
            ),
            pca = b64(&self.pca),
            signer = b64(&self.signer),
            tsa = b64(&self.tsa),
        )
    }
}

/// A CRL signed by `issuer`.
pub fn crl(issuer: &Issuer<'_, KeyPair>, kind: CrlKind) -> Vec<u8> {
    let today = chrono::Utc::now().date_naive();
    let ymd = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        date_time_ymd(
            d.year(),
            u8::try_from(d.month()).unwrap(),
            u8::try_from(d.day()).unwrap(),
        )
    };
    let (this_update, next_update) = match kind {
        CrlKind::Expired => (date_time_ymd(2020, 1, 1), date_time_ymd(2020, 2, 1)),
        _ => (
            ymd(today - chrono::Days::new(1)),
            ymd(today + chrono::Days::new(30)),
        ),
    };
    let revoked_certs = match kind {
        CrlKind::Revoking(serial) => vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&serial),
            revocation_time: this_update,
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        _ => Vec::new(),
    };
    CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from(vec![1]),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(issuer)
    .unwrap()
    .der()
    .to_vec()
}

/// `(status, body)` per path.
pub type Routes = Arc<Mutex<HashMap<String, (u16, Vec<u8>)>>>;

pub struct HttpServer {
    pub port: u16,
    pub routes: Routes,
    /// Request lines received, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn serve(&self, path: &str, body: Vec<u8>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), (200, body));
    }
}

/// Read a request head (bounded in size and time).
async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

pub struct Lab {
    rt: tokio::runtime::Runtime,
    /// Sockets the black holes accepted: kept open, never answered.
    held: Arc<Mutex<Vec<tokio::net::TcpStream>>>,
}

impl Lab {
    pub fn new() -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Lab {
            rt,
            held: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn listener(&self) -> (TcpListener, u16) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let _g = self.rt.enter();
        (TcpListener::from_std(l).unwrap(), port)
    }

    /// Plain HTTP: origin-form and absolute-form requests (so it can also stand in for a
    /// forwarding proxy), Content-Length answers, 404 for unknown paths.
    pub fn http(&self) -> HttpServer {
        let (listener, port) = self.listener();
        let routes: Routes = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, s) = (Arc::clone(&routes), Arc::clone(&seen));
        self.rt.spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (r, s) = (Arc::clone(&r), Arc::clone(&s));
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else { return };
                    let line = req.lines().next().unwrap_or_default().to_owned();
                    s.lock().unwrap().push(line.clone());
                    let target = line.split(' ').nth(1).unwrap_or("/");
                    let path = match target.strip_prefix("http://") {
                        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
                        None => target.to_owned(),
                    };
                    let (status, body) = r.lock().unwrap().get(&path).cloned().unwrap_or((404, b"not here".to_vec()));
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        HttpServer { port, routes, seen }
    }

    /// The OCS stand-in: TLS with `chain`, then `response` (a whole HTTP response) to any request.
    pub fn https(
        &self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        response: Vec<u8>,
    ) -> u16 {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let (listener, port) = self.listener();
        let response = Arc::new(response);
        self.rt.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (acceptor, response) = (acceptor.clone(), Arc::clone(&response));
                tokio::spawn(async move {
                    let Ok(Ok(mut tls)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(sock)).await
                    else {
                        return;
                    };
                    if read_request(&mut tls).await.is_none() {
                        return;
                    }
                    let _ = tls.write_all(&response).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        port
    }

    /// A CONNECT proxy: tunnels to 127.0.0.1:<port> whatever the host, after checking
    /// `Proxy-Authorization: Basic <auth>` when `auth` is given (407 otherwise).
    /// Returns the port and the request heads it received.
    pub fn connect_proxy(&self, auth: Option<String>) -> (u16, Arc<Mutex<Vec<String>>>) {
        let (listener, port) = self.listener();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let heads = Arc::clone(&seen);
        self.rt.spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (heads, auth) = (Arc::clone(&heads), auth.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else { return };
                    heads.lock().unwrap().push(req.clone());
                    if let Some(a) = auth
                        && !req.contains(&format!("Proxy-Authorization: Basic {a}\r\n"))
                    {
                        let deny = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"eems test\"\r\nContent-Length: 0\r\n\r\n";
                        let _ = sock.write_all(deny.as_bytes()).await;
                        return;
                    }
                    let authority = req.split(' ').nth(1).unwrap_or_default();
                    let port: u16 = authority.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(443);
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                        let _ = sock.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = sock.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                    let _ = tokio::io::copy_bidirectional(&mut sock, &mut upstream).await;
                });
            }
        });
        (port, seen)
    }

    /// Accepts TCP connections and never sends a byte.
    pub fn black_hole(&self) -> u16 {
        let (listener, port) = self.listener();
        let held = Arc::clone(&self.held);
        self.rt.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                held.lock().unwrap().push(sock);
            }
        });
        port
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.held.lock().unwrap().clear();
    }
}

/// A minimal DNS server on UDP: every query gets `rcode`; A queries also get `a` when given
/// (AAAA queries get an empty NOERROR answer then, i.e. NODATA).
pub fn dns_stub(lab: &Lab, rcode: u8, a: Option<Ipv4Addr>) -> std::net::SocketAddr {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_nonblocking(true).unwrap();
    let addr = sock.local_addr().unwrap();
    let _g = lab.rt.enter();
    let sock = tokio::net::UdpSocket::from_std(sock).unwrap();
    lab.rt.spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            let q = &buf[..n];
            // Question: QNAME labels, then QTYPE and QCLASS.
            let mut i = 12;
            while i < q.len() && q[i] != 0 {
                i += 1 + usize::from(q[i]);
            }
            let Some(question) = q.get(12..i + 5) else {
                continue;
            };
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let answer = a.filter(|_| qtype == 1 && rcode == 0);
            let mut r = vec![
                q[0],
                q[1],
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
            let _ = sock.send_to(&r, peer).await;
        }
    });
    addr
}

/// A port nothing listens on (bound, then released).
pub fn closed_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn closed_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
