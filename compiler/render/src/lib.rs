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
use hac_model::{
    Artifact, Bundle, CloudInitKeys, Cluster, IssuedPki, LoadBalancerKind, Node, RenderSecrets,
    Role, AUDIT_POLICY_PATH, OIDC_CA_PATH,
};
use std::collections::BTreeMap;
use templates::Templates;

/// The etcd keys the etcd user must own (it reads them after dropping root).
const ETCD_MEMBER_KEYS: &[&str] = &[
    "etc/kubernetes/pki/etcd/peer.key",
    "etc/kubernetes/pki/etcd/server.key",
];

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
        files.push(Artifact::new(MANIFEST, 0o644, json));
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
/// untouched, then what its roles call for.
fn node_files(
    cluster: &Cluster,
    node: &Node,
    pki: &IssuedPki,
    secrets: &RenderSecrets,
    templates: &Templates,
) -> Result<Vec<Artifact>, Vec<Diagnostic>> {
    let mut files: Vec<Artifact> = pki.files.get(&node.name).cloned().unwrap_or_default();
    if let Some(config) = kubeadm_config(cluster, node, pki, secrets).map_err(|e| vec![e])? {
        add(&mut files, KUBEADM_CONFIG, 0o600, Ok(config))?;
    }
    if let Some(patch) = kubeadm::kubelet_patch(node) {
        let text = yaml::to_yaml(&patch)
            .map_err(|e| vec![internal(format!("kubelet patch of `{}`: {e}", node.name))])?;
        add(&mut files, kubeadm::KUBELET_PATCH, 0o644, Ok(text))?;
    }
    if runs_kubelet(node) {
        add(
            &mut files,
            SYSCTL_CONF,
            0o644,
            templates.render(
                "99-kubernetes.conf",
                &templates::cluster_only_context(cluster),
            ),
        )?;
        add(
            &mut files,
            MODULES_CONF,
            0o644,
            templates.render("kubernetes.conf", &templates::cluster_only_context(cluster)),
        )?;
    }
    if cluster.holds_vip(node) {
        add_vip_files(&mut files, cluster, node, secrets, templates)?;
    }
    if cluster.runs_tcp_proxy(node) {
        add_proxy_files(&mut files, cluster, node, pki, templates)?;
    }
    if node.has(Role::ControlPlane) {
        add_api_server_files(&mut files, cluster)?;
    }
    if runs_kube_vip(cluster, node) {
        let pod = yaml::to_yaml(&kube_vip::pod(cluster, node))
            .map_err(|e| internal(format!("kube-vip manifest of `{}`: {e}", node.name)));
        add(
            &mut files,
            kube_vip_manifest_path(cluster, node),
            0o600,
            pod,
        )?;
    }
    let etcd_keys = if runs_etcd_unit(cluster, node) {
        add_etcd_unit(&mut files, cluster, node, templates)?
    } else {
        Vec::new()
    };
    for f in prepare::files(cluster, node, templates).map_err(|e| vec![e])? {
        files.retain(|g| g.path != f.path);
        files.push(f);
    }
    if is_first_control_plane(cluster, node) {
        if let Some(cni) = &cluster.network.cni {
            if cni.contents.is_empty() {
                return Err(vec![internal(format!(
                    "network.cni.manifest `{}` was not read before rendering",
                    cni.manifest
                ))]);
            }
            add(&mut files, CNI_MANIFEST, 0o644, Ok(cni.contents.clone()))?;
        }
    }
    add_bootstrap(&mut files, cluster, node, templates, etcd_keys)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn has(files: &[Artifact], path: &str) -> bool {
    files.iter().any(|f| f.path == path)
}

/// Puts `contents` at `path`, replacing a file of the same path.
fn add(
    files: &mut Vec<Artifact>,
    path: &str,
    mode: u32,
    contents: Result<String, Diagnostic>,
) -> Result<(), Vec<Diagnostic>> {
    let text = contents.map_err(|e| vec![e])?;
    files.retain(|f| f.path != path);
    files.push(Artifact::new(path, mode, text));
    Ok(())
}

/// keepalived.conf and its health check, on a node that holds the VIP.
fn add_vip_files(
    files: &mut Vec<Artifact>,
    cluster: &Cluster,
    node: &Node,
    secrets: &RenderSecrets,
    templates: &Templates,
) -> Result<(), Vec<Diagnostic>> {
    add(
        files,
        KEEPALIVED_CONF,
        0o600,
        templates.render(
            "keepalived.conf",
            &templates::keepalived_context(cluster, node, secrets),
        ),
    )?;
    add(
        files,
        CHECK_APISERVER,
        0o755,
        templates.render(
            "check_apiserver.sh",
            &templates::check_apiserver_context(cluster, node),
        ),
    )?;
    Ok(())
}

/// The TCP proxy's configuration (haproxy with the CA it verifies against, or nginx).
fn add_proxy_files(
    files: &mut Vec<Artifact>,
    cluster: &Cluster,
    node: &Node,
    pki: &IssuedPki,
    templates: &Templates,
) -> Result<(), Vec<Diagnostic>> {
    match cluster.control_plane.load_balancer.kind {
        LoadBalancerKind::Haproxy => {
            add(
                files,
                HAPROXY_CFG,
                0o644,
                templates.render("haproxy.cfg", &templates::haproxy_context(cluster, node)),
            )?;
            // haproxy verifies each kube-apiserver against the cluster CA.
            if !has(files, CA_CERT) {
                if pki.ca_cert_pem.is_empty() {
                    return Err(vec![internal(format!(
                        "node `{}` runs haproxy but the issued PKI has no CA certificate",
                        node.name
                    ))]);
                }
                files.push(Artifact::new(CA_CERT, 0o644, pki.ca_cert_pem.clone()));
            }
        }
        LoadBalancerKind::Nginx => {
            add(
                files,
                NGINX_CONF,
                0o644,
                templates.render("nginx.conf", &templates::nginx_context(cluster, node)),
            )?;
        }
        // keepalived alone, kube-vip and an external load balancer run no proxy here.
        LoadBalancerKind::Keepalived | LoadBalancerKind::KubeVip | LoadBalancerKind::External => {}
    }
    Ok(())
}

/// The kube-apiserver's audit policy and OIDC CA, when configured.
fn add_api_server_files(
    files: &mut Vec<Artifact>,
    cluster: &Cluster,
) -> Result<(), Vec<Diagnostic>> {
    let api = &cluster.components.api_server;
    if let Some(audit) = &api.audit {
        add(
            files,
            AUDIT_POLICY_PATH,
            0o644,
            Ok(audit_policy::policy_text(&audit.policy)),
        )?;
    }
    if let Some(ca) = api.oidc.as_ref().and_then(|o| o.ca.as_ref()) {
        let mut pem = ca.clone();
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        add(files, OIDC_CA_PATH, 0o644, Ok(pem))?;
    }
    Ok(())
}

/// etcd.service; the member's key files (which the PKI must have issued) as absolute paths.
fn add_etcd_unit(
    files: &mut Vec<Artifact>,
    cluster: &Cluster,
    node: &Node,
    templates: &Templates,
) -> Result<Vec<String>, Vec<Diagnostic>> {
    let mut etcd_keys = Vec::new();
    for key in ETCD_MEMBER_KEYS {
        if !has(files, key) {
            return Err(vec![internal(format!(
                "node `{}` runs etcd but the issued PKI has no {key}",
                node.name
            ))]);
        }
        etcd_keys.push(format!("/{key}"));
    }
    add(
        files,
        ETCD_UNIT,
        0o644,
        templates.render("etcd.service", &templates::etcd_unit_context(cluster, node)),
    )?;
    Ok(etcd_keys)
}

/// bootstrap.sh, which knows the node's private files and the digest of their archive.
fn add_bootstrap(
    files: &mut Vec<Artifact>,
    cluster: &Cluster,
    node: &Node,
    templates: &Templates,
    etcd_keys: Vec<String>,
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
    add(
        files,
        BOOTSTRAP,
        0o755,
        templates.render("bootstrap.sh", &context),
    )?;
    Ok(())
}
