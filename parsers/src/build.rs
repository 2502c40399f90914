//! Exchange build numbers (`15.2.1118.26`, zero-padded `15.02.1118.026`,
//! AdminDisplayVersion `Version 15.2 (Build 1118.7)`) and the outputs admins
//! paste to show ExSetup.exe's file version.

use crate::format_list;
use crate::problem::{Parsed, Problem};
use crate::text::Source;
use nom::branch::alt;
use nom::bytes::complete::tag_no_case;
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{all_consuming, map_res, opt};
use nom::multi::many_m_n;
use nom::sequence::preceded;
use nom::{IResult, Parser};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// How much of the installed build a version string tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// The exact installed build (ExSetup.exe file version).
    Exact,
    /// Only the CU: AdminDisplayVersion never shows the SU/HU revision, so
    /// `revision` is the CU's base revision, not what is installed.
    Cu,
}

/// A four-part Exchange build. Equality and ordering look at the numbers
/// only, not at the precision.
#[derive(Debug, Clone, Copy)]
pub struct Build {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    pub revision: Option<u32>,
    pub precision: Precision,
}

impl Build {
    fn key(&self) -> (u32, u32, u32, Option<u32>) {
        (self.major, self.minor, self.build, self.revision)
    }

    /// Whether this is the exact installed build (not only the CU).
    pub fn is_exact(&self) -> bool {
        self.precision == Precision::Exact
    }
}

impl PartialEq for Build {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Build {}
impl PartialOrd for Build {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Build {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Canonical form without zero padding: `15.2.1118.26`.
impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)?;
        if let Some(r) = self.revision {
            write!(f, ".{r}")?;
        }
        Ok(())
    }
}

/// Serialised with the canonical string alongside the parts, so reports
/// need not rebuild it: `{"version":"15.2.1118.26","major":15,…}`.
impl Serialize for Build {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Build", 6)?;
        st.serialize_field("version", &self.to_string())?;
        st.serialize_field("major", &self.major)?;
        st.serialize_field("minor", &self.minor)?;
        st.serialize_field("build", &self.build)?;
        st.serialize_field("revision", &self.revision)?;
        st.serialize_field("precision", &self.precision)?;
        st.end()
    }
}

fn number(i: &str) -> IResult<&str, u32> {
    map_res(digit1, str::parse::<u32>).parse(i)
}

/// `Version 15.2 (Build 1118.7)` (the `Version` word is optional).
fn admin_display(i: &str) -> IResult<&str, Build> {
    let (i, _) = opt((tag_no_case("Version"), space1)).parse(i)?;
    let (i, (major, _, minor)) = (number, char('.'), number).parse(i)?;
    let (i, _) = (space0, char('('), space0, tag_no_case("Build"), space1).parse(i)?;
    let (i, build) = number(i)?;
    let (i, revision) = opt(preceded(char('.'), number)).parse(i)?;
    let (i, _) = (space0, char(')')).parse(i)?;
    Ok((
        i,
        Build {
            major,
            minor,
            build,
            revision,
            precision: Precision::Cu,
        },
    ))
}

/// `15.2.1118.26`, `15.02.1118.026`, or three parts `15.2.1118`.
fn dotted(i: &str) -> IResult<&str, Build> {
    let (i, major) = number(i)?;
    let (i, rest) = many_m_n(2, 3, preceded(char('.'), number)).parse(i)?;
    let minor = rest.first().copied().unwrap_or_default();
    let build = rest.get(1).copied().unwrap_or_default();
    Ok((
        i,
        Build {
            major,
            minor,
            build,
            revision: rest.get(2).copied(),
            precision: Precision::Exact,
        },
    ))
}

/// Parse a build string. AdminDisplayVersion gives `precision: cu`.
pub fn parse_build(s: &str) -> Option<Build> {
    let s = s.trim().trim_matches(['"', '\'']).trim();
    let (_, (b, _)) = all_consuming((alt((admin_display, dotted)), space0))
        .parse(s)
        .ok()?;
    Some(b)
}

/// What ExSetup.exe's version output says.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExsetupVersion {
    /// The installed build (`precision: exact`).
    pub build: Option<Build>,
    /// The version text as printed (`15.02.1118.026`).
    pub raw: Option<String>,
    /// Where it was read: `FileVersion`, `ProductVersion`, `Version`,
    /// `Major/Minor/Build/Revision` or `bare`.
    pub source: Option<String>,
    /// `FileName`/`File`/`Source` when shown.
    pub file_name: Option<String>,
    /// The file name ends in `...`/`…` (cut at console width).
    pub file_name_truncated: bool,
    /// `PSComputerName` when run through `Invoke-Command`; else, in a
    /// pasted console session, the computer its prompt names
    /// (`Invoke-Command -ComputerName EX02 {…}`, `[EX02]: PS C:\>`).
    pub computer_name: Option<String>,
    /// Line of the version.
    pub line: usize,
}

struct Candidate {
    priority: u8,
    build: Build,
    raw: String,
    source: String,
    line: usize,
}

/// Version in a value: the whole value, else its first token
/// (`15.02.1118.026 (built by: …)`).
fn version_in(value: &str) -> Option<Build> {
    parse_build(value).or_else(|| parse_build(value.split_whitespace().next()?))
}

fn label_priority(label: &str) -> Option<u8> {
    const LABELS: [&str; 4] = [
        "FileVersion",
        "FileVersionRaw",
        "ProductVersion",
        "ProductVersionRaw",
    ];
    LABELS
        .iter()
        .position(|l| l.eq_ignore_ascii_case(label))
        .and_then(|p| u8::try_from(p * 2).ok())
}

fn is_file_label(label: &str) -> bool {
    ["File", "FileName", "Path", "Source"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(label))
}

/// Read `(Get-Command ExSetup.exe).FileVersionInfo` in its default table,
/// `| Format-List`, `Get-ItemProperty … | select VersionInfo` (the
/// multi-line `File: … FileVersion: …` text), `(Get-Command ExSetup).Version`
/// (`Major Minor Build Revision` table), `Get-Command ExSetup` (`Version`
/// column), or a bare version line.
pub fn parse_exsetup(src: Source<'_>) -> Parsed<ExsetupVersion> {
    let mut problems = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut out = ExsetupVersion {
        line: src.first_line,
        ..ExsetupVersion::default()
    };

    // Label lines anywhere: Format-List, and VersionInfo's own `Label: value`
    // text, possibly nested in a Format-List value (`VersionInfo : File: …`).
    let clixml = crate::clixml::is_clixml(src.text);
    for (ln, line) in src.lines().filter(|_| !clixml) {
        if format_list::is_prompt_line(line) {
            continue;
        }
        let Some((mut label, mut value)) = format_list::split_property(line) else {
            if let Some(b) = parse_build(line).filter(|b| b.revision.is_some()) {
                if b.is_exact() {
                    candidates.push(Candidate {
                        priority: 20,
                        build: b,
                        raw: line.trim().to_owned(),
                        source: "bare".into(),
                        line: ln,
                    });
                }
            }
            continue;
        };
        if let Some((l, v)) = format_list::split_property(value) {
            if label.eq_ignore_ascii_case("VersionInfo") {
                (label, value) = (l, v);
            }
        }
        take_label(&mut out, &mut candidates, &mut problems, label, value, ln);
    }

    // `Export-Clixml` of the FileVersionInfo: its properties are the labels.
    if clixml {
        let records = crate::clixml::parse_records(src);
        problems.extend(records.problems);
        for p in records.value.iter().flat_map(|r| &r.properties) {
            take_label(
                &mut out,
                &mut candidates,
                &mut problems,
                &p.name,
                &p.value,
                p.line,
            );
        }
    }

    let tables = if clixml {
        Vec::new()
    } else {
        format_list::parse_tables(src)
    };
    for t in tables {
        let cols: [(&str, u8); 3] = [("FileVersion", 1), ("ProductVersion", 5), ("Version", 9)];
        for row in &t.rows {
            for (col, priority) in cols {
                if let Some(v) = t.cell(row, col) {
                    if format_list::ends_truncated(v) {
                        problems.push(Problem::at(
                            row.line,
                            format!("{col} was cut off by the console width: {v}"),
                        ));
                        continue;
                    }
                    match version_in(v) {
                        Some(b) => candidates.push(Candidate {
                            priority,
                            build: b,
                            raw: v.to_owned(),
                            source: col.to_owned(),
                            line: row.line,
                        }),
                        None => problems.push(Problem::at(
                            row.line,
                            format!("{col} column is not a version: {v}"),
                        )),
                    }
                }
            }
            let part = |n: &str| t.cell(row, n).and_then(|v| v.trim().parse::<u32>().ok());
            if let (Some(major), Some(minor), Some(build)) =
                (part("Major"), part("Minor"), part("Build"))
            {
                let revision = part("Revision");
                candidates.push(Candidate {
                    priority: 11,
                    build: Build {
                        major,
                        minor,
                        build,
                        revision,
                        precision: Precision::Exact,
                    },
                    raw: [Some(major), Some(minor), Some(build), revision]
                        .iter()
                        .flatten()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join("."),
                    source: "Major/Minor/Build/Revision".into(),
                    line: row.line,
                });
            }
            for col in ["FileName", "Source", "Path"] {
                if let Some(v) = t.cell(row, col) {
                    set_file(&mut out, v);
                }
            }
            if let Some(v) = t.cell(row, "PSComputerName") {
                out.computer_name.get_or_insert_with(|| v.to_owned());
            }
        }
    }

    // Best source first; within a source, the first printed.
    candidates.sort_by_key(|c| (c.priority, c.line));
    if let Some(best) = candidates.first() {
        let others = candidates
            .iter()
            .filter(|c| c.build != best.build)
            .map(|c| c.line)
            .next();
        if let Some(l) = others {
            problems.push(Problem::at(
                l,
                format!("several different versions shown; using {}", best.build),
            ));
        }
        out.build = Some(best.build);
        out.raw = Some(best.raw.clone());
        out.source = Some(best.source.clone());
        out.line = best.line;
    } else {
        problems.push(Problem::whole("no ExSetup.exe version found"));
    }
    Parsed::with_problems(out, problems)
}

/// One `Label : value` of a version output (console or CliXml): a version
/// candidate, the file name, or the remote computer's name.
fn take_label(
    out: &mut ExsetupVersion,
    candidates: &mut Vec<Candidate>,
    problems: &mut Vec<Problem>,
    label: &str,
    value: &str,
    ln: usize,
) {
    if let Some(priority) = label_priority(label) {
        match version_in(value) {
            Some(b) if b.is_exact() => candidates.push(Candidate {
                priority,
                build: b,
                raw: value.to_owned(),
                source: label.to_owned(),
                line: ln,
            }),
            _ if value.is_empty() => {}
            _ => problems.push(Problem::at(
                ln,
                format!("{label} is not a version: {value}"),
            )),
        }
    } else if is_file_label(label) {
        set_file(out, value);
    } else if label.eq_ignore_ascii_case("PSComputerName") && out.computer_name.is_none() {
        out.computer_name = Some(value.to_owned());
    }
}

fn set_file(out: &mut ExsetupVersion, name: &str) {
    if out.file_name.is_none() && !name.is_empty() {
        out.file_name_truncated = format_list::ends_truncated(name);
        out.file_name = Some(name.to_owned());
    }
}

/// CliXml of ExSetup.exe's `FileVersionInfo` (Health Checker's `ExSetup.xml`).
pub fn looks_like_exsetup_version_clixml(text: &str) -> bool {
    crate::clixml::has_top_type(text, "System.Diagnostics.FileVersionInfo")
        && crate::clixml::mentions_property(text, "FileVersion")
        && text.contains("ExSetup")
}

/// Cheap check for the sniffer: an ExSetup version output.
pub fn looks_like_exsetup_version(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start();
        let header = (t.starts_with("ProductVersion") || t.starts_with("FileVersion"))
            && l.contains("FileName");
        let label = format_list::split_property(l).is_some_and(|(k, v)| {
            label_priority(k).is_some() && version_in(v).is_some_and(|b| b.major == 15)
        });
        // `Get-Command ExSetup.exe` table row: `Application ExSetup.exe 15.2.1118.26 C:\…`.
        let toks: Vec<&str> = l.split_whitespace().collect();
        let command_row = toks.iter().any(|t| t.eq_ignore_ascii_case("ExSetup.exe"))
            && toks.iter().any(|t| is_bare_version(t));
        header || label || command_row
    }) || is_bare_version(text)
}

/// The whole output is one version number of Exchange (`15.02.1118.026`, or
/// `Version 15.2.1118.26`): what `(Get-Command ExSetup.exe).FileVersionInfo.FileVersion` prints.
fn is_bare_version(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let (Some(only), None) = (lines.next(), lines.next()) else {
        return false;
    };
    let v = only.strip_prefix("Version ").unwrap_or(only);
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts
            .first()
            .is_some_and(|p| p.trim_start_matches('0') == "15")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::decode;
    use proptest::prelude::*;

    fn b(s: &str) -> Build {
        parse_build(s).unwrap()
    }

    #[test]
    fn parse_forms() {
        let x = b("15.2.1118.26");
        assert_eq!(
            (x.major, x.minor, x.build, x.revision),
            (15, 2, 1118, Some(26))
        );
        assert_eq!(x.precision, Precision::Exact);
        let z = b("15.02.1118.026");
        assert_eq!(z, x);
        assert_eq!(z.to_string(), "15.2.1118.26");
        let a = b("Version 15.2 (Build 1118.7)");
        assert_eq!(a.precision, Precision::Cu);
        assert_eq!(a.to_string(), "15.2.1118.7");
        let a = b("  version 15.1  (Build 2375.7) ");
        assert_eq!(a.to_string(), "15.1.2375.7");
        assert_eq!(b("15.2.1118").revision, None);
        assert_eq!(b("15.2.1118").to_string(), "15.2.1118");
        assert!(parse_build("0.1 (8.0.535.0)").is_none());
        assert!(parse_build("15.2").is_none());
        assert!(parse_build("15.2.1118.26.1").is_none());
        assert!(parse_build("15.2.1118.26x").is_none());
        assert!(parse_build("99999999999.2.1.1").is_none());
        assert!(parse_build("").is_none());
    }

    #[test]
    fn ordering_ignores_precision() {
        assert!(b("15.2.1118.26") > b("Version 15.2 (Build 1118.7)"));
        assert!(b("15.2.986.42") < b("15.2.1118.7"));
        assert!(b("15.1.2507.23") < b("15.2.0.1"));
        assert_eq!(b("15.2.1118.7"), b("Version 15.2 (Build 1118.7)"));
        assert!(b("15.2.1118") < b("15.2.1118.0"));
    }

    #[test]
    fn serializes_with_version_string() {
        let j = serde_json::to_value(b("Version 15.2 (Build 1544.4)")).unwrap();
        assert_eq!(j["version"], "15.2.1544.4");
        assert_eq!(j["precision"], "cu");
        assert_eq!(j["revision"], 4);
    }

    fn fixture(name: &str) -> String {
        let bytes = std::fs::read(format!(
            "{}/../tests/fixtures/extra/powershell/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        decode(&bytes).text
    }

    #[test]
    fn exsetup_default_table() {
        let t = fixture("exsetup-fileversioninfo-table.txt");
        let p = parse_exsetup(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = p.value;
        assert_eq!(v.build.unwrap().to_string(), "15.2.1118.26");
        assert!(v.build.unwrap().is_exact());
        assert_eq!(v.raw.as_deref(), Some("15.02.1118.026"));
        assert_eq!(v.source.as_deref(), Some("FileVersion"));
        assert_eq!(
            v.file_name.as_deref(),
            Some("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\ExSetup.exe")
        );
        assert!(!v.file_name_truncated);
        assert_eq!(v.line, 5);
        assert!(looks_like_exsetup_version(&t));
    }

    #[test]
    fn exsetup_format_list() {
        let t = fixture("exsetup-fl-fileversion.txt");
        let p = parse_exsetup(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = p.value;
        assert_eq!(v.build.unwrap().to_string(), "15.2.1544.14");
        assert_eq!(v.source.as_deref(), Some("FileVersion"));
        assert_eq!(v.line, 4);
        assert!(looks_like_exsetup_version(&t));
    }

    #[test]
    fn exsetup_versioninfo() {
        let t = fixture("exsetup-versioninfo.txt");
        let p = parse_exsetup(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let v = p.value;
        assert_eq!(v.build.unwrap().to_string(), "15.1.2507.23");
        assert_eq!(v.source.as_deref(), Some("FileVersion"));
        assert_eq!(
            v.file_name.as_deref(),
            Some("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\ExSetup.exe")
        );
        assert_eq!(v.line, 7);
    }

    #[test]
    fn exsetup_bare_and_get_command_and_version_table() {
        let p = parse_exsetup(Source::new(
            "PS C:\\> (Get-Command ExSetup.exe).FileVersionInfo.FileVersion\n15.02.1748.037\n",
        ));
        assert!(p.problems.is_empty());
        assert_eq!(p.value.build.unwrap().to_string(), "15.2.1748.37");
        assert_eq!(p.value.source.as_deref(), Some("bare"));
        assert_eq!(p.value.line, 2);

        let t = fixture("exsetup-get-command-autosize.txt");
        let p = parse_exsetup(Source::new(&t));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.build.unwrap().to_string(), "15.2.1118.26");
        assert_eq!(p.value.source.as_deref(), Some("Version"));
        assert_eq!(p.value.line, 5);
        assert!(!p.value.file_name_truncated);

        // Default Get-Command view: Version (10 wide) and Source are cut off.
        let t = fixture("exsetup-get-command.txt");
        let p = parse_exsetup(Source::new(&t));
        assert!(p.value.build.is_none());
        assert!(p.value.file_name_truncated);
        assert_eq!(p.problems[0].line, Some(5));
        assert!(p.problems[0].message.contains("cut off"));

        let p = parse_exsetup(Source::new(
            "\nMajor  Minor  Build  Revision\n-----  -----  -----  --------\n15     2      1258   12\n\n",
        ));
        assert_eq!(p.value.build.unwrap().to_string(), "15.2.1258.12");
        assert_eq!(p.value.line, 4);
    }

    #[test]
    fn exsetup_nothing() {
        let p = parse_exsetup(Source::new("hello\n"));
        assert!(p.value.build.is_none());
        assert_eq!(p.problems.len(), 1);
        let p = parse_exsetup(Source::new("FileVersion : banana\n"));
        assert!(p.value.build.is_none());
        assert_eq!(p.problems.len(), 2);
        assert_eq!(p.problems[0].line, Some(1));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_build(&s);
            let _ = parse_exsetup(Source::new(&s));
            let _ = looks_like_exsetup_version(&s);
        }

        #[test]
        fn mutated_fixture_never_panics(cut in 0usize..400, ins in "\\PC{0,5}", pos in 0usize..400) {
            let t = fixture("exsetup-fileversioninfo-table.txt");
            let mut s: String = t.chars().take(cut).collect();
            let at = s.char_indices().nth(pos).map_or(s.len(), |(i, _)| i);
            s.insert_str(at, &ins);
            let _ = parse_exsetup(Source::new(&s));
        }

        #[test]
        fn display_round_trips(a in 0u32..100, b2 in 0u32..100, c in 0u32..100_000, d in 0u32..1000) {
            let s = format!("{a}.{b2}.{c}.{d}");
            let x = parse_build(&s).unwrap();
            prop_assert_eq!(x.to_string(), s);
        }
    }
}
