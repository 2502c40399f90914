use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Evidence, Severity, Step};
use crate::id::CheckId;

pub struct FetchStale;

static META: CheckMeta = CheckMeta {
    id: CheckId::FetchStale,
    area: "fetch",
    title: "A fetch succeeded in the last 24 hours of evidence, and the hourly runs happen",
    severity: Severity::Warning,
    role: Role::Symptom,
    priority: 930,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

/// Runs are hourly; allow one missed run before calling it a gap.
const GAP_MINUTES: i64 = 150;

impl Check for FetchStale {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let log = ev.log.as_ref()?;
        let (s, end) = (log.last_success?, log.last_time?);
        Some(format!(
            "the last successful fetch ({}) is within 24 hours of the end of the log ({}), with no gap of more than {} minutes between runs",
            crate::facts::rfc3339(s),
            crate::facts::rfc3339(end),
            GAP_MINUTES
        ))
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(log) = &ev.log else {
            return Outcome::Skip(
                "no MitigationService log: copy <ExchangeInstallPath>\\Logging\\MitigationService"
                    .into(),
            );
        };
        let Some(end) = log.last_time else {
            return Outcome::Skip("the log has no readable timestamps".into());
        };
        if log.fetch_attempts == 0 {
            return Outcome::Skip("the log records no fetch attempt".into());
        }
        let mut problems = Vec::new();
        match log.last_success {
            None => problems.push(format!(
                "none of the {} fetch attempts in the log succeeded",
                log.fetch_attempts
            )),
            Some(s) if (end - s).num_hours() >= 24 => problems.push(format!(
                "the last successful fetch was {} ({} hours before the end of the log)",
                s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                (end - s).num_hours()
            )),
            Some(_) => {}
        }
        if let (Some(gap), Some(gap_end)) = (log.longest_gap_minutes, log.longest_gap_end)
            && gap > GAP_MINUTES
        {
            problems.push(format!(
                "no fetch ran for {} hours before {}",
                gap / 60,
                gap_end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        if problems.is_empty() {
            return Outcome::Pass;
        }
        let span = log.first_time.map(|f| (end - f).num_hours()).unwrap_or(0);
        let mut e = Evidence::new(
            "MitigationService log",
            None,
            &format!(
                "{} rows, {} fetch attempts, {} successful, {} to {}",
                log.rows,
                log.fetch_attempts,
                log.fetch_successes,
                log.first_time
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default(),
                end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        );
        if let Some(v) = &log.software_version {
            e.source = v.cite.source.clone();
        }
        Outcome::fail(
            finding(&META, if span >= 24 && !log.local_times { Confidence::Medium } else { Confidence::Low }, "Mitigations are stale: no recent successful fetch")
                .detail(format!(
                    "{}. Without a successful fetch the server does not learn about new emergency mitigations.{}",
                    problems.join("; "),
                    if span < 24 { " The log covers less than a day, so this is a short window." } else { "" }
                ))
                .evidence([e])
                .step(Step::text("Fix the failure cause named by the other findings; the next hourly run (or a service restart, first run ~10 minutes later) then fetches again."))
                .step(Step::cmd("Restart the service to trigger a fetch:", "Restart-Service MSExchangeMitigation")),
        )
    }
}
