use serde::{Serialize, Serializer};
use std::fmt;

/// An IP protocol as EC2 names it: `-1` (all), or one IP protocol number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    All,
    Number(u8),
}

impl Protocol {
    pub const ICMP: Protocol = Protocol::Number(1);
    pub const TCP: Protocol = Protocol::Number(6);
    pub const UDP: Protocol = Protocol::Number(17);
    pub const ICMPV6: Protocol = Protocol::Number(58);

    pub const RULE: &'static str =
        "must be tcp, udp, icmp, icmpv6, -1 (or all) for all protocols, or an IP protocol number 0-255";

    /// Parses EC2's spellings: names (any case), `-1`/`all`, and numbers.
    pub fn parse(s: &str) -> Result<Protocol, String> {
        match s.to_ascii_lowercase().as_str() {
            "-1" | "all" => Ok(Protocol::All),
            "tcp" => Ok(Protocol::TCP),
            "udp" => Ok(Protocol::UDP),
            "icmp" => Ok(Protocol::ICMP),
            "icmpv6" => Ok(Protocol::ICMPV6),
            other => other.parse::<u8>().map(Protocol::Number).map_err(|_| Self::RULE.to_string()),
        }
    }

    /// Whether rules of this protocol carry a port range.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::TCP | Protocol::UDP)
    }

    /// Whether rules of this protocol carry an ICMP type and code.
    pub fn is_icmp(self) -> bool {
        matches!(self, Protocol::ICMP | Protocol::ICMPV6)
    }

    pub fn number(self) -> Option<u8> {
        match self {
            Protocol::All => None,
            Protocol::Number(n) => Some(n),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Protocol::All => f.write_str("all"),
            Protocol::TCP => f.write_str("tcp"),
            Protocol::UDP => f.write_str("udp"),
            Protocol::ICMP => f.write_str("icmp"),
            Protocol::ICMPV6 => f.write_str("icmpv6"),
            Protocol::Number(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(Protocol::parse("TCP"), Ok(Protocol::TCP));
        assert_eq!(Protocol::parse("6"), Ok(Protocol::TCP));
        assert_eq!(Protocol::parse("-1"), Ok(Protocol::All));
        assert_eq!(Protocol::parse("all"), Ok(Protocol::All));
        assert_eq!(Protocol::parse("58"), Ok(Protocol::ICMPV6));
        assert_eq!(Protocol::parse("50"), Ok(Protocol::Number(50)));
        assert!(Protocol::parse("tpc").is_err());
        assert!(Protocol::parse("256").is_err());
        assert!(Protocol::parse("-2").is_err());
        assert_eq!(Protocol::Number(50).to_string(), "50");
    }
}
