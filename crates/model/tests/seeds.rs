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
fn tencent_tke_group_is_accepted_and_the_service_selects_the_deployment() {
    let text =
        std::fs::read_to_string(format!("{}/tests/seeds/004-tencent-tke.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let decoded = decode(&text, "004", Format::Yaml);
    assert_eq!(decoded.objects.len(), 3);
    assert!(decoded.diagnostics.is_empty(), "{:?}", decoded.diagnostics);
    let loaded = load("004-tencent-tke.yaml", &["sg-0a1b2c3d"]).unwrap();
    let c = &loaded.catalog;
    assert_eq!(c.resolve(&c.workloads[0]).groups[0].as_str(), "sg-0a1b2c3d");
    let service = c.service("my-namespace", "my-app").expect("the Service is read");
    let backends: Vec<String> = c.backends(service).iter().map(|w| w.key().to_string()).collect();
    assert_eq!(backends, ["Deployment/my-namespace/my-deployment"]);
}

#[test]
fn a_policy_without_a_namespace_lands_in_default_and_duplicate_placeholders_are_caught() {
    // Seed 003 decodes as written; its placeholders name one group twice,
    // which validation reports rather than silently de-duplicating.
    let errors = load("003-korean-blog.yaml", &["sg-xxxxxxxxxxxxxx"]).unwrap_err();
    assert_eq!(
        errors,
        vec![
            "003-korean-blog.yaml:2:1: SecurityGroupPolicy/default/nginx-security-group-policy: spec.securityGroups.groupIds[1]: sg-xxxxxxxxxxxxxx: duplicate security group ID (also groupIds[0])"
        ]
    );
}

#[test]
fn handbook_membership() {
    use podsg_model::catalog::Member;
    let dir = format!("{}/../../examples/handbook", env!("CARGO_MANIFEST_DIR"));
    let mut objects = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        objects.extend(decode(&text, &f.display().to_string(), Format::Yaml).objects);
    }
    let mut text = String::from(
        "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.3.11}, {type: Hostname, address: node-1}]}\n",
    );
    text.push_str("---\napiVersion: v1\nkind: Pod\nmetadata: {name: red-1, namespace: networking, labels: {app: red-pod}}\nstatus: {podIP: 10.0.3.101}\n");
    objects.extend(decode(&text, "extra.yaml", Format::Yaml).objects);
    let c = Catalog::build(objects).unwrap().catalog;
    let m = c.membership();
    let id = |s: &str| podsg_model::group::SgId::parse(s).unwrap();
    let names = |g: &str| -> Vec<String> {
        m.members(&id(g))
            .iter()
            .map(|x| match x {
                Member::Workload { workload, .. } => workload.to_string(),
                Member::External { address, .. } => address.to_string(),
                Member::Node { name, .. } => format!("node/{name}"),
            })
            .collect()
    };
    assert_eq!(names("sg-0a7f3c9e2b1d48502"), vec!["Deployment/networking/green-pod"]);
    assert_eq!(
        names("sg-0e1b5c2a7d4f36901"),
        vec!["Deployment/networking/red-pod", "Deployment/kube-system/coredns", "Pod/networking/red-1", "node/node-1"]
    );
    assert_eq!(names("sg-0c4d8e2f6a1b39703"), vec!["10.0.3.50"]);
    let addresses: Vec<String> = m.addresses(&id("sg-0e1b5c2a7d4f36901")).iter().map(ToString::to_string).collect();
    assert_eq!(
        addresses,
        vec!["10.0.3.11", "10.0.3.101"],
        "only known addresses, in address order; templates have none"
    );
    assert_eq!(m.groups().count(), 4);
}

/// A world fed the catalog's inputs one at a time says what the catalog
/// says: every workload's groups, every group's members.
#[test]
fn a_world_fed_a_catalogs_inputs_agrees_with_it() {
    use podsg_model::world::{InputChange, World};
    for (file, groups) in [("001-eks-user-guide.yaml", &["sg-abc123"]), ("004-tencent-tke.yaml", &["sg-0a1b2c3d"])] {
        let loaded = load(file, groups).unwrap();
        let c = &loaded.catalog;
        let mut world = World::new();
        for input in c.inputs().into_values() {
            world.take(InputChange::Apply(input));
        }
        assert!(!c.workloads.is_empty(), "{file}");
        for w in &c.workloads {
            assert_eq!(world.resolution(&w.key()).unwrap(), &c.resolve(w), "{file}: {}", w.key());
        }
        let membership = c.membership();
        for id in c.groups.keys() {
            assert_eq!(world.member_addresses(id), membership.addresses(id), "{file}: {id}");
        }
    }
}
