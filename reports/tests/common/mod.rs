//! Synthetic reports shared by the renderer tests: fixed times, every
//! registered check present, so the snapshots are stable and complete.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use eems_checks::CheckOutcome;
use eems_checks::CheckResult;
use eems_checks::builds::{BuildTable, Precision, Version};
use eems_checks::check::Context;
use eems_checks::classify::Cause;
use eems_checks::diagnosis::{BuildInfo, RootCause, ServerDiagnosis, Status, diagnose};
use eems_checks::evidence::{
    BuildFact, Cite, Fact, InputSource, InputSummary, Occurrences, ServerEvidence, WinHttpSetting,
    WinHttpView,
};
use eems_checks::finding::{Confidence, Evidence, Finding, Severity, Step};
use eems_checks::id::CheckId;
use eems_checks::registry;
use eems_parsers::Kind;
use eems_parsers::Status as ReadStatus;
use eems_reports::Report;

pub fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 17, 0, 0).unwrap()
}

fn input(path: &str, kind: Kind, status: ReadStatus) -> InputSummary {
    InputSummary {
        path: match path {
            "(live probe)" => InputSource::LiveProbe,
            p => InputSource::File(p.to_owned()),
        },
        kind,
        status,
        reason: None,
    }
}

/// Every registered check, with the given outcomes; the rest pass.
fn checks(outcomes: &[(CheckId, CheckOutcome, &str)]) -> Vec<CheckResult> {
    registry::all()
        .into_iter()
        .map(|c| {
            let id = c.meta().id;
            match outcomes.iter().find(|(i, _, _)| *i == id) {
                Some((_, outcome, reason)) => CheckResult {
                    id,
                    outcome: *outcome,
                    reason: Some((*reason).into()),
                },
                None => CheckResult {
                    id,
                    outcome: CheckOutcome::Pass,
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
        CheckId::BuildBeforeMarch2023,
        Severity::Critical,
        Confidence::High,
        "Build 15.2.1118.7 is older than the March 2023 SU of its CU line",
    )
    .detail("Since the January 2025 OCS certificate change, builds below 15.2.1118.26 (2019 CU12 Mar23SU) no longer trust the OCS endpoint. Microsoft states the boundary loosely; the March 2023 SU itself is treated as qualifying.")
    .evidence([build_ev.clone(), untrusted.clone()]);
    let build_finding = upgrade.iter().cloned().fold(build_finding, Finding::step);
    let untrusted_finding = Finding::new(
        CheckId::UntrustedEndpoint,
        Severity::Critical,
        Confidence::High,
        "The service logs \"Connection attempted against untrusted endpoint\"",
    )
    .detail("Every hourly fetch in the last 30 days was refused by the service itself.")
    .evidence([untrusted.clone()])
    .step(Step::text("See build-before-march-2023."));
    let fetch_failing = Finding::new(
        CheckId::FetchFailing,
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
    let mut skips: Vec<(CheckId, CheckOutcome, &str)> = [
        CheckId::TlsInterception,
        CheckId::TlsChainUntrusted,
        CheckId::TlsProtocolFailure,
        CheckId::CrlUnreachable,
        CheckId::CtlUnreachable,
    ]
    .into_iter()
    .map(|id| (id, CheckOutcome::Skip, NEEDS_PROBES))
    .collect();
    skips.extend([
        (CheckId::AiaRetrievalDisabled, CheckOutcome::Skip, "no ChainEngine registry export: collect `reg query HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\ChainEngine\\Config`"),
        (CheckId::CtlAutoupdateDisabled, CheckOutcome::Skip, "no AuthRoot policy export: collect `reg query HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot`"),
        (CheckId::ServiceCrashing, CheckOutcome::Skip, "no Application event log"),
        (CheckId::BuildBeforeMarch2023, CheckOutcome::Fail, "Build 15.2.1118.7 is older than the March 2023 SU of its CU line"),
        (CheckId::UntrustedEndpoint, CheckOutcome::Fail, "The service logs \"Connection attempted against untrusted endpoint\""),
        (CheckId::FetchFailing, CheckOutcome::Fail, "No successful fetch since 2026-10-24"),
    ]);
    let mut d = ServerDiagnosis {
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
                id: CheckId::BuildBeforeMarch2023,
                confidence: Confidence::High,
                explanation: format!("{}. {}", build_finding.title, build_finding.detail),
                evidence: build_finding.evidence.clone(),
                next_steps: upgrade,
            },
            RootCause {
                id: CheckId::CrlUnreachable,
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
            input("EX01/Get-ExchangeServer.txt", Kind::ExchangeServer, ReadStatus::Parsed),
            input("EX01/MitigationService", Kind::MitigationLog, ReadStatus::Parsed),
            input("EX01/Application.evtx", Kind::EventExport, ReadStatus::Partial),
            input("EX01/notes from customer.docx", Kind::Unrecognized, ReadStatus::Unrecognized),
        ],
        probes: None,
        failed_step: None,
        facts: eems_checks::facts::of(&eems_checks::evidence::ServerEvidence::default()),
        paths_relative_to: None,
    };
    // As the binary hands it over: paths relative to the bundle.
    d.make_paths_relative("EX01");
    d
}

fn ex02() -> ServerDiagnosis {
    let blocked = Evidence::new(
        "EX02/Get-ExchangeServer.txt",
        Some(31),
        "MitigationsBlocked : {M2}",
    );
    let blocked_finding = Finding::new(
        CheckId::MitigationsBlocked,
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
        CheckId::ProxyWinhttpMissing,
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
    let mut d = ServerDiagnosis {
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
                id: CheckId::ProxyWinhttpMissing,
                confidence: Confidence::Medium,
                explanation: format!("{}. {}", winhttp.title, winhttp.detail),
                evidence: winhttp.evidence.clone(),
                next_steps: winhttp.remediation.clone(),
            },
            RootCause {
                id: CheckId::MitigationsBlocked,
                confidence: Confidence::High,
                explanation: format!("{}. {}", blocked_finding.title, blocked_finding.detail),
                evidence: vec![blocked],
                next_steps: blocked_finding.remediation.clone(),
            },
        ],
        findings: vec![winhttp, blocked_finding],
        checks: checks(&[
            (
                CheckId::ProxyWinhttpMissing,
                CheckOutcome::Fail,
                "Exchange uses a proxy but WinHTTP goes direct",
            ),
            (
                CheckId::MitigationsBlocked,
                CheckOutcome::Fail,
                "Mitigation M2 is blocked on EX02",
            ),
            (CheckId::TlsInterception, CheckOutcome::Skip, NEEDS_PROBES),
            (CheckId::CrlUnreachable, CheckOutcome::Skip, NEEDS_PROBES),
            (CheckId::CtlUnreachable, CheckOutcome::Skip, NEEDS_PROBES),
            (
                CheckId::ServiceCrashing,
                CheckOutcome::Error,
                "the check panicked (a bug: please report it)",
            ),
        ]),
        inputs: vec![
            input(
                "EX02/MitigationService",
                Kind::MitigationLog,
                ReadStatus::Parsed,
            ),
            input(
                "EX02/Get-ExchangeServer.txt",
                Kind::ExchangeServer,
                ReadStatus::Parsed,
            ),
            input(
                "EX02/netsh-winhttp.txt",
                Kind::NetshWinhttpProxy,
                ReadStatus::Parsed,
            ),
            input("EX02/broken.evtx", Kind::EventExport, ReadStatus::Error),
        ],
        probes: None,
        failed_step: None,
        facts: eems_checks::facts::of(&eems_checks::evidence::ServerEvidence::default()),
        paths_relative_to: None,
    };
    // As the binary hands it over: paths relative to the bundle.
    d.make_paths_relative("EX02");
    d
}

/// Two servers, critical and warning, every check present.
pub fn two_servers() -> Report {
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![ex01(), ex02()],
        grouping: Vec::new(),
        unassigned: Vec::new(),
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
    d.inputs[3].path = InputSource::File(format!("{evil}.txt"));
    d.checks[0].reason = Some(format!("reason {evil}").into());
    // Text mentioning a URL is fine; it must stay text.
    d.findings[1].detail = "see https://officeclient.microsoft.com/getexchangemitigations".into();
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![d],
        grouping: Vec::new(),
        unassigned: Vec::new(),
    }
}

/// A diagnosis produced by the real checks from hand-made evidence.
pub fn real_diagnosis() -> Report {
    let table = BuildTable::embedded();
    let ctx = Context::embedded(&table);
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
                Kind::ExchangeServer,
                ReadStatus::Parsed,
            ),
            input(
                "EX03/Application.xml",
                Kind::EventExport,
                ReadStatus::Parsed,
            ),
            input(
                "EX03/random.bin",
                Kind::Unrecognized,
                ReadStatus::Unrecognized,
            ),
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
        grouping: Vec::new(),
        unassigned: Vec::new(),
    }
}

fn cert(subject: &str, issuer: &str, sha: &str) -> eems_parsers::probe_results::CertInfo {
    let cn = |dn: &str| {
        dn.split(", ")
            .find_map(|p| p.strip_prefix("CN="))
            .map(str::to_owned)
    };
    eems_parsers::probe_results::CertInfo {
        subject: subject.into(),
        issuer: issuer.into(),
        subject_cn: cn(subject),
        issuer_cn: cn(issuer),
        issuer_o: issuer
            .split(", ")
            .find_map(|p| p.strip_prefix("O="))
            .map(str::to_owned),
        serial: "0a".into(),
        not_before: "2026-11-20T00:00:00Z".into(),
        not_after: "2026-12-04T00:00:00Z".into(),
        sha256: sha.repeat(32),
        sha1: sha.repeat(20),
        spki_sha256: sha.repeat(32),
        key_type: "RSA".into(),
        key_bits: Some(2048),
        is_ca: subject != issuer,
        self_signed: subject == issuer,
        ..Default::default()
    }
}

/// A live probe through a Zscaler-inspecting proxy whose WinHTTP side denies CRL GETs.
pub fn zscaler_probe() -> eems_parsers::probe_results::ProbeReport {
    use eems_parsers::probe_results::*;
    let step = |kind, target: &str, outcome, reason: Option<&str>, ms| ProbeStep {
        kind,
        target: target.into(),
        outcome,
        reason: reason.map(str::to_owned),
        duration_ms: ms,
        details: Vec::new(),
        http_status: None,
        proxy_authenticate: None,
    };
    let zs = "CN=Zscaler Intermediate Root CA (zscalerthree.net) (t), OU=Zscaler Inc., O=Zscaler Inc., C=US";
    let mut leaf = cert("CN=officeclient.microsoft.com", zs, "2E");
    leaf.is_ca = false;
    leaf.crl_urls = vec!["http://gateway.zscalerthree.net/crl/zs3-kek--4-1.crl".into()];
    leaf.dns_names = vec!["officeclient.microsoft.com".into()];
    let inter = cert(zs, "CN=Zscaler Root CA, O=Zscaler Inc., C=US", "3A");
    let mut connect = step(
        StepKind::ProxyConnect,
        "proxy.contoso.com:8080",
        StepOutcome::Ok,
        None,
        4,
    );
    connect.http_status = Some(200);
    connect.details = vec!["HTTP/1.1 200 Connection established".into()];
    ProbeReport {
        schema_version: PROBE_SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        started_at: "2026-11-23T16:59:00Z".into(),
        host: Some("EX04".into()),
        ocs_url: "https://officeclient.microsoft.com/getexchangemitigations".into(),
        proxy: Some("http://proxy.contoso.com:8080/".into()),
        winhttp_proxy: Some("proxy.contoso.com:8080".into()),
        timeout_ms: 10_000,
        steps: vec![
            step(StepKind::Dns, "proxy.contoso.com", StepOutcome::Ok, None, 2),
            step(StepKind::Tcp, "proxy.contoso.com:8080", StepOutcome::Ok, None, 1),
            connect,
            step(
                StepKind::Tls,
                "officeclient.microsoft.com",
                StepOutcome::Failed,
                Some("invalid peer certificate: UnknownIssuer"),
                23,
            ),
            step(
                StepKind::OcsRequest,
                "https://officeclient.microsoft.com/getexchangemitigations",
                StepOutcome::Skipped,
                Some("TLS failed"),
                0,
            ),
            step(
                StepKind::Crl,
                "http://gateway.zscalerthree.net/crl/zs3-kek--4-1.crl",
                StepOutcome::Failed,
                Some("HTTP 403"),
                6,
            ),
            step(
                StepKind::Ctl,
                "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
                StepOutcome::Ok,
                None,
                35,
            ),
        ],
        tls: Some(TlsResult {
            protocol: Some("TLSv1.2".into()),
            cipher_suite: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()),
            chain: vec![leaf, inter],
            trusted: false,
            validation_error: Some("invalid peer certificate: UnknownIssuer".into()),
            extra_anchors: 0,
            // As a Windows probe reports it: the OS engine agrees.
            os_verdict: Some(OsVerdict {
                engine: "windows-cryptoapi".into(),
                status: OsStatus::Rejected,
                error: Some("CERT_E_UNTRUSTEDROOT (0x800B0109)".into()),
                trust_status: vec!["CERT_TRUST_IS_UNTRUSTED_ROOT".into()],
            }),
        }),
        ocs: None,
        crls: vec![CrlFetch {
            fetch: HttpFetch {
                url: "http://gateway.zscalerthree.net/crl/zs3-kek--4-1.crl".into(),
                via_proxy: Some("proxy.contoso.com:8080".into()),
                status: Some(403),
                ok: false,
                error: None,
                timed_out: false,
                bytes: 3900,
                duration_ms: 6,
            },
            chain: ChainRole::Tls,
            for_subject: "CN=officeclient.microsoft.com".into(),
            crl_issuer: None,
            issuer_matches: None,
            this_update: None,
            next_update: None,
            expired: None,
            revoked: None,
            parse_error: None,
            signature: None,
        }],
        aia: Vec::new(),
        ctl: Some(HttpFetch {
            url: "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab".into(),
            via_proxy: Some("proxy.contoso.com:8080".into()),
            status: Some(200),
            ok: true,
            error: None,
            timed_out: false,
            bytes: 120_000,
            duration_ms: 35,
        }),
        duration_ms: 71,
    }
}

/// A diagnosis by the real checks of a live probe (as `eems-doctor probe` makes it).
pub fn probe_diagnosis() -> Report {
    let table = BuildTable::embedded();
    let ctx = Context::embedded(&table);
    let ev = ServerEvidence {
        server: Some("EX04".into()),
        inputs: vec![input(
            "(live probe)",
            Kind::ProbeResults,
            ReadStatus::Parsed,
        )],
        probes: Some(zscaler_probe()),
        ..ServerEvidence::default()
    };
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![diagnose(&ev, &ctx)],
        grouping: Vec::new(),
        unassigned: Vec::new(),
    }
}

/// A 407 from the proxy, probe only.
pub fn proxy_auth_diagnosis() -> Report {
    use eems_parsers::probe_results::*;
    let mut p = zscaler_probe();
    p.steps.truncate(3);
    p.steps[2].outcome = StepOutcome::Failed;
    p.steps[2].http_status = Some(407);
    p.steps[2].reason = Some("proxy answered 407 Proxy Authentication Required".into());
    p.steps[2].proxy_authenticate = Some("Basic realm=\"Contoso proxy\"".into());
    p.tls = None;
    p.crls.clear();
    p.ctl = None;
    let table = BuildTable::embedded();
    let ctx = Context::embedded(&table);
    let ev = ServerEvidence {
        server: Some("EX05".into()),
        inputs: vec![input(
            "(live probe)",
            Kind::ProbeResults,
            ReadStatus::Parsed,
        )],
        probes: Some(p),
        ..ServerEvidence::default()
    };
    Report {
        tool_version: "0.1.0".into(),
        generated_at: fixed_time(),
        servers: vec![diagnose(&ev, &ctx)],
        grouping: Vec::new(),
        unassigned: Vec::new(),
    }
}

/// A probe carrying markup where a hostile network can put it.
pub fn hostile_probe() -> Report {
    let evil = "<script>alert(1)</script>";
    let mut r = probe_diagnosis();
    let p = r.servers[0].probes.as_mut().unwrap();
    p.steps[0].target = format!("dns{evil}");
    p.steps[3].reason = Some(format!("reason{evil}"));
    let t = p.tls.as_mut().unwrap();
    t.chain[0].subject = format!("CN=leaf{evil}");
    t.chain[0].issuer = format!("CN=issuer{evil}");
    p.crls[0].fetch.url = format!("http://crl{evil}/x.crl");
    p.ocs = Some(eems_parsers::probe_results::OcsResponse {
        status: 403,
        body_excerpt: Some(format!("<html>block page{evil}")),
        ..Default::default()
    });
    r.servers[0].failed_step = Some(format!("failed{evil}"));
    r
}
