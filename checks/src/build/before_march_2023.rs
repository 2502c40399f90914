use crate::build::{describe, upgrade_steps};
use crate::builds::{Verdict, judge};
use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity};
use crate::id::CheckId;

pub struct BuildBeforeMarch2023;

static META: CheckMeta = CheckMeta {
    id: CheckId::BuildBeforeMarch2023,
    area: "build",
    title: "The build can trust the current OCS certificate (March 2023 SU or later)",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 20,
    stage: None,
    explains: &[CheckId::TlsValidationFailed],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for BuildBeforeMarch2023 {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Option<String> {
        let b = ev.build.as_ref()?;
        let what = match judge(ctx.builds, b.value.version, b.value.precision) {
            Verdict::PredatesEems => format!(
                "build {} predates EEMS (see build-predates-eems)",
                b.value.version
            ),
            _ => format!(
                "build {} is at or above the March 2023 SU of its line",
                b.value.version
            ),
        };
        Some(crate::check::seen(what, &b.cite))
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some(b) = &ev.build else {
            return Outcome::Skip("no build evidence: run `(Get-Command ExSetup.exe).FileVersionInfo | fl FileVersion`".into());
        };
        let v = b.value.version;
        let line_can_qualify = match judge(ctx.builds, v, b.value.precision) {
            Verdict::TooOld { line_can_qualify } => line_can_qualify,
            Verdict::Undecidable { reason } => {
                return Outcome::Skip(format!("{reason}: see build-unknown"));
            }
            Verdict::PredatesEems | Verdict::Qualifies { .. } => return Outcome::Pass,
        };
        let mar23 = ctx.builds.mar23_su(v);
        let why_line = if line_can_qualify {
            format!(
                "Its CU line qualifies from the March 2023 Security Update ({}) on.",
                mar23.map_or_else(|| "unknown build".to_owned(), |r| r.version.to_string())
            )
        } else {
            "Its CU line never received the March 2023 Security Update, so no patch level of this CU qualifies: a newer CU is required.".to_owned()
        };
        let mut symptom = ev.cause_evidence(crate::classify::Cause::UntrustedEndpoint);
        // Get-Mitigations.ps1 prints this warning for the same reason (Exchange Team Blog, Jan 2025).
        symptom.extend(ev.get_mitigations_warning.iter().map(|c| c.to_evidence()));
        let confidence = Confidence::High;
        let mut f = finding(&META, confidence, "The build is older than the March 2023 Security Update: EEMS cannot trust the current OCS certificate")
            .detail(format!(
                "{} is older than March 2023. Since the January 2025 OCS certificate change, EEMS on such builds cannot validate the Office Config Service and logs \"Connection attempted against untrusted endpoint\" every hour. {} Microsoft states the boundary loosely (\"newer than March 2023\"); eems-doctor treats the March 2023 SU itself as qualifying.{}",
                describe(ctx.builds, v),
                why_line,
                if symptom.is_empty() { "" } else { " The service log shows the symptom." }
            ))
            .evidence([b.cite.to_evidence()])
            .evidence(symptom);
        for s in upgrade_steps(ctx.builds, v, ev) {
            f = f.step(s);
        }
        Outcome::fail(f)
    }
}
