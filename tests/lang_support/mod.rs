//! Shared helpers of the language tests (lang_corpus, lang_nix, lang_differential,
//! lang_hostile): finding the corpus cases under tests/lang/, running `hac` and
//! `nix-instantiate` with a hang-detecting timeout, reading JSON diagnostics, and comparing
//! JSON values the way the contract does (floats within 1e-6 relative).
#![allow(dead_code)]

use serde_json::Value;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Topics whose cases have hand-written expectations: the hac library has no Nix oracle.
pub const HAC_ONLY_TOPICS: &[&str] = &["lib", "errors-lib"];

/// Generous limit for one evaluation: only there to turn a hang into a failure.
pub const HANG_TIMEOUT: Duration = Duration::from_secs(60);

/// Hint printed when a real tool the tests need is missing.
pub const INSTALL_HINT: &str = "run scripts/install-test-deps.sh";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// tests/lang/: the corpus root; the harness runs every command from here so paths in
/// diagnostics are relative (`topic/name.ha`) and snapshots stable.
pub fn corpus_dir() -> PathBuf {
    repo_root().join("tests").join("lang")
}

pub fn hac_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hac"))
}

/// What a corpus case must give.
#[derive(Clone, Debug)]
pub enum Expected {
    /// `<name>.json`: the value `hac eval --json` must print.
    Value(Value),
    /// `<name>.err`: the code of the first diagnostic (exit code 1).
    Error(String),
}

#[derive(Clone, Debug)]
pub struct Case {
    /// Path relative to tests/lang/, e.g. `strings/escapes.ha`.
    pub rel_path: String,
    pub topic: String,
    pub name: String,
    pub expected: Expected,
}

impl Case {
    pub fn is_hac_only(&self) -> bool {
        HAC_ONLY_TOPICS.contains(&self.topic.as_str())
    }
    pub fn is_error(&self) -> bool {
        matches!(self.expected, Expected::Error(_))
    }
}

/// Every case of the corpus: each `tests/lang/<topic>/<name>.ha` outside folders whose
/// name starts with `_` (helper files). A case without a `.json` or `.err` beside it, or
/// with an unreadable one, is a corpus error and fails the caller.
pub fn discover_cases() -> Result<Vec<Case>, String> {
    let root = corpus_dir();
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    let topics =
        std::fs::read_dir(&root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    let mut topic_dirs: Vec<PathBuf> = topics
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| !file_name(p).starts_with('_'))
        .collect();
    topic_dirs.sort();
    for topic_dir in topic_dirs {
        let topic = file_name(&topic_dir);
        let entries = match std::fs::read_dir(&topic_dir) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(format!("cannot read {}: {e}", topic_dir.display()));
                continue;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "ha"))
            .collect();
        files.sort();
        for file in files {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel_path = format!("{topic}/{name}.ha");
            let json_path = file.with_extension("json");
            let err_path = file.with_extension("err");
            let expected = match (json_path.exists(), err_path.exists()) {
                (true, false) => match std::fs::read_to_string(&json_path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
                {
                    Ok(v) => Expected::Value(v),
                    Err(e) => {
                        problems.push(format!("{rel_path}: bad expected JSON: {e}"));
                        continue;
                    }
                },
                (false, true) => {
                    let text = std::fs::read_to_string(&err_path).unwrap_or_default();
                    let code = text.lines().next().unwrap_or("").trim().to_string();
                    if !is_diagnostic_code(&code) {
                        problems.push(format!(
                            "{rel_path}: .err first line {code:?} is not a code like E0006"
                        ));
                        continue;
                    }
                    Expected::Error(code)
                }
                (true, true) => {
                    problems.push(format!("{rel_path}: has both .json and .err"));
                    continue;
                }
                (false, false) => {
                    problems.push(format!("{rel_path}: has neither .json nor .err"));
                    continue;
                }
            };
            cases.push(Case {
                rel_path,
                topic: topic.clone(),
                name,
                expected,
            });
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(problems.join("\n"))
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn is_diagnostic_code(code: &str) -> bool {
    code.len() == 5 && code.starts_with('E') && code[1..].chars().all(|c| c.is_ascii_digit())
}

/// The outcome of one child process run under a hang-detecting timeout.
#[derive(Debug)]
pub struct Run {
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
    pub fn signal(&self) -> Option<i32> {
        self.status.and_then(|s| s.signal())
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// One line for failure messages: how the process ended and the start of stderr.
    pub fn describe(&self) -> String {
        let how = if self.timed_out {
            format!("HUNG (killed after {:?})", self.elapsed)
        } else if let Some(sig) = self.signal() {
            format!("killed by signal {sig}")
        } else {
            format!("exit {:?}", self.code())
        };
        let err = self.stderr_str();
        let head: String = err.chars().take(600).collect();
        format!("{how}; stderr: {head}")
    }
}

/// Runs `cmd` (stdout/stderr captured, stdin closed), killing it after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Run, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {
                if start.elapsed() > timeout {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().ok();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("waiting for {cmd:?}: {e}")),
        }
    };
    let elapsed = start.elapsed();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Run {
        status,
        stdout,
        stderr,
        timed_out,
        elapsed,
    })
}

/// `hac eval --json [extra…] FILE`, run from tests/lang/ (or `cwd`).
pub fn hac_eval(cwd: &Path, file: &str, extra: &[&str], timeout: Duration) -> Result<Run, String> {
    let mut cmd = Command::new(hac_bin());
    cmd.current_dir(cwd)
        .arg("eval")
        .arg("--json")
        .args(extra)
        .arg(file);
    cmd.env("NO_COLOR", "1");
    run_with_timeout(cmd, timeout)
}

/// Fails (with the install hint) when `tool` is not on PATH.
pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()));
    assert!(found, "`{tool}` is not installed: {INSTALL_HINT}");
}

/// `nix-instantiate --eval --strict --json FILE`, the oracle, run from `cwd`.
pub fn nix_eval(cwd: &Path, file: &str, timeout: Duration) -> Result<Run, String> {
    let mut cmd = Command::new("nix-instantiate");
    cmd.current_dir(cwd)
        .args(["--eval", "--strict", "--json"])
        .arg(file);
    // Keep Nix hermetic and quiet: no search path, no user config, a private state dir.
    cmd.env_remove("NIX_PATH");
    run_with_timeout(cmd, timeout)
}

/// Diagnostics printed with `--message-format json`: every stderr line that is a JSON
/// object with a `code`.
pub fn json_diagnostics(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter(|v| v.get("code").is_some())
        .collect()
}

/// The code of the first error diagnostic (warnings before it are skipped).
pub fn first_error_code(stderr: &[u8]) -> Option<String> {
    let diags = json_diagnostics(stderr);
    diags
        .iter()
        .find(|d| d.get("severity").and_then(Value::as_str) == Some("error"))
        .or_else(|| diags.first())
        .and_then(|d| d.get("code"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// JSON equality with floats compared within 1e-6 relative (and ints equal to floats of
/// the same value, as Nix prints `1.0` as `1`). Returns the path of the first difference.
pub fn json_diff(expected: &Value, actual: &Value) -> Option<String> {
    fn go(e: &Value, a: &Value, path: &mut String) -> Option<String> {
        match (e, a) {
            (Value::Number(x), Value::Number(y)) => {
                if x.is_f64() || y.is_f64() {
                    let (fx, fy) = (
                        x.as_f64().unwrap_or(f64::NAN),
                        y.as_f64().unwrap_or(f64::NAN),
                    );
                    let scale = fx.abs().max(fy.abs()).max(1e-300);
                    if fx == fy || (fx - fy).abs() / scale <= 1e-6 {
                        None
                    } else {
                        Some(format!("{path}: expected {x}, found {y}"))
                    }
                } else if x == y {
                    None
                } else {
                    Some(format!("{path}: expected {x}, found {y}"))
                }
            }
            (Value::Array(xs), Value::Array(ys)) => {
                if xs.len() != ys.len() {
                    return Some(format!(
                        "{path}: expected a list of {}, found {}",
                        xs.len(),
                        ys.len()
                    ));
                }
                for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if let Some(d) = go(x, y, path) {
                        return Some(d);
                    }
                    path.truncate(len);
                }
                None
            }
            (Value::Object(xs), Value::Object(ys)) => {
                let xk: Vec<&String> = xs.keys().collect();
                let yk: Vec<&String> = ys.keys().collect();
                let mut xs_sorted = xk.clone();
                xs_sorted.sort();
                let mut ys_sorted = yk.clone();
                ys_sorted.sort();
                if xs_sorted != ys_sorted {
                    return Some(format!(
                        "{path}: expected keys {xs_sorted:?}, found {ys_sorted:?}"
                    ));
                }
                for (k, x) in xs {
                    let len = path.len();
                    path.push_str(&format!(".{k}"));
                    if let Some(d) = go(x, &ys[k], path) {
                        return Some(d);
                    }
                    path.truncate(len);
                }
                None
            }
            _ if e == a => None,
            _ => Some(format!("{path}: expected {}, found {}", short(e), short(a))),
        }
    }
    go(expected, actual, &mut String::from("$"))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// tests/lang/nix-exceptions.txt: `path  reason` per line (`#` comments).
pub fn nix_exceptions() -> Result<Vec<(String, String)>, String> {
    let path = corpus_dir().join("nix-exceptions.txt");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (p, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        out.push((p.to_string(), reason.trim().to_string()));
    }
    Ok(out)
}

/// Runs `f` on every item with `threads` workers, keeping the input order of the results.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .expect("every item was processed")
        })
        .collect()
}
