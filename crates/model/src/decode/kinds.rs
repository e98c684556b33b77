//! Which kinds podsg reads, and what a kind it does not read means: in an
//! API group that podsg owns or reads, a kind that does not exist there is a
//! mistake (`SecurityGroupPolicies`, `pod`), never a silent skip; kinds of
//! other groups are skipped with a note.

use crate::api::{PODSG_API_VERSION, SGP_API_VERSIONS};
use crate::suggest::closest;

/// What to do with a document of this apiVersion and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    SecurityGroupPolicy,
    SecurityGroup,
    ClusterConfig,
    Pod,
    Workload,
    Namespace,
    ServiceAccount,
    Node,
    Service,
    /// A list of objects (`kind: List`, `PodList`, ...).
    List,
    /// Read by another command (`podsg lab`).
    Elsewhere(&'static str),
    /// A real kind podsg has no use for.
    Skip,
    /// Not a kind of that API group, or the wrong version of a group podsg reads.
    Refuse {
        path: &'static str,
        message: String,
    },
}

impl Class {
    /// podsg's own kinds (and the SGP) are read strictly: an unknown field is
    /// an error. Kubernetes' own kinds get warnings, as `kubectl
    /// --validate=strict` would refuse them but the API server keeps them.
    pub fn strict(&self) -> bool {
        matches!(self, Class::SecurityGroupPolicy | Class::SecurityGroup | Class::ClusterConfig)
    }
}

const PODSG_KINDS: [&str; 4] = ["SecurityGroup", "ClusterConfig", "LabSpec", "LabExpectations"];
const CORE_KINDS: [&str; 22] = [
    "Binding",
    "ComponentStatus",
    "ConfigMap",
    "Endpoints",
    "Event",
    "LimitRange",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ResourceQuota",
    "Secret",
    "Service",
    "ServiceAccount",
    "List",
    "Status",
    "DeleteOptions",
    "WatchEvent",
    "PodStatusResult",
];
const APPS_KINDS: [&str; 5] = ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"];
const BATCH_KINDS: [&str; 2] = ["CronJob", "Job"];

pub fn classify(api_version: &str, kind: &str) -> Class {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let sgp_groups = SGP_API_VERSIONS.map(|v| v.split('/').next().unwrap_or(v));
    let podsg_group = PODSG_API_VERSION.split('/').next().unwrap_or_default();
    match (api_version, kind) {
        (v, "SecurityGroupPolicy") if SGP_API_VERSIONS.contains(&v) => Class::SecurityGroupPolicy,
        (PODSG_API_VERSION, "SecurityGroup") => Class::SecurityGroup,
        (PODSG_API_VERSION, "ClusterConfig") => Class::ClusterConfig,
        (PODSG_API_VERSION, "LabSpec" | "LabExpectations") => Class::Elsewhere("podsg lab"),
        ("v1", "Pod") => Class::Pod,
        ("v1", "Namespace") => Class::Namespace,
        ("v1", "ServiceAccount") => Class::ServiceAccount,
        ("v1", "Node") => Class::Node,
        ("v1", "Service") => Class::Service,
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch/v1", "Job") => Class::Workload,
        (_, "SecurityGroupPolicy") => Class::Refuse {
            path: "apiVersion",
            message: format!("SecurityGroupPolicy is read from {}", SGP_API_VERSIONS.join(" or ")),
        },
        (_, k) if sgp_groups.contains(&group) => refuse_kind(api_version, k, &["SecurityGroupPolicy"]),
        (_, k) if group == podsg_group && PODSG_KINDS.contains(&k) => {
            Class::Refuse { path: "apiVersion", message: format!("{k} is read from {PODSG_API_VERSION}") }
        }
        (_, k) if group == podsg_group => refuse_kind(api_version, k, &PODSG_KINDS),
        (_, k) if k.ends_with("List") && k != "List" && is_known(api_version, &k[..k.len() - 4]) => Class::List,
        ("v1", "List") => Class::List,
        ("v1", k) => known_or_refused(api_version, k, &CORE_KINDS),
        ("apps/v1", k) => known_or_refused(api_version, k, &APPS_KINDS),
        ("batch/v1", k) => known_or_refused(api_version, k, &BATCH_KINDS),
        _ => Class::Skip,
    }
}

fn is_known(api_version: &str, kind: &str) -> bool {
    match api_version {
        "v1" => CORE_KINDS.contains(&kind),
        "apps/v1" => APPS_KINDS.contains(&kind),
        "batch/v1" => BATCH_KINDS.contains(&kind),
        _ => false,
    }
}

fn known_or_refused(api_version: &str, kind: &str, kinds: &[&str]) -> Class {
    if kinds.contains(&kind) { Class::Skip } else { refuse_kind(api_version, kind, kinds) }
}

fn refuse_kind(api_version: &str, kind: &str, kinds: &[&str]) -> Class {
    let hint = match closest(kind, kinds.iter().copied()) {
        Some(k) => format!("; did you mean {k}?"),
        None => format!(" (it has {})", kinds.join(", ")),
    };
    Class::Refuse { path: "kind", message: format!("{api_version} has no kind {kind}{hint}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_kinds_in_groups_podsg_reads_are_refused_with_a_suggestion() {
        let refused = |v: &str, k: &str| match classify(v, k) {
            Class::Refuse { message, .. } => message,
            other => panic!("{v} {k}: {other:?}"),
        };
        assert_eq!(
            refused("vpcresources.k8s.aws/v1beta1", "SecurityGroupPolicies"),
            "vpcresources.k8s.aws/v1beta1 has no kind SecurityGroupPolicies; did you mean SecurityGroupPolicy?"
        );
        assert_eq!(
            refused("vpcresources.tke.cloud.tencent.com/v1beta1", "securitygrouppolicy"),
            "vpcresources.tke.cloud.tencent.com/v1beta1 has no kind securitygrouppolicy; did you mean SecurityGroupPolicy?"
        );
        assert_eq!(refused("v1", "pod"), "v1 has no kind pod; did you mean Pod?");
        assert_eq!(refused("apps/v1", "Deployments"), "apps/v1 has no kind Deployments; did you mean Deployment?");
        assert_eq!(
            refused("podsg.io/v1alpha1", "SecurityGroups"),
            "podsg.io/v1alpha1 has no kind SecurityGroups; did you mean SecurityGroup?"
        );
        assert_eq!(refused("podsg.io/v1", "SecurityGroup"), "SecurityGroup is read from podsg.io/v1alpha1");
        assert_eq!(
            refused("vpcresources.k8s.aws/v1", "SecurityGroupPolicy"),
            "SecurityGroupPolicy is read from vpcresources.k8s.aws/v1beta1 or vpcresources.tke.cloud.tencent.com/v1beta1"
        );
    }

    #[test]
    fn real_kinds_podsg_does_not_read_are_skipped() {
        for (v, k) in [
            ("v1", "Endpoints"),
            ("v1", "ConfigMap"),
            ("apps/v1", "ControllerRevision"),
            ("batch/v1", "CronJob"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
            ("example.com/v1", "Widget"),
        ] {
            assert_eq!(classify(v, k), Class::Skip, "{v} {k}");
        }
        for (v, k) in [("v1", "List"), ("v1", "PodList"), ("apps/v1", "DeploymentList")] {
            assert_eq!(classify(v, k), Class::List, "{v} {k}");
        }
        assert_eq!(classify("v1", "Pod"), Class::Pod);
        assert_eq!(classify("v1", "Service"), Class::Service);
        assert_eq!(
            classify("vpcresources.tke.cloud.tencent.com/v1beta1", "SecurityGroupPolicy"),
            Class::SecurityGroupPolicy
        );
    }
}
