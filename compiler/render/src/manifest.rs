//! `etc/hac/manifest.json`: a node's roles, every file of its archive with mode and sha256
//! (of the uncompressed bytes; none for files readable only by their owner, which hold
//! secrets), and the cluster digest that ties all nodes' files together (it covers the private
//! files too, but mixed with 256-bit keys that no reader can guess, so it reveals nothing).

use crate::encoding::sha256_hex;
use hac_model::Artifact;
use serde::Serialize;
use std::collections::BTreeMap;

/// How the cluster digest is computed, recorded in every manifest so anyone can recompute it.
pub const DIGEST_RULE: &str = "sha256 over the lines '<node> <path> <sha256>\\n' of every node's files except etc/hac/manifest.json, nodes and paths in sorted order";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub cluster: String,
    pub node: String,
    pub roles: Vec<&'static str>,
    pub files: Vec<ManifestFile>,
    pub cluster_digest: String,
    pub cluster_digest_rule: &'static str,
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

/// `sha256:<hex>` of every node's file hashes, per [`DIGEST_RULE`].
pub fn cluster_digest(hosts: &BTreeMap<String, Vec<Artifact>>) -> String {
    let mut lines = String::new();
    for (node, files) in hosts {
        let mut sorted: Vec<&Artifact> = files.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        for f in sorted {
            lines.push_str(&format!("{node} {} {}\n", f.path, sha256_hex(&f.contents)));
        }
    }
    format!("sha256:{}", sha256_hex(lines.as_bytes()))
}
