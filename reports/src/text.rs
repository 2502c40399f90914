//! The terminal summary. Compact: per server a header line, the root causes
//! with their first fix, the failed checks, the check counts, the skip
//! reasons when there are few, and the inputs that were not understood.
//! ANSI colours only when asked; the words are always there.

use crate::Report;
use crate::view::{self, Counts};
use eems_checks::CheckOutcome;
use eems_checks::diagnosis::{RootCause, ServerDiagnosis, Status};
use eems_checks::finding::{Severity, Step};
use std::fmt::Write;

/// Lines are wrapped to this many columns (commands are never wrapped).
pub(crate) const WIDTH: usize = 100;
/// Root causes listed before "… more".
const MAX_CAUSES: usize = 5;
/// Distinct skip reasons listed; more than that is summarised in one line.
const MAX_SKIP_GROUPS: usize = 5;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";
const DIM: &str = "\x1b[2m";

struct Paint {
    color: bool,
}

impl Paint {
    fn with(&self, code: &str, s: &str) -> String {
        if self.color && !code.is_empty() {
            format!("{code}{s}{RESET}")
        } else {
            s.to_owned()
        }
    }

    fn status(&self, s: Status) -> String {
        let code = match s {
            Status::Critical => RED,
            Status::Warning => YELLOW,
            Status::Ok => GREEN,
            Status::Unknown => MAGENTA,
        };
        self.with(code, view::status_upper(s))
    }

    /// A severity word padded to a column (padding outside the colour codes).
    fn severity(&self, s: Severity) -> String {
        let word = view::severity_upper(s);
        let code = match s {
            Severity::Critical => RED,
            Severity::Warning => YELLOW,
            Severity::Info => "",
        };
        format!("{}{}", self.with(code, word), pad(word, 8))
    }
}

fn pad(word: &str, width: usize) -> String {
    " ".repeat(width.saturating_sub(word.chars().count()))
}

pub(crate) fn render(report: &Report, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    if report.servers.is_empty() {
        out.push_str("No server to report: no input was read.\n");
        unassigned(&mut out, report);
        return out;
    }
    if report.servers.len() > 1 {
        let n = |s: Status| report.servers.iter().filter(|d| d.status == s).count();
        let _ = writeln!(
            out,
            "{} servers: {} {}, {} {}, {} {}, {} {}",
            report.servers.len(),
            n(Status::Critical),
            p.with(RED, "critical"),
            n(Status::Warning),
            p.with(YELLOW, "warning"),
            n(Status::Unknown),
            p.with(MAGENTA, "unknown"),
            n(Status::Ok),
            p.with(GREEN, "ok"),
        );
        out.push('\n');
    }
    for (i, d) in report.servers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        server(&mut out, d, &p, report.servers.len() == 1);
    }
    // Said only when it is news: several servers, or inputs set aside.
    if report.servers.len() > 1 || !report.unassigned.is_empty() {
        out.push('\n');
        for rule in &report.grouping {
            let _ = writeln!(out, "Grouped: {rule}");
        }
    }
    unassigned(&mut out, report);
    out
}

fn unassigned(out: &mut String, report: &Report) {
    if report.unassigned.is_empty() {
        return;
    }
    out.push_str("Not part of any server:\n");
    for u in &report.unassigned {
        let _ = writeln!(
            out,
            "  {}  {}{}",
            // A newline in a file name must not forge a line of its own.
            crate::safe::visible(&u.path),
            if u.error { "cannot be read: " } else { "" },
            crate::safe::visible(&u.reason)
        );
    }
}

fn server(out: &mut String, d: &ServerDiagnosis, p: &Paint, single: bool) {
    let _ = writeln!(
        out,
        "{}  {}  {}",
        p.with(BOLD, &view::server_name(d)),
        p.status(d.status),
        view::build_line(d.build.as_ref())
    );
    if let Some(note) = view::stale_note(d) {
        for l in wrap(&note, "  OLD EVIDENCE: ", "  ", WIDTH) {
            let _ = writeln!(out, "{}", p.with(YELLOW, &l));
        }
    }
    if let Some(pr) = &d.probes {
        let line = match &d.failed_step {
            Some(f) => format!("Probe: {f}"),
            None => format!("Probe: {}", view::probe_summary(pr)),
        };
        // One line, never wrapped (like commands): scripts grep for it.
        let _ = writeln!(out, "  {line}");
    }

    facts(out, d, p, single);

    // Root causes, most likely first.
    if d.root_causes.is_empty() {
        let _ = writeln!(out, "  No root cause found.");
        if let Some(why) = view::healthy_because(d) {
            for l in wrap(&why, "  ", "  ", WIDTH) {
                let _ = writeln!(out, "{l}");
            }
        }
    } else {
        let _ = writeln!(out, "  Root causes:");
        for (i, c) in d.root_causes.iter().take(MAX_CAUSES).enumerate() {
            cause(out, i + 1, c, view::same_fix_as(&d.root_causes, i), p);
        }
        if d.root_causes.len() > MAX_CAUSES {
            let _ = writeln!(
                out,
                "  … {} more in the HTML/JSON report",
                view::count(
                    (d.root_causes.len() - MAX_CAUSES) as u64,
                    "root cause",
                    "root causes"
                )
            );
        }
    }

    // Failed (and errored) checks, one line each: the most severe first
    // (registry order within a severity), errors of the tool itself last.
    let mut problems: Vec<_> = d
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, CheckOutcome::Fail | CheckOutcome::Error))
        .collect();
    problems.sort_by_key(|c| {
        if c.outcome == CheckOutcome::Fail {
            std::cmp::Reverse(Some(view::failed_severity(d, c.id.as_str())))
        } else {
            std::cmp::Reverse(None)
        }
    });
    if !problems.is_empty() {
        let _ = writeln!(out, "  Failed checks:");
        let id_width = problems
            .iter()
            .map(|c| c.id.as_str().len())
            .max()
            .unwrap_or(0);
        for c in problems {
            let failed = c.outcome == CheckOutcome::Fail;
            let (word, painted) = if failed {
                let sev = view::failed_severity(d, c.id.as_str());
                (view::severity_upper(sev), p.severity(sev))
            } else {
                (
                    "ERROR",
                    format!("{}{}", p.with(MAGENTA, "ERROR"), pad("ERROR", 8)),
                )
            };
            // Check titles say what a pass means; for a failure the finding's
            // title (the check's reason) says what is wrong.
            let what = match (&c.reason, failed) {
                (Some(r), _) => r.to_string(),
                (None, true) => view::check_title(c.id.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                (None, false) => "no reason given".to_owned(),
            };
            let plain = format!("    {word}{}", pad(word, 8));
            let lead = format!("{plain}  {}{}  ", c.id, pad(c.id.as_str(), id_width));
            let rest = " ".repeat(lead.chars().count());
            for (i, l) in wrap(&what, &lead, &rest, WIDTH).into_iter().enumerate() {
                // Colour the severity word only.
                match l.strip_prefix(&plain) {
                    Some(tail) if i == 0 => {
                        let _ = writeln!(out, "    {painted}{tail}");
                    }
                    _ => {
                        let _ = writeln!(out, "{l}");
                    }
                }
            }
        }
    }

    if let Some(pr) = &d.probes {
        probe_steps(out, pr, p);
    }

    let counts = Counts::of(&d.checks);
    let _ = writeln!(out, "  {}", counts.line());

    // Skip reasons, grouped, only when there are few.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in d.checks.iter().filter(|c| c.outcome == CheckOutcome::Skip) {
        let reason = c.reason.as_deref().unwrap_or("no reason given");
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, ids)) => ids.push(c.id.as_str()),
            None => groups.push((reason, vec![c.id.as_str()])),
        }
    }
    if !groups.is_empty() {
        if groups.len() <= MAX_SKIP_GROUPS {
            let _ = writeln!(out, "  Skipped:");
            for (reason, ids) in &groups {
                let line = if ids.len() == d.checks.len() {
                    format!("{reason} (every check)")
                } else {
                    format!("{reason} ({})", ids.join(", "))
                };
                for l in wrap(&line, "    - ", "      ", WIDTH) {
                    let _ = writeln!(out, "{}", p.with(DIM, &l));
                }
            }
        } else {
            let _ = writeln!(
                out,
                "  {} checks skipped for {} different reasons: see the HTML or JSON report.",
                counts.skip,
                groups.len()
            );
        }
    }

    let unread: Vec<_> = d
        .inputs
        .iter()
        .filter(|i| view::is_problem_input(i) || i.reason.is_some())
        .collect();
    if !unread.is_empty() {
        let _ = writeln!(out, "  Inputs not understood:");
        for i in unread {
            match &i.reason {
                Some(r) => {
                    let _ = writeln!(
                        out,
                        "    {}  {}  ({})",
                        p.with(YELLOW, i.status.as_str()),
                        crate::safe::visible(i.path.as_str()),
                        crate::safe::visible(r)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "    {}  {}",
                        p.with(YELLOW, i.status.as_str()),
                        crate::safe::visible(i.path.as_str())
                    );
                }
            }
        }
    }
}

/// "What eems-doctor saw": one aligned line per value read, its citation
/// after it; then the values not collected in one line, and (for a single
/// server: a fleet listing would repeat them for each) the commands that
/// collect them.
fn facts(out: &mut String, d: &ServerDiagnosis, p: &Paint, commands: bool) {
    let rows = view::fact_lines(d);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "  What eems-doctor saw:");
    let known: Vec<_> = rows.iter().filter(|r| r.value.is_some()).collect();
    // Each mitigation with its status and source (issue 16), aligned with
    // the values.
    let (inventory, left_out) = view::inventory(d);
    const INVENTORY: &str = "Mitigation inventory";
    let width = known
        .iter()
        .map(|r| r.label.chars().count())
        .chain((!inventory.is_empty()).then_some(INVENTORY.len()))
        .max()
        .unwrap_or(0);
    let rest = " ".repeat(4 + width + 2);
    for r in &known {
        let lead = format!("    {}{}  ", r.label, pad(r.label, width));
        let v = r.value.as_deref().unwrap_or_default();
        let text = match &r.cite {
            Some(c) => format!("{v} [{c}]"),
            None => v.to_owned(),
        };
        for l in wrap(&text, &lead, &rest, WIDTH) {
            let _ = writeln!(out, "{l}");
        }
    }
    for (i, m) in inventory.iter().enumerate() {
        let label = if i == 0 { INVENTORY } else { "" };
        let lead = format!("    {label}{}  ", " ".repeat(width - label.len()));
        let text = format!("{} {} ({}) [{}]", m.id, m.status, m.source, m.cite);
        let rest = " ".repeat(lead.chars().count());
        for l in wrap(&text, &lead, &rest, WIDTH) {
            let _ = writeln!(out, "{l}");
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "    {}  … {} more not listed",
            " ".repeat(width),
            left_out
        );
    }
    let unknown: Vec<String> = rows
        .iter()
        .filter(|r| r.value.is_none())
        .map(|r| match (commands, r.collect_ref) {
            (true, Some(n)) => format!("{} [{n}]", r.label),
            _ => r.label.to_owned(),
        })
        .collect();
    if unknown.is_empty() {
        return;
    }
    // Several servers (a fleet listing): one short line each; the HTML and
    // JSON reports name every value and its command.
    let what = if commands {
        format!("{}.", unknown.join(", "))
    } else {
        format!(
            "{}, named with their commands in the HTML and JSON reports.",
            view::count(unknown.len() as u64, "value", "values")
        )
    };
    for l in wrap(&what, "    Not collected: ", "      ", WIDTH) {
        let _ = writeln!(out, "{}", p.with(DIM, &l));
    }
    if commands {
        for (i, c) in view::collect_commands(&rows).iter().enumerate() {
            // The number as a PowerShell comment: the line stays copyable.
            let _ = writeln!(
                out,
                "      {}  # [{}]",
                p.with(BOLD, &format!("$ {c}")),
                i + 1
            );
        }
    }
}

/// The probe's steps, one line each: kind, outcome, duration, target (and why).
fn probe_steps(out: &mut String, pr: &eems_parsers::probe_results::ProbeReport, p: &Paint) {
    use eems_parsers::probe_results::StepOutcome;
    if pr.steps.is_empty() {
        return;
    }
    let _ = writeln!(out, "  Probe steps ({} ms):", pr.duration_ms);
    for s in &pr.steps {
        let kind = view::step_kind(s.kind);
        let word = view::step_outcome(s.outcome);
        let code = match s.outcome {
            StepOutcome::Ok => GREEN,
            StepOutcome::Failed | StepOutcome::TimedOut => RED,
            StepOutcome::Skipped => DIM,
        };
        let why = s
            .reason
            .as_deref()
            .filter(|_| s.outcome != StepOutcome::Ok)
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {kind}{}  {}{}  {:>6} ms  {}{why}",
            pad(kind, 13),
            p.with(code, word),
            pad(word, 9),
            s.duration_ms,
            s.target
        );
    }
}

/// One root cause; `same_fix`: the rank of an earlier cause with the same
/// fix, which is then not repeated.
fn cause(out: &mut String, n: usize, c: &RootCause, same_fix: Option<usize>, p: &Paint) {
    let head = format!("{n:>3}. ");
    let _ = writeln!(
        out,
        "{head}{} {}",
        p.with(BOLD, c.id.as_str()),
        p.with(DIM, &format!("(confidence {})", c.confidence.as_str()))
    );
    let indent = " ".repeat(head.chars().count());
    for l in wrap(&c.explanation, &indent, &indent, WIDTH) {
        let _ = writeln!(out, "{l}");
    }
    if let Some(rank) = same_fix {
        let _ = writeln!(out, "{indent}Fix:  the same as for {rank} above.");
        return;
    }
    for (i, s) in first_steps(&c.next_steps).into_iter().enumerate() {
        let lead = format!("{indent}{}", if i == 0 { "Fix:  " } else { "Then: " });
        let rest = " ".repeat(lead.chars().count());
        for l in wrap(&s.text, &lead, &rest, WIDTH) {
            let _ = writeln!(out, "{l}");
        }
        if let Some(cmd) = &s.command {
            for line in cmd.lines() {
                let _ = writeln!(out, "{rest}{}", p.with(BOLD, &format!("$ {line}")));
            }
        }
    }
}

/// The first step, and when it carries no command, the first one that does.
fn first_steps(steps: &[Step]) -> Vec<&Step> {
    let mut v = Vec::new();
    if let Some(first) = steps.first() {
        v.push(first);
        if first.command.is_none()
            && let Some(with_cmd) = steps.iter().find(|s| s.command.is_some())
        {
            v.push(with_cmd);
        }
    }
    v
}

/// Greedy word wrap: `first` prefixes the first line, `rest` the others.
/// A word longer than a line gets a line of its own (URLs stay whole).
pub(crate) fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut len = first.chars().count();
    let mut empty = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !empty && len + 1 + w > width {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            len = rest.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += w;
        empty = false;
    }
    if !empty || lines.is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_respects_width_and_indents() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let lines = wrap(text, "  - ", "    ", 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert!(lines[0].starts_with("  - one"));
        assert!(lines[1..].iter().all(|l| l.starts_with("    ")));
        assert_eq!(
            lines.join(" ").split_whitespace().collect::<Vec<_>>(),
            [
                "-", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve"
            ]
        );
    }

    #[test]
    fn wrap_keeps_long_words_whole() {
        let lines = wrap(
            "see https://officeclient.microsoft.com/getexchangemitigations now",
            "",
            "",
            20,
        );
        assert_eq!(
            lines,
            [
                "see",
                "https://officeclient.microsoft.com/getexchangemitigations",
                "now"
            ]
        );
        assert_eq!(wrap("", "  ", "  ", 10), [""]);
    }
}
