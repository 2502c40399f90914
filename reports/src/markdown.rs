//! Markdown (a check's section of `docs/checks.md`) rendered for a terminal:
//! headings underlined, paragraphs wrapped at the text report's width, a
//! paragraph that opens with a bold label (`**Remediation.**`) shown as a
//! sub-heading with its text indented under it, lists with hanging indents.
//! A code span (a command, a quoted log line) is never broken across lines,
//! so it can be copied whole; it is coloured, or keeps its backticks without
//! colour. pulldown-cmark does the parsing, so emphasis, links and escapes
//! follow CommonMark rather than a hand-written guess.

use crate::text::WIDTH;
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const ITALIC: &str = "\x1b[3m";
const CYAN: &str = "\x1b[36m";

/// How far the text under a bold label is indented.
const LABEL_INDENT: usize = 2;

/// `md` for a terminal `WIDTH` columns wide, with ANSI styles when `color`.
pub fn to_terminal(md: &str, color: bool) -> String {
    let mut r = Renderer {
        color,
        ..Renderer::default()
    };
    for event in Parser::new(md) {
        r.event(event);
    }
    r.flush();
    let mut out = r.out;
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    bold: bool,
    italic: bool,
    code: bool,
}

/// A piece of text in one style; a word is a run of pieces with no space
/// between them (`(`, a code span, `)`), wrapped as one.
struct Piece {
    text: String,
    style: Style,
}

struct List {
    /// The next number of an ordered list; `None` for bullets.
    next: Option<u64>,
    /// The indent of the list's markers.
    base: usize,
}

#[derive(Default)]
struct Renderer {
    color: bool,
    out: String,
    /// The words of the block being read, written when it ends.
    words: Vec<Vec<Piece>>,
    /// The last word takes the next text without a space.
    glue: bool,
    bold: usize,
    italic: usize,
    /// The indent of the current block's text.
    indent: usize,
    /// 0, or [`LABEL_INDENT`] under a bold label.
    section: usize,
    lists: Vec<List>,
    /// The marker (`- `, `2. `) the next line of an item starts with.
    marker: Option<String>,
    /// A blank line goes before the next block.
    blank: bool,
    heading: Option<HeadingLevel>,
    /// The paragraph opened with bold text, which may be a label.
    label: LabelState,
    code_block: Option<String>,
    /// A label was written and no text after it yet: the text (or list)
    /// that follows goes right under it, without a blank line.
    just_labelled: bool,
}

#[derive(Default, PartialEq, Eq)]
enum LabelState {
    #[default]
    No,
    /// A top-level paragraph just started: a `Strong` now opens a label.
    ParagraphStart,
    /// Inside that opening `Strong`.
    InStrong,
}

impl Renderer {
    fn style(&self) -> Style {
        Style {
            bold: self.bold > 0,
            italic: self.italic > 0,
            code: false,
        }
    }

    fn event(&mut self, event: Event<'_>) {
        if self.label == LabelState::ParagraphStart && !matches!(event, Event::Start(Tag::Strong)) {
            self.label = LabelState::No;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => match &mut self.code_block {
                Some(buf) => buf.push_str(&t),
                None => self.text(&t),
            },
            Event::Code(c) => self.piece(
                c.into_string(),
                Style {
                    code: true,
                    ..self.style()
                },
            ),
            // Inline HTML in the docs is literal text such as `<server>`.
            Event::Html(t) | Event::InlineHtml(t) => self.text(&t),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
            Event::FootnoteReference(t) => self.text(&format!("[^{t}]")),
            Event::SoftBreak | Event::HardBreak => self.glue = false,
            Event::Rule => {
                self.flush();
                self.block_start();
                self.out.push_str(&"-".repeat(40));
                self.out.push('\n');
                self.blank = true;
            }
            Event::TaskListMarker(done) => self.text(if done { "[x]" } else { "[ ]" }),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.flush();
                self.heading = Some(level);
                self.section = 0;
                self.indent = 0;
            }
            Tag::Paragraph if self.lists.is_empty() => {
                self.label = LabelState::ParagraphStart;
            }
            Tag::Strong => {
                if self.label == LabelState::ParagraphStart {
                    self.label = LabelState::InStrong;
                }
                self.bold += 1;
            }
            Tag::Emphasis => self.italic += 1,
            Tag::List(start) => {
                // The text of a tight item comes before its nested list.
                self.flush();
                let base = if self.lists.is_empty() {
                    self.section
                } else {
                    self.indent
                };
                self.lists.push(List { next: start, base });
            }
            Tag::Item => {
                self.flush();
                if let Some(list) = self.lists.last_mut() {
                    let marker = match &mut list.next {
                        Some(n) => {
                            let m = format!("{n}. ");
                            *n += 1;
                            m
                        }
                        None => "- ".to_owned(),
                    };
                    self.indent = list.base + marker.chars().count();
                    self.marker = Some(marker);
                }
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.code_block = Some(String::new());
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(level) => {
                let words = std::mem::take(&mut self.words);
                let text = words
                    .iter()
                    .map(|w| w.iter().map(|p| p.text.as_str()).collect::<String>())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.block_start();
                let rule = if level <= HeadingLevel::H2 { '=' } else { '-' };
                let underline: String = std::iter::repeat_n(rule, text.chars().count()).collect();
                let styled = self.paint(&text, BOLD);
                self.out.push_str(&format!("{styled}\n{underline}\n"));
                self.heading = None;
                self.glue = false;
                self.blank = true;
            }
            TagEnd::Strong => {
                self.bold = self.bold.saturating_sub(1);
                // `**Remediation.**`: a label; `**Note** that…` stays bold text.
                if self.label == LabelState::InStrong {
                    self.label = LabelState::No;
                    let ends = self
                        .words
                        .last()
                        .and_then(|w| w.last())
                        .map(|p| p.text.as_str());
                    if ends.is_some_and(|t| t.ends_with(['.', ':'])) {
                        self.label_line();
                    }
                }
            }
            TagEnd::Emphasis => self.italic = self.italic.saturating_sub(1),
            TagEnd::Paragraph => {
                self.flush();
                self.blank = !self.just_labelled;
                self.just_labelled = false;
            }
            TagEnd::Item => self.flush(),
            TagEnd::List(_) => {
                self.flush();
                if let Some(list) = self.lists.pop() {
                    self.indent = list.base;
                }
                if self.lists.is_empty() {
                    self.indent = self.section;
                    self.blank = true;
                }
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code_block.take() {
                    self.block_start();
                    let pad = " ".repeat(self.indent + 4);
                    for line in code.trim_end_matches('\n').lines() {
                        let line = self.paint(line, CYAN);
                        self.out.push_str(&format!("{pad}{line}\n"));
                    }
                    self.blank = true;
                }
            }
            _ => {}
        }
    }

    /// The bold words read so far are a label: a line of their own, and the
    /// rest of the section indented under it.
    fn label_line(&mut self) {
        let words = std::mem::take(&mut self.words);
        let text = words
            .iter()
            .map(|w| w.iter().map(|p| p.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        let text = text.trim_end_matches(['.', ':']);
        self.block_start();
        let styled = self.paint(text, BOLD);
        self.out.push_str(&styled);
        self.out.push('\n');
        self.glue = false;
        self.section = LABEL_INDENT;
        self.indent = LABEL_INDENT;
        self.just_labelled = true;
    }

    fn text(&mut self, t: &str) {
        let style = self.style();
        for (i, part) in t.split(char::is_whitespace).enumerate() {
            if i > 0 {
                self.glue = false;
            }
            if !part.is_empty() {
                self.piece(part.to_owned(), style);
            }
        }
    }

    fn piece(&mut self, text: String, style: Style) {
        self.just_labelled = false;
        let piece = Piece { text, style };
        match self.words.last_mut() {
            Some(word) if self.glue => word.push(piece),
            _ => self.words.push(vec![piece]),
        }
        self.glue = true;
    }

    fn block_start(&mut self) {
        if self.blank && !self.out.is_empty() {
            self.out.push('\n');
        }
        self.blank = false;
    }

    /// Write the words read so far as one wrapped block.
    fn flush(&mut self) {
        if self.heading.is_some() || self.words.is_empty() {
            return;
        }
        let words = std::mem::take(&mut self.words);
        self.glue = false;
        self.block_start();
        let rest = " ".repeat(self.indent);
        let mut line = match self.marker.take() {
            Some(m) => format!("{}{m}", " ".repeat(self.indent.saturating_sub(m.len()))),
            None => rest.clone(),
        };
        let mut len = line.chars().count();
        let mut empty = true;
        for word in &words {
            let w: usize = word.iter().map(|p| self.width(p)).sum();
            // A word longer than a line (a URL, a command) gets a line of its own.
            if !empty && len + 1 + w > WIDTH {
                self.out.push_str(line.trim_end());
                self.out.push('\n');
                line = rest.clone();
                len = self.indent;
                empty = true;
            }
            if !empty {
                line.push(' ');
                len += 1;
            }
            for p in word {
                line.push_str(&self.render(p));
            }
            len += w;
            empty = false;
        }
        self.out.push_str(line.trim_end());
        self.out.push('\n');
    }

    /// Columns a piece takes: without colour a code span keeps its backticks.
    fn width(&self, p: &Piece) -> usize {
        p.text.chars().count() + if p.style.code && !self.color { 2 } else { 0 }
    }

    fn render(&self, p: &Piece) -> String {
        if !self.color {
            return if p.style.code {
                format!("`{}`", p.text)
            } else {
                p.text.clone()
            };
        }
        let mut codes = String::new();
        if p.style.bold {
            codes.push_str(BOLD);
        }
        if p.style.italic {
            codes.push_str(ITALIC);
        }
        if p.style.code {
            codes.push_str(CYAN);
        }
        if codes.is_empty() {
            p.text.clone()
        } else {
            format!("{codes}{}{RESET}", p.text)
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_labels_lists_and_code_spans() {
        let md = "## some-check\n\n**What it checks.** Whether `a b` is *set*.\n\n\
                  **Remediation.**\n- First step.\n- Confirm: `Get-Thing -Name x`.\n\n\
                  See [other-check](#other-check).\n";
        let plain = to_terminal(md, false);
        assert_eq!(
            plain,
            "some-check\n==========\n\nWhat it checks\n  Whether `a b` is set.\n\n\
             Remediation\n  - First step.\n  - Confirm: `Get-Thing -Name x`.\n\n  See other-check.\n"
        );
        assert!(!plain.contains("**") && !plain.contains("]("));
        let colored = to_terminal(md, true);
        assert!(colored.contains("\x1b[1msome-check\x1b[0m"), "{colored}");
        assert!(colored.contains("\x1b[36ma b\x1b[0m"), "{colored}");
        assert!(!colored.contains('`'), "{colored}");
    }

    #[test]
    fn paragraphs_wrap_at_the_width_and_code_spans_stay_whole() {
        let long_code = format!("`{}`", ["Set-ExchangeServer"; 4].join(" "));
        let md = format!("{} {long_code} end\n", ["word"; 40].join(" "));
        let out = to_terminal(&md, false);
        for line in out.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
        assert!(
            out.lines().any(|l| l.contains(&long_code)),
            "the code span was broken: {out}"
        );
    }

    #[test]
    fn nested_lists_indent_under_their_item() {
        let out = to_terminal("- a\n  - b\n- c\n", false);
        assert_eq!(out, "- a\n  - b\n- c\n");
        let out = to_terminal("1. one\n2. two\n", false);
        assert_eq!(out, "1. one\n2. two\n");
    }

    /// Every check's documentation renders without Markdown marks left,
    /// within the width but for a line holding one long word (a URL).
    #[test]
    fn every_check_section_renders_clean() {
        for id in eems_checks::docs::section_ids() {
            let Some(md) = eems_checks::docs::explain(id) else {
                panic!("{id}: no section");
            };
            let out = to_terminal(md, false);
            assert!(out.starts_with(&format!("{id}\n")), "{out}");
            for mark in ["**", "](", "## "] {
                assert!(!out.contains(mark), "{id}: `{mark}` left:\n{out}");
            }
            for line in out.lines() {
                // Past the width only one word: a URL, or a code span kept whole.
                let word = line
                    .trim()
                    .trim_start_matches("- ")
                    .trim_start_matches(['(', '"']);
                let code = word.starts_with('`')
                    && word
                        .trim_end_matches(['.', ',', ';', ':', ')', '"'])
                        .ends_with('`');
                assert!(
                    line.chars().count() <= WIDTH || !word.contains(' ') || code,
                    "{id}: too long: {line}"
                );
            }
            for label in ["What it checks\n", "Remediation\n", "References\n"] {
                assert!(out.contains(label), "{id}: no {label}");
            }
        }
    }

    #[test]
    fn anything_renders_without_panic() {
        for md in [
            "",
            "**",
            "**unclosed bold",
            "```\ncode\n",
            "> quote\n\n---\n\n| a | b |\n",
            "<div>html</div>\n\n<b>x</b>",
            "# H1\n### H3\n",
            "[^1]\n\n[^1]: note",
        ] {
            let _ = to_terminal(md, true);
            let _ = to_terminal(md, false);
        }
        assert_eq!(to_terminal("```\nx  y\n```\n", false), "    x  y\n");
    }
}
