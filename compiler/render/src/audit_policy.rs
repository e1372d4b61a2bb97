//! The kube-apiserver audit policy (`etc/kubernetes/audit-policy.yaml`) for
//! `controlPlane.apiServer.audit.policy`: a level gives hac's policy, YAML text is written as
//! given.

use hac_model::{AuditLevel, AuditPolicy};

/// hac's policy at `level`: nothing for health probes and the system components' routine
/// reads and lease renewals (they would drown every other line), secrets, config maps and
/// token requests and reviews at `Metadata` only (their bodies are secret), the rest at
/// `level`.
fn level_policy(level: AuditLevel) -> String {
    format!(
        "# Written by hac (controlPlane.apiServer.audit.policy = \"{name}\").
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  # Health and version probes.
  - level: None
    nonResourceURLs:
      - /healthz*
      - /livez*
      - /readyz*
      - /version
  # kube-proxy's watches, and the routine reads of the nodes and the control plane.
  - level: None
    users:
      - system:kube-proxy
    verbs:
      - watch
  - level: None
    userGroups:
      - system:nodes
    verbs:
      - get
      - list
      - watch
  - level: None
    users:
      - system:kube-controller-manager
      - system:kube-scheduler
      - system:apiserver
    verbs:
      - get
      - list
      - watch
  # Leader election and node heartbeats.
  - level: None
    verbs:
      - get
      - update
    resources:
      - group: coordination.k8s.io
        resources:
          - leases
  # Never the bodies of secrets, config maps and tokens.
  - level: Metadata
    resources:
      - group: \"\"
        resources:
          - secrets
          - configmaps
          - serviceaccounts/token
      - group: authentication.k8s.io
        resources:
          - tokenreviews
  - level: {level}
",
        name = AuditLevel::ALL
            .iter()
            .find(|(_, l)| *l == level)
            .map_or("metadata", |(n, _)| *n),
        level = level.api_name(),
    )
}

/// The policy file's text.
pub fn policy_text(policy: &AuditPolicy) -> String {
    match policy {
        AuditPolicy::Level(level) => level_policy(*level),
        AuditPolicy::Text(text) if text.ends_with('\n') => text.clone(),
        AuditPolicy::Text(text) => format!("{text}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_policy_keeps_secret_bodies_out_and_ends_at_the_level() {
        for (_, level) in AuditLevel::ALL {
            let text = policy_text(&AuditPolicy::Level(level));
            let doc: serde_json::Value = serde_yaml::from_str(&text).expect("YAML");
            assert_eq!(doc["kind"], "Policy");
            assert_eq!(doc["apiVersion"], "audit.k8s.io/v1");
            let rules = doc["rules"].as_array().expect("rules");
            let last = rules.last().expect("a rule");
            assert_eq!(last["level"], level.api_name());
            assert!(last.get("resources").is_none(), "the last rule catches all");
            let secrets = rules
                .iter()
                .position(|r| r.to_string().contains("\"secrets\""))
                .expect("a secrets rule");
            assert_eq!(rules[secrets]["level"], "Metadata");
        }
    }

    #[test]
    fn text_is_written_as_given() {
        let t = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata";
        assert_eq!(
            policy_text(&AuditPolicy::Text(t.to_string())),
            format!("{t}\n")
        );
    }
}
