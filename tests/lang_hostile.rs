//! Hostile inputs: deep nesting, huge literals, deep and infinite recursion, huge lists,
//! random bytes. Whatever the input, `hac eval` must end — exit 0, or exit 1 with a coded
//! diagnostic — never be killed by a signal (stack overflow, abort) and never hang. The
//! kill timeout only detects hangs; nothing here asserts how fast hac is.

mod lang_support;

use lang_support::*;
use std::path::Path;
use std::time::Duration;

/// Generous: a debug build on a loaded 2-core machine; only a hang should reach it.
const KILL_AFTER: Duration = Duration::from_secs(120);

/// Writes `source` to a fresh directory and runs `hac eval --json --message-format json`.
fn eval_source(source: &[u8]) -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("input.ha"), source).expect("write input.ha");
    eval_in(dir.path(), "input.ha")
}

/// Runs under an 8 GiB address-space limit (`ulimit -v`) so a runaway allocation fails
/// inside hac instead of starving the machine (whose other tests run at the same time).
fn eval_in(dir: &Path, file: &str) -> Run {
    let mut cmd = std::process::Command::new("sh");
    cmd.current_dir(dir)
        .arg("-c")
        .arg("ulimit -v 8388608 && exec \"$0\" \"$@\"")
        .arg(hac_bin())
        .args(["eval", "--json", "--message-format", "json", file]);
    run_with_timeout(cmd, KILL_AFTER).unwrap_or_else(|e| panic!("{e}"))
}

/// The contract for every hostile input: the process ends by itself with 0, or with 1 and
/// at least one coded diagnostic whose message is not empty. Returns the first code.
fn assert_ends_cleanly(what: &str, run: &Run) -> Option<String> {
    assert!(
        !run.timed_out,
        "{what}: hac hung (killed after {:?})",
        run.elapsed
    );
    assert!(
        run.signal().is_none(),
        "{what}: hac crashed: {}",
        run.describe()
    );
    match run.code() {
        Some(0) => None,
        Some(1) => {
            let diags = json_diagnostics(&run.stderr);
            assert!(
                !diags.is_empty(),
                "{what}: exit 1 without a JSON diagnostic: {}",
                run.describe()
            );
            let first = &diags[0];
            let code = first.get("code").and_then(|c| c.as_str()).unwrap_or("");
            assert!(
                is_diagnostic_code(code),
                "{what}: diagnostic without a code: {first}"
            );
            let message = first.get("message").and_then(|m| m.as_str()).unwrap_or("");
            assert!(
                !message.trim().is_empty(),
                "{what}: diagnostic without a message: {first}"
            );
            Some(code.to_string())
        }
        other => panic!(
            "{what}: exit code {other:?}, expected 0 or 1: {}",
            run.describe()
        ),
    }
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * depth + inner.len());
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

#[test]
fn hundred_thousand_nested_lists() {
    let run = eval_source(nested("[", "", "]", 100_000).as_bytes());
    if assert_ends_cleanly("100,000 nested lists", &run).is_none() {
        assert!(
            run.stdout.starts_with(b"[[[["),
            "value of nested lists: {}",
            run.stdout_str()
        );
    }
}

#[test]
fn hundred_thousand_nested_parentheses() {
    let run = eval_source(nested("(", "1", ")", 100_000).as_bytes());
    if assert_ends_cleanly("100,000 nested parentheses", &run).is_none() {
        assert_eq!(run.stdout_str().trim(), "1");
    }
}

#[test]
fn hundred_thousand_nested_attribute_sets() {
    let run = eval_source(nested("{ a = ", "1", "; }", 100_000).as_bytes());
    assert_ends_cleanly("100,000 nested attribute sets", &run);
}

#[test]
fn hundred_thousand_nested_lets_and_lambdas() {
    let lets = nested("let x = 1; in ", "x", "", 100_000);
    assert_ends_cleanly("100,000 nested lets", &eval_source(lets.as_bytes()));
    let lambdas = format!("{} 1", nested("(x: ", "x", ")", 100_000));
    assert_ends_cleanly("100,000 nested lambdas", &eval_source(lambdas.as_bytes()));
}

#[test]
fn hundred_thousand_nested_string_interpolations() {
    let run = eval_source(nested("\"${", "\"x\"", "}\"", 100_000).as_bytes());
    if assert_ends_cleanly("100,000 nested interpolations", &run).is_none() {
        assert_eq!(run.stdout_str().trim(), "\"x\"");
    }
}

#[test]
fn long_operator_chains() {
    // Left-associative chains build a deep tree on the left; unary operators on the right.
    let sum = format!("0{}", " + 1".repeat(100_000));
    if assert_ends_cleanly("100,000 additions", &eval_source(sum.as_bytes())).is_none() {
        // (checked only when accepted: a depth limit is an acceptable answer)
    }
    let concat = format!("[ ]{}", " ++ [ 1 ]".repeat(100_000));
    assert_ends_cleanly(
        "100,000 list concatenations",
        &eval_source(concat.as_bytes()),
    );
    let negations = format!("{}1", "-".repeat(100_000));
    assert_ends_cleanly("100,000 unary minus", &eval_source(negations.as_bytes()));
    let nots = format!("{}true", "!".repeat(100_000));
    assert_ends_cleanly("100,000 negations", &eval_source(nots.as_bytes()));
    let updates = format!("{{ }}{}", " // { a = 1; }".repeat(100_000));
    assert_ends_cleanly("100,000 updates", &eval_source(updates.as_bytes()));
    let selects = format!("let s = {{ s = s; }}; in s{}", ".s".repeat(100_000));
    assert_ends_cleanly("100,000 selections", &eval_source(selects.as_bytes()));
}

#[test]
fn ten_megabyte_string_literal() {
    let body = "a".repeat(10 * 1024 * 1024);
    let run = eval_source(format!("\"{body}\"").as_bytes());
    if assert_ends_cleanly("10 MB string literal", &run).is_none() {
        let printed = run.stdout_str();
        assert_eq!(
            printed.trim().len(),
            body.len() + 2,
            "the whole string is printed"
        );
    }
}

#[test]
fn deep_non_tail_recursion() {
    let source = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 1000000";
    let run = eval_source(source.as_bytes());
    match assert_ends_cleanly("recursion one million deep", &run) {
        None => assert_eq!(run.stdout_str().trim(), "1000000"),
        Some(code) => assert_eq!(
            code, "E0015",
            "deep recursion ends in the depth-limit error"
        ),
    }
}

#[test]
fn infinite_recursion_is_reported() {
    for (what, source) in [
        ("self-referential let", "let x = x; in x"),
        ("mutually recursive rec", "(rec { a = b; b = a; }).a"),
    ] {
        let run = eval_source(source.as_bytes());
        let code = assert_ends_cleanly(what, &run);
        assert_eq!(code.as_deref(), Some("E0006"), "{what}: {}", run.describe());
    }
}

#[test]
fn unbounded_recursion_ends() {
    for (what, source) in [
        ("tail-position loop", "let f = x: f x; in f 1"),
        ("growing loop", "let f = n: 1 + f (n + 1); in f 0"),
        ("infinite list", "let xs = n: [ n ] ++ xs (n + 1); in xs 0"),
        ("infinite nesting", "let loop = x: [ (loop x) ]; in loop 1"),
        ("infinite set", "let s = n: { next = s (n + 1); }; in s 0"),
    ] {
        let run = eval_source(source.as_bytes());
        let code = assert_ends_cleanly(what, &run);
        assert!(
            code.is_some(),
            "{what} cannot have a value, yet hac printed one"
        );
    }
}

#[test]
fn million_element_list_is_forced() {
    let run = eval_source(b"builtins.genList (i: i * 2) 1000000");
    assert!(
        assert_ends_cleanly("genList 1e6", &run).is_none(),
        "genList 1e6 fails: {}",
        run.describe()
    );
    let value: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON list");
    let items = value.as_array().expect("a list");
    assert_eq!(items.len(), 1_000_000);
    assert_eq!(items[999_999], serde_json::json!(1_999_998));
}

#[test]
fn big_attribute_set_and_fold() {
    let source = "let xs = builtins.genList (i: { name = \"n${toString i}\"; value = i; }) 200000; \
                  s = builtins.listToAttrs xs; in builtins.foldl' (a: n: a + s.${n}) 0 (builtins.attrNames s)";
    let run = eval_source(source.as_bytes());
    assert!(
        assert_ends_cleanly("200,000 attributes", &run).is_none(),
        "{}",
        run.describe()
    );
    assert_eq!(
        run.stdout_str().trim(),
        (0..200_000u64).sum::<u64>().to_string()
    );
}

#[test]
fn exponential_work_is_bounded_by_laziness() {
    // Sharing: each level refers to the previous one twice; call-by-need keeps it linear.
    let source = "let f = n: if n == 0 then 1 else let r = f (n - 1); in builtins.seq r (r + r - r); in f 5000";
    let run = eval_source(source.as_bytes());
    match assert_ends_cleanly("shared recursion", &run) {
        None => assert_eq!(run.stdout_str().trim(), "1"),
        Some(code) => assert_eq!(code, "E0015"),
    }
}

/// splitmix64, for reproducible random inputs.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

#[test]
fn random_bytes_are_rejected_cleanly() {
    for seed in 0..40u64 {
        let bytes = random_bytes(seed, 64 + (seed as usize) * 97);
        let run = eval_source(&bytes);
        assert_ends_cleanly(&format!("random bytes (seed {seed})"), &run);
    }
}

#[test]
fn random_token_soup_ends_cleanly() {
    const TOKENS: &[&str] = &[
        "let",
        "in",
        "rec",
        "with",
        "if",
        "then",
        "else",
        "assert",
        "inherit",
        "or",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ";",
        ":",
        "=",
        ".",
        "?",
        "@",
        "...",
        ",",
        "+",
        "-",
        "*",
        "/",
        "++",
        "//",
        "==",
        "!=",
        "<",
        ">",
        "&&",
        "||",
        "->",
        "!",
        "x",
        "y",
        "a.b",
        "1",
        "2.5",
        "\"s\"",
        "\"${",
        "}\"",
        "''",
        "${",
        "./f.ha",
        "<hac/lib>",
        "import",
        "builtins",
        "null",
        "true",
        "x:x",
        "#",
        "/*",
        "*/",
        "\\",
        "'",
        "\0",
        "é",
    ];
    for seed in 0..60u64 {
        let picks = random_bytes(seed ^ 0xabcdef, 40 + (seed as usize % 7) * 30);
        let source: Vec<&str> = picks
            .iter()
            .map(|b| TOKENS[*b as usize % TOKENS.len()])
            .collect();
        let source = source.join(" ");
        let run = eval_source(source.as_bytes());
        assert_ends_cleanly(&format!("token soup (seed {seed}): {source}"), &run);
    }
}

#[test]
fn invalid_utf8_and_nul_are_rejected() {
    for (what, bytes) in [
        ("invalid UTF-8 in a string", b"\"\xff\xfe\"".to_vec()),
        ("NUL in a string", b"\"a\0b\"".to_vec()),
        ("lone NUL", b"\0".to_vec()),
        ("byte-order mark then value", b"\xef\xbb\xbf1".to_vec()),
    ] {
        let run = eval_source(&bytes);
        assert_ends_cleanly(what, &run);
    }
}

#[test]
fn huge_and_odd_numbers() {
    for (what, source) in [
        (
            "integer literal beyond 64 bits",
            "99999999999999999999999999",
        ),
        ("float literal beyond f64", "1.0e999"),
        (
            "many digits float",
            "0.000000000000000000000000000000000000000000000000001",
        ),
        (
            "genList of a huge size",
            "builtins.genList (i: i) 9223372036854775807",
        ),
        (
            "elemAt huge index",
            "builtins.elemAt [ 1 ] 9223372036854775807",
        ),
        (
            "substring huge length",
            "builtins.substring 0 9223372036854775807 \"abc\"",
        ),
        (
            "bit ops on extremes",
            "builtins.bitXor 9223372036854775807 (-9223372036854775807 - 1)",
        ),
    ] {
        let run = eval_source(source.as_bytes());
        assert_ends_cleanly(what, &run);
    }
}
