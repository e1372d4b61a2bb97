//! Data → model for the components' own settings (`imageRepository`, `featureGates`,
//! `kubelet`, `kubeProxy`, the `extraArgs` of the control-plane components and etcd, the
//! apiserver's `extraVolumes`). A flag hac sets itself is refused with the attribute that
//! controls it (E0108), never overridden silently.

use super::{join, present, Attrs, Converter};
use crate::codes;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Section};
use hac_model::{
    ApiServerSettings, Component, Components, HostPathMount, KubeletSettings, ProxyMode,
    HOST_PATH_TYPES,
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
    pub(super) fn components(&mut self, root: &Attrs) -> Option<Components> {
        let mut ok = true;
        let image_repository = match self.opt_string(
            root,
            "imageRepository",
            "",
            "a registry path (a string), e.g. \"registry.internal/k8s\"",
        ) {
            Some(Some(repo)) => {
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
                    ok = false;
                    let span = present(root, "imageRepository").and_then(DataNode::best_span);
                    self.error(
                        codes::INVALID_VALUE,
                        format!("`imageRepository` {repo:?} is not a registry path: {p}"),
                        span,
                    )
                    .hints
                    .push("write the registry host and path every image is pulled from, e.g. \"registry.internal:5000/k8s\"".to_string());
                    None
                } else {
                    Some(repo)
                }
            }
            Some(None) => None,
            None => {
                ok = false;
                None
            }
        };
        let feature_gates = self.feature_gates(root);
        let cp = match present(root, "controlPlane") {
            Some(DataNode {
                value: Data::Attrs(a),
                ..
            }) => Some(a),
            _ => None,
        };
        let api_server = cp.and_then(|cp| {
            let api = self.optional_set(cp, "apiServer", "controlPlane", Section::ApiServer)?;
            let extra_args = self.extra_args(present(api, "extraArgs"), Component::ApiServer)?;
            let extra_volumes = match present(api, "extraVolumes") {
                None => Vec::new(),
                Some(n) => self.volumes(n)?,
            };
            Some(ApiServerSettings {
                extra_args,
                extra_volumes,
            })
        });
        let controller_manager_args = match cp {
            None => Some(BTreeMap::new()),
            Some(cp) => self
                .optional_set(
                    cp,
                    "controllerManager",
                    "controlPlane",
                    Section::ControllerManager,
                )
                .and_then(|cm| {
                    self.extra_args(present(cm, "extraArgs"), Component::ControllerManager)
                }),
        };
        let scheduler_args = match cp {
            None => Some(BTreeMap::new()),
            Some(cp) => self
                .optional_set(cp, "scheduler", "controlPlane", Section::Scheduler)
                .and_then(|sched| {
                    self.extra_args(present(sched, "extraArgs"), Component::Scheduler)
                }),
        };
        let etcd_args = match present(root, "etcd") {
            Some(DataNode {
                value: Data::Attrs(e),
                ..
            }) => self.extra_args(present(e, "extraArgs"), Component::Etcd),
            _ => Some(BTreeMap::new()),
        };
        let kube_proxy = self.optional_set(root, "kubeProxy", "", Section::KubeProxy);
        let kube_proxy_mode = kube_proxy.and_then(|kp| {
            present(kp, "mode")
                .map(|n| self.enum_value(n, "kubeProxy.mode", "kube-proxy mode", &ProxyMode::ALL))
        });
        let kube_proxy_mode = match kube_proxy_mode {
            Some(None) => {
                ok = false;
                None
            }
            Some(Some(m)) => Some(m),
            None => None,
        };
        let kubelet = self.kubelet(root);
        (ok && kube_proxy.is_some()).then_some(())?;
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
                    codes::INVALID_VALUE,
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
                    codes::INVALID_VALUE,
                    format!("`{flag}` in `{path}` is not a flag name"),
                    v.key_span.or(v.span),
                )
                .hints
                .push(problem);
                continue;
            }
            if let Some(by) = c.reserved(flag) {
                ok = false;
                let d = self.error(
                    codes::RESERVED_FLAG,
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
                    codes::INVALID_VALUE,
                    format!("the value of `--{flag}` in `{path}` holds {p}"),
                    v.best_span(),
                );
                continue;
            }
            out.insert(flag.clone(), value);
        }
        ok.then_some(out)
    }

    fn volumes(&mut self, node: &DataNode) -> Option<Vec<HostPathMount>> {
        let path = "controlPlane.apiServer.extraVolumes";
        let Data::List(items) = &node.value else {
            self.wrong_type(path, "a list of volumes", node);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(v) = self.set(
                item,
                &p,
                "an attribute set (a volume)",
                Section::Volume.keys(),
                Section::Volume.required(),
            ) else {
                ok = false;
                continue;
            };
            let name =
                present(v, "name").and_then(|n| self.string(n, &join(&p, "name"), "a string"));
            let host = present(v, "hostPath")
                .and_then(|n| self.string(n, &join(&p, "hostPath"), "an absolute path"));
            let mount = present(v, "mountPath")
                .and_then(|n| self.string(n, &join(&p, "mountPath"), "an absolute path"));
            let read_only = self.boolean(v, "readOnly", &p, true);
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
                    codes::INVALID_VALUE,
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
                        codes::INVALID_VALUE,
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
            if out.iter().any(|m: &HostPathMount| m.name == name) {
                ok = false;
                self.error(
                    codes::INVALID_VALUE,
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

    fn kubelet(&mut self, root: &Attrs) -> Option<KubeletSettings> {
        let k = self.optional_set(root, "kubelet", "", Section::Kubelet)?;
        let max_pods = self.int_in(k, "maxPods", "kubelet", schema::MAX_PODS_RANGE);
        let cgroup_driver = match present(k, "cgroupDriver") {
            None => Some(None),
            Some(n) => self
                .enum_value(n, "kubelet.cgroupDriver", "cgroup driver", &CGROUP_DRIVERS)
                .map(|d| Some(d.to_string())),
        };
        let system_reserved = self.quantities(k, "systemReserved");
        let kube_reserved = self.quantities(k, "kubeReserved");
        let eviction_hard = self.quantities(k, "evictionHard");
        let server_tls_bootstrap = present(k, "serverTLSBootstrap")
            .is_some()
            .then(|| self.boolean(k, "serverTLSBootstrap", "kubelet", false));
        Some(KubeletSettings {
            max_pods: max_pods.ok()?.map(|m| m as u32),
            cgroup_driver: cgroup_driver?,
            system_reserved: system_reserved?,
            kube_reserved: kube_reserved?,
            eviction_hard: eviction_hard?,
            server_tls_bootstrap,
        })
    }

    /// `kubelet.<key>`: resource or signal names to quantities (`"500m"`, `"1Gi"`, `"10%"`).
    fn quantities(&mut self, k: &Attrs, key: &str) -> Option<BTreeMap<String, String>> {
        let path = join("kubelet", key);
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
                    codes::INVALID_VALUE,
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
