//! What a [`CheckId`] is besides its variant: its kebab-case name printed,
//! serialised and parsed. The enum itself is generated from the one list in
//! `registry.rs`, where each check's line names its id: a misspelt id does
//! not compile, and the name is written once.

pub use crate::registry::CheckId;
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The name is not a check's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheck(pub String);

impl fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no check is named `{}`", self.0)
    }
}

impl std::error::Error for UnknownCheck {}

impl FromStr for CheckId {
    type Err = UnknownCheck;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownCheck(s.to_owned()))
    }
}

/// Comparing with a name read from outside (JSON, the command line, tests).
impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_kebab_case_and_parse_back() {
        let names: HashSet<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(names.len(), CheckId::ALL.len());
        for &id in CheckId::ALL {
            let s = id.as_str();
            assert!(
                !s.starts_with('-')
                    && !s.ends_with('-')
                    && !s.contains("--")
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{s}"
            );
            assert_eq!(s.parse::<CheckId>(), Ok(id));
            assert_eq!(serde_json::to_string(&id).ok(), Some(format!("\"{s}\"")));
            assert_eq!(format!("{id:<30}|").len(), 31);
        }
        assert_eq!(
            "tls-interceptoin".parse::<CheckId>(),
            Err(UnknownCheck("tls-interceptoin".into()))
        );
    }
}
