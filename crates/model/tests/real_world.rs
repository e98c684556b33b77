//! Manifests shaped after public ones (each file says which), read as
//! podsg reads them: they load, and select what they say.

use podsg_model::Catalog;
use podsg_model::decode::{Format, decode};
use podsg_model::workload::WorkloadKind;

fn read_fixture(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/real-world/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_eks_controllers_sample_shape_loads_and_match_names_select_by_service_account_name() {
    let sample = read_fixture("eks-controller-sample-sgp.yaml");
    // Its groups live in AWS: declared, not described.
    let outside = "---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-07b9fafd9006da7d5}\nspec: {outside: {}}\n---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-f7990sfng33684fad}\nspec: {outside: {}}\n";
    let world = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: my-serviceaccount, labels: {role: db, environment: qa}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: other, labels: {role: db, environment: qa}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {serviceAccountName: my-serviceaccount}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {serviceAccountName: other}\n";
    let text = format!("{sample}{outside}{world}");
    let decoded = decode(&text, "sample.yaml", Format::Yaml);
    assert!(decoded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", decoded.diagnostics);
    let loaded = Catalog::build(decoded.objects).unwrap_or_else(|e| panic!("{e:?}"));
    let c = &loaded.catalog;
    let groups = |pod: &str| c.resolve(c.pod("default", pod).unwrap()).groups.len();
    assert_eq!(groups("a"), 2, "my-serviceaccount is named by matchNames");
    assert_eq!(groups("b"), 0, "other has the labels but not the name");
}

#[test]
fn a_kubectl_pod_dump_loads_with_what_each_pod_is() {
    let text = read_fixture("kubectl-get-pods.yaml");
    let decoded = decode(&text, "pods.yaml", Format::Yaml);
    assert!(decoded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", decoded.diagnostics);
    let loaded = Catalog::build(decoded.objects).unwrap_or_else(|e| panic!("{e:?}"));
    let c = &loaded.catalog;
    let checkout = c.pod("shop", "checkout-6d9f7c8b5-2xkqp").expect("the running checkout pod");
    assert_eq!(checkout.addresses, ["10.0.14.201".parse::<std::net::IpAddr>().unwrap()]);
    assert_eq!(checkout.labels.get("tier").map(String::as_str), Some("yes"), "a quoted yes is a string");
    assert_eq!(checkout.service_account, "checkout");
    assert_eq!(checkout.owner, Some(("ReplicaSet".into(), "checkout-6d9f7c8b5".into())));
    assert_eq!(checkout.probes.iter().map(|p| p.port).collect::<Vec<_>>(), [8080], "the named port is resolved");
    let debug = c.pod("shop", "debug").expect("the bare pod");
    assert_eq!(debug.service_account, "default");
    assert!(
        debug.annotations["kubectl.kubernetes.io/last-applied-configuration"].starts_with("{\"apiVersion\":\"v1\""),
        "annotations are kept (the controller's pod-eni is read back from them): {:?}",
        debug.annotations
    );
    let pending = c.pod("shop", "checkout-6d9f7c8b5-q8w4n").expect("the pending pod");
    assert!(pending.addresses.is_empty(), "not scheduled: no address yet");
}

/// The items of a dump read one by one (as a large dump is read, on every
/// core; kubectl's block YAML by lines, the wrapped message by
/// saphyr-parser) are the items read whole.
#[test]
fn a_kubectl_pod_dump_read_item_by_item_is_the_dump_read_whole() {
    use podsg_model::yaml::{Unit, read, read_items};
    let text = read_fixture("kubectl-get-pods.yaml");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let first = lines.iter().position(|l| l.starts_with("- ")).unwrap();
    let end = lines.iter().position(|l| l.starts_with("kind: List")).unwrap();
    let items: String = lines[first..end].concat();
    let item = |unit: Unit| match unit {
        Unit::Item { node, problems, .. } => Some(format!("{node:?} {problems:?}")),
        Unit::Document { .. } => None,
    };
    let mut whole = Vec::new();
    read(&text, |unit| whole.extend(item(unit))).unwrap();
    let mut one_by_one = Vec::new();
    read_items(&items, first + 1, |unit| one_by_one.extend(item(unit))).unwrap();
    assert_eq!(whole.len(), 3);
    assert_eq!(one_by_one, whole);
}

/// `aws ec2 describe-security-groups` output shaped after the AWS CLI
/// reference's examples (JSON cannot say so itself): a group that admits
/// another's members, `-1` egress without ports, IPv6 ranges, tags and ARNs.
#[test]
fn described_groups_import_with_their_references_and_all_traffic_egress() {
    use podsg_model::import::ec2::{self, Options};
    let imported = ec2::import(&read_fixture("describe-security-groups.json"), Options::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let names: Vec<&str> = imported.groups.iter().map(|g| g.metadata.name.as_deref().unwrap_or_default()).collect();
    assert_eq!(names, ["sg-0a7f3c9e21b5d4e86", "sg-0c5e2a91d7f3b4a60"]);
    let web = &imported.groups[0].spec;
    assert_eq!(web.ingress.len(), 2);
    assert_eq!(web.ingress[1].user_id_group_pairs[0].group_id, "sg-0c5e2a91d7f3b4a60");
    assert_eq!(web.egress.as_ref().map(Vec::len), Some(1));
}

/// `helm template` output, comments and all, checked with the groups it
/// names imported: the Deployment is selected through its ServiceAccount's
/// labels.
#[test]
fn helm_output_with_imported_groups_loads_and_selects_through_the_service_account() {
    use podsg_model::import::ec2::{self, Options};
    use podsg_model::yaml::to_yaml;
    let imported = ec2::import(&read_fixture("describe-security-groups.json"), Options::default()).unwrap();
    let groups: String = imported.groups.iter().map(|g| format!("---\n{}", to_yaml(g).unwrap())).collect();
    let text = format!("{}{groups}", read_fixture("helm-template.yaml"));
    let decoded = decode(&text, "shop.yaml", Format::Yaml);
    assert!(decoded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", decoded.diagnostics);
    let loaded = Catalog::build(decoded.objects).unwrap_or_else(|e| panic!("{e:?}"));
    let c = &loaded.catalog;
    let deployment = c.workload(WorkloadKind::Deployment, "default", "shop-checkout").expect("the chart's Deployment");
    let groups = c.resolve(deployment).groups;
    assert_eq!(groups.iter().map(ToString::to_string).collect::<Vec<_>>(), ["sg-0a7f3c9e21b5d4e86"]);
}
