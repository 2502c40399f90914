//! Facts derived from one server's evidence that more than one reader needs,
//! computed once per run (`run_checks`, `diagnose`) and handed to the checks
//! in their [`Context`]. A check run on its own (its unit tests) computes
//! what it needs itself.

use crate::check::Context;
use crate::evidence::ServerEvidence;
use crate::tls::chain::{self, ChainAnalysis};

#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// The probe's TLS chain judged against the issuer and vendor tables
    /// (read by tls-interception, tls-chain-untrusted, crl-unreachable and
    /// the report header); `None` without a probe or a received chain.
    pub tls_chain: Option<ChainAnalysis>,
}

impl Derived {
    pub fn new(ev: &ServerEvidence, ctx: &Context<'_>) -> Self {
        Derived {
            tls_chain: chain::analyze_evidence(ev, ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::BuildTable;
    use crate::check::{Check, Outcome};
    use crate::probe::fixtures::healthy;
    use crate::tls::chain::Verdict;
    use crate::tls::chain::fixtures::zscaler_chain;

    /// The checks read the run's analysis instead of judging the chain again.
    #[test]
    fn checks_read_the_derived_chain_analysis() {
        let mut r = healthy();
        if let Some(t) = r.tls.as_mut() {
            t.chain = zscaler_chain();
            t.trusted = false;
        }
        let ev = ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let b = BuildTable::embedded();
        let ctx = Context::embedded(&b);
        let mut derived = Derived::new(&ev, &ctx);
        assert!(matches!(
            derived.tls_chain.as_ref().map(|a| &a.verdict),
            Some(Verdict::Interception { .. })
        ));
        let interception = crate::tls::interception::TlsInterception;
        assert!(matches!(interception.run(&ev, &ctx), Outcome::Fail(_)));
        assert!(matches!(
            interception.run(&ev, &ctx.with(&derived)),
            Outcome::Fail(_)
        ));
        // Swap the verdict: a check that re-judged the chain would not see it.
        if let Some(a) = derived.tls_chain.as_mut() {
            a.verdict = Verdict::Expected;
        }
        assert_eq!(interception.run(&ev, &ctx.with(&derived)), Outcome::Pass);
        assert_eq!(
            Derived::new(&ServerEvidence::default(), &ctx).tls_chain,
            None
        );
    }
}
