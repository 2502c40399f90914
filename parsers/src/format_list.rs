//! Generic PowerShell Format-List records. STUB.
