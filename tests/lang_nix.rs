//! Nix is the oracle: every corpus case outside the hac-only topics is evaluated with the
//! real `nix-instantiate --eval --strict --json` (Nix 2.8) and with `hac eval --json`.
//! A success case must give the same value in both (floats within 1e-6 relative) and the
//! committed `.json` must still be what Nix prints; an error case must be an error in both,
//! except the known, listed disagreements of tests/lang/nix-exceptions.txt.

mod lang_support;

use lang_support::*;

const THREADS: usize = 2;

fn checked_cases() -> (Vec<Case>, Vec<(String, String)>) {
    require_tool("nix-instantiate");
    let cases = discover_cases().unwrap_or_else(|e| panic!("the corpus is malformed:\n{e}"));
    let exceptions = nix_exceptions().unwrap_or_else(|e| panic!("{e}"));
    (
        cases.into_iter().filter(|c| !c.is_hac_only()).collect(),
        exceptions,
    )
}

#[test]
fn exceptions_list_names_existing_cases_with_reasons() {
    let (cases, exceptions) = checked_cases();
    assert!(!exceptions.is_empty(), "nix-exceptions.txt lists nothing");
    for (path, reason) in &exceptions {
        let case = cases.iter().find(|c| c.rel_path == *path);
        assert!(
            case.is_some(),
            "nix-exceptions.txt names {path}, which is not a Nix-checked corpus case"
        );
        assert!(
            !reason.is_empty(),
            "nix-exceptions.txt: {path} has no reason"
        );
    }
}

#[test]
fn nix_agrees_with_the_committed_expectations() {
    let (cases, exceptions) = checked_cases();
    let dir = corpus_dir();
    let failures: Vec<String> = parallel_map(&cases, THREADS, |case| {
        let excepted = exceptions.iter().any(|(p, _)| *p == case.rel_path);
        let nix = match nix_eval(&dir, &case.rel_path, HANG_TIMEOUT) {
            Ok(run) => run,
            Err(e) => return Some(format!("{}: {e}", case.rel_path)),
        };
        if nix.timed_out {
            return Some(format!("{}: nix-instantiate hung", case.rel_path));
        }
        match &case.expected {
            // A listed disagreement on a success case: the .json is hand-written from current
            // Nix; Nix 2.8 must still disagree, else the line is stale.
            Expected::Value(expected) if excepted => {
                let same = nix.code() == Some(0)
                    && serde_json::from_slice::<serde_json::Value>(&nix.stdout)
                        .is_ok_and(|v| json_diff(expected, &v).is_none());
                same.then(|| {
                    format!(
                        "{}: listed in nix-exceptions.txt but Nix agrees: drop the line",
                        case.rel_path
                    )
                })
            }
            Expected::Value(expected) => {
                if nix.code() != Some(0) {
                    return Some(format!(
                        "{}: Nix rejects a success case: {}",
                        case.rel_path,
                        nix.describe()
                    ));
                }
                match serde_json::from_slice::<serde_json::Value>(&nix.stdout) {
                    Ok(v) => json_diff(expected, &v).map(|d| {
                        format!(
                            "{}: stale .json (run tests/lang/regen-expected.sh): {d}",
                            case.rel_path
                        )
                    }),
                    Err(e) => Some(format!("{}: Nix printed no JSON: {e}", case.rel_path)),
                }
            }
            Expected::Error(_) => match (nix.code() == Some(0), excepted) {
                (true, false) => Some(format!(
                    "{}: Nix accepts an error case (prints {}) and it is not in nix-exceptions.txt",
                    case.rel_path,
                    nix.stdout_str().trim()
                )),
                // (A listed error case that Nix also rejects is not flagged: some, like
                // toFile or derivation, fail in Nix only where the store is read-only.)
                _ => None,
            },
        }
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        failures.is_empty(),
        "{} cases disagree with Nix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn hac_agrees_with_nix() {
    let (cases, exceptions) = checked_cases();
    let dir = corpus_dir();
    let failures: Vec<String> = parallel_map(&cases, THREADS, |case| {
        let excepted = exceptions.iter().any(|(p, _)| *p == case.rel_path);
        let nix = match nix_eval(&dir, &case.rel_path, HANG_TIMEOUT) {
            Ok(run) => run,
            Err(e) => return Some(format!("{}: {e}", case.rel_path)),
        };
        let hac = match hac_eval(
            &dir,
            &case.rel_path,
            &["--message-format", "json"],
            HANG_TIMEOUT,
        ) {
            Ok(run) => run,
            Err(e) => return Some(format!("{}: {e}", case.rel_path)),
        };
        if hac.timed_out || hac.signal().is_some() {
            return Some(format!("{}: hac {}", case.rel_path, hac.describe()));
        }
        let nix_ok = nix.code() == Some(0);
        let hac_ok = hac.code() == Some(0);
        match (nix_ok, hac_ok) {
            // A listed disagreement: hac's own outcome is checked by lang_corpus.
            (_, _) if excepted => None,
            (true, true) => {
                let parse = |r: &Run| serde_json::from_slice::<serde_json::Value>(&r.stdout);
                match (parse(&nix), parse(&hac)) {
                    (Ok(n), Ok(h)) => {
                        json_diff(&n, &h).map(|d| format!("{}: Nix vs hac: {d}", case.rel_path))
                    }
                    (_, Err(e)) => Some(format!("{}: hac printed no JSON: {e}", case.rel_path)),
                    (Err(e), _) => Some(format!("{}: Nix printed no JSON: {e}", case.rel_path)),
                }
            }
            (false, false) => {
                if hac.code() == Some(1) {
                    None
                } else {
                    Some(format!(
                        "{}: hac failed with exit {:?}, expected 1",
                        case.rel_path,
                        hac.code()
                    ))
                }
            }
            (true, false) => Some(format!(
                "{}: Nix gives {} but hac fails: {}",
                case.rel_path,
                nix.stdout_str().trim(),
                hac.describe()
            )),
            (false, true) => Some(format!(
                "{}: Nix fails but hac accepts it (prints {}); Nix says: {}",
                case.rel_path,
                hac.stdout_str().trim(),
                nix.stderr_str()
                    .lines()
                    .find(|l| l.contains("error"))
                    .unwrap_or("")
            )),
        }
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases: hac disagrees with Nix:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
