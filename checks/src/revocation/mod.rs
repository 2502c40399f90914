//! Revocation and root trust: CRLs, the CTL, issuer (AIA) downloads, and the
//! policies that switch them off.

pub mod aia_disabled;
pub mod crl_unreachable;
pub mod ctl_autoupdate;
pub mod ctl_unreachable;
