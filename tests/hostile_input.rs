//! Hostile and careless input at the command line (issue 13): every case here ended in a
//! leaked secret, a deleted folder, a crash, a hang or a silently wrong result before. Each
//! test names its case number.

mod e2e_support;
use e2e_support::*;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const STACKED: &str = "stacked-3";

/// Runs `cmd`, killing it after `timeout`; the second value says whether it had to be killed.
fn run_timeout(cmd: &mut Command, timeout: Duration) -> (Output, bool) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn hac");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let e = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            killed = true;
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        status,
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    };
    (output, killed)
}

fn json_codes(stderr: &[u8]) -> Vec<String> {
    text(stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["code"].as_str().map(str::to_string))
        .collect()
}

fn no_crash(what: &str, o: &Output) {
    use std::os::unix::process::ExitStatusExt;
    assert!(
        o.status.signal().is_none() && o.status.code() != Some(101),
        "{what}: hac crashed ({}):\n{}",
        o.status,
        text(&o.stderr)
    );
    assert!(
        !text(&o.stderr).contains("panicked"),
        "{what}: panic:\n{}",
        text(&o.stderr)
    );
}

/// A scratch folder holding a copy of the stacked-3 example (`c.ha`, `c.secrets` 0600),
/// with `edit` applied to the `.ha` text.
fn scratch_cluster(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("c.ha");
    let source = std::fs::read_to_string(example_file(STACKED)).unwrap();
    std::fs::write(&ha, edit(source)).unwrap();
    let secrets = tmp.path().join("c.secrets");
    std::fs::copy(example_secrets(STACKED), &secrets).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    (tmp, ha)
}

fn root_secret_of(secrets: &Path) -> String {
    let t = std::fs::read_to_string(secrets).unwrap();
    t.lines()
        .find_map(|l| l.strip_prefix("rootSecret: "))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

// 1 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case01_directory_import_cannot_escape_the_sandbox_through_default_ha() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, target) in [("env", "/proc/self/environ"), ("zero", "/dev/zero")] {
        std::fs::create_dir(tmp.path().join(dir)).unwrap();
        std::os::unix::fs::symlink(target, tmp.path().join(dir).join("default.ha")).unwrap();
        std::fs::write(tmp.path().join("a.ha"), format!("import ./{dir}")).unwrap();
        let (o, killed) = run_timeout(
            hac()
                .env("HAC_CANARY", "canary-7f3a-do-not-print")
                .args(["eval", "--message-format", "json"])
                .arg(tmp.path().join("a.ha")),
            Duration::from_secs(60),
        );
        assert!(!killed, "{dir}: hac hung");
        no_crash(dir, &o);
        assert_eq!(o.status.code(), Some(1), "{dir}: {}", text(&o.stderr));
        assert_eq!(
            json_codes(&o.stderr),
            ["E0009"],
            "{dir}: {}",
            text(&o.stderr)
        );
        assert!(
            !text(&o.stderr).contains("canary-7f3a"),
            "{dir}: environment printed"
        );
    }
}

#[test]
fn case01_case12_fifo_devices_and_folders_are_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("f.ha");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(tmp.path().join("b.ha"), "import ./f.ha").unwrap();
    let (o, killed) = run_timeout(
        hac().arg("eval").arg(tmp.path().join("b.ha")),
        Duration::from_secs(60),
    );
    assert!(!killed, "import of a FIFO hung");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("FIFO"), "{}", text(&o.stderr));
    // As FILE: say what it is, not "no such file".
    for (path, what) in [
        (fifo.clone(), "FIFO"),
        (tmp.path().to_path_buf(), "folder"),
        (PathBuf::from("/dev/null"), "device"),
    ] {
        for cmd in ["eval", "check"] {
            let (o, killed) = run_timeout(hac().arg(cmd).arg(&path), Duration::from_secs(60));
            assert!(!killed, "{cmd} {}: hung", path.display());
            let err = text(&o.stderr);
            assert!(err.contains(what), "{cmd} {}: {err}", path.display());
            assert!(!err.contains("no such file"), "{err}");
            assert!(err.contains("E0011"), "{err}");
        }
    }
}

// 2 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case02_no_command_shows_the_contents_of_a_secrets_file() {
    let (tmp, _) = scratch_cluster(|s| s);
    let secrets = tmp.path().join("c.secrets");
    let root = root_secret_of(&secrets);
    let disguised = tmp.path().join("disguised.ha");
    std::fs::copy(&secrets, &disguised).unwrap();
    std::fs::write(tmp.path().join("imp.ha"), "import ./c.secrets").unwrap();
    std::fs::write(tmp.path().join("imp2.ha"), "import ./disguised.ha").unwrap();
    let cases: Vec<(Vec<&str>, PathBuf)> = vec![
        (vec!["eval"], tmp.path().join("imp.ha")),
        (vec!["eval"], tmp.path().join("imp2.ha")),
        (vec!["build"], secrets.clone()),
        (vec!["check"], secrets.clone()),
        (vec!["eval"], secrets.clone()),
        (vec!["fmt"], secrets.clone()),
        (vec!["fmt", "--check"], disguised.clone()),
        (vec!["eval"], disguised.clone()),
        (vec!["check"], disguised.clone()),
    ];
    for (args, file) in cases {
        for format in ["human", "json"] {
            let o = run(hac()
                .args(["--message-format", format])
                .args(&args)
                .arg(&file));
            let shown = format!("{args:?} {}", file.display());
            no_crash(&shown, &o);
            let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
            assert!(
                !all.contains(&root),
                "{shown}: printed the root secret:\n{all}"
            );
            assert!(
                !all.contains("rootSecret"),
                "{shown}: quoted the file:\n{all}"
            );
            assert!(all.contains("E0610"), "{shown}: no E0610:\n{all}");
            assert_eq!(o.status.code(), Some(1), "{shown}: {all}");
        }
    }
    assert_eq!(
        std::fs::read(&secrets).unwrap(),
        std::fs::read(example_secrets(STACKED)).unwrap(),
        "fmt touched the secrets file"
    );
}

// 3 ─────────────────────────────────────────────────────────────────────────────────────────

fn build(ha: &Path, out: &Path) -> Output {
    run(hac()
        .arg("build")
        .arg(ha)
        .arg("-o")
        .arg(out)
        .args(["--format", "tree", "-q"]))
}

#[test]
fn case03_only_a_folder_hac_wrote_is_replaced() {
    let (tmp, ha) = scratch_cluster(|s| s);
    // A folder that merely has a SHA256SUMS (a download folder, a repository).
    let precious = tmp.path().join("precious");
    std::fs::create_dir_all(precious.join(".git")).unwrap();
    std::fs::write(precious.join("SHA256SUMS"), "x").unwrap();
    std::fs::write(precious.join("thesis.tex"), "years of work").unwrap();
    let o = build(&ha, &precious);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("E0704"), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("remove the folder"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read(precious.join("thesis.tex")).unwrap(),
        b"years of work"
    );
    assert!(precious.join(".git").is_dir());

    // The folder holding the input (even if it carries the marker) is never replaced.
    std::fs::write(tmp.path().join(".hac-output"), "cluster: c\n").unwrap();
    let o = build(&ha, tmp.path());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("E0704"), "{}", text(&o.stderr));
    assert!(ha.is_file() && tmp.path().join("c.secrets").is_file());

    // A real output is replaced, and says whose it is.
    let out = tmp.path().join("out");
    assert!(build(&ha, &out).status.success());
    let marker = std::fs::read_to_string(out.join(".hac-output")).unwrap();
    assert!(marker.contains("cluster: stacked-3"), "{marker}");
    std::fs::write(out.join("stale"), "x").unwrap();
    let o = build(&ha, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!out.join("stale").exists());
    // SHA256SUMS does not list the marker (it lists the bundle's files, as before).
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(!sums.contains(".hac-output"));
}

// 4 ─────────────────────────────────────────────────────────────────────────────────────────

fn deep_list(n: usize) -> String {
    format!("let f = n: if n == 0 then [ ] else [ (f (n - 1)) ]; in f {n}")
}

#[test]
fn case04_deep_values_end_in_e0015_on_every_output_path() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("deep.ha");
    std::fs::write(&deep, deep_list(50_000)).unwrap();
    for flags in [vec![], vec!["--yaml"], vec!["--json"]] {
        let (o, killed) = run_timeout(
            hac()
                .args(["--message-format", "json", "eval"])
                .args(&flags)
                .arg(&deep),
            Duration::from_secs(120),
        );
        assert!(!killed);
        no_crash(&format!("eval {flags:?}"), &o);
        assert_eq!(
            json_codes(&o.stderr),
            ["E0015"],
            "{flags:?}: {}",
            text(&o.stderr)
        );
    }
    // Below the limit every printer copes (the YAML printer overflowed at 12,000 levels).
    std::fs::write(&deep, deep_list(9_000)).unwrap();
    for flags in [vec![], vec!["--yaml"]] {
        let (o, _) = run_timeout(
            hac().arg("eval").args(&flags).arg(&deep),
            Duration::from_secs(120),
        );
        no_crash(&format!("eval {flags:?} 9000"), &o);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    // check: a deep junk attribute after the first diagnostic.
    let (_tmp, ha) = scratch_cluster(|s| {
        s.replacen(
            "  name = \"stacked-3\";",
            "  name = 1;\n  junk = (let f = n: if n == 0 then { } else { a = f (n - 1); }; in f 50000);",
            1,
        )
    });
    let (o, killed) = run_timeout(hac().arg("check").arg(&ha), Duration::from_secs(120));
    assert!(!killed);
    no_crash("check deep junk", &o);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

// 5 ─────────────────────────────────────────────────────────────────────────────────────────

fn eval_src(src: &str, flags: &[&str]) -> (Output, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.ha");
    std::fs::write(&f, src).unwrap();
    let start = Instant::now();
    let (o, killed) = run_timeout(
        hac()
            .args(["--message-format", "json", "eval", "--json"])
            .args(flags)
            .arg(&f),
        Duration::from_secs(120),
    );
    assert!(!killed, "{src}: hung");
    no_crash(src, &o);
    (o, start.elapsed())
}

#[test]
fn case05_runaway_evaluation_ends_with_a_budget_diagnostic() {
    let cases: &[(&str, &[&str], &str)] = &[
        // 200 bytes of source that would make gigabytes by doubling
        (
            "let d = n: s: if n == 0 then s else builtins.seq s (d (n - 1) (s + s)); in builtins.stringLength (d 64 \"0123456789abcdef\")",
            &[],
            "E0022",
        ),
        (
            "let d = n: s: if n == 0 then s else builtins.seq s (d (n - 1) \"${s}${s}\"); in builtins.stringLength (d 64 \"x\")",
            &[],
            "E0022",
        ),
        (
            "let l = builtins.genList (i: \"0123456789abcdef0123456789abcdef\") 4000000; in builtins.stringLength (builtins.concatStringsSep (builtins.concatStringsSep \"\" l) l)",
            &[],
            "E0022",
        ),
        (
            "let d = n: l: if n == 0 then l else builtins.seq l (d (n - 1) (l ++ l)); in builtins.length (d 64 [ 1 ])",
            &[],
            "E0022",
        ),
        // genList at its limit, forced
        ("builtins.genList (i: i) 16777216", &["--max-memory", "256"], "E0021"),
        (
            "builtins.listToAttrs (builtins.genList (i: { name = toString i; value = i; }) 16000000)",
            &["--max-memory", "256"],
            "E0021",
        ),
        // exponential recursion that would never end
        (
            "let f = n: if n == 0 then 1 else f (n - 1) + f (n - 1); in f 200",
            &["--max-eval-steps", "2000000"],
            "E0020",
        ),
    ];
    for (src, flags, code) in cases {
        let (o, took) = eval_src(src, flags);
        assert_eq!(o.status.code(), Some(1), "{src}: {}", text(&o.stderr));
        assert_eq!(
            json_codes(&o.stderr),
            [code.to_string()],
            "{src}: {}",
            text(&o.stderr)
        );
        assert!(took < Duration::from_secs(100), "{src}: took {took:?}");
    }
    // The budgets are far above a real cluster: the examples evaluate within tiny ones.
    let (o, _) = {
        let start = Instant::now();
        let (o, _) = run_timeout(
            hac()
                .args([
                    "eval",
                    "--json",
                    "--max-eval-steps",
                    "200000",
                    "--max-memory",
                    "64",
                ])
                .arg(example_file("multi-zone")),
            Duration::from_secs(120),
        );
        (o, start.elapsed())
    };
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // A source file over 8 MiB is refused before parsing.
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.ha");
    let mut src = String::from("[\n");
    while src.len() < 9 << 20 {
        src.push_str("  \"0123456789012345678901234567890123456789\"\n");
    }
    src.push(']');
    std::fs::write(&big, src).unwrap();
    let (o, killed) = run_timeout(
        hac().args(["--message-format", "json", "eval"]).arg(&big),
        Duration::from_secs(60),
    );
    assert!(!killed);
    assert_eq!(json_codes(&o.stderr), ["E0022"], "{}", text(&o.stderr));
}

// 6 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case06_closed_pipe_and_full_device_do_not_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("big.ha");
    std::fs::write(&f, "builtins.genList (i: \"line ${toString i}\") 200000").unwrap();
    // `hac eval … | head -c1`
    let mut child = hac()
        .arg("eval")
        .arg(&f)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).unwrap();
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    no_crash("closed pipe", &o);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        o.stderr.is_empty(),
        "quiet on a closed pipe: {}",
        text(&o.stderr)
    );
    // `> /dev/full`
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = hac().arg("eval").arg(&f).stdout(full).output().unwrap();
    no_crash("/dev/full", &o);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("No space"), "{}", text(&o.stderr));
}

// 7 ─────────────────────────────────────────────────────────────────────────────────────────

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".hac-tmp-") || n.contains(".hac-old-"))
        .collect()
}

#[test]
fn case07_stale_temporary_folders_of_dead_processes_are_removed() {
    let (tmp, ha) = scratch_cluster(|s| s);
    let stale = tmp.path().join(".out.hac-tmp-2147483646-abcdef");
    std::fs::create_dir_all(stale.join("hosts/master-0/etc/kubernetes/pki")).unwrap();
    std::fs::write(
        stale.join("hosts/master-0/etc/kubernetes/pki/ca.key"),
        "KEY",
    )
    .unwrap();
    let old_format = tmp.path().join(".out.hac-tmp-Xy12Ab");
    std::fs::create_dir(&old_format).unwrap();
    let o = build(&ha, &tmp.path().join("out"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(temporaries(tmp.path()), Vec::<String>::new());
}

#[test]
fn case07_a_signal_during_the_write_removes_the_temporary_folder() {
    // Enough workers that the write takes a while; poll for the temporary folder, then
    // send SIGTERM (or SIGINT) while it exists.
    let workers = "lib.nodes { prefix = \"worker\"; count = 2000; first = \"192.168.8.1/16\"; roles = [ \"worker\" ]; }";
    let (tmp, ha) = scratch_cluster(|s| {
        s.replace(
            "lib.nodes { prefix = \"worker\"; count = 2; first = \"192.168.1.31/24\"; roles = [ \"worker\" ]; }",
            workers,
        )
        .replace("network.pods = \"10.244.0.0/16\";", "network.pods = \"172.16.0.0/12\";")
    });
    let mut hit = false;
    for signal in ["TERM", "INT"] {
        let out = tmp.path().join(format!("out-{signal}"));
        let mut child = hac()
            .arg("build")
            .arg(&ha)
            .arg("-o")
            .arg(&out)
            .args(["--format", "tree", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let mut seen = None;
        while start.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if let Some(t) = temporaries(tmp.path()).into_iter().next() {
                seen = Some(t);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(t) = seen {
            let mode = std::fs::metadata(tmp.path().join(&t))
                .map_or(0o700, |m| m.permissions().mode() & 0o777);
            assert_eq!(mode, 0o700, "the temporary folder holds keys: {mode:o}");
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.id().to_string())
                .status();
            hit = true;
        }
        let _ = child.wait();
        assert_eq!(
            temporaries(tmp.path()),
            Vec::<String>::new(),
            "SIG{signal} left key material behind"
        );
    }
    assert!(
        hit,
        "never saw the temporary folder: the build was too quick to interrupt"
    );
}

// 8 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case08_secrets_init_on_a_full_disk_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("c.ha");
    std::fs::write(&ha, "{ name = \"c\"; }").unwrap();
    // A file-size limit of 0 makes every write fail with EFBIG, as a full disk would.
    let o = run(Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$0\" secrets init \"$1\"")
        .arg(env!("CARGO_BIN_EXE_hac"))
        .arg(&ha));
    no_crash("init on a full disk", &o);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("c.ha")],
        "half-written files left"
    );
    // And a normal init still works, records the cluster, and never overwrites.
    assert!(run(hac().args(["secrets", "init"]).arg(&ha))
        .status
        .success());
    let text_ = std::fs::read_to_string(tmp.path().join("c.secrets")).unwrap();
    assert!(text_.contains("cluster: \"c\""), "{text_}");
    assert_eq!(
        run(hac().args(["secrets", "init"]).arg(&ha)).status.code(),
        Some(3)
    );
}

// 9 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case09_check_rejects_what_build_or_kubernetes_would() {
    let worker = "lib.nodes { prefix = \"worker\"; count = 2;";
    let edits: Vec<(&str, String)> = vec![
        (
            "zone -a",
            worker.replace("count = 2;", "count = 2; zone = \"-a\";"),
        ),
        (
            "zone a.",
            worker.replace("count = 2;", "count = 2; zone = \"a.\";"),
        ),
        (
            "zone a b",
            worker.replace("count = 2;", "count = 2; zone = \"a b\";"),
        ),
        (
            "interface .",
            worker.replace("count = 2;", "count = 2; interface = \".\";"),
        ),
        (
            "interface eth0}",
            worker.replace("count = 2;", "count = 2; interface = \"eth0}\";"),
        ),
    ];
    for (what, replacement) in edits {
        let (_tmp, ha) = scratch_cluster(|s| s.replace(worker, &replacement));
        let o = run(hac().args(["--message-format", "json", "check"]).arg(&ha));
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o.stderr));
        assert!(
            json_codes(&o.stderr).contains(&"E0107".to_string()),
            "{what}: {}",
            text(&o.stderr)
        );
    }
    let (_tmp, ha) = scratch_cluster(|s| {
        s.replace(
            "etcd.topology = \"stacked\";",
            "etcd.topology = \"stacked\"; etcd.binary = \"/usr/local/my bin/etcd\";",
        )
    });
    let o = run(hac().args(["--message-format", "json", "check"]).arg(&ha));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

// 10 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case10_command_line_errors_are_json_and_control_characters_are_escaped() {
    let o = run(hac().args(["--message-format", "json", "frobnicate"]));
    assert_eq!(o.status.code(), Some(2));
    let line = text(&o.stderr);
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    assert_eq!(v["severity"], "error");

    // A zone with a newline and an escape sequence cannot forge a line or recolour.
    let worker = "lib.nodes { prefix = \"worker\"; count = 2;";
    let (_tmp, ha) = scratch_cluster(|s| {
        s.replace(
            worker,
            &worker.replace(
                "count = 2;",
                "count = 2; zone = \"a\\nerror: forged\\u001b[31m\";",
            ),
        )
    });
    let (_tmp2, ha2) = scratch_cluster(|s| {
        s.replace(
            worker,
            &worker.replace(
                "count = 2;",
                "count = 2; zone = \"a\nerror: forged\u{1b}[31m\";",
            ),
        )
    });
    for f in [&ha, &ha2] {
        let o = run(hac().arg("check").arg(f));
        let err = text(&o.stderr);
        assert!(
            !err.lines().any(|l| l.starts_with("error: forged")),
            "{err}"
        );
        assert!(!err.contains('\u{1b}'), "{err}");
    }

    // hac inspect escapes entry names.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a\nFORGED \u{1b}[2J"), "x").unwrap();
    let tar = tmp.path().join("x.tar.gz");
    assert!(Command::new("tar")
        .arg("-czf")
        .arg(&tar)
        .arg("-C")
        .arg(&dir)
        .arg(".")
        .status()
        .unwrap()
        .success());
    for target in [&tar, &dir] {
        let o = run(hac().arg("inspect").arg(target));
        let out = text(&o.stdout);
        assert!(!out.lines().any(|l| l.starts_with("FORGED")), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
    }
}

// 11 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case11_secrets_files_are_tied_to_their_cluster_and_never_weak() {
    let (tmp, ha) = scratch_cluster(|s| s);
    // The public test-only file builds, with a coded warning.
    let o = build(&ha, &tmp.path().join("out"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("W0601"), "{}", text(&o.stderr));
    // Another cluster's file is refused.
    let other = tmp.path().join("other.ha");
    std::fs::write(&other, "{ name = \"other\"; }").unwrap();
    assert!(run(hac().args(["secrets", "init"]).arg(&other))
        .status
        .success());
    let o = run(hac()
        .arg("build")
        .arg(&ha)
        .arg("--secrets")
        .arg(tmp.path().join("other.secrets"))
        .arg("-o")
        .arg(tmp.path().join("out2")));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("E0611"), "{}", text(&o.stderr));
    assert!(!tmp.path().join("out2").exists());
    // An all-zero root secret is refused.
    let secrets = tmp.path().join("c.secrets");
    let t = std::fs::read_to_string(&secrets).unwrap();
    let root = root_secret_of(&secrets);
    std::fs::write(&secrets, t.replace(&root, &"0".repeat(64))).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = build(&ha, &tmp.path().join("out3"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("E0605"), "{}", text(&o.stderr));
}

#[test]
fn case11_import_ca_writes_through_a_symlinked_secrets_file() {
    require_tool("openssl");
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    std::fs::create_dir(&vault).unwrap();
    let ha = tmp.path().join("c.ha");
    std::fs::write(&ha, "{ name = \"c\"; }").unwrap();
    let real = vault.join("c.secrets");
    assert!(
        run(hac().args(["secrets", "init"]).arg(vault.join("c.secrets")))
            .status
            .success()
    );
    std::os::unix::fs::symlink(&real, tmp.path().join("c.secrets")).unwrap();
    let (crt, key) = (tmp.path().join("ca.crt"), tmp.path().join("ca.key"));
    let ok = Command::new("openssl")
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
            "-subj",
            "/CN=kubernetes",
        ])
        .args([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl could not make a CA");
    let o = run(hac()
        .args(["secrets", "import-ca"])
        .arg(&ha)
        .arg("--cert")
        .arg(&crt)
        .arg("--key")
        .arg(&key));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let link = std::fs::symlink_metadata(tmp.path().join("c.secrets")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    let t = std::fs::read_to_string(&real).unwrap();
    assert!(
        t.contains("clusterCACertificate"),
        "the target was not updated"
    );
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

// 12 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case12_exit_codes_carry_codes() {
    let (tmp, ha) = scratch_cluster(|s| s.replace("2026-01-01T00:00:00Z", "1969-12-31T00:00:00Z"));
    let o = run(hac().args(["--message-format", "json", "check"]).arg(&ha));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        json_codes(&o.stderr).contains(&"E0105".to_string()),
        "{}",
        text(&o.stderr)
    );
    // A non-UTF-8 secrets file.
    let (tmp2, ha2) = scratch_cluster(|s| s);
    let secrets = tmp2.path().join("c.secrets");
    std::fs::write(&secrets, b"version: 1\nrootSecret: \"\xff\xfe\"\n").unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = build(&ha2, &tmp2.path().join("out"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("E0603"), "{}", text(&o.stderr));
    drop(tmp);
}

// 13 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case13_number_like_names_are_not_host_names() {
    for (what, from, to) in [
        (
            "endpoint 1.2.3",
            "endpoint = \"k8s.example.internal\";",
            "endpoint = \"1.2.3\";",
        ),
        (
            "endpoint 12345",
            "endpoint = \"k8s.example.internal\";",
            "endpoint = \"12345\";",
        ),
        (
            "SAN 1.2.3",
            "keepalived.routerId = 51;",
            "keepalived.routerId = 51; certSANs = [ \"1.2.3\" ];",
        ),
        (
            "SAN 12345",
            "keepalived.routerId = 51;",
            "keepalived.routerId = 51; certSANs = [ \"a.12345\" ];",
        ),
    ] {
        let (_tmp, ha) = scratch_cluster(|s| s.replace(from, to));
        let o = run(hac().arg("check").arg(&ha));
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o.stderr));
    }
}

// 14 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn case14_the_world_readable_manifest_has_no_digest_of_private_files() {
    let (tmp, ha) = scratch_cluster(|s| s);
    let out = tmp.path().join("out");
    assert!(build(&ha, &out).status.success());
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("hosts/lb-0/etc/hac/manifest.json")).unwrap(),
    )
    .unwrap();
    let files = manifest["files"].as_array().unwrap();
    let keepalived = files
        .iter()
        .find(|f| f["path"] == "etc/keepalived/keepalived.conf")
        .expect("keepalived.conf listed");
    assert_eq!(keepalived["mode"], "0600");
    assert!(keepalived.get("sha256").is_none(), "{keepalived}");
    assert!(files
        .iter()
        .any(|f| f["mode"] == "0644" && f["sha256"].is_string()));
}
