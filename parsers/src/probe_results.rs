//! Live probe results: what `eems-doctor probe` saw walking the path the
//! mitigation service walks (DNS, TCP, proxy CONNECT, TLS, the OCS request,
//! CRLs/AIA through the WinHTTP proxy, the CTL). Pure data, serialisable both
//! ways: `probe --save-evidence DIR` writes it as `probe-results.json`, and
//! `analyze` reads it back to give the same findings offline.
//!
//! The probe records facts only (chains, statuses, errors); deciding what
//! they mean (interception, untrusted chain, unreachable CRL) is the checks' job.
//! The type lives here, with the other inputs, so that data flows one way:
//! the probe writes it, the parsers read it, the checks judge it.

use crate::problem::{Parsed, Problem};
use crate::text::Source;
use serde::{Deserialize, Serialize};

/// Version of this document's layout.
pub const PROBE_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub schema_version: u32,
    /// `eems-doctor` version that ran the probe.
    pub tool_version: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Host the probe ran on (the server being diagnosed when run there).
    pub host: Option<String>,
    pub ocs_url: String,
    /// Exchange InternetWebProxy used for the OCS request (credentials removed).
    pub proxy: Option<String>,
    /// WinHTTP proxy used for CRL/AIA/CTL (credentials removed).
    pub winhttp_proxy: Option<String>,
    pub timeout_ms: u64,
    /// Every step in the order it started.
    pub steps: Vec<ProbeStep>,
    /// TLS to the OCS host (through the proxy tunnel when one is set).
    pub tls: Option<TlsResult>,
    /// The OCS GET.
    pub ocs: Option<OcsResponse>,
    /// One entry per CRL distribution point of the TLS and signing chains.
    pub crls: Vec<CrlFetch>,
    /// Issuer (AIA caIssuers) downloads, when the chain was incomplete.
    pub aia: Vec<HttpFetch>,
    pub ctl: Option<HttpFetch>,
    /// Total wall time.
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    Dns,
    Tcp,
    ProxyConnect,
    Tls,
    OcsRequest,
    Crl,
    Aia,
    Ctl,
    /// Health Checker's second URL on the same host and path
    /// (`GetExchangeConfig`, Feature Flighting): informative only, it says
    /// whether the host answers at all when the mitigation request fails.
    OcsConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepOutcome {
    Ok,
    Failed,
    TimedOut,
    Skipped,
}

/// One timed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeStep {
    pub kind: StepKind,
    /// What was contacted: `officeclient.microsoft.com`, `10.0.0.5:3128`, a URL.
    pub target: String,
    pub outcome: StepOutcome,
    /// Why it failed / was skipped, in words (`NXDOMAIN`, `connection refused`,
    /// `proxy answered 407 Proxy Authentication Required`, …).
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// Addresses from DNS; the status line of a CONNECT; the TLS version; …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// HTTP status where the step is an HTTP exchange (CONNECT, GET).
    pub http_status: Option<u16>,
    /// `Proxy-Authenticate` on a 407 (scheme and realm only).
    pub proxy_authenticate: Option<String>,
}

/// One certificate, as the checks need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// RFC 4514-style DN, e.g. `CN=Microsoft Azure RSA TLS Issuing CA 04, O=Microsoft Corporation, C=US`.
    pub subject: String,
    pub issuer: String,
    /// Common name and organisation pulled out of the DNs (first values).
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub issuer_o: Option<String>,
    pub serial: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// Upper-case hex, no separators.
    pub sha256: String,
    pub sha1: String,
    /// SHA-256 of the SubjectPublicKeyInfo, upper-case hex (compares cross-signed copies).
    pub spki_sha256: String,
    /// `RSA`, `EC`, `Ed25519`, …
    pub key_type: String,
    pub key_bits: Option<u32>,
    pub ski: Option<String>,
    pub aki: Option<String>,
    pub is_ca: bool,
    pub self_signed: bool,
    pub dns_names: Vec<String>,
    pub crl_urls: Vec<String>,
    pub ocsp_urls: Vec<String>,
    pub ca_issuers_urls: Vec<String>,
    /// Embedded Signed Certificate Timestamps (publicly trusted leaves carry ≥ 2).
    pub sct_count: u32,
    /// Extended key usages as dotted OIDs or names (`serverAuth`, `codeSigning`, …).
    pub eku: Vec<String>,
    /// The certificate in PEM, so a saved bundle can be re-examined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pem: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsResult {
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: Option<String>,
    pub cipher_suite: Option<String>,
    /// The chain as the server sent it, leaf first (recorded even when validation fails).
    pub chain: Vec<CertInfo>,
    /// Validation against the OS trust store plus `--ca-file` anchors, for the OCS host name.
    pub trusted: bool,
    /// The verifier's error when not trusted (`UnknownIssuer`, `Expired`, `NotValidForName`, …).
    pub validation_error: Option<String>,
    /// Anchors came only from `--ca-file` (tests, or a private PKI).
    pub extra_anchors: usize,
    /// Windows only: the same chain judged by the OS chain engine
    /// (CryptoAPI, with revocation), the engine the mitigation service uses.
    /// Absent where there is no such engine (Linux) or in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_verdict: Option<OsVerdict>,
}

/// The OS chain engine's verdict on the presented chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsVerdict {
    /// `windows-cryptoapi`.
    pub engine: String,
    pub status: OsStatus,
    /// Why the engine rejected the chain (e.g. `UnknownIssuer`, or the
    /// Windows message led by its code's name, such as
    /// `CERT_E_REVOCATION_FAILURE: …`), or why it gave no verdict.
    pub error: Option<String>,
    /// The chain's `CERT_TRUST_*` error bits by name
    /// (`CERT_TRUST_IS_OFFLINE_REVOCATION`, …); empty when clean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_status: Vec<String>,
}

impl OsVerdict {
    /// `trusted`, `not trusted: <error>` or `no verdict: <why>`: the one
    /// wording of the probe's detail line and the check's evidence.
    pub fn summary(&self) -> String {
        let word = match self.status {
            OsStatus::Trusted => return "trusted".to_owned(),
            OsStatus::Rejected => "not trusted",
            OsStatus::Unavailable => "no verdict",
        };
        match &self.error {
            Some(e) => format!("{word}: {e}"),
            None => word.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OsStatus {
    Trusted,
    Rejected,
    /// The engine could not be asked or did not answer in time: no verdict.
    #[default]
    Unavailable,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcsResponse {
    pub status: u16,
    /// Response headers that matter (`Content-Type`, `X-OfficeCluster`, `X-OfficeFE`, `Server`, `Via`, …).
    pub headers: Vec<(String, String)>,
    /// `X-OfficeCluster` or `X-OfficeFE` present: the answer came from OCS, not a proxy.
    pub from_ocs: bool,
    /// The body is `<EOCS …>` XML.
    pub eocs_xml: bool,
    /// The XML carries a `<Signature>` element.
    pub has_signature: bool,
    /// Mitigation ids in the XML (`<Config id="PING1" …>`).
    pub mitigation_ids: Vec<String>,
    /// Certificates from `X509Data`, signer first.
    pub signing_chain: Vec<CertInfo>,
    /// First bytes of the body when it is not the expected XML (a block page), control characters removed.
    pub body_excerpt: Option<String>,
    pub body_bytes: u64,
    /// The XML signature as the probe verified it (issue 17): verdict,
    /// algorithms, `X509Data` certificates. Absent in older saved probes
    /// and when the body carries no `<Signature>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml_signature: Option<eems_xmldsig::Verification>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainRole {
    Tls,
    Signing,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpFetch {
    pub url: String,
    /// Proxy used (WinHTTP's), credentials removed; `None` = direct.
    pub via_proxy: Option<String>,
    /// HTTP status when an answer came.
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
    pub timed_out: bool,
    pub bytes: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlFetch {
    pub fetch: HttpFetch,
    /// Which chain and certificate listed this distribution point.
    pub chain: ChainRole,
    pub for_subject: String,
    /// Parsed CRL facts (when a CRL came back).
    pub crl_issuer: Option<String>,
    /// The CRL's issuer matches the certificate's issuer.
    pub issuer_matches: Option<bool>,
    pub this_update: Option<String>,
    pub next_update: Option<String>,
    /// nextUpdate is in the past.
    pub expired: Option<bool>,
    /// The certificate's serial is on the list.
    pub revoked: Option<bool>,
    pub parse_error: Option<String>,
    /// The CRL's signature checked with its issuer's key (the certificate of
    /// the captured chain whose subject is the certificate's issuer). Absent
    /// in older saved probes, when no CRL came back, and when the chain does
    /// not hold the issuer (then the probe step says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<eems_xmldsig::crl::CrlVerdict>,
}

impl ProbeReport {
    pub fn step(&self, kind: StepKind) -> Option<&ProbeStep> {
        self.steps.iter().find(|s| s.kind == kind)
    }

    pub fn steps_of(&self, kind: StepKind) -> impl Iterator<Item = &ProbeStep> {
        self.steps.iter().filter(move |s| s.kind == kind)
    }

    pub fn failed(&self, kind: StepKind) -> Option<&ProbeStep> {
        self.steps.iter().find(|s| {
            s.kind == kind && matches!(s.outcome, StepOutcome::Failed | StepOutcome::TimedOut)
        })
    }
}

/// Read a saved `probe-results.json`. Unknown fields are ignored (newer
/// versions may add some); a document that is not a probe report is a problem.
pub fn parse(src: Source<'_>) -> Parsed<ProbeReport> {
    match serde_json::from_str::<ProbeReport>(src.text) {
        Ok(r) if r.schema_version == PROBE_SCHEMA_VERSION => Parsed::ok(r),
        Ok(r) => Parsed::with_problems(
            r.clone(),
            vec![Problem::whole(format!(
                "probe results schema_version {} (this eems-doctor reads {PROBE_SCHEMA_VERSION})",
                r.schema_version
            ))],
        ),
        Err(e) => Parsed::with_problems(
            ProbeReport::default(),
            vec![Problem::at(
                src.first_line + e.line().saturating_sub(1),
                format!("not a readable probe report: {e}"),
            )],
        ),
    }
}

/// Cheap content check for the sniffer.
pub fn looks_like_probe_results(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{')
        && t.contains("\"ocs_url\"")
        && t.contains("\"steps\"")
        && t.contains("\"schema_version\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_documents() {
        let r = ProbeReport {
            schema_version: PROBE_SCHEMA_VERSION,
            ocs_url: "https://officeclient.microsoft.com/getexchangemitigations".into(),
            steps: vec![ProbeStep {
                kind: StepKind::Dns,
                target: "officeclient.microsoft.com".into(),
                outcome: StepOutcome::Failed,
                reason: Some("NXDOMAIN".into()),
                duration_ms: 3,
                details: Vec::new(),
                http_status: None,
                proxy_authenticate: None,
            }],
            ..ProbeReport::default()
        };
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert!(looks_like_probe_results(&json));
        let back = parse(Source::new(&json));
        assert!(back.problems.is_empty());
        assert_eq!(back.value, r);
        assert_eq!(
            back.value.failed(StepKind::Dns).unwrap().reason.as_deref(),
            Some("NXDOMAIN")
        );
        let bad = parse(Source::new("{\n \"schema_version\": \"x\"\n}"));
        assert_eq!(bad.problems[0].line, Some(2));
        let newer = parse(Source::new(
            &json.replace("\"schema_version\": 1", "\"schema_version\": 9"),
        ));
        assert_eq!(newer.problems.len(), 1);
    }
}
