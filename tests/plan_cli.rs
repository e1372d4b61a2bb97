//! `hac plan` and `hac build --from` end to end on the external-etcd example, and the
//! certificate expiry check at the command line's one clock read (pinned with HAC_NOW).
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod e2e_support;
use e2e_support::*;
use std::path::{Path, PathBuf};

/// The external-etcd example with `etcd` members (3 in the example) in a temporary folder.
fn variant(dir: &Path, name: &str, etcd: u32) -> PathBuf {
    let src = std::fs::read_to_string(example_file("external-etcd")).unwrap();
    let text = src.replace(
        r#"prefix = "etcd"; count = 3;"#,
        &format!(r#"prefix = "etcd"; count = {etcd};"#),
    );
    assert!(
        etcd == 3 || text != src,
        "the example changed: update this test"
    );
    let file = dir.join(format!("{name}.ha"));
    std::fs::write(&file, text).unwrap();
    let secrets = dir.join(format!("{name}.secrets"));
    std::fs::copy(example_secrets("external-etcd"), &secrets).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

fn build(file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    run(hac()
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(out)
        .args(["--format", "tree", "-q"])
        .args(extra))
}

fn unit(out: &Path, host: &str) -> String {
    std::fs::read_to_string(out.join(format!("hosts/{host}/etc/systemd/system/etcd.service")))
        .unwrap()
}

#[test]
fn growing_external_etcd_is_planned_and_built_with_existing_members() {
    let tmp = tempfile::tempdir().unwrap();
    let three = variant(tmp.path(), "external-etcd", 3);
    let live = tmp.path().join("live");
    let o = build(&three, &live, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(live.join("state.json").is_file());

    // No change: an empty plan, exit 0.
    let o = run(hac().arg("plan").arg(&three).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("nothing to do"),
        "{}",
        text(&o.stdout)
    );

    let sub = tmp.path().join("five");
    std::fs::create_dir(&sub).unwrap();
    let five = variant(&sub, "external-etcd", 5);
    let o = run(hac().arg("plan").arg(&five).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let plan = text(&o.stdout);
    shellcheck_commands(&plan, tmp.path());
    let add3 = plan
        .find("member add etcd-3 --learner")
        .expect("etcd-3 added");
    let add4 = plan
        .find("member add etcd-4 --learner")
        .expect("etcd-4 added");
    assert!(add3 < add4, "{plan}");
    assert!(plan.contains("tolerates 2 failures"), "{plan}");
    let o = run(hac()
        .arg("plan")
        .arg(&five)
        .arg("--from")
        .arg(&live)
        .args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON plan");
    assert_eq!(v["steps"][0]["host"], "etcd-3");
    assert_eq!(v["steps"][0]["after"]["etcdMembers"], 4);

    // The new bundle, from the live one: etcd-3 and etcd-4 join; the others stay `new`.
    let next = tmp.path().join("next");
    let o = build(&five, &next, &["--from", live.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(unit(&next, "etcd-0").contains("--initial-cluster-state=new"));
    let u3 = unit(&next, "etcd-3");
    assert!(u3.contains("--initial-cluster-state=existing"), "{u3}");
    assert!(u3.contains("etcdctl member add etcd-3 --learner"), "{u3}");
    assert!(
        !u3.contains("etcd-4=https://"),
        "etcd-3 finds only the old members: {u3}"
    );
    assert!(unit(&next, "etcd-4").contains("etcd-3=https://"));
    // Members that existed keep what they had: their units do not change (no restart).
    for m in ["etcd-0", "etcd-1", "etcd-2"] {
        assert_eq!(unit(&next, m), unit(&live, m), "{m}'s unit changed");
    }
    // And back to three from the five: still the units of the first build.
    let back = tmp.path().join("back");
    let o = build(&three, &back, &["--from", next.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for m in ["etcd-0", "etcd-1", "etcd-2"] {
        assert_eq!(unit(&back, m), unit(&live, m), "{m}'s unit changed");
    }
    // A fresh build of the same file stays `new` everywhere.
    let fresh = tmp.path().join("fresh");
    assert!(build(&five, &fresh, &[]).status.success());
    assert!(unit(&fresh, "etcd-4").contains("--initial-cluster-state=new"));

    // The Ansible play of the same steps: one play per step, on its host; ansible reads it.
    require_tool("ansible-playbook");
    let play = tmp.path().join("plan.yml");
    let o = run(hac()
        .arg("plan")
        .arg(&five)
        .arg("--from")
        .arg(&live)
        .arg("--play")
        .arg(&play));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let plays: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&play).unwrap()).expect("YAML play");
    let plays = plays.as_sequence().expect("a list of plays");
    assert_eq!(plays.len(), v["steps"].as_array().unwrap().len());
    assert_eq!(plays[0]["hosts"].as_str(), Some("etcd-3"));
    assert_eq!(plays[0]["any_errors_fatal"].as_bool(), Some(true));
    let tasks = plays[0]["tasks"].as_sequence().unwrap();
    assert!(tasks
        .last()
        .and_then(|t| t["ansible.builtin.shell"].as_str())
        .is_some_and(|c| c.contains("endpoint health")));
    let o = run(std::process::Command::new("ansible-playbook")
        .arg("--syntax-check")
        .arg("-i")
        .arg(live.join("ansible/inventory.yml"))
        .arg("-i")
        .arg(next.join("ansible/inventory.yml"))
        .arg(&play)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-tmp"))
        .env("HOME", tmp.path()));
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));

    // The same plan from the previous `.ha` file (and its secrets) instead of its bundle.
    let o = run(hac()
        .arg("plan")
        .arg(&five)
        .arg("--from")
        .arg(&three)
        .arg("-q"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), plan);

    // The same plan from an archive bundle.
    let tar = tmp.path().join("live-tar");
    let o = run(hac().arg("build").arg(&three).arg("-o").arg(&tar).arg("-q"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(hac().arg("plan").arg(&five).arg("--from").arg(&tar));
    assert_eq!(text(&o.stdout), plan);
}

#[test]
fn unsafe_changes_and_bad_previous_bundles_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let three = variant(tmp.path(), "external-etcd", 3);
    let live = tmp.path().join("live");
    assert!(build(&three, &live, &[]).status.success());
    let sub = tmp.path().join("one");
    std::fs::create_dir(&sub).unwrap();
    // One member: the rules refuse it already (E0201) before any plan.
    let one = variant(&sub, "external-etcd", 1);
    let o = run(hac().arg("plan").arg(&one).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // Skipping a minor release: E0905.
    let skip = tmp.path().join("skip.ha");
    std::fs::write(
        &skip,
        std::fs::read_to_string(&three)
            .unwrap()
            .replace("1.31.4", "1.33.1"),
    )
    .unwrap();
    std::fs::copy(
        tmp.path().join("external-etcd.secrets"),
        tmp.path().join("skip.secrets"),
    )
    .unwrap();
    let o = run(hac().arg("plan").arg(&skip).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("E0905"), "{}", text(&o.stderr));
    // --failed names a node the live cluster lacks (E0911, with the close name), or a
    // majority of etcd (E0912); build's --failed needs --from (a usage error).
    let o = run(hac()
        .arg("plan")
        .arg(&three)
        .arg("--from")
        .arg(&live)
        .args(["--failed", "etcd2"]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("E0911") && err.contains("--failed etcd-2"),
        "{err}"
    );
    let o = run(hac()
        .arg("plan")
        .arg(&three)
        .arg("--from")
        .arg(&live)
        .args(["--failed", "etcd-0", "--failed", "etcd-2"]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("E0912"), "{}", text(&o.stderr));
    let o = build(&three, &tmp.path().join("x"), &["--failed", "etcd-2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(!tmp.path().join("x").exists());
    // A failed member kept: the plan removes it first, the build starts it as `existing`.
    let o = run(hac()
        .arg("plan")
        .arg(&three)
        .arg("--from")
        .arg(&live)
        .args(["--failed", "etcd-2"]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("1. [etcd-0] forget the failed node etcd-2"),
        "{}",
        text(&o.stdout)
    );
    let rebuilt = tmp.path().join("rebuilt");
    let o = build(
        &three,
        &rebuilt,
        &["--from", live.to_str().unwrap(), "--failed", "etcd-2"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(unit(&rebuilt, "etcd-2").contains("--initial-cluster-state=existing"));
    assert!(unit(&rebuilt, "etcd-0").contains("--initial-cluster-state=new"));
    // Not a bundle: exit 2. A bundle without state.json: E0910.
    let o = run(hac()
        .arg("plan")
        .arg(&three)
        .arg("--from")
        .arg(tmp.path().join("nope")));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    std::fs::remove_file(live.join("state.json")).unwrap();
    let o = run(hac().arg("plan").arg(&three).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("E0910"), "{}", text(&o.stderr));
}

#[test]
fn expiry_warns_ahead_refuses_expired_and_never_changes_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let file = variant(tmp.path(), "external-etcd", 3);
    // The examples' leaves run from 2026-07-01 (pki.leafEpoch) to 2027-07-01.
    let at = |now: &str, out: &str, extra: &[&str]| {
        run(hac()
            .env("HAC_NOW", now)
            .arg("build")
            .arg(&file)
            .arg("-o")
            .arg(tmp.path().join(out))
            .args(["--format", "tree", "-q"])
            .args(extra))
    };
    let calm = at("2026-07-01T00:00:00Z", "calm", &[]);
    assert!(calm.status.success());
    assert!(!text(&calm.stderr).contains("W0502"));
    let soon = at("2027-06-14T00:00:00Z", "soon", &[]);
    assert!(soon.status.success(), "{}", text(&soon.stderr));
    assert!(
        text(&soon.stderr).contains("W0502"),
        "{}",
        text(&soon.stderr)
    );
    assert!(
        text(&soon.stderr).contains("expire in 17 days"),
        "{}",
        text(&soon.stderr)
    );
    let late = at("2027-08-01T00:00:00Z", "late", &[]);
    assert_eq!(late.status.code(), Some(1));
    assert!(
        text(&late.stderr).contains("E0504"),
        "{}",
        text(&late.stderr)
    );
    assert!(!tmp.path().join("late").exists(), "nothing written");
    let allowed = at("2027-08-01T00:00:00Z", "allowed", &["--allow-expired"]);
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
    assert!(text(&allowed.stderr).contains("W0501"));
    // The clock decides warnings, never bytes.
    for other in ["soon", "allowed"] {
        let (a, b) = (tmp.path().join("calm"), tmp.path().join(other));
        for f in files_under(&a) {
            assert_eq!(
                std::fs::read(a.join(&f)).unwrap(),
                std::fs::read(b.join(&f)).unwrap(),
                "{other}: {}",
                f.display()
            );
        }
    }
    // `hac check` reads the same clock; `--deny-warnings` turns W0502 into an error.
    let o = run(hac()
        .env("HAC_NOW", "2027-08-01T00:00:00Z")
        .arg("check")
        .arg(&file));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("E0504"));
    let o = run(hac()
        .env("HAC_NOW", "2027-06-14T00:00:00Z")
        .args(["--deny-warnings", "check"])
        .arg(&file));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // A bad HAC_NOW is a usage error, not a silent clock.
    let o = run(hac().env("HAC_NOW", "tomorrow").arg("check").arg(&file));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

/// The external-etcd example with its `controlPlane.vip` line replaced by `with`.
fn vip_variant(dir: &Path, name: &str, with: &str) -> PathBuf {
    let file = variant(dir, name, 3);
    let src = std::fs::read_to_string(&file).unwrap();
    let line = "vip = lib.cidr.host subnet 10;";
    assert!(src.contains(line), "the example changed: update this test");
    std::fs::write(&file, src.replace(line, with)).unwrap();
    file
}

/// A new VIP from the command line: `hac build --from` makes the build between (keepalived
/// holds both VIPs, each under its own router id), `hac plan` rolls it holder by holder, the
/// next build releases the old VIP; the same router id is refused by both.
#[test]
fn a_new_vip_is_built_between_and_planned_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let sans = r#"certSANs = [ "192.168.1.50" ];"#;
    let a = vip_variant(
        tmp.path(),
        "a",
        &format!("vip = lib.cidr.host subnet 10; {sans}"),
    );
    let b = vip_variant(
        tmp.path(),
        "b",
        &format!("vip = lib.cidr.host subnet 50; keepalived.routerId = 52; {sans}"),
    );
    let live = tmp.path().join("live");
    let o = build(&a, &live, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    let o = run(hac().arg("plan").arg(&b).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let plan = text(&o.stdout);
    shellcheck_commands(&plan, tmp.path());
    let held: Vec<&str> = plan
        .lines()
        .filter(|l| l.contains("hold the new VIP 192.168.1.50 beside 192.168.1.10"))
        .collect();
    assert_eq!(held.len(), 2, "{plan}");
    assert!(
        held[0].contains("[lb-1]") && held[1].contains("[lb-0]"),
        "the MASTER last: {plan}"
    );
    assert!(
        plan.contains("serve and publish the new endpoint 192.168.1.50:6443"),
        "{plan}"
    );

    let mid = tmp.path().join("mid");
    let o = build(&b, &mid, &["--from", live.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let conf = |out: &Path| {
        std::fs::read_to_string(out.join("hosts/lb-0/etc/keepalived/keepalived.conf")).unwrap()
    };
    let between = conf(&mid);
    assert!(between.contains("virtual_router_id 52") && between.contains("192.168.1.50/24"));
    assert!(
        between.contains("vrrp_instance VI_K8S_API_PREVIOUS")
            && between.contains("virtual_router_id 51")
            && between.contains("192.168.1.10/24"),
        "{between}"
    );
    let state = std::fs::read_to_string(mid.join("state.json")).unwrap();
    assert!(state.contains(r#""previousVip""#), "{state}");

    // The next build with the same VIP releases the old one.
    let o = run(hac().arg("plan").arg(&b).arg("--from").arg(&mid));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("release the previous VIP 192.168.1.10"),
        "{}",
        text(&o.stdout)
    );
    let after = tmp.path().join("after");
    let o = build(&b, &after, &["--from", mid.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let final_conf = conf(&after);
    assert!(!final_conf.contains("PREVIOUS") && !final_conf.contains("192.168.1.10/"));

    // The same router id for the new VIP: refused by the build between and by the plan.
    let same = vip_variant(
        tmp.path(),
        "same",
        &format!("vip = lib.cidr.host subnet 50; {sans}"),
    );
    let o = build(
        &same,
        &tmp.path().join("same-out"),
        &["--from", live.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("E0908") && text(&o.stderr).contains("routerId"),
        "{}",
        text(&o.stderr)
    );
    let o = run(hac().arg("plan").arg(&same).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("E0908"), "{}", text(&o.stderr));
}

/// The plan points each kube-apiserver at a new external etcd member list with the real
/// kubeadm: a joined control plane's kubeadm-config.yaml is a JoinConfiguration, which
/// `kubeadm init phase` refuses, so the step composes this node's API endpoint with the
/// cluster's ClusterConfiguration (read from the kubeadm-config ConfigMap, which the step
/// before uploads). Here the ConfigMap's content is stood in for by the ClusterConfiguration
/// document of the new bundle's first control plane (what `upload-config` publishes); the
/// printed command itself and kubeadm run for real, chrooted into the host's unpacked files.
#[test]
fn a_joined_control_plane_regenerates_its_apiserver_for_the_new_etcd_members_with_kubeadm() {
    let tmp = tempfile::tempdir().unwrap();
    let three = variant(tmp.path(), "external-etcd", 3);
    let live = tmp.path().join("live");
    assert!(build(&three, &live, &[]).status.success());
    let sub = tmp.path().join("five");
    std::fs::create_dir(&sub).unwrap();
    let five = variant(&sub, "external-etcd", 5);
    let new = tmp.path().join("new");
    let o = build(&five, &new, &["--from", &live.display().to_string()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(hac().arg("plan").arg(&five).arg("--from").arg(&live));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let plan = text(&o.stdout);
    shellcheck_commands(&plan, tmp.path());
    let upload = plan
        .find(
            "kubeadm init phase upload-config kubeadm --config /etc/kubernetes/kubeadm-config.yaml",
        )
        .expect("the new ClusterConfiguration is uploaded");
    let step = plan
        .find("[master-1] point kube-apiserver at the new etcd member list")
        .expect("master-1's apiserver step");
    assert!(
        upload < step,
        "uploaded before any apiserver reads it:\n{plan}"
    );
    let commands: Vec<&str> = plan[step..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("after:"))
        .filter_map(|l| l.trim_start().strip_prefix("$ "))
        .collect();
    let compose = commands
        .iter()
        .find(|c| c.starts_with("{ printf "))
        .expect("the composed configuration");
    assert!(
        commands.iter().any(|c| c.starts_with(
            "kubeadm init phase control-plane apiserver --config /etc/kubernetes/hac-control-plane.yaml"
        )),
        "{commands:?}"
    );

    let root = tmp.path().join("master-1");
    std::fs::create_dir_all(root.join("etc/kubernetes")).unwrap();
    let first =
        std::fs::read_to_string(new.join("hosts/master-0/etc/kubernetes/kubeadm-config.yaml"))
            .unwrap();
    let cluster_configuration = first
        .split("\n---\n")
        .find(|d| d.contains("kind: ClusterConfiguration"))
        .expect("a ClusterConfiguration");
    let stand_in = tmp.path().join("cluster-configuration.yaml");
    std::fs::write(&stand_in, cluster_configuration).unwrap();
    let script = format!(
        "kubectl() {{ cat '{}'; }}\n{}",
        stand_in.display(),
        compose.split("   # ").next().unwrap().replace(
            "/etc/kubernetes/",
            &format!("{}/etc/kubernetes/", root.display())
        )
    );
    let o = run(std::process::Command::new("sh").args(["-c", &script]));
    assert!(o.status.success(), "{}", text(&o.stderr));

    let version = k8s::kubeadm_version_for("1.31.4");
    let kubeadm = k8s::k8s_bin(version, "kubeadm");
    let o = run(std::process::Command::new(&kubeadm)
        .args(["init", "phase", "control-plane", "apiserver"])
        .args(["--config", "/etc/kubernetes/hac-control-plane.yaml"])
        .arg("--rootfs")
        .arg(&root));
    assert!(
        o.status.success(),
        "kubeadm: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let manifest =
        std::fs::read_to_string(root.join("etc/kubernetes/manifests/kube-apiserver.yaml")).unwrap();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("state.json")).unwrap()).unwrap();
    let address = state["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "master-1")
        .and_then(|n| n["address"].as_str())
        .unwrap()
        .to_string();
    assert!(
        manifest.contains(&format!("- --advertise-address={address}")),
        "this node's own address:\n{manifest}"
    );
    let members: Vec<String> = state["etcd"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["clientUrl"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members.len(), 5);
    let servers = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("- --etcd-servers="))
        .expect("--etcd-servers");
    let mut got: Vec<&str> = servers.split(',').collect();
    got.sort_unstable();
    let mut want: Vec<&str> = members.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got, want, "the five members");
}

/// Every command of a plan's text, each through the real shellcheck as the POSIX sh script
/// the operator (or the Ansible play's shell task) runs.
fn shellcheck_commands(plan: &str, dir: &Path) {
    require_tool("shellcheck");
    let commands: Vec<&str> = plan
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("$ "))
        .collect();
    assert!(!commands.is_empty(), "no command in:\n{plan}");
    for (i, cmd) in commands.iter().enumerate() {
        let script = dir.join(format!("command-{i}.sh"));
        std::fs::write(&script, format!("#!/bin/sh\n{cmd}\n")).unwrap();
        let o = run(std::process::Command::new("shellcheck")
            .args(["-s", "sh", "-S", "warning"])
            .arg(&script));
        assert!(o.status.success(), "shellcheck: {cmd}\n{}", text(&o.stdout));
    }
}

#[test]
fn a_ca_rotation_is_two_builds_and_two_plans_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let running = variant(tmp.path(), "external-etcd", 3);
    let live = tmp.path().join("live");
    let o = build(&running, &live, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let source = std::fs::read_to_string(&running).unwrap();
    let rotated_text = source.replace(
        r#"pki.algorithm = "ecdsa-p256";"#,
        r#"pki.algorithm = "ecdsa-p256"; pki.caRotation = 1;"#,
    );
    assert_ne!(
        rotated_text, source,
        "the example changed: update this test"
    );
    let rotated = tmp.path().join("external-etcd-rotated.ha");
    std::fs::write(&rotated, rotated_text).unwrap();
    std::fs::copy(
        tmp.path().join("external-etcd.secrets"),
        tmp.path().join("external-etcd-rotated.secrets"),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tmp.path().join("external-etcd-rotated.secrets"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let count = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count()
    };
    let ca = "hosts/master-0/etc/kubernetes/pki/ca.crt";

    // 1. Built from the running bundle: trust files hold the new and the old CA.
    let next = tmp.path().join("next");
    let o = build(&rotated, &next, &["--from", &live.display().to_string()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        ca,
        "hosts/etcd-0/etc/kubernetes/pki/etcd/ca.crt",
        "hosts/worker-0/etc/hac/kubernetes-ca.crt",
        "hosts/lb-0/etc/kubernetes/pki/ca.crt",
    ] {
        assert_eq!(count(&next.join(f)), 2, "{f}");
    }
    let state = std::fs::read_to_string(next.join("state.json")).unwrap();
    assert_eq!(state.matches("\"alsoTrusted\"").count(), 3, "{state}");
    // `hac plan --play`: the plan's text, the play written beside it.
    let plan_and_play = |from: &Path, play: &Path| -> String {
        let o = run(hac()
            .arg("plan")
            .arg(&rotated)
            .arg("--from")
            .arg(from)
            .arg("--play")
            .arg(play)
            .arg("-q"));
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let play = tmp.path().join("rotate.yml");
    let rotation = plan_and_play(&live, &play);
    assert!(
        rotation.contains("trust the new CAs beside the old ones"),
        "{rotation}"
    );
    assert!(
        rotation.contains("roll out the certificates of the new CAs"),
        "{rotation}"
    );
    shellcheck_commands(&rotation, tmp.path());
    // The play copies the archive for the trust files set aside, and removes it.
    let plays: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&play).unwrap()).expect("YAML play");
    let first = plays[0]["tasks"].as_sequence().unwrap();
    assert!(first[0]["ansible.builtin.copy"]["src"]
        .as_str()
        .is_some_and(|s| s.ends_with("/hosts/etcd-0.tar.gz")));
    assert!(first[1]["ansible.builtin.shell"]
        .as_str()
        .is_some_and(|s| s.contains("-C /etc/hac/ca-rotation")
            && s.contains("tar -xzf /root/.hac-plan-etcd-0.tar.gz")
            && s.ends_with("&& rm -f /root/.hac-plan-etcd-0.tar.gz")));
    let syntax = |play: &Path, inventories: [&Path; 2]| {
        let o = run(std::process::Command::new("ansible-playbook")
            .arg("--syntax-check")
            .arg("-i")
            .arg(inventories[0].join("ansible/inventory.yml"))
            .arg("-i")
            .arg(inventories[1].join("ansible/inventory.yml"))
            .arg(play)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-tmp"))
            .env("HOME", tmp.path()));
        assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    };
    require_tool("ansible-playbook");
    syntax(&play, [&live, &next]);

    // 2. Built again from that bundle, nothing changed: the old CA dropped.
    let last = tmp.path().join("last");
    let o = build(&rotated, &last, &["--from", &next.display().to_string()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count(&last.join(ca)), 1);
    let play = tmp.path().join("drop.yml");
    let finish = plan_and_play(&next, &play);
    assert!(
        finish.contains("client certificate of the new cluster CA"),
        "{finish}"
    );
    assert!(finish.contains("stop trusting the old CAs"), "{finish}");
    shellcheck_commands(&finish, tmp.path());
    syntax(&play, [&next, &last]);
    // 3. Then nothing is left to do.
    let o = run(hac()
        .arg("plan")
        .arg(&rotated)
        .arg("--from")
        .arg(&last)
        .arg("-q"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("nothing to do"),
        "{}",
        text(&o.stdout)
    );
}
