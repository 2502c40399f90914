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

/// The OCS host the service talks to.
pub const OCS_HOST: &str = "officeclient.microsoft.com";

/// `host:port` of a proxy given as `http://host:port/`, `host:port`, or a
/// WinHTTP per-scheme list (`http=a:3128;https=b:8443`: the `https=` entry,
/// else `http=`, else the first). Port defaults to 80 (what WinHTTP and
/// System.Uri assume for http).
pub fn authority(proxy: &str) -> Option<(String, u16)> {
    let p = proxy.trim();
    let p = if p.contains('=') {
        let entries: Vec<(&str, &str)> = p
            .split(';')
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("https"))
            .or_else(|| entries.iter().find(|(k, _)| k.eq_ignore_ascii_case("http")))
            .or_else(|| entries.first())
            .map(|(_, v)| *v)?
    } else {
        p.split(';').next().unwrap_or(p)
    };
    let p = p.split_once("://").map_or(p, |(_, rest)| rest);
    let p = p.split('/').next().unwrap_or(p);
    let p = p.rsplit_once('@').map_or(p, |(_, h)| h);
    if p.is_empty() {
        return None;
    }
    let (host, port) = match p.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(':') => (h, port.parse().ok()?),
        _ => (p, 80),
    };
    Some((host.trim_matches(['[', ']']).to_ascii_lowercase(), port))
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
        assert_eq!(
            authority("http://10.20.30.40:8080/"),
            Some(("10.20.30.40".into(), 8080))
        );
        assert_eq!(
            authority("10.20.30.40:8080"),
            Some(("10.20.30.40".into(), 8080))
        );
        assert_eq!(
            authority("proxy.contoso.com"),
            Some(("proxy.contoso.com".into(), 80))
        );
        assert_eq!(
            authority("http=a:3128;https=b:8443"),
            Some(("b".into(), 8443))
        );
        assert_eq!(authority("http=a:3128"), Some(("a".into(), 3128)));
        assert_eq!(authority(""), None);
        assert_eq!(authority("http://host:notaport/"), None);
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
