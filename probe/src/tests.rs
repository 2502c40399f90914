//! End-to-end probe tests against real servers on 127.0.0.1 (the shared
//! `eems-testkit`). Nothing here may reach the internet: every URL is
//! loopback, the OCS name is pinned with `resolve`, and the CTL URL is always
//! overridden.

use super::{ProbeConfig, run};
use eems_parsers::probe_results::{ChainRole, ProbeReport, StepKind, StepOutcome};
use eems_testkit::pki::{
    CTL_PATH, CrlOf, INTERMEDIATE_AIA_PATH, INTERMEDIATE_CRL_PATH, LEAF_AIA_PATH, LEAF_CRL_PATH,
    OCS_HOST, OCS_PATH, OCSP_PATH, Pki, SIGNER_CRL_PATH,
};
use eems_testkit::servers::{
    self, BlackHole, ConnectProxy, DnsStub, HttpServer, OcsServer, chunked_response,
};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn outcome(r: &ProbeReport, kind: StepKind) -> StepOutcome {
    r.step(kind)
        .unwrap_or_else(|| panic!("no {kind:?} step in {:#?}", r.steps))
        .outcome
}

/// `PROBE_DUMP=1 cargo test … -- --nocapture` shows the whole report.
fn dump(r: &ProbeReport) {
    if std::env::var_os("PROBE_DUMP").is_some() {
        eprintln!("{}", serde_json::to_string_pretty(r).unwrap());
    }
}

fn cfg(ocs_port: u16, ctl_url: String, timeout: Duration) -> ProbeConfig {
    ProbeConfig {
        ocs_url: format!("https://{OCS_HOST}:{ocs_port}{OCS_PATH}"),
        resolve: vec![(OCS_HOST.to_owned(), ocs_port, LOCALHOST)],
        ctl_url,
        timeout,
        ..ProbeConfig::default()
    }
}

/// The usual world: CRL server with fresh CRLs and issuer certificates, OCS stand-in answering `response`.
struct World {
    http: HttpServer,
    pki: Pki,
    ocs: OcsServer,
}

fn world(response: Option<Vec<u8>>) -> World {
    let http = HttpServer::start();
    let pki = Pki::new(&http.base_url());
    world_with(http, pki, response)
}

/// `http` serves the CRLs, issuer certificates and CTL of `pki` (which may
/// point its URLs elsewhere); the OCS stand-in answers `response`, by
/// default the chunked, countersigned mitigations document.
fn world_with(http: HttpServer, pki: Pki, response: Option<Vec<u8>>) -> World {
    http.put_all(pki.http_files());
    let response = response.unwrap_or_else(|| {
        chunked_response(
            "200 OK",
            &[
                ("Content-Type", "application/xml; charset=utf-8"),
                ("Server", "Microsoft-IIS/10.0"),
                ("X-OfficeFE", "ConfigFE_IN_15"),
                ("X-OfficeCluster", "eus2-config.officeapps.live.com"),
            ],
            pki.eocs_body_countersigned().as_bytes(),
        )
    });
    let ocs = OcsServer::start_raw(pki.server_chain(), pki.server_key(), response);
    World { http, pki, ocs }
}

impl World {
    fn ocs_port(&self) -> u16 {
        self.ocs.port()
    }

    /// `trusted`: the TLS root is an extra anchor (`--ca-file`).
    fn cfg(&self, trusted: bool) -> ProbeConfig {
        let mut c = cfg(
            self.ocs_port(),
            format!("{}{CTL_PATH}", self.http.base_url()),
            Duration::from_secs(5),
        );
        if trusted {
            c.ca_files.push(self.pki.tls_root_pem());
        }
        c
    }
}

#[test]
fn trusted_chain_everything_ok() {
    let w = world(None);
    let r = run(&w.cfg(true));
    dump(&r);
    for s in &r.steps {
        assert_eq!(s.outcome, StepOutcome::Ok, "{s:#?}");
    }
    assert!(r.step(StepKind::ProxyConnect).is_none());
    let dns = r.step(StepKind::Dns).unwrap();
    assert!(dns.details[0].contains("--resolve"), "{dns:?}");

    let tls = r.tls.as_ref().unwrap();
    assert!(tls.trusted && tls.validation_error.is_none());
    assert_eq!(tls.extra_anchors, 1);
    assert!(tls.protocol.as_deref().unwrap().starts_with("TLSv1."));
    assert_eq!(tls.chain.len(), 2);
    let leaf = &tls.chain[0];
    assert_eq!(
        leaf.subject,
        format!("CN={OCS_HOST}, O=Microsoft Corporation, L=Redmond, ST=WA, C=US")
    );
    assert_eq!(
        leaf.issuer_cn.as_deref(),
        Some("Microsoft Azure RSA TLS Issuing CA 04")
    );
    assert_eq!(leaf.issuer_o.as_deref(), Some("Microsoft Corporation"));
    assert_eq!(leaf.serial, "330000123456789ABC01");
    assert_eq!(
        leaf.dns_names,
        vec![OCS_HOST, "*.officeclient.microsoft.com"]
    );
    let base = w.http.base_url();
    assert_eq!(leaf.crl_urls, vec![format!("{base}{LEAF_CRL_PATH}")]);
    assert_eq!(leaf.ocsp_urls, vec![format!("{base}{OCSP_PATH}")]);
    assert_eq!(leaf.ca_issuers_urls, vec![format!("{base}{LEAF_AIA_PATH}")]);
    assert_eq!(leaf.sct_count, 2);
    assert_eq!(leaf.eku, vec!["serverAuth", "clientAuth"]);
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("EC", Some(256)));
    assert!(!leaf.is_ca && !leaf.self_signed);
    assert_eq!(leaf.sha256.len(), 64);
    assert_eq!(leaf.sha1.len(), 40);
    assert_eq!(leaf.sha256, leaf.sha256.to_uppercase());
    assert_eq!(leaf.aki, tls.chain[1].ski);
    assert!(tls.chain[1].ski.is_some() && leaf.aki.is_some() && leaf.ski.is_some());
    assert!(
        leaf.not_before.ends_with('Z') && leaf.not_after.ends_with('Z'),
        "{leaf:?}"
    );
    assert!(
        leaf.pem
            .as_deref()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    assert!(tls.chain[1].is_ca && !tls.chain[1].self_signed);
    assert_eq!(tls.chain[1].sct_count, 0);

    let ocs = r.ocs.as_ref().unwrap();
    assert_eq!(ocs.status, 200);
    assert!(ocs.from_ocs && ocs.eocs_xml && ocs.has_signature);
    assert_eq!(ocs.mitigation_ids, vec!["PING1"]);
    assert!(ocs.body_excerpt.is_none());
    assert!(
        ocs.headers
            .iter()
            .any(|(k, v)| k == "X-OfficeCluster" && v == "eus2-config.officeapps.live.com")
    );
    // Signer first although the XML lists the PCA first; the timestamp certificate is not in the chain.
    let names: Vec<_> = ocs
        .signing_chain
        .iter()
        .map(|c| c.subject_cn.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "Microsoft Exchange XML Signing",
            "Microsoft Code Signing PCA 2011"
        ]
    );
    // Code Signing plus Microsoft's Exchange-signing EKU, by OID.
    assert_eq!(
        ocs.signing_chain[0].eku,
        vec!["codeSigning", "1.3.6.1.4.1.311.76.57.1.11"]
    );
    assert_eq!(
        ocs.signing_chain[0].crl_urls,
        vec![format!("{base}{SIGNER_CRL_PATH}")]
    );

    // CRLs: TLS leaf + intermediate, signer + PCA + timestamp certificate.
    assert_eq!(r.crls.len(), 5, "{:#?}", r.crls);
    for c in &r.crls {
        assert!(c.fetch.ok && c.fetch.via_proxy.is_none(), "{c:#?}");
        assert_eq!(
            (c.issuer_matches, c.expired, c.revoked),
            (Some(true), Some(false), Some(false)),
            "{c:#?}"
        );
        assert!(c.this_update.is_some() && c.next_update.is_some() && c.parse_error.is_none());
    }
    let leaf_crl = r
        .crls
        .iter()
        .find(|c| c.for_subject.starts_with("CN=officeclient"))
        .unwrap();
    assert_eq!(leaf_crl.chain, ChainRole::Tls);
    assert_eq!(
        leaf_crl.crl_issuer.as_deref(),
        Some("CN=Microsoft Azure RSA TLS Issuing CA 04, O=Microsoft Corporation, C=US")
    );
    // The PCA's CRL covers the signer and the timestamp certificate: one download, one step, two entries.
    let pca_url = format!("{base}{SIGNER_CRL_PATH}");
    assert_eq!(r.crls.iter().filter(|c| c.fetch.url == pca_url).count(), 2);
    let pca_steps: Vec<_> = r
        .steps_of(StepKind::Crl)
        .filter(|s| s.target == pca_url)
        .collect();
    assert_eq!(pca_steps.len(), 1);
    assert_eq!(
        pca_steps[0]
            .details
            .iter()
            .filter(|d| d.starts_with("for "))
            .count(),
        2
    );
    let seen = w.http.requests();
    assert_eq!(
        seen.iter().filter(|q| q.path == SIGNER_CRL_PATH).count(),
        1,
        "{seen:?}"
    );
    assert_eq!(r.steps_of(StepKind::Crl).count(), 4);
    assert!(r.aia.is_empty() && r.step(StepKind::Aia).is_none());

    let ctl = r.ctl.as_ref().unwrap();
    assert!(ctl.ok && ctl.status == Some(200) && ctl.bytes == 512);
    assert_eq!(r.timeout_ms, 5000);
    assert!(r.started_at.ends_with('Z'));
}

#[test]
fn untrusted_chain_recorded_and_ocs_skipped() {
    let w = world(None);
    let r = run(&w.cfg(false));
    dump(&r);
    let tls = r.tls.as_ref().unwrap();
    assert!(!tls.trusted);
    assert_eq!(tls.validation_error.as_deref(), Some("UnknownIssuer"));
    assert_eq!(tls.chain.len(), 2);
    assert_eq!(tls.chain[0].subject_cn.as_deref(), Some(OCS_HOST));
    assert_eq!(tls.chain[0].sct_count, 2);
    let step = r.step(StepKind::Tls).unwrap();
    assert_eq!(step.outcome, StepOutcome::Failed);
    assert!(
        step.reason
            .as_deref()
            .unwrap()
            .starts_with("certificate not trusted: UnknownIssuer"),
        "{step:?}"
    );
    let ocs = r.step(StepKind::OcsRequest).unwrap();
    assert_eq!(
        (ocs.outcome, ocs.reason.as_deref()),
        (StepOutcome::Skipped, Some("TLS not trusted"))
    );
    assert!(r.ocs.is_none());
    // The TLS chain's CRLs are still checked, and the missing issuer is fetched from AIA.
    assert_eq!(r.crls.len(), 2);
    assert!(
        r.crls
            .iter()
            .all(|c| c.fetch.ok && c.chain == ChainRole::Tls)
    );
    assert_eq!(r.aia.len(), 1);
    assert!(r.aia[0].ok && r.aia[0].url.ends_with(INTERMEDIATE_AIA_PATH));
    let aia = r.step(StepKind::Aia).unwrap();
    assert!(
        aia.details
            .iter()
            .any(|d| d.starts_with("got CN=DigiCert Global Root G2")),
        "{aia:?}"
    );
    assert_eq!(outcome(&r, StepKind::Ctl), StepOutcome::Ok);
}

#[test]
fn revoked_leaf_and_expired_crl_through_the_winhttp_proxy() {
    let w = world(None);
    w.http.put(LEAF_CRL_PATH, w.pki.crl_revoking_leaf());
    w.http
        .put(INTERMEDIATE_CRL_PATH, w.pki.crl_expired(CrlOf::TlsRoot));
    let mut c = w.cfg(true);
    // The CRL server also answers absolute-form requests: it stands in for the WinHTTP proxy.
    c.winhttp_proxy = Some(format!("127.0.0.1:{}", w.http.port()));
    let r = run(&c);
    let leaf = r
        .crls
        .iter()
        .find(|c| c.for_subject.starts_with("CN=officeclient"))
        .unwrap();
    assert_eq!(
        (leaf.revoked, leaf.expired, leaf.issuer_matches),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(
        leaf.fetch.via_proxy.as_deref(),
        Some(format!("127.0.0.1:{}", w.http.port()).as_str())
    );
    let int = r
        .crls
        .iter()
        .find(|c| c.for_subject.starts_with("CN=Microsoft Azure"))
        .unwrap();
    assert_eq!((int.revoked, int.expired), (Some(false), Some(true)));
    // Both RFC 3339 in UTC: the recorded nextUpdate is before the probe started.
    let next_update = int.next_update.as_deref().unwrap();
    assert!(
        next_update.ends_with('Z') && next_update < r.started_at.as_str(),
        "{next_update} vs {}",
        r.started_at
    );
    let seen = w.http.requests();
    let base = w.http.base_url();
    for path in [LEAF_CRL_PATH, CTL_PATH] {
        assert!(
            seen.iter()
                .any(|q| q.method == "GET" && q.target == format!("{base}{path}")),
            "{path} in {seen:?}"
        );
    }
    assert_eq!(
        r.winhttp_proxy.as_deref(),
        Some(format!("127.0.0.1:{}", w.http.port()).as_str())
    );
    assert_eq!(outcome(&r, StepKind::OcsRequest), StepOutcome::Ok);
}

#[test]
fn crl_host_refusing_connections() {
    let refused = format!("http://127.0.0.1:{}", servers::closed_port());
    let w = world_with(HttpServer::start(), Pki::new(&refused), None);
    let r = run(&w.cfg(true));
    assert_eq!(outcome(&r, StepKind::OcsRequest), StepOutcome::Ok);
    assert_eq!(r.crls.len(), 5);
    for c in &r.crls {
        assert!(
            !c.fetch.ok && !c.fetch.timed_out && c.fetch.status.is_none(),
            "{c:#?}"
        );
        assert!(
            c.fetch
                .error
                .as_deref()
                .unwrap()
                .starts_with("connection refused"),
            "{c:#?}"
        );
        assert!(c.revoked.is_none() && c.crl_issuer.is_none());
    }
    assert!(
        r.steps_of(StepKind::Crl)
            .all(|s| s.outcome == StepOutcome::Failed)
    );
}

#[test]
fn non_xml_answer_gives_an_excerpt() {
    let page = b"<html><head><title>Blocked</title></head>\r\n<body>Access to officeclient.microsoft.com\tis denied by policy.</body></html>";
    let response = [
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nVia: 1.1 gateway\r\nContent-Length: {}\r\n\r\n", page.len())
            .into_bytes(),
        page.to_vec(),
    ]
    .concat();
    let w = world(Some(response));
    let r = run(&w.cfg(true));
    let ocs = r.ocs.as_ref().unwrap();
    assert!(!ocs.eocs_xml && !ocs.from_ocs && !ocs.has_signature && ocs.signing_chain.is_empty());
    let excerpt = ocs.body_excerpt.as_deref().unwrap();
    assert!(
        excerpt.starts_with("<html><head><title>Blocked</title></head> <body>Access"),
        "{excerpt}"
    );
    assert!(!excerpt.contains(['\r', '\n', '\t']));
    assert_eq!(ocs.body_bytes, u64::try_from(page.len()).unwrap());
    let step = r.step(StepKind::OcsRequest).unwrap();
    assert_eq!(step.outcome, StepOutcome::Failed);
    assert_eq!(step.http_status, Some(200));
    assert!(
        step.reason
            .as_deref()
            .unwrap()
            .contains("not the EOCS XML (text/html)")
    );
}

/// An answer larger than the cap is read up to the cap and no further: the
/// OCS request (hyper over the probe's TLS stream) keeps 4 MiB, says so, and
/// ends without waiting for the rest (the server announces more than it sends).
#[test]
fn oversized_answer_is_cut_at_the_cap() {
    let mut response =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50000000\r\n\r\n".to_vec();
    response.extend(std::iter::repeat_n(b'a', 5 * 1024 * 1024));
    let w = world(Some(response));
    let t = Instant::now();
    let r = run(&w.cfg(true));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let ocs = r.ocs.as_ref().unwrap();
    assert_eq!(ocs.body_bytes, 4 * 1024 * 1024);
    let step = r.step(StepKind::OcsRequest).unwrap();
    assert_eq!(step.outcome, StepOutcome::Failed);
    assert!(
        step.details.iter().any(|d| d == "body cut at 4 MiB"),
        "{step:#?}"
    );
    // The same answer to GetExchangeConfig is a 200: answered, cut at its own 1 MiB cap.
    let config = r.step(StepKind::OcsConfig).unwrap();
    assert_eq!(
        (config.outcome, config.http_status),
        (StepOutcome::Ok, Some(200))
    );
    assert!(
        config.details.iter().any(|d| d == "1048576 body bytes"),
        "{config:#?}"
    );
}

/// The timeout bound: with 1 s, the probe must end before 3 s whatever is silent.
const T: Duration = Duration::from_secs(1);
const BOUND: Duration = Duration::from_secs(3);

#[test]
fn black_holes_everywhere_end_within_the_timeout() {
    let black_hole = BlackHole::start();
    let hole = black_hole.port();
    // DNS: a UDP socket that never answers; OCS via DNS; CTL through a silent WinHTTP proxy.
    let silent_dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let c = ProbeConfig {
        ocs_url: "https://officeclient.microsoft.com/getexchangemitigations".into(),
        dns_server: Some(silent_dns.local_addr().unwrap()),
        winhttp_proxy: Some(format!("127.0.0.1:{hole}")),
        ctl_url: "http://127.0.0.1:9/ctl.cab".into(),
        timeout: T,
        ..ProbeConfig::default()
    };
    let t0 = Instant::now();
    let r = run(&c);
    let elapsed = t0.elapsed();
    dump(&r);
    eprintln!("all-black-hole probe: {} ms", elapsed.as_millis());
    assert!(elapsed < BOUND, "{elapsed:?}");
    assert_eq!(
        outcome(&r, StepKind::Dns),
        StepOutcome::TimedOut,
        "{:#?}",
        r.steps
    );
    for k in [StepKind::Tcp, StepKind::Tls, StepKind::OcsRequest] {
        assert_eq!(outcome(&r, k), StepOutcome::Skipped);
    }
    assert_eq!(outcome(&r, StepKind::Ctl), StepOutcome::TimedOut);
    assert!(r.ctl.as_ref().unwrap().timed_out);
    drop(silent_dns);
}

#[test]
fn silent_ocs_and_silent_crl_hosts_time_out() {
    let black_hole = BlackHole::start();
    let hole = black_hole.port();
    // OCS itself silent (accepts, never answers the ClientHello).
    let t0 = Instant::now();
    let r = run(&cfg(hole, format!("http://127.0.0.1:{hole}/ctl.cab"), T));
    let elapsed = t0.elapsed();
    eprintln!("silent OCS: {} ms", elapsed.as_millis());
    assert!(elapsed < BOUND, "{elapsed:?}");
    assert_eq!(outcome(&r, StepKind::Tcp), StepOutcome::Ok);
    assert_eq!(outcome(&r, StepKind::Tls), StepOutcome::TimedOut);
    assert_eq!(
        r.step(StepKind::OcsRequest).unwrap().reason.as_deref(),
        Some("TLS handshake failed")
    );
    assert_eq!(outcome(&r, StepKind::Ctl), StepOutcome::TimedOut);

    // OCS fine, every CRL host silent.
    let pki = Pki::new(&format!("http://127.0.0.1:{hole}"));
    let w = world_with(HttpServer::start(), pki, None);
    let mut c = w.cfg(true);
    c.timeout = T;
    let t0 = Instant::now();
    let r = run(&c);
    let elapsed = t0.elapsed();
    eprintln!("silent CRL hosts: {} ms", elapsed.as_millis());
    assert!(elapsed < BOUND, "{elapsed:?}");
    assert_eq!(outcome(&r, StepKind::OcsRequest), StepOutcome::Ok);
    assert_eq!(r.crls.len(), 5);
    assert!(r.crls.iter().all(|c| c.fetch.timed_out && !c.fetch.ok));
    assert!(
        r.steps_of(StepKind::Crl)
            .all(|s| s.outcome == StepOutcome::TimedOut)
    );
}

#[test]
fn silent_proxy_times_out_and_credentials_never_show() {
    let black_hole = BlackHole::start();
    let hole = black_hole.port();
    let mut c = cfg(443, "http://127.0.0.1:9/ctl.cab".into(), T);
    c.proxy = Some(format!("http://eemsuser:S3cretPass@127.0.0.1:{hole}/"));
    c.winhttp_proxy = Some(format!("eemsuser:S3cretPass@127.0.0.1:{hole}"));
    let t0 = Instant::now();
    let r = run(&c);
    let elapsed = t0.elapsed();
    dump(&r);
    eprintln!("silent proxy: {} ms", elapsed.as_millis());
    assert!(elapsed < BOUND, "{elapsed:?}");
    let connect = r.step(StepKind::ProxyConnect).unwrap();
    assert_eq!(connect.outcome, StepOutcome::TimedOut);
    assert_eq!(connect.target, format!("127.0.0.1:{hole}"));
    assert_eq!(outcome(&r, StepKind::Tls), StepOutcome::Skipped);
    let dns = r.step(StepKind::Dns).unwrap();
    assert_eq!(dns.target, "127.0.0.1");
    assert!(
        dns.details
            .iter()
            .any(|d| d.contains("officeclient.microsoft.com locally")),
        "{dns:?}"
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains("S3cret") && !json.contains("eemsuser"),
        "{json}"
    );
    // Nor the Base64 form sent in Proxy-Authorization.
    assert!(!json.contains("ZWVtc3VzZXI6UzNjcmV0UGFzcw"));
    assert_eq!(
        r.proxy.as_deref(),
        Some(format!("http://127.0.0.1:{hole}/").as_str())
    );
}

#[test]
fn dns_server_on_a_closed_port_fails_fast() {
    let c = ProbeConfig {
        ocs_url: "https://officeclient.microsoft.com/getexchangemitigations".into(),
        dns_server: Some(
            format!("127.0.0.1:{}", servers::closed_udp_port())
                .parse()
                .unwrap(),
        ),
        ctl_url: format!("http://127.0.0.1:{}/ctl.cab", servers::closed_port()),
        timeout: T,
        ..ProbeConfig::default()
    };
    let t0 = Instant::now();
    let r = run(&c);
    let elapsed = t0.elapsed();
    assert!(elapsed < BOUND, "{elapsed:?}");
    let dns = r.step(StepKind::Dns).unwrap();
    assert!(
        matches!(dns.outcome, StepOutcome::TimedOut | StepOutcome::Failed),
        "{dns:?}"
    );
    assert!(dns.reason.is_some());
    assert_eq!(outcome(&r, StepKind::OcsRequest), StepOutcome::Skipped);
    assert_eq!(outcome(&r, StepKind::Ctl), StepOutcome::Failed);
}

#[test]
fn bad_inputs_are_reported_not_panicked() {
    let r = run(&ProbeConfig {
        ocs_url: "not a url".into(),
        ctl_url: "ftp://127.0.0.1/x".into(),
        timeout: T,
        ..ProbeConfig::default()
    });
    let dns = r.step(StepKind::Dns).unwrap();
    assert!(
        dns.reason
            .as_deref()
            .unwrap()
            .starts_with("invalid --ocs-url")
    );
    assert_eq!(outcome(&r, StepKind::Ctl), StepOutcome::Skipped);
}

#[test]
fn dns_answers_are_told_apart() {
    let w = world(None);
    let url = format!("https://{OCS_HOST}:{}{OCS_PATH}", w.ocs_port());
    let probe = |rcode: u8, a: Option<Ipv4Addr>| {
        let dns = DnsStub::start(rcode, a);
        let mut c = w.cfg(true);
        c.resolve.clear();
        c.ocs_url = url.clone();
        c.dns_server = Some(dns.addr);
        run(&c)
    };
    let r = probe(3, None);
    let dns = r.step(StepKind::Dns).unwrap();
    assert_eq!(dns.outcome, StepOutcome::Failed);
    assert!(
        dns.reason.as_deref().unwrap().starts_with("NXDOMAIN"),
        "{dns:?}"
    );
    assert_eq!(
        r.step(StepKind::Tcp).unwrap().reason.as_deref(),
        Some(format!("DNS lookup of {OCS_HOST} failed").as_str())
    );

    let r = probe(2, None);
    let dns = r.step(StepKind::Dns).unwrap();
    assert_eq!(dns.outcome, StepOutcome::Failed);
    assert!(
        dns.reason.as_deref().unwrap().starts_with("SERVFAIL"),
        "{dns:?}"
    );

    let r = probe(0, None);
    assert!(
        r.step(StepKind::Dns)
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("NODATA"),
        "{:?}",
        r.steps
    );

    let r = probe(0, Some(Ipv4Addr::LOCALHOST));
    let dns = r.step(StepKind::Dns).unwrap();
    assert_eq!(dns.outcome, StepOutcome::Ok, "{dns:?}");
    assert!(
        dns.details[0].starts_with("127.0.0.1 (from DNS server 127.0.0.1:"),
        "{dns:?}"
    );
    assert_eq!(outcome(&r, StepKind::OcsRequest), StepOutcome::Ok);
}

#[test]
fn certificate_for_another_name_is_not_trusted() {
    let w = world(None);
    let mut c = w.cfg(true);
    c.ocs_url = format!("https://eems.example.test:{}{OCS_PATH}", w.ocs_port());
    c.resolve = vec![("eems.example.test".into(), w.ocs_port(), LOCALHOST)];
    let r = run(&c);
    let tls = r.tls.as_ref().unwrap();
    assert_eq!(tls.validation_error.as_deref(), Some("NotValidForName"));
    assert_eq!(tls.chain.len(), 2);
    let reason = r.step(StepKind::Tls).unwrap().reason.clone().unwrap();
    assert!(
        reason.starts_with("certificate not trusted: NotValidForName ("),
        "{reason}"
    );
    assert_eq!(
        r.step(StepKind::OcsRequest).unwrap().reason.as_deref(),
        Some("TLS not trusted")
    );
    // The chain is complete (it ends at a trusted root's child): no AIA download.
    assert!(r.aia.is_empty());
}

#[test]
fn through_a_connect_proxy_with_and_without_credentials() {
    let w = world(None);
    // "eems:pw" in Base64.
    let proxy = ConnectProxy::start(Some("ZWVtczpwdw==".into()));
    let port = proxy.port();
    let mut c = w.cfg(true);
    c.proxy = Some(format!("http://eems:pw@127.0.0.1:{port}"));
    let r = run(&c);
    dump(&r);
    for s in &r.steps {
        assert_eq!(s.outcome, StepOutcome::Ok, "{s:#?}");
    }
    let connect = r.step(StepKind::ProxyConnect).unwrap();
    assert_eq!(
        (connect.http_status, connect.target.clone()),
        (Some(200), format!("127.0.0.1:{port}"))
    );
    assert_eq!(
        connect.details[0],
        format!("CONNECT {OCS_HOST}:{}", w.ocs_port())
    );
    assert!(
        r.step(StepKind::Tls)
            .unwrap()
            .details
            .contains(&"through the proxy tunnel".to_owned())
    );
    assert!(r.ocs.as_ref().unwrap().eocs_xml);
    // GetExchangeConfig took a tunnel of its own, with the credentials too.
    assert_eq!(outcome(&r, StepKind::OcsConfig), StepOutcome::Ok);
    assert_eq!(proxy.heads().len(), 2);
    assert!(
        proxy
            .heads()
            .iter()
            .all(|h| h.contains("Proxy-Authorization: Basic ZWVtczpwdw==\r\n"))
    );
    let head = proxy.heads()[0].clone();
    let ocs_port = w.ocs_port();
    assert!(
        head.starts_with(&format!(
            "CONNECT {OCS_HOST}:{ocs_port} HTTP/1.1\r\nHost: {OCS_HOST}:{ocs_port}\r\n"
        )),
        "{head}"
    );
    // The Exchange proxy is for OCS only: CRLs and the CTL went direct.
    assert!(
        r.crls
            .iter()
            .all(|c| c.fetch.via_proxy.is_none() && c.fetch.ok)
    );
    assert!(!serde_json::to_string(&r).unwrap().contains("eems:pw"));

    c.proxy = Some(format!("http://127.0.0.1:{port}"));
    let r = run(&c);
    let connect = r.step(StepKind::ProxyConnect).unwrap();
    assert_eq!(
        (connect.outcome, connect.http_status),
        (StepOutcome::Failed, Some(407))
    );
    assert_eq!(
        connect.proxy_authenticate.as_deref(),
        Some("Basic realm=\"eems test\"")
    );
    assert!(
        connect
            .reason
            .as_deref()
            .unwrap()
            .contains("no credentials were sent")
    );
    assert_eq!(outcome(&r, StepKind::Tls), StepOutcome::Skipped);
    assert_eq!(outcome(&r, StepKind::OcsRequest), StepOutcome::Skipped);
    let config = r.step(StepKind::OcsConfig).unwrap();
    assert_eq!(config.outcome, StepOutcome::Skipped);
    assert!(
        config
            .reason
            .as_deref()
            .unwrap()
            .contains("same host and path"),
        "{config:#?}"
    );
    assert!(r.tls.is_none() && r.crls.is_empty());
}
