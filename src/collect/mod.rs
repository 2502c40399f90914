//! `eems-doctor collect`: run the standard Windows tools, keep their raw
//! output byte for byte, copy the MitigationService logs, optionally probe,
//! and write a bundle (directory or one `.zip`) with `manifest.json`.
//!
//! Nothing here is fatal except an unusable `--out`: a missing tool, a
//! failing command or a denied file becomes a manifest entry and the
//! collection goes on.

pub mod runner;

use crate::cli::CliError;
use crate::redact::Redactor;
use eems_probe::{self as probe, ProbeConfig};
use serde::Serialize;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Bound for one tool; `Get-ExchangeServer` loading the snap-in can take a minute.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound for one copied log file: MitigationService logs are small; a huge
/// file is not one of them.
const MAX_LOG_FILE: u64 = 256 * 1024 * 1024;

#[derive(clap::Args, Debug, Clone)]
pub struct CollectArgs {
    /// The bundle folder (with `--zip`: the bundle is `DIR.zip`).
    // `--out` was its name before `--out-dir`: scheduled tasks still say it.
    #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Exchange install path (default: `ExchangeInstallPath`, then the Setup registry value).
    #[arg(long, value_name = "PATH")]
    pub exchange_path: Option<String>,
    /// Copy MitigationService logs changed in the last DAYS days.
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub since: u32,
    /// Copy at most SIZE of MitigationService logs in all, newest first;
    /// the logs left out are named in the manifest. Suffixes K, M, G.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = crate::inputs::parse_size)]
    pub max_logs_size: u64,
    /// Do not run the live network probes.
    #[arg(long)]
    pub no_probe: bool,
    /// Replace host names, domains, addresses, user names and proxy credentials with pseudonyms.
    #[arg(long)]
    pub redact: bool,
    /// Write the bundle as one `.zip` instead of a directory.
    #[arg(long)]
    pub zip: bool,
    /// Test/lab: the OCS endpoint the probe asks.
    #[arg(long, value_name = "URL", default_value = probe::DEFAULT_OCS_URL)]
    pub ocs_url: String,
    /// Test/lab: extra trust anchors (PEM) for the probe. Repeatable.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Test/lab: resolve HOST:PORT to ADDR without DNS in the probe. Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = crate::probe_cmd::parse_resolve)]
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// Test/lab: DNS server for the probe instead of the system configuration.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = crate::probe_cmd::parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
    /// Test/lab: the CTL the probe fetches through the WinHTTP proxy.
    #[arg(long, value_name = "URL", default_value = probe::DEFAULT_CTL_URL)]
    pub ctl_url: String,
    /// Time limit for each tool, in seconds (1 to 86400): past it the tool
    /// and every process it started are stopped, and the manifest says so.
    #[arg(long, value_name = "SECS", default_value_t = COMMAND_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub tool_timeout: u64,
    /// Bound for every probe step, in seconds (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = crate::cli::parse_timeout)]
    pub probe_timeout: f64,
}

/// One entry of `manifest.json`.
#[derive(Debug, Serialize, Clone)]
pub struct ManifestItem {
    pub name: String,
    pub command: String,
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// The file in the bundle (`/`-separated, relative), when one was written.
    pub output: Option<String>,
    pub error: Option<String>,
    /// Where the tool was found (Windows `PATH`/`PATHEXT` lookup): a
    /// stand-in or an unexpected copy shows here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The tool's standard error, as text (first 4 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Files copied by a copy item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub tool_version: String,
    pub host: Option<String>,
    pub collected_at: String,
    pub redacted: bool,
    pub os: &'static str,
    /// Windows: the code pages console tools wrote their output in (OEM, e.g.
    /// 850 on a German server) and the ANSI one, to read the raw files by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_pages: Option<CodePages>,
    pub exchange_path: Option<String>,
    pub since_days: u32,
    pub items: Vec<ManifestItem>,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct CodePages {
    pub oem: u32,
    pub ansi: u32,
}

#[cfg(windows)]
#[allow(unsafe_code)] // two argument-less kernel32 queries
fn code_pages() -> Option<CodePages> {
    use windows_sys::Win32::Globalization::{GetACP, GetOEMCP};
    // SAFETY: no arguments, no pointers; they cannot fail.
    let (oem, ansi) = unsafe { (GetOEMCP(), GetACP()) };
    Some(CodePages { oem, ansi })
}

#[cfg(not(windows))]
fn code_pages() -> Option<CodePages> {
    None
}

/// What `collect` produced.
pub struct Bundle {
    /// The bundle directory or `.zip`.
    pub path: PathBuf,
    /// The pseudonyms used, to apply to the reports too (with `--redact`).
    pub redactor: Option<Redactor>,
}

/// One command of the contract.
struct Command {
    name: &'static str,
    file: &'static str,
    program: &'static str,
    args: Vec<runner::Arg>,
    display: String,
}

/// `reg query` items: name, output file, key, and what to add after the key.
const REG_KEYS: [(&str, &str, &str, &[&str]); 8] = [
    (
        "winhttp-settings",
        "reg-query-winhttpsettings.txt",
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections",
        &["/v", "WinHttpSettings"],
    ),
    (
        "winhttp-settings-wow6432node",
        "reg-query-winhttpsettings-wow6432node.txt",
        r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Internet Settings\Connections",
        &["/v", "WinHttpSettings"],
    ),
    (
        "authroot-policy",
        "reg-query-authroot-policy.txt",
        r"HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot",
        &[],
    ),
    (
        "chainengine-config",
        "reg-query-chainengine-config.txt",
        r"HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\ChainEngine\Config",
        &[],
    ),
    (
        "exchange-setup",
        "reg-query-exchange-setup.txt",
        r"HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Setup",
        &[],
    ),
    // TLS 1.2 for the service's outgoing handshake (tls-config-weak): `/s`
    // prints the Client and Server subkeys; a missing key means the defaults.
    (
        "schannel-tls12",
        "reg-query-schannel-tls12.txt",
        r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2",
        &["/s"],
    ),
    (
        "dotnet-v4",
        "reg-query-dotnet-v4.txt",
        r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319",
        &[],
    ),
    (
        "dotnet-v4-wow6432node",
        "reg-query-dotnet-v4-wow6432node.txt",
        r"HKLM\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319",
        &[],
    ),
];

const EVENT_QUERY: &str =
    "*[System[Provider[@Name='MSExchange Mitigation Service'] or (EventID=4999)]]";

fn reg(name: &'static str, file: &'static str, key: &str, extra: &[&str]) -> Command {
    let mut args: Vec<runner::Arg> = vec!["query".into(), key.into()];
    let mut display = format!("reg query \"{key}\"");
    for a in extra {
        args.push((*a).into());
        display.push(' ');
        display.push_str(a);
    }
    Command {
        name,
        file,
        program: "reg",
        args,
        display,
    }
}

fn powershell(name: &'static str, file: &'static str, script: String) -> Command {
    Command {
        name,
        file,
        program: "powershell.exe",
        display: format!("powershell.exe -NoProfile -NonInteractive -Command \"{script}\""),
        args: vec![
            "-NoProfile".into(),
            "-NonInteractive".into(),
            "-Command".into(),
            script.into(),
        ],
    }
}

/// The Exchange cmdlets need the snap-in (or a remote session) first.
const EXCHANGE_SNAPIN: &str =
    "Add-PSSnapin Microsoft.Exchange.Management.PowerShell.SnapIn -ErrorAction SilentlyContinue; ";

fn powershell_commands(exchange_path: Option<&str>) -> Vec<Command> {
    let exsetup = match exchange_path {
        Some(p) => format!(
            "'{}\\bin\\ExSetup.exe'",
            p.trim_end_matches(['\\', '/']).replace('\'', "''")
        ),
        None => "ExSetup.exe".to_owned(),
    };
    vec![
        powershell(
            "get-exchangeserver",
            "get-exchangeserver-fl.txt",
            format!(
                "{EXCHANGE_SNAPIN}Get-ExchangeServer $env:COMPUTERNAME | Format-List Name,Fqdn,AdminDisplayVersion,ServerRole,IsEdgeServer,*Mitigation*,DataCollectionEnabled,InternetWebProxy,InternetWebProxyBypassList"
            ),
        ),
        powershell(
            "get-organizationconfig",
            "get-organizationconfig-fl.txt",
            format!("{EXCHANGE_SNAPIN}Get-OrganizationConfig | Format-List MitigationsEnabled"),
        ),
        powershell(
            "get-service",
            "get-service.txt",
            "Get-Service MSExchangeMitigation | Format-List Name,Status,StartType".to_owned(),
        ),
        powershell(
            "exsetup-version",
            "exsetup-version.txt",
            format!("(Get-Command {exsetup}).FileVersionInfo | Format-List FileVersion"),
        ),
    ]
}

fn netsh(name: &'static str, file: &'static str, what: &str) -> Command {
    Command {
        name,
        file,
        program: "netsh",
        args: vec!["winhttp".into(), "show".into(), what.into()],
        display: format!("netsh winhttp show {what}"),
    }
}

fn wevtutil() -> Command {
    Command {
        name: "events",
        file: "events-mitigation.xml",
        program: "wevtutil",
        // The query has spaces: on Windows it is written `/q:"…"` as
        // documented (the standard quoting would quote the whole argument).
        args: vec![
            "qe".into(),
            "Application".into(),
            runner::Arg::Raw {
                raw: format!("/q:\"{EVENT_QUERY}\""),
                plain: format!("/q:{EVENT_QUERY}"),
            },
            "/f:xml".into(),
            "/rd:true".into(),
            "/c:500".into(),
        ],
        display: format!("wevtutil qe Application /q:\"{EVENT_QUERY}\" /f:xml /rd:true /c:500"),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The local host name, as Windows (`COMPUTERNAME`) or Unix names it.
pub fn local_host_name() -> Option<String> {
    ["COMPUTERNAME", "HOSTNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// The files of the bundle, in memory until written (so a redacted bundle
/// never has its originals on disk). Names are `/`-separated and relative.
#[derive(Default)]
struct Files(Vec<(String, Vec<u8>)>);

impl Files {
    fn add(&mut self, name: String, bytes: Vec<u8>) {
        self.0.push((name, bytes));
    }
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }
}

fn run_item(c: &Command, files: &mut Files, timeout: Duration) -> ManifestItem {
    let r = runner::run(c.program, &c.args, timeout);
    // An empty output of a failed command says nothing; an empty event
    // query that succeeded says "no events" and is kept.
    let printed = !r.stdout.is_empty();
    let keep = printed || (r.exit_code == Some(0) && c.name == "events");
    let output = keep.then(|| c.file.to_owned());
    if keep {
        files.add(c.file.to_owned(), r.stdout);
    }
    // A tool that "succeeds" with no output (a stub, a cmdlet that found
    // nothing, a snap-in that did not load) must not look like evidence.
    let error = match r.error {
        None if !printed && c.name != "events" => {
            Some("exited with code 0 but printed nothing".to_owned())
        }
        e => e,
    };
    let stderr = (!r.stderr.is_empty()).then(|| {
        let s = eems_parsers::text::decode(&r.stderr[..r.stderr.len().min(4096)]).text;
        s.trim_end().to_owned()
    });
    ManifestItem {
        name: c.name.to_owned(),
        command: c.display.clone(),
        exit_code: r.exit_code,
        duration_ms: millis(r.duration),
        output,
        error,
        program: r.resolved.map(|p| p.display().to_string()),
        stderr,
        files: Vec::new(),
    }
}

fn parsed(files: &Files, name: &str) -> Option<eems_parsers::ParsedInput> {
    files
        .get(name)
        .map(|b| eems_parsers::parse_input(b, Some(name)))
}

fn contents(p: &eems_parsers::ParsedInput) -> impl Iterator<Item = &eems_parsers::Content> {
    p.segments.iter().filter_map(|s| s.content.as_ref())
}

/// `MsiInstallPath` from the collected `reg query …\Setup` output.
fn install_path_from_registry(files: &Files) -> Option<String> {
    let p = parsed(files, "reg-query-exchange-setup.txt")?;
    contents(&p).find_map(|c| match c {
        eems_parsers::Content::RegistryValues(r) => r.keys.iter().find_map(|k| {
            k.value("MsiInstallPath")
                .and_then(|v| v.data.as_str())
                .map(str::to_owned)
        }),
        _ => None,
    })
}

/// InternetWebProxy (for the OCS request) and the WinHTTP proxy (for
/// CRL/AIA/CTL) from what was just collected.
fn collected_proxies(files: &Files) -> (Option<String>, Option<String>) {
    let iwp = parsed(files, "get-exchangeserver-fl.txt").and_then(|p| {
        contents(&p).find_map(|c| match c {
            eems_parsers::Content::ExchangeServers(s) => s
                .servers
                .iter()
                .find_map(|s| s.internet_web_proxy.clone())
                .filter(|v| !v.trim().is_empty()),
            _ => None,
        })
    });
    let from_netsh = parsed(files, "netsh-winhttp-show-proxy.txt").and_then(|p| {
        contents(&p).find_map(|c| match c {
            eems_parsers::Content::NetshProxy(n) if !n.direct => n
                .proxy_server
                .as_ref()
                .map(|v| v.value.trim().to_owned())
                .filter(|v| !v.is_empty()),
            _ => None,
        })
    });
    let winhttp = from_netsh.or_else(|| {
        parsed(files, "reg-query-winhttpsettings.txt").and_then(|p| {
            contents(&p).find_map(|c| match c {
                eems_parsers::Content::WinHttpRegistry(r) => r
                    .native()
                    .and_then(|v| v.settings.as_ref())
                    .and_then(|s| s.proxy.clone())
                    .filter(|v| !v.trim().is_empty()),
                _ => None,
            })
        })
    });
    (iwp, winhttp)
}

/// Copy `<exchange-path>\Logging\MitigationService\*` changed in the last `since` days.
fn copy_logs(
    exchange_path: Option<&str>,
    since: u32,
    budget: u64,
    files: &mut Files,
) -> ManifestItem {
    let t0 = Instant::now();
    let mut item = ManifestItem {
        name: "mitigation-logs".into(),
        command: String::new(),
        exit_code: None,
        duration_ms: 0,
        output: None,
        error: None,
        program: None,
        stderr: None,
        files: Vec::new(),
    };
    let Some(base) = exchange_path else {
        item.command =
            format!("copy <exchange-path>\\Logging\\MitigationService\\* (last {since} days)");
        item.error = Some(
            "no Exchange install path: not in --exchange-path, ExchangeInstallPath or the Setup registry key"
                .into(),
        );
        return item;
    };
    let dir = Path::new(base).join("Logging").join("MitigationService");
    item.command = format!("copy {}\\* (last {since} days)", dir.display());
    let cutoff = SystemTime::now()
        .checked_sub(Duration::from_secs(u64::from(since) * 86_400))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut errors = Vec::new();
    match std::fs::read_dir(&dir) {
        Err(e) => errors.push(format!("cannot list {}: {e}", dir.display())),
        Ok(rd) => {
            let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            // The logs in the time window, with their size and age.
            let mut window = Vec::new();
            for p in entries {
                let Some(name) = p.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                    continue;
                };
                let meta = match std::fs::metadata(&p) {
                    Ok(m) if m.is_file() => m,
                    Ok(_) => continue,
                    Err(e) => {
                        errors.push(format!("{name}: {e}"));
                        continue;
                    }
                };
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                if modified < cutoff {
                    continue;
                }
                if meta.len() > MAX_LOG_FILE {
                    errors.push(format!(
                        "{name}: larger than {MAX_LOG_FILE} bytes, not copied"
                    ));
                    continue;
                }
                window.push((p, name, meta.len(), modified));
            }
            // Newest first within the total budget (issue 14): the latest
            // state matters most, and a bundle must stay analysable.
            let mut by_age: Vec<usize> = (0..window.len()).collect();
            by_age.sort_by(|&a, &b| window[b].3.cmp(&window[a].3));
            let mut spent = 0u64;
            let mut keep = vec![false; window.len()];
            let mut left_out = Vec::new();
            for i in by_age {
                let size = window[i].2;
                if spent.saturating_add(size) <= budget {
                    spent += size;
                    keep[i] = true;
                } else {
                    left_out.push(format!("{} ({size} bytes)", window[i].1));
                }
            }
            if !left_out.is_empty() {
                errors.push(format!(
                    "{} older log(s) not copied: the log budget of {budget} bytes (--max-logs-size) is spent by newer ones: {}",
                    left_out.len(),
                    left_out.join(", ")
                ));
            }
            for (i, (p, name, ..)) in window.into_iter().enumerate() {
                if !keep[i] {
                    continue;
                }
                match std::fs::read(&p) {
                    Ok(b) => {
                        let rel = format!("MitigationService/{name}");
                        files.add(rel.clone(), b);
                        item.files.push(rel);
                    }
                    Err(e) => errors.push(format!("{name}: {e}")),
                }
            }
        }
    }
    if !item.files.is_empty() {
        item.output = Some("MitigationService".into());
    }
    if !errors.is_empty() {
        item.error = Some(errors.join("; "));
    }
    item.duration_ms = millis(t0.elapsed());
    item
}

fn probe_item(args: &CollectArgs, files: &mut Files) -> ManifestItem {
    let (proxy, winhttp_proxy) = collected_proxies(files);
    let cfg = ProbeConfig {
        ocs_url: args.ocs_url.clone(),
        proxy: proxy.clone(),
        winhttp_proxy: winhttp_proxy.clone(),
        ca_files: args.ca_files.clone(),
        resolve: args.resolve.clone(),
        dns_server: args.dns_server,
        ctl_url: args.ctl_url.clone(),
        timeout: Duration::from_secs_f64(args.probe_timeout),
    };
    let mut command = format!("eems-doctor probe --ocs-url {}", args.ocs_url);
    if let Some(p) = &proxy {
        command.push_str(&format!(
            " --proxy {}",
            eems_parsers::uri::strip_credentials(p)
        ));
    }
    if let Some(p) = &winhttp_proxy {
        command.push_str(&format!(
            " --winhttp-proxy {}",
            eems_parsers::uri::strip_credentials(p)
        ));
    }
    let t0 = Instant::now();
    let mut report = probe::run(&cfg);
    // No credentials leave the machine, redacted bundle or not.
    report.proxy = report
        .proxy
        .as_deref()
        .map(|p| eems_parsers::uri::strip_credentials(p).into_owned());
    report.winhttp_proxy = report
        .winhttp_proxy
        .as_deref()
        .map(|p| eems_parsers::uri::strip_credentials(p).into_owned());
    let mut item = ManifestItem {
        name: "probe".into(),
        command,
        exit_code: None,
        duration_ms: millis(t0.elapsed()),
        output: None,
        error: None,
        program: None,
        stderr: None,
        files: Vec::new(),
    };
    match serde_json::to_vec_pretty(&report) {
        Ok(json) => {
            files.add("probe-results.json".into(), json);
            item.output = Some("probe-results.json".into());
        }
        Err(e) => item.error = Some(format!("cannot serialise the probe results: {e}")),
    }
    let pem = |certs: &[eems_parsers::probe_results::CertInfo]| -> Vec<u8> {
        certs
            .iter()
            .filter_map(|c| c.pem.clone())
            .collect::<String>()
            .into_bytes()
    };
    if let Some(tls) = &report.tls
        && !tls.chain.is_empty()
    {
        files.add("ocs-tls-chain.pem".into(), pem(&tls.chain));
        item.files.push("ocs-tls-chain.pem".into());
    }
    if let Some(ocs) = &report.ocs
        && !ocs.signing_chain.is_empty()
    {
        files.add("ocs-signing-chain.pem".into(), pem(&ocs.signing_chain));
        item.files.push("ocs-signing-chain.pem".into());
    }
    item
}

/// Where the bundle goes: `DIR`, or `DIR.zip` with `--zip`.
pub fn bundle_path(out: &Path, zip: bool) -> PathBuf {
    if !zip {
        return out.to_path_buf();
    }
    if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        out.to_path_buf()
    } else {
        let mut s = out.as_os_str().to_owned();
        s.push(".zip");
        PathBuf::from(s)
    }
}

/// Make sure the bundle can be written before anything runs.
fn prepare_out(path: &Path, zip: bool) -> Result<(), String> {
    if zip {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::File::create(path)
            .map(drop)
            .map_err(|e| e.to_string())
    } else {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let probe = path.join(".eems-doctor-write-test");
        std::fs::write(&probe, b"").map_err(|e| e.to_string())?;
        std::fs::remove_file(&probe).map_err(|e| e.to_string())
    }
}

fn write_dir(dir: &Path, files: &Files) -> Result<(), String> {
    for (name, bytes) in &files.0 {
        // Names are ours and `/`-separated; join component by component.
        let mut p = dir.to_path_buf();
        for part in name.split('/') {
            p.push(part);
        }
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

fn write_zip(path: &Path, files: &Files) -> Result<(), String> {
    let f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(f));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    for (name, bytes) in &files.0 {
        z.start_file(name.as_str(), opts)
            .map_err(|e| format!("{name}: {e}"))?;
        z.write_all(bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    let mut w = z.finish().map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())
}

/// Collect into `out`. An error only when the bundle cannot be written
/// there; everything else is a manifest entry.
pub fn collect(args: &CollectArgs, out: &Path) -> Result<Bundle, CliError> {
    let timeout = Duration::from_secs(args.tool_timeout);
    let path = bundle_path(out, args.zip);
    // Before anything runs: a share that refuses writes should not cost the
    // whole collection first.
    prepare_out(&path, args.zip)
        .map_err(|e| CliError::write(format!("cannot write the bundle {}: {e}", path.display())))?;
    if !cfg!(windows) {
        eprintln!(
            "warning: this is not a Windows Exchange server: collecting with whatever `reg`, `netsh`, \
             `powershell.exe` and `wevtutil` are on PATH"
        );
    }
    let host = local_host_name();
    let collected_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut files = Files::default();
    let mut items = Vec::new();
    for (name, file, key, extra) in REG_KEYS {
        items.push(run_item(&reg(name, file, key, extra), &mut files, timeout));
    }
    for c in [
        netsh("netsh-proxy", "netsh-winhttp-show-proxy.txt", "proxy"),
        netsh(
            "netsh-advproxy",
            "netsh-winhttp-show-advproxy.txt",
            "advproxy",
        ),
    ] {
        items.push(run_item(&c, &mut files, timeout));
    }
    let exchange_path = args
        .exchange_path
        .clone()
        .or_else(|| std::env::var("ExchangeInstallPath").ok())
        .filter(|p| !p.trim().is_empty())
        .or_else(|| install_path_from_registry(&files));
    for c in powershell_commands(exchange_path.as_deref()) {
        items.push(run_item(&c, &mut files, timeout));
    }
    items.push(run_item(&wevtutil(), &mut files, timeout));
    items.push(copy_logs(
        exchange_path.as_deref(),
        args.since,
        args.max_logs_size,
        &mut files,
    ));
    if !args.no_probe {
        items.push(probe_item(args, &mut files));
    }

    let mut manifest = Manifest {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        host: host.clone(),
        collected_at,
        redacted: args.redact,
        os: std::env::consts::OS,
        code_pages: code_pages(),
        exchange_path,
        since_days: args.since,
        items,
    };
    let redactor = if args.redact {
        let mut r = Redactor::new();
        r.learn_environment(host.as_deref());
        for (name, bytes) in &files.0 {
            r.learn_parsed(&eems_parsers::parse_input(bytes, Some(name)));
            r.learn_text(&eems_parsers::text::decode(bytes).text);
        }
        if let Some(p) = &manifest.exchange_path {
            r.learn_text(p);
        }
        let mut kept = Files::default();
        for (name, bytes) in std::mem::take(&mut files.0) {
            match r.file(&name, &bytes) {
                Some(b) => kept.add(name, b),
                None => manifest.items.push(ManifestItem {
                    name: "redaction".into(),
                    command: String::new(),
                    exit_code: None,
                    duration_ms: 0,
                    output: None,
                    error: Some(format!(
                        "{name}: binary content cannot be redacted: left out"
                    )),
                    program: None,
                    stderr: None,
                    files: Vec::new(),
                }),
            }
        }
        files = kept;
        Some(r)
    } else {
        // Raw outputs are kept byte for byte, except credentials: a proxy URL
        // with `user:password@` or an Authorization value never leaves the
        // machine, redacted bundle or not. The manifest says which files.
        let mut scrubbed = Vec::new();
        for (name, bytes) in files.0.iter_mut() {
            if name.to_ascii_lowercase().ends_with(".pem") {
                continue;
            }
            if let Some(clean) = eems_reports::secrets::scrub_bytes(bytes) {
                *bytes = clean;
                scrubbed.push(name.clone());
            }
        }
        if !scrubbed.is_empty() {
            manifest.items.push(ManifestItem {
                name: "credentials-removed".into(),
                command: String::new(),
                exit_code: None,
                duration_ms: 0,
                output: None,
                error: None,
                program: None,
                stderr: None,
                files: scrubbed,
            });
        }
        None
    };
    let mut json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    // Tool stderr quoted in the manifest is scrubbed like the outputs.
    if redactor.is_none()
        && let Some(clean) = eems_reports::secrets::scrub_bytes(&json)
    {
        json = clean;
    }
    let redactor = redactor.map(|mut r| {
        json = r.file("manifest.json", &json).unwrap_or_default();
        r
    });
    files.0.insert(0, ("manifest.json".into(), json));

    let written = if args.zip {
        write_zip(&path, &files)
    } else {
        write_dir(&path, &files)
    };
    written
        .map_err(|e| CliError::write(format!("cannot write the bundle {}: {e}", path.display())))?;
    let failed = manifest.items.iter().filter(|i| i.error.is_some()).count();
    eprintln!(
        "collected {} items into {} ({failed} with errors: see manifest.json)",
        manifest.items.len(),
        path.display()
    );
    Ok(Bundle { path, redactor })
}

/// `eems-doctor collect`: 0 once the bundle is written, whatever the items
/// recorded (the manifest says which failed).
pub fn run(args: &CollectArgs) -> Result<u8, CliError> {
    let out = args
        .out_dir
        .as_deref()
        .ok_or_else(|| CliError::usage("collect needs --out-dir DIR"))?;
    collect(args, out).map(|_| 0)
}
