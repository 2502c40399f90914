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
            text: text.into(),
            command: None,
        }
    }

    pub fn cmd(text: impl Into<String>, command: impl Into<String>) -> Self {
        Step {
            text: text.into(),
            command: Some(command.into()),
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
            title: title.into(),
            detail: String::new(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            docs: format!("docs/checks.md#{id}"),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
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
