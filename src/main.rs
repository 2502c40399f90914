//! eems-doctor: the command-line front end. Only this crate writes to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() {
    println!("eems-doctor");
}
