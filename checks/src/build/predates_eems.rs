use crate::build::{describe, upgrade_steps};
use crate::builds::{Verdict, judge};
use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity};
use crate::id::CheckId;

pub struct BuildPredatesEems;

static META: CheckMeta = CheckMeta {
    id: CheckId::BuildPredatesEems,
    area: "build",
    title: "The build has the Emergency Mitigation service",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 10,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for BuildPredatesEems {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        let b = ev.build.as_ref()?;
        Some(crate::check::seen(
            format_args!(
                "build {} has the service (2016 CU22+, 2019 CU11+ or SE)",
                b.value.version
            ),
            &b.cite,
        ))
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some(b) = &ev.build else {
            return Outcome::Skip("no build evidence: run `Get-ExchangeServer | fl AdminDisplayVersion` or `(Get-Command ExSetup.exe).FileVersionInfo`".into());
        };
        if judge(ctx.builds, b.value.version, b.value.precision) != Verdict::PredatesEems {
            return Outcome::Pass;
        }
        let v = b.value.version;
        let mut f = finding(&META, Confidence::High, "This Exchange build has no Emergency Mitigation service")
            .detail(format!(
                "{} predates EEMS, which shipped with Exchange 2016 CU22 and Exchange 2019 CU11 (September 2021). No mitigation can ever be fetched or applied on this server, and the build no longer receives security updates.",
                describe(ctx.builds, v)
            ))
            .evidence([b.cite.to_evidence()]);
        for s in upgrade_steps(ctx.builds, v, ev) {
            f = f.step(s);
        }
        Outcome::fail(f)
    }
}
