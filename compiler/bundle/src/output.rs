//! Plans the whole output folder (archives or host trees, the bundle's own files,
//! `SHA256SUMS`), writes it into a temporary folder beside the target, and swaps it into place
//! only when complete. Any failure leaves the previous output byte-identical and removes the
//! temporary folder (and any parent folders this call created).

use crate::archive::host_archive;
use crate::error::BundleError;
use crate::layout::{plan_tree, validate_node_name, EntryKind};
use crate::Format;
use hac_model::Bundle;
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
) -> Result<(), BundleError> {
    if epoch < 0 {
        return Err(BundleError::InvalidEpoch(epoch));
    }
    let entries = plan_output(bundle, format, epoch)?;
    let (parent, name) = split_target(out_dir)?;
    let replaces_previous = check_replaceable(out_dir)?;
    let created_parents = create_parents(&parent)?;
    let result = write_and_swap(&entries, out_dir, &parent, &name, replaces_previous);
    if result.is_err() {
        for created in created_parents.iter().rev() {
            let _ = fs::remove_dir(created);
        }
    }
    result
}

/// Every file and folder of the output, sorted by path, `SHA256SUMS` included.
fn plan_output(
    bundle: &Bundle,
    format: Format,
    epoch: i64,
) -> Result<Vec<OutputEntry<'_>>, BundleError> {
    let bundle_owner = "bundle files";
    let top = plan_tree(bundle_owner, &bundle.files)?;
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
                owner: bundle_owner.to_string(),
                path: path.to_string(),
                other: owner.to_string(),
            });
        }
        if let Some(ancestor) = crate::layout::ancestors(path).find(|a| top_files.contains(a)) {
            return Err(BundleError::PathCollision {
                owner: bundle_owner.to_string(),
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
                let root = format!("hosts/{node}");
                let owner = format!("the files of node {node}");
                if top_files.contains(root.as_str()) || top_dirs.contains_key(root.as_str()) {
                    return Err(BundleError::PathCollision {
                        owner: bundle_owner.to_string(),
                        path: root,
                        other: owner,
                    });
                }
                let prefix = format!("{root}/");
                let first_inside = top_files.range(prefix.as_str()..).next();
                if let Some(inside) = first_inside.filter(|p| p.starts_with(&prefix)) {
                    return Err(BundleError::PathCollision {
                        owner: bundle_owner.to_string(),
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
            }
        }
    }
    if bundle.hosts.is_empty() {
        // Nothing reserved under hosts/: the bundle's own files may use it freely.
    } else if top_files.contains("hosts") {
        return Err(BundleError::PathCollision {
            owner: bundle_owner.to_string(),
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
    let refuse = |reason| BundleError::RefuseReplace {
        path: out_dir.to_path_buf(),
        reason,
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
/// with a `SHA256SUMS` (a previous output) is replaced: never a file, a link or someone's home.
fn check_replaceable(out_dir: &Path) -> Result<bool, BundleError> {
    let refuse = |reason| BundleError::RefuseReplace {
        path: out_dir.to_path_buf(),
        reason,
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
    let mut listing = fs::read_dir(out_dir).map_err(|e| BundleError::io("list", out_dir, e))?;
    let is_empty = listing.next().is_none();
    if is_empty || out_dir.join(SUMS_FILE).is_file() {
        Ok(true)
    } else {
        Err(refuse(
            "it is a folder that is neither empty nor a previous output (it has no SHA256SUMS)",
        ))
    }
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
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.hac-tmp-"))
        .tempdir_in(parent)
        .map_err(|e| BundleError::io("create a temporary folder in", parent, e))?
        .keep();
    let mut temp_guard = RemoveOnDrop(Some(temp.clone()));
    write_entries(&temp, entries)?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(FOLDER_MODE))
        .map_err(|e| BundleError::io("set the mode of", &temp, e))?;

    if !replaces_previous {
        fs::rename(&temp, out_dir)
            .map_err(|e| BundleError::io("move the new output into place at", out_dir, e))?;
        temp_guard.0 = None;
        return Ok(());
    }
    if exchange(&temp, out_dir).is_ok() {
        // `temp` now holds the previous output; the guard removes it.
        drop(temp_guard);
        return Ok(());
    }
    // No atomic exchange here (not Linux, or a filesystem without it).
    replace_by_renames(&temp, out_dir, parent, name)?;
    temp_guard.0 = None;
    Ok(())
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
        .prefix(&format!(".{name}.hac-old-"))
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
