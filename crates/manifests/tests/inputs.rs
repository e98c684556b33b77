//! The handbook's manifests as the world's inputs: a world fed them one at
//! a time says what the batch catalog says of every workload and group,
//! and an edit of one file reaches it as the few changes it made.

use podsg_model::world::{InputChange, InputKey, World, diff};
use std::path::{Path, PathBuf};

fn handbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook")
}

#[test]
fn a_world_fed_the_handbook_agrees_with_its_catalog() {
    let loaded = podsg_manifests::load_lenient(&[handbook()]);
    let c = &loaded.catalog;
    let mut world = World::new();
    for input in c.inputs().into_values() {
        world.take(InputChange::Apply(input));
    }
    for w in &c.workloads {
        assert_eq!(world.resolution(&w.key()).unwrap(), &c.resolve(w), "{}", w.key());
    }
    let membership = c.membership();
    let mut members = 0;
    for id in c.groups.keys() {
        assert_eq!(world.member_addresses(id), membership.addresses(id), "{id}");
        members += membership.addresses(id).len();
    }
    assert!(members > 0, "the handbook has members to compare");
}

#[test]
fn an_edited_file_is_the_changes_it_made() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(handbook()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let paths = [dir.path().to_path_buf()];
    let before = podsg_manifests::load_lenient(&paths).catalog.inputs();
    let sgp = dir.path().join("20-security-group-policy.yaml");
    let text = std::fs::read_to_string(&sgp).unwrap();
    std::fs::write(&sgp, text.replace("app: green-pod", "app: blue-pod")).unwrap();
    let after = podsg_manifests::load_lenient(&paths).catalog.inputs();
    let changes = diff(&before, &after);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let InputChange::Apply(input) = &changes[0] else { panic!("{changes:?}") };
    assert!(matches!(input.key(), InputKey::Policy { .. }), "{changes:?}");
}
