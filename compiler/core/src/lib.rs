//! Shared vocabulary of every hac stage: source files and spans, diagnostics as data
//! (severity, code, span, message, labels, hints, trace) and their rendering, and the
//! plain deep-forced data tree that evaluation hands to the cluster model.

pub mod data;
pub mod diagnostic;
pub mod gzip;
pub mod input;
pub mod kind;
pub mod source;
pub mod suggest;

pub use data::{Data, DataNode};
pub use diagnostic::{Diagnostic, Label, Severity, TraceFrame};
pub use kind::{InputCode, LanguageCode};
pub use source::{FileId, SourceFile, SourceMap, Span};
