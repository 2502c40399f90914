use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct OrgConfigUnreadable;

static META: CheckMeta = CheckMeta {
    id: CheckId::OrgConfigUnreadable,
    area: "meta",
    title: "The organization configuration can be read",
    severity: Severity::Warning,
    role: Role::Meta,
    priority: 980,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

const ORG_QUERY: &str = "Get-OrganizationConfig | Format-List MitigationsEnabled";

impl Check for OrgConfigUnreadable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let failures = &ev.org_config_unreadable;
        if failures.is_empty() {
            return match &ev.org_mitigations_enabled {
                Some(_) => Outcome::Pass,
                None => Outcome::Skip(format!(
                    "no attempt to read the organization configuration in the evidence: run `{ORG_QUERY}`"
                )),
            };
        }
        let what: Vec<&str> = failures.iter().map(|f| f.value.as_str()).collect();
        // Another input read it: the failure was that session's, and the
        // setting is known. Still worth saying: the same query fails there.
        let (confidence, title, detail) = match &ev.org_mitigations_enabled {
            Some(v) => (
                Confidence::Low,
                "One attempt to read the organization configuration failed; another input shows it"
                    .to_owned(),
                format!(
                    "{}. MitigationsEnabled = {} was read from {}, so the organization-level check still decides; the failing session (its account, its connection to Active Directory) is worth a look, since Health Checker and scheduled collection run there.",
                    what.join("; "),
                    v.value,
                    v.cite.source
                ),
            ),
            None => (
                Confidence::High,
                "The organization configuration could not be read".to_owned(),
                format!(
                    "{}. Without Get-OrganizationConfig, whether mitigations are enabled for the whole organization (MitigationsEnabled, which overrides every server) is unknown: mitigations-disabled-org cannot decide. The usual causes are an account without an Exchange role that can read it (View-Only Organization Management is enough), a shell without the Exchange snap-in or remote session, or no Active Directory connection from the server.",
                    what.join("; ")
                ),
            ),
        };
        Outcome::fail(
            finding(&META, confidence, title)
                .detail(detail)
                .evidence(failures.iter().map(|f| f.cite.to_evidence()))
                .step(Step::cmd(
                    "In the Exchange Management Shell, as an account with View-Only Organization Management or more, read it and note the error if it fails:",
                    ORG_QUERY,
                ))
                .step(Step::text(
                    "Add the output to the evidence and analyse again; collect runs the same query.",
                )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Cite, Fact};

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        OrgConfigUnreadable.run(ev, &Context::embedded(&b))
    }

    fn failed() -> Fact<String> {
        Fact::new(
            "Health Checker could not query the configuration".into(),
            Cite::new(
                "hc.txt",
                Some(41),
                "Exchange Emergency Mitigation Service: Failed to query config (Health Checker)",
            ),
        )
    }

    #[test]
    fn read_passes_and_no_attempt_skips() {
        assert!(
            matches!(run(&ServerEvidence::default()), Outcome::Skip(r) if r.contains("Get-OrganizationConfig"))
        );
        let ev = ServerEvidence {
            org_mitigations_enabled: Some(Fact::new(
                true,
                Cite::new("org.txt", Some(3), "MitigationsEnabled : True"),
            )),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
    }

    #[test]
    fn a_failed_query_is_a_finding_with_its_citation() {
        let mut ev = ServerEvidence {
            org_config_unreadable: vec![failed()],
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(f[0].confidence, Confidence::High);
        assert_eq!(
            f[0].title,
            "The organization configuration could not be read"
        );
        assert!(
            f[0].detail
                .contains("mitigations-disabled-org cannot decide")
        );
        assert_eq!(f[0].evidence[0].line, Some(41));
        // Read elsewhere: still said, with low confidence, naming where it was read.
        ev.org_mitigations_enabled = Some(Fact::new(
            false,
            Cite::new("org.txt", Some(3), "MitigationsEnabled : False"),
        ));
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(f[0].confidence, Confidence::Low);
        assert!(
            f[0].detail
                .contains("MitigationsEnabled = false was read from org.txt")
        );
    }
}
