//! A loopback stand-in for the Office Config Service, to try `eems-doctor
//! probe` without touching the Internet: the same test PKI (Microsoft-like
//! names on test keys), OCS server and CRL/CTL server the probe tests use.
//!
//!     cargo run --example ocs_standin [--rsa] [--no-crls|--http-dropped] [SECONDS]
//!
//! It prints the `eems-doctor probe` command to run against it, then serves
//! for SECONDS (default 300). `--rsa`: RSA keys (needs the `openssl`
//! command), for the Windows tests under Wine. `--no-crls`: the CRL URLs
//! answer 404, as where a proxy refuses them. `--http-dropped`: the CRL, AIA
//! and CTL URLs lead to a port that accepts and never answers, as behind a
//! firewall that silently drops outbound HTTP/80.

#![allow(clippy::print_stdout)]

use eems_testkit::pki::{self, Pki};
use eems_testkit::servers::{BlackHole, HttpServer, OcsMode, OcsServer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--rsa") {
        pki::use_rsa_keys();
    }
    let secs: u64 = args.iter().find_map(|s| s.parse().ok()).unwrap_or(300);
    let http = HttpServer::start();
    let dropped = args
        .iter()
        .any(|a| a == "--http-dropped")
        .then(BlackHole::start);
    let base = match &dropped {
        Some(bh) => format!("http://127.0.0.1:{}", bh.port()),
        None => http.base_url(),
    };
    let pki = Pki::new(&base);
    let no_crls = args.iter().any(|a| a == "--no-crls");
    http.put_all(
        pki.http_files()
            .into_iter()
            .filter(|(path, _)| !(no_crls && path.ends_with(".crl")))
            .collect(),
    );
    let ocs = OcsServer::start(
        pki.server_chain(),
        pki.server_key(),
        pki.eocs_body(),
        OcsMode::Healthy,
    );
    println!(
        "OCS stand-in on 127.0.0.1:{}, CRLs and CTL on {}",
        ocs.port(),
        base
    );
    println!("Run:");
    println!(
        "  eems-doctor probe --ocs-url https://{}:{}{} --resolve {}:{}:127.0.0.1 --ca-file {} --tls-issuers {} --ctl-url {}",
        pki::OCS_HOST,
        ocs.port(),
        pki::OCS_PATH,
        pki::OCS_HOST,
        ocs.port(),
        pki.ca_file().display(),
        pki.expected_issuers_file().display(),
        pki.ctl_url()
    );
    std::thread::sleep(std::time::Duration::from_secs(secs));
}
