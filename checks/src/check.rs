//! The check interface. One check per file under `checks/src/<area>/`, one
//! stable kebab-case id (also its finding id and its docs anchor), registered
//! in the explicit list in `registry.rs`.

use crate::builds::BuildTable;
use crate::evidence::ServerEvidence;
use crate::finding::{Finding, Severity};
use crate::id::CheckId;
use crate::tls::issuers::TlsIssuerTable;
use crate::tls::vendors::VendorTable;
use serde::Serialize;

/// A kind of evidence. A value read but not used because it looked mangled
/// says which one it was (`evidence::Untrusted`); the checks that read it
/// name it in their skip reason (`ServerEvidence::untrusted_note`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    Build,
    MitigationFlags,
    ExchangeProxy,
    WinHttp,
    Policy,
    Service,
    Log,
    Events,
    Probes,
}

/// Static description of a check.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckMeta {
    /// Its registry id; also the id of the finding it raises.
    pub id: CheckId,
    pub area: &'static str,
    pub title: &'static str,
    /// Severity of the finding when it fails.
    pub severity: Severity,
    /// True when only live probes can decide it (it skips without them,
    /// unless the service's own logs/events already show the failure).
    pub needs_probes: bool,
}

/// Shared, read-only inputs for every check. The tables are data files
/// (`checks/data/`); each can be replaced (`from_csv`) without rebuilding.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub builds: &'a BuildTable,
    /// The CAs Microsoft documents for its TLS endpoints.
    pub tls_issuers: &'a TlsIssuerTable,
    /// Issuer names of SSL-inspection products.
    pub vendors: &'a VendorTable,
}

impl<'a> Context<'a> {
    /// `builds` with the embedded issuer and vendor tables.
    pub fn embedded(builds: &'a BuildTable) -> Context<'a> {
        Context {
            builds,
            tls_issuers: TlsIssuerTable::embedded(),
            vendors: VendorTable::embedded(),
        }
    }
}

/// How a check ended for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(Vec<Finding>),
    /// Not enough evidence; the reason says what to collect.
    Skip(String),
    /// The check itself failed (a bug or an inconsistency); others go on.
    Error(String),
}

impl Outcome {
    pub fn fail(f: Finding) -> Self {
        Outcome::Fail(vec![f])
    }
}

pub trait Check: Send + Sync {
    fn meta(&self) -> &'static CheckMeta;
    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome;
}

/// A finding for `meta`'s id and severity.
pub fn finding(
    meta: &CheckMeta,
    confidence: crate::finding::Confidence,
    title: impl Into<String>,
) -> Finding {
    Finding::new(meta.id, meta.severity, confidence, title)
}
