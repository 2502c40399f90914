//! Checks about the evidence itself.

pub mod evidence_incomplete;
pub mod org_config_unreadable;
