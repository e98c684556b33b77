#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Manifests(String),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Netns(#[from] podsg_netns::Error),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{0}")]
    Step(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}
