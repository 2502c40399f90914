//! `eems-doctor probe`: run the live probes, judge them with the same checks
//! as `analyze`, and optionally save them as evidence for later.

use crate::analyze::{ColorChoice, Format, emit_report, load_tables};
use crate::probe::{self, ProbeConfig};
use eems_checks::check::Context;
use eems_checks::diagnosis::diagnose;
use eems_checks::evidence::{InputSource, InputSummary, ServerEvidence};
use eems_parsers::probe_results::ProbeReport;
use eems_parsers::uri::strip_credentials;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// The OCS endpoint.
    #[arg(long, value_name = "URL", default_value = probe::DEFAULT_OCS_URL)]
    pub ocs_url: String,
    /// The Exchange InternetWebProxy (http://host:port), used for the OCS request.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// The WinHTTP proxy (host:port), used for CRL, AIA and CTL downloads.
    #[arg(long, value_name = "HOST:PORT")]
    pub winhttp_proxy: Option<String>,
    /// Extra trust anchors (PEM), added to the OS store. Repeatable.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Resolve HOST:PORT to ADDR without DNS, like curl. Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// Ask this DNS server instead of the system configuration.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
    /// The CTL to fetch through the WinHTTP proxy.
    #[arg(long, value_name = "URL", default_value = probe::DEFAULT_CTL_URL)]
    pub ctl_url: String,
    /// Bound for every step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Report format [default: the `-o` file's extension (.html, .json, .txt), else text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the probe results (and PEM chains) into DIR, as evidence `analyze` reads later.
    #[arg(long, value_name = "DIR")]
    pub save_evidence: Option<PathBuf>,
    /// Use this build table instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    pub builds: Option<PathBuf>,
    /// Extra expected TLS issuers (CSV: name,issued_by,serial,sha1,spki_sha256,status), added to the embedded set.
    #[arg(long, value_name = "FILE")]
    pub tls_issuers: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

pub(crate) fn parse_resolve(s: &str) -> Result<(String, u16, IpAddr), String> {
    // HOST:PORT:ADDR, where ADDR may be an IPv6 address (with or without brackets).
    let (host, rest) = s.split_once(':').ok_or("expected HOST:PORT:ADDR")?;
    let (port, addr) = rest.split_once(':').ok_or("expected HOST:PORT:ADDR")?;
    let port: u16 = port.parse().map_err(|_| format!("bad port `{port}`"))?;
    let addr: IpAddr = addr
        .trim_matches(['[', ']'])
        .parse()
        .map_err(|_| format!("bad address `{addr}`"))?;
    if host.is_empty() {
        return Err("empty host".into());
    }
    Ok((host.to_ascii_lowercase(), port, addr))
}

pub(crate) fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    s.trim_matches(['[', ']'])
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("bad DNS server `{s}` (ADDR or ADDR:PORT)"))
}

pub fn run(args: ProbeArgs) -> u8 {
    // The service only ever asks OCS over HTTPS; anything else is a typo, not
    // a DNS failure to diagnose.
    if !args.ocs_url.to_ascii_lowercase().starts_with("https://") {
        eprintln!(
            "error: --ocs-url must be an https:// URL (the service fetches over HTTPS): {}",
            args.ocs_url
        );
        return crate::EXIT_USAGE;
    }
    let format = match crate::analyze::report_format(args.format, args.output.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::EXIT_USAGE;
        }
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        eprintln!("error: --timeout must be between 0 and 3600 seconds");
        return crate::EXIT_USAGE;
    }
    let (table, issuers) = match load_tables(args.builds.as_deref(), args.tls_issuers.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    for f in &args.ca_files {
        if !f.is_file() {
            eprintln!("error: --ca-file {}: not a readable file", f.display());
            return crate::EXIT_USAGE;
        }
    }
    let cfg = ProbeConfig {
        ocs_url: args.ocs_url.clone(),
        proxy: args.proxy.clone(),
        winhttp_proxy: args.winhttp_proxy.clone(),
        ca_files: args.ca_files.clone(),
        resolve: args.resolve.clone(),
        dns_server: args.dns_server,
        ctl_url: args.ctl_url.clone(),
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let mut report = probe::run(&cfg);
    // Belt and braces: whatever the engine recorded, no credentials leave.
    report.proxy = report
        .proxy
        .as_deref()
        .map(|p| strip_credentials(p).into_owned());
    report.winhttp_proxy = report
        .winhttp_proxy
        .as_deref()
        .map(|p| strip_credentials(p).into_owned());
    if let Some(dir) = &args.save_evidence
        && let Err(e) = save_evidence(dir, &report)
    {
        eprintln!("error: --save-evidence {}: {e}", dir.display());
        return crate::EXIT_USAGE;
    }
    let ev = ServerEvidence {
        server: report.host.clone(),
        inputs: vec![InputSummary {
            path: InputSource::LiveProbe,
            kind: "probe-results".into(),
            status: eems_parsers::Status::Parsed,
            reason: None,
        }],
        probes: Some(report),
        ..ServerEvidence::default()
    };
    let ctx = Context {
        tls_issuers: &issuers,
        ..Context::embedded(&table)
    };
    let diagnosis = diagnose(&ev, &ctx);
    let status = diagnosis.status;
    let out = eems_reports::Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: chrono::Utc::now(),
        servers: vec![diagnosis],
        grouping: Vec::new(),
        unassigned: Vec::new(),
    };
    match emit_report(&out, format, args.color, args.output.as_deref()) {
        Ok(()) => status.exit_code(),
        Err(code) => code,
    }
}

/// `DIR/probe-results.json` plus one PEM file per chain.
fn save_evidence(dir: &Path, report: &ProbeReport) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("probe-results.json"), json).map_err(|e| e.to_string())?;
    let pem = |certs: &[eems_parsers::probe_results::CertInfo]| -> String {
        certs
            .iter()
            .filter_map(|c| c.pem.clone())
            .collect::<Vec<_>>()
            .join("")
    };
    if let Some(tls) = &report.tls
        && !tls.chain.is_empty()
    {
        std::fs::write(dir.join("ocs-tls-chain.pem"), pem(&tls.chain))
            .map_err(|e| e.to_string())?;
    }
    if let Some(ocs) = &report.ocs
        && !ocs.signing_chain.is_empty()
    {
        std::fs::write(dir.join("ocs-signing-chain.pem"), pem(&ocs.signing_chain))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        assert_eq!(
            parse_resolve("officeclient.microsoft.com:443:127.0.0.1").unwrap(),
            (
                "officeclient.microsoft.com".into(),
                443,
                "127.0.0.1".parse().unwrap()
            )
        );
        assert_eq!(
            parse_resolve("h:80:[::1]").unwrap().2,
            "::1".parse::<IpAddr>().unwrap()
        );
        assert!(parse_resolve("h:x:127.0.0.1").is_err());
        assert!(parse_resolve("h:80").is_err());
        assert_eq!(parse_dns_server("127.0.0.1:15353").unwrap().port(), 15353);
        assert_eq!(parse_dns_server("127.0.0.1").unwrap().port(), 53);
        assert!(parse_dns_server("nope").is_err());
    }
}
