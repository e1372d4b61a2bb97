//! Every rendered file of every sample and variant, checked by the real tool that reads it:
//! haproxy -c, nginx -t, keepalived -t (in a private network namespace), shellcheck,
//! systemd-analyze verify, cloud-init schema (and cloud-init's own write_files module, which
//! must unpack every node's files), ansible-inventory and ansible-playbook --syntax-check. A
//! missing tool fails the test with the install hint.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use hac_render::facts::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn write(dir: &Path, name: &str, contents: &[u8], mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
        .expect("chmod test file");
    path
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `check` on every file at `path` of every node of every variant; returns how many
/// files were checked.
fn for_each_file(path: &str, mut check: impl FnMut(&str, &str, &hac_model::Artifact)) -> usize {
    let mut checked = 0;
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        for node in bundle.hosts.keys() {
            if let Some(f) = file(&bundle, node, path) {
                check(variant, node, f);
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn haproxy_accepts_every_haproxy_cfg() {
    let haproxy = tool("haproxy");
    let tmp = scratch_dir("haproxy");
    let dir = tmp.path();
    let ca = write(dir, "ca.crt", real_ca_pem().as_bytes(), 0o644);
    let n = for_each_file(HAPROXY_CFG, |variant, node, f| {
        let cfg = text(f).replace("/etc/kubernetes/pki/ca.crt", &ca.display().to_string());
        let path = write(dir, &format!("{variant}-{node}.cfg"), cfg.as_bytes(), 0o644);
        let out = run(Command::new(&haproxy).args(["-c", "-q", "-f"]).arg(&path));
        assert!(
            out.status.success(),
            "{variant}/{node}: haproxy -c rejects haproxy.cfg:\n{}\n{cfg}",
            show(&out)
        );
    });
    assert!(n >= 10, "only {n} haproxy.cfg files were checked");
}

#[test]
fn nginx_accepts_every_nginx_conf() {
    let nginx = tool("nginx");
    let module = Path::new(hac_render::templates::NGINX_STREAM_MODULE);
    assert!(
        module.exists(),
        "{} is missing: run scripts/install-test-deps.sh",
        module.display()
    );
    let tmp = scratch_dir("nginx");
    let dir = tmp.path();
    let n = for_each_file(NGINX_CONF, |variant, node, f| {
        let original = text(f);
        assert!(original.contains("load_module /usr/lib/nginx/modules/ngx_stream_module.so;"));
        let pid = dir.join(format!("{variant}-{node}.pid"));
        let cfg = original
            .replace("pid /run/nginx.pid;", &format!("pid {};", pid.display()))
            .replace(
                "error_log /var/log/nginx/error.log warn;",
                "error_log stderr;",
            );
        assert_ne!(
            cfg, original,
            "the test copy must redirect pid and error_log"
        );
        let path = write(
            dir,
            &format!("{variant}-{node}.conf"),
            cfg.as_bytes(),
            0o644,
        );
        let out = run(Command::new(&nginx).args(["-t", "-q", "-c"]).arg(&path));
        assert!(
            out.status.success(),
            "{variant}/{node}: nginx -t rejects nginx.conf:\n{}\n{cfg}",
            show(&out)
        );
    });
    assert!(n >= 5, "only {n} nginx.conf files were checked");
}

#[test]
fn keepalived_accepts_every_keepalived_conf_in_a_private_namespace() {
    let keepalived = tool("keepalived");
    let unshare = tool("unshare");
    tool("ip");
    let tmp = scratch_dir("keepalived");
    let dir = tmp.path();
    let n = for_each_file(KEEPALIVED_CONF, |variant, node, f| {
        let bundle_script = format!("/{CHECK_APISERVER}");
        let script = write(
            dir,
            &format!("{variant}-{node}-check.sh"),
            b"#!/bin/sh\nexit 0\n",
            0o755,
        );
        let mut cfg = text(f).replace(&bundle_script, &script.display().to_string());
        let include = format!("include /{KEEPALIVED_INTERFACE_CONF}");
        if cfg.contains(&include) {
            // What bootstrap.sh writes on a host where eth0 holds the node's address
            // (keepalived_binds_the_interface_found_at_boot runs the detection itself).
            let conf = write(
                dir,
                &format!("{variant}-{node}-interface.conf"),
                b"    interface eth0\n",
                0o644,
            );
            cfg = cfg.replace(&include, &format!("include {}", conf.display()));
        }
        let path = write(
            dir,
            &format!("{variant}-{node}.conf"),
            cfg.as_bytes(),
            0o600,
        );
        assert!(
            path.is_file(),
            "keepalived exits 0 on a missing file: it must exist"
        );
        let shell = format!(
            "ip link add eth0 type veth peer name p0 && ip link set eth0 up && ip addr add 10.0.2.10/24 dev eth0 && {} -t -f {}",
            keepalived.display(),
            path.display()
        );
        let out = run(Command::new(&unshare).args(["-n", "sh", "-c", &shell]));
        assert!(out.status.success(), "{variant}/{node}: keepalived -t rejects keepalived.conf (5 = config error, 6 = script security):\n{}\n{cfg}", show(&out));
    });
    assert!(n >= 20, "only {n} keepalived.conf files were checked");
}

#[test]
fn keepalived_check_rejects_a_broken_config() {
    // The harness itself must be able to fail: a config naming a missing interface exits 5.
    let keepalived = tool("keepalived");
    let unshare = tool("unshare");
    let tmp = scratch_dir("keepalived-neg");
    let dir = tmp.path();
    let path = write(dir, "bad.conf", b"vrrp_instance X {\n state MASTER\n interface nosuch0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n 10.0.2.100/24\n }\n}\n", 0o600);
    let shell = format!(
        "ip link add eth0 type veth peer name p0 && {} -t -f {}",
        keepalived.display(),
        path.display()
    );
    let out = run(Command::new(&unshare).args(["-n", "sh", "-c", &shell]));
    assert!(
        !out.status.success(),
        "keepalived -t accepted a config with a missing interface:\n{}",
        show(&out)
    );
}

#[test]
fn shellcheck_accepts_every_script() {
    let shellcheck = tool("shellcheck");
    let tmp = scratch_dir("shellcheck");
    let dir = tmp.path();
    let mut n = 0;
    for path in [BOOTSTRAP, CHECK_APISERVER, hac_render::prepare::PREPARE] {
        n += for_each_file(path, |variant, node, f| {
            assert_eq!(f.mode, 0o755, "{variant}/{node}: {path} must be executable");
            let body = text(f);
            assert!(
                body.starts_with("#!/bin/sh\n"),
                "{variant}/{node}: {path} must be POSIX sh"
            );
            let name = format!("{variant}-{node}-{}", path.replace('/', "_"));
            let file = write(dir, &name, &f.contents, 0o755);
            let out = run(Command::new(&shellcheck).args(["-s", "sh"]).arg(&file));
            assert!(
                out.status.success(),
                "{variant}/{node}: shellcheck finds problems in {path}:\n{}\n{body}",
                show(&out)
            );
        });
    }
    assert!(n >= 60, "only {n} scripts were checked");
}

#[test]
fn systemd_analyze_verifies_every_etcd_unit() {
    let analyze = tool("systemd-analyze");
    let etcd = tool("etcd");
    let mut n = 0;
    n += for_each_file(ETCD_UNIT, |variant, node, f| {
        let tmp = scratch_dir("systemd");
        let dir = tmp.path();
        let unit = text(f);
        let first_line = unit
            .lines()
            .find(|l| l.starts_with("ExecStart="))
            .unwrap_or_default()
            .to_string();
        let binary = first_line
            .trim_start_matches("ExecStart=")
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            binary.starts_with('/'),
            "{variant}/{node}: ExecStart must name an absolute binary"
        );
        let copy = unit.replacen(
            &format!("ExecStart={binary}"),
            &format!("ExecStart={}", etcd.display()),
            1,
        );
        let path = write(dir, "etcd.service", copy.as_bytes(), 0o644);
        let out = run(Command::new(&analyze)
            .arg("verify")
            .arg(&path)
            .env("SYSTEMD_LOG_COLOR", "0"));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{variant}/{node}: systemd-analyze verify complains about etcd.service:\n{}\n{copy}",
            show(&out)
        );
    });
    assert!(n >= 9, "only {n} etcd units were checked");
}

#[test]
fn cloud_init_schema_accepts_every_user_data() {
    let cloud_init = tool("cloud-init");
    let tmp = scratch_dir("cloud-init");
    let dir = tmp.path();
    let mut n = 0;
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        for f in bundle
            .files
            .iter()
            .filter(|f| f.path.starts_with("cloud-init/") && f.path.ends_with(".yaml"))
        {
            let body = text(f);
            assert!(body.starts_with("#cloud-config\n"));
            let path = write(
                dir,
                &format!("{variant}-{}", f.path.replace('/', "_")),
                &f.contents,
                0o600,
            );
            let out = run(Command::new(&cloud_init)
                .args(["schema", "--config-file"])
                .arg(&path));
            assert!(
                out.status.success(),
                "{variant}: cloud-init schema rejects {}:\n{}",
                f.path,
                show(&out)
            );
            n += 1;
        }
    }
    assert!(n >= 60, "only {n} user-data files were checked");
}

/// cloud-init's own `write_files` module (run by the Python cloud-init runs on) writes every
/// entry of each user-data under a scratch root; each written file must be the node's file,
/// byte for byte and mode for mode: plain text blocks and `gz+b64` alike.
#[test]
fn cloud_init_write_files_module_unpacks_every_node_file() {
    let cloud_init = tool("cloud-init");
    let shebang = std::fs::read_to_string(&cloud_init).expect("read the cloud-init script");
    let python = shebang
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .expect("cloud-init is a Python script");
    let script = "import sys, os\nfrom cloudinit import util\nfrom cloudinit.config import cc_write_files as w\nroot, path = sys.argv[1], sys.argv[2]\ncfg = util.load_yaml(open(path, encoding='utf-8').read())\nfiles = cfg['write_files']\nfor f in files:\n    f['path'] = root + f['path']\nw.write_files('write_files', files, 'root:root')\nprint(len(files))\n";
    let tmp = scratch_dir("cloud-init-unpack");
    let mut n = 0;
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        for (node, files) in &bundle.hosts {
            let f = bundle
                .files
                .iter()
                .find(|f| f.path == format!("cloud-init/{node}.yaml"))
                .expect("user-data");
            let dir = tmp.path().join(format!("{variant}-{node}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            let user_data = write(
                tmp.path(),
                &format!("{variant}-{node}.yaml"),
                &f.contents,
                0o600,
            );
            let out = run(Command::new(&python)
                .arg("-c")
                .arg(script)
                .arg(&dir)
                .arg(&user_data));
            assert!(
                out.status.success(),
                "{variant}/{node}: cloud-init cannot unpack:\n{}",
                show(&out)
            );
            // outputs.cloudInitKeys = "separate": the private files come from the key
            // archive, unpacked as bootstrap.sh does, without touching existing folders.
            let keys = format!("cloud-init/{node}-keys.tar.gz");
            let has_private = files.iter().any(|f| f.mode & 0o044 == 0);
            match bundle.files.iter().find(|f| f.path == keys) {
                Some(archive) => {
                    assert_eq!(
                        cluster.outputs.cloud_init_keys,
                        hac_model::CloudInitKeys::Separate
                    );
                    assert_eq!(archive.mode, 0o600, "{keys}");
                    // A folder whose mode differs from the archive's 0755 must keep it.
                    std::fs::set_permissions(
                        dir.join("etc"),
                        std::fs::Permissions::from_mode(0o750),
                    )
                    .expect("chmod etc");
                    let folders = folder_metadata(&dir);
                    let archive_path = write(
                        tmp.path(),
                        &format!("{variant}-{node}-keys.tar.gz"),
                        &archive.contents,
                        0o600,
                    );
                    let out = run(Command::new(tool("tar"))
                        .arg("-xzf")
                        .arg(&archive_path)
                        .arg("-C")
                        .arg(&dir)
                        .arg("--no-overwrite-dir")
                        .arg("--touch"));
                    assert!(
                        out.status.success(),
                        "{variant}/{node}: tar:\n{}",
                        show(&out)
                    );
                    let after = folder_metadata(&dir);
                    for (folder, (mode, uid, mtime)) in &folders {
                        let (mode_after, uid_after, mtime_after) = after[folder];
                        // A new file updates its folder's mtime to now, as any write does;
                        // the archive's epoch must never be set on an existing folder.
                        assert!(
                            (mode_after, uid_after) == (*mode, *uid) && mtime_after >= *mtime,
                            "{variant}/{node}: unpacking the keys changed {folder}: {mode_after:o} {uid_after} {mtime_after} (was {mode:o} {uid} {mtime})"
                        );
                    }
                }
                None => assert!(
                    !has_private
                        || cluster.outputs.cloud_init_keys == hac_model::CloudInitKeys::Inline,
                    "{variant}/{node}: no {keys}"
                ),
            }
            for artifact in files {
                let written = dir.join(&artifact.path);
                let bytes = std::fs::read(&written).unwrap_or_else(|e| {
                    panic!("{variant}/{node}: {} not written: {e}", artifact.path)
                });
                assert!(
                    bytes == artifact.contents,
                    "{variant}/{node}: {} unpacks to other bytes",
                    artifact.path
                );
                let mode = std::fs::metadata(&written)
                    .expect("stat")
                    .permissions()
                    .mode()
                    & 0o7777;
                assert_eq!(
                    mode, artifact.mode,
                    "{variant}/{node}: {} mode",
                    artifact.path
                );
                n += 1;
            }
        }
    }
    assert!(n >= 500, "only {n} files were unpacked");
}

#[test]
fn cloud_init_schema_check_can_fail() {
    // An integer mode is what cloud-init's schema rejects: the harness must see it.
    let cloud_init = tool("cloud-init");
    let tmp = scratch_dir("cloud-init-neg");
    let dir = tmp.path();
    let path = write(dir, "bad.yaml", b"#cloud-config\nwrite_files:\n- path: /x\n  content: x\n  permissions: 0600\n  bogus_key: 1\n", 0o600);
    let out = run(Command::new(&cloud_init)
        .args(["schema", "--config-file"])
        .arg(&path));
    assert!(
        !out.status.success(),
        "cloud-init schema accepted an invalid file:\n{}",
        show(&out)
    );
}

#[test]
fn ansible_reads_the_inventory_and_the_play() {
    let inventory_tool = tool("ansible-inventory");
    let playbook_tool = tool("ansible-playbook");
    for (variant, cluster) in variants() {
        let bundle = render_with_real_ca(&cluster);
        let tmp = scratch_dir("ansible");
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("ansible")).expect("mkdir ansible");
        std::fs::create_dir_all(dir.join("hosts")).expect("mkdir hosts");
        for node in bundle.hosts.keys() {
            write(
                &dir.join("hosts"),
                &format!("{node}.tar.gz"),
                b"dummy archive",
                0o644,
            );
        }
        for f in bundle
            .files
            .iter()
            .filter(|f| f.path.starts_with("ansible/"))
        {
            write(dir, &f.path, &f.contents, 0o644);
        }
        let inventory = dir.join("ansible/inventory.yml");
        let site = dir.join("ansible/site.yml");
        assert!(
            inventory.is_file() && site.is_file(),
            "{variant}: both Ansible files are emitted"
        );
        let out = run(Command::new(&inventory_tool)
            .arg("-i")
            .arg(&inventory)
            .arg("--list")
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
            .env("ANSIBLE_NOCOLOR", "1"));
        assert!(
            out.status.success(),
            "{variant}: ansible-inventory rejects inventory.yml:\n{}",
            show(&out)
        );
        let listed: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("ansible-inventory prints JSON");
        for node in &cluster.nodes {
            let host = &listed["_meta"]["hostvars"][&node.name]["ansible_host"];
            assert_eq!(
                host,
                &serde_json::json!(node.address.to_string()),
                "{variant}: {} has its address",
                node.name
            );
        }
        let masters: Vec<String> = cluster.control_planes().map(|n| n.name.clone()).collect();
        let listed_masters: Vec<String> = listed["control_plane"]["hosts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(listed_masters, masters, "{variant}: control_plane group");
        let out = run(Command::new(&playbook_tool)
            .arg("-i")
            .arg(&inventory)
            .arg("--syntax-check")
            .arg(&site)
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
            .env("ANSIBLE_NOCOLOR", "1"));
        assert!(
            out.status.success(),
            "{variant}: ansible-playbook --syntax-check rejects site.yml:\n{}",
            show(&out)
        );
    }
}

#[test]
fn systemd_analyze_verifies_every_firewall_unit() {
    let analyze = tool("systemd-analyze");
    let nft = tool("nft");
    let mut n = 0;
    n += for_each_file(hac_render::prepare::FIREWALL_UNIT, |variant, node, f| {
        let tmp = scratch_dir("systemd-firewall");
        let unit = text(f);
        assert!(
            unit.contains("ExecStart=/usr/sbin/nft -f /etc/hac/firewall.nft"),
            "{variant}/{node}: {unit}"
        );
        let copy = unit.replace("/usr/sbin/nft", &nft.display().to_string());
        let path = write(tmp.path(), "hac-firewall.service", copy.as_bytes(), 0o644);
        let out = run(Command::new(&analyze)
            .arg("verify")
            .arg(&path)
            .env("SYSTEMD_LOG_COLOR", "0"));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{variant}/{node}: systemd-analyze verify complains about hac-firewall.service:\n{}\n{copy}",
            show(&out)
        );
    });
    assert!(n >= 7, "only {n} firewall units were checked");
}

/// Runs the `services` phase of `node`'s bootstrap.sh in a private network namespace where
/// `setup` (shell) made the interfaces, with the real `ip` and systemctl stubbed, the file
/// it writes redirected into `dir`; then `keepalived -t` on the node's keepalived.conf with
/// that file included. Returns (bootstrap's output, its exit code, keepalived's output and
/// exit code, the systemctl calls).
fn detect_and_check(
    dir: &Path,
    bundle: &hac_model::Bundle,
    node: &str,
    setup: &str,
) -> (String, Option<i32>, String, Option<i32>, String) {
    let keepalived = tool("keepalived");
    let unshare = tool("unshare");
    tool("ip");
    let conf_path = dir.join(format!("{node}-hac-interface.conf"));
    let _ = std::fs::remove_file(&conf_path);
    // A fresh state folder (HAC_ROOT), so each call starts the services anew.
    let _ = std::fs::remove_dir_all(dir.join(format!("{node}-root")));
    // Without its wait for the key archive (this machine has no keys in place; the wait
    // has its own test in scripts.rs).
    let mut in_call = false;
    let script: String = text(file(bundle, node, BOOTSTRAP).expect("bootstrap.sh"))
        .split_inclusive('\n')
        .filter(|l| {
            in_call |= l.contains("await_keys \\");
            let keep = !in_call;
            in_call &= l.trim_end().ends_with('\\');
            keep
        })
        .collect::<String>()
        .replace(
            &format!("/{KEEPALIVED_INTERFACE_CONF}"),
            &conf_path.display().to_string(),
        );
    let script = write(
        dir,
        &format!("{node}-bootstrap.sh"),
        script.as_bytes(),
        0o755,
    );
    let check = write(
        dir,
        &format!("{node}-check.sh"),
        b"#!/bin/sh\nexit 0\n",
        0o755,
    );
    let cfg = text(file(bundle, node, KEEPALIVED_CONF).expect("keepalived.conf"))
        .replace(&format!("/{CHECK_APISERVER}"), &check.display().to_string())
        .replace(
            &format!("/{KEEPALIVED_INTERFACE_CONF}"),
            &conf_path.display().to_string(),
        );
    let cfg = write(
        dir,
        &format!("{node}-keepalived.conf"),
        cfg.as_bytes(),
        0o600,
    );
    let stubs = dir.join(format!("{node}-bin"));
    std::fs::create_dir_all(&stubs).expect("stub dir");
    let log = dir.join(format!("{node}-systemctl.log"));
    let _ = std::fs::remove_file(&log);
    write(
        &stubs,
        "systemctl",
        format!("#!/bin/sh\necho \"systemctl $*\" >> {}\n", log.display()).as_bytes(),
        0o755,
    );
    let shell = format!(
        "{setup}\nHAC_ROOT={dir}/{node}-root PATH={}:/usr/sbin:/usr/bin:/sbin:/bin sh {} services > {dir}/{node}.out 2>&1; echo $? > {dir}/{node}.rc\n{} -t -f {} > {dir}/{node}.k.out 2>&1; echo $? > {dir}/{node}.k.rc",
        stubs.display(),
        script.display(),
        keepalived.display(),
        cfg.display(),
        dir = dir.display(),
    );
    let out = run(Command::new(&unshare).args(["-n", "sh", "-c", &shell]));
    assert!(
        out.status.success(),
        "the namespace failed:\n{}",
        show(&out)
    );
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(format!("{node}.{name}"))).unwrap_or_default()
    };
    let code = |name: &str| read(name).trim().parse::<i32>().ok();
    (
        read("out"),
        code("rc"),
        read("k.out"),
        code("k.rc"),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn keepalived_binds_the_interface_found_at_boot() {
    let mut cluster = hac_model::samples::stacked_3_dedicated_lb();
    cluster.nodes.iter_mut().for_each(|n| n.interface = None);
    let bundle = render_with_real_ca(&cluster);
    let tmp = scratch_dir("keepalived-detect");
    let dir = tmp.path();
    let holders = cluster.vip_holders();
    assert!(!holders.is_empty());
    for holder in holders {
        let addr = holder.address;
        // ens5 holds the node's address; a second interface holds another address of the
        // same subnet, which must not be picked.
        let setup = format!(
            "ip link add ens4 type veth peer name p4 && ip link set ens4 up && ip addr add 10.99.0.1/24 dev ens4 && \
             ip link add ens5 type veth peer name p5 && ip link set ens5 up && ip addr add {addr}/24 dev ens5"
        );
        let (out, rc, k_out, k_rc, calls) = detect_and_check(dir, &bundle, &holder.name, &setup);
        assert_eq!(rc, Some(0), "{}: bootstrap failed:\n{out}", holder.name);
        assert!(
            out.contains(&format!("hac: keepalived binds ens5 (holds {addr})")),
            "{}: no log line naming the interface:\n{out}",
            holder.name
        );
        assert!(
            calls.contains("systemctl enable --now keepalived"),
            "{calls}"
        );
        assert_eq!(
            k_rc,
            Some(0),
            "{}: keepalived -t rejects the result:\n{k_out}",
            holder.name
        );
    }
    // Nothing holds the address: a clear error, exit 1, and keepalived is never started.
    let holder = &cluster.vip_holders()[0];
    let setup = "ip link add ens5 type veth peer name p5 && ip link set ens5 up && ip addr add 10.99.0.1/24 dev ens5";
    let (out, rc, _, k_rc, calls) = detect_and_check(dir, &bundle, &holder.name, setup);
    assert_eq!(rc, Some(1), "{out}");
    assert!(
        out.contains(&format!("hac: no interface holds {}", holder.address))
            && out.contains(&format!("nodes.{}.interface", holder.name)),
        "{out}"
    );
    assert!(
        !calls.contains("keepalived"),
        "keepalived was started: {calls}"
    );
    assert_ne!(
        k_rc,
        Some(0),
        "keepalived -t accepted a config whose interface file is missing"
    );
}

/// (mode, owner, mtime) of every folder under `root`, by path.
fn folder_metadata(root: &Path) -> std::collections::BTreeMap<String, (u32, u32, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let meta = std::fs::metadata(&dir).expect("stat folder");
        out.insert(
            dir.display().to_string(),
            (meta.mode(), meta.uid(), meta.mtime()),
        );
        for entry in std::fs::read_dir(&dir).expect("read folder").flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    out
}

/// A failed bootstrap is visible in `cloud-init status`: cloud-init's runcmd module turns the
/// user-data's `runcmd` into a script (`util.shellify`), the scripts_user module runs it
/// (`subp.runparts`), which raises when it exits non-zero; the module's failure is recorded in
/// the stage's errors, and `cloud-init status` then says `error` (exit 1). The runcmd script
/// must therefore exit with bootstrap.sh's code: checked here with cloud-init's own code, for a
/// bootstrap that fails and one that succeeds.
#[test]
fn cloud_init_runs_bootstrap_as_its_last_command_so_a_failure_is_an_error() {
    let cloud_init = tool("cloud-init");
    let shebang = std::fs::read_to_string(&cloud_init).expect("read the cloud-init script");
    let python = shebang
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .expect("cloud-init is a Python script");
    let script = "import sys, os\nfrom cloudinit import util, subp\nscripts, user_data, stub = sys.argv[1], sys.argv[2], sys.argv[3]\ncfg = util.load_yaml(open(user_data, encoding='utf-8').read())\ncmds = [c.replace('/etc/hac/bootstrap.sh', stub) for c in cfg['runcmd']]\nutil.write_file(os.path.join(scripts, 'runcmd'), util.shellify(cmds), 0o700)\ntry:\n    subp.runparts(scripts)\nexcept RuntimeError as e:\n    print('scripts_user failed:', e)\n    sys.exit(1)\nprint('scripts_user ok')\n";
    let tmp = scratch_dir("cloud-init-runcmd");
    let bundle = render_with_real_ca(&hac_model::samples::stacked_3());
    let user_data = bundle
        .files
        .iter()
        .find(|f| f.path == "cloud-init/master-0.yaml")
        .expect("user-data");
    let user_data = write(tmp.path(), "master-0.yaml", &user_data.contents, 0o600);
    for (code, expect_failure) in [(1, true), (0, false)] {
        let dir = tmp.path().join(format!("exit-{code}"));
        let scripts = dir.join("scripts");
        std::fs::create_dir_all(&scripts).expect("mkdir");
        let stub = write(
            &dir,
            "bootstrap.sh",
            format!("#!/bin/sh\necho 'hac: gave up' 1>&2\nexit {code}\n").as_bytes(),
            0o755,
        );
        let out = run(Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(&scripts)
            .arg(&user_data)
            .arg(&stub));
        assert_eq!(
            !out.status.success(),
            expect_failure,
            "bootstrap exit {code}:\n{}",
            show(&out)
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(if expect_failure {
                "scripts_user failed"
            } else {
                "scripts_user ok"
            }),
            "{said}"
        );
    }
}
