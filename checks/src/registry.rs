//! The one explicit list of checks. Its order is the order of reports and
//! docs: the build first (it decides most cases), the network path last.

use crate::check::Check;
use crate::{build, fetch, flags, meta, network, proxy, revocation, service, tls};

pub fn all() -> Vec<&'static dyn Check> {
    vec![
        &build::predates_eems::BuildPredatesEems,
        &build::before_march_2023::BuildBeforeMarch2023,
        &build::unknown::BuildUnknown,
        &flags::disabled_org::MitigationsDisabledOrg,
        &flags::disabled_server::MitigationsDisabledServer,
        &flags::blocked::MitigationsBlocked,
        &flags::obsolete::MitigationObsolete,
        &service::not_running::ServiceNotRunning,
        &service::crashing::ServiceCrashing,
        &proxy::winhttp_missing::ProxyWinhttpMissing,
        &proxy::exchange_missing::ProxyExchangeMissing,
        &proxy::mismatch::ProxyMismatch,
        &proxy::invalid_scheme::ProxyInvalidScheme,
        &proxy::auth_required::ProxyAuthRequired,
        &proxy::bypass_ocs::ProxyBypassOcs,
        &network::dns_failure::OcsDnsFailure,
        &network::unreachable::OcsUnreachable,
        &network::http_error::OcsHttpError,
        &tls::validation_failed::TlsValidationFailed,
        &tls::interception::TlsInterception,
        &tls::chain_untrusted::TlsChainUntrusted,
        &tls::os_verdict::TlsOsVerdictDiffers,
        &tls::protocol_failure::TlsProtocolFailure,
        &revocation::crl_unreachable::CrlUnreachable,
        &revocation::ctl_unreachable::CtlUnreachable,
        &revocation::ctl_autoupdate::CtlAutoupdateDisabled,
        &revocation::aia_disabled::AiaRetrievalDisabled,
        &fetch::xml_signature::XmlSignatureInvalid,
        &fetch::untrusted_endpoint::UntrustedEndpoint,
        &fetch::failing::FetchFailing,
        &fetch::stale::FetchStale,
        &meta::evidence_incomplete::EvidenceIncomplete,
    ]
}

/// The check with this id.
pub fn find(id: &str) -> Option<&'static dyn Check> {
    all().into_iter().find(|c| c.meta().id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The ids are a contract: reports, docs and users' scripts rely on them.
    #[test]
    fn ids_are_the_contract_list_and_unique() {
        let ids: Vec<&str> = all().iter().map(|c| c.meta().id).collect();
        let expected = [
            "build-predates-eems",
            "build-before-march-2023",
            "build-unknown",
            "mitigations-disabled-org",
            "mitigations-disabled-server",
            "mitigations-blocked",
            "mitigation-obsolete",
            "service-not-running",
            "service-crashing",
            "proxy-winhttp-missing",
            "proxy-exchange-missing",
            "proxy-mismatch",
            "proxy-invalid-scheme",
            "proxy-auth-required",
            "proxy-bypass-ocs",
            "ocs-dns-failure",
            "ocs-unreachable",
            "ocs-http-error",
            "tls-validation-failed",
            "tls-interception",
            "tls-chain-untrusted",
            "tls-os-verdict-differs",
            "tls-protocol-failure",
            "crl-unreachable",
            "ctl-unreachable",
            "ctl-autoupdate-disabled",
            "aia-retrieval-disabled",
            "xml-signature-invalid",
            "untrusted-endpoint",
            "fetch-failing",
            "fetch-stale",
            "evidence-incomplete",
        ];
        assert_eq!(ids, expected);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        for id in ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
        }
    }
}
