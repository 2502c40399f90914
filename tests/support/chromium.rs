//! The one headless Chromium runner of the tests (`inert_reports`,
//! `report_layout`): found on PATH, started with a fresh profile and no
//! network chatter, bounded in time, and reaped.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The Chromium program; missing, the (lab) test fails loudly.
pub fn program() -> &'static str {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("headless Chromium is needed for this test: apt-get install chromium (tests/run.sh does)")
}

/// Run headless Chromium on `page` with `args` added to the common flags;
/// killed after 60 s.
pub fn run(page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(program())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .args(args)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so a chatty browser cannot block on them.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// The DOM of `page` after its scripts had their chance (3 s of virtual
/// time), at a `width`×900 window.
pub fn dump_dom(page: &Path, width: u32) -> (String, String) {
    let size = format!("--window-size={width},900");
    let out = run(
        page,
        &[
            "--hide-scrollbars",
            &size,
            "--virtual-time-budget=3000",
            "--dump-dom",
        ],
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Print `page` to `pdf` (Chromium's default paper, Letter; no header or
/// footer) and return its page count.
pub fn print_to_pdf(page: &Path, pdf: &Path) -> usize {
    let to = format!("--print-to-pdf={}", pdf.display());
    let out = run(page, &["--no-pdf-header-footer", &to]);
    let bytes = std::fs::read(pdf).unwrap_or_else(|e| {
        panic!(
            "no PDF from Chromium ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    pages(&bytes)
}

/// Page objects in a PDF: `/Type /Page` (not `/Pages`).
fn pages(pdf: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = pdf;
    while let Some(i) = rest.windows(5).position(|w| w == b"/Type") {
        rest = &rest[i + 5..];
        let t = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let after = &rest[t..];
        if after.starts_with(b"/Page") && after.get(5) != Some(&b's') {
            n += 1;
        }
    }
    n
}
