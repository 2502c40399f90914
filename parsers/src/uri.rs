//! The pieces of a URL the parsers, checks and probe all need, cut by hand:
//! proxy settings and log lines are often not valid URLs (`u:p@host:3128`,
//! `10.0.0.1:8080`), and a full URL parser rejects them.

use std::borrow::Cow;

/// Splits `s` into what comes before its authority (`http://` or nothing),
/// the authority, and the rest (`/path`, `?query`, `#frag`).
fn split_authority(s: &str) -> (&str, &str, &str) {
    let start = s.find("://").map_or(0, |i| i + 3);
    let (head, rest) = s.split_at(start);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    (head, authority, tail)
}

/// `s` without the `user:pass@` of its authority: `http://u:p@h:1/x@y` →
/// `http://h:1/x@y`, `u:p@h:1` → `h:1`. Credentials are used, never shown or
/// saved.
pub fn strip_credentials(s: &str) -> Cow<'_, str> {
    let (head, authority, tail) = split_authority(s);
    match authority.rsplit_once('@') {
        Some((_, host)) => Cow::Owned(format!("{head}{host}{tail}")),
        None => Cow::Borrowed(s),
    }
}

/// The host of a URL or a bare `host:port`, without credentials, port or
/// IPv6 brackets: `http://u@[fd00::1]:80/x` → `fd00::1`.
pub fn host(s: &str) -> &str {
    let (_, authority, _) = split_authority(s);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_the_authority_only() {
        assert_eq!(strip_credentials("http://u:p@h:1/x@y"), "http://h:1/x@y");
        assert_eq!(strip_credentials("u:p@h:1"), "h:1");
        assert_eq!(
            strip_credentials("http://user:pass@proxy:3128/"),
            "http://proxy:3128/"
        );
        assert_eq!(
            strip_credentials("http://u:p@proxy:3128"),
            "http://proxy:3128"
        );
        // `@` in the path or query is not userinfo.
        assert_eq!(strip_credentials("http://h/a@b"), "http://h/a@b");
        assert_eq!(strip_credentials("http://h?x=a@b"), "http://h?x=a@b");
        assert!(matches!(
            strip_credentials("http://proxy:3128/"),
            Cow::Borrowed(_)
        ));
        assert_eq!(strip_credentials(""), "");
    }

    #[test]
    fn hosts() {
        assert_eq!(host("http://u:p@h.example:80/x"), "h.example");
        assert_eq!(host("http://[fd00::1]:8080/"), "fd00::1");
        assert_eq!(host("10.0.0.1:8080"), "10.0.0.1");
        assert_eq!(host("crl.example/x.crl"), "crl.example");
        assert_eq!(host(""), "");
    }
}
