//! Manifest objects to checked domain objects. Every problem is reported with
//! its field path, the value, and what is allowed; an object with any error
//! yields no domain object at all.

mod cluster;
mod policy;
mod security_group;
mod selector;
mod service;
mod workload;

pub use cluster::{cluster_config, namespace, node, service_account};
pub use policy::policy;
pub use security_group::security_group;
pub use selector::selector;
pub use service::service;
pub use workload::{pod, workload};

use crate::diagnostic::Diagnostic;

/// Problems found in one object; `errors` decides whether it is usable.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub Vec<Diagnostic>);

impl Findings {
    fn error(&mut self, path: impl Into<String>, value: Option<String>, message: impl Into<String>) {
        self.0.push(Diagnostic::error(path, value, message));
    }
    fn warning(&mut self, path: impl Into<String>, value: Option<String>, message: impl Into<String>) {
        let mut d = Diagnostic::warning(message).with_path(path);
        d.value = value;
        self.0.push(d);
    }
    fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    /// Errors among the findings after the first `before`.
    fn has_errors_since(&self, before: usize) -> bool {
        self.0[before..].iter().any(Diagnostic::is_error)
    }
    /// `Ok(value)` with the warnings, or `Err` with everything.
    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
        if self.has_errors() { Err(self.0) } else { Ok((value(), self.0)) }
    }
}

/// Checked result: the value and its warnings, or every problem found.
pub type Checked<T> = Result<(T, Vec<Diagnostic>), Vec<Diagnostic>>;

/// The namespace an object lands in when its manifest names none, as with
/// `kubectl apply` in the default context.
pub const DEFAULT_NAMESPACE: &str = "default";

fn required_name(name: &Option<String>, findings: &mut Findings, what: &str) -> String {
    match name.as_deref() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => {
            findings.error("metadata.name", None, format!("is required: {what}"));
            String::new()
        }
    }
}

fn list(values: &[String]) -> String {
    format!("[{}]", values.join(", "))
}
