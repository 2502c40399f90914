use crate::builds::{BuildTable, Precision, Version};
use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::flags::canonical_id;
use crate::id::CheckId;

pub struct MitigationObsolete;

static META: CheckMeta = CheckMeta {
    id: CheckId::MitigationObsolete,
    area: "flags",
    title: "No applied mitigation is already fixed by the installed build",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 250,
    stage: None,
    explains: &[],
    fix: Fix::None,
    needs_probes: false,
};

/// Mitigations and the SU that fixes the vulnerability behind them (by the
/// SU name in the build table), with the rollback the docs give. M1
/// (CVE-2022-41040) is "applicable up to the October 2022 SU": the fix
/// shipped in the November 2022 SU (CSS-Exchange EOMTv2 thresholds
/// 15.1.2507.16, 15.1.2375.37, 15.2.1118.20, 15.2.986.36), so an Oct22SU
/// build still needs it.
const FIXED_BY: &[(&str, &str, &str, &str)] = &[(
    "M1",
    "Nov22SU",
    "2022-11-08",
    "EEMS M1.1 PowerShell - inbound",
)];

/// Whether `v` includes the SU named `su` (released `released`): either the
/// line has that SU and `v` is at or above it, or the whole line is newer.
fn includes_fix(
    table: &BuildTable,
    v: Version,
    precision: Precision,
    su: &str,
    released: &str,
) -> Option<bool> {
    let base = table.cu_base(v)?;
    if base.released.as_str() > released {
        return Some(true);
    }
    let fix = table
        .rows()
        .iter()
        .find(|r| r.version.line() == v.line() && r.update.contains(su));
    match (fix, precision) {
        (None, _) => Some(false),
        (Some(_), Precision::Cu) => None,
        (Some(f), Precision::Exact) => Some(v.revision >= f.version.revision),
    }
}

impl Check for MitigationObsolete {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let Some(applied) = &ev.mitigations_applied else {
            return Outcome::Skip("no MitigationsApplied value: run `Get-ExchangeServer <name> | Format-List MitigationsApplied`".into());
        };
        let Some(b) = &ev.build else {
            return Outcome::Skip("no build evidence to compare applied mitigations with".into());
        };
        let mut findings = Vec::new();
        // One finding per mitigation, however often a (broken) list repeats it.
        let mut seen: Vec<&str> = Vec::new();
        for raw in &applied.value {
            let id = canonical_id(raw);
            let Some((m, su, released, rule)) = FIXED_BY.iter().find(|(m, ..)| *m == id) else {
                continue;
            };
            if seen.contains(m) {
                continue;
            }
            seen.push(m);
            let Some(true) =
                includes_fix(ctx.builds, b.value.version, b.value.precision, su, released)
            else {
                continue;
            };
            findings.push(
                finding(&META, Confidence::High, format!("Mitigation {raw} is still applied although the installed build fixes it"))
                    .detail(format!(
                        "{raw} ({id}) is a temporary mitigation until the {su} Security Update; build {} includes that fix. A mitigation left in place keeps its side effects (URL Rewrite rule `{rule}`) for no benefit.",
                        b.value.version
                    ))
                    .evidence([applied.cite.to_evidence(), b.cite.to_evidence()])
                    .step(Step::text(format!("In IIS Manager, Default Web Site → URL Rewrite, remove the rule `{rule}` (or run the command below on the server).")))
                    .step(Step::cmd(
                        "Remove the rewrite rule with PowerShell (WebAdministration module):",
                        format!("Remove-WebConfigurationProperty -PSPath 'IIS:\\Sites\\Default Web Site' -Filter 'system.webServer/rewrite/rules' -Name '.' -AtElement @{{name='{rule}'}}"),
                    )),
            );
        }
        if findings.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(findings)
        }
    }
}
