//! Exchange build strings and ExSetup version output. STUB.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExsetupVersion {}

pub fn parse_exsetup(_src: Source<'_>) -> Parsed<ExsetupVersion> {
    Parsed::ok(ExsetupVersion::default())
}
