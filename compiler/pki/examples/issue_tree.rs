//! Issues the complete PKI of the 3-master stacked sample (ECDSA P-256) with the test-only
//! secrets and writes it as `OUT/<node>/<path>`: what `scripts/bench-pki.sh` times against
//! cfssl and the openssl CLI issuing the same set.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: issue_tree OUT_DIR");
        return ExitCode::from(2);
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-only.secrets"
    );
    let result = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| hac_pki::Secrets::parse(&t).map_err(|d| d.message))
        .and_then(|s| hac_pki::issue(&hac_model::samples::stacked_3(), &s).map_err(|d| d.message));
    let pki = match result {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut made = std::collections::BTreeSet::new();
    for (node, files) in &pki.files {
        for a in files {
            let p = out.join(node).join(&a.path);
            let parent = p.parent().map(|d| d.to_path_buf()).unwrap_or_default();
            let mkdir = if made.contains(&parent) {
                Ok(())
            } else {
                std::fs::create_dir_all(&parent).map(|_| {
                    made.insert(parent);
                })
            };
            let written = mkdir.and_then(|_| std::fs::write(&p, &a.contents));
            if let Err(e) = written {
                eprintln!("error: cannot write {}: {e}", p.display());
                return ExitCode::from(3);
            }
        }
    }
    ExitCode::SUCCESS
}
