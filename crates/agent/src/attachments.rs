//! The node's attachments (one per pod interface), each a small JSON file
//! written atomically, so that a restarted agent knows what it made.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub ifname: String,
    #[serde(default)]
    pub netns: Option<String>,
    pub pod_namespace: String,
    pub pod_name: String,
    /// The node's end of the pod's interface.
    pub host_interface: String,
    pub addresses: Vec<IpAddr>,
    /// Made by another plugin; podsg only enforces on it.
    pub chained: bool,
}

impl Record {
    /// The owner string of the attachment's addresses.
    pub fn owner(container_id: &str, ifname: &str) -> String {
        format!("{container_id}/{ifname}")
    }

    pub fn pod(&self) -> String {
        format!("Pod/{}/{}", self.pod_namespace, self.pod_name)
    }
}

/// The records on disk, and in memory: read once when the agent starts,
/// then kept as written, so that a CNI request does not read every
/// attachment's file again. The agent is the only writer of the directory.
pub struct Store {
    dir: PathBuf,
    /// By host interface first: the order rule sets are compiled in.
    records: BTreeMap<(String, String, String), Record>,
    /// (container ID, interface name) to the record's key.
    index: HashMap<(String, String), (String, String, String)>,
}

fn key(r: &Record) -> (String, String, String) {
    (r.host_interface.clone(), r.container_id.clone(), r.ifname.clone())
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Store> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        let mut store = Store { dir, records: BTreeMap::new(), index: HashMap::new() };
        for entry in fs::read_dir(&store.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(r) = read(&path)?
            {
                store.keep(r);
            }
        }
        Ok(store)
    }

    fn keep(&mut self, r: Record) {
        self.index.insert((r.container_id.clone(), r.ifname.clone()), key(&r));
        self.records.insert(key(&r), r);
    }

    fn path(&self, container_id: &str, ifname: &str) -> PathBuf {
        self.dir.join(format!("{container_id}_{ifname}.json"))
    }

    pub fn get(&self, container_id: &str, ifname: &str) -> Option<&Record> {
        let key = self.index.get(&(container_id.to_string(), ifname.to_string()))?;
        self.records.get(key)
    }

    /// The records of pod `namespace/name`.
    pub fn of_pod<'a>(&'a self, namespace: &'a str, name: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.records.values().filter(move |r| r.pod_namespace == namespace && r.pod_name == name)
    }

    /// Every record, by host interface.
    pub fn records(&self) -> Vec<&Record> {
        self.records.values().collect()
    }

    /// Every record, by host interface, copied.
    pub fn all(&self) -> Vec<Record> {
        self.records.values().cloned().collect()
    }

    /// Writes the record atomically (temporary file, then rename).
    pub fn save(&mut self, r: &Record) -> std::io::Result<()> {
        let path = self.path(&r.container_id, &r.ifname);
        let staged = path.with_extension("json.tmp");
        fs::write(&staged, serde_json::to_vec_pretty(r).expect("records serialize"))?;
        fs::rename(&staged, &path)?;
        self.forget(&r.container_id, &r.ifname);
        self.keep(r.clone());
        Ok(())
    }

    pub fn remove(&mut self, container_id: &str, ifname: &str) -> std::io::Result<()> {
        match fs::remove_file(self.path(container_id, ifname)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.forget(container_id, ifname);
        Ok(())
    }

    fn forget(&mut self, container_id: &str, ifname: &str) {
        if let Some(key) = self.index.remove(&(container_id.to_string(), ifname.to_string())) {
            self.records.remove(&key);
        }
    }
}

fn read(path: &Path) -> std::io::Result<Option<Record>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
