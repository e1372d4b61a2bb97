//! Data → model, the schema walk: reads attribute sets against `hac_model::schema` (unknown,
//! missing and null attributes, wrong types, integer ranges, enumerations) and the plain
//! strings, booleans and lists every section is made of.

use super::{Attrs, Converter};
use crate::codes::CheckCode;
use hac_core::suggest::did_you_mean;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Section};
use std::collections::BTreeMap;

/// "the string \"x\"", "the integer 3", "a list", … for "found …" messages.
pub(crate) fn describe(node: &DataNode) -> String {
    match &node.value {
        Data::Null => "null".to_string(),
        Data::Bool(b) => format!("the boolean {b}"),
        Data::Int(i) => format!("the integer {i}"),
        Data::Float(f) => format!("the float {f}"),
        Data::String(s) => {
            let shown: String = s.chars().take(60).collect();
            let ellipsis = if s.chars().count() > 60 { "…" } else { "" };
            format!("the string {:?}", format!("{shown}{ellipsis}"))
        }
        Data::List(items) => format!("a list of {} element{}", items.len(), plural(items.len())),
        Data::Attrs(_) => "an attribute set".to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// An optional attribute: absent and `null` both mean "use the default".
pub(super) fn present<'d>(attrs: &'d Attrs, key: &str) -> Option<&'d DataNode> {
    attrs.get(key).filter(|n| !matches!(n.value, Data::Null))
}

impl Converter {
    pub(super) fn wrong_type(&mut self, path: &str, expected: &str, node: &DataNode) {
        let found = describe(node);
        self.error(
            CheckCode::WrongType,
            format!("wrong type for `{path}`: expected {expected}, found {found}"),
            node.best_span(),
        )
        .span_label = Some(format!("expected {expected}"));
    }

    /// Checks that `node` is a set, records origins of its attributes, reports unknown and
    /// missing required attributes. Returns the attributes when it is a set.
    pub(super) fn set<'d>(
        &mut self,
        node: &'d DataNode,
        path: &str,
        what: &str,
        known: &[&str],
        required: &[&str],
    ) -> Option<&'d Attrs> {
        let Data::Attrs(attrs) = &node.value else {
            self.wrong_type(
                if path.is_empty() { "the cluster" } else { path },
                what,
                node,
            );
            return None;
        };
        if let Some(span) = node.best_span() {
            self.origins.spans.insert(path.to_string(), span);
        }
        for (key, value) in attrs {
            let sub = join(path, key);
            if let Some(span) = value.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            if !known.contains(&key.as_str()) {
                let where_ = if path.is_empty() {
                    "the cluster".to_string()
                } else {
                    format!("`{path}`")
                };
                let suggestion = did_you_mean(key, known.iter().copied());
                let d = self.error(
                    CheckCode::UnknownAttribute,
                    format!("unknown attribute `{key}` in {where_}"),
                    value.key_span.or(value.span),
                );
                d.span_label = Some("not a known attribute".to_string());
                match suggestion {
                    Some(s) => d.hints.push(format!("did you mean `{s}`?")),
                    None => d.hints.push(format!(
                        "the attributes of {where_} are: {}",
                        known.join(", ")
                    )),
                }
            }
        }
        for key in required {
            if present(attrs, key).is_none() {
                let sub = join(path, key);
                let (msg, span) = match attrs.get(*key) {
                    Some(null) => (
                        format!("required attribute `{sub}` is null"),
                        null.best_span(),
                    ),
                    // Point at where the enclosing set begins, not at all of it: a marker
                    // under a whole file says nothing.
                    None => (
                        format!("missing required attribute `{sub}`"),
                        node.best_span().map(|s| hac_core::Span {
                            end: s.start.saturating_add(1).min(s.end),
                            ..s
                        }),
                    ),
                };
                self.error(CheckCode::MissingAttribute, msg, span)
                    .hints
                    .push(format!("add `{key} = …;` (see cluster.md for its meaning)"));
            }
        }
        Some(attrs)
    }

    /// A sub-set that may be absent; absent → empty attributes.
    pub(super) fn optional_set<'d>(
        &mut self,
        attrs: &'d Attrs,
        key: &str,
        path: &str,
        section: Section,
    ) -> Option<&'d Attrs> {
        static EMPTY: std::sync::OnceLock<Attrs> = std::sync::OnceLock::new();
        match present(attrs, key) {
            Some(n) => self.set(
                n,
                &join(path, key),
                "an attribute set",
                section.keys(),
                section.required(),
            ),
            None => Some(EMPTY.get_or_init(BTreeMap::new)),
        }
    }

    pub(super) fn string(&mut self, node: &DataNode, path: &str, expected: &str) -> Option<String> {
        match &node.value {
            Data::String(s) => Some(s.clone()),
            _ => {
                self.wrong_type(path, expected, node);
                None
            }
        }
    }

    pub(super) fn opt_string(
        &mut self,
        attrs: &Attrs,
        key: &str,
        path: &str,
        expected: &str,
    ) -> Option<Option<String>> {
        match present(attrs, key) {
            None => Some(None),
            Some(n) => self.string(n, &join(path, key), expected).map(Some),
        }
    }

    pub(super) fn boolean(&mut self, attrs: &Attrs, key: &str, path: &str, default: bool) -> bool {
        match present(attrs, key) {
            None => default,
            Some(n) => match n.value {
                Data::Bool(b) => b,
                _ => {
                    self.wrong_type(&join(path, key), "a boolean", n);
                    default
                }
            },
        }
    }

    /// An integer in `lo..=hi`; `None` when absent; errors recorded.
    pub(super) fn int_in(
        &mut self,
        attrs: &Attrs,
        key: &str,
        path: &str,
        (lo, hi): (i64, i64),
    ) -> Result<Option<i64>, ()> {
        let Some(n) = present(attrs, key) else {
            return Ok(None);
        };
        let sub = join(path, key);
        match n.value {
            Data::Int(i) if (lo..=hi).contains(&i) => Ok(Some(i)),
            Data::Int(i) => {
                self.error(
                    CheckCode::OutOfRange,
                    format!("`{sub}` is {i}, outside the valid range {lo}..{hi}"),
                    n.best_span(),
                )
                .span_label = Some(format!("must be in {lo}..{hi}"));
                Err(())
            }
            _ => {
                self.wrong_type(&sub, "an integer", n);
                Err(())
            }
        }
    }

    pub(super) fn port(&mut self, attrs: &Attrs, key: &str, path: &str) -> Option<u16> {
        self.int_in(attrs, key, path, schema::PORT_RANGE)
            .ok()
            .flatten()
            .and_then(|p| u16::try_from(p).ok())
    }

    pub(super) fn enum_value<T: Copy>(
        &mut self,
        node: &DataNode,
        path: &str,
        what: &str,
        all: &[(&'static str, T)],
    ) -> Option<T> {
        let names: Vec<&str> = all.iter().map(|(s, _)| *s).collect();
        let Data::String(s) = &node.value else {
            self.wrong_type(path, &format!("{what} (a string)"), node);
            return None;
        };
        if let Some((_, v)) = all.iter().find(|(n, _)| n == s) {
            return Some(*v);
        }
        let suggestion = did_you_mean(s, names.iter().copied());
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        let d = self.error(
            CheckCode::InvalidEnum,
            format!(
                "invalid {what} {s:?} for `{path}`: expected one of {}",
                quoted.join(", ")
            ),
            node.best_span(),
        );
        d.span_label = Some(format!("not a valid {what}"));
        if let Some(sug) = suggestion {
            d.hints.push(format!("did you mean \"{sug}\"?"));
        }
        None
    }

    pub(super) fn opt_enum<T: Copy>(
        &mut self,
        attrs: &Attrs,
        key: &str,
        path: &str,
        what: &str,
        all: &[(&'static str, T)],
        default: T,
    ) -> T {
        match present(attrs, key) {
            None => default,
            Some(n) => self
                .enum_value(n, &join(path, key), what, all)
                .unwrap_or(default),
        }
    }

    pub(super) fn string_list(
        &mut self,
        node: &DataNode,
        path: &str,
        expected: &str,
    ) -> Option<Vec<String>> {
        let Data::List(items) = &node.value else {
            self.wrong_type(path, expected, node);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let sub = format!("{path}.{i}");
            if let Some(span) = item.best_span() {
                self.origins.spans.insert(sub.clone(), span);
            }
            match &item.value {
                Data::String(s) => out.push(s.clone()),
                _ => {
                    self.wrong_type(&sub, "a string", item);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

pub(super) fn present_path<'d>(attrs: &'d Attrs, path: &[&str]) -> Option<&'d DataNode> {
    let (first, rest) = path.split_first()?;
    let node = present(attrs, first)?;
    if rest.is_empty() {
        return Some(node);
    }
    match &node.value {
        Data::Attrs(inner) => present_path(inner, rest),
        _ => None,
    }
}
