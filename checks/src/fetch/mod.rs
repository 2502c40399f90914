//! The hourly fetch itself, as the service's log and events record it.

pub mod failing;
pub mod stale;
pub mod untrusted_endpoint;
pub mod xml_signature;
pub mod xml_trust;
