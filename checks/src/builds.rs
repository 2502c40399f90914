//! The Exchange build table (data, not code: `checks/data/exchange-builds.csv`,
//! replaceable with `--builds FILE`) and the "newer than March 2023" rule of
//! the January 2025 OCS certificate change.

use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// The table shipped with eems-doctor.
pub const EMBEDDED_CSV: &str = include_str!("../data/exchange-builds.csv");

/// A four-part Exchange build number. `15.02.1118.026` and `15.2.1118.26` are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    pub revision: u32,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.trim().split('.').map(|p| p.trim().parse::<u32>().ok());
        let v = Version {
            major: it.next()??,
            minor: it.next()??,
            build: it.next()??,
            revision: it.next()??,
        };
        it.next().is_none().then_some(v)
    }

    /// The CU line: major.minor.build (every CU has its own third part).
    pub fn line(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.build)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.major, self.minor, self.build, self.revision
        )
    }
}

/// How much of a build number the evidence really gives. `AdminDisplayVersion`
/// (`Version 15.2 (Build 1118.7)`) shows the CU build and never the SU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    Exact,
    Cu,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildRow {
    pub product: String,
    /// `CU23`, `CU23 Mar23SU`, `RTM Aug25SU` …
    pub update: String,
    pub version: Version,
    pub released: String,
    /// `verified` or `secondary` (from secondary sources, unconfirmed).
    pub confidence: String,
}

impl BuildRow {
    /// The CU part of `update`: `CU23` for `CU23 Mar23SU`.
    pub fn cu(&self) -> &str {
        self.update
            .split_whitespace()
            .next()
            .unwrap_or(&self.update)
    }

    pub fn is_cu_base(&self) -> bool {
        !self.update.contains(' ')
    }
}

#[derive(Debug, Clone)]
pub struct BuildTable {
    rows: Vec<BuildRow>,
}

impl BuildTable {
    pub fn embedded() -> BuildTable {
        // The embedded table is tested; a broken edit fails `cargo test`, so
        // falling back to an empty table here can never ship.
        BuildTable::from_csv(EMBEDDED_CSV).unwrap_or(BuildTable { rows: Vec::new() })
    }

    /// Read `product,update,build,released,confidence` rows (header required).
    pub fn from_csv(text: &str) -> Result<BuildTable, String> {
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or("build table is empty")?;
        let cols: Vec<String> = header
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        let idx = |name: &str| {
            cols.iter()
                .position(|c| c == name)
                .ok_or_else(|| format!("build table header lacks the `{name}` column"))
        };
        let (ip, iu, ib, ir) = (
            idx("product")?,
            idx("update")?,
            idx("build")?,
            idx("released")?,
        );
        let ic = cols.iter().position(|c| c == "confidence");
        let mut rows = Vec::new();
        for (n, line) in lines {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let get = |i: usize| {
                f.get(i)
                    .copied()
                    .ok_or_else(|| format!("build table line {}: too few columns", n + 1))
            };
            let version = Version::parse(get(ib)?).ok_or_else(|| {
                format!(
                    "build table line {}: bad build `{}`",
                    n + 1,
                    get(ib).unwrap_or("")
                )
            })?;
            rows.push(BuildRow {
                product: get(ip)?.to_owned(),
                update: get(iu)?.to_owned(),
                version,
                released: get(ir)?.to_owned(),
                confidence: ic
                    .and_then(|i| f.get(i))
                    .map_or("verified", |v| v)
                    .to_owned(),
            });
        }
        if rows.is_empty() {
            return Err("build table has no rows".into());
        }
        rows.sort_by_key(|r| r.version);
        Ok(BuildTable { rows })
    }

    pub fn rows(&self) -> &[BuildRow] {
        &self.rows
    }

    pub fn exact(&self, v: Version) -> Option<&BuildRow> {
        self.rows.iter().find(|r| r.version == v)
    }

    fn line_rows(&self, v: Version) -> impl Iterator<Item = &BuildRow> {
        self.rows
            .iter()
            .filter(move |r| r.version.line() == v.line())
    }

    /// The CU base row of `v`'s line.
    pub fn cu_base(&self, v: Version) -> Option<&BuildRow> {
        self.line_rows(v)
            .find(|r| r.is_cu_base())
            .or_else(|| self.line_rows(v).next())
    }

    /// The highest known row at or below `v` on its line (the SU installed, as far as we know).
    pub fn nearest_at_or_below(&self, v: Version) -> Option<&BuildRow> {
        self.line_rows(v).filter(|r| r.version <= v).last()
    }

    /// The March 2023 SU of `v`'s line, if that line got one.
    pub fn mar23_su(&self, v: Version) -> Option<&BuildRow> {
        self.line_rows(v).find(|r| r.update.contains("Mar23SU"))
    }

    /// Newest build of the newest line of a product (`Exchange Server 2019`).
    pub fn latest_for(&self, product: &str) -> Option<&BuildRow> {
        self.rows
            .iter()
            .filter(|r| r.product == product)
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// Newest build of `v`'s own line.
    pub fn latest_on_line(&self, v: Version) -> Option<&BuildRow> {
        self.line_rows(v).last()
    }
}

/// EEMS shipped with the September 2021 CUs (2016 CU22, 2019 CU11). Lines
/// below them never had the service. Exchange 2013 (15.0) never had it.
fn predates_eems(v: Version) -> bool {
    match (v.major, v.minor) {
        (15, 0) => true,
        (15, 1) => v.build < 2375,
        (15, 2) => v.build < 986,
        _ => v.major < 15,
    }
}

/// CU lines released from April 2023 on (2019 CU13 = 1258, SE) qualify at any patch level.
fn line_released_after_march_2023(table: &BuildTable, v: Version) -> Option<bool> {
    table
        .cu_base(v)
        .map(|r| r.released.as_str() >= "2023-04-01")
}

/// What the build rule says about one server's build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// No EEMS on this build at all.
    PredatesEems,
    /// EEMS present; the build trusts the current OCS certificate.
    Qualifies { boundary: bool },
    /// EEMS present; too old for the current OCS certificate.
    TooOld { line_can_qualify: bool },
    /// Not decidable from the evidence (CU-only precision on a line where the SU decides, or an unknown line).
    Undecidable { reason: String },
}

/// Apply the rule from `domain.md`: a build qualifies when its CU line is
/// 2019 CU13+ or SE, or when it is at or above the March 2023 SU of its own
/// line. The March 2023 SU itself counts as qualifying (`boundary: true`:
/// Microsoft states the boundary loosely).
pub fn judge(table: &BuildTable, v: Version, precision: Precision) -> Verdict {
    if predates_eems(v) {
        return Verdict::PredatesEems;
    }
    let Some(after) = line_released_after_march_2023(table, v) else {
        // Unknown line: newer than every line we know of that product family → qualifies.
        let newest_known = table
            .rows()
            .iter()
            .filter(|r| (r.version.major, r.version.minor) == (v.major, v.minor))
            .map(|r| r.version.build)
            .max();
        return match newest_known {
            Some(b) if v.build > b => Verdict::Qualifies { boundary: false },
            _ => Verdict::Undecidable {
                reason: format!("build {v} is on a CU line the build table does not know"),
            },
        };
    };
    if after {
        return Verdict::Qualifies { boundary: false };
    }
    let Some(mar23) = table.mar23_su(v) else {
        // The line ended before March 2023 (2016 CU22): no patch level qualifies.
        return Verdict::TooOld {
            line_can_qualify: false,
        };
    };
    if precision == Precision::Cu {
        return Verdict::Undecidable {
            reason: format!(
                "only the CU is known ({}); the Security Update installed decides (needs {} or later)",
                v, mar23.version
            ),
        };
    }
    match v.revision.cmp(&mar23.version.revision) {
        Ordering::Less => Verdict::TooOld {
            line_can_qualify: true,
        },
        Ordering::Equal => Verdict::Qualifies { boundary: true },
        Ordering::Greater => Verdict::Qualifies { boundary: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn embedded_table_loads_with_confidence() {
        let t = BuildTable::from_csv(EMBEDDED_CSV).unwrap();
        assert!(t.rows().len() >= 100);
        assert!(t.rows().iter().any(|r| r.confidence == "secondary"));
        assert_eq!(t.exact(v("15.2.1118.26")).unwrap().update, "CU12 Mar23SU");
        assert_eq!(Version::parse("15.02.1118.026"), Some(v("15.2.1118.26")));
    }

    #[test]
    fn the_rule_per_line() {
        let t = BuildTable::embedded();
        use Precision::*;
        assert_eq!(judge(&t, v("15.1.2308.27"), Exact), Verdict::PredatesEems);
        assert_eq!(judge(&t, v("15.2.922.27"), Exact), Verdict::PredatesEems);
        assert_eq!(judge(&t, v("15.0.1497.2"), Cu), Verdict::PredatesEems);
        // 2016 CU22 can never qualify.
        assert_eq!(
            judge(&t, v("15.1.2375.37"), Exact),
            Verdict::TooOld {
                line_can_qualify: false
            }
        );
        assert_eq!(
            judge(&t, v("15.1.2375.7"), Cu),
            Verdict::TooOld {
                line_can_qualify: false
            }
        );
        // 2016 CU23 boundary .23
        assert_eq!(
            judge(&t, v("15.1.2507.21"), Exact),
            Verdict::TooOld {
                line_can_qualify: true
            }
        );
        assert_eq!(
            judge(&t, v("15.1.2507.23"), Exact),
            Verdict::Qualifies { boundary: true }
        );
        assert_eq!(
            judge(&t, v("15.1.2507.44"), Exact),
            Verdict::Qualifies { boundary: false }
        );
        // 2019 CU11 RTM (the Exchange Team Blog case) and its Mar23SU
        assert_eq!(
            judge(&t, v("15.2.986.5"), Exact),
            Verdict::TooOld {
                line_can_qualify: true
            }
        );
        assert_eq!(
            judge(&t, v("15.2.986.42"), Exact),
            Verdict::Qualifies { boundary: true }
        );
        // 2019 CU12: CU-only precision cannot decide
        assert!(matches!(
            judge(&t, v("15.2.1118.7"), Cu),
            Verdict::Undecidable { .. }
        ));
        assert_eq!(
            judge(&t, v("15.2.1118.7"), Exact),
            Verdict::TooOld {
                line_can_qualify: true
            }
        );
        assert_eq!(
            judge(&t, v("15.2.1118.40"), Exact),
            Verdict::Qualifies { boundary: false }
        );
        // CU13+ and SE qualify even with CU precision; unknown newer SUs on a known line too.
        assert_eq!(
            judge(&t, v("15.2.1258.12"), Cu),
            Verdict::Qualifies { boundary: false }
        );
        assert_eq!(
            judge(&t, v("15.2.1544.4"), Cu),
            Verdict::Qualifies { boundary: false }
        );
        assert_eq!(
            judge(&t, v("15.2.2562.99"), Exact),
            Verdict::Qualifies { boundary: false }
        );
        assert_eq!(
            judge(&t, v("15.1.2507.99"), Exact),
            Verdict::Qualifies { boundary: false }
        );
        // An unknown, newer line (a future SE CU) qualifies; an unknown older one is undecidable.
        assert_eq!(
            judge(&t, v("15.2.2700.5"), Exact),
            Verdict::Qualifies { boundary: false }
        );
        assert!(matches!(
            judge(&t, v("15.2.1200.5"), Exact),
            Verdict::Undecidable { .. }
        ));
    }

    #[test]
    fn replaceable_table_and_bad_tables() {
        let t = BuildTable::from_csv(
            "product,update,build,released\nExchange Server 2019,CU12,15.2.1118.7,2022-04-20\nExchange Server 2019,CU12 Mar23SU,15.2.1118.26,2023-03-14\n",
        )
        .unwrap();
        assert_eq!(t.rows()[0].confidence, "verified");
        assert_eq!(
            judge(&t, v("15.2.1118.26"), Precision::Exact),
            Verdict::Qualifies { boundary: true }
        );
        assert!(BuildTable::from_csv("").is_err());
        assert!(BuildTable::from_csv("product,update\nx,y\n").is_err());
        assert!(
            BuildTable::from_csv("product,update,build,released\nx,y,not-a-build,z\n").is_err()
        );
    }
}
