//! Label key and value syntax (Kubernetes `IsQualifiedName` and `IsValidLabelValue`).
//! The messages follow the API server's so that people recognise them.

const NAME_RULE: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

fn is_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// Checks a label key: `[prefix/]name`, where the prefix is a DNS subdomain.
/// Returns what is wrong, or `None` when the key is valid.
pub fn validate_label_key(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Some("invalid label key: prefix part must be non-empty".into());
        }
        if !is_dns1123_subdomain(prefix) {
            return Some(
                "invalid label key: prefix part must be a lowercase RFC 1123 subdomain (e.g. 'example.com'), at most 253 characters"
                    .into(),
            );
        }
    }
    if name.is_empty() {
        return Some("invalid label key: name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("invalid label key: name part must be no more than 63 characters".into());
    }
    if !is_name_part(name) {
        return Some(format!("invalid label key: name part {NAME_RULE}"));
    }
    None
}

/// Checks a label value: empty, or at most 63 characters of the name alphabet.
pub fn validate_label_value(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if value.len() > 63 {
        return Some("invalid label value: must be no more than 63 characters".into());
    }
    if !is_name_part(value) {
        return Some(format!("invalid label value: a valid label value must be an empty string or {NAME_RULE}"));
    }
    None
}

/// Checks an object name that must be a DNS subdomain (a ServiceAccount's).
pub fn validate_dns_subdomain(name: &str) -> Option<String> {
    (!is_dns1123_subdomain(name)).then(|| {
        "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["app", "app.kubernetes.io/name", "k8s-app", "a", "A_b.c-D", "example.com/x"] {
            assert_eq!(validate_label_key(ok), None, "{ok}");
        }
        for bad in ["", "-app", "app-", "/app", "Example.com/app", "a/b/c", "app name", &"x".repeat(64)] {
            assert!(validate_label_key(bad).is_some(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn values() {
        for ok in ["", "green-pod", "v1.2_3", &"x".repeat(63)] {
            assert_eq!(validate_label_value(ok), None, "{ok}");
        }
        for bad in ["-x", "x-", "a b", "a/b", &"x".repeat(64)] {
            assert!(validate_label_value(bad).is_some(), "{bad:?} should be rejected");
        }
    }
}
