//! Reports are inert: evidence carrying `<script>`, `onerror=` and
//! `javascript:` payloads (in log rows, event messages and server names)
//! is escaped, the page forbids scripts with a Content-Security-Policy, and
//! in a real browser (headless Chromium) none of it runs: each payload
//! would change `document.title`.

#![allow(clippy::unwrap_used)] // a panic in a test is a test failure

mod support;

use std::path::Path;
use std::process::Command;

const PWNED: &str = "PWNED";

fn hostile_bundle(dir: &Path) {
    let js = format!("document.title='{PWNED}'");
    let server = format!("EX<script>{js}</script>");
    let mut log = String::from(
        "\u{feff}#Software: Microsoft Exchange Server\r\n#Version: 15.02.1544.014\r\n#Log-type: Mitigation Service Logs\r\n#Fields: DateTime,ServerName,Operation,CustomData\r\n",
    );
    for h in 10..14 {
        log.push_str(&format!("2024-03-14T{h}:10:04.233Z,{server},FetchMitigation,S:LogLevel=Information;S:Message=Fetching mitigations from https://officeclient.microsoft.com/getexchangemitigations\r\n"));
        log.push_str(&format!("2024-03-14T{h}:10:05.447Z,{server},FetchMitigation,S:LogLevel=Error;S:Message=Exception encountered while fetching mitigations : <img src=x onerror=\"{js}\"> <a href=\"javascript:{js}\">click</a> The remote server returned an error: (407) Proxy Authentication Required.\r\n"));
    }
    std::fs::create_dir_all(dir.join("MitigationService")).unwrap();
    std::fs::write(
        dir.join("MitigationService/MitigationService_2024031410-1.LOG"),
        log,
    )
    .unwrap();
    let event = format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange Mitigation Service'/><EventID>1008</EventID><Level>2</Level><TimeCreated SystemTime='2024-03-14T10:10:05.4470000Z'/><Computer>&lt;svg onload=&quot;{js}&quot;&gt;</Computer></System><EventData><Data>Exception encountered while fetching mitigations : System.Net.WebException: &lt;script&gt;{js}&lt;/script&gt; The remote name could not be resolved: 'officeclient.microsoft.com'</Data></EventData></Event>\n"
    );
    std::fs::write(dir.join("events.xml"), event).unwrap();
    std::fs::write(
        dir.join("get-exchangeserver-fl.txt"),
        format!("\r\nName               : <img src=x onerror={js}>\r\nMitigationsEnabled : True\r\nInternetWebProxy   : javascript:{js}\r\n\r\n"),
    )
    .unwrap();
}

#[test]
fn hostile_evidence_does_not_run_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    hostile_bundle(&bundle);
    let html = dir.path().join("report.html");
    let st = Command::new(env!("CARGO_BIN_EXE_eems-doctor"))
        .args(["analyze", "--format", "html", "-o"])
        .arg(&html)
        .arg(&bundle)
        .status()
        .unwrap();
    assert!(matches!(st.code(), Some(0..=2)), "{st:?}");
    let page = std::fs::read_to_string(&html).unwrap();

    // Static: the payloads are there, escaped; nothing executable is.
    // askama escapes `<` as `&#60;`.
    let escaped = |t: &str| t.contains("&#60;script&#62;") || t.contains("&lt;script&gt;");
    assert!(escaped(&page), "the payload should be shown as text");
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("default-src 'none'"));
    let lower = page.to_ascii_lowercase();
    assert!(
        !lower.contains("<script"),
        "a script element made it into the page"
    );
    assert!(
        !lower.contains("<img"),
        "an img element made it into the page"
    );
    assert!(
        !lower.contains("<svg"),
        "an svg element made it into the page"
    );
    assert!(
        !lower.contains("href=\"javascript:"),
        "a javascript: link made it into the page"
    );

    // Dynamic: load it in a real browser and read back the DOM after scripts had their chance.
    // The static checks above run everywhere; the browser only in the lab.
    if !support::lab("headless Chromium") {
        return;
    }
    let (dom, stderr) = support::chromium::dump_dom(&html, 1200);
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap_or_else(|| panic!("no <title> in the dumped DOM: {stderr}"));
    assert!(title.starts_with("eems-doctor report"), "title: {title}");
    assert!(!title.contains(PWNED), "a payload ran: title is {title}");
    // The browser did render our page (the payload text is visible as text).
    assert!(escaped(&dom), "the DOM lost the escaped payload");
}
