//! The cluster at the top of README.md, and the stacked-3 example scripts/example.sh builds,
//! build cleanly under `--deny-warnings` with a secrets file of their own: no user-data over
//! 16 KiB (W0701: the .yaml, or the .yaml.gz hac writes beside it when only gzip fits) and no
//! keys in user-data (W0706) with the defaults.

mod e2e_support;
use e2e_support::*;

fn builds_without_warnings(source: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let ha = tmp.path().join("cluster.ha");
    std::fs::write(&ha, source).unwrap();
    let o = run(hac().arg("secrets").arg("init").arg(&ha));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = tmp.path().join("out");
    let o = run(hac()
        .arg("build")
        .arg(&ha)
        .arg("-o")
        .arg(&out)
        .arg("--deny-warnings"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut user_data = 0;
    for entry in std::fs::read_dir(out.join("cloud-init")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            // What is uploaded: the .yaml, or its gzip form where hac wrote one (cloud-init
            // unpacks gzip user-data), which must be the gzip of the readable .yaml.
            let body = std::fs::read_to_string(&path).unwrap();
            let gz = path.with_extension("yaml.gz");
            let size = if gz.exists() {
                let o = run(std::process::Command::new("gzip").arg("-dc").arg(&gz));
                assert!(
                    o.status.success(),
                    "gzip -dc {}: {}",
                    gz.display(),
                    text(&o.stderr)
                );
                assert!(
                    o.stdout == body.as_bytes(),
                    "{}: not the gzip of the .yaml",
                    gz.display()
                );
                std::fs::metadata(&gz).unwrap().len()
            } else {
                body.len() as u64
            };
            assert!(size <= 16 * 1024, "{}: {size} bytes", path.display());
            // Only files others may read: no key, kubeconfig, token or password.
            assert!(
                body.lines()
                    .filter(|l| l.trim_start().starts_with("permissions:"))
                    .all(|l| l.contains("\"0644\"") || l.contains("\"0755\"")),
                "{}: a private file in the user-data",
                path.display()
            );
            user_data += 1;
        }
    }
    assert!(user_data >= 7, "only {user_data} user-data files");
}

#[test]
fn the_readme_cluster_builds_with_deny_warnings() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```nix\n").expect("the README's cluster") + "```nix\n".len();
    let end = start + readme[start..].find("```").expect("end of the block");
    builds_without_warnings(&readme[start..end]);
}

#[test]
fn the_example_script_cluster_builds_with_deny_warnings() {
    builds_without_warnings(&std::fs::read_to_string(example_file("stacked-3")).unwrap());
}
