use podsg_model::fixtures::{all_on_one_node, catalog_of};
use podsg_nft::Layout;
use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(100_000);
    let members: Vec<String> =
        (0..n).map(|i| format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256)).collect();
    let yaml = format!(
        "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0a}}\nspec:\n  ingress: [{{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{{groupId: sg-0a}}, {{groupId: sg-0b}}]}}]\n---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0b}}\nspec:\n  members: [{}]\n---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p, namespace: default}}\nspec:\n  podSelector: {{matchLabels: {{app: a}}}}\n  securityGroups: {{groupIds: [sg-0a]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: a, namespace: default, labels: {{app: a}}}}\nspec: {{containers: [{{name: c, image: x}}]}}\nstatus: {{podIP: 10.244.0.5}}\n",
        members.join(", ")
    );
    let t = Instant::now();
    let c = catalog_of(&yaml);
    println!("load {:?}", t.elapsed());
    if std::env::args().nth(2).as_deref() == Some("compile") {
        for _ in 0..30 {
            let r = all_on_one_node(&c);
            std::hint::black_box(&r);
        }
        return;
    }
    for _ in 0..3 {
        let t = Instant::now();
        let c2 = c.clone();
        println!("clone {:?}", t.elapsed());
        let t = Instant::now();
        let m = c2.membership();
        println!("membership {:?}", t.elapsed());
        drop(m);
        let t = Instant::now();
        let r = all_on_one_node(&c2);
        println!("compile {:?}", t.elapsed());
        let t = Instant::now();
        let l = Layout::desired(&r);
        println!("layout {:?}", t.elapsed());
        let mut r3 = r.clone();
        r3.members.clear();
        let t = Instant::now();
        let _l3 = Layout::desired(&r3);
        println!("layout without members {:?}", t.elapsed());
        let t = Instant::now();
        let l2 = Layout::desired(&r);
        let p = podsg_nft::plan(Some(&l), &l2);
        println!("plan {:?} {}", t.elapsed(), p.is_ok());
        let t = Instant::now();
        drop((l, l2, r, c2));
        println!("drop {:?}", t.elapsed());
    }
}
#[allow(dead_code)]
fn unused() {}
