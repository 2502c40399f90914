//! Writing to standard output. A closed pipe (`eems-doctor checks | head`)
//! ends the program quietly instead of panicking inside `println!`.

use std::io::Write;

pub fn print(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(i32::from(crate::EXIT_USAGE));
    }
}

/// Standard output for a writer that produces a large document piecewise
/// (buffered; a closed pipe ends the program quietly, as in [`print`]).
pub fn write_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    if let Err(e) = write(&mut out).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(i32::from(crate::EXIT_USAGE));
    }
}

pub fn println(s: &str) {
    print(&format!("{s}\n"));
}
