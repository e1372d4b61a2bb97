//! Data → model: reads the evaluated `.ha` value (a [`DataNode`] tree) into a typed
//! [`Cluster`], applying the defaults of cluster.md and recording in `origins` where every
//! attribute was written. Every problem found is collected (not just the first), each
//! pointing at the attribute at fault.

use crate::codes::CheckCode;
use hac_core::suggest::did_you_mean;
use hac_core::{Data, DataNode, Diagnostic, Span};
use hac_model::schema::{self, Section};
use hac_model::*;
use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

mod components;
mod hosts;

/// Reads the whole cluster; `Err` holds every conversion error found.
pub fn build_model(data: &DataNode) -> Result<Cluster, Vec<Diagnostic>> {
    let mut conv = Converter {
        diags: Vec::new(),
        origins: Origins::default(),
    };
    let cluster = conv.cluster(data);
    match cluster {
        Some(c) if conv.diags.is_empty() => Ok(c),
        _ => {
            if conv.diags.is_empty() {
                conv.diags.push(
                    Diagnostic::error("the cluster description could not be read")
                        .with_code(CheckCode::WrongType)
                        .with_span_opt(data.best_span()),
                );
            }
            Err(crate::sort_diagnostics(conv.diags))
        }
    }
}

/// "the string \"x\"", "the integer 3", "a list", … for "found …" messages.
pub(crate) fn describe(node: &DataNode) -> String {
    match &node.value {
        Data::Null => "null".to_string(),
        Data::Bool(b) => format!("the boolean {b}"),
        Data::Int(i) => format!("the integer {i}"),
        Data::Float(f) => format!("the float {f}"),
        Data::String(s) => {
            let shown: String = s.chars().take(60).collect();
            let ellipsis = if s.chars().count() > 60 { "…" } else { "" };
            format!("the string {:?}", format!("{shown}{ellipsis}"))
        }
        Data::List(items) => format!("a list of {} element{}", items.len(), plural(items.len())),
        Data::Attrs(_) => "an attribute set".to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

type Attrs = BTreeMap<String, DataNode>;

struct Converter {
    diags: Vec<Diagnostic>,
    origins: Origins,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// An optional attribute: absent and `null` both mean "use the default".
fn present<'d>(attrs: &'d Attrs, key: &str) -> Option<&'d DataNode> {
    attrs.get(key).filter(|n| !matches!(n.value, Data::Null))
}

impl Converter {
    /// `nodes.<name>.interface` is not a Linux interface name.
    fn invalid_interface(&mut self, attrs: &Attrs, path: &str, interface: &str) {
        let span = present(attrs, "interface").and_then(DataNode::best_span);
        self.error(
            CheckCode::InvalidValue,
            format!("`{path}.interface` is {interface:?}, not a network interface name"),
            span,
        )
        .hints
        .push(
            "Linux interface names are 1 to 15 letters, digits, `_`, `.` or `-` (not `.` or `..`), e.g. \"eth0\""
                .to_string(),
        );
    }

    fn error(&mut self, code: CheckCode, message: String, span: Option<Span>) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::error(message)
                .with_code(code)
                .with_span_opt(span),
        );
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn wrong_type(&mut self, path: &str, expected: &str, node: &DataNode) {
        let found = describe(node);
        self.error(
            CheckCode::WrongType,
            format!("wrong type for `{path}`: expected {expected}, found {found}"),
            node.best_span(),
        )
        .span_label = Some(format!("expected {expected}"));
    }

    /// Checks that `node` is a set, records origins of its attributes, reports unknown and
    /// missing required attributes. Returns the attributes when it is a set.
    fn set<'d>(
        &mut self,
        node: &'d DataNode,
        path: &str,
        what: &str,
        known: &[&str],
        required: &[&str],
    ) -> Option<&'d Attrs> {
        let Data::Attrs(attrs) = &node.value else {
            self.wrong_type(
                if path.is_empty() { "the cluster" } else { path },
                what,
                node,
            );
            return None;
        };
        if let Some(span) = node.best_span() {
            self.origins.spans.insert(path.to_string(), span);
        }
        for (key, value) in attrs {
            let sub = join(path, key);
            if let Some(span) = value.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            if !known.contains(&key.as_str()) {
                let where_ = if path.is_empty() {
                    "the cluster".to_string()
                } else {
                    format!("`{path}`")
                };
                let suggestion = did_you_mean(key, known.iter().copied());
                let d = self.error(
                    CheckCode::UnknownAttribute,
                    format!("unknown attribute `{key}` in {where_}"),
                    value.key_span.or(value.span),
                );
                d.span_label = Some("not a known attribute".to_string());
                match suggestion {
                    Some(s) => d.hints.push(format!("did you mean `{s}`?")),
                    None => d.hints.push(format!(
                        "the attributes of {where_} are: {}",
                        known.join(", ")
                    )),
                }
            }
        }
        for key in required {
            if present(attrs, key).is_none() {
                let sub = join(path, key);
                let (msg, span) = match attrs.get(*key) {
                    Some(null) => (
                        format!("required attribute `{sub}` is null"),
                        null.best_span(),
                    ),
                    // Point at where the enclosing set begins, not at all of it: a marker
                    // under a whole file says nothing.
                    None => (
                        format!("missing required attribute `{sub}`"),
                        node.best_span().map(|s| hac_core::Span {
                            end: s.start.saturating_add(1).min(s.end),
                            ..s
                        }),
                    ),
                };
                self.error(CheckCode::MissingAttribute, msg, span)
                    .hints
                    .push(format!("add `{key} = …;` (see cluster.md for its meaning)"));
            }
        }
        Some(attrs)
    }

    /// A sub-set that may be absent; absent → empty attributes.
    fn optional_set<'d>(
        &mut self,
        attrs: &'d Attrs,
        key: &str,
        path: &str,
        section: Section,
    ) -> Option<&'d Attrs> {
        static EMPTY: std::sync::OnceLock<Attrs> = std::sync::OnceLock::new();
        match present(attrs, key) {
            Some(n) => self.set(
                n,
                &join(path, key),
                "an attribute set",
                section.keys(),
                section.required(),
            ),
            None => Some(EMPTY.get_or_init(BTreeMap::new)),
        }
    }

    fn string(&mut self, node: &DataNode, path: &str, expected: &str) -> Option<String> {
        match &node.value {
            Data::String(s) => Some(s.clone()),
            _ => {
                self.wrong_type(path, expected, node);
                None
            }
        }
    }

    fn opt_string(
        &mut self,
        attrs: &Attrs,
        key: &str,
        path: &str,
        expected: &str,
    ) -> Option<Option<String>> {
        match present(attrs, key) {
            None => Some(None),
            Some(n) => self.string(n, &join(path, key), expected).map(Some),
        }
    }

    fn boolean(&mut self, attrs: &Attrs, key: &str, path: &str, default: bool) -> bool {
        match present(attrs, key) {
            None => default,
            Some(n) => match n.value {
                Data::Bool(b) => b,
                _ => {
                    self.wrong_type(&join(path, key), "a boolean", n);
                    default
                }
            },
        }
    }

    /// An integer in `lo..=hi`; `None` when absent; errors recorded.
    fn int_in(
        &mut self,
        attrs: &Attrs,
        key: &str,
        path: &str,
        (lo, hi): (i64, i64),
    ) -> Result<Option<i64>, ()> {
        let Some(n) = present(attrs, key) else {
            return Ok(None);
        };
        let sub = join(path, key);
        match n.value {
            Data::Int(i) if (lo..=hi).contains(&i) => Ok(Some(i)),
            Data::Int(i) => {
                self.error(
                    CheckCode::OutOfRange,
                    format!("`{sub}` is {i}, outside the valid range {lo}..{hi}"),
                    n.best_span(),
                )
                .span_label = Some(format!("must be in {lo}..{hi}"));
                Err(())
            }
            _ => {
                self.wrong_type(&sub, "an integer", n);
                Err(())
            }
        }
    }

    fn port(&mut self, attrs: &Attrs, key: &str, path: &str) -> Option<u16> {
        self.int_in(attrs, key, path, schema::PORT_RANGE)
            .ok()
            .flatten()
            .and_then(|p| u16::try_from(p).ok())
    }

    fn enum_value<T: Copy>(
        &mut self,
        node: &DataNode,
        path: &str,
        what: &str,
        all: &[(&'static str, T)],
    ) -> Option<T> {
        let names: Vec<&str> = all.iter().map(|(s, _)| *s).collect();
        let Data::String(s) = &node.value else {
            self.wrong_type(path, &format!("{what} (a string)"), node);
            return None;
        };
        if let Some((_, v)) = all.iter().find(|(n, _)| n == s) {
            return Some(*v);
        }
        let suggestion = did_you_mean(s, names.iter().copied());
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        let d = self.error(
            CheckCode::InvalidEnum,
            format!(
                "invalid {what} {s:?} for `{path}`: expected one of {}",
                quoted.join(", ")
            ),
            node.best_span(),
        );
        d.span_label = Some(format!("not a valid {what}"));
        if let Some(sug) = suggestion {
            d.hints.push(format!("did you mean \"{sug}\"?"));
        }
        None
    }

    fn opt_enum<T: Copy>(
        &mut self,
        attrs: &Attrs,
        key: &str,
        path: &str,
        what: &str,
        all: &[(&'static str, T)],
        default: T,
    ) -> T {
        match present(attrs, key) {
            None => default,
            Some(n) => self
                .enum_value(n, &join(path, key), what, all)
                .unwrap_or(default),
        }
    }

    fn cluster(&mut self, data: &DataNode) -> Option<Cluster> {
        let root = self.set(
            data,
            "",
            "an attribute set describing the cluster",
            Section::Root.keys(),
            Section::Root.required(),
        )?;
        let name = present(root, "name")
            .and_then(|n| self.string(n, "name", "a string (the cluster name)"));
        let kubernetes_version =
            present(root, "kubernetesVersion").and_then(|n| self.version(n, "kubernetesVersion"));
        let epoch = present(root, "epoch").and_then(|n| self.epoch(n, "epoch"));
        let hosts = self.hosts(root, "", &Hosts::default(), kubernetes_version);
        let inherited = hosts.clone().unwrap_or_default();
        let nodes =
            present(root, "nodes").and_then(|n| self.nodes(n, &inherited, kubernetes_version));
        let network = self.network(root);
        let pki = self.pki(root);
        let outputs = self.outputs(root);
        let etcd_fields = self.optional_set(root, "etcd", "", Section::Etcd);
        let control_plane = self.control_plane(root);
        let components = self.components(root);

        let etcd = etcd_fields.and_then(|e| {
            let topology = self.opt_enum(
                e,
                "topology",
                "etcd",
                "etcd topology",
                &EtcdTopology::ALL,
                EtcdTopology::Stacked,
            );
            let version = match present(e, "version") {
                Some(n) => self.version(n, "etcd.version")?,
                None => default_etcd_version(kubernetes_version.unwrap_or(Version::new(1, 30, 0))),
            };
            let binary = self.opt_string(e, "binary", "etcd", "a string (an absolute path)")?;
            let binary = binary.unwrap_or_else(|| schema::DEFAULT_ETCD_BINARY.to_string());
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

    fn version(&mut self, node: &DataNode, path: &str) -> Option<Version> {
        let s = self.string(node, path, "a version string such as \"1.30.2\"")?;
        match Version::parse(s.trim()) {
            Some(v) if s.trim() == s && !s.contains('+') => Some(v),
            _ => {
                let d = self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, not a version of the form MAJOR.MINOR.PATCH"),
                    node.best_span(),
                );
                d.span_label = Some("expected e.g. \"1.30.2\"".to_string());
                if s.split('.').count() == 2 {
                    d.hints
                        .push(format!("add the patch release, e.g. \"{s}.0\""));
                }
                None
            }
        }
    }

    fn epoch(&mut self, node: &DataNode, path: &str) -> Option<Epoch> {
        let s = self.string(
            node,
            path,
            "an RFC 3339 timestamp such as \"2026-01-01T00:00:00Z\"",
        )?;
        match parse_rfc3339(&s) {
            Some(unix) if unix >= 0 => Some(Epoch { unix }),
            Some(_) => {
                // Archive entries carry the epoch as their mtime: tar cannot store a time
                // before 1970, so `hac build` could not write the bundle.
                self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, before 1970-01-01T00:00:00Z"),
                    node.best_span(),
                )
                .hints
                .push("archives store the epoch as their files' time, which cannot be before 1970; use a recent date".to_string());
                None
            }
            None => {
                self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, not an RFC 3339 timestamp"),
                    node.best_span(),
                )
                .hints
                .push(
                    "write a date and time with a zone, e.g. \"2026-01-01T00:00:00Z\"".to_string(),
                );
                None
            }
        }
    }

    fn ipv4(&mut self, node: &DataNode, path: &str) -> Option<Ipv4Addr> {
        let s = self.string(node, path, "an IPv4 address (a string)")?;
        match s.parse::<Ipv4Addr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.malformed_address(node, path, &s, "an IPv4 address such as \"10.0.2.100\"");
                None
            }
        }
    }

    fn malformed_address(&mut self, node: &DataNode, path: &str, s: &str, expected: &str) {
        if s.contains(':') {
            self.error(
                CheckCode::Malformed,
                format!("`{path}` is {s:?}, an IPv6 address: hac supports IPv4 only"),
                node.best_span(),
            )
            .hints
            .push(format!("write {expected}"));
            return;
        }
        let d = self.error(
            CheckCode::Malformed,
            format!("`{path}` is {s:?}, not {expected}"),
            node.best_span(),
        );
        if s.contains('/') && !expected.contains('/') {
            d.hints
                .push("write the address without a prefix length".to_string());
        }
    }

    fn cidr(&mut self, node: &DataNode, path: &str) -> Option<Ipv4Net> {
        let s = self.string(node, path, "an IPv4 CIDR (a string)")?;
        match s.parse::<Ipv4Net>() {
            Ok(net) if net.trunc() == net => Some(net),
            Ok(net) => {
                self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, which has host bits set"),
                    node.best_span(),
                )
                .hints
                .push(format!("did you mean \"{}\"?", net.trunc()));
                None
            }
            Err(_) => {
                self.malformed_address(node, path, &s, "an IPv4 CIDR such as \"10.244.0.0/16\"");
                None
            }
        }
    }

    fn control_plane(&mut self, root: &Attrs) -> Option<ControlPlane> {
        let cp = self.optional_set(root, "controlPlane", "", Section::ControlPlane)?;
        let p = "controlPlane";
        let vip = present(cp, "vip").map(|n| self.ipv4(n, "controlPlane.vip"));
        let endpoint = self.opt_string(cp, "endpoint", p, "a DNS name or address (a string)");
        let port = match present(cp, "port") {
            Some(_) => self.port(cp, "port", p),
            None => Some(schema::DEFAULT_PORT), // replaced by the placement-dependent default in `cluster`
        };
        let api_server_port = match present(cp, "apiServerPort") {
            Some(_) => self.port(cp, "apiServerPort", p),
            None => Some(schema::DEFAULT_API_SERVER_PORT),
        };
        let cert_sans = match present(cp, "certSANs") {
            None => Some(Vec::new()),
            Some(n) => self.string_list(
                n,
                "controlPlane.certSANs",
                "a list of names and addresses (strings)",
            ),
        };
        let lb = self.optional_set(cp, "loadBalancer", p, Section::LoadBalancer);
        let load_balancer = lb.and_then(|lb| {
            let path = "controlPlane.loadBalancer";
            let kind = self.opt_enum(
                lb,
                "kind",
                path,
                "load balancer kind",
                &LoadBalancerKind::ALL,
                LoadBalancerKind::Haproxy,
            );
            let placement = self.opt_enum(
                lb,
                "placement",
                path,
                "load balancer placement",
                &Placement::ALL,
                Placement::ControlPlane,
            );
            let address =
                self.opt_string(lb, "address", path, "a DNS name or address (a string)")?;
            Some(LoadBalancer {
                kind,
                placement,
                address,
            })
        });
        let ka = self.optional_set(cp, "keepalived", p, Section::Keepalived);
        let keepalived = ka.and_then(|ka| {
            let path = "controlPlane.keepalived";
            let router_id = match present(ka, "routerId") {
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
            let unicast = self.boolean(ka, "unicast", path, false);
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
        })
    }

    fn string_list(&mut self, node: &DataNode, path: &str, expected: &str) -> Option<Vec<String>> {
        let Data::List(items) = &node.value else {
            self.wrong_type(path, expected, node);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let sub = format!("{path}.{i}");
            if let Some(span) = item.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            match &item.value {
                Data::String(s) => out.push(s.clone()),
                _ => {
                    self.wrong_type(&sub, "a string", item);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn network(&mut self, root: &Attrs) -> Option<Network> {
        let node = present(root, "network")?;
        let net = self.set(
            node,
            "network",
            "an attribute set",
            Section::Network.keys(),
            Section::Network.required(),
        )?;
        let pods = present(net, "pods").and_then(|n| self.cidr(n, "network.pods"));
        let services = match present(net, "services") {
            Some(n) => self.cidr(n, "network.services"),
            None => schema::DEFAULT_SERVICES.parse().ok(),
        };
        let dns_domain = self.opt_string(net, "dnsDomain", "network", "a DNS domain (a string)");
        let node_mask_size =
            self.int_in(net, "nodeMaskSize", "network", schema::NODE_MASK_SIZE_RANGE);
        let cni = match present(net, "cni") {
            None => Some(None),
            Some(n) => self
                .set(
                    n,
                    "network.cni",
                    "an attribute set such as { manifest = \"calico.yaml\"; }",
                    Section::Cni.keys(),
                    Section::Cni.required(),
                )
                .and_then(|cni| present(cni, "manifest"))
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
            dns_domain: dns_domain?.unwrap_or_else(|| schema::DEFAULT_DNS_DOMAIN.to_string()),
            node_mask_size: node_mask_size
                .ok()?
                .map_or(schema::DEFAULT_NODE_MASK_SIZE, |m| m as u8),
            cni: cni?,
        })
    }

    fn pki(&mut self, root: &Attrs) -> Option<PkiOptions> {
        let pki = self.optional_set(root, "pki", "", Section::Pki)?;
        let algorithm = self.opt_enum(
            pki,
            "algorithm",
            "pki",
            "key algorithm",
            &KeyAlgorithm::ALL,
            KeyAlgorithm::EcdsaP256,
        );
        let days = schema::VALIDITY_DAYS_RANGE;
        let ca = self.int_in(pki, "caValidityDays", "pki", days);
        let leaf = self.int_in(pki, "certValidityDays", "pki", days);
        let rotation = self.int_in(pki, "rotation", "pki", schema::ROTATION_RANGE);
        let warn = self.int_in(
            pki,
            "expiryWarningDays",
            "pki",
            schema::EXPIRY_WARNING_RANGE,
        );
        let leaf_epoch = present(pki, "leafEpoch").map(|n| self.epoch(n, "pki.leafEpoch"));
        let ttl = self.int_in(
            pki,
            "bootstrapTokenTtlHours",
            "pki",
            schema::BOOTSTRAP_TOKEN_TTL_RANGE,
        );
        Some(PkiOptions {
            algorithm,
            ca_validity_days: ca
                .ok()?
                .map_or(schema::DEFAULT_CA_VALIDITY_DAYS, |d| d as u32),
            cert_validity_days: leaf
                .ok()?
                .map_or(schema::DEFAULT_CERT_VALIDITY_DAYS, |d| d as u32),
            rotation: rotation.ok()?.map_or(0, |r| r as u64),
            leaf_epoch: match leaf_epoch {
                Some(e) => Some(e?),
                None => None,
            },
            expiry_warning_days: warn
                .ok()?
                .map_or(schema::DEFAULT_EXPIRY_WARNING_DAYS, |d| d as u32),
            bootstrap_token_ttl_hours: ttl
                .ok()?
                .map_or(schema::DEFAULT_BOOTSTRAP_TOKEN_TTL_HOURS, |h| h as u32),
        })
    }

    fn outputs(&mut self, root: &Attrs) -> Option<Outputs> {
        let o = self.optional_set(root, "outputs", "", Section::Outputs)?;
        Some(Outputs {
            cloud_init: self.boolean(o, "cloudInit", "outputs", true),
            ansible: self.boolean(o, "ansible", "outputs", true),
            cloud_init_keys: self.opt_enum(
                o,
                "cloudInitKeys",
                "outputs",
                "cloud-init key placement",
                &CloudInitKeys::ALL,
                CloudInitKeys::Separate,
            ),
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
        let attrs = self.set(
            node,
            &path,
            "an attribute set describing the node",
            Section::Node.keys(),
            Section::Node.required(),
        )?;
        let roles = present(attrs, "roles").and_then(|n| self.roles(n, &format!("{path}.roles")));
        let address = present(attrs, "address")
            .and_then(|n| self.node_address(n, &format!("{path}.address")));
        let interface = self.opt_string(attrs, "interface", &path, "an interface name (a string)");
        let zone = self.opt_string(attrs, "zone", &path, "a zone name (a string)");
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
            Some(_) => self.kubelet(attrs, &path),
        };
        let hosts = match present(attrs, "hosts") {
            None => Some(cluster_hosts.clone()),
            Some(_) => self.hosts(attrs, &path, cluster_hosts, version),
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

    fn roles(&mut self, node: &DataNode, path: &str) -> Option<Vec<Role>> {
        let Data::List(items) = &node.value else {
            let d_found = describe(node);
            let d = self.error(
                CheckCode::WrongType,
                format!("wrong type for `{path}`: expected a list of roles, found {d_found}"),
                node.best_span(),
            );
            d.span_label = Some("expected a list of roles".to_string());
            if let Data::String(s) = &node.value {
                d.hints.push(format!("write a list: [ \"{s}\" ]"));
            }
            return None;
        };
        let mut roles = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.enum_value(item, &format!("{path}.{i}"), "role", &Role::ALL) {
                Some(r) => roles.push(r),
                None => ok = false,
            }
        }
        roles.sort();
        roles.dedup();
        ok.then_some(roles)
    }

    fn node_address(&mut self, node: &DataNode, path: &str) -> Option<(Ipv4Addr, Option<u8>)> {
        let s = self.string(
            node,
            path,
            "an IPv4 address with prefix length (a string such as \"10.0.2.10/24\")",
        )?;
        let parsed = match s.split_once('/') {
            None => s.parse::<Ipv4Addr>().ok().map(|a| (a, None)),
            Some((a, p)) => {
                let prefix = if p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()) {
                    p.parse::<u8>().ok()
                } else {
                    None
                };
                match (a.parse::<Ipv4Addr>().ok(), prefix.filter(|p| *p <= 32)) {
                    (Some(a), Some(p)) => Some((a, Some(p))),
                    _ => None,
                }
            }
        };
        if parsed.is_none() {
            self.malformed_address(
                node,
                path,
                &s,
                "an IPv4 address with prefix length such as \"10.0.2.10/24\"",
            );
        }
        parsed
    }

    fn labels(&mut self, node: &DataNode, path: &str) -> Option<BTreeMap<String, String>> {
        let Data::Attrs(attrs) = &node.value else {
            self.wrong_type(path, "an attribute set of label names to strings", node);
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, v) in attrs {
            let sub = join(path, k);
            if let Some(span) = v.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            match self.string(v, &sub, "a string") {
                Some(s) => {
                    if let Some(problem) = qualified_name_problem(k) {
                        ok = false;
                        self.error(
                            CheckCode::InvalidValue,
                            format!("label name {k:?} in `{path}` is not a valid Kubernetes label key: {problem}"),
                            v.key_span.or(v.span),
                        )
                        .hints
                        .push("label keys are an optional DNS prefix and `/`, then up to 63 of a-z A-Z 0-9 `-` `_` `.` starting and ending with a letter or digit, e.g. \"node.example.com/pool\"".to_string());
                    } else if let Some(problem) = label_value_problem(&s) {
                        ok = false;
                        self.error(
                            CheckCode::InvalidValue,
                            format!("the value of label {k:?} in `{path}` is not a valid Kubernetes label value: {problem}"),
                            v.best_span(),
                        )
                        .hints
                        .push("label values are empty or up to 63 of a-z A-Z 0-9 `-` `_` `.` starting and ending with a letter or digit".to_string());
                    } else {
                        out.insert(k.clone(), s);
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn taints(&mut self, node: &DataNode, path: &str) -> Option<Vec<Taint>> {
        let Data::List(items) = &node.value else {
            self.wrong_type(path, "a list of taints ({ key; value; effect; })", node);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let sub = format!("{path}.{i}");
            let Some(t) = self.set(
                item,
                &sub,
                "a taint ({ key; value; effect; })",
                Section::Taint.keys(),
                Section::Taint.required(),
            ) else {
                ok = false;
                continue;
            };
            let key =
                present(t, "key").and_then(|n| self.string(n, &format!("{sub}.key"), "a string"));
            let value = self.opt_string(t, "value", &sub, "a string");
            let effect = present(t, "effect").and_then(|n| {
                let all: Vec<(&'static str, &'static str)> =
                    schema::TAINT_EFFECTS.iter().map(|e| (*e, *e)).collect();
                self.enum_value(n, &format!("{sub}.effect"), "taint effect", &all)
            });
            let key = key.filter(|k| match qualified_name_problem(k) {
                None => true,
                Some(problem) => {
                    let span = present(t, "key").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("taint key {k:?} in `{sub}` is not valid: {problem}"),
                        span,
                    );
                    false
                }
            });
            let value = value.filter(|v| match v.as_deref().and_then(label_value_problem) {
                None => true,
                Some(problem) => {
                    let span = present(t, "value").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("taint value in `{sub}` is not valid: {problem}"),
                        span,
                    );
                    false
                }
            });
            match (key, value, effect) {
                (Some(key), Some(value), Some(effect)) => out.push(Taint {
                    key,
                    value,
                    effect: effect.to_string(),
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }
}

fn present_path<'d>(attrs: &'d Attrs, path: &[&str]) -> Option<&'d DataNode> {
    let (first, rest) = path.split_first()?;
    let node = present(attrs, first)?;
    if rest.is_empty() {
        return Some(node);
    }
    match &node.value {
        Data::Attrs(inner) => present_path(inner, rest),
        _ => None,
    }
}

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`2026-01-01T00:00:00Z`,
/// `2026-01-01T01:00:00+01:00`, fractional seconds allowed and dropped).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            if !rest[1..3].bytes().all(|c| c.is_ascii_digit())
                || !rest[4..6].bytes().all(|c| c.is_ascii_digit())
            {
                return None;
            }
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second.min(59)
            - offset,
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date and time of a Unix timestamp, as RFC 3339 in UTC (for messages).
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Why `s` is not a Kubernetes qualified name (label key, taint key): an optional DNS-1123
/// subdomain prefix and `/`, then a name of 1..63 of `[A-Za-z0-9-_.]`, alphanumeric at both ends.
pub fn qualified_name_problem(s: &str) -> Option<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if !crate::rules::is_dns1123_subdomain(p) {
            return Some(format!(
                "the prefix {p:?} is not a lower-case DNS subdomain"
            ));
        }
    }
    if name.is_empty() {
        return Some("the name is empty".to_string());
    }
    label_value_problem(name)
}

/// Why `s` is not a Kubernetes label value: empty, or 1..63 of `[A-Za-z0-9-_.]`,
/// alphanumeric at both ends.
pub fn label_value_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.len() > 63 {
        return Some(format!("it is {} characters long (at most 63)", s.len()));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Some("only letters, digits, `-`, `_` and `.` are allowed".to_string());
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !alnum(s.bytes().next()) || !alnum(s.bytes().last()) {
        return Some("it must start and end with a letter or digit".to_string());
    }
    None
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The set a converter variable holds, by the names `convert` gives them.
    fn section_of(var: &str) -> Option<Section> {
        Some(match var {
            "root" => Section::Root,
            "cp" => Section::ControlPlane,
            "lb" => Section::LoadBalancer,
            "ka" => Section::Keepalived,
            "e" => Section::Etcd,
            "net" => Section::Network,
            "pki" => Section::Pki,
            "attrs" => Section::Node,
            "t" => Section::Taint,
            "o" => Section::Outputs,
            // convert/components.rs
            "api" => Section::ApiServer,
            "v" => Section::Volume,
            "cm" => Section::ControllerManager,
            "sched" => Section::Scheduler,
            "k" => Section::Kubelet,
            "kp" => Section::KubeProxy,
            "enc" => Section::Encryption,
            "audit" => Section::Audit,
            "oidc" => Section::Oidc,
            "vip" => Section::KubeVip,
            // convert/hosts.rs
            "h" => Section::Hosts,
            "cni" => Section::Cni,
            _ => return None,
        })
    }

    /// Every `(set, "key")` this file reads: calls of the attribute readers whose first
    /// argument is a set variable and whose second is a string literal.
    fn keys_read() -> BTreeSet<(Section, String)> {
        let own = include_str!("convert.rs");
        let own = &own[..own
            .find("#[cfg(test)]\nmod schema_tests")
            .unwrap_or(own.len())];
        let src = format!(
            "{own}\n{}\n{}",
            include_str!("convert/components.rs"),
            include_str!("convert/hosts.rs")
        );
        let src = src.as_str();
        let mut out = BTreeSet::new();
        for reader in [
            "present(",
            "opt_string(",
            "boolean(",
            "int_in(",
            "opt_enum(",
            "optional_set(",
            "port(",
            "quantities(",
        ] {
            for (i, _) in src.match_indices(reader) {
                let before = src[..i].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue; // `import(` is not `port(`
                }
                let rest = &src[i + reader.len()..];
                let Some((var, after)) = rest.split_once(',') else {
                    continue;
                };
                let var = var.trim();
                let Some(key) = after
                    .trim_start()
                    .strip_prefix('"')
                    .and_then(|k| k.split_once('"'))
                    .map(|(k, _)| k)
                else {
                    continue;
                };
                let section = section_of(var)
                    .unwrap_or_else(|| panic!("convert.rs reads {key:?} from unknown set `{var}`"));
                out.insert((section, key.to_string()));
            }
        }
        out
    }

    #[test]
    fn the_converter_reads_exactly_the_schema_attributes() {
        let read = keys_read();
        assert!(read.len() > 40, "the scan found too little: {read:?}");
        let schema: BTreeSet<(Section, String)> = schema::ATTRIBUTES
            .iter()
            .map(|a| (a.section, a.key.to_string()))
            .collect();
        let unknown: Vec<_> = read.difference(&schema).collect();
        assert!(
            unknown.is_empty(),
            "the converter reads attributes the schema lacks: {unknown:?}"
        );
        let unread: Vec<_> = schema.difference(&read).collect();
        assert!(
            unread.is_empty(),
            "the schema lists attributes the converter never reads: {unread:?}"
        );
    }

    #[test]
    fn the_known_attribute_lists_keep_their_order() {
        // The order of "the attributes of … are: …" hints.
        assert_eq!(
            Section::ControlPlane.keys(),
            [
                "vip",
                "endpoint",
                "port",
                "apiServerPort",
                "certSANs",
                "loadBalancer",
                "keepalived",
                "apiServer",
                "controllerManager",
                "scheduler",
                "kubeVip"
            ]
        );
        assert_eq!(
            Section::Node.keys(),
            [
                "roles",
                "address",
                "interface",
                "zone",
                "priority",
                "labels",
                "taints",
                "kubelet",
                "hosts"
            ]
        );
        assert_eq!(
            Section::Outputs.keys(),
            ["cloudInit", "ansible", "cloudInitKeys"]
        );
    }
}
