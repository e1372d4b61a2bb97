//! Turns evaluated data into the typed cluster model (`convert`), enforces every rule of
//! cluster.md (`rules`), computes the availability report (`availability`) and draws it as
//! the topology picture (`topology`), holds the long explanation of every diagnostic code
//! (`explain`, any stage's codes) and generates docs/reference.md (`reference`).
//!
//! `cluster.origins` maps attribute paths as written in the `.ha` file (`network.pods`,
//! `nodes.master-0.address`, list items by index: `controlPlane.certSANs.0`) to the span of
//! the value; `nodes.NAME#name` is the span of a node's attribute name. Later stages can point
//! their own diagnostics there with `cluster.origins.get(path)`.

pub mod availability;
pub mod codes;
pub mod convert;
pub mod explain;
mod hardening;
pub mod reference;
pub mod rules;
pub mod topology;

pub use availability::{Availability, LossOutcome, ZoneLoss};
pub use rules::{
    check_expiry, check_validity_now, model_cert_windows, planned_apiserver_sans, CertWindow,
};

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

/// The topology picture (printed by `hac graph`, written as `topology.svg`): an SVG document
/// drawn from the same analysis as the report.
pub fn topology_svg(cluster: &Cluster) -> String {
    topology::topology_svg(cluster)
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
    merge_repeats(diags)
}

/// One expression can make many values (`lib.nodes { … roles = "control-plane"; }` makes
/// every node's roles): the same problem at the same place is reported once, with the
/// other occurrences named in notes, instead of once per value.
fn merge_repeats(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    const NAMED: usize = 5;
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    let mut repeats: Vec<Vec<String>> = Vec::new();
    for d in diags {
        let same = out.iter().position(|o| {
            o.span.is_some()
                && o.code == d.code
                && o.span == d.span
                && o.span_label == d.span_label
                && o.hints == d.hints
                && o.severity == d.severity
        });
        match same {
            Some(i) => repeats[i].push(d.message),
            None => {
                out.push(d);
                repeats.push(Vec::new());
            }
        }
    }
    for (d, more) in out.iter_mut().zip(repeats) {
        for m in more.iter().take(NAMED) {
            d.notes.push(format!("the same expression also gives: {m}"));
        }
        if more.len() > NAMED {
            d.notes
                .push(format!("… and {} more like it", more.len() - NAMED));
        }
    }
    out
}

#[cfg(test)]
mod merge_tests {
    use super::*;
    use hac_core::{FileId, Span};

    #[test]
    fn the_same_problem_at_the_same_place_is_reported_once() {
        let at = Span::new(FileId(0), 10, 20);
        let d = |m: &str| {
            Diagnostic::error(m)
                .with_code(crate::codes::CheckCode::WrongType)
                .with_span(at)
        };
        let other = Diagnostic::error("elsewhere")
            .with_code(crate::codes::CheckCode::WrongType)
            .with_span(Span::new(FileId(0), 30, 40));
        let out = sort_diagnostics(vec![d("master-0"), other, d("master-1"), d("master-2")]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].message, "master-0");
        assert_eq!(out[0].notes.len(), 2);
        assert!(out[0].notes[1].contains("master-2"));
        assert_eq!(out[1].message, "elsewhere");
    }
}
