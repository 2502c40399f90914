//! Checks about the evidence itself.

pub mod evidence_incomplete;
pub mod evidence_stale;
pub mod org_config_unreadable;
