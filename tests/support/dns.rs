//! A real dnsmasq on 127.0.0.1:<free port>, answering only the host records
//! it is given and NXDOMAIN for every other name. It reads no system
//! configuration (`-C /dev/null`, `--no-resolv`, `--no-hosts`), forwards
//! nothing, and runs in the foreground as a child of the test.

use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};

pub struct Dnsmasq {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Dnsmasq {
    pub fn start(records: &[(&str, Ipv4Addr)]) -> Dnsmasq {
        let bin = super::require_program("dnsmasq", "dnsmasq");
        let dir = match tempfile::Builder::new().prefix("eems-dnsmasq-").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("temp dir: {e}"),
        };
        let log = dir.path().join("dnsmasq.log");
        let port = super::free_port();
        let mut cmd = Command::new(bin);
        cmd.arg("--keep-in-foreground")
            .arg("--conf-file=/dev/null")
            .arg("--no-resolv")
            .arg("--no-hosts")
            .arg("--no-poll")
            .arg("--bind-interfaces")
            .arg("--listen-address=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!(
                "--pid-file={}",
                dir.path().join("dnsmasq.pid").display()
            ))
            .arg(format!("--log-facility={}", log.display()))
            .arg("--log-queries")
            // Catch-all: every name not listed below is NXDOMAIN (not REFUSED,
            // which is what dnsmasq says when it has nowhere to forward to).
            .arg("--address=/#/");
        for (name, ip) in records {
            cmd.arg(format!("--host-record={name},{ip}"));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start dnsmasq: {e}"),
        };
        // dnsmasq also listens on TCP 53-style: the TCP port being open means UDP is too.
        super::wait_for_tcp(port, &mut child, "dnsmasq", || {
            std::fs::read_to_string(&log).unwrap_or_default()
        });
        Dnsmasq { port, child, dir }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The query log (to show that the probe really asked this server).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dnsmasq.log")).unwrap_or_default()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        super::kill_group(&mut self.child);
    }
}
