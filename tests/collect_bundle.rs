//! `collect` with stand-in Windows tools on PATH, then `analyze` on the
//! bundle (directory and zip), `--redact`, and hostile zip bundles.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SAMPLE: &str = "05-proxy-exchange-missing";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp dir with the stand-ins linked into `bin/` and an Exchange install
/// folder holding the sample's MitigationService logs.
struct Server {
    dir: tempfile::TempDir,
}

impl Server {
    fn new() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for e in std::fs::read_dir(root().join("tests/fixtures/standins")).unwrap() {
            let p = e.unwrap().path();
            std::os::unix::fs::symlink(&p, bin.join(p.file_name().unwrap())).unwrap();
        }
        let logs = dir.path().join("ex/Logging/MitigationService");
        std::fs::create_dir_all(&logs).unwrap();
        for e in std::fs::read_dir(
            root()
                .join("samples")
                .join(SAMPLE)
                .join("MitigationService"),
        )
        .unwrap()
        {
            let p = e.unwrap().path();
            std::fs::copy(&p, logs.join(p.file_name().unwrap())).unwrap();
        }
        Server { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `eems-doctor ARGS` with the stand-ins first on PATH (this child only).
    fn doctor(&self, args: &[&str]) -> Output {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.path().join("bin")];
        dirs.extend(std::env::split_paths(&path));
        Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
            .args(args)
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("ExchangeInstallPath", self.path().join("ex"))
            .env("EEMS_STANDIN_SAMPLE", SAMPLE)
            .env("EEMS_STANDIN_FAIL_EXSETUP", "")
            .output()
            .unwrap()
    }
}

fn analyze_json(path: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["analyze", path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn ids(v: &serde_json::Value, what: &str) -> Vec<String> {
    let mut ids: Vec<String> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s[what].as_array().unwrap().iter())
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn item<'a>(m: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name} in {m:#}"))
}

#[test]
fn collect_then_analyze_names_the_root_cause_and_records_failures() {
    let s = Server::new();
    let out = s.path().join("bundle");
    let run = s.doctor(&["collect", "--no-probe", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not a Windows Exchange server"), "{stderr}");

    // Raw outputs byte for byte.
    let sample = root().join("samples").join(SAMPLE);
    for f in [
        "get-exchangeserver-fl.txt",
        "netsh-winhttp-show-proxy.txt",
        "reg-query-winhttpsettings.txt",
        "exsetup-version.txt",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(sample.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(
        std::fs::read(out.join("events-mitigation.xml")).unwrap(),
        std::fs::read(sample.join("events-1008.xml")).unwrap()
    );
    assert!(
        std::fs::read_dir(out.join("MitigationService"))
            .unwrap()
            .count()
            > 0
    );

    // The manifest records every item, the failing ones with their exit code.
    let m = manifest(&out);
    assert_eq!(m["redacted"], false);
    assert!(m["collected_at"].as_str().unwrap().contains('T'));
    assert!(m["tool_version"].is_string());
    for failing in [
        "winhttp-settings-wow6432node",
        "authroot-policy",
        "chainengine-config",
        "schannel-tls12",
        "dotnet-v4",
        "dotnet-v4-wow6432node",
        "netsh-advproxy",
    ] {
        let i = item(&m, failing);
        assert_eq!(i["exit_code"], 1, "{i:#}");
        assert!(i["error"].is_string(), "{i:#}");
    }
    assert!(
        item(&m, "winhttp-settings-wow6432node")["stderr"]
            .as_str()
            .unwrap()
            .contains("unable to find")
    );
    let ok = item(&m, "get-exchangeserver");
    assert_eq!(ok["exit_code"], 0);
    assert!(ok["error"].is_null());
    assert!(
        ok["command"]
            .as_str()
            .unwrap()
            .starts_with("powershell.exe -NoProfile -NonInteractive -Command \"")
    );
    assert_eq!(
        item(&m, "events")["command"],
        "wevtutil qe Application /q:\"*[System[Provider[@Name='MSExchange Mitigation Service'] or (EventID=4999)]]\" /f:xml /rd:true /c:500"
    );
    // The TLS keys of tls-config-weak: SCHANNEL with its Client/Server subkeys.
    assert_eq!(
        item(&m, "schannel-tls12")["command"],
        r#"reg query "HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2" /s"#
    );
    assert_eq!(
        item(&m, "dotnet-v4-wow6432node")["command"],
        r#"reg query "HKLM\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319""#
    );
    assert_eq!(
        item(&m, "netsh-proxy")["command"],
        "netsh winhttp show proxy"
    );
    assert!(item(&m, "mitigation-logs")["error"].is_null());

    // The diagnosis of the collected bundle is the sample's story.
    let v = analyze_json(&out);
    let findings = ids(&v, "findings");
    for id in ["proxy-exchange-missing", "ocs-unreachable", "fetch-stale"] {
        assert!(findings.contains(&id.to_owned()), "{findings:?}");
    }
    assert_eq!(
        v["servers"][0]["root_causes"][0]["id"],
        "proxy-exchange-missing"
    );
    // The manifest is recognised, never an unrecognised input.
    let inputs = v["servers"][0]["inputs"].as_array().unwrap();
    let man = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("manifest.json"))
        .unwrap();
    assert_eq!(man["kind"], "evidence-manifest");
    assert!(
        inputs.iter().all(|i| i["status"] != "unrecognized"),
        "{inputs:#?}"
    );
}

#[test]
fn missing_tools_are_recorded_and_install_path_comes_from_the_registry() {
    let s = Server::new();
    std::fs::remove_file(s.path().join("bin/wevtutil")).unwrap();
    let out = s.path().join("b");
    let path = std::env::var_os("PATH").unwrap_or_default();
    // Only the stand-ins dir and /bin (for sh/cat): no wevtutil anywhere.
    let run = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["collect", "--no-probe", "--out", out.to_str().unwrap()])
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", s.path().join("bin").display()),
        )
        .env_remove("ExchangeInstallPath")
        .env("EEMS_STANDIN_FAIL_EXSETUP", "1")
        .env("EEMS_STANDIN_SILENT_NETSH", "1")
        .output()
        .unwrap();
    let _ = path;
    assert_eq!(run.status.code(), Some(0));
    let m = manifest(&out);
    let ev = item(&m, "events");
    assert!(ev["exit_code"].is_null());
    assert!(
        ev["error"].as_str().unwrap().contains("not found"),
        "{ev:#}"
    );
    // ExchangeInstallPath unset: the Setup key's MsiInstallPath is used.
    assert_eq!(
        m["exchange_path"],
        "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\"
    );
    assert!(item(&m, "mitigation-logs")["error"].is_string());
    let x = item(&m, "exsetup-version");
    assert!(
        x["command"]
            .as_str()
            .unwrap()
            .contains("'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\ExSetup.exe'")
    );
    assert_eq!(x["exit_code"], 1);
    // Exit code 0 and no output is not evidence: recorded as an error, no file.
    let n = item(&m, "netsh-proxy");
    assert_eq!(n["exit_code"], 0);
    assert_eq!(n["error"], "exited with code 0 but printed nothing");
    assert!(n["output"].is_null());
    assert!(!out.join("netsh-winhttp-show-proxy.txt").exists());
}

#[test]
fn unusable_out_is_fatal() {
    let s = Server::new();
    let file = s.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let run = s.doctor(&[
        "collect",
        "--no-probe",
        "--out",
        file.join("sub").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(3));
}

/// Every byte of every file under `p` (zip entries read through the zip too).
fn all_text(p: &Path) -> String {
    let mut s = String::new();
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            s.push_str(&all_text(&e.unwrap().path()));
        }
    } else {
        let b = std::fs::read(p).unwrap();
        s.push_str(&String::from_utf8_lossy(&b));
        // UTF-16 files: scan their decoded text too.
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        s.push_str(&String::from_utf16_lossy(&units));
        if p.extension().is_some_and(|e| e == "zip") {
            let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
            for i in 0..z.len() {
                let mut e = z.by_index(i).unwrap();
                s.push_str(e.name());
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut buf).unwrap();
                s.push_str(&String::from_utf8_lossy(&buf));
            }
        }
    }
    s
}

#[test]
fn redacted_bundle_keeps_the_diagnosis_and_no_original_name() {
    let s = Server::new();
    let plain = s.path().join("plain");
    let red = s.path().join("red");
    assert_eq!(
        s.doctor(&["collect", "--no-probe", "--out", plain.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let run = s.doctor(&[
        "collect",
        "--no-probe",
        "--redact",
        "--zip",
        "--out",
        red.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let zip = s.path().join("red.zip");
    assert!(zip.is_file() && !red.exists());
    let a = analyze_json(&plain);
    let b = analyze_json(&zip);
    assert_eq!(ids(&a, "findings"), ids(&b, "findings"));
    assert_eq!(ids(&a, "root_causes"), ids(&b, "root_causes"));
    assert_eq!(a["servers"][0]["status"], b["servers"][0]["status"]);

    // Also redacted as a directory, for a plain-file scan.
    let red_dir = s.path().join("red-dir");
    assert_eq!(
        s.doctor(&[
            "collect",
            "--no-probe",
            "--redact",
            "--out",
            red_dir.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    let m = manifest(&red_dir);
    assert_eq!(m["redacted"], true);
    let host = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    for bundle in [&zip, &red_dir] {
        let text = all_text(bundle).to_ascii_lowercase();
        for original in ["lonex04", "contoso", "10.20.30.40", "52.109.8.21"] {
            assert!(
                !text.contains(original),
                "`{original}` survives in {}",
                bundle.display()
            );
        }
        if host.len() >= 3 {
            assert!(
                !text.contains(&host),
                "host name survives in {}",
                bundle.display()
            );
        }
        // Microsoft endpoints, products and builds stay.
        assert!(text.contains("officeclient.microsoft.com"));
        assert!(text.contains("15.02.1118.040") || text.contains("15.2 (build 1118.7)"));
        assert!(text.contains("server-1"));
    }
}

fn zip_with(entries: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("evil.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, b) in entries {
        z.start_file(*n, o).unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
    (d, p)
}

#[test]
fn zip_entries_that_escape_are_rejected_and_never_written() {
    let good = std::fs::read(
        root()
            .join("samples")
            .join(SAMPLE)
            .join("get-exchangeserver-fl.txt"),
    )
    .unwrap();
    let (d, p) = zip_with(&[
        ("../escaped.txt", b"netsh".as_slice()),
        ("/abs.txt", b"x".as_slice()),
        ("a/../../b.txt", b"x".as_slice()),
        ("get-exchangeserver-fl.txt", good.as_slice()),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["analyze", p.to_str().unwrap(), "--format", "json"])
        .current_dir(d.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The problem text is what `parse` shows for each input.
    let parsed = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["parse", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&parsed.stdout);
    assert_eq!(text.matches("escapes the bundle").count(), 3, "{text}");
    let listed = v["servers"][0]["inputs"].as_array().unwrap();
    assert_eq!(
        listed.iter().filter(|i| i["status"] == "error").count(),
        3,
        "{listed:#?}"
    );
    assert!(listed.iter().any(|i| i["kind"] == "exchange-server"));
    assert!(!d.path().parent().unwrap().join("escaped.txt").exists());
    assert!(!Path::new("/abs.txt").exists());
}

/// `eems-doctor ARGS` under an address-space limit: an unbounded read of
/// the bomb (1 GiB) cannot fit.
fn doctor_limited(args: &[&str]) -> Output {
    let mut cmd = format!(
        "ulimit -v 786432; exec '{}'",
        env!("CARGO_BIN_EXE_eems-doctor")
    );
    for a in args {
        cmd.push_str(&format!(" '{a}'"));
    }
    Command::new("sh").args(["-c", &cmd]).output().unwrap()
}

#[test]
fn zip_bombs_are_rejected_within_bounded_memory() {
    // One entry of 1 GiB of zeros (about 1 MiB compressed).
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bomb.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(true);
        z.start_file("get-service.txt", o).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            z.write_all(&chunk).unwrap();
        }
        z.finish().unwrap();
    }
    assert!(std::fs::metadata(&p).unwrap().len() < 16 << 20);
    let t = std::time::Instant::now();
    let out = doctor_limited(&["parse", p.to_str().unwrap(), "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("zip bomb guard"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "zip bomb (1 GiB entry) rejected in {} ms",
        t.elapsed().as_millis()
    );

    // Too many entries.
    let many: Vec<(String, Vec<u8>)> = (0..10_001)
        .map(|i| (format!("f{i}.txt"), Vec::new()))
        .collect();
    let refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let (_d2, p2) = zip_with(&refs);
    let out = doctor_limited(&["analyze", p2.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let parsed = doctor_limited(&["parse", p2.to_str().unwrap(), "--format", "json"]);
    assert!(String::from_utf8_lossy(&parsed.stdout).contains("more than 10000"));
}

/// The logs are copied newest first within `--max-logs-size` (issue 14);
/// the older ones left out are named in the manifest, and the bundle still
/// analyses.
#[test]
fn logs_past_the_total_budget_are_left_out_oldest_first() {
    let s = Server::new();
    let logs = s.path().join("ex/Logging/MitigationService");
    let now = std::time::SystemTime::now();
    let day = std::time::Duration::from_secs(86_400);
    // Three logs of 10 KiB, one, two and three days old.
    for (i, name) in ["old.LOG", "older.LOG", "oldest.LOG"].iter().enumerate() {
        let p = logs.join(name);
        std::fs::write(&p, vec![b'x'; 10 * 1024]).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(now - day * (i as u32 + 1)).unwrap();
    }
    // The sample's own logs (written now) plus `old.LOG` and `older.LOG` fit.
    let sample: u64 = std::fs::read_dir(
        root()
            .join("samples")
            .join(SAMPLE)
            .join("MitigationService"),
    )
    .unwrap()
    .map(|e| e.unwrap().metadata().unwrap().len())
    .sum();
    let budget = (sample + 25 * 1024).to_string();
    let out = s.path().join("bundle");
    let run = s.doctor(&[
        "collect",
        "--no-probe",
        "--max-logs-size",
        &budget,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0));
    let m = manifest(&out);
    let logs_item = item(&m, "mitigation-logs");
    let copied: Vec<&str> = logs_item["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(copied.contains(&"MitigationService/old.LOG"), "{copied:?}");
    assert!(
        copied.contains(&"MitigationService/older.LOG"),
        "{copied:?}"
    );
    assert!(
        !copied.contains(&"MitigationService/oldest.LOG"),
        "{copied:?}"
    );
    assert!(!out.join("MitigationService/oldest.LOG").exists());
    let error = logs_item["error"].as_str().unwrap();
    assert!(
        error.contains("1 older log(s) not copied") && error.contains("oldest.LOG (10240 bytes)"),
        "{error}"
    );
    // The sample's story is still told.
    let v = analyze_json(&out);
    assert_eq!(
        v["servers"][0]["root_causes"][0]["id"],
        "proxy-exchange-missing"
    );
}
