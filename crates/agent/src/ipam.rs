//! Pod addresses from one of the node's pod ranges (IPv4 or IPv6). One file
//! per address, named by the address and holding its owner, created by an
//! atomic hard link, under an exclusive lock on the directory: safe against
//! concurrent callers and against crashes (an address is either wholly
//! taken or free).

use ipnet::IpNet;
use nix::fcntl::{Flock, FlockArg};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    #[error("no free address in {0}")]
    Exhausted(IpNet),
    #[error("{address} is taken by {owner}")]
    Taken { address: IpAddr, owner: String },
    #[error("{address} cannot be a pod's address: {why}")]
    Unusable { address: IpAddr, why: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IpamError + '_ {
    move |source| IpamError::Io { path: path.display().to_string(), source }
}

pub struct Allocator {
    dir: PathBuf,
    range: IpNet,
    /// Addresses never handed out (e.g. the node's own).
    reserved: Vec<IpAddr>,
    /// What the directory holds, read once and kept as written: a request
    /// costs the same however many pods the node has. The directory stays
    /// the truth between processes: an address is taken by a hard link,
    /// which fails if another process took it first.
    taken: BTreeMap<IpAddr, String>,
}

impl Allocator {
    pub fn new(
        dir: impl Into<PathBuf>,
        range: impl Into<IpNet>,
        reserved: Vec<IpAddr>,
    ) -> Result<Allocator, IpamError> {
        let range = range.into();
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut allocator = Allocator { dir, range, reserved, taken: BTreeMap::new() };
        allocator.taken = allocator.read()?;
        Ok(allocator)
    }

    pub fn is_ipv4(&self) -> bool {
        self.range.addr().is_ipv4()
    }

    fn lock(&self) -> Result<Flock<File>, IpamError> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| IpamError::Io { path: path.display().to_string(), source: e.into() })
    }

    /// Every address the directory holds, with its owner.
    fn read(&self) -> Result<BTreeMap<IpAddr, String>, IpamError> {
        let mut out = BTreeMap::new();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let Some(address) = entry.file_name().to_str().and_then(|n| n.parse::<IpAddr>().ok()) else { continue };
            let owner = fs::read_to_string(entry.path()).map_err(io(&entry.path()))?;
            out.insert(address, owner);
        }
        Ok(out)
    }

    /// Every address taken, with its owner.
    pub fn list(&self) -> Result<Vec<(IpAddr, String)>, IpamError> {
        Ok(self.taken.iter().map(|(a, o)| (*a, o.clone())).collect())
    }

    fn held_by<'a>(&'a self, owner: &'a str) -> impl Iterator<Item = IpAddr> + 'a {
        self.taken.iter().filter(move |(_, o)| *o == owner).map(|(a, _)| *a)
    }

    /// A file holding the owner, on disk, to be hard-linked to an address's
    /// name: the address is then wholly taken or not at all.
    fn stage(&self, owner: &str) -> Result<PathBuf, IpamError> {
        let staged = self.dir.join(format!(".staged-{}", std::process::id()));
        let mut f = File::create(&staged).map_err(io(&staged))?;
        f.write_all(owner.as_bytes()).map_err(io(&staged))?;
        f.sync_all().map_err(io(&staged))?;
        Ok(staged)
    }

    /// The owner's address: the one it has, or the first free one.
    pub fn allocate(&mut self, owner: &str) -> Result<IpAddr, IpamError> {
        let _lock = self.lock()?;
        if let Some(address) = self.held_by(owner).next() {
            return Ok(address);
        }
        let staged = self.stage(owner)?;
        let network = self.range.network();
        // IPv4's broadcast; IPv6 has none, and its last address is kept out too.
        let broadcast = self.range.broadcast();
        let mut result = Err(IpamError::Exhausted(self.range));
        for a in self.range.hosts() {
            if a == network || a == broadcast || self.reserved.contains(&a) || self.taken.contains_key(&a) {
                continue;
            }
            if fs::hard_link(&staged, self.dir.join(a.to_string())).is_ok() {
                self.taken.insert(a, owner.to_string());
                result = Ok(a);
                break;
            }
            // Another process took it: its file says whose.
            let other = fs::read_to_string(self.dir.join(a.to_string())).unwrap_or_default();
            self.taken.insert(a, other);
        }
        let _ = fs::remove_file(&staged);
        result
    }

    /// Gives the owner exactly `address` (a pod whose address is already
    /// decided). It may lie outside the node's range: the cluster routes it.
    pub fn claim(&mut self, owner: &str, address: IpAddr) -> Result<IpAddr, IpamError> {
        let unusable = |why: &str| Err(IpamError::Unusable { address, why: why.to_string() });
        if self.reserved.contains(&address) {
            return unusable("it is reserved (the node's own address)");
        }
        let broadcast = matches!(address, IpAddr::V4(a) if a.is_broadcast());
        let link_local = match address {
            IpAddr::V4(a) => a.is_link_local(),
            IpAddr::V6(a) => a.is_unicast_link_local(),
        };
        if address.is_unspecified() || broadcast || address.is_multicast() || address.is_loopback() || link_local {
            return unusable("not a routable unicast address");
        }
        if address.is_ipv4() != self.range.addr().is_ipv4() {
            return unusable(&format!("not of the family of this allocator's range {}", self.range));
        }
        if self.range.contains(&address) && (address == self.range.network() || address == self.range.broadcast()) {
            return unusable(&format!("the network or broadcast address of the node's range {}", self.range));
        }
        let _lock = self.lock()?;
        match self.taken.get(&address) {
            Some(o) if o == owner => return Ok(address),
            Some(o) => return Err(IpamError::Taken { address, owner: o.clone() }),
            None => {}
        }
        if let Some(a) = self.held_by(owner).next() {
            return Err(IpamError::Taken { address: a, owner: format!("{owner} already (it asks for {address})") });
        }
        let path = self.dir.join(address.to_string());
        let staged = self.stage(owner)?;
        let linked = fs::hard_link(&staged, &path);
        let _ = fs::remove_file(&staged);
        linked.map_err(io(&path))?;
        self.taken.insert(address, owner.to_string());
        Ok(address)
    }

    /// Frees every address the owner holds; nothing held is fine.
    pub fn release(&mut self, owner: &str) -> Result<Vec<IpAddr>, IpamError> {
        let _lock = self.lock()?;
        let freed: Vec<IpAddr> = self.held_by(owner).collect();
        for address in &freed {
            let path = self.dir.join(address.to_string());
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(IpamError::Io { path: path.display().to_string(), source: e });
                }
                _ => {}
            }
            self.taken.remove(address);
        }
        Ok(freed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_reuses_and_frees() {
        let dir = tempfile::tempdir().unwrap();
        let mut ipam =
            Allocator::new(dir.path(), "10.1.0.0/29".parse::<IpNet>().unwrap(), vec!["10.1.0.1".parse().unwrap()])
                .unwrap();
        let a = ipam.allocate("c1/eth0").unwrap();
        assert_eq!(a.to_string(), "10.1.0.2", "network and reserved addresses are skipped");
        assert_eq!(ipam.allocate("c1/eth0").unwrap(), a, "the same owner gets the same address");
        let all: Vec<IpAddr> = (2..6).map(|i| ipam.allocate(&format!("c{i}/eth0")).unwrap()).collect();
        assert_eq!(all.last().unwrap().to_string(), "10.1.0.6");
        assert!(matches!(ipam.allocate("c9/eth0"), Err(IpamError::Exhausted(_))), "broadcast is not handed out");
        assert_eq!(ipam.release("c1/eth0").unwrap(), vec![a]);
        assert_eq!(ipam.release("c1/eth0").unwrap(), Vec::<IpAddr>::new(), "release is idempotent");
        assert_eq!(ipam.allocate("c9/eth0").unwrap(), a);
        assert_eq!(ipam.list().unwrap().len(), 5);
    }

    #[test]
    fn claims_exactly_the_address_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let node: IpAddr = "10.1.0.1".parse().unwrap();
        let mut ipam = Allocator::new(dir.path(), "10.1.0.0/24".parse::<IpNet>().unwrap(), vec![node]).unwrap();
        let wanted: IpAddr = "10.244.5.2".parse().unwrap();
        assert_eq!(ipam.claim("a/eth0", wanted).unwrap(), wanted, "outside the range is fine: it is routed");
        assert_eq!(ipam.claim("a/eth0", wanted).unwrap(), wanted, "claiming again is idempotent");
        assert!(matches!(ipam.claim("b/eth0", wanted), Err(IpamError::Taken { .. })));
        assert!(matches!(ipam.claim("a/eth0", "10.244.5.3".parse().unwrap()), Err(IpamError::Taken { .. })));
        for bad in ["10.1.0.1", "10.1.0.0", "10.1.0.255", "0.0.0.0", "224.0.0.1", "127.0.0.1", "169.254.1.1", "fd00::5"]
        {
            let e = ipam.claim("c/eth0", bad.parse().unwrap()).unwrap_err();
            assert!(matches!(e, IpamError::Unusable { .. }), "{bad}: {e}");
        }
        let next = ipam.allocate("d/eth0").unwrap();
        assert_eq!(next.to_string(), "10.1.0.2", "claims outside the range leave it alone");
        assert_eq!(ipam.release("a/eth0").unwrap(), vec![wanted]);
    }

    #[test]
    fn an_ipv6_range_hands_out_its_addresses_the_same_way() {
        let dir = tempfile::tempdir().unwrap();
        let node: IpAddr = "fd00:10:244:1::1".parse().unwrap();
        let mut ipam = Allocator::new(dir.path(), "fd00:10:244:1::/64".parse::<IpNet>().unwrap(), vec![node]).unwrap();
        assert_eq!(
            ipam.allocate("a/eth0").unwrap().to_string(),
            "fd00:10:244:1::2",
            "the router anycast and the node's are skipped"
        );
        assert_eq!(ipam.allocate("b/eth0").unwrap().to_string(), "fd00:10:244:1::3");
        let e = ipam.claim("c/eth0", "10.1.0.5".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("not of the family"), "{e}");
        for bad in ["fe80::1", "ff02::1", "::1", "::"] {
            assert!(matches!(ipam.claim("c/eth0", bad.parse().unwrap()), Err(IpamError::Unusable { .. })), "{bad}");
        }
        assert_eq!(ipam.release("a/eth0").unwrap().len(), 1);
        assert_eq!(ipam.allocate("c/eth0").unwrap().to_string(), "fd00:10:244:1::2");
        let tiny = tempfile::tempdir().unwrap();
        let mut full = Allocator::new(tiny.path(), "fd00::/127".parse::<IpNet>().unwrap(), vec![]).unwrap();
        assert!(
            matches!(full.allocate("x"), Err(IpamError::Exhausted(_))),
            "a /127 has no address left after its two ends"
        );
    }

    #[test]
    fn concurrent_callers_never_share_an_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut ipam = Allocator::new(&path, "10.1.0.0/24".parse::<IpNet>().unwrap(), vec![]).unwrap();
                    (0..20).map(|i| ipam.allocate(&format!("t{t}-{i}")).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<IpAddr> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(n, 160);
    }
}
