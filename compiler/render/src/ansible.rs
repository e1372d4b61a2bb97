//! The Ansible inventory (groups control_plane, etcd, workers, load_balancers) and the play
//! that installs each node's files and bootstraps the cluster in order: every node's
//! services (etcd, load balancers) first, then the first master, the other masters one at a
//! time, then the workers, with bounded health gates between the phases.
//!
//! What the play guarantees (README, "Ansible"):
//! - it reads `hosts/<node>/` (`--format tree`) or `hosts/<node>.tar.gz`; an archive is
//!   unpacked into a private temporary folder on the controller, never copied to the node,
//!   and that folder is removed whatever happens;
//! - the node's files are copied one by one from the list in its `manifest.json` (public
//!   files with `--diff`, key material without): existing directories keep their owner,
//!   mode and times (only the kernel touches a directory's mtime, when an entry is added,
//!   replaced or removed in it); missing directories are created 0755;
//! - the previous run's `/etc/hac/manifest.json` says which files the node had: those the
//!   new bundle no longer lists are removed; the new manifest is written last;
//! - every bootstrap.sh phase prints `hac: changed` when it changed the node, so a second
//!   run reports changed=0; `--check` skips the commands and the health gates (they would
//!   wait for what the skipped commands start);
//! - every gate runs on the node it guards and reaches the other hosts over the network,
//!   so `--limit <node>` works: it does that node's part only.

use crate::facts::{BOOTSTRAP, MANIFEST};
use hac_model::{Cluster, EtcdTopology, Role};
use serde_json::{json, Map, Value};

/// Attempts and seconds between attempts of every health gate (by default at most 10
/// minutes); `-e hac_gate_retries=N -e hac_gate_delay=S` changes them.
const GATE_RETRIES: &str = "{{ hac_gate_retries | default(120) | int }}";
const GATE_DELAY: &str = "{{ hac_gate_delay | default(5) | int }}";

/// The line a bootstrap.sh phase prints when it changed the node.
const CHANGED_MARKER: &str = "hac: changed";

/// The inventory as data.
pub fn inventory(cluster: &Cluster) -> Value {
    let group = |role: Role| -> Value {
        let mut hosts = Map::new();
        for node in cluster.nodes.iter().filter(|n| n.has(role)) {
            hosts.insert(
                node.name.clone(),
                json!({ "ansible_host": node.address.to_string() }),
            );
        }
        if hosts.is_empty() {
            json!({})
        } else {
            json!({ "hosts": hosts })
        }
    };
    json!({
        "all": {
            "children": {
                "control_plane": group(Role::ControlPlane),
                "etcd": group(Role::Etcd),
                "workers": group(Role::Worker),
                "load_balancers": group(Role::LoadBalancer),
            }
        }
    })
}

fn play(name: &str, hosts: &str, serial: Option<u32>, tasks: Vec<Value>) -> Value {
    let mut play = Map::new();
    play.insert("name".into(), json!(name));
    play.insert("hosts".into(), json!(hosts));
    play.insert("become".into(), json!(true));
    play.insert("gather_facts".into(), json!(false));
    if let Some(s) = serial {
        play.insert("serial".into(), json!(s));
    }
    play.insert("tasks".into(), Value::Array(tasks));
    Value::Object(play)
}

/// Runs one bootstrap.sh phase; changed only when the phase says so. `command` is skipped
/// by `--check`.
fn phase_task(phase: &str) -> Value {
    json!({
        "name": format!("Run bootstrap.sh {phase}"),
        "ansible.builtin.command": format!("/{BOOTSTRAP} {phase}"),
        "register": "hac_phase",
        "changed_when": format!("'{CHANGED_MARKER}' in (hac_phase.stdout | default(''))"),
    })
}

/// Waits, bounded, until `https://{target}/readyz` answers 200 from the node. The
/// certificate is not checked (a worker may not hold the cluster CA; `kubeadm join` pins
/// the CA itself): the gate only asks whether the apiserver is ready.
fn readyz_gate(what: &str, target: &str) -> Value {
    json!({
        "name": format!("Wait until {what} answers https://{target}/readyz"),
        "ansible.builtin.uri": {
            "url": format!("https://{target}/readyz"),
            "validate_certs": false,
            "timeout": 5,
        },
        "register": "hac_ready",
        "when": "not ansible_check_mode",
        "until": "hac_ready.status == 200",
        "retries": GATE_RETRIES,
        "delay": GATE_DELAY,
    })
}

/// Waits, bounded, until every external etcd member reports health over mutual TLS.
fn etcd_gate(cluster: &Cluster) -> Option<Value> {
    if cluster.etcd.topology != EtcdTopology::External {
        return None;
    }
    let members: Vec<String> = cluster
        .etcd_members()
        .map(|m| format!("https://{}:2379/health", m.address))
        .collect();
    Some(json!({
        "name": "Wait until every etcd member reports health",
        "ansible.builtin.uri": {
            "url": "{{ item }}",
            "ca_path": "/etc/kubernetes/pki/etcd/ca.crt",
            "client_cert": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "client_key": "/etc/kubernetes/pki/apiserver-etcd-client.key",
            "return_content": true,
            "timeout": 5,
        },
        "loop": members,
        "register": "hac_etcd",
        "when": "not ansible_check_mode",
        "until": "hac_etcd.status == 200 and '\"health\":\"true\"' in (hac_etcd.content | default(''))",
        "retries": GATE_RETRIES,
        "delay": GATE_DELAY,
    }))
}

/// The controller-side tasks run without become (they only read the bundle), also under
/// `--check`, and report no change (the node is not touched).
fn on_controller(mut task: Value) -> Value {
    let t = task.as_object_mut().expect("a task is an object");
    t.insert("delegate_to".into(), json!("localhost"));
    t.insert("become".into(), json!(false));
    t.insert("check_mode".into(), json!(false));
    // A private copy on the controller is no change to the node.
    t.insert("changed_when".into(), json!(false));
    Value::Object(t.clone())
}

/// The play that installs each node's files.
fn install_play() -> Value {
    let manifest_dir = MANIFEST.rsplit_once('/').map_or("", |(d, _)| d);
    let copy = |name: &str, filter: &str, diff: bool| -> Value {
        let mut task = json!({
            "name": name,
            "ansible.builtin.copy": {
                "src": "{{ hac_src }}/{{ item.path }}",
                "dest": "/{{ item.path | dirname }}/",
                "mode": "{{ item.mode }}",
            },
            "loop": format!("{{{{ hac_manifest.files | {filter} | list }}}}"),
            "loop_control": { "label": "/{{ item.path }}" },
        });
        if !diff {
            task["diff"] = json!(false);
        }
        task
    };
    let block = vec![
        on_controller(json!({
            "name": "Unpack the node's archive into a private folder on the controller (it never reaches the node)",
            "ansible.builtin.tempfile": { "state": "directory", "prefix": "hac-node-" },
            "register": "hac_staging",
            "when": "hac_tree is not directory",
        })),
        on_controller(json!({
            "name": "Unpack it",
            "ansible.builtin.unarchive": {
                "src": "{{ hac_archive }}",
                "dest": "{{ hac_staging.path }}",
                "remote_src": true,
            },
            "when": "hac_tree is not directory",
        })),
        json!({
            "name": "Read the node's manifest.json from the bundle",
            "ansible.builtin.set_fact": {
                "hac_src": "{{ hac_tree if hac_tree is directory else hac_staging.path }}",
                "hac_manifest": format!("{{{{ lookup('ansible.builtin.file', (hac_tree if hac_tree is directory else hac_staging.path) ~ '/{MANIFEST}') | from_json }}}}"),
            },
        }),
        json!({
            "name": "Read the manifest.json the previous run installed",
            "ansible.builtin.slurp": { "src": format!("/{MANIFEST}") },
            "register": "hac_previous",
            "failed_when": false,
        }),
        copy(
            "Install the node's public files",
            "selectattr('sha256', 'defined')",
            true,
        ),
        copy(
            "Install the node's key material (no diff shown)",
            "rejectattr('sha256', 'defined')",
            false,
        ),
        json!({
            "name": "Remove the files the previous bundle installed and this one no longer lists",
            "ansible.builtin.file": { "path": "/{{ item }}", "state": "absent" },
            "loop": "{{ ((hac_previous.content | b64decode | from_json).files | map(attribute='path') | list) | difference(hac_manifest.files | map(attribute='path') | list) if hac_previous.content is defined else [] }}",
        }),
        json!({
            "name": "Record the installed manifest.json (what the next run compares against)",
            "ansible.builtin.copy": {
                "src": format!("{{{{ hac_src }}}}/{MANIFEST}"),
                "dest": format!("/{manifest_dir}/"),
                "mode": "0644",
            },
        }),
    ];
    let always = vec![on_controller(json!({
        "name": "Remove the unpacked archive from the controller",
        "ansible.builtin.file": { "path": "{{ hac_staging.path }}", "state": "absent" },
        "when": "hac_staging.path is defined",
    }))];
    let mut p = play(
        "Install each node's files from hosts/<node>/ or hosts/<node>.tar.gz",
        "all",
        None,
        vec![json!({
            "name": "Install the node's files",
            "block": block,
            "always": always,
        })],
    );
    p["vars"] = json!({
        "hac_tree": "{{ playbook_dir }}/../hosts/{{ inventory_hostname }}",
        "hac_archive": "{{ playbook_dir }}/../hosts/{{ inventory_hostname }}.tar.gz",
    });
    p
}

/// The play as data.
pub fn site(cluster: &Cluster) -> Value {
    let mut plays = vec![install_play()];
    plays.push(play(
        "Prepare every node (packages, containerd, swap, firewall) and start its services (kernel settings, etcd, keepalived, load balancer)",
        "all",
        None,
        vec![phase_task("prepare"), phase_task("services")],
    ));
    let Some(first) = cluster.first_control_plane() else {
        return Value::Array(plays);
    };
    let first_apiserver = format!(
        "{}:{}",
        first.address, cluster.control_plane.api_server_port
    );
    let endpoint = cluster.control_plane_endpoint();
    let mut init = Vec::new();
    init.extend(etcd_gate(cluster));
    init.push(phase_task("kubeadm"));
    init.push(readyz_gate("the first apiserver", &first_apiserver));
    plays.push(play(
        "Initialise the cluster on the first control plane",
        &first.name,
        None,
        init,
    ));
    let join = || {
        let mut tasks = vec![readyz_gate("the first apiserver", &first_apiserver)];
        if endpoint != first_apiserver {
            tasks.push(readyz_gate("the control-plane endpoint", &endpoint));
        }
        tasks.push(phase_task("kubeadm"));
        tasks
    };
    plays.push(play(
        "Join the other control planes one at a time",
        &format!("control_plane:!{}", first.name),
        Some(1),
        join(),
    ));
    plays.push(play(
        "Join the workers",
        "workers:!control_plane",
        None,
        join(),
    ));
    Value::Array(plays)
}
