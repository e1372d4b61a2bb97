//! `hac diff OLD NEW`: the words it says (insta snapshots) for the changes a review meets —
//! one worker added, a control plane added, the epoch moved (every certificate re-issued),
//! nothing changed — its exit status (0 same, 1 different, 2 not a bundle), that archives and
//! trees compare alike, and that no private key, password or token ever appears in its output.

mod e2e_support;
use e2e_support::*;
use e2e_support::{build_file as build, stacked_3_variant as cluster};
use std::path::Path;
use std::process::Output;

fn diff(old: &Path, new: &Path) -> Output {
    run(hac().arg("diff").arg(old).arg(new))
}

/// Builds stacked-3 before and after replacing `from` by `to` (`old_format`, `new_format`)
/// and returns `hac diff`'s stdout, checking it exits 1.
fn diff_of_change(from: &str, to: &str, old_format: &str, new_format: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old");
    let new = tmp.path().join("new");
    build(
        &cluster(&tmp.path().join("a"), from, from),
        &old,
        old_format,
    );
    build(&cluster(&tmp.path().join("b"), from, to), &new, new_format);
    let o = diff(&old, &new);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn one_worker_added() {
    // An archive bundle against a tree: the formats compare alike.
    let out = diff_of_change(
        r#"prefix = "worker"; count = 2;"#,
        r#"prefix = "worker"; count = 3;"#,
        "tar",
        "tree",
    );
    assert!(out.contains("host worker-2: added"), "{out}");
    insta::assert_snapshot!("one_worker_added", out);
}

#[test]
fn json_format_says_the_same_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let (from, to) = (
        r#"prefix = "worker"; count = 2;"#,
        r#"prefix = "worker"; count = 3;"#,
    );
    build(
        &cluster(&tmp.path().join("a"), from, from),
        &tmp.path().join("old"),
        "tree",
    );
    build(
        &cluster(&tmp.path().join("b"), from, to),
        &tmp.path().join("new"),
        "tree",
    );
    let o = run(hac()
        .arg("diff")
        .arg(tmp.path().join("old"))
        .arg(tmp.path().join("new"))
        .args(["--format", "json"]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["identical"], false);
    assert_eq!(
        v["hosts"],
        serde_json::json!([{ "host": "worker-2", "change": "added", "files": 11 }])
    );
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "SHA256SUMS",
            "ansible/inventory.yml",
            "cloud-init/worker-2-keys.tar.gz",
            "cloud-init/worker-2.yaml",
            "state.json",
            "topology.svg"
        ]
    );
}

#[test]
fn control_plane_added() {
    let out = diff_of_change(
        r#"prefix = "master"; count = 3;"#,
        r#"prefix = "master"; count = 5;"#,
        "tree",
        "tree",
    );
    insta::assert_snapshot!("control_plane_added", out);
}

#[test]
fn epoch_moved_reissues_every_certificate() {
    let out = diff_of_change(
        r#"epoch = "2026-01-01T00:00:00Z";"#,
        r#"epoch = "2026-07-01T00:00:00Z";"#,
        "tree",
        "tar",
    );
    assert!(
        out.contains("certificate re-issued: validity moved"),
        "{out}"
    );
    insta::assert_snapshot!("epoch_moved", out);
}

#[test]
fn identical_bundles_say_no_changes_and_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let file = cluster(&tmp.path().join("a"), "stacked-3", "stacked-3");
    build(&file, &tmp.path().join("tar"), "tar");
    build(&file, &tmp.path().join("tree"), "tree");
    for (a, b) in [("tar", "tar"), ("tar", "tree"), ("tree", "tar")] {
        let o = diff(&tmp.path().join(a), &tmp.path().join(b));
        assert_eq!(o.status.code(), Some(0), "{a} vs {b}: {}", text(&o.stderr));
        if a == b {
            insta::assert_snapshot!("identical", text(&o.stdout));
        } else {
            // SHA256SUMS lists archives on one side, folders on the other: the files inside
            // are compared instead, and they agree.
            let out = text(&o.stdout);
            assert!(
                out.contains("their files are compared, not their SHA256SUMS"),
                "{out}"
            );
            assert!(out.contains("no changes (7 hosts and"), "{out}");
        }
    }
}

#[test]
fn no_private_key_password_or_token_appears_even_when_every_key_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = cluster(&tmp.path().join("a"), "stacked-3", "stacked-3");
    // Another secrets file: another root secret (every key), password and token.
    let b_dir = tmp.path().join("b");
    std::fs::create_dir_all(&b_dir).unwrap();
    let b = b_dir.join("stacked-3.ha");
    std::fs::copy(&a, &b).unwrap();
    let o = run(hac().arg("secrets").arg("init").arg(&b));
    assert!(o.status.success(), "{}", text(&o.stderr));
    for (format_a, format_b) in [("tree", "tree"), ("tar", "tree")] {
        let old = tmp.path().join(format!("old-{format_a}-{format_b}"));
        let new = tmp.path().join(format!("new-{format_a}-{format_b}"));
        build(&a, &old, format_a);
        build(&b, &new, format_b);
        let o = diff(&old, &new);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(out.contains("key changed"), "{out}");
        assert!(out.contains("readable only by its owner"), "{out}");
        assert!(!out.contains("PRIVATE KEY"), "{out}");
        // The secret values of both secrets files, and every line of every private file of
        // the tree (keys, kubeconfigs, keepalived.conf): none may appear.
        for secrets in [a.with_extension("secrets"), b.with_extension("secrets")] {
            let s = std::fs::read_to_string(&secrets).unwrap();
            for line in s.lines().filter(|l| !l.starts_with('#')) {
                if let Some((_, value)) = line.split_once(':') {
                    let value = value.trim().trim_matches('"');
                    if value.len() >= 8 {
                        assert!(!out.contains(value), "a secret value appears:\n{out}");
                    }
                }
            }
        }
        let tree = if format_a == "tree" { &old } else { &new };
        use std::os::unix::fs::PermissionsExt;
        let (mut private, mut public) = (Vec::new(), std::collections::HashSet::new());
        for f in files_under(tree) {
            let path = tree.join(&f);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            let contents = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            for line in contents.lines().map(str::trim).filter(|l| l.len() >= 16) {
                if mode & 0o044 == 0 {
                    private.push((f.clone(), line.to_string()));
                } else {
                    public.insert(line.to_string());
                }
            }
        }
        // A line of a private file that no readable file holds too (the user-data carries
        // the readable files' lines as well) must not appear.
        for (f, line) in private.iter().filter(|(_, l)| !public.contains(l)) {
            assert!(
                !out.contains(line.as_str()),
                "a line of private {} appears: {line}",
                f.display()
            );
        }
    }
}

#[test]
fn bad_arguments_are_clear_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let file = cluster(&tmp.path().join("a"), "stacked-3", "stacked-3");
    let good = tmp.path().join("good");
    build(&file, &good, "tar");

    let missing = tmp.path().join("missing");
    let o = diff(&good, &missing);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("missing"), "{}", text(&o.stderr));

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = diff(&empty, &good);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("not a bundle of `hac build`"),
        "{}",
        text(&o.stderr)
    );

    // A truncated archive, cut at several points.
    let archive = std::fs::read(good.join("hosts/master-0.tar.gz")).unwrap();
    for cut in [10, archive.len() / 2, archive.len() - 4] {
        let broken = tmp.path().join(format!("broken-{cut}"));
        build(&file, &broken, "tar");
        std::fs::write(broken.join("hosts/master-0.tar.gz"), &archive[..cut]).unwrap();
        let o = diff(&good, &broken);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "cut at {cut}: {stderr}");
        assert!(
            stderr.contains("master-0.tar.gz") && stderr.contains("truncated or corrupt"),
            "cut at {cut}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
