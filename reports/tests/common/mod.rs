//! Synthetic reports shared by the renderer tests: fixed times, every
//! registered check present, so the snapshots are stable and complete.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use eems_checks::CheckResult;
use eems_checks::builds::{BuildTable, Precision, Version};
use eems_checks::check::Context;
use eems_checks::classify::Cause;
use eems_checks::diagnosis::{BuildInfo, RootCause, ServerDiagnosis, Status, diagnose};
use eems_checks::evidence::{
    BuildFact, Cite, Fact, InputSummary, Occurrences, ServerEvidence, WinHttpSetting, WinHttpView,
};
use eems_checks::finding::{Confidence, Evidence, Finding, Severity, Step};
use eems_checks::registry;
use eems_reports::Report;

pub fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 17, 0, 0).unwrap()
}

fn input(path: &str, kind: &str, status: &str) -> InputSummary {
    InputSummary {
        path: path.into(),
        kind: kind.into(),
        status: status.into(),
    }
}

/// Every registered check, with the given outcomes; the rest pass.
fn checks(outcomes: &[(&str, &'static str, &str)]) -> Vec<CheckResult> {
    registry::all()
        .into_iter()
        .map(|c| {
            let id = c.meta().id;
            match outcomes.iter().find(|(i, _, _)| *i == id) {
                Some((_, outcome, reason)) => CheckResult {
                    id,
                    outcome,
                    reason: Some((*reason).to_owned()),
                },
                None => CheckResult {
                    id,
                    outcome: "pass",
                    reason: None,
                },
            }
        })
        .collect()
}

const NEEDS_PROBES: &str = "needs live probes: run `eems-doctor probe` on the server";

fn ex01() -> ServerDiagnosis {
    let untrusted = Evidence {
        count: Some(720),
        first_seen: Some("2026-10-24T17:02:11+00:00".into()),
        last_seen: Some("2026-11-23T16:02:09+00:00".into()),
        ..Evidence::new(
            "EX01/MitigationService/Mitigation-Service_2026102417.log",
            Some(7),
            "2026-10-24T17:02:11.412Z,FetchMitigation,S:LogLevel=Warning;S:Message=Connection attempted against untrusted endpoint",
        )
    };
    let build_ev = Evidence::new(
        "EX01/Get-ExchangeServer.txt",
        Some(12),
        "AdminDisplayVersion : Version 15.2 (Build 1118.7)",
    );
    let upgrade = vec![
        Step::text(
            "Install the latest CU and SU for Exchange Server 2019 (at least 15.2.1118.26, CU12 Mar23SU; better CU15 with its latest SU).",
        ),
        Step::cmd(
            "AdminDisplayVersion shows the CU only: read the exact build from ExSetup.exe to confirm.",
            "Get-Command ExSetup.exe | ForEach-Object { $_.FileVersionInfo.FileVersion }",
        ),
    ];
    let build_finding = Finding::new(
        "build-before-march-2023",
        Severity::Critical,
        Confidence::High,
        "Build 15.2.1118.7 is older than the March 2023 SU of its CU line",
    )
    .detail("Since the January 2025 OCS certificate change, builds below 15.2.1118.26 (2019 CU12 Mar23SU) no longer trust the OCS endpoint. Microsoft states the boundary loosely; the March 2023 SU itself is treated as qualifying.")
    .evidence([build_ev.clone(), untrusted.clone()]);
    let build_finding = upgrade.iter().cloned().fold(build_finding, Finding::step);
    let untrusted_finding = Finding::new(
        "untrusted-endpoint",
        Severity::Critical,
        Confidence::High,
        "The service logs \"Connection attempted against untrusted endpoint\"",
    )
    .detail("Every hourly fetch in the last 30 days was refused by the service itself.")
    .evidence([untrusted.clone()])
    .step(Step::text("See build-before-march-2023."));
    let fetch_failing = Finding::new(
        "fetch-failing",
        Severity::Warning,
        Confidence::High,
        "No successful fetch since 2026-10-24",
    )
    .detail("720 of 720 fetch attempts failed.")
    .evidence([Evidence::new(
        "EX01/Application.evtx",
        None,
        "Event 1008: An unexpected exception occurred. Diagnostic information: Exception encountered while fetching mitigations.",
    )]);
    let mut skips: Vec<(&str, &'static str, &str)> = [
        "tls-interception",
        "tls-chain-untrusted",
        "tls-protocol-failure",
        "crl-unreachable",
        "ctl-unreachable",
    ]
    .into_iter()
    .map(|id| (id, "skip", NEEDS_PROBES))
    .collect();
    skips.extend([
        ("aia-retrieval-disabled", "skip", "no ChainEngine registry export: collect `reg query HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\ChainEngine\\Config`"),
        ("ctl-autoupdate-disabled", "skip", "no AuthRoot policy export: collect `reg query HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot`"),
        ("service-crashing", "skip", "no Application event log"),
        ("build-before-march-2023", "fail", "Build 15.2.1118.7 is older than the March 2023 SU of its CU line"),
        ("untrusted-endpoint", "fail", "The service logs \"Connection attempted against untrusted endpoint\""),
        ("fetch-failing", "fail", "No successful fetch since 2026-10-24"),
    ]);
    ServerDiagnosis {
        server: Some("EX01".into()),
        status: Status::Critical,
        build: Some(BuildInfo {
            version: "15.2.1118.7".into(),
            product: Some("Exchange Server 2019".into()),
            update: Some("CU12".into()),
            released: Some("2022-04-20".into()),
            precision: Precision::Cu,
            source: "EX01/Get-ExchangeServer.txt".into(),
        }),
        root_causes: vec![
            RootCause {
                id: "build-before-march-2023",
                confidence: Confidence::High,
                explanation: format!("{}. {}", build_finding.title, build_finding.detail),
                evidence: build_finding.evidence.clone(),
                next_steps: upgrade,
            },
            RootCause {
                id: "crl-unreachable",
                confidence: Confidence::Low,
                explanation: "Candidate 2 of 3 for the TLS validation failure: CRL endpoints unreachable: Windows cannot download the CRLs of the OCS chain over HTTP/80 (through the WinHTTP proxy), so revocation cannot be checked.".into(),
                evidence: vec![untrusted],
                next_steps: vec![Step::cmd(
                    "Tell the candidates apart on the server (captures the chain, fetches its CRLs the way Windows does):",
                    "eems-doctor probe",
                )],
            },
        ],
        findings: vec![build_finding, untrusted_finding, fetch_failing],
        checks: checks(&skips),
        inputs: vec![
            input("EX01/Get-ExchangeServer.txt", "get-exchangeserver", "parsed"),
            input("EX01/MitigationService", "mitigation-log", "parsed"),
            input("EX01/Application.evtx", "evtx", "partial"),
            input("EX01/notes from customer.docx", "unknown", "unrecognized"),
        ],
    }
}

fn ex02() -> ServerDiagnosis {
    let blocked = Evidence::new(
        "EX02/Get-ExchangeServer.txt",
        Some(31),
        "MitigationsBlocked : {M2}",
    );
    let blocked_finding = Finding::new(
        "mitigations-blocked",
        Severity::Warning,
        Confidence::High,
        "Mitigation M2 is blocked on EX02",
    )
    .detail("A blocked mitigation is never applied, even when OCS publishes it.")
    .evidence([blocked.clone()])
    .step(Step::cmd(
        "If the block is not intended, clear it:",
        "Set-ExchangeServer -Identity EX02 -MitigationsBlocked @()",
    ));
    let winhttp = Finding::new(
        "proxy-winhttp-missing",
        Severity::Warning,
        Confidence::Medium,
        "Exchange uses a proxy but WinHTTP goes direct",
    )
    .detail("CRLs are fetched through the WinHTTP proxy, not the Exchange proxy (http://proxy.contoso.com:8080).")
    .evidence([Evidence::new(
        "EX02/netsh-winhttp.txt",
        Some(4),
        "Direct access (no proxy server).",
    )])
    .step(Step::cmd(
        "Set the WinHTTP proxy to the same proxy:",
        "netsh winhttp set proxy proxy.contoso.com:8080 \"<local>;*.contoso.com\"",
    ));
    ServerDiagnosis {
        server: Some("EX02".into()),
        status: Status::Warning,
        build: Some(BuildInfo {
            version: "15.2.1544.14".into(),
            product: Some("Exchange Server 2019".into()),
            update: Some("CU14 Nov24SUv2".into()),
            released: Some("2024-11-27".into()),
            precision: Precision::Exact,
            source: "EX02/MitigationService/Mitigation-Service_20261123.log".into(),
        }),
        root_causes: vec![
            RootCause {
                id: "proxy-winhttp-missing",
                confidence: Confidence::Medium,
                explanation: format!("{}. {}", winhttp.title, winhttp.detail),
                evidence: winhttp.evidence.clone(),
                next_steps: winhttp.remediation.clone(),
            },
            RootCause {
                id: "mitigations-blocked",
                confidence: Confidence::High,
                explanation: format!("{}. {}", blocked_finding.title, blocked_finding.detail),
                evidence: vec![blocked],
                next_steps: blocked_finding.remediation.clone(),
            },
        ],
        findings: vec![winhttp, blocked_finding],
        checks: checks(&[
            (
                "proxy-winhttp-missing",
                "fail",
                "Exchange uses a proxy but WinHTTP goes direct",
            ),
            (
                "mitigations-blocked",
                "fail",
                "Mitigation M2 is blocked on EX02",
            ),
            ("tls-interception", "skip", NEEDS_PROBES),
            ("crl-unreachable", "skip", NEEDS_PROBES),
            ("ctl-unreachable", "skip", NEEDS_PROBES),
            (
                "service-crashing",
                "error",
                "the check panicked (a bug: please report it)",
            ),
        ]),
        inputs: vec![
            input("EX02/MitigationService", "mitigation-log", "parsed"),
            input(
                "EX02/Get-ExchangeServer.txt",
                "get-exchangeserver",
                "parsed",
            ),
            input("EX02/netsh-winhttp.txt", "netsh-winhttp", "parsed"),
            input("EX02/broken.evtx", "evtx", "error"),
        ],
    }
}

/// Two servers, critical and warning, every check present.
pub fn two_servers() -> Report {
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![ex01(), ex02()],
    }
}

pub fn one_server() -> Report {
    Report {
        servers: vec![ex01()],
        ..two_servers()
    }
}

/// A report with markup everywhere the evidence can carry it.
pub fn hostile() -> Report {
    let evil = "<script>alert(1)</script>";
    let mut d = ex01();
    d.server = Some(format!("EX01{evil}"));
    d.findings[0].title = format!("title {evil}");
    d.findings[0].detail = format!("detail {evil} \"quoted\" & 'single'");
    d.findings[0].evidence[0].excerpt = format!("excerpt {evil}");
    d.findings[0].remediation[0].text = format!("step {evil}");
    d.findings[0].remediation[1].command = Some(format!("Write-Host '{evil}'"));
    d.root_causes[0].explanation = format!("explanation {evil}");
    d.root_causes[0].evidence[0].excerpt = format!("cause excerpt {evil}");
    d.root_causes[0].next_steps[1].command = Some(format!("cmd {evil}"));
    d.inputs[3].path = format!("{evil}.txt");
    d.checks[0].reason = Some(format!("reason {evil}"));
    // Text mentioning a URL is fine; it must stay text.
    d.findings[1].detail = "see https://officeclient.microsoft.com/getexchangemitigations".into();
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![d],
    }
}

/// A diagnosis produced by the real checks from hand-made evidence.
pub fn real_diagnosis() -> Report {
    let table = BuildTable::embedded();
    let ctx = Context { builds: &table };
    let t = |h| Some(Utc.with_ymd_and_hms(2026, 11, 20, h, 2, 0).unwrap());
    let log = "EX03/Mitigation-Service_20261120.log";
    let mut occ = Occurrences::new(
        t(1),
        Cite::new(
            log,
            Some(5),
            "FetchMitigation,S:LogLevel=Warning;S:Message=Connection attempted against untrusted endpoint",
        ),
    );
    for h in 2..20 {
        occ.add(t(h), Cite::new(log, Some(5 + h as usize), "FetchMitigation,S:LogLevel=Warning;S:Message=Connection attempted against untrusted endpoint"));
    }
    let mut ev = ServerEvidence {
        server: Some("EX03".into()),
        inputs: vec![
            input(
                "EX03/Get-ExchangeServer.txt",
                "get-exchangeserver",
                "parsed",
            ),
            input("EX03/Application.xml", "events-xml", "parsed"),
            input("EX03/random.bin", "unknown", "unrecognized"),
        ],
        build: Some(Fact::new(
            BuildFact {
                version: Version::parse("15.2.1118.7").unwrap(),
                precision: Precision::Cu,
            },
            Cite::new(
                "EX03/Get-ExchangeServer.txt",
                Some(3),
                "AdminDisplayVersion : Version 15.2 (Build 1118.7)",
            ),
        )),
        exchange_proxy: Some(Fact::new(
            Some("http://proxy.contoso.com:8080".into()),
            Cite::new(
                "EX03/Get-ExchangeServer.txt",
                Some(9),
                "InternetWebProxy : http://proxy.contoso.com:8080/",
            ),
        )),
        winhttp: vec![Fact::new(
            WinHttpSetting {
                view: WinHttpView::Netsh,
                proxy: None,
                bypass: vec![],
            },
            Cite::new(
                "EX03/netsh.txt",
                Some(4),
                "Direct access (no proxy server).",
            ),
        )],
        events_seen: 19,
        ..ServerEvidence::default()
    };
    ev.event_causes.insert(Cause::UntrustedEndpoint, occ);
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![diagnose(&ev, &ctx)],
    }
}
