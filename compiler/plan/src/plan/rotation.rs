//! A CA rotated to a new key (`pki.caRotation`, or another adopted cluster CA), over two
//! builds, kubeadm's manual CA rotation in hac's terms:
//!
//! 1. The build that gives a CA its new key, made `--from` the running bundle, writes trust
//!    bundles: every file and kubeconfig that trusts the CA holds the new certificate and the
//!    old one. Its plan first appends the new certificate to each host's trust files in place,
//!    keeping its certificates (the old CA still signs them), host by host with the restarts of
//!    a renewal; only when every host trusts both does it roll out the certificates the new CA
//!    signed, host by host again, and publish the bundle in `cluster-info`.
//! 2. The next build from that bundle, with no other change, trusts the new CA alone. Its plan
//!    first has every kubelet ask for a new client certificate (TLS bootstrap with the bootstrap
//!    token: the controller-manager signed the old ones with the old key), then rolls out the
//!    trust files without the old CA.
//!
//! The service-account key and the encryption key stay: another key algorithm or secrets file,
//! which change those too, stays refused (E0909).

use super::{
    has, install, renewal_action, restart_and_gate, token_step, Ctx, Sim, Step, CA_CERT, KUBECTL,
};
use crate::state::{CertificateState, State};
use hac_model::archive::CaName;
use std::collections::BTreeMap;

/// What happens to the CAs between two states.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum CaChange {
    /// The same keys (a CA renewed under its key rolls out with the leaves).
    Kept,
    /// These CAs get a new key, and the next build trusts the old one beside it.
    Rotated(Vec<CaName>),
    /// These CAs stop trusting the key they replaced.
    Dropped(Vec<CaName>),
}

fn label(name: CaName) -> &'static str {
    match name {
        CaName::Cluster => "cluster CA",
        CaName::FrontProxy => "front-proxy CA",
        CaName::Etcd => "etcd CA",
    }
}

fn labels(names: &[CaName]) -> String {
    let all: Vec<&str> = names.iter().map(|n| label(*n)).collect();
    all.join(", ")
}

/// How the CAs change from `prev` to `next`, or why that cannot be planned.
pub(super) fn ca_change(prev: &State, next: &State) -> Result<CaChange, String> {
    let (a, b) = (prev.cas(), next.cas());
    let (mut rotated, mut dropped) = (Vec::new(), Vec::new());
    for (name, p) in &a {
        let Some(n) = b.get(name) else {
            return Err(format!("the {} would be gone", label(*name)));
        };
        let same = |p: &CertificateState, n: &CertificateState| {
            p.subject == n.subject && p.serial == n.serial
        };
        // A state.json of an older hac records no keys: the same CAs are no change.
        if same(p, n) && p.also_trusted == n.also_trusted {
            continue;
        }
        if p.public_key.is_empty() {
            return Err("a CA changes, and the previous build's state.json does not record the CAs' public keys (written by an older hac): hac cannot tell a renewal under the same key from a new key".to_string());
        }
        if p.public_key == n.public_key {
            match (p.also_trusted.is_empty(), n.also_trusted.is_empty()) {
                (true, true) => {} // renewed under the same key
                (false, true) => dropped.push(*name),
                _ => {
                    return Err(format!(
                        "the {} would trust another CA beside itself",
                        label(*name)
                    ))
                }
            }
            continue;
        }
        if !p.also_trusted.is_empty() {
            return Err(format!("the {} gets a new key while the bundle the cluster runs still trusts the key it replaced (a rotation not finished): finish that rotation first", label(*name)));
        }
        if n.also_trusted != [p.public_key.clone()] {
            let why = if p.certificate.is_empty() {
                " (the previous state.json does not record the CA certificates: it was written by an older hac)"
            } else {
                " (was it built without `--from` the running bundle?)"
            };
            return Err(format!("the {} gets a new key and the new bundle does not trust the old one beside it{why}: every certificate would be re-issued under a CA the running components do not trust", label(*name)));
        }
        rotated.push(*name);
    }
    if let Some(name) = b.keys().find(|k| !a.contains_key(*k)) {
        return Err(format!("a new {} would appear", label(*name)));
    }
    if !rotated.is_empty() {
        if prev.pki.algorithm != next.pki.algorithm {
            return Err("another key algorithm gives every key a new one, the service-account key too: every ServiceAccount token in the cluster would be refused".to_string());
        }
        if prev.pki.service_account_key.is_empty() {
            return Err("the CAs get new keys, and the previous state.json does not record the service-account key (written by an older hac): hac cannot tell a CA rotation from another secrets file".to_string());
        }
        if prev.pki.service_account_key != next.pki.service_account_key {
            return Err("the CAs get new keys from another secrets file, which changes the service-account key (every ServiceAccount token would be refused) and the encryption key (Secrets encrypted at rest could no longer be read) too".to_string());
        }
    }
    match (rotated.is_empty(), dropped.is_empty()) {
        (true, true) => Ok(CaChange::Kept),
        (false, true) => Ok(CaChange::Rotated(rotated)),
        (true, false) => Ok(CaChange::Dropped(dropped)),
        (false, false) => Err(format!(
            "the {} get new keys while the {} drop the keys they replaced",
            labels(&rotated),
            labels(&dropped)
        )),
    }
}

/// Why a CA rotation step cannot share its build with another change (`None`: it does not).
pub(super) fn other_change(prev: &State, next: &State) -> Option<&'static str> {
    if prev.nodes != next.nodes {
        Some("the nodes")
    } else if prev.etcd_membership() != next.etcd_membership() {
        Some("the etcd members")
    } else if prev.kubernetes_version != next.kubernetes_version {
        Some("the Kubernetes version")
    } else if prev.control_plane != next.control_plane {
        Some("the control-plane endpoint or load balancer")
    } else {
        None
    }
}

/// The trust files of `cas` on each host of `s` (`<path>` without the leading `/`).
fn trust_files(s: &State, cas: &[CaName]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, c) in s.cas() {
        if !cas.contains(&name) {
            continue;
        }
        for file in &c.files {
            if let Some((host, path)) = file.split_once(':') {
                out.entry(host.to_string())
                    .or_default()
                    .push(path.to_string());
            }
        }
    }
    for paths in out.values_mut() {
        paths.sort();
    }
    out
}

/// The kubeconfigs hac writes to `host` (they embed the cluster CA), as absolute paths.
fn kubeconfigs(s: &State, host: &str) -> Vec<String> {
    let mut out: Vec<String> = s
        .certificates
        .iter()
        .flat_map(|c| &c.files)
        .filter_map(|f| f.strip_prefix(host)?.strip_prefix(':'))
        .filter(|p| p.starts_with("etc/kubernetes/") && p.ends_with(".conf"))
        .map(|p| format!("/{p}"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Phase one of a rotation: every host trusts the new CAs beside the old ones, its own
/// certificates untouched (the old CA signed them, and its key still signs), one host at a
/// time with the restarts of a renewal. The certificates of the new CAs follow in the
/// renewal roll, once every host trusts both.
pub(super) fn trust_new_cas(ctx: &Ctx<'_>, cas: &[CaName], sim: &Sim, steps: &mut Vec<Step>) {
    for (host, paths) in trust_files(ctx.next, cas) {
        if ctx.failed.contains(&host) {
            continue;
        }
        let files = paths.join(" ");
        let mut commands = vec![
            format!("mkdir -p /etc/hac/ca-rotation && tar -xzf hosts/{host}.tar.gz -C /etc/hac/ca-rotation {files}   # the new bundle's trust files, set aside"),
            format!("{} && rm -rf /etc/hac/ca-rotation   # the new CA after the old one, whose key still signs", paths.iter().map(|f| append_new_ca(f)).collect::<Vec<_>>().join(" && ")),
        ];
        if ctx.next_cps.contains(&host) && paths.iter().any(|p| p == CA_CERT) {
            commands.push(format!("{SIGNER} && sed -i 's#--cluster-signing-cert-file=/{CA_CERT}#--cluster-signing-cert-file=/{SIGNER_CERT}#' {CONTROLLER_MANAGER}   # it signs with one certificate, its key's (the first)"));
            let confs = kubeconfigs(ctx.next, &host);
            commands.push(format!(
                "ca=$(base64 -w0 /{CA_CERT}) && sed -i \"s#certificate-authority-data: .*#certificate-authority-data: $ca#\" {}",
                confs.join(" ")
            ));
        }
        let (restarts, runs_etcd) = restart_and_gate(ctx, &host, &paths);
        commands.extend(restarts);
        steps.push(Step {
            host: host.clone(),
            action: renewal_action(&paths, runs_etcd, sim).replacen(
                "roll out renewed certificates",
                "trust the new CAs beside the old ones",
                1,
            ),
            commands,
            after: sim.availability(),
        });
    }
}

/// The new CA (the first certificate of the trust file set aside) appended to the live trust
/// file `path`, unless it is there already.
fn append_new_ca(path: &str) -> String {
    let staged = format!("/etc/hac/ca-rotation/{path}");
    format!("{{ grep -qF \"$(sed -n 2p {staged})\" /{path} || sed -n '1,/-----END CERTIFICATE-----/p' {staged} >> /{path}; }}")
}

/// Where kube-controller-manager reads the certificate it signs with while `ca.crt` holds
/// two (it refuses a file with more than one).
const SIGNER_CERT: &str = "etc/kubernetes/pki/ca-signer.crt";
const CONTROLLER_MANAGER: &str = "/etc/kubernetes/manifests/kube-controller-manager.yaml";
/// The first certificate of `ca.crt`, the one `ca.key` belongs to, as the signer's.
const SIGNER: &str = "sed -n '1,/-----END CERTIFICATE-----/p' /etc/kubernetes/pki/ca.crt > /etc/kubernetes/pki/ca-signer.crt";

/// Phase two's roll (`steps`, made by the renewal roll): on each control plane, the new
/// CA's certificate becomes the one the controller-manager signs with, beside its new key.
pub(super) fn sign_with_new_ca(ctx: &Ctx<'_>, steps: &mut [Step]) {
    for s in steps {
        s.action = s
            .action
            .replacen(
                "roll out renewed certificates",
                "roll out the certificates of the new CAs",
                1,
            )
            .replacen(
                "publish the renewed cluster CA certificate",
                "publish the cluster CA bundle (new and old)",
                1,
            );
        if ctx.next_cps.contains(&s.host) && s.commands[0] == install(&s.host) {
            s.commands.insert(
                1,
                format!("{SIGNER}   # the controller-manager signs with the new CA and key"),
            );
        }
    }
}

/// The note of a rotation's first plan.
pub(super) fn rotation_note(cas: &[CaName]) -> String {
    format!("the {} get new keys: every host trusts the new and the old CA once this plan is done, and serves certificates of the new one; the old CA is still trusted. Kubeconfigs handed out to people and tools that embed only the old CA stop verifying the apiservers as they serve certificates of the new one (the second half of this plan): put the new bundle's ca.crt (both CAs) in them before, or hand out the new admin.conf after; their client certificates are accepted until the old CA is dropped. Next, build again with `--from` this bundle and no other change, and apply that plan: every kubelet gets a client certificate of the new CA (the controller-manager signed its current one with the old key), then the old CA is dropped", labels(cas))
}

/// Phase two, the build after a rotation: every kubelet's client certificate issued again
/// under the new cluster CA (TLS bootstrap), then every host's trust files without the old
/// CAs, one host at a time.
pub(super) fn drop_old_cas(
    ctx: &Ctx<'_>,
    cas: &[CaName],
    sim: &Sim,
    steps: &mut Vec<Step>,
    notes: &mut Vec<String>,
) {
    let next = ctx.next;
    if cas.contains(&CaName::Cluster) {
        steps.push(token_step(
            ctx,
            sim,
            "before the kubelets ask for new client certificates",
        ));
        let kubelets = next
            .nodes
            .iter()
            .filter(|n| has(n, "control-plane") || has(n, "worker"))
            .filter(|n| !ctx.failed.contains(&n.name));
        for n in kubelets {
            steps.push(Step {
                host: n.name.clone(),
                action: format!("issue the kubelet of {} a client certificate of the new cluster CA (TLS bootstrap with the bootstrap token)", n.name),
                commands: reissue_kubelet_client(&next.control_plane.endpoint, &n.name, &ctx.anchor),
                after: sim.availability(),
            });
        }
    }
    for (host, paths) in trust_files(next, cas) {
        if ctx.failed.contains(&host) {
            continue;
        }
        let mut commands = vec![install(&host)];
        if ctx.next_cps.contains(&host) && paths.iter().any(|p| p == CA_CERT) {
            commands.push(format!("sed -i 's#--cluster-signing-cert-file=/{SIGNER_CERT}#--cluster-signing-cert-file=/{CA_CERT}#' {CONTROLLER_MANAGER} && rm -f /{SIGNER_CERT}   # ca.crt holds one certificate again"));
        }
        let (restarts, runs_etcd) = restart_and_gate(ctx, &host, &paths);
        commands.extend(restarts);
        let title = renewal_action(&paths, runs_etcd, sim);
        steps.push(Step {
            host: host.clone(),
            action: title.replacen(
                "roll out renewed certificates",
                "stop trusting the old CAs",
                1,
            ),
            commands,
            after: sim.availability(),
        });
    }
    if cas.contains(&CaName::Cluster) {
        let mut publish = super::publish_renewed_ca(&ctx.anchor, sim);
        publish.action = publish.action.replacen(
            "publish the renewed cluster CA certificate",
            "publish the new cluster CA alone",
            1,
        );
        steps.push(publish);
    }
    notes.push(format!("the old {} are no longer trusted: client certificates the old CA signed (kubeconfigs handed out before the rotation) are refused now, and pods that cached the old CA bundle need a restart", labels(cas)));
}

/// A kubelet's new client certificate: a bootstrap kubeconfig with the bootstrap token of the
/// node's own kubeadm configuration (the secret is never printed), its current client
/// certificate removed, the kubelet restarted (it asks for a new one, which the
/// controller-manager approves and signs with the new CA), gated on the new file and the Node
/// Ready.
fn reissue_kubelet_client(endpoint: &str, host: &str, anchor: &str) -> Vec<String> {
    vec![
        format!("token=$(sed -n 's/^ *-\\{{0,1\\}} *token: *\"\\{{0,1\\}}\\([a-z0-9]\\{{6\\}}\\.[a-z0-9]\\{{16\\}}\\)\"\\{{0,1\\}} *$/\\1/p' /etc/kubernetes/kubeadm-config.yaml | head -n 1) && [ -n \"$token\" ] && ( umask 077 && printf 'apiVersion: v1\\nkind: Config\\nclusters:\\n- cluster:\\n    certificate-authority-data: %s\\n    server: https://{endpoint}\\n  name: kubernetes\\ncontexts:\\n- context:\\n    cluster: kubernetes\\n    user: tls-bootstrap-token-user\\n  name: tls-bootstrap-token-user@kubernetes\\ncurrent-context: tls-bootstrap-token-user@kubernetes\\nusers:\\n- name: tls-bootstrap-token-user\\n  user:\\n    token: %s\\n' \"$(base64 -w0 /{CA_CERT})\" \"$token\" > /etc/kubernetes/bootstrap-kubelet.conf )   # the bootstrap token of its kubeadm-config.yaml"),
        "rm -f /var/lib/kubelet/pki/kubelet-client-current.pem && systemctl restart kubelet   # it asks for a new client certificate".to_string(),
        "( n=0; until [ -s /var/lib/kubelet/pki/kubelet-client-current.pem ]; do n=$((n+1)); [ $n -lt 60 ] || exit 1; sleep 5; done ) && rm -f /etc/kubernetes/bootstrap-kubelet.conf".to_string(),
        format!("{KUBECTL} wait --for=condition=Ready node/{host} --timeout=300s   # on {anchor}"),
    ]
}
