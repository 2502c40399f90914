use serde::Serialize;

/// What an input (or one segment of a pasted console session) is. The
/// kebab-case names are a contract: they appear in JSON as `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    MitigationLog,
    EventExport,
    NetshWinhttpProxy,
    NetshWinhttpAdvproxy,
    WinhttpRegistry,
    RegistryValues,
    ExchangeServer,
    OrganizationConfig,
    ServiceStatus,
    ExsetupVersion,
    ConnectivityTest,
    GetMitigations,
    Healthchecker,
    ProbeResults,
    EvidenceManifest,
    OcsResponse,
    Mixed,
    Unrecognized,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::MitigationLog,
        Kind::EventExport,
        Kind::NetshWinhttpProxy,
        Kind::NetshWinhttpAdvproxy,
        Kind::WinhttpRegistry,
        Kind::RegistryValues,
        Kind::ExchangeServer,
        Kind::OrganizationConfig,
        Kind::ServiceStatus,
        Kind::ExsetupVersion,
        Kind::ConnectivityTest,
        Kind::GetMitigations,
        Kind::Healthchecker,
        Kind::ProbeResults,
        Kind::EvidenceManifest,
        Kind::OcsResponse,
        Kind::Mixed,
        Kind::Unrecognized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MitigationLog => "mitigation-log",
            Kind::EventExport => "event-export",
            Kind::NetshWinhttpProxy => "netsh-winhttp-proxy",
            Kind::NetshWinhttpAdvproxy => "netsh-winhttp-advproxy",
            Kind::WinhttpRegistry => "winhttp-registry",
            Kind::RegistryValues => "registry-values",
            Kind::ExchangeServer => "exchange-server",
            Kind::OrganizationConfig => "organization-config",
            Kind::ServiceStatus => "service-status",
            Kind::ExsetupVersion => "exsetup-version",
            Kind::ConnectivityTest => "connectivity-test",
            Kind::GetMitigations => "get-mitigations",
            Kind::Healthchecker => "healthchecker",
            Kind::ProbeResults => "probe-results",
            Kind::EvidenceManifest => "evidence-manifest",
            Kind::OcsResponse => "ocs-response",
            Kind::Mixed => "mixed",
            Kind::Unrecognized => "unrecognized",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }
}
