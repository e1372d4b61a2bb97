//! `state.json`: what a build says the live cluster is, recorded in the bundle so that the
//! next build can be planned against it (`hac plan --from`, `hac build --from`). Versioned
//! (`"format": "hac-state/1"`) and documented field by field in docs/state.md. A pure
//! function of the model and the rendered bundle: no clock, and nothing secret (certificate
//! serials, validity and SANs are public; the bootstrap token's id is, its secret half is not
//! written).

use hac_model::{Artifact, Bundle, Cluster, EtcdMember, EtcdTopology, RenderSecrets};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The file's name at the bundle's root.
pub const STATE_FILE: &str = "state.json";
/// The format this hac writes and reads.
pub const FORMAT: &str = "hac-state/1";

/// The whole file. Every list is sorted (nodes and members by name, certificates by their
/// first file), so the same build gives the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub format: String,
    pub cluster: String,
    pub kubernetes_version: String,
    /// `kubeadm.k8s.io/v1beta3` or `v1beta4`.
    pub kubeadm_api: String,
    /// RFC 3339: the notBefore of every certificate.
    pub epoch: String,
    pub control_plane: ControlPlaneState,
    pub nodes: Vec<NodeState>,
    pub etcd: EtcdState,
    pub pki: PkiState,
    pub certificates: Vec<CertificateState>,
    pub bootstrap_token: TokenState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneState {
    /// `host:port` of controlPlaneEndpoint.
    pub endpoint: String,
    pub vip: Option<String>,
    /// haproxy, nginx, keepalived, kube-vip or external.
    pub load_balancer: String,
    pub placement: String,
    pub api_server_port: u16,
    /// Nodes running a kube-apiserver.
    pub apiservers: Vec<String>,
    /// Nodes holding the VIP (keepalived or kube-vip).
    pub vip_holders: Vec<String>,
    /// Nodes running haproxy or nginx.
    pub load_balancers: Vec<String>,
    /// keepalived's VRRP `virtual_router_id` for the VIP, where keepalived holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrrp_router_id: Option<i64>,
    /// The VIP being moved away from, still held beside `vip` (a build between two VIPs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_vip: Option<PreviousVipState>,
    /// The endpoint's port being moved away from, still served by the proxies (a build
    /// between two ports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_port: Option<u16>,
}

/// The previous VIP of a build between two VIPs and the VRRP router id that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousVipState {
    pub address: String,
    pub vrrp_router_id: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    pub name: String,
    pub roles: Vec<String>,
    pub address: String,
    pub zone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EtcdState {
    /// `stacked` or `external`.
    pub mode: String,
    pub version: String,
    pub members: Vec<MemberState>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberState {
    pub name: String,
    pub peer_url: String,
    pub client_url: String,
    /// External etcd: the `--initial-cluster` entries its unit has (a member that exists
    /// keeps them in the next build, `--from`); empty for stacked etcd (kubeadm's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initial_cluster: Vec<String>,
    /// External etcd: its `--initial-cluster-state`, `new` or `existing`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub initial_cluster_state: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PkiState {
    pub algorithm: String,
    pub rotation: u64,
    /// RFC 3339: the leaves' notBefore (`pki.leafEpoch`, else `epoch`).
    #[serde(default)]
    pub leaf_epoch: String,
    pub ca_validity_days: u32,
    pub cert_validity_days: u32,
    /// `pki.caRotation` (left out when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ca_rotation: u64,
    /// The service-account signing key: `sha256:<hex>` of its public key (`sa.pub`). Another
    /// secrets file or key algorithm changes it, and with it every ServiceAccount token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_key: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One certificate, wherever it is placed (a CA is on every control plane: one entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateState {
    pub subject: String,
    pub issuer: String,
    /// Lower-case hex, as `openssl x509 -serial` prints it (without colons).
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// `DNS:name` and `IP:address` entries, in the certificate's order.
    pub sans: Vec<String>,
    /// `<host>:<path>` of every file holding it (a kubeconfig for its client certificate).
    pub files: Vec<String>,
    /// A CA's public key: `sha256:<hex>` of its SubjectPublicKeyInfo (for the cluster CA,
    /// kubeadm's `--discovery-token-ca-cert-hash`); empty for a leaf. A CA certificate
    /// renewed with the same key keeps it, and the leaves it signed stay valid under it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub public_key: String,
    /// A CA's certificate (PEM; public): a build `--from` this state keeps trusting it while
    /// the CA rotates to a new key. Empty for a leaf.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certificate: String,
    /// While a CA rotates to a new key: the public keys (as `public_key`) of the other CA
    /// certificates its trust files hold beside it, the CA being replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_trusted: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenState {
    /// The token's public id (the part before the dot); the secret half is never written.
    pub id: String,
    /// kubeadm's `ttl`: `24h0m0s`; `0s` never expires.
    pub ttl: String,
    /// When it expires: the ttl counts from `kubeadm init` on the first control plane, a
    /// moment no build knows, so this says so in words.
    pub expires: String,
}

impl State {
    /// The state of `cluster` as built into `bundle` (certificates are read from the bundle's
    /// files, so an adopted CA's own dates are recorded too).
    pub fn of(
        cluster: &Cluster,
        bundle: &Bundle,
        secrets: &RenderSecrets,
    ) -> Result<State, String> {
        let token_id = secrets
            .bootstrap_token
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let ttl = cluster.bootstrap_token_ttl();
        let expires = if cluster.pki.bootstrap_token_ttl_hours == 0 {
            "never".to_string()
        } else {
            format!(
                "{} hours after `kubeadm init` on the first control plane",
                cluster.pki.bootstrap_token_ttl_hours
            )
        };
        Ok(State {
            format: FORMAT.to_string(),
            cluster: cluster.name.clone(),
            kubernetes_version: cluster.kubernetes_version.to_string(),
            kubeadm_api: cluster.kubeadm_api().api_version().to_string(),
            epoch: hac_check::convert::format_rfc3339(cluster.epoch.unix),
            control_plane: control_plane_state(cluster),
            nodes: cluster
                .nodes
                .iter()
                .map(|n| NodeState {
                    name: n.name.clone(),
                    roles: n.roles.iter().map(|r| r.as_str().to_string()).collect(),
                    address: n.address.to_string(),
                    zone: n.zone.clone(),
                })
                .collect(),
            etcd: EtcdState {
                mode: cluster.etcd.topology.as_str().to_string(),
                version: match cluster.etcd.topology {
                    EtcdTopology::External => cluster.etcd.version.to_string(),
                    EtcdTopology::Stacked => {
                        hac_model::default_etcd_version(cluster.kubernetes_version).to_string()
                    }
                },
                members: cluster
                    .etcd_members()
                    .map(|m| {
                        let (initial_cluster, initial_cluster_state) = match cluster.etcd.topology {
                            EtcdTopology::External => cluster.etcd_bootstrap(m),
                            EtcdTopology::Stacked => (Vec::new(), String::new()),
                        };
                        MemberState {
                            name: m.name.clone(),
                            peer_url: Cluster::etcd_peer_url(m),
                            client_url: format!("https://{}:2379", m.address),
                            initial_cluster,
                            initial_cluster_state,
                        }
                    })
                    .collect(),
            },
            pki: PkiState {
                algorithm: cluster.pki.algorithm.as_str().to_string(),
                rotation: cluster.pki.rotation,
                leaf_epoch: hac_check::convert::format_rfc3339(cluster.leaf_not_before()),
                ca_validity_days: cluster.pki.ca_validity_days,
                cert_validity_days: cluster.pki.cert_validity_days,
                ca_rotation: cluster.pki.ca_rotation,
                service_account_key: service_account_key(&bundle.hosts),
            },
            certificates: certificates(&bundle.hosts)?,
            bootstrap_token: TokenState {
                id: token_id,
                ttl,
                expires,
            },
        })
    }

    /// The file as written: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The bundle-level artifact (0644: nothing in it is secret).
    pub fn artifact(&self) -> Artifact {
        Artifact::new(STATE_FILE, 0o644, self.to_json())
    }

    /// The VIP the next build (`next`, with these as the running cluster's state) holds beside
    /// its own while it moves: this state's VIP, when `next` moves it and keepalived holds it.
    pub fn previous_vip_for(&self, next: &hac_model::Cluster) -> Option<hac_model::PreviousVip> {
        let address: std::net::Ipv4Addr = self.control_plane.vip.as_deref()?.parse().ok()?;
        let held = next.nodes.iter().any(|n| next.holds_vip(n));
        (next.control_plane.vip? != address && held).then_some(hac_model::PreviousVip {
            address,
            router_id: self.control_plane.vrrp_router_id?,
        })
    }

    /// The endpoint port the next build (`next`) serves beside its own while it moves: this
    /// state's port, when `next` moves it and runs the same TCP proxy (haproxy or nginx).
    pub fn previous_port_for(&self, next: &hac_model::Cluster) -> Option<u16> {
        let port: u16 = self
            .control_plane
            .endpoint
            .rsplit_once(':')?
            .1
            .parse()
            .ok()?;
        let cp = &next.control_plane;
        let same_proxy = cp.load_balancer.kind.is_tcp_proxy()
            && self.control_plane.load_balancer == cp.load_balancer.kind.as_str();
        (cp.port != port && same_proxy).then_some(port)
    }

    /// The etcd membership: each member's name and peer URL, in the recorded order (a change
    /// here is a member added, removed or moved).
    pub fn etcd_membership(&self) -> Vec<(&str, &str)> {
        self.etcd
            .members
            .iter()
            .map(|m| (m.name.as_str(), m.peer_url.as_str()))
            .collect()
    }

    /// This state's three CAs, each by the file that holds it (an adopted cluster CA has a
    /// subject of its own).
    pub fn cas(&self) -> BTreeMap<hac_model::archive::CaName, &CertificateState> {
        self.certificates
            .iter()
            .filter(|c| c.subject == c.issuer)
            .filter_map(|c| Some((c.files.iter().find_map(|f| ca_name(f))?, c)))
            .collect()
    }

    /// This state's CA certificates, as the next build's `pki.previous_cas` takes them: a CA
    /// the next build gives a new key is trusted beside it.
    pub fn ca_certificates(&self) -> BTreeMap<hac_model::archive::CaName, String> {
        self.cas()
            .into_iter()
            .filter(|(_, c)| !c.certificate.is_empty())
            .map(|(name, c)| (name, c.certificate.clone()))
            .collect()
    }

    /// Reads a `state.json`; refuses another format.
    pub fn parse(text: &[u8]) -> Result<State, String> {
        let value: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "format `{other}` is not `{FORMAT}` (written by another version of hac)"
                ))
            }
            None => return Err("no `format` field".to_string()),
        }
        serde_json::from_value(value).map_err(|e| format!("not a {FORMAT} file: {e}"))
    }

    /// The etcd members of this state, as the model's `etcd.existing_members` takes them.
    pub fn etcd_members(&self) -> Vec<EtcdMember> {
        self.etcd
            .members
            .iter()
            .map(|m| EtcdMember {
                name: m.name.clone(),
                peer_url: m.peer_url.clone(),
                initial_cluster: m.initial_cluster.clone(),
                initial_state: m.initial_cluster_state.clone(),
            })
            .collect()
    }

    /// The certificates' validity windows, for the expiry check (`hac build` knows them only
    /// once issued: an adopted CA has its own dates). Each named by its first file.
    pub fn cert_windows(&self) -> Vec<hac_check::CertWindow> {
        self.certificates
            .iter()
            .filter_map(|c| {
                Some(hac_check::CertWindow {
                    name: c.files.first()?.clone(),
                    not_before: hac_check::convert::parse_rfc3339(&c.not_before)?,
                    not_after: hac_check::convert::parse_rfc3339(&c.not_after)?,
                })
            })
            .collect()
    }
}

/// The CA a trust file (`<host>:<path>`) holds; `None` for any other file.
pub fn ca_name(file: &str) -> Option<hac_model::archive::CaName> {
    use hac_model::archive::{CaName, CA_CERT, WORKER_CA};
    let path = file.split_once(':').map_or(file, |(_, p)| p);
    match path {
        p if p == CA_CERT || p == WORKER_CA => Some(CaName::Cluster),
        "etc/kubernetes/pki/front-proxy-ca.crt" => Some(CaName::FrontProxy),
        "etc/kubernetes/pki/etcd/ca.crt" => Some(CaName::Etcd),
        _ => None,
    }
}

/// Every certificate of every host: `*.crt` files and the client certificates embedded in
/// kubeconfigs (`etc/kubernetes/*.conf`). Private keys are never looked at.
fn certificates(hosts: &BTreeMap<String, Vec<Artifact>>) -> Result<Vec<CertificateState>, String> {
    // (issuer, serial) → the certificate; the first file that holds it orders the list.
    let mut by_id: BTreeMap<(String, String), CertificateState> = BTreeMap::new();
    for (host, files) in hosts {
        for file in files {
            let ders = if file.path.ends_with(".crt") {
                pem_ders(&file.contents)
            } else if file.path.starts_with("etc/kubernetes/") && file.path.ends_with(".conf") {
                kubeconfig_cert(&file.contents).into_iter().collect()
            } else {
                continue;
            };
            let Some((der, others)) = ders.split_first() else {
                continue;
            };
            // hac issues every certificate it parses here; one given in the cluster file
            // (e.g. an OIDC issuer's CA) that X.509 parsing refuses is the user's, not the
            // cluster's, and is left out.
            let Ok(mut cert) = describe(der) else {
                continue;
            };
            if !cert.public_key.is_empty() {
                // A CA: its certificate, and the CAs its trust file holds beside it.
                cert.certificate = pem_text(der);
                cert.also_trusted = others
                    .iter()
                    .filter_map(|d| describe(d).ok())
                    .map(|c| c.public_key)
                    .filter(|k| !k.is_empty())
                    .collect();
            }
            let entry = by_id
                .entry((cert.issuer.clone(), cert.serial.clone()))
                .or_insert(cert);
            entry.files.push(format!("{host}:{}", file.path));
        }
    }
    let mut out: Vec<CertificateState> = by_id.into_values().collect();
    for c in &mut out {
        c.files.sort();
    }
    out.sort_by(|a, b| a.files.first().cmp(&b.files.first()));
    Ok(out)
}

/// `sha256:<hex>` of the service-account public key (the DER of `sa.pub`), where a control
/// plane holds it.
fn service_account_key(hosts: &BTreeMap<String, Vec<Artifact>>) -> String {
    use sha2::Digest as _;
    hosts
        .values()
        .flatten()
        .find(|f| f.path == "etc/kubernetes/pki/sa.pub")
        .and_then(|f| x509_parser::pem::parse_x509_pem(&f.contents).ok())
        .map(|(_, pem)| {
            let digest = sha2::Sha256::digest(&pem.contents);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        })
        .unwrap_or_default()
}

fn pem_der(bytes: &[u8]) -> Option<Vec<u8>> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(bytes).ok()?;
    (pem.label == "CERTIFICATE").then_some(pem.contents)
}

/// Every certificate of a PEM file, in order (a trust bundle holds more than one).
fn pem_ders(bytes: &[u8]) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(bytes)
        .map_while(Result::ok)
        .filter(|p| p.label == "CERTIFICATE")
        .map(|p| p.contents)
        .collect()
}

/// A certificate as PEM text, 64 characters a line.
fn pem_text(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The `client-certificate-data` of a kubeconfig, decoded.
fn kubeconfig_cert(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(bytes).ok()?;
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("client-certificate-data:"))?;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(line.trim().trim_matches('"'))
        .ok()?;
    pem_der(&pem)
}

fn describe(der: &[u8]) -> Result<CertificateState, String> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let fmt = |t: ASN1Time| hac_check::convert::format_rfc3339(t.timestamp());
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(format!("DNS:{d}")),
                GeneralName::IPAddress(ip) => sans.push(match ip.len() {
                    4 => format!("IP:{}", std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])),
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(ip);
                        format!("IP:{}", std::net::Ipv6Addr::from(a))
                    }
                    _ => "IP:?".to_string(),
                }),
                other => sans.push(format!("{other}")),
            }
        }
    }
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let public_key = if subject == issuer {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(cert.public_key().raw);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    } else {
        String::new()
    };
    Ok(CertificateState {
        subject,
        issuer,
        public_key,
        serial: cert
            .raw_serial()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        not_before: fmt(cert.validity().not_before),
        not_after: fmt(cert.validity().not_after),
        sans,
        files: Vec::new(),
        certificate: String::new(),
        also_trusted: Vec::new(),
    })
}

/// The control plane's part of the state: endpoint, VIP and who serves them.
fn control_plane_state(cluster: &Cluster) -> ControlPlaneState {
    let cp = &cluster.control_plane;
    let names = |pick: &dyn Fn(&hac_model::Node) -> bool| -> Vec<String> {
        cluster
            .nodes
            .iter()
            .filter(|n| pick(n))
            .map(|n| n.name.clone())
            .collect()
    };
    ControlPlaneState {
        endpoint: cluster.control_plane_endpoint(),
        vip: cp.vip.map(|v| v.to_string()),
        load_balancer: cp.load_balancer.kind.as_str().to_string(),
        placement: cp.load_balancer.placement.as_str().to_string(),
        api_server_port: cp.api_server_port,
        apiservers: names(&|n| n.has(hac_model::Role::ControlPlane)),
        vip_holders: names(&|n| {
            cluster.holds_vip(n)
                || (cp.load_balancer.kind == hac_model::LoadBalancerKind::KubeVip
                    && n.has(hac_model::Role::ControlPlane))
        }),
        load_balancers: names(&|n| cluster.runs_tcp_proxy(n)),
        vrrp_router_id: cluster
            .nodes
            .iter()
            .any(|n| cluster.holds_vip(n))
            .then_some(cp.keepalived.router_id),
        previous_port: cp.previous_port,
        previous_vip: cp.previous_vip.map(|p| PreviousVipState {
            address: p.address.to_string(),
            vrrp_router_id: p.router_id,
        }),
    }
}
