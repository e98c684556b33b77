//! Objects as the API server sends them, read into the model's types by the
//! model's own manifest types and validation: the cluster and `podsg check`
//! read an object the same way, with the same messages.

use crate::crd;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use podsg_model::api::Object;
use podsg_model::decode;
use podsg_model::diagnostic::{Diagnostic, Severity};
use podsg_model::group::SecurityGroup;
use podsg_model::labels::Labels;
use podsg_model::policy::Policy;
use podsg_model::validate::{self, Checked};
use podsg_model::workload::Workload;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// An object that the model refuses, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid(pub Vec<Diagnostic>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<String> = self.0.iter().filter(|d| d.is_error()).map(ToString::to_string).collect();
        f.write_str(&messages.join("; "))
    }
}

type Read<T> = Result<T, Invalid>;

pub fn pod(pod: &Pod) -> Read<Workload> {
    checked(validate::pod(&manifest(pod)?))
}

pub fn policy(sgp: &impl Serialize) -> Read<Policy> {
    checked(check_policy(sgp))
}

pub fn group(group: &crd::SecurityGroup) -> Read<SecurityGroup> {
    checked(check_group(group))
}

/// The SGP with the model's warnings, read as `podsg check` reads it.
pub fn check_policy(sgp: &impl Serialize) -> Checked<Policy> {
    check_as(sgp, "SecurityGroupPolicy", |o| match o {
        Object::SecurityGroupPolicy(m) => Some(validate::policy(&m)),
        _ => None,
    })
}

/// The SecurityGroup with the model's warnings, read as `podsg check` reads it.
pub fn check_group(group: &impl Serialize) -> Checked<SecurityGroup> {
    check_as(group, "SecurityGroup", |o| match o {
        Object::SecurityGroup(m) => Some(validate::security_group(&m)),
        _ => None,
    })
}

/// `object` read by check's reader, then validated by `validate` when it
/// is a `kind`; the reader's warnings come first.
fn check_as<T>(object: &impl Serialize, kind: &str, validate: impl Fn(Object) -> Option<Checked<T>>) -> Checked<T> {
    let (object, mut warnings) = as_check_reads(object)?;
    let (value, more) =
        validate(object).unwrap_or_else(|| Err(vec![Diagnostic::error("kind", None, format!("not a {kind}"))]))?;
    warnings.extend(more);
    Ok((value, warnings))
}

/// The object read by `podsg check`'s own reader, as a file holding only
/// it: a field of the wrong shape or an unknown one gets `check`'s message
/// (with its suggestion). Slower than serde alone: used for the kinds
/// whose spec podsg owns, not for pods.
fn as_check_reads(object: &impl Serialize) -> Result<(Object, Vec<Diagnostic>), Vec<Diagnostic>> {
    let text = serde_json::to_string(object).map_err(|e| vec![Diagnostic::error("", None, e.to_string())])?;
    let decoded = decode::decode(&text, "", decode::Format::Json);
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        decoded.diagnostics.into_iter().partition(Diagnostic::is_error);
    match decoded.objects.into_iter().next() {
        Some(d) if errors.is_empty() => {
            Ok((d.object, warnings.into_iter().filter(|w| w.severity == Severity::Warning).collect()))
        }
        _ if !errors.is_empty() => Err(errors),
        _ => Err(vec![Diagnostic::error("", None, "not an object podsg reads")]),
    }
}

pub fn service_account(sa: &ServiceAccount) -> Read<(String, String, Labels)> {
    checked(validate::service_account(&manifest(sa)?))
}

pub fn namespace(ns: &Namespace) -> Read<(String, Labels)> {
    checked(validate::namespace(&manifest(ns)?))
}

pub fn node(node: &Node) -> Read<podsg_model::node::Node> {
    checked(validate::node(&manifest(node)?))
}

/// The object as the model's manifest type; a field of the wrong shape is
/// named with its path.
fn manifest<T: DeserializeOwned>(object: &impl Serialize) -> Read<T> {
    let value = serde_json::to_value(object).map_err(|e| Invalid(vec![Diagnostic::error("", None, e.to_string())]))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Invalid(vec![Diagnostic::error(
            if path == "." { String::new() } else { path },
            None,
            e.into_inner().to_string(),
        )])
    })
}

/// The value, when the model found no errors (warnings are the webhook's
/// and `check`'s to report).
fn checked<T>(checked: Checked<T>) -> Read<T> {
    checked.map(|(value, _warnings)| value).map_err(Invalid)
}
