//! Machine-readable output. Each schema version is a frozen module: a new
//! version is a new module, old ones are kept until their consumers move.

pub mod v1;
