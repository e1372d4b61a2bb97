//! Builds one node's reproducible `.tar.gz`: GNU tar format, entries sorted by path, every
//! directory listed, mtime = epoch, uid/gid 0 named "root", the artifacts' modes; compressed
//! by `hac_core::gzip` (miniz_oxide called directly at a pinned level, no file name, mtime 0,
//! OS byte 255).
//! The same artifacts and epoch give the same bytes on any machine.

use crate::error::BundleError;
use crate::layout::{plan_tree, EntryKind};
use hac_model::Artifact;

use hac_core::gzip::gzip;
pub use hac_core::gzip::GZIP_LEVEL;

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
