//! Recognise what a file is from its content. A file name is only a hint:
//! admins rename files, paste several outputs into one, and send
//! `output.txt` for everything. A pasted console session is split on its
//! prompt lines (`[PS] C:\Windows\system32>`, `PS C:\>`, `C:\>`) and each
//! piece is recognised on its own.

use crate::kind::Kind;
use crate::text::{Source, decode};

/// Magic at the start of a binary event log file.
pub const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// What `bytes` is. A console session with several recognised outputs is
/// [`Kind::Mixed`].
pub fn sniff(bytes: &[u8], name_hint: Option<&str>) -> Kind {
    if bytes.starts_with(EVTX_MAGIC) {
        return Kind::EventExport;
    }
    let decoded = decode(bytes);
    let kinds: Vec<Kind> = split_segments(&decoded.text)
        .iter()
        .map(|s| sniff_segment(s.source.text, s.command.as_deref(), name_hint))
        .filter(|k| *k != Kind::Unrecognized)
        .collect();
    match kinds.as_slice() {
        [] => Kind::Unrecognized,
        [one] => *one,
        _ => Kind::Mixed,
    }
}

/// One piece of a decoded input, between two prompt lines.
#[derive(Debug, Clone)]
pub struct RawSegment<'a> {
    pub source: Source<'a>,
    /// The command typed at the prompt that introduced this piece, if any.
    pub command: Option<String>,
    /// The line of the prompt itself (or the first line when there is none).
    pub prompt_line: Option<usize>,
    /// The one remote computer the output comes from, when the prompt says
    /// so: the command's target (`Invoke-Command -ComputerName EX02 {…}`)
    /// or a remoting prompt (`[EX02]: PS C:\>`).
    pub host: Option<String>,
}

/// Split a console paste on prompt lines. A file without prompts is one
/// segment. Blank-only pieces are dropped.
pub fn split_segments(text: &str) -> Vec<RawSegment<'_>> {
    let mut out = Vec::new();
    // One serialized document: never split, whatever its strings hold.
    if crate::clixml::is_clixml(text) {
        push_segment(&mut out, text, 0, text.len(), 1, (None, None), None);
        return out;
    }
    let mut start = 0usize; // byte offset of the current segment
    let mut start_line = 1usize;
    let mut command: Option<String> = None;
    let mut host: Option<String> = None;
    let mut prompt_line: Option<usize> = None;
    let mut offset = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let next_offset = offset + line.len() + 1;
        if let Some(cmd) = prompt_command(line) {
            push_segment(
                &mut out,
                text,
                start,
                offset,
                start_line,
                (command.take(), host.take()),
                prompt_line,
            );
            command = Some(cmd.to_owned()).filter(|c| !c.is_empty());
            host = crate::format_list::command_computer(cmd)
                .or_else(|| crate::format_list::prompt_host(line).map(str::to_owned));
            prompt_line = Some(line_no);
            start = next_offset.min(text.len());
            start_line = line_no + 1;
        }
        offset = next_offset;
    }
    push_segment(
        &mut out,
        text,
        start,
        text.len(),
        start_line,
        (command, host),
        prompt_line,
    );
    out
}

fn push_segment<'a>(
    out: &mut Vec<RawSegment<'a>>,
    text: &'a str,
    start: usize,
    end: usize,
    first_line: usize,
    (command, host): (Option<String>, Option<String>),
    prompt_line: Option<usize>,
) {
    let end = end.min(text.len());
    let Some(piece) = text.get(start..end) else {
        return;
    };
    if piece.trim().is_empty() && command.is_none() {
        return;
    }
    out.push(RawSegment {
        source: Source {
            text: piece,
            first_line,
        },
        command,
        prompt_line,
        host,
    });
}

/// The console prompt reader is [`crate::format_list::prompt_command`]: one
/// reading of prompts for splitting and for the Format-List/table parsers.
pub use crate::format_list::prompt_command;

/// Recognise one segment.
pub fn sniff_segment(text: &str, command: Option<&str>, name_hint: Option<&str>) -> Kind {
    let by_content = sniff_text(text);
    // `ERROR: … unable to find the specified registry key or value.` alone
    // says nothing about which value was queried: the command or file name does.
    if by_content == Kind::RegistryValues && !text.contains("HKEY_") {
        let about_winhttp = |s: &str| s.to_ascii_lowercase().contains("winhttp");
        if command.is_some_and(about_winhttp) || name_hint.is_some_and(about_winhttp) {
            return Kind::WinhttpRegistry;
        }
    }
    if by_content != Kind::Unrecognized {
        return by_content;
    }
    if text.trim().is_empty() {
        return Kind::Unrecognized;
    }
    command
        .and_then(kind_from_command)
        .or_else(|| name_hint.and_then(kind_from_name))
        .unwrap_or(Kind::Unrecognized)
}

/// Whether a segment's head (its first [`HEAD_BYTES`]) is of one kind.
pub type Recognizer = fn(&str) -> bool;

/// One recognizer per kind, tried in this order: the most specific
/// structure first, because an event message quotes log text, a log quotes
/// URLs and a Health Checker report names services. Each recognizer lives in
/// the kind's own module next to its parser, so a new kind is one module plus
/// one row here.
pub const RECOGNIZERS: &[(Kind, Recognizer)] = &[
    (Kind::EvidenceManifest, crate::manifest::looks_like_manifest),
    (
        Kind::ProbeResults,
        crate::probe_results::looks_like_probe_results,
    ),
    (
        Kind::OcsResponse,
        crate::ocs_response::looks_like_ocs_response,
    ),
    (Kind::EventExport, crate::events::looks_like_event_export),
    (
        Kind::MitigationLog,
        crate::mitigation_log::looks_like_mitigation_log,
    ),
    (
        Kind::NetshWinhttpAdvproxy,
        crate::winhttp::looks_like_advproxy,
    ),
    (
        Kind::NetshWinhttpProxy,
        crate::winhttp::looks_like_netsh_proxy,
    ),
    (
        Kind::WinhttpRegistry,
        crate::winhttp::looks_like_winhttp_registry,
    ),
    (
        Kind::RegistryValues,
        crate::registry::looks_like_registry_values,
    ),
    (
        Kind::Healthchecker,
        crate::scripts::looks_like_healthchecker,
    ),
    (
        Kind::ConnectivityTest,
        crate::scripts::looks_like_connectivity_test,
    ),
    (
        Kind::GetMitigations,
        crate::scripts::looks_like_get_mitigations,
    ),
    (
        Kind::ServiceStatus,
        crate::exchange::looks_like_service_status,
    ),
    (
        Kind::ExchangeServer,
        crate::exchange::looks_like_exchange_server,
    ),
    (
        Kind::OrganizationConfig,
        crate::exchange::looks_like_organization_config,
    ),
    (
        Kind::ExsetupVersion,
        crate::build::looks_like_exsetup_version,
    ),
];

/// An `Export-Clixml` file is recognised by the type of its objects, and
/// only by this table: its text holds property names the console
/// recognizers would misread.
pub const CLIXML_RECOGNIZERS: &[(Kind, Recognizer)] = &[
    (
        Kind::ExchangeServer,
        crate::exchange::looks_like_exchange_server_clixml,
    ),
    (
        Kind::OrganizationConfig,
        crate::exchange::looks_like_organization_config_clixml,
    ),
    (
        Kind::ServiceStatus,
        crate::exchange::looks_like_service_status_clixml,
    ),
    (
        Kind::WinhttpRegistry,
        crate::winhttp::looks_like_winhttp_registry_clixml,
    ),
    (
        Kind::RegistryValues,
        crate::registry::looks_like_registry_values_clixml,
    ),
    (
        Kind::ExsetupVersion,
        crate::build::looks_like_exsetup_version_clixml,
    ),
    (
        Kind::OcsResponse,
        crate::ocs_response::looks_like_ocs_response_clixml,
    ),
];

/// How much of a segment the recognizers look at: every structure they look
/// for shows within its first lines, and a 2 GB log must not be scanned twice.
const HEAD_BYTES: usize = 64 * 1024;

/// Content-only recognition: the first recognizer of [`RECOGNIZERS`] that
/// accepts the segment's head.
pub fn sniff_text(text: &str) -> Kind {
    let mut end = text.len().min(HEAD_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text.get(..end).unwrap_or(text);
    let table = if crate::clixml::is_clixml(head) {
        CLIXML_RECOGNIZERS
    } else {
        RECOGNIZERS
    };
    table
        .iter()
        .find(|(_, recognizes)| recognizes(head))
        .map_or(Kind::Unrecognized, |(kind, _)| *kind)
}

/// The command typed before an output says what it is when the output alone does not.
pub fn kind_from_command(cmd: &str) -> Option<Kind> {
    let c = cmd.to_ascii_lowercase();
    let k = if c.contains("winhttp show advproxy") {
        Kind::NetshWinhttpAdvproxy
    } else if c.contains("winhttp show proxy") {
        Kind::NetshWinhttpProxy
    } else if c.contains("winhttpsettings") {
        Kind::WinhttpRegistry
    } else if c.starts_with("reg ") || c.starts_with("reg.exe") {
        Kind::RegistryValues
    } else if c.contains("get-exchangeserver") {
        Kind::ExchangeServer
    } else if c.contains("get-organizationconfig") {
        Kind::OrganizationConfig
    } else if c.contains("get-service") || c.starts_with("sc ") || c.starts_with("sc.exe") {
        Kind::ServiceStatus
    } else if c.contains("exsetup") {
        Kind::ExsetupVersion
    } else if c.contains("test-mitigationserviceconnectivity") {
        Kind::ConnectivityTest
    } else if c.contains("get-mitigations") {
        Kind::GetMitigations
    } else if c.contains("healthchecker") {
        Kind::Healthchecker
    } else if c.contains("wevtutil") || c.contains("get-winevent") || c.contains("get-eventlog") {
        Kind::EventExport
    } else {
        return None;
    };
    Some(k)
}

/// Last resort: the file name. Never overrides content.
pub fn kind_from_name(name: &str) -> Option<Kind> {
    let n = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    if n.ends_with(".evtx")
        || (n.contains("event") && [".xml", ".txt", ".csv"].iter().any(|e| n.ends_with(e)))
    {
        Some(Kind::EventExport)
    } else if n.contains("mitigation") && n.ends_with(".log") {
        Some(Kind::MitigationLog)
    } else if n == "manifest.json" {
        Some(Kind::EvidenceManifest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts() {
        assert_eq!(
            prompt_command("[PS] C:\\Windows\\system32>netsh winhttp show proxy"),
            Some("netsh winhttp show proxy")
        );
        assert_eq!(
            prompt_command("PS C:\\Users\\admin> Get-Service x"),
            Some("Get-Service x")
        );
        assert_eq!(prompt_command("C:\\>"), Some(""));
        assert_eq!(
            prompt_command("C:\\Program Files\\Microsoft\\ExSetup.exe"),
            None
        );
        assert_eq!(prompt_command("Name : EX01"), None);
        assert_eq!(prompt_command("C:"), None);
    }

    #[test]
    fn splits_console_session() {
        let text = "[PS] C:\\Windows\\system32>netsh winhttp show proxy\n\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n\n[PS] C:\\Windows\\system32>Get-OrganizationConfig | fl MitigationsEnabled\n\nMitigationsEnabled : False\n\n[PS] C:\\Windows\\system32>\n";
        let segs = split_segments(text);
        let kinds: Vec<Kind> = segs
            .iter()
            .filter(|s| !s.source.text.trim().is_empty())
            .map(|s| sniff_segment(s.source.text, s.command.as_deref(), None))
            .collect();
        assert_eq!(
            kinds,
            vec![Kind::NetshWinhttpProxy, Kind::OrganizationConfig]
        );
        assert_eq!(segs[0].source.first_line, 2);
        assert_eq!(segs[1].source.first_line, 8);
        assert_eq!(
            segs[1].command.as_deref(),
            Some("Get-OrganizationConfig | fl MitigationsEnabled")
        );
        assert_eq!(sniff(text.as_bytes(), None), Kind::Mixed);
    }

    #[test]
    fn segments_know_the_remote_computer_their_prompt_names() {
        let text = "[PS] C:\\>Invoke-Command -ComputerName EX02 { hostname }\nEX02\n\
                    [PS] C:\\>Enter-PSSession EX03\n\
                    [EX03]: PS C:\\> hostname\nEX03\n\
                    [EX03]: PS C:\\> Invoke-Command -cn EX04 { hostname }\nEX04\n\
                    [PS] C:\\>hostname\nADMIN01\n";
        let segs = split_segments(text);
        let hosts: Vec<(Option<&str>, Option<&str>)> = segs
            .iter()
            .map(|s| (s.host.as_deref(), s.source.text.lines().next()))
            .collect();
        assert_eq!(
            hosts,
            [
                (Some("EX02"), Some("EX02")),
                (Some("EX03"), None),
                (Some("EX03"), Some("EX03")),
                (Some("EX04"), Some("EX04")),
                (None, Some("ADMIN01")),
            ]
        );
    }

    #[test]
    fn org_config_vs_exchange_server() {
        assert_eq!(
            sniff_text("\nMitigationsEnabled : True\n\n"),
            Kind::OrganizationConfig
        );
        assert_eq!(
            sniff_text("\nName               : EX01\nMitigationsEnabled : True\n"),
            Kind::ExchangeServer
        );
    }

    #[test]
    fn name_is_only_a_hint() {
        assert_eq!(
            sniff(b"garbage", Some("MitigationService_2024.LOG")),
            Kind::MitigationLog
        );
        assert_eq!(
            sniff(
                b"\nMitigationsEnabled : True\n",
                Some("MitigationService_2024.LOG")
            ),
            Kind::OrganizationConfig
        );
        assert_eq!(sniff(b"hello world", Some("notes.txt")), Kind::Unrecognized);
        assert_eq!(sniff(b"", None), Kind::Unrecognized);
    }

    #[test]
    fn every_kind_has_exactly_one_recognizer() {
        for k in Kind::ALL {
            let rows = RECOGNIZERS.iter().filter(|(r, _)| *r == k).count();
            let expected = usize::from(!matches!(k, Kind::Mixed | Kind::Unrecognized));
            assert_eq!(rows, expected, "{k}");
        }
    }

    #[test]
    fn prose_that_names_services_is_not_cmdlet_output() {
        // Synthetic, after a ticket excerpt quoted in issue 12.
        let notes = "Services Not Running: MSExchangePOP3, MSExchangeIMAP4 and the pla service.\n\
                     The Microsoft Exchange Emergency Mitigation Service was restarted by the customer.\n";
        assert_eq!(sniff_text(notes), Kind::Unrecognized);
        assert_eq!(
            sniff_text(
                "Status   Name               DisplayName\n------   ----               -----------\nRunning  MSExchangeMitig... Microsoft Exchange Emergency Mitigati...\n"
            ),
            Kind::ServiceStatus
        );
    }

    #[test]
    fn bare_version() {
        assert_eq!(sniff_text("15.02.1118.026\n"), Kind::ExsetupVersion);
        assert_eq!(sniff_text("1.2.3.4\n"), Kind::Unrecognized);
    }
}
