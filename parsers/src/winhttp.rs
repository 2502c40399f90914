//! WinHTTP proxy settings: netsh show proxy / advproxy, WinHttpSettings. STUB.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct NetshProxy {}
#[derive(Debug, Clone, Default, Serialize)]
pub struct AdvProxy {}
#[derive(Debug, Clone, Default, Serialize)]
pub struct WinHttpRegistry {}

pub fn parse_netsh_proxy(_src: Source<'_>) -> Parsed<NetshProxy> {
    Parsed::ok(NetshProxy::default())
}
pub fn parse_advproxy(_src: Source<'_>) -> Parsed<AdvProxy> {
    Parsed::ok(AdvProxy::default())
}
pub fn parse_registry(_src: Source<'_>) -> Parsed<WinHttpRegistry> {
    Parsed::ok(WinHttpRegistry::default())
}
