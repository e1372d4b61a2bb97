//! Diagnostics as data — severity, code, span, message, labels, hints, trace — and their two
//! renderings: human (source line with a marker under the span) and JSON lines.
//!
//! Every stage reports problems as [`Diagnostic`] values; only the CLI prints them.
//! A diagnostic never carries secret material: stages put names and locations in
//! messages, never key bytes or passwords.

use crate::source::{FileId, SourceMap, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term;
use serde::Serialize;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary location with its own short message.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One call site on the way from the user's file to the place an error was raised.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFrame {
    pub span: Span,
    /// e.g. "while calling `lib.nodes`"
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `E0013` (language) or `E0203` (cluster rules); see `hac explain`.
    pub code: Option<String>,
    pub message: String,
    /// The primary location, if any.
    pub span: Option<Span>,
    /// Short text shown under the primary marker ("expected a set, found a list").
    pub span_label: Option<String>,
    pub labels: Vec<Label>,
    /// `help:` lines: how to fix it, "did you mean …?".
    pub hints: Vec<String>,
    /// `note:` lines: context.
    pub notes: Vec<String>,
    /// Innermost call first.
    pub trace: Vec<TraceFrame>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, message)
    }
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, message)
    }
    pub fn new(severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity,
            code: None,
            message: message.into(),
            span: None,
            span_label: None,
            labels: Vec::new(),
            hints: Vec::new(),
            notes: Vec::new(),
            trace: Vec::new(),
        }
    }
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn with_span_opt(mut self, span: Option<Span>) -> Self {
        self.span = span;
        self
    }
    pub fn with_span_label(mut self, label: impl Into<String>) -> Self {
        self.span_label = Some(label.into());
        self
    }
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    pub fn with_trace(mut self, span: Span, message: impl Into<String>) -> Self {
        self.trace.push(TraceFrame {
            span,
            message: message.into(),
        });
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The human rendering: `error[CODE]: message`, `--> file:line:col`, the source line with
    /// a marker, labels, the call trace, then `help:`/`note:` lines. `color` adds ANSI colours.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let files = CsFiles(sources);
        let sev = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let mut d = cs::Diagnostic::new(sev).with_message(&self.message);
        if let Some(code) = &self.code {
            d = d.with_code(code);
        }
        let mut labels = Vec::new();
        let valid = |s: &Span| sources.get(s.file).is_some();
        if let Some(span) = self.span.filter(valid) {
            let l = cs::Label::primary(span.file, clamp(sources, span));
            labels.push(match &self.span_label {
                Some(m) => l.with_message(m),
                None => l,
            });
        }
        for l in self.labels.iter().filter(|l| valid(&l.span)) {
            labels.push(
                cs::Label::secondary(l.span.file, clamp(sources, l.span)).with_message(&l.message),
            );
        }
        for t in self.trace.iter().filter(|t| valid(&t.span)) {
            labels.push(
                cs::Label::secondary(t.span.file, clamp(sources, t.span)).with_message(&t.message),
            );
        }
        d = d.with_labels(labels);
        let mut notes: Vec<String> = self.hints.iter().map(|h| format!("help: {h}")).collect();
        notes.extend(self.notes.iter().map(|n| format!("note: {n}")));
        d = d.with_notes(notes);

        let config = term::Config::default();
        if color {
            let mut buf = term::termcolor::Buffer::ansi();
            let _ = term::emit_to_write_style(&mut buf, &config, &files, &d);
            String::from_utf8_lossy(buf.as_slice()).into_owned()
        } else {
            term::emit_into_string(&config, &files, &d)
                .unwrap_or_else(|_| format!("{}\n", self.message))
        }
    }

    /// The JSON-lines rendering (`--message-format json`): one object, no newline.
    pub fn to_json(&self, sources: &SourceMap) -> String {
        let loc = |span: &Span| -> Option<JsonLocation> {
            let f = sources.get(span.file)?;
            let (line, column) = f.line_col(span.start as usize);
            let (end_line, end_column) = f.line_col(span.end as usize);
            Some(JsonLocation {
                file: f.name.clone(),
                line,
                column,
                end_line,
                end_column,
            })
        };
        let j = JsonDiagnostic {
            severity: self.severity,
            code: self.code.clone(),
            message: self.message.clone(),
            location: self.span.as_ref().and_then(loc),
            label: self.span_label.clone(),
            labels: self
                .labels
                .iter()
                .filter_map(|l| {
                    Some(JsonLabel {
                        location: loc(&l.span)?,
                        message: l.message.clone(),
                    })
                })
                .collect(),
            hints: self.hints.clone(),
            notes: self.notes.clone(),
            trace: self
                .trace
                .iter()
                .filter_map(|t| {
                    Some(JsonLabel {
                        location: loc(&t.span)?,
                        message: t.message.clone(),
                    })
                })
                .collect(),
        };
        serde_json::to_string(&j).unwrap_or_else(|_| "{}".to_string())
    }
}

#[derive(Serialize)]
struct JsonLocation {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct JsonLabel {
    location: JsonLocation,
    message: String,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    severity: Severity,
    code: Option<String>,
    message: String,
    location: Option<JsonLocation>,
    label: Option<String>,
    labels: Vec<JsonLabel>,
    hints: Vec<String>,
    notes: Vec<String>,
    trace: Vec<JsonLabel>,
}

fn clamp(sources: &SourceMap, span: Span) -> Range<usize> {
    let len = sources.get(span.file).map_or(0, |f| f.text.len());
    let mut start = (span.start as usize).min(len);
    let mut end = (span.end as usize).clamp(start, len);
    if let Some(f) = sources.get(span.file) {
        while start > 0 && !f.text.is_char_boundary(start) {
            start -= 1;
        }
        while end < len && !f.text.is_char_boundary(end) {
            end += 1;
        }
    }
    start..end
}

struct CsFiles<'a>(&'a SourceMap);

impl<'a> Files<'a> for CsFiles<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.0
            .get(id)
            .map(|f| f.name.as_str())
            .ok_or(FilesError::FileMissing)
    }
    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.0
            .get(id)
            .map(|f| &*f.text)
            .ok_or(FilesError::FileMissing)
    }
    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let f = self.0.get(id).ok_or(FilesError::FileMissing)?;
        Ok(match f.line_starts().binary_search(&byte_index) {
            Ok(l) => l,
            Err(l) => l - 1,
        })
    }
    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let f = self.0.get(id).ok_or(FilesError::FileMissing)?;
        let starts = f.line_starts();
        let start = *starts.get(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: starts.len() - 1,
        })?;
        let end = starts.get(line_index + 1).copied().unwrap_or(f.text.len());
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn renders_location_marker_and_help() {
        let mut sm = SourceMap::new();
        let f = sm.add("cluster.ha", "{\n  netwrok = 1;\n}\n");
        let d = Diagnostic::error("unknown attribute `netwrok`")
            .with_code(crate::LanguageCode::Syntax)
            .with_span(Span::new(f, 4, 11))
            .with_span_label("not a cluster attribute")
            .with_hint("did you mean `network`?");
        let text = d.render(&sm, false);
        assert!(
            text.contains("error[E0001]: unknown attribute `netwrok`"),
            "{text}"
        );
        assert!(text.contains("cluster.ha:2:3"), "{text}");
        assert!(text.contains("^^^^^^^"), "{text}");
        assert!(text.contains("help: did you mean `network`?"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&d.to_json(&sm)).unwrap();
        assert_eq!(json["location"]["line"], 2);
        assert_eq!(json["location"]["column"], 3);
        assert_eq!(json["code"], "E0001");
    }
}
