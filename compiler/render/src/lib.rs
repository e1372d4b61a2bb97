//! Renders every node's files (configs, units, scripts, kubeadm config, manifest), the
//! cloud-init user-data and the Ansible inventory and play: a pure function of the checked
//! model, the issued PKI and the secrets it embeds (no clock, no file system, no randomness,
//! sorted maps).
//!
//! Text formats (haproxy, nginx, keepalived, systemd, shell) come from the templates in
//! stdlib/templates/; YAML formats (kubeadm, kube-vip, cloud-init, Ansible) are typed data
//! written by [`yaml`], which quotes every string YAML 1.1 could misread.

// Diagnostic (hac-core's) is large; errors are rare and carry rich context, so it is
// returned unboxed like in every other stage.
#![allow(clippy::result_large_err)]

pub mod ansible;
pub mod audit_policy;
pub mod cloud_init;
pub mod codes;
pub mod encoding;
pub mod facts;
pub mod kube_vip;
pub mod kubeadm;
pub mod manifest;
pub mod prepare;
pub mod templates;
pub mod yaml;

use facts::*;
use hac_core::Diagnostic;
use hac_model::archive::{archive_files, ArchiveFile, ConfigFile, FileKind, Leaf};
use hac_model::{Artifact, Bundle, CloudInitKeys, Cluster, IssuedPki, Node, RenderSecrets};
use std::collections::BTreeMap;
use templates::Templates;

/// The whole bundle of `cluster`. `report` and `topology_svg` (both made by hac-check from
/// the same model) are written as they are, as `report.txt` and `topology.svg` (0644).
pub fn render(
    cluster: &Cluster,
    pki: &IssuedPki,
    secrets: &RenderSecrets,
    report: &str,
    topology_svg: &str,
) -> Result<Bundle, Vec<Diagnostic>> {
    let errors = validate(&pki.ca_cert_hash);
    if !errors.is_empty() {
        return Err(errors);
    }
    let templates = Templates::new().map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut hosts: BTreeMap<String, Vec<Artifact>> = BTreeMap::new();
    for node in &cluster.nodes {
        match node_files(cluster, node, pki, secrets, &templates) {
            Ok(files) => {
                hosts.insert(node.name.clone(), files);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    add_manifests(cluster, &mut hosts)?;

    let mut bundle = Bundle {
        hosts,
        files: Vec::new(),
        warnings: Vec::new(),
    };
    if cluster.outputs.cloud_init {
        add_cloud_init(cluster, &mut bundle)?;
    }
    if cluster.outputs.ansible {
        let inventory = yaml::value_to_yaml(&ansible::inventory(cluster));
        bundle
            .files
            .push(Artifact::new("ansible/inventory.yml", 0o644, inventory));
        let site = yaml::value_to_yaml(&ansible::site(cluster));
        bundle
            .files
            .push(Artifact::new("ansible/site.yml", 0o644, site));
    }
    bundle.files.push(Artifact::new(
        "report.txt",
        0o644,
        report.as_bytes().to_vec(),
    ));
    bundle.files.push(Artifact::new(
        "topology.svg",
        0o644,
        topology_svg.as_bytes().to_vec(),
    ));
    bundle.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(bundle)
}

/// Adds each node's manifest.json (the list of its other files) to its archive, then sorts
/// the archive by path.
fn add_manifests(
    cluster: &Cluster,
    hosts: &mut BTreeMap<String, Vec<Artifact>>,
) -> Result<(), Vec<Diagnostic>> {
    for node in &cluster.nodes {
        let Some(files) = hosts.get_mut(&node.name) else {
            continue;
        };
        let manifest = manifest::Manifest {
            cluster: cluster.name.clone(),
            node: node.name.clone(),
            roles: node.roles.iter().map(|r| r.as_str()).collect(),
            files: manifest::entries(files),
        };
        let mut json = serde_json::to_string_pretty(&manifest)
            .map_err(|e| vec![internal(format!("manifest.json of `{}`: {e}", node.name))])?;
        json.push('\n');
        files.push(Artifact::new(
            MANIFEST,
            hac_model::archive::MODE_PUBLIC,
            json,
        ));
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(())
}

/// Adds `cloud-init/`: each node's user-data (and its gzip), the separate key archives
/// when `outputs.cloudInitKeys` asks for them, and their warnings.
fn add_cloud_init(cluster: &Cluster, bundle: &mut Bundle) -> Result<(), Vec<Diagnostic>> {
    let keys = cluster.outputs.cloud_init_keys;
    for (node, files) in &bundle.hosts {
        let rendered = cloud_init::render(node, files, keys).map_err(|e| vec![e])?;
        bundle.files.push(Artifact::new(
            format!("cloud-init/{node}.yaml"),
            0o600,
            rendered.text,
        ));
        if let Some(gz) = rendered.gzipped {
            bundle.files.push(Artifact::new(
                format!("cloud-init/{node}.yaml.gz"),
                0o600,
                gz,
            ));
        }
        let warning = rendered.warning;
        let private: Vec<Artifact> = files
            .iter()
            .filter(|f| cloud_init::is_private(f))
            .cloned()
            .collect();
        if keys == CloudInitKeys::Separate && !private.is_empty() {
            let archive = cloud_init::keys_archive(node, &private, cluster.epoch.unix)
                .map_err(|e| vec![e])?;
            bundle.files.push(Artifact::new(
                cloud_init::keys_archive_path(node),
                0o600,
                archive,
            ));
        }
        let span = cluster.origins.get(&format!("nodes.{node}"));
        bundle
            .warnings
            .extend(warning.map(|w| w.with_span_opt(span)));
    }
    let span = cluster.origins.get("outputs.cloudInitKeys");
    bundle
        .warnings
        .extend(cloud_init::keys_warning(&bundle.hosts, keys).map(|w| w.with_span_opt(span)));
    Ok(())
}

fn internal(message: String) -> Diagnostic {
    Diagnostic::error(message)
        .with_code(codes::RenderCode::RenderBug)
        .with_note("this is a bug in hac's renderer".to_string())
}

/// The rendered kubeadm config of `node` (None for a node without kubelet): documents
/// joined by `---`.
pub fn kubeadm_config(
    cluster: &Cluster,
    node: &Node,
    pki: &IssuedPki,
    secrets: &RenderSecrets,
) -> Result<Option<String>, Diagnostic> {
    let docs = kubeadm::documents(cluster, node, &pki.ca_cert_hash, secrets);
    if docs.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for doc in &docs {
        parts.push(
            yaml::to_yaml(doc)
                .map_err(|e| internal(format!("kubeadm config of `{}`: {e}", node.name)))?,
        );
    }
    Ok(Some(parts.join("---\n")))
}

/// Every file of `node`'s archive except manifest.json, sorted by path: its PKI files
/// untouched, then the configuration files of the archive table (hac_model::archive), each
/// rendered by its concern; bootstrap.sh last, as it lists the others.
fn node_files(
    cluster: &Cluster,
    node: &Node,
    pki: &IssuedPki,
    secrets: &RenderSecrets,
    templates: &Templates,
) -> Result<Vec<Artifact>, Vec<Diagnostic>> {
    let mut files: Vec<Artifact> = pki.files.get(&node.name).cloned().unwrap_or_default();
    pki_matches_the_table(cluster, node, &files)?;
    let mut bootstrap = None;
    for row in archive_files(cluster, node) {
        let FileKind::Config(file) = row.kind else {
            continue;
        };
        let text = match file {
            // Written once every other file is known.
            ConfigFile::Bootstrap => {
                bootstrap = Some(row);
                continue;
            }
            ConfigFile::Manifest => continue,
            _ => config_file(cluster, node, file, pki, secrets, templates),
        };
        files.retain(|f| f.path != row.path);
        files.push(Artifact::new(
            row.path,
            row.mode,
            text.map_err(|e| vec![e])?,
        ));
    }
    let bootstrap = bootstrap.ok_or_else(|| {
        vec![internal(format!(
            "the table gives `{}` no bootstrap.sh",
            node.name
        ))]
    })?;
    let etcd_keys = if runs_etcd_unit(cluster, node) {
        etcd_member_keys(&files, node)?
    } else {
        Vec::new()
    };
    add_bootstrap(&mut files, cluster, node, templates, etcd_keys, bootstrap)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The PKI stage places files by the same table (hac_model::archive); a PKI that strays
/// from it is a bug in hac, refused rather than shipped.
fn pki_matches_the_table(
    cluster: &Cluster,
    node: &Node,
    files: &[Artifact],
) -> Result<(), Vec<Diagnostic>> {
    let table = archive_files(cluster, node);
    let wanted = table
        .iter()
        .filter(|row| matches!(row.kind, FileKind::Pki(_)));
    for row in wanted.clone() {
        if !files
            .iter()
            .any(|f| f.path == row.path && f.mode == row.mode)
        {
            return Err(vec![internal(format!(
                "the issued PKI lacks {} (mode {:04o}) of node `{}`",
                row.path, row.mode, node.name
            ))]);
        }
    }
    if let Some(extra) = files
        .iter()
        .find(|f| !wanted.clone().any(|row| row.path == f.path))
    {
        return Err(vec![internal(format!(
            "the issued PKI gives node `{}` {}, which its roles do not call for",
            node.name, extra.path
        ))]);
    }
    Ok(())
}

/// The text of one configuration file of `node`'s archive.
fn config_file(
    cluster: &Cluster,
    node: &Node,
    file: ConfigFile,
    pki: &IssuedPki,
    secrets: &RenderSecrets,
    templates: &Templates,
) -> Result<String, Diagnostic> {
    let cluster_only = || templates::cluster_only_context(cluster);
    match file {
        ConfigFile::KubeadmConfig => kubeadm_config(cluster, node, pki, secrets)?
            .ok_or_else(|| internal(format!("`{}` has no kubeadm configuration", node.name))),
        ConfigFile::KubeletPatch => {
            let patch = kubeadm::kubelet_patch(node)
                .ok_or_else(|| internal(format!("`{}` has no kubelet patch", node.name)))?;
            yaml::to_yaml(&patch)
                .map_err(|e| internal(format!("kubelet patch of `{}`: {e}", node.name)))
        }
        ConfigFile::Sysctl => templates.render("99-kubernetes.conf", &cluster_only()),
        ConfigFile::KernelModules => templates.render("kubernetes.conf", &cluster_only()),
        ConfigFile::Keepalived => templates.render(
            "keepalived.conf",
            &templates::keepalived_context(cluster, node, secrets),
        ),
        ConfigFile::KeepalivedCheck => templates.render(
            "check_apiserver.sh",
            &templates::check_apiserver_context(cluster, node),
        ),
        ConfigFile::Haproxy => {
            templates.render("haproxy.cfg", &templates::haproxy_context(cluster, node))
        }
        ConfigFile::Nginx => {
            templates.render("nginx.conf", &templates::nginx_context(cluster, node))
        }
        ConfigFile::AuditPolicy => {
            let audit = cluster.components.api_server.audit.as_ref();
            let audit = audit.ok_or_else(|| internal("no audit policy is configured".into()))?;
            Ok(audit_policy::policy_text(&audit.policy))
        }
        ConfigFile::OidcCa => {
            let oidc = cluster.components.api_server.oidc.as_ref();
            let ca = oidc.and_then(|o| o.ca.as_ref());
            let mut pem = ca
                .ok_or_else(|| internal("no OIDC CA is configured".into()))?
                .clone();
            if !pem.ends_with('\n') {
                pem.push('\n');
            }
            Ok(pem)
        }
        ConfigFile::KubeVip => yaml::to_yaml(&kube_vip::pod(cluster, node))
            .map_err(|e| internal(format!("kube-vip manifest of `{}`: {e}", node.name))),
        ConfigFile::EtcdUnit => {
            templates.render("etcd.service", &templates::etcd_unit_context(cluster, node))
        }
        ConfigFile::CniManifest => cni_manifest(cluster),
        ConfigFile::Prepare
        | ConfigFile::Containerd
        | ConfigFile::Crictl
        | ConfigFile::AptSource
        | ConfigFile::AptKey
        | ConfigFile::FirewallRuleset
        | ConfigFile::FirewallUnit => prepare::contents(cluster, node, file, templates)?
            .ok_or_else(|| internal(format!("{file:?} is not a host-preparation file"))),
        ConfigFile::Bootstrap | ConfigFile::Manifest => Err(internal(format!(
            "{file:?} is written after the other files"
        ))),
    }
}

/// The CNI manifest's text (read from `network.cni.manifest` before rendering).
fn cni_manifest(cluster: &Cluster) -> Result<String, Diagnostic> {
    let cni = cluster.network.cni.as_ref();
    let cni = cni.ok_or_else(|| internal("no CNI manifest is configured".into()))?;
    if cni.contents.is_empty() {
        return Err(internal(format!(
            "network.cni.manifest `{}` was not read before rendering",
            cni.manifest
        )));
    }
    Ok(cni.contents.clone())
}

/// The member's key files etcd.service reads (which the PKI must have issued), as absolute
/// paths: bootstrap.sh gives them to the etcd user.
fn etcd_member_keys(files: &[Artifact], node: &Node) -> Result<Vec<String>, Vec<Diagnostic>> {
    let mut etcd_keys = Vec::new();
    for leaf in [Leaf::EtcdPeer, Leaf::EtcdServer] {
        let key = leaf.key_path();
        if !files.iter().any(|f| f.path == key) {
            return Err(vec![internal(format!(
                "node `{}` runs etcd but the issued PKI has no {key}",
                node.name
            ))]);
        }
        etcd_keys.push(format!("/{key}"));
    }
    Ok(etcd_keys)
}

/// bootstrap.sh, which knows the node's private files and the digest of their archive.
fn add_bootstrap(
    files: &mut Vec<Artifact>,
    cluster: &Cluster,
    node: &Node,
    templates: &Templates,
    etcd_keys: Vec<String>,
    row: ArchiveFile,
) -> Result<(), Vec<Diagnostic>> {
    let mut private_files: Vec<String> = files
        .iter()
        .filter(|f| cloud_init::is_private(f))
        .map(|f| format!("/{}", f.path))
        .collect();
    private_files.sort();
    let mut context = templates::bootstrap_context(cluster, node, etcd_keys, private_files);
    if !context.keys.is_empty() {
        // The key archive's digest (not secret: it covers whole keys), so that bootstrap.sh
        // refuses another node's or an older build's archive instead of unpacking it.
        let private: Vec<Artifact> = files
            .iter()
            .filter(|f| cloud_init::is_private(f))
            .cloned()
            .collect();
        let archive = cloud_init::keys_archive(&node.name, &private, cluster.epoch.unix)
            .map_err(|e| vec![e])?;
        context.keys_sha256 = encoding::sha256_hex(&archive);
    }
    let text = templates
        .render("bootstrap.sh", &context)
        .map_err(|e| vec![e])?;
    files.push(Artifact::new(row.path, row.mode, text));
    Ok(())
}
