//! The one explicit list of checks. Its order is the order of reports and
//! docs: the build first (it decides most cases), the network path last.
//!
//! Each line names a check (its unit struct, the module it lives in) and its
//! stable kebab-case id; the [`CheckId`] enum is generated from these lines,
//! so a check is registered and named in one place. Everything else about a
//! check (severity, role in the diagnosis, priority, fix line) is its
//! [`CheckMeta`], declared in its own file.

use crate::check::{Check, CheckMeta};
use crate::{build, fetch, flags, meta, network, proxy, revocation, service, tls};

macro_rules! registry {
    ($($check:ident: $($module:ident)::+ = $name:literal,)*) => {
        /// A registered check, by its stable kebab-case name (`as_str`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckId {
            $($check,)*
        }

        impl CheckId {
            /// Every id, in registry order.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$check,)*];

            /// The kebab-case name (`proxy-auth-required`): the finding id in
            /// JSON and the docs anchor. Once released it is a contract.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$check => $name,)*
                }
            }
        }

        /// The checks, in the order of [`CheckId::ALL`].
        static CHECKS: &[&dyn Check] = &[$(&$($module::)+$check,)*];
    };
}

registry! {
    BuildPredatesEems: build::predates_eems = "build-predates-eems",
    BuildBeforeMarch2023: build::before_march_2023 = "build-before-march-2023",
    BuildUnknown: build::unknown = "build-unknown",
    MitigationsDisabledOrg: flags::disabled_org = "mitigations-disabled-org",
    MitigationsDisabledServer: flags::disabled_server = "mitigations-disabled-server",
    MitigationsBlocked: flags::blocked = "mitigations-blocked",
    MitigationApplyFailed: flags::apply_failed = "mitigation-apply-failed",
    MitigationObsolete: flags::obsolete = "mitigation-obsolete",
    ServiceNotRunning: service::not_running = "service-not-running",
    ServiceCrashing: service::crashing = "service-crashing",
    ProxyWinhttpMissing: proxy::winhttp_missing = "proxy-winhttp-missing",
    ProxyExchangeMissing: proxy::exchange_missing = "proxy-exchange-missing",
    ProxyMismatch: proxy::mismatch = "proxy-mismatch",
    ProxyInvalidScheme: proxy::invalid_scheme = "proxy-invalid-scheme",
    ProxyAuthRequired: proxy::auth_required = "proxy-auth-required",
    ProxyBypassOcs: proxy::bypass_ocs = "proxy-bypass-ocs",
    ProxyBypassMismatch: proxy::bypass_mismatch = "proxy-bypass-mismatch",
    OcsDnsFailure: network::dns_failure = "ocs-dns-failure",
    OcsUnreachable: network::unreachable = "ocs-unreachable",
    OcsHttpError: network::http_error = "ocs-http-error",
    TlsValidationFailed: tls::validation_failed = "tls-validation-failed",
    TlsInterception: tls::interception = "tls-interception",
    TlsChainUntrusted: tls::chain_untrusted = "tls-chain-untrusted",
    TlsOsVerdictDiffers: tls::os_verdict = "tls-os-verdict-differs",
    TlsProtocolFailure: tls::protocol_failure = "tls-protocol-failure",
    TlsConfigWeak: tls::config_weak = "tls-config-weak",
    CrlUnreachable: revocation::crl_unreachable = "crl-unreachable",
    CtlUnreachable: revocation::ctl_unreachable = "ctl-unreachable",
    CtlAutoupdateDisabled: revocation::ctl_autoupdate = "ctl-autoupdate-disabled",
    AiaRetrievalDisabled: revocation::aia_disabled = "aia-retrieval-disabled",
    XmlSignatureInvalid: fetch::xml_signature = "xml-signature-invalid",
    UntrustedEndpoint: fetch::untrusted_endpoint = "untrusted-endpoint",
    FetchFailing: fetch::failing = "fetch-failing",
    FetchStale: fetch::stale = "fetch-stale",
    OrgConfigUnreadable: meta::org_config_unreadable = "org-config-unreadable",
    EvidenceIncomplete: meta::evidence_incomplete = "evidence-incomplete",
    EvidenceStale: meta::evidence_stale = "evidence-stale",
}

pub fn all() -> Vec<&'static dyn Check> {
    CHECKS.to_vec()
}

/// The metadata of check `id`.
pub fn meta(id: CheckId) -> &'static CheckMeta {
    // CHECKS and the ids come from the same lines, in the same order.
    CHECKS[id as usize].meta()
}

/// The check with this name.
pub fn find(id: &str) -> Option<&'static dyn Check> {
    let id: CheckId = id.parse().ok()?;
    CHECKS.get(id as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Role;
    use crate::finding::Severity;
    use std::collections::HashSet;

    /// Each check file declares the id of its own registry line.
    #[test]
    fn every_check_declares_its_own_id() {
        for (i, c) in all().iter().enumerate() {
            assert_eq!(CheckId::ALL[i], c.meta().id);
            assert_eq!(meta(c.meta().id).id, c.meta().id);
            assert_eq!(
                find(c.meta().id.as_str()).map(|f| f.meta().id),
                Some(c.meta().id)
            );
        }
        assert!(find("nope").is_none());
    }

    /// The ranking of causes, as the checks declare it: reviewing a new
    /// check's priority means reading where it lands in this list.
    #[test]
    fn priorities_are_unique_and_give_this_order() {
        let mut metas: Vec<&CheckMeta> = all().iter().map(|c| c.meta()).collect();
        metas.sort_by_key(|m| m.priority);
        let order: Vec<&str> = metas.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            order,
            [
                "build-predates-eems",
                "build-before-march-2023",
                "service-not-running",
                "mitigations-disabled-org",
                "mitigations-disabled-server",
                "proxy-invalid-scheme",
                "proxy-exchange-missing",
                "proxy-auth-required",
                "proxy-winhttp-missing",
                "tls-interception",
                "crl-unreachable",
                "tls-chain-untrusted",
                "tls-os-verdict-differs",
                "aia-retrieval-disabled",
                "ctl-autoupdate-disabled",
                "tls-config-weak",
                "ocs-dns-failure",
                "ocs-unreachable",
                "ocs-http-error",
                "tls-protocol-failure",
                "xml-signature-invalid",
                "ctl-unreachable",
                "proxy-bypass-ocs",
                "proxy-mismatch",
                "proxy-bypass-mismatch",
                "mitigations-blocked",
                "mitigation-apply-failed",
                "mitigation-obsolete",
                "service-crashing",
                "build-unknown",
                "tls-validation-failed",
                "untrusted-endpoint",
                "fetch-failing",
                "fetch-stale",
                "org-config-unreadable",
                "evidence-incomplete",
                "evidence-stale",
            ]
        );
        let unique: HashSet<u16> = metas.iter().map(|m| m.priority).collect();
        assert_eq!(unique.len(), metas.len(), "two checks share a priority");
        // Symptoms and meta rank after every cause.
        let last_cause = metas
            .iter()
            .filter(|m| matches!(m.role, Role::Cause | Role::Consequence))
            .map(|m| m.priority)
            .max();
        assert!(
            metas
                .iter()
                .filter(|m| matches!(m.role, Role::Symptom | Role::Meta))
                .all(|m| Some(m.priority) > last_cause)
        );
    }

    /// What the live probe decides ranks by severity: a failing step of the
    /// service's own request (DNS, TCP, CONNECT, TLS, the OCS answer) stops
    /// every fetch, while a warning the probe finds on the side (the CTL
    /// download) does not, so it must never head the report above one.
    #[test]
    fn probe_decided_warnings_rank_after_critical_path_steps() {
        let metas: Vec<&CheckMeta> = all().iter().map(|c| c.meta()).collect();
        let last_critical_step = metas
            .iter()
            .filter(|m| m.stage.is_some() && m.severity == Severity::Critical)
            .map(|m| m.priority)
            .max();
        assert!(last_critical_step.is_some());
        for m in metas.iter().filter(|m| {
            (m.needs_probes || m.stage.is_some())
                && m.severity < Severity::Critical
                && matches!(m.role, Role::Cause | Role::Consequence)
        }) {
            assert!(
                Some(m.priority) > last_critical_step,
                "{} (a probe-decided {:?}) ranks above a critical step",
                m.id,
                m.severity
            );
        }
    }

    /// `explains` points at what can be explained: a symptom, or a
    /// consequence; and a consequence is one because something explains it.
    #[test]
    fn explains_relations_are_consistent_with_roles() {
        for c in all() {
            let m = c.meta();
            for t in m.explains {
                assert_ne!(*t, m.id, "{} explains itself", m.id);
                assert!(
                    matches!(meta(*t).role, Role::Symptom | Role::Consequence),
                    "{} explains {t}, which is neither a symptom nor a consequence",
                    m.id
                );
            }
            if m.role == Role::Consequence {
                assert!(
                    all().iter().any(|o| o.meta().explains.contains(&m.id)),
                    "{} is a consequence nothing explains",
                    m.id
                );
            }
        }
    }

    /// Path stages sit on causes the probe's request path decides.
    #[test]
    fn stages_are_on_the_probe_path_and_ordered_like_it() {
        use crate::probe::Stage;
        let staged: Vec<(CheckId, Stage)> = all()
            .iter()
            .filter_map(|c| c.meta().stage.map(|s| (c.meta().id, s)))
            .collect();
        assert!(staged.contains(&(CheckId::OcsDnsFailure, Stage::Dns)));
        assert!(staged.contains(&(CheckId::TlsInterception, Stage::Tls)));
        for (id, _) in &staged {
            assert!(
                !matches!(meta(*id).role, Role::Symptom | Role::Meta),
                "{id}"
            );
        }
    }

    /// The ids are a contract: reports, docs and users' scripts rely on them.
    #[test]
    fn ids_are_the_contract_list_and_unique() {
        let ids: Vec<&str> = all().iter().map(|c| c.meta().id.as_str()).collect();
        let expected = [
            "build-predates-eems",
            "build-before-march-2023",
            "build-unknown",
            "mitigations-disabled-org",
            "mitigations-disabled-server",
            "mitigations-blocked",
            "mitigation-apply-failed",
            "mitigation-obsolete",
            "service-not-running",
            "service-crashing",
            "proxy-winhttp-missing",
            "proxy-exchange-missing",
            "proxy-mismatch",
            "proxy-invalid-scheme",
            "proxy-auth-required",
            "proxy-bypass-ocs",
            "proxy-bypass-mismatch",
            "ocs-dns-failure",
            "ocs-unreachable",
            "ocs-http-error",
            "tls-validation-failed",
            "tls-interception",
            "tls-chain-untrusted",
            "tls-os-verdict-differs",
            "tls-protocol-failure",
            "tls-config-weak",
            "crl-unreachable",
            "ctl-unreachable",
            "ctl-autoupdate-disabled",
            "aia-retrieval-disabled",
            "xml-signature-invalid",
            "untrusted-endpoint",
            "fetch-failing",
            "fetch-stale",
            "org-config-unreadable",
            "evidence-incomplete",
            "evidence-stale",
        ];
        assert_eq!(ids, expected);
        let names: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(names, expected);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        for id in ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
        }
    }
}
