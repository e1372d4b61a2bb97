//! insta snapshots of every rendered file (PKI placeholders aside) of one stacked and one
//! external-etcd sample, per node, plus the Ansible files: a change to any template or
//! typed file shows up as a reviewed diff.

mod common;

use common::*;

fn snapshot_sample(name: &str, cluster: &hac_model::Cluster) {
    let pki = fake_pki(
        cluster,
        "-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n",
    );
    let bundle =
        hac_render::render(cluster, &pki, &secrets(), "report\n", "<svg/>\n").expect("render");
    for (node, files) in &bundle.hosts {
        let mut out = String::new();
        for f in files {
            if pki.files[node].iter().any(|p| p.path == f.path) {
                continue;
            }
            out.push_str(&format!("===== /{} ({:04o})\n{}", f.path, f.mode, text(f)));
        }
        insta::assert_snapshot!(format!("{name}__{node}"), out);
    }
    let mut out = String::new();
    for f in bundle
        .files
        .iter()
        .filter(|f| f.path.starts_with("ansible/"))
    {
        out.push_str(&format!("===== {} ({:04o})\n{}", f.path, f.mode, text(f)));
    }
    insta::assert_snapshot!(format!("{name}__ansible"), out);
}

#[test]
fn stacked_3_files() {
    snapshot_sample("stacked_3", &hac_model::samples::stacked_3());
}

#[test]
fn external_etcd_files() {
    snapshot_sample("external_etcd", &hac_model::samples::external_etcd());
}
