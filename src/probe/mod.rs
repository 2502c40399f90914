//! Live probes: walk the path the mitigation service walks and record every
//! step. STUB: the engine is being written (issue "Live probes").

use eems_parsers::probe_results::{PROBE_SCHEMA_VERSION, ProbeReport};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Default OCS endpoint (the service's own URL).
pub const DEFAULT_OCS_URL: &str = "https://officeclient.microsoft.com/getexchangemitigations";
/// Default CTL location Windows fetches root updates from.
pub const DEFAULT_CTL_URL: &str =
    "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab";

/// Everything the probe needs. Built from the `probe` flags.
#[derive(Debug, Clone)]
#[allow(dead_code)] // read by the probe engine (in progress)
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

/// Run every probe step. Never panics and always returns a report: failures are data.
pub fn run(cfg: &ProbeConfig) -> ProbeReport {
    ProbeReport {
        schema_version: PROBE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        ocs_url: cfg.ocs_url.clone(),
        timeout_ms: u64::try_from(cfg.timeout.as_millis()).unwrap_or(u64::MAX),
        ..ProbeReport::default()
    }
}
