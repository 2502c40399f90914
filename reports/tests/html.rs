//! The HTML page: a stable snapshot, escaping, and no external resource.

// Helpers outside #[test] functions unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use eems_reports::to_html;

#[test]
fn two_server_snapshot() {
    insta::assert_snapshot!(to_html(&common::two_servers()));
}

#[test]
fn evidence_text_is_escaped() {
    let html = to_html(&common::hostile());
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "raw script tag in output"
    );
    assert!(!html.contains("alert(1)</"));
    // Every place the hostile string was put shows up escaped (askama
    // writes numeric references: &#60; for <).
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    for context in [
        "title ",
        "excerpt ",
        "cause excerpt ",
        "step ",
        "explanation ",
        "cmd ",
        "reason ",
        "EX01",
        "Write-Host &#39;",
    ] {
        assert!(
            html.contains(&format!("{context}{escaped}")),
            "missing escaped {context}"
        );
    }
    assert!(html.contains(&format!("{escaped}.txt")), "input path");
    assert!(html.contains("&#34;quoted&#34; &#38; &#39;single&#39;"));
}

/// Collects `attr="value"` values (double or single quoted).
fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        let needle = format!("{attr}={quote}");
        let mut rest = html;
        while let Some(i) = rest.find(&needle) {
            rest = &rest[i + needle.len()..];
            let end = rest.find(quote).unwrap();
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for attr in ["src", "href", "srcset", "action", "data", "poster"] {
        for v in attr_values(&lower, attr) {
            let v = v.trim();
            assert!(
                !(v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//")),
                "external {attr}={v}"
            );
            assert!(!v.starts_with("javascript:"), "{attr}={v}");
        }
    }
    assert!(!lower.contains("@import"));
    assert!(!lower.contains("url("));
    assert!(!lower.contains("<script"));
    assert!(!lower.contains("<link"));
    assert!(!lower.contains("<img"));
    assert!(!lower.contains("<iframe"));
    // With no external reference, no http(s) URL may appear outside text;
    // any that does must be inside escaped text, i.e. not in a tag attribute.
    for scheme in ["http://", "https://"] {
        for (i, _) in lower.match_indices(scheme) {
            let before = &lower[..i];
            let open = before.rfind('<').unwrap_or(0);
            let close = before.rfind('>').unwrap_or(0);
            assert!(close >= open, "URL inside a tag: {}", &html[open..i + 20]);
        }
    }
}

#[test]
fn no_external_resources() {
    assert_self_contained(&to_html(&common::two_servers()));
    assert_self_contained(&to_html(&common::real_diagnosis()));
    let hostile = to_html(&common::hostile());
    assert_self_contained(&hostile);
    // A URL in the evidence stays visible as text.
    assert!(hostile.contains("see https://officeclient.microsoft.com/getexchangemitigations"));
}

/// No dead links: a report is read far from the source tree, so each
/// finding embeds its check's documentation (the text of `explain`).
#[test]
fn docs_are_embedded_not_linked() {
    let html = to_html(&common::two_servers());
    assert!(!html.contains("href=\"docs/"));
    assert!(html.contains("<a href=\"#about-build-before-march-2023\">About this check</a>"));
    // Each check's text once per page, however many servers have its finding.
    assert_eq!(
        html.matches("<div class=\"about\" id=\"about-build-before-march-2023\"><p><strong>What it checks.</strong>")
        .count(),
        1
    );
    // Rendered, not shown as Markdown: no `**` or backtick is left.
    let about = html
        .split("id=\"about-build-before-march-2023\">")
        .nth(1)
        .and_then(|t| t.split("</div>").next())
        .unwrap();
    assert!(!about.contains("**") && !about.contains('`'), "{about}");
    assert!(about.contains("<code>"), "{about}");
    let mut report = common::one_server();
    report.servers[0].findings[0].docs = "https://evil.example/x".into();
    let html = to_html(&report);
    assert!(!html.contains("evil.example"));
}

#[test]
fn every_check_has_a_row_with_outcome_word() {
    let report = common::two_servers();
    let html = to_html(&report);
    for d in &report.servers {
        for c in &d.checks {
            assert!(html.contains(&format!("<code class=\"id\">{}</code>", c.id)));
        }
    }
    for word in ["pass", "fail", "skip", "error"] {
        assert!(
            html.contains(&format!("<span class=\"oc oc-{word}\">{word}</span>")),
            "no {word} cell"
        );
    }
}

#[test]
fn structure_headline_first_summary_only_for_several_servers() {
    let two = to_html(&common::two_servers());
    assert!(two.contains("<h2 id=\"summary-h\">Summary</h2>"));
    let one = to_html(&common::one_server());
    assert!(!one.contains("Summary</h2>"));
    // Headline, then other causes, findings, checks (passing ones
    // collapsed), inputs.
    let order = [
        "Most likely root cause",
        "Other root causes",
        "<h3>Findings",
        "<h3>Checks",
        "<details class=\"passed\"><summary>",
        "<h3>Inputs read",
    ];
    let pos: Vec<usize> = order.iter().map(|s| one.find(s).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    assert!(one.contains("<pre class=\"cmd\"><code>Get-Command ExSetup.exe"));
    assert!(one.contains("@media print"));
    // The headline's finding (same evidence and fix) is not repeated.
    assert_eq!(
        one.matches("The most likely root cause, above").count(),
        1,
        "{one}"
    );
    assert!(one.contains("unrecognized"));
    assert!(one.contains("notes from customer.docx"));
}

#[test]
fn empty_and_unnamed_reports_render() {
    let mut report = common::one_server();
    report.servers[0].server = None;
    report.servers[0].build = None;
    report.servers[0].root_causes.clear();
    let html = to_html(&report);
    assert!(html.contains("(unnamed server)"));
    assert!(html.contains("No root cause was found"));
    assert!(html.contains("build unknown"));
    let empty = eems_reports::Report {
        servers: vec![],
        ..common::two_servers()
    };
    assert!(to_html(&empty).contains("0 servers"));
}

/// Not a check: writes the sample pages for a look in a browser
/// (`cargo test -p eems-reports --test html -- --ignored write_sample_pages`).
#[test]
#[ignore]
fn write_sample_pages() {
    let dir = std::env::temp_dir();
    std::fs::write(dir.join("report.html"), to_html(&common::two_servers())).unwrap();
    std::fs::write(
        dir.join("report-real.html"),
        to_html(&common::real_diagnosis()),
    )
    .unwrap();
    std::fs::write(dir.join("report-hostile.html"), to_html(&common::hostile())).unwrap();
}

#[test]
fn live_probe_section() {
    let html = to_html(&common::probe_diagnosis());
    assert!(html.contains("<h3>Live probe</h3>"));
    assert!(html.contains("<span class=\"po po-failed\">failed</span>"));
    assert!(html.contains("<span class=\"po po-ok\">ok</span>"));
    assert!(html.contains("CN=Zscaler Root CA"));
    assert!(html.contains(&"2E".repeat(32)), "SHA-256 thumbprint");
    assert!(html.contains("gateway.zscalerthree.net/crl/zs3-kek--4-1.crl"));
    assert!(html.contains("WinHTTP proxy proxy.contoso.com:8080"));
    // No probe, no section.
    assert!(!to_html(&common::two_servers()).contains("Live probe"));
}

#[test]
fn probe_text_is_escaped() {
    let html = to_html(&common::hostile_probe());
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "raw script tag in output"
    );
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    for context in [
        "dns",
        "reason",
        "CN=leaf",
        "CN=issuer",
        "http://crl",
        "block page",
        "failed",
    ] {
        assert!(
            html.contains(&format!("{context}{escaped}")),
            "missing escaped {context}"
        );
    }
}

#[test]
fn probe_diagnosis_snapshot() {
    insta::assert_snapshot!(to_html(&common::probe_diagnosis()));
}
