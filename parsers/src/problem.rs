use serde::Serialize;

/// Something a parser could not read. Parsers keep going after a problem
/// whenever they can, so a problem usually comes with a partial result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the input file where reading stopped or went wrong
    /// (`None` when the problem concerns the whole input).
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        Problem {
            line: Some(line),
            message: message.into(),
        }
    }

    pub fn whole(message: impl Into<String>) -> Self {
        Problem {
            line: None,
            message: message.into(),
        }
    }
}

/// A parser's result: the data it could read and what it could not.
#[derive(Debug, Clone, Serialize)]
pub struct Parsed<T> {
    pub value: T,
    pub problems: Vec<Problem>,
}

impl<T> Parsed<T> {
    pub fn ok(value: T) -> Self {
        Parsed {
            value,
            problems: Vec::new(),
        }
    }

    pub fn with_problems(value: T, problems: Vec<Problem>) -> Self {
        Parsed { value, problems }
    }
}
