//! Manifest files and directories (lab mode), watched with inotify: when
//! something under them changes, they are read again and the source
//! reports the objects that came, changed or went since the last read.
//! Directories are watched, not files, so that an editor's or `mv`'s
//! replace-by-rename is seen; a burst of events is read as one change.

use super::Source;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use podsg_model::world::{InputChange, Snapshot, diff};
use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a burst of writes may last: its events are read as one change.
const SETTLE: Duration = Duration::from_millis(20);

pub struct ManifestFiles {
    paths: Vec<PathBuf>,
    inotify: Inotify,
    watched: BTreeSet<PathBuf>,
    /// What the last read gave (`None` before the first).
    last: Option<Snapshot>,
}

impl ManifestFiles {
    pub fn new(paths: Vec<PathBuf>) -> std::io::Result<ManifestFiles> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).map_err(std::io::Error::from)?;
        let mut files = ManifestFiles { paths, inotify, watched: BTreeSet::new(), last: None };
        files.watch_directories();
        Ok(files)
    }

    /// Watches every directory given, every directory under them, and the
    /// directory of every file given (again after each read: directories
    /// come and go).
    fn watch_directories(&mut self) {
        let mut dirs = Vec::new();
        for path in &self.paths {
            if path.is_dir() {
                directories(path, &mut dirs, 0);
            } else if let Some(parent) = path.parent() {
                dirs.push(if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() });
            }
        }
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_MOVE_SELF;
        for dir in dirs {
            if !self.watched.contains(&dir) {
                match self.inotify.add_watch(&dir, flags) {
                    Ok(_) => {
                        self.watched.insert(dir);
                    }
                    Err(e) => eprintln!("podsg-agent: cannot watch {}: {e}", dir.display()),
                }
            }
        }
    }

    /// Reads the manifests; reports what cannot be used.
    fn read(&self) -> Snapshot {
        let loaded = podsg_manifests::load_lenient(&self.paths);
        for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            eprintln!("podsg-agent: desired state: {d}");
        }
        loaded.catalog.inputs()
    }

    /// Waits for an event; then for the burst to end.
    fn wait(&mut self) -> std::io::Result<()> {
        let mut waited_for_one = false;
        loop {
            let timeout = if waited_for_one { PollTimeout::from(SETTLE.as_millis() as u16) } else { PollTimeout::NONE };
            let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
            loop {
                match self.inotify.read_events() {
                    Ok(events) if !events.is_empty() => waited_for_one = true,
                    Ok(_) | Err(nix::errno::Errno::EAGAIN) => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

impl Source for ManifestFiles {
    fn next(&mut self) -> Option<Vec<InputChange>> {
        loop {
            let Some(last) = self.last.take() else {
                let now = self.read();
                let all: Vec<InputChange> = now.values().cloned().map(InputChange::Apply).collect();
                self.last = Some(now);
                return Some(all);
            };
            if let Err(e) = self.wait() {
                eprintln!("podsg-agent: watching the manifests failed: {e}");
                self.last = Some(last);
                return None;
            }
            self.watch_directories();
            let reading = std::time::Instant::now();
            let now = self.read();
            let changes = diff(&last, &now);
            eprintln!(
                "podsg-agent: manifests read again in {} ms: {} objects changed",
                reading.elapsed().as_millis(),
                changes.len()
            );
            self.last = Some(now);
            if !changes.is_empty() {
                return Some(changes);
            }
        }
    }
}

/// `dir` and the directories under it (hidden ones skipped, as the
/// manifest reader skips them), to a sane depth.
fn directories(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    out.push(dir.to_path_buf());
    if depth >= 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.file_type().is_ok_and(|t| t.is_dir()) {
            directories(&entry.path(), out, depth + 1);
        }
    }
}
