//! The text after each subcommand's options in `--help`: its exit codes and
//! an example. Kept apart from the flags so the codes can be read side by
//! side with the README's; `main`'s tests check every subcommand has both.

pub const MAIN: &str = "\
Exit codes:
  0  OK (and --help, --version)
  1  WARNING (parse: some input was not recognised)
  2  CRITICAL, or UNKNOWN (a server nothing could be read about)
  3  usage error, an input or output that could not be read or written,
     or no subcommand given (this help is printed)

Example:
  eems-doctor analyze EX01-evidence/        # diagnose a server's evidence
  eems-doctor check                         # on the Exchange server: collect and diagnose

Run `eems-doctor <COMMAND> --help` for a command's arguments, exit codes and examples.";

pub const PARSE: &str = "\
Exit codes:
  0  every input was recognised and read
  1  some input was unrecognised or could not be read (the report says which)
  3  usage error, or the report could not be written

Example:
  eems-doctor parse samples/16-paste-only/eems-ticket-paste.txt
  eems-doctor parse --format json events.evtx netsh.txt > parsed.json";

pub const ANALYZE: &str = "\
Exit codes:
  0  every server OK
  1  the worst server is WARNING
  2  the worst server is CRITICAL, or a server nothing could be read about (UNKNOWN)
  3  usage error, the report could not be written, or no input could be read
     (then only what could not be read, and why, is printed)

Example:
  eems-doctor analyze EX01-evidence/
  eems-doctor analyze EX01-evidence.zip -o EX01.html     # the extension chooses the format
  eems-doctor analyze \\\\fs01\\eems --format nagios";

pub const PROBE: &str = "\
Exit codes:
  0  every step passed and the diagnosis is OK
  1  the worst finding is a WARNING
  2  a CRITICAL finding (a step the service needs fails)
  3  usage error (e.g. an --ocs-url that is not https://), or an output could not be written

Example:
  eems-doctor probe --proxy http://proxy.contoso.com:8080 --winhttp-proxy proxy.contoso.com:8080
  eems-doctor probe --save-evidence EX01-evidence/ -o EX01-probe.html";

pub const COLLECT: &str = "\
Exit codes:
  0  the bundle was written (items that failed are recorded in its manifest.json)
  3  usage error, or the bundle could not be written in --out-dir

Example:
  eems-doctor collect --out-dir C:\\Temp\\EX01 --zip --redact     # one C:\\Temp\\EX01.zip
  eems-doctor collect --no-probe --zip --out-dir \\\\fs01\\eems\\%COMPUTERNAME%";

pub const CHECK: &str = "\
Without --out-dir the bundle and the reports go to a folder of their own under the
temporary folder (on Windows %TEMP%\\eems-doctor), or beside the -o file; the paths are
printed at the end.

Exit codes:
  0  OK
  1  WARNING
  2  CRITICAL, or UNKNOWN (every collection item failed)
  3  usage error, nothing at all was collected, or the bundle or a report could not be written

Example:
  eems-doctor check
  eems-doctor check --out-dir C:\\Temp\\EX01 --redact -o C:\\Temp\\EX01.html";

pub const FLEET: &str = "\
Exit codes:
  0  every server OK
  1  the worst server is WARNING
  2  some server is CRITICAL or UNKNOWN (an unreadable bundle)
  3  usage error (no such PATH, no bundle found, an unreadable --previous), another scan
     is writing into the same --out-dir, or an output could not be written (the scan is
     then incomplete, and each output is named)

Example:
  eems-doctor fleet /mnt/eems --jobs 4 --out-dir /srv/eems/scan-2026-12-07 \\
    --previous /srv/eems/scan-2026-12-06/fleet.json";

pub const CHECKS: &str = "\
Exit codes:
  0  always

Example:
  eems-doctor checks | grep proxy";

pub const EXPLAIN: &str = "\
Exit codes:
  0  the check's documentation was printed
  3  no check has that id (see `eems-doctor checks`)

Example:
  eems-doctor explain build-before-march-2023
  eems-doctor explain proxy-mismatch --format md > proxy-mismatch.md";
