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

pub fn println(s: &str) {
    print(&format!("{s}\n"));
}
