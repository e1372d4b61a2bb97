//! `etc/hac/manifest.json`: a node's roles and every file of its archive with mode and sha256
//! (of the uncompressed bytes; none for files readable only by their owner, which hold
//! secrets). It describes this node alone: nothing in it depends on the other nodes, so adding
//! a node leaves every other node's manifest byte-identical (a review diff shows only what
//! changed). What ties the whole bundle together is `SHA256SUMS` at the bundle's root.

use crate::encoding::sha256_hex;
use hac_model::Artifact;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub cluster: String,
    pub node: String,
    pub roles: Vec<&'static str>,
    pub files: Vec<ManifestFile>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ManifestFile {
    pub path: String,
    pub mode: String,
    /// `None` (the key is left out) for a file only its owner may read (no group/other bits,
    /// e.g. 0600): the manifest is world-readable, and the digest of a mostly predictable file
    /// such as `keepalived.conf` would let anyone test guesses of the password it protects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The manifest's entries for `files` (already sorted by path).
pub fn entries(files: &[Artifact]) -> Vec<ManifestFile> {
    files
        .iter()
        .map(|f| ManifestFile {
            path: f.path.clone(),
            mode: format!("{:04o}", f.mode & 0o7777),
            sha256: (f.mode & 0o044 != 0).then(|| sha256_hex(&f.contents)),
        })
        .collect()
}
