//! The TLS connection to OCS: validation failures reported by the service,
//! and (with live probes) the chain actually presented.

pub mod chain;
pub mod chain_untrusted;
pub mod config_weak;
pub mod interception;
pub mod issuers;
pub mod os_verdict;
pub mod protocol_failure;
pub mod validation_failed;
pub mod vendors;
