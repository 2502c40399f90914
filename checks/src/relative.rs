//! Citations relative to the analysed bundle (issue 13): a report is read
//! far from the analyst's disk, where `/home/ana/cases/EX01/get-service.txt`
//! means nothing and `get-service.txt` is the file in the bundle at hand.

use crate::diagnosis::ServerDiagnosis;
use crate::evidence::InputSource;
use crate::finding::Evidence;

/// The prefixes a path inside `bundle` starts with: the bundle and one
/// separator of either kind (a Windows walk joins `C:/x` and `a.txt` as
/// `C:/x\a.txt`). None for a bundle that names no folder (standard input,
/// a file of the current folder).
fn prefixes(bundle: &str) -> Vec<String> {
    if bundle.is_empty() || bundle == "-" {
        return Vec::new();
    }
    if bundle.ends_with(['/', '\\']) {
        return vec![bundle.to_owned()];
    }
    vec![format!("{bundle}/"), format!("{bundle}\\")]
}

/// `path` relative to the bundle, when it is inside it, with `/` between
/// its parts whichever system walked the bundle: a report reads the same
/// from a Windows and a Linux run (and a zip's own entry names use `/`).
fn strip(path: &mut String, prefixes: &[String]) {
    if let Some(rest) = prefixes
        .iter()
        .find_map(|p| path.strip_prefix(p.as_str()))
        .filter(|r| !r.is_empty())
    {
        *path = rest.replace('\\', "/");
    }
}

/// Paths quoted inside a sentence (a pass reason's citation, a bypass
/// comparison naming both files), made relative as [`strip`] does: the
/// path runs from the prefix to the next blank, `:` (a line number), `)`
/// or `,`.
fn strip_in_text(text: &mut String, prefixes: &[String]) {
    for p in prefixes {
        if !text.contains(p.as_str()) {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(p.as_str()) {
            out.push_str(rest.get(..at).unwrap_or_default());
            let after = rest.get(at + p.len()..).unwrap_or_default();
            let end = after
                .find(|c: char| c.is_whitespace() || matches!(c, ':' | ')' | ','))
                .unwrap_or(after.len());
            out.push_str(&after.get(..end).unwrap_or_default().replace('\\', "/"));
            rest = after.get(end..).unwrap_or_default();
        }
        out.push_str(rest);
        *text = out;
    }
}

impl ServerDiagnosis {
    /// Make every path of this diagnosis relative to `bundle` (the folder
    /// or zip analysed, as given), and remember it in `paths_relative_to`.
    /// Evidence excerpts are quotes and stay as read; paths outside the
    /// bundle stay as they are.
    pub fn make_paths_relative(&mut self, bundle: &str) {
        let pre = prefixes(bundle);
        if pre.is_empty() {
            return;
        }
        let ev = |e: &mut Evidence| strip(&mut e.source, &pre);
        if let Some(b) = &mut self.build {
            strip(&mut b.source, &pre);
        }
        for c in &mut self.root_causes {
            strip_in_text(&mut c.explanation, &pre);
            c.evidence.iter_mut().for_each(ev);
        }
        for f in &mut self.findings {
            strip_in_text(&mut f.title, &pre);
            strip_in_text(&mut f.detail, &pre);
            f.evidence.iter_mut().for_each(ev);
        }
        for r in &mut self.checks {
            // Reasons are shared between servers: a new one only when it
            // quotes the bundle's path.
            if let Some(reason) = &mut r.reason
                && pre.iter().any(|p| reason.contains(p.as_str()))
            {
                let mut text = reason.to_string();
                strip_in_text(&mut text, &pre);
                *reason = text.into();
            }
        }
        for i in &mut self.inputs {
            if let InputSource::File(p) = &mut i.path {
                strip(p, &pre);
            }
        }
        self.facts.cites_mut().for_each(ev);
        self.paths_relative_to = Some(bundle.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_bundle_at_a_folder_boundary_only() {
        let pre = prefixes("/cases/EX01");
        let mut p = "/cases/EX01/MitigationService/a.LOG".to_owned();
        strip(&mut p, &pre);
        assert_eq!(p, "MitigationService/a.LOG");
        // A sibling folder sharing the name's start is not inside it.
        let mut q = "/cases/EX011/a.txt".to_owned();
        strip(&mut q, &pre);
        assert_eq!(q, "/cases/EX011/a.txt");
        let mut w = "C:/x\\a.txt".to_owned();
        strip(&mut w, &prefixes("C:/x"));
        assert_eq!(w, "a.txt");
        let mut z = "b.zip/get-service.txt".to_owned();
        strip(&mut z, &prefixes("b.zip/"));
        assert_eq!(z, "get-service.txt");
        assert!(prefixes("-").is_empty() && prefixes("").is_empty());
    }

    /// A Windows walk joins with `\`: the report says `/` as on Linux, in
    /// path fields and in the citations quoted by reasons.
    #[test]
    fn windows_separators_become_slashes() {
        let pre = prefixes("Z:\\work\\samples\\01");
        let mut p = "Z:\\work\\samples\\01\\MitigationService\\a.LOG".to_owned();
        strip(&mut p, &pre);
        assert_eq!(p, "MitigationService/a.LOG");
        let mut t = "build 15.2 has the service (Z:\\work\\samples\\01\\MitigationService\\a.LOG:3), C:\\Program Files\\x kept".to_owned();
        strip_in_text(&mut t, &pre);
        assert_eq!(
            t,
            "build 15.2 has the service (MitigationService/a.LOG:3), C:\\Program Files\\x kept"
        );
    }

    #[test]
    fn every_path_of_a_diagnosis_becomes_relative() {
        use crate::evidence::{InputSummary, ServerEvidence};
        let mut d = crate::diagnosis::diagnose(
            &ServerEvidence::default(),
            &crate::check::Context::embedded(&crate::builds::BuildTable::embedded()),
        );
        d.inputs = vec![InputSummary {
            path: InputSource::File("/c/EX01/get-service.txt".into()),
            kind: eems_parsers::Kind::ServiceStatus,
            status: eems_parsers::Status::Parsed,
            reason: None,
        }];
        if let Some(r) = d.checks.first_mut() {
            r.reason = Some("read (/c/EX01/get-service.txt:4)".into());
        }
        d.make_paths_relative("/c/EX01");
        assert_eq!(d.inputs[0].path.as_str(), "get-service.txt");
        assert_eq!(
            d.checks[0].reason.as_deref(),
            Some("read (get-service.txt:4)")
        );
        assert_eq!(d.paths_relative_to.as_deref(), Some("/c/EX01"));
    }
}
