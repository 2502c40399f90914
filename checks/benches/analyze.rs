//! One server's bundle with 30 days of MitigationService log and event 1008
//! exports: parse every file, build the evidence, run every check, diagnose.
//! Target (issue): under 50 ms.

use criterion::{Criterion, criterion_group, criterion_main};
use eems_checks::builds::BuildTable;
use eems_checks::check::Context;
use eems_checks::collect::{Input, collect_group};
use eems_checks::diagnosis::diagnose;
use std::fmt::Write;
use std::hint::black_box;

const DAYS: u32 = 30;

/// 30 daily log files, hourly runs failing TLS validation behind a proxy.
fn logs() -> Vec<(String, Vec<u8>)> {
    (0..DAYS)
        .map(|day| {
            let mut s = String::from("\u{feff}DateTime,ServerName,Operation,CustomData\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.02.1258.012\r\n#Log-type: Mitigation Service Logs\r\n");
            let d = format!("2024-10-{:02}", day + 1);
            let _ = write!(s, "#Date: {d}T00:00:04.112Z\r\n#Fields: DateTime,ServerName,Operation,CustomData\r\n");
            for h in 0..24 {
                let t = |m: u32, ms: u32| format!("{d}T{h:02}:{m:02}:0{}.{ms:03}Z", ms % 10);
                let _ = write!(s, "{},EX02,FetchMitigation,S:LogLevel=Information;S:Message=Fetching mitigations from https://officeclient.microsoft.com/getexchangemitigations\r\n", t(10, 233));
                let _ = write!(s, "{},EX02,FetchMitigation,S:LogLevel=Information;S:Message=Using Proxy http://10.20.30.40:8080/ To Fetch Configurations\r\n", t(10, 236));
                let _ = write!(s, "{},EX02,FetchMitigation,S:LogLevel=Information;S:Message=No diagnostic data sent. DataCollectionEnabled is false\r\n", t(10, 301));
                let _ = write!(s, "{},EX02,FetchMitigation,S:LogLevel=Warning;S:Message=TLS certificate or its chain validation failed\r\n", t(10, 402));
                let _ = write!(s, "{},EX02,FetchMitigation,S:LogLevel=Error;S:Message=Exception encountered while fetching mitigations :   One or more errors occurred.;S:Source=Microsoft.Exchange.Mitigation.Service.Mitigations.MitigationEngine\r\n", t(10, 447));
            }
            (format!("MitigationService/MitigationService_2024-10-{:02}.LOG", day + 1), s.into_bytes())
        })
        .collect()
}

/// 720 events 1008 as `wevtutil qe … /f:xml` writes them.
fn events() -> (String, Vec<u8>) {
    let mut s = String::new();
    for day in 0..DAYS {
        for h in 0..24 {
            let _ = writeln!(
                s,
                "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange Mitigation Service'/><EventID Qualifiers='49152'>1008</EventID><Level>2</Level><Task>1</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2024-10-{:02}T{h:02}:10:05.4470000Z'/><EventRecordID>{}</EventRecordID><Channel>Application</Channel><Computer>EX02.contoso.com</Computer><Security/></System><EventData><Data>An unexpected exception occurred.&#13;&#10;Diagnostic information: Exception encountered while fetching mitigations : System.AggregateException: One or more errors occurred. ---&gt; System.Net.Http.HttpRequestException: An error occurred while sending the request. ---&gt; System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel. ---&gt; System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.&#13;&#10;   at System.Net.TlsStream.EndWrite(IAsyncResult asyncResult)&#13;&#10;   --- End of inner exception stack trace ---</Data></EventData></Event>",
                day + 1,
                100_000 + day * 24 + h
            );
        }
    }
    ("events-1008.xml".into(), s.into_bytes())
}

fn os_outputs() -> Vec<(String, Vec<u8>)> {
    let f = |n: &str, s: &str| (n.to_owned(), s.replace('\n', "\r\n").into_bytes());
    vec![
        f(
            "get-exchangeserver-fl.txt",
            "\nName                       : EX02\nAdminDisplayVersion        : Version 15.2 (Build 1258.12)\nMitigationsEnabled         : True\nMitigationsApplied         : {PING1}\nMitigationsBlocked         : {}\nInternetWebProxy           : http://10.20.30.40:8080/\nInternetWebProxyBypassList : {}\n\n",
        ),
        f(
            "get-organizationconfig-fl.txt",
            "\nMitigationsEnabled : True\n\n",
        ),
        f(
            "netsh-winhttp-show-proxy.txt",
            "\nCurrent WinHTTP proxy settings:\n\n    Proxy Server(s) :  10.20.30.40:8080\n    Bypass List     :  <local>\n\n",
        ),
        f(
            "get-service.txt",
            "\nStatus   Name               DisplayName\n------   ----               -----------\nRunning  MSExchangeMitig... Microsoft Exchange Emergency Mitigation Service\n\n",
        ),
        f("exsetup-version.txt", "\nFileVersion : 15.02.1258.038\n\n"),
    ]
}

fn bench(c: &mut Criterion) {
    let mut files = logs();
    files.push(events());
    files.extend(os_outputs());
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let table = BuildTable::embedded();
    let ctx = Context::embedded(&table);
    let mut g = c.benchmark_group("analyze");
    g.throughput(criterion::Throughput::Bytes(bytes as u64));
    g.bench_function("one_server_30_days", |b| {
        b.iter(|| {
            let parsed: Vec<(String, eems_parsers::ParsedInput)> = files
                .iter()
                .map(|(n, b)| (n.clone(), eems_parsers::parse_input(b, Some(n))))
                .collect();
            let inputs: Vec<Input<'_>> = parsed.iter().map(|(p, x)| Input::new(p, x)).collect();
            let servers = collect_group(&inputs);
            let d: Vec<_> = servers.iter().map(|ev| diagnose(ev, &ctx)).collect();
            black_box(d)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
