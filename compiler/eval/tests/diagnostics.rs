//! Spans of the produced data (the user's attribute names and expressions, also for values
//! made by the library) and the wording, hints and call traces of diagnostics.

use hac_core::{Data, DataNode, SourceMap, Span};
use hac_eval::{evaluate_source, EvalOptions, Evaluation};

fn run(text: &str) -> Evaluation {
    let dir = tempfile::tempdir().expect("temp dir");
    evaluate_source("cluster.ha", text, dir.path(), &EvalOptions::default())
}

fn text_of(sources: &SourceMap, span: Span) -> String {
    let f = sources
        .get(span.file)
        .expect("span's file is in the source map");
    f.text[span.start as usize..span.end as usize].to_string()
}

fn attr<'a>(n: &'a DataNode, name: &str) -> &'a DataNode {
    match &n.value {
        Data::Attrs(m) => m.get(name).unwrap_or_else(|| panic!("no attribute {name}")),
        other => panic!("not a set: {other:?}"),
    }
}

#[test]
fn attributes_carry_name_and_value_spans() {
    let ev = run("{\n  network = { cidr = \"10.0.0.0/16\"; };\n  count = 1 + 2;\n}\n");
    let root = ev.result.as_ref().expect("evaluates");
    let count = attr(root, "count");
    assert_eq!(
        text_of(&ev.sources, count.key_span.expect("key span")),
        "count"
    );
    assert_eq!(
        text_of(&ev.sources, count.span.expect("value span")),
        "1 + 2"
    );
    let cidr = attr(attr(root, "network"), "cidr");
    assert_eq!(
        text_of(&ev.sources, cidr.key_span.expect("key span")),
        "cidr"
    );
    assert_eq!(
        text_of(&ev.sources, cidr.span.expect("value span")),
        "\"10.0.0.0/16\""
    );
}

#[test]
fn values_made_in_the_library_point_at_the_users_call() {
    let src = "{ lib, ... }:\n{\n  nodes = lib.nodes { prefix = \"m\"; count = 2; first = \"10.0.2.10/24\"; roles = [ \"x\" ]; };\n}\n";
    let ev = run(src);
    let root = ev.result.as_ref().expect("evaluates");
    let user_file = ev
        .sources
        .files()
        .find(|(_, f)| f.name == "cluster.ha")
        .map(|(id, _)| id)
        .expect("user file");
    let nodes = attr(root, "nodes");
    let m0 = attr(nodes, "m-0");
    let address = attr(m0, "address");
    for (what, node) in [("nodes", nodes), ("m-0", m0), ("address", address)] {
        let span = node
            .best_span()
            .unwrap_or_else(|| panic!("{what} has no span"));
        assert_eq!(span.file, user_file, "{what} points into the library");
    }
    assert!(text_of(&ev.sources, address.best_span().expect("span")).starts_with("lib.nodes"));
    // Values the user wrote keep their own span even when passed through the library.
    let roles = attr(m0, "roles");
    assert_eq!(text_of(&ev.sources, roles.span.expect("span")), "[ \"x\" ]");
}

#[test]
fn library_errors_trace_back_to_the_user_file() {
    let src = "{ lib, ... }:\n{\n  nodes = lib.nodes { prefix = \"m\"; count = 300; first = \"10.0.2.10/24\"; };\n}\n";
    let ev = run(src);
    let d = ev.result.expect_err("runs out of the subnet");
    assert_eq!(d.code.as_deref(), Some("E0018"));
    let user_file = ev
        .sources
        .files()
        .find(|(_, f)| f.name == "cluster.ha")
        .map(|(id, _)| id)
        .expect("user file");
    assert!(
        d.trace.iter().any(|t| t.span.file == user_file),
        "no frame in the user's file: {:?}",
        d.trace
    );
    assert!(
        d.trace.iter().any(|t| t.message.contains("`nodes`")),
        "{:?}",
        d.trace
    );
    assert!(
        d.trace.iter().any(|t| t.message.contains("cidr.offset")),
        "{:?}",
        d.trace
    );
    let rendered = d.render(&ev.sources, false);
    assert!(rendered.contains("cluster.ha:3"), "{rendered}");
}

#[test]
fn deep_traces_are_bounded() {
    let ev = run("let f = n: if n == 0 then throw \"bottom\" else f (n - 1); in f 500");
    let d = ev.result.expect_err("throws");
    assert_eq!(d.code.as_deref(), Some("E0012"));
    assert_eq!(d.message, "bottom");
    assert!(d.trace.len() <= 10, "{} frames", d.trace.len());
    assert!(
        d.notes.iter().any(|n| n.contains("more call frames")),
        "{:?}",
        d.notes
    );
}

#[test]
fn suggestions_for_typos() {
    let d = run("let network = 1; in netwrok")
        .result
        .expect_err("undefined");
    assert_eq!(d.code.as_deref(), Some("E0003"));
    assert!(
        d.hints.iter().any(|h| h.contains("`network`")),
        "{:?}",
        d.hints
    );

    let d = run("{ controlPlane = 1; }.controlplane")
        .result
        .expect_err("missing");
    assert_eq!(d.code.as_deref(), Some("E0005"));
    assert!(
        d.hints.iter().any(|h| h.contains("`controlPlane`")),
        "{:?}",
        d.hints
    );

    let d = run("({ prefix, count }: count) { prefix = 1; cuont = 2; count = 3; }")
        .result
        .expect_err("unexpected");
    assert_eq!(d.code.as_deref(), Some("E0017"));
    assert!(d.message.contains("cuont"), "{}", d.message);
    assert!(
        d.hints.iter().any(|h| h.contains("`count`")),
        "{:?}",
        d.hints
    );
}

#[test]
fn type_errors_say_expected_and_found() {
    let ev = run("let xs = [ 1 ]; in xs.a");
    let d = ev.result.expect_err("type error");
    assert_eq!(d.code.as_deref(), Some("E0004"));
    assert!(
        d.message.contains("expected a set, found a list"),
        "{}",
        d.message
    );
    let d = run("builtins.length { }").result.expect_err("type error");
    assert!(
        d.message.contains("expected a list, found a set"),
        "{}",
        d.message
    );
}

#[test]
fn infinite_recursion_points_at_the_definition() {
    let ev = run("let\n  x = y;\n  y = x;\nin x");
    let d = ev.result.expect_err("cycle");
    assert_eq!(d.code.as_deref(), Some("E0006"));
    let span = d.span.expect("located");
    let t = text_of(&ev.sources, span);
    assert!(t == "x" || t == "y", "points at {t:?}");
}

#[test]
fn impure_builtins_are_unsupported_not_missing() {
    let d = run("builtins.currentTime").result.expect_err("impure");
    assert_eq!(d.code.as_deref(), Some("E0002"));
    let v = run("builtins ? currentTime").result.expect("evaluates");
    assert_eq!(v.value, Data::Bool(false));
    let d = run("builtins.fetchurl \"x\"").result.expect_err("impure");
    assert_eq!(d.code.as_deref(), Some("E0002"));
    let d = run("builtins.nonsense").result.expect_err("unknown");
    assert_eq!(d.code.as_deref(), Some("E0005"));
}

#[test]
fn functions_and_paths_cannot_be_output() {
    for src in ["{ f = x: x; }", "[ ./a.ha ]", "builtins.map"] {
        let d = run(src).result.expect_err("not representable");
        assert_eq!(d.code.as_deref(), Some("E0019"), "{src}");
        assert!(d.span.is_some(), "{src}");
    }
}
