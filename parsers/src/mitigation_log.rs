//! MitigationService log (`V15\Logging\MitigationService`). STUB: to be implemented.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct MitigationLog {}

pub fn parse(_src: Source<'_>) -> Parsed<MitigationLog> {
    Parsed::ok(MitigationLog::default())
}
