//! The real kubeadm reads every bundle hac writes, as unpacked from its archives.
//!
//! For every buildable out-example and every cluster under `tests/kubeadm/` (together they
//! cover every load-balancer kind and placement, stacked and external etcd, masters that run
//! etcd, ECDSA P-256/P-384 and RSA, kubeadm.k8s.io/v1beta3 and v1beta4), each host archive is
//! unpacked into a root of its own and the kubeadm of the matching version (built by
//! `scripts/k8s-tools.sh`) runs there with `--rootfs`, which chroots into it:
//!
//! - `kubeadm config validate` accepts every host's kubeadm config (init and join);
//! - on every control plane, `kubeadm init phase preflight`, `certs all`, `kubeconfig`,
//!   `etcd local` (stacked) and `control-plane all` use every certificate and kubeconfig hac
//!   shipped ("Using existing"), generate nothing hac should have shipped, change no shipped
//!   file, and `kubeadm certs check-expiration` shows the dates the cluster file asks for.
//!   A joining control plane is checked with the configuration `kubeadm join` assembles for
//!   it: the cluster's ClusterConfiguration (what join downloads from the `kubeadm-config`
//!   ConfigMap) with this node's name and advertise address;
//! - on joining control planes and workers, `kubeadm join phase preflight` passes every check
//!   that looks at the bundle's files (the list of skipped checks is below, with why); for a
//!   control plane it then starts discovery, which needs a live cluster (`tests/k8s_control_plane.rs`).
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::k8s::*;
use e2e_support::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Preflight checks that look at the machine running the test rather than at the bundle, so
/// they are passed to `--ignore-preflight-errors` (kubeadm still prints them as warnings).
const SKIPPED_PREFLIGHT: &[(&str, &str)] = &[
    ("FileExisting-crictl", "host packages: the stand-in root has no binaries"),
    ("FileExisting-conntrack", "host packages: the stand-in root has no binaries"),
    ("FileExisting-ip", "host packages: the stand-in root has no binaries"),
    ("FileExisting-iptables", "host packages: the stand-in root has no binaries"),
    ("FileExisting-mount", "host packages: the stand-in root has no binaries"),
    ("FileExisting-nsenter", "host packages: the stand-in root has no binaries"),
    ("FileExisting-socat", "host packages: the stand-in root has no binaries"),
    ("SystemVerification", "kernel release, OS and cgroups: the chroot has no /proc or /sys"),
    ("KubeletVersion", "runs `kubelet --version`: no kubelet can run here (no container runtime)"),
    ("FileContent--proc-sys-net-ipv4-ip_forward", "a sysctl of the running kernel (the bundle sets it in etc/sysctl.d); the chroot has no /proc"),
    ("FileContent--proc-sys-net-bridge-bridge-nf-call-iptables", "as ip_forward"),
    ("Swap", "the test machine's swap"),
    ("ExternalEtcdVersion", "asks the external etcd members, which tests/k8s_control_plane.rs starts for real"),
];

/// Files kubeadm is expected to write itself on a control plane (hac leaves them to it).
fn expected_new_files(first: bool, stacked: bool) -> Vec<&'static str> {
    let mut v = vec![
        "etc/kubernetes/manifests/kube-apiserver.yaml",
        "etc/kubernetes/manifests/kube-controller-manager.yaml",
        "etc/kubernetes/manifests/kube-scheduler.yaml",
    ];
    if stacked {
        v.push("etc/kubernetes/manifests/etcd.yaml");
    }
    if first {
        // kubelet.conf is left to kubeadm on the first control plane (pki.md).
        v.push("etc/kubernetes/kubelet.conf");
    }
    v
}

struct Built {
    _tmp: tempfile::TempDir,
    roots: BTreeMap<String, PathBuf>,
    cert_validity_days: i64,
    ca_validity_days: i64,
    epoch_days: i64,
    /// The leaves' notBefore (`pki.leafEpoch`, else `epoch`).
    leaf_epoch_days: i64,
}

/// Builds the cluster file (with its own secrets file, or a fresh one) and unpacks every
/// host archive into `roots/<host>`.
fn build_and_unpack(ha: &Path, secrets: Option<&Path>) -> Built {
    for t in ["tar", "unshare"] {
        require_tool(t);
    }
    let tmp = tempfile::tempdir().unwrap();
    let secrets = match secrets {
        Some(s) => s.to_path_buf(),
        None => {
            let copy = tmp.path().join(ha.file_name().unwrap());
            std::fs::copy(ha, &copy).unwrap();
            let o = run(hac().args(["secrets", "init"]).arg(&copy));
            assert!(o.status.success(), "secrets init: {}", text(&o.stderr));
            copy.with_extension("secrets")
        }
    };
    let out = tmp.path().join("out");
    let o = run(hac()
        .arg("build")
        .arg(ha)
        .arg("--secrets")
        .arg(&secrets)
        .arg("-o")
        .arg(&out)
        .arg("-q"));
    assert!(
        o.status.success(),
        "hac build {} failed:\n{}",
        ha.display(),
        text(&o.stderr)
    );

    let mut roots = BTreeMap::new();
    for e in std::fs::read_dir(out.join("hosts")).unwrap() {
        let p = e.unwrap().path();
        let host = p
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".tar.gz")
            .to_string();
        let root = tmp.path().join("roots").join(&host);
        unpack(&p, &root);
        roots.insert(host, root);
    }
    let json = run(hac().arg("eval").arg(ha).arg("--json"));
    assert!(json.status.success(), "{}", text(&json.stderr));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let days = |k: &str, d: i64| v["pki"][k].as_i64().unwrap_or(d);
    let epoch = v["epoch"].as_str().expect("epoch");
    let civil = |t: &str| {
        days_from_civil(
            t[0..4].parse().unwrap(),
            t[5..7].parse().unwrap(),
            t[8..10].parse().unwrap(),
        )
    };
    let leaf_epoch = v["pki"]["leafEpoch"].as_str().unwrap_or(epoch);
    Built {
        leaf_epoch_days: civil(leaf_epoch),
        cert_validity_days: days("certValidityDays", 365),
        ca_validity_days: days("caValidityDays", 3650),
        epoch_days: days_from_civil(
            epoch[0..4].parse().unwrap(),
            epoch[5..7].parse().unwrap(),
            epoch[8..10].parse().unwrap(),
        ),
        _tmp: tmp,
        roots,
    }
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

/// kubeadm's expiry format: "Jan 01, 2027 00:00 UTC" (the epoch's time of day is midnight
/// in every fixture).
fn kubeadm_date(days: i64) -> String {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!("{} {d:02}, {y} 00:00 UTC", MONTHS[(m - 1) as usize])
}

fn kubeadm(version: &str) -> Command {
    Command::new(k8s_bin(version, "kubeadm"))
}

fn ignore_flag() -> String {
    let names: Vec<&str> = SKIPPED_PREFLIGHT.iter().map(|(n, _)| *n).collect();
    format!("--ignore-preflight-errors={}", names.join(","))
}

/// Runs kubeadm in a network namespace of its own (port checks see no other test's sockets)
/// with `--rootfs root`; returns (success, stdout+stderr).
fn kubeadm_in(version: &str, root: &Path, args: &[&str]) -> (bool, String) {
    let mut c = Command::new("unshare");
    c.arg("-n")
        .arg(k8s_bin(version, "kubeadm"))
        .args(args)
        .arg("--rootfs")
        .arg(root);
    let o = run(&mut c);
    (
        o.status.success(),
        format!("{}{}", text(&o.stdout), text(&o.stderr)),
    )
}

/// Every file under `root` with its bytes.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(root)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(root.join(&p)).unwrap();
            (p.display().to_string(), bytes)
        })
        .collect()
}

/// The configuration `kubeadm join --control-plane` works with on a joining control plane:
/// the cluster's ClusterConfiguration and this node's registration and API endpoint.
fn join_as_init_config(first_config: &str, join_config: &str) -> String {
    let cluster = first_config
        .split("\n---\n")
        .find(|d| d.contains("kind: ClusterConfiguration"))
        .expect("the first control plane has a ClusterConfiguration");
    let docs = yaml_documents(join_config);
    let join = docs
        .iter()
        .find(|d| yaml_kind(d) == "JoinConfiguration")
        .expect("a JoinConfiguration");
    let api = join["apiVersion"].as_str().unwrap();
    let ep = &join["controlPlane"]["localAPIEndpoint"];
    format!(
        "apiVersion: {api}\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: \"{}\"\n  bindPort: {}\nnodeRegistration:\n  name: {}\n---\n{}\n",
        ep["advertiseAddress"].as_str().unwrap(),
        ep["bindPort"].as_u64().unwrap(),
        join["nodeRegistration"]["name"].as_str().unwrap(),
        cluster.trim_end()
    )
}

fn assert_lines(host: &str, phase: &str, out: &str, allowed: &[&str]) {
    for line in out.lines() {
        let l = line.trim();
        if !(l.starts_with("[certs]") || l.starts_with("[kubeconfig]")) {
            continue;
        }
        assert!(
            allowed.iter().any(|a| l.contains(a)),
            "{host}: `kubeadm {phase}` did something other than use hac's files:\n  {l}\n\nfull output:\n{out}"
        );
    }
}

/// Runs `kubeadm join phase preflight` until it has passed the node checks. For a control
/// plane it then starts discovery of the (absent) cluster: that line ends the run.
fn join_preflight(version: &str, host: &str, root: &Path) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("exec unshare -n \"$@\" 2>&1")
        .arg("sh")
        .arg(k8s_bin(version, "kubeadm"))
        .args(["join", "phase", "preflight", "-v1"])
        .args(["--config", "/etc/kubernetes/kubeadm-config.yaml"])
        .arg(ignore_flag())
        .arg("--rootfs")
        .arg(root)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start kubeadm");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = String::new();
    let mut discovering = false;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
                if line.contains("Discovering cluster-info") {
                    discovering = true;
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(_)) = child.try_wait() {
                    // Drain what is left.
                    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                        out.push_str(&line);
                        out.push('\n');
                    }
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    let errors: Vec<&str> = out.lines().filter(|l| l.contains("[ERROR")).collect();
    assert!(
        errors.is_empty(),
        "{host}: kubeadm join preflight failed on the bundle's files:\n{}\n\nfull output:\n{out}",
        errors.join("\n")
    );
    assert!(
        discovering || status.success(),
        "{host}: kubeadm join preflight did not pass ({status}):\n{out}"
    );
    assert!(
        out.contains("Running pre-flight checks"),
        "{host}: preflight did not run:\n{out}"
    );
}

/// What kubeadm wrote into each control plane's `etc/kubernetes/manifests/` (file name →
/// text), and each host's shipped `etcd.service`, for assertions on the wiring.
type Written = BTreeMap<String, BTreeMap<String, String>>;

fn check_bundle(ha: &Path, secrets: Option<&Path>) -> Written {
    let mut written = Written::new();
    let b = build_and_unpack(ha, secrets);
    let first = b
        .roots
        .iter()
        .find(|(_, r)| {
            std::fs::read_to_string(r.join("etc/kubernetes/kubeadm-config.yaml"))
                .is_ok_and(|t| t.contains("kind: InitConfiguration"))
        })
        .map(|(h, r)| (h.clone(), r.clone()))
        .expect("one host runs kubeadm init");
    let first_config =
        std::fs::read_to_string(first.1.join("etc/kubernetes/kubeadm-config.yaml")).unwrap();
    let cluster_doc = yaml_documents(&first_config)
        .into_iter()
        .find(|d| yaml_kind(d) == "ClusterConfiguration")
        .unwrap();
    let version = kubeadm_version_for(cluster_doc["kubernetesVersion"].as_str().unwrap());
    let stacked = cluster_doc["etcd"]["local"].is_mapping();
    // containerd's sandbox image (prepare.sh's config.toml) is the pause image kubeadm expects.
    let o = run(kubeadm(version)
        .args(["config", "images", "list", "--config"])
        .arg(first.1.join("etc/kubernetes/kubeadm-config.yaml")));
    assert!(
        o.status.success(),
        "kubeadm config images list: {}",
        text(&o.stderr)
    );
    let images = text(&o.stdout);
    let pause = images
        .lines()
        .find(|l| l.contains("/pause:"))
        .unwrap_or_else(|| panic!("kubeadm lists no pause image:\n{images}"));
    let mut runtimes = 0;
    for (host, root) in &b.roots {
        if let Ok(toml) = std::fs::read_to_string(root.join("etc/containerd/config.toml")) {
            assert!(
                toml.contains(&format!("sandbox_image = \"{pause}\"")),
                "{host}: containerd's sandbox image is not kubeadm's {pause}:\n{toml}"
            );
            runtimes += 1;
        }
    }
    assert!(runtimes > 0, "no node got a containerd configuration");
    let leaf_expiry = kubeadm_date(b.leaf_epoch_days + b.cert_validity_days);
    let ca_expiry = kubeadm_date(b.epoch_days + b.ca_validity_days);

    let mut checked_cp = 0;
    let mut checked_join = 0;
    for (host, root) in &b.roots {
        let config = root.join("etc/kubernetes/kubeadm-config.yaml");
        if !config.exists() {
            continue;
        }
        // 1. The config as written validates.
        let o = run(kubeadm(version)
            .args(["config", "validate", "--config"])
            .arg(&config));
        assert!(
            o.status.success(),
            "{host}: kubeadm {version} config validate rejects {}:\n{}{}",
            config.display(),
            text(&o.stdout),
            text(&o.stderr)
        );

        let roles = host_roles(root);
        let is_first = *host == first.0;
        if !is_first {
            join_preflight(version, host, root);
            checked_join += 1;
        }
        if !roles.iter().any(|r| r == "control-plane") {
            continue;
        }

        // 2. The control-plane phases use what hac shipped.
        let init_config = if is_first {
            "/etc/kubernetes/kubeadm-config.yaml".to_string()
        } else {
            let own = std::fs::read_to_string(&config).unwrap();
            std::fs::create_dir_all(root.join("tmp")).unwrap();
            std::fs::write(
                root.join("tmp/hac-join-control-plane.yaml"),
                join_as_init_config(&first_config, &own),
            )
            .unwrap();
            "/tmp/hac-join-control-plane.yaml".to_string()
        };
        let before = snapshot(root);
        let ignore = ignore_flag();
        // --dry-run skips only the image pull, which needs a container runtime and a registry.
        let (ok, out) = kubeadm_in(
            version,
            root,
            &[
                "init",
                "phase",
                "preflight",
                "--dry-run",
                "--config",
                &init_config,
                &ignore,
            ],
        );
        assert!(
            ok,
            "{host}: kubeadm init phase preflight fails on the bundle:\n{out}"
        );

        let (ok, out) = kubeadm_in(
            version,
            root,
            &["init", "phase", "certs", "all", "--config", &init_config],
        );
        assert!(ok, "{host}: kubeadm init phase certs all:\n{out}");
        assert_lines(
            host,
            "init phase certs all",
            &out,
            &[
                "Using certificateDir folder",
                "Using existing",
                "Using the existing \"sa\" key",
                "External etcd mode: Skipping",
            ],
        );
        for ca in ["ca", "front-proxy-ca"] {
            assert!(
                out.contains(&format!("Using existing {ca} ")),
                "{host}: {ca} not used:\n{out}"
            );
        }

        let kubeconfigs: &[&str] = if is_first {
            &["all"]
        } else {
            // What `kubeadm join --control-plane` writes (control-plane-prepare kubeconfig).
            &["admin", "controller-manager", "scheduler"]
        };
        for k in kubeconfigs {
            let (ok, out) = kubeadm_in(
                version,
                root,
                &["init", "phase", "kubeconfig", k, "--config", &init_config],
            );
            assert!(ok, "{host}: kubeadm init phase kubeconfig {k}:\n{out}");
            let mut allowed = vec!["Using kubeconfig folder", "Using existing kubeconfig file"];
            if is_first {
                allowed.push("Writing \"kubelet.conf\"");
            }
            assert_lines(host, &format!("init phase kubeconfig {k}"), &out, &allowed);
        }
        if stacked {
            let (ok, out) = kubeadm_in(
                version,
                root,
                &["init", "phase", "etcd", "local", "--config", &init_config],
            );
            assert!(ok, "{host}: kubeadm init phase etcd local:\n{out}");
        }
        let (ok, out) = kubeadm_in(
            version,
            root,
            &[
                "init",
                "phase",
                "control-plane",
                "all",
                "--config",
                &init_config,
            ],
        );
        assert!(ok, "{host}: kubeadm init phase control-plane all:\n{out}");
        let files = written.entry(host.clone()).or_default();
        for e in std::fs::read_dir(root.join("etc/kubernetes/manifests")).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            files.insert(name, std::fs::read_to_string(e.path()).unwrap());
        }

        let after = snapshot(root);
        let mut expected = expected_new_files(is_first, stacked);
        if !is_first {
            expected.push("tmp/hac-join-control-plane.yaml");
        }
        for (path, bytes) in &after {
            match before.get(path) {
                Some(old) => assert!(
                    old == bytes,
                    "{host}: kubeadm rewrote {path}, which hac shipped"
                ),
                None => assert!(
                    expected.contains(&path.as_str()),
                    "{host}: kubeadm generated {path}: hac should have shipped it (or it must not be there)"
                ),
            }
        }
        for e in &expected {
            assert!(
                after.contains_key(*e) || e.starts_with("tmp/"),
                "{host}: kubeadm did not write {e}"
            );
        }

        // 3. The dates hac intended.
        let (ok, out) = kubeadm_in(
            version,
            root,
            &["certs", "check-expiration", "--config", &init_config],
        );
        assert!(ok, "{host}: kubeadm certs check-expiration:\n{out}");
        let mut rows = 0;
        let mut in_cas = false;
        for line in out.lines() {
            if line.starts_with("CERTIFICATE AUTHORITY") {
                in_cas = true;
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            // Table rows only: NAME Mon DD, YYYY HH:MM UTC …
            if words.len() < 6 || words[5] != "UTC" || line.starts_with("CERTIFICATE") {
                continue;
            }
            let date = words[1..6].join(" ");
            let want = if in_cas { &ca_expiry } else { &leaf_expiry };
            assert!(
                &date == want,
                "{host}: kubeadm sees {} expire {date}, the cluster file asks for {want}:\n{out}",
                words[0]
            );
            assert!(
                !line.contains("MISSING"),
                "{host}: kubeadm misses a certificate:\n{out}"
            );
            rows += 1;
        }
        assert!(rows >= 8, "{host}: too few certificates listed:\n{out}");
        checked_cp += 1;
    }
    assert!(checked_cp >= 2, "fewer than two control planes checked");
    assert!(checked_join >= 1, "no joining node checked");
    for (host, root) in &b.roots {
        if let Ok(unit) = std::fs::read_to_string(root.join("etc/systemd/system/etcd.service")) {
            written
                .entry(host.clone())
                .or_default()
                .insert("etcd.service".to_string(), unit);
        }
        // The files the security settings ship (encryption keys, audit policy, OIDC CA).
        for shipped in [
            "etc/kubernetes/pki/encryption-config.yaml",
            "etc/kubernetes/audit-policy.yaml",
            "etc/kubernetes/pki/oidc-ca.crt",
            // kube-vip on a joining control plane, placed by bootstrap.sh after the join.
            "etc/hac/kube-vip.yaml",
        ] {
            if let Ok(t) = std::fs::read_to_string(root.join(shipped)) {
                let name = shipped.rsplit('/').next().unwrap_or(shipped).to_string();
                written.entry(host.clone()).or_default().insert(name, t);
            }
        }
    }
    written
}

fn example(name: &str) {
    check_bundle(&example_file(name), Some(&example_secrets(name)));
}

fn fixture(name: &str) -> Written {
    check_bundle(
        &root().join("tests/kubeadm").join(format!("{name}.ha")),
        None,
    )
}

/// Asserts that `file` of every control plane in `written` holds each of `needles`.
fn every_control_plane_has(written: &Written, file: &str, needles: &[&str]) {
    let mut seen = 0;
    for (host, files) in written {
        let Some(text) = files.get(file) else {
            continue;
        };
        seen += 1;
        for n in needles {
            assert!(text.contains(n), "{host}: {file} lacks `{n}`:\n{text}");
        }
    }
    assert!(seen >= 3, "{file} found on {seen} hosts only");
}

/// Asserts that the volume `name` of `file` is mounted read-only (or not) on every host.
fn assert_volume_mode(written: &Written, file: &str, name: &str, read_only: bool) {
    for (host, files) in written {
        let Some(text) = files.get(file) else {
            continue;
        };
        let pod: serde_yaml::Value = serde_yaml::from_str(text).expect("a pod");
        let mounts = pod["spec"]["containers"][0]["volumeMounts"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        let mount = mounts
            .iter()
            .find(|m| m["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("{host}: {file} mounts no `{name}`"));
        let got = mount["readOnly"].as_bool().unwrap_or(false);
        assert_eq!(got, read_only, "{host}: `{name}` readOnly in {file}");
    }
}

#[test]
fn kubeadm_wires_the_component_settings_v1beta4() {
    let w = fixture("component-settings-1.32");
    let gates = "--feature-gates=InPlacePodVerticalScaling=true";
    every_control_plane_has(
        &w,
        "kube-apiserver.yaml",
        &[
            "--profiling=false",
            "--default-not-ready-toleration-seconds=60",
            gates,
            "image: registry.internal:5000/k8s/kube-apiserver:v1.32.9",
            "mountPath: /etc/hac/extra-trust",
            // Encryption at rest: the file sits in the pki folder kubeadm already mounts.
            "--encryption-provider-config=/etc/kubernetes/pki/encryption-config.yaml",
            "mountPath: /etc/kubernetes/pki",
            // The audit policy (read-only file) and log folder (read-write, created).
            "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
            "--audit-log-path=/var/log/kubernetes/audit/audit.log",
            "--audit-log-maxage=30",
            "--audit-log-maxbackup=10",
            "--audit-log-maxsize=100",
            "mountPath: /etc/kubernetes/audit-policy.yaml",
            "path: /etc/kubernetes/audit-policy.yaml",
            "type: File",
            "mountPath: /var/log/kubernetes/audit",
            "path: /var/log/kubernetes/audit",
            "type: DirectoryOrCreate",
            // OIDC.
            "--oidc-issuer-url=https://login.example.com/realms/k8s",
            "--oidc-client-id=kubernetes",
            "--oidc-username-claim=sub",
            "--oidc-groups-claim=groups",
            "--oidc-username-prefix=oidc:",
            "--oidc-ca-file=/etc/kubernetes/pki/oidc-ca.crt",
        ],
    );
    assert_volume_mode(&w, "kube-apiserver.yaml", "audit-policy", true);
    assert_volume_mode(&w, "kube-apiserver.yaml", "audit-log", false);
    let mut masters = 0;
    for (host, files) in &w {
        let Some(config) = files.get("encryption-config.yaml") else {
            continue;
        };
        masters += 1;
        assert!(
            config.contains("- secretbox:") && config.contains("name: key-1"),
            "{host}: the encryption configuration has no secretbox key-1"
        );
        assert!(files.contains_key("oidc-ca.crt") && files.contains_key("audit-policy.yaml"));
    }
    assert_eq!(
        masters, 3,
        "every control plane, and only they, hold the encryption file"
    );
    every_control_plane_has(
        &w,
        "kube-controller-manager.yaml",
        &["--terminated-pod-gc-threshold=500", gates],
    );
    every_control_plane_has(&w, "kube-scheduler.yaml", &["--profiling=false", gates]);
    every_control_plane_has(
        &w,
        "etcd.yaml",
        &[
            "--quota-backend-bytes=8589934592",
            "image: registry.internal:5000/k8s/etcd:",
        ],
    );
}

/// A node's kubelet overrides are a kubeadm patch: `kubeadm init phase kubelet-start` (what
/// `kubeadm init` runs on cp-0) writes the cluster's KubeletConfiguration with cp-0's
/// overrides applied, and the other nodes carry no patch.
#[test]
fn kubeadm_applies_a_nodes_kubelet_overrides() {
    let b = build_and_unpack(
        &root().join("tests/kubeadm/component-settings-1.32.ha"),
        None,
    );
    let version = KUBE_V1BETA4;
    for (host, root) in &b.roots {
        let patch = root.join("etc/kubernetes/patches/kubeletconfiguration+merge.yaml");
        assert_eq!(patch.exists(), host == "cp-0", "{host}: kubelet patch");
    }
    let root = &b.roots["cp-0"];
    let (ok, out) = kubeadm_in(
        version,
        root,
        &[
            "init",
            "phase",
            "kubelet-start",
            "--config",
            "/etc/kubernetes/kubeadm-config.yaml",
        ],
    );
    assert!(ok, "kubeadm init phase kubelet-start:\n{out}");
    assert!(
        out.contains("patch"),
        "kubeadm did not apply the patch:\n{out}"
    );
    let config = std::fs::read_to_string(root.join("var/lib/kubelet/config.yaml"))
        .unwrap_or_else(|e| panic!("kubelet config not written ({e}):\n{out}"));
    let v: serde_yaml::Value = serde_yaml::from_str(&config).unwrap();
    // cp-0's own values win; the cluster's other settings stay.
    assert_eq!(v["maxPods"].as_u64(), Some(250), "{config}");
    assert_eq!(
        v["systemReserved"]["memory"].as_str(),
        Some("2Gi"),
        "{config}"
    );
    assert_eq!(
        v["systemReserved"]["cpu"].as_str(),
        Some("500m"),
        "{config}"
    );
    assert_eq!(v["serverTLSBootstrap"].as_bool(), Some(true), "{config}");
    assert_eq!(v["cgroupDriver"].as_str(), Some("systemd"), "{config}");
}

#[test]
fn kubeadm_wires_the_component_settings_v1beta3() {
    let w = fixture("component-settings-1.30");
    every_control_plane_has(
        &w,
        "kube-apiserver.yaml",
        &[
            "--audit-log-maxbackup=10",
            "--audit-log-path=/var/log/kube-audit/audit.log",
            "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
            "path: /var/log/kube-audit",
            "--encryption-provider-config=/etc/kubernetes/pki/encryption-config.yaml",
            "image: registry.internal/k8s/kube-apiserver:v1.30.14",
        ],
    );
    // The operator's own policy is shipped as written; kube-vip comes from the mirror.
    every_control_plane_has(
        &w,
        "audit-policy.yaml",
        &["An audit policy of the operator's own"],
    );
    every_control_plane_has(
        &w,
        "kube-vip.yaml",
        &["image: \"registry.internal/k8s/kube-vip:v0.8.9\""],
    );
    every_control_plane_has(&w, "kube-scheduler.yaml", &["--v=2"]);
    // External etcd: the flags go into the systemd unit hac ships.
    every_control_plane_has(
        &w,
        "etcd.service",
        &[
            "--quota-backend-bytes=4294967296",
            "--auto-compaction-retention=8",
        ],
    );
}

#[test]
fn kubeadm_accepts_stacked_3() {
    example("stacked-3");
}

#[test]
fn kubeadm_accepts_external_etcd() {
    example("external-etcd");
}

#[test]
fn kubeadm_accepts_masters_run_etcd() {
    example("masters-run-etcd");
}

#[test]
fn kubeadm_accepts_multi_zone() {
    example("multi-zone");
}

#[test]
fn kubeadm_accepts_nginx_lb() {
    example("nginx-lb");
}

#[test]
fn kubeadm_accepts_hardened() {
    // The out-example that sets every component setting (issue 11).
    example("hardened");
}

#[test]
fn kubeadm_accepts_kube_vip_v1beta3() {
    fixture("kube-vip-1.30");
}

#[test]
fn kubeadm_accepts_kube_vip_v1beta4() {
    fixture("kube-vip-1.32");
}

#[test]
fn kubeadm_accepts_haproxy_on_masters() {
    fixture("haproxy-on-masters-1.32");
}

#[test]
fn kubeadm_accepts_nginx_dedicated_external_etcd_rsa() {
    fixture("nginx-dedicated-external-etcd-1.31");
}

#[test]
fn the_fixtures_cover_every_kind_placement_topology_algorithm_and_api() {
    // Guards the coverage claim of this file's header against fixtures being edited away.
    let mut all = String::new();
    for e in std::fs::read_dir(root().join("tests/kubeadm")).unwrap() {
        all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    for name in BUILDABLE {
        all.push_str(&std::fs::read_to_string(example_file(name)).unwrap());
    }
    for needle in [
        "kind = \"haproxy\"",
        "kind = \"nginx\"",
        "kind = \"keepalived\"",
        "kind = \"kube-vip\"",
        "kind = \"external\"",
        "placement = \"dedicated\"",
        "placement = \"control-plane\"",
        "topology = \"external\"",
        "roles = [ \"control-plane\" \"etcd\" ]",
        "rsa-",
        "ecdsa-p384",
        "kubernetesVersion = \"1.30",
        "kubernetesVersion = \"1.32",
    ] {
        assert!(all.contains(needle), "no kubeadm fixture has {needle}");
    }
}

#[test]
fn kubeadm_dates_are_computed_like_kubeadm_prints_them() {
    assert_eq!(
        kubeadm_date(days_from_civil(2026, 1, 1) + 365),
        "Jan 01, 2027 00:00 UTC"
    );
    assert_eq!(
        kubeadm_date(days_from_civil(2026, 1, 1) + 3650),
        "Dec 30, 2035 00:00 UTC"
    );
    assert_eq!(kubeadm_date(0), "Jan 01, 1970 00:00 UTC");
}
