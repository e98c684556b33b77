//! The collector on its own: what the agent hears, and when.

use podsg_k8s::agent_source::{Collector, Seen, SliceSelector, Watch};
use podsg_k8s::sgp_api::SgpApi;
use podsg_model::group::SgId;
use podsg_model::labels::Labels;
use podsg_model::settings::Settings;
use podsg_model::world::{Input, InputChange, InputKey};
use std::collections::BTreeSet;

fn sa(name: &str, team: &str) -> Input {
    let labels: Labels = [("team".to_string(), team.to_string())].into_iter().collect();
    Input::ServiceAccount { namespace: "ns".into(), name: name.into(), labels }
}

fn sa_key(name: &str) -> InputKey {
    InputKey::ServiceAccount { namespace: "ns".into(), name: name.into() }
}

fn slice(name: &str, group: &str, address: &str) -> Input {
    Input::MemberSlice { name: name.into(), group: sg(group), addresses: vec![address.parse().unwrap()] }
}

/// Slice 0 of `group`, holding `address`, in the list of slice watch `generation`.
fn list_slice(c: &mut Collector, generation: u64, group: &str, address: &str) {
    let name = format!("{group}-0");
    c.see(
        Watch::Slices,
        generation,
        Seen::Listed(InputKey::MemberSlice(name.clone()), Some(slice(&name, group, address))),
    );
}

fn sg(id: &str) -> SgId {
    SgId::parse(id).unwrap()
}

fn policy(name: &str, group: &str) -> Input {
    let sgp = serde_json::json!({
        "apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"podSelector": {"matchLabels": {"app": name}}, "securityGroups": {"groupIds": [group]}},
    });
    Input::Policy(podsg_k8s::convert::policy(&sgp).expect("the policy reads"))
}

fn policy_key(name: &str) -> InputKey {
    InputKey::Policy { namespace: "ns".into(), name: name.into() }
}

/// Every control watch lists (with `extra` listed by the service accounts').
fn listed(c: &mut Collector, extra: Vec<Input>) {
    for watch in Watch::CONTROL {
        c.see(watch, 0, Seen::Listing);
        if watch == Watch::ServiceAccounts {
            for input in &extra {
                c.see(watch, 0, Seen::Listed(input.key(), Some(input.clone())));
            }
        }
        c.see(watch, 0, Seen::ListDone);
    }
}

fn keys(report: &[InputChange]) -> Vec<String> {
    report
        .iter()
        .map(|c| match c {
            InputChange::Apply(i) => format!("+{:?}", i.key()),
            InputChange::Delete(k) => format!("-{k:?}"),
        })
        .collect()
}

#[test]
fn nothing_is_reported_until_every_control_watch_has_listed_then_everything() {
    let mut c = Collector::new(Settings::default());
    assert_eq!(c.report(), None);
    for watch in &Watch::CONTROL[..4] {
        c.see(*watch, 0, Seen::Listing);
        c.see(*watch, 0, Seen::ListDone);
        assert_eq!(c.report(), None, "{watch:?} listed, not all");
    }
    c.see(Watch::ServiceAccounts, 0, Seen::Listing);
    c.see(Watch::ServiceAccounts, 0, Seen::Listed(sa_key("a"), Some(sa("a", "x"))));
    assert_eq!(c.report(), None, "mid-list");
    c.see(Watch::ServiceAccounts, 0, Seen::ListDone);
    let first = c.report().expect("the first report");
    assert_eq!(keys(&first), [format!("+{:?}", sa_key("a")), "+Settings".to_string()]);
    assert_eq!(c.report(), None, "nothing more to say");
}

#[test]
fn a_relist_deletes_what_it_lacks_and_repeats_nothing_the_agent_has() {
    let mut c = Collector::new(Settings::default());
    listed(&mut c, vec![sa("a", "x"), sa("b", "x")]);
    c.report().unwrap();
    c.see(Watch::ServiceAccounts, 0, Seen::Listing);
    c.see(Watch::ServiceAccounts, 0, Seen::Listed(sa_key("a"), Some(sa("a", "x"))));
    assert_eq!(c.report(), None, "a listed as it was: nothing to say");
    c.see(Watch::ServiceAccounts, 0, Seen::ListDone);
    assert_eq!(c.report(), Some(vec![InputChange::Delete(sa_key("b"))]), "b was deleted while the watch was down");
}

#[test]
fn a_burst_is_reported_once_as_it_ended() {
    let mut c = Collector::new(Settings::default());
    listed(&mut c, vec![]);
    c.report().unwrap();
    c.see(Watch::ServiceAccounts, 0, Seen::Applied(sa_key("a"), Some(sa("a", "1"))));
    c.see(Watch::ServiceAccounts, 0, Seen::Applied(sa_key("a"), Some(sa("a", "2"))));
    c.see(Watch::ServiceAccounts, 0, Seen::Applied(sa_key("b"), Some(sa("b", "1"))));
    c.see(Watch::ServiceAccounts, 0, Seen::Deleted(sa_key("b")));
    assert_eq!(
        c.report(),
        Some(vec![InputChange::Apply(sa("a", "2")), InputChange::Delete(sa_key("b"))]),
        "b came and went: its delete is harmless to an agent that never had it"
    );
    // An object the model refuses: the agent drops what it had.
    c.see(Watch::ServiceAccounts, 0, Seen::Applied(sa_key("a"), None));
    assert_eq!(c.report(), Some(vec![InputChange::Delete(sa_key("a"))]));
    c.see(Watch::ServiceAccounts, 0, Seen::Deleted(sa_key("a")));
    assert_eq!(c.report(), None);
}

#[test]
fn an_sgp_in_both_api_groups_keeps_the_first_and_the_other_takes_over_when_it_goes() {
    let (eks, tke) = (Watch::Policies(SgpApi::Eks), Watch::Policies(SgpApi::Tke));
    let mut c = Collector::new(Settings::default());
    listed(&mut c, vec![]);
    c.report().unwrap();
    c.see(tke, 0, Seen::Applied(policy_key("web"), Some(policy("web", "sg-0a"))));
    c.see(eks, 0, Seen::Applied(policy_key("web"), Some(policy("web", "sg-0b"))));
    assert_eq!(c.report(), Some(vec![InputChange::Apply(policy("web", "sg-0a"))]), "TKE's came first");
    c.see(eks, 0, Seen::Applied(policy_key("web"), Some(policy("web", "sg-0c"))));
    assert_eq!(c.report(), None, "the shadowed one changed: nothing in force changed");
    c.see(tke, 0, Seen::Deleted(policy_key("web")));
    assert_eq!(c.report(), Some(vec![InputChange::Apply(policy("web", "sg-0c"))]), "EKS's takes over");
    c.see(tke, 0, Seen::Applied(policy_key("web"), Some(policy("web", "sg-0a"))));
    assert_eq!(c.report(), None, "now TKE's is the shadowed one");
    c.see(tke, 0, Seen::Deleted(policy_key("web")));
    assert_eq!(c.report(), None);
    c.see(eks, 0, Seen::Deleted(policy_key("web")));
    assert_eq!(c.report(), Some(vec![InputChange::Delete(policy_key("web"))]));
}

#[test]
fn a_fetch_holds_the_report_until_the_slices_of_its_own_selector_have_listed() {
    let mut c = Collector::new(Settings::default());
    listed(&mut c, vec![]);
    c.report().unwrap();
    let one: BTreeSet<SgId> = [sg("sg-0a")].into();
    let (generation, selector) = c.want(&one).expect("a new selector");
    assert_eq!(selector, SliceSelector::Groups(one.clone()));
    assert!(c.fetching());
    assert_eq!(c.want(&one), None, "the same groups: the same watch");
    c.see(Watch::Slices, generation, Seen::Listing);
    list_slice(&mut c, generation, "sg-0a", "10.0.0.1");
    c.see(Watch::ServiceAccounts, 0, Seen::Applied(sa_key("a"), Some(sa("a", "x"))));
    assert_eq!(c.report(), None, "mid-fetch");
    // The agent needs another group before the first list ended: only the
    // list of the new selector ends the fetch.
    let two: BTreeSet<SgId> = [sg("sg-0a"), sg("sg-0b")].into();
    let (newer, _) = c.want(&two).unwrap();
    c.see(Watch::Slices, generation, Seen::ListDone);
    assert_eq!(c.report(), None, "the older selector's list does not end the fetch");
    c.see(Watch::Slices, newer, Seen::Listing);
    list_slice(&mut c, newer, "sg-0a", "10.0.0.1");
    list_slice(&mut c, newer, "sg-0b", "10.0.0.2");
    c.see(Watch::Slices, newer, Seen::ListDone);
    assert!(!c.fetching());
    let report = c.report().unwrap();
    assert_eq!(
        keys(&report),
        [&format!("+{:?}", sa_key("a")), "+MemberSlice(\"sg-0a-0\")", "+MemberSlice(\"sg-0b-0\")"],
    );
    // Fewer groups: the relist under the narrower selector drops the rest.
    let (narrower, _) = c.want(&one).unwrap();
    c.see(Watch::Slices, narrower, Seen::Listing);
    list_slice(&mut c, narrower, "sg-0a", "10.0.0.1");
    c.see(Watch::Slices, narrower, Seen::ListDone);
    assert_eq!(c.report(), Some(vec![InputChange::Delete(InputKey::MemberSlice("sg-0b-0".into()))]));
    // A fetch that brings nothing new still ends with a report.
    let (again, _) = c.want(&two).unwrap();
    c.see(Watch::Slices, again, Seen::Listing);
    list_slice(&mut c, again, "sg-0a", "10.0.0.1");
    c.see(Watch::Slices, again, Seen::ListDone);
    assert_eq!(c.report(), Some(vec![]), "the agent waits for this report to enforce");
    // No group needed: the slices go at once, nothing is fetched.
    let (_, nothing) = c.want(&BTreeSet::new()).unwrap();
    assert_eq!(nothing, SliceSelector::Nothing);
    assert!(!c.fetching());
    assert_eq!(c.report(), Some(vec![InputChange::Delete(InputKey::MemberSlice("sg-0a-0".into()))]));
}
