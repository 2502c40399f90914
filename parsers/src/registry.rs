//! Generic `reg query` output and `.reg` exports. STUB.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistryValues {}

pub fn parse(_src: Source<'_>) -> Parsed<RegistryValues> {
    Parsed::ok(RegistryValues::default())
}
