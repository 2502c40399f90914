//! The test kit shared by the probe's tests, the integration tests and the
//! `ocs_standin` example: a test PKI shaped like the one the mitigation
//! service meets (`pki`) and in-process servers on 127.0.0.1 (`servers`).
//! Nothing here reaches the internet. Used only as a dev-dependency.

pub mod pki;
pub mod servers;
