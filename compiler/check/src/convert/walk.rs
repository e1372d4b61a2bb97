//! Data → model, the schema walk: reads attribute sets against `hac_model::schema` (unknown,
//! missing and null attributes, wrong types, integer ranges, enumerations) and the plain
//! strings, booleans and lists every section is made of.

use super::{Attrs, Converter};
use crate::codes::CheckCode;
use hac_core::suggest::did_you_mean;
use hac_core::{Data, DataNode};
use hac_model::schema::{self, Allowed, DefaultValue, Section};
use hac_model::Spelled;
use std::collections::BTreeMap;
use std::ops::Deref;

/// One attribute set being read: its attributes, the schema section they follow (where the
/// readers take each attribute's range and default from) and its path in diagnostics.
pub(super) struct Set<'d> {
    pub(super) attrs: &'d Attrs,
    pub(super) section: Section,
    pub(super) path: String,
}

impl Set<'_> {
    /// The schema row of the attribute `key` of this set.
    fn row(&self, key: &str) -> Option<&'static schema::Attribute> {
        schema::attribute(self.section, key)
    }
}

impl Deref for Set<'_> {
    type Target = Attrs;
    fn deref(&self) -> &Attrs {
        self.attrs
    }
}

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
    /// missing required attributes of `section`. Returns the set when it is one.
    pub(super) fn set<'d>(
        &mut self,
        node: &'d DataNode,
        path: &str,
        what: &str,
        section: Section,
    ) -> Option<Set<'d>> {
        let Data::Attrs(attrs) = &node.value else {
            self.wrong_type(
                if path.is_empty() { "the cluster" } else { path },
                what,
                node,
            );
            return None;
        };
        let known = section.keys();
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
        for key in section.required() {
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
        Some(Set {
            attrs,
            section,
            path: path.to_string(),
        })
    }

    /// The sub-set `key` of `parent`, holding `section`'s attributes; absent → empty.
    pub(super) fn optional_set<'d>(
        &mut self,
        parent: &Set<'d>,
        key: &str,
        section: Section,
    ) -> Option<Set<'d>> {
        static EMPTY: std::sync::OnceLock<Attrs> = std::sync::OnceLock::new();
        let path = join(&parent.path, key);
        match parent
            .attrs
            .get(key)
            .filter(|n| !matches!(n.value, Data::Null))
        {
            Some(n) => self.set(n, &path, "an attribute set", section),
            None => Some(Set {
                attrs: EMPTY.get_or_init(BTreeMap::new),
                section,
                path,
            }),
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

    /// A string attribute: `Some(None)` when absent, `None` when not a string (reported).
    pub(super) fn opt_string(
        &mut self,
        set: &Set,
        key: &str,
        expected: &str,
    ) -> Option<Option<String>> {
        let from = self.diags.len();
        let read = match present(set, key) {
            None => Some(None),
            Some(n) => self.string(n, &join(&set.path, key), expected).map(Some),
        };
        self.show_example(set, key, from);
        read
    }

    /// A boolean attribute: `None` when absent, or when not a boolean (reported).
    pub(super) fn opt_flag(&mut self, set: &Set, key: &str) -> Option<bool> {
        let n = present(set, key)?;
        match n.value {
            Data::Bool(b) => Some(b),
            _ => {
                let from = self.diags.len();
                self.wrong_type(&join(&set.path, key), "a boolean", n);
                self.show_example(set, key, from);
                None
            }
        }
    }

    /// A boolean attribute, or its schema default when absent (also after a wrong type,
    /// which is reported).
    pub(super) fn flag(&mut self, set: &Set, key: &str) -> bool {
        self.opt_flag(set, key).unwrap_or_else(|| {
            matches!(
                set.row(key).map(|a| a.default),
                Some(DefaultValue::Bool(true))
            )
        })
    }

    /// An integer attribute within its schema range: `Some(None)` when absent, `None` when
    /// wrong (reported).
    pub(super) fn opt_number<T: TryFrom<i64>>(
        &mut self,
        set: &Set,
        key: &str,
    ) -> Option<Option<T>> {
        let from = self.diags.len();
        let read = self.integer(set, key);
        self.show_example(set, key, from);
        read
    }

    /// [`Self::opt_number`] without the example.
    fn integer<T: TryFrom<i64>>(&mut self, set: &Set, key: &str) -> Option<Option<T>> {
        let Some(n) = present(set, key) else {
            return Some(None);
        };
        let sub = join(&set.path, key);
        let Data::Int(i) = n.value else {
            self.wrong_type(&sub, "an integer", n);
            return None;
        };
        let (lo, hi) = match set.row(key).map(|a| a.allowed) {
            Some(Allowed::IntRange(lo, hi)) => (lo, hi),
            _ => (i64::MIN, i64::MAX),
        };
        if let Some(v) = Some(i)
            .filter(|i| (lo..=hi).contains(i))
            .and_then(|i| T::try_from(i).ok())
        {
            return Some(Some(v));
        }
        self.error(
            CheckCode::OutOfRange,
            format!("`{sub}` is {i}, outside the valid range {lo}..{hi}"),
            n.best_span(),
        )
        .span_label = Some(format!("must be in {lo}..{hi}"));
        None
    }

    /// An integer attribute within its schema range, or its schema default when absent;
    /// `None` when wrong (reported).
    pub(super) fn number<T: TryFrom<i64>>(&mut self, set: &Set, key: &str) -> Option<T> {
        match self.opt_number(set, key)? {
            Some(v) => Some(v),
            None => match set.row(key).map(|a| a.default) {
                Some(DefaultValue::Int(d)) => T::try_from(d).ok(),
                _ => None,
            },
        }
    }

    /// A string attribute, or its schema default when absent; `None` when not a string
    /// (reported).
    pub(super) fn text_or_default(
        &mut self,
        set: &Set,
        key: &str,
        expected: &str,
    ) -> Option<String> {
        let value = self.opt_string(set, key, expected)?;
        Some(
            value.unwrap_or_else(|| match set.row(key).map(|a| a.default) {
                Some(DefaultValue::Str(d)) => d.to_string(),
                _ => String::new(),
            }),
        )
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

    /// An enumeration attribute: `Some(None)` when absent, `None` when not one of its
    /// spellings (reported).
    pub(super) fn opt_choice<T: Spelled>(&mut self, set: &Set, key: &str) -> Option<Option<T>> {
        let from = self.diags.len();
        let read = match present(set, key) {
            None => Some(None),
            Some(n) => self.spelled(n, &join(&set.path, key)).map(Some),
        };
        self.show_example(set, key, from);
        read
    }

    /// Gives the diagnostics a reader of `set`.`key` just reported (from index `from` on)
    /// that carry no hint yet the schema row's example, and its default where it has one:
    /// a wrong value is answered with a right one.
    fn show_example(&mut self, set: &Set, key: &str, from: usize) {
        let Some(row) = set.row(key) else {
            return;
        };
        let default = match row.default {
            DefaultValue::Int(d) => format!(" (leave it out for the default, {d})"),
            DefaultValue::Bool(b) => format!(" (leave it out for the default, {b})"),
            DefaultValue::Str(d) if !d.is_empty() => {
                format!(" (leave it out for the default, \"{d}\")")
            }
            _ => String::new(),
        };
        for d in self.diags.iter_mut().skip(from) {
            if d.hints.is_empty() {
                d.hints.push(format!("e.g. `{}`{default}", row.example));
            }
        }
    }

    /// An enumeration attribute, or its default when absent (also after a wrong value,
    /// which is reported).
    pub(super) fn choice<T: Spelled + Default>(&mut self, set: &Set, key: &str) -> T {
        self.opt_choice(set, key).flatten().unwrap_or_default()
    }

    /// One value of an enumeration, at `path`.
    pub(super) fn spelled<T: Spelled>(&mut self, node: &DataNode, path: &str) -> Option<T> {
        self.enum_value(node, path, T::NOUN, T::all())
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
