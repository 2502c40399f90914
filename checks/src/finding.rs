//! What a check reports. Owned and serialisable: findings cross rayon
//! threads in fleet scans and are written per server.

use crate::id::CheckId;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Where a fact came from: a file, a line, a short excerpt. When the same
/// pattern repeats (an hourly error over 30 days), one citation carries the
/// count and the first/last time instead of thousands of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub source: String,
    pub line: Option<usize>,
    pub excerpt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// `3 times`, `1 time`: a count with its noun in the right number
/// (English: singular for exactly one), never `time(s)`.
pub fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Longest excerpt kept per citation; reports stay readable and bounded.
pub const MAX_EXCERPT_CHARS: usize = 240;
/// Most citations kept per finding.
pub const MAX_EVIDENCE: usize = 8;

impl Evidence {
    pub fn new(source: impl Into<String>, line: Option<usize>, excerpt: &str) -> Self {
        Evidence {
            source: source.into(),
            line,
            excerpt: clip(excerpt, MAX_EXCERPT_CHARS),
            count: None,
            first_seen: None,
            last_seen: None,
        }
    }
}

/// Shorten `s` to `max` characters on a char boundary, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

/// Longest unbroken run (a value: a URL, a name, a path) a finding's text
/// quotes whole; a longer one keeps its first [`KEPT_VALUE_CHARS`]
/// characters and says how many bytes it left out. Prose is never cut: its
/// words are short. Issue 18: a 100 MB InternetWebProxy value was copied
/// whole into the title, detail, explanation and fix of every report.
pub const MAX_VALUE_BYTES: usize = 1024;
pub const KEPT_VALUE_CHARS: usize = 200;

/// `s` with every whitespace-free run longer than [`MAX_VALUE_BYTES`] cut
/// to its first [`KEPT_VALUE_CHARS`] characters and `… N more bytes`.
/// Linear in `s`; `s` itself when nothing is that long.
pub fn bound_values(s: String) -> String {
    if s.len() <= MAX_VALUE_BYTES
        || !s
            .split(char::is_whitespace)
            .any(|w| w.len() > MAX_VALUE_BYTES)
    {
        return s;
    }
    let mut out = String::with_capacity(MAX_VALUE_BYTES * 2);
    let mut rest = s.as_str();
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        if word.len() > MAX_VALUE_BYTES {
            let cut = word
                .char_indices()
                .nth(KEPT_VALUE_CHARS)
                .map_or(word.len(), |(i, _)| i);
            out.push_str(&word[..cut]);
            out.push_str(&format!("… {} more bytes", word.len() - cut));
        } else {
            out.push_str(word);
        }
        let ws = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..ws]);
        rest = &tail[ws..];
    }
    out
}

/// One remediation step: what to do, and the command that does it (with the
/// server name filled in) when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub text: String,
    pub command: Option<String>,
}

impl Step {
    pub fn text(text: impl Into<String>) -> Self {
        Step {
            text: bound_values(text.into()),
            command: None,
        }
    }

    pub fn cmd(text: impl Into<String>, command: impl Into<String>) -> Self {
        Step {
            text: bound_values(text.into()),
            command: Some(bound_values(command.into())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: CheckId,
    pub severity: Severity,
    pub confidence: Confidence,
    pub title: String,
    pub detail: String,
    pub evidence: Vec<Evidence>,
    pub remediation: Vec<Step>,
    /// Anchor of the check's section in docs/checks.md (and `eems-doctor explain`).
    pub docs: String,
}

impl Finding {
    pub fn new(
        id: CheckId,
        severity: Severity,
        confidence: Confidence,
        title: impl Into<String>,
    ) -> Self {
        Finding {
            id,
            severity,
            confidence,
            title: bound_values(title.into()),
            detail: String::new(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            docs: format!("docs/checks.md#{id}"),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = bound_values(detail.into());
        self
    }

    pub fn evidence(mut self, e: impl IntoIterator<Item = Evidence>) -> Self {
        for item in e {
            if self.evidence.len() >= MAX_EVIDENCE {
                break;
            }
            if !self.evidence.contains(&item) {
                self.evidence.push(item);
            }
        }
        self
    }

    pub fn step(mut self, s: Step) -> Self {
        self.remediation.push(s);
        self
    }

    /// A check whose findings are not all equally severe (the meta's is the worst).
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_the_bytes_left_out() {
        let value = format!("http://proxy:8080/{}", "A".repeat(100_000));
        let s = bound_values(format!(
            "InternetWebProxy is {value}, so\tthe service  goes"
        ));
        let kept: String = value.chars().take(KEPT_VALUE_CHARS).collect();
        assert_eq!(
            s,
            format!(
                "InternetWebProxy is {kept}… {} more bytes so\tthe service  goes",
                value.len() + 1 - KEPT_VALUE_CHARS
            )
        );
        // Short words and prose pass unchanged, whitespace included.
        let prose = "word ".repeat(10_000);
        assert_eq!(bound_values(prose.clone()), prose);
        // Cut on a character boundary.
        let s = bound_values("é".repeat(2_000));
        assert!(s.starts_with(&"é".repeat(KEPT_VALUE_CHARS)) && s.ends_with("… 3600 more bytes"));
    }

    #[test]
    fn findings_and_steps_bound_their_values() {
        let v = "x".repeat(MAX_VALUE_BYTES + 1);
        let f = Finding::new(
            CheckId::ProxyInvalidScheme,
            Severity::Warning,
            Confidence::High,
            format!("bad {v}"),
        )
        .detail(v.clone())
        .step(Step::cmd(v.clone(), v.clone()));
        for s in [&f.title, &f.detail, &f.remediation[0].text] {
            assert!(s.len() < 300 && s.contains("more bytes"), "{s}");
        }
        assert!(
            f.remediation[0]
                .command
                .as_ref()
                .is_some_and(|c| c.len() < 300)
        );
    }
}
