//! A minimal CSV reader for the data tables shipped in `checks/data/`:
//! a header row, `#` comment lines, blank lines, and double-quoted fields
//! (`""` inside quotes is one quote) so that regexes may contain commas.

/// One data row: its 1-based line number and its fields, trimmed.
#[derive(Debug)]
pub(crate) struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// A parsed table: the lower-cased header names and the rows.
#[derive(Debug)]
pub(crate) struct Table {
    what: &'static str,
    header: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn parse(text: &str, what: &'static str) -> Result<Table, String> {
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(n, l)| (n + 1, l))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let (hline, header) = lines.next().ok_or_else(|| format!("{what} is empty"))?;
        let header: Vec<String> = split(header)
            .map_err(|e| format!("{what} line {hline}: {e}"))?
            .into_iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let mut rows = Vec::new();
        for (n, l) in lines {
            let fields = split(l).map_err(|e| format!("{what} line {n}: {e}"))?;
            if fields.len() > header.len() {
                return Err(format!(
                    "{what} line {n}: {} fields, the header has {} (quote fields that contain commas)",
                    fields.len(),
                    header.len()
                ));
            }
            rows.push(Row { line: n, fields });
        }
        if rows.is_empty() {
            return Err(format!("{what} has no rows"));
        }
        Ok(Table { what, header, rows })
    }

    /// Index of a required column.
    pub fn col(&self, name: &str) -> Result<usize, String> {
        self.header
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| format!("{} header lacks the `{name}` column", self.what))
    }

    /// Index of an optional column.
    pub fn opt_col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|c| c == name)
    }

    /// A field of `row`, empty when the row is short.
    pub fn get<'r>(&self, row: &'r Row, col: usize) -> &'r str {
        row.fields.get(col).map_or("", String::as_str)
    }

    /// A field that must not be empty.
    pub fn required<'r>(&self, row: &'r Row, col: usize) -> Result<&'r str, String> {
        let v = self.get(row, col);
        if v.is_empty() {
            Err(format!(
                "{} line {}: empty `{}`",
                self.what,
                row.line,
                self.header.get(col).map_or("?", String::as_str)
            ))
        } else {
            Ok(v)
        }
    }

    pub fn what(&self) -> &'static str {
        self.what
    }
}

fn split(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.trim().is_empty() && !was_quoted => {
                cur.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(finish(&mut cur, was_quoted));
                was_quoted = false;
            }
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    out.push(finish(&mut cur, was_quoted));
    Ok(out)
}

fn finish(cur: &mut String, quoted: bool) -> String {
    let s = std::mem::take(cur);
    if quoted { s } else { s.trim().to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_comments_and_errors() {
        assert_eq!(split("a, b ,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split("\"a{1,3}\",\"say \"\"hi\"\"\",").unwrap(),
            ["a{1,3}", "say \"hi\"", ""]
        );
        assert!(split("\"open").is_err());
        let t = Table::parse("# c\n\nA,B\n1,2\n# more\n3\n", "t").unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].line, 6);
        assert_eq!(t.get(&t.rows[1], 1), "");
        assert!(t.required(&t.rows[1], 1).unwrap_err().contains("line 6"));
        assert!(t.col("c").is_err());
        assert!(
            Table::parse("a,b\n1,2,3\n", "t")
                .unwrap_err()
                .contains("3 fields")
        );
        assert!(Table::parse("# only\n", "t").is_err());
        assert!(Table::parse("a,b\n", "t").is_err());
    }
}
