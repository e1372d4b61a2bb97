//! The out-examples are snapshots: each scenario is rebuilt (`--format tree`) and compared,
//! file by file and byte by byte, with what is committed under `out-examples/<name>/bundle/`;
//! the rejected `two-masters` keeps its `hac check` output in `check.txt`. Any change to the
//! compiler's output therefore shows up as a reviewed diff.
//!
//! To accept a change: `HAC_UPDATE_EXAMPLES=1 cargo test --test examples`, then read the diff.

mod e2e_support;
use e2e_support::*;
use std::path::Path;

fn updating() -> bool {
    std::env::var_os("HAC_UPDATE_EXAMPLES").is_some()
}

fn compare_trees(name: &str, fresh: &Path, committed: &Path) {
    let a = files_under(fresh);
    if updating() {
        let _ = std::fs::remove_dir_all(committed);
        for f in &a {
            let dst = committed.join(f);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::copy(fresh.join(f), &dst).unwrap();
        }
        return;
    }
    assert!(
        committed.is_dir(),
        "{name}: no committed output at {} (run with HAC_UPDATE_EXAMPLES=1)",
        committed.display()
    );
    let b = files_under(committed);
    let missing: Vec<_> = b.iter().filter(|f| !a.contains(f)).collect();
    let added: Vec<_> = a.iter().filter(|f| !b.contains(f)).collect();
    assert!(
        missing.is_empty() && added.is_empty(),
        "{name}: file list changed\n  no longer built: {missing:?}\n  newly built: {added:?}"
    );
    let mut changed = Vec::new();
    for f in &a {
        if std::fs::read(fresh.join(f)).unwrap() != std::fs::read(committed.join(f)).unwrap() {
            changed.push(f.display().to_string());
        }
    }
    assert!(changed.is_empty(), "{name}: these files differ from out-examples (HAC_UPDATE_EXAMPLES=1 to accept after review):\n  {}", changed.join("\n  "));
}

#[test]
fn buildable_examples_match_their_committed_output() {
    for name in BUILDABLE {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("bundle");
        build_example(name, &out, "tree");
        compare_trees(name, &out, &example_dir(name).join("bundle"));
    }
}

#[test]
fn two_masters_is_rejected_and_keeps_its_error_output() {
    let o = run(hac()
        .current_dir(example_dir("two-masters"))
        .arg("check")
        .arg("two-masters.ha"));
    assert_eq!(
        o.status.code(),
        Some(1),
        "two-masters must be rejected:\n{}",
        text(&o.stderr)
    );
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("2"),
        "the error names the member count:\n{stderr}"
    );
    let committed = example_dir("two-masters").join("check.txt");
    if updating() {
        std::fs::write(&committed, &stderr).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&committed).expect("out-examples/two-masters/check.txt");
    assert_eq!(
        stderr, want,
        "hac check two-masters.ha changed (HAC_UPDATE_EXAMPLES=1 to accept after review)"
    );
    // and the build writes nothing
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    let o = run(hac()
        .arg("build")
        .arg(example_file("two-masters"))
        .arg("-o")
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "a rejected build must not write output");
}

#[test]
fn committed_sha256sums_match_the_committed_tree() {
    for name in BUILDABLE {
        let dir = example_dir(name).join("bundle");
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).expect("SHA256SUMS");
        let o = run(std::process::Command::new("sha256sum")
            .arg("--check")
            .arg("--quiet")
            .arg("SHA256SUMS")
            .current_dir(&dir));
        assert!(
            o.status.success(),
            "{name}: sha256sum -c failed:\n{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        assert!(
            sums.lines().count() > 5,
            "{name}: SHA256SUMS lists too few files"
        );
    }
}
