use crate::builds::{Verdict, judge};
use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct BuildUnknown;

static META: CheckMeta = CheckMeta {
    id: CheckId::BuildUnknown,
    area: "build",
    title: "The installed build is known precisely enough to apply the March 2023 rule",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 270,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

fn exsetup_step(ev: &ServerEvidence) -> Step {
    Step::cmd(
        "Read the exact build (CU and SU) from ExSetup.exe on the server:",
        format!(
            "Invoke-Command -ComputerName {} {{ (Get-Command ExSetup.exe).FileVersionInfo | Format-List FileVersion }}",
            ev.server_or_placeholder()
        ),
    )
}

impl Check for BuildUnknown {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some(b) = &ev.build else {
            // No build at all is worth saying only when there is other evidence about the server.
            // Live probe results alone say nothing about the build: that is
            // the network view, not a gap worth a warning.
            if ev.inputs.iter().all(|i| {
                i.kind == eems_parsers::Kind::ProbeResults
                    || i.status == eems_parsers::Status::Unrecognized
            }) {
                return Outcome::Skip(
                    "no evidence about this server's build (only live probe results)".into(),
                );
            }
            return Outcome::fail(
                finding(&META, Confidence::High, "The Exchange build is not known")
                    .detail("None of the inputs names the installed build, so eems-doctor cannot tell whether this server can trust the current OCS certificate (builds older than the March 2023 SU cannot).")
                    .step(exsetup_step(ev)),
            );
        };
        match judge(ctx.builds, b.value.version, b.value.precision) {
            Verdict::Undecidable { reason } => Outcome::fail(
                finding(&META, Confidence::High, "The build is known only to its CU: the installed Security Update decides")
                    .detail(format!(
                        "The exact build is needed: {reason}. AdminDisplayVersion (\"Version 15.x (Build n.m)\") shows the CU and never the SU. The ExSetup.exe file version (e.g. 15.02.1118.026) or the MitigationService log header `#Version` gives the exact build."
                    ))
                    .evidence([b.cite.to_evidence()])
                    .step(exsetup_step(ev)),
            ),
            _ => Outcome::Pass,
        }
    }
}
