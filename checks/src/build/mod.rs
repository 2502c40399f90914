//! Build level: is EEMS there at all, and can this build trust the current
//! OCS certificate (the January 2025 change)?

pub mod before_march_2023;
pub mod predates_eems;
pub mod unknown;

use crate::builds::{BuildRow, BuildTable, Version};
use crate::evidence::ServerEvidence;
use crate::finding::Step;

/// "Exchange Server 2019 CU12 Mar23SU (15.2.1118.26)" or the bare number.
pub fn describe(table: &BuildTable, v: Version) -> String {
    match table.nearest_at_or_below(v).or_else(|| table.cu_base(v)) {
        Some(r) if r.version == v => format!("{} {} ({v})", r.product, r.update),
        Some(r) => format!("{} {} or later ({v})", r.product, r.cu()),
        None => v.to_string(),
    }
}

/// Product family name for a build number.
pub fn product_of(table: &BuildTable, v: Version) -> Option<&BuildRow> {
    table.cu_base(v).or_else(|| {
        table
            .rows()
            .iter()
            .find(|r| (r.version.major, r.version.minor) == (v.major, v.minor))
    })
}

/// Upgrade steps naming the target build for this product.
pub fn upgrade_steps(table: &BuildTable, v: Version, ev: &ServerEvidence) -> Vec<Step> {
    let product = product_of(table, v).map(|r| r.product.clone());
    let target = product.as_deref().and_then(|p| table.latest_for(p));
    let mut steps = Vec::new();
    match target {
        Some(t) => steps.push(Step::text(format!(
            "Install the latest Cumulative Update and Security Update for {}: {} ({}, released {}){}. Exchange Server SE is the supported successor of 2016/2019.",
            t.product,
            t.update,
            t.version,
            t.released,
            if t.confidence == "verified" {
                ""
            } else {
                "; this newest build comes from secondary sources in the build table, check it against Microsoft's build list"
            }
        ))),
        None => steps.push(Step::text(
            "Install the latest Cumulative Update and Security Update for this Exchange version.",
        )),
    }
    steps.push(Step::cmd(
        "After the update, confirm the installed build (ExSetup file version):",
        format!(
            "Invoke-Command -ComputerName {} {{ (Get-Command ExSetup.exe).FileVersionInfo.FileVersion }}",
            ev.server_or_placeholder()
        ),
    ));
    steps
}
