//! Secrets never leave: whatever the evidence carried (a proxy URL with
//! `user:password@`, a `Proxy-Authorization` header pasted into a ticket),
//! every rendered report passes through this scrubber last.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// `scheme://user:pass@host` → `scheme://host` (also `user@`); stops at
/// quotes, whitespace and `/` so it never crosses a JSON string or a path.
static URL_USERINFO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b([a-z][a-z0-9+.-]{0,15}://)[^/@\s"'<>:]+(?::[^/@\s"'<>]*)?@"#).ok()
});

/// `Proxy-Authorization: Basic dXNlcjpwdw==` (and `Authorization:`) → the scheme only.
static AUTH_HEADER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(basic|bearer|ntlm|negotiate|digest)\s+[^\s"'<>,;]+"#).ok()
});

/// Remove credentials from a rendered report.
pub fn scrub(s: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    if let Some(re) = URL_USERINFO.as_ref()
        && re.is_match(&out)
    {
        out = Cow::Owned(re.replace_all(&out, "$1").into_owned());
    }
    if let Some(re) = AUTH_HEADER.as_ref()
        && re.is_match(&out)
    {
        out = Cow::Owned(re.replace_all(&out, "${1}${2} [removed]").into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn credentials_are_removed_and_the_rest_kept() {
        assert_eq!(
            scrub("Using Proxy http://bob:S3cret@10.0.0.1:8080/ To Fetch"),
            "Using Proxy http://10.0.0.1:8080/ To Fetch"
        );
        assert_eq!(
            scrub("\"proxy\": \"http://bob@proxy:3128/\""),
            "\"proxy\": \"http://proxy:3128/\""
        );
        assert_eq!(
            scrub("Proxy-Authorization: Basic Ym9iOlMzY3JldA=="),
            "Proxy-Authorization: Basic [removed]"
        );
        assert_eq!(
            scrub("see https://aka.ms/HelpConnectivityEEMS and mail a@b.c"),
            "see https://aka.ms/HelpConnectivityEEMS and mail a@b.c"
        );
        assert!(matches!(
            scrub("nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
