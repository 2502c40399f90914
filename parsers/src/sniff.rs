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
}

/// Split a console paste on prompt lines. A file without prompts is one
/// segment. Blank-only pieces are dropped.
pub fn split_segments(text: &str) -> Vec<RawSegment<'_>> {
    let mut out = Vec::new();
    let mut start = 0usize; // byte offset of the current segment
    let mut start_line = 1usize;
    let mut command: Option<String> = None;
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
                command.take(),
                prompt_line,
            );
            command = Some(cmd.to_owned()).filter(|c| !c.is_empty());
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
        command,
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
    command: Option<String>,
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
    });
}

/// If `line` is a shell prompt, the command typed after it.
/// Recognises `[PS] C:\Windows\system32>cmd`, `PS C:\Users\x> cmd`, `C:\>cmd`.
pub fn prompt_command(line: &str) -> Option<&str> {
    let l = line.trim_end_matches('\r');
    let rest = l
        .strip_prefix("[PS] ")
        .or_else(|| l.strip_prefix("PS "))
        .unwrap_or(l);
    let b = rest.as_bytes();
    // Drive letter, colon, backslash.
    if b.len() < 4 || !b[0].is_ascii_alphabetic() || b[1] != b':' || b[2] != b'\\' {
        return None;
    }
    let gt = rest.find('>')?;
    let path = rest.get(3..gt)?;
    // A path has no characters that a prompt never shows; data lines like
    // `C:\Program Files\...\ExSetup.exe` have no `>` at all.
    if path.contains(['<', '|', '"', '\t']) {
        return None;
    }
    Some(rest.get(gt + 1..).unwrap_or("").trim())
}

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

/// Lines with their label (text before the first ` : `/`:`), lower-cased and
/// whitespace-trimmed, for Format-List style detection.
fn fl_labels(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let (label, _) = l.split_once(':')?;
            let label = label.trim();
            (!label.is_empty()
                && !l.starts_with([' ', '\t'])
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-'))
            .then(|| label.to_ascii_lowercase())
        })
        .collect()
}

fn has_line_starting(text: &str, prefix: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with(prefix))
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Content-only recognition. Order matters: the most specific structures
/// first, because an event message quotes log text and a log quotes URLs.
pub fn sniff_text(text: &str) -> Kind {
    let head: &str = match text.char_indices().nth(64 * 1024) {
        Some((i, _)) => text.get(..i).unwrap_or(text),
        None => text,
    };
    let trimmed = head.trim_start();

    if trimmed.starts_with('{')
        && head.contains("\"items\"")
        && (head.contains("\"tool_version\"") || head.contains("\"collected_at\""))
    {
        return Kind::EvidenceManifest;
    }
    if crate::probe_results::looks_like_probe_results(head) {
        return Kind::ProbeResults;
    }
    if is_event_export(head) {
        return Kind::EventExport;
    }
    if is_mitigation_log(head) {
        return Kind::MitigationLog;
    }
    if contains_ci(head, "advanced proxy settings")
        || contains_ci(head, "erweiterte WinHTTP")
        || head.contains("\"ProxyIsEnabled\"")
        || head.contains("\"AutoDetect\"")
        || head.contains("\"PerUserProxySettings\"")
        || head.contains("\"ProxyBypass\"")
        || (trimmed.starts_with('{') && head.contains("\"Proxy\""))
        || has_line_starting(head, "ProxyBypass")
        || contains_ci(head, "winhttp show advproxy")
        || (trimmed.starts_with('{') && trimmed.trim_end().ends_with('}') && trimmed.len() < 8)
    {
        return Kind::NetshWinhttpAdvproxy;
    }
    if contains_ci(head, "WinHTTP proxy settings")
        || contains_ci(head, "WinHTTP-Proxyeinstellungen")
        || contains_ci(head, "Direct access (no proxy server)")
        || contains_ci(head, "Direkter Zugriff (kein Proxyserver)")
        || has_line_starting(head, "Proxy Server(s)")
    {
        return Kind::NetshWinhttpProxy;
    }
    if contains_ci(head, "WinHttpSettings") {
        return Kind::WinhttpRegistry;
    }
    if head.contains("Windows Registry Editor")
        || head.contains("REGEDIT4")
        || (has_line_starting(head, "HKEY_") || has_line_starting(head, "[HKEY_"))
            && (head.contains("    REG_") || head.contains("=dword:") || head.contains("=\""))
        || contains_ci(head, "unable to find the specified registry key")
    {
        return Kind::RegistryValues;
    }
    if contains_ci(head, "Exchange Emergency Mitigation Service:")
        || has_line_starting(head, "Pattern service:")
    {
        return Kind::Healthchecker;
    }
    if head.lines().any(|l| {
        let l = l.trim_start().to_ascii_lowercase();
        l.starts_with("result: success") || l.starts_with("result: failed")
    }) || contains_ci(head, "Mitigation Service endpoint")
    {
        return Kind::ConnectivityTest;
    }
    let labels = fl_labels(head);
    let has = |name: &str| labels.iter().any(|l| l == name);
    if contains_ci(head, "Connection with Mitigation Endpoint") || has("mitigation id") {
        return Kind::GetMitigations;
    }
    if contains_ci(head, "MSExchangeMitig")
        || has_line_starting(head, "SERVICE_NAME:")
        || contains_ci(head, "Emergency Mitigation Service")
    {
        return Kind::ServiceStatus;
    }
    if has("admindisplayversion")
        || has("mitigationsapplied")
        || has("mitigationsblocked")
        || has("internetwebproxy")
        || ((has("name") || has("identity")) && has("mitigationsenabled"))
    {
        return Kind::ExchangeServer;
    }
    if has("mitigationsenabled") {
        return Kind::OrganizationConfig;
    }
    if has("fileversion")
        || has("productversion")
        || head.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("ProductVersion") && l.contains("FileVersion")
        })
        || is_bare_version(head)
    {
        return Kind::ExsetupVersion;
    }
    Kind::Unrecognized
}

fn is_event_export(head: &str) -> bool {
    head.contains("<Event xmlns")
        || head.contains("<Event>")
        || head.contains("<Events>")
        || head.lines().any(|l| {
            let l = l.trim_start();
            (l.starts_with("Event[") && l.trim_end().ends_with("]:"))
                || l.starts_with("Log Name:")
                || l.starts_with("Protokollname:")
                || l.starts_with("Level,Date and Time,Source,Event ID")
                || l.starts_with("Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID")
                || l.starts_with("Level\tDate and Time\tSource\tEvent ID")
                || (l.starts_with('"') && l.contains("\"TimeCreated\"") && l.contains("\"Id\""))
                || l.starts_with("ProviderName ")
                || l.starts_with("ProviderName:")
                || l.starts_with("InstanceId ")
                || l.starts_with("Event ID:")
                || l.starts_with("Ereignis-ID:")
        })
        || (contains_ci(head, "MSExchange Mitigation Service")
            && (head.contains("1008") || head.contains("Event ID")))
        || (contains_ci(head, "M.E.Mitigation.Service") && head.contains("4999"))
        || contains_ci(
            head,
            "An unexpected exception occurred. Diagnostic information",
        )
}

fn is_mitigation_log(head: &str) -> bool {
    head.contains("#Log-type: Mitigation")
        || head.contains("#Software: Microsoft Exchange")
        || head.contains("S:LogLevel=")
        || head.contains("S_LogLevel=")
        || head.contains("S:Message=")
        || head.lines().any(|l| {
            let l = l.trim_start_matches('\u{feff}');
            l.starts_with("DateTime,") && l.contains("CustomData")
        })
}

fn is_bare_version(head: &str) -> bool {
    let lines: Vec<&str> = head
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let [only] = lines.as_slice() else {
        return false;
    };
    let v = only.strip_prefix("Version ").unwrap_or(only);
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts
            .first()
            .is_some_and(|p| p.trim_start_matches('0') == "15")
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
    fn bare_version() {
        assert_eq!(sniff_text("15.02.1118.026\n"), Kind::ExsetupVersion);
        assert_eq!(sniff_text("1.2.3.4\n"), Kind::Unrecognized);
    }
}
