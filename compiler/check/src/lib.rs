//! Turns evaluated data into the typed cluster model (`convert`), enforces every rule of
//! cluster.md (`rules`), computes the availability report (`report`), and holds the long
//! explanation of every diagnostic code (`explain`).

use hac_core::{DataNode, Diagnostic};
use hac_model::Cluster;

/// Data → model, with defaults applied. Errors point at the offending attribute.
pub fn build_model(data: &DataNode) -> Result<Cluster, Vec<Diagnostic>> {
    let _ = data;
    Err(vec![Diagnostic::error("cluster model not yet written")])
}

/// Every rule of cluster.md; errors and warnings, sorted by source position.
pub fn check(cluster: &Cluster) -> Vec<Diagnostic> {
    let _ = cluster;
    Vec::new()
}

/// The availability report (printed by `hac check`, written as `report.txt`).
pub fn report(cluster: &Cluster) -> String {
    let _ = cluster;
    String::new()
}

/// `hac explain CODE`: the long explanation of a diagnostic code (any stage's).
pub fn explain(code: &str) -> Option<&'static str> {
    let _ = code;
    None
}
