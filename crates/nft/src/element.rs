//! Set elements in one canonical form, whether built from the compiled rule
//! set or read back from the kernel, so that the two compare exactly.

use ipnet::IpNet;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// An inclusive range of a number (protocol, port, ICMP type or code).
    Range(u32, u32),
    Net(IpNet),
}

/// One element: the fields of a (possibly concatenated) key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element(pub Vec<Field>);

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Range(lo, hi) if lo == hi => write!(f, "{lo}"),
            Field::Range(lo, hi) => write!(f, "{lo}-{hi}"),
            Field::Net(net) if net.prefix_len() == net.max_prefix_len() => write!(f, "{}", net.addr()),
            Field::Net(net) => write!(f, "{net}"),
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" . "))
    }
}
