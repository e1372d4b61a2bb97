//! Test helpers: builds `DataNode` trees from JSON with a distinct fake span for every value
//! and attribute name, so tests can assert where a diagnostic points.

#![allow(dead_code)]

use hac_core::{Data, DataNode, Diagnostic, FileId, Span};
use std::collections::BTreeMap;

pub struct Tree {
    pub root: DataNode,
    /// attribute path (`nodes.master-0.roles`, list items by index) → span of the value
    pub value_spans: BTreeMap<String, Span>,
    /// attribute path → span of the attribute name
    pub key_spans: BTreeMap<String, Span>,
}

impl Tree {
    pub fn value(&self, path: &str) -> Option<Span> {
        self.value_spans.get(path).copied()
    }
    pub fn key(&self, path: &str) -> Option<Span> {
        self.key_spans.get(path).copied()
    }
}

pub fn tree(v: &serde_json::Value) -> Tree {
    let mut t = Tree {
        root: DataNode::new(Data::Null, None),
        value_spans: BTreeMap::new(),
        key_spans: BTreeMap::new(),
    };
    let mut counter = 0usize;
    t.root = build(v, "", &mut counter, &mut t.value_spans, &mut t.key_spans);
    t
}

fn next(counter: &mut usize) -> Span {
    *counter += 2;
    Span::new(FileId(0), *counter, *counter + 1)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn build(
    v: &serde_json::Value,
    path: &str,
    counter: &mut usize,
    values: &mut BTreeMap<String, Span>,
    keys: &mut BTreeMap<String, Span>,
) -> DataNode {
    use serde_json::Value as J;
    let span = next(counter);
    values.insert(path.to_string(), span);
    let value = match v {
        J::Null => Data::Null,
        J::Bool(b) => Data::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Data::Int(i),
            None => Data::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Data::String(s.clone()),
        J::Array(items) => Data::List(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| build(x, &join(path, &i.to_string()), counter, values, keys))
                .collect(),
        ),
        J::Object(map) => {
            let mut out = BTreeMap::new();
            for (k, x) in map {
                let sub = join(path, k);
                let key_span = next(counter);
                keys.insert(sub.clone(), key_span);
                let mut node = build(x, &sub, counter, values, keys);
                node.key_span = Some(key_span);
                out.insert(k.clone(), node);
            }
            Data::Attrs(out)
        }
    };
    DataNode::new(value, Some(span))
}

/// A valid cluster: three masters with haproxy on them, two workers.
pub fn base() -> serde_json::Value {
    serde_json::json!({
        "name": "prod",
        "kubernetesVersion": "1.30.2",
        "epoch": "2026-01-01T00:00:00Z",
        "controlPlane": { "vip": "10.0.2.100" },
        "network": { "pods": "10.244.0.0/16" },
        "nodes": {
            "master-0": { "roles": ["control-plane"], "address": "10.0.2.10/24" },
            "master-1": { "roles": ["control-plane"], "address": "10.0.2.11/24" },
            "master-2": { "roles": ["control-plane"], "address": "10.0.2.12/24" },
            "worker-0": { "roles": ["worker"], "address": "10.0.2.20/24" },
            "worker-1": { "roles": ["worker"], "address": "10.0.2.21/24" }
        }
    })
}

/// Sets `path` (dot-separated) in a JSON object, creating sets on the way.
pub fn set(v: &mut serde_json::Value, path: &str, x: serde_json::Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur[*p] = x;
            return;
        }
        if cur.get(*p).is_none() {
            cur[*p] = serde_json::json!({});
        }
        cur = &mut cur[*p];
    }
}

/// Removes `path` from a JSON object.
pub fn remove(v: &mut serde_json::Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let mut cur = v;
    if let Some(p) = parent {
        for part in p.split('.') {
            cur = &mut cur[part];
        }
    }
    if let Some(o) = cur.as_object_mut() {
        o.remove(last);
    }
}

pub fn codes(diags: &[Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d.code.clone().unwrap_or_default())
        .collect()
}
