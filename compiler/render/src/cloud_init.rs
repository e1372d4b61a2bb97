//! cloud-init user-data per node: `#cloud-config` with every file of the node's archive in
//! `write_files` (base64, mode as a string, owner root:root) and `runcmd` ending in the
//! node's bootstrap script.

use crate::encoding::base64;
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

#[derive(Clone, Debug, Serialize)]
pub struct WriteFile {
    pub path: String,
    pub encoding: &'static str,
    pub content: String,
    pub owner: &'static str,
    pub permissions: String,
}

/// The user-data of a node whose archive holds `files`.
pub fn user_data(files: &[Artifact]) -> UserData {
    UserData {
        write_files: files
            .iter()
            .map(|f| WriteFile {
                path: format!("/{}", f.path),
                encoding: "b64",
                content: base64(&f.contents),
                owner: "root:root",
                permissions: format!("{:04o}", f.mode & 0o7777),
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
