//! How kubectl types an unquoted scalar. kubectl reads YAML with
//! sigs.k8s.io/yaml, which is go-yaml v2: YAML 1.1 words (`yes`, `off`, `y`)
//! are booleans, `010` is octal, `0x1F` hex, `1_000` an integer, `1e3` a
//! number; dates stay strings. podsg types input the same way, so that what
//! kubectl would refuse (`matchLabels: {tier: yes}`) podsg refuses too.

use super::node::Typed;

const TRUE: [&str; 11] = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"];
const FALSE: [&str; 11] = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"];
const NULL: [&str; 5] = ["", "~", "null", "Null", "NULL"];
const SPECIAL_FLOATS: [&str; 12] =
    [".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"];

/// The type of a plain (unquoted, untagged) scalar.
pub fn resolve(text: &str) -> Typed {
    if TRUE.contains(&text) {
        return Typed::Bool(true);
    }
    if FALSE.contains(&text) {
        return Typed::Bool(false);
    }
    if NULL.contains(&text) {
        return Typed::Null;
    }
    if SPECIAL_FLOATS.contains(&text) {
        let value = if text.contains("nan") || text.contains("NaN") || text.contains("NAN") {
            f64::NAN
        } else if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return Typed::Float(value);
    }
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '.') {
        return Typed::Str;
    }
    let plain = text.replace('_', "");
    if let Some(v) = go_int(&plain) {
        return v;
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        // sigs.k8s.io/yaml writes integral numbers as integers.
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            return Typed::Int(f as i64);
        }
        return Typed::Float(f);
    }
    Typed::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: an optional sign,
/// then `0x`, `0o`, `0b` or a leading `0` (octal) picks the base.
fn go_int(s: &str) -> Option<Typed> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(b) = lower.strip_prefix("0x") {
        (16, b)
    } else if let Some(b) = lower.strip_prefix("0o") {
        (8, b)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            return Some(Typed::Int((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    Some(match i64::try_from(magnitude) {
        Ok(v) => Typed::Int(v),
        Err(_) => Typed::Uint(magnitude),
    })
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// Whether a string must be quoted so that every YAML reader (YAML 1.1
/// ones such as go-yaml v2 and PyYAML included) reads it back as that
/// string. Conservative: anything but a plain word of safe characters is
/// quoted.
pub fn needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return true };
    if !first.is_ascii_alphabetic() && first != '/' {
        return true; // digits, signs, dots (numbers, times, dates), indicators
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) {
        return true;
    }
    TRUE.contains(&s) || FALSE.contains(&s) || NULL.contains(&s) || SPECIAL_FLOATS.contains(&s) || yaml11_word(s)
}

/// Other words that some YAML 1.1 reader types: the `=` value key.
fn yaml11_word(s: &str) -> bool {
    s == "="
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_types_plain_scalars_as_go_yaml_v2_does() {
        let cases: &[(&str, Typed)] = &[
            ("yes", Typed::Bool(true)),
            ("y", Typed::Bool(true)),
            ("Off", Typed::Bool(false)),
            ("n", Typed::Bool(false)),
            ("true", Typed::Bool(true)),
            ("~", Typed::Null),
            ("", Typed::Null),
            ("null", Typed::Null),
            ("80", Typed::Int(80)),
            ("-1", Typed::Int(-1)),
            ("+5", Typed::Int(5)),
            ("010", Typed::Int(8)),
            ("0x1F", Typed::Int(31)),
            ("0o17", Typed::Int(15)),
            ("0b101", Typed::Int(5)),
            ("1_000", Typed::Int(1000)),
            ("08", Typed::Int(8)),
            ("1e3", Typed::Int(1000)),
            ("1.5", Typed::Float(1.5)),
            (".5", Typed::Float(0.5)),
            ("18446744073709551615", Typed::Uint(u64::MAX)),
            ("-9223372036854775808", Typed::Int(i64::MIN)),
            ("12:30", Typed::Str),
            ("2001-01-01", Typed::Str),
            ("sg-0123", Typed::Str),
            ("10.0.0.0/8", Typed::Str),
            ("-", Typed::Str),
            ("1.2.3", Typed::Str),
            ("0x", Typed::Str),
            ("yes please", Typed::Str),
        ];
        for (text, want) in cases {
            assert_eq!(resolve(text), *want, "{text}");
        }
        assert!(matches!(resolve(".inf"), Typed::Float(f) if f.is_infinite()));
        assert!(matches!(resolve(".NaN"), Typed::Float(f) if f.is_nan()));
    }

    #[test]
    fn every_string_a_yaml_1_1_reader_would_type_is_quoted() {
        for s in [
            "off",
            "y",
            "N",
            "yes",
            "12:30",
            "2001-01-01",
            "0x10",
            "1e3",
            "",
            "~",
            "null",
            ".inf",
            "-1",
            "a b",
            "a: b",
            "#x",
            "=",
            "<<",
            "*x",
            "&a",
            "!t",
            "'q'",
            "\"q\"",
            "@x",
            "`x",
            "%x",
            "[a]",
            "{a}",
            "a,b",
            "?x",
            "|x",
            ">x",
            " lead",
            "trail ",
        ] {
            assert!(needs_quotes(s), "{s:?}");
        }
        for s in ["web", "sg-0123456789abcdef0", "app.kubernetes.io/name", "tcp", "db_1", "offset", "yesterday", "node"]
        {
            assert!(!needs_quotes(s), "{s:?}");
        }
    }
}
