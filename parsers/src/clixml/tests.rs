use super::*;
use crate::build::Precision;
use crate::exchange::{self, ServiceState, StartType};
use crate::registry::RegView;
use crate::test_support::mutate;
use crate::text::decode;
use crate::winhttp::{self, WinHttpRegistryFormat};
use proptest::prelude::*;

/// Decoded text of `tests/fixtures/clixml/css-exchange/<path>` (real Health
/// Checker captures; see SOURCE.md there).
macro_rules! css {
    ($p:literal) => {
        decode(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/clixml/css-exchange/",
            $p
        )))
        .text
    };
}

fn parsed(text: &str) -> Parsed<Vec<PsObject>> {
    parse(Source::new(text))
}

fn prop<'a>(o: &'a PsObject, name: &str) -> &'a PsValue {
    o.get(name)
        .unwrap_or_else(|| panic!("no property {name} in {:?}", o.type_names))
}

/// Synthetic documents: wrap `body` in the CliXml root.
fn doc(body: &str) -> String {
    format!("<Objs Version=\"1.1.0.1\" xmlns=\"{NAMESPACE}\">{body}</Objs>")
}

// ====================================================================== real captures

#[test]
fn e19_exchange_server_objects() {
    let t = css!("E19/GetExchangeServer.xml");
    assert!(is_clixml(&t));
    assert_eq!(
        top_type_names(&t),
        vec!["Microsoft.Exchange.Data.Directory.Management.ExchangeServer"]
    );
    let p = parsed(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.len(), 1);
    let o = &p.value[0];
    assert_eq!(o.line, 2);
    assert_eq!(o.type_names.len(), 6);
    assert!(o.is_type("ExchangeServer"));
    assert!(!o.is_type("Server"));
    assert_eq!(o.to_string.as_deref(), Some("SOLO-E19A"));
    let name = o.properties.iter().find(|p| p.name == "Name").unwrap();
    assert_eq!(name.line, 13);
    assert_eq!(name.value, PsValue::Str("SOLO-E19A".into()));
    // A nested object keeps its own properties and ToString.
    let adv = prop(o, "AdminDisplayVersion").as_object().unwrap();
    assert_eq!(adv.line, 123);
    assert_eq!(adv.to_string.as_deref(), Some("Version 15.2 (Build 986.5)"));
    assert_eq!(adv.get("Major"), Some(&PsValue::Int(15)));
    assert_eq!(adv.get("Build"), Some(&PsValue::Int(986)));
    assert_eq!(adv.get("FilePatchLevelDescription"), Some(&PsValue::Nil));
    // TNRef: the five later NetworkAddress items reuse TN 4.
    let addrs = prop(o, "NetworkAddress").as_list().unwrap();
    assert_eq!(addrs.len(), 6);
    for a in addrs {
        let a = a.as_object().unwrap();
        assert_eq!(
            a.type_names.first().map(String::as_str),
            Some("Microsoft.Exchange.Data.CustomNetworkAddress")
        );
    }
    assert_eq!(addrs[1].as_str(), Some("netbios:SOLO-E19A"));
    // Ref N="Id" RefId="19" → the Identity object's ToString.
    assert_eq!(prop(o, "Id"), &PsValue::Str("SOLO-E19A".into()));
    // Enums are objects with a ToString and their number.
    let role = prop(o, "ServerRole");
    assert_eq!(role.as_str(), Some("Mailbox"));
    assert_eq!(role.as_i64(), Some(2));
    assert_eq!(
        prop(o, "WhenChangedUTC"),
        &PsValue::Text {
            tag: "DT".into(),
            text: "2021-09-28T17:32:01Z".into()
        }
    );
    // MS members follow the Props ones.
    let last = o.properties.last().unwrap();
    assert_eq!(last.name, "SerializationData");
    assert_eq!(
        prop(o, "PSComputerName").as_str(),
        Some("solo-e19a.solo.com")
    );
}

#[test]
fn e19_exchange_server_records_as_format_list() {
    let t = css!("E19/GetExchangeServer.xml");
    let p = parse_records(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let r = &p.value[0];
    assert_eq!(r.line, 2);
    assert_eq!(
        r.get_str("AdminDisplayVersion"),
        Some("Version 15.2 (Build 986.5)")
    );
    assert_eq!(r.get("AdminDisplayVersion").unwrap().line, 123);
    assert_eq!(r.get_bool("MitigationsEnabled"), Some(true));
    assert_eq!(r.get("MitigationsEnabled").unwrap().value, "True");
    assert_eq!(r.get("IsEdgeServer").unwrap().value, "False");
    assert_eq!(r.get("InternetWebProxy").unwrap().value, "");
    assert_eq!(r.get("ExchangeLegacyServerRole").unwrap().value, "0");
    let dcs = r.get("CurrentDomainControllers").unwrap();
    assert_eq!(dcs.value, "{Solo-DC1.Solo.com}");
    assert_eq!(
        dcs.items.as_deref(),
        Some(&["Solo-DC1.Solo.com".to_owned()][..])
    );
    let none = r.get("StaticDomainControllers").unwrap();
    assert_eq!(none.value, "{}");
    assert!(none.as_list().is_empty());
    let classes = r.get_list("ObjectClass").unwrap();
    assert_eq!(classes, vec!["top", "server", "msExchExchangeServer"]);
    // An emptied BA (see SOURCE.md) renders as an empty byte array.
    assert_eq!(r.get("SerializationData").unwrap().value, "{}");
}

#[test]
fn e19_exchange_server_typed() {
    let t = css!("E19/GetExchangeServer.xml");
    assert!(exchange::looks_like_exchange_server(&t));
    assert!(!exchange::looks_like_organization_config(&t));
    assert!(!exchange::looks_like_service_status(&t));
    assert!(!winhttp::looks_like_winhttp_registry(&t));
    let p = exchange::parse_exchange_server(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.servers.len(), 1);
    let s = &p.value.servers[0];
    assert_eq!(s.name.as_deref(), Some("SOLO-E19A"));
    assert_eq!(s.fqdn.as_deref(), Some("Solo-E19A.Solo.com"));
    assert_eq!(s.line, 2);
    assert_eq!(
        s.admin_display_version.as_deref(),
        Some("Version 15.2 (Build 986.5)")
    );
    let b = s.build.unwrap();
    assert_eq!(
        (b.major, b.minor, b.build, b.revision),
        (15, 2, 986, Some(5))
    );
    assert_eq!(b.precision, Precision::Cu);
    assert_eq!(s.server_role.as_deref(), Some("Mailbox"));
    assert_eq!(s.is_edge_server, Some(false));
    assert_eq!(s.mitigations_enabled, Some(true));
    assert_eq!(s.data_collection_enabled, Some(false));
    assert!(s.mitigations_applied.is_empty());
    assert!(s.mitigations_blocked.is_empty());
    assert!(s.was_shown("MitigationsApplied"));
    assert_eq!(s.internet_web_proxy, None);
    assert!(s.internet_web_proxy_bypass_list.is_empty());
}

#[test]
fn e16_exchange_server_typed() {
    let t = css!("E16/GetExchangeServer.xml");
    assert!(exchange::looks_like_exchange_server(&t));
    let p = exchange::parse_exchange_server(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let s = &p.value.servers[0];
    assert_eq!(s.name.as_deref(), Some("SOLO-E16A"));
    let b = s.build.unwrap();
    assert_eq!(
        (b.major, b.minor, b.build, b.revision),
        (15, 1, 2375, Some(7))
    );
    assert_eq!(s.mitigations_enabled, Some(true));
    assert_eq!(s.is_edge_server, Some(false));
    assert_eq!(s.internet_web_proxy, None);
}

/// The same server as a console prints it with `Get-ExchangeServer SOLO-E19A
/// | fl Name,Fqdn,AdminDisplayVersion,…` (written here by hand from the
/// capture's values): both forms must give the same server.
#[test]
fn clixml_and_format_list_give_the_same_server() {
    let fl = "
Name                       : SOLO-E19A
Fqdn                       : Solo-E19A.Solo.com
AdminDisplayVersion        : Version 15.2 (Build 986.5)
ServerRole                 : Mailbox
IsEdgeServer               : False
MitigationsEnabled         : True
MitigationsApplied         :
MitigationsBlocked         :
DataCollectionEnabled      : False
InternetWebProxy           :
InternetWebProxyBypassList :

";
    let from_fl = exchange::parse_exchange_server(Source::new(fl));
    assert!(from_fl.problems.is_empty(), "{:?}", from_fl.problems);
    let t = css!("E19/GetExchangeServer.xml");
    let from_xml = exchange::parse_exchange_server(Source::new(&t));
    let comparable = |s: &exchange::ExchangeServer| {
        let mut v = serde_json::to_value(s).unwrap();
        let m = v.as_object_mut().unwrap();
        m.remove("line");
        m.remove("shown");
        v
    };
    assert_eq!(from_fl.value.servers.len(), 1);
    assert_eq!(
        comparable(&from_fl.value.servers[0]),
        comparable(&from_xml.value.servers[0])
    );
    // And the comparison is not vacuous: the fields are filled.
    assert_eq!(from_xml.value.servers[0].mitigations_enabled, Some(true));
    assert!(from_xml.value.servers[0].build.is_some());
}

#[test]
fn e19_organization_config_excerpt() {
    let t = css!("E19/GetOrganizationConfig.excerpt.xml");
    assert!(exchange::looks_like_organization_config(&t));
    assert!(!exchange::looks_like_exchange_server(&t));
    let p = exchange::parse_organization_config(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let o = &p.value;
    assert_eq!(o.mitigations_enabled, Some(true));
    assert_eq!(o.data_collection_enabled, None);
    assert_eq!(o.line, 100);
    let name = o.other.iter().find(|p| p.name == "Name").unwrap();
    assert_eq!(name.value, "SoloORG");
    let pf = o
        .other
        .iter()
        .find(|p| p.name == "PublicFoldersEnabled")
        .unwrap();
    assert_eq!(pf.value, "Local");
    let ff = o
        .other
        .iter()
        .find(|p| p.name == "ForeignForestFQDN")
        .unwrap();
    assert_eq!(ff.items.as_deref(), Some(&[][..]));
    let adv = o
        .other
        .iter()
        .find(|p| p.name == "AdminDisplayVersion")
        .unwrap();
    assert_eq!(adv.value, "0.20 (15.1.0.0)");
}

#[test]
fn organization_config_mitigations_disabled() {
    // Synthetic: the shape of the capture with MitigationsEnabled false.
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>Deserialized.Microsoft.Exchange.Data.Directory.Management.OrganizationConfig</T></TN>\
         <ToString>Contoso</ToString><Props><S N=\"Name\">Contoso</S>\
         <B N=\"MitigationsEnabled\">false</B></Props></Obj>",
    );
    assert!(exchange::looks_like_organization_config(&t));
    let p = exchange::parse_organization_config(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.mitigations_enabled, Some(false));
}

#[test]
fn service_controller_captures() {
    for (t, machine) in [
        (css!("E19/GetServiceMitigation.xml"), "SOLO-E19A"),
        (css!("E16/GetServiceMitigation.xml"), "SOLO-E16A"),
    ] {
        assert!(exchange::looks_like_service_status(&t));
        assert!(!exchange::looks_like_exchange_server(&t));
        assert_eq!(
            top_type_names(&t),
            vec!["System.ServiceProcess.ServiceController"]
        );
        let objs = parsed(&t);
        assert_eq!(prop(&objs.value[0], "MachineName").as_str(), Some(machine));
        let p = exchange::parse_service_status(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        // The nested MSExchangeADTopology controller is not a top-level object.
        assert_eq!(p.value.services.len(), 1);
        let s = p.value.mitigation_service().unwrap();
        assert_eq!(s.name, "MSExchangeMitigation");
        assert!(!s.name_truncated);
        assert_eq!(
            s.display_name.as_deref(),
            Some("Microsoft Exchange Emergency Mitigation Service")
        );
        assert_eq!(s.status, Some(ServiceState::Running));
        assert_eq!(s.start_type, Some(StartType::Automatic));
        assert_eq!(s.line, 2);
        // `RequiredServices` is a Ref to the ServicesDependedOn list: copied.
        assert_eq!(
            prop(&objs.value[0], "RequiredServices")
                .as_list()
                .map(<[PsValue]>::len),
            Some(1)
        );
    }
}

#[test]
fn service_as_health_checker_custom_object() {
    // Synthetic: a PSCustomObject with the service's name, status and start type.
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN>\
         <MS><S N=\"Name\">MSExchangeMitigation</S><S N=\"Status\">Stopped</S><S N=\"StartType\">Disabled</S></MS></Obj>",
    );
    assert!(exchange::looks_like_service_status(&t));
    let p = exchange::parse_service_status(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let s = p.value.mitigation_service().unwrap();
    assert_eq!(s.status, Some(ServiceState::Stopped));
    assert_eq!(s.start_type, Some(StartType::Disabled));
}

#[test]
fn health_checker_proxy_setting_none() {
    let t = css!("E15/GetHttpProxySetting.xml");
    assert!(winhttp::looks_like_winhttp_registry(&t));
    assert!(!exchange::looks_like_service_status(&t));
    assert!(!exchange::looks_like_exchange_server(&t));
    let p = winhttp::parse_registry(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let r = &p.value;
    assert_eq!(r.format, WinHttpRegistryFormat::HealthCheckerClixml);
    assert_eq!(r.entries.len(), 2);
    let native = r.native().unwrap();
    assert_eq!(native.line, 12); // HttpProxy32 is what HC read from the native key
    let wow = r.wow6432node().unwrap();
    assert_eq!(wow.line, 19);
    assert!(wow.key_path.as_deref().unwrap().contains("WOW6432Node"));
    for e in [native, wow] {
        let s = e.settings.as_ref().unwrap();
        assert!(s.is_direct());
        assert_eq!(s.proxy, None);
        assert!(s.bypass_list.is_empty());
        assert_eq!(e.raw, "ProxyAddress=None; ByPassList=");
    }
}

#[test]
fn health_checker_proxy_setting_with_proxy() {
    // Synthetic: the capture's shape with a proxy on the native key only.
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS>\
         <S N=\"ProxyAddress\">proxy.contoso.com:8080</S><S N=\"ByPassList\">&lt;local&gt;;*.contoso.com</S>\
         <B N=\"HttpProxyDifference\">true</B><B N=\"HttpByPassDifference\">true</B>\
         <Obj N=\"HttpProxy32\" RefId=\"1\"><TNRef RefId=\"0\" /><MS><S N=\"ProxyAddress\">proxy.contoso.com:8080</S><S N=\"ByPassList\">&lt;local&gt;;*.contoso.com</S></MS></Obj>\
         <Obj N=\"HttpProxy64\" RefId=\"2\"><TNRef RefId=\"0\" /><MS><S N=\"ProxyAddress\">None</S><S N=\"ByPassList\"></S></MS></Obj>\
         </MS></Obj>",
    );
    let p = winhttp::parse_registry(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let native = p.value.native().unwrap().settings.clone().unwrap();
    assert_eq!(native.proxy.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(native.proxies[0].host, "proxy.contoso.com");
    assert_eq!(native.proxies[0].port, Some(8080));
    assert_eq!(native.bypass_list, vec!["<local>", "*.contoso.com"]);
    assert!(!native.is_direct());
    let wow = p.value.wow6432node().unwrap().settings.clone().unwrap();
    assert!(wow.is_direct());
}

#[test]
fn get_item_property_clixml_whole_blob() {
    // Synthetic: `Get-ItemProperty …\Connections | Export-Clixml` with a
    // WinHttpSettings blob (proxy.contoso.com:8080, bypass <local>;*.contoso.com).
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS>\
         <BA N=\"WinHttpSettings\">RgAAAAcAAAADAAAAFgAAAHByb3h5LmNvbnRvc28uY29tOjgwODAVAAAAPGxvY2FsPjsqLmNvbnRvc28uY29tAAAAAA==</BA>\
         <S N=\"PSPath\">Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections</S>\
         </MS></Obj>",
    );
    assert!(winhttp::looks_like_winhttp_registry(&t));
    let p = winhttp::parse_registry(Source::new(&t));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.format, WinHttpRegistryFormat::GetItemPropertyClixml);
    let e = &p.value.entries[0];
    assert_eq!(e.view, RegView::Wow6432node);
    assert!(!e.incomplete);
    assert_eq!(e.bytes.len(), 67);
    let s = e.settings.as_ref().unwrap();
    assert_eq!(s.access_type, Some(3));
    assert_eq!(s.proxy.as_deref(), Some("proxy.contoso.com:8080"));
    assert_eq!(s.bypass_list, vec!["<local>", "*.contoso.com"]);
}

#[test]
fn exsetup_tostring_escapes() {
    let t = css!("E19/ExSetup.xml");
    let p = parsed(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let o = &p.value[0];
    let ts = o.to_string.as_deref().unwrap();
    assert!(ts.starts_with(
        "File:             C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\ExSetup.exe\r\nInternalName:"
    ));
    assert!(!ts.contains("_x000D_"));
    assert!(ts.contains("Product:          Microsoft\u{ae} Exchange\r\n"));
    assert_eq!(
        prop(o, "FileVersionRaw"),
        &PsValue::Text {
            tag: "Version".into(),
            text: "15.2.986.5".into()
        }
    );
}

// ====================================================================== synthetic edge cases

#[test]
fn escapes() {
    // Synthetic inputs for `_xHHHH_`.
    assert_eq!(unescape_ps("a_x000D__x000A_b"), "a\r\nb");
    assert_eq!(unescape_ps("tab_x0009_end"), "tab\tend");
    assert_eq!(unescape_ps("_xD83D__xDE00_"), "\u{1F600}");
    assert_eq!(unescape_ps("lone_xD83D_x"), "lone\u{FFFD}x");
    assert_eq!(unescape_ps("a_x005F_x0041_b"), "a_x0041_b");
    assert_eq!(unescape_ps("_x00e9_"), "\u{e9}");
    assert_eq!(
        unescape_ps("not_x12_an_xZZZZ_escape"),
        "not_x12_an_xZZZZ_escape"
    );
    assert_eq!(unescape_ps("end_x00"), "end_x00");
    // In S values, names and type names alike.
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>My_x002E_Type</T></TN><MS>\
         <S N=\"Line_x0020_Break\">one_x000D__x000A_two</S><S N=\"Emoji\">_xD83D__xDE00_ &amp; &lt;ok&gt; &#x41;</S></MS></Obj>",
    );
    let p = parsed(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let o = &p.value[0];
    assert_eq!(o.type_names, vec!["My.Type"]);
    assert_eq!(prop(o, "Line Break").as_str(), Some("one\r\ntwo"));
    assert_eq!(prop(o, "Emoji").as_str(), Some("\u{1F600} & <ok> A"));
}

#[test]
fn tnref_and_ref_reuse() {
    // Synthetic: a second object reusing the first one's TN and referring to
    // its nested object; a Ref to nothing is kept as a Ref with a problem.
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>A.Thing</T><T>System.Object</T></TN><ToString>first</ToString>\
         <Props><Obj N=\"Inner\" RefId=\"1\"><TN RefId=\"1\"><T>A.Inner</T></TN><LST><S>x</S><S>y, z</S></LST></Obj></Props></Obj>\
         <Obj RefId=\"2\"><TNRef RefId=\"0\" /><ToString>second</ToString>\
         <Props><Ref N=\"Same\" RefId=\"1\" /><Ref N=\"First\" RefId=\"0\" /><Ref N=\"Missing\" RefId=\"9\" /></Props></Obj>",
    );
    let p = parsed(&t);
    assert_eq!(p.value.len(), 2);
    let second = &p.value[1];
    assert_eq!(second.type_names, vec!["A.Thing", "System.Object"]);
    assert_eq!(
        prop(second, "Same"),
        &PsValue::List(vec![PsValue::Str("x".into()), PsValue::Str("y, z".into())])
    );
    assert_eq!(prop(second, "First"), &PsValue::Str("first".into()));
    assert_eq!(prop(second, "Missing"), &PsValue::Ref(9));
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert!(p.problems[0].message.contains("RefId=\"9\""));
    // Items with commas survive as items.
    let r = to_records(&p.value);
    let same = r[1].get("Same").unwrap();
    assert_eq!(same.value, "{x, y, z}");
    assert_eq!(same.as_list(), vec!["x", "y, z"]);
}

#[test]
fn large_ref_targets_are_not_copied() {
    // Synthetic: a list over the copy limit, referred to many times.
    let items: String = (0..2000).map(|i| format!("<S>item{i}</S>")).collect();
    let refs: String = (0..50)
        .map(|i| format!("<Ref N=\"R{i}\" RefId=\"1\" />"))
        .collect();
    let t = doc(&format!(
        "<Obj RefId=\"0\"><MS><Obj N=\"Big\" RefId=\"1\"><LST>{items}</LST></Obj>{refs}</MS></Obj>"
    ));
    let p = parsed(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(prop(&p.value[0], "R0"), &PsValue::Ref(1));
    assert_eq!(
        prop(&p.value[0], "Big").as_list().map(<[PsValue]>::len),
        Some(2000)
    );
}

#[test]
fn dictionaries_and_web_request_shape() {
    // Synthetic, in the shape of Health Checker's
    // WebRequest_getexchangemitigations.xml (Invoke-WebRequest | Export-Clixml;
    // that capture could not be obtained here, see SOURCE.md).
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>Microsoft.PowerShell.Commands.HtmlWebResponseObject</T>\
         <T>Microsoft.PowerShell.Commands.WebResponseObject</T><T>System.Object</T></TN>\
         <ToString>&lt;?xml version=\"1.0\"?&gt;&lt;EOCS version=\"1\"/&gt;</ToString><Props>\
         <I32 N=\"StatusCode\">200</I32><S N=\"StatusDescription\">OK</S>\
         <Obj N=\"Headers\" RefId=\"1\"><TN RefId=\"1\"><T>System.Collections.Generic.Dictionary`2[[System.String],[System.String]]</T><T>System.Object</T></TN>\
         <DCT><En><S N=\"Key\">Content-Type</S><S N=\"Value\">application/xml</S></En>\
         <En><S N=\"Key\">X-OfficeFE</S><S N=\"Value\">FE01</S></En>\
         <En><S N=\"Key\">Set-Cookie</S><Obj N=\"Value\" RefId=\"2\"><LST><S>a=1</S><S>b=2</S></LST></Obj></En></DCT></Obj>\
         <S N=\"Content\">&lt;?xml version=\"1.0\" encoding=\"utf-8\"?&gt;_x000D__x000A_&lt;EOCS version=\"1.0\"&gt;&lt;Signature /&gt;&lt;/EOCS&gt;</S>\
         </Props></Obj>",
    );
    let p = parsed(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let o = &p.value[0];
    assert_eq!(prop(o, "StatusCode").as_i64(), Some(200));
    let headers = prop(o, "Headers");
    assert_eq!(headers.as_dict().map(<[_]>::len), Some(3));
    assert_eq!(
        headers.dict_get("content-type").and_then(PsValue::as_str),
        Some("application/xml")
    );
    assert_eq!(
        headers.dict_get("X-OfficeFE").and_then(PsValue::as_str),
        Some("FE01")
    );
    assert_eq!(
        headers
            .dict_get("Set-Cookie")
            .and_then(PsValue::as_list)
            .map(<[_]>::len),
        Some(2)
    );
    let content = prop(o, "Content").as_str().unwrap();
    assert!(content.starts_with("<?xml"));
    assert!(content.contains("<EOCS"));
    assert!(content.contains("?>\r\n<EOCS"));
    let r = &to_records(&p.value)[0];
    assert_eq!(
        r.get("Headers").unwrap().value,
        "{[Content-Type, application/xml], [X-OfficeFE, FE01], [Set-Cookie, {a=1, b=2}]}"
    );
}

#[test]
fn depth_bomb_is_a_problem() {
    // Synthetic: 10,000 nested objects.
    let mut t = format!("<Objs xmlns=\"{NAMESPACE}\">");
    for _ in 0..10_000 {
        t.push_str("<Obj><MS><Obj N=\"x\">");
    }
    let p = parsed(&t);
    assert!(p.value.is_empty());
    assert_eq!(p.problems.len(), 1);
    assert!(
        p.problems[0].message.contains("deeper than 64"),
        "{:?}",
        p.problems
    );
    assert_eq!(p.problems[0].line, Some(1));
}

#[test]
fn doctype_and_entities_refused() {
    // Synthetic: an entity-expansion attempt.
    let t = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Objs [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>\n<Objs xmlns=\"{NAMESPACE}\"><S>&b;</S></Objs>"
    );
    assert!(!is_clixml(&t));
    let p = parsed(&t);
    assert!(p.value.is_empty());
    assert_eq!(p.problems.len(), 1);
    assert!(p.problems[0].message.contains("DOCTYPE"));
    assert_eq!(p.problems[0].line, Some(2));
    // Without a DTD an undefined entity stays as written, with a problem.
    let p = parsed(&doc("<Obj><MS><S N=\"x\">&b;</S></MS></Obj>"));
    assert_eq!(prop(&p.value[0], "x").as_str(), Some("&b;"));
    assert_eq!(p.problems.len(), 1);
    assert!(p.problems[0].message.contains("&b;"));
}

#[test]
fn truncated_file_is_a_problem() {
    let t = css!("E19/GetExchangeServer.xml");
    let cut = &t[..t.len() / 2];
    let p = parsed(cut);
    assert!(p.value.is_empty());
    assert_eq!(p.problems.len(), 1);
    assert!(
        p.problems[0].message.contains("cut off"),
        "{:?}",
        p.problems
    );
    let ex = exchange::parse_exchange_server(Source::new(cut));
    assert!(ex.value.servers.is_empty());
    assert!(ex.problems.iter().any(|p| p.message.contains("cut off")));
}

#[test]
fn utf16le_with_bom() {
    // Windows PowerShell 5.1 writes Export-Clixml as UTF-16LE with a BOM:
    // the capture re-encoded that way.
    let t = css!("E19/GetServiceMitigation.xml");
    let mut bytes = vec![0xFF, 0xFE];
    for u in t.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let d = decode(&bytes);
    assert_eq!(d.encoding, crate::text::Encoding::Utf16leBom);
    assert!(is_clixml(&d.text));
    let p = exchange::parse_service_status(Source::new(&d.text));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(
        p.value.mitigation_service().unwrap().status,
        Some(ServiceState::Running)
    );
    // A UTF-8 BOM and XML declaration before the root are fine too.
    let with_decl = format!("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n{t}");
    assert!(is_clixml(&with_decl));
    assert_eq!(parsed(&with_decl).value.len(), 1);
}

#[test]
fn cheap_checks() {
    assert!(is_clixml(&doc("")));
    assert!(!is_clixml("<Objs Version=\"1.1.0.1\">"));
    assert!(!is_clixml(
        "<Objects xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
    ));
    assert!(!is_clixml("Name : x"));
    assert!(top_type_names("Name : x").is_empty());
    // Several top-level objects, the later ones by TNRef (synthetic).
    let t = doc(
        "<Obj RefId=\"0\"><TN RefId=\"0\"><T>A.One</T></TN></Obj><Obj RefId=\"1\"><TNRef RefId=\"0\" /></Obj>\
         <Obj RefId=\"2\"><TN RefId=\"1\"><T>B.Two</T><T>System.Object</T></TN></Obj>",
    );
    assert_eq!(top_type_names(&t), vec!["A.One", "A.One", "B.Two"]);
    assert!(type_name_matches(
        "Deserialized.System.ServiceProcess.ServiceController",
        "System.ServiceProcess.ServiceController"
    ));
    assert!(!type_name_matches(
        "X.MyServiceController",
        "ServiceController"
    ));
    assert_eq!(decode_base64("AAEC"), Some(vec![0, 1, 2]));
    assert_eq!(decode_base64("AAE="), Some(vec![0, 1]));
    assert_eq!(decode_base64("A*=="), None);
}

#[test]
fn secure_strings_and_bare_values() {
    // Synthetic: a SecureString member and a bare top-level string.
    let t = doc("<Obj><MS><SS N=\"Password\">01000000d08c9ddf</SS></MS></Obj><S>hello</S>");
    let p = parsed(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.len(), 2);
    match prop(&p.value[0], "Password") {
        PsValue::Text { tag, text } => {
            assert_eq!(tag, "SS");
            assert!(text.contains("unreadable"));
            assert!(!text.contains("d08c"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.value[1].value, Some(PsValue::Str("hello".into())));
    // Only objects with properties become records.
    assert_eq!(to_records(&p.value).len(), 1);
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC*") {
        let _ = parsed(&s);
        let _ = is_clixml(&s);
        let _ = top_type_names(&s);
        let _ = unescape_ps(&s);
        let _ = decode_base64(&s);
        let wrapped = doc(&s);
        let _ = parsed(&wrapped);
        let _ = top_type_names(&wrapped);
    }

    #[test]
    fn never_panics_on_xmlish(s in "[<>/=\"_xA-Z0-9a-z &;#!\\[\\]?-]{0,300}") {
        let _ = parsed(&doc(&s));
        let _ = exchange::parse_exchange_server(Source::new(&doc(&s)));
    }

    #[test]
    fn mutated_captures_never_panic(which in 0usize..4, edits in proptest::collection::vec((0usize..20_000, 0u8..3, any::<char>()), 1..6)) {
        let t = match which {
            0 => css!("E19/GetExchangeServer.xml"),
            1 => css!("E19/GetServiceMitigation.xml"),
            2 => css!("E15/GetHttpProxySetting.xml"),
            _ => css!("E19/GetOrganizationConfig.excerpt.xml"),
        };
        let m = mutate(&t, &edits);
        let _ = parsed(&m);
        let _ = top_type_names(&m);
        let _ = exchange::parse_exchange_server(Source::new(&m));
        let _ = exchange::parse_organization_config(Source::new(&m));
        let _ = exchange::parse_service_status(Source::new(&m));
        let _ = winhttp::parse_registry(Source::new(&m));
    }
}
