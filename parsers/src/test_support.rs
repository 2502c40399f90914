//! Helpers shared by the parsers' unit tests.

/// Bytes of a file under `tests/fixtures/`, included at compile time.
macro_rules! fixture {
    ($p:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/",
            $p
        ))
    };
}

/// Decoded text of `tests/fixtures/reference/<path>`.
macro_rules! reference {
    ($p:literal) => {
        crate::text::decode(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/reference/",
            $p
        )))
        .text
    };
}

/// Decoded text of `tests/fixtures/extra/powershell/<path>`.
macro_rules! powershell {
    ($p:literal) => {
        crate::text::decode(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/extra/powershell/",
            $p
        )))
        .text
    };
}

/// Decoded text of a verbatim published artifact, `tests/fixtures/real/<path>`.
macro_rules! real {
    ($p:literal) => {
        crate::text::decode(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/real/",
            $p
        )))
        .text
    };
}

/// Apply character edits (delete / insert / truncate at a position) to a
/// sample: the shape of damage pasted text suffers.
pub fn mutate(text: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(pos, op, c) in edits {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = pos % chars.len();
        match op % 3 {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, c),
            _ => chars.truncate(i),
        }
    }
    chars.into_iter().collect()
}
