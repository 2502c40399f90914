use super::*;
use proptest::prelude::*;

fn parse(t: &str) -> HealthChecker {
    assert!(looks_like_healthchecker(t), "not recognised:\n{t}");
    let p = parse_healthchecker(Source::new(t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    p.value
}

fn one(t: &str) -> HcReport {
    let mut v = parse(t);
    assert_eq!(v.reports.len(), 1, "{:?}", v.reports);
    v.reports.remove(0)
}

#[test]
fn healthchecker_sample() {
    let t = reference!("os/variants/healthchecker-eems-section.txt");
    let v = one(&t);
    let e = v.eems.unwrap();
    assert_eq!(e.value, EemsConfigState::Enabled);
    assert_eq!(e.line, 1);
    let ws = v.windows_service.unwrap();
    assert_eq!(ws.value, HcServiceState::Running);
    assert_eq!(ws.line, 2);
    let ps = v.pattern_service.unwrap();
    assert_eq!(ps.value.reachable, Some(true));
    assert_eq!(ps.value.status_code, Some(200));
    assert_eq!(ps.raw, "200 - Reachable");
    assert_eq!(ps.line, 3);
    assert_eq!(v.mitigations_applied.len(), 1);
    assert_eq!(v.mitigations_applied[0].value, "PING1");
    assert_eq!(v.mitigations_applied[0].line, 4);
    assert!(v.mitigations_blocked.is_empty());
    let te = v.telemetry_enabled.unwrap();
    assert_eq!(te.value, Some(false));
    assert_eq!(te.line, 6);
    assert!(v.name.is_none() && v.build.is_none() && v.http_proxy.is_none());
}

#[test]
fn healthchecker_disabled_unreachable() {
    let t = powershell!("healthchecker-eems-disabled-unreachable.txt");
    let v = one(&t);
    let e = v.eems.unwrap();
    assert_eq!(e.value, EemsConfigState::DisabledOnServerLevel);
    assert_eq!(e.line, 3);
    assert_eq!(
        v.windows_service.unwrap().value,
        HcServiceState::Investigate
    );
    let ps = v.pattern_service.unwrap();
    assert_eq!(ps.value.reachable, Some(false));
    assert_eq!(ps.value.status_code, None);
    let applied: Vec<_> = v
        .mitigations_applied
        .iter()
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(applied, vec!["PING1", "M1.1"]);
    assert_eq!(v.mitigations_blocked.len(), 1);
    assert_eq!(v.mitigations_blocked[0].value, "M2.1");
    assert_eq!(v.mitigations_blocked[0].line, 11);
    assert_eq!(v.telemetry_enabled.unwrap().value, Some(true));
    let links: Vec<_> = v
        .more_information
        .iter()
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(
        links,
        vec![
            "https://aka.ms/HC-EEMS",
            "https://aka.ms/HelpConnectivityEEMS"
        ]
    );
}

#[test]
fn healthchecker_states() {
    for (s, want) in [
        ("Disabled on org level", EemsConfigState::DisabledOnOrgLevel),
        ("Disabled", EemsConfigState::Disabled),
        (
            "Failed to query config",
            EemsConfigState::FailedToQueryConfig,
        ),
    ] {
        let p = parse_healthchecker(Source::new(&format!(
            "Exchange Emergency Mitigation Service: {s}\n"
        )));
        assert_eq!(p.value.reports[0].eems.as_ref().unwrap().value, want);
    }
    let p = parse_healthchecker(Source::new(
        "        Windows service: Unknown\n        Pattern service: Unreachable\n",
    ));
    let r = &p.value.reports[0];
    assert_eq!(
        r.windows_service.as_ref().unwrap().value,
        HcServiceState::Unknown
    );
    assert_eq!(
        r.pattern_service.as_ref().unwrap().value.reachable,
        Some(false)
    );
    // Lines outside the block do not count once the header is present.
    let p = parse_healthchecker(Source::new(
        "Other: x\n    Windows service: Running\nExchange Emergency Mitigation Service: Enabled\n    Pattern service: Unreachable\nNext: y\n    Windows service: Running\n",
    ));
    let r = &p.value.reports[0];
    assert!(r.windows_service.is_none());
    assert_eq!(r.pattern_service.as_ref().unwrap().line, 4);
    let p = parse_healthchecker(Source::new("hello: world\n"));
    assert_eq!(p.problems.len(), 1);
    assert!(p.value.reports.is_empty());
    let j = serde_json::to_value(EemsConfigState::DisabledOnOrgLevel).unwrap();
    assert_eq!(j, "disabled-on-org-level");
}

/// CSS-Exchange #878: the `Version:` label says CU11, the build number is 2019 CU10.
#[test]
fn real_878_exchange_information_cu10() {
    let t = real!(
        "css-exchange-878-hc-exchange-information-cu10/healthchecker-exchange-information.txt"
    );
    let v = one(&t);
    let n = v.name.unwrap();
    assert_eq!((n.value.as_str(), n.line), ("EXCH_2019_SERVER", 1));
    assert_eq!(v.generation_time.unwrap().value, "01/31/2022 20:52:36");
    assert_eq!(v.exchange_version.unwrap().value, "Exchange 2019 CU11");
    let b = v.build.unwrap();
    assert_eq!(b.value.to_string(), "15.2.922.20");
    assert!(b.value.is_exact());
    assert_eq!((b.raw.as_str(), b.line), ("15.02.0922.020", 4));
    assert!(v.os_version.is_none());
}

/// CSS-Exchange #1352: markdown bold around the Name line, no indentation.
#[test]
fn real_1352_name_with_markdown_bold() {
    let t = real!("css-exchange-1352-hc-name-2016-cu22/healthchecker-exchange-information.txt");
    let v = one(&t);
    assert_eq!(v.name.unwrap().value, "EX-Server-01");
    assert_eq!(v.exchange_version.unwrap().value, "Exchange 2016 CU22");
    assert_eq!(v.generation_time.unwrap().value, "11/02/2022 10:40:49");
    assert!(v.build.is_none());
}

/// CSS-Exchange #1085: tab-indented, then a Security Vulnerability section.
#[test]
fn real_1085_tab_indented() {
    let t = real!("css-exchange-1085-hc-2016-cu23-tabs/healthchecker-excerpt.txt");
    let v = one(&t);
    assert_eq!(v.exchange_version.unwrap().value, "Exchange 2016 CU23");
    let b = v.build.unwrap();
    assert_eq!(b.value.to_string(), "15.1.2507.9");
    assert!(b.value.is_exact());
    assert_eq!(b.line, 2);
    let s: Vec<_> = v
        .sections
        .iter()
        .map(|s| (s.value.as_str(), s.line))
        .collect();
    assert_eq!(s, vec![("Security Vulnerability", 6)]);
    assert!(v.name.is_none());
}

/// CSS-Exchange #1121: the Exchange proxy is fine, the WinHTTP lines are mangled.
#[test]
fn real_1121_proxy_misdisplayed() {
    let t = real!("css-exchange-1121-hc-proxy-misdisplayed/healthchecker-proxy.txt");
    let v = one(&t);
    let iwp = v.internet_web_proxy.unwrap();
    assert_eq!(
        iwp.value.value.as_deref(),
        Some("http://server.contoso.com:3128/")
    );
    assert!(!iwp.value.mangled);
    assert_eq!(iwp.line, 1);
    let hp = v.http_proxy.unwrap();
    assert_eq!(hp.value.value.as_deref(), Some("-"));
    assert!(hp.value.mangled, "{:?}", hp.value);
    assert_eq!(hp.line, 3);
    let by = v.http_proxy_bypass.unwrap();
    assert!(by.value.mangled);
    assert!(by.value.reason.as_deref().unwrap().contains("#1121"));
    assert_eq!(
        by.value.value,
        vec![
            "server.contoso.com:3128**7***.contoso.com",
            "webcrl.consoso.com",
            "<local>"
        ]
    );
    assert_eq!(by.line, 4);
}

/// CSS-Exchange #1875: `:803` for `:80`, and a false "doesn't match" error.
#[test]
fn real_1875_port_803() {
    let t = real!("css-exchange-1875-hc-proxy-port-803/healthchecker-proxy.txt");
    let v = one(&t);
    let hp = v.http_proxy.unwrap();
    assert_eq!(
        hp.value.value.as_deref(),
        Some("proxyserveraddress.domain.local:803")
    );
    assert!(hp.value.mangled);
    assert!(
        hp.value
            .reason
            .as_deref()
            .unwrap()
            .contains("80 with a stray digit")
    );
    let by = v.http_proxy_bypass.unwrap();
    assert_eq!(
        by.value.value,
        vec!["IP.*", "IP.*", "IP.*", "*.domain.local", "<local>"]
    );
    assert!(by.value.mangled, "same blob as the mangled proxy");
    let e = v.proxy_mismatch_error.unwrap();
    assert_eq!(e.line, 3);
    assert!(v.internet_web_proxy.is_none());
    // What the reporter expected is a clean value.
    let t = real!("css-exchange-1875-hc-proxy-port-803/expected-by-reporter.txt");
    let p = parse_healthchecker(Source::new(&t));
    let hp = p.value.reports[0].http_proxy.clone().unwrap();
    assert_eq!(
        hp.value,
        HcValue {
            value: Some("proxyserveraddress.domain.local:80".into()),
            mangled: false,
            reason: None
        }
    );
}

/// CSS-Exchange #761: OS section, markdown `**`, an empty value next to a warning.
#[test]
fn real_761_empty_proxy_with_warning() {
    let t = real!("css-exchange-761-hc-empty-proxy-warning/healthchecker-os-section.txt");
    let v = parse(&t);
    assert_eq!(v.script_version.unwrap().value, "21.10.05.1509");
    let r = &v.reports[0];
    assert_eq!(r.sections[0].value, "Operating System Information");
    assert_eq!(r.sections[0].line, 4);
    assert_eq!(
        r.os_version.as_ref().unwrap().value,
        "Microsoft Windows Server 2019 Standard"
    );
    assert_eq!(r.dotnet.as_ref().unwrap().value, "4.8");
    let hp = r.http_proxy.as_ref().unwrap();
    assert_eq!(hp.value.value, None);
    assert!(hp.value.mangled);
    assert!(
        hp.value
            .reason
            .as_deref()
            .unwrap()
            .contains("empty value next to a warning")
    );
    let by = r.http_proxy_bypass.as_ref().unwrap();
    assert!(by.value.value.is_empty());
    assert!(by.value.mangled);
    assert!(r.exchange_version.is_none() && r.name.is_none());
}

/// CSS-Exchange #1977: the run failed; the server is still named.
#[test]
fn real_1977_failed_run() {
    let t = real!("css-exchange-1977-exsetup-1258-28-hc-failed/healthchecker-failed.txt");
    let v = parse(&t);
    assert_eq!(v.script_version.unwrap().value, "24.01.23.1802");
    let f: Vec<_> = v
        .failed_against
        .iter()
        .map(|f| (f.value.as_str(), f.line))
        .collect();
    assert_eq!(f, vec![("EX19", 2)]);
    assert!(v.reports.is_empty());
}

#[test]
fn full_report_for_two_servers() {
    let t = powershell!("healthchecker-full-two-servers.txt");
    let v = parse(&t);
    assert_eq!(v.script_version.unwrap().value, "24.06.13.2058");
    assert_eq!(v.reports.len(), 2);
    let a = &v.reports[0];
    assert_eq!(a.name.as_ref().unwrap().value, "EX01");
    assert_eq!(a.build.as_ref().unwrap().value.to_string(), "15.2.1118.26");
    assert_eq!(
        a.os_version.as_ref().unwrap().value,
        "Microsoft Windows Server 2019 Datacenter"
    );
    assert_eq!(
        a.exchange_version.as_ref().unwrap().value,
        "Exchange 2019 CU12 Mar23SU"
    );
    assert_eq!(
        a.internet_web_proxy.as_ref().unwrap().value,
        HcValue {
            value: Some("http://proxy.contoso.com:8080/".into()),
            mangled: false,
            reason: None
        }
    );
    let hp = &a.http_proxy.as_ref().unwrap().value;
    assert_eq!(
        (hp.value.as_deref(), hp.mangled),
        (Some("proxy.contoso.com:8080"), false)
    );
    let by = &a.http_proxy_bypass.as_ref().unwrap().value;
    assert_eq!(by.value, vec!["<local>", "*.contoso.com"]);
    assert!(!by.mangled);
    let tls: Vec<_> = a
        .tls
        .iter()
        .map(|l| (l.label.as_str(), l.value.as_str()))
        .collect();
    assert_eq!(
        tls,
        vec![
            ("TLS 1.0", "Disabled"),
            ("TLS 1.1", "Disabled"),
            ("TLS 1.2", "Enabled"),
            ("TLS 1.3", "Disabled")
        ]
    );
    assert_eq!(a.security_protocol.as_ref().unwrap().value, "Tls12");
    assert_eq!(a.eems.as_ref().unwrap().value, EemsConfigState::Enabled);
    assert_eq!(
        a.pattern_service.as_ref().unwrap().value.reachable,
        Some(true)
    );
    let secs: Vec<_> = a.sections.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(
        secs,
        vec![
            "Exchange Information",
            "Operating System Information",
            "Processor/Hardware Information",
            "Security Settings"
        ]
    );
    let b = &v.reports[1];
    assert_eq!(b.name.as_ref().unwrap().value, "EX02");
    assert_eq!(b.build.as_ref().unwrap().value.to_string(), "15.1.2507.9");
    assert_eq!(b.internet_web_proxy.as_ref().unwrap().value.value, None);
    let hp = &b.http_proxy.as_ref().unwrap().value;
    assert_eq!((hp.value.as_deref(), hp.mangled), (None, false));
    assert_eq!(
        b.pattern_service.as_ref().unwrap().value.reachable,
        Some(false)
    );
    assert_eq!(
        b.more_information[0].value,
        "https://aka.ms/HelpConnectivityEEMS"
    );
    // Name lines alone split too (two fragments pasted one after the other).
    let v = parse(
        "Name: EX01\nGeneration Time: 03/14/2025 09:12:44\nBuild Number: 15.02.1118.026\nName: EX02\nBuild Number: 15.01.2507.009\n",
    );
    let names: Vec<_> = v
        .reports
        .iter()
        .map(|r| r.name.as_ref().unwrap().value.as_str())
        .collect();
    assert_eq!(names, vec!["EX01", "EX02"]);
}

#[test]
fn mangled_values() {
    let m = |v: &str| winhttp_proxy(v).mangled;
    assert!(!m("proxy.contoso.com:8080"));
    assert!(!m("PROXY01:8080"), "a NetBIOS name with a port is fine");
    assert!(!m("10.0.0.5:3128"));
    assert!(!m("None"));
    assert!(m("myproxycontosocom:8080"), "#534: dots dropped");
    assert!(m("PROXY01"), "a dotless host without a port");
    assert!(m("proxy.contoso.com:8080;<local>"));
    assert!(m("*.contoso.com"));
    assert!(m("-"));
    assert!(m("proxy.contoso.com:80803"));
    assert!(m("proxy.contoso.com:31281"));
    assert!(!m("proxy.contoso.com:9999"));
    assert!(m(" --- Warning this can cause client connectivity issues."));
    let x = |v: &str| exchange_proxy(v);
    assert_eq!(x("Not Set").value, None);
    assert!(!x("http://proxy/").mangled);
    assert!(
        !x("http://proxy.contoso.com:803/").mangled,
        "only WinHTTP decoding adds digits"
    );
    assert!(x("http://myproxycontosocomverylong:8080/").mangled);
}

#[test]
fn prose_is_not_healthchecker() {
    for t in [
        "I ran Health Checker and it says the Pattern service is unreachable.\n",
        "Exchange Health Checker version 24.01.23.1802\n",
        "Health Checker: everything green\nVersion: 2\n",
        "Name: EX01\nVersion: Exchange 2019 CU12\n",
        "Exchange Information was attached.\n",
    ] {
        assert!(!looks_like_healthchecker(t), "{t}");
    }
    assert!(looks_like_healthchecker(
        "Exchange Information\n--------------------\n"
    ));
    assert!(looks_like_healthchecker(
        "Generation Time: 01/31/2022 20:52:36\nVersion: Exchange 2019 CU11\n"
    ));
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC*") {
        let _ = parse_healthchecker(Source::new(&s));
        let _ = looks_like_healthchecker(&s);
    }

    #[test]
    fn mutated_report_never_panics(cut in 0usize..3000, ins in "\\PC{0,8}", pos in 0usize..3000, del in 0usize..3000) {
        let t = powershell!("healthchecker-full-two-servers.txt");
        let mut s: String = t.chars().take(cut).collect();
        if let Some((i, _)) = s.char_indices().nth(del) { s.remove(i); }
        let at = s.char_indices().nth(pos).map_or(s.len(), |(i, _)| i);
        s.insert_str(at, &ins);
        let _ = parse_healthchecker(Source::new(&s));
        let _ = looks_like_healthchecker(&s);
    }
}
