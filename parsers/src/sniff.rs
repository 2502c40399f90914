//! Content sniffing and console-session splitting. STUB.
use crate::kind::Kind;

pub fn sniff(_bytes: &[u8], _name_hint: Option<&str>) -> Kind {
    Kind::Unrecognized
}
