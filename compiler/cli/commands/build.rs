//! `hac build`: check, issue the PKI, render, and write the bundle atomically.

use crate::args::{ClockFlags, EvalFlags, OutputFormat};
use crate::report::{Outcome, Printer};
use std::path::{Path, PathBuf};

/// A checked, issued and rendered build (state.json included), not yet written.
pub struct Compiled {
    pub checked: super::pipeline::Checked,
    pub bundle: hac_model::Bundle,
    pub state: hac_plan::State,
    pub secrets_path: PathBuf,
}

/// The live cluster a build or plan changes: the previous build's state, and the nodes the
/// operator reports as down for good (`--failed`).
pub struct Live {
    pub state: hac_plan::State,
    pub failed: std::collections::BTreeSet<String>,
}

/// Reads the state of the bundle at `from` (archives or tree, as `hac diff` reads them), or
/// computes it from a previous `.ha` file (with the secrets file beside it), building in memory.
pub fn read_previous_state(
    p: &Printer,
    from: &Path,
    flags: &EvalFlags,
) -> Result<hac_plan::State, Outcome> {
    if from.is_file() && from.extension().is_some_and(|e| e == "ha") {
        // Its certificates may be past their date: that is why it is being replaced.
        let clock = ClockFlags {
            allow_expired: true,
        };
        p.say(&format!(
            "building the previous state from {}",
            from.display()
        ));
        return compile(p, from, None, None, &clock, flags).map(|c| c.state);
    }
    let contents = match hac_bundle::read_bundle(from) {
        Ok(c) => c,
        Err(e) => {
            let usage = matches!(e, hac_bundle::BundleError::NotABundle { .. })
                || matches!(&e, hac_bundle::BundleError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
            p.error(
                None,
                &format!("cannot read the previous bundle: {e}"),
                Some("give --from the output folder of `hac build` that the live cluster runs"),
            );
            return Err(if usage {
                Outcome::UsageError
            } else {
                Outcome::IoError
            });
        }
    };
    let Some(entry) = contents.files.get(hac_plan::STATE_FILE) else {
        p.error(
            Some(hac_plan::codes::PlanCode::StateUnreadable.code()),
            &format!(
                "{} has no {}: it was built by an older hac",
                from.display(),
                hac_plan::STATE_FILE
            ),
            Some("rebuild the running version (the .ha file and secrets it was built from) with this hac, then plan from that output"),
        );
        return Err(Outcome::InputError);
    };
    hac_plan::State::parse(&entry.contents).map_err(|e| {
        p.error(
            Some(hac_plan::codes::PlanCode::StateUnreadable.code()),
            &format!(
                "cannot read {}/{}: {e}",
                from.display(),
                hac_plan::STATE_FILE
            ),
            Some("rebuild the running version with this hac, then plan from that output"),
        );
        Outcome::InputError
    })
}

/// check → clock → secrets → PKI → render → state: everything `build` and `plan` share.
pub fn compile(
    p: &Printer,
    file: &Path,
    secrets: Option<PathBuf>,
    previous: Option<&Live>,
    clock: &ClockFlags,
    flags: &EvalFlags,
) -> Result<Compiled, Outcome> {
    let mut checked = super::pipeline::load_and_check(p, file, flags)?;
    // The live cluster's etcd members: a member not among them joins as `existing`, and so
    // does a failed one (it rejoins empty once `hac plan` has removed it).
    if let Some(live) = previous {
        if let Err(diags) = hac_plan::plan::check_failed(&live.state, &live.failed) {
            p.emit(&checked.sources, &diags);
            return Err(Outcome::InputError);
        }
        let mut members = live.state.etcd_members();
        members.retain(|m| !live.failed.contains(&m.name));
        checked.cluster.etcd.existing_members = Some(members);
        // A CA given a new key (`pki.caRotation`): its trust files keep the running one.
        checked.cluster.pki.previous_cas = live.state.ca_certificates();
        // A VIP that moves: keepalived holds the old one beside it until a later build.
        let previous_vip = live.state.previous_vip_for(&checked.cluster);
        let previous_port = live.state.previous_port_for(&checked.cluster);
        let cp = &mut checked.cluster.control_plane;
        cp.previous_vip = previous_vip;
        // A port that moves: the proxies serve the old one beside it until a later build.
        cp.previous_port = previous_port;
        if let Some(prev) = cp
            .previous_vip
            .filter(|p| p.router_id == cp.keepalived.router_id)
        {
            p.error(
                Some(hac_plan::codes::PlanCode::EndpointChange.code()),
                &format!(
                    "the VIP moves from {} to {} under the same keepalived router id {}: while the configurations roll, peers would disagree on that router's address",
                    prev.address,
                    cp.vip.map(|v| v.to_string()).unwrap_or_default(),
                    prev.router_id
                ),
                Some("give the new VIP a new controlPlane.keepalived.routerId (unused on this network) in the same build"),
            );
            return Err(Outcome::InputError);
        }
    }
    let cluster = &checked.cluster;
    let secrets_path = secrets.unwrap_or_else(|| super::secrets::secrets_path_for(file));
    let secrets = super::secrets::load(p, &secrets_path)?;
    // Another cluster's file (E0611), or a public test-only one (W0601).
    if p.emit(&checked.sources, &secrets.check_for_cluster(&cluster.name)) {
        return Err(Outcome::InputError);
    }
    let pki = match hac_pki::issue(cluster, &secrets) {
        Ok(pki) => pki,
        Err(d) => {
            p.emit(&checked.sources, &[d]);
            return Err(Outcome::InputError);
        }
    };
    let report = hac_check::report(cluster);
    let topology = hac_check::topology_svg(cluster);
    let render_secrets = secrets.render_secrets();
    let mut bundle = match hac_render::render(cluster, &pki, &render_secrets, &report, &topology) {
        Ok(b) => b,
        Err(diags) => {
            p.emit(&checked.sources, &diags);
            return Err(Outcome::InputError);
        }
    };
    let state = match hac_plan::State::of(cluster, &bundle, &render_secrets) {
        Ok(s) => s,
        Err(e) => {
            p.error(
                None,
                &format!("cannot record the cluster's state: {e}"),
                Some("this is a bug in hac"),
            );
            return Err(Outcome::InputError);
        }
    };
    bundle.files.push(state.artifact());
    bundle.files.sort_by(|a, b| a.path.cmp(&b.path));
    // The one read of the clock, on the issued certificates (an adopted CA's own dates too).
    // It never changes what is written.
    super::pipeline::check_expiry(p, &checked.sources, cluster, &state.cert_windows(), clock)?;
    if p.emit(&checked.sources, &bundle.warnings) {
        return Err(Outcome::InputError);
    }
    Ok(Compiled {
        checked,
        bundle,
        state,
        secrets_path,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    p: &Printer,
    file: &Path,
    output: Option<PathBuf>,
    secrets: Option<PathBuf>,
    format: OutputFormat,
    from: Option<&Path>,
    failed: &[String],
    clock: &ClockFlags,
    flags: &EvalFlags,
) -> Outcome {
    let previous = match from.map(|f| read_previous_state(p, f, flags)).transpose() {
        Ok(prev) => prev.map(|state| Live {
            state,
            failed: failed.iter().cloned().collect(),
        }),
        Err(o) => return o,
    };
    let compiled = match compile(p, file, secrets, previous.as_ref(), clock, flags) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let Compiled {
        checked,
        bundle,
        secrets_path,
        ..
    } = compiled;
    let cluster = &checked.cluster;
    let report = hac_check::report(cluster);
    for node in cluster
        .nodes
        .iter()
        .filter(|n| cluster.etcd_join_members(n).is_some())
    {
        p.say(&format!(
            "  {}: joins the running etcd cluster (--initial-cluster-state=existing): add it with `etcdctl member add {} --learner` first (`hac plan --from` orders it)",
            node.name, node.name
        ));
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
