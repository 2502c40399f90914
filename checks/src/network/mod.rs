//! Reaching OCS: DNS, TCP, HTTP. Decided from the service's own log and
//! events today; live probes (`eems-doctor probe`) add direct evidence.

pub mod dns_failure;
pub mod http_error;
pub mod unreachable;

use crate::check::{CheckMeta, Outcome, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Step};

/// A check whose failure is a cause seen in the service's log or events.
/// Passes when logs/events exist without it; skips when there are none.
pub fn from_causes(
    meta: &'static CheckMeta,
    ev: &ServerEvidence,
    causes: &[Cause],
    title: &str,
    detail: &str,
    steps: Vec<Step>,
) -> Outcome {
    let evidence: Vec<_> = causes.iter().flat_map(|c| ev.cause_evidence(*c)).collect();
    if evidence.is_empty() {
        if ev.events_seen == 0 && ev.log.is_none() {
            return Outcome::Skip(
                "no MitigationService log or mitigation events to read the service's failures from"
                    .into(),
            );
        }
        return Outcome::Pass;
    }
    let mut f = finding(meta, Confidence::High, title)
        .detail(detail)
        .evidence(evidence);
    for s in steps {
        f = f.step(s);
    }
    Outcome::fail(f)
}

/// Skip text for checks that only live probes can decide.
pub fn needs_probe(what: &str) -> Outcome {
    Outcome::Skip(format!(
        "needs live probes ({what}): run `eems-doctor probe` on the server"
    ))
}
