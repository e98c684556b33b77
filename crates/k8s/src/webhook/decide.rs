//! What the admission webhook answers: pure functions from an
//! AdmissionReview to its response, tested directly; the server around
//! them only moves bytes.
//!
//! * SecurityGroupPolicy (both API groups) and SecurityGroup: the model's
//!   own validation, as `podsg check` runs it: errors deny with their field
//!   paths, warnings are returned as admission warnings (kubectl prints
//!   them). A group that does not exist yet is not an error here: objects
//!   are applied in any order, and the controller reports it on the SGP.
//! * Pods: the annotation `vpc.amazonaws.com/pod-eni` is the controller's.
//!   A pod may not be created with it, and only the controller may set,
//!   change or remove it, or a pod could claim another pod's interface and
//!   groups.
//! * Anything else is denied: a request podsg does not review means the
//!   webhook configuration is wrong, and saying so beats allowing it.

use crate::convert;
use crate::sgp_api::SgpApi;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use podsg_model::diagnostic::Diagnostic;
use podsg_model::pod_eni::POD_ENI;
use podsg_model::validate::Checked;

/// Who may write the annotation: the controller's ServiceAccount, as the
/// API server names its user (`system:serviceaccount:NAMESPACE:NAME`).
#[derive(Clone, Debug)]
pub struct Rules {
    pub controller: String,
}

/// An AdmissionReview's bytes to the review to answer. A request that
/// cannot be read is refused.
pub fn review(body: &[u8], rules: &Rules) -> AdmissionReview<DynamicObject> {
    let request: Result<AdmissionRequest<DynamicObject>, String> =
        serde_json::from_slice::<AdmissionReview<DynamicObject>>(body)
            .map_err(|e| format!("cannot read the AdmissionReview: {e}"))
            .and_then(|r| r.try_into().map_err(|e| format!("cannot read the AdmissionReview: {e}")));
    match request {
        Ok(request) => decide(&request, rules).into_review(),
        Err(why) => AdmissionResponse::invalid(why).into_review(),
    }
}

pub fn decide(request: &AdmissionRequest<DynamicObject>, rules: &Rules) -> AdmissionResponse {
    let response = AdmissionResponse::from(request);
    let (group, kind) = (request.kind.group.as_str(), request.kind.kind.as_str());
    let sgp_group = SgpApi::ALL.iter().any(|api| api.group() == group);
    match (group, kind) {
        ("", "Pod") => pod_annotation(request, rules, response),
        (_, "SecurityGroupPolicy") if sgp_group => {
            validated(request, response, |o| convert::check_policy(o).map(|(_, w)| ((), w)))
        }
        ("podsg.io", "SecurityGroup") => {
            validated(request, response, |o| convert::check_group(o).map(|(_, w)| ((), w)))
        }
        _ => response.deny(format!(
            "podsg's webhook does not review {}; the webhook configuration sends it requests it should not",
            if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") }
        )),
    }
}

/// Creates and updates are checked; deletes are not refused.
fn validated(
    request: &AdmissionRequest<DynamicObject>,
    response: AdmissionResponse,
    check: impl Fn(&DynamicObject) -> Checked<()>,
) -> AdmissionResponse {
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return response;
    }
    let Some(object) = &request.object else {
        return response.deny("the request has no object to check");
    };
    match check(object) {
        Ok(((), warnings)) => {
            let mut response = response;
            let warnings: Vec<String> = warnings.iter().map(message).collect();
            if !warnings.is_empty() {
                response.warnings = Some(warnings);
            }
            response
        }
        Err(diagnostics) => {
            let errors: Vec<String> = diagnostics.iter().filter(|d| d.is_error()).map(message).collect();
            response.deny(if errors.is_empty() { "the object is not valid".into() } else { errors.join("; ") })
        }
    }
}

/// A diagnostic as one line: field path, value, what is wrong.
fn message(d: &Diagnostic) -> String {
    let mut d = d.clone();
    // The object is the one under review; naming it again adds nothing.
    d.object = None;
    d.origin = None;
    d.position = None;
    d.to_string()
}

fn pod_annotation(
    request: &AdmissionRequest<DynamicObject>,
    rules: &Rules,
    response: AdmissionResponse,
) -> AdmissionResponse {
    let annotation = |o: &Option<DynamicObject>| {
        o.as_ref().and_then(|o| o.metadata.annotations.as_ref()).and_then(|a| a.get(POD_ENI)).cloned()
    };
    let (old, new) = (annotation(&request.old_object), annotation(&request.object));
    let by_controller = request.user_info.username.as_deref() == Some(rules.controller.as_str());
    match request.operation {
        Operation::Create if new.is_some() => response.deny(format!(
            "metadata.annotations.{POD_ENI}: a pod may not be created with this annotation; \
             podsg's controller writes it ({})",
            rules.controller
        )),
        Operation::Update if old != new && !by_controller => {
            let what = match (&old, &new) {
                (None, Some(_)) => "set",
                (Some(_), None) => "remove",
                _ => "change",
            };
            let user = request.user_info.username.as_deref().unwrap_or("an unnamed user");
            response.deny(format!(
                "metadata.annotations.{POD_ENI}: only podsg's controller ({}) may {what} this annotation, not {user}",
                rules.controller
            ))
        }
        _ => response,
    }
}
