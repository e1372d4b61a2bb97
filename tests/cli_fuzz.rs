//! A bounded fuzz test of the command line (issue 13): random and mutated cluster files,
//! secrets files and output-folder states, run through `hac check`, `eval` and `build`.
//! Whatever the input, hac ends by itself with 0–3 and no panic, never prints the root
//! secret, and never deletes a folder it did not write. 48 cases, a few seconds.

mod e2e_support;
use e2e_support::*;
use proptest::prelude::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

const SOURCE: &str = include_str!("../out-examples/stacked-3/stacked-3.ha");
const SECRETS: &str = include_str!("../out-examples/stacked-3/stacked-3.secrets");
const ROOT_SECRET_PREFIX: &str = "rootSecret: \"";

/// How the output folder looks before the build.
#[derive(Debug, Clone)]
enum OutState {
    Absent,
    Empty,
    /// A folder that is not an output: it must survive.
    Precious {
        with_sums: bool,
    },
    /// A file where the folder should be.
    File,
    /// A symbolic link to a precious folder.
    Link,
}

fn out_state() -> impl Strategy<Value = OutState> {
    prop_oneof![
        Just(OutState::Absent),
        Just(OutState::Empty),
        any::<bool>().prop_map(|with_sums| OutState::Precious { with_sums }),
        Just(OutState::File),
        Just(OutState::Link),
    ]
}

/// The example with a few byte-level edits: deletions, insertions of syntax-heavy or
/// hostile snippets, and overwrites.
fn mutated_source() -> impl Strategy<Value = Vec<u8>> {
    let snippets = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ";",
        "\"",
        "${",
        "import ./c.secrets",
        "import ./.",
        "import /etc/passwd",
        "builtins.genList (i: i) 100000000",
        "(let f = x: f x; in f 1)",
        "\u{1b}[31m",
        "\n",
        "\"1.2.3\"",
        "\"-a\"",
        "1969-01-01T00:00:00Z",
        "\0",
        "rec { a = a; }.a",
        "null",
    ]);
    let edit = (any::<prop::sample::Index>(), 0usize..3, snippets, 0usize..8);
    prop::collection::vec(edit, 0..4).prop_map(|edits| {
        let mut s = SOURCE.as_bytes().to_vec();
        for (at, kind, snippet, len) in edits {
            let i = at.index(s.len() + 1);
            match kind {
                0 => {
                    let end = (i + len).min(s.len());
                    s.drain(i..end);
                }
                1 => {
                    s.splice(i..i, snippet.bytes());
                }
                _ => {
                    let end = (i + snippet.len()).min(s.len());
                    s.splice(i..end, snippet.bytes());
                }
            }
        }
        s
    })
}

fn source() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => mutated_source(),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => Just(SECRETS.as_bytes().to_vec()),
    ]
}

fn secrets() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::sample::Index::arbitrary();
    prop_oneof![
        4 => Just(SECRETS.as_bytes().to_vec()),
        2 => (line, 0usize..3).prop_map(|(at, kind)| {
            let lines: Vec<&str> = SECRETS.lines().collect();
            let i = at.index(lines.len());
            let mut out: Vec<String> = lines.iter().map(std::string::ToString::to_string).collect();
            match kind {
                0 => {
                    out.remove(i);
                }
                1 => out[i] = format!("{}\u{ff}", out[i]),
                _ => out.insert(i, "cluster: \"another\"".to_string()),
            }
            out.join("\n").into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..120),
    ]
}

fn prepare_out(dir: &Path, state: &OutState) -> std::path::PathBuf {
    let out = dir.join("out");
    let precious = dir.join("precious");
    match state {
        OutState::Absent => {}
        OutState::Empty => std::fs::create_dir(&out).unwrap(),
        OutState::Precious { with_sums } => {
            std::fs::create_dir(&out).unwrap();
            std::fs::write(out.join("thesis.tex"), "years of work").unwrap();
            if *with_sums {
                std::fs::write(out.join("SHA256SUMS"), "x").unwrap();
            }
        }
        OutState::File => std::fs::write(&out, "a file").unwrap(),
        OutState::Link => {
            std::fs::create_dir(&precious).unwrap();
            std::fs::write(precious.join("thesis.tex"), "years of work").unwrap();
            std::os::unix::fs::symlink(&precious, &out).unwrap();
        }
    }
    out
}

fn check_invariants(dir: &Path, state: &OutState) {
    let out = dir.join("out");
    match state {
        OutState::Precious { .. } => assert_eq!(
            std::fs::read(out.join("thesis.tex")).ok().as_deref(),
            Some(&b"years of work"[..]),
            "a folder hac did not write was changed"
        ),
        OutState::File => assert_eq!(std::fs::read(&out).unwrap(), b"a file"),
        OutState::Link => {
            assert!(std::fs::symlink_metadata(&out)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(
                std::fs::read(dir.join("precious/thesis.tex")).unwrap(),
                b"years of work"
            );
        }
        OutState::Absent | OutState::Empty => {}
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(std::result::Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".hac-tmp-") || n.contains(".hac-old-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left: {leftovers:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn the_cli_never_crashes_leaks_or_deletes(src in source(), sec in secrets(), state in out_state()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let ha = dir.join("c.ha");
        std::fs::write(&ha, &src).unwrap();
        let secrets_path = dir.join("c.secrets");
        std::fs::write(&secrets_path, &sec).unwrap();
        std::fs::set_permissions(&secrets_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let root = String::from_utf8_lossy(&sec)
            .lines()
            .find_map(|l| l.strip_prefix(ROOT_SECRET_PREFIX).map(|r| r.trim_end_matches('"').to_string()))
            .filter(|r| r.len() >= 16);
        let out = prepare_out(dir, &state);
        for args in [vec!["check"], vec!["eval", "--json"], vec!["build"]] {
            let mut cmd = hac();
            cmd.arg(args[0]);
            cmd.args(&args[1..]);
            cmd.arg(&ha).args(["--max-eval-steps", "5000000", "--max-memory", "256"]);
            if args[0] == "build" {
                cmd.arg("-o").arg(&out).arg("-q");
            }
            let o = run(&mut cmd);
            let err = text(&o.stderr);
            prop_assert!(o.status.signal().is_none(), "{args:?}: killed by a signal: {err}");
            prop_assert!(matches!(o.status.code(), Some(0..=3)), "{args:?}: exit {:?}: {err}", o.status.code());
            prop_assert!(!err.contains("panicked"), "{args:?}: panic: {err}");
            if let Some(r) = &root {
                prop_assert!(!err.contains(r.as_str()), "{args:?}: printed the root secret: {err}");
                prop_assert!(!text(&o.stdout).contains(r.as_str()), "{args:?}: printed the root secret");
            }
        }
        check_invariants(dir, &state);
    }
}
