//! Addresses, proxies, DNS, TCP and the proxy CONNECT: the plumbing below
//! TLS. Proxy credentials are kept only in `ProxySpec::auth` (already
//! Base64-encoded for the header) and never appear in any display string.

use super::http::{ResponseHead, io_words, read_connect_head};
use base64::Engine as _;
use eems_parsers::uri::strip_credentials;
use eems_parsers::winhttp::ProxyList;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A parsed `http(s)://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub https: bool,
    /// Host without brackets, lower case.
    pub host: String,
    pub port: u16,
    /// `/path?query`.
    pub path: String,
    /// The URL without credentials.
    pub display: String,
}

impl Target {
    /// `Host` header / CONNECT authority: brackets for IPv6, port when not the default.
    pub fn authority(&self, always_port: bool) -> String {
        let h = bracket(&self.host);
        let default = if self.https { 443 } else { 80 };
        if always_port || self.port != default {
            format!("{h}:{}", self.port)
        } else {
            h
        }
    }
}

pub fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn host_of(u: &url::Url) -> Option<String> {
    match u.host()? {
        url::Host::Domain(d) => Some(d.trim_end_matches('.').to_ascii_lowercase()),
        url::Host::Ipv4(a) => Some(a.to_string()),
        url::Host::Ipv6(a) => Some(a.to_string()),
    }
}

pub fn parse_target(s: &str) -> Result<Target, String> {
    let u = url::Url::parse(s.trim())
        .map_err(|e| format!("invalid URL `{}`: {e}", strip_credentials(s)))?;
    let https = match u.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(format!(
                "unsupported scheme `{other}` (only http and https are fetched)"
            ));
        }
    };
    let host = host_of(&u).ok_or_else(|| format!("URL `{}` has no host", strip_credentials(s)))?;
    let port = u
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    let mut path = u.path().to_owned();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut clean = u.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    Ok(Target {
        https,
        host,
        port,
        path,
        display: clean.to_string(),
    })
}

/// An HTTP proxy: where it is, and how to authenticate (never displayed).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySpec {
    pub host: String,
    pub port: u16,
    /// Base64 of `user:pass`, for `Proxy-Authorization: Basic`.
    pub auth: Option<String>,
    /// `host:port`, no credentials.
    pub display: String,
}

impl std::fmt::Debug for ProxySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials stay out of debug output too.
        f.debug_struct("ProxySpec")
            .field("display", &self.display)
            .field("auth", &self.auth.is_some())
            .finish()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match (
            b.get(i),
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (Some(b'%'), Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (Some(c), _, _) => {
                out.push(*c);
                i += 1;
            }
            (None, _, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Exchange InternetWebProxy: `http://[user:pass@]host[:port][/]`, or a bare `host:port`.
pub fn parse_proxy(s: &str) -> Result<ProxySpec, String> {
    let s = s.trim();
    let with_scheme = if s.contains("://") {
        s.to_owned()
    } else {
        format!("http://{s}")
    };
    let u = url::Url::parse(&with_scheme)
        .map_err(|e| format!("invalid proxy `{}`: {e}", strip_credentials(s)))?;
    if u.scheme() != "http" {
        return Err(format!(
            "proxy scheme `{}` is not supported (the service's InternetWebProxy must be http://)",
            u.scheme()
        ));
    }
    let host =
        host_of(&u).ok_or_else(|| format!("proxy `{}` has no host", strip_credentials(s)))?;
    let port = u.port_or_known_default().unwrap_or(80);
    let auth = if u.username().is_empty() && u.password().is_none() {
        None
    } else {
        let cred = format!(
            "{}:{}",
            percent_decode(u.username()),
            percent_decode(u.password().unwrap_or_default())
        );
        Some(base64::engine::general_purpose::STANDARD.encode(cred))
    };
    Ok(ProxySpec {
        display: format!("{}:{port}", bracket(&host)),
        host,
        port,
        auth,
    })
}

/// The WinHTTP proxy as `netsh winhttp show proxy` gives it: `host:port`,
/// `http=host:port;https=host:port`, or a URL. CRLs and the CTL are
/// `http://`, so this is the proxy WinHTTP uses for `http` URLs.
pub fn parse_winhttp_proxy(s: &str) -> Result<ProxySpec, String> {
    let (list, _) = ProxyList::parse(s);
    let chosen = list
        .for_scheme("http")
        .ok_or_else(|| format!("no proxy for http:// in `{}`", strip_credentials(s)))?;
    parse_proxy(chosen.server())
}

/// Build the resolver: the system configuration, or one given server.
pub fn build_resolver(
    dns_server: Option<SocketAddr>,
    timeout: Duration,
) -> Result<TokioResolver, String> {
    let mut builder = match dns_server {
        Some(sa) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = sa.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = sa.port();
            let ns = NameServerConfig::new(sa.ip(), true, vec![udp, tcp]);
            let mut b = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            );
            b.options_mut().use_hosts_file = ResolveHosts::Never;
            b
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    opts.cache_size = 64;
    builder
        .build()
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))
}

/// Why a lookup failed, in words, and whether it was a timeout.
pub fn dns_error_words(e: &NetError) -> (bool, String) {
    match e {
        _ if e.is_nx_domain() => (false, "NXDOMAIN: the name does not exist".into()),
        NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => (
            false,
            format!("no address records for the name (NODATA, {response_code})"),
        ),
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => {
            (false, "SERVFAIL: the DNS server could not answer".into())
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => {
            (false, "REFUSED: the DNS server refused the query".into())
        }
        NetError::Dns(DnsError::ResponseCode(code)) => (false, format!("DNS error {code}")),
        NetError::Timeout => (true, "no answer from the DNS server (timed out)".into()),
        NetError::Io(io) => (false, format!("DNS server unreachable: {}", io_words(io))),
        NetError::NoConnections => (false, "no DNS server could be reached".into()),
        other => {
            let text = other.to_string();
            (
                text.to_ascii_lowercase().contains("timed out"),
                format!("DNS failure: {text}"),
            )
        }
    }
}

/// Connect to the first address that accepts, in order. The caller bounds the
/// whole attempt; `tried` lists the addresses that refused.
pub async fn connect_any(
    addrs: &[SocketAddr],
    tried: &mut Vec<String>,
) -> Result<(TcpStream, SocketAddr), String> {
    let mut last = String::from("no address to connect to");
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *a));
            }
            Err(e) => {
                last = format!("{} ({a})", io_words(&e));
                tried.push(last.clone());
            }
        }
    }
    Err(last)
}

/// The proxy's answer to CONNECT, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectVerdict {
    pub ok: bool,
    pub status: u16,
    pub reason: Option<String>,
    /// Scheme and realm of each `Proxy-Authenticate` challenge (407 only).
    pub proxy_authenticate: Option<String>,
    pub details: Vec<String>,
}

/// `Basic realm="Squid proxy", charset=…` → `Basic realm="Squid proxy"`; parameters
/// other than the realm (nonces, opaque data) are dropped.
fn challenge_summary(v: &str) -> String {
    let v = v.trim();
    let (scheme, params) = v.split_once(' ').unwrap_or((v, ""));
    let realm = params.split(',').map(str::trim).find_map(|p| {
        let (k, val) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("realm")
            .then(|| val.trim().to_owned())
    });
    match realm {
        Some(r) => format!("{scheme} realm={r}"),
        None => scheme.to_owned(),
    }
}

/// Judge a CONNECT response head (pure, so it can be tested from bytes).
pub fn judge_connect(
    head: &ResponseHead,
    authority: &str,
    sent_credentials: bool,
) -> ConnectVerdict {
    let mut details = vec![head.status_line.clone()];
    for name in ["Server", "Via", "X-Squid-Error", "Proxy-Connection"] {
        if let Some(v) = head.header(name) {
            details.push(format!("{name}: {v}"));
        }
    }
    let status = head.status;
    let text = format!("{status} {}", head.reason).trim_end().to_owned();
    let mut proxy_authenticate = None;
    let reason = match status {
        200..=299 => None,
        407 => {
            let challenges: Vec<String> = head
                .headers_named("proxy-authenticate")
                .map(challenge_summary)
                .collect();
            if !challenges.is_empty() {
                proxy_authenticate = Some(challenges.join(", "));
            }
            let creds = if sent_credentials {
                "the credentials in --proxy were rejected"
            } else {
                "no credentials were sent"
            };
            let asks = proxy_authenticate
                .as_deref()
                .map(|c| format!("; it asks for {c}"))
                .unwrap_or_default();
            Some(format!(
                "proxy answered {text}: authentication required ({creds}){asks}"
            ))
        }
        403 => Some(format!(
            "proxy answered {text}: its policy refuses the tunnel to {authority}"
        )),
        502..=504 => Some(format!(
            "proxy answered {text}: the proxy could not reach {authority} itself"
        )),
        _ => Some(format!("proxy answered {text} to CONNECT {authority}")),
    };
    ConnectVerdict {
        ok: reason.is_none(),
        status,
        reason,
        proxy_authenticate,
        details,
    }
}

/// Send CONNECT and read the answer without consuming tunnel bytes.
pub async fn connect_tunnel(
    stream: &mut TcpStream,
    proxy: &ProxySpec,
    authority: &str,
) -> Result<ConnectVerdict, (Option<u16>, String)> {
    let mut req = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: eems-doctor/{}\r\nProxy-Connection: Keep-Alive\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(a) = &proxy.auth {
        req.push_str(&format!("Proxy-Authorization: Basic {a}\r\n"));
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(|e| (None, format!("sending CONNECT: {}", io_words(&e))))?;
    let head = read_connect_head(stream)
        .await
        .map_err(|e| (None, format!("reading the proxy's answer: {e}")))?;
    Ok(judge_connect(&head, authority, proxy.auth.is_some()))
}

/// Addresses as text for step details.
pub fn addr_list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::http::parse_head;
    use super::*;

    #[test]
    fn urls_and_proxies() {
        let t =
            parse_target("https://OfficeClient.Microsoft.com/getexchangemitigations?a=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            (
                "officeclient.microsoft.com",
                443,
                "/getexchangemitigations?a=1"
            )
        );
        assert_eq!(t.authority(false), "officeclient.microsoft.com");
        assert_eq!(t.authority(true), "officeclient.microsoft.com:443");
        let t = parse_target("http://[::1]:8080/x.crl").unwrap();
        assert_eq!(
            (t.host.as_str(), t.authority(false)),
            ("::1", "[::1]:8080".to_owned())
        );
        assert!(parse_target("ldap:///CN=x").is_err());
        assert!(
            !parse_target("http://u:p@h/x")
                .unwrap()
                .display
                .contains("p@")
        );

        let p = parse_proxy("http://user:p%40ss@proxy.contoso.com:3128/").unwrap();
        assert_eq!(p.display, "proxy.contoso.com:3128");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(p.auth.clone().unwrap())
            .unwrap();
        assert_eq!(decoded, b"user:p@ss");
        assert!(!format!("{p:?}").contains(p.auth.as_deref().unwrap()));
        assert_eq!(
            parse_proxy("10.0.0.5:8080").unwrap().display,
            "10.0.0.5:8080"
        );
        assert_eq!(parse_proxy("proxy").unwrap().port, 80);
        assert!(parse_proxy("https://proxy:443").is_err());
        assert_eq!(
            parse_winhttp_proxy("http=a:1;https=b:2").unwrap().display,
            "a:1"
        );
        assert_eq!(
            parse_winhttp_proxy("proxy.contoso.com:8080")
                .unwrap()
                .display,
            "proxy.contoso.com:8080"
        );
        assert!(parse_winhttp_proxy("https=b:2").is_err());
        assert_eq!(
            parse_winhttp_proxy("HTTPS=b:2;HTTP=a:1").unwrap().display,
            "a:1"
        );
    }

    #[test]
    fn connect_answers() {
        let head = parse_head(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nServer: squid/5.7\r\nProxy-Authenticate: Basic realm=\"Squid proxy\"\r\nProxy-Authenticate: Digest realm=\"x\", nonce=\"abc\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        let v = judge_connect(&head, "officeclient.microsoft.com:443", false);
        assert!(!v.ok);
        assert_eq!(v.status, 407);
        assert_eq!(
            v.proxy_authenticate.as_deref(),
            Some("Basic realm=\"Squid proxy\", Digest realm=\"x\"")
        );
        assert!(
            v.reason
                .as_deref()
                .unwrap()
                .contains("no credentials were sent")
        );
        assert!(v.details.contains(&"Server: squid/5.7".to_owned()));
        let v = judge_connect(&head, "h:443", true);
        assert!(v.reason.unwrap().contains("rejected"));

        let ok = judge_connect(
            &parse_head(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap(),
            "h:443",
            false,
        );
        assert!(ok.ok && ok.reason.is_none());
        assert_eq!(ok.details[0], "HTTP/1.1 200 Connection established");

        let forbidden =
            parse_head(b"HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n\r\n")
                .unwrap();
        let v = judge_connect(&forbidden, "h:443", false);
        assert!(v.reason.unwrap().contains("policy refuses"));
        assert!(v.details.iter().any(|d| d.contains("ERR_ACCESS_DENIED")));
        let bad_gw = judge_connect(
            &parse_head(b"HTTP/1.0 502 Bad Gateway\r\n\r\n").unwrap(),
            "h:443",
            false,
        );
        assert!(bad_gw.reason.unwrap().contains("could not reach h:443"));
        let other = judge_connect(
            &parse_head(b"HTTP/1.1 418 Teapot\r\n\r\n").unwrap(),
            "h:443",
            false,
        );
        assert_eq!(other.status, 418);
        assert!(!other.ok);
        assert_eq!(challenge_summary("NTLM"), "NTLM");
    }
}
