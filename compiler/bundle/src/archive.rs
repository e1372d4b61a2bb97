//! Builds one node's reproducible `.tar.gz`: GNU tar format, entries sorted by path, every
//! directory listed, mtime = epoch, uid/gid 0 named "root", the artifacts' modes; gzip by
//! miniz_oxide (flate2's pure-Rust backend) called directly, so no Cargo feature unification
//! can swap the compressor, at a pinned level, with no file name, mtime 0 and OS byte 255.
//! The same artifacts and epoch give the same bytes on any machine.

use crate::error::BundleError;
use crate::layout::{plan_tree, EntryKind};
use hac_model::Artifact;

/// The gzip level every archive is compressed with. Changing it changes every archive's bytes.
pub const GZIP_LEVEL: u8 = 9;

/// The gzip member header (RFC 1952): magic, deflate, no flags (so no file name), mtime 0,
/// XFL 2 ("maximum compression", as for level 9), OS 255 ("unknown": the host never shows).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];

/// The `.tar.gz` bytes of node `node` holding `artifacts` (paths relative to the node's `/`).
pub fn host_archive(
    node: &str,
    artifacts: &[Artifact],
    epoch: i64,
) -> Result<Vec<u8>, BundleError> {
    let mtime = u64::try_from(epoch).map_err(|_| BundleError::InvalidEpoch(epoch))?;
    let owner = format!("node {node}");
    let entries = plan_tree(&owner, artifacts)?;
    let archive_name = format!("hosts/{node}.tar.gz");
    let build_error = |source| BundleError::io("build archive", &archive_name, source);

    let mut builder = tar::Builder::new(Vec::new());
    for entry in &entries {
        let mut header = tar::Header::new_gnu();
        let name = match entry.kind {
            EntryKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                format!("{}/", entry.path)
            }
            EntryKind::File => {
                header.set_entry_type(tar::EntryType::Regular);
                entry.path.clone()
            }
        };
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root").map_err(build_error)?;
        header.set_groupname("root").map_err(build_error)?;
        header.set_mtime(mtime);
        header.set_size(entry.contents.len() as u64);
        builder
            .append_data(&mut header, &name, entry.contents)
            .map_err(build_error)?;
    }
    let tar_bytes = builder.into_inner().map_err(build_error)?;

    Ok(gzip(&tar_bytes))
}

/// One gzip member holding `data`, compressed by miniz_oxide at `GZIP_LEVEL`.
fn gzip(data: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, GZIP_LEVEL);
    let mut out = Vec::with_capacity(GZIP_HEADER.len() + deflated.len() + 8);
    out.extend_from_slice(&GZIP_HEADER);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    // ISIZE: the input length modulo 2^32, as RFC 1952 defines it.
    out.extend_from_slice(&((data.len() as u64 & 0xffff_ffff) as u32).to_le_bytes());
    out
}
