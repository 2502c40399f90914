//! Text with inline markup, for the HTML report: a finding's or check's
//! text quotes commands and values in backticks, and the embedded check
//! documentation is Markdown. Both are escaped here, whole, and only the
//! markup this module writes is HTML: templates print its result `|safe`.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// `&`, `<`, `>`, `"` and `'` as character references.
fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Plain text with `code spans` as `<code>`, everything escaped. Only
/// backticks are markup: finding texts quote evidence (`*.contoso.com`,
/// `C:\Program Files\…`) that other Markdown syntax would mangle. An
/// unpaired backtick stays as it is.
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let parts: Vec<&str> = text.split('`').collect();
    // An even number of parts means one backtick has no partner: the last
    // one is then shown literally.
    let paired = if parts.len() % 2 == 0 {
        parts.len() - 1
    } else {
        parts.len()
    };
    for (i, p) in parts.iter().enumerate() {
        if i >= paired {
            out.push('`');
            escape(p, &mut out);
        } else if i % 2 == 1 && !p.is_empty() {
            out.push_str("<code>");
            escape(p, &mut out);
            out.push_str("</code>");
        } else if i % 2 == 1 {
            out.push_str("``");
        } else {
            escape(p, &mut out);
        }
    }
    out
}

/// A check's documentation section (Markdown, from `docs/checks.md`) as
/// HTML: paragraphs, lists, bold, emphasis, code. Its `## id` heading is
/// left out (the page names the check beside it); raw HTML in the source is
/// shown as text; links are kept only when absolute `https://` (a report is
/// read far from the source tree: a relative link would be dead).
pub(crate) fn markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len() * 5 / 4);
    let mut in_heading = false;
    // Per open link: whether it was written as `<a>`.
    let mut links: Vec<bool> = Vec::new();
    for ev in Parser::new(md) {
        match ev {
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            _ if in_heading => {}
            Event::Start(t) => match t {
                Tag::Paragraph => out.push_str("<p>"),
                Tag::List(Some(_)) => out.push_str("<ol>"),
                Tag::List(None) => out.push_str("<ul>"),
                Tag::Item => out.push_str("<li>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::CodeBlock(_) => out.push_str("<pre><code>"),
                Tag::Link { dest_url, .. } => {
                    let kept = dest_url.starts_with("https://");
                    if kept {
                        out.push_str("<a href=\"");
                        escape(&dest_url, &mut out);
                        out.push_str("\">");
                    }
                    links.push(kept);
                }
                _ => {}
            },
            Event::End(t) => match t {
                TagEnd::Paragraph => out.push_str("</p>\n"),
                TagEnd::List(true) => out.push_str("</ol>\n"),
                TagEnd::List(false) => out.push_str("</ul>\n"),
                TagEnd::Item => out.push_str("</li>\n"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::CodeBlock => out.push_str("</code></pre>\n"),
                TagEnd::Link if links.pop() == Some(true) => out.push_str("</a>"),
                _ => {}
            },
            Event::Code(c) => {
                out.push_str("<code>");
                escape(&c, &mut out);
                out.push_str("</code>");
            }
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => escape(&t, &mut out),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push_str("<br>"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code_and_everything_is_escaped() {
        assert_eq!(
            inline("run `netsh winhttp show proxy` <now>"),
            "run <code>netsh winhttp show proxy</code> &#60;now&#62;"
        );
        assert_eq!(
            inline("`<script>alert(1)</script>`"),
            "<code>&#60;script&#62;alert(1)&#60;/script&#62;</code>"
        );
        // An unpaired backtick is text.
        assert_eq!(inline("a ` b `c` d"), "a <code> b </code>c` d");
        assert_eq!(inline("it's *.contoso.com"), "it&#39;s *.contoso.com");
        assert_eq!(inline("x `` y"), "x `` y");
    }

    #[test]
    fn documentation_markdown_is_html_without_raw_html_or_dead_links() {
        let md = "## some-id\n\n**What it checks.** Runs `certutil` <b>now</b>.\n\n- one\n- [docs](docs/checks.md#x) and [MS](https://learn.microsoft.com/x)\n";
        let html = markdown(md);
        assert!(!html.contains("some-id"), "{html}");
        assert!(html.contains("<p><strong>What it checks.</strong> Runs <code>certutil</code> &#60;b&#62;now&#60;/b&#62;.</p>"), "{html}");
        assert!(
            html.contains("<ul>\n<li>one</li>") || html.contains("<ul><li>one</li>"),
            "{html}"
        );
        assert!(
            html.contains("docs and <a href=\"https://learn.microsoft.com/x\">MS</a>"),
            "{html}"
        );
        assert!(!html.contains("checks.md"), "{html}");
    }
}
