//! A real HA control plane runs on hac's bundle, in network namespaces, for the stacked and
//! the external-etcd scenario (`tests/control-plane/*.ha`).
//!
//! Each host's archive is unpacked, unchanged, into a root of its own; every host gets a
//! network namespace (see `e2e_support::netlab`). What runs is what the archives and kubeadm
//! say: kubeadm (with `--rootfs`, so it reads and writes the unpacked root) writes the static
//! pod manifests, and etcd, kube-apiserver, kube-controller-manager and kube-scheduler are
//! started with the exact commands of those manifests (external etcd: the `ExecStart` of the
//! archive's `etcd.service`), paths under `/etc/kubernetes` and `/var/lib/etcd` mapped into
//! the host's root; haproxy and keepalived run the archive's configs. Joining control planes
//! go through `kubeadm join phase preflight` and `control-plane-prepare` against the live
//! cluster (stacked: `control-plane-join etcd`, which adds the member as a learner and
//! promotes it), and the worker runs kubeadm join's discovery with the bundle's token and
//! `caCertHashes`.
//!
//! Faked, because it cannot run here (no container runtime, no kubelet): the kubelet's own
//! objects. The Node objects `kubeadm init phase mark-control-plane` patches, and the etcd
//! mirror pods whose annotations kubeadm reads to find the etcd members, are created with
//! kubectl from what the kubelet would have posted (the manifest kubeadm wrote).
//!
//! Then the seeds' failure experiments, checked against what `report.txt` predicts; and a
//! day-2 change (`tests/control-plane/grow.ha`): the control plane grown from three to five
//! and shrunk back to three by running what `hac plan` prints, step by step, while kubectl
//! through the endpoint runs (the stand-ins for what cannot run here are listed at
//! `Live::plan_command`).
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::k8s::*;
use e2e_support::netlab::*;
use e2e_support::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Checks of `kubeadm … preflight` that look at the machine, not at the bundle (see
/// tests/kubeadm_accepts.rs for why each is skipped).
const SKIPPED: &str = "FileExisting-crictl,FileExisting-conntrack,FileExisting-ip,\
FileExisting-iptables,FileExisting-mount,FileExisting-nsenter,FileExisting-socat,\
SystemVerification,KubeletVersion,FileContent--proc-sys-net-ipv4-ip_forward,\
FileContent--proc-sys-net-bridge-bridge-nf-call-iptables,Swap";

/// How long kubectl through the endpoint may fail while the load balancer or a control
/// plane fails over: VRRP (advert 1 s, master down after ~3.6 s) or haproxy's health check
/// (inter 3 s × fall 3), plus a request timeout.
const FAILOVER_BOUND: Duration = Duration::from_secs(25);

struct Live {
    lab: Lab,
    _tmp: tempfile::TempDir,
    /// The cluster file as built (a copy), and its secrets file beside it.
    file: PathBuf,
    /// The bundle it was built into (archives).
    out: PathBuf,
    version: &'static str,
    roots: BTreeMap<String, PathBuf>,
    addrs: BTreeMap<String, String>,
    roles: BTreeMap<String, Vec<String>>,
    report: String,
    /// host:port of the endpoint, as the kubeconfigs name it.
    endpoint: String,
    vip: String,
    /// When each running kubectl load (by label) started.
    load_started: BTreeMap<String, Instant>,
    /// CertificateSigningRequests the kubelet stand-in made (their names stay unique).
    csr_count: usize,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(std::string::ToString::to_string).collect()
}

impl Live {
    fn new(fixture: &str, tag: &str) -> Live {
        Live::with_spare_hosts(fixture, tag, &[])
    }

    /// The lab also holds `spare` hosts (name, address/prefix) that the first build lacks
    /// and a later one adds: their namespaces exist, their roots are empty until a plan's
    /// step unpacks their archive.
    fn with_spare_hosts(fixture: &str, tag: &str, spare: &[(&str, &str)]) -> Live {
        for t in [
            "tar",
            "ip",
            "unshare",
            "etcd",
            "curl",
            "haproxy",
            "keepalived",
        ] {
            require_tool(t);
        }
        let ha = root()
            .join("tests/control-plane")
            .join(format!("{fixture}.ha"));
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hac-k8s");
        std::fs::create_dir_all(&base).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{fixture}-"))
            .tempdir_in(&base)
            .unwrap();
        // keepalived's script security wants no group/other-writable folder on the path.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let copy = tmp.path().join(format!("{fixture}.ha"));
        std::fs::copy(&ha, &copy).unwrap();
        let o = run(hac().args(["secrets", "init"]).arg(&copy));
        assert!(o.status.success(), "secrets init: {}", text(&o.stderr));
        let out = tmp.path().join("out");
        let o = run(hac().arg("build").arg(&copy).arg("-o").arg(&out).arg("-q"));
        assert!(o.status.success(), "hac build: {}", text(&o.stderr));
        let report = std::fs::read_to_string(out.join("report.txt")).unwrap();

        let json = run(hac().arg("eval").arg(&copy).arg("--json"));
        assert!(json.status.success(), "{}", text(&json.stderr));
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let version = kubeadm_version_for(v["kubernetesVersion"].as_str().unwrap());
        let vip = v["controlPlane"]["vip"].as_str().unwrap().to_string();
        let endpoint_name = v["controlPlane"]["endpoint"].as_str().map(str::to_string);

        let mut roots = BTreeMap::new();
        let mut addrs = BTreeMap::new();
        let mut roles = BTreeMap::new();
        let mut cidrs = Vec::new();
        let mut hosts_file = String::from("127.0.0.1 localhost\n::1 localhost ip6-localhost\n");
        if let Some(name) = &endpoint_name {
            hosts_file.push_str(&format!("{vip} {name}\n"));
        }
        // Other names of the apiservers resolve to the VIP too, as DNS would.
        for san in v["controlPlane"]["certSANs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(name) = san
                .as_str()
                .filter(|n| n.parse::<std::net::IpAddr>().is_err())
            {
                hosts_file.push_str(&format!("{vip} {name}\n"));
            }
        }
        for (name, node) in v["nodes"].as_object().unwrap() {
            let cidr = node["address"].as_str().unwrap().to_string();
            let addr = cidr.split('/').next().unwrap().to_string();
            hosts_file.push_str(&format!("{addr} {name}\n"));
            let r = tmp.path().join("roots").join(name);
            unpack(&out.join(format!("hosts/{name}.tar.gz")), &r);
            roles.insert(name.clone(), host_roles(&r));
            roots.insert(name.clone(), r);
            addrs.insert(name.clone(), addr);
            cidrs.push((name.clone(), cidr));
        }
        for (name, cidr) in spare {
            let addr = cidr.split('/').next().unwrap().to_string();
            hosts_file.push_str(&format!("{addr} {name}\n"));
            roots.insert(name.to_string(), tmp.path().join("roots").join(name));
            addrs.insert(name.to_string(), addr);
            cidrs.push((name.to_string(), cidr.to_string()));
        }
        // kubeadm --rootfs chroots into the host's root: it resolves names there.
        for r in roots.values() {
            std::fs::create_dir_all(r.join("etc")).unwrap();
            std::fs::write(r.join("etc/hosts"), &hosts_file).unwrap();
        }
        let lab = Lab::new(tag, tmp.path(), &cidrs, &hosts_file);
        let admin = std::fs::read_to_string(
            roots
                .values()
                .find(|r| r.join("etc/kubernetes/admin.conf").exists())
                .unwrap()
                .join("etc/kubernetes/admin.conf"),
        )
        .unwrap();
        let endpoint = admin
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .unwrap()
            .trim_matches('"')
            .trim_start_matches("https://")
            .to_string();
        Live {
            lab,
            _tmp: tmp,
            file: copy,
            out,
            version,
            roots,
            addrs,
            roles,
            report,
            endpoint,
            vip,
            load_started: BTreeMap::new(),
            csr_count: 0,
        }
    }

    fn root(&self, host: &str) -> &Path {
        &self.roots[host]
    }

    fn masters(&self) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, r)| r.iter().any(|x| x == "control-plane"))
            .map(|(h, _)| h.clone())
            .collect()
    }

    fn with_role(&self, role: &str) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, r)| r.len() == 1 && r[0] == role)
            .map(|(h, _)| h.clone())
            .collect()
    }

    fn bin(&self, tool: &str) -> String {
        k8s_bin(self.version, tool).display().to_string()
    }

    /// kubeadm in the host's namespace, chrooted into its root.
    fn kubeadm(&self, host: &str, args: &[&str]) -> String {
        let mut argv = vec![self.bin("kubeadm")];
        argv.extend(s(args));
        argv.push("--rootfs".into());
        argv.push(self.root(host).display().to_string());
        let o = self.lab.exec(host, &argv);
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(
            o.status.success(),
            "{host}: kubeadm {} failed:\n{out}\n{}",
            args.join(" "),
            self.lab.logs(20)
        );
        out
    }

    fn kubectl_output(&self, host: &str, kubeconfig: &Path, args: &[&str]) -> std::process::Output {
        let mut argv = vec![
            self.bin("kubectl"),
            format!("--kubeconfig={}", kubeconfig.display()),
            "--request-timeout=4s".into(),
        ];
        argv.extend(s(args));
        self.lab.exec(host, &argv)
    }

    /// [`Live::kubectl`] for the stand-ins' own calls (a Node, its status, a mirror pod):
    /// retried for a while when the API does not answer, as a kubelet retries; what the
    /// test checks goes through `kubectl` once.
    fn kubectl_stand_in(&self, host: &str, kubeconfig: &Path, args: &[&str]) -> String {
        for _ in 0..10 {
            let o = self.kubectl_output(host, kubeconfig, args);
            // A create whose answer was lost may have been made.
            if o.status.success() || text(&o.stderr).contains("AlreadyExists") {
                return text(&o.stdout);
            }
            std::thread::sleep(Duration::from_secs(3));
        }
        self.kubectl(host, kubeconfig, args)
    }

    fn kubectl(&self, host: &str, kubeconfig: &Path, args: &[&str]) -> String {
        let o = self.kubectl_output(host, kubeconfig, args);
        assert!(
            o.status.success(),
            "{host}: kubectl {} failed: {}{}",
            args.join(" "),
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    /// The `cluster-info` ConfigMap (what joining nodes discover), as YAML.
    fn cluster_info(&self) -> String {
        let m0 = self.masters()[0].clone();
        self.kubectl(
            &m0,
            &self.admin_conf(),
            &[
                "-n",
                "kube-public",
                "get",
                "configmap",
                "cluster-info",
                "-o",
                "yaml",
            ],
        )
    }

    fn admin_conf(&self) -> PathBuf {
        self.root(&self.masters()[0])
            .join("etc/kubernetes/admin.conf")
    }

    /// `kubectl get namespaces` through the endpoint, from `host`.
    fn api_works_from(&self, host: &str) -> bool {
        let o = self.kubectl_output(
            host,
            &self.admin_conf(),
            &["get", "namespaces", "-o", "name"],
        );
        o.status.success() && text(&o.stdout).contains("namespace/kube-system")
    }

    fn readyz(&self, master: &str) -> bool {
        let ca = self.root(master).join("etc/kubernetes/pki/ca.crt");
        let o = self.lab.exec(
            master,
            &[
                "curl".into(),
                "-s".into(),
                "--max-time".into(),
                "5".into(),
                "--cacert".into(),
                ca.display().to_string(),
                format!("https://{}:6443/readyz", self.addrs[master]),
            ],
        );
        o.status.success() && text(&o.stdout).trim() == "ok"
    }

    /// Starts a static pod kubeadm wrote, with the exact command of its manifest.
    fn start_static_pod(&mut self, host: &str, component: &str) {
        let root = self.root(host).to_path_buf();
        let manifest = root.join(format!("etc/kubernetes/manifests/{component}.yaml"));
        let mut argv = static_pod_command(&manifest);
        assert_eq!(argv[0], component, "{}", manifest.display());
        argv[0] = if component == "etcd" {
            "etcd".into()
        } else {
            self.bin(component)
        };
        let argv: Vec<String> = argv.iter().map(|w| map_paths_into(&root, w)).collect();
        self.lab.spawn(host, &format!("{host}-{component}"), &argv);
    }

    fn start_control_plane(&mut self, host: &str) {
        for c in [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
        ] {
            self.start_static_pod(host, c);
        }
        let h = host.to_string();
        wait_until(
            &self.lab,
            Duration::from_secs(180),
            &format!("{host}: /readyz"),
            || self.readyz(&h),
        );
    }

    /// The external etcd member of `host`, from its archive's etcd.service.
    fn start_etcd_unit(&mut self, host: &str) {
        let root = self.root(host).to_path_buf();
        let unit = std::fs::read_to_string(root.join("etc/systemd/system/etcd.service")).unwrap();
        let joined = unit.replace("\\\n", " ");
        let line = joined
            .lines()
            .find_map(|l| l.trim().strip_prefix("ExecStart="))
            .expect("ExecStart");
        let argv: Vec<String> = line
            .split_whitespace()
            .map(|w| map_paths_into(&root, w))
            .collect();
        self.lab.spawn(host, &format!("{host}-etcd"), &argv);
    }

    /// haproxy (if the host has one) and keepalived with the archive's configs, paths mapped.
    fn start_load_balancer(&mut self, host: &str) {
        if self.root(host).join("etc/haproxy/haproxy.cfg").exists() {
            self.start_haproxy(host);
        }
        self.start_keepalived(host);
    }

    /// keepalived with the archive's config, its paths mapped into the host's root.
    fn start_keepalived(&mut self, host: &str) {
        let root = self.root(host).to_path_buf();
        let map = |t: &str| {
            t.replace(
                "/etc/kubernetes/pki",
                &format!("{}/etc/kubernetes/pki", root.display()),
            )
            .replace(
                "/etc/keepalived/",
                &format!("{}/etc/keepalived/", root.display()),
            )
        };
        let conf = self.lab.dir.join(format!("{host}-keepalived.conf"));
        let keepalived_conf =
            map(&std::fs::read_to_string(root.join("etc/keepalived/keepalived.conf")).unwrap());
        if keepalived_conf.contains("include ") {
            // No interface named: the archive's bootstrap.sh finds the one that holds the
            // host's address (eth0 here) and writes the file keepalived.conf includes.
            let bootstrap = std::fs::read_to_string(root.join("etc/hac/bootstrap.sh")).unwrap();
            let start = bootstrap
                .find("keepalived_interface() {")
                .expect("bootstrap.sh detects keepalived's interface");
            let end = start
                + bootstrap[start..]
                    .find("\n}\n")
                    .expect("end of the function")
                + 3;
            let script = format!("{}keepalived_interface\n", map(&bootstrap[start..end]));
            let o = self.lab.exec(host, &s(&["sh", "-c", &script]));
            assert!(
                o.status.success() && text(&o.stdout).contains("hac: keepalived binds eth0"),
                "{host}: interface detection failed:\n{}{}",
                text(&o.stdout),
                text(&o.stderr)
            );
        }
        std::fs::write(&conf, keepalived_conf).unwrap();
        let dir = self.lab.dir.clone();
        self.lab.spawn(
            host,
            &format!("{host}-keepalived"),
            &[
                "keepalived".into(),
                "--dont-fork".into(),
                "--log-console".into(),
                "--no-syslog".into(),
                "--vrrp".into(),
                "--use-file".into(),
                conf.display().to_string(),
                format!("--pid={}", dir.join(format!("{host}.pid")).display()),
                format!(
                    "--vrrp_pid={}",
                    dir.join(format!("{host}.vrrp.pid")).display()
                ),
            ],
        );
    }

    /// haproxy with the archive's config, its paths mapped into the host's root.
    fn start_haproxy(&mut self, host: &str) {
        let root = self.root(host).to_path_buf();
        let text = std::fs::read_to_string(root.join("etc/haproxy/haproxy.cfg"))
            .unwrap()
            .replace(
                "/etc/kubernetes/pki",
                &format!("{}/etc/kubernetes/pki", root.display()),
            );
        let cfg = self.lab.dir.join(format!("{host}-haproxy.cfg"));
        std::fs::write(&cfg, text).unwrap();
        self.lab.spawn(
            host,
            &format!("{host}-haproxy"),
            &s(&["haproxy", "-db", "-f", &cfg.display().to_string()]),
        );
    }

    /// nginx with the archive's config in the foreground, its pid file and error log in the
    /// lab's folder (run as root: no www-data user is needed).
    fn start_nginx(&mut self, host: &str) {
        let dir = self.lab.dir.clone();
        let text = std::fs::read_to_string(self.root(host).join("etc/nginx/nginx.conf"))
            .unwrap()
            .replace(
                "pid /run/nginx.pid;",
                &format!("pid {}/{host}-nginx.pid;", dir.display()),
            )
            .replace(
                "error_log /var/log/nginx/error.log warn;",
                &format!("error_log {}/{host}-nginx.error.log;", dir.display()),
            )
            .replace("user www-data;", "");
        let cfg = dir.join(format!("{host}-nginx.conf"));
        std::fs::write(&cfg, text).unwrap();
        self.lab.spawn(
            host,
            &format!("{host}-nginx"),
            &s(&[
                "nginx",
                "-c",
                &cfg.display().to_string(),
                "-g",
                "daemon off;",
            ]),
        );
    }

    fn holds_vip(&self, host: &str) -> bool {
        self.holds_address(host, &self.vip)
    }

    fn holds_address(&self, host: &str, address: &str) -> bool {
        let o = self
            .lab
            .exec(host, &s(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"]));
        text(&o.stdout).contains(&format!(" {address}/"))
    }

    /// The host holding a leader-election lease (its identity is `<hostname>_<uuid>`).
    fn lease_holder(&self, from: &str, lease: &str) -> Option<String> {
        let o = self.kubectl_output(
            from,
            &self.admin_conf(),
            &[
                "-n",
                "kube-system",
                "get",
                "lease",
                lease,
                "-o",
                "jsonpath={.spec.holderIdentity}",
            ],
        );
        if !o.status.success() {
            return None;
        }
        let id = text(&o.stdout);
        id.split('_')
            .next()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
    }

    /// The first control plane: kubeadm's init phases, its components, then the phases that
    /// need the live API server.
    fn init_first(&mut self, first: &str, external: bool) {
        let cfg = "/etc/kubernetes/kubeadm-config.yaml";
        let skip = format!("--ignore-preflight-errors={SKIPPED}");
        // --dry-run skips only the image pull (no container runtime, no registry here).
        let out = self.kubeadm(
            first,
            &[
                "init",
                "phase",
                "preflight",
                "--dry-run",
                "--config",
                cfg,
                &skip,
            ],
        );
        assert!(!out.contains("[ERROR"), "{out}");
        let out = self.kubeadm(first, &["init", "phase", "certs", "all", "--config", cfg]);
        assert!(
            !out.contains("Generating \""),
            "{first}: kubeadm generated certificates:\n{out}"
        );
        let out = self.kubeadm(
            first,
            &["init", "phase", "kubeconfig", "all", "--config", cfg],
        );
        assert!(
            out.lines()
                .filter(|l| l.contains("Writing"))
                .all(|l| l.contains("kubelet.conf")),
            "{first}: kubeadm wrote kubeconfigs hac ships:\n{out}"
        );
        if !external {
            self.kubeadm(first, &["init", "phase", "etcd", "local", "--config", cfg]);
            self.start_static_pod(first, "etcd");
        }
        self.kubeadm(
            first,
            &["init", "phase", "control-plane", "all", "--config", cfg],
        );
        self.start_control_plane(first);
    }

    /// Phases of `kubeadm init` that run against the live API server (through the endpoint).
    fn init_live_phases(&mut self, first: &str) {
        let cfg = "/etc/kubernetes/kubeadm-config.yaml";
        let f = first.to_string();
        wait_until(
            &self.lab,
            Duration::from_secs(60),
            "the endpoint answers",
            || {
                // Through the VIP; admin.conf's group is bound by the next phase, so ask /readyz.
                let o = self.lab.exec(
                    &f,
                    &[
                        "curl".into(),
                        "-s".into(),
                        "--max-time".into(),
                        "3".into(),
                        "--cacert".into(),
                        self.root(&f)
                            .join("etc/kubernetes/pki/ca.crt")
                            .display()
                            .to_string(),
                        format!("https://{}/readyz", self.endpoint),
                    ],
                );
                text(&o.stdout).trim() == "ok"
            },
        );
        // Stand-in for the kubelet registering its Node (no kubelet can run here); the
        // kubelet phase of upload-config annotates it.
        self.create_node(first);
        self.kubeadm(
            first,
            &["init", "phase", "upload-config", "all", "--config", cfg],
        );
        self.kubeadm(
            first,
            &["init", "phase", "bootstrap-token", "--config", cfg],
        );
        self.kubeadm(
            first,
            &["init", "phase", "mark-control-plane", "--config", cfg],
        );
        let node = self.kubectl(
            first,
            &self.admin_conf(),
            &["get", "node", first, "-o", "json"],
        );
        assert!(
            node.contains("node-role.kubernetes.io/control-plane"),
            "mark-control-plane did not label {first}:\n{node}"
        );
    }

    /// The first control plane's super-admin.conf (system:masters), which works before
    /// kubeadm has bound admin.conf's group.
    fn super_admin_conf(&self) -> PathBuf {
        self.root(&self.masters()[0])
            .join("etc/kubernetes/super-admin.conf")
    }

    fn create_node(&self, host: &str) {
        let file = self.lab.dir.join(format!("node-{host}.yaml"));
        std::fs::write(
            &file,
            // What a kubelet registers: kubeadm waits for the hostname label before patching.
            format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: {host}\n  labels:\n    \
                 kubernetes.io/hostname: {host}\n    kubernetes.io/os: linux\n    \
                 kubernetes.io/arch: amd64\n"
            ),
        )
        .unwrap();
        let m0 = self.masters()[0].clone();
        self.kubectl_stand_in(
            &m0,
            &self.super_admin_conf(),
            &["create", "-f", &file.display().to_string()],
        );
    }

    /// Stand-in for the kubelet's mirror pod of a stacked etcd member: kubeadm finds the etcd
    /// members through these pods' annotations.
    fn create_etcd_mirror_pod(&self, host: &str) {
        self.create_mirror_pod(host, "etcd");
    }

    /// Stand-in for the kubelet's mirror pod of the static pod `component` (kubeadm reads
    /// kube-apiserver's advertise address from its mirror pod's annotation).
    fn create_mirror_pod(&self, host: &str, component: &str) {
        let manifest = self
            .root(host)
            .join(format!("etc/kubernetes/manifests/{component}.yaml"));
        let mut doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        doc["metadata"]["name"] = format!("{component}-{host}").into();
        // What makes a pod a mirror pod (kubectl drain leaves those alone, as it must).
        doc["metadata"]["annotations"]["kubernetes.io/config.mirror"] =
            "stand-in-for-the-kubelet".into();
        doc["spec"]["nodeName"] = host.into();
        let file = self.lab.dir.join(format!("mirror-{component}-{host}.yaml"));
        std::fs::write(&file, serde_yaml::to_string(&doc).unwrap()).unwrap();
        // A real mirror pod is exempt from the ServiceAccount admission plugin; this stand-in
        // is not, so it waits for kube-controller-manager to create kube-system's `default`.
        wait_until(
            &self.lab,
            Duration::from_secs(60),
            "kube-system's default service account",
            || {
                self.kubectl_output(
                    host,
                    &self.admin_conf(),
                    &["get", "serviceaccount", "default", "-n", "kube-system"],
                )
                .status
                .success()
            },
        );
        self.kubectl(
            host,
            &self.admin_conf(),
            &["create", "-f", &file.display().to_string()],
        );
    }

    /// A joining control plane: preflight and control-plane-prepare against the live cluster,
    /// stacked etcd through kubeadm (learner, then promoted), then its components.
    fn join_control_plane(&mut self, host: &str, external: bool) {
        let cfg = "/etc/kubernetes/kubeadm-config.yaml";
        let skip = format!("--ignore-preflight-errors={SKIPPED}");
        // --dry-run skips only the image pull (no container runtime, no registry here).
        let out = self.kubeadm(
            host,
            &[
                "join",
                "phase",
                "preflight",
                "--dry-run",
                "--config",
                cfg,
                &skip,
            ],
        );
        assert!(!out.contains("[ERROR"), "{host}: {out}");
        let out = self.kubeadm(
            host,
            &[
                "join",
                "phase",
                "control-plane-prepare",
                "all",
                "--config",
                cfg,
            ],
        );
        assert!(
            !out.contains("Generating \"") && !out.contains("Writing \""),
            "{host}: kubeadm join generated files hac ships:\n{out}"
        );
        assert!(out.contains("Using existing"), "{host}: {out}");
        if !external {
            let label = format!("{host}-kubeadm-join-etcd");
            let mut argv = vec![self.bin("kubeadm")];
            argv.extend(s(&[
                "join",
                "phase",
                "control-plane-join",
                "etcd",
                "--config",
                cfg,
                "-v1",
            ]));
            argv.push("--rootfs".into());
            argv.push(self.root(host).display().to_string());
            self.lab.spawn(host, &label, &argv);
            let manifest = self.root(host).join("etc/kubernetes/manifests/etcd.yaml");
            wait_until(
                &self.lab,
                Duration::from_secs(90),
                &format!("{host}: etcd.yaml"),
                || manifest.exists(),
            );
            std::thread::sleep(Duration::from_millis(300));
            let cmd = static_pod_command(&manifest).join(" ");
            assert!(
                cmd.contains("--initial-cluster-state=existing"),
                "{host}: a joining member must start with state existing: {cmd}"
            );
            self.start_static_pod(host, "etcd");
            let mut status = self.lab.wait_exit(&label, Duration::from_secs(180));
            // kubeadm's own race, seen on a loaded machine: right after adding the learner it
            // reads the member list back from a member that has not applied the change yet
            // and stops with "no member id found for peer URL" (etcd.go GetMemberID). Adding
            // the member is idempotent in kubeadm, so an operator re-runs the phase; so does
            // this test, once, and only for that message.
            if !status.is_some_and(|s| s.success())
                && self
                    .lab
                    .log(&label)
                    .contains("no member id found for peer URL")
            {
                let retry = format!("{label}-again");
                self.lab.spawn(host, &retry, &argv);
                status = self.lab.wait_exit(&retry, Duration::from_secs(180));
                let label = retry;
                assert!(
                    status.is_some_and(|s| s.success()),
                    "{host}: kubeadm join phase control-plane-join etcd, run again: {status:?}\n{}\n{}",
                    self.lab.log(&label),
                    self.lab.logs(20)
                );
            }
            assert!(
                status.is_some_and(|s| s.success()),
                "{host}: kubeadm join phase control-plane-join etcd: {status:?}\n{}\n{}",
                self.lab.log(&label),
                self.lab.logs(20)
            );
        }
        self.start_control_plane(host);
    }

    /// kubeadm join's discovery on a worker, with the bundle's token and caCertHashes: it
    /// ends at the TLS bootstrap, which needs a kubelet.
    fn worker_discovery(&mut self, worker: &str, ca: &[u8]) {
        let label = format!("{worker}-kubeadm-join");
        // A discovery again (after a CA renewal) reads only its own log.
        let _ = std::fs::remove_file(self.lab.dir.join(format!("{label}.log")));
        let mut argv = vec![self.bin("kubeadm")];
        argv.extend(s(&[
            "join",
            "phase",
            "kubelet-start",
            "--config",
            "/etc/kubernetes/kubeadm-config.yaml",
            "-v1",
        ]));
        argv.push("--rootfs".into());
        argv.push(self.root(worker).display().to_string());
        self.lab.spawn(worker, &label, &argv);
        let lab = &self.lab;
        wait_until(
            lab,
            Duration::from_secs(90),
            "worker discovery and bootstrap-token login",
            || {
                let log = lab.log(&label);
                assert!(
                    !log.contains("error execution phase"),
                    "{worker}: kubeadm join failed:\n{log}"
                );
                log.contains("Waiting for the kubelet to perform the TLS Bootstrap")
                    || log.contains("Writing kubelet configuration")
            },
        );
        self.lab.stop(&label);
        let log = self.lab.log(&label);
        assert!(
            log.contains("Cluster info signature and contents are valid"),
            "{worker}: discovery did not validate cluster-info with the token:\n{log}"
        );
        let got = std::fs::read(self.root(worker).join("etc/kubernetes/pki/ca.crt"))
            .expect("discovery wrote the cluster CA");
        assert_eq!(
            got, ca,
            "{worker}: discovery found another CA than the bundle's"
        );
    }

    /// Tries kubectl through the endpoint every 500 ms for `span`; returns the longest run
    /// of failures.
    fn longest_outage(&self, from: &str, span: Duration) -> Duration {
        let start = Instant::now();
        let mut longest = Duration::ZERO;
        let mut failing_since: Option<Instant> = None;
        while start.elapsed() < span {
            let t = Instant::now();
            if self.api_works_from(from) {
                if let Some(f) = failing_since.take() {
                    longest = longest.max(t - f);
                }
            } else if failing_since.is_none() {
                failing_since = Some(t);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if let Some(f) = failing_since {
            longest = longest.max(f.elapsed());
        }
        longest
    }

    /// The security settings at work (stacked.ha): a Secret created through the API is
    /// stored in etcd as `k8s:enc:aescbc:v1:key-0:…` (never its plain value), the audit log
    /// of the kube-apiserver that served the request holds a JSON line for it, at `Metadata`
    /// (no body: the value is not in the log), and kube-apiserver serves with the OIDC flags.
    fn secrets_are_encrypted_and_audited(&self, m0: &str) {
        let value = "hac-plain-value-4f1c";
        let name = "hac-encryption-probe";
        let admin = self.admin_conf();
        self.kubectl(
            m0,
            &admin,
            &[
                "create",
                "secret",
                "generic",
                name,
                &format!("--from-literal=k={value}"),
            ],
        );
        let root = self.root(m0);
        let pki = root.join("etc/kubernetes/pki");
        let o = self.lab.exec(
            m0,
            &s(&[
                "etcdctl",
                &format!("--endpoints=https://{}:2379", self.addrs[m0]),
                &format!("--cacert={}", pki.join("etcd/ca.crt").display()),
                &format!("--cert={}", pki.join("apiserver-etcd-client.crt").display()),
                &format!("--key={}", pki.join("apiserver-etcd-client.key").display()),
                "get",
                &format!("/registry/secrets/default/{name}"),
                "--print-value-only",
            ]),
        );
        assert!(o.status.success(), "etcdctl get: {}", text(&o.stderr));
        let stored = &o.stdout;
        let prefix = b"k8s:enc:aescbc:v1:key-0:";
        assert!(
            stored.starts_with(prefix),
            "the Secret is not encrypted in etcd: {:?}",
            String::from_utf8_lossy(&stored[..stored.len().min(40)])
        );
        assert!(
            !String::from_utf8_lossy(stored).contains(value),
            "the plain value is in etcd"
        );
        // Through the API it reads back decrypted.
        let back = self.kubectl(
            m0,
            &admin,
            &[
                "get",
                "secret",
                name,
                "-o",
                "go-template={{base64decode .data.k}}",
            ],
        );
        assert_eq!(back.trim(), value, "the Secret reads back decrypted");

        // The audit log: one kube-apiserver served the create (through the load balancer).
        let mut create_lines = 0;
        for m in self.masters() {
            let log = self.root(&m).join("var/log/kubernetes/audit/audit.log");
            let Ok(t) = std::fs::read_to_string(&log) else {
                continue;
            };
            assert!(
                !t.contains(value),
                "{m}: the audit log holds the Secret's value"
            );
            for line in t.lines() {
                let event: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{m}: audit line is not JSON ({e}): {line}"));
                if event["verb"] == "create" && event["objectRef"]["name"] == name {
                    assert_eq!(event["level"], "Metadata", "{m}: {line}");
                    assert_eq!(event["objectRef"]["resource"], "secrets");
                    create_lines += 1;
                }
            }
        }
        assert!(
            create_lines >= 1,
            "no audit line records the Secret's creation"
        );
        // kube-apiserver runs with the OIDC flags hac wired.
        let cmdline =
            std::fs::read_to_string(root.join("etc/kubernetes/manifests/kube-apiserver.yaml"))
                .unwrap();
        for flag in [
            "--oidc-issuer-url=https://login.live-stacked.test",
            "--encryption-provider-config=",
            "--audit-policy-file=",
        ] {
            assert!(cmdline.contains(flag), "{m0}: kube-apiserver lacks {flag}");
        }
    }

    fn stop_host(&mut self, host: &str) {
        self.lab.stop(&format!("{host}-"));
    }

    /// Stand-in for the kubelet's status updates: the Node Ready, as a running kubelet posts
    /// it (`kubectl wait --for=condition=Ready node/…` in the plan waits for it).
    fn mark_node_ready(&self, host: &str) {
        // With a heartbeat of now: the node controller takes a Ready condition whose
        // heartbeat did not move since it marked the node unknown as stale, and marks it
        // unknown again at its next look (a race with `kubectl wait` the plan runs next).
        let now = run(std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]));
        let now = text(&now.stdout).trim().to_string();
        let patch = format!(
            r#"{{"status":{{"conditions":[{{"type":"Ready","status":"True","reason":"KubeletReady","message":"stand-in for the kubelet (tests/k8s_control_plane.rs)","lastHeartbeatTime":"{now}","lastTransitionTime":"{now}"}}]}}}}"#
        );
        let m0 = self.masters()[0].clone();
        self.kubectl_stand_in(
            &m0,
            &self.admin_conf(),
            &[
                "patch",
                "node",
                host,
                "--subresource=status",
                "--type=merge",
                "-p",
                &patch,
            ],
        );
    }

    /// What `kubeadm join`'s kubelet-start phase writes on the Node once the kubelet has
    /// registered it (`kubeadm reset` reads it back to find the node's configuration).
    fn annotate_cri_socket(&self, host: &str) {
        let m0 = self.masters()[0].clone();
        self.kubectl(
            &m0,
            &self.admin_conf(),
            &[
                "annotate",
                "node",
                host,
                "kubeadm.alpha.kubernetes.io/cri-socket=unix:///var/run/containerd/containerd.sock",
            ],
        );
    }

    /// The fixture with `count` control planes, beside the first build's file (same secrets).
    fn variant(&self, count: usize) -> PathBuf {
        let text = std::fs::read_to_string(&self.file).unwrap();
        let from = r#"prefix = "master"; count = 3;"#;
        assert!(text.contains(from), "the fixture changed: update this test");
        let file = self
            .file
            .with_file_name(format!("{}-{count}.ha", self.file_stem()));
        std::fs::write(
            &file,
            text.replace(from, &format!(r#"prefix = "master"; count = {count};"#)),
        )
        .unwrap();
        file
    }

    fn file_stem(&self) -> String {
        self.file
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn secrets(&self) -> PathBuf {
        self.file.with_extension("secrets")
    }

    /// `hac build file --from previous` into a new folder (archives).
    fn build_from(&self, file: &Path, previous: &Path) -> PathBuf {
        self.build_with(file, previous, "", &[])
    }

    /// `hac build file --from previous` with `extra` arguments, into a new folder whose
    /// name ends with `tag`.
    fn build_with(&self, file: &Path, previous: &Path, tag: &str, extra: &[&str]) -> PathBuf {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let out = self.file.with_file_name(format!("out-{stem}{tag}"));
        let o = run(hac()
            .arg("build")
            .arg(file)
            .arg("--secrets")
            .arg(self.secrets())
            .arg("--from")
            .arg(previous)
            .args(extra)
            .arg("-o")
            .arg(&out)
            .arg("-q"));
        assert!(o.status.success(), "hac build --from: {}", text(&o.stderr));
        out
    }

    /// `hac plan file --from previous`: its text.
    fn plan(&self, file: &Path, previous: &Path) -> String {
        self.plan_with(file, previous, &[])
    }

    /// `hac plan file --from previous` with `extra` arguments: its text.
    fn plan_with(&self, file: &Path, previous: &Path, extra: &[&str]) -> String {
        let o = run(hac()
            .arg("plan")
            .arg(file)
            .arg("--secrets")
            .arg(self.secrets())
            .arg("--from")
            .arg(previous)
            .args(extra));
        assert!(o.status.success(), "hac plan: {}", text(&o.stderr));
        text(&o.stdout)
    }

    /// The token of the secrets file (the plan's `HAC_BOOTSTRAP_TOKEN`).
    fn bootstrap_token(&self) -> String {
        std::fs::read_to_string(self.secrets())
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("bootstrapToken: "))
            .expect("bootstrapToken in the secrets file")
            .trim_matches('"')
            .to_string()
    }

    /// What `tar --no-overwrite-dir -xzpf hosts/<host>.tar.gz -C /` does: the new bundle's
    /// files over the host's root (the lab's /etc/hosts kept).
    fn install(&mut self, bundle: &Path, host: &str) {
        let root = self.root(host).to_path_buf();
        let hosts = std::fs::read_to_string(root.join("etc/hosts")).unwrap();
        unpack(&bundle.join(format!("hosts/{host}.tar.gz")), &root);
        std::fs::write(root.join("etc/hosts"), hosts).unwrap();
        self.roles.insert(host.to_string(), host_roles(&root));
    }

    /// Runs every step of a plan's text in order, each command as the operator would on the
    /// step's host. Returns the steps run.
    fn run_plan(&mut self, bundle: &Path, plan: &str) -> usize {
        let token = self.bootstrap_token();
        let steps = plan_steps(plan);
        for (host, commands) in &steps {
            for cmd in commands {
                self.plan_command(bundle, host, cmd, &token);
            }
        }
        steps.len()
    }

    /// One command of a plan step. Where the real thing cannot run here, the stand-in is
    /// the one of the rest of this file: `/etc/hac/bootstrap.sh` on a joining control plane
    /// is kubeadm's join phases plus the kubelet's Node (with the CRI socket annotation
    /// `kubeadm join` adds), mirror pods (etcd, kube-apiserver) and Ready status;
    /// `kubectl exec etcd-<host> -- etcdctl` is the host's etcdctl with the same certificates;
    /// `systemctl reload haproxy` stops haproxy and starts it with the new config (no
    /// seamless reload: the endpoint may miss a request on that host); `systemctl reload
    /// keepalived` writes the new config where the lab's keepalived reads it and sends
    /// SIGHUP, as systemd's reload does; `/etc/hac/bootstrap.sh prepare` installs nothing (no
    /// downloads here: the machine has the packages' programs); `systemctl disable --now A &&
    /// systemctl enable --now B` stops the lab's A and starts B with the archive's config;
    /// after the real `kubeadm reset -f` the host's processes stop, as the kubelet stops
    /// static pods whose manifests are gone. Everything else (kubectl, kubeadm token, curl)
    /// runs verbatim in the host's namespace, kubeadm chrooted into the host's root and
    /// kubectl's `/etc/kubernetes` mapped into it.
    fn plan_command(&mut self, bundle: &Path, host: &str, cmd: &str, token: &str) {
        let (bare, comment) = match cmd.split_once("   # ") {
            Some((c, comment)) => (c.trim(), Some(comment.trim())),
            None => (cmd.trim(), None),
        };
        let at = comment
            .and_then(|c| c.strip_prefix("on "))
            .unwrap_or(host)
            .to_string();
        if bare.starts_with("tar --no-overwrite-dir -xzpf hosts/") {
            self.install(bundle, host);
        } else if bare == "/etc/hac/bootstrap.sh" {
            assert!(
                self.roles[host].iter().any(|r| r == "control-plane"),
                "{host}: only control planes join in this test"
            );
            // A host that joins again: the kubelet replaces the mirror pods its dead
            // predecessor left.
            for pod in [format!("etcd-{host}"), format!("kube-apiserver-{host}")] {
                let m0 = self.masters()[0].clone();
                self.kubectl(
                    &m0,
                    &self.admin_conf(),
                    &[
                        "-n",
                        "kube-system",
                        "delete",
                        "pod",
                        &pod,
                        "--ignore-not-found",
                    ],
                );
            }
            self.join_control_plane(host, false);
            // The kubelet's TLS bootstrap writes kubelet.conf, a kubeconfig naming the
            // endpoint (a later plan moves it).
            std::fs::copy(
                self.admin_conf(),
                self.root(host).join("etc/kubernetes/kubelet.conf"),
            )
            .unwrap();
            self.create_node(host);
            self.annotate_cri_socket(host);
            self.create_etcd_mirror_pod(host);
            self.create_mirror_pod(host, "kube-apiserver");
            self.mark_node_ready(host);
        } else if bare == "/etc/hac/bootstrap.sh prepare" {
            // Packages cannot be downloaded here: the lab's hosts already have what the
            // prepare phase would install (nginx, haproxy, keepalived).
        } else if let Some((from, to)) = bare
            .strip_prefix("systemctl disable --now ")
            .and_then(|r| r.split_once(" && systemctl enable --now "))
        {
            self.lab.stop(&format!("{host}-{from}"));
            match to {
                "nginx" => self.start_nginx(host),
                "haproxy" => self.start_haproxy(host),
                other => panic!("{host}: no stand-in starts {other}"),
            }
        } else if bare == "systemctl reload nginx" {
            self.lab.stop(&format!("{host}-nginx"));
            self.start_nginx(host);
        } else if bare == "systemctl reload haproxy" {
            self.lab.stop(&format!("{host}-haproxy"));
            self.start_haproxy(host);
            // systemctl returns once the new haproxy serves.
            let port = self
                .endpoint
                .rsplit(':')
                .next()
                .unwrap_or("6443")
                .to_string();
            let h = host.to_string();
            wait_until(
                &self.lab,
                Duration::from_secs(20),
                &format!("{host}: haproxy serves again"),
                || {
                    self.lab
                        .exec(
                            &h,
                            &s(&[
                                "curl",
                                "-fks",
                                "--max-time",
                                "2",
                                &format!("https://127.0.0.1:{port}/readyz"),
                            ]),
                        )
                        .status
                        .success()
                },
            );
        } else if bare == "systemctl reload keepalived" {
            // What systemd's reload does: the new configuration, then SIGHUP.
            let conf = self.lab.dir.join(format!("{host}-keepalived.conf"));
            let running = std::fs::read_to_string(&conf).unwrap();
            let root = self.root(host).display().to_string();
            let new =
                std::fs::read_to_string(self.root(host).join("etc/keepalived/keepalived.conf"))
                    .unwrap()
                    .replace("/etc/kubernetes/pki", &format!("{root}/etc/kubernetes/pki"))
                    .replace("/etc/keepalived/", &format!("{root}/etc/keepalived/"));
            if running != new {
                std::fs::write(&conf, new).unwrap();
                self.lab.signal(&format!("{host}-keepalived"), "HUP");
            }
        } else if bare
            .starts_with("for m in kube-apiserver kube-controller-manager kube-scheduler; do mv ")
        {
            // The kubelet stops the static pods whose manifests left and starts them again
            // when they are back: here, the processes, with the renewed files.
            for c in [
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
            ] {
                self.lab.stop(&format!("{host}-{c}"));
            }
            self.start_control_plane(host);
        } else if bare == "rm -rf /var/lib/etcd" {
            let data = self.root(host).join("var/lib/etcd");
            if data.exists() {
                std::fs::remove_dir_all(data).unwrap();
            }
        } else if bare == "systemctl stop keepalived" {
            self.lab.stop(&format!("{host}-keepalived"));
        } else if bare == "systemctl start keepalived" {
            self.start_keepalived(host);
        } else if bare == "systemctl restart etcd" {
            self.lab.stop(&format!("{host}-etcd"));
            self.start_etcd_unit(host);
        } else if bare == "systemctl restart kubelet" {
            // No kubelet runs here (see the file's header).
        } else if bare
            == "rm -f /var/lib/kubelet/pki/kubelet-client-current.pem && systemctl restart kubelet"
        {
            self.kubelet_tls_bootstrap(host);
        } else if bare == "kubeadm reset -f" {
            self.kubeadm(host, &["reset", "-f"]);
            self.stop_host(host);
        } else {
            let root = self.root(&at).display().to_string();
            // `kubectl exec etcd-<host> -- etcdctl …` runs etcdctl in the etcd static pod,
            // which has the host's network and its /etc/kubernetes/pki/etcd: the host's
            // etcdctl with the same certificates (no kubelet runs pods here).
            let bare = bare.replace(
                &format!("kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system exec etcd-{at} -- etcdctl"),
                "ETCDCTL_API=3 etcdctl",
            );
            let bare = if bare.contains("etcdctl") {
                bare.replace("/etc/kubernetes/pki", &format!("{root}/etc/kubernetes/pki"))
            } else {
                bare
            };
            // No kubelet runs here: restarting it is nothing; any other systemctl is an error.
            // Every other file under /etc/kubernetes is the host's, except for kubeadm,
            // which runs chrooted into the host's root.
            let bare = if bare.contains("kubeadm ") {
                bare
            } else {
                bare.replace(
                    " /etc/kubernetes/manifests/",
                    &format!(" {root}/etc/kubernetes/manifests/"),
                )
                .replace(
                    " /etc/kubernetes/bootstrap-kubelet.conf",
                    &format!(" {root}/etc/kubernetes/bootstrap-kubelet.conf"),
                )
                .replace(
                    " /etc/kubernetes/kubeadm-config.yaml",
                    &format!(" {root}/etc/kubernetes/kubeadm-config.yaml"),
                )
                .replace(
                    " /etc/kubernetes/admin.conf",
                    &format!(" {root}/etc/kubernetes/admin.conf"),
                )
                .replace(
                    " /etc/kubernetes/controller-manager.conf",
                    &format!(" {root}/etc/kubernetes/controller-manager.conf"),
                )
                .replace(
                    " /etc/kubernetes/scheduler.conf",
                    &format!(" {root}/etc/kubernetes/scheduler.conf"),
                )
                .replace(
                    " /etc/kubernetes/super-admin.conf",
                    &format!(" {root}/etc/kubernetes/super-admin.conf"),
                )
            };
            let script = format!(
                "kubeadm() {{ {} \"$@\" --rootfs {root}; }}\nkubectl() {{ {} \"$@\"; }}\nsystemctl() {{ [ \"$*\" = 'restart kubelet' ] || {{ echo \"unexpected: systemctl $*\" >&2; return 1; }}; }}\n{}",
                self.bin("kubeadm"),
                self.bin("kubectl"),
                bare.replace(
                    "--kubeconfig /etc/kubernetes/",
                    &format!("--kubeconfig {root}/etc/kubernetes/")
                )
                .replace(
                    " /etc/kubernetes/kubelet.conf",
                    &format!(" {root}/etc/kubernetes/kubelet.conf")
                )
                .replace(" /etc/kubernetes/pki/", &format!(" {root}/etc/kubernetes/pki/"))
                .replace(" /etc/hac/", &format!(" {root}/etc/hac/"))
                .replace(" /var/lib/kubelet/", &format!(" {root}/var/lib/kubelet/"))
                .replace(
                    "tar -xzf hosts/",
                    &format!("tar -xzf {}/hosts/", bundle.display())
                )
            );

            let o = run(self
                .lab
                .command(&at, &s(&["sh", "-c", &script]))
                .env("HAC_BOOTSTRAP_TOKEN", token));
            assert!(
                o.status.success(),
                "on {at}: {cmd}\n{}{}\n{}",
                text(&o.stdout),
                text(&o.stderr),
                self.lab.logs(15)
            );
            // A restarted kubelet reports its Node Ready again (no kubelet runs here, and
            // without heartbeats the node controller has long marked it unknown).
            if bare.ends_with("systemctl restart kubelet") {
                self.mark_node_ready(&at);
            }
        }
    }

    /// `cluster-info` carries `b64` (a CA file, base64) as its CA: what joining nodes trust.
    fn assert_cluster_info_ca(&self, b64: &str, what: &str) {
        let info = self.cluster_info();
        assert!(
            info.contains(&format!("certificate-authority-data: {b64}")),
            "cluster-info carries {what}:\n{info}"
        );
    }

    /// Stand-in for a kubelet that lost its client certificate and restarts: its TLS
    /// bootstrap, as the kubelet does it, with the bootstrap kubeconfig the plan wrote (the
    /// token of the host's kubeadm-config.yaml) — a new key, a CertificateSigningRequest for
    /// `system:node:<host>` (signer `kubernetes.io/kube-apiserver-client-kubelet`) that the
    /// real controller-manager approves (kubeadm's auto-approval for the bootstrap token's
    /// group) and signs, the certificate and key written where the kubelet keeps them; then
    /// its Node Ready again.
    fn kubelet_tls_bootstrap(&mut self, host: &str) {
        let root = self.root(host).to_path_buf();
        let bootstrap = root.join("etc/kubernetes/bootstrap-kubelet.conf");
        assert!(
            bootstrap.exists(),
            "{host}: the plan wrote no bootstrap kubeconfig"
        );
        let work = self.lab.dir.join(format!("tls-bootstrap-{host}"));
        std::fs::create_dir_all(&work).unwrap();
        let (key, csr) = (work.join("key.pem"), work.join("csr.pem"));
        let o = run(std::process::Command::new("openssl").args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/O=system:nodes/CN=system:node:{host}"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            csr.to_str().unwrap(),
        ]));
        assert!(o.status.success(), "openssl req: {}", text(&o.stderr));
        let request = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(std::fs::read(&csr).unwrap())
        };
        self.csr_count += 1;
        let name = format!("node-csr-{host}-{}", self.csr_count);
        let manifest = work.join("csr.yaml");
        std::fs::write(
            &manifest,
            format!(
                "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: {name}\nspec:\n  request: {request}\n  signerName: kubernetes.io/kube-apiserver-client-kubelet\n  usages:\n  - digital signature\n  - client auth\n"
            ),
        )
        .unwrap();
        self.kubectl(
            host,
            &bootstrap,
            &["create", "-f", manifest.to_str().unwrap()],
        );
        let mut cert = String::new();
        wait_until(
            &self.lab,
            Duration::from_secs(60),
            &format!("{host}: the controller-manager signs {name}"),
            || {
                let o = self.kubectl_output(
                    host,
                    &bootstrap,
                    &["get", "csr", &name, "-o", "jsonpath={.status.certificate}"],
                );
                cert = text(&o.stdout).trim().to_string();
                o.status.success() && !cert.is_empty()
            },
        );
        let pem = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(&cert)
                .unwrap()
        };
        let dir = root.join("var/lib/kubelet/pki");
        std::fs::create_dir_all(&dir).unwrap();
        let mut both = pem;
        both.extend(std::fs::read(&key).unwrap());
        std::fs::write(dir.join("kubelet-client-current.pem"), both).unwrap();
        // The kubelet registers its Node where none is (this file's joined control planes
        // have none until then), and reports it Ready.
        let m0 = self.masters()[0].clone();
        let node = format!("node/{host}");
        if !self
            .kubectl_output(&m0, &self.admin_conf(), &["get", &node])
            .status
            .success()
        {
            self.create_node(host);
        }
        self.mark_node_ready(host);
    }

    /// kubectl through the endpoint from `host` every 500 ms, in the background, each
    /// attempt's time and result logged (`label`: a log of its own).
    fn start_load(&mut self, host: &str, label: &str) {
        let script = format!(
            "while :; do if {} --kubeconfig={} --request-timeout=4s get namespaces -o name >/dev/null 2>&1; then r=ok; else r=fail; fi; echo \"$(date +%s.%N) $r\"; sleep 0.5; done",
            self.bin("kubectl"),
            self.admin_conf().display()
        );
        self.lab.spawn(host, label, &s(&["sh", "-c", &script]));
        self.load_started.insert(label.to_string(), Instant::now());
    }

    /// Stops the load `label`, prints what it saw (`what` took so long: failed calls, the
    /// longest run of failures) and asserts kubectl through the endpoint never failed for
    /// longer than [`FAILOVER_BOUND`]; returns the attempts.
    fn finish_load_within_bound(&mut self, label: &str, what: &str) -> usize {
        let took = self
            .load_started
            .get(label)
            .map_or(Duration::ZERO, Instant::elapsed);
        let (attempts, failed, longest) = self.finish_load(label);
        eprintln!(
            "{what} in {took:?}: {failed} of {attempts} kubectl calls through the endpoint failed, longest run {longest:?}"
        );
        assert!(
            longest <= FAILOVER_BOUND,
            "{what}: kubectl through the endpoint failed for {longest:?}"
        );
        attempts
    }

    /// Stops the load: (attempts, failed, longest run of failures).
    fn finish_load(&mut self, label: &str) -> (usize, usize, Duration) {
        std::thread::sleep(Duration::from_secs(1));
        self.lab.stop(label);
        let log = self.lab.log(label);
        let mut results: Vec<(f64, bool)> = Vec::new();
        for line in log.lines() {
            if let Some((t, r)) = line.split_once(' ') {
                if let Ok(t) = t.parse::<f64>() {
                    results.push((t, r == "ok"));
                }
            }
        }
        // The attempt cut short by the stop.
        results.pop();
        let failed = results.iter().filter(|(_, ok)| !ok).count();
        let mut longest = 0f64;
        let mut since: Option<f64> = None;
        for (t, ok) in &results {
            match (ok, since) {
                (false, None) => since = Some(*t),
                (true, Some(f)) => {
                    longest = longest.max(t - f);
                    since = None;
                }
                _ => {}
            }
        }
        if let (Some(f), Some((last, _))) = (since, results.last()) {
            longest = longest.max(last - f);
        }
        (results.len(), failed, Duration::from_secs_f64(longest))
    }

    /// The names of the etcd members, through master-0's etcd.
    fn etcd_members(&self) -> Vec<String> {
        let m0 = self.masters()[0].clone();
        let pki = self.root(&m0).join("etc/kubernetes/pki");
        let o = self.lab.exec(
            &m0,
            &s(&[
                "etcdctl",
                &format!("--endpoints=https://{}:2379", self.addrs[&m0]),
                &format!("--cacert={}", pki.join("etcd/ca.crt").display()),
                &format!("--cert={}", pki.join("apiserver-etcd-client.crt").display()),
                &format!("--key={}", pki.join("apiserver-etcd-client.key").display()),
                "member",
                "list",
            ]),
        );
        assert!(
            o.status.success(),
            "etcdctl member list: {}",
            text(&o.stderr)
        );
        text(&o.stdout).lines().map(str::to_string).collect()
    }
}

/// `(host, commands)` of each step of a plan's text.
fn plan_steps(plan: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in plan.lines() {
        let t = line.trim_start();
        if let Some((n, rest)) = t.split_once(". [") {
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                let host = rest.split(']').next().unwrap_or_default().to_string();
                out.push((host, Vec::new()));
                continue;
            }
        }
        if let Some(cmd) = t.strip_prefix("$ ") {
            out.last_mut()
                .expect("a command inside a step")
                .1
                .push(cmd.to_string());
        }
    }
    out
}

/// A plan's first line and its steps' titles: the log names each phase's steps and stays
/// short, so that a failure's message is not cut from CI's excerpt (the plans' whole text
/// is reviewed as snapshots in compiler/plan/tests).
fn outline(plan: &str) -> String {
    plan.lines()
        .filter(|l| {
            let t = l.trim_start();
            l.starts_with("Plan for")
                || t.split_once(". [")
                    .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn report_says(report: &str, needle: &str) {
    assert!(
        report.contains(needle),
        "report.txt does not say {needle:?}:\n{report}"
    );
}

#[test]
fn stacked_control_plane_runs_and_survives_what_the_report_predicts() {
    let mut c = Live::new("stacked", "s");
    let masters = c.masters();
    let lbs = c.with_role("load-balancer");
    let worker = c.with_role("worker")[0].clone();
    assert_eq!(masters.len(), 3);
    assert_eq!(lbs.len(), 2);
    report_says(&c.report, "quorum 2, tolerates 1 failure");
    report_says(
        &c.report,
        "VIP:            held by keepalived on lb-0 (MASTER",
    );

    for lb in &lbs {
        c.start_load_balancer(lb);
    }
    c.init_first(&masters[0], false);
    c.init_live_phases(&masters[0]);
    c.create_etcd_mirror_pod(&masters[0]);

    // The identities of the first control plane's kubeconfigs.
    let m0 = masters[0].clone();
    let super_admin = c.root(&m0).join("etc/kubernetes/super-admin.conf");
    c.kubectl(&m0, &super_admin, &["get", "namespaces"]);
    for (conf, user) in [
        ("controller-manager.conf", "system:kube-controller-manager"),
        ("scheduler.conf", "system:kube-scheduler"),
        ("admin.conf", "kubernetes-admin"),
    ] {
        let who = c.kubectl(
            &m0,
            &c.root(&m0).join("etc/kubernetes").join(conf),
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
        );
        assert_eq!(who.trim(), user, "{conf}");
    }

    for m in &masters[1..] {
        c.join_control_plane(m, false);
        c.create_node(m);
        c.create_etcd_mirror_pod(m);
    }
    let ca = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    c.worker_discovery(&worker, &ca);
    assert!(
        c.api_works_from(&worker),
        "kubectl through the endpoint from the worker"
    );
    for m in &masters {
        assert!(c.readyz(m), "{m} ready");
    }
    c.secrets_are_encrypted_and_audited(&m0);

    // 1. The load balancer holding the VIP fails (its link goes down, as when the machine
    //    dies: no goodbye advert): the VIP moves, the endpoint serves again within the bound.
    assert!(
        c.holds_vip(&lbs[0]),
        "lb-0 holds the VIP at start, as the report says"
    );
    let ns = c.lab.ns(&lbs[0]);
    let o = run(std::process::Command::new("ip").args(["-n", &ns, "link", "set", "eth0", "down"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let took = wait_until(
        &c.lab,
        FAILOVER_BOUND,
        "the endpoint after lb-0 failed",
        || c.api_works_from(&worker),
    );
    assert!(c.holds_vip(&lbs[1]), "lb-1 took the VIP");
    eprintln!("load balancer failover: endpoint back after {took:?}");

    // 2. The control plane holding the leader leases fails: the endpoint keeps working within
    //    the bound, and the leases move to another control plane.
    let holder = wait_until(&c.lab, Duration::from_secs(60), "lease holders", || {
        c.lease_holder(&worker, "kube-controller-manager").is_some()
    });
    let _ = holder;
    let cm_holder = c.lease_holder(&worker, "kube-controller-manager").unwrap();
    assert!(
        masters.contains(&cm_holder),
        "holder {cm_holder} is a master"
    );
    c.stop_host(&cm_holder);
    let outage = c.longest_outage(&worker, Duration::from_secs(30));
    eprintln!("control plane {cm_holder} stopped: longest endpoint outage {outage:?}");
    assert!(
        outage <= FAILOVER_BOUND,
        "the endpoint failed for {outage:?}"
    );
    wait_until(&c.lab, Duration::from_secs(90), "leases moved", || {
        ["kube-controller-manager", "kube-scheduler"]
            .iter()
            .all(|l| {
                c.lease_holder(&worker, l)
                    .is_some_and(|h| h != cm_holder && masters.contains(&h))
            })
    });

    // 3. A second control plane fails: 1 of 3 etcd members left, no quorum, as the report
    //    says ("tolerates 1 failure"): /readyz fails on the survivor.
    let rest: Vec<String> = masters
        .iter()
        .filter(|m| **m != cm_holder)
        .cloned()
        .collect();
    let (second, survivor) = (rest[0].clone(), rest[1].clone());
    c.stop_host(&second);
    wait_until(
        &c.lab,
        Duration::from_secs(90),
        "readyz fails without quorum",
        || !c.readyz(&survivor),
    );
    assert!(!c.api_works_from(&worker) || !c.readyz(&survivor));

    // 4. It comes back: quorum again, the cluster recovers.
    c.start_static_pod(&second, "etcd");
    c.start_control_plane(&second);
    wait_until(
        &c.lab,
        Duration::from_secs(120),
        "survivor ready again",
        || c.readyz(&survivor),
    );
    wait_until(
        &c.lab,
        Duration::from_secs(60),
        "the endpoint after recovery",
        || c.api_works_from(&worker),
    );
}

/// External etcd on the three control planes, keepalived alone holding the VIP on them, and
/// a worker that joins by real discovery: the VIP holder fails as a whole and the endpoint
/// comes back on a peer; once it is back, the CAs are renewed under the same keys by
/// running the plan, under kubectl load through the VIP.
#[test]
fn external_etcd_control_plane_runs_and_fails_over_the_vip() {
    let mut c = Live::new("external", "e");
    let masters = c.masters();
    let worker = c.with_role("worker")[0].clone();
    assert_eq!(masters.len(), 3);
    report_says(&c.report, "quorum 2, tolerates 1 failure");
    report_says(
        &c.report,
        "VIP:            held by keepalived on master-0 (MASTER",
    );

    for m in &masters {
        c.start_etcd_unit(m);
    }
    // ExternalEtcdVersion is checked for real here: kubeadm asks the members.
    c.init_first(&masters[0], true);
    for m in &masters {
        c.start_load_balancer(m);
    }
    c.init_live_phases(&masters[0]);
    let m0 = masters[0].clone();
    for m in &masters[1..] {
        c.join_control_plane(m, true);
    }
    let ca = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    c.worker_discovery(&worker, &ca);
    assert!(c.api_works_from(&worker));

    // The control plane holding the VIP (and, started first, the leases) fails as a whole,
    // as report.txt allows: etcd keeps quorum (2 of 3), the VIP moves to master-1.
    wait_until(
        &c.lab,
        Duration::from_secs(30),
        "master-0 holds the VIP",
        || c.holds_vip(&m0),
    );
    wait_until(
        &c.lab,
        Duration::from_secs(60),
        "master-0 holds the leases",
        || {
            c.lease_holder(&worker, "kube-controller-manager")
                .as_deref()
                == Some(m0.as_str())
        },
    );
    // As when the machine dies: its link goes down, no goodbye advert, its etcd member and
    // its components cut off mid-flight.
    let ns = c.lab.ns(&m0);
    let o = run(std::process::Command::new("ip").args(["-n", &ns, "link", "set", "eth0", "down"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let took = wait_until(
        &c.lab,
        FAILOVER_BOUND,
        "the endpoint after master-0 failed",
        || c.api_works_from(&worker),
    );
    eprintln!("VIP failover: endpoint back after {took:?}");
    assert!(
        c.holds_vip(&masters[1]),
        "master-1 (priority 140) took the VIP"
    );
    wait_until(&c.lab, Duration::from_secs(90), "leases moved", || {
        ["kube-controller-manager", "kube-scheduler"]
            .iter()
            .all(|l| {
                c.lease_holder(&worker, l)
                    .is_some_and(|h| h != m0 && masters.contains(&h))
            })
    });

    // master-0 comes back (its link up again): its etcd member catches up, its apiserver
    // serves, and keepalived (the highest priority) takes the VIP back.
    let o = run(std::process::Command::new("ip").args(["-n", &ns, "link", "set", "eth0", "up"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    wait_until(
        &c.lab,
        Duration::from_secs(120),
        "master-0 serves again",
        || c.readyz(&m0) && c.holds_vip(&m0) && c.api_works_from(&worker) && c.api_works_from(&m0),
    );

    // The CAs renewed under the same keys (ten more days of validity, the leaves untouched):
    // the plan rolls every host (each control plane's static pods, etcd member and kubelet
    // CA; the worker's kubelet CA), then publishes the renewed CA in cluster-info, under
    // kubectl through the endpoint. A kubeconfig holding the old CA certificate keeps
    // working (same key), and a worker's discovery afterwards trusts the renewed CA.
    let renewed = c.file.with_file_name("external-ca-renewed.ha");
    let source = std::fs::read_to_string(&c.file)
        .unwrap()
        .replace("caValidityDays = 3650;", "caValidityDays = 3660;");
    assert!(
        source.contains("caValidityDays = 3660;"),
        "the fixture changed"
    );
    std::fs::write(&renewed, source).unwrap();
    let out0 = c.out.clone();
    let out1 = c.build_from(&renewed, &out0);
    let renewal = c.plan(&renewed, &out0);
    eprintln!("{}", outline(&renewal));
    let hosts: Vec<String> = plan_steps(&renewal).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts,
        ["master-0", "master-1", "master-2", &worker, "master-0"],
        "every host one at a time, then cluster-info:\n{renewal}"
    );
    // Stand-ins for the kubelets (none runs here): their TLS bootstrap wrote kubelet.conf
    // with the CA of the kubeconfig they started from, and the worker's registered its Node.
    for m in &masters {
        let conf = c.root(m).join("etc/kubernetes/kubelet.conf");
        if !conf.exists() {
            std::fs::copy(c.admin_conf(), conf).unwrap();
        }
    }
    std::fs::copy(
        c.root(&worker)
            .join("etc/kubernetes/bootstrap-kubelet.conf"),
        c.root(&worker).join("etc/kubernetes/kubelet.conf"),
    )
    .unwrap();
    c.create_node(&worker);
    c.mark_node_ready(&worker);
    let old_ca = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    let old_admin = c.lab.dir.join("admin-old-ca.conf");
    std::fs::copy(c.admin_conf(), &old_admin).unwrap();
    c.start_load(&worker, "load-ca");
    assert_eq!(c.run_plan(&out1, &renewal), 5);
    let attempts = c.finish_load_within_bound("load-ca", "CAs renewed");
    assert!(attempts > 10, "the load ran: {attempts}");
    let new_ca = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    assert_ne!(new_ca, old_ca, "master-0 holds the renewed CA");
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&new_ca)
    };
    for h in masters.iter().chain([&worker]) {
        let ca = std::fs::read(c.root(h).join("etc/kubernetes/pki/ca.crt")).unwrap();
        assert_eq!(ca, new_ca, "{h}: kubeadm's ca.crt is the renewed CA");
        let kubelet =
            std::fs::read_to_string(c.root(h).join("etc/kubernetes/kubelet.conf")).unwrap();
        assert!(
            kubelet.contains(&format!("certificate-authority-data: {b64}")),
            "{h}: kubelet.conf trusts the renewed CA:\n{kubelet}"
        );
    }
    let o = c.kubectl_output(&worker, &old_admin, &["get", "--raw=/readyz"]);
    assert!(
        o.status.success(),
        "a kubeconfig with the old CA certificate still verifies the apiservers: {}",
        text(&o.stderr)
    );
    c.assert_cluster_info_ca(&b64, "the renewed CA");
    let final_ca = rotate_the_cas(&mut c, &renewed, &out1, &old_admin);
    // A node joining now: discovery validates the rewritten cluster-info with the token
    // (the controller-manager's bootstrap signer signed it again) and writes the CA, the
    // rotated one alone.
    c.kubectl(&m0, &c.admin_conf(), &["delete", "node", &worker]);
    for f in [
        "etc/kubernetes/pki/ca.crt",
        "etc/kubernetes/bootstrap-kubelet.conf",
        "etc/kubernetes/kubelet.conf",
    ] {
        let _ = std::fs::remove_file(c.root(&worker).join(f));
    }
    c.worker_discovery(&worker, &final_ca);
    assert_eq!(
        std::fs::read(c.root(&worker).join("etc/kubernetes/pki/ca.crt")).unwrap(),
        final_ca,
        "the worker's discovery wrote the rotated CA"
    );
    assert!(c.api_works_from(&worker));
}

/// The certificates of a PEM file.
fn pem_certs(pem: &[u8]) -> usize {
    text(pem).matches("-----BEGIN CERTIFICATE-----").count()
}

/// `openssl verify -CAfile ca cert` in the test's own process: whether it said OK.
fn verifies(ca: &Path, cert: &Path) -> bool {
    run(std::process::Command::new("openssl").args([
        "verify",
        "-CAfile",
        ca.to_str().unwrap(),
        cert.to_str().unwrap(),
    ]))
    .status
    .success()
}

/// The CAs rotated to new keys (`pki.caRotation`) in two builds, each plan run command by
/// command under kubectl load through the VIP. The first has every host trust the new CAs
/// beside the old ones (its certificates kept), then rolls out the certificates of the new
/// CAs: a kubeconfig of the old CA still works. The second, from its bundle with nothing
/// else changed, has every kubelet ask for a new client certificate (the real
/// controller-manager approves and signs it, with the new key: it signs with the first
/// certificate of the bundle, `ca-signer.crt`), then drops the old CAs: every trust file
/// holds the new CA alone, the old kubeconfig is refused, the kubelets' new certificates
/// work. Returns the rotated cluster CA.
fn rotate_the_cas(c: &mut Live, renewed: &Path, out1: &Path, old_admin: &Path) -> Vec<u8> {
    let masters = c.masters();
    let worker = c.with_role("worker")[0].clone();
    let m0 = masters[0].clone();
    let rotated = c.file.with_file_name("external-ca-rotated.ha");
    let source = std::fs::read_to_string(renewed).unwrap().replace(
        "caValidityDays = 3660;",
        "caValidityDays = 3660; caRotation = 1;",
    );
    assert!(source.contains("caRotation = 1;"), "the fixture changed");
    std::fs::write(&rotated, source).unwrap();
    let out2 = c.build_from(&rotated, out1);
    let rotation = c.plan(&rotated, out1);
    eprintln!("{}", outline(&rotation));
    let hosts: Vec<String> = plan_steps(&rotation).into_iter().map(|(h, _)| h).collect();
    let mut every: Vec<String> = masters.clone();
    every.push(worker.clone());
    let expected: Vec<String> = every
        .iter()
        .chain(every.iter())
        .cloned()
        .chain([m0.clone()])
        .collect();
    assert_eq!(
        hosts, expected,
        "trust both everywhere, roll, cluster-info:\n{rotation}"
    );
    let before = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    c.start_load(&worker, "load-rotate");
    assert_eq!(c.run_plan(&out2, &rotation), expected.len());
    c.finish_load_within_bound(
        "load-rotate",
        "CAs rotated (both trusted, new certificates)",
    );
    for h in &every {
        let ca = std::fs::read(c.root(h).join("etc/kubernetes/pki/ca.crt")).unwrap();
        assert_eq!(
            pem_certs(&ca),
            2,
            "{h}: ca.crt holds the new and the old CA"
        );
        assert!(
            text(&ca).ends_with(text(&before).as_str()),
            "{h}: the old CA last"
        );
    }
    // A kubeconfig handed out before: its client certificate (of the old CA) is still
    // accepted, but with the old CA alone it no longer verifies the apiservers, which serve
    // certificates of the new one; with the bundle as its CA it works.
    let o = c.kubectl_output(&worker, old_admin, &["get", "--raw=/readyz"]);
    assert!(
        !o.status.success() && text(&o.stderr).contains("x509"),
        "the old CA alone does not verify the new serving certificates: {}",
        text(&o.stderr)
    );
    let bundle = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    let old_client = c.lab.dir.join("admin-old-client.conf");
    {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bundle);
        let conf = std::fs::read_to_string(old_admin).unwrap();
        let conf: String = conf
            .lines()
            .map(|l| match l.split_once("certificate-authority-data:") {
                Some((indent, _)) => format!("{indent}certificate-authority-data: {b64}\n"),
                None => format!("{l}\n"),
            })
            .collect();
        std::fs::write(&old_client, conf).unwrap();
    }
    let o = c.kubectl_output(&worker, &old_client, &["get", "--raw=/readyz"]);
    assert!(
        o.status.success(),
        "a client certificate of the old CA is accepted while both are trusted: {}",
        text(&o.stderr)
    );

    let out3 = c.build_with(&rotated, &out2, "-dropped", &[]);
    let finish = c.plan(&rotated, &out2);
    eprintln!("{}", outline(&finish));
    let hosts: Vec<String> = plan_steps(&finish).into_iter().map(|(h, _)| h).collect();
    let expected: Vec<String> = [m0.clone()]
        .iter()
        .chain(every.iter())
        .chain(every.iter())
        .cloned()
        .chain([m0.clone()])
        .collect();
    assert_eq!(
        hosts, expected,
        "token, kubelets, trust files, cluster-info:\n{finish}"
    );
    c.start_load(&worker, "load-drop");
    assert_eq!(c.run_plan(&out3, &finish), expected.len());
    c.finish_load_within_bound("load-drop", "old CAs dropped");
    let new_ca = std::fs::read(c.root(&m0).join("etc/kubernetes/pki/ca.crt")).unwrap();
    assert_eq!(pem_certs(&new_ca), 1, "the new CA alone");
    assert!(!text(&before).contains(text(&new_ca).trim()), "a new CA");
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&new_ca)
    };
    let ca_file = c.lab.dir.join("rotated-ca.crt");
    std::fs::write(&ca_file, &new_ca).unwrap();
    for h in &every {
        let root = c.root(h).to_path_buf();
        let ca = std::fs::read(root.join("etc/kubernetes/pki/ca.crt")).unwrap();
        assert_eq!(ca, new_ca, "{h}: ca.crt is the rotated CA alone");
        let kubelet = std::fs::read_to_string(root.join("etc/kubernetes/kubelet.conf")).unwrap();
        assert!(
            kubelet.contains(&format!("certificate-authority-data: {b64}")),
            "{h}: kubelet.conf trusts the rotated CA"
        );
        assert!(
            !root.join("etc/kubernetes/pki/ca-signer.crt").exists()
                && !root.join("etc/kubernetes/bootstrap-kubelet.conf").exists(),
            "{h}: nothing of the rotation is left"
        );
        // The kubelet's new client certificate: signed with the new key, and it works.
        let pem = root.join("var/lib/kubelet/pki/kubelet-client-current.pem");
        assert!(
            verifies(&ca_file, &pem),
            "{h}: the kubelet's certificate is of the new CA"
        );
        let mut argv = vec![c.bin("kubectl")];
        argv.extend(s(&[
            &format!("--server=https://{}", c.endpoint),
            &format!("--certificate-authority={}", ca_file.display()),
            &format!("--client-certificate={}", pem.display()),
            &format!("--client-key={}", pem.display()),
            "--request-timeout=4s",
            "auth",
            "whoami",
        ]));
        let o = c.lab.exec(h, &argv);
        assert!(
            o.status.success() && text(&o.stdout).contains(&format!("system:node:{h}")),
            "{h}: the kubelet's new certificate authenticates: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    for m in &masters {
        let cm = std::fs::read_to_string(
            c.root(m)
                .join("etc/kubernetes/manifests/kube-controller-manager.yaml"),
        )
        .unwrap();
        assert!(
            cm.contains("--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt"),
            "{m}: the controller-manager signs with ca.crt again"
        );
    }
    let o = c.kubectl_output(&worker, &old_client, &["get", "--raw=/readyz"]);
    assert!(
        !o.status.success(),
        "a client certificate of the old CA is refused now: {}",
        text(&o.stdout)
    );
    c.assert_cluster_info_ca(&b64, "the rotated CA alone");
    new_ca
}

/// Growing and shrinking the live control plane by running what `hac plan` prints: three
/// stacked control planes grow to five (a 4th and a 5th joined one at a time, the load
/// balancers' backends rolled, the VIP's MASTER last) and shrink back to three (the two leave
/// the load balancers, then one at a time each is drained, `kubeadm reset` removes its etcd
/// member, its Node is deleted), then give the endpoint a new name (published, every
/// kubelet moved, the apiserver certificates rolled out), then replace a control plane that
/// died with its disk (`--failed`), then move the VIP (held beside the old one, keepalived
/// reloaded holder by holder, the old one released by the next build), replace haproxy with
/// nginx, and move the endpoint's port, while kubectl through the endpoint runs every 500 ms.
#[test]
fn stacked_control_plane_grows_to_5_back_to_3_and_renames_its_endpoint_by_the_plan_while_kubectl_works(
) {
    let spare = [
        ("master-3", "172.30.3.14/24"),
        ("master-4", "172.30.3.15/24"),
    ];
    let mut c = Live::with_spare_hosts("grow", "g", &spare);
    let masters = c.masters();
    let lbs = c.with_role("load-balancer");
    assert_eq!(masters.len(), 3);
    assert_eq!(lbs.len(), 2);
    for lb in &lbs {
        c.start_load_balancer(lb);
    }
    c.init_first(&masters[0], false);
    c.init_live_phases(&masters[0]);
    c.create_etcd_mirror_pod(&masters[0]);
    c.mark_node_ready(&masters[0]);
    for m in &masters[1..] {
        c.join_control_plane(m, false);
        c.create_node(m);
        c.create_etcd_mirror_pod(m);
        c.mark_node_ready(m);
    }
    assert_eq!(c.etcd_members().len(), 3);

    // 3 → 5.
    let out3 = c.out.clone();
    let five = c.variant(5);
    let out5 = c.build_from(&five, &out3);
    let grow = c.plan(&five, &out3);
    eprintln!("{}", outline(&grow));
    let hosts: Vec<String> = plan_steps(&grow).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts,
        ["master-0", "master-3", "master-4", "lb-1", "lb-0"],
        "token, two joins one at a time, then the load balancers with the VIP's MASTER last:\n{grow}"
    );
    assert!(
        grow.trim_end().contains(
            "after: etcd 5 members, quorum 3, tolerates 2 failures; 5 apiservers behind the load balancer"
        ),
        "{grow}"
    );
    c.start_load("master-0", "load-grow");
    assert_eq!(c.run_plan(&out5, &grow), 5);
    let attempts = c.finish_load_within_bound("load-grow", "3 → 5 control planes");
    assert!(attempts > 20, "the load ran: {attempts}");
    let members = c.etcd_members();
    assert_eq!(members.len(), 5, "{members:?}");
    assert!(
        members
            .iter()
            .all(|m| m.contains(", started, ") && m.ends_with("false")),
        "five started voting members: {members:?}"
    );
    for m in c.masters() {
        assert!(c.readyz(&m), "{m} ready");
    }
    let cfg = std::fs::read_to_string(c.root("lb-0").join("etc/haproxy/haproxy.cfg")).unwrap();
    for i in 0..5 {
        assert!(cfg.contains(&format!("172.30.3.{}:6443", 11 + i)), "{cfg}");
    }

    // 5 → 3: master-3 and master-4 leave, one at a time (an even member count is refused
    // by the rules, E0203, so 4 is only a step of the plan, never a build).
    let three = c.variant(3);
    let back = c.build_from(&three, &out5);
    let shrink = c.plan(&three, &out5);
    eprintln!("{}", outline(&shrink));
    let hosts: Vec<String> = plan_steps(&shrink).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts,
        ["lb-1", "lb-0", "master-3", "master-4"],
        "the load balancers first, then one removal at a time:\n{shrink}"
    );
    c.start_load("master-0", "load-shrink");
    assert_eq!(c.run_plan(&back, &shrink), 4);
    let attempts = c.finish_load_within_bound("load-shrink", "5 → 3 control planes");
    assert!(attempts > 5, "the load ran: {attempts}");
    let members = c.etcd_members();
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(
        !members
            .iter()
            .any(|m| m.contains("master-3") || m.contains("master-4")),
        "{members:?}"
    );
    let nodes = c.kubectl("master-0", &c.admin_conf(), &["get", "nodes", "-o", "name"]);
    assert!(
        !nodes.contains("node/master-3") && !nodes.contains("node/master-4"),
        "{nodes}"
    );
    let cfg = std::fs::read_to_string(c.root("lb-0").join("etc/haproxy/haproxy.cfg")).unwrap();
    assert!(
        !cfg.contains("172.30.3.14:6443") && !cfg.contains("172.30.3.15:6443"),
        "{cfg}"
    );

    // A new name for the endpoint: the fixture's certSANs carry api2 since day 0 (the first
    // of a rename's three builds); this build makes it the endpoint and keeps the old name.
    // Stand-in: the joined control planes' kubelet.conf, which the kubelet's TLS bootstrap
    // writes (a kubeconfig naming the endpoint).
    for m in &masters[1..] {
        std::fs::copy(
            c.admin_conf(),
            c.root(m).join("etc/kubernetes/kubelet.conf"),
        )
        .unwrap();
    }
    let old_admin = c.lab.dir.join("admin-old-endpoint.conf");
    std::fs::copy(c.admin_conf(), &old_admin).unwrap();
    let renamed = c.file.with_file_name("grow-renamed.ha");
    let source = std::fs::read_to_string(&three).unwrap();
    let source = source
        .replace(
            r#"endpoint = "api.live-grow.test";"#,
            r#"endpoint = "api2.live-grow.test";"#,
        )
        .replace(
            r#"certSANs = [ "api2.live-grow.test" ];"#,
            r#"certSANs = [ "api.live-grow.test" ];"#,
        );
    assert!(
        source.contains(r#"endpoint = "api2.live-grow.test";"#),
        "the fixture changed"
    );
    std::fs::write(&renamed, source).unwrap();
    let out_renamed = c.build_from(&renamed, &back);
    let rename = c.plan(&renamed, &back);
    eprintln!("{}", outline(&rename));
    let hosts: Vec<String> = plan_steps(&rename).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts[..3],
        ["master-0", "master-1", "master-2"],
        "published on master-0, then each kubelet:\n{rename}"
    );
    c.start_load("master-0", "load-rename");
    c.run_plan(&out_renamed, &rename);
    c.finish_load_within_bound("load-rename", "endpoint renamed");
    let admin = c.admin_conf();
    let info = c.cluster_info();
    assert!(
        info.contains("server: https://api2.live-grow.test:6443"),
        "cluster-info:\n{info}"
    );
    let kubeadm_config = c.kubectl(
        "master-0",
        &admin,
        &[
            "-n",
            "kube-system",
            "get",
            "configmap",
            "kubeadm-config",
            "-o",
            "yaml",
        ],
    );
    assert!(
        kubeadm_config.contains("controlPlaneEndpoint: api2.live-grow.test:6443"),
        "{kubeadm_config}"
    );
    for m in &masters {
        let conf = std::fs::read_to_string(c.root(m).join("etc/kubernetes/kubelet.conf")).unwrap();
        assert!(
            conf.contains("server: https://api2.live-grow.test:6443"),
            "{m}: kubelet.conf:\n{conf}"
        );
    }
    // Both names are served: the new admin.conf and a kubeconfig that still names the old.
    assert!(std::fs::read_to_string(&admin)
        .unwrap()
        .contains("https://api2.live-grow.test:6443"));
    for conf in [&admin, &old_admin] {
        let o = c.kubectl_output("lb-1", conf, &["get", "namespaces", "-o", "name"]);
        assert!(
            o.status.success(),
            "{}: {}",
            conf.display(),
            text(&o.stderr)
        );
    }
    assert!(c.api_works_from("lb-1"));

    // master-2 dies with its disk: its processes stop, its files are gone. With --failed,
    // the plan removes its etcd member through master-0's and deletes its Node, then the
    // re-provisioned host joins again empty.
    let ids = |c: &Live| -> BTreeMap<String, String> {
        c.etcd_members()
            .iter()
            .filter_map(|m| {
                let f: Vec<&str> = m.split(", ").collect();
                Some((f.get(2)?.to_string(), f.first()?.to_string()))
            })
            .collect()
    };
    let old_id = ids(&c)["master-2"].clone();
    c.start_load("master-0", "load-failed");
    c.stop_host("master-2");
    let root2 = c.root("master-2").to_path_buf();
    let hosts_file = std::fs::read_to_string(root2.join("etc/hosts")).unwrap();
    std::fs::remove_dir_all(&root2).unwrap();
    std::fs::create_dir_all(root2.join("etc")).unwrap();
    std::fs::write(root2.join("etc/hosts"), hosts_file).unwrap();
    // The operator plans once the failure is noticed: by then the load balancers' health
    // checks have taken master-2 out.
    wait_until(
        &c.lab,
        Duration::from_secs(60),
        "haproxy marks master-2 down",
        || {
            ["lb-0", "lb-1"].iter().all(|lb| {
                c.lab
                    .log(&format!("{lb}-haproxy"))
                    .lines()
                    .rev()
                    .find(|l| l.contains("kube_apiservers/master-2 is"))
                    .is_some_and(|l| l.contains("is DOWN"))
            })
        },
    );
    let replace = c.plan_with(&renamed, &out_renamed, &["--failed", "master-2"]);
    eprintln!("{}", outline(&replace));
    assert!(
        replace
            .contains("now: etcd 3 members (1 down), quorum 2, tolerates 0 failures; 2 apiservers"),
        "{replace}"
    );
    let out_failed = c.build_with(&renamed, &out_renamed, "-failed", &["--failed", "master-2"]);
    let hosts: Vec<String> = plan_steps(&replace).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts,
        ["master-0", "master-0", "master-2"],
        "forget the dead node, the token, then the join:\n{replace}"
    );
    c.run_plan(&out_failed, &replace);
    c.finish_load_within_bound("load-failed", "master-2 failed and replaced");
    let after = ids(&c);
    assert_eq!(after.len(), 3, "{after:?}");
    assert_ne!(after["master-2"], old_id, "master-2 is a new member");
    assert!(
        c.etcd_members()
            .iter()
            .all(|m| m.contains(", started, ") && m.ends_with("false")),
        "three started voting members"
    );
    assert!(c.readyz("master-2"), "master-2 serves again");
    assert!(c.api_works_from("lb-1"));

    // A new VIP (docs/plan.md): this build changes the VIP and keepalived's router id and,
    // built with --from, holds the old VIP beside the new one; the plan reloads keepalived
    // on each load balancer, the MASTER last (real keepalived, SIGHUP as systemd's reload),
    // and rolls out the apiserver certificates that now carry both. The endpoint is a name:
    // DNS (here every host's hosts file) moves to the new VIP after the plan, then a last
    // build releases the old VIP. kubectl through the endpoint runs throughout.
    let (old_vip, new_vip) = ("172.30.3.100", "172.30.3.101");
    let moved = c.file.with_file_name("grow-moved.ha");
    let source = std::fs::read_to_string(&renamed)
        .unwrap()
        .replace(
            &format!(r#"vip = "{old_vip}";"#),
            &format!(r#"vip = "{new_vip}";"#),
        )
        .replace("keepalived.routerId = 63;", "keepalived.routerId = 64;");
    assert!(
        source.contains(new_vip) && source.contains("routerId = 64"),
        "the fixture changed"
    );
    std::fs::write(&moved, source).unwrap();
    let out_between = c.build_from(&moved, &out_failed);
    let hold = c.plan(&moved, &out_failed);
    eprintln!("{}", outline(&hold));
    let hosts: Vec<String> = plan_steps(&hold).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts[..2],
        ["lb-1", "lb-0"],
        "keepalived first, the VIP's MASTER last:\n{hold}"
    );
    c.start_load("master-0", "load-vip");
    c.run_plan(&out_between, &hold);
    assert!(
        c.holds_address("lb-0", old_vip) && c.holds_address("lb-0", new_vip),
        "the MASTER holds both VIPs"
    );
    let hosts_file = std::fs::read_to_string(c.root("master-0").join("etc/hosts"))
        .unwrap()
        .replace(&format!("{old_vip} "), &format!("{new_vip} "));
    c.lab.set_hosts_file(&hosts_file);
    for host in c.roots.keys().cloned().collect::<Vec<_>>() {
        std::fs::write(c.root(&host).join("etc/hosts"), &hosts_file).unwrap();
    }
    let out_after = c.build_with(&moved, &out_between, "-after", &[]);
    let release = c.plan(&moved, &out_between);
    eprintln!("{}", outline(&release));
    assert!(
        release.contains(&format!("release the previous VIP {old_vip}")),
        "{release}"
    );
    c.run_plan(&out_after, &release);
    let attempts = c.finish_load_within_bound("load-vip", "VIP moved");
    assert!(attempts > 10, "the load ran: {attempts}");
    for lb in ["lb-0", "lb-1"] {
        assert!(!c.holds_address(lb, old_vip), "{lb} released {old_vip}");
    }
    assert!(
        c.holds_address("lb-0", new_vip),
        "the MASTER holds {new_vip}"
    );
    assert!(c.api_works_from("lb-1"));

    // haproxy replaced by nginx on both load balancers, one at a time (the MASTER last): the
    // package step is a stand-in (no downloads here), the proxies are the real programs.
    let nginx = c.file.with_file_name("grow-nginx.ha");
    let source = std::fs::read_to_string(&moved)
        .unwrap()
        .replace(r#"kind = "haproxy";"#, r#"kind = "nginx";"#);
    assert!(source.contains(r#"kind = "nginx";"#), "the fixture changed");
    std::fs::write(&nginx, source).unwrap();
    let out_nginx = c.build_from(&nginx, &out_after);
    let switch = c.plan(&nginx, &out_after);
    eprintln!("{}", outline(&switch));
    let hosts: Vec<String> = plan_steps(&switch).into_iter().map(|(h, _)| h).collect();
    assert_eq!(hosts, ["lb-1", "lb-0"], "the VIP's MASTER last:\n{switch}");
    c.start_load("master-0", "load-nginx");
    c.run_plan(&out_nginx, &switch);
    // The load goes on a while through nginx alone.
    std::thread::sleep(Duration::from_secs(8));
    let attempts = c.finish_load_within_bound("load-nginx", "haproxy → nginx");
    assert!(attempts > 10, "the load ran: {attempts}");
    for lb in ["lb-0", "lb-1"] {
        assert!(
            !c.lab.alive(&format!("{lb}-haproxy")),
            "{lb}: haproxy stopped"
        );
        assert!(c.lab.alive(&format!("{lb}-nginx")), "{lb}: nginx runs");
    }
    assert!(c.api_works_from("lb-1"));

    // A new endpoint port (6443 → 7443): the build between has nginx listen on both, the
    // plan reloads each proxy (the MASTER last) and moves every client; the next build
    // closes the old port.
    let ported = c.file.with_file_name("grow-port.ha");
    let source = std::fs::read_to_string(&nginx).unwrap().replace(
        "keepalived.routerId = 64;",
        "keepalived.routerId = 64; port = 7443;",
    );
    assert!(source.contains("port = 7443;"), "the fixture changed");
    std::fs::write(&ported, source).unwrap();
    let out_ports = c.build_from(&ported, &out_nginx);
    let serve = c.plan(&ported, &out_nginx);
    eprintln!("{}", outline(&serve));
    let hosts: Vec<String> = plan_steps(&serve).into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hosts[..3],
        ["lb-1", "lb-0", "master-0"],
        "each proxy, the MASTER last, then the endpoint published:\n{serve}"
    );
    c.start_load("master-0", "load-port");
    c.run_plan(&out_ports, &serve);
    let out_closed = c.build_with(&ported, &out_ports, "-closed", &[]);
    let close = c.plan(&ported, &out_ports);
    eprintln!("{}", outline(&close));
    assert!(
        close.contains("stop serving the previous port 6443"),
        "{close}"
    );
    c.run_plan(&out_closed, &close);
    std::thread::sleep(Duration::from_secs(5));
    let attempts = c.finish_load_within_bound("load-port", "endpoint port moved");
    assert!(attempts > 10, "the load ran: {attempts}");
    let info = c.cluster_info();
    assert!(
        info.contains("server: https://api2.live-grow.test:7443"),
        "cluster-info:\n{info}"
    );
    let closed = c.lab.exec(
        "lb-1",
        &s(&[
            "curl",
            "-fks",
            "--max-time",
            "3",
            "https://api2.live-grow.test:6443/readyz",
        ]),
    );
    assert!(!closed.status.success(), "port 6443 is closed");
    assert!(c.api_works_from("lb-1"));
}
