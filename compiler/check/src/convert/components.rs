//! Data → model for the components' own settings (`imageRepository`, `featureGates`,
//! `kubelet`, `kubeProxy`, the `extraArgs` of the control-plane components and etcd, the
//! apiserver's `extraVolumes`, its security settings `encryption`, `audit` and `oidc`, and
//! the kube-vip image). A flag hac sets itself is refused with the attribute that
//! controls it (E0108), never overridden silently.

use super::walk::{join, present, Set};
use super::{Attrs, Converter};
use crate::codes::CheckCode;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Section};
use hac_model::{
    ApiServerSettings, Audit, AuditLevel, AuditPolicy, Component, Components, Encryption,
    HostPathMount, KubeletSettings, Oidc, ProxyMode, AUDIT_LOG_VOLUME, AUDIT_POLICY_VOLUME,
    DEFAULT_AUDIT_LOG_PATH, DEFAULT_KUBE_VIP_REPOSITORY, DEFAULT_KUBE_VIP_VERSION, HOST_PATH_TYPES,
};
use std::collections::BTreeMap;

const CGROUP_DRIVERS: [(&str, &str); 2] = [
    (schema::CGROUP_DRIVERS[0], schema::CGROUP_DRIVERS[0]),
    (schema::CGROUP_DRIVERS[1], schema::CGROUP_DRIVERS[1]),
];

/// A flag name as the components spell it: lowercase words joined by `-` (dots allowed, as
/// in `v` or `vmodule`), without the leading `--`.
fn flag_name_problem(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("--") {
        return Some(format!(
            "write the flag without its leading `--`: \"{rest}\""
        ));
    }
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !name.ends_with('-');
    (!ok).then(|| {
        "a flag name is lowercase letters, digits, `-` and `.`, starting with a letter, e.g. \"audit-log-maxage\"".to_string()
    })
}

/// Characters a value may not hold: control characters everywhere; in etcd's systemd unit
/// also what systemd would split or expand.
fn value_problem(value: &str, component: Component) -> Option<&'static str> {
    if value.chars().any(char::is_control) {
        return Some("control characters");
    }
    if component == Component::Etcd
        && value
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '%' | '$' | ';'))
    {
        return Some("spaces, quotes, `\\`, `%`, `$` or `;` (etcd's flags go into a systemd unit)");
    }
    None
}

impl Converter {
    /// Every component setting of the cluster file; `None` when any was wrong.
    /// `cp` is the walked `controlPlane` set (`None` when it is not a set: reported there).
    pub(super) fn components(&mut self, root: &Set, cp: Option<&Set>) -> Option<Components> {
        let mut ok = true;
        let image_repository = self.image_repository(root).unwrap_or_else(|| {
            ok = false;
            None
        });
        let feature_gates = self.feature_gates(root);
        let api_server = cp.and_then(|cp| self.api_server(cp));
        let kube_vip_image = match cp {
            None => Some(None),
            Some(cp) => self.kube_vip(cp, image_repository.as_deref()),
        };
        let controller_manager_args = match cp {
            None => Some(BTreeMap::new()),
            Some(cp) => self
                .optional_set(cp, "controllerManager", Section::ControllerManager)
                .and_then(|cm| {
                    self.extra_args(present(&cm, "extraArgs"), Component::ControllerManager)
                }),
        };
        let scheduler_args = match cp {
            None => Some(BTreeMap::new()),
            Some(cp) => self
                .optional_set(cp, "scheduler", Section::Scheduler)
                .and_then(|sched| {
                    self.extra_args(present(&sched, "extraArgs"), Component::Scheduler)
                }),
        };
        let etcd_args = match present(root, "etcd") {
            Some(DataNode {
                value: Data::Attrs(e),
                ..
            }) => self.extra_args(present(e, "extraArgs"), Component::Etcd),
            _ => Some(BTreeMap::new()),
        };
        let kube_proxy = self.optional_set(root, "kubeProxy", Section::KubeProxy);
        let kube_proxy_mode: Option<Option<Option<ProxyMode>>> =
            kube_proxy.as_ref().map(|kp| self.opt_choice(kp, "mode"));
        let kube_proxy_mode = match kube_proxy_mode {
            Some(None) => {
                ok = false;
                None
            }
            Some(Some(m)) => m,
            None => None,
        };
        let kubelet = self.kubelet(root);
        (ok && kube_proxy.is_some()).then_some(())?;
        let kube_vip_image = kube_vip_image?;
        Some(Components {
            image_repository,
            feature_gates: feature_gates?,
            api_server: match cp {
                None => ApiServerSettings::default(),
                Some(_) => api_server?,
            },
            controller_manager_args: controller_manager_args?,
            scheduler_args: scheduler_args?,
            etcd_args: etcd_args?,
            kube_proxy_mode,
            kubelet: kubelet?,
            kube_vip_image,
        })
    }

    /// `imageRepository`: `Some(None)` when absent, `None` when it is not a registry path.
    fn image_repository(&mut self, root: &Set) -> Option<Option<String>> {
        let Some(repo) = self.opt_string(
            root,
            "imageRepository",
            "a registry path (a string), e.g. \"registry.internal/k8s\"",
        )?
        else {
            return Some(None);
        };
        let problem = if repo.is_empty() {
            Some("it is empty")
        } else if repo.contains("://") {
            Some("it names a scheme; write the registry host and path only")
        } else if repo.ends_with('/') {
            Some("it ends with `/`")
        } else if repo
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@' || c == '"')
        {
            Some("it holds spaces, quotes, `@` or control characters")
        } else {
            None
        };
        if let Some(p) = problem {
            let span = present(root, "imageRepository").and_then(DataNode::best_span);
            self.error(
                CheckCode::InvalidValue,
                format!("`imageRepository` {repo:?} is not a registry path: {p}"),
                span,
            )
            .hints
            .push("write the registry host and path every image is pulled from, e.g. \"registry.internal:5000/k8s\"".to_string());
            None
        } else {
            Some(Some(repo))
        }
    }

    /// `controlPlane.apiServer`: its extra arguments and volumes, encryption, audit and OIDC.
    fn api_server(&mut self, cp: &Set) -> Option<ApiServerSettings> {
        let api = &self.optional_set(cp, "apiServer", Section::ApiServer)?;
        let encryption = self.encryption(present(api, "encryption"));
        let audit = self.audit(present(api, "audit"));
        let oidc = self.oidc(present(api, "oidc"));
        let (encryption, audit, oidc) = (encryption?, audit?, oidc?);
        let reserved = (audit.is_some(), oidc.is_some());
        let extra_args =
            self.extra_args_of(present(api, "extraArgs"), Component::ApiServer, reserved)?;
        let extra_volumes = match present(api, "extraVolumes") {
            None => Vec::new(),
            Some(n) => self.volumes(n, audit.is_some())?,
        };
        Some(ApiServerSettings {
            extra_args,
            extra_volumes,
            encryption,
            audit,
            oidc,
        })
    }

    fn feature_gates(&mut self, root: &Attrs) -> Option<BTreeMap<String, bool>> {
        let Some(n) = present(root, "featureGates") else {
            return Some(BTreeMap::new());
        };
        let Data::Attrs(gates) = &n.value else {
            self.wrong_type(
                "featureGates",
                "an attribute set of feature names to booleans",
                n,
            );
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (name, v) in gates {
            let path = join("featureGates", name);
            if let Some(span) = v.best_span() {
                self.origins.spans.insert(path.clone(), span);
            }
            let well_formed = name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric());
            if !well_formed {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("feature gate {name:?} is not a feature name"),
                    v.key_span.or(v.span),
                )
                .hints
                .push("feature names are CamelCase letters and digits, e.g. `InPlacePodVerticalScaling = true;`".to_string());
                continue;
            }
            match v.value {
                Data::Bool(b) => {
                    out.insert(name.clone(), b);
                }
                _ => {
                    ok = false;
                    self.wrong_type(&path, "a boolean", v);
                }
            }
        }
        ok.then_some(out)
    }

    /// `extraArgs` of `set` (absent → none): flag names checked, values strings, integers or
    /// booleans, flags hac sets refused with the attribute that controls them.
    fn extra_args(
        &mut self,
        node: Option<&DataNode>,
        c: Component,
    ) -> Option<BTreeMap<String, String>> {
        self.extra_args_of(node, c, (false, false))
    }

    /// [`Self::extra_args`], with the audit and OIDC flags reserved when `(audit, oidc)` are set.
    fn extra_args_of(
        &mut self,
        node: Option<&DataNode>,
        c: Component,
        (audit, oidc): (bool, bool),
    ) -> Option<BTreeMap<String, String>> {
        let path = c.extra_args_path();
        let Some(n) = node else {
            return Some(BTreeMap::new());
        };
        let Data::Attrs(flags) = &n.value else {
            self.wrong_type(path, "an attribute set of flag names to values", n);
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (flag, v) in flags {
            let sub = format!("{path}.\"{flag}\"");
            if let Some(span) = v.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            if let Some(problem) = flag_name_problem(flag) {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("`{flag}` in `{path}` is not a flag name"),
                    v.key_span.or(v.span),
                )
                .hints
                .push(problem);
                continue;
            }
            let by = c.reserved(flag).or_else(|| {
                (c == Component::ApiServer)
                    .then(|| ApiServerSettings::reserved_by_settings(audit, oidc, flag))
                    .flatten()
            });
            if let Some(by) = by {
                ok = false;
                let d = self.error(
                    CheckCode::ReservedFlag,
                    format!("`{path}` sets `--{flag}`, which hac sets itself: it follows {by}"),
                    v.key_span.or(v.span),
                );
                d.span_label = Some("set by hac".to_string());
                d.hints.push(if by.starts_with('`') {
                    format!("remove `{flag}` here and change {by} instead")
                } else {
                    format!("remove `{flag}` here: hac wires it so that every host agrees")
                });
                continue;
            }
            let value = match &v.value {
                Data::String(s) => s.clone(),
                Data::Int(i) => i.to_string(),
                Data::Bool(b) => b.to_string(),
                _ => {
                    ok = false;
                    self.wrong_type(&sub, "a string, an integer or a boolean", v);
                    continue;
                }
            };
            if let Some(p) = value_problem(&value, c) {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("the value of `--{flag}` in `{path}` holds {p}"),
                    v.best_span(),
                );
                continue;
            }
            out.insert(flag.clone(), value);
        }
        ok.then_some(out)
    }

    fn volumes(&mut self, node: &DataNode, audit: bool) -> Option<Vec<HostPathMount>> {
        let path = "controlPlane.apiServer.extraVolumes";
        let Data::List(items) = &node.value else {
            self.wrong_type(path, "a list of volumes", node);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(v) = self.set(item, &p, "an attribute set (a volume)", Section::Volume) else {
                ok = false;
                continue;
            };
            let v = &v;
            let name =
                present(v, "name").and_then(|n| self.string(n, &join(&p, "name"), "a string"));
            let host = present(v, "hostPath")
                .and_then(|n| self.string(n, &join(&p, "hostPath"), "an absolute path"));
            let mount = present(v, "mountPath")
                .and_then(|n| self.string(n, &join(&p, "mountPath"), "an absolute path"));
            let read_only = self.flag(v, "readOnly");
            let path_type = match present(v, "pathType") {
                None => Some(String::new()),
                Some(n) => {
                    let all: Vec<(&'static str, &'static str)> =
                        HOST_PATH_TYPES.iter().map(|t| (*t, *t)).collect();
                    self.enum_value(n, &join(&p, "pathType"), "host path type", &all)
                        .map(str::to_string)
                }
            };
            let (Some(name), Some(host), Some(mount), Some(path_type)) =
                (name, host, mount, path_type)
            else {
                ok = false;
                continue;
            };
            if !hac_model::is_dns1123_label(&name) {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("volume name {name:?} in `{p}` is not a DNS label"),
                    present(v, "name").and_then(DataNode::best_span),
                )
                .hints
                .push("use lowercase letters, digits and `-`, e.g. \"audit-logs\"".to_string());
                continue;
            }
            let mut paths_ok = true;
            for (key, value) in [("hostPath", &host), ("mountPath", &mount)] {
                if !hac_model::is_plain_absolute_path(value) {
                    paths_ok = false;
                    self.error(
                        CheckCode::InvalidValue,
                        format!("`{p}.{key}` must be an absolute path, found {value:?}"),
                        present(v, key).and_then(DataNode::best_span),
                    )
                    .hints
                    .push("write the full path of plain characters, e.g. \"/var/log/kubernetes/audit\"".to_string());
                }
            }
            if !paths_ok {
                ok = false;
                continue;
            }
            if audit && (name == AUDIT_POLICY_VOLUME || name == AUDIT_LOG_VOLUME) {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("volume name {name:?} in `{p}` is the one hac gives the audit volumes"),
                    present(v, "name").and_then(DataNode::best_span),
                )
                .hints
                .push("rename the volume: `controlPlane.apiServer.audit` mounts the policy and the log folder itself".to_string());
                continue;
            }
            if out.iter().any(|m: &HostPathMount| m.name == name) {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("two volumes in `{path}` are named {name:?}"),
                    present(v, "name").and_then(DataNode::best_span),
                );
                continue;
            }
            out.push(HostPathMount {
                name,
                host_path: host,
                mount_path: mount,
                read_only,
                path_type,
            });
        }
        ok.then_some(out)
    }

    /// The `kubelet` set of `root`, the cluster (`base` empty) or a node (`base` its path,
    /// `nodes.<name>`: the node's overrides).
    pub(super) fn kubelet(&mut self, root: &Set) -> Option<KubeletSettings> {
        let k = &self.optional_set(root, "kubelet", Section::Kubelet)?;
        let at = &k.path;
        let max_pods = self.opt_number(k, "maxPods");
        let cgroup_driver = match present(k, "cgroupDriver") {
            None => Some(None),
            Some(n) => self
                .enum_value(
                    n,
                    &join(at, "cgroupDriver"),
                    "cgroup driver",
                    &CGROUP_DRIVERS,
                )
                .map(|d| Some(d.to_string())),
        };
        let system_reserved = self.quantities(k, "systemReserved", at);
        let kube_reserved = self.quantities(k, "kubeReserved", at);
        let eviction_hard = self.quantities(k, "evictionHard", at);
        let server_tls_bootstrap = self.opt_flag(k, "serverTLSBootstrap");
        Some(KubeletSettings {
            max_pods: max_pods?,
            cgroup_driver: cgroup_driver?,
            system_reserved: system_reserved?,
            kube_reserved: kube_reserved?,
            eviction_hard: eviction_hard?,
            server_tls_bootstrap,
        })
    }

    /// `kubelet.<key>`: resource or signal names to quantities (`"500m"`, `"1Gi"`, `"10%"`).
    fn quantities(&mut self, k: &Attrs, key: &str, at: &str) -> Option<BTreeMap<String, String>> {
        let path = join(at, key);
        let Some(n) = present(k, key) else {
            return Some(BTreeMap::new());
        };
        let Data::Attrs(entries) = &n.value else {
            self.wrong_type(
                &path,
                "an attribute set of names to quantities (strings)",
                n,
            );
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (name, v) in entries {
            let sub = join(&path, name);
            let Some(q) = self.string(v, &sub, "a quantity such as \"500m\", \"1Gi\" or \"10%\"")
            else {
                ok = false;
                continue;
            };
            let well_formed = !q.is_empty()
                && q.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '%')
                && q.starts_with(|c: char| c.is_ascii_digit());
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/' | '_'));
            if !well_formed || !name_ok {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("`{sub}` = {q:?} is not a resource quantity"),
                    v.best_span(),
                )
                .hints
                .push("write a Kubernetes quantity such as \"500m\", \"1Gi\" or, for eviction thresholds, \"10%\"".to_string());
                continue;
            }
            out.insert(name.clone(), q);
        }
        ok.then_some(out)
    }
}

/// Resource names as the EncryptionConfiguration spells them: `secrets`, `widgets.example.com`,
/// `*.apps`, `*.*`.
fn is_resource_name(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 253
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '*'))
        && !r.starts_with(['.', '-'])
        && !r.ends_with(['.', '-'])
}

/// Text fit for a flag value: not empty, no control characters.
fn flag_text_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("it is empty")
    } else if s.chars().any(char::is_control) {
        Some("it holds control characters")
    } else {
        None
    }
}

impl Converter {
    /// The optional set at `path` holding `section`'s attributes: `Some(None)` when absent,
    /// `None` when it is not a set (reported).
    fn optional_section<'d>(
        &mut self,
        node: Option<&'d DataNode>,
        path: &str,
        section: Section,
    ) -> Option<Option<Set<'d>>> {
        let Some(n) = node else {
            return Some(None);
        };
        self.set(n, path, "an attribute set", section).map(Some)
    }

    /// `controlPlane.apiServer.encryption`; `Some(None)` when absent.
    fn encryption(&mut self, node: Option<&DataNode>) -> Option<Option<Encryption>> {
        let path = "controlPlane.apiServer.encryption";
        let Some(enc) = self.optional_section(node, path, Section::Encryption)? else {
            return Some(None);
        };
        let enc = &enc;
        let mut ok = true;
        let resources = match present(enc, "resources") {
            None => Some(vec!["secrets".to_string()]),
            Some(r) => {
                let sub = join(path, "resources");
                let list = self.string_list(r, &sub, "a list of resource names");
                match list {
                    Some(list) if list.is_empty() => {
                        self.error(
                            CheckCode::InvalidValue,
                            format!("`{sub}` is empty: nothing would be encrypted"),
                            r.best_span(),
                        )
                        .hints
                        .push("list what to encrypt, e.g. `resources = [ \"secrets\" ];`, or remove `encryption`".to_string());
                        None
                    }
                    Some(list) => {
                        let mut seen: Vec<String> = Vec::new();
                        for name in list {
                            if !is_resource_name(&name) || seen.contains(&name) {
                                ok = false;
                                let why = if seen.contains(&name) {
                                    "is listed twice"
                                } else {
                                    "is not a resource name"
                                };
                                self.error(
                                    CheckCode::InvalidValue,
                                    format!("{name:?} in `{sub}` {why}"),
                                    r.best_span(),
                                )
                                .hints
                                .push("write plural lowercase resource names, with the API group when not core: \"secrets\", \"configmaps\", \"widgets.example.com\"".to_string());
                            }
                            seen.push(name);
                        }
                        Some(seen)
                    }
                    None => None,
                }
            }
        };
        let provider = self
            .opt_choice(enc, "provider")
            .map(Option::unwrap_or_default);
        let rotation = self.number(enc, "rotation");
        let (Some(resources), Some(provider), Some(rotation)) = (resources, provider, rotation)
        else {
            return None;
        };
        ok.then_some(Some(Encryption {
            resources,
            provider,
            rotation,
        }))
    }

    /// `controlPlane.apiServer.audit`; `Some(None)` when absent.
    fn audit(&mut self, node: Option<&DataNode>) -> Option<Option<Audit>> {
        let path = "controlPlane.apiServer.audit";
        let Some(audit) = self.optional_section(node, path, Section::Audit)? else {
            return Some(None);
        };
        let audit = &audit;
        let policy = match self.opt_string(
            audit,
            "policy",
            "a level (\"metadata\", \"request\", \"requestResponse\") or a policy's YAML text",
        ) {
            None => None,
            Some(None) => Some(AuditPolicy::Level(AuditLevel::DEFAULT)),
            Some(Some(text)) => {
                if let Some((_, level)) = AuditLevel::ALL.iter().find(|(name, _)| *name == text) {
                    Some(AuditPolicy::Level(*level))
                } else if text.contains("audit.k8s.io/v1") && text.contains("Policy") {
                    Some(AuditPolicy::Text(text))
                } else {
                    let span = present(audit, "policy").and_then(DataNode::best_span);
                    let shown: String = text.chars().take(40).collect();
                    self.error(
                        CheckCode::InvalidValue,
                        format!("`{path}.policy` {shown:?} is neither a level nor an audit policy"),
                        span,
                    )
                    .hints
                    .push("write \"metadata\", \"request\" or \"requestResponse\", or the YAML of an `apiVersion: audit.k8s.io/v1`, `kind: Policy` document as an indented string `'' … ''`".to_string());
                    None
                }
            }
        };
        let log_path = match self.text_or_default(audit, "logPath", "an absolute path") {
            None => None,
            Some(p) => {
                let folder_ok = p.rfind('/').is_some_and(|i| i > 0) && !p.ends_with('/');
                if hac_model::is_plain_absolute_path(&p) && folder_ok {
                    Some(p)
                } else {
                    let span = present(audit, "logPath").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("`{path}.logPath` must be a file's absolute path in a folder other than `/`, found {p:?}"),
                        span,
                    )
                    .hints
                    .push(format!("write e.g. {DEFAULT_AUDIT_LOG_PATH:?}: its folder is mounted into kube-apiserver"));
                    None
                }
            }
        };
        let max_age = self.number(audit, "maxAge");
        let max_backup = self.number(audit, "maxBackup");
        let max_size = self.number(audit, "maxSize");
        let (Some(policy), Some(log_path), Some(max_age), Some(max_backup), Some(max_size)) =
            (policy, log_path, max_age, max_backup, max_size)
        else {
            return None;
        };
        Some(Some(Audit {
            policy,
            log_path,
            max_age,
            max_backup,
            max_size,
        }))
    }

    /// `controlPlane.apiServer.oidc`; `Some(None)` when absent.
    fn oidc(&mut self, node: Option<&DataNode>) -> Option<Option<Oidc>> {
        let path = "controlPlane.apiServer.oidc";
        let Some(oidc) = self.optional_section(node, path, Section::Oidc)? else {
            return Some(None);
        };
        let oidc = &oidc;
        let mut ok = true;
        let text = |this: &mut Self,
                    node: Option<&DataNode>,
                    key: &str,
                    default: Option<&str>|
         -> Option<Option<String>> {
            let value = match node {
                None => return Some(default.map(str::to_string)),
                Some(v) => this.string(v, &join(path, key), "a string")?,
            };
            if let Some(p) = flag_text_problem(&value) {
                this.error(
                    CheckCode::InvalidValue,
                    format!("`{path}.{key}` is not usable: {p}"),
                    node.and_then(DataNode::best_span),
                );
                return None;
            }
            Some(Some(value))
        };
        let issuer = text(self, present(oidc, "issuerURL"), "issuerURL", None);
        let client_id = text(self, present(oidc, "clientID"), "clientID", None);
        let username_claim = text(
            self,
            present(oidc, "usernameClaim"),
            "usernameClaim",
            Some(hac_model::DEFAULT_OIDC_USERNAME_CLAIM),
        );
        let groups_claim = text(self, present(oidc, "groupsClaim"), "groupsClaim", None);
        let username_prefix = text(
            self,
            present(oidc, "usernamePrefix"),
            "usernamePrefix",
            None,
        );
        let groups_prefix = text(self, present(oidc, "groupsPrefix"), "groupsPrefix", None);
        let ca = self.oidc_ca(present(oidc, "ca"));
        if let Some(Some(url)) = &issuer {
            ok &= self.oidc_issuer_ok(oidc, url);
        }
        let (
            Some(Some(issuer_url)),
            Some(Some(client_id)),
            Some(Some(username_claim)),
            Some(groups_claim),
            Some(username_prefix),
            Some(groups_prefix),
            Some(ca),
        ) = (
            issuer,
            client_id,
            username_claim,
            groups_claim,
            username_prefix,
            groups_prefix,
            ca,
        )
        else {
            return None;
        };
        ok.then_some(Some(Oidc {
            issuer_url,
            client_id,
            username_claim,
            groups_claim,
            username_prefix,
            groups_prefix,
            ca,
        }))
    }

    /// `controlPlane.apiServer.oidc.ca`: PEM text of a certificate; `Some(None)` when absent.
    fn oidc_ca(&mut self, node: Option<&DataNode>) -> Option<Option<String>> {
        let path = "controlPlane.apiServer.oidc";
        match node {
            None => Some(None),
            Some(v) => match self.string(v, &join(path, "ca"), "PEM text") {
                Some(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(Some(pem)),
                Some(_) => {
                    self.error(
                        CheckCode::InvalidValue,
                        format!("`{path}.ca` is not a PEM certificate"),
                        v.best_span(),
                    )
                    .hints
                    .push("give the issuer CA's PEM text, as an indented string: `ca = '' -----BEGIN CERTIFICATE----- … '';`".to_string());
                    None
                }
                None => None,
            },
        }
    }

    /// Whether `url` is an issuer kube-apiserver accepts (https, a host, no query); an error
    /// at `issuerURL` when not.
    fn oidc_issuer_ok(&mut self, oidc: &Attrs, url: &str) -> bool {
        let path = "controlPlane.apiServer.oidc";
        let problem = match url.strip_prefix("https://") {
            None => Some("kube-apiserver accepts only an `https://` issuer"),
            Some(rest) if rest.is_empty() || rest.starts_with('/') => Some("it names no host"),
            Some(rest) if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) => {
                Some("it holds a query, a fragment or spaces")
            }
            Some(_) => None,
        };
        if let Some(p) = problem {
            let span = present(oidc, "issuerURL").and_then(DataNode::best_span);
            let d = self.error(
                CheckCode::InvalidValue,
                format!("`{path}.issuerURL` {url:?} is not an OIDC issuer: {p}"),
                span,
            );
            d.hints.push("write the issuer's https URL exactly as its tokens' `iss` claim says, e.g. \"https://login.example.com/realms/k8s\"".to_string());
            return false;
        }
        true
    }

    /// `controlPlane.kubeVip`: the image reference, `Some(None)` when neither part is set.
    fn kube_vip(&mut self, cp: &Set, image_repository: Option<&str>) -> Option<Option<String>> {
        let path = "controlPlane.kubeVip";
        let vip = &self.optional_set(cp, "kubeVip", Section::KubeVip)?;
        let image = self.opt_string(vip, "image", "an image repository (a string)");
        let version = self.opt_string(vip, "version", "an image tag (a string)");
        let (image, version) = (image?, version?);
        if image.is_none() && version.is_none() {
            return Some(None);
        }
        let mut ok = true;
        if let Some(i) = &image {
            let bad = i.is_empty()
                || i.contains("://")
                || i.ends_with('/')
                || i.chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '"'))
                || i.rsplit('/').next().is_some_and(|last| last.contains(':'));
            if bad {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("`{path}.image` {i:?} is not an image repository"),
                    present(vip, "image").and_then(DataNode::best_span),
                )
                .hints
                .push(format!("write the repository without scheme or tag, e.g. {DEFAULT_KUBE_VIP_REPOSITORY:?}, and the tag in `version`"));
            }
        }
        if let Some(v) = &version {
            let good = !v.is_empty()
                && v.len() <= 128
                && v.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !good {
                ok = false;
                self.error(
                    CheckCode::InvalidValue,
                    format!("`{path}.version` {v:?} is not an image tag"),
                    present(vip, "version").and_then(DataNode::best_span),
                )
                .hints
                .push(format!("write a tag such as {DEFAULT_KUBE_VIP_VERSION:?}"));
            }
        }
        if !ok {
            return None;
        }
        let repository = image.unwrap_or_else(|| match image_repository {
            Some(r) => format!("{r}/kube-vip"),
            None => DEFAULT_KUBE_VIP_REPOSITORY.to_string(),
        });
        let tag = version.unwrap_or_else(|| DEFAULT_KUBE_VIP_VERSION.to_string());
        Some(Some(format!("{repository}:{tag}")))
    }
}
