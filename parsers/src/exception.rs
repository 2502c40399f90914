//! .NET exception chains inside event messages. STUB: to be implemented.
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExceptionChain {}

pub fn parse_chain(_message: &str) -> ExceptionChain {
    ExceptionChain::default()
}
