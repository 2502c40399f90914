//! Organization and server mitigation settings, and what is applied/blocked.

pub mod apply_failed;
pub mod blocked;
pub mod disabled_org;
pub mod disabled_server;
pub mod obsolete;

/// `M1`, `M1.1`, `M01.1` and `m01` are the same mitigation: `M1`.
/// `PING1` stays `PING1`. Anything else is returned trimmed and upper-cased.
pub fn canonical_id(id: &str) -> String {
    let id = id
        .trim()
        .trim_matches(['{', '}', '"', '\''])
        .trim()
        .to_ascii_uppercase();
    if let Some(rest) = id.strip_prefix('M') {
        let major = rest.split('.').next().unwrap_or("");
        if !major.is_empty() && major.chars().all(|c| c.is_ascii_digit()) {
            let n = major.trim_start_matches('0');
            return format!("M{}", if n.is_empty() { "0" } else { n });
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::canonical_id;

    #[test]
    fn ids_are_one_mitigation() {
        for s in ["M1", "M1.1", "M01.1", "m01", " M1.2 "] {
            assert_eq!(canonical_id(s), "M1", "{s}");
        }
        assert_eq!(canonical_id("M2.1"), "M2");
        assert_eq!(canonical_id("PING1"), "PING1");
        assert_eq!(canonical_id("Mx"), "MX");
    }
}
