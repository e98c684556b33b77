use serde::Serialize;
use std::fmt;

/// A security group ID such as `sg-0a1b2c3d4e5f60789`: `sg-` and lowercase
/// letters and digits. It is also the SecurityGroup object's name, so it must
/// be a valid Kubernetes name too.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SgId(String);

impl SgId {
    pub const RULE: &'static str =
        "a security group ID is sg- followed by lowercase letters and digits (e.g. sg-0a1b2c3d4e5f60789)";

    pub fn parse(s: &str) -> Result<SgId, String> {
        let rest = s.strip_prefix("sg-").ok_or_else(|| Self::RULE.to_string())?;
        if rest.is_empty() || rest.len() > 60 || !rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(Self::RULE.to_string());
        }
        Ok(SgId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
}
