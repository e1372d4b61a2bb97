//! `hac build`: check, issue the PKI, render, and write the bundle atomically.

use crate::args::{EvalFlags, OutputFormat};
use crate::report::{Outcome, Printer};
use std::path::{Path, PathBuf};

pub fn run(
    p: &Printer,
    file: &Path,
    output: Option<PathBuf>,
    secrets: Option<PathBuf>,
    format: OutputFormat,
    flags: &EvalFlags,
) -> Outcome {
    let checked = match super::pipeline::load_and_check(p, file, flags) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let cluster = &checked.cluster;
    let secrets_path = secrets.unwrap_or_else(|| super::secrets::secrets_path_for(file));
    let secrets = match super::secrets::load(p, &secrets_path) {
        Ok(s) => s,
        Err(o) => return o,
    };
    // Another cluster's file (E0611), or a public test-only one (W0601).
    if p.emit(&checked.sources, &secrets.check_for_cluster(&cluster.name)) {
        return Outcome::InputError;
    }
    // The one read of the clock: a warning when the certificates are not valid today. It
    // never changes what is written.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if let Some(d) = hac_check::check_validity_now(cluster, now) {
        if p.emit(&checked.sources, &[d]) {
            return Outcome::InputError;
        }
    }
    let pki = match hac_pki::issue(cluster, &secrets) {
        Ok(pki) => pki,
        Err(d) => {
            p.emit(&checked.sources, &[d]);
            return Outcome::InputError;
        }
    };
    let report = hac_check::report(cluster);
    let topology = hac_check::topology_svg(cluster);
    let bundle =
        match hac_render::render(cluster, &pki, &secrets.render_secrets(), &report, &topology) {
            Ok(b) => b,
            Err(diags) => {
                p.emit(&checked.sources, &diags);
                return Outcome::InputError;
            }
        };
    if p.emit(&checked.sources, &bundle.warnings) {
        return Outcome::InputError;
    }
    let out_dir = output.unwrap_or_else(|| Path::new("out").join(&cluster.name));
    let fmt = match format {
        OutputFormat::Tar => hac_bundle::Format::Tar,
        OutputFormat::Tree => hac_bundle::Format::Tree,
    };
    // The output folder may never be one that holds this build's inputs.
    let protected = [file.to_path_buf(), secrets_path.clone()];
    let options = hac_bundle::WriteOptions {
        cluster: &cluster.name,
        protected: &protected,
    };
    if let Err(e) = hac_bundle::write_with(&bundle, &out_dir, fmt, cluster.epoch.unix, &options) {
        p.error(
            e.code(),
            &format!("cannot write the bundle to {}: {e}", out_dir.display()),
            Some("nothing was changed: the previous output, if any, is intact"),
        );
        return Outcome::IoError;
    }
    // One lookup table, not a scan of every node per node (quadratic for big clusters).
    let by_name: std::collections::HashMap<&str, &hac_model::Node> =
        cluster.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    for (node, files) in &bundle.hosts {
        let roles: Vec<&str> = by_name
            .get(node.as_str())
            .map(|n| n.roles.iter().map(|r| r.as_str()).collect())
            .unwrap_or_default();
        let what = match fmt {
            hac_bundle::Format::Tar => format!("hosts/{node}.tar.gz"),
            hac_bundle::Format::Tree => format!("hosts/{node}/"),
        };
        p.say(&format!(
            "  {node:<16} {:<28} {:>3} files  {what}",
            roles.join(","),
            files.len()
        ));
    }
    p.say(&format!("wrote {}", out_dir.display()));
    p.say(report.trim_end());
    Outcome::Success
}
