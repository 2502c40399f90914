//! Live probes: walk the path the mitigation service walks and record every
//! step as a fact (DNS, TCP, proxy CONNECT, TLS, the OCS GET, CRL/AIA/CTL
//! downloads through the WinHTTP proxy, and the informative GetExchangeConfig
//! request to the same host). Judging the facts is the checks' job.
//!
//! Layout: `engine` runs the steps; `net` (URLs, proxies, DNS, TCP, CONNECT),
//! `http` (reqwest's and hyper's answers as facts, the CONNECT head), `danger` (the recording TLS verifier),
//! `cert` (certificate and CRL facts) and `ocs` (the OCS answer) are its parts.
//! `unsafe` is denied everywhere but in `os_verify`'s CryptoAPI calls.

#![deny(unsafe_code)]

pub mod cert;
mod danger;
mod engine;
mod http;
mod net;
mod ocs;
pub mod os_verify;
#[cfg(test)]
mod tests;

use eems_parsers::probe_results::{
    PROBE_SCHEMA_VERSION, ProbeReport, ProbeStep, StepKind, StepOutcome,
};
use eems_parsers::uri::strip_credentials;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Default OCS endpoint (the service's own URL).
pub const DEFAULT_OCS_URL: &str = "https://officeclient.microsoft.com/getexchangemitigations";
/// Health Checker's second URL on the OCS host (Feature Flighting): the
/// probe requests this path on the `--ocs-url`'s host, as an informative step.
pub const CONFIG_PATH: &str = "/GetExchangeConfig";
/// Default CTL location Windows fetches root updates from.
pub const DEFAULT_CTL_URL: &str =
    "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab";

/// Everything the probe needs. Built from the `probe` flags.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub ocs_url: String,
    /// Exchange InternetWebProxy (`http://[user:pass@]host:port/`), used for the OCS request only.
    pub proxy: Option<String>,
    /// WinHTTP proxy (`host:port`), used for CRL, AIA and CTL downloads, as Windows does.
    pub winhttp_proxy: Option<String>,
    /// Extra trust anchors (PEM files), added to the OS store.
    pub ca_files: Vec<PathBuf>,
    /// `--resolve HOST:PORT:ADDR` overrides, like curl.
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// DNS server to ask instead of the system configuration.
    pub dns_server: Option<SocketAddr>,
    pub ctl_url: String,
    /// Bound for every step.
    pub timeout: Duration,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            ocs_url: DEFAULT_OCS_URL.to_owned(),
            proxy: None,
            winhttp_proxy: None,
            ca_files: Vec::new(),
            resolve: Vec::new(),
            dns_server: None,
            ctl_url: DEFAULT_CTL_URL.to_owned(),
            timeout: Duration::from_secs(10),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The local host name, as Windows (`COMPUTERNAME`) or Unix names it.
fn local_host_name() -> Option<String> {
    ["COMPUTERNAME", "HOSTNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// Run every probe step. Never panics and always returns a report: failures are data.
/// Ends within about `cfg.timeout` (plus a second) even when every endpoint is silent.
pub fn run(cfg: &ProbeConfig) -> ProbeReport {
    let t0 = Instant::now();
    let mut report = ProbeReport {
        schema_version: PROBE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        host: local_host_name(),
        ocs_url: strip_credentials(&cfg.ocs_url).into_owned(),
        proxy: cfg
            .proxy
            .as_deref()
            .map(|p| strip_credentials(p).into_owned()),
        winhttp_proxy: cfg
            .winhttp_proxy
            .as_deref()
            .map(|p| strip_credentials(p).into_owned()),
        timeout_ms: millis(cfg.timeout),
        ..ProbeReport::default()
    };
    // `block_on` inside another runtime would panic: give the probe its own thread then.
    let walked = if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(|| run_on_new_runtime(cfg, &mut report)).join())
            .unwrap_or_else(|_| Err("the probe thread stopped unexpectedly".into()))
    } else {
        run_on_new_runtime(cfg, &mut report)
    };
    if let Err(e) = walked {
        report.steps.push(ProbeStep {
            kind: StepKind::Dns,
            target: report.ocs_url.clone(),
            outcome: StepOutcome::Failed,
            reason: Some(format!("the probe could not start: {e}")),
            duration_ms: 0,
            details: Vec::new(),
            http_status: None,
            proxy_authenticate: None,
        });
    }
    report.duration_ms = millis(t0.elapsed());
    report
}

fn run_on_new_runtime(cfg: &ProbeConfig, report: &mut ProbeReport) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("eems-probe")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(engine::probe(cfg.clone(), report));
    // Timed-out operations were abandoned, not awaited: do not wait for them now.
    rt.shutdown_background();
    Ok(())
}
