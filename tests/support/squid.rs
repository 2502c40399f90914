//! Real squid (Debian `squid-openssl`) forward proxies on loopback, each with
//! a generated configuration, its own `-n NAME` (squid keeps shared memory in
//! /dev/shm by service name: a leftover from a killed instance would break the
//! next start), no pinger (it can outlive squid) and a hosts file that maps
//! the Microsoft names to 127.0.0.1 (squid's `dns_nameservers` cannot take a
//! port, so it cannot be pointed at the test dnsmasq).
//!
//! Started as root, squid drops to user `proxy`: everything it opens must be
//! owned by `proxy`, so the working directory is chowned.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// What the proxy does.
#[derive(Debug, Clone)]
pub enum Mode {
    /// CONNECT allowed (to the listed ports), plain-HTTP requests denied with
    /// 403: the classic "CRLs blocked" proxy.
    ConnectOnly { connect_ports: Vec<u16> },
    /// Everything allowed (CONNECT and plain HTTP).
    Open,
    /// Basic authentication required (407 without credentials).
    BasicAuth { user: String, password: String },
    /// TLS interception with ssl_bump, re-signing with a CA named like a
    /// vendor's. `upstream_ca` is the PEM squid trusts for the real server.
    Bump {
        ca_cert_pem: String,
        ca_key_pem: String,
        upstream_ca: PathBuf,
    },
}

pub struct Squid {
    pub port: u16,
    pub name: String,
    child: Child,
    dir: tempfile::TempDir,
}

fn run_ok(cmd: &mut Command, what: &str) -> String {
    match cmd.output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!(
            "{what} failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("{what}: {e}"),
    }
}

fn is_root() -> bool {
    run_ok(Command::new("id").arg("-u"), "id -u").trim() == "0"
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("write {}: {e}", path.display());
    }
}

impl Squid {
    /// Start squid; returns once its port accepts connections.
    /// `hosts` are written to squid's hosts file (`officeclient.microsoft.com` → 127.0.0.1, …).
    pub fn start(mode: Mode, hosts: &[&str]) -> Squid {
        let squid = super::require_program("squid", "squid-openssl");
        let dir = match tempfile::Builder::new().prefix("eems-squid-").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("temp dir: {e}"),
        };
        let d = dir.path();
        let port = super::free_port();
        let name = format!(
            "eemst{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let hosts_file = d.join("hosts");
        write(
            &hosts_file,
            &hosts
                .iter()
                .map(|h| format!("127.0.0.1 {h}\n"))
                .collect::<String>(),
        );

        let mut http_port = format!("http_port 127.0.0.1:{port}");
        let mut rules = String::new();
        match &mode {
            Mode::ConnectOnly { connect_ports } => {
                let ports = connect_ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" ");
                rules.push_str(&format!(
                    "acl tunnel_ports port 443 {ports}\n\
                     http_access deny CONNECT !tunnel_ports\n\
                     http_access allow CONNECT localhost\n\
                     http_access deny all\n"
                ));
            }
            Mode::Open => rules.push_str("http_access allow localhost\nhttp_access deny all\n"),
            Mode::BasicAuth { user, password } => {
                let helper = super::require_program("basic_ncsa_auth", "squid-openssl");
                // `openssl passwd -apr1`: no apache2-utils needed (and -crypt is gone in OpenSSL 3).
                let hash = run_ok(
                    Command::new("openssl").args(["passwd", "-apr1", password]),
                    "openssl passwd",
                );
                write(&d.join("passwd"), &format!("{user}:{}\n", hash.trim()));
                rules.push_str(&format!(
                    "auth_param basic program {} {}\n\
                     auth_param basic realm eems-test-proxy\n\
                     auth_param basic children 2 startup=1 idle=1\n\
                     acl authed proxy_auth REQUIRED\n\
                     http_access deny !authed\n\
                     http_access allow localhost\n\
                     http_access deny all\n",
                    helper.display(),
                    d.join("passwd").display()
                ));
            }
            Mode::Bump {
                ca_cert_pem,
                ca_key_pem,
                upstream_ca,
            } => {
                let certgen = super::require_program("security_file_certgen", "squid-openssl");
                write(&d.join("bump-ca.pem"), ca_cert_pem);
                write(&d.join("bump-ca.key"), ca_key_pem);
                // Copied in: squid (user proxy) cannot read the PKI's private temp dir.
                if let Err(e) = std::fs::copy(upstream_ca, d.join("upstream-ca.pem")) {
                    panic!("copy {}: {e}", upstream_ca.display());
                }
                // The db directory must not exist yet: certgen -c creates it.
                let db = d.join("ssl_db");
                run_ok(
                    Command::new(&certgen)
                        .arg("-c")
                        .arg("-s")
                        .arg(&db)
                        .args(["-M", "4MB"]),
                    "security_file_certgen -c",
                );
                http_port = format!(
                    "http_port 127.0.0.1:{port} ssl-bump tls-cert={} tls-key={} \
                     generate-host-certificates=on dynamic_cert_mem_cache_size=4MB",
                    d.join("bump-ca.pem").display(),
                    d.join("bump-ca.key").display()
                );
                // peek at step 1 and stare at step 2 so the forged leaf mimics the
                // real one (a bare "bump all" forges leaves without subjectAltName).
                rules.push_str(&format!(
                    "sslcrtd_program {} -s {} -M 4MB\n\
                     sslcrtd_children 2 startup=1 idle=1\n\
                     acl step1 at_step SslBump1\n\
                     acl step2 at_step SslBump2\n\
                     ssl_bump peek step1\n\
                     ssl_bump stare step2\n\
                     ssl_bump bump all\n\
                     tls_outgoing_options cafile={}\n\
                     http_access allow localhost\n\
                     http_access deny all\n",
                    certgen.display(),
                    db.display(),
                    d.join("upstream-ca.pem").display()
                ));
            }
        }
        let conf = format!(
            "{http_port}\n\
             visible_hostname eems-test-proxy\n\
             pid_filename {pid}\n\
             cache_log {log}\n\
             access_log stdio:{access}\n\
             cache_store_log none\n\
             coredump_dir {dir}\n\
             cache deny all\n\
             cache_mem 8 MB\n\
             pinger_enable off\n\
             netdb_filename none\n\
             logfile_rotate 0\n\
             shutdown_lifetime 0 seconds\n\
             hosts_file {hosts}\n\
             dns_nameservers 127.0.0.1\n\
             dns_timeout 2 seconds\n\
             connect_timeout 5 seconds\n\
             forward_max_tries 1\n\
             {rules}",
            pid = d.join("squid.pid").display(),
            log = d.join("cache.log").display(),
            access = d.join("access.log").display(),
            dir = d.display(),
            hosts = hosts_file.display(),
        );
        let conf_path = d.join("squid.conf");
        write(&conf_path, &conf);
        if is_root() {
            run_ok(
                Command::new("chown").arg("-R").arg("proxy:proxy").arg(d),
                "chown proxy",
            );
        }
        run_ok(
            Command::new(&squid)
                .arg("-k")
                .arg("parse")
                .arg("-f")
                .arg(&conf_path)
                .args(["-n", &name]),
            "squid -k parse",
        );

        let mut cmd = Command::new(&squid);
        // -N: foreground, no kid processes; helpers are its children.
        cmd.arg("-N").arg("-f").arg(&conf_path).args(["-n", &name]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start squid: {e}"),
        };
        let log = d.join("cache.log");
        super::wait_for_tcp(port, &mut child, "squid", || {
            std::fs::read_to_string(&log).unwrap_or_default()
        });
        Squid {
            port,
            name,
            child,
            dir,
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    pub fn cache_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("cache.log")).unwrap_or_default()
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        super::kill_group(&mut self.child);
        // SIGKILL leaves squid's shared-memory segments behind: remove this instance's.
        if let Ok(entries) = std::fs::read_dir("/dev/shm") {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{}-", self.name))
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}
