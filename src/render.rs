//! Small terminal renderers shared by the subcommands.

use eems_parsers::Status;
use serde_json::Value;
use std::fmt::Write;

pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Parsed => "parsed",
        Status::Partial => "partial",
        Status::Unrecognized => "unrecognized",
        Status::Error => "error",
    }
}

/// Render a JSON value as an indented `key: value` tree, eliding long arrays
/// after `max_items` entries (a 30-day log has tens of thousands of rows).
pub fn tree(out: &mut String, v: &Value, indent: usize, max_items: usize) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if is_empty(val) {
                    continue;
                }
                if is_scalar(val) {
                    let _ = writeln!(out, "{:indent$}{k}: {}", "", scalar(val));
                } else if let Some(line) = inline_list(val) {
                    let _ = writeln!(out, "{:indent$}{k}: {line}", "");
                } else {
                    let _ = writeln!(out, "{:indent$}{k}:", "");
                    tree(out, val, indent + 2, max_items);
                }
            }
        }
        Value::Array(items) => {
            for (i, val) in items.iter().enumerate() {
                if i == max_items {
                    let _ = writeln!(out, "{:indent$}… {} more", "", items.len() - max_items);
                    break;
                }
                if is_scalar(val) {
                    let _ = writeln!(out, "{:indent$}- {}", "", scalar(val));
                } else {
                    let _ = writeln!(out, "{:indent$}-", "");
                    tree(out, val, indent + 2, max_items);
                }
            }
        }
        other => {
            let _ = writeln!(out, "{:indent$}{}", "", scalar(other));
        }
    }
}

/// An array of scalars on one line (`[PING1, M1.1]`), clipped: byte arrays
/// and id lists read better that way than one item per line.
fn inline_list(v: &Value) -> Option<String> {
    let items = v.as_array()?;
    if !items.iter().all(is_scalar) {
        return None;
    }
    let mut line = String::from("[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            line.push_str(", ");
        }
        if line.len() > 100 {
            let _ = write!(line, "… {} more", items.len() - i);
            break;
        }
        line.push_str(&scalar(it));
    }
    line.push(']');
    Some(line)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.replace('\n', "⏎"),
        other => other.to_string(),
    }
}
