//! The command line's contract (cli.md): exit codes, stdout/stderr split, `--help` examples,
//! the secrets file's on-disk rules, and a failed build leaving the previous output intact.

mod e2e_support;
use e2e_support::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn every_command_answers_help_with_an_example() {
    for cmd in [
        vec!["build"],
        vec!["check"],
        vec!["eval"],
        vec!["secrets", "init"],
        vec!["secrets", "import-ca"],
        vec!["explain"],
        vec!["inspect"],
        vec!["reference"],
        vec!["graph"],
        vec!["fmt"],
        vec!["diff"],
    ] {
        let o = run(hac().args(&cmd).arg("--help"));
        assert!(o.status.success(), "{cmd:?} --help");
        assert!(
            text(&o.stdout).contains("Example:"),
            "{cmd:?} --help has no example:\n{}",
            text(&o.stdout)
        );
    }
}

#[test]
fn exit_codes_follow_cli_md() {
    // 2: the command line is wrong
    assert_eq!(run(hac().arg("frobnicate")).status.code(), Some(2));
    assert_eq!(run(hac().arg("build")).status.code(), Some(2));
    // 3: I/O
    assert_eq!(
        run(hac().arg("check").arg("/nonexistent/cluster.ha"))
            .status
            .code(),
        Some(3)
    );
    // 1: the input is wrong, diagnostics on stderr, nothing on stdout
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ha");
    std::fs::write(&bad, "{ a = ; }").unwrap();
    let o = run(hac().arg("eval").arg(&bad));
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("bad.ha:1:"), "{}", text(&o.stderr));
    // 0: a value on stdout
    let good = tmp.path().join("good.ha");
    std::fs::write(&good, "{ a = 1 + 2; }").unwrap();
    let o = run(hac().arg("eval").arg("--json").arg(&good));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), r#"{"a":3}"#);
}

#[test]
fn json_diagnostics_are_one_object_per_line() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ha");
    std::fs::write(&bad, "let x = 1; in y").unwrap();
    let o = run(hac()
        .arg("--message-format")
        .arg("json")
        .arg("eval")
        .arg(&bad));
    assert_eq!(o.status.code(), Some(1));
    let line = text(&o.stderr);
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(v["severity"], "error");
    assert_eq!(v["code"], "E0003");
    assert_eq!(v["location"]["line"], 1);
}

#[test]
fn secrets_init_writes_0600_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("c.ha");
    std::fs::write(&ha, "{}").unwrap();
    let o = run(hac().arg("secrets").arg("init").arg(&ha));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let s = tmp.path().join("c.secrets");
    let mode = std::fs::metadata(&s).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(&s).unwrap();
    let o = run(hac().arg("secrets").arg("init").arg(&ha));
    assert_eq!(o.status.code(), Some(3), "a second init must refuse");
    assert_eq!(
        std::fs::read(&s).unwrap(),
        before,
        "the secrets file was changed"
    );
    // two inits give different root secrets (a real random source)
    let ha2 = tmp.path().join("d.ha");
    std::fs::write(&ha2, "{}").unwrap();
    assert!(run(hac().arg("secrets").arg("init").arg(&ha2))
        .status
        .success());
    assert_ne!(std::fs::read(tmp.path().join("d.secrets")).unwrap(), before);
}

#[test]
fn a_secrets_file_others_can_read_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("c.ha");
    std::fs::copy(example_file("stacked-3"), &ha).unwrap();
    assert!(run(hac().arg("secrets").arg("init").arg(&ha))
        .status
        .success());
    let s = tmp.path().join("c.secrets");
    std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tmp.path().join("out");
    let o = run(hac().arg("build").arg(&ha).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("chmod 600"), "{}", text(&o.stderr));
    assert!(!out.exists());
}

#[test]
fn a_failed_build_leaves_the_previous_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("c.ha");
    std::fs::copy(example_file("stacked-3"), &ha).unwrap();
    assert!(run(hac().arg("secrets").arg("init").arg(&ha))
        .status
        .success());
    let out = tmp.path().join("out");
    let o = run(hac().arg("build").arg(&ha).arg("-o").arg(&out).arg("-q"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let before: Vec<_> = files_under(&out)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(out.join(&f)).unwrap()))
        .collect();
    // an invalid cluster: the build fails at check time
    std::fs::write(
        &ha,
        std::fs::read_to_string(example_file("stacked-3"))
            .unwrap()
            .replace("count = 3", "count = 2"),
    )
    .unwrap();
    let o = run(hac().arg("build").arg(&ha).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(1));
    // a corrupt secrets file: the build fails after checking
    std::fs::copy(example_file("stacked-3"), &ha).unwrap();
    let s = tmp.path().join("c.secrets");
    let full = std::fs::read_to_string(&s).unwrap();
    std::fs::write(&s, &full[..full.len() / 2]).unwrap();
    let o = run(hac().arg("build").arg(&ha).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let after: Vec<_> = files_under(&out)
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(out.join(&f)).unwrap()))
        .collect();
    assert!(before == after, "the previous output changed");
    let siblings: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        siblings.len(),
        3,
        "temporary folders left behind: {siblings:?}"
    );
}

#[test]
fn explain_knows_the_quorum_rule_and_rejects_unknown_codes() {
    let o = run(hac().arg("explain").arg("E0001"));
    assert!(o.status.success());
    assert!(text(&o.stdout).len() > 80);
    let o = run(hac().arg("explain").arg("E9999"));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn import_ca_adopts_an_existing_cluster_ca() {
    require_tool("openssl");
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("c.ha");
    std::fs::copy(example_file("stacked-3"), &ha).unwrap();
    assert!(run(hac().arg("secrets").arg("init").arg(&ha))
        .status
        .success());
    let (crt, key) = (tmp.path().join("ca.crt"), tmp.path().join("ca.key"));
    let o = run(std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "3650",
        ])
        .args([
            "-subj",
            "/CN=kubernetes",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt));
    assert!(o.status.success(), "{}", text(&o.stderr));
    // a key that does not match is refused, and the secrets file is left alone
    let s = tmp.path().join("c.secrets");
    let before = std::fs::read(&s).unwrap();
    let other = tmp.path().join("other.key");
    assert!(run(std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out"
        ])
        .arg(&other))
    .status
    .success());
    let o = run(hac()
        .args(["secrets", "import-ca"])
        .arg(&ha)
        .arg("--cert")
        .arg(&crt)
        .arg("--key")
        .arg(&other));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&s).unwrap(), before);
    // the matching pair is adopted: the built CA is the imported certificate
    let o = run(hac()
        .args(["secrets", "import-ca"])
        .arg(&ha)
        .arg("--cert")
        .arg(&crt)
        .arg("--key")
        .arg(&key));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mode = std::fs::metadata(&s).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out = tmp.path().join("out");
    let o = run(hac()
        .arg("build")
        .arg(&ha)
        .arg("-o")
        .arg(&out)
        .args(["--format", "tree", "-q"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let built =
        std::fs::read_to_string(out.join("hosts/master-0/etc/kubernetes/pki/ca.crt")).unwrap();
    assert_eq!(built.trim(), std::fs::read_to_string(&crt).unwrap().trim());
    let o = run(std::process::Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(&crt)
        .arg(out.join("hosts/master-0/etc/kubernetes/pki/apiserver.crt")));
    assert!(o.status.success(), "{}", text(&o.stdout));
}
