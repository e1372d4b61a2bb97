//! Plans the whole output folder (archives or host trees, the bundle's own files,
//! `SHA256SUMS`), writes it into a temporary folder beside the target, and swaps it into place
//! only when complete. Any failure leaves the previous output byte-identical and removes the
//! temporary folder (and any parent folders this call created).

use crate::archive::host_archive;
use crate::error::BundleError;
use crate::layout::{plan_tree, validate_node_name, EntryKind};
use crate::Format;
use hac_model::{Artifact, Bundle};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of each `hosts/<node>.tar.gz`: archives hold private keys.
const ARCHIVE_MODE: u32 = 0o600;
/// Mode of `SHA256SUMS`, of the output folder and of folders no artifact declares.
const PUBLIC_FILE_MODE: u32 = 0o644;
const FOLDER_MODE: u32 = 0o755;
pub(crate) const SUMS_FILE: &str = "SHA256SUMS";

/// One entry of the output folder, relative to it.
struct OutputEntry<'a> {
    path: String,
    mode: u32,
    kind: EntryKind,
    contents: Cow<'a, [u8]>,
}

pub(crate) fn write(
    bundle: &Bundle,
    out_dir: &Path,
    format: Format,
    epoch: i64,
    options: &WriteOptions<'_>,
) -> Result<(), BundleError> {
    if epoch < 0 {
        return Err(BundleError::InvalidEpoch(epoch));
    }
    let mut entries = plan_output(bundle, format, epoch)?;
    entries.push(OutputEntry {
        path: MARKER_FILE.to_string(),
        mode: PUBLIC_FILE_MODE,
        kind: EntryKind::File,
        contents: Cow::Owned(marker_text(options.cluster).into_bytes()),
    });
    let (parent, name) = split_target(out_dir)?;
    let replaces_previous = check_replaceable(out_dir, options.protected)?;
    let created_parents = create_parents(&parent)?;
    remove_stale_temporaries(&parent, &name);
    let guard = crate::signals::Active::enter();
    let result = write_and_swap(&entries, out_dir, &parent, &name, replaces_previous);
    if result.is_err() {
        for created in created_parents.iter().rev() {
            let _ = fs::remove_dir(created);
        }
    }
    // A signal that arrived meanwhile ends the process now that the temporary folder is gone.
    drop(guard);
    result
}

/// How [`write`] guards what it must never replace.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions<'a> {
    /// The cluster's name, recorded in the output's marker file.
    pub cluster: &'a str,
    /// Files the output folder must never hold (the input `.ha`, the secrets file): a folder
    /// that contains one of them is never replaced.
    pub protected: &'a [PathBuf],
}

/// The marker every output holds (not listed in `SHA256SUMS`): only a folder with it (or an
/// empty one) is replaced by a new build.
pub const MARKER_FILE: &str = ".hac-output";

fn marker_text(cluster: &str) -> String {
    let name: String = cluster
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!(
        "# Written by hac: this folder is the build output of a cluster; the next\n\
         # `hac build` replaces it whole. Keep nothing else in it.\ncluster: {name}\n"
    )
}

/// Removes `.<name>.hac-tmp-<pid>-*` and `.<name>.hac-old-<pid>-*` folders beside the output
/// left by a process that no longer runs (killed before it could clean up).
fn remove_stale_temporaries(parent: &Path, name: &str) {
    let Ok(listing) = fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!(".{name}.hac-tmp-"), format!(".{name}.hac-old-")];
    for entry in listing.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let Some(rest) = prefixes
            .iter()
            .find_map(|p| file_name.strip_prefix(p.as_str()))
        else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(process_is_alive) {
            continue;
        }
        let path = entry.path();
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            remove_tree(&path);
        }
    }
}

fn process_is_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Every file and folder of the output, sorted by path, `SHA256SUMS` included.
fn plan_output(
    bundle: &Bundle,
    format: Format,
    epoch: i64,
) -> Result<Vec<OutputEntry<'_>>, BundleError> {
    let top = plan_tree(BUNDLE_OWNER, &bundle.files)?;
    let top_files: BTreeSet<&str> = top
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| e.path.as_str())
        .collect();
    let top_dirs: BTreeMap<&str, u32> = top
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .map(|e| (e.path.as_str(), e.mode))
        .collect();
    let reserved_file = |path: &str, owner: &str| -> Result<(), BundleError> {
        if top_files.contains(path) || top_dirs.contains_key(path) {
            return Err(BundleError::PathCollision {
                owner: BUNDLE_OWNER.to_string(),
                path: path.to_string(),
                other: owner.to_string(),
            });
        }
        if let Some(ancestor) = crate::layout::ancestors(path).find(|a| top_files.contains(a)) {
            return Err(BundleError::PathCollision {
                owner: BUNDLE_OWNER.to_string(),
                path: ancestor.to_string(),
                other: path.to_string(),
            });
        }
        Ok(())
    };
    reserved_file(SUMS_FILE, "the SHA256SUMS file")?;

    let mut entries: Vec<OutputEntry<'_>> = Vec::new();
    let mut host_dirs: BTreeMap<String, u32> = BTreeMap::new();
    if !bundle.hosts.is_empty() {
        host_dirs.insert(
            "hosts".to_string(),
            top_dirs.get("hosts").copied().unwrap_or(FOLDER_MODE),
        );
    }
    for (node, artifacts) in &bundle.hosts {
        validate_node_name(node)?;
        match format {
            Format::Tar => {
                let path = format!("hosts/{node}.tar.gz");
                reserved_file(&path, &format!("the archive of node {node}"))?;
                let archive = host_archive(node, artifacts, epoch)?;
                entries.push(OutputEntry {
                    path,
                    mode: ARCHIVE_MODE,
                    kind: EntryKind::File,
                    contents: Cow::Owned(archive),
                });
            }
            Format::Tree => {
                plan_host_tree(
                    node,
                    artifacts,
                    &top_files,
                    &top_dirs,
                    &mut host_dirs,
                    &mut entries,
                )?;
            }
        }
    }
    if bundle.hosts.is_empty() {
        // Nothing reserved under hosts/: the bundle's own files may use it freely.
    } else if top_files.contains("hosts") {
        return Err(BundleError::PathCollision {
            owner: BUNDLE_OWNER.to_string(),
            path: "hosts".to_string(),
            other: "the hosts/ folder".to_string(),
        });
    }
    for entry in top {
        match entry.kind {
            EntryKind::Dir => {
                host_dirs.entry(entry.path).or_insert(entry.mode);
            }
            EntryKind::File => entries.push(OutputEntry {
                path: entry.path,
                mode: entry.mode,
                kind: EntryKind::File,
                contents: Cow::Borrowed(entry.contents),
            }),
        }
    }
    entries.extend(host_dirs.into_iter().map(|(path, mode)| OutputEntry {
        path,
        mode,
        kind: EntryKind::Dir,
        contents: Cow::Borrowed(&[]),
    }));
    entries.sort_by(|a, b| crate::layout::archive_order(&a.path, a.kind, &b.path, b.kind));
    let sums = sha256sums(&entries);
    entries.push(OutputEntry {
        path: SUMS_FILE.to_string(),
        mode: PUBLIC_FILE_MODE,
        kind: EntryKind::File,
        contents: Cow::Owned(sums),
    });
    Ok(entries)
}

/// Whose paths the bundle's own (top-level) files are, in a collision.
const BUNDLE_OWNER: &str = "bundle files";

/// The files and folders of node `node` under `hosts/<node>/` (the tree format), which must
/// not collide with the bundle's own files.
fn plan_host_tree<'a>(
    node: &str,
    artifacts: &'a [Artifact],
    top_files: &BTreeSet<&str>,
    top_dirs: &BTreeMap<&str, u32>,
    host_dirs: &mut BTreeMap<String, u32>,
    entries: &mut Vec<OutputEntry<'a>>,
) -> Result<(), BundleError> {
    let root = format!("hosts/{node}");
    let owner = format!("the files of node {node}");
    if top_files.contains(root.as_str()) || top_dirs.contains_key(root.as_str()) {
        return Err(BundleError::PathCollision {
            owner: BUNDLE_OWNER.to_string(),
            path: root,
            other: owner,
        });
    }
    let prefix = format!("{root}/");
    let first_inside = top_files.range(prefix.as_str()..).next();
    if let Some(inside) = first_inside.filter(|p| p.starts_with(&prefix)) {
        return Err(BundleError::PathCollision {
            owner: BUNDLE_OWNER.to_string(),
            path: inside.to_string(),
            other: owner,
        });
    }
    host_dirs.insert(root, FOLDER_MODE);
    for entry in plan_tree(&format!("node {node}"), artifacts)? {
        let path = format!("{prefix}{}", entry.path);
        match entry.kind {
            EntryKind::Dir => {
                host_dirs.insert(path, entry.mode);
            }
            EntryKind::File => entries.push(OutputEntry {
                path,
                mode: entry.mode,
                kind: EntryKind::File,
                contents: Cow::Borrowed(entry.contents),
            }),
        }
    }
    Ok(())
}

/// `sha256sum` format: `<hex>  <path>` per file, sorted by path (entries are sorted already).
fn sha256sums(entries: &[OutputEntry<'_>]) -> Vec<u8> {
    let mut sums = String::new();
    for entry in entries.iter().filter(|e| e.kind == EntryKind::File) {
        let digest = Sha256::digest(&entry.contents);
        for byte in digest {
            let _ = write!(sums, "{byte:02x}");
        }
        let _ = writeln!(sums, "  {}", entry.path);
    }
    sums.into_bytes()
}

/// The folder that will hold the output and the output's own name.
fn split_target(out_dir: &Path) -> Result<(PathBuf, String), BundleError> {
    let refuse = |reason: &str| BundleError::RefuseReplace {
        path: out_dir.to_path_buf(),
        reason: reason.to_string(),
    };
    let name = match out_dir.file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        None => {
            return Err(refuse(
                "the output path must name a folder (not `/`, `.` or `..`)",
            ))
        }
    };
    let parent = match out_dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Whether a previous output exists (and may be replaced). Only an empty folder or a folder
/// holding hac's marker file is replaced, and never one that holds a protected file (the
/// input `.ha`, the secrets file): never a file, a link, someone's home or a repository.
fn check_replaceable(out_dir: &Path, protected: &[PathBuf]) -> Result<bool, BundleError> {
    let refuse = |reason: &str| BundleError::RefuseReplace {
        path: out_dir.to_path_buf(),
        reason: reason.to_string(),
    };
    let metadata = match fs::symlink_metadata(out_dir) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(BundleError::io("read", out_dir, error)),
    };
    if metadata.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link"));
    }
    if !metadata.is_dir() {
        return Err(refuse("it exists and is not a folder"));
    }
    if let Ok(canonical_out) = fs::canonicalize(out_dir) {
        for file in protected {
            let Ok(canonical) = fs::canonicalize(file) else {
                continue;
            };
            if canonical.starts_with(&canonical_out) {
                return Err(refuse(&format!(
                    "it holds {}, an input of this build; choose another output folder with -o",
                    file.display()
                )));
            }
        }
    }
    let mut listing = fs::read_dir(out_dir).map_err(|e| BundleError::io("list", out_dir, e))?;
    if listing.next().is_none() {
        return Ok(true);
    }
    let marker = fs::symlink_metadata(out_dir.join(MARKER_FILE));
    if marker.is_ok_and(|m| m.is_file()) {
        return Ok(true);
    }
    if fs::symlink_metadata(out_dir.join(SUMS_FILE)).is_ok() {
        return Err(refuse(&format!(
            "it has a SHA256SUMS but no {MARKER_FILE} marker: an output of an older hac, or not \
             hac's at all; if it is an old output, remove the folder yourself and build again"
        )));
    }
    Err(refuse(&format!(
        "it is a folder that is neither empty nor a previous hac output (it has no {MARKER_FILE})"
    )))
}

/// Creates the missing ancestors of the output; returns those created, outermost first.
fn create_parents(parent: &Path) -> Result<Vec<PathBuf>, BundleError> {
    let mut missing = Vec::new();
    let mut cursor = Some(parent);
    while let Some(dir) = cursor {
        if dir.as_os_str().is_empty() || fs::symlink_metadata(dir).is_ok() {
            break;
        }
        missing.push(dir.to_path_buf());
        cursor = dir.parent();
    }
    missing.reverse();
    let mut created = Vec::new();
    for dir in missing {
        match fs::DirBuilder::new().mode(FOLDER_MODE).create(&dir) {
            Ok(()) => created.push(dir),
            Err(error) => {
                for undo in created.iter().rev() {
                    let _ = fs::remove_dir(undo);
                }
                return Err(BundleError::io("create the folder", dir, error));
            }
        }
    }
    Ok(created)
}

/// Removes a folder tree even where a folder's mode forbids it, ignoring failures: used only
/// for temporary folders and for the replaced previous output.
fn remove_tree(path: &Path) {
    fn make_writable(path: &Path) {
        let Ok(metadata) = fs::symlink_metadata(path) else {
            return;
        };
        if metadata.is_dir() {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o700));
            if let Ok(listing) = fs::read_dir(path) {
                for child in listing.flatten() {
                    make_writable(&child.path());
                }
            }
        }
    }
    make_writable(path);
    let _ = fs::remove_dir_all(path);
}

/// Removes the folder it holds when dropped, unless disarmed.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            remove_tree(&path);
        }
    }
}

fn write_and_swap(
    entries: &[OutputEntry<'_>],
    out_dir: &Path,
    parent: &Path,
    name: &str,
    replaces_previous: bool,
) -> Result<(), BundleError> {
    // 0700 while it fills with key material; named with our process id so that a later run
    // can remove it if this process is killed before it cleans up.
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.hac-tmp-{}-", std::process::id()))
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(parent)
        .map_err(|e| BundleError::io("create a temporary folder in", parent, e))?
        .keep();
    let mut temp_guard = RemoveOnDrop(Some(temp.clone()));
    write_entries(&temp, entries)?;
    crate::signals::check()?;

    if !replaces_previous {
        fs::rename(&temp, out_dir)
            .map_err(|e| BundleError::io("move the new output into place at", out_dir, e))?;
        temp_guard.0 = None;
        return open_up(out_dir);
    }
    if exchange(&temp, out_dir).is_ok() {
        // `temp` now holds the previous output; the guard removes it.
        drop(temp_guard);
        return open_up(out_dir);
    }
    // No atomic exchange here (not Linux, or a filesystem without it).
    replace_by_renames(&temp, out_dir, parent, name)?;
    temp_guard.0 = None;
    open_up(out_dir)
}

/// The output folder's final mode, set once it is in place.
fn open_up(out_dir: &Path) -> Result<(), BundleError> {
    fs::set_permissions(out_dir, fs::Permissions::from_mode(FOLDER_MODE))
        .map_err(|e| BundleError::io("set the mode of", out_dir, e))
}

/// Moves the previous output aside, moves `new` into place and removes the previous output;
/// if the new output cannot be moved in, moves the previous one back. The previous output is
/// deleted only once the new one is in place.
fn replace_by_renames(
    new: &Path,
    out_dir: &Path,
    parent: &Path,
    name: &str,
) -> Result<(), BundleError> {
    let aside = tempfile::Builder::new()
        .prefix(&format!(".{name}.hac-old-{}-", std::process::id()))
        .tempdir_in(parent)
        .map_err(|e| BundleError::io("create a temporary folder in", parent, e))?
        .keep();
    // `rename` replaces the empty reserved folder `aside` with the previous output.
    if let Err(error) = fs::rename(out_dir, &aside) {
        let _ = fs::remove_dir(&aside);
        return Err(BundleError::io(
            "move the previous output aside from",
            out_dir,
            error,
        ));
    }
    if let Err(error) = fs::rename(new, out_dir) {
        // Put the previous output back; should even that fail, keep it where it is rather
        // than lose it.
        let _ = fs::rename(&aside, out_dir);
        return Err(BundleError::io(
            "move the new output into place at",
            out_dir,
            error,
        ));
    }
    remove_tree(&aside);
    Ok(())
}

/// Atomically swaps two folders (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Writes every entry under `root`, with exact modes whatever the umask. Folder modes are set
/// last (deepest first), so a folder without write permission can still be filled.
fn write_entries(root: &Path, entries: &[OutputEntry<'_>]) -> Result<(), BundleError> {
    for entry in entries {
        crate::signals::check()?;
        let path = root.join(&entry.path);
        match entry.kind {
            EntryKind::Dir => {
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&path)
                    .map_err(|e| BundleError::io("create the folder", &path, e))?;
            }
            EntryKind::File => {
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| BundleError::io("create", &path, e))?;
                file.write_all(&entry.contents)
                    .map_err(|e| BundleError::io("write", &path, e))?;
                file.set_permissions(fs::Permissions::from_mode(entry.mode))
                    .map_err(|e| BundleError::io("set the mode of", &path, e))?;
            }
        }
    }
    for entry in entries.iter().rev().filter(|e| e.kind == EntryKind::Dir) {
        let path = root.join(&entry.path);
        fs::set_permissions(&path, fs::Permissions::from_mode(entry.mode))
            .map_err(|e| BundleError::io("set the mode of", &path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_by_renames_swaps_and_cleans_up() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let out = scratch.path().join("out");
        let new = scratch.path().join("new");
        fs::create_dir(&out).expect("mkdir");
        fs::write(out.join("SHA256SUMS"), "old").expect("write");
        fs::create_dir(&new).expect("mkdir");
        fs::write(new.join("SHA256SUMS"), "new").expect("write");
        replace_by_renames(&new, &out, scratch.path(), "out").expect("replace");
        assert_eq!(fs::read(out.join("SHA256SUMS")).expect("read"), b"new");
        let left: Vec<_> = fs::read_dir(scratch.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn replace_by_renames_keeps_the_previous_output_when_the_new_one_cannot_move_in() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let out = scratch.path().join("out");
        fs::create_dir(&out).expect("mkdir");
        fs::write(out.join("SHA256SUMS"), "old").expect("write");
        let missing = scratch.path().join("missing");
        assert!(replace_by_renames(&missing, &out, scratch.path(), "out").is_err());
        assert_eq!(fs::read(out.join("SHA256SUMS")).expect("read"), b"old");
        let left: Vec<_> = fs::read_dir(scratch.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn exchange_swaps_two_folders() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let (a, b) = (scratch.path().join("a"), scratch.path().join("b"));
        fs::create_dir(&a).expect("mkdir");
        fs::create_dir(&b).expect("mkdir");
        fs::write(a.join("x"), "from a").expect("write");
        exchange(&a, &b).expect("renameat2 exchange (Linux 3.15+)");
        assert_eq!(fs::read(b.join("x")).expect("read"), b"from a");
        assert!(!a.join("x").exists());
    }
}
