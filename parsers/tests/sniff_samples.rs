//! Every reference sample is recognised as what it is, from its content:
//! the file names are deliberately withheld from the sniffer.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use eems_parsers::{Kind, sniff::sniff};
use std::path::PathBuf;

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/reference")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_reference_sample_is_recognised_without_its_name() {
    use Kind::*;
    let table: &[(&str, Kind)] = &[
        (
            "events/01-eventviewer-copy-details_tls-chain_EX02.txt",
            EventExport,
        ),
        ("events/02-wevtutil-text_proxy-407_EX05.txt", EventExport),
        ("events/03-get-winevent-fl_dns_de-DE_EX06.txt", EventExport),
        (
            "events/04-wevtutil-xml_unable-to-connect_EX04.xml",
            EventExport,
        ),
        (
            "events/05-eventviewer-csv_untrusted-endpoint-old-build_EX03.csv",
            EventExport,
        ),
        (
            "events/06-forum-paste_doubled-lines_tls-chain_EX02.txt",
            EventExport,
        ),
        (
            "mitigation-log/01-healthy_EX01/MitigationService_2024031409-1.LOG",
            MitigationLog,
        ),
        (
            "mitigation-log/02-tls-chain-behind-proxy_EX02/MitigationService_2024031410-1.LOG",
            MitigationLog,
        ),
        (
            "mitigation-log/03-untrusted-endpoint-old-build_EX03/MitigationService_2025012708-1.LOG",
            MitigationLog,
        ),
        (
            "mitigation-log/04-xml-signing-cert_EX07/MitigationService_2023041814-1.LOG",
            MitigationLog,
        ),
        ("os/healthy_EX01/get-exchangeserver-fl.txt", ExchangeServer),
        ("os/healthy_EX01/get-mitigations.txt", GetMitigations),
        (
            "os/healthy_EX01/get-organizationconfig-fl.txt",
            OrganizationConfig,
        ),
        ("os/healthy_EX01/get-service.txt", ServiceStatus),
        (
            "os/healthy_EX01/netsh-winhttp-show-advproxy.txt",
            NetshWinhttpAdvproxy,
        ),
        (
            "os/healthy_EX01/netsh-winhttp-show-proxy.txt",
            NetshWinhttpProxy,
        ),
        (
            "os/healthy_EX01/reg-query-winhttpsettings.txt",
            WinhttpRegistry,
        ),
        (
            "os/healthy_EX01/test-mitigationserviceconnectivity.txt",
            ConnectivityTest,
        ),
        ("os/misconfigured_EX04/get-mitigations.txt", GetMitigations),
        (
            "os/misconfigured_EX04/netsh-winhttp-show-advproxy.txt",
            NetshWinhttpAdvproxy,
        ),
        (
            "os/misconfigured_EX04/netsh-winhttp-show-proxy.txt",
            NetshWinhttpProxy,
        ),
        (
            "os/misconfigured_EX04/reg-query-winhttpsettings.txt",
            WinhttpRegistry,
        ),
        (
            "os/misconfigured_EX04/test-mitigationserviceconnectivity.txt",
            ConnectivityTest,
        ),
        (
            "os/variants/get-exchangeserver-fl_multi-server.txt",
            ExchangeServer,
        ),
        (
            "os/variants/get-service-select_stopped-disabled.txt",
            ServiceStatus,
        ),
        ("os/variants/get-service_ps7-ellipsis.txt", ServiceStatus),
        ("os/variants/healthchecker-eems-section.txt", Healthchecker),
        (
            "os/variants/netsh-winhttp-show-advproxy_full.txt",
            NetshWinhttpAdvproxy,
        ),
        (
            "os/variants/netsh-winhttp-show-advproxy_no-header_server2022.txt",
            NetshWinhttpAdvproxy,
        ),
        (
            "os/variants/netsh-winhttp-show-proxy_de-DE_oem850.txt",
            NetshWinhttpProxy,
        ),
        (
            "os/variants/netsh-winhttp-show-proxy_no-bypass_utf16.txt",
            NetshWinhttpProxy,
        ),
        (
            "os/variants/reg-export-winhttpsettings.reg",
            WinhttpRegistry,
        ),
        // Content alone ("ERROR: … unable to find the specified registry key") is a registry answer.
        (
            "os/variants/reg-query-winhttpsettings_missing.txt",
            RegistryValues,
        ),
    ];
    let mut wrong = Vec::new();
    for (rel, expected) in table {
        let got = sniff(&fixture(rel), None);
        if got != *expected {
            wrong.push(format!("{rel}: expected {expected}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "misrecognised:\n{}", wrong.join("\n"));
}

#[test]
fn the_name_hint_decides_what_a_bare_registry_error_was_about() {
    let bytes = fixture("os/variants/reg-query-winhttpsettings_missing.txt");
    assert_eq!(
        sniff(&bytes, Some("reg-query-winhttpsettings.txt")),
        Kind::WinhttpRegistry
    );
}

#[test]
fn a_console_session_with_several_outputs_is_mixed() {
    let mut paste = Vec::new();
    for (cmd, rel) in [
        (
            "netsh winhttp show proxy",
            "os/misconfigured_EX04/netsh-winhttp-show-proxy.txt",
        ),
        (
            "Get-ExchangeServer | fl",
            "os/healthy_EX01/get-exchangeserver-fl.txt",
        ),
        (
            "Get-Service MSExchangeMitigation",
            "os/healthy_EX01/get-service.txt",
        ),
    ] {
        paste.extend(format!("[PS] C:\\Windows\\system32>{cmd}\r\n").as_bytes());
        paste.extend(fixture(rel));
    }
    assert_eq!(sniff(&paste, None), Kind::Mixed);
    let parsed = eems_parsers::parse_input(&paste, None);
    let kinds: Vec<Kind> = parsed.segments.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Kind::NetshWinhttpProxy,
            Kind::ExchangeServer,
            Kind::ServiceStatus
        ]
    );
    assert_eq!(
        parsed.segments[1].command.as_deref(),
        Some("Get-ExchangeServer | fl")
    );
    // Prompt (line 1), six netsh lines (2-7), prompt (8): the output starts on line 9.
    assert_eq!(parsed.segments[1].first_line, 9);
}

#[test]
fn utf16_without_bom_and_oem_pages_are_recognised() {
    let text = String::from_utf8(fixture(
        "os/misconfigured_EX04/netsh-winhttp-show-proxy.txt",
    ))
    .unwrap();
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(sniff(&utf16, None), Kind::NetshWinhttpProxy);
    let p = eems_parsers::parse_input(&utf16, None);
    assert_eq!(p.encoding, eems_parsers::Encoding::Utf16le);
}
