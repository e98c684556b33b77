//! Manifests shaped after public ones (each file says which), read as
//! podsg reads them: they load, and select what they say.

use podsg_model::Catalog;
use podsg_model::decode::{Format, decode};

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/real-world/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_eks_controllers_sample_shape_loads_and_match_names_select_by_service_account_name() {
    let sample = read("eks-controller-sample-sgp.yaml");
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
