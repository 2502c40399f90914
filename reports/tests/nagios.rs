//! `--format nagios`: one monitoring-plugin line with perfdata.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod common;

use eems_reports::to_nagios;

#[test]
fn two_servers_one_line_worst_status_and_perfdata() {
    let out = to_nagios(&common::two_servers());
    assert_eq!(out.lines().count(), 1, "{out}");
    let (text, perf) = out.trim_end().split_once(" | ").unwrap();
    assert!(
        text.starts_with("EEMS CRITICAL - EX01 CRITICAL ("),
        "{text}"
    );
    assert!(text.contains(", EX02 WARNING"), "{text}");
    assert!(
        perf.starts_with(
            "servers=2;;;0 ok=0;;;0 warning=1;;;0 critical=1;;;0 unknown=0;;;0 root_causes="
        ),
        "{perf}"
    );
    // Every perfdata item is label=value;warn;crit;min.
    for item in perf.split(' ') {
        let (label, rest) = item.split_once('=').unwrap();
        assert!(
            label.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{item}"
        );
        let value = rest.split(';').next().unwrap();
        assert!(value.parse::<u64>().is_ok(), "{item}");
    }
}

#[test]
fn evidence_cannot_break_the_line() {
    let mut r = common::hostile();
    r.servers[0].server = Some("EX01 | evil=1\nCRITICAL".into());
    let out = to_nagios(&r);
    assert_eq!(out.matches(" | ").count(), 1, "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("EX01___evil_1_CRITICAL"), "{out}");
}

#[test]
fn no_servers_is_unknown() {
    let mut r = common::one_server();
    r.servers.clear();
    assert!(to_nagios(&r).starts_with("EEMS UNKNOWN - no evidence read | servers=0;;;0"));
}
