use crate::check::{Check, CheckMeta, Context, Need, Outcome};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Severity, Step};
use crate::network::from_causes;

pub struct XmlSignatureInvalid;

static META: CheckMeta = CheckMeta {
    id: "xml-signature-invalid",
    area: "fetch",
    title: "The mitigation XML's signature and signer are accepted",
    severity: Severity::Critical,
    needs: &[Need::Log, Need::Events],
    needs_probes: false,
};

impl Check for XmlSignatureInvalid {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        from_causes(
            &META,
            ev,
            &[Cause::XmlSignature],
            "The service rejects the mitigation XML's signature (\"not deemed safe to consume\")",
            "The TLS connection worked, but the service did not accept the XML: \"This XML is not deemed safe to consume since Response xml's signing cert is invalid or not from microsoft\". It validates the signing certificate's chain, issuer and EKU. Seen when Microsoft's signing certificate expired (2022-06-09, resolved service-side) and when something modifies the content in transit. Test-MitigationServiceConnectivity.ps1 still says Success in this case.",
            vec![
                Step::text(
                    "Check the server's clock and time zone (a wrong date makes a valid signing certificate look expired).",
                ),
                Step::text(
                    "Make sure no proxy or content filter rewrites the response (exclude officeclient.microsoft.com from SSL inspection and content scanning).",
                ),
                Step::text(
                    "Make sure the signing chain's roots are trusted and its CRLs reachable (see ctl-autoupdate-disabled, crl-unreachable). If all servers worldwide see it at once, it is a service-side incident that resolves without action.",
                ),
            ],
        )
    }
}
