//! Helpers shared by the PKI integration tests: the test-only secrets, writing a node's
//! issued files into a temporary folder, and running the real tools (a missing tool fails
//! the test with the install hint).

#![allow(dead_code)]

use hac_model::{Artifact, Cluster, IssuedPki};
use hac_pki::Secrets;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const INSTALL_HINT: &str = "run scripts/install-test-deps.sh";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The test-only secrets (public, in git).
pub fn secrets() -> Secrets {
    Secrets::parse(&fixture_text("test-only.secrets")).expect("the test-only secrets parse")
}

/// The test-only secrets with another root secret.
pub fn other_secrets() -> Secrets {
    let text = fixture_text("test-only.secrets").replace(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff",
    );
    Secrets::parse(&text).expect("parses")
}

pub fn issue(c: &Cluster) -> IssuedPki {
    hac_pki::issue(c, &secrets()).expect("issue succeeds")
}

/// Writes one node's files under `dir` (paths relative to the node's /).
pub fn write_node(dir: &Path, files: &[Artifact]) {
    for a in files {
        let p = dir.join(&a.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &a.contents).unwrap();
    }
}

pub fn file<'a>(pki: &'a IssuedPki, node: &str, path: &str) -> &'a Artifact {
    pki.files
        .get(node)
        .and_then(|fs| fs.iter().find(|a| a.path == path))
        .unwrap_or_else(|| panic!("{node} has no {path}"))
}

pub fn text(pki: &IssuedPki, node: &str, path: &str) -> String {
    String::from_utf8(file(pki, node, path).contents.clone()).unwrap()
}

/// Fails loudly when `tool` is not installed.
pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()));
    assert!(found, "`{tool}` is not installed: {INSTALL_HINT}");
}

pub fn run(cmd: &mut Command) -> Output {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; {INSTALL_HINT}"));
    o
}

/// Runs openssl with `args`, feeding `stdin`; returns stdout; panics with stderr on failure.
pub fn openssl(args: &[&str], stdin: &[u8]) -> String {
    use std::io::Write;
    require_tool("openssl");
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}; {INSTALL_HINT}"));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `openssl x509 -noout -text` of a PEM certificate.
pub fn x509_text(pem: &str) -> String {
    openssl(&["x509", "-noout", "-text"], pem.as_bytes())
}

/// The secrets text as PyYAML (what sops' Python tools, Ansible and yq-python read) sees it,
/// as JSON.
pub fn pyyaml_json(text: &str) -> serde_json::Value {
    use std::io::Write;
    require_tool("python3");
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3: {e}; {INSTALL_HINT}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "PyYAML failed ({INSTALL_HINT} for python3-yaml): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}
