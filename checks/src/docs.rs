//! The user documentation of every check, compiled in: `docs/checks.md`
//! has one `## <id>` section per registered check (its GitHub anchor is the
//! id, which findings link to), so `explain(id)` can print the same text
//! offline. The tests below keep the docs and the registry from drifting.

/// The whole of `docs/checks.md`.
pub const CHECKS_MD: &str = include_str!("../../docs/checks.md");

/// The bold labels every check section has, in this order.
pub const LABELS: [&str; 6] = [
    "**What it checks",
    "**Why it matters",
    "**Evidence used",
    "**Severity",
    "**Remediation",
    "**References",
];

/// `(heading text, byte offset of the heading line)` for every `## ` heading
/// outside fenced code blocks.
fn headings() -> impl Iterator<Item = (&'static str, usize)> {
    let mut offset = 0;
    let mut in_fence = false;
    CHECKS_MD.split_inclusive('\n').filter_map(move |line| {
        let start = offset;
        offset += line.len();
        let text = line.trim_end();
        if text.trim_start().starts_with("```") {
            in_fence = !in_fence;
            return None;
        }
        if in_fence {
            return None;
        }
        text.strip_prefix("## ").map(|h| (h.trim(), start))
    })
}

/// The ids that have a section, in document order.
pub fn section_ids() -> Vec<&'static str> {
    headings().map(|(h, _)| h).collect()
}

/// The text before the first check section: how to read a check.
pub fn intro() -> &'static str {
    let end = headings().next().map_or(CHECKS_MD.len(), |(_, at)| at);
    CHECKS_MD.get(..end).unwrap_or(CHECKS_MD).trim()
}

/// The section of check `id`, from its `## id` heading up to the next
/// `## ` heading, trimmed. `None` when there is no such section.
pub fn explain(id: &str) -> Option<&'static str> {
    let mut it = headings().skip_while(|(h, _)| *h != id);
    let (_, start) = it.next()?;
    let end = it.next().map_or(CHECKS_MD.len(), |(_, at)| at);
    CHECKS_MD.get(start..end).map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;

    fn registered() -> Vec<&'static str> {
        registry::all()
            .iter()
            .map(|c| c.meta().id.as_str())
            .collect()
    }

    #[test]
    fn every_registered_check_has_a_full_section() {
        for id in registered() {
            let section = explain(id).unwrap_or_else(|| panic!("docs/checks.md has no `## {id}`"));
            assert!(section.starts_with(&format!("## {id}\n")), "{id}");
            let mut from = 0;
            for label in LABELS {
                let at = section[from..]
                    .find(label)
                    .unwrap_or_else(|| panic!("`## {id}` lacks {label}** (or it is out of order)"));
                from += at + label.len();
            }
            assert!(
                section.lines().count() <= 45,
                "`## {id}` is too long to read as one screen"
            );
        }
    }

    #[test]
    fn sections_are_exactly_the_registry_in_its_order() {
        assert_eq!(section_ids(), registered());
    }

    #[test]
    fn unknown_ids_have_no_section() {
        assert_eq!(explain("nope"), None);
        assert_eq!(explain(""), None);
        assert_eq!(explain("build"), None);
    }

    #[test]
    fn sections_do_not_overlap() {
        let a = explain("build-predates-eems").unwrap();
        assert!(!a.contains("## build-before-march-2023"));
        // The registry's last check has the file's last section.
        let id = crate::id::CheckId::ALL.last().unwrap().as_str();
        let last = explain(id).unwrap();
        assert!(last.starts_with(&format!("## {id}\n")));
        assert!(
            !explain("evidence-incomplete")
                .unwrap()
                .contains("## evidence-stale")
        );
        assert!(last.ends_with(CHECKS_MD.trim_end().lines().last().unwrap()));
    }

    #[test]
    fn intro_explains_outcomes_and_links_every_check() {
        let intro = intro();
        assert!(intro.starts_with("# "));
        assert!(!intro.contains("\n## "));
        for word in [
            "`pass`",
            "`fail`",
            "`skip`",
            "`error`",
            "**Severity**",
            "**Confidence**",
        ] {
            assert!(intro.contains(word), "intro lacks {word}");
        }
        for id in registered() {
            assert!(
                intro.contains(&format!("(#{id})")),
                "intro index lacks {id}"
            );
        }
    }

    #[test]
    fn finding_docs_links_point_at_a_section() {
        for &id in crate::id::CheckId::ALL {
            let f = crate::finding::Finding::new(
                id,
                crate::finding::Severity::Info,
                crate::finding::Confidence::High,
                "t",
            );
            let anchor = f.docs.strip_prefix("docs/checks.md#").unwrap();
            assert!(explain(anchor).is_some(), "{}", f.docs);
        }
    }

    #[test]
    fn no_section_advises_disabling_revocation_checks_as_a_fix() {
        // The docs may say "never disable …"; they must not tell anyone to do it.
        for id in registered() {
            let s = explain(id).unwrap().to_ascii_lowercase();
            for bad in [
                "--ssl-no-revoke",
                "checkcertificaterevocationlist = $false",
                "servercertificatevalidationcallback",
            ] {
                assert!(!s.contains(bad), "{id} mentions {bad}");
            }
        }
    }
}
