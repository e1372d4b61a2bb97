//! `network.cni.manifest`: the CLI reads the file (under the import sandbox's rules, through
//! `hac_core::input`) and hands its text to the model, so rendering stays a pure function.

use hac_check::codes::CheckCode;
use hac_core::input::InputError;
use hac_core::Diagnostic;
use hac_eval::DataFileError;
use hac_model::schema::CNI_MANIFEST_LIMIT;
use hac_model::Cluster;
use std::path::PathBuf;

/// Fills `cluster.network.cni.contents` from the file it names; a coded diagnostic at the
/// attribute when the file is missing (E0109), outside the sandbox (E0110), not a manifest
/// or too large (E0111), or a secrets file (E0610).
pub fn load(cluster: &mut Cluster, sandbox: &[PathBuf]) -> Result<(), Box<Diagnostic>> {
    let span = cluster.origins.get("network.cni.manifest");
    let Some(cni) = cluster.network.cni.as_mut() else {
        return Ok(());
    };
    let written = cni.manifest.clone();
    let shown = hac_core::input::escape_controls(&written).into_owned();
    let fail = |d: Diagnostic| Err(Box::new(d.with_span_opt(span)));
    match hac_eval::read_data_file(sandbox, &written, CNI_MANIFEST_LIMIT) {
        Ok((_, text)) => {
            if let Some(problem) = manifest_problem(&text) {
                return fail(
                    Diagnostic::error(format!(
                        "network.cni.manifest `{shown}` is not a Kubernetes manifest: {problem}"
                    ))
                    .with_code(CheckCode::CniManifestInvalid)
                    .with_hint("name the rendered manifest (the CNI's release YAML, `helm template …` output), not a chart or values file"),
                );
            }
            cni.contents = text;
            Ok(())
        }
        Err(DataFileError::Outside(note)) => {
            let dirs: Vec<String> = sandbox.iter().map(|d| d.display().to_string()).collect();
            let mut d = Diagnostic::error(format!(
                "network.cni.manifest `{shown}` is outside the folders a build may read"
            ))
            .with_code(CheckCode::CniManifestOutside)
            .with_note(format!("readable: {}", dirs.join(", ")))
            .with_hint("move the manifest under the cluster file's folder, or widen the sandbox with --allow-path DIR");
            if let Some(note) = note {
                d = d.with_note(note);
            }
            fail(d)
        }
        Err(DataFileError::Input(InputError::TooLarge(n))) => fail(
            Diagnostic::error(format!(
                "network.cni.manifest `{shown}` is {n} bytes, more than the {} MiB a CNI manifest may have",
                CNI_MANIFEST_LIMIT >> 20
            ))
            .with_code(CheckCode::CniManifestInvalid)
            .with_hint("apply a manifest that large yourself, after `kubeadm init`"),
        ),
        Err(DataFileError::Input(InputError::Secrets)) => fail(
            InputError::Secrets.diagnostic(&format!("network.cni.manifest `{shown}`")),
        ),
        Err(DataFileError::Input(e)) => fail(
            Diagnostic::error(format!(
                "cannot read network.cni.manifest `{shown}`: {}",
                e.reason()
            ))
            .with_code(CheckCode::CniManifestUnreadable)
            .with_hint("the path is relative to the cluster file's folder: put the manifest there (e.g. calico.yaml) and commit it"),
        ),
    }
}

/// Why `text` does not look like a Kubernetes manifest (YAML or JSON with `apiVersion` and
/// `kind`); `None` when it does.
fn manifest_problem(text: &str) -> Option<&'static str> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Some("it holds control characters (is it a binary file, e.g. a chart archive?)");
    }
    let has = |key: &str| {
        text.lines().any(|l| {
            let l = l
                .trim_start()
                .trim_start_matches("- ")
                .trim_start_matches('{')
                .trim_start();
            l.starts_with(&format!("{key}:")) || l.starts_with(&format!("\"{key}\""))
        }) || text.contains(&format!("\"{key}\":"))
            || text.contains(&format!("\"{key}\" :"))
    };
    if !has("apiVersion") || !has("kind") {
        return Some("it has no `apiVersion:` and `kind:`");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::manifest_problem;

    #[test]
    fn manifests_are_recognised() {
        assert_eq!(manifest_problem("apiVersion: v1\nkind: Namespace\n"), None);
        assert_eq!(
            manifest_problem("---\n- apiVersion: v1\n  kind: List\n"),
            None
        );
        assert_eq!(
            manifest_problem("{\"apiVersion\": \"v1\", \"kind\": \"List\"}"),
            None
        );
        assert!(manifest_problem("replicas: 3\nimage: calico\n").is_some());
        assert!(manifest_problem("\u{1f}\u{8b}\u{8}binary").is_some());
    }
}
