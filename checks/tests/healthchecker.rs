//! Health Checker output, end to end: the real published pastes
//! (`tests/fixtures/real/css-exchange-*`) are parsed, collected into server
//! evidence and run through every check.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use eems_checks::builds::{BuildTable, Precision};
use eems_checks::check::{Context, Need};
use eems_checks::collect::{Input, collect_group};
use eems_checks::diagnosis::{ServerDiagnosis, diagnose};
use eems_checks::evidence::{ServerEvidence, WinHttpView};
use eems_parsers::{Kind, ParsedInput, parse_input};
use std::path::PathBuf;

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One group (one server's folder) of files: (name, bytes).
fn collect(files: &[(&str, Vec<u8>)]) -> Vec<ServerEvidence> {
    let parsed: Vec<(String, ParsedInput)> = files
        .iter()
        .map(|(n, b)| (n.to_string(), parse_input(b, Some(n))))
        .collect();
    let inputs: Vec<Input<'_>> = parsed
        .iter()
        .map(|(path, parsed)| Input::new(path, parsed))
        .collect();
    collect_group(&inputs)
}

fn run(ev: &ServerEvidence) -> ServerDiagnosis {
    let table = BuildTable::embedded();
    diagnose(ev, &Context::embedded(&table))
}

fn outcome<'a>(d: &'a ServerDiagnosis, id: &str) -> (&'a str, Option<&'a str>) {
    let c = d.checks.iter().find(|c| c.id == id).unwrap();
    (c.outcome.as_str(), c.reason.as_deref())
}

fn failed(d: &ServerDiagnosis) -> Vec<&str> {
    d.findings.iter().map(|f| f.id.as_str()).collect()
}

const HC_878: &str =
    "real/css-exchange-878-hc-exchange-information-cu10/healthchecker-exchange-information.txt";
const HC_1085: &str = "real/css-exchange-1085-hc-2016-cu23-tabs/healthchecker-excerpt.txt";
const HC_1121: &str = "real/css-exchange-1121-hc-proxy-misdisplayed/healthchecker-proxy.txt";
const HC_1875: &str = "real/css-exchange-1875-hc-proxy-port-803/healthchecker-proxy.txt";
const HC_761: &str = "real/css-exchange-761-hc-empty-proxy-warning/healthchecker-os-section.txt";

/// #878: the label says CU11, the build number 15.02.0922.020 is 2019 CU10,
/// which predates EEMS (and so is before March 2023).
#[test]
fn exchange_information_878_predates_eems() {
    let evs = collect(&[("hc.txt", fixture(HC_878))]);
    assert_eq!(evs.len(), 1);
    let ev = &evs[0];
    assert_eq!(ev.server.as_deref(), Some("EXCH_2019_SERVER"));
    assert_eq!(ev.inputs[0].kind, eems_parsers::Kind::Healthchecker);
    let b = ev.build.as_ref().unwrap();
    assert_eq!(b.value.version.to_string(), "15.2.922.20");
    assert_eq!(b.value.precision, Precision::Exact);
    assert_eq!(b.cite.line, Some(4));
    assert!(b.cite.excerpt.contains("Build Number: 15.02.0922.020"));
    let d = run(ev);
    assert_eq!(outcome(&d, "build-predates-eems").0, "fail");
    assert!(failed(&d).contains(&"build-predates-eems"));
    // The version label (CU11) is not what decides.
    assert_eq!(d.build.as_ref().unwrap().version, "15.2.922.20");
    assert_eq!(d.root_causes[0].id, "build-predates-eems");
}

/// #1085 (tab-indented): 15.01.2507.009 is 2016 CU23 May22SU, below 15.1.2507.23.
#[test]
fn tabs_1085_build_is_before_march_2023() {
    let evs = collect(&[("hc.txt", fixture(HC_1085))]);
    let ev = &evs[0];
    let b = ev.build.as_ref().unwrap();
    assert_eq!(b.value.version.to_string(), "15.1.2507.9");
    assert_eq!(b.value.precision, Precision::Exact);
    let d = run(ev);
    assert_eq!(outcome(&d, "build-before-march-2023").0, "fail");
    assert!(failed(&d).contains(&"build-before-march-2023"));
}

/// ExSetup's file version outranks Health Checker's Build Number, whatever the file order.
#[test]
fn exsetup_outranks_healthchecker() {
    let exsetup =
        fixture("real/css-exchange-1977-exsetup-1258-28-hc-failed/exsetup-fileversioninfo.txt");
    for files in [
        vec![
            ("a-hc.txt", fixture(HC_878)),
            ("b-exsetup.txt", exsetup.clone()),
        ],
        vec![
            ("a-exsetup.txt", exsetup.clone()),
            ("b-hc.txt", fixture(HC_878)),
        ],
    ] {
        let evs = collect(&files);
        let b = evs[0].build.as_ref().unwrap();
        assert_eq!(b.value.version.to_string(), "15.2.1258.28");
        assert!(b.cite.source.ends_with("exsetup.txt"), "{:?}", b.cite);
    }
}

/// #1977: Health Checker failed against EX19; the ExSetup table beside it gives the build.
#[test]
fn failed_run_1977_names_the_server() {
    let evs = collect(&[
        (
            "hc.txt",
            fixture("real/css-exchange-1977-exsetup-1258-28-hc-failed/healthchecker-failed.txt"),
        ),
        (
            "exsetup.txt",
            fixture("real/css-exchange-1977-exsetup-1258-28-hc-failed/exsetup-fileversioninfo.txt"),
        ),
    ]);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].server.as_deref(), Some("EX19"));
    assert_eq!(
        evs[0].build.as_ref().unwrap().value.version.to_string(),
        "15.2.1258.28"
    );
    let d = run(&evs[0]);
    assert_eq!(outcome(&d, "build-before-march-2023").0, "pass");
}

/// #1875: Health Checker printed `:803` for `:80` and its own false "doesn't
/// match". With Exchange's proxy at `:80`, the mangled value must not make a
/// proxy mismatch; the skip says why and names `netsh winhttp show proxy`.
#[test]
fn mangled_port_1875_gives_no_false_mismatch() {
    let exchange = b"\r\nName             : EX01\r\nInternetWebProxy : http://proxyserveraddress.domain.local:80/\r\n\r\n".to_vec();
    let evs = collect(&[
        ("exchange.txt", exchange.clone()),
        ("hc.txt", fixture(HC_1875)),
    ]);
    let ev = &evs[0];
    assert!(ev.winhttp.is_empty(), "{:?}", ev.winhttp);
    let u: Vec<_> = ev.untrusted(Need::WinHttp).collect();
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].value.label, "Http Proxy Setting");
    assert_eq!(u[0].value.command, "netsh winhttp show proxy");
    assert_eq!(u[0].cite.line, Some(1));
    let d = run(ev);
    assert!(!failed(&d).contains(&"proxy-mismatch"), "{:?}", failed(&d));
    let (o, reason) = outcome(&d, "proxy-mismatch");
    assert_eq!(o, "skip");
    let reason = reason.unwrap();
    assert!(reason.contains("looked mangled"), "{reason}");
    assert!(reason.contains(":803"), "{reason}");
    assert!(reason.contains("`netsh winhttp show proxy`"), "{reason}");
    // Nor a "WinHTTP goes direct" finding from a value that is not there.
    assert_eq!(outcome(&d, "proxy-winhttp-missing").0, "skip");
    let incomplete = d
        .findings
        .iter()
        .find(|f| f.id == "evidence-incomplete")
        .unwrap();
    assert!(
        incomplete
            .title
            .contains("Health Checker's value looked mangled")
    );

    // Control: a clean Health Checker value that really differs is used.
    let clean = b"Http Proxy Setting: proxyserveraddress.domain.local:8080 --- Warning this can cause client connectivity issues.\nHttp Proxy By Pass List: <local>\n".to_vec();
    let evs = collect(&[("exchange.txt", exchange), ("hc.txt", clean)]);
    let w = &evs[0].winhttp[0];
    assert_eq!(w.value.view, WinHttpView::HealthChecker);
    assert_eq!(
        w.value.proxy.as_deref(),
        Some("proxyserveraddress.domain.local:8080")
    );
    let d = run(&evs[0]);
    assert!(failed(&d).contains(&"proxy-mismatch"));
}

/// #1121: the Exchange proxy line is fine and is used; the WinHTTP lines are
/// mangled and are not. With the real `netsh` paste beside it, netsh decides.
#[test]
fn mangled_proxy_1121() {
    let evs = collect(&[("hc.txt", fixture(HC_1121))]);
    let ev = &evs[0];
    let ex = ev.exchange_proxy.as_ref().unwrap();
    assert_eq!(ex.value.as_deref(), Some("http://server.contoso.com:3128/"));
    assert!(ex.cite.excerpt.contains("(Health Checker)"));
    assert!(ev.winhttp.is_empty());
    assert_eq!(ev.untrusted(Need::WinHttp).count(), 1);
    let d = run(ev);
    let (o, reason) = outcome(&d, "proxy-winhttp-missing");
    assert_eq!(o, "skip");
    assert!(reason.unwrap().contains("netsh winhttp show proxy"));
    assert!(!failed(&d).contains(&"proxy-winhttp-missing"));
    assert!(!failed(&d).contains(&"proxy-mismatch"));

    let evs = collect(&[
        ("hc.txt", fixture(HC_1121)),
        (
            "netsh.txt",
            fixture("real/css-exchange-1121-hc-proxy-misdisplayed/netsh-winhttp-show-proxy.txt"),
        ),
        (
            "exchange.txt",
            fixture("real/css-exchange-1121-hc-proxy-misdisplayed/get-exchangeserver-fl-proxy.txt"),
        ),
    ]);
    let ev = &evs[0];
    assert_eq!(ev.winhttp.len(), 1);
    assert_eq!(ev.winhttp[0].value.view, WinHttpView::Netsh);
    assert_eq!(
        ev.winhttp[0].value.proxy.as_deref(),
        Some("server.domain.com:3128")
    );
    assert!(
        ev.exchange_proxy
            .as_ref()
            .unwrap()
            .cite
            .source
            .ends_with("exchange.txt")
    );
}

/// #761: an empty proxy value next to Health Checker's warning is not "direct".
#[test]
fn empty_value_761_is_not_direct_access() {
    let evs = collect(&[("hc.txt", fixture(HC_761))]);
    let ev = &evs[0];
    assert!(ev.winhttp.is_empty());
    let u = ev.untrusted(Need::WinHttp).next().unwrap();
    assert!(u.value.reason.contains("empty value next to a warning"));
    assert_eq!(u.cite.line, Some(13));
}

/// A whole report for two servers is two servers, each with its own facts.
#[test]
fn full_report_two_servers() {
    let bytes = fixture("extra/powershell/healthchecker-full-two-servers.txt");
    assert_eq!(parse_input(&bytes, None).kind, Kind::Healthchecker);
    let evs = collect(&[("hc.txt", bytes)]);
    // Like a multi-server Get-ExchangeServer listing: one entry per named
    // server (plus the folder's own, unnamed, entry).
    let mut names: Vec<_> = evs.iter().filter_map(|e| e.server.as_deref()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["EX01", "EX02"]);
    let ex01 = evs
        .iter()
        .find(|e| e.server.as_deref() == Some("EX01"))
        .unwrap();
    let ex02 = evs
        .iter()
        .find(|e| e.server.as_deref() == Some("EX02"))
        .unwrap();
    assert_eq!(
        ex01.build.as_ref().unwrap().value.version.to_string(),
        "15.2.1118.26"
    );
    assert_eq!(
        ex01.exchange_proxy.as_ref().unwrap().value.as_deref(),
        Some("http://proxy.contoso.com:8080/")
    );
    let w = &ex01.winhttp[0].value;
    assert_eq!(w.proxy.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(w.bypass, vec!["<local>", "*.contoso.com"]);
    assert!(ex01.healthchecker_pattern_reachable.as_ref().unwrap().value);
    assert_eq!(
        ex02.build.as_ref().unwrap().value.version.to_string(),
        "15.1.2507.9"
    );
    assert_eq!(ex02.exchange_proxy.as_ref().unwrap().value, None);
    assert_eq!(ex02.winhttp[0].value.proxy, None);
    assert!(!ex02.healthchecker_pattern_reachable.as_ref().unwrap().value);
    let d1 = run(ex01);
    assert_eq!(outcome(&d1, "build-before-march-2023").0, "pass");
    assert_eq!(outcome(&d1, "proxy-mismatch").0, "pass");
    let d2 = run(ex02);
    assert!(failed(&d2).contains(&"build-before-march-2023"));
}

/// Health Checker's "Failed to query config" (its EEMS block layout, as in
/// `extra/powershell/healthchecker-eems-disabled-unreachable.txt`; synthetic
/// state) and collect's failed `get-organizationconfig` item are both
/// `org-config-unreadable`, citing where they were read.
#[test]
fn failed_to_query_config_is_its_own_finding() {
    let hc = "Exchange Emergency Mitigation Service: Failed to query config\n        More Information: https://aka.ms/HC-EEMS\n        Windows service: Running\n        Pattern service: 200 - Reachable\n";
    let evs = collect(&[("hc.txt", hc.as_bytes().to_vec())]);
    let d = run(&evs[0]);
    let f = d
        .findings
        .iter()
        .find(|f| f.id.as_str() == "org-config-unreadable")
        .unwrap();
    assert_eq!(f.title, "The organization configuration could not be read");
    assert_eq!(f.evidence[0].line, Some(1));
    assert!(f.evidence[0].excerpt.contains("Failed to query config"));
    assert_eq!(outcome(&d, "mitigations-disabled-org").0, "skip");

    let manifest = r#"{"tool_version":"0.1.0","host":"EX01","collected_at":"2026-03-01T06:00:00Z","items":[{"name":"get-organizationconfig","command":"powershell.exe …","exit_code":1,"output":"get-organizationconfig-fl.txt","error":"exit code 1"}]}"#;
    let evs = collect(&[("manifest.json", manifest.as_bytes().to_vec())]);
    let d = run(&evs[0]);
    let f = d
        .findings
        .iter()
        .find(|f| f.id.as_str() == "org-config-unreadable")
        .unwrap();
    assert!(
        f.detail
            .starts_with("collect's get-organizationconfig item failed: exit code 1"),
        "{}",
        f.detail
    );
}

/// Not Health Checker, but the same end-to-end path: a `Get-Mitigations.ps1`
/// listing with a `Failed` status (reconstructed layout,
/// `extra/powershell/get-mitigations-failed.txt`) and a MitigationService log
/// with an `ApplyMitigation` error row (synthetic row in the samples' layout)
/// are `mitigation-apply-failed`, each cited.
#[test]
fn failed_mitigation_from_get_mitigations_and_the_log() {
    let evs = collect(&[(
        "get-mitigations.txt",
        fixture("extra/powershell/get-mitigations-failed.txt"),
    )]);
    let d = run(&evs[0]);
    let f = d
        .findings
        .iter()
        .find(|f| f.id.as_str() == "mitigation-apply-failed")
        .unwrap();
    assert_eq!(f.title, "Get-Mitigations.ps1 shows M2 as failed to apply");
    assert_eq!(f.evidence[0].line, Some(8));

    let log = "DateTime,ServerName,Operation,CustomData\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.02.1748.039\r\n#Log-type: Mitigation Service Logs\r\n#Fields: DateTime,ServerName,Operation,CustomData\r\n2026-03-02T08:08:14.289Z,EX01,ApplyMitigation,S:LogLevel=Error;S:Message=Failed to apply mitigation M2.1\r\n2026-03-02T09:08:14.289Z,EX01,ApplyMitigation,S:LogLevel=Error;S:Message=Failed to apply mitigation M2.1\r\n";
    let evs = collect(&[(
        "MitigationService_2026030208-1.LOG",
        log.as_bytes().to_vec(),
    )]);
    let d = run(&evs[0]);
    let f = d
        .findings
        .iter()
        .find(|f| f.id.as_str() == "mitigation-apply-failed")
        .unwrap();
    // The hourly repeat is one message.
    assert_eq!(f.evidence.len(), 1);
    assert_eq!(f.evidence[0].line, Some(6));
    assert!(
        f.detail.contains("1 distinct ApplyMitigation error,"),
        "{}",
        f.detail
    );
}
