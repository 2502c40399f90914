//! Proxies: the service sends its OCS request through Exchange's
//! InternetWebProxy, while Windows fetches CRLs, CTLs and issuer
//! certificates through the WinHTTP proxy. Both must be set, and agree.

pub mod auth_required;
pub mod bypass_mismatch;
pub mod bypass_ocs;
pub mod exchange_missing;
pub mod invalid_scheme;
pub mod mismatch;
pub mod winhttp_missing;

use eems_parsers::uri::strip_credentials;
use eems_parsers::winhttp::ProxyList;

/// The OCS host the service talks to.
pub const OCS_HOST: &str = "officeclient.microsoft.com";

/// What each proxy is used for: the service's OCS request is https://, the
/// CRL, CTL and issuer downloads Windows makes for it are http://.
pub const OCS_SCHEME: &str = "https";
pub const DOWNLOAD_SCHEME: &str = "http";

/// `host:port` of the proxy a request for a `scheme` URL goes through, from
/// Exchange's InternetWebProxy (`http://[user:pass@]host:port/`, one entry
/// for every scheme) or a WinHTTP list (`http=a:3128;https=b:8443`), by
/// WinHTTP's rule ([`ProxyList::for_scheme`]). Port defaults to 80 (what
/// WinHTTP and System.Uri assume for http).
pub fn authority(proxy: &str, scheme: &str) -> Option<(String, u16)> {
    let (list, _) = ProxyList::parse(&strip_credentials(proxy.trim()));
    list.for_scheme(scheme)?.authority()
}

/// Whether an Exchange `InternetWebProxyBypassList` entry matches `host`.
/// .NET treats entries as unanchored regular expressions, so a plain
/// `microsoft.com` matches `officeclient.microsoft.com`; wildcard entries are
/// matched as WinHTTP would.
pub fn exchange_bypass_matches(entry: &str, host: &str) -> bool {
    let e = entry.trim().to_ascii_lowercase();
    if e.contains('*') || e == "<local>" {
        return bypass_matches(&e, host);
    }
    let e = e.replace("\\.", ".");
    let e = e.trim_start_matches('^').trim_end_matches('$');
    !e.is_empty() && host.to_ascii_lowercase().contains(e)
}

/// Whether a WinHTTP/Exchange bypass entry matches `host`. `*` is a wildcard,
/// `<local>` matches names without a dot.
pub fn bypass_matches(entry: &str, host: &str) -> bool {
    let e = entry.trim().to_ascii_lowercase();
    let h = host.to_ascii_lowercase();
    if e.is_empty() {
        return false;
    }
    if e == "<local>" {
        return !h.contains('.');
    }
    let e = e
        .split_once("://")
        .map_or(e.as_str(), |(_, r)| r)
        .to_owned();
    glob(e.as_bytes(), h.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard match with backtracking on the last `*`.
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == s[si] || p[pi] == b'?') {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        let any = |p: &str| authority(p, OCS_SCHEME);
        assert_eq!(
            any("http://10.20.30.40:8080/"),
            Some(("10.20.30.40".into(), 8080))
        );
        assert_eq!(any("10.20.30.40:8080"), Some(("10.20.30.40".into(), 8080)));
        assert_eq!(
            any("proxy.contoso.com"),
            Some(("proxy.contoso.com".into(), 80))
        );
        assert_eq!(
            any("http://user:p@ss@Proxy.contoso.com:3128/wpad"),
            Some(("proxy.contoso.com".into(), 3128))
        );
        assert_eq!(any(""), None);
        assert_eq!(any("http://host:notaport/"), None);
        // A per-scheme WinHTTP list: downloads take `http=`, the OCS request `https=`.
        let list = "http=a:3128;https=b:8443";
        assert_eq!(authority(list, DOWNLOAD_SCHEME), Some(("a".into(), 3128)));
        assert_eq!(authority(list, OCS_SCHEME), Some(("b".into(), 8443)));
        assert_eq!(authority("https=b:8443", DOWNLOAD_SCHEME), None);
    }

    #[test]
    fn bypass() {
        assert!(bypass_matches("*.microsoft.com", OCS_HOST));
        assert!(bypass_matches("*microsoft.com", OCS_HOST));
        assert!(bypass_matches("officeclient.microsoft.com", OCS_HOST));
        assert!(bypass_matches("*", OCS_HOST));
        assert!(!bypass_matches("<local>", OCS_HOST));
        assert!(bypass_matches("<local>", "ex01"));
        assert!(!bypass_matches("*.contoso.com", OCS_HOST));
        assert!(!bypass_matches("10.*", OCS_HOST));
        assert!(exchange_bypass_matches("microsoft.com", OCS_HOST));
        assert!(exchange_bypass_matches("*.microsoft.com", OCS_HOST));
        assert!(!exchange_bypass_matches("contoso.com", OCS_HOST));
    }
}
