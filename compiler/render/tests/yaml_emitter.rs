//! Property tests of the YAML emitter: any string, as a key, a value or a list item, reads
//! back as the same string under yaml_serde (YAML 1.2) and PyYAML (YAML 1.1), and emitting
//! never panics.

mod common;

use common::*;
use hac_render::yaml::value_to_yaml;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::process::Command;

fn doc_for(s: &str) -> Value {
    let mut inner = serde_json::Map::new();
    inner.insert(s.to_string(), json!([s, { "x": s }]));
    json!({ "value": s, "nested": inner, "list": [s, [s]] })
}

fn yaml_serde_read(text: &str) -> Value {
    Value::deserialize(
        serde_yaml::Deserializer::from_str(text)
            .next()
            .expect("one document"),
    )
    .expect("yaml_serde reads it")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn any_string_round_trips_through_yaml_serde(s in "\\PC*|[ -~]{0,12}|(yes|no|on|off|y|n|~|null|true|0[0-7]{3}|[0-9]e[0-9]|[0-9:]{1,8}|[-?:,\\[\\]{}#&*!|>'\"%@`]{1,3})") {
        let doc = doc_for(&s);
        let text = value_to_yaml(&doc);
        prop_assert_eq!(yaml_serde_read(&text), doc, "{}", text);
    }

    #[test]
    fn any_multi_line_text_round_trips_through_yaml_serde(s in "([ -~\t]{0,12}\n){1,6}[ -~\t]{0,12}\n{0,3}") {
        let doc = doc_for(&s);
        let text = value_to_yaml(&doc);
        prop_assert_eq!(yaml_serde_read(&text), doc, "{}", text);
    }
}

/// Multi-line texts (literal blocks where the emitter can, quoted where not), made from lines
/// that YAML might misread, by a fixed pseudo-random walk.
fn multi_line_samples() -> Vec<String> {
    let lines = [
        "",
        " ",
        "   ",
        "\t",
        "\tx",
        "x",
        "  indented",
        "- item",
        "key: value",
        "# comment",
        "---",
        "...",
        "|",
        ">",
        "trailing ",
        "é 日本",
        "\"q\"",
        "'q'",
        "%YAML 1.1",
        "&a *a",
        "? k",
    ];
    let mut out: Vec<String> = [
        "line\n",
        "#!/bin/sh\nset -eu\n",
        "x\n  indented\n\nafter a blank line\n",
        "x\n   \ny\n",
        "x\n\ty\n",
        "no final newline\nhere",
        "two final newlines\n\n",
        "\nleading newline\n",
        " leading space\nx\n",
        "x\r\ny\n",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    let mut state: u32 = 7;
    let mut next = |n: usize| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (state >> 16) as usize % n
    };
    for _ in 0..300 {
        let count = 1 + next(5);
        let mut text: Vec<&str> = (0..count).map(|_| lines[next(lines.len())]).collect();
        if next(2) == 0 {
            text.push("");
        }
        out.push(text.join("\n"));
    }
    out
}

#[test]
fn tricky_strings_round_trip_through_pyyaml() {
    let python = tool("python3");
    let samples: Vec<String> = [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "n",
        "~",
        "null",
        "NULL",
        "true",
        "False",
        "0644",
        "0o644",
        "0x1f",
        "1e3",
        "1_000",
        "1:20:30",
        ".inf",
        "-.INF",
        ".nan",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "=",
        "<<",
        "- a",
        "? a",
        ": a",
        "a: b",
        "a #b",
        "#a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "'a'",
        "\"a\"",
        "%a",
        "@a",
        "`a",
        "a\nb",
        " lead",
        "trail ",
        "",
        "\t",
        "\u{85}",
        "\u{2028}",
        "\u{feff}x",
        "é",
        "{a}",
        "[a]",
        "a,b",
        "10.0.2.100:8443",
        "sha256:abc",
        "/etc/x",
        "kube-system",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .chain(multi_line_samples())
    .collect();
    let doc = json!({ "items": samples, "keys": samples.iter().map(|s| (s.clone(), json!(s))).collect::<serde_json::Map<_, _>>() });
    let text = value_to_yaml(&doc);
    let blocks = text.matches("- |").count();
    assert!(blocks > 100, "only {blocks} literal blocks are exercised");
    let tmp = scratch_dir("pyyaml-props");
    let path = tmp.path().join("doc.yaml");
    std::fs::write(&path, &text).expect("write");
    let script = "import sys, json, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))";
    let out = run(Command::new(python).arg("-c").arg(script).arg(&path));
    assert!(
        out.status.success(),
        "PyYAML failed (run scripts/install-test-deps.sh if it is missing):\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(read, doc, "PyYAML reads it differently:\n{text}");
    assert_eq!(yaml_serde_read(&text), doc);
}
