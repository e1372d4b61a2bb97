//! `hac reference`: docs/reference.md, generated from the compiler's own definitions — the
//! attribute schema of `hac_model::schema`, the structured doc comments of the `.ha` library
//! (`#|` blocks in stdlib/*.ha) and the titles of `explanations.md`. A pure function of its
//! inputs, so a test can compare its output with the committed file byte for byte.
//!
//! A library doc block is a run of `#|` comment lines: the first is the signature
//! (`name arg…`), lines starting with `> ` are examples (each an expression that evaluates
//! to `true` with `lib` in scope), the others describe the function. A `# -- Group ---`
//! comment starts a group of functions.

use hac_model::schema::{self, Allowed, Attribute, DefaultValue, Section};
use std::fmt::Write as _;

/// One documented function of the `.ha` library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibFunction {
    /// The library file (`lib`, `cidr`).
    pub file: String,
    /// The group heading it appears under.
    pub group: String,
    /// The name under `lib`: `range`, `cidr.host`.
    pub name: String,
    /// The arguments as written in the signature line (may be empty).
    pub args: String,
    /// What it does (Markdown).
    pub doc: String,
    /// Expressions that evaluate to `true` with `lib` in scope.
    pub examples: Vec<String>,
}

impl LibFunction {
    /// `lib.range first last`.
    pub fn signature(&self) -> String {
        if self.args.is_empty() {
            format!("lib.{}", self.name)
        } else {
            format!("lib.{} {}", self.name, self.args)
        }
    }
}

/// The documented functions of the library files (`(name, text)` as in `hac_eval::STDLIB`),
/// in source order. Functions of a file other than `lib` are named `file.name`, as they are
/// reached through `lib` (`lib.cidr.host`).
pub fn lib_functions(stdlib: &[(&str, &str)]) -> Vec<LibFunction> {
    let mut out = Vec::new();
    for (file, text) in stdlib {
        let mut group = String::new();
        let mut block: Vec<&str> = Vec::new();
        for line in text.lines().chain(std::iter::once("")) {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("#|") {
                block.push(rest.strip_prefix(' ').unwrap_or(rest));
                continue;
            }
            if !block.is_empty() {
                if let Some(f) = doc_block(file, &group, &block) {
                    out.push(f);
                }
                block.clear();
            }
            if let Some(rest) = t.strip_prefix("# -- ") {
                group = rest.trim_end_matches(['-', ' ']).to_string();
            }
        }
    }
    out
}

fn doc_block(file: &str, group: &str, lines: &[&str]) -> Option<LibFunction> {
    let (signature, rest) = lines.split_first()?;
    let signature = signature.trim();
    let (name, args) = match signature.split_once(' ') {
        Some((n, a)) => (n, a.trim()),
        None => (signature, ""),
    };
    if name.is_empty() {
        return None;
    }
    let mut doc: Vec<&str> = Vec::new();
    let mut examples = Vec::new();
    for l in rest {
        match l.strip_prefix("> ") {
            Some(e) => examples.push(e.trim().to_string()),
            None => doc.push(l.trim()),
        }
    }
    Some(LibFunction {
        file: file.to_string(),
        group: group.to_string(),
        name: if file == "lib" {
            name.to_string()
        } else {
            format!("{file}.{name}")
        },
        args: args.to_string(),
        doc: doc.join(" ").trim().to_string(),
        examples,
    })
}

/// The one-line title of a code: from explanations.md, else from `extra` (`(code,
/// explanation)` pairs of other stages, such as `hac_render::codes::EXPLANATIONS`).
pub fn code_title(code: &str, extra: &[(&str, &str)]) -> Option<String> {
    let text = crate::explain::explain(code)
        .or_else(|| extra.iter().find(|(c, _)| *c == code).map(|(_, e)| *e))?;
    let first = text.lines().next()?;
    Some(first.strip_prefix(code)?.trim().to_string())
}

/// Every explained code with its title, sorted by code: the explanations of this crate and
/// of `extra`.
pub fn code_titles(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut codes: Vec<&str> = crate::explain::codes().collect();
    codes.extend(extra.iter().map(|(c, _)| *c));
    codes.sort_unstable();
    codes.dedup();
    codes
        .into_iter()
        .map(|c| {
            let title = code_title(c, extra).unwrap_or_default();
            (c.to_string(), title)
        })
        .collect()
}

fn section_title(s: Section) -> String {
    // Titled by its path (`Section::path` names every section), the root by words.
    match s.path() {
        "" => "The cluster".to_string(),
        path => format!("`{path}`"),
    }
}

fn default_text(d: DefaultValue) -> String {
    match d {
        DefaultValue::Required => "required".to_string(),
        DefaultValue::RequiredWhen(s) => s.to_string(),
        DefaultValue::Int(i) => format!("`{i}`"),
        DefaultValue::Bool(b) => format!("`{b}`"),
        DefaultValue::Str(s) => format!("`{s:?}`"),
        DefaultValue::EmptyList => "`[ ]`".to_string(),
        DefaultValue::EmptySet => "`{ }`".to_string(),
        DefaultValue::Defaults => "`{ }`: each attribute takes its default".to_string(),
        DefaultValue::Unset(s) => format!("unset: {s}"),
        DefaultValue::Computed(s) => s.to_string(),
    }
}

fn allowed_text(a: Allowed, ty: &str) -> Option<String> {
    Some(match a {
        Allowed::Any => return None,
        Allowed::OneOf(values) => {
            let quoted: Vec<String> = values.iter().map(|v| format!("`{v:?}`")).collect();
            if ty.starts_with("list") {
                format!("any of {}", quoted.join(", "))
            } else {
                format!("one of {}", quoted.join(", "))
            }
        }
        Allowed::IntRange(lo, i64::MAX) => format!("{lo} or more"),
        Allowed::IntRange(lo, hi) => format!("{lo} to {hi}"),
        Allowed::Versions(lo, hi) => format!(
            "a version `MAJOR.MINOR.PATCH` from {}.{} to {}.{}",
            lo.0, lo.1, hi.0, hi.1
        ),
        Allowed::Text(t) => t.to_string(),
    })
}

/// A heading's GitHub anchor: lower case, punctuation other than `-` and `_` dropped,
/// spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn attribute(out: &mut String, a: &Attribute, extra: &[(&str, &str)]) {
    let _ = writeln!(out, "#### `{}`\n", a.path());
    let _ = writeln!(out, "{}\n", a.doc);
    let _ = writeln!(out, "- type: {}", a.ty);
    let _ = writeln!(out, "- default: {}", default_text(a.default));
    if let Some(allowed) = allowed_text(a.allowed, a.ty) {
        let _ = writeln!(out, "- allowed: {allowed}");
    }
    let codes: Vec<String> = a
        .codes
        .iter()
        .map(|c| match code_title(c, extra) {
            Some(t) => format!("`{c}` {t}"),
            None => format!("`{c}`"),
        })
        .collect();
    let _ = writeln!(out, "- checked by: {}", codes.join("; "));
    let _ = writeln!(out, "\n```nix\n{}\n```\n", a.example);
}

/// docs/reference.md. `stdlib` holds the library files (`hac_eval::STDLIB`), `extra` the
/// explanations of codes this crate does not hold (`hac_render::codes::EXPLANATIONS`).
pub fn markdown(stdlib: &[(&str, &str)], extra: &[(&str, &str)]) -> String {
    let mut out = String::new();
    out.push_str("# hac reference\n\n");
    out.push_str("<!-- Generated by `hac reference`; do not edit. Regenerate with `cargo run -q -- reference > docs/reference.md` (tests/docs_reference.rs fails while this file is stale). -->\n\n");
    out.push_str("Every attribute of a cluster file and every function of `<hac/lib>`, generated from the compiler's own definitions: the attribute schema the converter reads (`compiler/model/src/schema.rs`), the doc comments of `stdlib/lib.ha` and `stdlib/cidr.ha`, and the diagnostic titles of `hac explain`. `hac explain CODE` prints the long explanation of a code; `hac explain --list` lists them all.\n\n");
    out.push_str("- [Cluster file attributes](#cluster-file-attributes)\n");
    for s in Section::ALL {
        let t = section_title(s);
        let _ = writeln!(out, "  - [{t}](#{})", anchor(&t));
    }
    out.push_str("- [Library functions](#library-functions)\n");
    let functions = lib_functions(stdlib);
    let mut groups: Vec<&str> = Vec::new();
    for f in &functions {
        if !groups.contains(&f.group.as_str()) {
            groups.push(&f.group);
        }
    }
    for g in &groups {
        let _ = writeln!(out, "  - [{g}](#{})", anchor(g));
    }
    out.push_str("- [Diagnostic codes](#diagnostic-codes)\n\n");

    out.push_str("## Cluster file attributes\n\n");
    out.push_str("Examples are written as they appear inside the cluster's attribute set; node attributes use the node `master-0`. Paths use `<name>` for any node name and `[]` for any element of a list.\n\n");
    for s in Section::ALL {
        let _ = writeln!(out, "### {}\n", section_title(s));
        let _ = writeln!(out, "{}\n", s.doc());
        out.push_str("| attribute | type | default |\n|---|---|---|\n");
        for a in schema::attributes_of(s) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                a.key,
                a.ty,
                default_text(a.default).replace('|', "\\|")
            );
        }
        out.push('\n');
        for a in schema::attributes_of(s) {
            attribute(&mut out, a, extra);
        }
    }

    out.push_str("## Library functions\n\n");
    out.push_str("A cluster file that is a function `{ lib, ... }:` receives the library as `lib` (`import <hac/lib>` gives it too). Names and behaviour follow nixpkgs' `lib` where nixpkgs has the same function; `lib.cidr` and `lib.nodes` are hac's own. Every example evaluates to `true`.\n\n");
    for g in &groups {
        let _ = writeln!(out, "### {g}\n");
        for f in functions.iter().filter(|f| f.group == *g) {
            let _ = writeln!(out, "#### `{}`\n", f.signature());
            if !f.doc.is_empty() {
                let _ = writeln!(out, "{}\n", f.doc);
            }
            if !f.examples.is_empty() {
                let _ = writeln!(out, "```nix\n{}\n```\n", f.examples.join("\n"));
            }
        }
    }

    out.push_str("## Diagnostic codes\n\n");
    out.push_str("`E` codes are errors, `W` codes warnings. `hac explain CODE` prints the long explanation.\n\n");
    out.push_str("| code | title |\n|---|---|\n");
    for (code, title) in code_titles(extra) {
        let _ = writeln!(out, "| `{code}` | {} |", title.replace('|', "\\|"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# -- lists ---\nlet\n  #| range first last\n  #| The integers from\n  #| `first` to `last`.\n  #| > lib.range 1 2 == [ 1 2 ]\n  range = 1;\n  #|\n  #| lonely\nin { }\n";

    #[test]
    fn doc_blocks_are_read_with_their_group_and_examples() {
        let fs = lib_functions(&[("lib", SAMPLE), ("cidr", "# -- net ---\n#| host p n\n")]);
        assert_eq!(fs.len(), 2, "{fs:?}");
        assert_eq!(fs[0].name, "range");
        assert_eq!(fs[0].group, "lists");
        assert_eq!(fs[0].args, "first last");
        assert_eq!(fs[0].doc, "The integers from `first` to `last`.");
        assert_eq!(fs[0].examples, ["lib.range 1 2 == [ 1 2 ]"]);
        // A block whose signature line is empty names nothing and is skipped.
        assert_eq!(fs[1].name, "cidr.host");
        assert_eq!(fs[1].signature(), "lib.cidr.host p n");
    }

    #[test]
    fn malformed_doc_comments_never_panic() {
        for text in ["#|", "#| ", "#|>", "#| > ", "# -- ", "#|\u{0}\n#| > x", ""] {
            let _ = lib_functions(&[("lib", text)]);
        }
        let _ = markdown(&[("lib", "#|\n#| x\n")], &[]);
    }

    #[test]
    fn the_reference_names_every_attribute_and_code() {
        let md = markdown(
            &[("lib", SAMPLE)],
            &[("W0701", "W0701 user-data too large\n\nx")],
        );
        for a in schema::ATTRIBUTES {
            assert!(md.contains(&format!("#### `{}`", a.path())), "{}", a.path());
        }
        assert!(md.contains("| `W0701` | user-data too large |"));
        assert!(md.contains("| `E0202` | two etcd members |"));
        assert!(md.contains("#### `lib.range first last`"));
    }

    #[test]
    fn every_code_the_schema_names_has_a_title() {
        let render = [
            ("W0701", "W0701 a"),
            ("E0703", "E0703 c"),
            ("W0706", "W0706 d"),
        ];
        for a in schema::ATTRIBUTES {
            for c in a.codes {
                assert!(
                    code_title(c, &render).is_some_and(|t| !t.is_empty()),
                    "{}: {c} has no explanation",
                    a.path()
                );
            }
        }
    }
}
