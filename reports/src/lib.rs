//! eems-reports
