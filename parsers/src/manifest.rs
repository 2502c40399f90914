//! `manifest.json`, written by `eems-doctor collect` beside the outputs it
//! collected: which host, when, and how each collection item ended.

use crate::problem::{Parsed, Problem};
use crate::text::Source;
use serde::{Deserialize, Serialize};

/// The fields analysis needs; unknown fields are ignored (older and newer
/// `collect` versions write more or fewer).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvidenceManifest {
    #[serde(default)]
    pub tool_version: Option<String>,
    /// The host `collect` ran on: the server every unnamed output belongs to.
    #[serde(default)]
    pub host: Option<String>,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub collected_at: Option<String>,
    #[serde(default)]
    pub redacted: Option<bool>,
    #[serde(default)]
    pub items: Vec<ManifestItem>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ManifestItem {
    pub name: String,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The file in the bundle, when one was written.
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

impl EvidenceManifest {
    /// Items that ended with an error (tool missing, non-zero exit, no output).
    pub fn failed_items(&self) -> impl Iterator<Item = &ManifestItem> {
        self.items.iter().filter(|i| i.error.is_some())
    }
}

/// The sniffer's recognizer.
pub fn looks_like_manifest(head: &str) -> bool {
    head.trim_start().starts_with('{')
        && head.contains("\"items\"")
        && (head.contains("\"tool_version\"") || head.contains("\"collected_at\""))
}

pub fn parse(src: Source<'_>) -> Parsed<EvidenceManifest> {
    match serde_json::from_str::<EvidenceManifest>(src.text.trim_start_matches('\u{feff}')) {
        Ok(m) => Parsed::with_problems(m, Vec::new()),
        Err(e) => Parsed::with_problems(
            EvidenceManifest::default(),
            vec![Problem::at(
                src.first_line + e.line().saturating_sub(1),
                format!("manifest.json is not valid: {e}"),
            )],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_time_and_failed_items() {
        let text = r#"{"tool_version":"0.1.0","host":"EX04","collected_at":"2026-12-07T10:00:00Z","redacted":false,"os":"windows","exchange_path":null,"since_days":30,
          "items":[{"name":"netsh-proxy","command":"netsh winhttp show proxy","exit_code":0,"duration_ms":5,"output":"netsh-winhttp-show-proxy.txt","error":null},
                   {"name":"events","command":"wevtutil …","exit_code":null,"duration_ms":0,"output":null,"error":"wevtutil not found"}]}"#;
        let p = parse(Source {
            text,
            first_line: 1,
        });
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.host.as_deref(), Some("EX04"));
        assert_eq!(
            p.value.collected_at.as_deref(),
            Some("2026-12-07T10:00:00Z")
        );
        let failed: Vec<&str> = p.value.failed_items().map(|i| i.name.as_str()).collect();
        assert_eq!(failed, ["events"]);
        assert!(looks_like_manifest(text));
    }

    #[test]
    fn a_broken_manifest_is_a_problem_not_a_panic() {
        let p = parse(Source {
            text: "{\"items\": [",
            first_line: 1,
        });
        assert_eq!(p.problems.len(), 1);
        assert!(p.value.host.is_none());
    }
}
