//! `hac eval`: evaluate and print a value (Nix syntax, JSON or YAML).

use crate::args::EvalFlags;
use crate::report::{Outcome, Printer};
use hac_core::{Data, DataNode};
use std::path::Path;

pub fn run(
    p: &Printer,
    file: &Path,
    json: bool,
    yaml: bool,
    attr: Option<&str>,
    flags: &EvalFlags,
) -> Outcome {
    if let Err(o) = super::pipeline::check_input(p, file, "give the path of a .ha file") {
        return o;
    }
    let opts = super::pipeline::eval_options(flags, attr);
    if json {
        // The direct path: JSON text straight from the evaluated value, without building the
        // spanned data tree (same text, same errors; about half the time and a third of the memory).
        let ev = hac_eval::evaluate_to_json(file, &opts);
        return match ev.result {
            Ok(text) => {
                crate::report::out(&format!("{text}\n"));
                Outcome::Success
            }
            Err(d) => {
                p.emit(&ev.sources, &[d]);
                Outcome::InputError
            }
        };
    }
    let ev = hac_eval::evaluate(file, &opts);
    let value = match ev.result {
        Ok(v) => v,
        Err(d) => {
            p.emit(&ev.sources, &[d]);
            return Outcome::InputError;
        }
    };
    let text = if yaml {
        // The same YAML-1.1-safe emitter as the bundle's files: `yes`, `on`, `0644` stay strings.
        hac_render::yaml::value_to_yaml(&value.to_json())
            .trim_end()
            .to_string()
    } else {
        let mut s = String::new();
        nix_syntax(&value, &mut s);
        s
    };
    crate::report::out(&format!("{text}\n"));
    Outcome::Success
}

/// The value in Nix syntax, as `nix-instantiate --eval --strict` prints it.
fn nix_syntax(v: &DataNode, out: &mut String) {
    match &v.value {
        Data::Null => out.push_str("null"),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::Int(i) => out.push_str(&i.to_string()),
        Data::Float(f) => out.push_str(&serde_json::Value::from(*f).to_string()),
        Data::String(s) => out.push_str(&nix_string(s)),
        Data::List(items) => {
            out.push_str("[ ");
            for i in items {
                nix_syntax(i, out);
                out.push(' ');
            }
            out.push(']');
        }
        Data::Attrs(attrs) => {
            out.push_str("{ ");
            for (k, v) in attrs {
                out.push_str(&nix_key(k));
                out.push_str(" = ");
                nix_syntax(v, out);
                out.push_str("; ");
            }
            out.push('}');
        }
    }
}

fn nix_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => o.push_str("\\$"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn nix_key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-'".contains(c));
    if plain {
        k.to_string()
    } else {
        nix_string(k)
    }
}
