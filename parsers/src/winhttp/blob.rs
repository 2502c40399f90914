//! The `WinHttpSettings` REG_BINARY value (layout INFERRED from CSS-Exchange
//! `Get-HttpProxySetting.ps1`; exchange-facts.md §3). All integers are
//! little-endian u32:
//!
//! | offset | field |
//! |---|---|
//! | 0 | header/version (0x18 default, 0x28 in exports): not validated |
//! | 4 | change counter |
//! | 8 | access type: 1 direct, 3 named proxy |
//! | 12 | N, then N bytes of proxy string |
//! | 16+N | M, then M bytes of bypass list |
//!
//! Trailing (padding) bytes are allowed. Every read goes through nom's
//! bounds-checked `le_u32`/`take`.
use super::{ProxyList, split_bypass};
use nom::bytes::complete::take;
use nom::number::complete::le_u32;
use nom::{IResult, Parser};
use serde::Serialize;

/// What the access-type field says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessType {
    /// Field not readable (blob too short).
    #[default]
    Unknown,
    /// 1 = WINHTTP_ACCESS_TYPE_NO_PROXY.
    Direct,
    /// 3 = WINHTTP_ACCESS_TYPE_NAMED_PROXY.
    NamedProxy,
    /// Any other value (kept raw in `access_type`).
    Other,
}

/// Decoded `WinHttpSettings`. After a successful decode `header`, `counter`
/// and `access_type` are always `Some`; a partial decode (see
/// [`WinHttpDecodeError::partial`]) leaves unreadable fields `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WinHttpSettings {
    pub header: Option<u32>,
    pub counter: Option<u32>,
    pub access_type: Option<u32>,
    pub access: AccessType,
    /// Proxy string (N bytes); `None` when N is 0 or unreadable.
    pub proxy: Option<String>,
    pub proxies: ProxyList,
    /// Bypass list as stored (M bytes); `None` when M is 0, absent or unreadable.
    pub bypass: Option<String>,
    pub bypass_list: Vec<String>,
    /// Bytes after the bypass list (zero padding is normal).
    pub trailing_bytes: usize,
    /// Total blob length.
    pub length: usize,
}

impl WinHttpSettings {
    /// True when the blob says direct access (access type 1, or no proxy string at all).
    pub fn is_direct(&self) -> bool {
        self.access == AccessType::Direct || self.proxy.is_none()
    }
}

/// A blob that could not be read to its end: what went wrong, where, and
/// every field that was readable before that point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WinHttpDecodeError {
    pub message: String,
    /// Byte offset in the blob where reading stopped.
    pub offset: usize,
    pub partial: Box<WinHttpSettings>,
}

impl std::fmt::Display for WinHttpDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WinHttpDecodeError {}

fn u32_field(i: &[u8]) -> IResult<&[u8], u32> {
    le_u32.parse(i)
}

fn bytes_field(i: &[u8], n: usize) -> IResult<&[u8], &[u8]> {
    take(n).parse(i)
}

/// Decode a `WinHttpSettings` blob. Never panics; lengths running past the
/// end produce an error carrying the fields read so far.
pub fn decode_winhttp_settings(bytes: &[u8]) -> Result<WinHttpSettings, WinHttpDecodeError> {
    let mut s = WinHttpSettings {
        length: bytes.len(),
        ..WinHttpSettings::default()
    };
    let total = bytes.len();
    let err = |rest: &[u8], message: String, partial: &WinHttpSettings| WinHttpDecodeError {
        message,
        offset: total - rest.len(),
        partial: Box::new(partial.clone()),
    };
    let mut rest = bytes;
    for (idx, name) in ["header", "change counter", "access type"]
        .iter()
        .enumerate()
    {
        let Ok((after, v)) = u32_field(rest) else {
            return Err(err(
                rest,
                format!(
                    "truncated WinHttpSettings: {total} bytes, {name} needs 4 bytes at offset {}",
                    idx * 4
                ),
                &s,
            ));
        };
        match idx {
            0 => s.header = Some(v),
            1 => s.counter = Some(v),
            _ => {
                s.access_type = Some(v);
                s.access = match v {
                    1 => AccessType::Direct,
                    3 => AccessType::NamedProxy,
                    _ => AccessType::Other,
                };
            }
        }
        rest = after;
    }

    let (text, after) = length_prefixed(rest, "proxy").map_err(|m| err(rest, m, &s))?;
    rest = after;
    if let Some(p) = text {
        s.proxies = ProxyList::parse(&p).0;
        s.proxy = Some(p);
    }
    // The bypass length may be missing altogether when nothing follows the proxy.
    if rest.is_empty() {
        return Ok(s);
    }
    let (text, after) = length_prefixed(rest, "bypass").map_err(|m| err(rest, m, &s))?;
    rest = after;
    if let Some(b) = text {
        s.bypass_list = split_bypass(&b);
        s.bypass = Some(b);
    }
    s.trailing_bytes = rest.len();
    Ok(s)
}

/// u32 length + that many bytes → text (`None` for length 0).
fn length_prefixed<'a>(i: &'a [u8], what: &str) -> Result<(Option<String>, &'a [u8]), String> {
    let (after, n) = u32_field(i).map_err(|_| {
        format!(
            "truncated WinHttpSettings: {what} length needs 4 bytes, {} remaining",
            i.len()
        )
    })?;
    let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
    let (after, raw) = bytes_field(after, n_usize).map_err(|_| {
        format!(
            "truncated WinHttpSettings: {what} length {n} exceeds remaining {} bytes",
            after.len()
        )
    })?;
    let text = (n > 0).then(|| String::from_utf8_lossy(raw).into_owned());
    Ok((text, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(header: u32, flags: u32, proxy: &str, bypass: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(header.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(flags.to_le_bytes());
        b.extend(u32::try_from(proxy.len()).unwrap().to_le_bytes());
        b.extend(proxy.as_bytes());
        b.extend(u32::try_from(bypass.len()).unwrap().to_le_bytes());
        b.extend(bypass.as_bytes());
        b
    }

    #[test]
    fn direct_value() {
        let b = [
            0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let s = decode_winhttp_settings(&b).unwrap();
        assert_eq!(s.header, Some(0x18));
        assert_eq!(s.access, AccessType::Direct);
        assert_eq!(s.proxy, None);
        assert!(s.bypass_list.is_empty());
        assert!(s.is_direct());
        assert_eq!(s.trailing_bytes, 0);
    }

    #[test]
    fn named_proxy_with_padding() {
        let mut b = blob(0x28, 3, "http=a:3128;https=b:8443", "<local>;*.contoso.com");
        b.extend([0u8; 7]);
        let s = decode_winhttp_settings(&b).unwrap();
        assert_eq!(s.access, AccessType::NamedProxy);
        assert_eq!(s.proxy.as_deref(), Some("http=a:3128;https=b:8443"));
        assert_eq!(s.proxies.len(), 2);
        assert_eq!(s.proxies[1].scheme.as_deref(), Some("https"));
        assert_eq!(s.proxies[1].port, Some(8443));
        assert_eq!(s.bypass_list, ["<local>", "*.contoso.com"]);
        assert_eq!(s.trailing_bytes, 7);
        assert!(!s.is_direct());
    }

    #[test]
    fn missing_bypass_length_is_fine() {
        let mut b = blob(0x18, 3, "p:1", "");
        b.truncate(b.len() - 4);
        let s = decode_winhttp_settings(&b).unwrap();
        assert_eq!(s.proxy.as_deref(), Some("p:1"));
        assert_eq!(s.bypass, None);
    }

    #[test]
    fn oversized_proxy_length() {
        let mut b = blob(0x28, 3, "proxy:8080", "");
        b[12] = 0xFF; // N = 255
        let e = decode_winhttp_settings(&b).unwrap_err();
        assert_eq!(
            e.message,
            "truncated WinHttpSettings: proxy length 255 exceeds remaining 14 bytes"
        );
        assert_eq!(e.offset, 12);
        assert_eq!(e.partial.header, Some(0x28));
        assert_eq!(e.partial.access, AccessType::NamedProxy);
        assert_eq!(e.partial.proxy, None);
    }

    #[test]
    fn oversized_bypass_length_keeps_proxy() {
        let mut b = blob(0x28, 3, "proxy:8080", "<local>");
        b.truncate(b.len() - 2);
        let e = decode_winhttp_settings(&b).unwrap_err();
        assert_eq!(
            e.message,
            "truncated WinHttpSettings: bypass length 7 exceeds remaining 5 bytes"
        );
        assert_eq!(e.partial.proxy.as_deref(), Some("proxy:8080"));
        assert_eq!(e.partial.bypass, None);
    }

    #[test]
    fn huge_length_and_short_blobs() {
        let mut b = blob(0x28, 3, "", "");
        b[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_winhttp_settings(&b).is_err());
        for len in 0..16 {
            let e = decode_winhttp_settings(&[0u8; 16][..len]).unwrap_err();
            assert!(
                e.message.starts_with("truncated WinHttpSettings"),
                "{}",
                e.message
            );
        }
        let e = decode_winhttp_settings(&[0x18, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.partial.header, Some(0x18));
        assert_eq!(e.partial.counter, None);
        // A 1..3 byte tail where the bypass length should be.
        let mut b = blob(0x18, 1, "", "");
        b.truncate(18);
        assert!(decode_winhttp_settings(&b).is_err());
    }

    #[test]
    fn other_access_type() {
        let s = decode_winhttp_settings(&blob(0x18, 5, "", "")).unwrap();
        assert_eq!(s.access, AccessType::Other);
        assert_eq!(s.access_type, Some(5));
    }
}
