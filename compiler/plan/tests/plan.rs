//! `state.json` and `hac plan` on the model's sample clusters, with real certificates issued
//! from a public test-only secrets file: snapshots of the plan for each kind of change, the
//! availability invariant, and every refusal.

use hac_model::samples::*;
use hac_model::*;
use hac_plan::{plan, plan::plan_with_failed, State};
use std::collections::BTreeSet;

const SECRETS: &str = include_str!("../../../out-examples/stacked-3/stacked-3.secrets");

fn state(cluster: &Cluster) -> State {
    let secrets = hac_pki::Secrets::parse(SECRETS).expect("test secrets");
    let pki = hac_pki::issue(cluster, &secrets).expect("pki");
    let bundle = hac_render::render(cluster, &pki, &secrets.render_secrets(), "r\n", "<svg/>\n")
        .expect("render");
    State::of(cluster, &bundle, &secrets.render_secrets()).expect("state")
}

fn node(name: &str, roles: &[Role], last: u8) -> Node {
    let mut n = stacked_3().nodes[0].clone();
    n.name = name.to_string();
    n.roles = roles.to_vec();
    n.address = std::net::Ipv4Addr::new(10, 0, 2, last);
    n
}

fn with(mut c: Cluster, extra: &[Node]) -> Cluster {
    c.nodes.extend(extra.iter().cloned());
    c.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

fn without(mut c: Cluster, names: &[&str]) -> Cluster {
    c.nodes.retain(|n| !names.contains(&n.name.as_str()));
    c
}

fn external_5() -> Cluster {
    with(
        external_etcd(),
        &[
            node("etcd-3", &[Role::Etcd], 33),
            node("etcd-4", &[Role::Etcd], 34),
        ],
    )
}

fn planned(a: &Cluster, b: &Cluster) -> hac_plan::Plan {
    plan(&state(a), &state(b)).unwrap_or_else(|d| panic!("refused: {d:?}"))
}

fn refused(a: &Cluster, b: &Cluster) -> Vec<String> {
    match plan(&state(a), &state(b)) {
        Ok(p) => panic!("not refused:\n{}", p.to_text()),
        Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
    }
}

/// Refused, each diagnostic E0908 (a change of the endpoint may be refused for more than one
/// reason).
fn assert_only_e0908(codes: &[String]) {
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "E0908"),
        "{codes:?}"
    );
}

/// Never below the start's tolerance, except where the end itself tolerates less.
fn assert_tolerance_kept(p: &hac_plan::Plan, end_tolerates: usize) {
    let floor = p.before.failures_tolerated.min(end_tolerates);
    for s in &p.steps {
        assert!(
            s.after.failures_tolerated >= floor,
            "step `{}` on {} leaves {} tolerated (floor {floor})\n{}",
            s.action,
            s.host,
            s.after.failures_tolerated,
            p.to_text()
        );
    }
}

#[test]
fn the_state_is_deterministic_documented_and_reads_back() {
    let s = state(&stacked_3());
    let json = s.to_json();
    assert_eq!(
        json,
        state(&stacked_3()).to_json(),
        "same model, same bytes"
    );
    assert_eq!(State::parse(json.as_bytes()).expect("reads back"), s);
    // Every certificate once, with its serial, validity and files; no key material.
    assert!(!json.contains("PRIVATE KEY") && !json.contains(".0123"));
    assert!(s
        .certificates
        .iter()
        .all(|c| !c.serial.is_empty() && !c.files.is_empty()));
    let ca = s
        .certificates
        .iter()
        .find(|c| c.subject == "CN=kubernetes" && c.issuer == c.subject)
        .expect("cluster CA");
    assert_eq!(
        ca.files.len(),
        5,
        "one entry for the CA on the three masters and the two workers: {:?}",
        ca.files
    );
    let secrets = hac_pki::Secrets::parse(SECRETS).expect("test secrets");
    let pki = hac_pki::issue(&stacked_3(), &secrets).expect("pki");
    assert_eq!(
        ca.public_key, pki.ca_cert_hash,
        "the CA's key as kubeadm pins it (caCertHashes)"
    );
    assert_eq!(s.bootstrap_token.ttl, "24h0m0s");
    // Every field is documented in docs/state.md.
    let doc = include_str!("../../../docs/state.md");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    for (k, v) in value.as_object().expect("object") {
        assert!(doc.contains(&format!("`{k}")), "docs/state.md lacks `{k}`");
        if let Some(o) = v.as_object() {
            for k2 in o.keys() {
                assert!(doc.contains(k2.as_str()), "docs/state.md lacks {k}.{k2}");
            }
        }
    }
    insta::assert_snapshot!("state_stacked_3", json);
}

#[test]
fn another_format_is_refused() {
    let json = state(&stacked_3())
        .to_json()
        .replace("hac-state/1", "hac-state/9");
    let e = State::parse(json.as_bytes()).expect_err("other format");
    assert!(e.contains("hac-state/9"), "{e}");
    assert!(State::parse(b"{}").is_err());
}

#[test]
fn the_token_ttl_reaches_kubeadm_and_the_state() {
    let mut c = stacked_3();
    c.pki.bootstrap_token_ttl_hours = 2;
    assert_eq!(state(&c).bootstrap_token.ttl, "2h0m0s");
    let secrets = hac_pki::Secrets::parse(SECRETS).expect("test secrets");
    let pki = hac_pki::issue(&c, &secrets).expect("pki");
    let master = c.node("master-0").expect("master-0").clone();
    let init = hac_render::kubeadm_config(&c, &master, &pki, &secrets.render_secrets())
        .expect("config")
        .expect("a kubeadm config");
    assert!(init.contains("ttl: \"2h0m0s\""), "{init}");
    c.pki.bootstrap_token_ttl_hours = 0;
    let s = state(&c);
    assert_eq!(
        (
            s.bootstrap_token.ttl.as_str(),
            s.bootstrap_token.expires.as_str()
        ),
        ("0s", "never")
    );
}

#[test]
fn no_change_is_an_empty_plan() {
    let p = planned(&external_etcd(), &external_etcd());
    assert!(p.is_empty());
    assert_eq!(
        p.to_text(),
        "No change to the live cluster \"prod\": nothing to do.\n"
    );
}

#[test]
fn external_etcd_grows_3_to_5_one_learner_at_a_time() {
    let p = planned(&external_etcd(), &external_5());
    assert_tolerance_kept(&p, 2);
    let last = p.steps.last().expect("steps");
    assert_eq!(last.after.etcd_members, 5);
    assert_eq!(last.after.failures_tolerated, 2);
    insta::assert_snapshot!("plan_etcd_3_to_5", p.to_text());
    insta::assert_snapshot!("plan_etcd_3_to_5_json", p.to_json());
    insta::assert_json_snapshot!("play_etcd_3_to_5", p.ansible_play());
}

#[test]
fn external_etcd_shrinks_5_to_3_one_removal_at_a_time() {
    let p = planned(&external_5(), &external_etcd());
    assert_tolerance_kept(&p, 1);
    let members: Vec<usize> = p.steps.iter().map(|s| s.after.etcd_members).collect();
    assert!(
        members.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1),
        "{members:?}"
    );
    insta::assert_snapshot!("plan_etcd_5_to_3", p.to_text());
}

#[test]
fn a_replaced_member_is_added_before_the_old_one_is_removed() {
    let next = with(
        without(external_etcd(), &["etcd-1"]),
        &[node("etcd-9", &[Role::Etcd], 39)],
    );
    let p = planned(&external_etcd(), &next);
    assert_tolerance_kept(&p, 1);
    let add = p
        .steps
        .iter()
        .position(|s| s.host == "etcd-9")
        .expect("add");
    let remove = p
        .steps
        .iter()
        .position(|s| s.host == "etcd-1")
        .expect("remove");
    assert!(add < remove, "{}", p.to_text());
    insta::assert_snapshot!("plan_etcd_replace", p.to_text());
}

#[test]
fn workers_join_and_leave() {
    let next = with(
        without(stacked_3(), &["worker-1"]),
        &[node("worker-2", &[Role::Worker], 22)],
    );
    let p = planned(&stacked_3(), &next);
    insta::assert_snapshot!("plan_workers", p.to_text());
}

#[test]
fn stacked_control_planes_grow_then_the_load_balancers_follow() {
    let next = with(
        stacked_3_dedicated_lb(),
        &[
            node("master-3", &[Role::ControlPlane], 13),
            node("master-4", &[Role::ControlPlane], 14),
        ],
    );
    let p = planned(&stacked_3_dedicated_lb(), &next);
    assert_tolerance_kept(&p, 2);
    let lb = p
        .steps
        .iter()
        .position(|s| s.host.starts_with("lb-"))
        .expect("lb");
    let join = p
        .steps
        .iter()
        .rposition(|s| s.host == "master-4")
        .expect("join");
    assert!(join < lb, "backends updated after the joins");
    assert_eq!(
        p.steps
            .last()
            .map(|s| s.after.apiservers_behind_load_balancer),
        Some(5)
    );
    insta::assert_snapshot!("plan_stacked_3_to_5", p.to_text());
    // And back: the load balancers stop sending to master-4 before it is reset.
    let back = planned(
        &next,
        &with(
            stacked_3_dedicated_lb(),
            &[node("master-3", &[Role::ControlPlane], 13)],
        ),
    );
    let lb = back
        .steps
        .iter()
        .position(|s| s.host.starts_with("lb-"))
        .expect("lb");
    let reset = back
        .steps
        .iter()
        .position(|s| s.host == "master-4")
        .expect("reset");
    assert!(lb < reset, "{}", back.to_text());
    // kubeadm reset only warns when it cannot remove the member: the step makes sure, and
    // its gate is etcd's health.
    let removal = &back.steps[reset];
    assert!(
        removal.commands.iter().any(|c| c.contains("member remove")),
        "{}",
        back.to_text()
    );
    assert!(removal
        .commands
        .last()
        .is_some_and(|c| c.contains("endpoint health --cluster")));
    insta::assert_snapshot!("plan_stacked_5_to_4", back.to_text());
}

#[test]
fn kubernetes_upgrades_one_minor_with_the_config_move() {
    let mut next = stacked_3();
    next.kubernetes_version = Version::new(1, 31, 4);
    let p = planned(&stacked_3(), &next);
    assert!(p.steps[0]
        .commands
        .iter()
        .any(|c| c.contains("kubeadm upgrade apply v1.31.4")));
    assert!(p.notes.iter().any(|n| n.contains("v1beta4")));
    // Only control planes have admin.conf: a worker's drain runs on the first one.
    let w = p
        .steps
        .iter()
        .find(|s| s.host == "worker-0")
        .expect("worker-0");
    assert!(
        w.commands[0].ends_with("   # on master-0"),
        "{:?}",
        w.commands
    );
    assert!(w
        .commands
        .last()
        .unwrap()
        .contains("wait --for=condition=Ready"));
    insta::assert_snapshot!("plan_upgrade_1_30_to_1_31", p.to_text());

    // keepalived alone: each control plane hands the VIP to a peer while kubeadm upgrades it.
    let mut next = masters_run_etcd();
    next.kubernetes_version = Version::new(1, 31, 4);
    let p = planned(&masters_run_etcd(), &next);
    let upgrades: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.action.starts_with("upgrade the control plane"))
        .collect();
    assert_eq!(upgrades.len(), 3, "{}", p.to_text());
    for s in upgrades {
        assert!(
            s.commands[0].starts_with("systemctl stop keepalived"),
            "{}",
            p.to_text()
        );
        assert!(
            s.commands.iter().any(|c| c == "systemctl start keepalived"),
            "{}",
            p.to_text()
        );
    }
}

#[test]
fn renewed_leaves_roll_host_by_host() {
    let mut next = external_etcd();
    next.pki.rotation = 1;
    let p = planned(&external_etcd(), &next);
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["etcd-0", "etcd-1", "etcd-2", "master-0", "master-1", "master-2"],
        "{}",
        p.to_text()
    );
    assert!(p.steps.iter().all(|s| s.after.failures_tolerated == 1));
    insta::assert_snapshot!("plan_leaf_renewal", p.to_text());

    // Control planes that also run an external etcd member restart it too.
    let mut next = masters_run_etcd();
    next.pki.rotation = 1;
    let p = planned(&masters_run_etcd(), &next);
    let masters: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.host.starts_with("master-"))
        .collect();
    assert_eq!(masters.len(), 3, "{}", p.to_text());
    for s in masters {
        assert!(
            s.commands.iter().any(|c| c == "systemctl restart etcd"),
            "{}",
            p.to_text()
        );
        // keepalived alone: each holder hands the VIP to a peer while its apiserver
        // restarts, and holds it again once that serves.
        let at = |what: &str| s.commands.iter().position(|c| c.starts_with(what));
        let (stop, restart, start) = (
            at("systemctl stop keepalived").expect("keepalived stopped"),
            at("for m in kube-apiserver").expect("static pods restarted"),
            at("systemctl start keepalived").expect("keepalived started"),
        );
        assert!(stop < restart && restart < start, "{}", p.to_text());
    }
    insta::assert_snapshot!("plan_leaf_renewal_keepalived", p.to_text());
}

#[test]
fn a_moved_leaf_epoch_renews_the_leaves_under_the_same_cas() {
    let mut next = external_etcd();
    next.pki.leaf_epoch = Some(Epoch {
        unix: next.epoch.unix + 300 * 86_400,
    });
    let (a, b) = (state(&external_etcd()), state(&next));
    let cas = |s: &State| -> Vec<String> {
        s.certificates
            .iter()
            .filter(|c| c.subject == c.issuer)
            .map(|c| format!("{} {} {}", c.serial, c.not_before, c.not_after))
            .collect()
    };
    assert_eq!(cas(&a), cas(&b), "the CAs are untouched");
    let leaf = |s: &State| {
        s.certificates
            .iter()
            .find(|c| {
                c.files
                    .iter()
                    .any(|f| f == "master-0:etc/kubernetes/pki/apiserver.crt")
            })
            .map(|c| (c.serial.clone(), c.not_before.clone(), c.not_after.clone()))
            .expect("apiserver.crt")
    };
    assert_ne!(leaf(&a).0, leaf(&b).0, "a new serial");
    assert_eq!(leaf(&b).1, "2026-10-28T00:00:00Z");
    assert_eq!(leaf(&b).2, "2027-10-28T00:00:00Z");
    let p = plan(&a, &b).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(p.steps.len(), 6, "{}", p.to_text());
    assert!(p
        .steps
        .iter()
        .all(|s| s.action.starts_with("roll out renewed certificates")));
}

#[test]
fn a_ca_renewed_under_the_same_key_rolls_out_and_reaches_every_kubelet() {
    let mut next = stacked_3_dedicated_lb();
    next.epoch.unix += 86_400;
    next.pki.ca_validity_days += 1;
    let (a, b) = (state(&stacked_3_dedicated_lb()), state(&next));
    let cas = |s: &State| -> Vec<(String, String, String)> {
        s.certificates
            .iter()
            .filter(|c| c.subject == c.issuer)
            .map(|c| (c.subject.clone(), c.public_key.clone(), c.serial.clone()))
            .collect()
    };
    let (old, new) = (cas(&a), cas(&b));
    assert_eq!(old.len(), 3, "{old:?}");
    for ((s0, k0, n0), (s1, k1, n1)) in old.iter().zip(&new) {
        assert_eq!((s0, k0), (s1, k1), "same subject and key");
        assert!(k0.starts_with("sha256:") && k0.len() == 71, "{k0}");
        assert_ne!(n0, n1, "{s0}: a new certificate");
    }
    let p = plan(&a, &b).unwrap_or_else(|d| panic!("{d:?}"));
    let text = p.to_text();
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["lb-0", "lb-1", "master-0", "master-1", "master-2", "worker-0", "worker-1", "master-0"],
        "every host, then cluster-info:\n{text}"
    );
    for s in &p.steps[2..5] {
        assert!(
            s.commands
                .iter()
                .any(|c| c.contains("/etc/kubernetes/kubelet.conf")),
            "{text}"
        );
    }
    for s in &p.steps[5..7] {
        assert!(
            s.commands[1].starts_with(
                "install -m 0644 /etc/hac/kubernetes-ca.crt /etc/kubernetes/pki/ca.crt && "
            ) && s.commands[2].contains("wait --for=condition=Ready"),
            "{text}"
        );
    }
    assert!(
        p.steps[7].commands[0].contains("configmap cluster-info"),
        "{text}"
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("renewed under the same key")),
        "{text}"
    );
    assert!(p.steps.iter().all(|s| s.after.failures_tolerated == 1));
    insta::assert_snapshot!("plan_ca_renewal", text);

    // A previous state.json without the CAs' keys (an older hac): no CA change plans as
    // before; a CA change cannot be told from a new key.
    let mut older = a.clone();
    for c in &mut older.certificates {
        c.public_key.clear();
    }
    let unchanged = state(&stacked_3_dedicated_lb());
    assert!(plan(&older, &unchanged)
        .unwrap_or_else(|d| panic!("{d:?}"))
        .is_empty());
    let codes: Vec<String> = match plan(&older, &b) {
        Ok(p) => panic!("not refused:\n{}", p.to_text()),
        Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
    };
    assert_eq!(codes, ["E0909"]);
}

#[test]
fn unsafe_changes_are_refused_with_a_code() {
    // 3 → 1 etcd members.
    let one = without(external_etcd(), &["etcd-1", "etcd-2"]);
    assert!(refused(&external_etcd(), &one).contains(&"E0903".to_string()));
    // Skipping a minor, and going back.
    let mut skip = stacked_3();
    skip.kubernetes_version = Version::new(1, 32, 0);
    assert_eq!(refused(&stacked_3(), &skip), ["E0905"]);
    let mut down = stacked_3();
    down.kubernetes_version = Version::new(1, 29, 9);
    assert_eq!(refused(&stacked_3(), &down), ["E0906"]);
    // An upgrade in the same build as a worker joining (its kubelet would be newer than
    // the apiservers it joins) or an etcd member added.
    let mut grown = with(stacked_3(), &[node("worker-9", &[Role::Worker], 90)]);
    grown.kubernetes_version = Version::new(1, 31, 0);
    assert_eq!(refused(&stacked_3(), &grown), ["E0913"]);
    let mut five = external_5();
    five.kubernetes_version = Version::new(1, 31, 0);
    assert_eq!(refused(&external_etcd(), &five), ["E0913"]);
    // Every running control plane replaced at once.
    let mut moved = stacked_3();
    for (i, n) in moved
        .nodes
        .iter_mut()
        .filter(|n| n.has(Role::ControlPlane))
        .enumerate()
    {
        n.name = format!("cp-{i}");
    }
    moved.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(refused(&stacked_3(), &moved).contains(&"E0907".to_string()));
    // The endpoint moves.
    let mut vip = stacked_3();
    vip.control_plane.vip = Some(std::net::Ipv4Addr::new(10, 0, 2, 200));
    assert_only_e0908(&refused(&stacked_3(), &vip));
    // The topology changes.
    let ext = external_etcd();
    assert!(refused(&stacked_3(), &ext).contains(&"E0902".to_string()));
    // A member moves to another address.
    let mut addr = external_etcd();
    addr.nodes
        .iter_mut()
        .find(|n| n.name == "etcd-2")
        .expect("etcd-2")
        .address = std::net::Ipv4Addr::new(10, 0, 2, 99);
    assert!(refused(&external_etcd(), &addr).contains(&"E0904".to_string()));
    // Another key algorithm gives the CAs new keys.
    let mut algorithm = stacked_3();
    algorithm.pki.algorithm = KeyAlgorithm::EcdsaP384;
    assert_eq!(refused(&stacked_3(), &algorithm), ["E0909"]);
    // A worker becomes a control plane under the same name.
    let mut promoted = stacked_3_dedicated_lb();
    promoted
        .nodes
        .iter_mut()
        .find(|n| n.name == "worker-0")
        .expect("worker-0")
        .roles = vec![Role::ControlPlane];
    assert!(refused(&stacked_3_dedicated_lb(), &promoted).contains(&"E0914".to_string()));
    // Another cluster.
    let mut other = stacked_3();
    other.name = "other".into();
    assert_eq!(refused(&stacked_3(), &other), ["E0901"]);
}

#[test]
fn every_plan_code_is_explained() {
    for code in hac_plan::codes::PlanCode::ALL.iter().map(|k| k.code()) {
        assert!(
            hac_check::explain(code).is_some(),
            "{code} has no explanation"
        );
    }
}

#[test]
fn new_external_members_start_as_existing_with_the_members_they_find() {
    let mut c = external_5();
    c.etcd.existing_members = Some(state(&external_etcd()).etcd_members());
    let flags = |c: &Cluster, name: &str| {
        let n = c.node(name).expect("node").clone();
        hac_render::templates::etcd_flags(c, &n, c.etcd.version)
    };
    let unit = |name: &str| flags(&c, name);
    assert!(unit("etcd-0").contains(&"--initial-cluster-state=new".to_string()));
    let three = unit("etcd-3");
    assert!(three.contains(&"--initial-cluster-state=existing".to_string()));
    let list = three
        .iter()
        .find(|f| f.starts_with("--initial-cluster="))
        .expect("list");
    assert!(
        list.contains("etcd-3=") && !list.contains("etcd-4="),
        "{list}"
    );
    let four = unit("etcd-4");
    let list = four
        .iter()
        .find(|f| f.starts_with("--initial-cluster="))
        .expect("list");
    assert!(
        list.contains("etcd-3=") && list.contains("etcd-4="),
        "{list}"
    );
    // A fresh build (no previous state) is `new` everywhere.
    c.etcd.existing_members = None;
    assert!(flags(&c, "etcd-4").contains(&"--initial-cluster-state=new".to_string()));
}

fn failed(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(std::string::ToString::to_string).collect()
}

fn planned_failed(a: &Cluster, b: &Cluster, down: &[&str]) -> hac_plan::Plan {
    plan_with_failed(&state(a), &state(b), &failed(down))
        .unwrap_or_else(|d| panic!("refused: {d:?}"))
}

#[test]
fn a_failed_external_member_is_removed_first_and_joins_again_empty() {
    let c = external_etcd();
    let p = planned_failed(&c, &c, &["etcd-1"]);
    assert_eq!(p.before.etcd_members_down, 1);
    assert_eq!(p.before.failures_tolerated, 0);
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(hosts, ["etcd-0", "etcd-1"], "{}", p.to_text());
    assert!(p.steps[0].commands[0].contains("member remove"));
    assert!(p.steps[1]
        .commands
        .iter()
        .any(|c| c.starts_with("systemctl stop etcd 2>/dev/null; rm -rf /var/lib/etcd")));
    let last = p.steps.last().expect("steps");
    assert_eq!(last.after.failures_tolerated, 1);
    assert_eq!(last.after.etcd_members_down, 0);
    insta::assert_snapshot!("plan_etcd_failed_member", p.to_text());
    insta::assert_snapshot!("plan_etcd_failed_member_json", p.to_json());
}

#[test]
fn a_failed_member_replaced_by_another_is_removed_before_the_new_one_is_added() {
    let next = with(
        without(external_etcd(), &["etcd-1"]),
        &[node("etcd-9", &[Role::Etcd], 39)],
    );
    let p = planned_failed(&external_etcd(), &next, &["etcd-1"]);
    let remove = p
        .steps
        .iter()
        .position(|s| s.action.contains("failed node etcd-1"))
        .expect("remove");
    let add = p
        .steps
        .iter()
        .position(|s| s.host == "etcd-9")
        .expect("add");
    assert!(remove < add, "{}", p.to_text());
    // The dead host runs nothing.
    assert!(
        !p.steps.iter().any(|s| s.host == "etcd-1"),
        "{}",
        p.to_text()
    );
    insta::assert_snapshot!("plan_etcd_failed_replaced", p.to_text());
}

#[test]
fn a_failed_stacked_control_plane_is_forgotten_then_joins_again() {
    let c = stacked_3();
    let p = planned_failed(&c, &c, &["master-2"]);
    assert_eq!(p.before.etcd_members_down, 1);
    assert_eq!(p.before.apiservers_behind_load_balancer, 2);
    let first = &p.steps[0];
    assert_eq!(first.host, "master-0");
    assert!(
        first.commands[0].contains("delete node master-2"),
        "{}",
        p.to_text()
    );
    assert!(first.commands[1].contains("exec etcd-master-0 -- etcdctl"));
    assert!(p
        .steps
        .iter()
        .any(|s| s.host == "master-2" && s.action.starts_with("join control plane")));
    let last = p.steps.last().expect("steps");
    assert_eq!(last.after.etcd_members, 3);
    assert_eq!(last.after.apiservers_behind_load_balancer, 3);
    insta::assert_snapshot!("plan_stacked_failed_control_plane", p.to_text());
}

#[test]
fn a_failed_worker_is_deleted_and_joins_again() {
    let c = stacked_3();
    let p = planned_failed(&c, &c, &["worker-1"]);
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["master-0", "master-0", "worker-1"],
        "{}",
        p.to_text()
    );
    insta::assert_snapshot!("plan_failed_worker", p.to_text());
}

#[test]
fn failed_nodes_that_are_unknown_or_a_majority_are_refused() {
    let c = external_etcd();
    let codes = |down: &[&str]| -> Vec<String> {
        match plan_with_failed(&state(&c), &state(&c), &failed(down)) {
            Ok(p) => panic!("not refused:\n{}", p.to_text()),
            Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
        }
    };
    assert_eq!(codes(&["etcd-7"]), ["E0911"]);
    assert_eq!(codes(&["etcd-0", "etcd-1"]), ["E0912"]);
    // One failed member of three: removing it leaves two, which the build must keep.
    let two = without(c.clone(), &["etcd-2"]);
    assert!(
        plan_with_failed(&state(&c), &state(&two), &failed(&["etcd-2"]))
            .is_err_and(|d| d.iter().any(|d| d.code.as_deref() == Some("E0903")))
    );
}

#[test]
fn a_new_endpoint_name_is_published_then_every_kubelet_moves() {
    // Before: the endpoint is k8s.old.example, and the new name is already a SAN (a
    // previous build added it to certSANs and rolled it out); after, the old name stays a
    // SAN until no client uses it.
    let mut a = stacked_3();
    a.control_plane.endpoint = Some("k8s.old.example".into());
    a.control_plane.cert_sans = vec!["api.prod.example".into()];
    let mut b = stacked_3();
    b.control_plane.endpoint = Some("api.prod.example".into());
    b.control_plane.cert_sans = vec!["k8s.old.example".into()];
    let p = planned(&a, &b);
    assert_tolerance_kept(&p, 1);
    let first = &p.steps[0];
    assert!(first
        .action
        .starts_with("serve and publish the new endpoint"));
    assert!(first.commands[0].starts_with("curl -fks --max-time 5 https://api.prod.example:"));
    assert!(first
        .commands
        .iter()
        .any(|c| c.contains("upload-config kubeadm")));
    // Every other kubelet moves, one node at a time.
    let moved: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.action.contains("'s kubelet to"))
        .map(|s| s.host.as_str())
        .collect();
    assert_eq!(moved, ["master-1", "master-2", "worker-0", "worker-1"]);
    insta::assert_snapshot!("plan_endpoint_renamed", p.to_text());

    // The new name must be served first, and the old one kept while clients use it.
    let mut unserved = a.clone();
    unserved.control_plane.cert_sans.clear();
    assert_eq!(refused(&unserved, &b), ["E0908"]);
    let mut dropped = b.clone();
    dropped.control_plane.cert_sans.clear();
    assert_eq!(refused(&a, &dropped), ["E0908"]);
}

/// The build between two VIPs, as `hac build --from` makes it: `b` with the running
/// cluster's VIP held beside its own.
fn between(a: &Cluster, b: &Cluster) -> Cluster {
    let mut c = b.clone();
    c.control_plane.previous_vip = state(a).previous_vip_for(b);
    c
}

#[test]
fn a_new_vip_is_held_beside_the_old_then_the_old_is_released() {
    // Before: VIP .100 (router 51), the new address already a SAN (a previous build added it
    // to certSANs and rolled it out).
    let mut a = stacked_3();
    a.control_plane.cert_sans = vec!["10.0.2.200".into()];
    let mut b = stacked_3();
    b.control_plane.vip = Some(std::net::Ipv4Addr::new(10, 0, 2, 200));
    b.control_plane.keepalived.router_id = 52;
    let mid = between(&a, &b);
    assert_eq!(
        mid.control_plane.previous_vip,
        Some(PreviousVip {
            address: std::net::Ipv4Addr::new(10, 0, 2, 100),
            router_id: 51
        })
    );
    let p = planned(&a, &mid);
    assert_tolerance_kept(&p, 1);
    let held: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.action.starts_with("hold the new VIP"))
        .map(|s| s.host.as_str())
        .collect();
    assert_eq!(
        held,
        ["master-1", "master-2", "master-0"],
        "the MASTER last"
    );
    // Then the endpoint (the VIP) moves: cluster-info, kube-proxy, every kubelet.
    let publish = p
        .steps
        .iter()
        .position(|s| {
            s.action
                .starts_with("serve and publish the new endpoint 10.0.2.200:8443")
        })
        .expect("the endpoint moves");
    assert!(publish >= held.len());
    insta::assert_snapshot!("plan_vip_moved", p.to_text());

    // The next build with the same VIP releases the old one, holder by holder.
    let p = planned(&mid, &b);
    let released: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.action.starts_with("release the previous VIP 10.0.2.100"))
        .map(|s| s.host.as_str())
        .collect();
    assert_eq!(released, ["master-1", "master-2", "master-0"]);
    insta::assert_snapshot!("plan_previous_vip_released", p.to_text());

    // Refused: the same router id, a move before the last one finished, a build that does not
    // hold the old VIP, a VIP kube-vip holds.
    let mut same_id = b.clone();
    same_id.control_plane.keepalived.router_id = 51;
    assert_eq!(refused(&a, &between(&a, &same_id)), ["E0908"]);
    let mut again = b.clone();
    again.control_plane.vip = Some(std::net::Ipv4Addr::new(10, 0, 2, 201));
    again.control_plane.keepalived.router_id = 53;
    again.control_plane.cert_sans = vec!["10.0.2.201".into()];
    assert!(refused(&mid, &between(&mid, &again)).contains(&"E0908".to_string()));
    assert_only_e0908(&refused(&a, &b));
    let mut kv = stacked_3();
    kv.control_plane.load_balancer.kind = LoadBalancerKind::KubeVip;
    kv.control_plane.port = 6443;
    kv.control_plane.cert_sans = vec!["10.0.2.200".into()];
    let mut kv2 = kv.clone();
    kv2.control_plane.vip = Some(std::net::Ipv4Addr::new(10, 0, 2, 200));
    assert_only_e0908(&refused(&kv, &between(&kv, &kv2)));
}

#[test]
fn haproxy_is_replaced_by_nginx_one_load_balancer_at_a_time() {
    let a = stacked_3_dedicated_lb();
    let mut b = stacked_3_dedicated_lb();
    b.control_plane.load_balancer.kind = LoadBalancerKind::Nginx;
    let p = planned(&a, &b);
    assert_tolerance_kept(&p, 1);
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["lb-1", "lb-0"],
        "the VIP's MASTER last\n{}",
        p.to_text()
    );
    assert!(p.steps[0]
        .commands
        .iter()
        .any(|c| c == "systemctl disable --now haproxy && systemctl enable --now nginx"));
    insta::assert_snapshot!("plan_haproxy_to_nginx", p.to_text());
    // And back.
    assert_eq!(planned(&b, &a).steps.len(), 2);
    // Refused: another kind (keepalived alone moves the port's owner), or the switch together
    // with a new VIP.
    let mut ka = stacked_3_dedicated_lb();
    ka.control_plane.load_balancer.kind = LoadBalancerKind::Keepalived;
    assert_only_e0908(&refused(&a, &ka));
    let mut both = b.clone();
    both.control_plane.vip = Some(std::net::Ipv4Addr::new(10, 0, 2, 200));
    both.control_plane.keepalived.router_id = 52;
    both.control_plane.cert_sans = vec!["10.0.2.200".into()];
    assert_only_e0908(&refused(&a, &between(&a, &both)));
}

/// The build between two endpoint ports, as `hac build --from` makes it.
fn between_ports(a: &Cluster, b: &Cluster) -> Cluster {
    let mut c = b.clone();
    c.control_plane.previous_port = state(a).previous_port_for(b);
    c
}

#[test]
fn a_new_port_is_served_beside_the_old_then_the_old_is_closed() {
    let a = stacked_3_dedicated_lb();
    let mut b = stacked_3_dedicated_lb();
    b.control_plane.port = 7443;
    let mid = between_ports(&a, &b);
    assert_eq!(mid.control_plane.previous_port, Some(6443));
    let p = planned(&a, &mid);
    assert_tolerance_kept(&p, 1);
    let served: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.action == "serve port 7443 beside 6443")
        .map(|s| s.host.as_str())
        .collect();
    assert_eq!(
        served,
        ["lb-1", "lb-0"],
        "the VIP's MASTER last\n{}",
        p.to_text()
    );
    assert!(p.steps.iter().any(|s| s
        .action
        .starts_with("serve and publish the new endpoint 10.0.2.100:7443")));
    insta::assert_snapshot!("plan_port_moved", p.to_text());
    let p = planned(&mid, &b);
    let closed: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.action == "stop serving the previous port 6443")
        .map(|s| s.host.as_str())
        .collect();
    assert_eq!(closed, ["lb-1", "lb-0"]);
    // Refused: without the build between, another kind, together with a new VIP.
    assert_only_e0908(&refused(&a, &b));
    let mut ka = stacked_3();
    ka.control_plane.load_balancer.kind = LoadBalancerKind::Keepalived;
    ka.control_plane.port = 6443;
    let mut ka2 = ka.clone();
    ka2.control_plane.port = 7443;
    ka2.control_plane.api_server_port = 7443;
    assert_only_e0908(&refused(&ka, &between_ports(&ka, &ka2)));
    let mut both = b.clone();
    both.control_plane.vip = Some(std::net::Ipv4Addr::new(10, 0, 2, 200));
    both.control_plane.keepalived.router_id = 52;
    assert_only_e0908(&refused(&a, &between(&a, &between_ports(&a, &both))));
}

/// The next build of `c` from `prev` (`hac build --from`): the running CAs trusted where the
/// build gives a CA a new key.
fn from(mut c: Cluster, prev: &State) -> Cluster {
    c.pki.previous_cas = prev.ca_certificates();
    c
}

#[test]
fn a_ca_rotated_to_a_new_key_is_trusted_everywhere_first_then_rolled_then_dropped() {
    let running = stacked_3_dedicated_lb();
    let a = state(&running);
    let mut rotated = running.clone();
    rotated.pki.ca_rotation = 1;
    let b = state(&from(rotated.clone(), &a));
    for (name, ca) in b.cas() {
        assert_eq!(
            ca.also_trusted.len(),
            1,
            "{name:?} trusts the old key beside it"
        );
        assert_eq!(ca.also_trusted[0], a.cas()[&name].public_key);
    }
    let p = plan(&a, &b).unwrap_or_else(|d| panic!("{d:?}"));
    let text = p.to_text();
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    let every = [
        "lb-0", "lb-1", "master-0", "master-1", "master-2", "worker-0", "worker-1",
    ];
    let expected: Vec<&str> = every
        .iter()
        .chain(every.iter())
        .copied()
        .chain(["master-0"])
        .collect();
    assert_eq!(
        hosts, expected,
        "trust everywhere, then roll, then cluster-info:\n{text}"
    );
    // Phase one keeps every host's certificates: no archive unpacked, only trust files.
    for s in &p.steps[..7] {
        assert!(
            s.action
                .starts_with("trust the new CAs beside the old ones"),
            "{text}"
        );
        assert!(
            s.commands
                .iter()
                .all(|c| !c.starts_with("tar --no-overwrite-dir")),
            "{text}"
        );
    }
    for s in &p.steps[2..5] {
        assert!(
            s.commands.iter().any(
                |c| c.contains("--cluster-signing-cert-file=/etc/kubernetes/pki/ca-signer.crt")
            ),
            "the controller-manager signs with one certificate:\n{text}"
        );
    }
    for s in &p.steps[7..14] {
        assert!(
            s.commands[0].starts_with("tar --no-overwrite-dir"),
            "{text}"
        );
    }
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("build again with `--from` this bundle")),
        "{text}"
    );
    assert!(p.steps.iter().all(|s| s.after.failures_tolerated == 1));
    insta::assert_snapshot!("plan_ca_rotation", text);
    the_build_after_a_rotation_drops_the_old_cas(&rotated, &b);
}

/// The build after a rotation (from its bundle, nothing else changed) drops the old CAs: the
/// kubelets' client certificates first, then the trust files.
fn the_build_after_a_rotation_drops_the_old_cas(rotated: &Cluster, b: &State) {
    let every = [
        "lb-0", "lb-1", "master-0", "master-1", "master-2", "worker-0", "worker-1",
    ];
    let c = state(&from(rotated.clone(), b));
    assert!(
        c.cas().values().all(|ca| ca.also_trusted.is_empty()),
        "the old CAs dropped"
    );
    let p = plan(b, &c).unwrap_or_else(|d| panic!("{d:?}"));
    let text = p.to_text();
    let hosts: Vec<&str> = p.steps.iter().map(|s| s.host.as_str()).collect();
    let kubelets = ["master-0", "master-1", "master-2", "worker-0", "worker-1"];
    let expected: Vec<&str> = ["master-0"]
        .iter()
        .chain(kubelets.iter())
        .chain(every.iter())
        .copied()
        .chain(["master-0"])
        .collect();
    assert_eq!(
        hosts, expected,
        "token, kubelets, trust files, cluster-info:\n{text}"
    );
    assert!(
        p.steps[0].commands[0].contains("kubeadm token create"),
        "{text}"
    );
    // The token's secret half (of the secrets file) is read on the host, never printed.
    let id = format!("{}.", c.bootstrap_token.id);
    let at = SECRETS.find(&id).expect("the token in the secrets file") + id.len();
    let secret_half = &SECRETS[at..at + 16];
    assert!(
        !text.contains(secret_half),
        "no secret in the plan:\n{text}"
    );
    for s in &p.steps[1..6] {
        assert!(
            s.commands
                .iter()
                .any(|c| c.contains("bootstrap-kubelet.conf")),
            "{text}"
        );
    }
    insta::assert_snapshot!("plan_ca_rotation_drop", text);
    // And then nothing is left to do.
    let d = state(&from(rotated.clone(), &c));
    assert!(plan(&c, &d).unwrap_or_else(|e| panic!("{e:?}")).is_empty());
}

#[test]
fn a_ca_rotation_that_cannot_be_planned_is_refused() {
    let running = stacked_3();
    let a = state(&running);
    let mut rotated = running.clone();
    rotated.pki.ca_rotation = 1;
    // Built without `--from`: the new bundle does not trust the running CAs.
    assert_eq!(refused(&running, &rotated), ["E0909"]);
    // With another change in the same build.
    let grown = from(
        with(rotated.clone(), &[node("worker-9", &[Role::Worker], 90)]),
        &a,
    );
    let codes: Vec<String> = match plan(&a, &state(&grown)) {
        Ok(p) => panic!("not refused:\n{}", p.to_text()),
        Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
    };
    assert_eq!(codes, ["E0909"]);
    // Another rotation before the first is finished.
    let b = state(&from(rotated.clone(), &a));
    // With a failed node to replace: it would join serving the new CA to hosts that trust
    // only the old one.
    let codes: Vec<String> = match plan_with_failed(&a, &b, &failed(&["master-2"])) {
        Ok(p) => panic!("not refused:\n{}", p.to_text()),
        Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
    };
    assert_eq!(codes, ["E0909"]);
    let mut again = rotated.clone();
    again.pki.ca_rotation = 2;
    let codes: Vec<String> = match plan(&b, &state(&from(again, &b))) {
        Ok(p) => panic!("not refused:\n{}", p.to_text()),
        Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
    };
    assert_eq!(codes, ["E0909"]);
    // A previous state without the service-account key (an older hac).
    let mut older = a.clone();
    older.pki.service_account_key.clear();
    let codes: Vec<String> = match plan(&older, &b) {
        Ok(p) => panic!("not refused:\n{}", p.to_text()),
        Err(d) => d.into_iter().filter_map(|d| d.code).collect(),
    };
    assert_eq!(codes, ["E0909"]);
}
