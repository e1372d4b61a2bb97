//! cloud-init user-data per node: `#cloud-config` with every file of the node's archive in
//! `write_files` (mode as a string, owner root:root) and `runcmd` ending in the node's
//! bootstrap script.
//!
//! A file others may read that is text (UTF-8, no control characters but newline and tab) is
//! written as it is, a YAML block literal (`content: |`), so that a review diff of the
//! user-data shows the line that changed. A file only its owner may read (keys, kubeconfigs,
//! `keepalived.conf`) or a binary one is `encoding: gz+b64`: reproducible gzip, then base64 —
//! nothing a reviewer could read anyway, and it shrinks the user-data. Where the user-data
//! would still exceed the 16 KiB EC2 accepts, the readable files that shrink most are packed
//! `gz+b64` too, one at a time, until it fits. Where that is not enough, the user-data is
//! written readable as `cloud-init/<node>.yaml` and gzip-compressed as
//! `cloud-init/<node>.yaml.gz`, the one to upload (cloud-init unpacks gzip user-data); W0701
//! only when even that does not fit.
//!
//! With `outputs.cloudInitKeys = "separate"` (the default) the files only their owner may
//! read are left out: user-data is served by the cloud's metadata service to whatever runs
//! on the instance. They go into `cloud-init/<node>-keys.tar.gz` (0600, the reproducible
//! archive of hac-bundle), which the operator copies to [`KEYS_ARCHIVE`] on the host;
//! `bootstrap.sh` waits for it, unpacks it and deletes it. With "inline" they stay in the
//! user-data and a warning (W0706) says who can read them.
//!
//! `runcmd` is the node's bootstrap.sh alone, so its exit code is the runcmd script's: a
//! failed step (exit 1) makes cloud-init's `scripts_user` module fail, which `cloud-init
//! status` reports as `error` (and `cloud-init status --long` names the module).

use crate::encoding::{base64, gzip};
use crate::facts::BOOTSTRAP;
use crate::yaml::to_yaml;
use hac_core::Diagnostic;
use hac_model::{Artifact, CloudInitKeys};
use serde::Serialize;

/// EC2's user-data limit; above it a warning suggests gzip+base64.
pub const USER_DATA_LIMIT: usize = 16 * 1024;

#[derive(Clone, Debug, Serialize)]
pub struct UserData {
    pub write_files: Vec<WriteFile>,
    pub runcmd: Vec<String>,
}

/// One `write_files` entry; `content` comes last so that a block literal ends the entry.
#[derive(Clone, Debug, Serialize)]
pub struct WriteFile {
    pub path: String,
    pub owner: &'static str,
    pub permissions: String,
    /// `gz+b64` for secret or binary files; left out (plain text) otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    pub content: String,
}

/// The encoding of secret and binary files: gzip, then base64.
pub const GZ_B64: &str = "gz+b64";

/// Where bootstrap.sh waits for the node's key archive (`outputs.cloudInitKeys = "separate"`).
pub const KEYS_ARCHIVE: &str = "/root/hac-keys.tar.gz";

/// The bundle path of `node`'s key archive.
pub fn keys_archive_path(node: &str) -> String {
    format!("cloud-init/{node}-keys.tar.gz")
}

/// Whether only its owner may read `f` (no group or other read bit): a key, a kubeconfig,
/// a file holding a token or a password.
pub fn is_private(f: &Artifact) -> bool {
    f.mode & 0o044 == 0
}

/// Whether `f` is written as plain text: others may read it (mode with group or other read)
/// and it is UTF-8 without control characters except newline and tab.
pub fn is_plain(f: &Artifact) -> bool {
    f.mode & 0o044 != 0
        && std::str::from_utf8(&f.contents).is_ok_and(|text| {
            text.chars()
                .all(|c| c == '\n' || c == '\t' || !c.is_control())
        })
}

/// The user-data of a node whose archive holds `files`; with `keys` "separate" without
/// the private ones.
pub fn user_data(files: &[Artifact], keys: CloudInitKeys) -> UserData {
    user_data_encoding(files, keys, &[])
}

/// [`user_data`] with the plain files at `packed` (archive paths) written `gz+b64` too.
fn user_data_encoding(files: &[Artifact], keys: CloudInitKeys, packed: &[&str]) -> UserData {
    UserData {
        write_files: files
            .iter()
            .filter(|f| keys == CloudInitKeys::Inline || !is_private(f))
            .map(|f| {
                let (encoding, content) = if is_plain(f) && !packed.contains(&f.path.as_str()) {
                    (None, String::from_utf8_lossy(&f.contents).into_owned())
                } else {
                    (Some(GZ_B64), base64(&gzip(&f.contents)))
                };
                WriteFile {
                    path: format!("/{}", f.path),
                    owner: "root:root",
                    permissions: format!("{:04o}", f.mode & 0o7777),
                    encoding,
                    content,
                }
            })
            .collect(),
        runcmd: vec![format!("/{BOOTSTRAP}")],
    }
}

/// The user-data that fits [`USER_DATA_LIMIT`] with the fewest files packed: while it is too
/// large, the plain file whose `gz+b64` form saves the most bytes is packed (largest saving
/// first, ties by path), so the files a reviewer reads most stay readable where they can.
/// The smallest form when even packing every file does not fit. Returns it with its text.
pub fn fitted_user_data(
    node: &str,
    files: &[Artifact],
    keys: CloudInitKeys,
) -> Result<(UserData, String), Diagnostic> {
    let form = |packed: &[&str]| {
        let data = user_data_encoding(files, keys, packed);
        to_yaml(&data)
            .map(|body| (data, format!("#cloud-config\n{body}")))
            .map_err(|e| {
                Diagnostic::error(format!("cloud-init user-data of `{node}`: {e}"))
                    .with_code(crate::codes::RenderCode::RenderBug)
            })
    };
    let mut fitted = form(&[])?;
    if fitted.1.len() <= USER_DATA_LIMIT {
        return Ok(fitted);
    }
    let mut candidates: Vec<(usize, &str)> = files
        .iter()
        .filter(|f| is_plain(f) && (keys == CloudInitKeys::Inline || !is_private(f)))
        .map(|f| {
            let packed = base64(&gzip(&f.contents)).len();
            (f.contents.len().saturating_sub(packed), f.path.as_str())
        })
        .filter(|(saving, _)| *saving > 0)
        .collect();
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut packed: Vec<&str> = Vec::new();
    for (_, path) in candidates {
        packed.push(path);
        fitted = form(&packed)?;
        if fitted.1.len() <= USER_DATA_LIMIT {
            break;
        }
    }
    Ok(fitted)
}

/// The size of `bytes` gzip-compressed at the best level (deflate stream + gzip's 18-byte
/// header and trailer): what the user would upload after following the warning's hint.
fn gzip_size(bytes: &[u8]) -> usize {
    miniz_oxide::deflate::compress_to_vec(bytes, 10).len() + 18
}

/// W0706: the user-data of these nodes carries their private files (`keys` "inline"):
/// one warning for the bundle, naming the nodes; `None` when no user-data carries any.
pub fn keys_warning<'a>(
    hosts: impl IntoIterator<Item = (&'a String, &'a Vec<Artifact>)>,
    keys: CloudInitKeys,
) -> Option<Diagnostic> {
    if keys != CloudInitKeys::Inline {
        return None;
    }
    let nodes: Vec<&str> = hosts
        .into_iter()
        .filter(|(_, files)| files.iter().any(is_private))
        .map(|(node, _)| node.as_str())
        .collect();
    let first = *nodes.first()?;
    let shown = if nodes.len() > 4 {
        format!("{} and {} more", nodes[..4].join(", "), nodes.len() - 4)
    } else {
        nodes.join(", ")
    };
    Some(
        Diagnostic::warning(format!(
            "the cloud-init user-data of {shown} carries private keys, kubeconfigs or tokens, readable through the cloud's metadata service"
        ))
        .with_code(crate::codes::RenderCode::KeysInUserData)
        .with_hint(format!(
            "set `outputs.cloudInitKeys = \"separate\";` and copy each cloud-init/<node>-keys.tar.gz to {KEYS_ARCHIVE} on its host (e.g. cloud-init/{first}-keys.tar.gz)"
        ))
        .with_note("anything on the instance that reaches the metadata service (pods too, unless it is blocked) can read its user-data"),
    )
}

/// A node's user-data: the readable text (`cloud-init/<node>.yaml`), its gzip form where only
/// that fits (`cloud-init/<node>.yaml.gz`, what to upload), and a warning where nothing fits.
pub struct RenderedUserData {
    /// What `text` says, as data.
    pub data: UserData,
    pub text: String,
    pub gzipped: Option<Vec<u8>>,
    pub warning: Option<Diagnostic>,
}

/// The user-data of `node`. Where even packing files does not fit [`USER_DATA_LIMIT`], the
/// text is the readable form (nothing packed: it compresses best) and, when its gzip fits,
/// that gzip is the user-data to upload (cloud-init unpacks gzip-compressed user-data); a
/// warning (W0701) only when neither fits.
pub fn render(
    node: &str,
    files: &[Artifact],
    keys: CloudInitKeys,
) -> Result<RenderedUserData, Diagnostic> {
    let (data, text) = fitted_user_data(node, files, keys)?;
    if text.len() > USER_DATA_LIMIT {
        let readable_data = user_data(files, keys);
        let readable = to_yaml(&readable_data)
            .map(|body| format!("#cloud-config\n{body}"))
            .map_err(|e| {
                Diagnostic::error(format!("cloud-init user-data of `{node}`: {e}"))
                    .with_code(crate::codes::RenderCode::RenderBug)
            })?;
        let gzipped = gzip(readable.as_bytes());
        if gzipped.len() <= USER_DATA_LIMIT {
            return Ok(RenderedUserData {
                data: readable_data,
                text: readable,
                gzipped: Some(gzipped),
                warning: None,
            });
        }
    }
    let warning = (text.len() > USER_DATA_LIMIT).then(|| {
        let gzipped = gzip_size(text.as_bytes());
        let warning = Diagnostic::warning(format!(
            "the cloud-init user-data of `{node}` is {} bytes, over the 16 KiB many clouds accept (EC2's limit)",
            text.len()
        ))
        .with_code(crate::codes::RenderCode::UserDataTooLarge);
        if gzipped <= USER_DATA_LIMIT {
            warning
                .with_hint(format!("gzip brings it to about {gzipped} bytes, which fits: pass `gzip -9n < cloud-init/{node}.yaml` as the user-data (base64-encoded where the API wants it: `| base64 -w0`); cloud-init unpacks gzip"))
        } else {
            warning
                .with_hint(format!("even gzipped it is about {gzipped} bytes: provision `{node}` with the Ansible play (outputs.ansible), or have its user-data fetch the file"))
        }
        .with_note("cloud-init reads gzip-compressed user-data as is")
    });
    Ok(RenderedUserData {
        data,
        text,
        gzipped: None,
        warning,
    })
}

/// The key archive of `node` (`cloud-init/<node>-keys.tar.gz`): its private files, as
/// hac-bundle's reproducible archive.
pub fn keys_archive(node: &str, private: &[Artifact], epoch: i64) -> Result<Vec<u8>, Diagnostic> {
    let mut private = private.to_vec();
    private.sort_by(|a, b| a.path.cmp(&b.path));
    hac_bundle::host_archive(node, &private, epoch).map_err(|e| {
        Diagnostic::error(format!("key archive of `{node}`: {e}"))
            .with_code(crate::codes::RenderCode::RenderBug)
    })
}
