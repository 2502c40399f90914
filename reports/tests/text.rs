//! The terminal summary, with and without colour.

// Helpers outside #[test] functions unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use eems_reports::to_text;

#[test]
fn two_servers_plain_snapshot() {
    insta::assert_snapshot!(to_text(&common::two_servers(), false));
}

#[test]
fn two_servers_color_snapshot() {
    insta::assert_snapshot!(to_text(&common::two_servers(), true));
}

#[test]
fn plain_has_no_escape_codes_and_the_contract_lines() {
    let text = to_text(&common::two_servers(), false);
    assert!(!text.contains('\x1b'));
    assert!(
        text.contains("EX01  CRITICAL  Exchange Server 2019 CU12 (15.2.1118.7, CU precision)\n")
    );
    assert!(text.contains(
        "EX02  WARNING  Exchange Server 2019 CU14 Nov24SUv2 (15.2.1544.14, exact build)\n"
    ));
    assert!(text.contains("37 checks: 3 fail, 26 pass, 8 skip, 0 error"));
    assert!(text.contains("CRITICAL  build-before-march-2023"));
    assert!(text.contains("$ Get-Command ExSetup.exe"));
    assert!(text.contains("unrecognized  notes from customer.docx"));
    assert!(text.contains("error  broken.evtx"));
    for line in text.lines().filter(|l| !l.trim_start().starts_with('$')) {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
}

#[test]
fn color_words_stay() {
    let text = to_text(&common::two_servers(), true);
    assert!(text.contains("\x1b[31mCRITICAL\x1b[0m"));
    assert!(text.contains("\x1b[33mWARNING\x1b[0m"));
    let stripped = strip_ansi(&text);
    assert_eq!(stripped, to_text(&common::two_servers(), false));
}

#[test]
fn ok_server_is_green() {
    let mut report = common::one_server();
    report.servers[0].status = eems_checks::diagnosis::Status::Ok;
    assert!(to_text(&report, true).contains("\x1b[32mOK\x1b[0m"));
}

#[test]
fn real_diagnosis_renders() {
    let text = to_text(&common::real_diagnosis(), false);
    assert!(text.starts_with("EX03  "), "{text}");
    assert!(text.contains("checks: "));
    assert!(text.contains("unrecognized  EX03/random.bin"));
}

#[test]
fn empty_report() {
    let empty = eems_reports::Report {
        servers: vec![],
        ..common::two_servers()
    };
    assert!(to_text(&empty, false).contains("No server"));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn probe_line_under_the_header_and_steps() {
    let text = to_text(&common::proxy_auth_diagnosis(), false);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("EX05  CRITICAL"));
    assert_eq!(
        lines.next().unwrap(),
        "  Probe: proxy CONNECT to proxy.contoso.com:8080 answered 407 Proxy Authentication Required: allow the server through the proxy without authentication"
    );
    assert!(text.contains("  Probe steps (71 ms):\n"));
    assert!(
        text.contains("    dns            ok              2 ms  proxy.contoso.com\n"),
        "{text}"
    );
    assert!(text.contains(
        "    proxy-connect  failed          4 ms  proxy.contoso.com:8080 (proxy answered 407 Proxy Authentication Required)\n"
    ), "{text}");
}

#[test]
fn probe_diagnosis_snapshot() {
    insta::assert_snapshot!(to_text(&common::probe_diagnosis(), false));
}
