//! Column splitting for Exchange CSV log rows: `,` separated, a field that
//! starts with `"` runs to the matching `"` with `""` doubling (VERIFIED for
//! message tracking and SMTP logs, input-formats §1.3).

use memchr::memchr;

/// One column as byte offsets into the line (inside the quotes when quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Col {
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
    /// Contains `""` that must be undone.
    pub escaped: bool,
    /// Opening `"` without a closing one (cut-off line or multi-line value).
    pub unterminated: bool,
}

/// Split `line` into `cols` (cleared first; reused to avoid per-row
/// allocation). Column number `limit` (1-based) takes the rest of the line
/// unless it is quoted.
pub(super) fn split(line: &str, cols: &mut Vec<Col>, limit: usize) {
    cols.clear();
    let b = line.as_bytes();
    let mut pos = 0;
    loop {
        if cols.len() + 1 >= limit && b.get(pos) != Some(&b'"') {
            cols.push(Col::plain(pos.min(b.len()), b.len()));
            return;
        }
        if b.get(pos) == Some(&b'"') {
            let mut i = pos + 1;
            let mut escaped = false;
            let (end, next) = loop {
                match b.get(i..).and_then(|s| memchr(b'"', s)) {
                    None => break (b.len(), None),
                    Some(k) if b.get(i + k + 1) == Some(&b'"') => {
                        escaped = true;
                        i += k + 2;
                    }
                    Some(k) => break (i + k, Some(i + k + 1)),
                }
            };
            cols.push(Col {
                start: pos + 1,
                end,
                quoted: true,
                escaped,
                unterminated: next.is_none(),
            });
            if cols.len() >= limit {
                return;
            }
            // Text between the closing quote and the next comma is dropped.
            match next.and_then(|n| Some(n + memchr(b',', b.get(n..)?)?)) {
                Some(comma) => pos = comma + 1,
                None => return,
            }
        } else {
            // Columns before the KV one are short: a plain loop beats memchr here.
            match b.get(pos..).and_then(|s| s.iter().position(|&c| c == b',')) {
                Some(k) => {
                    cols.push(Col::plain(pos, pos + k));
                    pos += k + 1;
                }
                None => {
                    cols.push(Col::plain(pos, b.len()));
                    return;
                }
            }
        }
    }
}

impl Col {
    fn plain(start: usize, end: usize) -> Self {
        Col {
            start,
            end,
            quoted: false,
            escaped: false,
            unterminated: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<(String, bool)> {
        let mut cols = Vec::new();
        split(line, &mut cols, usize::MAX);
        cols.iter()
            .map(|c| {
                let t = line.get(c.start..c.end).unwrap_or("<bad>");
                let t = if c.escaped {
                    t.replace("\"\"", "\"")
                } else {
                    t.to_owned()
                };
                (t, c.quoted)
            })
            .collect()
    }

    #[test]
    fn plain_quoted_and_doubled() {
        assert_eq!(
            texts(r#"a,"b,c","say ""hi""",,"#),
            vec![
                ("a".into(), false),
                ("b,c".into(), true),
                (r#"say "hi""#.into(), true),
                ("".into(), false),
                ("".into(), false)
            ]
        );
    }

    #[test]
    fn unterminated_quote_runs_to_end() {
        let mut cols = Vec::new();
        split(r#"x,"abc,def"#, &mut cols, usize::MAX);
        assert_eq!(cols.len(), 2);
        assert!(cols.get(1).is_some_and(|c| c.unterminated && c.end == 10));
        split(r#"""#, &mut cols, usize::MAX);
        assert_eq!(cols.len(), 1);
        split("a,b,c,d", &mut cols, 2);
        assert_eq!(cols.get(1).map(|c| (c.start, c.end)), Some((2, 7)));
        split(r#"a,"b,c",d"#, &mut cols, 2);
        assert_eq!(
            cols.get(1).map(|c| (c.start, c.end, c.quoted)),
            Some((3, 6, true))
        );
        assert_eq!(cols.len(), 2);
    }
}
