//! `eems-doctor probe`: run the live probes, judge them with the same checks
//! as `analyze`, and optionally save them as evidence for later.

use crate::analyze::emit_report;
use crate::cli::{CliError, ReportArgs, TableArgs};
use eems_checks::check::Context;
use eems_checks::diagnosis::diagnose;
use eems_checks::evidence::{InputSource, InputSummary, ServerEvidence};
use eems_parsers::probe_results::ProbeReport;
use eems_parsers::uri::strip_credentials;
use eems_probe::{self as probe, ProbeConfig};
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
    /// Bound for every step, in seconds (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = crate::cli::parse_timeout)]
    pub timeout: f64,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Also write the probe results (and PEM chains) into DIR, as evidence `analyze` reads later.
    #[arg(long, value_name = "DIR")]
    pub save_evidence: Option<PathBuf>,
    #[command(flatten)]
    pub tables: TableArgs,
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

pub fn run(args: ProbeArgs) -> Result<u8, CliError> {
    // The service only ever asks OCS over HTTPS; anything else is a typo, not
    // a DNS failure to diagnose.
    if !args.ocs_url.to_ascii_lowercase().starts_with("https://") {
        return Err(CliError::usage(format!(
            "--ocs-url must be an https:// URL (the service fetches over HTTPS): {}",
            args.ocs_url
        )));
    }
    let format = args.report.format()?;
    let (table, issuers) = args.tables.load()?;
    if let Some(f) = args.ca_files.iter().find(|f| !f.is_file()) {
        return Err(CliError::usage(format!(
            "--ca-file {}: not a readable file",
            f.display()
        )));
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
    if let Some(dir) = &args.save_evidence {
        save_evidence(dir, &report)
            .map_err(|e| CliError::io(format!("--save-evidence {}", dir.display()), e))?;
    }
    let ev = ServerEvidence {
        server: report.host.clone(),
        inputs: vec![InputSummary {
            path: InputSource::LiveProbe,
            kind: eems_parsers::Kind::ProbeResults,
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
    emit_report(&out, format, args.report.color.color, args.report.output())?;
    Ok(status.exit_code())
}

/// `DIR/probe-results.json` plus one PEM file per chain.
fn save_evidence(dir: &Path, report: &ProbeReport) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("probe-results.json"), json)?;
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
        std::fs::write(dir.join("ocs-tls-chain.pem"), pem(&tls.chain))?;
    }
    if let Some(ocs) = &report.ocs
        && !ocs.signing_chain.is_empty()
    {
        std::fs::write(dir.join("ocs-signing-chain.pem"), pem(&ocs.signing_chain))?;
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
