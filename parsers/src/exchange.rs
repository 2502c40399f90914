//! Get-ExchangeServer, Get-OrganizationConfig, Get-Service outputs. STUB.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExchangeServers {}
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrganizationConfig {}
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceStatus {}

pub fn parse_exchange_server(_src: Source<'_>) -> Parsed<ExchangeServers> {
    Parsed::ok(ExchangeServers::default())
}
pub fn parse_organization_config(_src: Source<'_>) -> Parsed<OrganizationConfig> {
    Parsed::ok(OrganizationConfig::default())
}
pub fn parse_service_status(_src: Source<'_>) -> Parsed<ServiceStatus> {
    Parsed::ok(ServiceStatus::default())
}
