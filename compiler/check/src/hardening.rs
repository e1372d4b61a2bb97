//! Warnings for component settings that weaken the cluster (W0801): anonymous requests, the
//! profiling endpoints, an authorizer that allows everything, old TLS. Each names the flag and
//! where it was set; `hac explain W0801` says why and what to write instead.

use crate::codes;
use crate::rules::at;
use hac_core::Diagnostic;
use hac_model::{Cluster, Component};
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

/// The warnings for every component's `extraArgs`.
pub fn check(c: &Cluster, d: &mut Vec<Diagnostic>) {
    let s = &c.components;
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
                    .with_code(codes::WEAKENING_SETTING)
                    .with_span_opt(at(c, &path))
                    .with_hint(format!(
                        "remove `{flag}` from `{}` unless you need it (see `hac explain W0801`)",
                        component.extra_args_path()
                    )),
            );
        }
    }
}
