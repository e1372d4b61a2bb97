//! `hac plan`: the ordered steps that move a live cluster from the previous build's state to
//! the next one, one host and one membership change at a time, each with the availability it
//! leaves (the availability report's terms: etcd members, quorum, failures tolerated,
//! apiservers behind the load balancer). Changes that cannot be made safely are refused with
//! a coded diagnostic instead (E09xx). A pure function of two [`State`]s.
//!
//! The order: a fresh bootstrap token when hosts join; workers added; external etcd members
//! added (learner, start as `existing`, promote), the apiservers pointed at the new member
//! list, external members removed; control planes added (kubeadm join); the load balancers'
//! backends and keepalived peers updated, one host at a time, the VIP's MASTER last; control
//! planes removed; workers removed; then the Kubernetes upgrade (one minor at a time), then
//! renewed leaf certificates rolled out host by host.
//!
//! Nodes the operator reports as failed (`--failed`: the host is gone or its data lost) come
//! first: their etcd member is removed through a live one and their Node deleted, which gives
//! etcd back its tolerance before any other membership change; a failed node the build still
//! has is then joined again like a new one (a failed etcd member rejoins empty).

mod rotation;

use crate::codes;
use crate::state::{CertificateState, ControlPlaneState, NodeState, State};
use hac_core::Diagnostic;
use hac_model::archive::{CA_CERT, WORKER_CA};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The availability after a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// Voting etcd members (a learner does not count).
    pub etcd_members: usize,
    pub quorum: usize,
    pub failures_tolerated: usize,
    /// Voting members that are down (`--failed`, not yet removed): they count for the quorum
    /// and against the failures tolerated.
    #[serde(skip_serializing_if = "is_zero")]
    pub etcd_members_down: usize,
    /// Running kube-apiservers that the endpoint sends traffic to.
    pub apiservers_behind_load_balancer: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Availability {
    fn text(&self) -> String {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        let down = if self.etcd_members_down == 0 {
            String::new()
        } else {
            format!(" ({} down)", self.etcd_members_down)
        };
        format!(
            "etcd {} member{}{down}, quorum {}, tolerates {} failure{}; {} apiserver{} behind the load balancer",
            self.etcd_members,
            s(self.etcd_members),
            self.quorum,
            self.failures_tolerated,
            s(self.failures_tolerated),
            self.apiservers_behind_load_balancer,
            s(self.apiservers_behind_load_balancer)
        )
    }
}

/// One step: what to do on which host, the commands, and what stands afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The host the commands run on.
    pub host: String,
    pub action: String,
    pub commands: Vec<String>,
    pub after: Availability,
}

/// The whole plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub cluster: String,
    pub before: Availability,
    pub steps: Vec<Step>,
    /// What the operator must know besides the steps.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as people read it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.steps.is_empty() {
            out.push_str(&format!(
                "No change to the live cluster \"{}\": nothing to do.\n",
                self.cluster
            ));
            return out;
        }
        out.push_str(&format!(
            "Plan for the live cluster \"{}\": {} step{}, one at a time, each checked before the next.\n",
            self.cluster,
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" }
        ));
        out.push_str(&format!("now: {}\n", self.before.text()));
        for (i, step) in self.steps.iter().enumerate() {
            out.push_str(&format!(
                "\n{:>2}. [{}] {}\n",
                i + 1,
                step.host,
                step.action
            ));
            for c in &step.commands {
                out.push_str(&format!("      $ {c}\n"));
            }
            out.push_str(&format!("    after: {}\n", step.after.text()));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("note: {n}\n"));
            }
        }
        out
    }

    /// An Ansible play running the steps in order: one play per step on its host, each
    /// command a task (a `# on <host>` command delegated there), the step's last command its
    /// health gate (`any_errors_fatal`: a failed step stops everything). An archive is copied
    /// from the new bundle (`hac_bundle`, default: the folder above the play), unpacked and
    /// removed, so none is left on the host. `HAC_BOOTSTRAP_TOKEN` comes from the variable
    /// `hac_bootstrap_token` (pass it with `-e`, from the secrets file), when a step needs it.
    pub fn ansible_play(&self) -> serde_json::Value {
        use serde_json::json;
        let plays: Vec<serde_json::Value> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let mut tasks = Vec::new();
                for cmd in &step.commands {
                    let (bare, comment) = split_comment(cmd);
                    // A command that reads the new bundle's archive for the host: the
                    // archive copied there first, removed after.
                    if let Some(archive) = bare
                        .split(' ')
                        .find_map(|w| w.strip_prefix("hosts/"))
                        .filter(|a| a.ends_with(".tar.gz"))
                    {
                        let dest = format!("/root/.hac-plan-{archive}");
                        tasks.push(json!({
                            "name": format!("copy hosts/{archive} from the new bundle"),
                            "ansible.builtin.copy": {
                                "src": format!("{{{{ hac_bundle }}}}/hosts/{archive}"),
                                "dest": dest,
                                "mode": "0600",
                            },
                        }));
                        let name = if bare.starts_with("tar --no-overwrite-dir -xzpf ") {
                            format!("unpack {archive} and remove it")
                        } else {
                            format!("{bare} (and remove the archive)")
                        };
                        tasks.push(json!({
                            "name": name,
                            "ansible.builtin.shell": format!(
                                "{} && rm -f {dest}",
                                bare.replace(&format!("hosts/{archive}"), &dest)
                            ),
                        }));
                        continue;
                    }
                    let mut task = json!({
                        "name": bare,
                        "ansible.builtin.shell": bare,
                    });
                    if bare.contains("HAC_BOOTSTRAP_TOKEN") {
                        task["environment"] =
                            json!({ "HAC_BOOTSTRAP_TOKEN": "{{ hac_bootstrap_token }}" });
                    }
                    if let Some(other) = comment.and_then(|c| c.strip_prefix("on ")) {
                        task["delegate_to"] = json!(other);
                    }
                    tasks.push(task);
                }
                json!({
                    "name": format!("{}. [{}] {} (after: {})", i + 1, step.host, step.action, step.after.text()),
                    "hosts": step.host,
                    "gather_facts": false,
                    "become": true,
                    "any_errors_fatal": true,
                    "vars": { "hac_bundle": "{{ bundle | default(playbook_dir ~ '/..') }}" },
                    "tasks": tasks,
                })
            })
            .collect();
        serde_json::Value::Array(plays)
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

const ETCD_PKI: &str = "/etc/kubernetes/pki/etcd";
const KUBECTL: &str = "kubectl --kubeconfig /etc/kubernetes/admin.conf";
/// The renewed cluster CA certificate into the kubelet's kubeconfig, where kubeadm embedded
/// the CA it joined with.
const KUBELET_CA: &str = "ca=$(base64 -w0 /etc/kubernetes/pki/ca.crt) && sed -i \"s#certificate-authority-data: .*#certificate-authority-data: $ca#\" /etc/kubernetes/kubelet.conf";

/// `etcdctl` talking to the member at `address` with the member's own certificate.
fn etcdctl(address: &str) -> String {
    format!(
        "etcdctl --endpoints=https://{address}:2379 --cacert={ETCD_PKI}/ca.crt --cert={ETCD_PKI}/peer.crt --key={ETCD_PKI}/peer.key"
    )
}

/// Stacked etcd: `etcdctl` in the etcd static pod of the control plane `anchor` (its image
/// has etcdctl; the pod mounts the host's etcd certificates and uses the host's network).
fn stacked_etcdctl(anchor: &str) -> String {
    format!("{KUBECTL} -n kube-system exec etcd-{anchor} -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert={ETCD_PKI}/ca.crt --cert={ETCD_PKI}/peer.crt --key={ETCD_PKI}/peer.key")
}

/// Unpacks a host's archive without touching the owner, mode or mtime of directories that
/// already exist (`/etc`, `/etc/kubernetes`, …).
fn install(host: &str) -> String {
    format!("tar --no-overwrite-dir -xzpf hosts/{host}.tar.gz -C /   # the new bundle's files for {host}")
}

/// The comment a command carries: `# on <host>` runs it on another host.
fn split_comment(cmd: &str) -> (&str, Option<&str>) {
    match cmd.split_once("   # ") {
        Some((c, comment)) => (c.trim(), Some(comment.trim())),
        None => (cmd.trim(), None),
    }
}

fn minor(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// The running cluster while the plan is simulated.
struct Sim {
    voting: BTreeSet<String>,
    /// Voting members that are down (`--failed`) until they are removed.
    down: BTreeSet<String>,
    apiservers: BTreeSet<String>,
    behind_lb: BTreeSet<String>,
    /// haproxy/nginx: the backends change only when the load balancers are updated.
    proxied: bool,
}

impl Sim {
    fn availability(&self) -> Availability {
        let n = self.voting.len();
        let down = self.voting.intersection(&self.down).count();
        Availability {
            etcd_members: n,
            quorum: n / 2 + 1,
            failures_tolerated: (n.saturating_sub(1) / 2).saturating_sub(down),
            etcd_members_down: down,
            apiservers_behind_load_balancer: if self.proxied {
                self.behind_lb.intersection(&self.apiservers).count()
            } else {
                self.apiservers.len()
            },
        }
    }
}

/// Plans the change from `prev` (the live cluster, every node up) to `next` (this build).
pub fn plan(prev: &State, next: &State) -> Result<Plan, Vec<Diagnostic>> {
    plan_with_failed(prev, next, &BTreeSet::new())
}

/// Plans the change from `prev` (the live cluster) to `next` (this build) when the nodes in
/// `failed` are down for good (`hac plan --failed`): their etcd members are removed and
/// their Nodes deleted first; those the build keeps join again as new.
pub fn plan_with_failed(
    prev: &State,
    next: &State,
    failed: &BTreeSet<String>,
) -> Result<Plan, Vec<Diagnostic>> {
    check_failed(prev, failed)?;
    refuse_unsafe(prev, next, failed)?;
    let ctx = Ctx::new(prev, next, failed);
    let proxied = matches!(
        next.control_plane.load_balancer.as_str(),
        "haproxy" | "nginx"
    );
    let mut sim = Sim {
        voting: prev.etcd.members.iter().map(|m| m.name.clone()).collect(),
        down: failed.clone(),
        apiservers: ctx.prev_cps.clone(),
        behind_lb: set(&prev.control_plane.apiservers),
        proxied,
    };
    let before = sim.availability();
    let mut steps: Vec<Step> = Vec::new();
    // A node that keeps its name but changes roles is planned as removed and added.
    let mut notes: Vec<String> = role_change_notes(&ctx);
    let workers = |s: &State| -> BTreeSet<String> {
        s.nodes
            .iter()
            .filter(|n| has(n, "worker") && !has(n, "control-plane"))
            .map(|n| n.name.clone())
            .collect()
    };
    let (mut prev_w, next_w) = (workers(prev), workers(next));
    prev_w.retain(|w| !failed.contains(w));
    let added_workers: Vec<&String> = next_w.difference(&prev_w).collect();
    let removed_workers: Vec<&String> = prev_w.difference(&next_w).collect();
    let added_cps: Vec<&String> = ctx.next_cps.difference(&ctx.prev_cps).collect();
    let removed_cps: Vec<&String> = ctx.prev_cps.difference(&ctx.next_cps).collect();

    // 0. Failed nodes forgotten, so etcd tolerates failures again before anything else.
    forget_failed_nodes(&ctx, &mut sim, &mut steps);
    // 0b. A new VIP held beside the old one (or the old one released), holder by holder;
    // or haproxy swapped for nginx (or back), proxy by proxy.
    move_vip(&ctx, &sim, &mut steps, &mut notes);
    move_port(&ctx, &sim, &mut steps, &mut notes);
    switch_proxy(&ctx, &sim, &mut steps);
    // 0c. A new endpoint (name or VIP) published, every kubelet moved.
    move_endpoint(&ctx, &sim, &mut steps, &mut notes);
    // 1–2. The bootstrap token made valid, then the workers added.
    join_workers(&ctx, &added_workers, &added_cps, &sim, &mut steps);
    // 3. External etcd: members added, the apiservers pointed at them, old ones removed.
    if !ctx.stacked {
        replace_etcd_members(&ctx, &mut sim, &mut steps);
    }
    // 4. Control planes added; other failed nodes the build keeps set up again.
    join_control_planes(&ctx, &added_workers, &added_cps, &mut sim, &mut steps);
    // 5. Load balancers' backends and keepalived's peers, the VIP's MASTER last.
    update_load_balancers(&ctx, &mut sim, &mut steps);
    // 6–7. Control planes, then workers, removed.
    remove_nodes(&ctx, &removed_cps, &removed_workers, &mut sim, &mut steps);
    // 8. Kubernetes upgrade.
    if prev.kubernetes_version != next.kubernetes_version {
        upgrade_kubernetes(&ctx, &sim, &mut steps, &mut notes);
    }
    // 9. Renewed certificates rolled out (leaves, and CAs renewed under the same key); a
    // CA's new key trusted everywhere first, or the old key dropped after a rotation.
    match rotation::ca_change(prev, next) {
        Ok(rotation::CaChange::Rotated(cas)) => {
            rotation::trust_new_cas(&ctx, &cas, &sim, &mut steps);
            let first = steps.len();
            roll_out_renewals(&ctx, &added_cps, &sim, &mut steps, &mut notes);
            rotation::sign_with_new_ca(&ctx, &mut steps[first..]);
            notes.push(rotation::rotation_note(&cas));
        }
        Ok(rotation::CaChange::Dropped(cas)) => {
            rotation::drop_old_cas(&ctx, &cas, &sim, &mut steps, &mut notes);
            roll_out_renewals(&ctx, &added_cps, &sim, &mut steps, &mut notes);
        }
        _ => roll_out_renewals(&ctx, &added_cps, &sim, &mut steps, &mut notes),
    }

    if !steps.is_empty() {
        notes.push("`hosts/<node>.tar.gz` is the new bundle's archive for that host, copied to it first (as the Ansible play does); `--format tree` bundles hold the same files under `hosts/<node>/`".to_string());
        notes.push("run the steps in order, one at a time, and go on only when the step's last command succeeds: it is the health gate".to_string());
    }
    Ok(Plan {
        cluster: next.cluster.clone(),
        before,
        steps,
        notes,
    })
}

/// What every step of a plan reads: both states, the failed nodes, and what follows from them.
struct Ctx<'a> {
    prev: &'a State,
    next: &'a State,
    failed: &'a BTreeSet<String>,
    stacked: bool,
    /// The running control planes: a failed one that the build keeps joins again as new.
    prev_cps: BTreeSet<String>,
    next_cps: BTreeSet<String>,
    /// The control plane that stays and runs the cluster-wide commands.
    anchor: String,
    prev_members: BTreeMap<&'a str, &'a str>,
    next_members: BTreeMap<&'a str, &'a str>,
    /// A live member that stays serves the membership commands (the first that does, else
    /// any live one).
    via_member: String,
}

impl<'a> Ctx<'a> {
    fn new(prev: &'a State, next: &'a State, failed: &'a BTreeSet<String>) -> Ctx<'a> {
        let alive = |v: &[String]| -> BTreeSet<String> {
            v.iter().filter(|n| !failed.contains(*n)).cloned().collect()
        };
        let prev_cps = alive(&prev.control_plane.apiservers);
        let next_cps = set(&next.control_plane.apiservers);
        let anchor = next_cps
            .intersection(&prev_cps)
            .next()
            .cloned()
            .unwrap_or_default();
        let prev_members: BTreeMap<&str, &str> = prev.etcd_membership().into_iter().collect();
        let next_members: BTreeMap<&str, &str> = next.etcd_membership().into_iter().collect();
        let via_member = prev_members
            .keys()
            .filter(|m| !failed.contains(**m))
            .find(|m| next_members.contains_key(*m))
            .or_else(|| prev_members.keys().find(|m| !failed.contains(**m)))
            .map(std::string::ToString::to_string)
            .unwrap_or_default();
        Ctx {
            prev,
            next,
            failed,
            stacked: next.etcd.mode == "stacked",
            prev_cps,
            next_cps,
            anchor,
            prev_members,
            next_members,
            via_member,
        }
    }
}

fn node(s: &State, name: &str) -> Option<NodeState> {
    s.nodes.iter().find(|n| n.name == name).cloned()
}

fn has(n: &NodeState, role: &str) -> bool {
    n.roles.iter().any(|r| r == role)
}

fn addr(s: &State, name: &str) -> String {
    node(s, name).map(|n| n.address).unwrap_or_default()
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

/// Notes for the nodes that keep their name but change roles.
fn role_change_notes(ctx: &Ctx<'_>) -> Vec<String> {
    let (prev, next, failed) = (ctx.prev, ctx.next, ctx.failed);
    let mut notes = Vec::new();
    for n in &next.nodes {
        if let Some(p) = node(prev, &n.name).filter(|p| !failed.contains(&p.name)) {
            if p.roles != n.roles && !(has(n, "worker") && has(&p, "worker")) {
                notes.push(format!(
                    "{} changes roles ({} → {}): drain and reset it, then join it again with its new bundle",
                    n.name,
                    p.roles.join(","),
                    n.roles.join(",")
                ));
            }
        }
    }
    notes
}

/// Failed nodes: their etcd member removed through a live one, their Node deleted, so
/// etcd tolerates failures again before anything else changes.
fn forget_failed_nodes(ctx: &Ctx<'_>, sim: &mut Sim, steps: &mut Vec<Step>) {
    let (prev, failed, stacked) = (ctx.prev, ctx.failed, ctx.stacked);
    let (anchor, via_member) = (&ctx.anchor, &ctx.via_member);
    let prev_members = &ctx.prev_members;
    for f in failed {
        let Some(p) = node(prev, f) else { continue };
        let kubelet = has(&p, "control-plane") || has(&p, "worker");
        let member = prev_members.contains_key(f.as_str());
        let mut commands = Vec::new();
        let host = if member && !stacked {
            let ctl = etcdctl(&addr(prev, via_member));
            commands.push(format!(
                "{ctl} member remove \"$({ctl} member list | awk -F', ' '$3==\"{f}\"{{print $1}}')\""
            ));
            commands.push(etcd_health_gate(&ctl));
            via_member.clone()
        } else {
            anchor.clone()
        };
        if member && stacked {
            let ctl = stacked_etcdctl(anchor);
            commands.push(format!(
                "id=$({ctl} member list | awk -F', ' '$3==\"{f}\"{{print $1}}') && {ctl} member remove \"$id\""
            ));
            commands.push(etcd_health_gate(&ctl));
        }
        if kubelet {
            let on = if host == *anchor {
                String::new()
            } else {
                format!("   # on {anchor}")
            };
            commands.insert(
                0,
                format!("{KUBECTL} delete node {f} --ignore-not-found{on}"),
            );
        }
        if commands.is_empty() {
            continue; // a load balancer: nothing of the cluster's names it
        }
        steps.push(Step {
            host,
            action: format!(
                "forget the failed node {f}{}",
                match (member, kubelet) {
                    (true, true) => ": remove its etcd member, delete its Node",
                    (true, false) => ": remove its etcd member",
                    _ => ": delete its Node",
                }
            ),
            commands,
            after: {
                sim.voting.remove(f);
                sim.down.remove(f);
                sim.availability()
            },
        });
    }
}

/// A VIP that moves (the refusals made sure it can): the build between holds the new VIP
/// beside the old one, the next one releases the old. keepalived.conf reaches the holders one
/// at a time, the VIP's MASTER last, each reload gated on the VIP clients use still serving.
fn move_vip(ctx: &Ctx<'_>, sim: &Sim, steps: &mut Vec<Step>, notes: &mut Vec<String>) {
    let (prev, next) = (&ctx.prev.control_plane, &ctx.next.control_plane);
    let port = host_port(&next.endpoint).1;
    let (Some(vip), Some(old_vip)) = (next.vip.as_deref(), prev.vip.as_deref()) else {
        return;
    };
    let (action, served, last_gate) = if vip != old_vip {
        (
            format!("hold the new VIP {vip} beside {old_vip}"),
            old_vip,
            Some(vip),
        )
    } else if let (Some(released), None) = (&prev.previous_vip, &next.previous_vip) {
        notes.push(format!(
            "{} is released: a client or DNS name still using it stops working",
            released.address
        ));
        (
            format!("release the previous VIP {}", released.address),
            vip,
            None,
        )
    } else {
        return;
    };
    let mut hosts: Vec<&String> = next
        .vip_holders
        .iter()
        .filter(|h| prev.vip_holders.contains(h) && !ctx.failed.contains(*h))
        .collect();
    master_last(&mut hosts, next);
    let gate = |address: &str| readyz_gate(&format!("{address}:{port}"), 12);
    let last = hosts.last().copied();
    for h in &hosts {
        let mut commands = vec![
            install(h),
            "systemctl reload keepalived".to_string(),
            gate(served),
        ];
        if Some(*h) == last {
            commands.extend(last_gate.map(gate));
        }
        steps.push(Step {
            host: (*h).clone(),
            action: action.clone(),
            commands,
            after: sim.availability(),
        });
    }
    if vip != old_vip && host_port(&prev.endpoint).0 != old_vip {
        notes.push(format!(
            "the endpoint {} is a name: point it at {vip} once this plan has run; a later build (same VIP) releases {old_vip}",
            next.endpoint
        ));
    }
}

/// A new endpoint port (haproxy or nginx, the refusals made sure it can be planned): the
/// build between has each proxy listen on both ports, the next one drops the old port. Each
/// proxy is reloaded in turn, the VIP's MASTER last, gated on the port clients use serving;
/// then the endpoint moves as for a new name.
fn move_port(ctx: &Ctx<'_>, sim: &Sim, steps: &mut Vec<Step>, notes: &mut Vec<String>) {
    let (prev, next) = (&ctx.prev.control_plane, &ctx.next.control_plane);
    let (old_ep, new_ep) = (&prev.endpoint, &next.endpoint);
    let (action, served, last_gate) = if old_ep != new_ep
        && next.previous_port.is_some()
        && host_port(old_ep).0 == host_port(new_ep).0
    {
        (
            format!(
                "serve port {} beside {}",
                host_port(new_ep).1,
                host_port(old_ep).1
            ),
            old_ep,
            Some(new_ep),
        )
    } else if let (Some(released), None) = (prev.previous_port, next.previous_port) {
        notes.push(format!(
            "port {released} is closed: a client still using it stops working"
        ));
        (
            format!("stop serving the previous port {released}"),
            new_ep,
            None,
        )
    } else {
        return;
    };
    let mut hosts: Vec<&String> = next
        .load_balancers
        .iter()
        .filter(|h| prev.load_balancers.contains(h) && !ctx.failed.contains(*h))
        .collect();
    master_last(&mut hosts, next);
    let gate = |endpoint: &str| readyz_gate(endpoint, 12);
    let last = hosts.last().copied();
    for h in &hosts {
        let mut commands = vec![
            install(h),
            "if systemctl is-enabled --quiet hac-firewall 2>/dev/null; then systemctl restart hac-firewall; fi   # the firewall opens the new port".to_string(),
            format!("systemctl reload {}", next.load_balancer),
            gate(served),
        ];
        if Some(*h) == last {
            commands.extend(last_gate.map(|e| gate(e)));
        }
        steps.push(Step {
            host: (*h).clone(),
            action: action.clone(),
            commands,
            after: sim.availability(),
        });
    }
}

/// haproxy swapped for nginx or back (same nodes, port and VIP): on each proxy, the VIP's
/// MASTER last, the new one's package installed (the prepare phase), the old one stopped and
/// the new one started on the same port, keepalived reloaded (its check probes that port),
/// gated on the endpoint serving.
fn switch_proxy(ctx: &Ctx<'_>, sim: &Sim, steps: &mut Vec<Step>) {
    if !proxy_switch(ctx.prev, ctx.next) {
        return;
    }
    let (prev, next) = (&ctx.prev.control_plane, &ctx.next.control_plane);
    let (from, to) = (prev.load_balancer.as_str(), next.load_balancer.as_str());
    let mut hosts: Vec<&String> = next
        .load_balancers
        .iter()
        .filter(|h| prev.load_balancers.contains(h) && !ctx.failed.contains(*h))
        .collect();
    master_last(&mut hosts, next);
    for h in hosts {
        steps.push(Step {
            host: h.clone(),
            action: format!("replace {from} with {to} on the same port"),
            commands: vec![
                install(h),
                format!("/etc/hac/bootstrap.sh prepare   # installs {to}"),
                format!("systemctl disable --now {from} && systemctl enable --now {to}"),
                "systemctl reload keepalived".to_string(),
                readyz_gate(&next.endpoint, 12),
            ],
            after: sim.availability(),
        });
    }
}

/// A new name for the endpoint (same load balancer, VIP and port; the refusals made sure the
/// running apiservers serve it and the new ones still serve the old one): the cluster's
/// configuration, cluster-info and kube-proxy first, then each kubelet, before any join of
/// this plan (the new nodes' files name the new endpoint).
fn move_endpoint(ctx: &Ctx<'_>, sim: &Sim, steps: &mut Vec<Step>, notes: &mut Vec<String>) {
    let (prev, next, failed) = (ctx.prev, ctx.next, ctx.failed);
    let anchor = &ctx.anchor;
    let (old_ep, new_ep) = (&prev.control_plane.endpoint, &next.control_plane.endpoint);
    if old_ep != new_ep {
        let swap = format!("s#server: https://{old_ep}#server: https://{new_ep}#");
        let kubelet =
            format!("sed -i '{swap}' /etc/kubernetes/kubelet.conf && systemctl restart kubelet");
        steps.push(Step {
            host: anchor.clone(),
            action: format!(
                "serve and publish the new endpoint {new_ep} (clients of {old_ep} keep working)"
            ),
            commands: vec![
                format!("curl -fks --max-time 5 https://{new_ep}/readyz   # the new endpoint reaches the load balancer and is served"),
                install(anchor),
                "kubeadm init phase upload-config kubeadm --config /etc/kubernetes/kubeadm-config.yaml".to_string(),
                format!("{KUBECTL} -n kube-public get configmap cluster-info -o yaml | sed '{swap}' | {KUBECTL} replace -f -"),
                format!("if {KUBECTL} -n kube-system get configmap kube-proxy >/dev/null 2>&1; then {KUBECTL} -n kube-system get configmap kube-proxy -o yaml | sed '{swap}' | {KUBECTL} replace -f - && {KUBECTL} -n kube-system rollout restart daemonset kube-proxy; fi"),
                kubelet.clone(),
                format!("{KUBECTL} get --raw=/readyz"),
            ],
            after: sim.availability(),
        });
        let moving: Vec<&NodeState> = prev
            .nodes
            .iter()
            .filter(|n| {
                (has(n, "control-plane") || has(n, "worker"))
                    && n.name != *anchor
                    && !failed.contains(&n.name)
                    && node(next, &n.name).is_some_and(|m| m.roles == n.roles)
            })
            .collect();
        for n in moving {
            steps.push(Step {
                host: n.name.clone(),
                action: format!("move {}'s kubelet to {new_ep}", n.name),
                commands: vec![
                    install(&n.name),
                    kubelet.clone(),
                    format!(
                        "{KUBECTL} wait --for=condition=Ready node/{} --timeout=300s   # on {anchor}",
                        n.name
                    ),
                ],
                after: sim.availability(),
            });
        }
        let later = if next.control_plane.previous_vip.is_some() {
            "once none does, build again with the same VIP (with `--from`): that build releases the old VIP and drops it from the apiserver certificates"
        } else if next.control_plane.previous_port.is_some() {
            "once none does, build again with the same port (with `--from`): that build stops serving the old port"
        } else {
            "once none does, drop the old name from controlPlane.certSANs in a later build (the plan then rolls out the renewed apiserver certificates)"
        };
        notes.push(format!(
            "kubeconfigs handed out to people and tools still name {old_ep}: move them to {new_ep}; {later}"
        ));
    }
}

/// Joins need a valid bootstrap token (the one of `kubeadm init` may have expired): a step
/// that makes sure of it, then the new workers joined.
fn join_workers(
    ctx: &Ctx<'_>,
    added_workers: &[&String],
    added_cps: &[&String],
    sim: &Sim,
    steps: &mut Vec<Step>,
) {
    let anchor = &ctx.anchor;
    if !added_workers.is_empty() || !added_cps.is_empty() {
        steps.push(token_step(ctx, sim, "before the joins"));
    }

    // 2. Workers added.
    for w in added_workers {
        steps.push(Step {
            host: (*w).clone(),
            action: format!("join worker {w}"),
            commands: vec![
                install(w),
                "/etc/hac/bootstrap.sh".to_string(),
                format!(
                    "{KUBECTL} wait --for=condition=Ready node/{w} --timeout=600s   # on {anchor}"
                ),
            ],
            after: sim.availability(),
        });
    }
}

/// On the anchor: the secrets file's bootstrap token created again where `kubeadm token
/// list` lacks it (the one of `kubeadm init` expires).
fn token_step(ctx: &Ctx<'_>, sim: &Sim, why: &str) -> Step {
    let t = &ctx.next.bootstrap_token;
    Step {
        host: ctx.anchor.clone(),
        action: format!(
            "make sure the bootstrap token {} is valid {why} (the one of `kubeadm init` expires {})",
            t.id, ctx.prev.bootstrap_token.expires
        ),
        commands: vec![format!(
            "kubeadm token list -o jsonpath='{{.token}}{{\"\\n\"}}' | grep -q '^{id}\\.' || kubeadm token create \"$HAC_BOOTSTRAP_TOKEN\" --ttl {ttl}   # HAC_BOOTSTRAP_TOKEN: the token of the secrets file",
            id = t.id,
            ttl = t.ttl
        )],
        after: sim.availability(),
    }
}

/// External etcd: add the new members one at a time (learner, then promoted), point the
/// apiservers at the new list, then remove the old members one at a time.
fn replace_etcd_members(ctx: &Ctx<'_>, sim: &mut Sim, steps: &mut Vec<Step>) {
    let (prev, next, failed) = (ctx.prev, ctx.next, ctx.failed);
    let via_member = &ctx.via_member;
    let (prev_members, next_members) = (&ctx.prev_members, &ctx.next_members);
    let (prev_cps, next_cps) = (&ctx.prev_cps, &ctx.next_cps);
    for (name, peer) in next_members
        .iter()
        .filter(|(n, _)| !prev_members.contains_key(*n) || failed.contains(**n))
    {
        let ctl = etcdctl(&addr(prev, via_member));
        // Unpacked first: etcdctl uses this host's own etcd certificate; the packages
        // (etcd, etcdctl) come with the prepare phase.
        let mut commands = vec![install(name), "/etc/hac/bootstrap.sh prepare".to_string()];
        if failed.contains(*name) {
            commands.push(
                "systemctl stop etcd 2>/dev/null; rm -rf /var/lib/etcd   # what is left of the failed member: it joins empty"
                    .to_string(),
            );
        }
        commands.extend([
                format!("{ctl} member add {name} --learner --peer-urls={peer}"),
                "/etc/hac/bootstrap.sh services".to_string(),
                // etcd refuses to promote a learner that has not caught up: retry for
                // five minutes, then fail the step.
                format!(
                    "( n=0; until {ctl} member promote \"$({ctl} member list | awk -F', ' '$3==\"{name}\"{{print $1}}')\"; do n=$((n+1)); [ $n -lt 60 ] || exit 1; sleep 5; done )"
                ),
                etcd_health_gate(&ctl),
        ]);
        steps.push(Step {
            host: name.to_string(),
            action: format!(
                "add etcd member {name} as a learner, start it (--initial-cluster-state=existing), promote it once caught up"
            ),
            commands,
            after: {
                sim.voting.insert(name.to_string());
                sim.availability()
            },
        });
    }
    // A failed member is gone already (step 0).
    let removed: Vec<&str> = prev_members
        .keys()
        .filter(|n| !next_members.contains_key(*n) && !failed.contains(**n))
        .copied()
        .collect();
    if prev_members.keys().ne(next_members.keys()) {
        // kube-apiserver's --etcd-servers: the new list, before any member goes away. The
        // cluster's ClusterConfiguration (kubeadm-config ConfigMap) gets it first: later
        // joins and upgrades read it there, and the other control planes, whose
        // kubeadm-config.yaml is a JoinConfiguration, regenerate their apiserver from it.
        let anchor = &ctx.anchor;
        steps.push(Step {
            host: anchor.clone(),
            action: "publish the new etcd member list in the cluster's kubeadm configuration (the kubeadm-config ConfigMap)".to_string(),
            commands: vec![
                install(anchor),
                "kubeadm init phase upload-config kubeadm --config /etc/kubernetes/kubeadm-config.yaml".to_string(),
            ],
            after: sim.availability(),
        });
        for cp in prev_cps.intersection(next_cps) {
            let local = format!(
                "apiVersion: {api}\\nkind: InitConfiguration\\nlocalAPIEndpoint:\\n  advertiseAddress: {address}\\n  bindPort: {port}\\nnodeRegistration:\\n  name: {cp}\\n---\\n",
                api = prev.kubeadm_api,
                address = addr(next, cp),
                port = next.control_plane.api_server_port
            );
            steps.push(Step {
                host: cp.clone(),
                action: "point kube-apiserver at the new etcd member list (--etcd-servers)".to_string(),
                commands: vec![
                    install(cp),
                    format!("{{ printf '{local}'; {KUBECTL} -n kube-system get configmap kubeadm-config -o jsonpath='{{.data.ClusterConfiguration}}'; }} > /etc/kubernetes/hac-control-plane.yaml   # this node's API endpoint and the cluster's configuration"),
                    "kubeadm init phase control-plane apiserver --config /etc/kubernetes/hac-control-plane.yaml".to_string(),
                    format!("{KUBECTL} wait --for=condition=Ready pod/kube-apiserver-{cp} -n kube-system --timeout=300s"),
                    readyz_gate(&format!("{}:{}", addr(next, cp), next.control_plane.api_server_port), 60),
                ],
                after: sim.availability(),
            });
        }
    }
    for name in removed {
        let ctl = etcdctl(&addr(prev, via_member));
        steps.push(Step {
            host: name.to_string(),
            action: format!("remove etcd member {name}, then stop it"),
            commands: vec![
                format!(
                    "{ctl} member remove \"$({ctl} member list | awk -F', ' '$3==\"{name}\"{{print $1}}')\""
                ),
                "systemctl disable --now etcd".to_string(),
                "rm -rf /var/lib/etcd".to_string(),
                etcd_health_gate(&ctl),
            ],
            after: {
                sim.voting.remove(name);
                sim.availability()
            },
        });
    }
}

/// Control planes added (kubeadm join --control-plane; stacked: kubeadm adds the
/// etcd member itself).
fn join_control_planes(
    ctx: &Ctx<'_>,
    added_workers: &[&String],
    added_cps: &[&String],
    sim: &mut Sim,
    steps: &mut Vec<Step>,
) {
    let (next, failed, stacked) = (ctx.next, ctx.failed, ctx.stacked);
    let next_members = &ctx.next_members;
    let proxied = sim.proxied;
    for cp in added_cps {
        let mut commands = vec![install(cp)];
        if stacked && failed.contains(*cp) {
            // kubeadm join refuses a non-empty /var/lib/etcd.
            commands.push(
                "rm -rf /var/lib/etcd   # what is left of the failed member: it joins empty"
                    .to_string(),
            );
        }
        commands.extend([
            "/etc/hac/bootstrap.sh".to_string(),
            format!("{KUBECTL} wait --for=condition=Ready node/{cp} --timeout=600s"),
        ]);
        steps.push(Step {
            host: (*cp).clone(),
            action: format!("join control plane {cp} (kubeadm join --control-plane)"),
            commands,
            after: {
                sim.apiservers.insert((*cp).clone());
                if stacked {
                    sim.voting.insert((*cp).clone());
                }
                if !proxied {
                    sim.behind_lb.insert((*cp).clone());
                }
                sim.availability()
            },
        });
    }

    // 4b. Any other failed node the build keeps (a load balancer, a dedicated etcd host of
    // stacked etcd's cluster has none): its whole bootstrap again.
    for f in failed {
        let rejoined = added_workers.iter().chain(added_cps).any(|n| *n == f)
            || (!stacked && next_members.contains_key(f.as_str()));
        if rejoined || node(next, f).is_none() {
            continue;
        }
        steps.push(Step {
            host: f.clone(),
            action: format!("set up the failed node {f} again from its bundle"),
            commands: vec![install(f), "/etc/hac/bootstrap.sh".to_string()],
            after: sim.availability(),
        });
    }
}

/// Load balancers: new backends (and keepalived peers), one host at a time, the
/// VIP's MASTER (the first holder) last so the VIP moves at most once. A failed one was
/// set up again above.
fn update_load_balancers(ctx: &Ctx<'_>, sim: &mut Sim, steps: &mut Vec<Step>) {
    let (prev, next, failed) = (ctx.prev, ctx.next, ctx.failed);
    let next_cps = &ctx.next_cps;
    let proxied = sim.proxied;
    let prev_lbs = set(&prev.control_plane.load_balancers);
    let next_lbs = set(&next.control_plane.load_balancers);
    let next_vip = set(&next.control_plane.vip_holders);
    let prev_vip = set(&prev.control_plane.vip_holders);
    let backends_changed = proxied && set(&prev.control_plane.apiservers) != *next_cps;
    let peers_changed = prev_vip != next_vip;
    if backends_changed || peers_changed {
        let mut hosts: Vec<String> = next_lbs
            .union(&next_vip)
            .filter(|h| prev_lbs.contains(*h) || prev_vip.contains(*h))
            .filter(|h| !failed.contains(*h))
            .cloned()
            .collect();
        master_last(&mut hosts, &next.control_plane);
        let last = hosts.last().cloned();
        for h in hosts {
            let mut commands = vec![install(&h)];
            if next_lbs.contains(&h) {
                let unit = if next.control_plane.load_balancer == "nginx" {
                    "nginx"
                } else {
                    "haproxy"
                };
                commands.push(format!("systemctl reload {unit}"));
            }
            if next_vip.contains(&h) && next.control_plane.load_balancer != "kube-vip" {
                commands.push("systemctl reload keepalived".to_string());
            }
            // The endpoint serves again (the VIP may move while its holder reloads): retried
            // for a minute.
            commands.push(readyz_gate(&next.control_plane.endpoint, 12));
            steps.push(Step {
                host: h.clone(),
                action: "update the load balancer's backends and keepalived's peers".to_string(),
                commands,
                after: {
                    // Traffic follows the VIP, whose MASTER is updated last.
                    if Some(&h) == last.as_ref() {
                        sim.behind_lb = next_cps.clone();
                    }
                    sim.availability()
                },
            });
        }
    }
}

/// Control planes removed, one at a time: leave the load balancer first (done above),
/// then `kubeadm reset` (stacked: the etcd member removed, by it or by the step) and delete
/// the Node; then the workers removed.
fn remove_nodes(
    ctx: &Ctx<'_>,
    removed_cps: &[&String],
    removed_workers: &[&String],
    sim: &mut Sim,
    steps: &mut Vec<Step>,
) {
    let stacked = ctx.stacked;
    let anchor = &ctx.anchor;
    for cp in removed_cps {
        let mut commands = vec![format!(
            "{KUBECTL} drain {cp} --ignore-daemonsets --delete-emptydir-data   # on {anchor}"
        )];
        if stacked {
            // The member leaves etcd before its host stops it, through a member that stays
            // (`kubeadm reset` would remove it too, but only when it can read the node's
            // configuration from the cluster, and only warns when it cannot).
            let ctl = stacked_etcdctl(anchor);
            commands.push(format!(
                "id=$({ctl} member list | awk -F', ' '$3==\"{cp}\"{{print $1}}'); [ -z \"$id\" ] || {ctl} member remove \"$id\"   # on {anchor}"
            ));
        }
        commands.push("kubeadm reset -f".to_string());
        commands.push(format!("{KUBECTL} delete node {cp}   # on {anchor}"));
        if stacked {
            commands.push(format!(
                "{}   # on {anchor}",
                etcd_health_gate(&stacked_etcdctl(anchor))
            ));
        }
        steps.push(Step {
            host: (*cp).clone(),
            action: format!("remove control plane {cp}"),
            commands,
            after: {
                sim.apiservers.remove(*cp);
                sim.behind_lb.remove(*cp);
                if stacked {
                    sim.voting.remove(*cp);
                }
                sim.availability()
            },
        });
    }

    // 7. Workers removed.
    for w in removed_workers {
        steps.push(Step {
            host: (*w).clone(),
            action: format!("remove worker {w}"),
            commands: vec![
                format!("{KUBECTL} drain {w} --ignore-daemonsets --delete-emptydir-data   # on {anchor}"),
                "kubeadm reset -f".to_string(),
                format!("{KUBECTL} delete node {w}   # on {anchor}"),
            ],
            after: sim.availability(),
        });
    }
}

/// Kubernetes upgrade (the rules refused skipping a minor and downgrades).
fn upgrade_kubernetes(ctx: &Ctx<'_>, sim: &Sim, steps: &mut Vec<Step>, notes: &mut Vec<String>) {
    let (prev, next) = (ctx.prev, ctx.next);
    let v = &next.kubernetes_version;
    let pin = |pkgs: &str| {
        format!(
            "apt-mark unhold {pkgs} && apt-get install -y {} && apt-mark hold {pkgs}",
            pkgs.split(' ')
                .map(|p| format!("{p}={v}-*"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let anchor = &ctx.anchor;
    let cps: Vec<&String> = next.control_plane.apiservers.iter().collect();
    for (i, cp) in cps.iter().enumerate() {
        let hand_off = hands_off_vip(next, cp);
        let mut commands = Vec::new();
        if hand_off {
            commands.push(STOP_KEEPALIVED.to_string());
        }
        commands.push(pin("kubeadm"));
        if i == 0 {
            commands.push(format!("kubeadm upgrade plan v{v}"));
            commands.push(format!("kubeadm upgrade apply v{v} -y"));
        } else {
            commands.push("kubeadm upgrade node".to_string());
        }
        // Its kube-apiserver serves again (the new version) before the next one upgrades.
        commands.push(readyz_gate(
            &format!("{}:{}", addr(next, cp), next.control_plane.api_server_port),
            60,
        ));
        if hand_off {
            commands.extend(take_vip_back(next));
        }
        steps.push(Step {
            host: (*cp).clone(),
            action: format!(
                "upgrade the control plane to {v} ({})",
                if i == 0 {
                    "kubeadm upgrade apply"
                } else {
                    "kubeadm upgrade node"
                }
            ),
            commands,
            after: sim.availability(),
        });
    }
    let kubelets: Vec<String> = next
        .nodes
        .iter()
        .filter(|n| has(n, "control-plane") || has(n, "worker"))
        .map(|n| n.name.clone())
        .collect();
    for k in kubelets {
        let on = if k == *anchor {
            String::new()
        } else {
            format!("   # on {anchor}")
        };
        steps.push(Step {
            host: k.clone(),
            action: format!("upgrade kubelet and kubectl on {k} to {v}"),
            // Only control planes have admin.conf: the cluster-wide commands run on one.
            commands: vec![
                format!("{KUBECTL} drain {k} --ignore-daemonsets --delete-emptydir-data{on}"),
                pin("kubelet kubectl"),
                "systemctl daemon-reload && systemctl restart kubelet".to_string(),
                format!("{KUBECTL} uncordon {k}{on}"),
                format!("{KUBECTL} wait --for=condition=Ready node/{k} --timeout=300s{on}"),
            ],
            after: sim.availability(),
        });
    }
    if prev.kubeadm_api != next.kubeadm_api {
        notes.push(format!(
            "the kubeadm configuration moves from {} to {}: the new bundle's kubeadm-config.yaml already uses it (`kubeadm config migrate` does the same for hand-kept files)",
            prev.kubeadm_api, next.kubeadm_api
        ));
    }
}

/// Renewed certificates, host by host: static pods and etcd restart. Leaves renewed under
/// the same CAs, and CAs renewed under the same key (same subject and key, a new validity):
/// a leaf verifies under the old and the renewed CA certificate alike, so hosts holding
/// either work together while the roll goes on. A renewed cluster CA also reaches each
/// kubelet's `kubelet.conf` (kubeadm embedded the CA there) and the `cluster-info`
/// ConfigMap that joining nodes read.
fn roll_out_renewals(
    ctx: &Ctx<'_>,
    added_cps: &[&String],
    sim: &Sim,
    steps: &mut Vec<Step>,
    notes: &mut Vec<String>,
) {
    let (prev, next, failed) = (ctx.prev, ctx.next, ctx.failed);
    let renewed = renewed_hosts(prev, next);
    let renewed_cluster_ca = renewed.values().flatten().any(|p| p == CA_CERT);
    for (host, paths) in renewed {
        if failed.contains(&host) || added_cps.iter().any(|c| **c == host) {
            continue;
        }
        let mut commands = vec![install(&host)];
        let (restarts, runs_etcd) = restart_and_gate(ctx, &host, &paths);
        commands.extend(restarts);
        steps.push(Step {
            host: host.clone(),
            action: renewal_action(&paths, runs_etcd, sim),
            commands,
            after: sim.availability(),
        });
    }
    if renewed_cluster_ca {
        steps.push(publish_renewed_ca(&ctx.anchor, sim));
    }
    let renewed = renewed_cas(prev, next);
    if !renewed.is_empty() {
        notes.push(format!(
            "renewed under the same key: {}; certificates the old CA certificates signed stay valid under the renewed ones, and kubeconfigs handed out to people and tools keep working until the old CA certificate expires: hand out the new admin.conf before then",
            renewed.join(", ")
        ));
    }
}

/// The commands that follow new files (`paths`) on `host`: the components that read them
/// restarted, each gated, a VIP holder handing the VIP off while its apiserver restarts; and
/// whether its etcd member restarts.
fn restart_and_gate(ctx: &Ctx<'_>, host: &str, paths: &[String]) -> (Vec<String>, bool) {
    let (next, stacked) = (ctx.next, ctx.stacked);
    let mut commands = Vec::new();
    // The etcd member restarts only when its own certificates changed (a stacked control
    // plane's apiserver certificate alone restarts the apiserver).
    let runs_etcd = ctx.next_members.contains_key(host)
        && (!stacked || paths.iter().any(|p| p.contains("/pki/etcd/")));
    let new_cluster_ca = paths.iter().any(|p| p == CA_CERT || p == WORKER_CA);
    let runs_kubelet =
        node(next, host).is_some_and(|n| has(&n, "control-plane") || has(&n, "worker"));
    let is_cp = ctx.next_cps.contains(host);
    // haproxy checks the apiservers against the cluster CA (`ca-file`), read when it loads.
    if new_cluster_ca
        && next.control_plane.load_balancer == "haproxy"
        && next.control_plane.load_balancers.iter().any(|l| l == host)
    {
        commands.push(
            "systemctl reload haproxy   # its health checks trust the new CA file".to_string(),
        );
    }
    let hand_off = hands_off_vip(next, host);
    if hand_off {
        commands.push(STOP_KEEPALIVED.to_string());
    }
    if is_cp {
        commands.push("for m in kube-apiserver kube-controller-manager kube-scheduler; do mv /etc/kubernetes/manifests/$m.yaml /etc/kubernetes/$m.yaml.hac; done; sleep 20; for m in kube-apiserver kube-controller-manager kube-scheduler; do mv /etc/kubernetes/$m.yaml.hac /etc/kubernetes/manifests/$m.yaml; done   # restarts the static pods".to_string());
        if stacked && runs_etcd {
            commands.push("mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml.hac; sleep 20; mv /etc/kubernetes/etcd.yaml.hac /etc/kubernetes/manifests/etcd.yaml".to_string());
        } else if runs_etcd {
            // An external etcd member on a control plane: its unit, as on an etcd host.
            commands.push("systemctl restart etcd".to_string());
        }
        if new_cluster_ca {
            commands.push(KUBELET_CA.to_string());
        }
        commands.push("systemctl restart kubelet".to_string());
        // Its kube-apiserver serves again (with the renewed certificate) before the next
        // host restarts: retried for five minutes.
        commands.push(readyz_gate(
            &format!(
                "{}:{}",
                addr(next, host),
                next.control_plane.api_server_port
            ),
            60,
        ));
        if hand_off {
            commands.extend(take_vip_back(next));
        }
    } else if runs_etcd {
        commands.push("systemctl restart etcd".to_string());
    }
    if new_cluster_ca && !is_cp && runs_kubelet {
        // kubeadm's copy (the kubelet's client CA) from the one hac keeps beside its files.
        commands.push(format!(
            "install -m 0644 /{WORKER_CA} /{CA_CERT} && {KUBELET_CA} && systemctl restart kubelet"
        ));
        commands.push(format!(
            "{KUBECTL} wait --for=condition=Ready node/{host} --timeout=300s   # on {}",
            ctx.anchor
        ));
    }
    if runs_etcd {
        // Stacked: the host has no etcdctl of its own; its etcd pod has.
        let ctl = if stacked {
            stacked_etcdctl(host)
        } else {
            etcdctl(&addr(next, host))
        };
        commands.push(etcd_health_gate(&ctl));
    }
    (commands, runs_etcd)
}

/// A renewal step's title: the renewed files, and what etcd tolerates while the host's
/// member restarts (`after` is the state once the step's gate passed).
fn renewal_action(paths: &[String], runs_etcd: bool, sim: &Sim) -> String {
    let during = if runs_etcd {
        let t = sim.availability().failures_tolerated.saturating_sub(1);
        format!(
            "; while its etcd member restarts, etcd tolerates {t} failure{}",
            if t == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    // Under kubeadm's folders by their place there (`etcd/ca.crt` beside `ca.crt`),
    // elsewhere by their whole path.
    let files: Vec<String> = paths
        .iter()
        .map(|p| {
            p.strip_prefix("etc/kubernetes/pki/")
                .or_else(|| p.strip_prefix("etc/kubernetes/"))
                .map_or_else(|| format!("/{p}"), str::to_string)
        })
        .collect();
    format!(
        "roll out renewed certificates ({}){during}",
        files.join(", ")
    )
}

/// The renewed cluster CA into `cluster-info`, on `anchor`. The token signatures
/// (`jws-kubeconfig-<id>`) sign the old content: they are dropped with it, so that a joining
/// node waits for the controller-manager's bootstrap signer to sign the new content instead
/// of refusing the old signature; the gate waits for those signatures where a bootstrap
/// token exists.
fn publish_renewed_ca(anchor: &str, sim: &Sim) -> Step {
    Step {
        host: anchor.to_string(),
        action: "publish the renewed cluster CA certificate in cluster-info (what joining nodes trust)".to_string(),
        commands: vec![
            format!("ca=$(base64 -w0 /{CA_CERT}) && {KUBECTL} -n kube-public get configmap cluster-info -o yaml | sed -e \"s#certificate-authority-data: .*#certificate-authority-data: $ca#\" -e '/^  jws-kubeconfig-/d' | {KUBECTL} replace -f -"),
            format!("ca=$(base64 -w0 /{CA_CERT}) && {KUBECTL} -n kube-public get configmap cluster-info -o yaml | grep -qF \"certificate-authority-data: $ca\" && ( n=0; until [ -z \"$({KUBECTL} -n kube-system get secrets --field-selector type=bootstrap.kubernetes.io/token -o name)\" ] || {KUBECTL} -n kube-public get configmap cluster-info -o yaml | grep -q '^  jws-kubeconfig-'; do n=$((n+1)); [ $n -lt 60 ] || exit 1; sleep 5; done )"),
        ],
        after: sim.availability(),
    }
}

/// Hosts whose leaf certificates (kept files, same path) changed serial, with the files'
/// paths.
fn renewed_hosts(prev: &State, next: &State) -> BTreeMap<String, Vec<String>> {
    let by_file = |certs: &[CertificateState]| -> BTreeMap<String, String> {
        certs
            .iter()
            .flat_map(|c| c.files.iter().map(move |f| (f.clone(), c.serial.clone())))
            .collect()
    };
    let (a, b) = (by_file(&prev.certificates), by_file(&next.certificates));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, serial) in &b {
        if a.get(file).is_some_and(|s| s != serial) {
            if let Some((host, path)) = file.split_once(':') {
                out.entry(host.to_string())
                    .or_default()
                    .push(path.to_string());
            }
        }
    }
    out
}

/// `host` and `port` of an endpoint `host:port`.
/// A step's gate: `GET https://<address>/readyz` (address `host:port`), tried `tries` times
/// 5 s apart.
fn readyz_gate(address: &str, tries: u32) -> String {
    format!("( n=0; until curl -fks --max-time 5 https://{address}/readyz; do n=$((n+1)); [ $n -lt {tries} ] || exit 1; sleep 5; done )")
}

/// Hands the VIP to a peer while this host's apiserver restarts.
const STOP_KEEPALIVED: &str =
    "systemctl stop keepalived   # a peer holds the VIP while this apiserver restarts";

/// Whether `host` hands the VIP to a peer before its apiserver restarts: keepalived alone
/// points the VIP at one apiserver, on the control planes (a stopped keepalived tells its
/// peers at once); it takes part again once its apiserver serves.
fn hands_off_vip(next: &State, host: &str) -> bool {
    let cp = &next.control_plane;
    cp.load_balancer == "keepalived"
        && cp.apiservers.iter().any(|a| a == host)
        && cp.vip_holders.iter().any(|h| h == host)
}

/// After [`STOP_KEEPALIVED`], once the host's apiserver serves: keepalived again, gated on
/// the endpoint.
fn take_vip_back(next: &State) -> [String; 2] {
    [
        "systemctl start keepalived".to_string(),
        readyz_gate(&next.control_plane.endpoint, 12),
    ]
}

/// A step's etcd gate: every member answers (`endpoint health --cluster`), tried 12 times
/// 5 s apart, as a membership change or a member's restart may be followed by a leader
/// election.
fn etcd_health_gate(ctl: &str) -> String {
    format!("( n=0; until {ctl} endpoint health --cluster; do n=$((n+1)); [ $n -lt 12 ] || exit 1; sleep 5; done )")
}

/// Moves the VIP's MASTER (the first VIP holder) to the end of `hosts`: it is updated last,
/// so the VIP moves at most once.
fn master_last<T: AsRef<str>>(hosts: &mut Vec<T>, cp: &ControlPlaneState) {
    let master = cp.vip_holders.first();
    if let Some(i) = hosts
        .iter()
        .position(|h| Some(h.as_ref()) == master.map(String::as_str))
    {
        let m = hosts.remove(i);
        hosts.push(m);
    }
}

fn host_port(endpoint: &str) -> (&str, &str) {
    endpoint.rsplit_once(':').unwrap_or((endpoint, ""))
}

/// Why a new endpoint port cannot be planned, if it cannot (docs/plan.md, "A new port"): the
/// build between has the proxies listen on both ports.
fn port_move_problem(prev: &State, next: &State) -> Option<(String, &'static str)> {
    let (a, b) = (&prev.control_plane, &next.control_plane);
    let (old, new) = (host_port(&a.endpoint), host_port(&b.endpoint));
    let what = format!(
        "the endpoint's port changes ({} → {})",
        a.endpoint, b.endpoint
    );
    let proxy = |k: &str| matches!(k, "haproxy" | "nginx");
    if a.load_balancer != b.load_balancer || !proxy(&b.load_balancer) {
        return Some((
            format!("{what} with load balancer {} → {}: only the port of a haproxy or nginx that stays is moved by a plan", a.load_balancer, b.load_balancer),
            "keep the port; to move it with another load balancer, follow the manual procedure of docs/plan.md",
        ));
    }
    if old.0 != new.0 || a.vip != b.vip {
        return Some((
            format!("{what} together with its address"),
            "one change per build: move the port first, the name or VIP in the next build",
        ));
    }
    if let Some(p) = a.previous_port {
        return Some((
            format!("{what} while the move from port {p} is not finished"),
            "finish the move first: build and plan once more with the same port (that build drops the previous one), then move again",
        ));
    }
    if b.previous_port.map(|p| p.to_string()).as_deref() != Some(old.1) {
        return Some((
            format!("{what} but this build does not serve the previous port"),
            "build with `hac build --from <the running bundle>` (and plan with `--from`): the build between keeps the old port beside the new one",
        ));
    }
    None
}

/// Whether the TCP proxy changes between haproxy and nginx on the same nodes (same
/// placement): planned host by host, the VIP's MASTER last.
fn proxy_switch(prev: &State, next: &State) -> bool {
    let (a, b) = (&prev.control_plane, &next.control_plane);
    let proxy = |k: &str| matches!(k, "haproxy" | "nginx");
    a.load_balancer != b.load_balancer
        && proxy(&a.load_balancer)
        && proxy(&b.load_balancer)
        && a.placement == b.placement
}

/// Why a change of the VIP cannot be planned, if it cannot (docs/plan.md, "A new VIP"): the
/// build between holds both VIPs, each under its own VRRP router id, so that the peers agree
/// on each instance's addresses while the configurations roll.
fn vip_move_problem(prev: &State, next: &State) -> Option<(String, &'static str)> {
    let (a, b) = (&prev.control_plane, &next.control_plane);
    if a.vip == b.vip {
        return None;
    }
    let (old, new) = (
        a.vip.as_deref().unwrap_or("none"),
        b.vip.as_deref().unwrap_or("none"),
    );
    let held_by_keepalived = |c: &crate::state::ControlPlaneState| {
        matches!(c.load_balancer.as_str(), "haproxy" | "nginx" | "keepalived")
    };
    if !held_by_keepalived(a) || a.vip.is_none() || b.vip.is_none() {
        return Some((
            format!("the VIP changes ({old} → {new}) with load balancer {}: only a VIP keepalived holds is moved by a plan", b.load_balancer),
            "keep the VIP; to move it, follow the manual procedure of docs/plan.md",
        ));
    }
    if let Some(p) = &a.previous_vip {
        return Some((
            format!("the VIP changes ({old} → {new}) while the move from {} is not finished", p.address),
            "finish the move first: build and plan once more with the same VIP (that build drops the previous one), then move again",
        ));
    }
    let Some(router_id) = a.vrrp_router_id else {
        return Some((
            format!("the VIP changes ({old} → {new}), and the previous build does not record keepalived's router id"),
            "rebuild the running version with this hac, then plan from that output",
        ));
    };
    if b.vrrp_router_id == Some(router_id) {
        return Some((
            format!("the VIP changes ({old} → {new}) under the same keepalived router id {router_id}: while the configurations roll, peers would disagree on that router's address"),
            "give the new VIP a new controlPlane.keepalived.routerId (unused on this network) in the same build",
        ));
    }
    if b.previous_vip
        .as_ref()
        .map(|p| (p.address.as_str(), p.vrrp_router_id))
        != Some((old, router_id))
    {
        return Some((
            format!("the VIP changes ({old} → {new}) but this build does not hold the previous one"),
            "build with `hac build --from <the running bundle>` (and plan with `--from`): the build between keeps the old VIP beside the new one",
        ));
    }
    None
}

/// Whether every kube-apiserver certificate of `s` carries `host` as a SAN.
fn served(s: &State, host: &str) -> bool {
    let san = if host.parse::<std::net::IpAddr>().is_ok() {
        format!("IP:{host}")
    } else {
        format!("DNS:{host}")
    };
    let mut certs = s
        .certificates
        .iter()
        .filter(|c| {
            c.files
                .iter()
                .any(|f| f.ends_with(":etc/kubernetes/pki/apiserver.crt"))
        })
        .peekable();
    certs.peek().is_some() && certs.all(|c| c.sans.contains(&san))
}

fn is_ca(c: &CertificateState) -> bool {
    c.subject == c.issuer
}

/// The CAs of a state: subject → (public key, serial).
fn cas(s: &State) -> BTreeMap<&str, (&str, &str)> {
    s.certificates
        .iter()
        .filter(|c| is_ca(c))
        .map(|c| {
            (
                c.subject.as_str(),
                (c.public_key.as_str(), c.serial.as_str()),
            )
        })
        .collect()
}

/// The CAs renewed under the same key (a new certificate, the same subject and key), by
/// subject.
fn renewed_cas(prev: &State, next: &State) -> Vec<String> {
    let a = cas(prev);
    cas(next)
        .into_iter()
        .filter(|(subject, (key, serial))| {
            a.get(subject).is_some_and(|(k, s)| k == key && s != serial)
        })
        .map(|(subject, _)| subject.to_string())
        .collect()
}

/// `--failed` names nodes of the live cluster, and etcd still has a quorum without them.
pub fn check_failed(prev: &State, failed: &BTreeSet<String>) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for f in failed {
        if !prev.nodes.iter().any(|n| &n.name == f) {
            let names: Vec<&str> = prev.nodes.iter().map(|n| n.name.as_str()).collect();
            let mut d = Diagnostic::error(format!(
                "--failed {f}: the live cluster has no node named so"
            ))
            .with_code(codes::PlanCode::FailedNodeUnknown);
            d = match hac_core::suggest::did_you_mean(f, names.iter().copied()) {
                Some(close) => d.with_hint(format!("did you mean `--failed {close}`?")),
                None => d.with_hint(format!(
                    "name a node of the bundle given to --from: {}",
                    names.join(", ")
                )),
            };
            errors.push(d);
        }
    }
    let n = prev.etcd.members.len();
    let down: Vec<&str> = prev
        .etcd
        .members
        .iter()
        .filter(|m| failed.contains(&m.name))
        .map(|m| m.name.as_str())
        .collect();
    if n > 0 && n - down.len() < n / 2 + 1 {
        errors.push(
            Diagnostic::error(format!(
                "etcd has lost its quorum: {} of its {n} members are down ({}), and it needs {} to change its membership",
                down.len(),
                down.join(", "),
                n / 2 + 1
            ))
            .with_code(codes::PlanCode::EtcdQuorumLost)
            .with_hint("no plan changes a cluster that cannot commit: restore etcd from a snapshot (`etcdutl snapshot restore` on every member of a new cluster, docs/plan.md), or bring a failed member back with its data"),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// What membership changes between two states (nodes with their roles, etcd members), or a
/// failed node to replace; `None` when nothing does.
fn membership_change(
    prev: &State,
    next: &State,
    failed: &BTreeSet<String>,
) -> Option<&'static str> {
    let nodes = |s: &State| -> Vec<(String, Vec<String>)> {
        s.nodes
            .iter()
            .map(|n| (n.name.clone(), n.roles.clone()))
            .collect()
    };
    if !failed.is_empty() {
        Some("failed nodes to replace")
    } else if nodes(prev) != nodes(next) {
        Some("nodes joining, leaving or changing roles")
    } else if prev.etcd_membership() != next.etcd_membership() {
        Some("etcd members that change")
    } else {
        None
    }
}

/// The changes no plan makes safely: each a coded error saying what to do instead.
// A flat list of independent refusals, each a condition and its coded error.
#[allow(clippy::too_many_lines)]
fn refuse_unsafe(
    prev: &State,
    next: &State,
    failed: &BTreeSet<String>,
) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut refuse = |code: codes::PlanCode, msg: String, hint: &str| {
        errors.push(
            Diagnostic::error(msg)
                .with_code(code)
                .with_hint(hint.to_string()),
        );
    };
    if prev.cluster != next.cluster {
        refuse(
            codes::PlanCode::OtherCluster,
            format!(
                "the previous bundle is of cluster \"{}\", this build is \"{}\"",
                prev.cluster, next.cluster
            ),
            "give `--from` the bundle last deployed to this cluster",
        );
        return Err(errors);
    }
    if prev.etcd.mode != next.etcd.mode {
        refuse(
            codes::PlanCode::EtcdTopologyChange,
            format!(
                "etcd changes from {} to {}: no plan moves the data between topologies",
                prev.etcd.mode, next.etcd.mode
            ),
            "keep the topology; to move, build a new cluster beside this one and migrate the workloads (or snapshot and restore etcd by hand)",
        );
    }
    let (n0, n1) = (prev.etcd.members.len(), next.etcd.members.len());
    let tol = |n: usize| n.saturating_sub(1) / 2;
    if n1 < 3 && n0 >= 3 || (n1 < n0 && tol(n1) == 0 && tol(n0) > 0) {
        refuse(
            codes::PlanCode::EtcdFaultToleranceLost,
            format!(
                "etcd would shrink from {n0} to {n1} members and tolerate no failure (it tolerates {} now)",
                tol(n0)
            ),
            "keep at least 3 etcd members (5 to tolerate 2 failures); to replace a member, add the new one in this build and remove the old one in the next, or, when it has failed, keep it and plan with `--failed <name>`",
        );
    }
    for m in &next.etcd.members {
        if let Some(p) = prev.etcd.members.iter().find(|p| p.name == m.name) {
            if p.peer_url != m.peer_url {
                refuse(
                    codes::PlanCode::EtcdMemberMoved,
                    format!(
                        "etcd member {} moves from {} to {}: a member's peer URL cannot change in place",
                        m.name, p.peer_url, m.peer_url
                    ),
                    "replace it: add a member under a new name at the new address in one build, remove the old one in the next",
                );
            }
        }
    }
    match (
        minor(&prev.kubernetes_version),
        minor(&next.kubernetes_version),
    ) {
        (Some(a), Some(b)) if b < a => refuse(
            codes::PlanCode::KubernetesDowngrade,
            format!(
                "Kubernetes would go back from {} to {}: kubeadm does not downgrade",
                prev.kubernetes_version, next.kubernetes_version
            ),
            "keep the running version (or a newer one); restoring an older version means restoring an etcd snapshot taken before the upgrade",
        ),
        (Some(a), Some(b)) if b.0 != a.0 || b.1 > a.1 + 1 => refuse(
            codes::PlanCode::KubernetesMinorSkipped,
            format!(
                "Kubernetes would jump from {} to {}: kubeadm upgrades one minor release at a time",
                prev.kubernetes_version, next.kubernetes_version
            ),
            "upgrade to the next minor release first (build, plan and apply each step), then to the one after",
        ),
        _ => {}
    }
    for n in &next.nodes {
        let Some(p) = node(prev, &n.name).filter(|p| !failed.contains(&p.name)) else {
            continue;
        };
        let kubelet_role = |x: &NodeState| (has(x, "control-plane"), has(x, "worker"));
        if kubelet_role(&p) != kubelet_role(n) {
            refuse(
                codes::PlanCode::NodeRoleChange,
                format!(
                    "{} changes roles in place ({} → {}): it joined the cluster as one kind of node, and `kubeadm join` refuses a node that has joined",
                    n.name,
                    p.roles.join(","),
                    n.roles.join(",")
                ),
                "remove it in one build (its Node drained and deleted, the host reset) and add it back with its new roles in the next; or give the new node another name",
            );
        }
    }
    if prev.kubernetes_version != next.kubernetes_version {
        if let Some(what) = membership_change(prev, next, failed) {
            refuse(
                codes::PlanCode::UpgradeWithMembershipChange,
                format!(
                    "Kubernetes moves from {} to {} in the same build as {what}: joining nodes would run the new kubelet and kubeadm against the old control plane, and the membership steps the new kubeadm",
                    prev.kubernetes_version, next.kubernetes_version
                ),
                "one change per build: change the nodes or etcd members at the running version first, then upgrade (or upgrade first)",
            );
        }
    }
    let prev_cps: BTreeSet<&String> = prev
        .control_plane
        .apiservers
        .iter()
        .filter(|c| !failed.contains(*c))
        .collect();
    if !next
        .control_plane
        .apiservers
        .iter()
        .any(|c| prev_cps.contains(c))
    {
        refuse(
            codes::PlanCode::NoControlPlaneKept,
            "no running control plane of the cluster is kept: new ones can only join a running one".to_string(),
            "keep at least one running control plane in this build; remove the old ones in a later build, once the new ones have joined",
        );
    }
    let cp = (&prev.control_plane, &next.control_plane);
    let (old, new) = (host_port(&cp.0.endpoint), host_port(&cp.1.endpoint));
    let switch = proxy_switch(prev, next);
    if old.1 != new.1 {
        if let Some((msg, hint)) = port_move_problem(prev, next) {
            refuse(codes::PlanCode::EndpointChange, msg, hint);
        }
    } else if cp.0.load_balancer != cp.1.load_balancer && !switch {
        refuse(
            codes::PlanCode::EndpointChange,
            format!(
                "the load-balancer kind or the endpoint's port changes ({} {} → {} {}): the address every kubeconfig, kubelet and the cluster-info ConfigMap reach would move at once",
                cp.0.load_balancer, cp.0.endpoint, cp.1.load_balancer, cp.1.endpoint
            ),
            "keep the port, and the kind unless it is haproxy ↔ nginx at the same placement; to move them, follow the manual procedure of docs/plan.md (a new name or a new VIP for the same kind and port is planned)",
        );
    } else if switch && (cp.0.vip != cp.1.vip || old.0 != new.0) {
        refuse(
            codes::PlanCode::EndpointChange,
            format!(
                "the load balancer changes from {} to {} in the same build as the endpoint ({} → {})",
                cp.0.load_balancer, cp.1.load_balancer, cp.0.endpoint, cp.1.endpoint
            ),
            "one change per build: switch the load balancer first, move the endpoint in the next build",
        );
    } else if let Some((msg, hint)) = vip_move_problem(prev, next) {
        refuse(codes::PlanCode::EndpointChange, msg, hint);
    }
    if (cp.0.load_balancer == cp.1.load_balancer || switch) && old.1 == new.1 && old.0 != new.0 {
        if !served(prev, new.0) {
            refuse(
                codes::PlanCode::EndpointChange,
                format!(
                    "the new endpoint {} is not a name the running apiservers' certificates carry: clients moved to it would be refused",
                    new.0
                ),
                "first add it to controlPlane.certSANs (keeping the endpoint), build and plan that (the apiserver certificates are renewed), then change the endpoint",
            );
        }
        if !served(next, old.0) {
            refuse(
                codes::PlanCode::EndpointChange,
                format!(
                    "the old endpoint {} would stop being a name of the apiserver certificates while kubeconfigs still use it",
                    old.0
                ),
                "keep the old name in controlPlane.certSANs in this build; drop it in a later build, once no kubeconfig names it",
            );
        }
    }
    match rotation::ca_change(prev, next) {
        Err(why) => refuse(
            codes::PlanCode::CaRotation,
            why,
            "renew a CA under the same key (a later `epoch` or another `pki.caValidityDays`); give the CAs new keys with `pki.caRotation`, building with `--from` the running bundle (docs/plan.md)",
        ),
        Ok(rotation::CaChange::Rotated(_) | rotation::CaChange::Dropped(_)) => {
            let what = if failed.is_empty() {
                rotation::other_change(prev, next)
            } else {
                Some("failed nodes to replace")
            };
            if let Some(what) = what {
                refuse(
                    codes::PlanCode::CaRotation,
                    format!("a CA rotation step comes with another change ({what}): every host restarts its components while trust moves, and a join or membership change in between would meet a half-trusted cluster"),
                    "rotate the CAs in builds of their own: the build that gives the CAs new keys, then the one (from its bundle, unchanged) that drops the old ones; make other changes before or after",
                );
            }
        }
        Ok(rotation::CaChange::Kept) => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
