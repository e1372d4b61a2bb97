//! The cluster corpus (tests/cluster/<rule>/<case>.ha): every case is run through
//! `hac check FILE --message-format json`; the diagnostics on stderr (one JSON object per
//! line) must be exactly those of `<case>.expected` (`CODE severity LINE`, one per line; an
//! empty file means clean), the exit code 0 with only warnings and 1 with any error, and
//! `--deny-warnings` must turn a warning-only case into exit 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Only to detect a hang; never a performance assertion.
const HANG_TIMEOUT: Duration = Duration::from_secs(60);

struct Case {
    /// `quorum/two-masters`
    name: String,
    file: PathBuf,
    /// Sorted `CODE severity LINE` rows.
    expected: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cluster")
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/cluster exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("readable corpus directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ha"))
            .collect();
        files.sort();
        for file in files {
            let expected_path = file.with_extension("expected");
            let text = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
                panic!(
                    "{} has no readable {}: {e}",
                    file.display(),
                    expected_path.display()
                )
            });
            let mut expected: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            for row in &expected {
                let parts: Vec<&str> = row.split(' ').collect();
                assert!(
                    parts.len() == 3
                        && matches!(parts[1], "error" | "warning")
                        && parts[2].parse::<usize>().is_ok(),
                    "{}: malformed row {row:?} (want `CODE severity LINE`)",
                    expected_path.display()
                );
            }
            expected.sort();
            let name = format!(
                "{}/{}",
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                file.file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            out.push(Case {
                name,
                file,
                expected,
            });
        }
    }
    out
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn hac_check(file: &Path, extra: &[&str]) -> Result<Run, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hac"))
        .arg("check")
        .arg(file)
        .args(["--message-format", "json", "--color", "never"])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("HAC_NOW", "2026-07-01T00:00:00Z")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run hac: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > HANG_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "hac check {} hung for {HANG_TIMEOUT:?}",
                    file.display()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for hac: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("reading hac's output: {e}"))?;
    Ok(Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The `CODE severity LINE` rows of hac's JSON diagnostics, sorted.
fn rows(stderr: &str) -> Result<Vec<String>, String> {
    let mut rows = Vec::new();
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("stderr line is not JSON ({e}): {line}"))?;
        let code = v["code"].as_str().unwrap_or("NOCODE");
        let severity = v["severity"].as_str().unwrap_or("?");
        let line_no = v["location"]["line"]
            .as_u64()
            .map_or("NOLINE".to_string(), |l| l.to_string());
        rows.push(format!("{code} {severity} {line_no}"));
    }
    rows.sort();
    Ok(rows)
}

fn check_case(case: &Case) -> Option<String> {
    let run = match hac_check(&case.file, &[]) {
        Ok(r) => r,
        Err(e) => return Some(format!("{}: {e}", case.name)),
    };
    let got = match rows(&run.stderr) {
        Ok(r) => r,
        Err(e) => return Some(format!("{}: {e}", case.name)),
    };
    if got != case.expected {
        return Some(format!(
            "{}: expected diagnostics\n    {:?}\n  got\n    {:?}\n  stderr:\n{}",
            case.name, case.expected, got, run.stderr
        ));
    }
    let has_error = case.expected.iter().any(|r| r.contains(" error "));
    let want_code = if has_error { 1 } else { 0 };
    if run.code != Some(want_code) {
        return Some(format!(
            "{}: expected exit {want_code}, got {:?}\n{}",
            case.name, run.code, run.stderr
        ));
    }
    if !has_error && !run.stdout.contains("quorum") {
        return Some(format!(
            "{}: a passing check prints the availability report, got:\n{}",
            case.name, run.stdout
        ));
    }
    None
}

#[test]
fn corpus_cases_report_exactly_the_expected_diagnostics() {
    let cases = cases();
    assert!(
        cases.len() >= 80,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(2).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || chunk.iter().filter_map(check_case).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a worker thread panicked".to_string()])
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn corpus_covers_every_cluster_code() {
    let cases = cases();
    let mut missing = Vec::new();
    for kind in hac_check::codes::CheckCode::ALL {
        use hac_check::codes::CheckCode;
        // The clock warning needs the CLI's clock: it does not come from a .ha file alone.
        // E0302 (duplicate node name) cannot be written: attribute names are unique.
        if matches!(
            kind,
            CheckCode::CertificatesNotValidNow | CheckCode::DuplicateName
        ) {
            continue;
        }
        let code = &kind.code();
        if !cases
            .iter()
            .any(|c| c.expected.iter().any(|r| r.starts_with(code)))
        {
            missing.push(*code);
        }
    }
    assert!(missing.is_empty(), "no corpus case expects {missing:?}");
    assert!(
        cases.iter().filter(|c| c.expected.is_empty()).count() >= 10,
        "too few clean cases"
    );
}

#[test]
fn deny_warnings_turns_warnings_into_a_failure() {
    let cases = cases();
    let warning_only: Vec<&Case> = cases
        .iter()
        .filter(|c| !c.expected.is_empty() && c.expected.iter().all(|r| r.contains(" warning ")))
        .collect();
    assert!(warning_only.len() >= 3, "too few warning-only cases");
    for case in warning_only {
        let run = hac_check(&case.file, &["--deny-warnings"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            run.code,
            Some(1),
            "{} with --deny-warnings: {}",
            case.name,
            run.stderr
        );
        let plain = hac_check(&case.file, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            plain.code,
            Some(0),
            "{} without --deny-warnings: {}",
            case.name,
            plain.stderr
        );
    }
}
