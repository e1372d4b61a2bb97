//! Deep forcing of the final value into the plain [`hac_core::DataNode`] tree, with the span
//! of every value (a value made inside the library gets the user's call site instead) and
//! "while evaluating the attribute …" trace frames on errors.

use crate::diag;
use crate::eval::{fail, EvalError, Evaluator, Level, R};
use crate::json::{self, FloatStyle};
use crate::value::{Thunk, Value};
use hac_core::{Data, DataNode, Diagnostic, Span};
use std::collections::BTreeMap;

/// How deeply lists and sets may nest in a result: every consumer of the data (the model,
/// the YAML, JSON and Nix printers, dropping the tree) may then recurse over it safely.
pub const MAX_DATA_NESTING: usize = 10_000;

fn too_deep_value(span: Option<Span>) -> Diagnostic {
    Diagnostic::error(format!(
        "value nested too deeply (more than {MAX_DATA_NESTING} levels of lists and sets)"
    ))
    .with_code(hac_core::LanguageCode::TooDeep)
    .with_span_opt(span)
    .with_span_label("the nesting limit was reached here")
    .with_hint("this is usually unbounded recursion that builds a value; check its base case")
}

/// One level of a list or set of the result: a [`Level`] of depth that also counts the
/// nesting of the data (bounded by [`MAX_DATA_NESTING`]) until it is dropped.
struct DataLevel<'a>(Level<'a>);

impl std::ops::Deref for DataLevel<'_> {
    type Target = Evaluator;
    fn deref(&self) -> &Evaluator {
        &self.0
    }
}

impl std::ops::DerefMut for DataLevel<'_> {
    fn deref_mut(&mut self) -> &mut Evaluator {
        &mut self.0
    }
}

impl Drop for DataLevel<'_> {
    fn drop(&mut self) {
        self.0.nesting -= 1;
    }
}

impl Evaluator {
    /// Enters one level of the result (E0015 past the nesting limit or the depth limit).
    fn enter_data(&mut self, span: Option<Span>) -> R<DataLevel<'_>> {
        if self.nesting >= MAX_DATA_NESTING {
            return fail(too_deep_value(span));
        }
        let mut level = self.enter_or(|| EvalError::new(too_deep_value(span)))?;
        level.nesting += 1;
        Ok(DataLevel(level))
    }

    fn user_span(&self, s: Option<Span>, fallback: Option<Span>) -> Option<Span> {
        match s {
            Some(sp) if !self.lib_files.contains(&sp.file) => Some(sp),
            _ => fallback,
        }
    }

    /// Forces `t` completely into data. `fallback`: the nearest enclosing span in user code.
    pub fn thunk_to_data(
        &mut self,
        t: &Thunk,
        fallback: Option<Span>,
        key_span: Option<Span>,
    ) -> R<DataNode> {
        let v = self.force(t)?;
        let span = self.user_span(t.span(), fallback);
        self.value_to_data(&v, span, key_span)
    }

    pub fn value_to_data(
        &mut self,
        v: &Value,
        span: Option<Span>,
        key_span: Option<Span>,
    ) -> R<DataNode> {
        let value = self.enter_data(span)?.value_to_data_inner(v, span)?;
        Ok(DataNode {
            value,
            span,
            key_span,
        })
    }

    pub(crate) fn value_to_data_inner(&mut self, v: &Value, span: Option<Span>) -> R<Data> {
        Ok(match v {
            Value::Null => Data::Null,
            Value::Bool(b) => Data::Bool(*b),
            Value::Int(i) => Data::Int(*i),
            Value::Float(f) => Data::Float(*f),
            Value::Str(s) => Data::String(s.to_string()),
            Value::Path(_) => {
                return fail(
                    diag::unrepresentable(span, "a path")
                        .with_note("paths exist only as the argument of `import`; use a string"),
                )
            }
            Value::Lambda(_) | Value::Prim(_) => {
                return fail(
                    diag::unrepresentable(span, "a function")
                        .with_hint("call the function, or remove it from the value that is output"),
                )
            }
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for t in items.iter() {
                    out.push(self.thunk_to_data(t, span, None)?);
                }
                Data::List(out)
            }
            Value::Attrs(set) => {
                let mut out = Vec::with_capacity(set.entries.len());
                for a in &set.entries {
                    let key_span = self.user_span(a.key_span, None);
                    let node = self.thunk_to_data(&a.value, span, key_span).map_err(|e| {
                        let at = key_span.or(span);
                        match at {
                            Some(at) => e.frame(at, || {
                                format!("while evaluating the attribute `{}`", a.name)
                            }),
                            None => e,
                        }
                    })?;
                    out.push((a.name.to_string(), node));
                }
                // Already sorted by name: BTreeMap builds it in bulk.
                Data::Attrs(out.into_iter().collect::<BTreeMap<_, _>>())
            }
        })
    }
}

impl Evaluator {
    /// Forces `v` completely and appends it as compact JSON, exactly as
    /// `DataNode::to_json().to_string()` would print the same value (keys sorted, floats as
    /// the shortest text that reads back), without building the data tree first.
    pub fn value_to_json(&mut self, v: &Value, span: Option<Span>, out: &mut String) -> R<()> {
        self.enter_data(span)?.value_to_json_inner(v, span, out)
    }

    fn value_to_json_inner(&mut self, v: &Value, span: Option<Span>, out: &mut String) -> R<()> {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => json::write_float(*f, FloatStyle::Shortest, out),
            Value::Str(s) => json::write_string(s, out),
            Value::List(items) => {
                out.push('[');
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let x = self.force(t)?;
                    let sp = self.user_span(t.span(), span);
                    self.value_to_json(&x, sp, out)?;
                }
                out.push(']');
            }
            Value::Attrs(set) => {
                out.push('{');
                for (i, a) in set.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::write_string(&a.name, out);
                    out.push(':');
                    let key_span = self.user_span(a.key_span, None);
                    let r = self.force(&a.value).and_then(|x| {
                        let sp = self.user_span(a.value.span(), span);
                        self.value_to_json(&x, sp, out)
                    });
                    r.map_err(|e| match key_span.or(span) {
                        Some(at) => e.frame(at, || {
                            format!("while evaluating the attribute `{}`", a.name)
                        }),
                        None => e,
                    })?;
                }
                out.push('}');
            }
            Value::Path(_) | Value::Lambda(_) | Value::Prim(_) => {
                // Same diagnostics as the data path.
                self.value_to_data_inner(v, span)?;
            }
        }
        Ok(())
    }
}
