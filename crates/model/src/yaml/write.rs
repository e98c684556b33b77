//! Objects to YAML that every reader reads back as the same JSON: kubectl
//! (YAML 1.1: `off`, `y` and `12:30` are not strings to it), YAML 1.2
//! readers, and people. Strings that any of them could type otherwise are
//! double-quoted (a JSON string is a valid YAML double-quoted scalar).

use super::scalar::needs_quotes;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

/// One document, without a leading `---`.
pub fn to_yaml<T: Serialize>(object: &T) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(object)?;
    let mut out = String::new();
    match &value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            write_scalar(&mut out, other);
            out.push('\n');
        }
    }
    Ok(out)
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        write_string(out, key);
        out.push(':');
        write_nested(out, value, indent, true);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            // The first key goes on the dash's line; the rest line up under it.
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                let mut first = true;
                for (key, value) in map {
                    if !first {
                        pad(out, indent + 2);
                    }
                    first = false;
                    write_string(out, key);
                    out.push(':');
                    write_nested(out, value, indent + 2, true);
                }
            }
            other => write_nested(out, other, indent, false),
        }
    }
}

/// The value after `key:` or `-`: inline when it is a scalar or empty,
/// else on the following lines. Lists under a key stay at the key's
/// indentation, as kubectl prints them.
fn write_nested(out: &mut String, value: &Value, indent: usize, under_key: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, if under_key { indent } else { indent + 2 });
        }
        other => {
            out.push(' ');
            write_scalar(out, other);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_string(out: &mut String, s: &str) {
    if needs_quotes(s) {
        out.push_str(&serde_json::to_string(s).expect("strings serialize"));
    } else {
        out.push_str(s);
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}
