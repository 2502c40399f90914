//! eems-checks
