//! `eems-doctor fleet` over a generated fleet (bench/gen-fleet) with corrupt
//! bundles: every bundle once, the summary adds up, the exit code is the
//! worst status, `--previous` reports what changed, the NDJSON is one object
//! a line, every server link of the dashboard resolves, fleet.json validates
//! against the analyze schema v1.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Generated bundle i is scenario i % (number of samples) (sorted folder names): its status
/// (the first 16; the tests generate fewer bundles than that).
const STATUS: [&str; 16] = [
    "ok", "critical", "critical", "critical", "critical", "critical", "critical", "critical",
    "critical", "warning", "warning", "warning", "critical", "critical", "warning", "critical",
];

fn generate(dir: &Path, n: usize) {
    let st = Command::new("python3")
        .arg(Path::new(ROOT).join("bench/gen-fleet"))
        .arg(dir)
        .arg(n.to_string())
        .args(["--days", "3"])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

fn fleet(args: &[&Path], extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        // The bundles are the 2025 samples: judged as of their own time,
        // each keeps its scenario's status (`evidence-stale` passes).
        .env("EEMS_DOCTOR_NOW", "2025-01-01T00:00:00Z")
        .arg("fleet")
        .args(args)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A fleet of 12 generated bundles, a directory of garbage, a corrupt zip,
/// and a list file naming one bundle again plus one that does not exist.
struct Fleet {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    bundles: PathBuf,
    list: PathBuf,
}

fn mixed_fleet() -> Fleet {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let bundles = root.join("share");
    generate(&bundles, 12);
    std::fs::create_dir_all(bundles.join("GARBAGE01")).unwrap();
    std::fs::write(
        bundles.join("GARBAGE01/blob.bin"),
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(
        bundles.join("BROKEN02.zip"),
        b"PK\x03\x04 this is not a zip archive",
    )
    .unwrap();
    let list = root.join("extra-bundles.txt");
    std::fs::write(
        &list,
        "# bundles outside the share\nshare/SRV00003\nmissing/SRV09999\n\n",
    )
    .unwrap();
    Fleet {
        _tmp: tmp,
        root,
        bundles,
        list,
    }
}

fn count_sum(map: &Value) -> usize {
    map.as_object()
        .unwrap()
        .values()
        .map(|c| {
            let n = c["count"].as_u64().unwrap() as usize;
            assert_eq!(n, c["servers"].as_array().unwrap().len());
            n
        })
        .sum()
}

#[test]
fn mixed_fleet_every_bundle_once_summary_adds_up_links_resolve() {
    let f = mixed_fleet();
    let out = f.root.join("out");
    let (code, stdout, stderr) = fleet(&[&f.bundles, &f.list], &["-o", out.to_str().unwrap()]);
    assert_eq!(
        code, 2,
        "worst status is critical/unknown\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("15 servers"), "{stdout}");

    let doc = read_json(&out.join("fleet.json"));
    assert_eq!(doc["schema_version"], 1);
    let servers = doc["servers"].as_array().unwrap();
    // 12 generated + garbage + broken zip + the missing listed one; the
    // listed SRV00003 is the same bundle as share/SRV00003.
    assert_eq!(servers.len(), 15);
    let bundles: Vec<&str> = servers
        .iter()
        .map(|s| s["bundle"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = bundles.iter().copied().collect();
    assert_eq!(unique.len(), bundles.len(), "a bundle twice: {bundles:#?}");
    for (i, want) in STATUS.iter().enumerate().take(12) {
        let name = format!("SRV{i:05}");
        let s = servers
            .iter()
            .find(|s| s["bundle"].as_str().unwrap().ends_with(&name))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(s["server"], name.as_str());
        assert_eq!(s["status"], *want, "{name}");
    }
    for tail in ["GARBAGE01", "BROKEN02.zip", "SRV09999"] {
        let s = servers
            .iter()
            .find(|s| s["bundle"].as_str().unwrap().ends_with(tail))
            .unwrap_or_else(|| panic!("{tail} missing"));
        assert_eq!(s["status"], "unknown", "{tail}");
        assert!(
            !s["error"].as_str().unwrap_or("").is_empty(),
            "{tail} has no error"
        );
    }

    // The summary adds up to the servers.
    let sum = &doc["summary"];
    assert_eq!(sum["servers"], 15);
    assert_eq!(count_sum(&sum["by_status"]), 15);
    assert_eq!(count_sum(&sum["by_root_cause"]), 15);
    assert_eq!(count_sum(&sum["by_build"]), 15);
    assert_eq!(sum["by_status"]["unknown"]["count"], 3);
    assert_eq!(sum["by_root_cause"]["bundle-unreadable"]["count"], 3);
    let mut by_finding: BTreeMap<String, usize> = BTreeMap::new();
    for s in servers {
        let ids: BTreeSet<&str> = s["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        for id in ids {
            *by_finding.entry(id.to_owned()).or_default() += 1;
        }
    }
    let summary_findings: BTreeMap<String, usize> = sum["by_finding"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["count"].as_u64().unwrap() as usize))
        .collect();
    assert_eq!(summary_findings, by_finding);
    let statuses: Vec<&str> = servers
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    for w in ["ok", "warning", "critical", "unknown"] {
        assert_eq!(
            sum["by_status"][w]["count"].as_u64().unwrap() as usize,
            statuses.iter().filter(|s| **s == w).count(),
            "{w}"
        );
    }

    // NDJSON: one object per line, one line per server, scan fields on each.
    let nd = std::fs::read_to_string(out.join("fleet.ndjson")).unwrap();
    let lines: Vec<&str> = nd.lines().collect();
    assert_eq!(lines.len(), 15);
    let mut nd_bundles = BTreeSet::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(v.is_object());
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["generated_at"], doc["generated_at"]);
        nd_bundles.insert(v["bundle"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        nd_bundles,
        unique
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    );

    // Every server link of the dashboard resolves; each server has one.
    let html = std::fs::read_to_string(out.join("fleet.html")).unwrap();
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("servers/"))
        .collect();
    assert_eq!(links.len(), 15, "one link per server");
    for l in &links {
        assert!(out.join(l).is_file(), "broken link {l}");
    }
    for s in servers {
        let r = s["report"].as_str().unwrap();
        assert!(links.contains(&r), "{r} not linked");
        let page = std::fs::read_to_string(out.join(r)).unwrap();
        if let Some(name) = s["server"].as_str() {
            assert!(page.contains(name), "{r} is not {name}'s report");
        }
    }
    assert!(!html.contains("<script src"), "no external script");
    assert!(html.contains("Servers by most likely root cause"));
    assert!(
        !out.join(".fleet-servers.spool").exists(),
        "spool left behind"
    );

    // fleet.json is an analyze v1 document (extra fields are allowed).
    let schema: Value = read_json(&Path::new(ROOT).join("reports/schema/analyze-v1.schema.json"));
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

#[test]
fn exit_code_is_the_worst_status_and_usage_errors_are_3() {
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("share");
    generate(&share, 10);
    let list = |name: &str, items: &[usize]| {
        let p = tmp.path().join(name);
        let body: String = items.iter().map(|i| format!("share/SRV{i:05}\n")).collect();
        std::fs::write(&p, body).unwrap();
        p
    };
    let run = |p: &Path, o: &str| {
        let out = tmp.path().join(o);
        fleet(&[p], &["-o", out.to_str().unwrap(), "--jobs", "2"]).0
    };
    assert_eq!(run(&list("ok.txt", &[0]), "o0"), 0);
    assert_eq!(run(&list("warn.txt", &[0, 9]), "o1"), 1);
    assert_eq!(run(&list("crit.txt", &[0, 9, 1]), "o2"), 2);
    let no_such = tmp.path().join("no-such-dir");
    assert_eq!(fleet(&[&no_such], &[]).0, 3);
    assert_eq!(fleet(&[&share], &["--jobs", "0"]).0, 3);
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(fleet(&[&empty], &[]).0, 3, "no bundles at all");
    let bad_prev = tmp.path().join("prev.json");
    std::fs::write(&bad_prev, "not json").unwrap();
    assert_eq!(
        fleet(&[&share], &["--previous", bad_prev.to_str().unwrap()]).0,
        3
    );
}

#[test]
fn previous_scan_new_and_resolved_problems() {
    let f = mixed_fleet();
    let first = f.root.join("scan1");
    let (code, ..) = fleet(&[&f.bundles, &f.list], &["-o", first.to_str().unwrap()]);
    assert_eq!(code, 2);

    // Between the scans: SRV00009 (org mitigations disabled) is fixed,
    // SRV00000 (healthy) gets its mitigations disabled, the garbage bundle
    // disappears.
    std::fs::write(
        f.bundles.join("SRV00009/get-organizationconfig-fl.txt"),
        "\r\nMitigationsEnabled : True\r\n\r\n",
    )
    .unwrap();
    std::fs::write(
        f.bundles.join("SRV00000/get-organizationconfig-fl.txt"),
        "\r\nMitigationsEnabled : False\r\n\r\n",
    )
    .unwrap();
    std::fs::remove_dir_all(f.bundles.join("GARBAGE01")).unwrap();

    let second = f.root.join("scan2");
    let prev = first.join("fleet.json");
    let (_, stdout, stderr) = fleet(
        &[&f.bundles, &f.list],
        &[
            "-o",
            second.to_str().unwrap(),
            "--previous",
            prev.to_str().unwrap(),
        ],
    );
    assert!(stdout.contains("since the last scan"), "{stdout}\n{stderr}");
    let doc = read_json(&second.join("fleet.json"));
    let ch = &doc["changes"];
    let pairs = |k: &str| -> BTreeSet<(String, String)> {
        ch[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["server"].as_str().unwrap_or("").to_owned(),
                    c["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let new = pairs("new_problems");
    let resolved = pairs("resolved");
    assert!(
        new.contains(&("SRV00000".into(), "mitigations-disabled-org".into())),
        "{new:#?}"
    );
    assert!(
        resolved.contains(&("SRV00009".into(), "mitigations-disabled-org".into())),
        "{resolved:#?}"
    );
    assert!(
        new.iter().all(|(s, _)| s == "SRV00000"),
        "only SRV00000 changed for the worse: {new:#?}"
    );
    assert!(
        resolved.iter().all(|(s, _)| s == "SRV00009"),
        "only SRV00009 improved: {resolved:#?}"
    );
    let missing: Vec<&str> = ch["missing_servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["bundle"].as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].ends_with("GARBAGE01"));
    assert_eq!(ch["new_servers"].as_array().unwrap().len(), 0);

    let html = std::fs::read_to_string(second.join("fleet.html")).unwrap();
    assert!(html.contains("New problems since the last scan"));
    assert!(html.contains("Resolved since the last scan"));
    assert!(html.contains("Missing since the last scan"));
}

/// `--format prom`: only `fleet.prom`, OpenMetrics text whose counts add up,
/// with each bundle's evidence age from its collect manifest.
#[test]
fn prom_counts_statuses_root_causes_and_evidence_age() {
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("share");
    for s in ["01-healthy", "02-build-before-march-2023"] {
        let to = share.join(s);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(Path::new(ROOT).join("samples").join(s)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    let collected = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    std::fs::write(
        share.join("02-build-before-march-2023/manifest.json"),
        format!(r#"{{"tool_version":"0.1.0","host":"EXCH2019A","collected_at":"{collected}","items":[]}}"#),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = fleet(
        &[&share],
        &["--format", "prom", "-o", out.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    // Beside the scan's lock file (issue 18), only fleet.prom.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".eems-fleet.lock", "fleet.prom"]);
    let text = std::fs::read_to_string(out.join("fleet.prom")).unwrap();
    assert!(
        text.contains("eems_servers{status=\"critical\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("eems_servers{status=\"ok\"} 1\n"), "{text}");
    assert!(
        text.contains("eems_servers_by_root_cause{root_cause=\"build-before-march-2023\"} 1\n")
    );
    assert!(text.contains("eems_server_status{server=\"EXMBX01\""));
    let age: i64 = text
        .lines()
        .find(|l| l.starts_with("eems_evidence_age_seconds{server=\"EXCH2019A\""))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((7200..7200 + 120).contains(&age), "{age}");
    // The healthy sample has no manifest: no age is made up for it.
    assert!(!text.contains("eems_evidence_age_seconds{server=\"EXMBX01\""));
    assert!(text.ends_with("# EOF\n"));
}

/// `fleet --max-age`: the 2025 healthy sample scanned as of 2026 is stale
/// (WARNING, exit 1) by default and OK with a wider threshold; the scan's
/// one clock is `EEMS_DOCTOR_NOW`, and a bad one is refused before any output.
#[test]
fn max_age_judges_every_bundle_against_one_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let scan = |extra: &[&str], now: &str| {
        let out = tmp
            .path()
            .join(format!("out-{}-{}", extra.join("-"), now.len()));
        let r = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
            .env("EEMS_DOCTOR_NOW", now)
            .arg("fleet")
            .arg(Path::new(ROOT).join("samples/01-healthy"))
            .args(["--format", "json", "-o", out.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        (r.status.code(), out)
    };
    let (code, out) = scan(&[], "2026-12-01T00:00:00Z");
    assert_eq!(code, Some(1));
    let v = read_json(&out.join("fleet.json"));
    assert_eq!(v["servers"][0]["status"], "warning", "{v:#}");
    let (code, _) = scan(&["--max-age", "36500"], "2026-12-01T00:00:00Z");
    assert_eq!(code, Some(0));
    let (code, out) = scan(&["--max-age", "1"], "not a time");
    assert_eq!(code, Some(3));
    assert!(!out.exists());
}
