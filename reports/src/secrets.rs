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

/// `scrub` for a saved file in whatever encoding it came in: UTF-16 (with or
/// without BOM) is decoded and re-encoded, anything else is scrubbed as bytes
/// (credentials are ASCII), so line endings and every other byte stay as they
/// were. `None` when there was nothing to remove.
pub fn scrub_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    let utf16 = match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((rest, false, true)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, true, true)),
        _ if bytes.len() >= 4 && bytes.iter().skip(1).step_by(2).take(64).all(|b| *b == 0) => {
            Some((bytes, false, false))
        }
        _ => None,
    };
    if let Some((body, be, bom)) = utf16 {
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
        let text = String::from_utf16_lossy(&units);
        let Cow::Owned(clean) = scrub(&text) else {
            return None;
        };
        let mut out = Vec::with_capacity(bytes.len());
        if bom {
            out.extend_from_slice(if be { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
        }
        for u in clean.encode_utf16() {
            out.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        return Some(out);
    }
    let url = BYTES_URL_USERINFO.as_ref()?;
    let auth = BYTES_AUTH_HEADER.as_ref()?;
    if !url.is_match(bytes) && !auth.is_match(bytes) {
        return None;
    }
    let once = url.replace_all(bytes, &b"$1"[..]);
    Some(
        auth.replace_all(&once, &b"${1}${2} [removed]"[..])
            .into_owned(),
    )
}

static BYTES_URL_USERINFO: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
    regex::bytes::Regex::new(
        r#"(?i-u)\b([a-z][a-z0-9+.-]{0,15}://)[^/@\s"'<>:]+(?::[^/@\s"'<>]*)?@"#,
    )
    .ok()
});

static BYTES_AUTH_HEADER: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
    regex::bytes::Regex::new(r#"(?i-u)\b((?:proxy-)?authorization\s*[:=]\s*)(basic|bearer|ntlm|negotiate|digest)\s+[^\s"'<>,;]+"#).ok()
});

#[cfg(test)]
mod bytes_tests {
    use super::scrub_bytes;

    #[test]
    fn files_keep_their_encoding_and_line_ends() {
        let utf8 = b"\xEF\xBB\xBFInternetWebProxy : http://svc:Pw1@proxy:8080/\r\nX\r\n";
        assert_eq!(
            scrub_bytes(utf8).unwrap(),
            b"\xEF\xBB\xBFInternetWebProxy : http://proxy:8080/\r\nX\r\n".to_vec()
        );
        let mut u16 = vec![0xFF, 0xFE];
        u16.extend(
            "P http://a:b@h:1/\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let mut want = vec![0xFF, 0xFE];
        want.extend(
            "P http://h:1/\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(scrub_bytes(&u16).unwrap(), want);
        assert_eq!(
            scrub_bytes(b"Proxy-Authorization: Basic Zm9vOmJhcg==\n").unwrap(),
            b"Proxy-Authorization: Basic [removed]\n".to_vec()
        );
        assert!(scrub_bytes(b"nothing http://proxy:8080/ here").is_none());
        assert!(scrub_bytes(b"\xff\x00\x01binary").is_none());
    }
}
