//! The Ansible inventory (groups control_plane, etcd, workers, load_balancers) and the play
//! that unpacks each node's archive at / and bootstraps the cluster in order: every node's
//! services (etcd, load balancers) first, then the first master, the other masters one at a
//! time, then everything else.

use crate::facts::BOOTSTRAP;
use hac_model::{Cluster, Role};
use serde_json::{json, Map, Value};

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

fn bootstrap_play(name: &str, hosts: &str, serial: Option<u32>, phase: &str) -> Value {
    let mut play = Map::new();
    play.insert("name".into(), json!(name));
    play.insert("hosts".into(), json!(hosts));
    play.insert("become".into(), json!(true));
    play.insert("gather_facts".into(), json!(false));
    if let Some(s) = serial {
        play.insert("serial".into(), json!(s));
    }
    play.insert(
        "tasks".into(),
        json!([{
            "name": format!("Run bootstrap.sh {phase}"),
            "ansible.builtin.command": format!("/{BOOTSTRAP} {phase}"),
        }]),
    );
    Value::Object(play)
}

/// The play as data.
pub fn site(cluster: &Cluster) -> Value {
    let first = cluster
        .first_control_plane()
        .map(|n| n.name.clone())
        .unwrap_or_default();
    let unpack = json!({
        "name": "Copy and unpack each node's archive at /",
        "hosts": "all",
        "become": true,
        "gather_facts": false,
        "tasks": [
            {
                "name": "Copy the node's archive",
                "ansible.builtin.copy": {
                    "src": "{{ playbook_dir }}/../hosts/{{ inventory_hostname }}.tar.gz",
                    "dest": "/root/hac-node.tar.gz",
                    "owner": "root",
                    "group": "root",
                    "mode": "0600",
                }
            },
            {
                "name": "Unpack it at /",
                "ansible.builtin.unarchive": {
                    "src": "/root/hac-node.tar.gz",
                    "dest": "/",
                    "remote_src": true,
                }
            }
        ]
    });
    Value::Array(vec![
        unpack,
        bootstrap_play(
            "Start every node's services (kernel settings, etcd, keepalived, load balancer)",
            "all",
            None,
            "services",
        ),
        bootstrap_play(
            "Initialise the cluster on the first control plane",
            &first,
            None,
            "kubeadm",
        ),
        bootstrap_play(
            "Join the other control planes one at a time",
            &format!("control_plane:!{first}"),
            Some(1),
            "kubeadm",
        ),
        bootstrap_play(
            "Join everything else",
            "all:!control_plane",
            None,
            "kubeadm",
        ),
    ])
}
