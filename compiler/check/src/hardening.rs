//! Warnings for component settings that weaken the cluster (W0801): anonymous requests, the
//! profiling endpoints, an authorizer that allows everything, old TLS. Each names the flag and
//! where it was set; `hac explain W0801` says why and what to write instead. W0802: OIDC
//! users without an audit log (or a policy that logs nothing).

use crate::codes::CheckCode;
use crate::rules::at;
use hac_core::Diagnostic;
use hac_model::{AuditPolicy, Cluster, Component};
use std::collections::BTreeMap;

/// (flag, is the value weakening?, why) for every component's `extraArgs`.
type Weakness = (&'static str, fn(&str) -> bool, &'static str);

const WEAKNESSES: &[Weakness] = &[
    (
        "anonymous-auth",
        |v| v.eq_ignore_ascii_case("true"),
        "unauthenticated requests reach the API as system:anonymous",
    ),
    (
        "profiling",
        |v| v.eq_ignore_ascii_case("true"),
        "the pprof endpoints expose internals and can be used to load the component",
    ),
    (
        "authorization-mode",
        |v| v.split(',').any(|m| m.trim() == "AlwaysAllow"),
        "AlwaysAllow lets every authenticated user do anything",
    ),
    (
        "tls-min-version",
        |v| matches!(v, "VersionTLS10" | "VersionTLS11"),
        "TLS 1.0 and 1.1 are deprecated (RFC 8996)",
    ),
    (
        "tls-cipher-suites",
        |v| v.contains("RC4") || v.contains("3DES") || v.contains("_CBC_"),
        "RC4, 3DES and CBC cipher suites are broken or weak",
    ),
];

/// The warnings for every component's `extraArgs` and the security settings.
pub fn check(c: &Cluster, d: &mut Vec<Diagnostic>) {
    let s = &c.components;
    let api = &s.api_server;
    if api.oidc.is_some() {
        let blind = match &api.audit {
            None => Some("there is no audit log (`controlPlane.apiServer.audit`)"),
            Some(a) => match &a.policy {
                AuditPolicy::Text(t) if !logs_anything(t) => {
                    Some("the audit policy logs nothing (every rule is `level: None`)")
                }
                AuditPolicy::Text(_) | AuditPolicy::Level(_) => None,
            },
        };
        if let Some(why) = blind {
            d.push(
                Diagnostic::warning(format!(
                    "OIDC users can reach the API but {why}: their actions leave no trace"
                ))
                .with_code(CheckCode::OidcWithoutAudit)
                .with_span_opt(at(c, "controlPlane.apiServer.oidc"))
                .with_hint("add `controlPlane.apiServer.audit = { policy = \"metadata\"; };` (see `hac explain W0802`)"),
            );
        }
    }
    let sets: [(Component, &BTreeMap<String, String>); 4] = [
        (Component::ApiServer, &s.api_server.extra_args),
        (Component::ControllerManager, &s.controller_manager_args),
        (Component::Scheduler, &s.scheduler_args),
        (Component::Etcd, &s.etcd_args),
    ];
    for (component, args) in sets {
        for (flag, value) in args {
            let Some((_, _, why)) = WEAKNESSES
                .iter()
                .find(|(f, weak, _)| f == flag && weak(value))
            else {
                continue;
            };
            let path = format!("{}.\"{flag}\"", component.extra_args_path());
            d.push(
                Diagnostic::warning(format!("`--{flag}={value}` weakens the cluster: {why}"))
                    .with_code(CheckCode::WeakeningSetting)
                    .with_span_opt(at(c, &path))
                    .with_hint(format!(
                        "remove `{flag}` from `{}` unless you need it (see `hac explain W0801`)",
                        component.extra_args_path()
                    )),
            );
        }
    }
}

/// Whether a policy's YAML text has a rule at a level other than `None`.
fn logs_anything(policy: &str) -> bool {
    policy.lines().any(|l| {
        let l = l.trim().trim_start_matches("- ").trim();
        l.strip_prefix("level:")
            .map(|v| v.trim().trim_matches('"').trim_matches('\''))
            .is_some_and(|v| !v.is_empty() && v != "None")
    })
}

#[cfg(test)]
mod tests {
    use super::logs_anything;

    #[test]
    fn a_policy_of_none_rules_logs_nothing() {
        assert!(!logs_anything("kind: Policy\nrules:\n  - level: None\n"));
        assert!(logs_anything(
            "kind: Policy\nrules:\n  - level: None\n    users: [a]\n  - level: Metadata\n"
        ));
        assert!(logs_anything("rules:\n- level: \"Request\"\n"));
    }
}
