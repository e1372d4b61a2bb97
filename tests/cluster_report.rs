//! Insta snapshots of what `hac check` tells a platform engineer about the seed scenarios
//! (tests/cluster/seeds/): the rendered diagnostics and the availability report.
//! - seed 003, two masters: rejected, explaining that a 2-member etcd tolerates no failure;
//! - seed 002, three masters in three zones and nine workers: survives any one zone;
//! - seed 004, external etcd with three etcd nodes: tolerates one etcd failure;
//! - seed 000, masters that also run etcd, keepalived alone holding the VIP;
//! - seed 004 option A, a single dedicated load balancer: a warning, a single point of failure.

use std::path::PathBuf;
use std::process::Command;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `hac check tests/cluster/seeds/NAME.ha` from the repository root (so that the paths in
/// the rendered diagnostics are the same on every machine).
fn check(name: &str, extra: &[&str]) -> Run {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_hac"))
        .current_dir(&root)
        .arg("check")
        .arg(format!("tests/cluster/seeds/{name}.ha"))
        .args(["--color", "never"])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("HAC_NOW", "2026-07-01T00:00:00Z")
        .output()
        .unwrap_or_else(|e| panic!("cannot run hac: {e}"));
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn seed_003_two_masters_are_rejected() {
    let run = check("two-masters", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("E0202"), "{}", run.stderr);
    assert!(
        run.stderr.contains("tolerates no failure"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("add a third control-plane node"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("cluster_seed_003_two_masters_diagnostics", run.stderr);
}

#[test]
fn seed_002_three_zones_survive_any_one() {
    let run = check("multi-zone", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("survives its loss").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("NOT survive"), "{}", run.stdout);
    insta::assert_snapshot!("cluster_seed_002_multi_zone_report", run.stdout);
}

#[test]
fn seed_004_external_etcd_tolerates_one_etcd_failure() {
    let run = check("external-etcd", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("3 members"), "{}", run.stdout);
    assert!(run.stdout.contains("tolerates 1 failure"), "{}", run.stdout);
    assert!(
        run.stdout.contains("single points of failure: none"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("cluster_seed_004_external_etcd_report", run.stdout);
}

#[test]
fn seed_000_masters_run_etcd_with_keepalived_alone() {
    let run = check("masters-run-etcd", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("held by keepalived on master-0 (MASTER"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("tolerates 1 failure"), "{}", run.stdout);
    insta::assert_snapshot!("cluster_seed_000_masters_run_etcd_report", run.stdout);
}

#[test]
fn seed_004_option_a_single_load_balancer_is_a_warning() {
    let run = check("single-dedicated-lb", &[]);
    assert_eq!(
        run.code,
        Some(0),
        "a warning does not fail the check: {}",
        run.stderr
    );
    assert!(run.stderr.contains("W0401"), "{}", run.stderr);
    assert!(
        run.stdout.contains("lb-0: its loss loses every VIP holder"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("cluster_seed_004_single_lb_warning", run.stderr);
    insta::assert_snapshot!("cluster_seed_004_single_lb_report", run.stdout);
    let denied = check("single-dedicated-lb", &["--deny-warnings"]);
    assert_eq!(denied.code, Some(1), "{}", denied.stderr);
}
