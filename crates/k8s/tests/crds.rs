//! The committed CRDs are what the Rust types generate.

#[test]
fn committed_crds_are_what_crdgen_writes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    committed.sort();
    let generated = podsg_k8s::crd::files();
    let mut names: Vec<String> = generated.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let fix = "run `cargo run -p podsg-k8s --bin crdgen -- --write deploy/crds` and commit the result";
    assert_eq!(committed, names, "deploy/crds holds other files than crdgen writes; {fix}");
    for (name, yaml) in generated {
        let on_disk = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(on_disk == yaml, "deploy/crds/{name} is not what the types generate; {fix}");
    }
}
