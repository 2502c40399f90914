use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct MitigationApplyFailed;

static META: CheckMeta = CheckMeta {
    id: CheckId::MitigationApplyFailed,
    area: "flags",
    title: "Fetched mitigations are applied",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 245,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for MitigationApplyFailed {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let failed: Vec<_> = ev
            .mitigation_statuses
            .iter()
            .filter(|s| s.value.status.to_ascii_lowercase().contains("fail"))
            .collect();
        let logged = &ev.mitigation_apply_errors;
        if failed.is_empty() && logged.is_empty() {
            if ev.mitigation_statuses.is_empty() && ev.log.is_none() {
                return Outcome::Skip("no Get-Mitigations.ps1 output or MitigationService log: run `& $exscripts\\Get-Mitigations.ps1` and copy the log folder".into());
            }
            return Outcome::Pass;
        }
        let server = ev.server_or_placeholder();
        let ids: Vec<String> = failed
            .iter()
            .map(|s| super::canonical_id(&s.value.id))
            .collect();
        let title = if ids.is_empty() {
            format!(
                "The mitigation service logs {} applying a mitigation",
                crate::finding::counted(logged.len() as u64, "failure", "failures")
            )
        } else {
            format!(
                "Get-Mitigations.ps1 shows {} as failed to apply",
                ids.join(", ")
            )
        };
        let mut why = Vec::new();
        if !failed.is_empty() {
            why.push(format!(
                "Get-Mitigations.ps1 lists {}",
                failed
                    .iter()
                    .map(|s| format!("{} with status {}", s.value.id, s.value.status))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(first) = logged.first() {
            why.push(format!(
                "the MitigationService log has {}, the first: \"{}\"",
                crate::finding::counted(
                    logged.len() as u64,
                    "distinct ApplyMitigation error",
                    "distinct ApplyMitigation errors"
                ),
                first.value
            ));
        }
        let block_id = ids.first().cloned().unwrap_or_else(|| "<id>".to_owned());
        Outcome::fail(
            finding(&META, if failed.is_empty() { Confidence::Medium } else { Confidence::High }, title)
                .detail(format!(
                    "{}. The fetch worked, but the mitigation is not in place: the server stays exposed to what it mitigates. An IIS URL Rewrite mitigation needs the IIS URL Rewrite Module (and KB2999226 on Windows Server 2012/2012 R2); a service or app-pool mitigation needs that service or pool to exist.",
                    why.join("; ")
                ))
                .evidence(
                    failed
                        .iter()
                        .map(|s| s.cite.to_evidence())
                        .chain(logged.iter().map(|f| f.cite.to_evidence())),
                )
                .step(Step::cmd("See each mitigation's status and description:", format!("& $exscripts\\Get-Mitigations.ps1 -Identity {server}")))
                .step(Step::text("Fix the prerequisite the error names (install the IIS URL Rewrite Module for rewrite mitigations; KB2999226 on Windows Server 2012/2012 R2)."))
                .step(Step::cmd("Re-apply: restart the service; it checks and applies about 10 minutes later, then run Get-Mitigations.ps1 again:", "Restart-Service MSExchangeMitigation"))
                .step(Step::cmd(
                    "Or, if the mitigation must stay off on this server, block it (and roll back what it left behind, as the EEMS documentation's rollback steps describe: a rewrite rule at server level is removed from applicationHost.config by hand):",
                    format!("Set-ExchangeServer -Identity {server} -MitigationsBlocked @{{Add=\"{block_id}\"}}"),
                )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Cite, Fact, LogTimeline, MitigationStatus};

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        MitigationApplyFailed.run(ev, &Context::embedded(&b))
    }

    fn status(id: &str, s: &str) -> Fact<MitigationStatus> {
        Fact::new(
            MitigationStatus {
                id: id.into(),
                status: s.into(),
            },
            Cite::new(
                "get-mitigations.txt",
                Some(4),
                format!("Mitigation Id : {id}; Status : {s}"),
            ),
        )
    }

    #[test]
    fn nothing_read_skips_and_applied_passes() {
        assert!(
            matches!(run(&ServerEvidence::default()), Outcome::Skip(r) if r.contains("Get-Mitigations.ps1"))
        );
        let ev = ServerEvidence {
            mitigation_statuses: vec![status("PING1", "Applied"), status("M2.1", "Blocked")],
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        let ev = ServerEvidence {
            log: Some(LogTimeline::default()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
    }

    #[test]
    fn failed_status_names_the_mitigation_and_the_steps() {
        let ev = ServerEvidence {
            server: Some("EX01".into()),
            mitigation_statuses: vec![status("PING1", "Applied"), status("M01.1", "Failed")],
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(
            f[0].title,
            "Get-Mitigations.ps1 shows M1 as failed to apply"
        );
        assert_eq!(f[0].confidence, Confidence::High);
        assert!(f[0].detail.contains("M01.1 with status Failed"));
        assert_eq!(f[0].evidence.len(), 1);
        let steps = format!("{:?}", f[0].remediation);
        assert!(
            steps.contains("Restart-Service MSExchangeMitigation"),
            "{steps}"
        );
        assert!(
            steps.contains(r#"-MitigationsBlocked @{Add=\"M1\"}"#),
            "{steps}"
        );
    }

    #[test]
    fn logged_apply_errors_alone_are_medium() {
        let ev = ServerEvidence {
            mitigation_apply_errors: vec![Fact::new(
                "Failed to apply mitigation M2.1".into(),
                Cite::new(
                    "MitigationService.LOG",
                    Some(12),
                    "Failed to apply mitigation M2.1",
                ),
            )],
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(f[0].confidence, Confidence::Medium);
        assert!(f[0].title.contains("logs 1 failure"));
        assert_eq!(f[0].evidence[0].line, Some(12));
    }
}
