use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// A security group ID such as `sg-0a1b2c3d4e5f60789`: `sg-` and lowercase
/// letters and digits. It is also the SecurityGroup object's name, so it must
/// be a valid Kubernetes name too.
///
/// Shared, not copied: a world of 150,000 pods holds each ID in every pod's
/// resolution, membership and change.
#[derive(Clone, Debug, Eq)]
pub struct SgId(Arc<str>);

/// As the text hashes, which equality compares.
impl std::hash::Hash for SgId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// The same ID is usually the same allocation (cloned, not parsed again):
/// compare the pointers before the text.
impl PartialEq for SgId {
    fn eq(&self, other: &SgId) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

/// By text; the same allocation is equal without reading it (sorted maps
/// of groups look the same IDs up again and again).
impl Ord for SgId {
    fn cmp(&self, other: &SgId) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) { std::cmp::Ordering::Equal } else { self.0.cmp(&other.0) }
    }
}

impl PartialOrd for SgId {
    fn partial_cmp(&self, other: &SgId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for SgId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl SgId {
    pub const RULE: &'static str =
        "a security group ID is sg- followed by lowercase letters and digits (e.g. sg-0a1b2c3d4e5f60789)";

    pub fn parse(s: &str) -> Result<SgId, String> {
        let rest = s.strip_prefix("sg-").ok_or_else(|| Self::RULE.to_string())?;
        if rest.is_empty() || rest.len() > 60 || !rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(Self::RULE.to_string());
        }
        Ok(SgId(Arc::from(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Why an ID that was not found may never exist: EC2's IDs are `sg-`
    /// and 8 or 17 lowercase hexadecimal digits, Tencent's `sg-` and 8
    /// lowercase letters or digits. Empty for an ID of either shape.
    /// Only a note: placeholders such as `sg-abc123` (seed 001) load.
    pub fn shape_note(&self) -> String {
        let rest = &self.0[3..];
        let hex = rest.bytes().all(|b| b.is_ascii_hexdigit());
        if (hex && (rest.len() == 8 || rest.len() == 17)) || rest.len() == 8 {
            return String::new();
        }
        let why = if !hex { format!("{} is not hexadecimal", rest) } else { format!("it has {} digits", rest.len()) };
        format!(
            " (and cannot: EC2's group IDs are sg- and 8 or 17 hexadecimal digits, Tencent's sg- and 8 letters or \
             digits; {why})"
        )
    }
}

impl fmt::Display for SgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert!(SgId::parse("sg-0a1b2c3d4e5f60789").is_ok());
        assert!(SgId::parse("sg-xxxxxxxxxxxxxx").is_ok(), "the seeds' placeholders are well-formed IDs");
        for bad in ["", "sg-", "0a1b2c3d", "sg-ABC", "sg-0a1b_2", "<sg-abc123>", "sg-0a1b 2"] {
            assert!(SgId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shapes_ec2_and_tencent_cannot_have_are_named() {
        for fine in ["sg-0a1b2c3d", "sg-0a1b2c3d4e5f60789", "sg-e8lzsa0v"] {
            assert_eq!(SgId::parse(fine).unwrap().shape_note(), "", "{fine}");
        }
        let note = |s: &str| SgId::parse(s).unwrap().shape_note();
        assert_eq!(
            note("sg-abc123"),
            " (and cannot: EC2's group IDs are sg- and 8 or 17 hexadecimal digits, Tencent's sg- and 8 letters or digits; it has 6 digits)"
        );
        assert!(note("sg-xxxxxxxxxxxxxx").ends_with("; xxxxxxxxxxxxxx is not hexadecimal)"));
    }
}
