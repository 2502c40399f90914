use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::{Fact, ServerEvidence, TlsPlace, TlsValue};
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;

pub struct TlsConfigWeak;

static META: CheckMeta = CheckMeta {
    id: CheckId::TlsConfigWeak,
    area: "tls",
    title: "Windows and .NET offer TLS 1.2 to OCS",
    severity: Severity::Warning,
    role: Role::Cause,
    priority: 155,
    stage: None,
    explains: &[CheckId::TlsProtocolFailure],
    fix: Fix::None,
    needs_probes: false,
};

const SCHANNEL_QUERY: &str = r#"reg query "HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2" /s"#;
const DOTNET_QUERY: &str = r#"reg query "HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319""#;

/// One reason the service's client may not offer TLS 1.2, with the values behind it.
struct Weakness {
    confidence: Confidence,
    what: String,
    values: Vec<Fact<TlsValue>>,
}

/// The `reg add` that sets `name` to `data` at `place`.
fn reg_add(place: TlsPlace, name: &str, data: u32) -> String {
    format!(
        "reg add \"{}\" /v {name} /t REG_DWORD /d {data} /f",
        place.key()
    )
}

impl Check for TlsConfigWeak {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let t = &ev.tls_registry;
        if t.is_empty() {
            return Outcome::Skip(format!(
                "no SCHANNEL or .NET TLS registry evidence: run `{SCHANNEL_QUERY}` and `{DOTNET_QUERY}`"
            ));
        }
        let mut weak = Vec::new();
        // The service connects out: only SCHANNEL's Client side and the
        // 64-bit .NET key decide what it offers (Exchange is a 64-bit process).
        let client = TlsPlace::SchannelTls12Client;
        if let Some(v) = t.value(client, "Enabled").filter(|v| v.value.value == 0) {
            weak.push(Weakness {
                confidence: Confidence::High,
                what: "TLS 1.2 is disabled for outgoing connections (SCHANNEL TLS 1.2\\Client Enabled = 0)".into(),
                values: vec![v.clone()],
            });
        }
        if let Some(v) = t
            .value(client, "DisabledByDefault")
            .filter(|v| v.value.value != 0)
        {
            weak.push(Weakness {
                confidence: Confidence::High,
                what: format!("TLS 1.2 is left out of the system default protocols (SCHANNEL TLS 1.2\\Client DisabledByDefault = {}): a .NET client that uses the system defaults does not offer it", v.value.value),
                values: vec![v.clone()],
            });
        }
        let net = TlsPlace::DotNet4;
        let sdtv = t.value(net, "SystemDefaultTlsVersions");
        let strong = t.value(net, "SchUseStrongCrypto");
        let is = |v: Option<&Fact<TlsValue>>, n: u64| v.is_some_and(|v| v.value.value == n);
        // SystemDefaultTlsVersions=1 or SchUseStrongCrypto=1 each give TLS 1.2;
        // with both absent an application built for .NET 4.7 or later uses the
        // system defaults. Only an explicit 0 opts out.
        if !is(sdtv, 1) && !is(strong, 1) && (is(sdtv, 0) || is(strong, 0)) {
            let values: Vec<Fact<TlsValue>> =
                [sdtv, strong].into_iter().flatten().cloned().collect();
            let shown = |v: Option<&Fact<TlsValue>>| {
                v.map_or_else(|| "absent".to_owned(), |v| v.value.value.to_string())
            };
            let (confidence, what) = if is(sdtv, 0) && is(strong, 0) {
                (
                    Confidence::High,
                    ".NET Framework 4 is set to its legacy protocols (SystemDefaultTlsVersions = 0 and SchUseStrongCrypto = 0): it offers SSL 3.0/TLS 1.0, which OCS refuses".to_owned(),
                )
            } else {
                (
                    Confidence::Medium,
                    format!(
                        ".NET Framework 4 is told not to use the system's TLS versions or strong cryptography (SystemDefaultTlsVersions = {}, SchUseStrongCrypto = {}): whether it still offers TLS 1.2 depends on the .NET version the service is built for",
                        shown(sdtv),
                        shown(strong)
                    ),
                )
            };
            weak.push(Weakness {
                confidence,
                what,
                values,
            });
        }
        if weak.is_empty() {
            return Outcome::Pass;
        }
        let confidence = weak
            .iter()
            .map(|w| w.confidence)
            .max()
            .unwrap_or(Confidence::Medium);
        let title = if weak.len() == 1 {
            weak.first().map(|w| w.what.clone()).unwrap_or_default()
        } else {
            format!(
                "TLS 1.2 is not offered to OCS: {}",
                weak.iter()
                    .map(|w| w.what.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let explained = if ev.has_cause(crate::classify::Cause::TlsProtocol) {
            " This explains the \"Could not create SSL/TLS secure channel\" failures the service logs (tls-protocol-failure)."
        } else {
            " No handshake failure is in the evidence yet; the service's next hourly fetch will fail the handshake."
        };
        let mut f = finding(&META, confidence, title)
            .detail(format!(
                "officeclient.microsoft.com accepts TLS 1.2 and later only. The mitigation service is a .NET Framework 4 application: it offers the protocols .NET allows, and .NET takes them from SCHANNEL when SystemDefaultTlsVersions = 1.{explained} Values not shown are at their default (TLS 1.2 on for Windows Server 2012 R2 and later)."
            ))
            .evidence(
                weak.iter()
                    .flat_map(|w| w.values.iter().map(|v| v.cite.to_evidence())),
            );
        if weak
            .iter()
            .any(|w| w.values.iter().any(|v| v.value.place == client))
        {
            f = f
                .step(Step::cmd(
                    "Enable TLS 1.2 for outgoing connections (a reboot applies SCHANNEL changes):",
                    format!(
                        "{} && {}",
                        reg_add(client, "Enabled", 1),
                        reg_add(client, "DisabledByDefault", 0)
                    ),
                ))
                .step(Step::text(
                    "If a hardening GPO sets these values, change it there, or it sets them back.",
                ));
        }
        if weak
            .iter()
            .any(|w| w.values.iter().any(|v| v.value.place == net))
        {
            f = f.step(Step::cmd(
                "Let .NET Framework 4 use the system's TLS versions, native and 32-bit (Exchange's TLS guidance sets both to 1), then restart the service:",
                [TlsPlace::DotNet4, TlsPlace::DotNet4Wow6432]
                    .into_iter()
                    .flat_map(|p| {
                        [
                            reg_add(p, "SystemDefaultTlsVersions", 1),
                            reg_add(p, "SchUseStrongCrypto", 1),
                        ]
                    })
                    .chain(["Restart-Service MSExchangeMitigation".to_owned()])
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
        Outcome::fail(f.step(Step::cmd(
            "Check the handshake the way the service makes it:",
            "eems-doctor probe",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Cite, TlsRegistry};

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        TlsConfigWeak.run(ev, &Context::embedded(&b))
    }

    fn ev(keys: &[TlsPlace], values: &[(TlsPlace, &str, u64)]) -> ServerEvidence {
        let cite = |s: &str| Cite::new("reg.txt", Some(3), s);
        ServerEvidence {
            tls_registry: TlsRegistry {
                keys: keys.iter().map(|p| Fact::new(*p, cite(p.key()))).collect(),
                values: values
                    .iter()
                    .map(|(place, name, value)| {
                        Fact::new(
                            TlsValue {
                                place: *place,
                                name: (*name).to_owned(),
                                value: *value,
                            },
                            cite(&format!(
                                "{}\\{name}    REG_DWORD    {value:#x}",
                                place.key()
                            )),
                        )
                    })
                    .collect(),
            },
            ..ServerEvidence::default()
        }
    }

    #[test]
    fn no_registry_evidence_skips_naming_the_queries() {
        let Outcome::Skip(why) = run(&ServerEvidence::default()) else {
            panic!()
        };
        assert!(why.contains("TLS 1.2\" /s") && why.contains("v4.0.30319"));
    }

    #[test]
    fn defaults_and_explicit_ones_pass() {
        use TlsPlace::*;
        // Keys read without the values: the defaults.
        assert_eq!(
            run(&ev(&[SchannelTls12Client, DotNet4], &[])),
            Outcome::Pass
        );
        assert_eq!(
            run(&ev(
                &[SchannelTls12Client, DotNet4],
                &[
                    (SchannelTls12Client, "Enabled", 1),
                    (SchannelTls12Client, "DisabledByDefault", 0),
                    (DotNet4, "SystemDefaultTlsVersions", 1),
                    (DotNet4, "SchUseStrongCrypto", 0),
                ]
            )),
            Outcome::Pass
        );
        // The server side and the 32-bit view do not decide the service's outgoing handshake.
        assert_eq!(
            run(&ev(
                &[SchannelTls12Server, DotNet4Wow6432],
                &[
                    (SchannelTls12Server, "Enabled", 0),
                    (DotNet4Wow6432, "SystemDefaultTlsVersions", 0),
                    (DotNet4Wow6432, "SchUseStrongCrypto", 0),
                ]
            )),
            Outcome::Pass
        );
    }

    #[test]
    fn client_tls12_disabled_fails_high_with_the_reg_add() {
        use TlsPlace::*;
        let Outcome::Fail(f) = run(&ev(
            &[SchannelTls12Client],
            &[(SchannelTls12Client, "Enabled", 0)],
        )) else {
            panic!()
        };
        assert_eq!(f[0].confidence, Confidence::High);
        assert!(f[0].title.contains("Client Enabled = 0"), "{}", f[0].title);
        assert!(
            f[0].evidence[0]
                .excerpt
                .contains("TLS 1.2\\Client\\Enabled")
        );
        let steps = format!("{:?}", f[0].remediation);
        assert!(steps.contains("/v Enabled /t REG_DWORD /d 1 /f"), "{steps}");
        assert!(!steps.contains("SchUseStrongCrypto"), "{steps}");
    }

    #[test]
    fn dotnet_legacy_protocols_fail_and_name_the_confidence() {
        use TlsPlace::*;
        let Outcome::Fail(f) = run(&ev(
            &[DotNet4],
            &[
                (DotNet4, "SystemDefaultTlsVersions", 0),
                (DotNet4, "SchUseStrongCrypto", 0),
            ],
        )) else {
            panic!()
        };
        assert_eq!(f[0].confidence, Confidence::High);
        assert!(f[0].title.contains("SSL 3.0/TLS 1.0"));
        assert_eq!(f[0].evidence.len(), 2);
        let steps = format!("{:?}", f[0].remediation);
        assert!(steps.contains("WOW6432Node") && steps.contains("Restart-Service"));

        // One explicit 0 with the other absent depends on the target framework.
        let Outcome::Fail(f) = run(&ev(&[DotNet4], &[(DotNet4, "SchUseStrongCrypto", 0)])) else {
            panic!()
        };
        assert_eq!(f[0].confidence, Confidence::Medium);
        assert!(f[0].title.contains("SystemDefaultTlsVersions = absent"));
    }

    #[test]
    fn a_logged_handshake_failure_is_explained() {
        use TlsPlace::*;
        let mut e = ev(
            &[SchannelTls12Client],
            &[(SchannelTls12Client, "DisabledByDefault", 1)],
        );
        let Outcome::Fail(f) = run(&e) else { panic!() };
        assert!(f[0].detail.contains("No handshake failure"));
        e.event_causes.insert(
            crate::classify::Cause::TlsProtocol,
            crate::evidence::Occurrences::new(None, Cite::new("ev.xml", Some(1), "x")),
        );
        let Outcome::Fail(f) = run(&e) else { panic!() };
        assert!(f[0].detail.contains("explains"), "{}", f[0].detail);
    }
}
