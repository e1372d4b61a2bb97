//! Deep forcing of the final value into the plain [`hac_core::DataNode`] tree, with the span
//! of every value (a value made inside the library gets the user's call site instead) and
//! "while evaluating the attribute …" trace frames on errors.

use crate::diag;
use crate::eval::{fail, Evaluator, R};
use crate::value::{Thunk, Value};
use hac_core::{Data, DataNode, Diagnostic, Span};
use std::collections::BTreeMap;

impl Evaluator {
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
        if self.too_deep() {
            return fail(
                Diagnostic::error("value nested too deeply (depth limit reached)")
                    .with_code("E0015")
                    .with_span_opt(span),
            );
        }
        self.depth += 1;
        let r = self.value_to_data_inner(v, span);
        self.depth -= 1;
        let value = r?;
        Ok(DataNode {
            value,
            span,
            key_span,
        })
    }

    fn value_to_data_inner(&mut self, v: &Value, span: Option<Span>) -> R<Data> {
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
