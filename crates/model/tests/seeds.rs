//! The seeds' YAML (EKS user guide, a Korean EKS blog, Tencent TKE) loads
//! unchanged and selects the pods it is meant to.

use podsg_model::Catalog;
use podsg_model::decode::{Format, decode};
use podsg_model::resolve::GroupSource;

fn load(file: &str, groups: &[&str]) -> Result<podsg_model::Loaded, Vec<String>> {
    let text = std::fs::read_to_string(format!("{}/tests/seeds/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut decoded = decode(&text, file, Format::Yaml);
    assert!(decoded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", decoded.diagnostics);
    for g in groups {
        let doc = format!("apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: {g}}}\nspec: {{}}\n");
        decoded.objects.extend(decode(&doc, "groups.yaml", Format::Yaml).objects);
    }
    Catalog::build(decoded.objects).map_err(|ds| ds.iter().filter(|d| d.is_error()).map(ToString::to_string).collect())
}

#[test]
fn eks_user_guide() {
    let loaded = load("001-eks-user-guide.yaml", &["sg-abc123"]).unwrap();
    let c = &loaded.catalog;
    let r = c.resolve(&c.workloads[0]);
    assert_eq!(r.source, GroupSource::Policies(vec!["my-security-group-policy".into()]));
    assert_eq!(r.groups[0].as_str(), "sg-abc123");
}

#[test]
fn tencent_tke_group_is_accepted_and_the_service_is_skipped_with_a_note() {
    let text =
        std::fs::read_to_string(format!("{}/tests/seeds/004-tencent-tke.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let decoded = decode(&text, "004", Format::Yaml);
    assert_eq!(decoded.objects.len(), 2);
    assert_eq!(decoded.diagnostics.len(), 1);
    assert_eq!(
        decoded.diagnostics[0].to_string(),
        "004: Service/my-namespace/my-app: skipped v1 Service: not a kind podsg reads"
    );
    let loaded = load("004-tencent-tke.yaml", &["sg-0a1b2c3d"]).unwrap();
    let c = &loaded.catalog;
    assert_eq!(c.resolve(&c.workloads[0]).groups[0].as_str(), "sg-0a1b2c3d");
}

#[test]
fn a_policy_without_a_namespace_lands_in_default_and_duplicate_placeholders_are_caught() {
    // Seed 003 decodes as written; its placeholders name one group twice,
    // which validation reports rather than silently de-duplicating.
    let errors = load("003-korean-blog.yaml", &["sg-xxxxxxxxxxxxxx"]).unwrap_err();
    assert_eq!(
        errors,
        vec![
            "003-korean-blog.yaml: SecurityGroupPolicy/default/nginx-security-group-policy: spec.securityGroups.groupIds[1]: sg-xxxxxxxxxxxxxx: duplicate security group ID (also groupIds[0])"
        ]
    );
}
