//! The plain data tree: a deep-forced `.ha` value with the source span of every part.
//!
//! Evaluation produces it (`hac_eval`), the cluster model reads it (`hac_check`), and
//! `hac eval --json/--yaml` prints it. It holds no functions and no thunks.

use crate::source::Span;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<DataNode>),
    /// Sorted by name, as Nix orders attributes.
    Attrs(BTreeMap<String, DataNode>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataNode {
    pub value: Data,
    /// The expression that produced this value (in the user's file or the library).
    pub span: Option<Span>,
    /// For an attribute's value: the attribute name where it was defined (`netwrok` in
    /// `netwrok = …;`), so diagnostics about the name point at the name.
    pub key_span: Option<Span>,
}

impl DataNode {
    pub fn new(value: Data, span: Option<Span>) -> DataNode {
        DataNode {
            value,
            span,
            key_span: None,
        }
    }
    /// The name of the value's type as Nix's `builtins.typeOf` says it.
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }
    /// The best span to point at for this value (its expression, else its name).
    pub fn best_span(&self) -> Option<Span> {
        self.span.or(self.key_span)
    }
    pub fn to_json(&self) -> serde_json::Value {
        self.value.to_json()
    }
}

impl Data {
    pub fn type_name(&self) -> &'static str {
        match self {
            Data::Null => "null",
            Data::Bool(_) => "bool",
            Data::Int(_) => "int",
            Data::Float(_) => "float",
            Data::String(_) => "string",
            Data::List(_) => "list",
            Data::Attrs(_) => "set",
        }
    }
    /// The value as JSON, as `nix-instantiate --eval --strict --json` prints it
    /// (floats as the shortest text that reads back to the same number).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Data::Null => J::Null,
            Data::Bool(b) => J::Bool(*b),
            Data::Int(i) => J::from(*i),
            Data::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Data::String(s) => J::String(s.clone()),
            Data::List(items) => J::Array(items.iter().map(DataNode::to_json).collect()),
            Data::Attrs(attrs) => J::Object(
                attrs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}
