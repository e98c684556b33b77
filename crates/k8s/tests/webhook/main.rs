//! The admission webhook: its decisions tested directly (and against
//! `podsg check`'s messages), and the server over real HTTPS.

mod decisions;
mod https;

use serde_json::{Value, json};

pub const CONTROLLER: &str = "system:serviceaccount:podsg-system:podsg-controller";

pub fn rules() -> podsg_k8s::webhook::Rules {
    podsg_k8s::webhook::Rules { controller: CONTROLLER.into() }
}

/// An AdmissionReview as the API server sends it.
pub fn admission(
    (group, version, kind, resource): (&str, &str, &str, &str),
    operation: &str,
    user: &str,
    object: Option<Value>,
    old: Option<Value>,
) -> Value {
    let name = object.as_ref().or(old.as_ref()).and_then(|o| o["metadata"]["name"].as_str()).unwrap_or("x").to_string();
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "name": name, "namespace": "prod", "operation": operation,
            "userInfo": {"username": user, "groups": ["system:authenticated"]},
            "object": object, "oldObject": old, "dryRun": false,
        }
    })
}

pub const SGP: (&str, &str, &str, &str) =
    ("vpcresources.k8s.aws", "v1beta1", "SecurityGroupPolicy", "securitygrouppolicies");
pub const TKE_SGP: (&str, &str, &str, &str) =
    ("vpcresources.tke.cloud.tencent.com", "v1beta1", "SecurityGroupPolicy", "securitygrouppolicies");
pub const SG: (&str, &str, &str, &str) = ("podsg.io", "v1alpha1", "SecurityGroup", "securitygroups");
pub const POD: (&str, &str, &str, &str) = ("", "v1", "Pod", "pods");
