//! Validates artifact paths, node names and modes, and turns a list of artifacts into the
//! sorted entries of one tree (a node's `/` or the output folder): every file plus every
//! directory, explicit or implied, with its mode. Nothing here touches the disk, so a
//! malformed bundle is refused before anything is written.

use crate::error::BundleError;
use hac_model::Artifact;
use std::collections::BTreeMap;

/// Mode of a directory no artifact declares: 0755, except the etcd data directory, which
/// etcd wants private (`--data-dir /var/lib/etcd`, mode 0700).
pub(crate) fn default_dir_mode(path: &str) -> u32 {
    if path == "var/lib/etcd" {
        0o700
    } else {
        0o755
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    Dir,
    File,
}

/// One entry of a planned tree. `path` never has a trailing `/`.
#[derive(Clone, Debug)]
pub(crate) struct Entry<'a> {
    pub path: String,
    pub mode: u32,
    pub kind: EntryKind,
    pub contents: &'a [u8],
}

/// Checks that `path` is a relative path made of plain components only.
pub(crate) fn validate_relative_path(owner: &str, path: &str) -> Result<(), BundleError> {
    let invalid = |reason: &'static str| BundleError::InvalidPath {
        owner: owner.to_string(),
        path: path.to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if path.starts_with('/') {
        return Err(invalid("the path is absolute; it must be relative"));
    }
    if path
        .chars()
        .any(|c| c == '\0' || c == '\\' || c.is_control())
    {
        return Err(invalid(
            "the path contains a backslash or a control character",
        ));
    }
    for component in path.split('/') {
        match component {
            "" => {
                return Err(invalid(
                    "the path has an empty component (`//` or a trailing `/`)",
                ))
            }
            "." | ".." => return Err(invalid("the path contains a `.` or `..` component")),
            _ => {}
        }
    }
    Ok(())
}

/// Checks that a node name stays one file/folder name directly under `hosts/`.
pub(crate) fn validate_node_name(name: &str) -> Result<(), BundleError> {
    let invalid = |reason: &'static str| BundleError::InvalidNodeName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("the name is empty"));
    }
    if name == "." || name == ".." {
        return Err(invalid("the name is `.` or `..`"));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c == '\0' || c.is_control())
    {
        return Err(invalid(
            "the name contains a slash, a backslash or a control character",
        ));
    }
    Ok(())
}

fn validate_mode(owner: &str, path: &str, mode: u32) -> Result<(), BundleError> {
    if mode & !0o7777 != 0 {
        return Err(BundleError::InvalidMode {
            owner: owner.to_string(),
            path: path.to_string(),
            mode,
        });
    }
    Ok(())
}

/// The ancestors of `path`, nearest last: `a/b/c` → `a`, `a/b`.
pub(crate) fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(move |(index, _)| &path[..index])
}

/// Plans the tree of `artifacts`: validated, collision-free, sorted by path (parents before
/// their children), with every directory listed explicitly.
pub(crate) fn plan_tree<'a>(
    owner: &str,
    artifacts: &'a [Artifact],
) -> Result<Vec<Entry<'a>>, BundleError> {
    let mut files: BTreeMap<&'a str, (u32, &'a [u8])> = BTreeMap::new();
    let mut explicit_dirs: BTreeMap<&'a str, u32> = BTreeMap::new();
    let collision = |path: &str, other: &str| BundleError::PathCollision {
        owner: owner.to_string(),
        path: path.to_string(),
        other: other.to_string(),
    };
    for artifact in artifacts {
        validate_mode(owner, &artifact.path, artifact.mode)?;
        if let Some(dir) = artifact.path.strip_suffix('/') {
            validate_relative_path(owner, dir)?;
            if !artifact.contents.is_empty() {
                return Err(BundleError::InvalidPath {
                    owner: owner.to_string(),
                    path: artifact.path.clone(),
                    reason: "a directory entry (a path ending in `/`) must have no contents",
                });
            }
            if explicit_dirs.insert(dir, artifact.mode).is_some() {
                return Err(collision(&artifact.path, &artifact.path));
            }
        } else {
            validate_relative_path(owner, &artifact.path)?;
            if files
                .insert(&artifact.path, (artifact.mode, &artifact.contents))
                .is_some()
            {
                return Err(collision(&artifact.path, &artifact.path));
            }
        }
    }
    let mut dirs: BTreeMap<&'a str, u32> = explicit_dirs.clone();
    for path in files.keys().chain(explicit_dirs.keys()) {
        for ancestor in ancestors(path) {
            dirs.entry(ancestor)
                .or_insert_with(|| default_dir_mode(ancestor));
        }
    }
    for path in files.keys() {
        if dirs.contains_key(path) {
            let child = files
                .keys()
                .chain(explicit_dirs.keys())
                .find(|other| {
                    other.len() > path.len()
                        && other.starts_with(path)
                        && other.as_bytes()[path.len()] == b'/'
                })
                .copied()
                .unwrap_or(path);
            return Err(collision(path, child));
        }
    }
    let mut entries: Vec<Entry<'a>> = Vec::with_capacity(files.len() + dirs.len());
    entries.extend(dirs.into_iter().map(|(path, mode)| Entry {
        path: path.to_string(),
        mode,
        kind: EntryKind::Dir,
        contents: &[],
    }));
    entries.extend(files.into_iter().map(|(path, (mode, contents))| Entry {
        path: path.to_string(),
        mode,
        kind: EntryKind::File,
        contents,
    }));
    entries.sort_by(|a, b| archive_order(&a.path, a.kind, &b.path, b.kind));
    Ok(entries)
}

/// The order of entries in an archive and on disk: by name as the archive stores it, a
/// directory with its trailing `/` (`etc/kubernetes-x.conf` < `etc/kubernetes/` <
/// `etc/kubernetes/admin.conf`). A directory thus comes right before its contents, and the
/// order is the one `tar -t | sort` shows.
pub(crate) fn archive_order(
    a: &str,
    a_kind: EntryKind,
    b: &str,
    b_kind: EntryKind,
) -> std::cmp::Ordering {
    let slash = |kind| {
        if kind == EntryKind::Dir {
            &b"/"[..]
        } else {
            &b""[..]
        }
    };
    a.as_bytes()
        .iter()
        .chain(slash(a_kind))
        .cmp(b.as_bytes().iter().chain(slash(b_kind)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(entries: &[Entry<'_>]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                format!(
                    "{}{} {:o}",
                    e.path,
                    if e.kind == EntryKind::Dir { "/" } else { "" },
                    e.mode
                )
            })
            .collect()
    }

    #[test]
    fn implied_directories_are_listed_before_their_children() {
        let artifacts = vec![
            Artifact::new("etc/kubernetes/pki/ca.key", 0o600, "k"),
            Artifact::new("etc/kubernetes-x.conf", 0o644, "x"),
            Artifact::new("var/lib/etcd/member/x", 0o600, ""),
        ];
        let entries = plan_tree("node a", &artifacts).expect("valid");
        assert_eq!(
            paths(&entries),
            vec![
                "etc/ 755",
                "etc/kubernetes-x.conf 644",
                "etc/kubernetes/ 755",
                "etc/kubernetes/pki/ 755",
                "etc/kubernetes/pki/ca.key 600",
                "var/ 755",
                "var/lib/ 755",
                "var/lib/etcd/ 700",
                "var/lib/etcd/member/ 755",
                "var/lib/etcd/member/x 600",
            ]
        );
    }

    #[test]
    fn explicit_directory_sets_its_mode() {
        let artifacts = vec![
            Artifact::new("var/lib/etcd/", 0o700, ""),
            Artifact::new("etc/hac/", 0o750, ""),
        ];
        let entries = plan_tree("node a", &artifacts).expect("valid");
        assert_eq!(
            paths(&entries),
            vec![
                "etc/ 755",
                "etc/hac/ 750",
                "var/ 755",
                "var/lib/ 755",
                "var/lib/etcd/ 700"
            ]
        );
    }

    #[test]
    fn bad_paths_are_rejected() {
        for bad in [
            "", "/etc/x", "etc/../x", "../x", "etc//x", "./etc", "etc/x\n", "a\\b", "etc/x//", "/",
        ] {
            let artifacts = vec![Artifact::new(bad, 0o644, "")];
            assert!(plan_tree("node a", &artifacts).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn collisions_are_rejected() {
        let cases = [
            vec![Artifact::new("a", 0o644, ""), Artifact::new("a", 0o600, "")],
            vec![
                Artifact::new("a", 0o644, ""),
                Artifact::new("a/b", 0o600, ""),
            ],
            vec![
                Artifact::new("a", 0o644, ""),
                Artifact::new("a/", 0o700, ""),
            ],
            vec![
                Artifact::new("a/", 0o755, ""),
                Artifact::new("a/", 0o700, ""),
            ],
        ];
        for artifacts in cases {
            let error = plan_tree("node a", &artifacts).expect_err("collision accepted");
            assert!(
                matches!(error, BundleError::PathCollision { .. }),
                "{error}"
            );
        }
    }

    #[test]
    fn modes_beyond_permission_bits_and_dirs_with_contents_are_rejected() {
        assert!(matches!(
            plan_tree("n", &[Artifact::new("a", 0o100644, "")]),
            Err(BundleError::InvalidMode { .. })
        ));
        assert!(matches!(
            plan_tree("n", &[Artifact::new("a/", 0o755, "x")]),
            Err(BundleError::InvalidPath { .. })
        ));
    }

    #[test]
    fn node_names_must_stay_one_component() {
        for bad in ["", ".", "..", "a/b", "../x", "a\\b", "a\0"] {
            assert!(validate_node_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_node_name("master-0").is_ok());
    }
}
