//! cloud-init user-data per node: `#cloud-config` with every file of the node's archive in
//! `write_files` (mode as a string, owner root:root) and `runcmd` ending in the node's
//! bootstrap script.
//!
//! A file others may read that is text (UTF-8, no control characters but newline and tab) is
//! written as it is, a YAML block literal (`content: |`), so that a review diff of the
//! user-data shows the line that changed. A file only its owner may read (keys, kubeconfigs,
//! `keepalived.conf`) or a binary one is `encoding: gz+b64`: reproducible gzip, then base64 —
//! nothing a reviewer could read anyway, and it shrinks the user-data.

use crate::encoding::{base64, gzip};
use crate::facts::BOOTSTRAP;
use crate::yaml::to_yaml;
use hac_core::Diagnostic;
use hac_model::Artifact;
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

/// Whether `f` is written as plain text: others may read it (mode with group or other read)
/// and it is UTF-8 without control characters except newline and tab.
pub fn is_plain(f: &Artifact) -> bool {
    f.mode & 0o044 != 0
        && std::str::from_utf8(&f.contents).is_ok_and(|text| {
            text.chars()
                .all(|c| c == '\n' || c == '\t' || !c.is_control())
        })
}

/// The user-data of a node whose archive holds `files`.
pub fn user_data(files: &[Artifact]) -> UserData {
    UserData {
        write_files: files
            .iter()
            .map(|f| {
                let (encoding, content) = if is_plain(f) {
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

/// The size of `bytes` gzip-compressed at the best level (deflate stream + gzip's 18-byte
/// header and trailer): what the user would upload after following the warning's hint.
fn gzip_size(bytes: &[u8]) -> usize {
    miniz_oxide::deflate::compress_to_vec(bytes, 10).len() + 18
}

/// The user-data text and, where it exceeds [`USER_DATA_LIMIT`], a warning.
pub fn render(node: &str, files: &[Artifact]) -> Result<(String, Option<Diagnostic>), Diagnostic> {
    let body = to_yaml(&user_data(files)).map_err(|e| {
        Diagnostic::error(format!("cloud-init user-data of `{node}`: {e}"))
            .with_code(crate::codes::RENDER_BUG)
    })?;
    let text = format!("#cloud-config\n{body}");
    let warning = (text.len() > USER_DATA_LIMIT).then(|| {
        let gzipped = gzip_size(text.as_bytes());
        let warning = Diagnostic::warning(format!(
            "the cloud-init user-data of `{node}` is {} bytes, over the 16 KiB many clouds accept (EC2's limit)",
            text.len()
        ))
        .with_code(crate::codes::USER_DATA_TOO_LARGE);
        if gzipped <= USER_DATA_LIMIT {
            warning
                .with_hint(format!("gzip brings it to about {gzipped} bytes, which fits: pass `gzip -9n < cloud-init/{node}.yaml` as the user-data (base64-encoded where the API wants it: `| base64 -w0`); cloud-init unpacks gzip"))
        } else {
            warning
                .with_hint(format!("even gzipped it is about {gzipped} bytes: provision `{node}` with the Ansible play (outputs.ansible), or have its user-data fetch the file"))
        }
        .with_note("cloud-init reads gzip-compressed user-data as is")
    });
    Ok((text, warning))
}
