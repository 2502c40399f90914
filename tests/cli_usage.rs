//! The command line as a user meets it: every `--help` with its exit codes
//! and an example, `explain` rendered for a terminal, the folder flags under
//! one name with the old spellings still accepted (scheduled tasks use
//! them), and where `check` writes when told nothing.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SUBCOMMANDS: [&str; 8] = [
    "parse", "analyze", "probe", "collect", "check", "fleet", "checks", "explain",
];

fn run(args: &[&str]) -> support::Run {
    support::doctor(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
}

#[test]
fn every_help_shows_exit_codes_and_an_example() {
    for sub in SUBCOMMANDS {
        for flag in ["--help", "-h"] {
            let r = run(&[sub, flag]);
            assert_eq!(r.status.code(), Some(0), "{sub} {flag}: {}", r.stderr);
            assert!(
                r.stdout.contains("\nExit codes:\n  0  "),
                "{sub} {flag}:\n{}",
                r.stdout
            );
            assert!(
                r.stdout
                    .contains(&format!("\nExample:\n  eems-doctor {sub}")),
                "{sub} {flag}:\n{}",
                r.stdout
            );
        }
    }
    // Bare `eems-doctor`: the help, with its exit codes, and the usage code.
    let r = run(&[]);
    assert_eq!(r.status.code(), Some(3));
    assert!(r.stderr.contains("Usage") && r.stderr.contains("Exit codes:"));
}

#[test]
fn explain_renders_for_a_terminal() {
    for id in ["build-before-march-2023", "proxy-winhttp-missing"] {
        let r = run(&["explain", id, "--color", "never"]);
        assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
        assert!(!r.stdout.contains("**") && !r.stdout.contains("## "));
        insta::assert_snapshot!(format!("explain-{id}"), r.stdout);
    }
    // With colour: bold headings, code spans coloured instead of backticked.
    let r = run(&["explain", "build-before-march-2023", "--color", "always"]);
    assert!(
        r.stdout
            .starts_with("\x1b[1mbuild-before-march-2023\x1b[0m\n")
    );
    assert!(r.stdout.contains("\x1b[36mbuild-unknown\x1b[0m"));
    assert!(!r.stdout.contains('`'), "{}", r.stdout);
    // `auto` into a pipe: no colour.
    let r = run(&["explain", "build-before-march-2023"]);
    assert!(!r.stdout.contains('\x1b'));
}

#[test]
fn explain_format_md_keeps_the_markdown() {
    let docs =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md"))
            .unwrap();
    let r = run(&["explain", "proxy-winhttp-missing", "--format", "md"]);
    assert_eq!(r.status.code(), Some(0));
    let md = r.stdout.trim_end();
    assert!(md.starts_with("## proxy-winhttp-missing\n\n**What it checks.**"));
    assert!(
        docs.contains(md),
        "not the section of docs/checks.md:\n{md}"
    );
    let r = run(&["explain", "no-such-check"]);
    assert_eq!(r.status.code(), Some(3));
    assert!(r.stderr.contains("no check with id `no-such-check`"));
}

/// `collect` and `check` in a folder with no Windows tools on PATH: every
/// item fails fast and is recorded; the bundle is still written.
fn offline(dir: &Path, args: &[&str]) -> Output {
    let empty = dir.join("no-tools");
    std::fs::create_dir_all(&empty).unwrap();
    Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(args)
        .current_dir(dir)
        .env("PATH", &empty)
        .env("TMPDIR", dir.join("tmp"))
        .env_remove("ExchangeInstallPath")
        .output()
        .unwrap()
}

#[test]
fn collect_and_check_take_out_dir_and_the_old_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for flag in ["--out-dir", "--out"] {
        let bundle = format!("collect{flag}");
        let o = offline(d, &["collect", "--no-probe", flag, &bundle]);
        assert_eq!(o.status.code(), Some(0), "{flag}: {o:?}");
        assert!(d.join(&bundle).join("manifest.json").is_file(), "{flag}");

        let bundle = format!("check{flag}");
        let o = offline(
            d,
            &["check", "--no-probe", "--format", "json", flag, &bundle],
        );
        // Nothing could be collected here: the usage/nothing-read code.
        assert_eq!(o.status.code(), Some(3), "{flag}: {o:?}");
        assert!(d.join(&bundle).join("manifest.json").is_file(), "{flag}");
        // The reports beside the bundle, named after it.
        for ext in ["html", "json"] {
            assert!(
                d.join(format!("{bundle}.report.{ext}")).is_file(),
                "{flag} {ext}"
            );
        }
    }
    // `collect` without a folder: a usage error that names the flag.
    let o = offline(d, &["collect", "--no-probe"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("collect needs --out-dir DIR"));
}

/// Without `--out-dir` and `-o`, `check` writes into a folder of its own
/// under the temporary folder, never the current one, and says where.
#[test]
fn check_writes_into_a_folder_of_its_own_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    let o = offline(d, &["check", "--no-probe", "--color", "never"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    let own = d.join("tmp").join("eems-doctor");
    let names: Vec<String> = std::fs::read_dir(&own)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let bundle = names
        .iter()
        .find(|n| n.starts_with("eems-") && !n.contains(".report."))
        .unwrap_or_else(|| panic!("no bundle in {}: {names:?}", own.display()));
    assert!(own.join(bundle).join("manifest.json").is_file());
    for ext in ["html", "json"] {
        let report = own.join(format!("{bundle}.report.{ext}"));
        assert!(report.is_file(), "{names:?}");
        assert!(
            stderr.contains(&format!("report: {}", report.display())),
            "{stderr}"
        );
    }
    assert!(stderr.contains(&format!("bundle: {}", own.join(bundle).display())));
    // Nothing in the current folder but what the test made.
    let mut here: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    here.sort();
    assert_eq!(here, ["no-tools", "tmp"]);
}

#[test]
fn fleet_takes_out_dir_and_the_old_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let share = d.join("share");
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    for s in ["01-healthy", "06-proxy-winhttp-missing"] {
        copy_dir(&samples.join(s), &share.join(s));
    }
    for flag in ["--out-dir", "-o", "--out", "--output"] {
        let out = d.join(format!("scan{flag}"));
        let r = run(&[
            "fleet",
            share.to_str().unwrap(),
            "--format",
            "json",
            flag,
            out.to_str().unwrap(),
        ]);
        // 06 is critical: the worst status is the exit code.
        assert_eq!(r.status.code(), Some(2), "{flag}: {}", r.stderr);
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("fleet.json")).unwrap()).unwrap();
        assert_eq!(v["servers"].as_array().unwrap().len(), 2, "{flag}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
