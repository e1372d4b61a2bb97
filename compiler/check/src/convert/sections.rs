//! Data → model for the cluster's own sections: the root set (`name`, `kubernetesVersion`,
//! `epoch`, `etcd`), `controlPlane`, `network`, `pki`, `outputs` and `nodes`, each read with
//! the schema walk and filled with the defaults of cluster.md.

use super::values::label_value_problem;
use super::walk::{present, present_path, Set};
use super::Converter;
use crate::codes::CheckCode;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Section};
use hac_model::{
    default_etcd_version, Cluster, Cni, ControlPlane, Etcd, Hosts, Keepalived, KubeletSettings,
    LoadBalancer, Network, Node, Origins, Outputs, PkiOptions, Placement, Version,
};
use std::collections::BTreeMap;

impl Converter {
    pub(super) fn cluster(&mut self, data: &DataNode) -> Option<Cluster> {
        let root = self.set(
            data,
            "",
            "an attribute set describing the cluster",
            Section::Root,
        )?;
        let root = &root;
        let name = present(root, "name")
            .and_then(|n| self.string(n, "name", "a string (the cluster name)"));
        let kubernetes_version =
            present(root, "kubernetesVersion").and_then(|n| self.version(n, "kubernetesVersion"));
        let epoch = present(root, "epoch").and_then(|n| self.epoch(n, "epoch"));
        let hosts = self.hosts(root, &Hosts::default(), kubernetes_version);
        let inherited = hosts.clone().unwrap_or_default();
        let nodes =
            present(root, "nodes").and_then(|n| self.nodes(n, &inherited, kubernetes_version));
        let network = self.network(root);
        let pki = self.pki(root);
        let outputs = self.outputs(root);
        let etcd_fields = self.optional_set(root, "etcd", Section::Etcd);
        let cp = self.optional_set(root, "controlPlane", Section::ControlPlane);
        let control_plane = cp.as_ref().and_then(|cp| self.control_plane(cp));
        let components = self.components(root, cp.as_ref());

        let etcd = etcd_fields.and_then(|e| {
            let e = &e;
            let topology = self.choice(e, "topology");
            let version = match present(e, "version") {
                Some(n) => self.version(n, "etcd.version")?,
                None => default_etcd_version(kubernetes_version.unwrap_or(Version::new(1, 30, 0))),
            };
            let binary = self.text_or_default(e, "binary", "a string (an absolute path)")?;
            if !hac_model::is_plain_absolute_path(&binary) {
                let span = present(e, "binary").and_then(DataNode::best_span);
                self.error(
                    CheckCode::InvalidValue,
                    format!("`etcd.binary` must be an absolute path, found {binary:?}"),
                    span,
                )
                .hints
                .push("write the full path of plain characters (letters, digits, `_ . / - +`; no spaces), e.g. \"/usr/local/bin/etcd\"".to_string());
                return None;
            }
            Some(Etcd {
                topology,
                version,
                binary,
                existing_members: None,
            })
        });

        let mut cluster = Cluster {
            name: name?,
            kubernetes_version: kubernetes_version?,
            epoch: epoch?,
            control_plane: control_plane?,
            etcd: etcd?,
            network: network?,
            pki: pki?,
            nodes: nodes?,
            outputs: outputs?,
            components: components?,
            hosts: hosts?,
            origins: Origins::default(),
        };
        // The port default depends on where the load balancer runs (cluster.md).
        if present_path(root, &["controlPlane", "port"]).is_none() {
            let lb = &cluster.control_plane.load_balancer;
            cluster.control_plane.port =
                if lb.kind.is_tcp_proxy() && lb.placement == Placement::ControlPlane {
                    schema::DEFAULT_PROXY_PORT
                } else {
                    schema::DEFAULT_PORT
                };
        }
        cluster.origins = std::mem::take(&mut self.origins);
        Some(cluster)
    }

    fn control_plane(&mut self, cp: &Set) -> Option<ControlPlane> {
        let vip = present(cp, "vip").map(|n| self.ipv4(n, "controlPlane.vip"));
        let endpoint = self.opt_string(cp, "endpoint", "a DNS name or address (a string)");
        // Replaced by the placement-dependent default in `cluster` when absent.
        let port = self
            .opt_number(cp, "port")
            .map(|p| p.unwrap_or(schema::DEFAULT_PORT));
        let api_server_port = self.number(cp, "apiServerPort");
        let cert_sans = match present(cp, "certSANs") {
            None => Some(Vec::new()),
            Some(n) => self.string_list(
                n,
                "controlPlane.certSANs",
                "a list of names and addresses (strings)",
            ),
        };
        let lb = self.optional_set(cp, "loadBalancer", Section::LoadBalancer);
        let load_balancer = lb.and_then(|lb| {
            let kind = self.choice(&lb, "kind");
            let placement = self.choice(&lb, "placement");
            let address = self.opt_string(&lb, "address", "a DNS name or address (a string)")?;
            Some(LoadBalancer {
                kind,
                placement,
                address,
            })
        });
        let ka = self.optional_set(cp, "keepalived", Section::Keepalived);
        let keepalived = ka.and_then(|ka| {
            // Any integer: the rules say when it is outside 1..255 (E0402).
            let router_id = match present(&ka, "routerId") {
                None => schema::DEFAULT_ROUTER_ID,
                Some(n) => match n.value {
                    Data::Int(i) => i,
                    _ => {
                        self.wrong_type(
                            "controlPlane.keepalived.routerId",
                            "an integer in 1..255",
                            n,
                        );
                        return None;
                    }
                },
            };
            let unicast = self.flag(&ka, "unicast");
            Some(Keepalived { router_id, unicast })
        });
        let vip = match vip {
            Some(v) => Some(v?),
            None => None,
        };
        Some(ControlPlane {
            vip,
            endpoint: endpoint?,
            port: port?,
            api_server_port: api_server_port?,
            cert_sans: cert_sans?,
            load_balancer: load_balancer?,
            keepalived: keepalived?,
            // Only `hac build --from` sets it, from the previous build's state.
            previous_vip: None,
            previous_port: None,
        })
    }

    fn network(&mut self, root: &Set) -> Option<Network> {
        let node = present(root, "network")?;
        let net = &self.set(node, "network", "an attribute set", Section::Network)?;
        let pods = present(net, "pods").and_then(|n| self.cidr(n, "network.pods"));
        let services = match present(net, "services") {
            Some(n) => self.cidr(n, "network.services"),
            None => schema::DEFAULT_SERVICES.parse().ok(),
        };
        let dns_domain = self.text_or_default(net, "dnsDomain", "a DNS domain (a string)");
        let node_mask_size = self.number(net, "nodeMaskSize");
        let cni = match present(net, "cni") {
            None => Some(None),
            Some(n) => self
                .set(
                    n,
                    "network.cni",
                    "an attribute set such as { manifest = \"calico.yaml\"; }",
                    Section::Cni,
                )
                .and_then(|cni| present(cni.attrs, "manifest"))
                .and_then(|m| {
                    self.string(
                        m,
                        "network.cni.manifest",
                        "a path relative to the cluster file (a string)",
                    )
                })
                .map(|manifest| {
                    Some(Cni {
                        manifest,
                        contents: String::new(),
                    })
                }),
        };
        Some(Network {
            pods: pods?,
            services: services?,
            dns_domain: dns_domain?,
            node_mask_size: node_mask_size?,
            cni: cni?,
        })
    }

    fn pki(&mut self, root: &Set) -> Option<PkiOptions> {
        let pki = &self.optional_set(root, "pki", Section::Pki)?;
        let ca_validity_days = self.number(pki, "caValidityDays");
        let cert_validity_days = self.number(pki, "certValidityDays");
        let rotation = self.number(pki, "rotation");
        let ca_rotation = self.number(pki, "caRotation");
        let expiry_warning_days = self.number(pki, "expiryWarningDays");
        let leaf_epoch = present(pki, "leafEpoch").map(|n| self.epoch(n, "pki.leafEpoch"));
        let bootstrap_token_ttl_hours = self.number(pki, "bootstrapTokenTtlHours");
        Some(PkiOptions {
            algorithm: self.choice(pki, "algorithm"),
            ca_validity_days: ca_validity_days?,
            cert_validity_days: cert_validity_days?,
            rotation: rotation?,
            ca_rotation: ca_rotation?,
            previous_cas: std::collections::BTreeMap::new(),
            leaf_epoch: match leaf_epoch {
                Some(e) => Some(e?),
                None => None,
            },
            expiry_warning_days: expiry_warning_days?,
            bootstrap_token_ttl_hours: bootstrap_token_ttl_hours?,
        })
    }

    fn outputs(&mut self, root: &Set) -> Option<Outputs> {
        let o = &self.optional_set(root, "outputs", Section::Outputs)?;
        Some(Outputs {
            cloud_init: self.flag(o, "cloudInit"),
            ansible: self.flag(o, "ansible"),
            cloud_init_keys: self.choice(o, "cloudInitKeys"),
        })
    }

    fn nodes(
        &mut self,
        node: &DataNode,
        hosts: &Hosts,
        version: Option<Version>,
    ) -> Option<Vec<Node>> {
        let Data::Attrs(attrs) = &node.value else {
            self.wrong_type(
                "nodes",
                "an attribute set of nodes (hostname = { … })",
                node,
            );
            return None;
        };
        if let Some(span) = node.best_span() {
            self.origins.spans.insert("nodes".to_string(), span);
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (name, value) in attrs {
            match self.node(name, value, hosts, version) {
                Some(n) => out.push(n),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn node(
        &mut self,
        name: &str,
        node: &DataNode,
        cluster_hosts: &Hosts,
        version: Option<Version>,
    ) -> Option<Node> {
        let path = format!("nodes.{name}");
        if let Some(span) = node.key_span {
            self.origins.spans.insert(format!("{path}#name"), span);
        }
        let attrs = &self.set(
            node,
            &path,
            "an attribute set describing the node",
            Section::Node,
        )?;
        let roles = present(attrs, "roles").and_then(|n| self.roles(n, &format!("{path}.roles")));
        let address = present(attrs, "address")
            .and_then(|n| self.node_address(n, &format!("{path}.address")));
        let interface = self.opt_string(attrs, "interface", "an interface name (a string)");
        let zone = self.opt_string(attrs, "zone", "a zone name (a string)");
        let priority = match present(attrs, "priority") {
            None => Some(None),
            Some(n) => match n.value {
                Data::Int(i) => Some(Some(i)),
                _ => {
                    self.wrong_type(
                        &format!("{path}.priority"),
                        "an integer in 1..254, or null",
                        n,
                    );
                    None
                }
            },
        };
        let labels = match present(attrs, "labels") {
            None => Some(BTreeMap::new()),
            Some(n) => self.labels(n, &format!("{path}.labels")),
        };
        let taints = match present(attrs, "taints") {
            None => Some(None),
            Some(n) => self.taints(n, &format!("{path}.taints")).map(Some),
        };
        let kubelet = match present(attrs, "kubelet") {
            None => Some(KubeletSettings::default()),
            Some(_) => self.kubelet(attrs),
        };
        let hosts = match present(attrs, "hosts") {
            None => Some(cluster_hosts.clone()),
            Some(_) => self.hosts(attrs, cluster_hosts, version),
        };
        let interface = match interface? {
            None => None,
            Some(i) => match hac_model::InterfaceName::parse(&i) {
                Some(name) => Some(name),
                None => {
                    self.invalid_interface(attrs, &path, &i);
                    return None;
                }
            },
        };
        let zone = zone?;
        if let Some(z) = zone.as_deref().filter(|z| !hac_model::is_label_value(z)) {
            // The zone becomes the node label topology.kubernetes.io/zone.
            let span = present(attrs, "zone").and_then(DataNode::best_span);
            let problem = label_value_problem(z).unwrap_or_else(|| "it is empty".to_string());
            self.error(
                CheckCode::InvalidValue,
                format!("`{path}.zone` is {z:?}, not a valid Kubernetes label value: {problem}"),
                span,
            )
            .hints
            .push("a zone is 1 to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit, e.g. \"eu-west-1a\"".to_string());
            return None;
        }
        let (address, prefix_len) = address?;
        Some(Node {
            name: name.to_string(),
            roles: roles?,
            address,
            prefix_len,
            interface,
            zone,
            priority: priority?,
            labels: labels?,
            taints: taints?,
            kubelet: kubelet?,
            hosts: hosts?,
        })
    }
}
