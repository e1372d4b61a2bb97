//! Turns evaluated data into the typed cluster model (`convert`), enforces every rule of
//! cluster.md (`rules`), computes the availability report (`availability`), and holds the long
//! explanation of every diagnostic code (`explain`, any stage's codes).
//!
//! `cluster.origins` maps attribute paths as written in the `.ha` file (`network.pods`,
//! `nodes.master-0.address`, list items by index: `controlPlane.certSANs.0`) to the span of
//! the value; `nodes.NAME#name` is the span of a node's attribute name. Later stages can point
//! their own diagnostics there with `cluster.origins.get(path)`.

pub mod availability;
pub mod codes;
pub mod convert;
pub mod explain;
pub mod rules;

pub use availability::{Availability, LossOutcome, ZoneLoss};
pub use rules::{check_validity_now, check_vrrp_password, planned_apiserver_sans};

use hac_core::{DataNode, Diagnostic};
use hac_model::Cluster;

/// Data → model, with defaults applied. Errors point at the offending attribute; every
/// conversion error is reported, not just the first.
pub fn build_model(data: &DataNode) -> Result<Cluster, Vec<Diagnostic>> {
    convert::build_model(data)
}

/// Every rule of cluster.md; errors and warnings, sorted by source position, then code.
pub fn check(cluster: &Cluster) -> Vec<Diagnostic> {
    rules::check(cluster)
}

/// The availability report (printed by `hac check`, written as `report.txt`).
pub fn report(cluster: &Cluster) -> String {
    Availability::of(cluster).render()
}

/// `hac explain CODE`: the long explanation of a diagnostic code (any stage's).
pub fn explain(code: &str) -> Option<&'static str> {
    explain::explain(code)
}

/// Sorts diagnostics by source position (file, start), then code; those without a location last.
pub fn sort_diagnostics(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.span.is_none(),
                d.span.map(|s| (s.file, s.start, s.end)),
                d.code.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    diags
}
