//! The manifest source on a real directory with real inotify: the first
//! report is everything; then a file replaced by rename, a new file in a
//! new subdirectory and a deleted file each come as the changes they made,
//! and nothing comes for a write that changes no object.

use podsg_agent::{ManifestFiles, Source};
use podsg_model::world::{Input, InputChange, InputKey};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

fn group(id: &str, port: u16) -> String {
    format!(
        "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: {id}}}\n\
         spec: {{ingress: [{{ipProtocol: tcp, fromPort: {port}, toPort: {port}, ipRanges: [{{cidrIp: 10.0.0.0/8}}]}}]}}\n"
    )
}

/// Writes `text` to `path` as editors do: a temporary file renamed over it.
fn replace(path: &Path, text: &str) {
    let staged = path.with_extension("tmp~");
    std::fs::write(&staged, text).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

/// The source on its own thread: each report, as it comes.
fn follow(mut source: ManifestFiles) -> mpsc::Receiver<Vec<InputChange>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while let Some(batch) = source.next() {
            if tx.send(batch).is_err() {
                return;
            }
        }
    });
    rx
}

fn keys(batch: &[InputChange]) -> Vec<String> {
    let mut out: Vec<String> = batch
        .iter()
        .map(|c| match c {
            InputChange::Apply(i) => format!("apply {:?}", i.key()),
            InputChange::Delete(k) => format!("delete {k:?}"),
        })
        .collect();
    out.sort();
    out
}

#[test]
fn changes_under_the_directories_come_as_the_objects_they_changed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, group("sg-0a", 80)).unwrap();
    let reports = follow(ManifestFiles::new(vec![dir.path().to_path_buf()]).unwrap());
    let wait = || reports.recv_timeout(Duration::from_secs(10)).expect("a report");

    let first = wait();
    assert!(first.iter().any(|c| matches!(c, InputChange::Apply(Input::Group(g)) if g.id.as_str() == "sg-0a")));
    assert!(first.iter().any(|c| matches!(c, InputChange::Apply(Input::Settings(_)))), "everything, settings too");

    replace(&a, &group("sg-0a", 443));
    let edited = wait();
    assert_eq!(keys(&edited), ["apply Group(SgId(\"sg-0a\"))"]);

    std::fs::create_dir(dir.path().join("more")).unwrap();
    // The new directory is watched once seen; a file written into it at
    // once may come with it or in the next report.
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(dir.path().join("more/b.yaml"), group("sg-0b", 22)).unwrap();
    let mut added = wait();
    if added.is_empty() || !keys(&added).iter().any(|k| k.contains("sg-0b")) {
        added = wait();
    }
    assert_eq!(keys(&added), ["apply Group(SgId(\"sg-0b\"))"]);

    // A write that changes no object: no report.
    replace(&a, &group("sg-0a", 443));
    assert!(reports.recv_timeout(Duration::from_millis(500)).is_err(), "nothing changed");

    std::fs::remove_file(&a).unwrap();
    let deleted = wait();
    assert_eq!(deleted, [InputChange::Delete(InputKey::Group(podsg_model::group::SgId::parse("sg-0a").unwrap()))]);
}
