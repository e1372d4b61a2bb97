//! A small block-style YAML emitter for data trees that reads back as the same data under
//! YAML 1.1 (PyYAML, used by cloud-init and Ansible) and YAML 1.2 (go-yaml, used by kubeadm).
//!
//! `yaml_serde` leaves strings such as `yes`, `on`, `no`, `2026-01-01` or `1_000` unquoted
//! (it only quotes what YAML 1.2's core schema would misread), and YAML 1.1 readers turn
//! those into booleans, dates and numbers. This emitter writes a string plain only when it
//! is obviously a string in every YAML version, and double-quoted otherwise. A multi-line
//! string of printable text is a literal block (`|` or `|-`), so that a diff of the file shows
//! the lines that changed (cloud-init's plain `write_files` contents).

use serde::Serialize;
use serde_json::Value;

/// Serializes `data` (a typed struct) to YAML text: one document, no `---`, ending in `\n`.
pub fn to_yaml<T: Serialize>(data: &T) -> Result<String, String> {
    let value = serde_json::to_value(data).map_err(|e| e.to_string())?;
    Ok(value_to_yaml(&value))
}

/// Writes one YAML document for `value`.
pub fn value_to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_mapping(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push(' ');
    }
}

fn write_mapping(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    let mut first = true;
    for (key, value) in map {
        // The first key of a mapping inside a sequence item follows the `- ` on its line.
        if !first || level == 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        first = false;
        out.push_str(&string_text(key));
        out.push(':');
        write_value_after_key(out, value, level);
    }
}

fn write_value_after_key(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_mapping(out, m, level + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_sequence(out, items, level);
        }
        Value::String(s) if is_block_safe(s) => {
            out.push(' ');
            write_block(out, s, level + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// Whether `s` reads back unchanged, under YAML 1.1 and 1.2, as a literal block written by
/// [`write_block`]: it has a line break, ends in at most one, its first line starts with
/// neither a space nor a tab (the indentation is detected from it) and is not empty, and
/// every character is printable in YAML 1.1 (tab and newline aside; no `\r`, no NEL, LS, PS
/// or BOM, which YAML 1.1 takes as line breaks or strips).
pub fn is_block_safe(s: &str) -> bool {
    let printable = |c: char| {
        c == '\n'
            || c == '\t'
            || (' '..='~').contains(&c)
            || (('\u{a0}'..='\u{fffd}').contains(&c)
                && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
            || c >= '\u{10000}'
    };
    s.contains('\n')
        && !s.ends_with("\n\n")
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars().all(printable)
}

/// `|` (one final newline, kept) or `|-` (none), then every line indented by `level`; empty
/// lines stay empty (no trailing spaces).
fn write_block(out: &mut String, s: &str, level: usize) {
    let body = match s.strip_suffix('\n') {
        Some(body) => {
            out.push_str("|\n");
            body
        }
        None => {
            out.push_str("|-\n");
            s
        }
    };
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn write_sequence(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_mapping(out, m, level + 2),
            Value::Array(inner) if !inner.is_empty() => {
                // A nested sequence starts on the next line, indented under the dash.
                out.pop();
                out.push('\n');
                write_sequence(out, inner, level + 2);
            }
            Value::String(s) if is_block_safe(s) => write_block(out, s, level + 2),
            scalar => {
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
    }
}

/// YAML 1.1 words PyYAML resolves to booleans or null.
const YAML11_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
];

/// Whether `s` may be written without quotes and still read back as this same string under
/// YAML 1.1 and 1.2: it starts with a letter or `/`, holds only letters, digits and
/// `. _ / @ = + -`, and is none of YAML 1.1's boolean/null words. Everything else (numbers,
/// addresses, dates, `host:port`, anything with spaces) is quoted.
pub fn is_plain_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '@' | '=' | '+' | '-'))
    {
        return false;
    }
    !YAML11_WORDS.contains(&s)
}

/// A string scalar: plain when safe, else double-quoted with every character that YAML
/// could fold or misread escaped.
pub fn string_text(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml11_words_numbers_and_dates_are_quoted() {
        for s in [
            "yes",
            "on",
            "no",
            "off",
            "y",
            "0644",
            "1e3",
            "~",
            "null",
            "2026-01-01",
            "1_000",
            "1:20",
            "=",
            "",
            ".inf",
            "10.0.2.1:6443",
        ] {
            assert!(string_text(s).starts_with('"'), "{s:?} must be quoted");
        }
        for s in [
            "kube-system",
            "/etc/kubernetes/pki/ca.crt",
            "master-0",
            "signing",
        ] {
            assert_eq!(string_text(s), s);
        }
    }

    #[test]
    fn nested_structures_have_the_expected_layout() {
        let v = json!({"a": {"b": [1, {"c": "yes", "d": []}], "e": {}}, "f": [[1, 2]]});
        let text = value_to_yaml(&v);
        assert_eq!(
            text,
            "a:\n  b:\n  - 1\n  - c: \"yes\"\n    d: []\n  e: {}\nf:\n-\n  - 1\n  - 2\n"
        );
    }

    #[test]
    fn multi_line_text_is_a_literal_block_and_the_rest_is_quoted() {
        let v = json!({"a": "x\n  y\n\nz\n", "b": ["p\nq"], "c": {"d": "one\ntwo"}});
        assert_eq!(
            value_to_yaml(&v),
            "a: |\n  x\n    y\n\n  z\nb:\n- |-\n  p\n  q\nc:\n  d: |-\n    one\n    two\n"
        );
        for s in [
            " leading space\n",
            "\tleading tab\n",
            "\nleading newline",
            "two final newlines\n\n",
            "carriage\r\nreturn\n",
            "line\u{2028}separator\n",
            "bell\u{7}\n",
            "single line",
        ] {
            assert!(!is_block_safe(s), "{s:?}");
            assert!(
                value_to_yaml(&json!({ "k": s })).starts_with("k: \""),
                "{s:?}"
            );
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(string_text("a\u{2028}b\u{1}"), "\"a\\u2028b\\x01\"");
    }
}
