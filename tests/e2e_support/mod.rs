//! Shared helpers of the end-to-end tests: running the `hac` binary, the bundled examples,
//! and failing loudly when a real tool is missing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod k8s;
pub mod netlab;
pub mod nodes;

pub const EXAMPLES: [&str; 7] = [
    "stacked-3",
    "external-etcd",
    "masters-run-etcd",
    "two-masters",
    "multi-zone",
    "nginx-lb",
    "hardened",
];

/// The examples whose build must succeed (two-masters is rejected by design).
pub const BUILDABLE: [&str; 6] = [
    "stacked-3",
    "external-etcd",
    "masters-run-etcd",
    "multi-zone",
    "nginx-lb",
    "hardened",
];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example_dir(name: &str) -> PathBuf {
    root().join("out-examples").join(name)
}

pub fn example_file(name: &str) -> PathBuf {
    example_dir(name).join(format!("{name}.ha"))
}

/// The time every test's `hac` sees (`HAC_NOW`): inside the examples' certificate validity.
pub const TEST_NOW: &str = "2026-07-01T00:00:00Z";

/// A `hac` command with a stable environment (no colour, a pinned clock).
pub fn hac() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hac"));
    // The clock is pinned (HAC_NOW, test-only): the examples' certificates run from
    // 2026-01-01 to 2027-01-01, and no test may pass or fail by the day it runs.
    c.env("NO_COLOR", "1")
        .env("HAC_NOW", TEST_NOW)
        .arg("--color")
        .arg("never");
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Makes the example's test-only secrets file 0600 (git does not keep modes) and returns it.
pub fn example_secrets(name: &str) -> PathBuf {
    let p = example_dir(name).join(format!("{name}.secrets"));
    use std::os::unix::fs::PermissionsExt;
    if p.exists() {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

/// Builds an example into `out` with the given format; panics with hac's stderr on failure.
pub fn build_example(name: &str, out: &Path, format: &str) {
    let secrets = example_secrets(name);
    let o = run(hac()
        .arg("build")
        .arg(example_file(name))
        .arg("--secrets")
        .arg(&secrets)
        .arg("-o")
        .arg(out)
        .arg("--format")
        .arg(format)
        .arg("-q"));
    assert!(
        o.status.success(),
        "hac build {name} failed ({}):\n{}",
        o.status,
        text(&o.stderr)
    );
}

/// Fails loudly when a tool the test needs is missing.
pub fn require_tool(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is not installed: run scripts/install-test-deps.sh"
    );
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read_dir {}: {e}", d.display())) {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// stacked-3.ha with `from` replaced by `to`, and a copy of its test-only secrets (0600), in
/// `dir`: one change to a known cluster, for tests that compare two builds.
pub fn stacked_3_variant(dir: &Path, from: &str, to: &str) -> PathBuf {
    let source = std::fs::read_to_string(example_file("stacked-3")).unwrap();
    assert!(source.contains(from), "stacked-3.ha no longer has {from:?}");
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("stacked-3.ha");
    std::fs::write(&file, source.replace(from, to)).unwrap();
    let secrets = dir.join("stacked-3.secrets");
    std::fs::copy(example_secrets("stacked-3"), &secrets).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

/// Builds `file` (its secrets beside it) into `out` in `format`; panics with hac's stderr.
pub fn build_file(file: &Path, out: &Path, format: &str) {
    let o = run(hac()
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(out)
        .arg("--format")
        .arg(format)
        .arg("-q"));
    assert!(o.status.success(), "hac build failed:\n{}", text(&o.stderr));
}
