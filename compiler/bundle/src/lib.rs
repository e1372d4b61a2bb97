//! Writes a rendered bundle to disk — reproducible `hosts/<node>.tar.gz` archives or a plain
//! tree, the files beside them and `SHA256SUMS` — into a temporary folder that replaces the
//! output folder only when complete. Also reads archives and trees back for `hac inspect` and
//! compares two bundles for `hac diff`. This is the only module that writes to the filesystem.
//!
//! Conventions the writer relies on (see `layout`):
//! - an artifact path is relative (`etc/kubernetes/pki/ca.crt`), without `.`/`..`/empty
//!   components; a path ending in `/` (with empty contents) declares a directory and its mode
//!   (e.g. `var/lib/etcd/` 0700), otherwise directories are implied with mode 0755
//!   (`var/lib/etcd` 0700);
//! - modes are permission bits only (at most `0o7777`).

mod archive;
pub mod diff;
mod error;
mod inspect;
mod layout;
mod output;
pub mod read;
mod signals;

pub use archive::{host_archive, GZIP_LEVEL};
pub use diff::{compare, BundleDiff};
pub use error::{BundleCode, BundleError};
use hac_model::Bundle;
pub use inspect::inspect;
pub use output::{WriteOptions, MARKER_FILE};
pub use read::{read_bundle, BundleContents};
use std::path::Path;

/// How host files are written: one reproducible archive per node, or plain folders (the form
/// committed under `out-examples/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `hosts/<node>.tar.gz`
    Tar,
    /// `hosts/<node>/<path>`
    Tree,
}

/// Writes `bundle` to `out_dir`, replacing a previous output only once the new one is complete
/// (nothing changes on disk when this fails). `epoch` is the mtime of every archived entry
/// (seconds since 1970, not negative).
///
/// Writes `hosts/<node>.tar.gz` (mode 0600: archives hold keys) or `hosts/<node>/…` with each
/// artifact's mode, `Bundle.files` with theirs, `SHA256SUMS` (0644) and the marker
/// `.hac-output` (0644, not in `SHA256SUMS`). Everything is first written to
/// `.<name>.hac-tmp-<pid>-*` (mode 0700) beside `out_dir`, then swapped in (Linux
/// `renameat2(RENAME_EXCHANGE)`, else two renames). An existing `out_dir` is replaced only if it
/// is an empty folder or a previous output (it has the `.hac-output` marker), and never when it
/// holds a protected file: never a file, a symbolic link or an unrelated folder. Missing parent
/// folders are created (and removed again on failure). Temporary folders of dead processes
/// beside `out_dir` are removed; SIGINT/SIGTERM/SIGHUP during the write remove the temporary
/// folder before the process ends.
pub fn write(
    bundle: &Bundle,
    out_dir: &Path,
    format: Format,
    epoch: i64,
) -> Result<(), BundleError> {
    output::write(bundle, out_dir, format, epoch, &WriteOptions::default())
}

/// [`write`], naming the cluster in the marker and never replacing a folder that holds one of
/// `options.protected`.
pub fn write_with(
    bundle: &Bundle,
    out_dir: &Path,
    format: Format,
    epoch: i64,
    options: &WriteOptions<'_>,
) -> Result<(), BundleError> {
    output::write(bundle, out_dir, format, epoch, options)
}

/// `hac diff`: reads the bundles at `old` and `new` (archives or trees, in any mix) and says
/// what changed between them.
pub fn diff(old: &Path, new: &Path) -> Result<BundleDiff, BundleError> {
    let a = read_bundle(old)?;
    let b = read_bundle(new)?;
    Ok(compare(&a, &b))
}
