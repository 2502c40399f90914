//! Outputs of the EEMS scripts: `Test-MitigationServiceConnectivity.ps1`,
//! `Get-Mitigations.ps1`, and Health Checker (its whole report or any
//! fragment: [`healthchecker`]).
//!
//! Only fragments of these outputs are public (see input-formats §10–§12),
//! so the readers look for known lines anywhere rather than a fixed layout.

use crate::format_list::{self, parse_records};
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use nom::bytes::complete::{tag_no_case, take_till1};
use nom::character::complete::{char, space0};
use nom::combinator::rest;
use nom::{IResult, Parser};
use serde::Serialize;

pub mod healthchecker;
pub use healthchecker::{
    EemsConfigState, HcField, HcLine, HcReport, HcServiceState, HcValue, HealthChecker,
    PatternService, looks_like_healthchecker, parse_healthchecker,
};

/// `Label: value` with a free-text label (no colon inside), both trimmed.
fn colon_line(i: &str) -> IResult<&str, (&str, &str)> {
    let (i, _) = space0(i)?;
    let (i, label) = take_till1(|c| c == ':').parse(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, value) = rest(i)?;
    Ok((i, (label.trim(), value.trim())))
}

/// `Label: value` for one specific label, case-insensitive.
fn labelled<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let r: IResult<&str, (&str, &str, &str, char, &str)> =
        (space0, tag_no_case(label), space0, char(':'), rest).parse(line);
    r.ok().map(|(_, (_, _, _, _, v))| v.trim())
}

/// Console width a hard-wrapped line probably hit: the console cuts
/// mid-word there, so the remainder is appended without a space.
const WRAP_MIN: usize = 79;

fn append_wrapped(acc: &mut String, prev_len: usize, more: &str) {
    if prev_len >= WRAP_MIN {
        acc.push_str(more);
    } else {
        if !acc.is_empty() && !acc.ends_with(' ') && !more.starts_with(' ') {
            acc.push(' ');
        }
        acc.push_str(more.trim_start());
    }
}

/// Test-MitigationServiceConnectivity.ps1 verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestResult {
    Success,
    Failed,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectivityTest {
    pub result: TestResult,
    /// The text after `Result:` as printed.
    pub result_raw: Option<String>,
    /// The text after `Message:`, wrapped lines joined.
    pub message: Option<String>,
    pub message_line: Option<usize>,
    /// Line of the `Result:` line (the first line when there is none).
    pub line: usize,
}

/// `Result: Success.` / `Result: Failed.` and `Message: …` anywhere,
/// case-insensitively. When the script was run several times, the last run wins.
pub fn parse_connectivity_test(src: Source<'_>) -> Parsed<ConnectivityTest> {
    let mut out = ConnectivityTest {
        line: src.first_line,
        ..ConnectivityTest::default()
    };
    let mut problems = Vec::new();
    // Message continuation state: (previous line length).
    let mut in_message: Option<usize> = None;
    for (ln, line) in src.lines() {
        if let Some(v) = labelled(line, "Result") {
            in_message = None;
            let lower = v.to_ascii_lowercase();
            out.result = if lower.starts_with("success") {
                TestResult::Success
            } else if lower.starts_with("fail") {
                TestResult::Failed
            } else {
                problems.push(Problem::at(ln, format!("unknown Result: {v}")));
                TestResult::Unknown
            };
            out.result_raw = Some(v.to_owned());
            out.line = ln;
        } else if let Some(v) = labelled(line, "Message") {
            out.message = Some(v.to_owned());
            out.message_line = Some(ln);
            in_message = Some(line.chars().count());
        } else if let (Some(prev), Some(msg)) = (in_message, out.message.as_mut()) {
            let t = line.trim_end();
            if t.trim().is_empty() || format_list::is_prompt_line(t) || t.starts_with("WARNING:") {
                in_message = None;
            } else {
                append_wrapped(msg, prev, t);
                in_message = Some(line.chars().count());
            }
        }
    }
    if out.result_raw.is_none() {
        problems.push(Problem::whole("no `Result:` line found"));
    }
    Parsed::with_problems(out, problems)
}

/// A `WARNING:` line (wrapped remainder joined), without the prefix.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptWarning {
    pub text: String,
    pub line: usize,
}

/// One mitigation as Get-Mitigations.ps1 lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MitigationEntry {
    pub server: Option<String>,
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub mitigation_type: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MentionedId {
    pub id: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusWord {
    /// As printed (`Applied`, `NotApplicable`, …).
    pub word: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GetMitigations {
    /// The script said it could not reach the mitigation endpoint (OCS).
    pub endpoint_unreachable: bool,
    /// That warning.
    pub endpoint_warning: Option<ScriptWarning>,
    /// Every `WARNING:` the output holds.
    pub warnings: Vec<ScriptWarning>,
    /// Format-List entries (Server Name / Mitigation Id / Type / Status / Description).
    pub entries: Vec<MitigationEntry>,
    /// Mitigation IDs seen anywhere outside warnings (`PING1`, `M1.1`, `M01.2`).
    pub mentioned_ids: Vec<MentionedId>,
    /// Status words seen anywhere outside warnings.
    pub status_words: Vec<StatusWord>,
}

fn warning_body(line: &str) -> Option<&str> {
    let t = line.trim_start();
    ["WARNING:", "WARNUNG:"].iter().find_map(|p| {
        t.get(..p.len())
            .filter(|h| h.eq_ignore_ascii_case(p))
            .and_then(|_| t.get(p.len()..))
    })
}

/// Read `WARNING:` lines with their unindented wrapped remainders.
/// Returns the warnings and the lines they cover.
fn read_warnings(src: Source<'_>) -> (Vec<ScriptWarning>, Vec<usize>) {
    let mut out: Vec<ScriptWarning> = Vec::new();
    let mut covered = Vec::new();
    let mut prev_len: Option<usize> = None;
    for (ln, line) in src.lines() {
        if let Some(body) = warning_body(line) {
            out.push(ScriptWarning {
                text: body.trim_start().to_owned(),
                line: ln,
            });
            covered.push(ln);
            prev_len = Some(line.chars().count());
            continue;
        }
        let Some(prev) = prev_len else { continue };
        let t = line.trim_end();
        // A Format-List property (`Server Name    : EX01`) has padding
        // before its colon; a wrapped sentence (`refer: https://…`) does not.
        let padded_property = format_list::split_property(t).is_some()
            && t.split_once(':')
                .is_some_and(|(k, _)| k.ends_with(char::is_whitespace));
        let starts_indented = t.starts_with(char::is_whitespace);
        if t.is_empty() || format_list::is_prompt_line(t) || padded_property || starts_indented {
            prev_len = None;
            continue;
        }
        if let Some(w) = out.last_mut() {
            append_wrapped(&mut w.text, prev, t);
            covered.push(ln);
        }
        prev_len = Some(line.chars().count());
    }
    for w in &mut out {
        w.text = w.text.trim().to_owned();
    }
    (out, covered)
}

fn is_endpoint_warning(text: &str) -> bool {
    let squashed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    squashed.contains("connectionwithmitigationendpointwasnotsuccessful")
        || squashed.contains("connectionwithmitigationendpoint")
            && squashed.contains("helpconnectivityeems")
}

/// Mitigation IDs in free text: `PING1`, `M1`, `M1.1`, `M01.2.3`, as whole words.
pub fn find_mitigation_ids(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let mut iter = line.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let boundary = prev.is_none_or(|p| !p.is_alphanumeric() && p != '_');
        prev = Some(c);
        if !boundary || !(c == 'M' || c == 'P') {
            continue;
        }
        let Some(tail) = line.get(i..) else { continue };
        let body = if let Some(r) = tail.strip_prefix("PING") {
            Some((4, r))
        } else {
            tail.strip_prefix('M').map(|r| (1, r))
        };
        let Some((head, r)) = body else { continue };
        let mut len = head;
        let digits = r.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        len += digits;
        let mut r = r.get(digits..).unwrap_or_default();
        if head == 1 {
            // `.N` groups only for M-ids.
            while let Some(after) = r.strip_prefix('.') {
                let d = after.chars().take_while(char::is_ascii_digit).count();
                if d == 0 {
                    break;
                }
                len += 1 + d;
                r = after.get(d..).unwrap_or_default();
            }
        }
        if r.chars()
            .next()
            .is_some_and(|n| n.is_alphanumeric() || n == '_')
        {
            continue;
        }
        if let Some(id) = line.get(i..i + len) {
            if !out.iter().any(|x| x == id) {
                out.push(id.to_owned());
            }
            // Skip the id so its digits are not rescanned.
            for _ in 1..len {
                if let Some((_, ch)) = iter.next() {
                    prev = Some(ch);
                }
            }
        }
    }
    out
}

const STATUS_WORDS: [&str; 8] = [
    "Applied",
    "Blocked",
    "Failed",
    "NotApplicable",
    "Pending",
    "RolledBack",
    "Disabled",
    "Enabled",
];

fn find_status_words(line: &str) -> Vec<String> {
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| STATUS_WORDS.iter().any(|s| s.eq_ignore_ascii_case(w)))
        .map(str::to_owned)
        .collect()
}

/// Read Get-Mitigations.ps1 output: the VERIFIED endpoint warning, the
/// (reconstructed) Format-List entries, and ids and status words anywhere.
pub fn parse_get_mitigations(src: Source<'_>) -> Parsed<GetMitigations> {
    let mut out = GetMitigations::default();
    let (warnings, covered) = read_warnings(src);
    out.endpoint_warning = warnings
        .iter()
        .find(|w| is_endpoint_warning(&w.text))
        .cloned();
    out.endpoint_unreachable = out.endpoint_warning.is_some();
    out.warnings = warnings;

    // Free text: the layout of a successful run is not public, so problems
    // of the Format-List reader are not reported.
    for r in parse_records(src).value {
        let s = |names: &[&str]| r.get_any(names).and_then(|p| p.as_str()).map(str::to_owned);
        let id = s(&[
            "Mitigation Id",
            "MitigationId",
            "Mitigation ID",
            "Id",
            "Mitigation",
        ]);
        if id.is_none() && !r.has("Mitigation Id") && !r.has("MitigationId") {
            continue;
        }
        out.entries.push(MitigationEntry {
            server: s(&["Server Name", "ServerName", "Server", "PSComputerName"]),
            id,
            mitigation_type: s(&["Type", "Mitigation Type", "MitigationType"]),
            status: s(&["Status", "State"]),
            description: s(&["Description"]),
            line: r.line,
        });
    }

    for (ln, line) in src.lines() {
        if covered.contains(&ln) || format_list::is_prompt_line(line) {
            continue;
        }
        for id in find_mitigation_ids(line) {
            out.mentioned_ids.push(MentionedId { id, line: ln });
        }
        for word in find_status_words(line) {
            out.status_words.push(StatusWord { word, line: ln });
        }
    }
    let mut problems = Vec::new();
    if out.warnings.is_empty() && out.entries.is_empty() && out.mentioned_ids.is_empty() {
        problems.push(Problem::whole(
            "no warning, mitigation entry or mitigation id found",
        ));
    }
    Parsed::with_problems(out, problems)
}

/// Cheap check for the sniffer: Test-MitigationServiceConnectivity.ps1 output.
pub fn looks_like_connectivity_test(text: &str) -> bool {
    text.lines().any(|l| {
        labelled(l, "Result").is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.starts_with("success") || v.starts_with("fail")
        }) || labelled(l, "Message").is_some_and(|v| {
            v.to_ascii_lowercase()
                .contains("mitigation service endpoint")
        })
    })
}

/// Cheap check for the sniffer: Get-Mitigations.ps1 output.
pub fn looks_like_get_mitigations(text: &str) -> bool {
    let squashed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(20_000)
        .collect::<String>()
        .to_ascii_lowercase();
    squashed.contains("connectionwithmitigationendpoint")
        || text.lines().any(|l| {
            format_list::split_property(l).is_some_and(|(k, _)| {
                k.eq_ignore_ascii_case("Mitigation Id") || k.eq_ignore_ascii_case("MitigationId")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VERIFIED_WARNING: &str = "Connection with Mitigation Endpoint was not successful. To enable connectivity please refer: https://aka.ms/HelpConnectivityEEMS";

    #[test]
    fn connectivity_success_sample() {
        let t = reference!("os/healthy_EX01/test-mitigationserviceconnectivity.txt");
        assert!(looks_like_connectivity_test(&t));
        let p = parse_connectivity_test(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.result, TestResult::Success);
        assert_eq!(p.value.result_raw.as_deref(), Some("Success."));
        assert_eq!(p.value.line, 1);
        assert_eq!(
            p.value.message.as_deref(),
            Some("The Mitigation Service endpoint is accessible from this computer.")
        );
        assert_eq!(p.value.message_line, Some(2));
    }

    #[test]
    fn connectivity_failed_sample() {
        let t = reference!("os/misconfigured_EX04/test-mitigationserviceconnectivity.txt");
        assert!(looks_like_connectivity_test(&t));
        let p = parse_connectivity_test(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.result, TestResult::Failed);
        assert!(
            p.value
                .message
                .as_deref()
                .unwrap()
                .ends_with("see https://aka.ms/HelpConnectivityEEMS.")
        );
    }

    #[test]
    fn connectivity_variants() {
        // Prompt, progress noise, lower case, wrapped message at 80 columns.
        let text = "PS C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Scripts> .\\Test-MitigationServiceConnectivity.ps1\nChecking...\nresult: FAILED.\nmessage: Unable to connect to the Mitigation Service endpoint from this computer. To\n learn about connectivity requirements, see https://aka.ms/HelpConnectivityEEMS.\n\nPS C:\\>";
        let p = parse_connectivity_test(Source::new(text));
        assert!(p.problems.is_empty());
        assert_eq!(p.value.result, TestResult::Failed);
        assert_eq!(p.value.line, 3);
        assert_eq!(
            p.value.message.as_deref(),
            Some(
                "Unable to connect to the Mitigation Service endpoint from this computer. To learn about connectivity requirements, see https://aka.ms/HelpConnectivityEEMS."
            )
        );
        let p = parse_connectivity_test(Source::new("Result: Maybe\n"));
        assert_eq!(p.value.result, TestResult::Unknown);
        assert_eq!(p.problems[0].line, Some(1));
        let p = parse_connectivity_test(Source::new("nothing"));
        assert_eq!(p.value.result, TestResult::Unknown);
        assert_eq!(p.problems.len(), 1);
        assert!(!looks_like_connectivity_test("nothing"));
    }

    #[test]
    fn get_mitigations_warning_sample() {
        let t = reference!("os/misconfigured_EX04/get-mitigations.txt");
        assert!(looks_like_get_mitigations(&t));
        let p = parse_get_mitigations(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.value.endpoint_unreachable);
        let w = p.value.endpoint_warning.unwrap();
        assert_eq!(w.text, VERIFIED_WARNING);
        assert_eq!(w.line, 1);
        assert!(p.value.entries.is_empty());
        assert!(p.value.mentioned_ids.is_empty());
    }

    #[test]
    fn get_mitigations_wrapped_warning() {
        let t = powershell!("get-mitigations-warning-wrapped.txt");
        assert!(looks_like_get_mitigations(&t));
        let p = parse_get_mitigations(Source::new(&t));
        assert!(p.value.endpoint_unreachable);
        assert_eq!(p.value.warnings.len(), 2);
        let w = p.value.endpoint_warning.unwrap();
        assert_eq!(w.text, VERIFIED_WARNING);
        assert_eq!(w.line, 2);
        assert_eq!(p.value.warnings[1].line, 5);
        assert!(
            p.value.mentioned_ids.is_empty(),
            "{:?}",
            p.value.mentioned_ids
        );
    }

    #[test]
    fn get_mitigations_list_sample() {
        let t = reference!("os/healthy_EX01/get-mitigations.txt");
        assert!(looks_like_get_mitigations(&t));
        let p = parse_get_mitigations(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(!p.value.endpoint_unreachable);
        assert_eq!(p.value.entries.len(), 1);
        let e = &p.value.entries[0];
        assert_eq!(e.server.as_deref(), Some("EX01"));
        assert_eq!(e.id.as_deref(), Some("PING1"));
        assert_eq!(e.mitigation_type.as_deref(), Some("DoNothing"));
        assert_eq!(e.status.as_deref(), Some("Applied"));
        assert_eq!(
            e.description.as_deref(),
            Some("EEMS Heartbeat probe. Does not modify any exchange settings.")
        );
        assert_eq!(e.line, 2);
        assert_eq!(
            p.value.mentioned_ids,
            vec![MentionedId {
                id: "PING1".into(),
                line: 3
            }]
        );
        assert_eq!(
            p.value.status_words,
            vec![StatusWord {
                word: "Applied".into(),
                line: 5
            }]
        );
        let j = serde_json::to_value(&p.value).unwrap();
        assert_eq!(j["entries"][0]["type"], "DoNothing");
    }

    #[test]
    fn get_mitigations_free_text() {
        let text = "Applied mitigations on EX01: PING1, M1.1\nM2 blocked; M01.2.3 failed. NotApplicable: M10\nMSExchangeMitigation M365 xM1 M1a PING\n";
        let p = parse_get_mitigations(Source::new(text));
        assert!(p.problems.is_empty());
        let ids: Vec<_> = p
            .value
            .mentioned_ids
            .iter()
            .map(|m| (m.id.as_str(), m.line))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("PING1", 1),
                ("M1.1", 1),
                ("M2", 2),
                ("M01.2.3", 2),
                ("M10", 2),
                ("M365", 3)
            ]
        );
        let words: Vec<_> = p
            .value
            .status_words
            .iter()
            .map(|w| w.word.as_str())
            .collect();
        assert_eq!(words, vec!["Applied", "blocked", "failed", "NotApplicable"]);
        assert_eq!(find_mitigation_ids("end M1.1."), vec!["M1.1"]);
        let p = parse_get_mitigations(Source::new("hello"));
        assert_eq!(p.problems.len(), 1);
    }

    /// Each sample is claimed by its own `looks_like_*` helper and no other.
    #[test]
    fn sniff_helpers_are_exclusive() {
        type Check = fn(&str) -> bool;
        let checks: [(&str, Check); 7] = [
            (
                "exchange-server",
                crate::exchange::looks_like_exchange_server,
            ),
            (
                "organization-config",
                crate::exchange::looks_like_organization_config,
            ),
            ("service-status", crate::exchange::looks_like_service_status),
            ("exsetup-version", crate::build::looks_like_exsetup_version),
            ("connectivity-test", looks_like_connectivity_test),
            ("get-mitigations", looks_like_get_mitigations),
            ("healthchecker", looks_like_healthchecker),
        ];
        let samples = [
            (
                "exchange-server",
                reference!("os/healthy_EX01/get-exchangeserver-fl.txt"),
            ),
            (
                "exchange-server",
                reference!("os/misconfigured_EX04/get-exchangeserver-fl.txt"),
            ),
            (
                "exchange-server",
                reference!("os/variants/get-exchangeserver-fl_multi-server.txt"),
            ),
            (
                "exchange-server",
                powershell!("get-exchangeserver-fl_wrapped-truncated.txt"),
            ),
            (
                "exchange-server",
                powershell!("get-exchangeserver-table.txt"),
            ),
            (
                "organization-config",
                reference!("os/healthy_EX01/get-organizationconfig-fl.txt"),
            ),
            (
                "organization-config",
                powershell!("get-organizationconfig-fl-mitig.txt"),
            ),
            (
                "service-status",
                reference!("os/healthy_EX01/get-service.txt"),
            ),
            (
                "service-status",
                reference!("os/variants/get-service-select_stopped-disabled.txt"),
            ),
            (
                "service-status",
                reference!("os/variants/get-service_ps7-ellipsis.txt"),
            ),
            ("service-status", powershell!("get-service-fl.txt")),
            ("service-status", powershell!("sc-query-qc.txt")),
            ("service-status", powershell!("get-service-missing.txt")),
            (
                "exsetup-version",
                powershell!("exsetup-fileversioninfo-table.txt"),
            ),
            ("exsetup-version", powershell!("exsetup-fl-fileversion.txt")),
            ("exsetup-version", powershell!("exsetup-versioninfo.txt")),
            (
                "exsetup-version",
                powershell!("exsetup-get-command-autosize.txt"),
            ),
            (
                "connectivity-test",
                reference!("os/healthy_EX01/test-mitigationserviceconnectivity.txt"),
            ),
            (
                "connectivity-test",
                reference!("os/misconfigured_EX04/test-mitigationserviceconnectivity.txt"),
            ),
            (
                "get-mitigations",
                reference!("os/healthy_EX01/get-mitigations.txt"),
            ),
            (
                "get-mitigations",
                reference!("os/misconfigured_EX04/get-mitigations.txt"),
            ),
            (
                "get-mitigations",
                powershell!("get-mitigations-warning-wrapped.txt"),
            ),
            (
                "healthchecker",
                reference!("os/variants/healthchecker-eems-section.txt"),
            ),
            (
                "healthchecker",
                powershell!("healthchecker-eems-disabled-unreachable.txt"),
            ),
            (
                "healthchecker",
                powershell!("healthchecker-full-two-servers.txt"),
            ),
            (
                "healthchecker",
                real!(
                    "css-exchange-878-hc-exchange-information-cu10/healthchecker-exchange-information.txt"
                ),
            ),
            (
                "healthchecker",
                real!("css-exchange-1352-hc-name-2016-cu22/healthchecker-exchange-information.txt"),
            ),
            (
                "healthchecker",
                real!("css-exchange-1085-hc-2016-cu23-tabs/healthchecker-excerpt.txt"),
            ),
            (
                "healthchecker",
                real!("css-exchange-1121-hc-proxy-misdisplayed/healthchecker-proxy.txt"),
            ),
            (
                "healthchecker",
                real!("css-exchange-1875-hc-proxy-port-803/healthchecker-proxy.txt"),
            ),
            (
                "healthchecker",
                real!("css-exchange-761-hc-empty-proxy-warning/healthchecker-os-section.txt"),
            ),
            (
                "healthchecker",
                real!("css-exchange-1977-exsetup-1258-28-hc-failed/healthchecker-failed.txt"),
            ),
            (
                "exsetup-version",
                real!("css-exchange-1977-exsetup-1258-28-hc-failed/exsetup-fileversioninfo.txt"),
            ),
            (
                "exchange-server",
                real!("css-exchange-1121-hc-proxy-misdisplayed/get-exchangeserver-fl-proxy.txt"),
            ),
        ];
        for (want, text) in &samples {
            let claimed: Vec<&str> = checks
                .iter()
                .filter(|(_, f)| f(text))
                .map(|(k, _)| *k)
                .collect();
            assert_eq!(claimed, vec![*want], "{text}");
        }
        // Other kinds' samples are claimed by none of these helpers.
        for text in [
            reference!("os/healthy_EX01/netsh-winhttp-show-proxy.txt"),
            reference!("os/healthy_EX01/reg-query-winhttpsettings.txt"),
            reference!("os/healthy_EX01/netsh-winhttp-show-advproxy.txt"),
            // Real: netsh beside a mangled Health Checker paste, and prose about Health Checker.
            real!("css-exchange-1121-hc-proxy-misdisplayed/netsh-winhttp-show-proxy.txt"),
            real!("css-exchange-534-winhttp-dots-stripped/issue-body.md"),
            real!("msdocs-exchange-3170-prose-build-numbers/issue-excerpt.txt"),
        ] {
            assert!(checks.iter().all(|(_, f)| !f(&text)), "{text}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let src = Source::new(&s);
            let _ = parse_connectivity_test(src);
            let _ = parse_get_mitigations(src);
            let _ = parse_healthchecker(src);
            let _ = looks_like_connectivity_test(&s);
            let _ = looks_like_get_mitigations(&s);
            let _ = looks_like_healthchecker(&s);
            let _ = find_mitigation_ids(&s);
        }

        #[test]
        fn ids_on_id_like_text(s in "[MPING0-9. ,a-z]{0,60}") {
            for id in find_mitigation_ids(&s) {
                prop_assert!(s.contains(&id));
            }
        }

        #[test]
        fn mutated_samples_never_panic(which in 0usize..4, cut in 0usize..500, ins in "\\PC{0,8}", pos in 0usize..500, del in 0usize..500) {
            let texts = [
                reference!("os/variants/healthchecker-eems-section.txt"),
                reference!("os/healthy_EX01/get-mitigations.txt"),
                reference!("os/misconfigured_EX04/test-mitigationserviceconnectivity.txt"),
                powershell!("get-mitigations-warning-wrapped.txt"),
            ];
            let t = &texts[which];
            let mut s: String = t.chars().take(cut).collect();
            if let Some((i, _)) = s.char_indices().nth(del) { s.remove(i); }
            let at = s.char_indices().nth(pos).map_or(s.len(), |(i, _)| i);
            s.insert_str(at, &ins);
            let src = Source::new(&s);
            let _ = parse_connectivity_test(src);
            let _ = parse_get_mitigations(src);
            let _ = parse_healthchecker(src);
        }
    }
}
