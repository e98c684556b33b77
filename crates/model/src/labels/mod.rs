//! Labels and label selectors, as Kubernetes defines them.

mod selector;
mod syntax;

pub use selector::{Operator, Requirement, Selector};
pub use syntax::{validate_dns_subdomain, validate_label_key, validate_label_value};

use std::collections::BTreeMap;

/// A set of labels, as on `metadata.labels`.
pub type Labels = BTreeMap<String, String>;
