//! Test-MitigationServiceConnectivity, Get-Mitigations, HealthChecker texts. STUB.
use crate::problem::Parsed;
use crate::text::Source;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectivityTest {}
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetMitigations {}
#[derive(Debug, Clone, Default, Serialize)]
pub struct HealthChecker {}

pub fn parse_connectivity_test(_src: Source<'_>) -> Parsed<ConnectivityTest> {
    Parsed::ok(ConnectivityTest::default())
}
pub fn parse_get_mitigations(_src: Source<'_>) -> Parsed<GetMitigations> {
    Parsed::ok(GetMitigations::default())
}
pub fn parse_healthchecker(_src: Source<'_>) -> Parsed<HealthChecker> {
    Parsed::ok(HealthChecker::default())
}
