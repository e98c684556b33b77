//! Pod to groups: SGPs of the pod's namespace, AND of selectors, union in
//! first-seen (name) order, default groups for pods no SGP selects.

use podsg_model::fixtures::{labels, mk_pod, mk_policy, sg};
use podsg_model::labels::{Operator, Requirement, Selector};
use podsg_model::resolve::{GroupSource, PolicyIndex};

fn resolve(index: &PolicyIndex, pod: &podsg_model::workload::Workload) -> podsg_model::resolve::Resolution {
    index.resolve(podsg_model::resolve::PodFacts {
        namespace: &pod.namespace,
        labels: &pod.labels,
        service_account: &pod.service_account,
        host_network: pod.host_network,
    })
}

#[test]
fn union_in_first_seen_order_whatever_the_apply_order() {
    let a = mk_policy("ns", "a-db", &[("app", "web")], &["sg-01", "sg-02"]);
    let b = mk_policy("ns", "b-cache", &[("tier", "front")], &["sg-02", "sg-03"]);
    let pod = mk_pod("ns", "web-1", &[("app", "web"), ("tier", "front")]);
    for order in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone()]] {
        let mut index = PolicyIndex::new();
        for p in order {
            index.apply_policy(p);
        }
        let r = resolve(&index, &pod);
        assert_eq!(r.groups, vec![sg("sg-01"), sg("sg-02"), sg("sg-03")]);
        assert_eq!(r.source, GroupSource::Policies(vec!["a-db".into(), "b-cache".into()]));
    }
}

#[test]
fn only_policies_of_the_pods_namespace_apply() {
    let mut index = PolicyIndex::new();
    index.apply_policy(mk_policy("other", "p", &[("app", "web")], &["sg-01"]));
    index.set_default_groups(vec![sg("sg-0d")]);
    let r = resolve(&index, &mk_pod("ns", "web", &[("app", "web")]));
    assert_eq!((r.groups, r.source), (vec![sg("sg-0d")], GroupSource::Default));
}

#[test]
fn unselected_pods_are_unrestricted_without_default_groups() {
    let index = PolicyIndex::new();
    let r = resolve(&index, &mk_pod("ns", "web", &[]));
    assert_eq!((r.groups.len(), r.source.clone()), (0, GroupSource::Unrestricted));
    assert!(!r.is_restricted());
}

#[test]
fn empty_pod_selector_selects_every_pod_in_the_namespace() {
    let mut index = PolicyIndex::new();
    index.apply_policy(mk_policy("ns", "all", &[], &["sg-01"]));
    assert_eq!(resolve(&index, &mk_pod("ns", "x", &[])).groups, vec![sg("sg-01")]);
    assert_eq!(resolve(&index, &mk_pod("ns", "y", &[("a", "b")])).groups, vec![sg("sg-01")]);
}

#[test]
fn service_account_selector_matches_the_accounts_labels_and_both_selectors_must_match() {
    let mut p = mk_policy("ns", "p", &[("app", "api")], &["sg-01"]);
    p.service_account_selector = Some(Selector::new(vec![Selector::equals("team", "payments")]));
    let mut sa_only = mk_policy("ns", "q", &[], &["sg-02"]);
    sa_only.pod_selector = None;
    sa_only.service_account_selector =
        Some(Selector::new(vec![Requirement { key: "team".into(), operator: Operator::Exists }]));
    let mut index = PolicyIndex::new();
    index.apply_policy(p);
    index.apply_policy(sa_only);
    index.apply_service_account("ns", "payments", labels(&[("team", "payments")]));
    index.apply_service_account("ns", "team", labels(&[]));

    let mut pod = mk_pod("ns", "api", &[("app", "api")]);
    pod.service_account = "payments".into();
    assert_eq!(resolve(&index, &pod).groups, vec![sg("sg-01"), sg("sg-02")]);

    // An account *named* like the label value does not match: labels do.
    pod.service_account = "team".into();
    let r = resolve(&index, &pod);
    assert_eq!(r.source, GroupSource::Unrestricted);

    // The pod selector must match too.
    let mut other = mk_pod("ns", "worker", &[("app", "worker")]);
    other.service_account = "payments".into();
    assert_eq!(resolve(&index, &other).groups, vec![sg("sg-02")]);
}

#[test]
fn an_unknown_service_account_is_flagged_but_default_is_not() {
    let index = PolicyIndex::new();
    let mut pod = mk_pod("ns", "x", &[]);
    assert_eq!(resolve(&index, &pod).unknown_service_account, None);
    pod.service_account = "builder".into();
    assert_eq!(resolve(&index, &pod).unknown_service_account, Some("ns/builder".into()));
}

#[test]
fn host_network_pods_carry_the_node_groups_whatever_selects_them() {
    let mut index = PolicyIndex::new();
    index.apply_policy(mk_policy("ns", "p", &[], &["sg-01"]));
    index.set_default_groups(vec![sg("sg-0d")]);
    let mut pod = mk_pod("ns", "agent", &[]);
    pod.host_network = true;
    let r = resolve(&index, &pod);
    assert_eq!((r.groups, r.source), (vec![sg("sg-0d")], GroupSource::HostNetwork));
}

#[test]
fn reapplying_a_policy_moves_it_in_the_index_and_delete_removes_it() {
    let mut index = PolicyIndex::new();
    index.apply_policy(mk_policy("ns", "p", &[("app", "a")], &["sg-01"]));
    let a = mk_pod("ns", "a", &[("app", "a")]);
    let b = mk_pod("ns", "b", &[("app", "b")]);
    assert_eq!(resolve(&index, &a).groups, vec![sg("sg-01")]);
    index.apply_policy(mk_policy("ns", "p", &[("app", "b")], &["sg-01"]));
    assert!(resolve(&index, &a).groups.is_empty(), "old anchor must be gone");
    assert_eq!(resolve(&index, &b).groups, vec![sg("sg-01")]);
    assert!(index.delete_policy("ns", "p").is_some());
    assert!(resolve(&index, &b).groups.is_empty());
    assert!(index.delete_policy("ns", "p").is_none());
    assert_eq!(index.policies().count(), 0);
}
