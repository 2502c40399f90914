//! Event exports (event 1008 and Watson 4999). STUB: to be implemented.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct EventExport {}

pub fn parse(_src: Source<'_>) -> Parsed<EventExport> {
    Parsed::ok(EventExport::default())
}

pub fn parse_evtx(_bytes: &[u8]) -> Parsed<EventExport> {
    Parsed::ok(EventExport::default())
}
