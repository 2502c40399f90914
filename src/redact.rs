//! `--redact`: stable pseudonyms for the names in a bundle.
//!
//! Names are *learned* first (from the parsed evidence, URLs, the
//! environment), then every file is rewritten token by token, so one name
//! gets one pseudonym in every file of the bundle and in the reports:
//! `EX01` → `server-1`, `proxy.contoso.com` → `host-1.domain-1.example`,
//! `contoso.com` → `domain-1.example`, `10.20.30.40` → `10.0.0.1`,
//! `http://jdoe:pw@…` → `http://user-1:secret-1@…`.
//!
//! Learning instead of guessing keeps the diagnosis intact: .NET type names
//! (`System.Net.WebException`), file names, product names, build numbers
//! (`15.2.1118.26` is no address: `1118` > 255) and Microsoft endpoints are
//! never touched, because only learned names and address-shaped tokens are.

use eems_parsers::text::{self, Encoding};
use eems_parsers::{Content, ParsedInput};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Domains that stay: Microsoft's endpoints (OCS, CRL/AIA/CTL hosts), the
/// public CAs in the chains, XML namespaces, and the pseudonyms themselves.
const KEEP_DOMAINS: &[&str] = &[
    "microsoft.com",
    "windowsupdate.com",
    "windows.com",
    "windows.net",
    "msocsp.com",
    "office.com",
    "office.net",
    "office365.com",
    "microsoftonline.com",
    "live.com",
    "digicert.com",
    "w3.org",
    "example",
    "example.com",
    "example.org",
    "example.net",
    "invalid",
    "localhost",
];

/// Words that are never taken as a name: replacing them would rewrite the
/// product texts the checks read (`Using Proxy …`, `Exchange Server`).
const NOT_NAMES: &[&str] = &[
    "proxy",
    "webproxy",
    "server",
    "servers",
    "exchange",
    "microsoft",
    "windows",
    "localhost",
    "local",
    "mail",
    "direct",
    "none",
    "http",
    "https",
    "system",
    "administrator",
    "admin",
    "user",
    "users",
    "default",
    "network",
    "service",
    "host",
    "domain",
    "example",
    "null",
    "true",
    "false",
    "mailbox",
    "edge",
    "web",
    "www",
    "internet",
    "nt",
    "authority",
    "local service",
    "network service",
    "builtin",
    "workgroup",
    "root",
];

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Class {
    Server,
    Host,
    Domain,
    User,
    Secret,
    Netbios,
    V4,
    V6,
}

/// One bundle's names and their pseudonyms.
#[derive(Default, Debug)]
pub struct Redactor {
    servers: Vec<String>,
    hosts: Vec<String>,
    domains: Vec<String>,
    fqdns: Vec<String>,
    users: Vec<String>,
    secrets: Vec<String>,
    netbios: Vec<String>,
    assigned: HashMap<(Class, String), String>,
    counters: HashMap<Class, u32>,
}

fn kept_domain(lower: &str) -> bool {
    KEEP_DOMAINS
        .iter()
        .any(|d| lower == *d || lower.ends_with(&format!(".{d}")))
}

fn usable_word(lower: &str) -> bool {
    lower.len() >= 2
        && !NOT_NAMES.contains(&lower)
        && !lower.bytes().all(|b| b.is_ascii_digit())
        && lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b'$')
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

fn is_v4_literal(s: &str) -> Option<Ipv4Addr> {
    // Versions are not addresses: `15.02.1118.026` has zero-padded parts.
    if s.split('.')
        .any(|p| p.is_empty() || (p.len() > 1 && p.starts_with('0')))
    {
        return None;
    }
    s.parse::<Ipv4Addr>().ok()
}

fn keep_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast()
}

impl Redactor {
    pub fn new() -> Self {
        Redactor::default()
    }

    /// A host name seen in the evidence. `server`: the name of an Exchange
    /// server or of this computer (pseudonym `server-N`, matched bare too).
    pub fn learn_host(&mut self, name: &str, server: bool) {
        let name = name
            .trim()
            .trim_matches(|c: char| c == '.' || c == '*' || c == '[' || c == ']')
            .to_ascii_lowercase();
        let host = name.split(':').next().unwrap_or_default();
        if host.is_empty() || is_v4_literal(host).is_some() || host.parse::<Ipv6Addr>().is_ok() {
            return;
        }
        if kept_domain(host) || !usable_word(host) {
            return;
        }
        match host.split_once('.') {
            Some((first, rest)) => {
                if server && usable_word(first) {
                    push_unique(&mut self.servers, first.to_owned());
                }
                if rest.contains('.') && !kept_domain(rest) {
                    push_unique(&mut self.domains, rest.to_owned());
                    // The AD NetBIOS name is usually the first label of the domain.
                    if let Some(nb) = rest.split('.').next()
                        && usable_word(nb)
                    {
                        push_unique(&mut self.netbios, nb.to_owned());
                    }
                } else {
                    push_unique(&mut self.fqdns, host.to_owned());
                }
            }
            None if server => push_unique(&mut self.servers, host.to_owned()),
            None => push_unique(&mut self.hosts, host.to_owned()),
        }
        self.domains.sort_by_key(|d| std::cmp::Reverse(d.len()));
    }

    pub fn learn_user(&mut self, name: &str) {
        let n = name.trim().to_ascii_lowercase();
        if usable_word(&n) {
            push_unique(&mut self.users, n);
        }
    }

    pub fn learn_netbios(&mut self, name: &str) {
        let n = name.trim().to_ascii_lowercase();
        if usable_word(&n) {
            push_unique(&mut self.netbios, n);
        }
    }

    /// Names this machine reveals through its environment.
    pub fn learn_environment(&mut self, host: Option<&str>) {
        if let Some(h) = host {
            self.learn_host(h, true);
        }
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(h) = var("COMPUTERNAME") {
            self.learn_host(&h, true);
        }
        if let Some(d) = var("USERDNSDOMAIN") {
            self.learn_host(&format!("x.{d}"), false);
        }
        if let Some(d) = var("USERDOMAIN") {
            self.learn_netbios(&d);
        }
        if let Some(u) = var("USERNAME").or_else(|| var("USER")) {
            self.learn_user(&u);
        }
    }

    /// Names in what the parsers read: server names, FQDNs, event computers,
    /// proxies and bypass lists.
    pub fn learn_parsed(&mut self, p: &ParsedInput) {
        for c in p.segments.iter().filter_map(|s| s.content.as_ref()) {
            match c {
                Content::ExchangeServers(list) => {
                    for s in &list.servers {
                        for n in [&s.name, &s.fqdn].into_iter().flatten() {
                            self.learn_host(n, true);
                        }
                        if let Some(p) = &s.internet_web_proxy {
                            self.learn_text(p);
                        }
                        for b in &s.internet_web_proxy_bypass_list {
                            self.learn_host(b, false);
                        }
                    }
                }
                Content::EventExport(e) => {
                    for ev in &e.events {
                        if let Some(c) = &ev.computer {
                            self.learn_host(c, true);
                        }
                    }
                }
                Content::MitigationLog(l) => {
                    for s in &l.servers {
                        self.learn_host(s, true);
                    }
                }
                Content::NetshProxy(n) => {
                    for e in &n.proxies {
                        self.learn_host(&e.host, false);
                    }
                    for b in &n.bypass_list {
                        self.learn_host(b, false);
                    }
                }
                Content::AdvProxy(a) => {
                    for e in &a.proxies {
                        self.learn_host(&e.host, false);
                    }
                    for b in &a.proxy_bypass {
                        self.learn_host(b, false);
                    }
                }
                Content::WinHttpRegistry(r) => {
                    for s in r.entries.iter().filter_map(|e| e.settings.as_ref()) {
                        for e in &s.proxies {
                            self.learn_host(&e.host, false);
                        }
                        for b in &s.bypass_list {
                            self.learn_host(b, false);
                        }
                    }
                }
                Content::ExsetupVersion(x) => {
                    if let Some(c) = &x.computer_name {
                        self.learn_host(c, true);
                    }
                }
                Content::ProbeResults(r) => {
                    if let Some(h) = &r.host {
                        self.learn_host(h, true);
                    }
                    for p in [&r.proxy, &r.winhttp_proxy].into_iter().flatten() {
                        self.learn_text(p);
                    }
                }
                _ => {}
            }
        }
    }

    /// Names in free text: URL hosts and credentials, `C:\Users\<name>`,
    /// `<NETBIOS>\<user>`.
    pub fn learn_text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(off) = text.get(i..).and_then(|t| t.find("://")) {
            let start = i + off + 3;
            let end = text
                .get(start..)
                .and_then(|t| t.find(|c: char| c.is_whitespace() || "/\"'<>;,)}".contains(c)))
                .map_or(text.len(), |e| start + e);
            let authority = text.get(start..end).unwrap_or_default();
            let host = match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                    self.learn_user(user);
                    if !pass.is_empty() {
                        push_unique(&mut self.secrets, pass.to_owned());
                    }
                    host
                }
                None => authority,
            };
            self.learn_host(host, false);
            i = end.max(start);
        }
        // Bare `host:port` / host proxies (netsh, WinHTTP) come through learn_parsed.
        let lower = text.to_ascii_lowercase();
        let mut from = 0;
        while let Some(off) = lower.get(from..).and_then(|t| t.find("\\users\\")) {
            let s = from + off + "\\users\\".len();
            let e = bytes
                .iter()
                .skip(s)
                .position(|b| matches!(b, b'\\' | b'/' | b'"' | b'\'' | b'\r' | b'\n' | b' '))
                .map_or(text.len(), |p| s + p);
            if let Some(u) = text.get(s..e) {
                self.learn_user(u);
            }
            from = e.max(s);
        }
        let netbios = self.netbios.clone();
        for nb in netbios {
            let pat = format!("{nb}\\");
            let mut from = 0;
            while let Some(off) = lower.get(from..).and_then(|t| t.find(&pat)) {
                let at = from + off;
                let s = at + pat.len();
                let boundary = at == 0 || !bytes.get(at - 1).is_some_and(u8::is_ascii_alphanumeric);
                let e = bytes
                    .iter()
                    .skip(s)
                    .position(|b| {
                        !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'$'))
                    })
                    .map_or(text.len(), |p| s + p);
                if boundary && let Some(u) = text.get(s..e) {
                    self.learn_user(u);
                }
                from = e.max(s);
            }
        }
    }

    fn pseudonym(&mut self, class: Class, key: &str) -> String {
        if let Some(p) = self.assigned.get(&(class, key.to_owned())) {
            return p.clone();
        }
        let n = self.counters.entry(class).or_insert(0);
        *n += 1;
        let n = *n;
        let p = match class {
            Class::Server => format!("server-{n}"),
            Class::Host => format!("host-{n}"),
            Class::Domain => format!("domain-{n}.example"),
            Class::User => format!("user-{n}"),
            Class::Secret => format!("secret-{n}"),
            Class::Netbios => format!("NETBIOS-{n}"),
            Class::V4 => format!("10.0.{}.{}", (n - 1) / 254, (n - 1) % 254 + 1),
            Class::V6 => format!("fd00::{n:x}"),
        };
        self.assigned.insert((class, key.to_owned()), p.clone());
        p
    }

    /// The pseudonym of one host-like piece (no `:`), or `None` to keep it.
    fn piece(&mut self, p: &str) -> Option<String> {
        let lead = p.len() - p.trim_start_matches('.').len();
        let core = p.trim_matches('.');
        let trail = p.len() - lead - core.len();
        if core.is_empty() {
            return None;
        }
        let wrap = |s: String| format!("{}{s}{}", ".".repeat(lead), ".".repeat(trail));
        if let Some(ip) = is_v4_literal(core) {
            return (!keep_v4(ip)).then(|| wrap(self.pseudonym(Class::V4, &ip.to_string())));
        }
        let lower = core.to_ascii_lowercase();
        if kept_domain(&lower) {
            return None;
        }
        if self.domains.contains(&lower) {
            return Some(wrap(self.pseudonym(Class::Domain, &lower)));
        }
        if let Some(d) = self
            .domains
            .iter()
            .find(|d| lower.ends_with(&format!(".{d}")))
            .cloned()
        {
            let prefix = lower.get(..lower.len() - d.len() - 1).unwrap_or_default();
            let dp = self.pseudonym(Class::Domain, &d);
            let hp = if self.servers.iter().any(|s| s == prefix) {
                self.pseudonym(Class::Server, prefix)
            } else {
                self.pseudonym(Class::Host, &lower)
            };
            return Some(wrap(format!("{hp}.{dp}")));
        }
        let class = [
            (&self.fqdns, Class::Host),
            (&self.servers, Class::Server),
            (&self.hosts, Class::Host),
            (&self.users, Class::User),
            (&self.netbios, Class::Netbios),
            (&self.secrets, Class::Secret),
        ]
        .into_iter()
        .find(|(list, _)| list.iter().any(|n| n.eq_ignore_ascii_case(&lower)))
        .map(|(_, c)| c);
        if let Some(class) = class {
            return Some(wrap(self.pseudonym(class, &lower)));
        }
        // A name glued into a longer word (`EX01-evidence`, `EX01_2024`).
        if lower.contains(['-', '_']) {
            let parts: Vec<&str> = core.split(['-', '_']).collect();
            let mut changed = false;
            let mut out = String::with_capacity(core.len());
            let mut pos = 0;
            for part in parts {
                let sep_end = pos + part.len();
                let replaced = self.piece_word(part);
                changed |= replaced.is_some();
                out.push_str(&replaced.unwrap_or_else(|| part.to_owned()));
                if let Some(sep) = core.get(sep_end..=sep_end) {
                    out.push_str(sep);
                }
                pos = sep_end + 1;
            }
            return changed.then(|| wrap(out));
        }
        None
    }

    fn piece_word(&mut self, w: &str) -> Option<String> {
        let lower = w.to_ascii_lowercase();
        let class = [
            (&self.servers, Class::Server),
            (&self.users, Class::User),
            (&self.netbios, Class::Netbios),
        ]
        .into_iter()
        .find(|(list, _)| list.contains(&lower))
        .map(|(_, c)| c)?;
        Some(self.pseudonym(class, &lower))
    }

    /// One run of `[A-Za-z0-9._:-]`: an IPv6 address, or `:`-separated pieces.
    fn run(&mut self, r: &str) -> String {
        if r.matches(':').count() >= 2 {
            let core = r.trim_end_matches('.');
            if let Ok(ip) = core.parse::<Ipv6Addr>() {
                if ip.is_loopback() || ip.is_unspecified() {
                    return r.to_owned();
                }
                let p = self.pseudonym(Class::V6, &ip.to_string());
                return format!("{p}{}", &r[core.len()..]);
            }
        }
        r.split(':')
            .map(|p| self.piece(p).unwrap_or_else(|| p.to_owned()))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Credentials in URLs first (a password can hold any character), then tokens.
    pub fn text(&mut self, t: &str) -> String {
        let t = self.winhttp_blobs(t);
        let t = self.url_credentials(&t);
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        while !rest.is_empty() {
            let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
            let start = rest.find(word).unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let end = after.find(|c: char| !word(c)).unwrap_or(after.len());
            if end > 0 {
                let r = self.run(&after[..end]);
                out.push_str(&r);
            }
            rest = &after[end..];
        }
        out
    }

    fn url_credentials(&mut self, t: &str) -> String {
        let mut out = String::with_capacity(t.len());
        let mut i = 0;
        while let Some(off) = t.get(i..).and_then(|s| s.find("://")) {
            let start = i + off + 3;
            out.push_str(&t[i..start]);
            let end = t[start..]
                .find(|c: char| c.is_whitespace() || "/\"'<>;,".contains(c))
                .map_or(t.len(), |e| start + e);
            let authority = &t[start..end];
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                    out.push_str(&self.pseudonym(Class::User, &user.to_ascii_lowercase()));
                    if !pass.is_empty() {
                        out.push(':');
                        out.push_str(&self.pseudonym(Class::Secret, pass));
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            i = end;
        }
        out.push_str(&t[i..]);
        out
    }

    /// `WinHttpSettings REG_BINARY 28000000…`: the proxy and bypass list are
    /// hex inside the blob; rewrite them and fix their length fields.
    fn winhttp_blobs(&mut self, t: &str) -> String {
        if !t.contains("REG_BINARY") {
            return t.to_owned();
        }
        let mut out = String::with_capacity(t.len());
        for line in t.split_inclusive('\n') {
            let Some(pos) = line.find("REG_BINARY") else {
                out.push_str(line);
                continue;
            };
            let data_start = pos + "REG_BINARY".len();
            let data = line[data_start..].trim();
            match self.blob(data) {
                Some(new) => {
                    let at = data_start + line[data_start..].find(data).unwrap_or(0);
                    out.push_str(&line[..at]);
                    out.push_str(&new);
                    out.push_str(&line[at + data.len()..]);
                }
                None => out.push_str(line),
            }
        }
        out
    }

    fn blob(&mut self, hex: &str) -> Option<String> {
        if hex.is_empty() || hex.len() % 2 == 1 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
            .collect();
        let u32_at = |b: &[u8], i: usize| -> Option<u32> {
            b.get(i..i + 4)
                .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        };
        // header, counter, access type, then two length-prefixed strings.
        let plen = u32_at(&bytes, 12)? as usize;
        let proxy = bytes.get(16..16 + plen)?;
        let blen = u32_at(&bytes, 16 + plen)? as usize;
        let bstart = 20 + plen;
        let bypass = bytes.get(bstart..bstart + blen)?;
        let rest = bytes.get(bstart + blen..)?;
        let p = self.text(std::str::from_utf8(proxy).ok()?);
        let b = self.text(std::str::from_utf8(bypass).ok()?);
        let mut nb = bytes.get(..12)?.to_vec();
        nb.extend_from_slice(&u32::try_from(p.len()).ok()?.to_le_bytes());
        nb.extend_from_slice(p.as_bytes());
        nb.extend_from_slice(&u32::try_from(b.len()).ok()?.to_le_bytes());
        nb.extend_from_slice(b.as_bytes());
        nb.extend_from_slice(rest);
        Some(nb.iter().map(|b| format!("{b:02X}")).collect())
    }

    /// Redact one saved file. `None`: the file cannot be redacted safely
    /// (binary) and must be left out of a redacted bundle.
    pub fn file(&mut self, name: &str, bytes: &[u8]) -> Option<Vec<u8>> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".pem") {
            // Certificates of the chain: public, and issuers stay by design.
            return Some(bytes.to_vec());
        }
        if lower.ends_with(".json")
            && let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes)
        {
            self.json(&mut v);
            return serde_json::to_vec_pretty(&v).ok();
        }
        if bytes.is_empty() {
            return Some(Vec::new());
        }
        let d = text::decode(bytes);
        match d.encoding {
            Encoding::Binary => None,
            Encoding::Utf16leBom | Encoding::Utf16le | Encoding::Utf16beBom => {
                // Decode here, not with `text::decode`: line endings stay as they were.
                let be = d.encoding == Encoding::Utf16beBom;
                let body = match d.encoding {
                    Encoding::Utf16le => bytes,
                    _ => bytes.get(2..).unwrap_or_default(),
                };
                let units: Vec<u16> = body
                    .chunks_exact(2)
                    .map(|c| {
                        if be {
                            u16::from_be_bytes([c[0], c[1]])
                        } else {
                            u16::from_le_bytes([c[0], c[1]])
                        }
                    })
                    .collect();
                let t = self.text(&String::from_utf16_lossy(&units));
                let units = t.encode_utf16();
                let mut out = Vec::with_capacity(bytes.len() + 16);
                match d.encoding {
                    Encoding::Utf16beBom => {
                        out.extend_from_slice(&[0xFE, 0xFF]);
                        units.for_each(|u| out.extend_from_slice(&u.to_be_bytes()));
                    }
                    e => {
                        if e == Encoding::Utf16leBom {
                            out.extend_from_slice(&[0xFF, 0xFE]);
                        }
                        units.for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
                    }
                }
                Some(out)
            }
            // ASCII-compatible (UTF-8, code pages): names and pseudonyms are
            // ASCII, so rewrite ASCII runs and keep every other byte as is.
            _ => Some(self.ascii_compatible(bytes)),
        }
    }

    fn ascii_compatible(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for chunk in bytes.split_inclusive(|b| !b.is_ascii()) {
            let (ascii, tail) = match chunk.split_last() {
                Some((last, head)) if !last.is_ascii() => (head, Some(*last)),
                _ => (chunk, None),
            };
            // Pure ASCII is valid UTF-8.
            let s = String::from_utf8_lossy(ascii);
            out.extend_from_slice(self.text(&s).as_bytes());
            out.extend(tail);
        }
        out
    }

    fn json(&mut self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = self.text(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    // PEM/base64 data: a short name could match a base64 fragment.
                    if k != "pem" && k != "der" {
                        self.json(x);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned() -> Redactor {
        let mut r = Redactor::new();
        r.learn_host("LONEX04.contoso.com", true);
        r.learn_host("proxy.fabrikam.local", false);
        r.learn_text("http://jdoe:S3cr3t!@proxy.fabrikam.local:3128/ C:\\Users\\alice\\x");
        r
    }

    #[test]
    fn names_get_stable_pseudonyms() {
        let mut r = learned();
        let t = r.text(
            "LONEX04 LONEX04.contoso.com contoso.com 10.20.30.40:8080 proxy.fabrikam.local:3128 \
             CONTOSO\\bob EX01-evidence lonex04-bundle",
        );
        assert_eq!(
            t,
            "server-1 server-1.domain-1.example domain-1.example 10.0.0.1:8080 \
             host-1.domain-2.example:3128 NETBIOS-1\\bob EX01-evidence server-1-bundle"
        );
    }

    #[test]
    fn products_builds_and_microsoft_stay() {
        let mut r = learned();
        let s = "Version 15.2 (Build 1118.7) 15.02.1118.040 System.Net.WebException \
                 https://officeclient.microsoft.com/getexchangemitigations crl3.digicert.com \
                 Using Proxy http://webproxy:8080/ 127.0.0.1 12:34:56 ExSetup.exe";
        assert_eq!(r.text(s), s);
    }

    #[test]
    fn credentials_and_users() {
        let mut r = learned();
        let t = r.text("http://jdoe:S3cr3t!@proxy.fabrikam.local:3128/ C:\\Users\\alice\\x");
        assert!(!t.contains("jdoe") && !t.contains("S3cr3t") && !t.contains("alice"));
        assert!(t.contains("user-1:secret-1@"), "{t}");
    }

    #[test]
    fn ipv6_and_blob() {
        let mut r = learned();
        assert_eq!(r.text("[2001:db8::5]:443 ::1"), "[fd00::1]:443 ::1");
        let line = "    WinHttpSettings    REG_BINARY    2800000000000000030000001000000031302E32302E33302E34303A383038301A0000003C6C6F63616C3E3B2A2E636F6E746F736F2E636F6D3B31302E2A\r\n";
        let out = r.text(line);
        let hex = out.split_whitespace().last().unwrap_or_default();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let s = eems_parsers::winhttp::decode_winhttp_settings(&bytes).unwrap();
        assert_eq!(s.proxy.as_deref(), Some("10.0.0.1:8080"));
        assert_eq!(s.bypass.as_deref(), Some("<local>;*.domain-1.example;10.*"));
        assert!(out.ends_with("\r\n"));
    }

    #[test]
    fn utf16_round_trip() {
        let mut r = learned();
        let mut bytes = vec![0xFF, 0xFE];
        "Computer: LONEX04.contoso.com\r\n"
            .encode_utf16()
            .for_each(|u| bytes.extend_from_slice(&u.to_le_bytes()));
        let out = r.file("events.txt", &bytes).unwrap();
        assert_eq!(text::decode(&out).encoding, Encoding::Utf16leBom);
        let units: Vec<u16> = out[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(
            String::from_utf16_lossy(&units),
            "Computer: server-1.domain-1.example\r\n"
        );
    }
}
