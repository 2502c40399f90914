//! eems-checks: from parsed evidence to findings and a root-cause diagnosis.
//!
//! Flow: parsed inputs → [`collect`] (one [`evidence::ServerEvidence`] per
//! server) → every registered [`check::Check`] → findings → [`diagnosis`].

pub mod build;
pub mod builds;
pub mod check;
pub mod classify;
pub mod collect;
mod csvdata;
pub mod derived;
pub mod diagnosis;
pub mod docs;
pub mod evidence;
pub mod facts;
pub mod fetch;
pub mod finding;
pub mod flags;
pub mod id;
pub mod meta;
pub mod network;
pub mod probe;
pub mod proxy;
pub mod registry;
mod relative;
pub mod revocation;
pub mod service;
pub mod tls;

use check::{Context, Outcome};
use evidence::ServerEvidence;
use finding::Finding;
use id::CheckId;
use serde::Serialize;

/// How one check ended, without its findings or reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckOutcome {
    Pass,
    Fail,
    Skip,
    Error,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "pass",
            CheckOutcome::Fail => "fail",
            CheckOutcome::Skip => "skip",
            CheckOutcome::Error => "error",
        }
    }
}

/// How one check ended for one server.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: CheckId,
    pub outcome: CheckOutcome,
    /// Shared, not owned: most skip reasons are the same text for every
    /// server, and a 50,000-server listing keeps every server's checks (the
    /// binary interns them; issue 18 row 7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<std::sync::Arc<str>>,
}

/// Run every registered check. A check that panics ends as `error`; the
/// others still run. The derived facts are computed here unless `ctx`
/// already carries them.
pub fn run_checks(ev: &ServerEvidence, ctx: &Context<'_>) -> (Vec<CheckResult>, Vec<Finding>) {
    let derived;
    let ctx = &match ctx.derived {
        Some(_) => *ctx,
        None => {
            derived = derived::Derived::new(ev, ctx);
            ctx.with(&derived)
        }
    };
    let mut results = Vec::new();
    let mut findings = Vec::new();
    // EEMS does not run on an Edge Transport server (Health Checker skips
    // its EEMS section there too): nothing to check, nothing to fix.
    if let Some(edge) = ev.is_edge.as_ref().filter(|e| e.value) {
        let reason: std::sync::Arc<str> = format!(
            "an Edge Transport server ({}: {}): the Emergency Mitigation service does not run on Edge, so EEMS does not apply",
            edge.cite.source, edge.cite.excerpt
        )
        .into();
        for check in registry::all() {
            results.push(CheckResult {
                id: check.meta().id,
                outcome: CheckOutcome::Skip,
                reason: Some(reason.clone()),
            });
        }
        return (results, findings);
    }
    for check in registry::all() {
        let id = check.meta().id;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check.run(ev, ctx)))
            .unwrap_or_else(|_| {
                Outcome::Error("the check panicked (a bug: please report it)".into())
            });
        let (word, reason) = match outcome {
            // `None`: it passed on what its title says; the reports say so
            // (not stored per server: a 50,000-server listing keeps them all).
            Outcome::Pass => (
                CheckOutcome::Pass,
                check.pass_reason(ev, ctx).map(Into::into),
            ),
            Outcome::Fail(fs) => {
                let reason = fs.first().map(|f| f.title.as_str().into());
                findings.extend(fs);
                (CheckOutcome::Fail, reason)
            }
            Outcome::Skip(r) => (CheckOutcome::Skip, Some(r.into())),
            Outcome::Error(r) => (CheckOutcome::Error, Some(r.into())),
        };
        results.push(CheckResult {
            id,
            outcome: word,
            reason,
        });
    }
    (results, findings)
}
