//! What a user reads: docs/reference.md is exactly what `hac reference` prints (so it
//! cannot go stale), every example in it evaluates, every library function is documented,
//! and `hac explain --list` names every diagnostic code once.
//!
//! To accept a change of the reference: `HAC_UPDATE_DOCS=1 cargo test --test docs_reference`
//! (or `cargo run -q -- reference > docs/reference.md`), then read the diff.

mod e2e_support;
use e2e_support::*;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Section};
use std::collections::BTreeSet;
use std::path::Path;

fn reference_path() -> std::path::PathBuf {
    root().join("docs").join("reference.md")
}

#[test]
fn docs_reference_md_is_what_hac_reference_prints() {
    let o = run(hac().arg("reference"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let fresh = o.stdout;
    let path = reference_path();
    if std::env::var_os("HAC_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).expect("write docs/reference.md");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != fresh {
        let (a, b) = (text(&committed), text(&fresh));
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
        panic!(
            "docs/reference.md is stale (first difference at line {}).\n\
             Regenerate it with `HAC_UPDATE_DOCS=1 cargo test --test docs_reference` \
             or `cargo run -q -- reference > docs/reference.md`, then review the diff.\n\
             committed: {:?}\n\
             generated: {:?}",
            first + 1,
            a.lines().nth(first).unwrap_or("<end of file>"),
            b.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn the_reference_command_has_a_help_example_and_the_same_text_as_the_library() {
    let o = run(hac().args(["reference", "--help"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("Example:"), "{}", text(&o.stdout));
    let o = run(hac().arg("reference"));
    let md = hac_check::reference::markdown(hac_eval::STDLIB, hac_render::codes::EXPLANATIONS);
    assert_eq!(text(&o.stdout), md);
}

/// The base lines of a valid cluster, by the attribute path each sets.
const BASE: &[(&str, &str)] = &[
    ("name", "name = \"ref\";"),
    ("kubernetesVersion", "kubernetesVersion = \"1.30.2\";"),
    ("epoch", "epoch = \"2026-01-01T00:00:00Z\";"),
    ("controlPlane.vip", "controlPlane.vip = \"10.0.2.100\";"),
    ("network.pods", "network.pods = \"10.244.0.0/16\";"),
    (
        "nodes.master-0.roles",
        "nodes.master-0.roles = [ \"control-plane\" ];",
    ),
    (
        "nodes.master-0.address",
        "nodes.master-0.address = \"10.0.2.10/24\";",
    ),
    (
        "nodes.master-1.roles",
        "nodes.master-1.roles = [ \"control-plane\" ];",
    ),
    (
        "nodes.master-1.address",
        "nodes.master-1.address = \"10.0.2.11/24\";",
    ),
    (
        "nodes.master-2.roles",
        "nodes.master-2.roles = [ \"control-plane\" ];",
    ),
    (
        "nodes.master-2.address",
        "nodes.master-2.address = \"10.0.2.12/24\";",
    ),
];

/// A schema path with the node `master-0` and the list element cut off: the binding an
/// example replaces (`nodes.<name>.taints[].key` → `nodes.master-0.taints`).
fn concrete(path: &str) -> String {
    let p = path.replace("<name>", "master-0");
    match p.split_once("[]") {
        Some((list, _)) => list.to_string(),
        None => p,
    }
}

/// The base cluster with the example in place of the bindings it overrides.
fn wrap(path: &str, example: &str) -> String {
    let d = concrete(path);
    let mut out = String::from("{ lib, ... }:\n{\n");
    for (p, line) in BASE {
        let overridden =
            *p == d || p.starts_with(&format!("{d}.")) || d.starts_with(&format!("{p}."));
        if !overridden {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!("  {example}\n}}\n"));
    out
}

/// The value at a schema path (`<name>` = master-0, `[]` = the first element), unless null.
fn data_at<'d>(data: &'d DataNode, path: &str) -> Option<&'d DataNode> {
    let mut cur = data;
    for part in path.replace("<name>", "master-0").split('.') {
        let (name, element) = match part.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (part, false),
        };
        cur = match &cur.value {
            Data::Attrs(a) => a.get(name)?,
            _ => return None,
        };
        if element {
            cur = match &cur.value {
                Data::List(items) => items.first()?,
                _ => return None,
            };
        }
    }
    (!matches!(cur.value, Data::Null)).then_some(cur)
}

fn evaluate(name: &str, source: &str) -> Result<DataNode, String> {
    let e = hac_eval::evaluate_source(
        name,
        source,
        Path::new("/nonexistent-hac-docs"),
        &hac_eval::EvalOptions::default(),
    );
    e.result.map_err(|d| format!("{d:#?}"))
}

#[test]
fn every_attribute_example_evaluates_converts_and_sets_its_attribute() {
    let base = wrap("", "");
    let data = evaluate("base.ha", &base).unwrap_or_else(|e| panic!("{base}\n{e}"));
    let c = hac_check::build_model(&data).unwrap_or_else(|d| panic!("{base}\n{d:#?}"));
    assert!(hac_check::check(&c).is_empty(), "the base cluster is valid");
    for a in schema::ATTRIBUTES {
        let path = a.path();
        let source = wrap(&path, a.example);
        let data = evaluate(&format!("{path}.ha"), &source)
            .unwrap_or_else(|e| panic!("the example of {path} does not evaluate:\n{source}\n{e}"));
        if let Err(d) = hac_check::build_model(&data) {
            panic!("the example of {path} is not a valid value:\n{source}\n{d:#?}");
        }
        assert!(
            data_at(&data, &path).is_some(),
            "the example of {path} does not set it:\n{source}"
        );
    }
}

#[test]
fn every_library_function_is_documented_and_its_examples_hold() {
    let docs = hac_check::reference::lib_functions(hac_eval::STDLIB);
    let documented: BTreeSet<String> = docs.iter().map(|f| f.name.clone()).collect();
    assert_eq!(
        documented.len(),
        docs.len(),
        "a function is documented twice"
    );

    let names = hac_eval::evaluate_source_to_json(
        "names.ha",
        "{ lib, ... }: { lib = builtins.attrNames lib; cidr = builtins.attrNames lib.cidr; }",
        Path::new("/nonexistent-hac-docs"),
        &hac_eval::EvalOptions::default(),
    )
    .result
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let names: serde_json::Value = serde_json::from_str(&names).expect("JSON");
    let mut exported = BTreeSet::new();
    for n in names["lib"].as_array().expect("lib names") {
        let n = n.as_str().unwrap_or_default();
        if n != "cidr" {
            exported.insert(n.to_string());
        }
    }
    for n in names["cidr"].as_array().expect("cidr names") {
        exported.insert(format!("cidr.{}", n.as_str().unwrap_or_default()));
    }
    assert!(exported.len() > 100, "{exported:?}");
    let undocumented: Vec<_> = exported.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "exported but not documented with a `#|` block in stdlib/*.ha: {undocumented:?}"
    );
    let stray: Vec<_> = documented.difference(&exported).collect();
    assert!(stray.is_empty(), "documented but not exported: {stray:?}");

    for f in &docs {
        assert!(!f.doc.is_empty(), "lib.{} has no description", f.name);
        assert!(!f.examples.is_empty(), "lib.{} has no example", f.name);
        for example in &f.examples {
            let source = format!("{{ lib, ... }}:\n{example}\n");
            let r = hac_eval::evaluate_source_to_json(
                "example.ha",
                &source,
                Path::new("/nonexistent-hac-docs"),
                &hac_eval::EvalOptions::default(),
            );
            match r.result {
                Ok(v) => assert_eq!(v, "true", "lib.{}: `{example}` is {v}", f.name),
                Err(d) => panic!("lib.{}: `{example}` fails:\n{d:#?}", f.name),
            }
        }
    }
}

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every code hac can raise: the registry `hac explain` answers from, each code once.
fn registry() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in hac::codes::registry() {
        assert!(out.insert(c.to_string()), "{c} is declared twice");
    }
    out
}

/// Code strings written outside the stages' kinds: `pub const X: &str = "E0…"` or a
/// literal handed to `with_code`. Codes are declared once, as kinds.
fn stray_code_literals() -> Vec<String> {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root().join("compiler"))
        .expect("compiler/")
        .flatten()
    {
        rs_files(&krate.path().join("src"), &mut files);
    }
    rs_files(&root().join("compiler/cli"), &mut files);
    let mut out = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap_or_default();
        for line in src.lines().map(str::trim) {
            let constant = line.starts_with("pub const ") && line.contains(": &str = \"");
            let literal = line.contains("with_code(\"") || line.contains("Some(\"E0");
            if constant || literal {
                let value = line.split('"').nth(1).unwrap_or_default();
                let is_code = value.len() == 5
                    && (value.starts_with('E') || value.starts_with('W'))
                    && value[1..].bytes().all(|b| b.is_ascii_digit());
                if is_code {
                    out.push(format!("{}: {line}", f.display()));
                }
            }
        }
    }
    out
}

#[test]
fn explain_list_names_every_code_once_sorted_with_its_title() {
    let o = run(hac().args(["explain", "--list"]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let listed: Vec<&str> = out
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(c, _)| c))
        .collect();
    for l in out.lines() {
        let title = l.split_once(' ').map_or("", |(_, t)| t.trim());
        assert!(!title.is_empty(), "no title: {l:?}");
    }
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(listed, sorted, "not sorted, or a code is listed twice");

    let stray = stray_code_literals();
    assert!(
        stray.is_empty(),
        "codes written outside the kinds: {stray:?}"
    );
    let expected = registry();
    assert!(
        expected.len() > 100 && expected.contains("E0202") && expected.contains("E0611"),
        "the registry is too small: {expected:?}"
    );
    // Every explanation belongs to a declared code.
    for c in
        hac_check::explain::codes().chain(hac_render::codes::EXPLANATIONS.iter().map(|(c, _)| *c))
    {
        assert!(expected.contains(c), "stray explanation {c}");
    }
    let listed: BTreeSet<String> = listed
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let missing: Vec<_> = expected.difference(&listed).collect();
    assert!(missing.is_empty(), "hac explain --list lacks {missing:?}");
    let stray: Vec<_> = listed.difference(&expected).collect();
    assert!(
        stray.is_empty(),
        "hac explain --list has codes hac never emits: {stray:?}"
    );
    // Each listed code has its explanation.
    for c in &listed {
        let o = run(hac().args(["explain", c.as_str()]));
        assert_eq!(o.status.code(), Some(0), "hac explain {c}");
    }
}

#[test]
fn explain_without_a_code_or_list_is_a_clear_usage_error() {
    let o = run(hac().arg("explain"));
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("--list") && err.contains("CODE"), "{err}");
    let o = run(hac().args(["explain", "E0201", "--list"]));
    assert_eq!(o.status.code(), Some(2), "a code and --list together");
    let o = run(hac().args(["explain", "E9999"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("E9999"));
}

#[test]
fn the_schema_sections_are_all_in_the_reference() {
    let md = hac_check::reference::markdown(hac_eval::STDLIB, hac_render::codes::EXPLANATIONS);
    for s in Section::ALL {
        assert!(md.contains(s.doc()), "{s:?}");
    }
    assert!(md.contains("#### `lib.cidr.host prefix hostnum`"));
    assert!(md.contains("#### `lib.nodes {"));
}
