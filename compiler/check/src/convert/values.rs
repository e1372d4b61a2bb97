//! Data → model for typed values written as strings, lists and sets: versions, IPv4
//! addresses, CIDRs and node addresses, roles, labels and taints, interface names, and the
//! Kubernetes rules for label keys and values.

use super::walk::{describe, join, present};
use super::{Attrs, Converter};
use crate::codes::CheckCode;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Section};
use hac_model::{Role, Taint, Version};
use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

impl Converter {
    /// `nodes.<name>.interface` is not a Linux interface name.
    pub(super) fn invalid_interface(&mut self, attrs: &Attrs, path: &str, interface: &str) {
        let span = present(attrs, "interface").and_then(DataNode::best_span);
        self.error(
            CheckCode::InvalidValue,
            format!("`{path}.interface` is {interface:?}, not a network interface name"),
            span,
        )
        .hints
        .push(
            "Linux interface names are 1 to 15 letters, digits, `_`, `.` or `-` (not `.` or `..`), e.g. \"eth0\""
                .to_string(),
        );
    }

    pub(super) fn version(&mut self, node: &DataNode, path: &str) -> Option<Version> {
        let s = self.string(node, path, "a version string such as \"1.30.2\"")?;
        match Version::parse(s.trim()) {
            Some(v) if s.trim() == s && !s.contains('+') => Some(v),
            _ => {
                let d = self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, not a version of the form MAJOR.MINOR.PATCH"),
                    node.best_span(),
                );
                d.span_label = Some("expected e.g. \"1.30.2\"".to_string());
                if s.split('.').count() == 2 {
                    d.hints
                        .push(format!("add the patch release, e.g. \"{s}.0\""));
                }
                None
            }
        }
    }

    pub(super) fn ipv4(&mut self, node: &DataNode, path: &str) -> Option<Ipv4Addr> {
        let s = self.string(node, path, "an IPv4 address (a string)")?;
        match s.parse::<Ipv4Addr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.malformed_address(node, path, &s, "an IPv4 address such as \"10.0.2.100\"");
                None
            }
        }
    }

    fn malformed_address(&mut self, node: &DataNode, path: &str, s: &str, expected: &str) {
        if s.contains(':') {
            self.error(
                CheckCode::Malformed,
                format!("`{path}` is {s:?}, an IPv6 address: hac supports IPv4 only"),
                node.best_span(),
            )
            .hints
            .push(format!("write {expected}"));
            return;
        }
        let d = self.error(
            CheckCode::Malformed,
            format!("`{path}` is {s:?}, not {expected}"),
            node.best_span(),
        );
        if s.contains('/') && !expected.contains('/') {
            d.hints
                .push("write the address without a prefix length".to_string());
        }
    }

    pub(super) fn cidr(&mut self, node: &DataNode, path: &str) -> Option<Ipv4Net> {
        let s = self.string(node, path, "an IPv4 CIDR (a string)")?;
        match s.parse::<Ipv4Net>() {
            Ok(net) if net.trunc() == net => Some(net),
            Ok(net) => {
                self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, which has host bits set"),
                    node.best_span(),
                )
                .hints
                .push(format!("did you mean \"{}\"?", net.trunc()));
                None
            }
            Err(_) => {
                self.malformed_address(node, path, &s, "an IPv4 CIDR such as \"10.244.0.0/16\"");
                None
            }
        }
    }

    pub(super) fn roles(&mut self, node: &DataNode, path: &str) -> Option<Vec<Role>> {
        let Data::List(items) = &node.value else {
            let d_found = describe(node);
            let d = self.error(
                CheckCode::WrongType,
                format!("wrong type for `{path}`: expected a list of roles, found {d_found}"),
                node.best_span(),
            );
            d.span_label = Some("expected a list of roles".to_string());
            if let Data::String(s) = &node.value {
                d.hints.push(format!("write a list: [ \"{s}\" ]"));
            }
            return None;
        };
        let mut roles = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.spelled(item, &format!("{path}.{i}")) {
                Some(r) => roles.push(r),
                None => ok = false,
            }
        }
        roles.sort();
        roles.dedup();
        ok.then_some(roles)
    }

    pub(super) fn node_address(
        &mut self,
        node: &DataNode,
        path: &str,
    ) -> Option<(Ipv4Addr, Option<u8>)> {
        let s = self.string(
            node,
            path,
            "an IPv4 address with prefix length (a string such as \"10.0.2.10/24\")",
        )?;
        let parsed = match s.split_once('/') {
            None => s.parse::<Ipv4Addr>().ok().map(|a| (a, None)),
            Some((a, p)) => {
                let prefix = if p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()) {
                    p.parse::<u8>().ok()
                } else {
                    None
                };
                match (a.parse::<Ipv4Addr>().ok(), prefix.filter(|p| *p <= 32)) {
                    (Some(a), Some(p)) => Some((a, Some(p))),
                    _ => None,
                }
            }
        };
        if parsed.is_none() {
            self.malformed_address(
                node,
                path,
                &s,
                "an IPv4 address with prefix length such as \"10.0.2.10/24\"",
            );
        }
        parsed
    }

    pub(super) fn labels(
        &mut self,
        node: &DataNode,
        path: &str,
    ) -> Option<BTreeMap<String, String>> {
        let Data::Attrs(attrs) = &node.value else {
            self.wrong_type(path, "an attribute set of label names to strings", node);
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, v) in attrs {
            let sub = join(path, k);
            if let Some(span) = v.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            match self.string(v, &sub, "a string") {
                Some(s) => {
                    if let Some(problem) = qualified_name_problem(k) {
                        ok = false;
                        self.error(
                            CheckCode::InvalidValue,
                            format!("label name {k:?} in `{path}` is not a valid Kubernetes label key: {problem}"),
                            v.key_span.or(v.span),
                        )
                        .hints
                        .push("label keys are an optional DNS prefix and `/`, then up to 63 of a-z A-Z 0-9 `-` `_` `.` starting and ending with a letter or digit, e.g. \"node.example.com/pool\"".to_string());
                    } else if let Some(problem) = label_value_problem(&s) {
                        ok = false;
                        self.error(
                            CheckCode::InvalidValue,
                            format!("the value of label {k:?} in `{path}` is not a valid Kubernetes label value: {problem}"),
                            v.best_span(),
                        )
                        .hints
                        .push("label values are empty or up to 63 of a-z A-Z 0-9 `-` `_` `.` starting and ending with a letter or digit".to_string());
                    } else {
                        out.insert(k.clone(), s);
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn taints(&mut self, node: &DataNode, path: &str) -> Option<Vec<Taint>> {
        let Data::List(items) = &node.value else {
            self.wrong_type(path, "a list of taints ({ key; value; effect; })", node);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let sub = format!("{path}.{i}");
            let Some(t) = self.set(
                item,
                &sub,
                "a taint ({ key; value; effect; })",
                Section::Taint,
            ) else {
                ok = false;
                continue;
            };
            let t = &t;
            let key =
                present(t, "key").and_then(|n| self.string(n, &format!("{sub}.key"), "a string"));
            let value = self.opt_string(t, "value", "a string");
            let effect = present(t, "effect").and_then(|n| {
                let all: Vec<(&'static str, &'static str)> =
                    schema::TAINT_EFFECTS.iter().map(|e| (*e, *e)).collect();
                self.enum_value(n, &format!("{sub}.effect"), "taint effect", &all)
            });
            let key = key.filter(|k| match qualified_name_problem(k) {
                None => true,
                Some(problem) => {
                    let span = present(t, "key").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("taint key {k:?} in `{sub}` is not valid: {problem}"),
                        span,
                    );
                    false
                }
            });
            let value = value.filter(|v| match v.as_deref().and_then(label_value_problem) {
                None => true,
                Some(problem) => {
                    let span = present(t, "value").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("taint value in `{sub}` is not valid: {problem}"),
                        span,
                    );
                    false
                }
            });
            match (key, value, effect) {
                (Some(key), Some(value), Some(effect)) => out.push(Taint {
                    key,
                    value,
                    effect: effect.to_string(),
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// Why `s` is not a Kubernetes qualified name (label key, taint key): an optional DNS-1123
/// subdomain prefix and `/`, then a name of 1..63 of `[A-Za-z0-9-_.]`, alphanumeric at both ends.
pub fn qualified_name_problem(s: &str) -> Option<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if !crate::rules::is_dns1123_subdomain(p) {
            return Some(format!(
                "the prefix {p:?} is not a lower-case DNS subdomain"
            ));
        }
    }
    if name.is_empty() {
        return Some("the name is empty".to_string());
    }
    label_value_problem(name)
}

/// Why `s` is not a Kubernetes label value: empty, or 1..63 of `[A-Za-z0-9-_.]`,
/// alphanumeric at both ends.
pub fn label_value_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.len() > 63 {
        return Some(format!("it is {} characters long (at most 63)", s.len()));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Some("only letters, digits, `-`, `_` and `.` are allowed".to_string());
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !alnum(s.bytes().next()) || !alnum(s.bytes().last()) {
        return Some("it must start and end with a letter or digit".to_string());
    }
    None
}
