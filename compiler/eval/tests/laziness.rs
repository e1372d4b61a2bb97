//! Call-by-need: a shared thunk is evaluated once (exponential programs stay linear), unused
//! values are never evaluated, and deep or long structures end cleanly.

use hac_eval::{evaluate_source, EvalOptions};
use serde_json::json;
use std::sync::mpsc;
use std::time::Duration;

/// Evaluates on a helper thread; a generous timeout only detects a hang.
fn eval_with_hang_guard(src: &'static str) -> Result<serde_json::Value, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let dir = std::env::temp_dir();
        let ev = evaluate_source("lazy.ha", src, &dir, &EvalOptions::default());
        let _ = tx.send(
            ev.result
                .map(|v| v.to_json())
                .map_err(|d| d.code.unwrap_or_default()),
        );
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("evaluation hung: {src}"))
}

#[test]
fn shared_thunks_are_evaluated_once() {
    // Without sharing this doubles the work 60 times over.
    let src = "let f = n: if n == 0 then 1 else let x = f (n - 1); in builtins.seq x (x - x + 1); in f 60";
    assert_eq!(eval_with_hang_guard(src), Ok(json!(1)));
}

#[test]
fn unused_values_are_never_evaluated() {
    let src = "let boom = throw \"evaluated\"; loop = let x = x; in x; in { a = builtins.length [ boom loop ]; b = { x = boom; }.y or 2; }";
    assert_eq!(eval_with_hang_guard(src), Ok(json!({ "a": 2, "b": 2 })));
}

#[test]
fn deep_and_long_structures_end_cleanly() {
    let long = "builtins.length (builtins.genList (i: i) 1000000)";
    assert_eq!(eval_with_hang_guard(long), Ok(json!(1_000_000)));
    let deep = "builtins.deepSeq (builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (i: i) 1000000)) 1";
    assert_eq!(eval_with_hang_guard(deep), Err("E0015".to_string()));
    let recursion = "let f = n: 1 + f (n + 1); in f 0";
    assert_eq!(eval_with_hang_guard(recursion), Err("E0015".to_string()));
}
