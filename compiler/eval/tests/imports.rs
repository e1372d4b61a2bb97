//! `import`: relative to the importer, sandboxed to the root file's directory tree plus
//! `allow_paths`; escapes (`..`, absolute paths, symlinks) are E0009, cycles E0010, missing
//! files E0011; each file is evaluated once.

use hac_eval::{evaluate, EvalOptions};
use serde_json::json;
use std::path::Path;

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

fn code_of(root: &Path, opts: &EvalOptions) -> String {
    let ev = evaluate(root, opts);
    match ev.result {
        Ok(v) => panic!("{}: expected an error, got {}", root.display(), v.to_json()),
        Err(d) => d.code.unwrap_or_default(),
    }
}

#[test]
fn relative_imports_nested_directories() {
    let t = tempfile::tempdir().expect("temp dir");
    let p = t.path().join("project");
    write(
        &p.join("cluster.ha"),
        "{ lib, ... }: { x = import ./sub/a.ha; }",
    );
    write(
        &p.join("sub/a.ha"),
        "(import ./b.ha) + (import ../sub/b.ha)",
    );
    write(&p.join("sub/b.ha"), "20");
    let ev = evaluate(&p.join("cluster.ha"), &EvalOptions::default());
    assert_eq!(
        ev.result.map(|v| v.to_json()).ok(),
        Some(json!({ "x": 40 }))
    );
    // The sources hold every file read, for rendering diagnostics.
    assert!(ev.sources.files().count() >= 3);
}

#[test]
fn escapes_are_refused_unless_allowed() {
    let t = tempfile::tempdir().expect("temp dir");
    let p = t.path().join("project");
    let shared = t.path().join("shared");
    write(&shared.join("common.ha"), "{ v = 1; }");
    write(&p.join("dotdot.ha"), "(import ../shared/common.ha).v");
    write(
        &p.join("abs.ha"),
        &format!("(import {}).v", shared.join("common.ha").display()),
    );
    assert_eq!(
        code_of(&p.join("dotdot.ha"), &EvalOptions::default()),
        "E0009"
    );
    assert_eq!(code_of(&p.join("abs.ha"), &EvalOptions::default()), "E0009");
    let widened = EvalOptions {
        allow_paths: vec![shared.clone()],
        ..Default::default()
    };
    for f in ["dotdot.ha", "abs.ha"] {
        let ev = evaluate(&p.join(f), &widened);
        assert_eq!(
            ev.result.map(|v| v.to_json()).ok(),
            Some(json!(1)),
            "{f} with --allow-path"
        );
    }
}

#[test]
fn symlink_out_of_the_sandbox_is_refused() {
    let t = tempfile::tempdir().expect("temp dir");
    let p = t.path().join("project");
    write(&t.path().join("secret.ha"), "42");
    write(&p.join("root.ha"), "import ./link.ha");
    std::os::unix::fs::symlink(t.path().join("secret.ha"), p.join("link.ha")).expect("symlink");
    let ev = evaluate(&p.join("root.ha"), &EvalOptions::default());
    let d = ev.result.expect_err("symlink escape");
    assert_eq!(d.code.as_deref(), Some("E0009"));
    assert!(
        d.notes.iter().any(|n| n.contains("symbolic link")),
        "{:?}",
        d.notes
    );
}

#[test]
fn cycles_and_missing_files() {
    let t = tempfile::tempdir().expect("temp dir");
    let p = t.path();
    write(&p.join("a.ha"), "import ./b.ha");
    write(&p.join("b.ha"), "import ./a.ha");
    write(&p.join("self.ha"), "{ x = import ./self.ha; }.x");
    write(&p.join("missing.ha"), "import ./nowhere.ha");
    write(&p.join("notpath.ha"), "import \"./a.ha\"");
    assert_eq!(code_of(&p.join("a.ha"), &EvalOptions::default()), "E0010");
    assert_eq!(
        code_of(&p.join("self.ha"), &EvalOptions::default()),
        "E0010"
    );
    assert_eq!(
        code_of(&p.join("missing.ha"), &EvalOptions::default()),
        "E0011"
    );
    assert_eq!(
        code_of(&p.join("notpath.ha"), &EvalOptions::default()),
        "E0004"
    );
    assert_eq!(
        code_of(&p.join("does-not-exist.ha"), &EvalOptions::default()),
        "E0011"
    );
}

#[test]
fn a_file_imported_twice_is_read_once() {
    let t = tempfile::tempdir().expect("temp dir");
    let p = t.path();
    write(&p.join("f.ha"), "x: x + 1");
    write(
        &p.join("root.ha"),
        "let a = import ./f.ha; b = import ./././f.ha; in [ (a 1) (b 2) ]",
    );
    let ev = evaluate(&p.join("root.ha"), &EvalOptions::default());
    assert_eq!(ev.result.map(|v| v.to_json()).ok(), Some(json!([2, 3])));
    let names: Vec<String> = ev.sources.files().map(|(_, f)| f.name.clone()).collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with("f.ha")).count(),
        1,
        "{names:?}"
    );
}

#[test]
fn attr_path_selects_with_did_you_mean() {
    let t = tempfile::tempdir().expect("temp dir");
    let p = t.path();
    write(
        &p.join("c.ha"),
        "{ lib, ... }: { nodes = { master-0 = { zone = \"a\"; }; }; }",
    );
    let opts = EvalOptions {
        attr_path: vec!["nodes".into(), "master-0".into(), "zone".into()],
        ..Default::default()
    };
    let ev = evaluate(&p.join("c.ha"), &opts);
    assert_eq!(ev.result.map(|v| v.to_json()).ok(), Some(json!("a")));
    let opts = EvalOptions {
        attr_path: vec!["nodse".into()],
        ..Default::default()
    };
    let d = evaluate(&p.join("c.ha"), &opts)
        .result
        .expect_err("missing -A");
    assert_eq!(d.code.as_deref(), Some("E0005"));
    assert!(d.hints.iter().any(|h| h.contains("nodes")), "{:?}", d.hints);
}
