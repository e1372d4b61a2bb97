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

/// The build between two VIPs (`hac build --from` when `controlPlane.vip` changes): each
/// holder's keepalived.conf, with the previous VIP in a VRRP instance of its own.
#[test]
fn keepalived_holding_a_previous_vip() {
    let (_, cluster) = variants()
        .into_iter()
        .find(|(name, _)| *name == "vip_move")
        .expect("the vip_move variant");
    let bundle = render_with_real_ca(&cluster);
    for node in ["master-0", "master-1"] {
        let conf = file(&bundle, node, hac_render::facts::KEEPALIVED_CONF).expect("keepalived");
        insta::assert_snapshot!(format!("vip_move__{node}__keepalived"), text(conf));
    }
}

/// The build between two endpoint ports: haproxy (with its firewall) and nginx listen on both.
#[test]
fn proxies_serving_a_previous_port() {
    for (variant, node, path) in [
        ("port_move", "master-0", hac_render::facts::HAPROXY_CFG),
        (
            "port_move",
            "master-0",
            hac_render::prepare::FIREWALL_RULESET,
        ),
        ("port_move_nginx", "lb-0", hac_render::facts::NGINX_CONF),
    ] {
        let (_, cluster) = variants()
            .into_iter()
            .find(|(name, _)| *name == variant)
            .expect("the variant");
        let bundle = render_with_real_ca(&cluster);
        let f = file(&bundle, node, path).expect("the file");
        let name = path.rsplit('/').next().unwrap_or(path);
        insta::assert_snapshot!(format!("{variant}__{node}__{name}"), text(f));
    }
}
