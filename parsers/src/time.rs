//! Timestamps as they appear in Exchange logs and event exports. ISO forms
//! ending in `Z` are UTC; everything an exporting UI renders (Event Viewer
//! `Date:`, `Get-WinEvent` `TimeCreated`, wevtutil text) is local time in an
//! unknown zone, and `dd/MM` vs `MM/dd` is often undecidable: we say so
//! rather than guess.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "zone", rename_all = "kebab-case")]
pub enum Timestamp {
    /// An instant: ISO 8601 with `Z`, or event XML `SystemTime`.
    Utc { utc: DateTime<Utc> },
    /// Wall-clock time of the machine that wrote or exported it; zone unknown.
    /// `ambiguous` is true when day and month could be swapped (both ≤ 12 and
    /// the layout does not tell which is which).
    Local {
        local: NaiveDateTime,
        ambiguous: bool,
    },
}

impl Timestamp {
    /// Best-effort instant for ordering and gap detection: local times are
    /// treated as if they were UTC (the caller knows they are approximate).
    pub fn approx_utc(&self) -> DateTime<Utc> {
        match *self {
            Timestamp::Utc { utc } => utc,
            Timestamp::Local { local, .. } => local.and_utc(),
        }
    }

    pub fn is_utc(&self) -> bool {
        matches!(self, Timestamp::Utc { .. })
    }
}

/// Parse any timestamp form eems-doctor meets. Returns `None` for anything else.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let s = s.trim().trim_matches('"').trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_iso(s) {
        return Some(t);
    }
    parse_locale(s)
}

fn parse_iso(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    // Quick reject: ISO starts with YYYY-
    if b.len() < 10 || b[4] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(Timestamp::Utc {
            utc: dt.with_timezone(&Utc),
        });
    }
    // More than 9 fractional digits or a `Z` chrono rejects: trim the fraction.
    if let Some(body) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        let naive = parse_naive_iso(body)?;
        return Some(Timestamp::Utc {
            utc: naive.and_utc(),
        });
    }
    // No zone: wevtutil /f:text `Date: 2024-03-14T13:10:07.512` is local.
    let naive = parse_naive_iso(s)?;
    Some(Timestamp::Local {
        local: naive,
        ambiguous: false,
    })
}

fn parse_naive_iso(s: &str) -> Option<NaiveDateTime> {
    let s = s.replacen(' ', "T", 1);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m.to_owned(), Some(f)),
        None => (s.clone(), None),
    };
    let mut dt = NaiveDateTime::parse_from_str(&main, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&main, "%Y-%m-%dT%H:%M"))
        .ok()?;
    if let Some(f) = frac {
        let digits: String = f.chars().take_while(char::is_ascii_digit).take(9).collect();
        if !digits.is_empty() {
            let nanos: u32 = format!("{digits:0<9}").parse().ok()?;
            dt = dt.with_nanosecond_checked(nanos)?;
        }
    }
    Some(dt)
}

trait WithNanos: Sized {
    fn with_nanosecond_checked(self, n: u32) -> Option<Self>;
}

impl WithNanos for NaiveDateTime {
    fn with_nanosecond_checked(self, n: u32) -> Option<Self> {
        use chrono::Timelike;
        self.with_nanosecond(n)
    }
}

/// `6/30/2021 10:03:57 AM`, `13/03/2014 14:25:38`, `14.03.2024 13:10:04`,
/// `2024/03/14 13:10`, with optional seconds and AM/PM.
fn parse_locale(s: &str) -> Option<Timestamp> {
    let mut parts = s.split_whitespace();
    let date = parts.next()?;
    let time = parts.next().unwrap_or("00:00:00");
    let ampm = parts.next().map(str::to_ascii_uppercase);
    if parts.next().is_some() {
        return None;
    }

    let (sep, dotted) = if date.contains('/') {
        ('/', false)
    } else if date.contains('.') {
        ('.', true)
    } else if date.contains('-') {
        ('-', false)
    } else {
        return None;
    };
    let nums: Vec<u32> = date
        .split(sep)
        .map(|p| p.parse::<u32>().ok())
        .collect::<Option<Vec<_>>>()?;
    let [a, b, c] = nums[..] else { return None };

    let (y, m, d, ambiguous) = if a > 999 {
        (a as i32, b, c, false)
    } else if dotted {
        // German and most `.` locales: dd.MM.yyyy
        (year(c)?, b, a, false)
    } else if a > 12 {
        (year(c)?, b, a, false) // dd/MM
    } else if b > 12 {
        (year(c)?, a, b, false) // MM/dd
    } else {
        // Both ≤ 12. An AM/PM clock suggests en-US (MM/dd), but a UK admin
        // with a 12-hour clock exists too: flag it.
        (year(c)?, a, b, a != b)
    };
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    let time = parse_clock(time, ampm.as_deref())?;
    Some(Timestamp::Local {
        local: date.and_time(time),
        ambiguous,
    })
}

fn year(v: u32) -> Option<i32> {
    match v {
        0..=69 => Some(2000 + v as i32),
        70..=99 => Some(1900 + v as i32),
        1000..=9999 => Some(v as i32),
        _ => None,
    }
}

fn parse_clock(t: &str, ampm: Option<&str>) -> Option<NaiveTime> {
    let (hms, frac) = t.split_once('.').map_or((t, None), |(a, b)| (a, Some(b)));
    let mut it = hms.split(':');
    let h: u32 = it.next()?.parse().ok()?;
    let mi: u32 = it.next()?.parse().ok()?;
    let sec: u32 = it.next().map_or(Some(0), |v| v.parse().ok())?;
    if it.next().is_some() {
        return None;
    }
    let h = match ampm {
        None => h,
        Some("AM") if h == 12 => 0,
        Some("AM") => h,
        Some("PM") if h == 12 => 12,
        Some("PM") => h + 12,
        Some(_) => return None,
    };
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => {
            format!("{:0<9}", &f[..f.len().min(9)]).parse().ok()?
        }
        _ => 0,
    };
    NaiveTime::from_hms_nano_opt(h, mi, sec, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> (String, bool) {
        match parse_timestamp(s) {
            Some(Timestamp::Local { local, ambiguous }) => (local.to_string(), ambiguous),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn iso_utc_forms() {
        for s in [
            "2024-03-14T10:00:04.112Z",
            "2021-04-21T19:22:38.739886100Z",
            "2012-02-22T10:41:37.000000000Z",
            "2024-03-14T10:00:04Z",
        ] {
            assert!(parse_timestamp(s).is_some_and(|t| t.is_utc()), "{s}");
        }
        let t = parse_timestamp("2021-04-21T19:22:38.7398861234Z").unwrap();
        assert!(t.is_utc());
    }

    #[test]
    fn locale_forms() {
        assert_eq!(
            local("6/30/2021 10:03:57 AM"),
            ("2021-06-30 10:03:57".into(), false)
        );
        assert_eq!(
            local("13/03/2014 14:25:38"),
            ("2014-03-13 14:25:38".into(), false)
        );
        assert_eq!(
            local("14.03.2024 13:10:04"),
            ("2024-03-14 13:10:04".into(), false)
        );
        assert_eq!(
            local("3/4/2024 1:10:04 PM"),
            ("2024-03-04 13:10:04".into(), true)
        );
        assert_eq!(
            local("2024-03-14T13:10:07.512"),
            ("2024-03-14 13:10:07.512".into(), false)
        );
        assert_eq!(local("4/30/2023 12:24:28 AM").0, "2023-04-30 00:24:28");
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "hello",
            "99/99/2024 10:00",
            "2024-13-45T00:00:00Z",
            "1/2/3/4 10:00",
            "6/30/2021 25:00",
        ] {
            assert!(parse_timestamp(s).is_none(), "{s}");
        }
    }
}
