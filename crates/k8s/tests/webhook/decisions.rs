//! Every decision, with the exact message a person sees; and for SGPs and
//! SecurityGroups, the same messages `podsg check` gives for the same
//! object.

use super::{CONTROLLER, POD, SG, SGP, TKE_SGP, admission, rules};
use podsg_k8s::webhook::review;
use podsg_model::Catalog;
use podsg_model::decode::{Format, decode};
use serde_json::{Value, json};

/// (allowed, message, warnings) of the review of `request`.
fn decide(request: &Value) -> (bool, String, Vec<String>) {
    let answer = serde_json::to_value(review(request.to_string().as_bytes(), &rules())).unwrap();
    let response = &answer["response"];
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    let message = response["status"]["message"].as_str().unwrap_or("").to_string();
    let warnings = response["warnings"]
        .as_array()
        .map_or(Vec::new(), |w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect());
    (response["allowed"].as_bool().unwrap(), message, warnings)
}

fn sgp(spec: Value) -> Value {
    json!({"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
           "metadata": {"name": "p", "namespace": "prod"}, "spec": spec})
}

fn sg(spec: Value) -> Value {
    json!({"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup", "metadata": {"name": "sg-0b"}, "spec": spec})
}

/// What `podsg check` says is wrong with `object` (read as the JSON file
/// it is), without locations: the errors of the object itself, not of its
/// references.
fn check_errors(object: &Value) -> Vec<String> {
    let base =
        json!({"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup", "metadata": {"name": "sg-0a"}, "spec": {}});
    let text = format!("{}\n---\n{}", base, object);
    let decoded = decode(&text, "t.json", Format::Json);
    let mut diagnostics = decoded.diagnostics;
    if let Err(more) = Catalog::build(decoded.objects) {
        diagnostics.extend(more);
    }
    diagnostics
        .into_iter()
        .filter(|d| d.is_error() && !d.message.contains("does not exist"))
        .map(|mut d| {
            d.object = None;
            d.origin = None;
            d.position = None;
            d.to_string()
        })
        .collect()
}

#[test]
fn valid_policies_and_groups_are_allowed() {
    let seed = sgp(
        json!({"podSelector": {"matchLabels": {"role": "green-pod"}}, "securityGroups": {"groupIds": ["sg-0a1b2c3d4e5f60789"]}}),
    );
    for operation in ["CREATE", "UPDATE"] {
        assert!(decide(&admission(SGP, operation, "alice", Some(seed.clone()), None)).0, "{operation}");
    }
    let mut tke = seed.clone();
    tke["apiVersion"] = json!("vpcresources.tke.cloud.tencent.com/v1beta1");
    tke["spec"]["securityGroups"]["groupIds"] = json!(["sg-e8lzsa0v"]);
    assert!(decide(&admission(TKE_SGP, "CREATE", "alice", Some(tke), None)).0, "Tencent's IDs in Tencent's group");
    let group = sg(json!({"ingress": [{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
        "userIdGroupPairs": [{"groupId": "sg-0fedcba9876543210"}]}]}));
    assert!(
        decide(&admission(SG, "CREATE", "alice", Some(group), None)).0,
        "a group naming one that does not exist yet"
    );
    assert!(decide(&admission(SGP, "DELETE", "alice", None, Some(seed))).0);
}

#[test]
fn invalid_policies_are_denied_with_check_s_messages() {
    let cases = [
        json!({"podSelector": {}, "securityGroups": {"groupIds": ["SG-1"]}}),
        json!({"securityGroups": {"groupIds": ["sg-1"]}}),
        json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Is", "values": ["b"]}]}, "securityGroups": {"groupIds": ["sg-1"]}}),
        json!({"podSelector": {}, "securityGroups": {"groupIds": []}}),
        json!({"podSelector": {"matchLabels": {"role": "a b"}}, "securityGroups": {"groupIds": ["sg-1"]}}),
        json!({"podSelectr": {}, "securityGroups": {"groupIds": ["sg-1"]}}),
        json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}, "securityGroups": {"groupIds": ["sg-1"]}}),
    ];
    denied_as_check_denies(SGP, cases.map(sgp));
}

#[test]
fn the_denial_names_the_field() {
    let object = sgp(json!({"podSelector": {}, "securityGroups": {"groupIds": ["SG-1"]}}));
    let (allowed, message, _) = decide(&admission(SGP, "UPDATE", "alice", Some(object), None));
    assert!(!allowed);
    assert_eq!(
        message,
        "spec.securityGroups.groupIds[0]: SG-1: a security group ID is sg- followed by lowercase letters and digits (e.g. sg-0a1b2c3d4e5f60789)"
    );
}

#[test]
fn invalid_groups_are_denied_with_check_s_messages() {
    let cases = [
        json!({"ingress": [{"ipProtocol": "tcpx", "fromPort": 1, "toPort": 2}]}),
        json!({"ingress": [{"ipProtocol": "tcp", "fromPort": 70000, "toPort": 70000}]}),
        json!({"ingress": [{"ipProtocol": "tcp", "fromPort": 1, "toPort": 2, "ipRanges": [{"cidrIp": "10.0.0.0/33"}]}]}),
        json!({"egress": [{"ipProtocol": "udp", "fromPort": 9, "toPort": 1}]}),
        json!({"members": ["not-an-address"]}),
    ];
    denied_as_check_denies(SG, cases.map(sg));
}

/// Each object is denied on creation with exactly the errors `podsg check`
/// finds in it.
fn denied_as_check_denies<const N: usize>(resource: (&str, &str, &str, &str), objects: [Value; N]) {
    for object in objects {
        let (allowed, message, _) = decide(&admission(resource, "CREATE", "alice", Some(object.clone()), None));
        assert!(!allowed, "{object} was allowed");
        let expected = check_errors(&object);
        assert!(!expected.is_empty(), "check finds nothing wrong with {object}");
        assert_eq!(message, expected.join("; "), "{object}");
    }
}

fn pod(annotation: Option<&str>) -> Value {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "prod"},
                         "spec": {"containers": [{"name": "app", "image": "app"}]}});
    if let Some(a) = annotation {
        pod["metadata"]["annotations"] = json!({"vpc.amazonaws.com/pod-eni": a, "other": "x"});
    }
    pod
}

#[test]
fn only_the_controller_writes_the_pod_annotation() {
    let stolen = r#"[{"eniId":"eni-0123","privateIp":"10.0.0.9","vlanId":1}]"#;
    let (allowed, message, _) = decide(&admission(POD, "CREATE", "alice", Some(pod(Some(stolen))), None));
    assert!(!allowed);
    assert_eq!(
        message,
        format!(
            "metadata.annotations.vpc.amazonaws.com/pod-eni: a pod may not be created with this annotation; podsg's controller writes it ({CONTROLLER})"
        )
    );
    assert!(decide(&admission(POD, "CREATE", "alice", Some(pod(None)), None)).0);

    let cases = [(None, Some(stolen), "set"), (Some(stolen), Some("[]"), "change"), (Some(stolen), None, "remove")];
    for (old, new, what) in cases {
        let request = admission(POD, "UPDATE", "alice", Some(pod(new)), Some(pod(old)));
        let (allowed, message, _) = decide(&request);
        assert!(!allowed, "alice may not {what} it");
        assert_eq!(
            message,
            format!(
                "metadata.annotations.vpc.amazonaws.com/pod-eni: only podsg's controller ({CONTROLLER}) may {what} this annotation, not alice"
            )
        );
        let by_controller = admission(POD, "UPDATE", CONTROLLER, Some(pod(new)), Some(pod(old)));
        assert!(decide(&by_controller).0, "the controller may {what} it");
    }
    // Other changes to a pod that has it are not this webhook's business.
    let mut relabelled = pod(Some(stolen));
    relabelled["metadata"]["labels"] = json!({"app": "web"});
    assert!(decide(&admission(POD, "UPDATE", "alice", Some(relabelled), Some(pod(Some(stolen))))).0);
    assert!(decide(&admission(POD, "DELETE", "alice", None, Some(pod(Some(stolen))))).0);
}

#[test]
fn what_it_does_not_review_and_what_it_cannot_read_are_denied() {
    let cm = ("", "v1", "ConfigMap", "configmaps");
    let (allowed, message, _) =
        decide(&admission(cm, "CREATE", "alice", Some(json!({"metadata": {"name": "c"}})), None));
    assert!(!allowed);
    assert_eq!(
        message,
        "podsg's webhook does not review ConfigMap; the webhook configuration sends it requests it should not"
    );
    for garbage in ["", "{}", "[]", r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "\u{0}"] {
        let answer = serde_json::to_value(review(garbage.as_bytes(), &rules())).unwrap();
        assert_eq!(answer["response"]["allowed"], false, "{garbage:?}");
        let message = answer["response"]["status"]["message"].as_str().unwrap();
        assert!(message.starts_with("cannot read the AdmissionReview: "), "{message}");
    }
}

#[test]
fn warnings_are_passed_on() {
    // An SGP that `podsg check` warns about, but accepts.
    let object = sgp(
        json!({"podSelector": {}, "serviceAccountSelector": {"matchNames": ["a"]}, "securityGroups": {"groupIds": ["sg-1"]}}),
    );
    let (allowed, _, warnings) = decide(&admission(SGP, "CREATE", "alice", Some(object.clone()), None));
    assert!(allowed);
    let decoded = decode(&object.to_string(), "t.json", Format::Json);
    let expected: Vec<String> = match Catalog::build(decoded.objects) {
        Ok(loaded) => loaded.diagnostics,
        Err(d) => d,
    }
    .into_iter()
    .filter(|d| !d.is_error() && d.path.starts_with("spec"))
    .map(|mut d| {
        d.object = None;
        d.origin = None;
        d.position = None;
        d.to_string()
    })
    .collect();
    assert_eq!(warnings, expected);
}
