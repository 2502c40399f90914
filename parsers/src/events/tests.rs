use super::*;
use crate::time::Timestamp;

fn load(bytes: &[u8]) -> String {
    crate::text::decode(bytes).text
}

macro_rules! sample {
    ($name:literal) => {
        load(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/reference/events/",
            $name
        )))
    };
}

macro_rules! extra {
    ($name:literal) => {
        load(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/extra/events/",
            $name
        )))
    };
}

fn run(text: &str) -> Parsed<EventExport> {
    parse(Source::new(text))
}

fn local(t: &Option<Timestamp>) -> String {
    match t {
        Some(Timestamp::Local { local, .. }) => local.to_string(),
        other => panic!("not local: {other:?}"),
    }
}

fn utc(t: &Option<Timestamp>) -> String {
    match t {
        Some(Timestamp::Utc { utc }) => utc.to_rfc3339(),
        other => panic!("not utc: {other:?}"),
    }
}

const TLS_TYPES: [&str; 4] = [
    "System.AggregateException",
    "System.Net.Http.HttpRequestException",
    "System.Net.WebException",
    "System.Security.Authentication.AuthenticationException",
];
const MITIGATION: &str = "MSExchange Mitigation Service";

fn all_samples() -> Vec<String> {
    vec![
        sample!("01-eventviewer-copy-details_tls-chain_EX02.txt"),
        sample!("02-wevtutil-text_proxy-407_EX05.txt"),
        sample!("03-get-winevent-fl_dns_de-DE_EX06.txt"),
        sample!("04-wevtutil-xml_unable-to-connect_EX04.xml"),
        sample!("05-eventviewer-csv_untrusted-endpoint-old-build_EX03.csv"),
        sample!("06-forum-paste_doubled-lines_tls-chain_EX02.txt"),
        extra!("get-eventlog-fl_EX04.txt"),
        extra!("get-winevent-fl_ps7_EX02.txt"),
        extra!("save-as-xml_events-root_EX02.xml"),
        extra!("wevtutil-renderedxml_EX02.xml"),
        extra!("eventviewer-text_watson-4999-oom_EX07.txt"),
        extra!("forum-paste_flattened-one-line_EX02.txt"),
        extra!("eventviewer-text_de-DE_EX06.txt"),
        extra!("export-csv_get-winevent_EX02.csv"),
    ]
}

#[test]
fn sample_01_eventviewer_copy_details() {
    let t = sample!("01-eventviewer-copy-details_tls-chain_EX02.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::EventviewerText));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.format, Some(EventFormat::EventviewerText));
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.level, Level::Error);
    assert_eq!(e.level_raw.as_deref(), Some("Error"));
    assert_eq!(e.computer.as_deref(), Some("EX02.contoso.com"));
    assert_eq!(e.record_id, Some(2208117));
    assert_eq!(e.log_name.as_deref(), Some("Application"));
    assert_eq!(e.task.as_deref(), Some("General"));
    // The XML SystemTime (UTC) wins; the displayed local time is kept beside it.
    assert_eq!(utc(&e.time), "2024-03-14T10:10:05.447123500+00:00");
    assert_eq!(local(&e.displayed_time), "2024-03-14 11:10:05");
    assert_eq!((e.line, e.last_line), (1, 63));
    assert!(e.message.starts_with(
        "An unexpected exception occurred.\nDiagnostic information: Exception encountered"
    ));
    assert!(
        e.message
            .ends_with("--- End of inner exception stack trace ---<---")
    );
    assert!(!e.message.contains("Event Xml:"));
    assert_eq!(e.exception.types(), TLS_TYPES);
    assert!(e.exception.inner_repeat_removed);
    assert_eq!(e.exception.frames.len(), 6);
    assert_eq!(
        e.exception.prefix.as_deref(),
        Some(
            "An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations :"
        )
    );
    assert_eq!(e.kept_because, KeepReason::MitigationService);
    assert_eq!(p.value.skipped.total, 0);
}

#[test]
fn sample_02_wevtutil_text() {
    let t = sample!("02-wevtutil-text_proxy-407_EX05.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::WevtutilText));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    assert_eq!(ev.len(), 2);
    assert_eq!((ev[0].line, ev[0].last_line), (2, 25));
    assert_eq!((ev[1].line, ev[1].last_line), (28, 51));
    assert_eq!(local(&ev[0].time), "2024-03-14 13:10:07.512");
    assert_eq!(local(&ev[1].time), "2024-03-14 12:10:07.498");
    for e in ev {
        assert_eq!(e.format, EventFormat::WevtutilText);
        assert_eq!(e.provider.as_deref(), Some(MITIGATION));
        assert_eq!(e.event_id, Some(1008));
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.computer.as_deref(), Some("EX05.fabrikam.local"));
        assert_eq!(e.record_id, None);
        assert!(e.message.starts_with("An unexpected exception occurred.\n"));
        assert_eq!(
            e.exception.types(),
            &TLS_TYPES[..3],
            "AggregateException → HttpRequestException → WebException"
        );
        assert_eq!(
            e.exception.innermost().map(|x| x.message.as_str()),
            Some("The remote server returned an error: (407) Proxy Authentication Required.")
        );
        assert!(e.exception.inner_repeat_removed);
        assert_eq!(e.exception.frames.len(), 4);
    }
}

#[test]
fn sample_03_get_winevent_fl_german_utf16_wrapped() {
    let bytes = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/reference/events/03-get-winevent-fl_dns_de-DE_EX06.txt"
    ));
    let d = crate::text::decode(bytes);
    assert_eq!(d.encoding, crate::text::Encoding::Utf16leBom);
    assert_eq!(detect_format(&d.text), Some(EventFormat::GetWineventList));
    let p = run(&d.text);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    assert_eq!(ev.len(), 2);
    assert_eq!((ev[0].line, ev[0].last_line), (3, 21));
    assert_eq!((ev[1].line, ev[1].last_line), (23, 41));
    // de-DE dates are local wall-clock times.
    assert_eq!(local(&ev[0].time), "2024-03-14 14:10:06");
    assert_eq!(local(&ev[1].time), "2024-03-14 13:10:05");
    for e in ev {
        assert_eq!(e.provider.as_deref(), Some(MITIGATION));
        assert_eq!(e.event_id, Some(1008));
        // The default list view has no level column.
        assert_eq!(e.level, Level::Unknown);
        // 120-column wraps joined without a space, even inside words.
        assert!(e.message.contains("System.AggregateException: Mindestens ein Fehler ist aufgetreten. ---> System.Net.Http.HttpRequestException: Fehler beim Senden der Anforderung. ---> System.Net.WebException: Der Remotename konnte nicht aufgelöst werden: 'officeclient.microsoft.com'\n   bei System.Net.HttpWebRequest"), "{}", e.message);
        assert!(e.message.contains("\n---> (Interne Ausnahme #0) System.Net.Http.HttpRequestException: Fehler beim Senden der Anforderung. ---> System.Net.WebException:"));
        assert_eq!(e.exception.types(), &TLS_TYPES[..3]);
        assert_eq!(
            e.exception.innermost().map(|x| x.message.as_str()),
            Some("Der Remotename konnte nicht aufgelöst werden: 'officeclient.microsoft.com'")
        );
        assert_eq!(
            e.exception.exceptions[0].message,
            "Mindestens ein Fehler ist aufgetreten."
        );
        assert!(e.exception.inner_repeat_removed);
        assert_eq!(e.exception.frames.len(), 4);
        assert!(e.exception.frames.iter().all(|f| f.starts_with("bei ")));
    }
}

#[test]
fn sample_04_wevtutil_xml() {
    let t = sample!("04-wevtutil-xml_unable-to-connect_EX04.xml");
    assert_eq!(detect_format(&t), Some(EventFormat::EventXml));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    assert_eq!(ev.len(), 2);
    assert_eq!(utc(&ev[0].time), "2024-03-14T16:10:26.093651200+00:00");
    assert_eq!(utc(&ev[1].time), "2024-03-14T15:10:25.998730100+00:00");
    assert_eq!(ev[0].record_id, Some(884213));
    assert_eq!(ev[1].record_id, Some(884011));
    assert_eq!((ev[0].line, ev[1].line), (1, 2));
    for e in ev {
        assert_eq!(e.provider.as_deref(), Some(MITIGATION));
        assert_eq!(e.event_id, Some(1008));
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.level_raw.as_deref(), Some("2"));
        assert_eq!(e.computer.as_deref(), Some("EX04.contoso.com"));
        // `&#13;&#10;` became real line breaks, `&amp;` and `---&gt;` decoded.
        assert!(
            e.message
                .contains("52.109.8.21:443\n   at System.Net.Sockets.Socket.InternalEndConnect")
        );
        assert!(e.message.contains("Socket& socket"));
        assert!(!e.message.contains('\r') && !e.message.contains("&gt;"));
        assert_eq!(
            e.exception.types(),
            [
                "System.AggregateException",
                "System.Net.Http.HttpRequestException",
                "System.Net.WebException",
                "System.Net.Sockets.SocketException"
            ]
        );
        assert_eq!(
            e.exception.exceptions[2].message,
            "Unable to connect to the remote server"
        );
        assert!(e.exception.innermost().is_some_and(|x| x
            .message
            .starts_with("A connection attempt failed because the connected party did not properly respond")));
        assert_eq!(
            e.exception.prefix.as_deref(),
            Some("Exception encountered while fetching mitigations :")
        );
        assert!(e.exception.inner_repeat_removed);
        assert_eq!(e.exception.frames.len(), 7);
    }
}

#[test]
fn sample_05_eventviewer_csv_filters_unrelated() {
    let t = sample!("05-eventviewer-csv_untrusted-endpoint-old-build_EX03.csv");
    assert_eq!(detect_format(&t), Some(EventFormat::EventviewerCsv));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    // Three 1008 rows kept; the Security-SPP 16384 row is counted and skipped.
    assert_eq!(ev.len(), 3);
    assert_eq!(p.value.skipped.total, 1);
    assert_eq!(
        p.value
            .skipped
            .by_provider
            .get("Microsoft-Windows-Security-SPP"),
        Some(&1)
    );
    assert_eq!(
        ev.iter().map(|e| (e.line, e.last_line)).collect::<Vec<_>>(),
        [(2, 3), (4, 5), (7, 8)]
    );
    assert_eq!(local(&ev[0].time), "2025-01-27 11:10:03");
    assert_eq!(local(&ev[2].time), "2025-01-27 09:10:03");
    for e in ev {
        assert_eq!(e.provider.as_deref(), Some(MITIGATION));
        assert_eq!(e.event_id, Some(1008));
        assert_eq!(e.level, Level::Error);
        assert_eq!(e.task.as_deref(), Some("General"));
        assert_eq!(
            e.message,
            "An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations."
        );
        assert!(e.exception.exceptions.is_empty());
    }
}

#[test]
fn sample_06_forum_paste() {
    let t = sample!("06-forum-paste_doubled-lines_tls-chain_EX02.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::ForumPaste));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.format, EventFormat::ForumPaste);
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.level, Level::Error);
    assert_eq!(e.computer.as_deref(), Some("EX02.contoso.com"));
    // dd/MM: 14 cannot be a month.
    assert!(matches!(
        e.time,
        Some(Timestamp::Local {
            ambiguous: false,
            ..
        })
    ));
    assert_eq!(local(&e.time), "2024-03-14 11:10:05");
    assert_eq!(e.line, 3);
    assert!(!e.message.contains("\n\n"), "doubled lines undone");
    assert!(
        !e.message.lines().any(|l| l.ends_with(' ')),
        "trailing spaces trimmed"
    );
    assert_eq!(e.exception.types(), TLS_TYPES);
    assert_eq!(
        e.exception.exceptions[2].message,
        "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel."
    );
    assert_eq!(
        e.exception.exceptions[3].message,
        "The remote certificate is invalid according to the validation procedure."
    );
}

#[test]
fn extra_get_eventlog_fl_instance_id() {
    let t = extra!("get-eventlog-fl_EX04.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::GetEventlogList));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    assert_eq!(ev.len(), 2);
    assert_eq!(
        p.value.skipped.by_provider.get("MSExchange ActiveSync"),
        Some(&1)
    );
    // 3221226480 (0xC00003F0) and 1008 both mean event 1008.
    assert_eq!(ev[0].event_id, Some(1008));
    assert_eq!(ev[1].event_id, Some(1008));
    assert_eq!(ev[0].record_id, Some(884213));
    assert_eq!(ev[0].level, Level::Error);
    assert_eq!(ev[0].task.as_deref(), Some("General"));
    assert_eq!(local(&ev[0].time), "2024-03-14 17:10:26");
    assert_eq!(ev[0].line, 2);
    for e in ev {
        assert_eq!(e.format, EventFormat::GetEventlogList);
        assert_eq!(e.provider.as_deref(), Some(MITIGATION));
        // Words split by the 120-column wrap are whole again.
        assert!(e.message.contains("System.AggregateException: One or more errors occurred. ---> System.Net.Http.HttpRequestException: An error occurred while sending the request."));
        assert!(e.message.contains("Socket s6, Socket& socket, IPAddress& address, ConnectSocketState state, IAsyncResult asyncResult, Exception& exception)\n"));
        assert!(
            e.message
                .contains("\n   at System.Net.Sockets.Socket.EndConnect")
        );
        assert_eq!(
            e.exception.innermost().map(|x| x.type_name.as_str()),
            Some("System.Net.Sockets.SocketException")
        );
        assert!(
            e.exception
                .innermost()
                .is_some_and(|x| x.message.ends_with("52.109.8.21:443"))
        );
        assert_eq!(e.exception.frames.len(), 4);
    }
}

#[test]
fn extra_get_winevent_fl_ps7() {
    let t = extra!("get-winevent-fl_ps7_EX02.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::GetWineventList));
    let p = run(&t);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(
        p.value.skipped.by_provider.get("MSExchangeFastSearch"),
        Some(&1)
    );
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(local(&e.time), "2024-03-14 11:10:05");
    assert_eq!((e.line, e.last_line), (2, 20));
    assert_eq!(e.exception.types(), TLS_TYPES);
    assert_eq!(
        e.exception.exceptions[1].message,
        "An error occurred while sending the request."
    );
    // 4-space continuation stripped, the frame's own indentation kept.
    assert!(e.message.contains("\n   at System.Net.TlsStream.EndWrite"));
    assert_eq!(e.exception.frames.len(), 6);
}

#[test]
fn extra_events_root_double_quotes() {
    let t = extra!("save-as-xml_events-root_EX02.xml");
    assert_eq!(detect_format(&t), Some(EventFormat::EventXml));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    assert_eq!(ev.len(), 2);
    // The ADAccess event mentions MSExchangeMitigation.exe but has another provider.
    assert_eq!(p.value.skipped.total, 1);
    assert_eq!(
        p.value.skipped.by_provider.get("MSExchange ADAccess"),
        Some(&1)
    );
    // Line breaks inside `<Data>` are raw in this export.
    assert_eq!((ev[0].line, ev[0].last_line, ev[1].line), (3, 13, 15));
    assert_eq!(ev[1].record_id, Some(2207903));
    assert_eq!(utc(&ev[1].time), "2024-03-14T09:10:05.311842100+00:00");
    for e in ev {
        assert_eq!(e.exception.types(), TLS_TYPES);
        assert!(e.exception.inner_repeat_removed);
    }
}

#[test]
fn extra_rendered_xml() {
    let t = extra!("wevtutil-renderedxml_EX02.xml");
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.level, Level::Error);
    assert_eq!(e.level_raw.as_deref(), Some("Error"));
    assert_eq!(e.task.as_deref(), Some("General"));
    // The rendered message wins over the bare `<Data>`.
    assert!(e.message.starts_with(
        "An unexpected exception occurred.\nDiagnostic information: Exception encountered"
    ));
    assert_eq!(e.exception.types(), TLS_TYPES);
    assert_eq!(e.exception.frames.len(), 3);
}

#[test]
fn extra_watson_4999() {
    let t = extra!("eventviewer-text_watson-4999-oom_EX07.txt");
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.kept_because, KeepReason::WatsonReport);
    assert_eq!(e.provider.as_deref(), Some("MSExchange Common"));
    assert_eq!(e.event_id, Some(4999));
    assert_eq!(e.computer.as_deref(), Some("EX07.contoso.com"));
    assert_eq!(local(&e.time), "2024-03-14 02:41:17");
    assert_eq!((e.line, e.last_line), (1, 12));
    let w = e.watson.as_ref().expect("watson report");
    assert_eq!(w.process_id, Some(5120));
    assert_eq!(
        w.exception_type.as_deref(),
        Some("System.OutOfMemoryException")
    );
    assert_eq!(
        w.parameters.get(3).map(String::as_str),
        Some("M.E.Mitigation.Service")
    );
    assert_eq!(p.value.skipped.total, 1);
    assert_eq!(
        p.value.skipped.by_provider.get("MSExchange Common"),
        Some(&1)
    );
}

#[test]
fn extra_flattened_one_line_paste() {
    let t = extra!("forum-paste_flattened-one-line_EX02.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::ForumPaste));
    let p = run(&t);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.level, Level::Error);
    assert_eq!(e.computer.as_deref(), Some("EX02.contoso.com"));
    assert_eq!(local(&e.time), "2024-03-14 11:10:05");
    assert_eq!(e.line, 3);
    assert_eq!(e.exception.types(), TLS_TYPES);
    assert_eq!(e.exception.frames.len(), 3);
    assert_eq!(
        e.exception.innermost().map(|x| x.message.as_str()),
        Some("The remote certificate is invalid according to the validation procedure.")
    );
}

#[test]
fn flattened_paste_without_source_is_kept_by_message() {
    let t = "Date: 3/14/2024 11:10:05 AM Event ID: 1008 Level: Error Computer: EX02 Description: An unexpected exception occurred. Diagnostic information: Exception encountered while fetching mitigations : System.Net.WebException: The remote name could not be resolved: 'officeclient.microsoft.com'";
    let p = run(t);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.provider, None);
    assert_eq!(e.kept_because, KeepReason::EemsMessage);
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.exception.types(), ["System.Net.WebException"]);
    // Without a provider, an unrelated message is skipped as `(unknown)`.
    let p = run(
        "Date: 3/14/2024 11:10:05 AM Event ID: 1009 Level: Error Computer: EX02 Description: The indexing of mailbox database DB01 failed.",
    );
    assert!(p.value.events.is_empty());
    assert_eq!(p.value.skipped.by_provider.get("(unknown)"), Some(&1));
}

#[test]
fn extra_german_eventviewer_text() {
    let t = extra!("eventviewer-text_de-DE_EX06.txt");
    assert_eq!(detect_format(&t), Some(EventFormat::EventviewerText));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.level, Level::Error);
    assert_eq!(e.level_raw.as_deref(), Some("Fehler"));
    assert_eq!(e.computer.as_deref(), Some("EX06.fabrikam.local"));
    assert_eq!(e.record_id, Some(551872));
    assert_eq!(utc(&e.time), "2024-03-14T13:10:06.220193400+00:00");
    assert_eq!(local(&e.displayed_time), "2024-03-14 14:10:06");
    assert!(!e.message.contains("Ereignis-XML"));
    assert_eq!(e.exception.types(), &TLS_TYPES[..3]);
    assert!(e.exception.inner_repeat_removed);
}

#[test]
fn extra_export_csv() {
    let t = extra!("export-csv_get-winevent_EX02.csv");
    assert_eq!(detect_format(&t), Some(EventFormat::ExportCsv));
    let p = run(&t);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let ev = &p.value.events;
    assert_eq!(ev.len(), 2);
    assert_eq!(
        p.value.skipped.by_provider.get("MSExchange ADAccess"),
        Some(&1)
    );
    assert_eq!(ev[0].line, 3);
    assert_eq!(ev[0].last_line, 10);
    assert_eq!(ev[0].record_id, Some(2208117));
    assert_eq!(ev[0].computer.as_deref(), Some("EX02.contoso.com"));
    assert_eq!(ev[0].level, Level::Error);
    assert_eq!(local(&ev[0].time), "2024-03-14 11:10:05");
    assert_eq!(ev[0].exception.types(), TLS_TYPES);
    assert!(ev[1].message.ends_with("a \"quoted\" detail"));
    // Without `#TYPE`, with the header only.
    let no_type = t.split_once('\n').map(|(_, r)| r).unwrap_or("");
    assert_eq!(detect_format(no_type), Some(EventFormat::ExportCsv));
    assert_eq!(run(no_type).value.events.len(), 2);
}

#[test]
fn eventviewer_tsv_and_localized_csv_header() {
    let tsv = "Level\tDate and Time\tSource\tEvent ID\tTask Category\nError\t1/27/2025 11:10:03 AM\tMSExchange Mitigation Service\t1008\tGeneral\t\"An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations.\"\n";
    assert_eq!(detect_format(tsv), Some(EventFormat::EventviewerTsv));
    let p = run(tsv);
    assert_eq!(p.value.events.len(), 1);
    assert_eq!(p.value.events[0].format, EventFormat::EventviewerTsv);
    assert_eq!(p.value.events[0].last_line, 3);
    let de = "Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie\nFehler,27.01.2025 11:10:03,MSExchange Mitigation Service,1008,Allgemein,\"An unexpected exception occurred.\"\n";
    let p = run(de);
    assert_eq!(p.value.format, Some(EventFormat::EventviewerCsv));
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.level, Level::Error);
    assert_eq!(local(&e.time), "2025-01-27 11:10:03");
}

#[test]
fn blog_style_paste() {
    let t = "Seen on servers older than March 2023:\n\nError, MSExchange Mitigation Service\nEvent ID: 1008\nAn unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations.\n\nThe fix is to update.";
    assert_eq!(detect_format(t), Some(EventFormat::ForumPaste));
    let p = run(t);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.level, Level::Error);
    assert_eq!((e.line, e.last_line), (3, 6));
    assert_eq!(
        e.message,
        "An unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations."
    );
}

#[test]
fn several_eventviewer_events_concatenated_and_no_xml() {
    let one = "Log Name:      Application\nSource:        MSExchange Mitigation Service\nDate:          3/14/2024 11:10:05 AM\nEvent ID:      1008\nTask Category: General\nLevel:         Error\nKeywords:      Classic\nUser:          N/A\nComputer:      EX02.contoso.com\nDescription:\nAn unexpected exception occurred.\nDiagnostic information: Exception encountered while fetching mitigations.\n";
    let other = one
        .replace("MSExchange Mitigation Service", "MSExchange ADAccess")
        .replace("1008", "2080");
    let t = format!("{one}{other}{one}");
    let p = run(&t);
    assert_eq!(p.value.events.len(), 2);
    assert_eq!(p.value.skipped.total, 1);
    assert_eq!(
        p.value
            .events
            .iter()
            .map(|e| (e.line, e.last_line))
            .collect::<Vec<_>>(),
        [(1, 12), (25, 36)]
    );
    assert!(p.value.events.iter().all(|e| e.record_id.is_none()
        && matches!(
            e.time,
            Some(Timestamp::Local {
                ambiguous: false,
                ..
            })
        )));
}

#[test]
fn unknown_language_labels_by_position() {
    // Labels in a language the dictionary lacks (Dutch): position and value shape decide.
    let t = "Logboeknaam:   Application\nBron:          MSExchange Mitigation Service\nDatum:         14-3-2024 11:10:05\nGebeurtenis-id: 1008\nTaakcategorie: General\nNiveau:        Fout\nTrefwoorden:   Klassiek\nGebruiker:     n.v.t.\nComputer:      EX02.contoso.com\nOmschrijving:\nAn unexpected exception occurred.\n";
    let p = run(t);
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.computer.as_deref(), Some("EX02.contoso.com"));
    assert_eq!(e.message, "An unexpected exception occurred.");
}

#[test]
fn truncated_and_broken_xml_reports_problems() {
    let t = sample!("04-wevtutil-xml_unable-to-connect_EX04.xml");
    let cut = t.get(..t.len() - 400).unwrap_or("");
    let p = run(cut);
    assert_eq!(p.value.events.len(), 2);
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].line, Some(2));
    let broken = "<Event xmlns='x'><System><Provider Name='MSExchange Mitigation Service'/><EventID>1008</EventID><Level>2</Lvl></System></Event>";
    let p = run(broken);
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.value.events.len(), 1);
    assert_eq!(p.value.events[0].event_id, Some(1008));
}

#[test]
fn not_an_event_export() {
    assert_eq!(detect_format(""), None);
    assert_eq!(detect_format("hello world\nnothing here"), None);
    assert_eq!(
        detect_format(
            "FetchMitigation,S:LogLevel=Warning;S:Message=Connection attempted against untrusted endpoint"
        ),
        None
    );
    // Label/value output that is not an event (no event id label).
    assert_eq!(
        detect_format("Source:   HealthChecker\nLevel:    2\nComputer: EX01\nUser:     admin\n"),
        None
    );
    // A prompt line before the output.
    let xml = sample!("04-wevtutil-xml_unable-to-connect_EX04.xml");
    let prompted = format!("PS C:\\> wevtutil qe Application /f:xml\n{xml}");
    assert_eq!(detect_format(&prompted), Some(EventFormat::EventXml));
    assert_eq!(run(&prompted).value.events[0].line, 2);
    let wev = sample!("02-wevtutil-text_proxy-407_EX05.txt");
    let prompted = format!("C:\\> wevtutil qe Application /f:text /c:2\n{wev}");
    assert_eq!(detect_format(&prompted), Some(EventFormat::WevtutilText));
    assert_eq!(run(&prompted).value.events.len(), 2);
    let p = run("hello world");
    assert_eq!(p.value.format, None);
    assert_eq!(p.problems.len(), 1);
}

#[test]
fn json_shape() {
    let t = sample!("05-eventviewer-csv_untrusted-endpoint-old-build_EX03.csv");
    let v = serde_json::to_value(run(&t).value).unwrap();
    assert_eq!(v["format"], "eventviewer-csv");
    assert_eq!(v["events"][0]["format"], "eventviewer-csv");
    assert_eq!(v["events"][0]["level"], "error");
    assert_eq!(v["events"][0]["kept_because"], "mitigation-service");
    assert_eq!(v["events"][0]["time"]["zone"], "local");
    assert_eq!(v["skipped"]["total"], 1);
}

#[test]
fn evtx_synthetic_file() {
    use super::evtx::synth::{Rec, evtx};
    let bytes = evtx(&[
        Rec {
            provider: MITIGATION,
            id: "1008",
            level: "2",
            time: "2024-03-14T10:10:05.4471235Z",
            computer: "EX02.contoso.com",
            data: "Exception encountered while fetching mitigations : System.AggregateException: One or more errors occurred. ---> System.Net.WebException: The remote server returned an error: (407) Proxy Authentication Required.\r\n   at System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult)",
        },
        Rec {
            provider: "Microsoft-Windows-Security-SPP",
            id: "16384",
            level: "4",
            time: "2024-03-14T10:11:00.0000000Z",
            computer: "EX02.contoso.com",
            data: "Successfully scheduled Software Protection service for re-start.",
        },
    ]);
    let p = parse_evtx(&bytes);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.value.format, Some(EventFormat::Evtx));
    let [e] = p.value.events.as_slice() else {
        panic!("{:?}", p.value.events)
    };
    assert_eq!(e.format, EventFormat::Evtx);
    assert_eq!(e.provider.as_deref(), Some(MITIGATION));
    assert_eq!(e.event_id, Some(1008));
    assert_eq!(e.level, Level::Error);
    assert_eq!(e.record_id, Some(1));
    assert_eq!(e.computer.as_deref(), Some("EX02.contoso.com"));
    assert_eq!(utc(&e.time), "2024-03-14T10:10:05.447123500+00:00");
    assert_eq!((e.line, e.last_line), (1, 1));
    assert_eq!(
        e.exception.types(),
        ["System.AggregateException", "System.Net.WebException"]
    );
    assert_eq!(e.exception.frames.len(), 1);
    assert_eq!(p.value.skipped.total, 1);
    assert_eq!(
        p.value
            .skipped
            .by_provider
            .get("Microsoft-Windows-Security-SPP"),
        Some(&1)
    );
}

/// Streaming an `.evtx` from a seekable source gives what reading it whole
/// gives, for a good file and broken ones.
#[test]
fn evtx_streamed_reads_as_whole() {
    use super::evtx::synth::{Rec, evtx};
    let rec = |id, provider| Rec {
        provider,
        id,
        level: "2",
        time: "2024-03-14T10:10:05.4471235Z",
        computer: "EX02.contoso.com",
        data: "Exception encountered while fetching mitigations : System.Net.WebException: The remote server returned an error: (407) Proxy Authentication Required.",
    };
    let good = evtx(&[
        rec("1008", MITIGATION),
        rec("1", "Other"),
        rec("1008", MITIGATION),
    ]);
    let mut cut = good.clone();
    cut.truncate(good.len() - 100);
    for bytes in [
        good,
        cut,
        b"ElfFile\0".to_vec(),
        b"ElfFile\0 and then nothing".to_vec(),
    ] {
        let whole = parse_evtx(&bytes);
        let mut events = Vec::new();
        let s = stream_evtx(std::io::Cursor::new(&bytes), |e| events.push(e));
        assert_eq!(json(&events), json(&whole.value.events));
        assert_eq!(json(&s.export.skipped), json(&whole.value.skipped));
        assert_eq!(json(&s.problems), json(&whole.problems));
        assert_eq!(s.export.streamed_events, Some(events.len() as u64));
        assert_eq!(whole.value.streamed_events, None);
    }
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn evtx_corrupt_and_truncated() {
    for bytes in [&b""[..], b"not an evtx file at all", b"ElfFile\0"] {
        let p = parse_evtx(bytes);
        assert!(p.value.events.is_empty());
        assert!(!p.problems.is_empty());
    }
    use super::evtx::synth::{Rec, evtx};
    let good = evtx(&[Rec {
        provider: MITIGATION,
        id: "1008",
        level: "2",
        time: "2024-03-14T10:10:05Z",
        computer: "EX02",
        data: "Exception encountered while fetching mitigations.",
    }]);
    // File header only (the chunk is missing), and a chunk cut short.
    for cut in [4096, 4096 + 600] {
        let p = parse_evtx(good.get(..cut).unwrap_or_default());
        assert!(p.value.events.is_empty(), "cut {cut}");
        assert!(!p.problems.is_empty(), "cut {cut}");
    }
    // Bytes flipped inside the record: the checksum or the BinXML fails, reported.
    let mut bad = good.clone();
    for b in bad.iter_mut().skip(4096 + 512 + 30).take(40) {
        *b ^= 0x5a;
    }
    let p = parse_evtx(&bad);
    assert!(p.value.events.is_empty());
    assert!(!p.problems.is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let _ = detect_format(&s);
        let _ = parse(Source::new(&s));
        let _ = text::parse_paste(Source::new(&s));
        let _ = list::parse(Source::new(&s), EventFormat::GetWineventList);
        let _ = csv::parse_eventviewer(Source::new(&s), EventFormat::EventviewerCsv);
        let _ = csv::parse_export_csv(Source::new(&s));
        let _ = xml::parse(Source::new(&s));
    }

    #[test]
    fn arbitrary_bytes_as_evtx_never_panic(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let mut v = b"ElfFile\0".to_vec();
        v.extend(b);
        let _ = parse_evtx(&v);
    }

    #[test]
    fn mutated_samples_never_panic(
        which in 0usize..14,
        at in proptest::prelude::any::<proptest::sample::Index>(),
        del in 0usize..40,
        ins in "\\PC{0,6}",
        trunc in proptest::prelude::any::<proptest::sample::Index>(),
    ) {
        let samples = all_samples();
        let s = samples.get(which).cloned().unwrap_or_default();
        let mut chars: Vec<char> = s.chars().collect();
        let i = at.index(chars.len().max(1)).min(chars.len());
        let end = (i + del).min(chars.len());
        chars.splice(i..end, ins.chars());
        let m: String = chars.iter().collect();
        let _ = parse(Source::new(&m));
        let t: String = chars.iter().take(trunc.index(chars.len().max(1))).collect();
        let _ = parse(Source::new(&t));
        let _ = text::parse_paste(Source::new(&t));
    }

    #[test]
    fn mutated_evtx_never_panics(at in 0usize..70000, val in proptest::prelude::any::<u8>(), cut in 0usize..70000) {
        use super::evtx::synth::{Rec, evtx};
        let mut b = evtx(&[Rec { provider: "MSExchange Mitigation Service", id: "1008", level: "2", time: "2024-03-14T10:10:05Z", computer: "EX02", data: "x" }]);
        let n = b.len();
        if let Some(x) = b.get_mut(at % n) { *x = val; }
        let _ = parse_evtx(&b);
        let _ = parse_evtx(b.get(..cut % n).unwrap_or_default());
    }
}
