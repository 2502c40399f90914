use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::facts::rfc3339;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use chrono::{DateTime, Utc};

pub struct EvidenceStale;

static META: CheckMeta = CheckMeta {
    id: CheckId::EvidenceStale,
    area: "meta",
    title: "The newest evidence is recent (within --max-age days of the collection, or of now)",
    // A diagnosis of old evidence describes the server as it was: the
    // status is no better than WARNING, however healthy it looked then.
    severity: Severity::Warning,
    role: Role::Meta,
    priority: 995,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

/// The time the evidence is judged against: the bundle's collection time,
/// else the caller's "now"; and what it is called in the report.
fn reference(ev: &ServerEvidence, ctx: &Context<'_>) -> Option<(DateTime<Utc>, &'static str)> {
    crate::facts::collected_at(ev)
        .map(|(t, _)| (t, "the collection time"))
        .or_else(|| ctx.now.map(|t| (t, "now")))
}

impl Check for EvidenceStale {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some((at, what)) = reference(ev, ctx) else {
            return Outcome::Skip(
                "no collection time and no current time to judge the age of the evidence against"
                    .into(),
            );
        };
        let Some(latest) = crate::facts::window(ev).latest else {
            return Outcome::Skip(
                "no timestamp in the evidence (the MitigationService log and the events carry them)"
                    .into(),
            );
        };
        let age = at - latest.time;
        if age.num_days() < i64::from(ctx.max_age_days) {
            return Outcome::Pass;
        }
        let days = age.num_days();
        Outcome::fail(
            finding(
                &META,
                Confidence::High,
                format!(
                    "The evidence is {days} days old: the newest timestamp is {}",
                    rfc3339(latest.time)
                ),
            )
            .detail(format!(
                "The newest timestamp in the evidence ({}) is {days} days before {what} ({}), more than the {} days allowed (--max-age). The report describes the server as it was then, not as it is: settings, builds and the service's fetches may have changed since.",
                rfc3339(latest.time),
                rfc3339(at),
                ctx.max_age_days
            ))
            .evidence([latest.cite])
            .step(Step::cmd(
                "Collect fresh evidence on the server, then analyse it again:",
                "eems-doctor collect",
            ))
            .step(Step::text(
                "Analysing an old case on purpose: raise the threshold with --max-age DAYS.",
            )),
        )
    }

    fn pass_reason(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Option<String> {
        let (at, what) = reference(ev, ctx)?;
        let latest = crate::facts::window(ev).latest?;
        Some(format!(
            "the newest timestamp ({}) is {} days before {what}, within {} days",
            rfc3339(latest.time),
            (at - latest.time).num_days(),
            ctx.max_age_days
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::BuildTable;
    use crate::evidence::{Cite, CollectionFact, Fact, LogTimeline};
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 2, d, 12, 0, 0).unwrap()
    }

    fn with_log(last: DateTime<Utc>) -> ServerEvidence {
        ServerEvidence {
            log: Some(LogTimeline {
                first_time: Some(day(1)),
                last_time: Some(last),
                ..LogTimeline::default()
            }),
            ..ServerEvidence::default()
        }
    }

    fn run(ev: &ServerEvidence, now: Option<DateTime<Utc>>, max: u32) -> Outcome {
        let b = BuildTable::embedded();
        let ctx = Context {
            now,
            max_age_days: max,
            ..Context::embedded(&b)
        };
        EvidenceStale.run(ev, &ctx)
    }

    #[test]
    fn old_evidence_fails_against_now() {
        let Outcome::Fail(f) = run(&with_log(day(2)), Some(day(20)), 7) else {
            panic!("expected a failure");
        };
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].title.contains("18 days old"), "{}", f[0].title);
        assert!(f[0].detail.contains("before now"), "{}", f[0].detail);
    }

    #[test]
    fn recent_evidence_passes_and_max_age_is_honoured() {
        assert_eq!(run(&with_log(day(15)), Some(day(20)), 7), Outcome::Pass);
        assert!(matches!(
            run(&with_log(day(15)), Some(day(20)), 3),
            Outcome::Fail(_)
        ));
        assert_eq!(run(&with_log(day(2)), Some(day(20)), 30), Outcome::Pass);
    }

    #[test]
    fn collection_time_beats_now() {
        let mut ev = with_log(day(2));
        ev.collection = Some(Fact::new(
            CollectionFact {
                collected_at: Some("2025-02-03T00:00:00Z".into()),
                ..CollectionFact::default()
            },
            Cite::new("manifest.json", None, "collected_at"),
        ));
        // Collected a day after the last log line: fresh, whatever "now" is.
        assert_eq!(run(&ev, Some(day(28)), 7), Outcome::Pass);
        ev.collection.as_mut().unwrap().value.collected_at = Some("2025-02-27T00:00:00Z".into());
        let Outcome::Fail(f) = run(&ev, None, 7) else {
            panic!("expected a failure");
        };
        assert!(
            f[0].detail.contains("the collection time"),
            "{}",
            f[0].detail
        );
    }

    #[test]
    fn skips_without_a_reference_or_a_timestamp() {
        assert!(matches!(run(&with_log(day(2)), None, 7), Outcome::Skip(_)));
        assert!(matches!(
            run(&ServerEvidence::default(), Some(day(20)), 7),
            Outcome::Skip(_)
        ));
    }
}
