//! Same inputs, same bytes: two builds of each example into different folders, from
//! different working directories, under a different TZ and umask, give identical files.

mod e2e_support;
use e2e_support::*;
use std::process::Command;

fn build_in_shell(name: &str, out: &std::path::Path, cwd: &std::path::Path, tz: &str, umask: &str) {
    let secrets = example_secrets(name);
    let script = format!(
        "umask {umask}; exec \"$0\" --color never build \"$1\" --secrets \"$2\" -o \"$3\" -q",
    );
    let o = run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_hac"))
        .arg(example_file(name))
        .arg(&secrets)
        .arg(out)
        .current_dir(cwd)
        .env("TZ", tz)
        .env("HAC_NOW", "2026-07-01T00:00:00Z"));
    assert!(
        o.status.success(),
        "build {name} failed: {}",
        text(&o.stderr)
    );
}

#[test]
fn builds_are_byte_identical_across_folders_cwd_tz_and_umask() {
    for name in BUILDABLE {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        build_in_shell(name, &a.path().join("one"), a.path(), "UTC", "022");
        build_in_shell(
            name,
            &b.path().join("deeper/two"),
            std::path::Path::new("/"),
            "Pacific/Kiritimati",
            "077",
        );
        let fa = files_under(&a.path().join("one"));
        let fb = files_under(&b.path().join("deeper/two"));
        assert_eq!(fa, fb, "{name}: different file lists");
        for f in &fa {
            let x = std::fs::read(a.path().join("one").join(f)).unwrap();
            let y = std::fs::read(b.path().join("deeper/two").join(f)).unwrap();
            assert!(x == y, "{name}: {} differs between two builds", f.display());
        }
        assert!(
            fa.iter().any(|f| f.to_string_lossy().ends_with(".tar.gz")),
            "{name}: no archives built"
        );
    }
}

#[test]
fn archives_list_sorted_root_owned_entries_at_the_epoch() {
    require_tool("tar");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    build_example("stacked-3", &out, "tar");
    let o = run(Command::new("tar")
        .arg("--numeric-owner")
        .arg("--full-time")
        .arg("-tvzf")
        .arg(out.join("hosts/master-0.tar.gz"))
        .env("TZ", "UTC"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let listing = text(&o.stdout);
    let mut names = Vec::new();
    for line in listing.lines() {
        assert!(line.contains(" 0/0 "), "entry not owned by 0/0: {line}");
        assert!(
            line.contains("2026-01-01 00:00:00"),
            "entry mtime is not the epoch: {line}"
        );
        names.push(line.split_whitespace().last().unwrap().to_string());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "archive entries are not sorted");
    assert!(
        listing.contains("-rw------- 0/0") && listing.contains("etc/kubernetes/pki/ca.key"),
        "{listing}"
    );
}
