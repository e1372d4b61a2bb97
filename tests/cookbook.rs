//! docs/cookbook.md stays true: every recipe it shows is built, and every fenced block after a
//! `<!-- cookbook: … -->` marker is exactly what the marker names —
//! `file PATH` (a file of the repository), `run DIR EXIT hac ARGS…` (what `hac ARGS` prints on
//! stdout then stderr, run in DIR, exiting with EXIT) or `files CLUSTER.ha NODE` (the files of
//! NODE's host folder in a `--format tree` build, with their modes).
//! `HAC_UPDATE_DOCS=1 cargo test --test cookbook` rewrites the blocks after a deliberate change.

mod e2e_support;
use e2e_support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const PAGE: &str = "docs/cookbook.md";

/// One marker and the fenced block after it (line indices of the block's content).
struct Block {
    marker: String,
    line: usize,
    content: std::ops::Range<usize>,
}

fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim();
        if let Some(m) = l
            .strip_prefix("<!-- cookbook:")
            .and_then(|r| r.strip_suffix("-->"))
        {
            let fence = i + 1;
            assert!(
                lines.get(fence).is_some_and(|f| f.starts_with("```")),
                "{PAGE}:{}: a cookbook marker must be followed by a fenced block",
                i + 1
            );
            let end = (fence + 1..lines.len())
                .find(|&j| lines[j] == "```")
                .unwrap_or_else(|| panic!("{PAGE}:{}: unclosed fenced block", fence + 1));
            out.push(Block {
                marker: m.trim().to_string(),
                line: i + 1,
                content: fence + 1..end,
            });
            i = end;
        }
        i += 1;
    }
    out
}

/// Copies `ha` into a fresh folder, with its secrets file when one is committed beside it
/// (else `hac secrets init` makes one), builds it as a tree and returns the folder.
fn build(ha: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let name = ha.file_name().unwrap();
    let copy = tmp.path().join(name);
    std::fs::copy(ha, &copy).unwrap();
    let secrets = ha.with_extension("secrets");
    let copied_secrets = copy.with_extension("secrets");
    if secrets.exists() {
        std::fs::copy(&secrets, &copied_secrets).unwrap();
        std::fs::set_permissions(&copied_secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    } else {
        let o = run(hac().arg("secrets").arg("init").arg(&copy).arg("-q"));
        assert!(
            o.status.success(),
            "secrets init {}: {}",
            ha.display(),
            text(&o.stderr)
        );
    }
    let o = run(hac()
        .arg("build")
        .arg(&copy)
        .args(["-o", "out", "--format", "tree", "-q"])
        .current_dir(tmp.path()));
    assert!(
        o.status.success(),
        "hac build {} failed:\n{}",
        ha.display(),
        text(&o.stderr)
    );
    tmp
}

/// What the marker says the block must hold.
fn expected(marker: &str, line: usize) -> String {
    let words: Vec<&str> = marker.split_whitespace().collect();
    match words.as_slice() {
        ["file", path] => std::fs::read_to_string(root().join(path))
            .unwrap_or_else(|e| panic!("{PAGE}:{line}: {path}: {e}")),
        ["run", dir, exit, "hac", args @ ..] => {
            let o = run(hac().args(args).current_dir(root().join(dir)));
            let want: i32 = exit.parse().expect("exit code");
            assert_eq!(
                o.status.code(),
                Some(want),
                "{PAGE}:{line}: `hac {}` exited {:?}:\n{}",
                args.join(" "),
                o.status.code(),
                text(&o.stderr)
            );
            if want == 0 && args.first() == Some(&"check") {
                // A recipe that checks cleanly must also build.
                let ha = root().join(dir).join(args.last().unwrap());
                drop(build(&ha));
            }
            format!("{}{}", text(&o.stdout), text(&o.stderr))
        }
        ["files", ha, node] => {
            let built = build(&root().join(ha));
            let host = built.path().join("out/hosts").join(node);
            assert!(host.is_dir(), "{PAGE}:{line}: no host folder {node}");
            files_under(&host)
                .into_iter()
                .map(|p| {
                    let mode = std::fs::metadata(host.join(&p))
                        .unwrap()
                        .permissions()
                        .mode();
                    format!("{:04o}  {}\n", mode & 0o7777, p.display())
                })
                .collect()
        }
        _ => panic!("{PAGE}:{line}: unknown cookbook marker `{marker}`"),
    }
}

#[test]
fn every_block_of_the_cookbook_is_what_hac_prints() {
    for name in EXAMPLES {
        example_secrets(name);
    }
    let path = root().join(PAGE);
    let page = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = page.lines().collect();
    let found = blocks(&lines);
    assert!(found.len() >= 20, "only {} cookbook blocks", found.len());
    let mut rebuilt: Vec<String> = Vec::new();
    let mut stale = Vec::new();
    let mut next = 0;
    for b in &found {
        rebuilt.extend(
            lines[next..b.content.start]
                .iter()
                .map(std::string::ToString::to_string),
        );
        let want = expected(&b.marker, b.line);
        let have: String = lines[b.content.clone()]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        if have != want {
            stale.push(format!("{PAGE}:{}: {}", b.line, b.marker));
        }
        rebuilt.extend(want.lines().map(str::to_string));
        next = b.content.end;
    }
    rebuilt.extend(lines[next..].iter().map(std::string::ToString::to_string));
    if std::env::var_os("HAC_UPDATE_DOCS").is_some() {
        std::fs::write(&path, rebuilt.join("\n") + "\n").unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "{PAGE} no longer shows what hac prints (rewrite with `HAC_UPDATE_DOCS=1 cargo test --test cookbook`):\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_cookbook_covers_the_classic_setups() {
    let page = std::fs::read_to_string(root().join(PAGE)).unwrap();
    // Every seed scenario's example and every load-balancer kind has a recipe.
    for example in EXAMPLES {
        assert!(
            page.contains(&format!(
                "cookbook: file out-examples/{example}/{example}.ha"
            )),
            "{example} has no recipe"
        );
    }
    for kind in ["keepalived", "haproxy", "nginx", "kube-vip", "external"] {
        assert!(
            page.contains(&format!("kind = \"{kind}\"")),
            "no recipe uses loadBalancer.kind = \"{kind}\""
        );
    }
}
