//! The MSExchangeMitigation Windows service itself.

pub mod crashing;
pub mod not_running;
