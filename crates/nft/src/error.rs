#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("nft failed ({command}): {stderr}")]
    Nft { command: String, stderr: String },
    #[error("could not run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("unexpected nft JSON: {0}")]
    Json(String),
    #[error("nf_tables netlink: {0}")]
    Netlink(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
