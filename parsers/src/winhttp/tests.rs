use super::*;
use crate::test_support::mutate;
use crate::text::{Encoding, decode};
use proptest::prelude::*;

fn text(bytes: &[u8]) -> String {
    decode(bytes).text
}

fn netsh(bytes: &[u8]) -> Parsed<NetshProxy> {
    parse_netsh_proxy(Source::new(&text(bytes)))
}

fn adv(bytes: &[u8]) -> Parsed<AdvProxy> {
    parse_advproxy(Source::new(&text(bytes)))
}

fn reg(bytes: &[u8]) -> Parsed<WinHttpRegistry> {
    parse_registry(Source::new(&text(bytes)))
}

const CONNECTIONS: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";

// ------------------------------------------------------------------ netsh show proxy

#[test]
fn netsh_healthy_direct() {
    let p = netsh(fixture!(
        "reference/os/healthy_EX01/netsh-winhttp-show-proxy.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert!(v.direct);
    assert_eq!(v.direct_line, Some(4));
    assert_eq!(v.header_line, Some(2));
    assert_eq!(v.language, Language::En);
    assert!(v.proxy_server.is_none() && v.proxies.is_empty() && v.bypass_list.is_empty());
}

#[test]
fn netsh_ex04_proxy() {
    let p = netsh(fixture!(
        "reference/os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert!(!v.direct);
    assert_eq!(v.language, Language::En);
    let ps = v.proxy_server.unwrap();
    assert_eq!(ps.label, "Proxy Server(s)");
    assert_eq!(ps.value, "10.20.30.40:8080");
    assert_eq!(ps.line, 4);
    assert_eq!(
        *v.proxies,
        [ProxyEntry {
            scheme: None,
            url_scheme: None,
            host: "10.20.30.40".into(),
            port: Some(8080),
            raw: "10.20.30.40:8080".into(),
            well_formed: true,
        }]
    );
    let b = v.bypass.unwrap();
    assert_eq!((b.label.as_str(), b.line), ("Bypass List", 5));
    assert_eq!(b.value, "<local>;*.contoso.com;10.*");
    assert_eq!(v.bypass_list, ["<local>", "*.contoso.com", "10.*"]);
}

#[test]
fn netsh_german_oem850() {
    let bytes = fixture!("reference/os/variants/netsh-winhttp-show-proxy_de-DE_oem850.txt");
    let p = netsh(bytes);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(v.language, Language::De);
    assert_eq!(v.header_line, Some(2));
    let ps = v.proxy_server.unwrap();
    assert_eq!((ps.label.as_str(), ps.line), ("Proxyserver", 4));
    assert_eq!(v.proxies[0].host, "proxy.contoso.de");
    assert_eq!(v.proxies[0].port, Some(3128));
    assert_eq!(v.bypass.unwrap().value, "(keine)");
    assert!(v.bypass_list.is_empty());
}

#[test]
fn netsh_per_scheme_utf16_none() {
    let bytes = fixture!("reference/os/variants/netsh-winhttp-show-proxy_no-bypass_utf16.txt");
    assert_eq!(decode(bytes).encoding, Encoding::Utf16leBom);
    let p = netsh(bytes);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(
        v.proxy_server.unwrap().value,
        "http=proxy.contoso.com:8080;https=proxy.contoso.com:8443"
    );
    let got: Vec<_> = v
        .proxies
        .iter()
        .map(|e| (e.scheme.as_deref(), e.host.as_str(), e.port))
        .collect();
    assert_eq!(
        got,
        [
            (Some("http"), "proxy.contoso.com", Some(8080)),
            (Some("https"), "proxy.contoso.com", Some(8443)),
        ]
    );
    assert_eq!(v.bypass.unwrap().value, "(none)");
    assert!(v.bypass_list.is_empty());
}

#[test]
fn netsh_german_direct_and_other_label_and_tight_colon() {
    let src =
        "\nAktuelle WinHTTP-Proxyeinstellungen:\n\n    Direkter Zugriff (kein Proxyserver).\n";
    let v = parse_netsh_proxy(Source::new(src));
    assert!(v.problems.is_empty());
    assert!(v.value.direct);
    assert_eq!(v.value.language, Language::De);

    let src = "Aktuelle WinHTTP-Proxyeinstellungen:\n\n    Proxyserver:  http://192.168.0.117:8080\n    Verbindungen, die die Proxyliste umgehen:  <local>\n";
    let v = parse_netsh_proxy(Source::new(src));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let e = &v.value.proxies[0];
    assert_eq!(
        (
            e.scheme.as_deref(),
            e.url_scheme.as_deref(),
            e.host.as_str(),
            e.port
        ),
        (None, Some("http"), "192.168.0.117", Some(8080))
    );
    assert_eq!(v.value.bypass_list, ["<local>"]);
    assert_eq!(
        v.value.bypass.unwrap().label,
        "Verbindungen, die die Proxyliste umgehen"
    );

    // A forum rendering: no space before the colon, no indentation, no header.
    let v = parse_netsh_proxy(Source::new(
        "Proxy Server(s): proxy.corp:8080\nBypass List:(none)\n",
    ));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.value.header_line, None);
    assert_eq!(v.value.proxies[0].host, "proxy.corp");
    assert_eq!(v.value.bypass.unwrap().value, "(none)");
    assert!(v.value.bypass_list.is_empty());
}

#[test]
fn netsh_wrapped_bypass_and_junk() {
    let src = "\nCurrent WinHTTP proxy settings:\n\n    Proxy Server(s) :  p:1\n    Bypass List     :  <local>;*.a.com;*.b.\ncom;10.*\n\nAccess is denied.\n";
    let p = parse_netsh_proxy(Source::new(src));
    assert_eq!(
        p.value.bypass_list,
        ["<local>", "*.a.com", "*.b.com", "10.*"]
    );
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].line, Some(8));
    assert!(p.problems[0].message.contains("Access is denied."));

    let p = parse_netsh_proxy(Source::new(
        "The following command was not found: winhttp show proxy.\n",
    ));
    assert!(p.value.proxy_server.is_none());
    assert_eq!(p.problems.len(), 2);

    let p = parse_netsh_proxy(Source::new(
        "Current WinHTTP proxy settings:\n    Proxy Server(s) :  a:99999 b:x\n",
    ));
    let msgs: Vec<_> = p.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(msgs.iter().any(|m| m.contains("out of range")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("unexpected text ':x'")),
        "{msgs:?}"
    );
    assert!(msgs.contains(&"bypass list line missing"));
}

#[test]
fn proxy_for_scheme_follows_winhttp() {
    let authority = |list: &str, scheme: &str| {
        ProxyList::parse(list)
            .0
            .for_scheme(scheme)
            .and_then(ProxyEntry::authority)
    };
    // A `scheme=` entry serves that scheme only; CryptoAPI's CRL and CTL
    // downloads are http://, the OCS request https://.
    let per_scheme = "http=a:3128;https=b:8443";
    assert_eq!(authority(per_scheme, "http"), Some(("a".into(), 3128)));
    assert_eq!(authority(per_scheme, "https"), Some(("b".into(), 8443)));
    // Selectors and the scheme asked for are case-insensitive.
    assert_eq!(authority("HTTP=A:1", "http"), Some(("a".into(), 1)));
    assert_eq!(authority("https=b:2", "HTTPS"), Some(("b".into(), 2)));
    // No entry for the scheme and no bare entry: that scheme goes direct.
    assert_eq!(authority("http=a:3128", "https"), None);
    assert_eq!(authority("https=b:2", "http"), None);
    // A bare entry serves every scheme a `scheme=` entry does not claim.
    assert_eq!(
        authority("https=b:2 c:8080", "http"),
        Some(("c".into(), 8080))
    );
    assert_eq!(
        authority("https=b:2 c:8080", "https"),
        Some(("b".into(), 2))
    );
    assert_eq!(authority("proxy", "https"), Some(("proxy".into(), 80)));
    assert_eq!(
        authority("http://[FD00::1]:8080/", "http"),
        Some(("fd00::1".into(), 8080))
    );
    // The first of several entries for one scheme is the one in use.
    assert_eq!(authority("x:1;y:2", "http"), Some(("x".into(), 1)));
    let (l, _) = ProxyList::parse("http=http://a:1");
    assert_eq!(l[0].server(), "http://a:1");
    assert_eq!(ProxyList::parse("b:2").0[0].server(), "b:2");
}

#[test]
fn proxy_list_forms() {
    let (e, p) = ProxyList::parse("http=a:3128;https=b:8443");
    assert!(p.is_empty());
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0].scheme.as_deref(), e[0].host.as_str(), e[0].port),
        (Some("http"), "a", Some(3128))
    );
    let (e, _) = ProxyList::parse("[fd00::1]:8080 https://x.y/");
    assert_eq!((e[0].host.as_str(), e[0].port), ("[fd00::1]", Some(8080)));
    assert_eq!(
        (e[1].url_scheme.as_deref(), e[1].host.as_str(), e[1].port),
        (Some("https"), "x.y", None)
    );
    let (e, p) = ProxyList::parse("=x");
    assert!(e.is_empty());
    assert_eq!(p.len(), 1);
    let (e, p) = ProxyList::parse("http://proxy:notaport/");
    assert_eq!(p.len(), 1);
    assert_eq!(e[0].authority(), None);
    assert_eq!(split_bypass(" <local> ; ;*.x "), ["<local>", "*.x"]);
    assert!(split_bypass("(aucun)").is_empty());
}

// ------------------------------------------------------------------ advproxy

#[test]
fn advproxy_healthy() {
    let p = adv(fixture!(
        "reference/os/healthy_EX01/netsh-winhttp-show-advproxy.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert!(v.available);
    assert_eq!(v.format, AdvProxyFormat::Json);
    assert_eq!(v.header_line, Some(2));
    assert!(!v.empty);
    assert_eq!(v.proxy_is_enabled, Some(false));
    assert_eq!(v.auto_config_is_enabled, Some(false));
    assert_eq!(v.auto_detect, Some(false));
    assert_eq!(v.per_user_proxy_settings, Some(false));
    assert_eq!(v.proxy, None);
    assert!(v.proxy_bypass.is_empty());
    assert_eq!(v.lines.proxy_is_enabled, Some(5));
    assert_eq!(v.lines.per_user_proxy_settings, Some(8));
    assert!(v.other.is_empty());
}

#[test]
fn advproxy_ex04_not_available() {
    let p = adv(fixture!(
        "reference/os/misconfigured_EX04/netsh-winhttp-show-advproxy.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert!(!v.available);
    assert_eq!(v.format, AdvProxyFormat::NotAvailable);
    let m = v.message.unwrap();
    assert_eq!(m.line, 1);
    assert_eq!(
        m.message,
        "The following command was not found: winhttp show advproxy."
    );
}

#[test]
fn advproxy_no_header_server2022() {
    let p = adv(fixture!(
        "reference/os/variants/netsh-winhttp-show-advproxy_no-header_server2022.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert!(v.available);
    assert_eq!(v.header_line, None);
    assert_eq!(v.proxy.as_deref(), Some("localhost:8080"));
    assert_eq!(v.proxies[0].port, Some(8080));
    assert_eq!(v.proxy_bypass, ["*"]);
    assert_eq!((v.lines.proxy, v.lines.proxy_bypass), (Some(2), Some(3)));
    assert_eq!(v.proxy_is_enabled, None);
}

#[test]
fn advproxy_full_blank_autoconfig_url() {
    let p = adv(fixture!(
        "reference/os/variants/netsh-winhttp-show-advproxy_full.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(v.proxy_is_enabled, Some(true));
    assert_eq!(v.proxy.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(v.proxy_bypass, ["<local>", "*.contoso.com"]);
    assert_eq!(v.auto_config_is_enabled, Some(false));
    assert_eq!(v.auto_config_url, None);
    assert_eq!(v.lines.auto_config_url, Some(9));
    assert_eq!(v.auto_detect, Some(false));
    assert_eq!(v.per_user_proxy_settings, Some(false));
}

#[test]
fn advproxy_empty_object_trailing_comma_unknown_keys() {
    let p = parse_advproxy(Source::new(
        "\nCurrent WinHTTP advanced proxy settings:\n\n{\n}\n",
    ));
    assert!(p.problems.is_empty());
    assert!(p.value.empty && p.value.available);

    let src = "{\n  \"ProxyIsEnabled\": true,\n  \"AutoConfigUrl\": \"http://wpad/wpad.dat\",\n  \"NewThing\": [1, \"x\"],\n  \"AutoDetect\": \"yes please\",\n}\ntrailer\n";
    let p = parse_advproxy(Source::new(src));
    let v = &p.value;
    assert_eq!(v.auto_config_url.as_deref(), Some("http://wpad/wpad.dat"));
    assert_eq!(v.other.len(), 1);
    assert_eq!((v.other[0].key.as_str(), v.other[0].line), ("NewThing", 4));
    assert_eq!(v.other[0].value, serde_json::json!([1, "x"]));
    let lines: Vec<_> = p.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(5), Some(7)]);

    // Truncated paste: members before the damage are kept.
    let p = parse_advproxy(Source::new(
        "{\n\t\"Proxy\":\t\"p:1\",\n\t\"ProxyBypass\":\t\"<loc",
    ));
    assert_eq!(p.value.proxy.as_deref(), Some("p:1"));
    assert_eq!(p.problems.len(), 2);
    assert_eq!(p.problems[0].line, Some(3));
}

#[test]
fn advproxy_get_winhttpproxy_variant() {
    let src = "\nProxy       : proxy.contoso.com:8080\nProxyBypass : <local>;*.contoso.com\nAutoDetect  : False\n\n";
    let p = parse_advproxy(Source::new(src));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(v.format, AdvProxyFormat::GetWinhttpProxy);
    assert_eq!(v.proxy.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(v.proxy_bypass, ["<local>", "*.contoso.com"]);
    assert_eq!(v.auto_detect, Some(false));
    assert_eq!(v.lines.auto_detect, Some(4));

    let p = parse_advproxy(Source::new("hello world\nfoo: bar\n"));
    assert_eq!(p.value.format, AdvProxyFormat::Unknown);
    assert!(p.value.other.is_empty());
    assert_eq!(p.problems.len(), 2);
}

// ------------------------------------------------------------------ WinHttpSettings

#[test]
fn registry_healthy_direct() {
    let p = reg(fixture!(
        "reference/os/healthy_EX01/reg-query-winhttpsettings.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(v.format, WinHttpRegistryFormat::RegQuery);
    assert!(!v.missing);
    assert_eq!(v.entries.len(), 1);
    let e = &v.entries[0];
    assert_eq!(e.key_path.as_deref(), Some(CONNECTIONS));
    assert_eq!(e.view, RegView::Native);
    assert_eq!(e.line, 3);
    assert_eq!(e.raw, "1800000000000000010000000000000000000000");
    let s = e.settings.as_ref().unwrap();
    assert_eq!(s.header, Some(0x18));
    assert_eq!(s.access_type, Some(1));
    assert_eq!(s.access, AccessType::Direct);
    assert_eq!(s.proxy, None);
    assert!(s.is_direct());
    assert_eq!(s.length, 20);
}

#[test]
fn registry_ex04_proxy() {
    let p = reg(fixture!(
        "reference/os/misconfigured_EX04/reg-query-winhttpsettings.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let e = &p.value.entries[0];
    let s = e.settings.as_ref().unwrap();
    assert_eq!(s.header, Some(0x28));
    assert_eq!(s.counter, Some(0));
    assert_eq!(s.access_type, Some(3));
    assert_eq!(s.access, AccessType::NamedProxy);
    assert_eq!(s.proxy.as_deref(), Some("10.20.30.40:8080"));
    assert_eq!(s.proxies[0].host, "10.20.30.40");
    assert_eq!(s.bypass.as_deref(), Some("<local>;*.contoso.com;10.*"));
    assert_eq!(s.bypass_list, ["<local>", "*.contoso.com", "10.*"]);
    assert_eq!(s.trailing_bytes, 0);
    // The same facts as netsh prints for EX04.
    let n = netsh(fixture!(
        "reference/os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"
    ));
    assert_eq!(
        n.value.proxy_server.unwrap().value,
        s.proxy.clone().unwrap()
    );
    assert_eq!(n.value.bypass_list, s.bypass_list);
}

#[test]
fn registry_export_utf16_continuation() {
    let bytes = fixture!("reference/os/variants/reg-export-winhttpsettings.reg");
    assert_eq!(decode(bytes).encoding, Encoding::Utf16leBom);
    let p = reg(bytes);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(v.format, WinHttpRegistryFormat::RegExport);
    let e = &v.entries[0];
    assert_eq!(e.line, 4);
    assert_eq!(e.key_path.as_deref(), Some(CONNECTIONS));
    assert_eq!(e.bytes.len(), 20);
    let s = e.settings.as_ref().unwrap();
    assert_eq!((s.header, s.access), (Some(0x18), AccessType::Direct));
}

#[test]
fn registry_export_proxy_among_other_values() {
    let p = reg(fixture!(
        "extra/winhttp/reg-export-winhttpsettings_proxy.reg"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.entries.len(), 1);
    let e = &p.value.entries[0];
    assert_eq!(e.line, 5);
    let s = e.settings.as_ref().unwrap();
    assert_eq!(s.proxy.as_deref(), Some("10.20.30.40:8080"));
    assert_eq!(s.bypass_list, ["<local>", "*.contoso.com", "10.*"]);
}

#[test]
fn registry_missing() {
    let p = reg(fixture!(
        "reference/os/variants/reg-query-winhttpsettings_missing.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert!(p.value.missing);
    assert!(p.value.entries.is_empty());
    assert_eq!(p.value.errors[0].line, 1);

    let p = reg(fixture!("extra/winhttp/reg-query-missing_de-DE_oem850.txt"));
    assert!(p.problems.is_empty());
    assert!(p.value.missing);
}

#[test]
fn registry_native_and_wow() {
    let p = reg(fixture!(
        "extra/winhttp/reg-query-winhttpsettings_native-and-wow.txt"
    ));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let v = p.value;
    assert_eq!(v.entries.len(), 2);
    let native = v.native().unwrap();
    assert_eq!(native.line, 3);
    assert!(native.settings.as_ref().unwrap().is_direct());
    let wow = v.wow6432node().unwrap();
    assert_eq!(wow.line, 6);
    assert!(wow.key_path.as_deref().unwrap().contains("\\WOW6432Node\\"));
    let s = wow.settings.as_ref().unwrap();
    assert_eq!((s.counter, s.access), (Some(5), AccessType::NamedProxy));
    assert_eq!(s.proxy.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(s.bypass_list, ["<local>", "*.contoso.com"]);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["entries"][1]["view"], "wow6432node");
    assert_eq!(json["entries"][0]["settings"]["access"], "direct");
}

#[test]
fn registry_truncated_blob() {
    let p = reg(fixture!(
        "extra/winhttp/reg-query-winhttpsettings_truncated.txt"
    ));
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].line, Some(3));
    assert_eq!(
        p.problems[0].message,
        "truncated WinHttpSettings: proxy length 64 exceeds remaining 16 bytes"
    );
    let e = &p.value.entries[0];
    assert_eq!(
        e.decode_error.as_deref(),
        Some(p.problems[0].message.as_str())
    );
    let s = e.settings.as_ref().unwrap();
    assert_eq!((s.header, s.access), (Some(0x28), AccessType::NamedProxy));
    assert_eq!(s.proxy, None);
}

#[test]
fn registry_get_itemproperty_is_incomplete() {
    let p = reg(fixture!(
        "extra/winhttp/get-itemproperty-winhttpsettings.txt"
    ));
    let v = p.value;
    assert_eq!(v.format, WinHttpRegistryFormat::GetItemProperty);
    assert_eq!(v.entries.len(), 1);
    let e = &v.entries[0];
    assert!(e.incomplete);
    assert!(e.settings.is_none());
    assert_eq!(e.bytes, [24, 0, 0, 0]);
    assert_eq!(e.line, 3);
    assert_eq!(e.key_path.as_deref(), Some(CONNECTIONS));
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].line, Some(3));
    assert!(p.problems[0].message.contains("truncated after 4 bytes"));

    // With $FormatEnumerationLimit = -1 the array is whole (and wraps).
    let src = "WinHttpSettings : {24, 0, 0, 0, 0, 0, 0, 0, 1, 0,\n                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0}\nPSPath          : Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\X\n";
    let p = parse_registry(Source::new(src));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let e = &p.value.entries[0];
    assert!(!e.incomplete);
    assert_eq!(e.view, RegView::Wow6432node);
    assert_eq!(e.settings.as_ref().unwrap().access, AccessType::Direct);

    let p = parse_registry(Source::new("WinHttpSettings : {24, 300, 0}\n"));
    assert!(p.value.entries[0].incomplete);
    assert_eq!(p.problems.len(), 2);
}

#[test]
fn registry_odd_hex_and_wrong_type() {
    let src = "HKLM\\X\n    WinHttpSettings    REG_BINARY    18000000000000000100000000000000000000000\n    WinHttpSettings    REG_SZ    oops\n";
    let p = parse_registry(Source::new(src));
    assert_eq!(p.value.entries.len(), 2);
    // The odd trailing nibble is reported, the 20 whole bytes still decode.
    assert_eq!(p.value.entries[0].bytes.len(), 20);
    assert!(p.value.entries[0].settings.as_ref().unwrap().is_direct());
    let msgs: Vec<_> = p
        .problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0].0, Some(2));
    assert!(msgs[0].1.contains("odd number of hex digits"));
    assert_eq!(
        msgs[1],
        (
            Some(3),
            "WinHttpSettings has type REG_SZ, expected REG_BINARY"
        )
    );

    let p = parse_registry(Source::new("nothing here\n"));
    assert!(p.value.entries.is_empty() && !p.value.missing);
    assert!(
        p.problems
            .iter()
            .any(|p| p.message == "no WinHttpSettings value found")
    );
}

// ------------------------------------------------------------------ sniffing

#[test]
fn sniff_helpers() {
    let np = [
        text(fixture!(
            "reference/os/healthy_EX01/netsh-winhttp-show-proxy.txt"
        )),
        text(fixture!(
            "reference/os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"
        )),
        text(fixture!(
            "reference/os/variants/netsh-winhttp-show-proxy_de-DE_oem850.txt"
        )),
        text(fixture!(
            "reference/os/variants/netsh-winhttp-show-proxy_no-bypass_utf16.txt"
        )),
    ];
    let ap = [
        text(fixture!(
            "reference/os/healthy_EX01/netsh-winhttp-show-advproxy.txt"
        )),
        text(fixture!(
            "reference/os/misconfigured_EX04/netsh-winhttp-show-advproxy.txt"
        )),
        text(fixture!(
            "reference/os/variants/netsh-winhttp-show-advproxy_no-header_server2022.txt"
        )),
        text(fixture!(
            "reference/os/variants/netsh-winhttp-show-advproxy_full.txt"
        )),
        "Proxy : p:1\nProxyBypass : <local>\nAutoDetect : False\n".to_owned(),
    ];
    let rg = [
        text(fixture!(
            "reference/os/healthy_EX01/reg-query-winhttpsettings.txt"
        )),
        text(fixture!(
            "reference/os/misconfigured_EX04/reg-query-winhttpsettings.txt"
        )),
        text(fixture!(
            "reference/os/variants/reg-export-winhttpsettings.reg"
        )),
        text(fixture!(
            "extra/winhttp/get-itemproperty-winhttpsettings.txt"
        )),
    ];
    for t in &np {
        assert!(looks_like_netsh_proxy(t), "{t}");
        assert!(!looks_like_advproxy(t), "{t}");
        assert!(!looks_like_winhttp_registry(t), "{t}");
    }
    for t in &ap {
        assert!(looks_like_advproxy(t), "{t}");
        assert!(!looks_like_netsh_proxy(t), "{t}");
        assert!(!looks_like_winhttp_registry(t), "{t}");
    }
    for t in &rg {
        assert!(looks_like_winhttp_registry(t), "{t}");
        assert!(!looks_like_netsh_proxy(t) && !looks_like_advproxy(t), "{t}");
    }
    assert!(!looks_like_winhttp_registry(&text(fixture!(
        "extra/winhttp/reg-query-authroot.txt"
    ))));
}

// ------------------------------------------------------------------ robustness

const SAMPLES: [&[u8]; 12] = [
    fixture!("reference/os/healthy_EX01/netsh-winhttp-show-proxy.txt"),
    fixture!("reference/os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"),
    fixture!("reference/os/variants/netsh-winhttp-show-proxy_de-DE_oem850.txt"),
    fixture!("reference/os/variants/netsh-winhttp-show-proxy_no-bypass_utf16.txt"),
    fixture!("reference/os/healthy_EX01/netsh-winhttp-show-advproxy.txt"),
    fixture!("reference/os/variants/netsh-winhttp-show-advproxy_full.txt"),
    fixture!("reference/os/variants/netsh-winhttp-show-advproxy_no-header_server2022.txt"),
    fixture!("reference/os/misconfigured_EX04/reg-query-winhttpsettings.txt"),
    fixture!("reference/os/variants/reg-export-winhttpsettings.reg"),
    fixture!("extra/winhttp/reg-query-winhttpsettings_native-and-wow.txt"),
    fixture!("extra/winhttp/get-itemproperty-winhttpsettings.txt"),
    fixture!("extra/winhttp/reg-export-winhttpsettings_proxy.reg"),
];

fn all_parsers(s: &str) {
    let src = Source::new(s);
    let _ = parse_netsh_proxy(src);
    let _ = parse_advproxy(src);
    let _ = parse_registry(src);
    let _ = looks_like_netsh_proxy(s);
    let _ = looks_like_advproxy(s);
    let _ = looks_like_winhttp_registry(s);
    let _ = ProxyList::parse(s);
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        match decode_winhttp_settings(&bytes) {
            Ok(s) => prop_assert_eq!(s.length, bytes.len()),
            Err(e) => prop_assert!(e.offset <= bytes.len()),
        }
    }

    #[test]
    fn decode_never_panics_on_plausible_headers(
        n in 0u32..64, m in 0u32..64, body in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let mut b = vec![0x28, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0];
        b.extend(n.to_le_bytes());
        b.extend(body.iter().take(n as usize));
        b.extend(m.to_le_bytes());
        b.extend(body.iter().skip(n as usize));
        let _ = decode_winhttp_settings(&b);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "\\PC*") {
        all_parsers(&s);
    }

    #[test]
    fn parsers_never_panic_on_structured_noise(s in "[ \\t\\n{}\\[\\]\",:;=A-Za-z0-9_.()\\\\-]{0,200}") {
        all_parsers(&s);
    }

    #[test]
    fn parsers_never_panic_on_mutated_samples(
        which in 0usize..SAMPLES.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<char>()), 0..12),
    ) {
        let t = text(SAMPLES[which]);
        all_parsers(&mutate(&t, &edits));
    }
}

#[test]
fn segment_offsets_are_file_lines() {
    let t = text(fixture!(
        "reference/os/variants/netsh-winhttp-show-advproxy_full.txt"
    ));
    let src = Source {
        text: &t,
        first_line: 40,
    };
    let a = parse_advproxy(src).value;
    assert_eq!(
        (a.header_line, a.lines.auto_config_url),
        (Some(41), Some(48))
    );
    let t = text(fixture!(
        "reference/os/misconfigured_EX04/netsh-winhttp-show-proxy.txt"
    ));
    let n = parse_netsh_proxy(Source {
        text: &t,
        first_line: 40,
    })
    .value;
    assert_eq!(n.bypass.unwrap().line, 44);
    let t = text(fixture!(
        "reference/os/variants/reg-export-winhttpsettings.reg"
    ));
    let r = parse_registry(Source {
        text: &t,
        first_line: 40,
    })
    .value;
    assert_eq!(r.entries[0].line, 43);
}
