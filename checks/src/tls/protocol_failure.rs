use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::network::from_causes;

pub struct TlsProtocolFailure;

static META: CheckMeta = CheckMeta {
    id: "tls-protocol-failure",
    area: "tls",
    title: "The TLS handshake with OCS completes",
    severity: Severity::Critical,
    needs: &[Need::Events, Need::Log, Need::Probes],
    needs_probes: false,
};

impl Check for TlsProtocolFailure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        from_causes(
            &META,
            ev,
            &[Cause::TlsProtocol],
            "The TLS handshake with OCS fails (protocol, cipher or reset)",
            "\"Could not create SSL/TLS secure channel\" or \"An unexpected error occurred on a send\": the handshake itself breaks before any certificate is judged. Usual causes: TLS 1.2 disabled for .NET Framework (SchUseStrongCrypto/SystemDefaultTlsVersions), cipher suites removed by hardening, or a middlebox resetting the connection.",
            vec![
                Step::text(
                    "Make sure TLS 1.2 is enabled for .NET Framework 4.x: HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 (and WOW6432Node) SystemDefaultTlsVersions=1 and SchUseStrongCrypto=1; HealthChecker's TLS section checks this.",
                ),
                Step::cmd(
                    "Probe the handshake the way the service does:",
                    "eems-doctor probe",
                ),
            ],
        )
    }
}
