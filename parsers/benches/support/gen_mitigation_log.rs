//! Deterministic generator of a realistic MitigationService log for the
//! benchmark (shared by `benches/mitigation_log.rs` and
//! `examples/gen_mitigation_log.rs`): the sample rows of
//! tests/fixtures/reference/mitigation-log, varied in time, server, proxy and
//! outcome, with CRLF line ends and a header block per simulated daily file.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::fmt::Write as _;

const ENDPOINT: &str = "https://officeclient.microsoft.com/getexchangemitigations";
const ENGINE: &str = "Microsoft.Exchange.Mitigation.Service.Mitigations.MitigationEngine";

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn row(out: &mut String, t: NaiveDateTime, server: &str, op: &str, kv: &str) {
    let _ = write!(
        out,
        "{},{server},{op},{kv}\r\n",
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
}

fn info(msg: &str) -> String {
    format!("S:LogLevel=Information;S:Message={msg}")
}

/// At least `target` bytes of log text (whole rows).
pub fn generate(target: usize) -> String {
    let mut out = String::with_capacity(target + 4096);
    out.push('\u{FEFF}');
    let mut rng = Lcg(0x5EED);
    let mut t = NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_milli_opt(0, 0, 1, 874))
        .unwrap_or_default();
    let mut hour = 0u64;
    while out.len() < target {
        let server = format!("EX{:02}", rng.next() % 8 + 1);
        if hour % 24 == 0 {
            // A new daily file, concatenated: bare field list + header block + restart.
            out.push_str("DateTime,ServerName,Operation,CustomData\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.02.1258.012\r\n#Log-type: Mitigation Service Logs\r\n");
            let _ = write!(out, "#Date: {}\r\n", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
            out.push_str("#Fields: DateTime,ServerName,Operation,CustomData\r\n");
            row(
                &mut out,
                t,
                &server,
                "StartService",
                &info("Started MSExchangeMitigation"),
            );
            t += Duration::minutes(10);
        }
        let mut step = |ms: i64| {
            t += Duration::milliseconds(ms + (rng.next() % 90) as i64);
            t
        };
        row(
            &mut out,
            step(2),
            &server,
            "FetchMitigation",
            &info(&format!("Fetching mitigations from {ENDPOINT}")),
        );
        let scenario = hour % 5;
        if scenario == 1 || scenario == 3 {
            let proxy = format!(
                "Using Proxy http://10.20.30.{}:8080/ To Fetch Configurations",
                hour % 200 + 1
            );
            row(&mut out, step(3), &server, "FetchMitigation", &info(&proxy));
        }
        row(
            &mut out,
            step(60),
            &server,
            "FetchMitigation",
            &info("No diagnostic data sent. DataCollectionEnabled is false"),
        );
        match scenario {
            0 | 4 => {
                row(
                    &mut out,
                    step(700),
                    &server,
                    "FetchMitigation",
                    &info("Successfully fetched and validated mitigations. Mitigations count: 1"),
                );
                row(
                    &mut out,
                    step(100),
                    &server,
                    "ApplyMitigation",
                    &info("Mitigation PING1 is already applied on this server"),
                );
            }
            1 => {
                row(
                    &mut out,
                    step(1100),
                    &server,
                    "FetchMitigation",
                    "S:LogLevel=Warning;S:Message=TLS certificate or its chain validation failed",
                );
                row(
                    &mut out,
                    step(45),
                    &server,
                    "FetchMitigation",
                    &format!(
                        "S:LogLevel=Error;S:Message=Exception encountered while fetching mitigations :   One or more errors occurred.;S:Source={ENGINE}"
                    ),
                );
            }
            2 => {
                row(
                    &mut out,
                    step(370),
                    &server,
                    "FetchMitigation",
                    "S:LogLevel=Warning;S:Message=Connection attempted against untrusted endpoint",
                );
                row(
                    &mut out,
                    step(11),
                    &server,
                    "FetchMitigation",
                    &format!(
                        "S:LogLevel=Error;S:Message=Exception encountered while fetching mitigations : One or more errors occurred.;S:Source={ENGINE}"
                    ),
                );
            }
            _ => {
                row(
                    &mut out,
                    step(1287),
                    &server,
                    "FetchMitigation",
                    &format!(
                        "S:LogLevel=Error;'S:Message=Exception encountered while fetching mitigations : This XML is not deemed safe to consume since Response xml''s signing cert is invalid or not from microsoft'; S:Source={ENGINE}"
                    ),
                );
            }
        }
        hour += 1;
        t += Duration::hours(1) - Duration::seconds(2);
    }
    out
}
