//! The writer's promises, checked from the outside: the same bundle gives the same bytes
//! whatever the working directory, time zone or umask; archives read back with the expected
//! properties (tar crate and GNU tar); `SHA256SUMS` verifies with `sha256sum -c`; a failed
//! write leaves the previous output byte-identical and no temporary folder behind.

mod common;

use common::{hidden_entries, run_ok, sample_bundle, snapshot, tool, EPOCH};
use hac_bundle::{host_archive, write, BundleError, Format};
use hac_model::{Artifact, Bundle};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Set in a child process of this test binary: the folder the child writes the sample into.
const CHILD_OUT_VAR: &str = "HAC_BUNDLE_TEST_CHILD_OUT";
const CHILD_FORMAT_VAR: &str = "HAC_BUNDLE_TEST_CHILD_FORMAT";

/// Does nothing in a normal run; in the child spawned by `same_bytes_whatever_cwd_tz_and_umask`
/// it writes the sample bundle where the parent says.
#[test]
fn child_writer() {
    let Ok(out) = std::env::var(CHILD_OUT_VAR) else {
        return;
    };
    let format = match std::env::var(CHILD_FORMAT_VAR).as_deref() {
        Ok("tree") => Format::Tree,
        _ => Format::Tar,
    };
    write(&sample_bundle(), Path::new(&out), format, EPOCH).expect("child write");
}

fn write_in_child(out: &Path, format: Format, cwd: &Path, umask: &str, tz: &str) {
    let me = std::env::current_exe().expect("test binary path");
    let format_name = if format == Format::Tree {
        "tree"
    } else {
        "tar"
    };
    let mut command = Command::new("sh");
    command
        .args(["-c", "umask \"$1\" && cd \"$2\" && exec \"$3\" child_writer --exact --nocapture --test-threads=1", "sh"])
        .arg(umask)
        .arg(cwd)
        .arg(&me)
        .env(CHILD_OUT_VAR, out)
        .env(CHILD_FORMAT_VAR, format_name)
        .env("TZ", tz);
    run_ok(&mut command);
    assert!(
        out.join("SHA256SUMS").is_file(),
        "the child wrote nothing at {}",
        out.display()
    );
}

#[test]
fn same_bytes_whatever_cwd_tz_and_umask() {
    for format in [Format::Tar, Format::Tree] {
        let scratch = tempfile::tempdir().expect("tempdir");
        let here = scratch.path().join("here");
        write(&sample_bundle(), &here, format, EPOCH).expect("write in process");
        let cwd = scratch.path().join("elsewhere");
        std::fs::create_dir(&cwd).expect("mkdir");
        let first = scratch.path().join("child-077");
        write_in_child(&first, format, &cwd, "077", "Pacific/Kiritimati");
        let second = scratch.path().join("child-000");
        write_in_child(&second, format, Path::new("/"), "000", "America/Adak");
        let expected = snapshot(&here);
        assert!(
            expected.len() > 5,
            "{format:?}: too little written: {expected:?}"
        );
        assert_eq!(
            snapshot(&first),
            expected,
            "{format:?}: bytes or modes differ under umask 077"
        );
        assert_eq!(
            snapshot(&second),
            expected,
            "{format:?}: bytes or modes differ under umask 000"
        );
    }
}

#[test]
fn tree_files_have_the_artifact_modes() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("out");
    write(&sample_bundle(), &out, Format::Tree, EPOCH).expect("write");
    let mode = |relative: &str| {
        std::fs::symlink_metadata(out.join(relative))
            .unwrap_or_else(|e| panic!("{relative}: {e}"))
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("hosts/master-0/etc/kubernetes/pki/ca.key"), 0o600);
    assert_eq!(mode("hosts/master-0/etc/kubernetes/pki/ca.crt"), 0o644);
    assert_eq!(mode("hosts/master-0/etc/hac/bootstrap.sh"), 0o755);
    assert_eq!(mode("hosts/master-0/var/lib/etcd"), 0o700);
    assert_eq!(mode("hosts/master-0/etc/kubernetes/pki"), 0o755);
    assert_eq!(mode("cloud-init/master-0.yaml"), 0o600);
    assert_eq!(mode("SHA256SUMS"), 0o644);
    assert_eq!(mode(""), 0o755);
    assert_eq!(
        std::fs::read(out.join("hosts/worker-0/etc/kubernetes/kubeadm-config.yaml")).expect("read"),
        b"kind: JoinConfiguration\n"
    );
}

#[test]
fn archive_entries_are_sorted_explicit_and_owned_by_root() {
    let bundle = sample_bundle();
    let bytes = host_archive("master-0", &bundle.hosts["master-0"], EPOCH).expect("archive");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut seen = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let header = entry.header().clone();
        assert!(header.as_gnu().is_some(), "not a GNU header");
        assert_eq!(header.mtime().expect("mtime"), EPOCH as u64);
        assert_eq!(
            (header.uid().expect("uid"), header.gid().expect("gid")),
            (0, 0)
        );
        assert_eq!(header.username().expect("user"), Some("root"));
        assert_eq!(header.groupname().expect("group"), Some("root"));
        let path = entry.path().expect("path").display().to_string();
        let kind = if header.entry_type().is_dir() {
            "d"
        } else {
            "f"
        };
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).expect("contents");
        seen.push((path, kind, header.mode().expect("mode"), contents));
    }
    let listing: Vec<String> = seen
        .iter()
        .map(|(p, k, m, _)| format!("{k} {m:04o} {p}"))
        .collect();
    assert_eq!(
        listing,
        vec![
            "d 0755 etc/",
            "d 0755 etc/hac/",
            "f 0755 etc/hac/bootstrap.sh",
            "f 0644 etc/hac/manifest.json",
            "d 0755 etc/kubernetes/",
            "d 0755 etc/kubernetes/a-rather-long-folder-name-to-need-the-gnu-long-name-extension/",
            "f 0644 etc/kubernetes/a-rather-long-folder-name-to-need-the-gnu-long-name-extension/and-a-long-file-name-too.yaml",
            "f 0600 etc/kubernetes/admin.conf",
            "d 0755 etc/kubernetes/pki/",
            "f 0644 etc/kubernetes/pki/ca.crt",
            "f 0600 etc/kubernetes/pki/ca.key",
            "d 0755 var/",
            "d 0755 var/lib/",
            "d 0700 var/lib/etcd/",
        ]
    );
    let key = seen
        .iter()
        .find(|(p, ..)| p == "etc/kubernetes/pki/ca.key")
        .expect("key entry");
    assert_eq!(key.3, b"KEY OF master-0\n");
}

#[test]
fn gzip_header_has_no_name_and_no_mtime() {
    let bundle = sample_bundle();
    let bytes = host_archive("worker-0", &bundle.hosts["worker-0"], EPOCH).expect("archive");
    // magic, deflate, no flags (no FNAME), mtime 0, XFL 2 (best compression), OS 255 (unknown)
    assert_eq!(&bytes[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
}

/// Pins the whole pipeline — tar layout, compression backend and level: if this changes,
/// every user's `SHA256SUMS` changes. Update it only on purpose.
#[test]
fn archive_bytes_are_pinned() {
    let bundle = sample_bundle();
    let bytes = host_archive("master-0", &bundle.hosts["master-0"], EPOCH).expect("archive");
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest, PINNED_MASTER_0_SHA256,
        "archive bytes changed (tar layout, gzip backend or level)"
    );
}
const PINNED_MASTER_0_SHA256: &str =
    "d4d51382a9163418e97743de3f9a348b804c9cb2c1157236b393b21e9cb3022d";

#[test]
fn gnu_tar_lists_and_extracts_with_the_right_modes() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("out");
    write(&sample_bundle(), &out, Format::Tar, EPOCH).expect("write");
    let archive = out.join("hosts/master-0.tar.gz");
    assert_eq!(
        std::fs::metadata(&archive)
            .expect("archive")
            .permissions()
            .mode()
            & 0o7777,
        0o600
    );
    let listing = run_ok(
        tool("tar")
            .args(["--numeric-owner", "--full-time", "-tvzf"])
            .arg(&archive)
            .env("TZ", "UTC"),
    );
    assert!(listing.contains("-rw------- 0/0"), "{listing}");
    assert!(listing.contains("drwx------ 0/0"), "{listing}");
    assert!(
        listing.contains("2026-01-01 00:00:00 etc/kubernetes/pki/ca.key"),
        "{listing}"
    );
    assert!(
        listing.contains("and-a-long-file-name-too.yaml"),
        "{listing}"
    );
    let names = run_ok(tool("tar").args(["-tvzf"]).arg(&archive));
    assert!(names.contains("root/root"), "{names}");

    let extracted = scratch.path().join("extracted");
    std::fs::create_dir(&extracted).expect("mkdir");
    run_ok(
        tool("tar")
            .args(["--same-permissions", "-xzf"])
            .arg(&archive)
            .arg("-C")
            .arg(&extracted),
    );
    let mode = |relative: &str| {
        std::fs::metadata(extracted.join(relative))
            .expect(relative)
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("etc/kubernetes/pki/ca.key"), 0o600);
    assert_eq!(mode("etc/kubernetes/pki/ca.crt"), 0o644);
    assert_eq!(mode("etc/hac/bootstrap.sh"), 0o755);
    assert_eq!(mode("var/lib/etcd"), 0o700);
    assert_eq!(
        std::fs::read(extracted.join("etc/kubernetes/pki/ca.key")).expect("key"),
        b"KEY OF master-0\n"
    );
}

#[test]
fn sha256sums_verifies_and_lists_every_file_sorted() {
    for format in [Format::Tar, Format::Tree] {
        let scratch = tempfile::tempdir().expect("tempdir");
        let out = scratch.path().join("out");
        write(&sample_bundle(), &out, format, EPOCH).expect("write");
        let checked = run_ok(
            tool("sha256sum")
                .args(["--strict", "-c", "SHA256SUMS"])
                .current_dir(&out),
        );
        let sums = std::fs::read_to_string(out.join("SHA256SUMS")).expect("sums");
        let paths: Vec<&str> = sums
            .lines()
            .map(|l| l.split_once("  ").expect("two spaces").1)
            .collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted, "{format:?}: not sorted");
        let files_on_disk = snapshot(&out)
            .into_iter()
            .filter(|e| e.1 == "file" && e.0 != "SHA256SUMS" && e.0 != hac_bundle::MARKER_FILE)
            .count();
        assert_eq!(
            paths.len(),
            files_on_disk,
            "{format:?}: SHA256SUMS misses files:\n{sums}"
        );
        assert_eq!(
            checked.lines().filter(|l| l.ends_with(": OK")).count(),
            files_on_disk,
            "{checked}"
        );
        assert!(!paths.contains(&"SHA256SUMS"));
        match format {
            Format::Tar => assert!(paths.contains(&"hosts/master-1.tar.gz"), "{sums}"),
            Format::Tree => assert!(
                paths.contains(&"hosts/master-1/etc/kubernetes/pki/ca.key"),
                "{sums}"
            ),
        }
    }
}

fn bundle_with_host_file(node: &str, artifact: Artifact) -> Bundle {
    let mut bundle = sample_bundle();
    bundle
        .hosts
        .entry(node.to_string())
        .or_default()
        .push(artifact);
    bundle
}

#[test]
fn a_failed_write_changes_nothing() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("out");
    write(&sample_bundle(), &out, Format::Tar, EPOCH).expect("first write");
    let before = snapshot(&out);

    let long_node = "n".repeat(300); // passes validation, refused by the filesystem mid-write
    let failures: Vec<(&str, Bundle, Format)> = vec![
        (
            "absolute path",
            bundle_with_host_file("master-0", Artifact::new("/etc/passwd", 0o644, "x")),
            Format::Tar,
        ),
        (
            "dot-dot path",
            bundle_with_host_file("master-0", Artifact::new("etc/../../x", 0o644, "x")),
            Format::Tree,
        ),
        (
            "collision",
            bundle_with_host_file(
                "master-0",
                Artifact::new("etc/hac/bootstrap.sh", 0o644, "x"),
            ),
            Format::Tar,
        ),
        (
            "file under a file",
            bundle_with_host_file(
                "worker-0",
                Artifact::new("etc/hac/bootstrap.sh/x", 0o644, "x"),
            ),
            Format::Tree,
        ),
        (
            "escaping node name",
            bundle_with_host_file("../escape", Artifact::new("etc/x", 0o644, "x")),
            Format::Tree,
        ),
        (
            "slash in node name",
            bundle_with_host_file("a/b", Artifact::new("etc/x", 0o644, "x")),
            Format::Tar,
        ),
        (
            "too long for the filesystem (tar)",
            bundle_with_host_file(&long_node, Artifact::new("etc/x", 0o644, "x")),
            Format::Tar,
        ),
        (
            "too long for the filesystem (tree)",
            bundle_with_host_file(&long_node, Artifact::new("etc/x", 0o644, "x")),
            Format::Tree,
        ),
    ];
    for (what, bundle, format) in failures {
        let result = write(&bundle, &out, format, EPOCH);
        assert!(result.is_err(), "{what}: the write succeeded");
        assert_eq!(
            snapshot(&out),
            before,
            "{what}: the previous output changed"
        );
        assert_eq!(
            hidden_entries(scratch.path()),
            Vec::<String>::new(),
            "{what}: temporary folders left behind"
        );
        assert!(
            !scratch.path().join("escape").exists() && !scratch.path().join("hosts").exists(),
            "{what}: escaped"
        );
    }
    assert!(matches!(
        write(&sample_bundle(), &out, Format::Tar, -1),
        Err(BundleError::InvalidEpoch(-1))
    ));
    assert_eq!(snapshot(&out), before);
}

#[test]
fn a_failed_write_removes_the_parent_folders_it_created() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("new/deeper/out");
    let bundle = bundle_with_host_file(&"n".repeat(300), Artifact::new("etc/x", 0o644, "x"));
    assert!(write(&bundle, &out, Format::Tar, EPOCH).is_err());
    assert!(
        !scratch.path().join("new").exists(),
        "created parents left behind"
    );
}

#[test]
fn an_unusable_parent_fails_before_anything_is_written() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let parent_file = scratch.path().join("a-file");
    std::fs::write(&parent_file, "not a folder").expect("write");
    let error = write(
        &sample_bundle(),
        &parent_file.join("out"),
        Format::Tar,
        EPOCH,
    )
    .expect_err("wrote under a file");
    assert!(error.is_environment_failure(), "{error}");
    assert_eq!(std::fs::read(&parent_file).expect("read"), b"not a folder");
    assert_eq!(hidden_entries(scratch.path()), Vec::<String>::new());
}

#[test]
fn a_new_output_replaces_the_previous_one_whole() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("out");
    write(&sample_bundle(), &out, Format::Tree, EPOCH).expect("tree");
    std::fs::write(out.join("stale.txt"), "from an older build").expect("stale file");
    let mut smaller = sample_bundle();
    smaller.hosts.remove("master-1");
    write(&smaller, &out, Format::Tar, EPOCH).expect("tar over tree");
    assert!(!out.join("stale.txt").exists(), "stale file kept");
    assert!(!out.join("hosts/master-0").exists(), "old tree kept");
    assert!(
        !out.join("hosts/master-1.tar.gz").exists(),
        "removed node still there"
    );
    assert!(out.join("hosts/master-0.tar.gz").is_file());
    assert_eq!(
        hidden_entries(scratch.path()),
        Vec::<String>::new(),
        "temporary folders left behind"
    );
    // An empty folder may be replaced too.
    let empty = scratch.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    write(&smaller, &empty, Format::Tar, EPOCH).expect("into an empty folder");
    assert!(empty.join("SHA256SUMS").is_file());
}

#[test]
fn a_folder_that_is_not_an_output_is_never_replaced() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let precious = scratch.path().join("home");
    std::fs::create_dir(&precious).expect("mkdir");
    std::fs::write(precious.join("thesis.tex"), "years of work").expect("write");
    let error = write(&sample_bundle(), &precious, Format::Tar, EPOCH)
        .expect_err("replaced a non-output folder");
    assert!(
        matches!(error, BundleError::RefuseReplace { .. }),
        "{error}"
    );
    assert_eq!(
        std::fs::read(precious.join("thesis.tex")).expect("read"),
        b"years of work"
    );
    let file = scratch.path().join("file");
    std::fs::write(&file, "x").expect("write");
    assert!(matches!(
        write(&sample_bundle(), &file, Format::Tar, EPOCH),
        Err(BundleError::RefuseReplace { .. })
    ));
    assert!(matches!(
        write(&sample_bundle(), Path::new("/"), Format::Tar, EPOCH),
        Err(BundleError::RefuseReplace { .. })
    ));
    assert_eq!(hidden_entries(scratch.path()), Vec::<String>::new());
}

#[test]
fn bundle_files_may_not_collide_with_hosts_or_sums() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let cases = [
        (Artifact::new("SHA256SUMS", 0o644, "x"), Format::Tar),
        (
            Artifact::new("hosts/master-0.tar.gz", 0o644, "x"),
            Format::Tar,
        ),
        (
            Artifact::new("hosts/master-0/etc/x", 0o644, "x"),
            Format::Tree,
        ),
        (Artifact::new("hosts", 0o644, "x"), Format::Tree),
    ];
    for (artifact, format) in cases {
        let mut bundle = sample_bundle();
        let path = artifact.path.clone();
        bundle.files.push(artifact);
        let error = write(&bundle, &scratch.path().join("out"), format, EPOCH).expect_err(&path);
        assert!(
            matches!(error, BundleError::PathCollision { .. }),
            "{path}: {error}"
        );
    }
    assert!(!scratch.path().join("out").exists());
}
