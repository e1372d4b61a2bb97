//! The embedded library (`<hac/lib>`, the `lib` argument of a cluster file): network math,
//! node generators and the nixpkgs-named helpers, with their expected values.

use hac_eval::{evaluate_source, EvalOptions};
use serde_json::json;

fn eval(expr: &str) -> Result<serde_json::Value, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!("{{ lib, ... }}: {expr}");
    let ev = evaluate_source("lib_case.ha", &text, dir.path(), &EvalOptions::default());
    ev.result.map(|v| v.to_json()).map_err(|d| {
        format!(
            "{}{}",
            d.code.clone().unwrap_or_default(),
            d.render(&ev.sources, false)
        )
    })
}

fn check(expr: &str, expected: &serde_json::Value) {
    match eval(expr) {
        Ok(v) => assert_eq!(&v, expected, "{expr}"),
        Err(e) => panic!("{expr}: {e}"),
    }
}

fn error_code(expr: &str) -> String {
    match eval(expr) {
        Ok(v) => panic!("{expr}: expected an error, got {v}"),
        Err(e) => e.chars().take(5).collect(),
    }
}

#[test]
fn cidr_math_as_terraform() {
    check(r#"lib.cidr.host "10.0.2.0/24" 10"#, &json!("10.0.2.10"));
    check(r#"lib.cidr.host "10.0.2.0/24" (-2)"#, &json!("10.0.2.254"));
    check(
        r#"lib.cidr.subnet "10.0.0.0/16" 8 2"#,
        &json!("10.0.2.0/24"),
    );
    check(
        r#"lib.cidr.subnet "fd00::/48" 16 5"#,
        &json!("fd00:0:0:5::/64"),
    );
    check(
        r#"lib.cidr.contains "10.0.0.0/16" "10.0.2.7""#,
        &json!(true),
    );
    check(
        r#"lib.cidr.contains "10.0.0.0/16" "10.1.0.0/24""#,
        &json!(false),
    );
    check(r#"lib.cidr.prefixLength "10.0.2.20/24""#, &json!(24));
    check(
        r#"lib.cidr.offset "10.0.2.20/24" 5"#,
        &json!("10.0.2.25/24"),
    );
    check(r#"lib.cidr.address "10.0.2.20/24""#, &json!("10.0.2.20"));
    assert_eq!(error_code(r#"lib.cidr.host "10.0.2.0/24" 256"#), "E0018");
    assert_eq!(error_code(r#"lib.cidr.subnet "10.0.0.0/30" 8 1"#), "E0018");
    assert_eq!(error_code(r#"lib.cidr.host "not-a-cidr" 1"#), "E0018");
}

#[test]
fn nodes_are_consecutive_with_zones_round_robin() {
    check(
        r#"lib.nodes { prefix = "worker"; count = 3; first = "10.0.2.20/24"; roles = [ "worker" ]; zones = [ "a" "b" ]; interface = "eth1"; }"#,
        &json!({
            "worker-0": { "address": "10.0.2.20/24", "roles": ["worker"], "zone": "a", "interface": "eth1" },
            "worker-1": { "address": "10.0.2.21/24", "roles": ["worker"], "zone": "b", "interface": "eth1" },
            "worker-2": { "address": "10.0.2.22/24", "roles": ["worker"], "zone": "a", "interface": "eth1" },
        }),
    );
    check(
        r#"lib.nodes { prefix = "m"; count = 1; first = "10.0.0.5/16"; roles = [ "control-plane" ]; }"#,
        &json!({ "m-0": { "address": "10.0.0.5/16", "roles": ["control-plane"] } }),
    );
    check(
        r#"lib.nodes { prefix = "m"; count = 0; first = "10.0.0.5/16"; }"#,
        &json!({}),
    );
    // Running past the subnet is an error, as is a missing required argument.
    assert_eq!(
        error_code(r#"lib.nodes { prefix = "m"; count = 300; first = "10.0.2.10/24"; }"#),
        "E0018"
    );
    assert_eq!(
        error_code(r#"lib.nodes { prefix = "m"; first = "10.0.2.10/24"; }"#),
        "E0017"
    );
}

#[test]
fn nixpkgs_named_helpers() {
    check("lib.range 2 5", &json!([2, 3, 4, 5]));
    check("lib.range 5 2", &json!([]));
    check(
        "[ (lib.optional true 1) (lib.optional false 1) (lib.optionals true [ 1 2 ]) ]",
        &json!([[1], [], [1, 2]]),
    );
    check(
        "lib.optionalAttrs false { a = 1; } // lib.optionalAttrs true { b = 2; }",
        &json!({ "b": 2 }),
    );
    check(
        r#"lib.optionalString false "x" + lib.optionalString true "y""#,
        &json!("y"),
    );
    check(
        "lib.mapAttrsToList (n: v: n + toString v) { b = 2; a = 1; }",
        &json!(["a1", "b2"]),
    );
    check(
        r#"lib.mapAttrs' (n: v: lib.nameValuePair "x-${n}" (v * 10)) { a = 1; }"#,
        &json!({ "x-a": 10 }),
    );
    check(
        r#"lib.listToAttrs [ (lib.nameValuePair "k" 1) ]"#,
        &json!({ "k": 1 }),
    );
    check(
        r#"lib.genAttrs [ "a" "b" ] (n: n + n)"#,
        &json!({ "a": "aa", "b": "bb" }),
    );
    check(
        "lib.recursiveUpdate { a = { b = 1; c = 2; }; d = [ 1 ]; } { a = { b = 3; }; d = [ 2 ]; }",
        &json!({ "a": { "b": 3, "c": 2 }, "d": [2] }),
    );
    check(
        "lib.foldl (acc: x: acc ++ [ x ]) [ 0 ] [ 1 2 ]",
        &json!([0, 1, 2]),
    );
    check(
        "lib.foldr (x: acc: acc ++ [ x ]) [ 0 ] [ 1 2 ]",
        &json!([0, 2, 1]),
    );
    check(
        "lib.filterAttrs (n: v: v > 1) { a = 1; b = 2; c = 3; }",
        &json!({ "b": 2, "c": 3 }),
    );
    check("lib.flatten [ 1 [ 2 [ 3 ] ] [ ] 4 ]", &json!([1, 2, 3, 4]));
    check("lib.unique [ 3 1 3 2 1 ]", &json!([3, 1, 2]));
    check(
        r#"lib.concatMapStringsSep ", " toString [ 1 2 ]"#,
        &json!("1, 2"),
    );
    check(r#"lib.concatStringsSep "-" [ "a" "b" ]"#, &json!("a-b"));
    check(
        r#"[ (lib.hasPrefix "ab" "abc") (lib.hasPrefix "b" "abc") (lib.hasSuffix "bc" "abc") (lib.hasSuffix "abcd" "abc") ]"#,
        &json!([true, false, true, false]),
    );
    check(
        r#"lib.splitString "." "a.b..c""#,
        &json!(["a", "b", "", "c"]),
    );
    check(
        r#"[ (lib.toUpper "abC1") (lib.toLower "ABc1") ]"#,
        &json!(["ABC1", "abc1"]),
    );
    check(
        r#"lib.imap0 (i: v: "${toString i}${v}") [ "a" "b" ]"#,
        &json!(["0a", "1b"]),
    );
    check(
        r#"lib.imap1 (i: v: "${toString i}${v}") [ "a" "b" ]"#,
        &json!(["1a", "2b"]),
    );
    check(
        "lib.zipLists [ 1 2 3 ] [ \"a\" \"b\" ]",
        &json!([{ "fst": 1, "snd": "a" }, { "fst": 2, "snd": "b" }]),
    );
    check(
        "[ (lib.last [ 1 2 3 ]) (lib.take 2 [ 1 2 3 ]) (lib.drop 2 [ 1 2 3 ]) (lib.take 5 [ 1 ]) ]",
        &json!([3, [1, 2], [3], [1]]),
    );
    check("lib.count (x: x > 1) [ 1 2 3 ]", &json!(2));
    check(r#"lib.attrByPath [ "a" "b" ] 0 { a.b = 7; }"#, &json!(7));
    check(r#"lib.attrByPath [ "a" "x" ] 0 { a.b = 7; }"#, &json!(0));
    check(
        r#"lib.setAttrByPath [ "a" "b" ] 7"#,
        &json!({ "a": { "b": 7 } }),
    );
    check(r#"lib.fixedWidthNumber 3 7"#, &json!("007"));
    check(r#"lib.toInt " 42 ""#, &json!(42));
    assert_eq!(error_code("lib.last [ ]"), "E0012");
}

#[test]
fn library_is_importable_and_unknown_names_are_listed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ev = evaluate_source(
        "x.ha",
        "(import <hac/lib>).range 1 2",
        dir.path(),
        &EvalOptions::default(),
    );
    assert_eq!(ev.result.map(|v| v.to_json()).ok(), Some(json!([1, 2])));
    let ev = evaluate_source(
        "x.ha",
        "import <hac/libz>",
        dir.path(),
        &EvalOptions::default(),
    );
    let d = ev.result.expect_err("unknown library name");
    assert_eq!(d.code.as_deref(), Some("E0011"));
    assert!(
        d.notes.iter().any(|n| n.contains("<hac/lib>")),
        "{:?}",
        d.notes
    );
    assert!(
        d.hints.iter().any(|h| h.contains("<hac/lib>")),
        "{:?}",
        d.hints
    );
}

#[test]
fn root_function_gets_only_lib() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ev = evaluate_source(
        "x.ha",
        "{ lib, other }: 1",
        dir.path(),
        &EvalOptions::default(),
    );
    let d = ev.result.expect_err("missing root argument");
    assert_eq!(d.code.as_deref(), Some("E0017"));
    assert!(d.message.contains("other"), "{}", d.message);
    let ev = evaluate_source(
        "x.ha",
        "{ lib, other ? 2 }: other",
        dir.path(),
        &EvalOptions::default(),
    );
    assert_eq!(ev.result.map(|v| v.to_json()).ok(), Some(json!(2)));
}
