//! The probe engine: runs the steps in the service's order, the independent
//! ones concurrently, each network operation under `cfg.timeout`.
//!
//! Timeline: the CTL fetch starts at once (it needs nothing else). The main
//! path is DNS → TCP → CONNECT → TLS → OCS GET; the TLS chain's CRLs (and AIA
//! when the chain is incomplete) start as soon as TLS has a chain, the signing
//! chain's CRLs as soon as the OCS answer is in. Every operation is bounded by
//! `min(now + timeout, hard deadline)`, so silent endpoints cost one timeout
//! each on a path, and paths run side by side.

use super::cert::{self, CrlFacts, cert_info};
use super::danger::{RecordingVerifier, verdict_name};
use super::http::{self, Body, ResponseHead};
use super::net::{self, ProxySpec, Target};
use super::{CONFIG_PATH, ProbeConfig, millis, ocs, os_verify};
use eems_parsers::probe_results::{
    CertInfo, ChainRole, CrlFetch, HttpFetch, OcsResponse, OsStatus, OsVerdict, ProbeReport,
    ProbeStep, StepKind, StepOutcome, TlsResult,
};
use eems_parsers::uri::strip_credentials;
use hickory_resolver::TokioResolver;
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;

/// Caps on what is read into memory.
const OCS_BODY_CAP: usize = 4 * 1024 * 1024;
const CRL_BODY_CAP: usize = 32 * 1024 * 1024;
const AIA_BODY_CAP: usize = 1024 * 1024;
const CTL_BODY_CAP: usize = 4 * 1024 * 1024;
const CONFIG_BODY_CAP: usize = 1024 * 1024;

/// Result of one bounded operation.
enum Op<T> {
    Done(T),
    TimedOut,
}

/// One download (CRL, AIA, CTL) and its step facts.
#[derive(Debug, Clone)]
struct Fetched {
    start: Instant,
    fetch: HttpFetch,
    outcome: StepOutcome,
    reason: Option<String>,
    details: Vec<String>,
    /// The body of a 2xx answer.
    body: Option<Vec<u8>>,
}

/// A CRL distribution point listed by one certificate.
#[derive(Debug, Clone)]
struct CrlUse {
    url: String,
    role: ChainRole,
    cert: CertInfo,
    /// DER of the certificate's issuer when the captured chain holds it:
    /// the key the CRL's signature must verify with.
    issuer_der: Option<Vec<u8>>,
}

/// Fetched once per URL, parsed once.
#[derive(Debug)]
struct CrlEntry {
    fetched: Fetched,
    parsed: Option<Result<CrlFacts, String>>,
}

/// The downloads started along the main path, awaited at the end.
#[derive(Default)]
struct Tasks {
    /// CRL downloads and the local lookup of the OCS name behind a proxy.
    background: Vec<JoinHandle<()>>,
    aia: Vec<JoinHandle<Fetched>>,
}

/// The OCS URL and the Exchange proxy, as the main path walks them.
struct OcsPath {
    target: Target,
    proxy: Option<ProxySpec>,
    /// `host:port` of the OCS URL (the TLS step's target, the CONNECT authority).
    authority: String,
    /// The GetExchangeConfig URL: the same scheme, host and port.
    config: Target,
}

impl OcsPath {
    /// Where the first connection goes: the proxy when there is one.
    fn first_hop(&self) -> (String, u16) {
        match &self.proxy {
            Some(p) => (p.host.clone(), p.port),
            None => (self.target.host.clone(), self.target.port),
        }
    }
}

/// Where the main path stopped: the step that failed (already recorded) and
/// why the steps after it cannot run.
struct Stop {
    failed: StepKind,
    why: String,
}

impl Stop {
    fn after(failed: StepKind, why: String) -> Stop {
        Stop { failed, why }
    }
}

/// A step's record; `Engine::record` stamps its duration.
fn step(
    kind: StepKind,
    target: &str,
    outcome: StepOutcome,
    reason: Option<String>,
    details: Vec<String>,
) -> ProbeStep {
    ProbeStep {
        kind,
        target: target.to_owned(),
        outcome,
        reason,
        duration_ms: 0,
        details,
        http_status: None,
        proxy_authenticate: None,
    }
}

/// How a host name became addresses.
enum Resolved {
    Addrs { addrs: Vec<IpAddr>, note: String },
    Failed { timed_out: bool, reason: String },
}

struct Engine {
    cfg: ProbeConfig,
    hard_deadline: Instant,
    resolver: Result<TokioResolver, String>,
    winhttp: Option<Result<ProxySpec, String>>,
    steps: Mutex<Vec<(Instant, usize, ProbeStep)>>,
    crl_cells: Mutex<HashMap<String, Arc<OnceCell<Arc<CrlEntry>>>>>,
    crl_uses: Mutex<Vec<CrlUse>>,
    /// With a proxy: what the local DNS says about the OCS host (a detail of the DNS step).
    local_ocs_note: Mutex<Option<String>>,
    /// The TLS set-up of the main path, for the GetExchangeConfig connection.
    tls_config: Mutex<Option<Arc<rustls::ClientConfig>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a task panicked mid-update; the data is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Walk every step and fill `report`'s steps and facts.
pub async fn probe(cfg: ProbeConfig, report: &mut ProbeReport) {
    let t0 = Instant::now();
    let resolver = net::build_resolver(cfg.dns_server, cfg.timeout);
    let winhttp = cfg.winhttp_proxy.as_deref().map(net::parse_winhttp_proxy);
    let engine = Arc::new(Engine {
        // A backstop only: each operation has its own bound, and paths run in parallel.
        hard_deadline: t0 + cfg.timeout * 2 + Duration::from_secs(1),
        cfg,
        resolver,
        winhttp,
        steps: Mutex::new(Vec::new()),
        crl_cells: Mutex::new(HashMap::new()),
        crl_uses: Mutex::new(Vec::new()),
        local_ocs_note: Mutex::new(None),
        tls_config: Mutex::new(None),
    });

    // Trust anchors are read from disk while DNS and TCP run.
    let ca_files = engine.cfg.ca_files.clone();
    let anchors = tokio::task::spawn_blocking(move || load_anchors(&ca_files));

    let ctl_engine = Arc::clone(&engine);
    let ctl_task = tokio::spawn(async move { ctl_engine.ctl().await });

    let mut tasks = Tasks::default();
    engine.main_path(anchors, &mut tasks, report).await;

    let ctl = ctl_task.await.ok();
    for h in tasks.background {
        let _ = h.await;
    }
    for h in tasks.aia {
        if let Ok(f) = h.await {
            report.aia.push(f.fetch.clone());
            engine.push_fetch_step(StepKind::Aia, &f, Vec::new());
        }
    }
    report.crls = engine.finish_crls();
    report.ctl = ctl.map(|f| {
        engine.push_fetch_step(StepKind::Ctl, &f, Vec::new());
        f.fetch
    });

    let mut steps = std::mem::take(&mut *lock(&engine.steps));
    if let Some(note) = lock(&engine.local_ocs_note).take()
        && let Some((_, _, dns)) = steps.iter_mut().find(|(_, _, s)| s.kind == StepKind::Dns)
    {
        dns.details.push(note);
    }
    steps.sort_by_key(|(start, seq, _)| (*start, *seq));
    report.steps = steps.into_iter().map(|(_, _, s)| s).collect();
}

/// Anchors: the OS store plus `--ca-file` (PEM, or a single DER certificate).
struct Anchors {
    store: RootCertStore,
    from_ca_files: usize,
    notes: Vec<String>,
}

fn load_anchors(ca_files: &[std::path::PathBuf]) -> Anchors {
    let mut store = RootCertStore::empty();
    let mut notes = Vec::new();
    let native = rustls_native_certs::load_native_certs();
    let (os_added, os_bad) = store.add_parsable_certificates(native.certs);
    notes.push(format!("trust anchors: {os_added} from the OS store"));
    if os_bad > 0 {
        notes.push(format!("{os_bad} OS store certificates could not be used"));
    }
    if !native.errors.is_empty() {
        notes.push(format!(
            "OS store: {} read errors (first: {})",
            native.errors.len(),
            native.errors[0]
        ));
    }
    let mut from_ca_files = 0;
    for f in ca_files {
        let shown = f.display();
        let certs: Vec<CertificateDer<'static>> = match CertificateDer::pem_file_iter(f) {
            Ok(it) => it.filter_map(Result::ok).collect(),
            Err(e) => {
                notes.push(format!("--ca-file {shown}: {e}"));
                continue;
            }
        };
        let certs = if certs.is_empty() {
            // Not PEM: maybe one DER certificate.
            std::fs::read(f)
                .map(|d| vec![CertificateDer::from(d)])
                .unwrap_or_default()
        } else {
            certs
        };
        let (added, bad) = store.add_parsable_certificates(certs);
        from_ca_files += added;
        notes.push(format!(
            "--ca-file {shown}: {added} anchors{}",
            if bad > 0 {
                format!(", {bad} unusable")
            } else {
                String::new()
            }
        ));
    }
    Anchors {
        store,
        from_ca_files,
        notes,
    }
}

impl Engine {
    /// Bound one operation by the step timeout (and the backstop deadline).
    async fn bounded<T>(&self, fut: impl Future<Output = T>) -> Op<T> {
        let deadline = (Instant::now() + self.cfg.timeout).min(self.hard_deadline);
        match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), fut).await {
            Ok(v) => Op::Done(v),
            Err(_) => Op::TimedOut,
        }
    }

    fn timeout_words(&self, what: &str) -> String {
        format!("{what} within {}", secs(self.cfg.timeout))
    }

    /// Keep `step`, its duration measured from `start`.
    fn record(&self, start: Instant, step: ProbeStep) {
        let duration_ms = millis(start.elapsed());
        self.store(
            start,
            ProbeStep {
                duration_ms,
                ..step
            },
        );
    }

    /// Keep `step` as it is; steps are reported in order of `start`.
    fn store(&self, start: Instant, step: ProbeStep) {
        let mut steps = lock(&self.steps);
        let seq = steps.len();
        steps.push((start, seq, step));
    }

    fn skip(&self, kind: StepKind, target: &str, reason: &str) {
        let skipped = step(
            kind,
            target,
            StepOutcome::Skipped,
            Some(reason.to_owned()),
            vec![],
        );
        self.record(Instant::now(), skipped);
    }

    fn push_fetch_step(&self, kind: StepKind, f: &Fetched, extra: Vec<String>) {
        let step = ProbeStep {
            kind,
            target: f.fetch.url.clone(),
            outcome: f.outcome,
            reason: f.reason.clone(),
            duration_ms: f.fetch.duration_ms,
            details: f.details.iter().cloned().chain(extra).collect(),
            http_status: f.fetch.status,
            proxy_authenticate: None,
        };
        self.store(f.start, step);
    }

    fn override_for(&self, host: &str, port: u16) -> Vec<IpAddr> {
        self.cfg
            .resolve
            .iter()
            .filter(|(h, p, _)| h.eq_ignore_ascii_case(host) && *p == port)
            .map(|(_, _, a)| *a)
            .collect()
    }

    /// Name → addresses: `--resolve` first, literals as they are, else DNS. Unbounded: callers bound it.
    async fn resolve(&self, host: &str, port: u16) -> Resolved {
        let forced = self.override_for(host, port);
        if !forced.is_empty() {
            let note = format!(
                "resolved by --resolve to {} (DNS not queried)",
                net::addr_list(&forced)
            );
            return Resolved::Addrs {
                addrs: forced,
                note,
            };
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Resolved::Addrs {
                addrs: vec![ip],
                note: "address literal: no DNS query needed".into(),
            };
        }
        let resolver = match &self.resolver {
            Ok(r) => r,
            Err(e) => {
                return Resolved::Failed {
                    timed_out: false,
                    reason: e.clone(),
                };
            }
        };
        // A dotted name is asked as written (one query), as Windows does first.
        let query = if host.contains('.') {
            format!("{host}.")
        } else {
            host.to_owned()
        };
        match resolver.lookup_ip(query.as_str()).await {
            Ok(l) => {
                let addrs: Vec<IpAddr> = l.iter().collect();
                if addrs.is_empty() {
                    Resolved::Failed {
                        timed_out: false,
                        reason: "no address records for the name".into(),
                    }
                } else {
                    let via = self
                        .cfg
                        .dns_server
                        .map_or("system DNS".to_owned(), |s| format!("DNS server {s}"));
                    let note = format!("{} (from {via})", net::addr_list(&addrs));
                    Resolved::Addrs { addrs, note }
                }
            }
            Err(e) => {
                let (timed_out, reason) = net::dns_error_words(&e);
                Resolved::Failed { timed_out, reason }
            }
        }
    }

    /// DNS, TCP, CONNECT, TLS, OCS GET — each waits for the one before. When
    /// a step fails, the steps after it are recorded as skipped, with why.
    async fn main_path(
        self: &Arc<Self>,
        anchors: JoinHandle<Anchors>,
        tasks: &mut Tasks,
        report: &mut ProbeReport,
    ) {
        let Some(path) = self.ocs_path() else { return };
        if let Err(stop) = self.walk(&path, anchors, tasks, report).await {
            self.skip_after(stop.failed, &path.target, path.proxy.as_ref(), &stop.why);
            let why = format!(
                "{} (the same host and path as the mitigation request)",
                stop.why
            );
            self.skip(StepKind::OcsConfig, &path.config.display, &why);
        }
    }

    async fn walk(
        self: &Arc<Self>,
        path: &OcsPath,
        anchors: JoinHandle<Anchors>,
        tasks: &mut Tasks,
        report: &mut ProbeReport,
    ) -> Result<(), Stop> {
        let addrs = self.dns_step(path, tasks).await?;
        let mut stream = self.tcp_step(path, &addrs).await?;
        if let (Some(proxy), true) = (&path.proxy, path.target.https) {
            self.connect_step(path, proxy, &mut stream).await?;
        }
        if !path.target.https {
            // A plain http URL goes through a proxy as an absolute-form GET.
            self.skip(
                StepKind::Tls,
                &path.authority,
                "the OCS URL is http://: no TLS",
            );
            let (request_target, auth) = match &path.proxy {
                Some(p) => (
                    format!(
                        "http://{}{}",
                        path.target.authority(false),
                        path.target.path
                    ),
                    p.auth.clone(),
                ),
                None => (path.target.path.clone(), None),
            };
            let (ocs, ()) = tokio::join!(
                self.ocs_step(
                    stream,
                    &path.target,
                    &request_target,
                    auth.as_deref(),
                    tasks,
                ),
                self.config_step(path)
            );
            report.ocs = ocs;
            return Ok(());
        }
        let (tls, handshake) = self.tls_step(path, stream, anchors, tasks).await?;
        report.tls = Some(tls);
        let tls_stream = handshake?;
        let (ocs, ()) = tokio::join!(
            self.ocs_step(tls_stream, &path.target, &path.target.path, None, tasks),
            self.config_step(path)
        );
        report.ocs = ocs;
        Ok(())
    }

    /// The OCS URL and the Exchange proxy, parsed; a bad value is recorded as
    /// the first step's failure.
    fn ocs_path(&self) -> Option<OcsPath> {
        let target = match net::parse_target(&self.cfg.ocs_url) {
            Ok(t) => t,
            Err(e) => {
                let shown_url = strip_credentials(&self.cfg.ocs_url);
                let reason = format!("invalid --ocs-url: {e}");
                self.record(
                    Instant::now(),
                    step(
                        StepKind::Dns,
                        &shown_url,
                        StepOutcome::Failed,
                        Some(reason),
                        vec![],
                    ),
                );
                return None;
            }
        };
        let proxy = match self.cfg.proxy.as_deref().map(net::parse_proxy) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                let shown = self
                    .cfg
                    .proxy
                    .as_deref()
                    .map(|p| strip_credentials(p).into_owned())
                    .unwrap_or_default();
                self.record(
                    Instant::now(),
                    step(
                        StepKind::ProxyConnect,
                        &shown,
                        StepOutcome::Failed,
                        Some(e),
                        vec![],
                    ),
                );
                self.skip_after(
                    StepKind::ProxyConnect,
                    &target,
                    None,
                    "the --proxy value is not usable",
                );
                return None;
            }
        };
        let config = Target {
            path: CONFIG_PATH.to_owned(),
            display: format!(
                "{}://{}{CONFIG_PATH}",
                if target.https { "https" } else { "http" },
                target.authority(false)
            ),
            ..target.clone()
        };
        Some(OcsPath {
            authority: target.authority(true),
            target,
            proxy,
            config,
        })
    }

    /// Step 1, DNS: the proxy's name when there is a proxy (the proxy resolves the OCS host).
    async fn dns_step(
        self: &Arc<Self>,
        path: &OcsPath,
        tasks: &mut Tasks,
    ) -> Result<Vec<IpAddr>, Stop> {
        let (target, proxy) = (&path.target, path.proxy.as_ref());
        let (dns_host, dns_port) = path.first_hop();
        let start = Instant::now();
        let mut details = Vec::new();
        if proxy.is_some() && target.host.parse::<IpAddr>().is_err() {
            details.push(format!(
                "{dns_host} is the proxy; the proxy resolves {} itself",
                target.host
            ));
            // Whether the OCS name also resolves locally is context only: look it up on
            // the side, so a slow local DNS never delays the path through the proxy.
            let me = Arc::clone(self);
            let host = target.host.clone();
            let port = target.port;
            tasks.background.push(tokio::spawn(async move {
                let note = match me.bounded(me.resolve(&host, port)).await {
                    Op::Done(Resolved::Addrs { note, .. }) => format!("{host} locally: {note}"),
                    Op::Done(Resolved::Failed { reason, .. }) => {
                        format!("{host} does not resolve locally ({reason}); not needed through the proxy")
                    }
                    Op::TimedOut => format!("{host}: no local DNS answer (not needed through the proxy)"),
                };
                *lock(&me.local_ocs_note) = Some(note);
            }));
        }
        let (outcome, reason) = match self.bounded(self.resolve(&dns_host, dns_port)).await {
            Op::Done(Resolved::Addrs { addrs, note }) => {
                details.insert(0, note);
                self.record(
                    start,
                    step(StepKind::Dns, &dns_host, StepOutcome::Ok, None, details),
                );
                return Ok(addrs);
            }
            Op::Done(Resolved::Failed {
                timed_out: true,
                reason,
            }) => (StepOutcome::TimedOut, reason),
            Op::Done(Resolved::Failed { reason, .. }) => (StepOutcome::Failed, reason),
            Op::TimedOut => (StepOutcome::TimedOut, self.timeout_words("no DNS answer")),
        };
        self.record(
            start,
            step(StepKind::Dns, &dns_host, outcome, Some(reason), details),
        );
        Err(Stop::after(
            StepKind::Dns,
            format!("DNS lookup of {dns_host} failed"),
        ))
    }

    /// Step 2, TCP to the proxy or the OCS host.
    async fn tcp_step(&self, path: &OcsPath, addrs: &[IpAddr]) -> Result<TcpStream, Stop> {
        let (_, port) = path.first_hop();
        let tcp_target = path
            .proxy
            .as_ref()
            .map_or_else(|| path.authority.clone(), |p| p.display.clone());
        let sockaddrs: Vec<SocketAddr> = addrs.iter().map(|a| SocketAddr::new(*a, port)).collect();
        let start = Instant::now();
        let mut tried = Vec::new();
        let no_connection = format!("no TCP connection to {tcp_target}");
        let failed = match self.bounded(net::connect_any(&sockaddrs, &mut tried)).await {
            Op::Done(Ok((s, a))) => {
                let mut d = vec![format!("connected to {a}")];
                d.extend(tried.iter().map(|t| format!("failed first: {t}")));
                self.record(
                    start,
                    step(StepKind::Tcp, &tcp_target, StepOutcome::Ok, None, d),
                );
                return Ok(s);
            }
            Op::Done(Err(e)) => {
                // One address: the reason says it all.
                let details = if tried.len() > 1 { tried } else { Vec::new() };
                step(
                    StepKind::Tcp,
                    &tcp_target,
                    StepOutcome::Failed,
                    Some(e),
                    details,
                )
            }
            Op::TimedOut => {
                let reason = self.timeout_words(&no_connection);
                step(
                    StepKind::Tcp,
                    &tcp_target,
                    StepOutcome::TimedOut,
                    Some(reason),
                    tried,
                )
            }
        };
        self.record(start, failed);
        Err(Stop::after(StepKind::Tcp, no_connection))
    }

    /// Step 3, CONNECT through the proxy (https only).
    async fn connect_step(
        &self,
        path: &OcsPath,
        proxy: &ProxySpec,
        stream: &mut TcpStream,
    ) -> Result<(), Stop> {
        let start = Instant::now();
        let authority = &path.authority;
        let mut details = vec![format!("CONNECT {authority}")];
        let shown = &proxy.display;
        let no_tunnel =
            || Stop::after(StepKind::ProxyConnect, "no tunnel through the proxy".into());
        match self
            .bounded(net::connect_tunnel(stream, proxy, authority))
            .await
        {
            Op::Done(Ok(v)) => {
                details.extend(v.details);
                let outcome = if v.ok {
                    StepOutcome::Ok
                } else {
                    StepOutcome::Failed
                };
                let refused = (!v.ok).then(|| {
                    let why = v.reason.clone();
                    why.unwrap_or_else(|| "the proxy refused the tunnel".into())
                });
                self.record(
                    start,
                    ProbeStep {
                        http_status: Some(v.status),
                        proxy_authenticate: v.proxy_authenticate,
                        ..step(StepKind::ProxyConnect, shown, outcome, v.reason, details)
                    },
                );
                match refused {
                    None => Ok(()),
                    Some(why) => Err(Stop::after(
                        StepKind::ProxyConnect,
                        format!("no tunnel: {why}"),
                    )),
                }
            }
            Op::Done(Err((status, e))) => {
                self.record(
                    start,
                    ProbeStep {
                        http_status: status,
                        ..step(
                            StepKind::ProxyConnect,
                            shown,
                            StepOutcome::Failed,
                            Some(e),
                            details,
                        )
                    },
                );
                Err(no_tunnel())
            }
            Op::TimedOut => {
                let reason = self.timeout_words("the proxy did not answer CONNECT");
                self.record(
                    start,
                    step(
                        StepKind::ProxyConnect,
                        shown,
                        StepOutcome::TimedOut,
                        Some(reason),
                        details,
                    ),
                );
                Err(no_tunnel())
            }
        }
    }

    /// Step 4, TLS: SNI = the OCS host, chain recorded whatever the verdict. The
    /// facts come back whether or not the connection can carry the request.
    async fn tls_step(
        self: &Arc<Self>,
        path: &OcsPath,
        stream: TcpStream,
        anchors: JoinHandle<Anchors>,
        tasks: &mut Tasks,
    ) -> Result<(TlsResult, Result<TlsStream<TcpStream>, Stop>), Stop> {
        let (target, authority) = (&path.target, &path.authority);
        let start = Instant::now();
        // Reading the OS store is local I/O, but a hung file system must not hang the probe either.
        let anchors = match self.bounded(anchors).await {
            Op::Done(Ok(a)) => a,
            _ => Anchors {
                store: RootCertStore::empty(),
                from_ca_files: 0,
                notes: vec!["trust anchors could not be loaded in time".into()],
            },
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls_details = anchors.notes.clone();
        if path.proxy.is_some() {
            tls_details.insert(0, "through the proxy tunnel".into());
        }
        let inner = if anchors.store.is_empty() {
            tls_details.push("no trust anchors at all: nothing can be trusted".into());
            None
        } else {
            match WebPkiServerVerifier::builder_with_provider(
                Arc::new(anchors.store),
                Arc::clone(&provider),
            )
            .build()
            {
                Ok(v) => Some(v),
                Err(e) => {
                    tls_details.push(format!("cannot build the verifier: {e}"));
                    None
                }
            }
        };
        let verifier = Arc::new(RecordingVerifier::new(inner, Arc::clone(&provider)));
        let record = verifier.record();
        let set_up = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))
            .and_then(|b| {
                let config = b
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth();
                let name = ServerName::try_from(target.host.clone())
                    .map_err(|e| format!("bad TLS server name: {e}"))?;
                Ok((config, name))
            });
        let (config, server_name) = match set_up {
            Ok(c) => c,
            Err(reason) => {
                self.record(
                    start,
                    step(
                        StepKind::Tls,
                        authority,
                        StepOutcome::Failed,
                        Some(reason),
                        tls_details,
                    ),
                );
                return Err(Stop::after(StepKind::Tls, "TLS could not start".into()));
            }
        };
        let config = Arc::new(config);
        *lock(&self.tls_config) = Some(Arc::clone(&config));
        let connector = tokio_rustls::TlsConnector::from(config);
        let handshake = self.bounded(connector.connect(server_name, stream)).await;
        let recorded = lock(&record).clone();
        let chain_der: Vec<CertificateDer<'static>> = recorded
            .as_ref()
            .map(|r| r.chain.clone())
            .unwrap_or_default();
        let chain: Vec<CertInfo> = chain_der.iter().map(|c| cert_info(c)).collect();
        let verdict = recorded.as_ref().map(|r| r.verdict.clone());
        let mut tls = TlsResult {
            chain: chain.clone(),
            trusted: false,
            validation_error: match &verdict {
                Some(Err(e)) => Some(verdict_name(e)),
                _ => None,
            },
            extra_anchors: anchors.from_ca_files,
            ..TlsResult::default()
        };
        for (i, c) in chain.iter().enumerate() {
            tls_details.push(format!("chain[{i}]: {} (issuer {})", c.subject, c.issuer));
        }
        if !chain.is_empty() {
            // Revocation facts for the presented chain do not wait for the OCS request.
            self.spawn_crls(&chain, ChainRole::Tls, tasks);
            if let Some(Err(e)) = &verdict
                && verdict_name(e) == "UnknownIssuer"
                && chain.last().is_some_and(|c| !c.self_signed)
            {
                self.spawn_aia(chain.last(), tasks);
            }
        }
        // The OS engine judges the same chain, whatever WebPKI said, with
        // the machine's own stores only (`--ca-file` is not the service's).
        // It may wait on its own CRL downloads: after the probe's started.
        if os_verify::AVAILABLE && !chain_der.is_empty() {
            tls.os_verdict = self.os_verdict(chain_der, &target.host).await;
            if let Some(v) = &tls.os_verdict {
                tls_details.push(os_verify::detail(v));
                let os_trusted = v.status == OsStatus::Trusted;
                if v.status != OsStatus::Unavailable
                    && os_trusted != matches!(verdict, Some(Ok(())))
                {
                    tls_details.push(
                        "the Windows chain engine and the WebPKI verifier disagree about this chain"
                            .into(),
                    );
                }
            }
        }
        let (ended, stream) = match handshake {
            Op::Done(Ok(s)) => {
                let conn = s.get_ref().1;
                tls.protocol = conn.protocol_version().map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
                    other => format!("{other:?}"),
                });
                tls.cipher_suite = conn
                    .negotiated_cipher_suite()
                    .map(|c| format!("{:?}", c.suite()));
                tls.trusted = matches!(verdict, Some(Ok(())));
                tls_details.insert(
                    0,
                    format!(
                        "{} {}",
                        tls.protocol.clone().unwrap_or_default(),
                        tls.cipher_suite.clone().unwrap_or_default()
                    ),
                );
                if tls.trusted {
                    ((StepOutcome::Ok, None), Some(s))
                } else {
                    // Cannot happen with the standard verifier, but never treat it as trusted.
                    let reason = "certificate not verified".to_owned();
                    ((StepOutcome::Failed, Some(reason)), None)
                }
            }
            Op::Done(Err(e)) => {
                let reason = match &verdict {
                    Some(Err(v)) => {
                        let (name, text) = (verdict_name(v), v.to_string());
                        // The context variants say more than the name (which name, which dates).
                        if text.ends_with(&name) {
                            format!("certificate not trusted: {name}")
                        } else {
                            format!("certificate not trusted: {name} ({text})")
                        }
                    }
                    _ => format!("TLS handshake failed: {}", tls_error_words(&e)),
                };
                ((StepOutcome::Failed, Some(reason)), None)
            }
            Op::TimedOut => {
                let reason = self.timeout_words("the TLS handshake did not complete");
                ((StepOutcome::TimedOut, Some(reason)), None)
            }
        };
        let (outcome, reason) = ended;
        self.record(
            start,
            step(StepKind::Tls, authority, outcome, reason, tls_details),
        );
        let stream = stream.ok_or_else(|| {
            let why = match &verdict {
                Some(Err(_)) => "TLS not trusted",
                _ => "TLS handshake failed",
            };
            Stop::after(StepKind::Tls, why.into())
        });
        Ok((tls, stream))
    }

    /// The OS chain engine's verdict on `chain` (blocking: run aside, bounded).
    async fn os_verdict(
        &self,
        chain: Vec<CertificateDer<'static>>,
        host: &str,
    ) -> Option<OsVerdict> {
        let host = host.to_owned();
        // Windows' own retrieval budget (accumulated over all its CRL/OCSP/AIA
        // downloads) ends well before this step's bound, so a black-holed
        // CRL endpoint gives Windows' "offline" verdict, not our timeout.
        let ms = u32::try_from(self.cfg.timeout.as_millis() * 3 / 4).unwrap_or(u32::MAX);
        let job = tokio::task::spawn_blocking(move || os_verify::verify(&chain, &host, ms));
        match self.bounded(job).await {
            Op::Done(Ok(v)) => v,
            Op::Done(Err(e)) => Some(os_verify::unavailable(format!(
                "the OS verifier failed: {e}"
            ))),
            Op::TimedOut => Some(os_verify::unavailable(
                self.timeout_words("the OS chain engine gave no verdict"),
            )),
        }
    }

    /// Record the steps that cannot run after `failed` as skipped.
    fn skip_after(&self, failed: StepKind, target: &Target, proxy: Option<&ProxySpec>, why: &str) {
        let order = [
            StepKind::Dns,
            StepKind::Tcp,
            StepKind::ProxyConnect,
            StepKind::Tls,
            StepKind::OcsRequest,
        ];
        let pos = order.iter().position(|k| *k == failed).unwrap_or(0);
        for k in order.iter().skip(pos + 1) {
            let t = match k {
                StepKind::Tcp => {
                    proxy.map_or_else(|| target.authority(true), |p| p.display.clone())
                }
                StepKind::ProxyConnect if proxy.is_none() || !target.https => continue,
                StepKind::ProxyConnect => proxy.map(|p| p.display.clone()).unwrap_or_default(),
                StepKind::Tls if !target.https => continue,
                StepKind::Tls => target.authority(true),
                _ => target.display.clone(),
            };
            self.skip(*k, &t, why);
        }
    }

    /// Step 5, the OCS GET over the established connection (TLS trusted, or plain http).
    async fn ocs_step<S: AsyncRead + AsyncWrite + Unpin>(
        self: &Arc<Self>,
        stream: S,
        target: &Target,
        request_target: &str,
        proxy_auth: Option<&str>,
        tasks: &mut Tasks,
    ) -> Option<OcsResponse> {
        let start = Instant::now();
        let host_header = target.authority(false);
        let exchange = http::get(
            stream,
            request_target,
            &host_header,
            proxy_auth,
            OCS_BODY_CAP,
        );
        let (outcome, reason) = match self.bounded(exchange).await {
            Op::Done(Ok(hb)) => return Some(self.ocs_answer(start, target, hb, tasks)),
            Op::Done(Err(e)) => (StepOutcome::Failed, e),
            Op::TimedOut => (
                StepOutcome::TimedOut,
                self.timeout_words("no HTTP answer from OCS"),
            ),
        };
        let failed = step(
            StepKind::OcsRequest,
            &target.display,
            outcome,
            Some(reason),
            vec![],
        );
        self.record(start, failed);
        None
    }

    /// The informative GetExchangeConfig request (Health Checker's second
    /// URL): the same host and network path as the mitigation request, on a
    /// connection of its own, bounded as a whole by one timeout. The checks
    /// never judge it; it says whether the host answers at all when the
    /// mitigation request fails.
    async fn config_step(&self, path: &OcsPath) {
        let start = Instant::now();
        let result = self.bounded(self.config_exchange(path)).await;
        let mut status = None;
        let (outcome, reason, details) = match result {
            Op::Done(Ok((head, body))) => {
                status = Some(head.status);
                let office: Vec<String> = ["X-OfficeCluster", "X-OfficeFE"]
                    .iter()
                    .filter_map(|h| head.header(h).map(|v| format!("{h}: {v}")))
                    .collect();
                let mut details = vec![
                    head.status_line.clone(),
                    format!("{} body bytes", body.data.len()),
                ];
                details.push(if office.is_empty() {
                    "no X-OfficeCluster/X-OfficeFE header: the answer may not come from OCS".into()
                } else {
                    format!("answered by OCS ({})", office.join(", "))
                });
                if let Some(e) = &body.error {
                    details.push(format!("body incomplete: {e}"));
                }
                if (200..300).contains(&head.status) {
                    (StepOutcome::Ok, None, details)
                } else {
                    let answered = format!("{} {}", head.status, head.reason);
                    let reason = format!("answered HTTP {}", answered.trim_end());
                    (StepOutcome::Failed, Some(reason), details)
                }
            }
            Op::Done(Err(e)) => (StepOutcome::Failed, Some(e), Vec::new()),
            Op::TimedOut => (
                StepOutcome::TimedOut,
                Some(self.timeout_words("no answer to GetExchangeConfig")),
                Vec::new(),
            ),
        };
        let s = step(
            StepKind::OcsConfig,
            &path.config.display,
            outcome,
            reason,
            details,
        );
        self.record(
            start,
            ProbeStep {
                http_status: status,
                ..s
            },
        );
    }

    /// DNS, TCP, CONNECT, TLS and the GET of GetExchangeConfig, as the main
    /// path walks them; the first failure in words.
    async fn config_exchange(&self, path: &OcsPath) -> Result<(ResponseHead, Body), String> {
        let (host, port) = path.first_hop();
        let addrs = match self.resolve(&host, port).await {
            Resolved::Addrs { addrs, .. } => addrs,
            Resolved::Failed { reason, .. } => {
                return Err(format!("DNS lookup of {host} failed: {reason}"));
            }
        };
        let sockaddrs: Vec<SocketAddr> = addrs.iter().map(|a| SocketAddr::new(*a, port)).collect();
        let (mut tcp, _) = net::connect_any(&sockaddrs, &mut Vec::new()).await?;
        let target = &path.config;
        let host_header = target.authority(false);
        if !target.https {
            // Through a proxy a plain http URL is an absolute-form GET.
            let (request_target, auth) = match &path.proxy {
                Some(p) => (
                    format!("http://{host_header}{}", target.path),
                    p.auth.as_deref(),
                ),
                None => (target.path.clone(), None),
            };
            return http::get(tcp, &request_target, &host_header, auth, CONFIG_BODY_CAP).await;
        }
        if let Some(proxy) = &path.proxy {
            let v = net::connect_tunnel(&mut tcp, proxy, &path.authority)
                .await
                .map_err(|(_, e)| e)?;
            if !v.ok {
                let status = v.status;
                return Err(v
                    .reason
                    .unwrap_or_else(|| format!("the proxy answered CONNECT with HTTP {status}")));
            }
        }
        let config = lock(&self.tls_config).clone().ok_or("TLS was not set up")?;
        let name = ServerName::try_from(target.host.clone())
            .map_err(|e| format!("bad TLS server name: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {}", tls_error_words(&e)))?;
        http::get(tls, &target.path, &host_header, None, CONFIG_BODY_CAP).await
    }

    /// The OCS answer's facts and step; the signing chain's CRLs start now.
    fn ocs_answer(
        self: &Arc<Self>,
        start: Instant,
        target: &Target,
        (head, body): (ResponseHead, Body),
        tasks: &mut Tasks,
    ) -> OcsResponse {
        let (resp, timestamp_chain) = ocs::analyze(&head, &body.data);
        let mut details = vec![
            head.status_line.clone(),
            format!("{} body bytes", body.data.len()),
        ];
        if body.truncated {
            details.push(format!("body cut at {} MiB", OCS_BODY_CAP / (1024 * 1024)));
        }
        if let Some(e) = &body.error {
            details.push(format!("body incomplete: {e}"));
        }
        if resp.eocs_xml {
            details.push(format!(
                "EOCS XML, {} mitigation(s), signature {}, {} signing certificate(s)",
                resp.mitigation_ids.len(),
                if resp.has_signature {
                    "present"
                } else {
                    "missing"
                },
                resp.signing_chain.len()
            ));
        }
        for c in &timestamp_chain {
            details.push(format!("timestamp chain: {}", c.subject));
        }
        let ok_status = (200..300).contains(&head.status);
        let (outcome, reason) = if !ok_status {
            (
                StepOutcome::Failed,
                Some(format!(
                    "OCS answered HTTP {}",
                    format!("{} {}", head.status, head.reason).trim_end()
                )),
            )
        } else if !resp.eocs_xml {
            let ct = head.header("content-type").unwrap_or("no Content-Type");
            (
                StepOutcome::Failed,
                Some(format!("the answer is not the EOCS XML ({ct})")),
            )
        } else {
            (StepOutcome::Ok, None)
        };
        self.record(
            start,
            ProbeStep {
                http_status: Some(head.status),
                ..step(
                    StepKind::OcsRequest,
                    &target.display,
                    outcome,
                    reason,
                    details,
                )
            },
        );
        let mut signing: Vec<CertInfo> = resp.signing_chain.clone();
        signing.extend(timestamp_chain);
        self.spawn_crls(&signing, ChainRole::Signing, tasks);
        resp
    }

    /// One GET through the WinHTTP proxy (absolute-form) or directly, bounded as a whole.
    async fn fetch(&self, url: &str, cap: usize) -> Fetched {
        let start = Instant::now();
        let shown = strip_credentials(url).into_owned();
        let via = match &self.winhttp {
            Some(Ok(p)) => Some(p.display.clone()),
            _ => None,
        };
        let mut f = Fetched {
            start,
            fetch: HttpFetch {
                url: shown.clone(),
                via_proxy: via.clone(),
                ..HttpFetch::default()
            },
            outcome: StepOutcome::Failed,
            reason: None,
            details: vec![
                via.as_ref()
                    .map_or("direct (no WinHTTP proxy)".to_owned(), |p| {
                        format!("via WinHTTP proxy {p}")
                    }),
            ],
            body: None,
        };
        let target = match net::parse_target(url) {
            Ok(t) if !t.https => t,
            Ok(_) => {
                f.outcome = StepOutcome::Skipped;
                f.reason = Some(
                    "https:// URL: only http:// downloads are made (as for CRLs and the CTL)"
                        .into(),
                );
                f.fetch.error = f.reason.clone();
                return f;
            }
            Err(e) => {
                f.outcome = StepOutcome::Skipped;
                f.reason = Some(format!("not fetched: {e}"));
                f.fetch.error = f.reason.clone();
                return f;
            }
        };
        let result = self
            .bounded(self.fetch_inner(&target, cap, &mut f.details))
            .await;
        f.fetch.duration_ms = millis(start.elapsed());
        match result {
            Op::TimedOut => {
                f.outcome = StepOutcome::TimedOut;
                f.fetch.timed_out = true;
                f.reason = Some(self.timeout_words("no complete answer"));
                f.fetch.error = f.reason.clone();
            }
            Op::Done(Err(e)) => {
                f.reason = Some(e);
                f.fetch.error = f.reason.clone();
            }
            Op::Done(Ok((head, body))) => {
                f.fetch.status = Some(head.status);
                f.fetch.bytes = u64::try_from(body.data.len()).unwrap_or(u64::MAX);
                f.details.push(head.status_line.clone());
                for name in ["Content-Type", "Server", "Via", "X-Squid-Error"] {
                    if let Some(v) = head.header(name) {
                        f.details.push(format!("{name}: {v}"));
                    }
                }
                if body.truncated {
                    f.details.push(format!("body cut at {} KiB", cap / 1024));
                }
                if (200..300).contains(&head.status) {
                    f.fetch.ok = true;
                    f.outcome = StepOutcome::Ok;
                    if let Some(e) = body.error {
                        f.details.push(format!("body incomplete: {e}"));
                    }
                    f.body = Some(body.data);
                } else {
                    let via_text = via
                        .as_ref()
                        .map(|p| format!(" (through the WinHTTP proxy {p})"))
                        .unwrap_or_default();
                    f.reason = Some(format!("HTTP {} {}{via_text}", head.status, head.reason));
                    f.fetch.error = f.reason.clone();
                }
            }
        }
        f
    }

    /// One plain GET with reqwest, through the WinHTTP proxy (absolute-form)
    /// or directly. As the service's own retrieval: no redirects followed, no
    /// environment proxies; and the addresses are the ones the probe resolved
    /// itself, so `--resolve` and `--dns-server` hold for downloads too.
    async fn fetch_inner(
        &self,
        target: &Target,
        cap: usize,
        details: &mut Vec<String>,
    ) -> Result<(ResponseHead, Body), String> {
        let (host, port, what) = match &self.winhttp {
            Some(Err(e)) => return Err(format!("invalid --winhttp-proxy: {e}")),
            Some(Ok(p)) => (
                p.host.clone(),
                p.port,
                Some(format!("the WinHTTP proxy {}", p.display)),
            ),
            None => (target.host.clone(), target.port, None),
        };
        let addrs = match self.resolve(&host, port).await {
            Resolved::Addrs { addrs, note } => {
                if host.parse::<IpAddr>().is_err() {
                    details.push(format!("{host}: {note}"));
                }
                addrs
            }
            Resolved::Failed { reason, .. } => {
                let of = what
                    .as_deref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default();
                return Err(format!("DNS lookup of {host}{of} failed: {reason}"));
            }
        };
        let sockaddrs: Vec<SocketAddr> = addrs.iter().map(|a| SocketAddr::new(*a, port)).collect();
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("eems-doctor/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(0)
            .no_proxy();
        if host.parse::<IpAddr>().is_err() {
            client = client.resolve_to_addrs(&host, &sockaddrs);
        }
        if let Some(Ok(p)) = &self.winhttp {
            let mut proxy = reqwest::Proxy::http(format!("http://{}", p.display))
                .map_err(|e| format!("invalid --winhttp-proxy: {e}"))?;
            if let Some(auth) = &p.auth
                && let Ok(v) = reqwest::header::HeaderValue::from_str(&format!("Basic {auth}"))
            {
                proxy = proxy.custom_http_auth(v);
            }
            client = client.proxy(proxy);
        }
        let client = client
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let url = format!("http://{}{}", target.authority(false), target.path);
        let mut response = client.get(&url).send().await.map_err(|e| {
            let words = http::request_words(&e);
            match &what {
                Some(w) if e.is_connect() => format!("cannot reach {w}: {words}"),
                _ => words,
            }
        })?;
        let head = http::response_head(&response);
        let body = http::read_capped(&mut response, cap).await;
        Ok((head, body))
    }

    async fn ctl(&self) -> Fetched {
        let url = self.cfg.ctl_url.clone();
        self.fetch(&url, CTL_BODY_CAP).await
    }

    /// Register every CDP of `certs`; each URL is fetched once (the first registration spawns it).
    fn spawn_crls(self: &Arc<Self>, certs: &[CertInfo], role: ChainRole, tasks: &mut Tasks) {
        for c in certs {
            for url in &c.crl_urls {
                lock(&self.crl_uses).push(CrlUse {
                    url: url.clone(),
                    role,
                    cert: c.clone(),
                    issuer_der: issuer_der(c, certs),
                });
                let (cell, fresh) = {
                    let mut cells = lock(&self.crl_cells);
                    match cells.get(url) {
                        Some(cell) => (Arc::clone(cell), false),
                        None => {
                            let cell = Arc::new(OnceCell::new());
                            cells.insert(url.clone(), Arc::clone(&cell));
                            (cell, true)
                        }
                    }
                };
                if fresh {
                    let me = Arc::clone(self);
                    let url = url.clone();
                    tasks.background.push(tokio::spawn(async move {
                        cell.get_or_init(|| async {
                            let fetched = me.fetch(&url, CRL_BODY_CAP).await;
                            let parsed = fetched.body.as_deref().map(cert::parse_crl);
                            Arc::new(CrlEntry { fetched, parsed })
                        })
                        .await;
                    }));
                }
            }
        }
    }

    fn spawn_aia(self: &Arc<Self>, last: Option<&CertInfo>, tasks: &mut Tasks) {
        let Some(last) = last else { return };
        if last.ca_issuers_urls.is_empty() {
            let reason = format!(
                "the chain is incomplete but {} has no caIssuers URL",
                last.subject
            );
            self.skip(StepKind::Aia, &last.subject, &reason);
            return;
        }
        for url in last.ca_issuers_urls.clone() {
            let me = Arc::clone(self);
            let subject = last.subject.clone();
            tasks.aia.push(tokio::spawn(async move {
                let mut f = me.fetch(&url, AIA_BODY_CAP).await;
                f.details.push(format!("issuer of {subject}"));
                if let Some(body) = &f.body {
                    let info = cert_info(body);
                    let got = if info.subject.starts_with("(unparsable") {
                        format!("not a DER certificate ({} bytes)", body.len())
                    } else {
                        format!("got {}", info.subject)
                    };
                    f.details.push(got);
                }
                f
            }));
        }
    }

    /// One `CrlFetch` per (URL, certificate), one step per URL.
    fn finish_crls(&self) -> Vec<CrlFetch> {
        let uses = std::mem::take(&mut *lock(&self.crl_uses));
        let cells: HashMap<String, Arc<OnceCell<Arc<CrlEntry>>>> = lock(&self.crl_cells).clone();
        let mut out = Vec::with_capacity(uses.len());
        for u in &uses {
            let Some(entry) = cells.get(&u.url).and_then(|c| c.get()) else {
                continue;
            };
            let mut c = CrlFetch {
                fetch: entry.fetched.fetch.clone(),
                chain: u.role,
                for_subject: u.cert.subject.clone(),
                crl_issuer: None,
                issuer_matches: None,
                this_update: None,
                next_update: None,
                expired: None,
                revoked: None,
                parse_error: None,
                signature: None,
            };
            // Every body gets a verdict when the issuer's key is at hand: a
            // page that is no CRL at all did not verify either.
            if let (Some(body), Some(issuer)) = (&entry.fetched.body, &u.issuer_der) {
                c.signature = Some(eems_xmldsig::crl::verify(body, issuer));
            }
            match &entry.parsed {
                Some(Ok(facts)) => {
                    c.crl_issuer = Some(facts.issuer.clone());
                    c.issuer_matches = Some(facts.issuer.eq_ignore_ascii_case(&u.cert.issuer));
                    c.this_update = Some(facts.this_update.clone());
                    c.next_update = facts.next_update.clone();
                    c.expired = facts.expired;
                    c.revoked = Some(facts.lists(&u.cert.serial));
                }
                Some(Err(e)) => c.parse_error = Some(e.clone()),
                None => {}
            }
            out.push(c);
        }
        let mut urls: Vec<&String> = cells.keys().collect();
        urls.sort();
        for url in urls {
            let Some(entry) = cells.get(url).and_then(|c| c.get()) else {
                continue;
            };
            let mut extra: Vec<String> = uses
                .iter()
                .filter(|u| &u.url == url)
                .map(|u| {
                    let role = match u.role {
                        ChainRole::Tls => "TLS",
                        ChainRole::Signing => "signing",
                    };
                    let sig = out
                        .iter()
                        .find(|c| {
                            c.fetch.url == u.url
                                && c.for_subject == u.cert.subject
                                && c.chain == u.role
                        })
                        .and_then(|c| c.signature.as_ref());
                    let sig = match (sig, entry.parsed.as_ref().map(Result::is_ok)) {
                        (Some(v), _) => format!(", signature: {}", v.words()),
                        (None, Some(true)) => format!(
                            ", signature not checked: the issuer {} is not in the captured chain",
                            u.cert.issuer
                        ),
                        _ => String::new(),
                    };
                    format!("for {} ({role} chain){sig}", u.cert.subject)
                })
                .collect();
            match &entry.parsed {
                Some(Ok(f)) => extra.push(format!(
                    "CRL by {}, thisUpdate {}, nextUpdate {}, {} entries",
                    f.issuer,
                    f.this_update,
                    f.next_update.as_deref().unwrap_or("none"),
                    f.revoked.len()
                )),
                Some(Err(e)) => extra.push(format!("unreadable CRL: {e}")),
                None => {}
            }
            self.push_fetch_step(StepKind::Crl, &entry.fetched, extra);
        }
        out
    }
}

/// The certificate of `certs` that issued `c` (by name; not `c` itself
/// unless it is self-signed), in DER.
fn issuer_der(c: &CertInfo, certs: &[CertInfo]) -> Option<Vec<u8>> {
    let i = certs
        .iter()
        .find(|i| i.subject == c.issuer && (i.sha256 != c.sha256 || c.self_signed))?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(i.pem.as_deref()?.as_bytes()).ok()?;
    Some(pem.contents)
}

fn tls_error_words(e: &std::io::Error) -> String {
    // tokio-rustls wraps rustls errors in io::Error; show the inner text.
    match e.get_ref() {
        Some(inner) => inner.to_string(),
        None => http::io_words(e),
    }
}
