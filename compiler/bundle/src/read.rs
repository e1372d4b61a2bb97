//! Reads a built bundle back into memory for `hac diff`: every host's files (from
//! `hosts/<node>.tar.gz` archives or `hosts/<node>/` folders, in any mix) with mode and bytes,
//! and the bundle-level files beside them (`cloud-init/`, `ansible/`, `report.txt`,
//! `SHA256SUMS`, …). Directories are not recorded (only files carry content), nor the
//! `.hac-output` marker. Sizes are bounded, so a hostile or truncated input gives an error,
//! never an abort.

use crate::error::BundleError;
use crate::inspect::{is_gzip, is_tar};
use crate::output::{MARKER_FILE, SUMS_FILE};
use flate2::read::GzDecoder;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The largest file (in a folder or an archive) that is read.
const FILE_LIMIT: u64 = 64 * 1024 * 1024;
/// The most bytes read from one bundle, all files and unpacked archives together.
const TOTAL_LIMIT: u64 = 1024 * 1024 * 1024;

/// One file: its permission bits and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub contents: Vec<u8>,
}

impl Entry {
    /// Readable only by its owner (no group or other read bit): its contents, even a digest of
    /// them, are never shown.
    pub fn is_private(&self) -> bool {
        self.mode & 0o044 == 0
    }
}

/// A bundle as read from disk: host name → (path relative to the host's `/` → file), and
/// the bundle-level files by path relative to the bundle's root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleContents {
    pub hosts: BTreeMap<String, BTreeMap<String, Entry>>,
    pub files: BTreeMap<String, Entry>,
    /// The hosts read from an archive (`hosts/<node>.tar.gz`) rather than a folder.
    pub archived: BTreeSet<String>,
}

/// Reads the bundle at `root` (a folder `hac build` wrote, with `--format tar` or `tree`).
pub fn read_bundle(root: &Path) -> Result<BundleContents, BundleError> {
    let not_a_bundle = |reason: String| BundleError::NotABundle {
        path: root.to_path_buf(),
        reason,
    };
    let metadata = fs::symlink_metadata(root).map_err(|e| BundleError::io("read", root, e))?;
    if !metadata.is_dir() {
        return Err(not_a_bundle(
            "not a bundle of `hac build`: it is not a folder".to_string(),
        ));
    }
    let hosts_dir = root.join("hosts");
    if !root.join(SUMS_FILE).is_file() && !hosts_dir.is_dir() {
        return Err(not_a_bundle(
            "not a bundle of `hac build`: it has neither SHA256SUMS nor a hosts/ folder"
                .to_string(),
        ));
    }
    let mut budget = TOTAL_LIMIT;
    let mut bundle = BundleContents::default();
    if hosts_dir.is_dir() {
        for (name, path) in sorted_children(&hosts_dir)? {
            let metadata =
                fs::symlink_metadata(&path).map_err(|e| BundleError::io("read", &path, e))?;
            if metadata.is_dir() {
                let mut files = BTreeMap::new();
                read_tree(&path, "", &mut files, &mut budget)?;
                bundle.hosts.insert(name, files);
            } else if let Some(node) = name.strip_suffix(".tar.gz") {
                let bytes = read_file(&path, &mut budget)?;
                let files = read_archive(&bytes, &mut budget).map_err(|reason| {
                    BundleError::NotABundle {
                        path: path.clone(),
                        reason,
                    }
                })?;
                bundle.hosts.insert(node.to_string(), files);
                bundle.archived.insert(node.to_string());
            } else {
                return Err(not_a_bundle(format!(
                    "not a bundle of `hac build`: hosts/{} is neither a host's folder nor a .tar.gz archive",
                    hac_core::input::escape_name(&name)
                )));
            }
        }
    }
    for (name, path) in sorted_children(root)? {
        if name == "hosts" || name == MARKER_FILE {
            continue;
        }
        let metadata =
            fs::symlink_metadata(&path).map_err(|e| BundleError::io("read", &path, e))?;
        if metadata.is_dir() {
            read_tree(&path, &format!("{name}/"), &mut bundle.files, &mut budget)?;
        } else {
            bundle.files.insert(name, read_entry(&path, &mut budget)?);
        }
    }
    Ok(bundle)
}

/// The children of `dir` (name, path), sorted by name.
fn sorted_children(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, BundleError> {
    let mut children = Vec::new();
    for child in fs::read_dir(dir).map_err(|e| BundleError::io("list", dir, e))? {
        let child = child.map_err(|e| BundleError::io("list", dir, e))?;
        children.push((
            child.file_name().to_string_lossy().into_owned(),
            child.path(),
        ));
    }
    children.sort();
    Ok(children)
}

/// Every file under `dir`, keyed `prefix` + its relative path.
fn read_tree(
    dir: &Path,
    prefix: &str,
    out: &mut BTreeMap<String, Entry>,
    budget: &mut u64,
) -> Result<(), BundleError> {
    for (name, path) in sorted_children(dir)? {
        let metadata =
            fs::symlink_metadata(&path).map_err(|e| BundleError::io("read", &path, e))?;
        let key = format!("{prefix}{name}");
        if metadata.is_dir() {
            read_tree(&path, &format!("{key}/"), out, budget)?;
        } else {
            out.insert(key, read_entry(&path, budget)?);
        }
    }
    Ok(())
}

/// A file (its mode and bytes), or a symbolic link or special file described in words (a
/// bundle holds none; the description makes the difference visible without following it).
fn read_entry(path: &Path, budget: &mut u64) -> Result<Entry, BundleError> {
    let metadata = fs::symlink_metadata(path).map_err(|e| BundleError::io("read", path, e))?;
    let mode = metadata.permissions().mode() & 0o7777;
    if metadata.file_type().is_symlink() {
        let target = fs::read_link(path).map_err(|e| BundleError::io("read", path, e))?;
        return Ok(Entry {
            mode: 0o644,
            contents: format!("symbolic link to {}\n", target.display()).into_bytes(),
        });
    }
    if !metadata.is_file() {
        return Ok(Entry {
            mode: 0o644,
            contents: b"special file (not a regular file)\n".to_vec(),
        });
    }
    Ok(Entry {
        mode,
        contents: read_file(path, budget)?,
    })
}

fn read_file(path: &Path, budget: &mut u64) -> Result<Vec<u8>, BundleError> {
    let file = fs::File::open(path).map_err(|e| BundleError::io("open", path, e))?;
    let limit = FILE_LIMIT.min(*budget);
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::io("read", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(BundleError::NotABundle {
            path: path.to_path_buf(),
            reason: format!("it is larger than the {} MiB hac diff reads", limit >> 20),
        });
    }
    *budget -= bytes.len() as u64;
    Ok(bytes)
}

/// The regular files of a `.tar.gz` (or plain `.tar`); the error is a reason for the reader.
fn read_archive(bytes: &[u8], budget: &mut u64) -> Result<BTreeMap<String, Entry>, String> {
    if is_gzip(bytes) {
        read_tar(GzDecoder::new(bytes), budget)
    } else if is_tar(bytes) {
        read_tar(bytes, budget)
    } else {
        Err("it is not a gzip or tar archive".to_string())
    }
}

fn read_tar(reader: impl Read, budget: &mut u64) -> Result<BTreeMap<String, Entry>, String> {
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a readable tar archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("truncated or corrupt archive: {e}"))?;
        let header = entry.header();
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let kind = header.entry_type();
        let path = entry
            .path()
            .map_err(|e| format!("an entry has an unreadable path: {e}"))?
            .display()
            .to_string();
        let path = path.trim_start_matches("./").to_string();
        if kind.is_dir() {
            continue;
        }
        let contents = if kind.is_file() {
            let limit = FILE_LIMIT.min(*budget);
            let mut contents = Vec::new();
            (&mut entry)
                .take(limit + 1)
                .read_to_end(&mut contents)
                .map_err(|e| format!("truncated or corrupt archive: cannot read {path}: {e}"))?;
            if contents.len() as u64 > limit {
                return Err(format!(
                    "{path} is larger than the {} MiB hac diff reads",
                    limit >> 20
                ));
            }
            *budget -= contents.len() as u64;
            contents
        } else {
            format!("{kind:?} entry (not a regular file)\n").into_bytes()
        };
        files.insert(path, Entry { mode, contents });
    }
    // Read to the end, so that a gzip stream cut short (its checksum missing) is an error.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink())
        .map_err(|e| format!("truncated or corrupt archive: {e}"))?;
    Ok(files)
}
